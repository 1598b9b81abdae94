//! The side paths: objections upheld, rejected and escalated; re-handling; extensions and their
//! caps; merge; withdraw; the append-only trail; what the citizen is told.

use super::*;

fn rule_of(result: Result<Ticket, TransitionError>) -> RuleBroken {
    match result {
        Err(TransitionError::Rule { rule, .. }) => rule,
        other => panic!("expected a rule error, got {other:?}"),
    }
}

#[test]
fn an_upheld_objection_reassigns_to_the_new_unit_with_new_deadlines() {
    let returned = ticket_in(TicketStatus::Returned);
    assert_eq!(returned.handling.objections, 1);
    let now = next_hour(&returned);
    let uphold = TicketAction::UpholdObjection {
        new_lead: other(),
        deadlines: deadlines(now),
    };
    let next = step(&returned, uphold, &op());
    assert_eq!(next.status, TicketStatus::Dispatched);
    assert_eq!(next.handling.lead, Some(other()));
    assert_eq!(next.handling.deadline, Some(deadlines(now).deadline));
    assert_eq!(next.handling.co_handlers, vec![co()]);
    let same = TicketAction::UpholdObjection {
        new_lead: lead(),
        deadlines: deadlines(now),
    };
    assert_eq!(
        rule_of(try_step(&returned, same, &op())),
        RuleBroken::SameUnit(lead())
    );
}

#[test]
fn a_rejected_objection_returns_the_ticket_to_where_it_was() {
    let in_progress = ticket_in(TicketStatus::InProgress);
    let returned = object(&in_progress, lead());
    assert_eq!(returned.status, TicketStatus::Returned);
    let next = step(
        &returned,
        TicketAction::RejectObjection {
            note: text("属你单位职责"),
        },
        &op(),
    );
    assert_eq!(next.status, TicketStatus::InProgress);
    assert_eq!(next.handling.lead, Some(lead()));
}

#[test]
fn the_second_objection_escalates_and_a_coordinator_takes_the_lead() {
    let escalated = ticket_in(TicketStatus::Escalated);
    assert_eq!(escalated.status, TicketStatus::Escalated);
    assert_eq!(escalated.handling.objections, 2);
    assert!(escalated.handling.escalated);
    let escalate = TicketAction::Escalate {
        coordinator: coordinator(),
        reason: text("两次管辖异议"),
    };
    let next = step(&escalated, escalate, &op());
    assert_eq!(next.status, TicketStatus::Dispatched);
    assert_eq!(next.handling.lead, Some(coordinator()));
    assert_eq!(next.handling.object_by, None, "a coordinator cannot object");
    let err = try_step(
        &next,
        TicketAction::Object { reason: text("x") },
        &as_unit(coordinator()),
    );
    assert_eq!(rule_of(err), RuleBroken::ObjectionWindowClosed);
}

#[test]
fn an_objection_after_the_window_is_refused() {
    let dispatched = ticket_in(TicketStatus::Dispatched);
    let late = dispatched.handling.object_by.unwrap() + SignedDuration::from_secs(1);
    let object = TicketAction::Object {
        reason: text("非本单位职责"),
    };
    let err = apply(
        &dispatched,
        object,
        &as_unit(lead()),
        late,
        &LifecycleRules::default(),
    );
    assert_eq!(rule_of(err), RuleBroken::ObjectionWindowClosed);
}

fn rehandle(ticket: &Ticket) -> Ticket {
    let (action, actor) = sample(ActionKind::Rehandle, ticket);
    step(ticket, action, &actor)
}

fn round_trip_to_surveyed(ticket: &Ticket) -> Ticket {
    let lead_unit = as_unit(ticket.handling.lead.clone().unwrap());
    let t = step(ticket, TicketAction::Sign, &lead_unit);
    let t = step(
        &t,
        TicketAction::Reply {
            text: text("再次处理"),
        },
        &lead_unit,
    );
    let t = step(
        &t,
        TicketAction::Close {
            text: text("办结")
        },
        &lead_unit,
    );
    step(&t, TicketAction::Survey, &Actor::System)
}

#[test]
fn re_handling_goes_back_to_the_same_unit_and_the_third_escalates() {
    let surveyed = ticket_in(TicketStatus::Surveyed);
    let first = rehandle(&surveyed);
    assert_eq!(first.status, TicketStatus::Dispatched);
    assert_eq!(first.handling.lead, Some(lead()));
    assert_eq!(first.handling.rehandles, 1);
    assert!(first.handling.deadline > surveyed.handling.deadline);
    let second = rehandle(&round_trip_to_surveyed(&first));
    assert_eq!(
        (second.status, second.handling.rehandles),
        (TicketStatus::Dispatched, 2)
    );
    let third = rehandle(&round_trip_to_surveyed(&second));
    assert_eq!(
        (third.status, third.handling.rehandles),
        (TicketStatus::Escalated, 3)
    );
    assert!(third.handling.escalated);
}

fn request(ticket: &Ticket, hours_after_deadline: i64) -> Result<Ticket, TransitionError> {
    let until =
        ticket.handling.deadline.unwrap() + SignedDuration::from_hours(hours_after_deadline);
    let action = TicketAction::RequestExtension {
        reason: text("需协调多方"),
        until,
    };
    try_step(ticket, action, &as_unit(lead()))
}

#[test]
fn an_approved_extension_moves_the_deadline_and_counts() {
    let signed = ticket_in(TicketStatus::Signed);
    let pending = request(&signed, 72).unwrap();
    let waiting = pending.handling.pending_extension.clone().unwrap();
    assert_eq!(rule_of(request(&pending, 24)), RuleBroken::ExtensionPending);
    let approved = step(&pending, TicketAction::ApproveExtension, &op());
    assert_eq!(approved.handling.deadline, Some(waiting.until));
    assert_eq!(approved.handling.extensions, 1);
    assert_eq!(
        approved.handling.extended_total,
        SignedDuration::from_hours(72)
    );
    assert_eq!(approved.handling.pending_extension, None);
    let refused = step(
        &pending,
        TicketAction::RefuseExtension {
            note: text("理由不足"),
        },
        &op(),
    );
    assert_eq!(refused.handling.deadline, signed.handling.deadline);
    assert_eq!(refused.handling.pending_extension, None);
    let again = try_step(&refused, TicketAction::ApproveExtension, &op());
    assert_eq!(rule_of(again), RuleBroken::NoExtensionPending);
}

#[test]
fn extensions_stop_at_the_cap_in_number_and_in_total_length() {
    let mut t = ticket_in(TicketStatus::InProgress);
    for _ in 0..2 {
        t = step(
            &request(&t, 48).unwrap(),
            TicketAction::ApproveExtension,
            &op(),
        );
    }
    assert_eq!(
        rule_of(request(&t, 24)),
        RuleBroken::ExtensionCap { max: 2 }
    );
    let long = request(&ticket_in(TicketStatus::InProgress), 31 * 24);
    let max = LifecycleRules::default().max_extension_total;
    assert_eq!(rule_of(long), RuleBroken::ExtensionTotal { max });
}

#[test]
fn an_extension_is_asked_before_the_deadline_and_must_add_time() {
    let signed = ticket_in(TicketStatus::Signed);
    let deadline = signed.handling.deadline.unwrap();
    let action = TicketAction::RequestExtension {
        reason: text("x"),
        until: deadline + SignedDuration::from_hours(24),
    };
    let late = deadline + SignedDuration::from_secs(1);
    let err = apply(
        &signed,
        action,
        &as_unit(lead()),
        late,
        &LifecycleRules::default(),
    );
    assert_eq!(rule_of(err), RuleBroken::DeadlinePassed);
    assert_eq!(rule_of(request(&signed, 0)), RuleBroken::ExtensionNotLater);
}

#[test]
fn a_merged_ticket_points_at_the_other_and_accepts_nothing_more() {
    let merged = ticket_in(TicketStatus::Merged);
    assert_eq!(
        merged.handling.merged_into,
        Some(TicketNumber::from_sequence(100_000))
    );
    let own = TicketAction::MergeInto {
        number: merged.number,
    };
    assert_eq!(
        rule_of(try_step(&new_ticket(), own, &op())),
        RuleBroken::MergeIntoItself
    );
    assert!(allowed_actions(TicketStatus::Merged).is_empty());
}

#[test]
fn a_withdrawal_clears_a_waiting_extension_request() {
    let pending = request(&ticket_in(TicketStatus::Signed), 24).unwrap();
    let withdrawn = step(
        &pending,
        TicketAction::Withdraw {
            reason: text("已解决"),
        },
        &Actor::Citizen,
    );
    assert_eq!(withdrawn.status, TicketStatus::Withdrawn);
    assert_eq!(withdrawn.handling.pending_extension, None);
}

#[test]
fn a_blank_reason_or_reply_is_refused() {
    let signed = ticket_in(TicketStatus::Signed);
    let blank = TicketAction::Reply { text: "  ".into() };
    assert_eq!(
        rule_of(try_step(&signed, blank, &as_unit(lead()))),
        RuleBroken::TextRequired
    );
    let blank = TicketAction::Object {
        reason: String::new(),
    };
    assert_eq!(
        rule_of(try_step(&signed, blank, &as_unit(lead()))),
        RuleBroken::TextRequired
    );
}

#[test]
fn a_dispatch_with_deadlines_in_the_past_or_the_lead_as_co_handler_is_refused() {
    let accepted = new_ticket();
    let past = Deadlines {
        accept_by: t0(),
        object_by: t0(),
        deadline: t0(),
    };
    let d = TicketAction::Dispatch {
        lead: lead(),
        co_handlers: vec![],
        deadlines: past,
    };
    assert_eq!(
        rule_of(try_step(&accepted, d, &op())),
        RuleBroken::BadDeadlines
    );
    let now = next_hour(&accepted);
    let d = TicketAction::Dispatch {
        lead: lead(),
        co_handlers: vec![lead()],
        deadlines: deadlines(now),
    };
    assert_eq!(
        rule_of(try_step(&accepted, d, &op())),
        RuleBroken::LeadIsCoHandler
    );
}

#[test]
fn the_audit_trail_only_grows_and_never_changes_earlier_events() {
    let lead_unit = as_unit(lead());
    let steps = [
        (TicketAction::Sign, lead_unit.clone()),
        (
            TicketAction::Remind {
                note: text("请加快"),
            },
            Actor::System,
        ),
        (
            TicketAction::Progress {
                note: text("已到现场"),
            },
            lead_unit.clone(),
        ),
        (
            TicketAction::Reply {
                text: text("已处理"),
            },
            lead_unit.clone(),
        ),
    ];
    let mut ticket = dispatch(&new_ticket());
    for (action, actor) in steps {
        let next = step(&ticket, action, &actor);
        assert_eq!(next.events.len(), ticket.events.len() + 1);
        assert_eq!(
            &next.events[..ticket.events.len()],
            ticket.events.as_slice()
        );
        let event = next.events.last().unwrap();
        assert_eq!(event.actor, actor.audit_name());
        assert_eq!((event.from, event.to), (Some(ticket.status), next.status));
        ticket = next;
    }
    let before = ticket.clone();
    assert!(try_step(&ticket, TicketAction::Sign, &lead_unit).is_err());
    assert_eq!(ticket, before, "a refusal changes nothing");
}

#[test]
fn tickets_round_trip_through_json_and_old_tickets_load_without_handling() {
    let ticket = ticket_in(TicketStatus::InProgress);
    let json = serde_json::to_value(&ticket).unwrap();
    let back: Ticket = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, ticket);
    let mut old = json;
    old.as_object_mut().unwrap().remove("handling");
    for event in old["events"].as_array_mut().unwrap() {
        event.as_object_mut().unwrap().remove("action");
    }
    let loaded: Ticket = serde_json::from_value(old).unwrap();
    assert_eq!(loaded.handling, Handling::default());
}

#[test]
fn the_citizen_is_told_what_happened_in_plain_words() {
    let names = |u: &UnitId| (u == &lead()).then(|| "南山区城管执法局".to_string());
    let t = ticket_in(TicketStatus::Signed);
    let texts: Vec<String> = t.events.iter().map(|e| citizen_text(e, names)).collect();
    assert_eq!(
        texts,
        [
            "诉求已受理",
            "已派至南山区城管执法局办理",
            "南山区城管执法局已签收"
        ]
    );
    assert_eq!(
        t.events[1].note, "已派至承办单位办理",
        "the stored note names no unit"
    );
    let notice = citizen_notice(&t.events[1]).unwrap();
    assert_eq!((notice.key, notice.unit), ("dispatched", Some(lead())));
    let co_reply = step(
        &t,
        TicketAction::Reply {
            text: text("已配合"),
        },
        &as_unit(co()),
    );
    assert_eq!(
        citizen_notice(co_reply.events.last().unwrap()).unwrap().key,
        "co_replied"
    );
    let merged = ticket_in(TicketStatus::Merged);
    let merged_text = citizen_text(merged.events.last().unwrap(), names);
    assert_eq!(
        merged_text,
        format!("已与工单{}合并办理", TicketNumber::from_sequence(100_000))
    );
    let returned = ticket_in(TicketStatus::Returned);
    let objection = returned.events.last().unwrap();
    assert!(
        !citizen_text(objection, names).contains("非本单位职责"),
        "reasons stay internal"
    );
}
