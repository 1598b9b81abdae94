//! Who may do what: units only on their own tickets, operators decide, the citizen withdraws,
//! the system reminds.

use super::*;

fn forbidden(ticket: &Ticket, action: TicketAction, actor: &Actor) -> bool {
    matches!(
        try_step(ticket, action, actor),
        Err(TransitionError::Forbidden { .. })
    )
}

#[test]
fn another_unit_cannot_act_on_a_ticket_led_by_someone_else() {
    let stranger = as_unit(other());
    let dispatched = ticket_in(TicketStatus::Dispatched);
    let signed = ticket_in(TicketStatus::Signed);
    assert!(forbidden(&dispatched, TicketAction::Sign, &stranger));
    assert!(forbidden(
        &dispatched,
        TicketAction::Object { reason: text("x") },
        &stranger
    ));
    assert!(forbidden(
        &signed,
        TicketAction::Reply { text: text("x") },
        &stranger
    ));
    assert!(forbidden(
        &signed,
        TicketAction::Progress { note: text("x") },
        &stranger
    ));
    let (extension, _) = sample(ActionKind::RequestExtension, &signed);
    assert!(forbidden(&signed, extension, &stranger));
    assert!(forbidden(
        &ticket_in(TicketStatus::Replied),
        TicketAction::Close { text: text("x") },
        &stranger
    ));
}

#[test]
fn a_co_handler_may_reply_its_part_and_nothing_else() {
    let helper = as_unit(co());
    let signed = ticket_in(TicketStatus::Signed);
    let next = step(
        &signed,
        TicketAction::Reply {
            text: text("街道已配合核查"),
        },
        &helper,
    );
    assert_eq!(
        next.status,
        TicketStatus::Signed,
        "a co-handler's reply does not answer the citizen"
    );
    assert_eq!(next.handling.replies.len(), 1);
    assert_eq!(next.handling.replies[0].unit, co());
    assert!(forbidden(
        &ticket_in(TicketStatus::Dispatched),
        TicketAction::Sign,
        &helper
    ));
    assert!(forbidden(
        &signed,
        TicketAction::Object { reason: text("x") },
        &helper
    ));
    assert!(forbidden(
        &ticket_in(TicketStatus::Replied),
        TicketAction::Close { text: text("x") },
        &helper
    ));
}

#[test]
fn a_forbidden_action_says_who_may_take_it() {
    let err = try_step(
        &ticket_in(TicketStatus::Dispatched),
        TicketAction::Sign,
        &as_unit(other()),
    )
    .unwrap_err();
    assert_eq!(
        err,
        TransitionError::Forbidden {
            actor: "unit:beihu-water".into(),
            action: "sign",
            who: "only the lead unit may",
        }
    );
    assert_eq!(
        err.to_string(),
        "unit:beihu-water may not sign this ticket: only the lead unit may sign"
    );
}

#[test]
fn only_the_hotline_dispatches_and_only_operators_decide_merge_and_escalate() {
    let accepted = ticket_in(TicketStatus::Accepted);
    let (d, _) = sample(ActionKind::Dispatch, &accepted);
    for actor in [Actor::Citizen, as_unit(lead())] {
        assert!(forbidden(&accepted, d.clone(), &actor), "{actor}");
    }
    // A confident proposal is dispatched by the system itself (精准派单).
    assert!(!forbidden(&accepted, d.clone(), &Actor::System));
    for kind in [ActionKind::UpholdObjection, ActionKind::RejectObjection] {
        let returned = ticket_in(TicketStatus::Returned);
        let (action, _) = sample(kind, &returned);
        assert!(forbidden(&returned, action, &Actor::System), "{kind}");
    }
    let returned = ticket_in(TicketStatus::Returned);
    for kind in [
        ActionKind::UpholdObjection,
        ActionKind::RejectObjection,
        ActionKind::Escalate,
    ] {
        let (action, _) = sample(kind, &returned);
        assert!(forbidden(&returned, action, &as_unit(lead())), "{kind}");
    }
    let (merge, _) = sample(ActionKind::MergeInto, &accepted);
    assert!(forbidden(&accepted, merge, &Actor::Citizen));
    let pending = prepared(TicketStatus::Signed, ActionKind::ApproveExtension);
    assert!(forbidden(
        &pending,
        TicketAction::ApproveExtension,
        &as_unit(lead())
    ));
}

#[test]
fn only_the_citizen_withdraws_and_only_the_hotline_reminds() {
    let signed = ticket_in(TicketStatus::Signed);
    let withdraw = TicketAction::Withdraw {
        reason: String::new(),
    };
    assert!(forbidden(&signed, withdraw.clone(), &op()));
    assert!(forbidden(&signed, withdraw.clone(), &as_unit(lead())));
    assert_eq!(
        step(&signed, withdraw, &Actor::Citizen).status,
        TicketStatus::Withdrawn
    );
    let remind = TicketAction::Remind {
        note: text("请尽快处理"),
    };
    assert!(forbidden(&signed, remind.clone(), &as_unit(lead())));
    assert!(forbidden(&signed, remind.clone(), &Actor::Citizen));
    assert!(step(&signed, remind, &op()).events.len() > signed.events.len());
}

#[test]
fn an_operator_may_close_after_the_reply() {
    let closed = step(
        &ticket_in(TicketStatus::Replied),
        TicketAction::Close {
            text: text("审核通过"),
        },
        &op(),
    );
    assert_eq!(closed.status, TicketStatus::Closed);
}
