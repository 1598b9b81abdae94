//! Every status × every action: the allowed ones succeed and land where the table says, the rest
//! are refused as `NotAllowed` naming exactly the allowed set.

use super::*;
use ActionKind::*;
use TicketStatus as S;

/// The transition table, written out independently of `allowed_actions`.
fn expected(status: TicketStatus) -> Vec<(ActionKind, TicketStatus)> {
    let working = |s: TicketStatus| {
        vec![
            (Progress, S::InProgress),
            (Reply, S::Replied),
            (Object, S::Returned),
            (RequestExtension, s),
            (ApproveExtension, s),
            (RefuseExtension, s),
            (Remind, s),
            (Supervise, s),
            (MergeInto, S::Merged),
            (Withdraw, S::Withdrawn),
            (Escalate, S::Dispatched),
        ]
    };
    match status {
        S::Accepted => vec![
            (Dispatch, S::Dispatched),
            (MergeInto, S::Merged),
            (Withdraw, S::Withdrawn),
        ],
        S::Dispatched => vec![
            (Sign, S::Signed),
            (Object, S::Returned),
            (Remind, S::Dispatched),
            (Supervise, S::Dispatched),
            (MergeInto, S::Merged),
            (Withdraw, S::Withdrawn),
            (Escalate, S::Dispatched),
        ],
        S::Signed => working(S::Signed),
        S::InProgress => working(S::InProgress),
        S::Replied => vec![(Close, S::Closed)],
        S::Closed => vec![(Survey, S::Surveyed)],
        S::Surveyed => vec![(Rehandle, S::Dispatched)],
        S::Withdrawn | S::Merged => vec![],
        // The fixture objected from 已派遣, so a rejection returns there.
        S::Returned => vec![
            (UpholdObjection, S::Dispatched),
            (RejectObjection, S::Dispatched),
            (MergeInto, S::Merged),
            (Withdraw, S::Withdrawn),
            (Escalate, S::Dispatched),
        ],
        S::Escalated => vec![
            (Escalate, S::Dispatched),
            (MergeInto, S::Merged),
            (Withdraw, S::Withdrawn),
        ],
    }
}

#[test]
fn fixtures_reach_the_status_they_are_named_for() {
    for status in TicketStatus::ALL {
        assert_eq!(ticket_in(status).status, status);
    }
}

#[test]
fn the_allowed_set_of_every_status_is_exactly_the_table() {
    for status in TicketStatus::ALL {
        let want: Vec<ActionKind> = expected(status).into_iter().map(|(k, _)| k).collect();
        assert_eq!(allowed_actions(status), want.as_slice(), "{status:?}");
    }
}

#[test]
fn every_allowed_transition_succeeds_and_lands_where_the_table_says() {
    for status in TicketStatus::ALL {
        for (kind, to) in expected(status) {
            let ticket = prepared(status, kind);
            let (action, actor) = sample(kind, &ticket);
            let next = try_step(&ticket, action, &actor)
                .unwrap_or_else(|e| panic!("{status:?} + {kind}: {e}"));
            assert_eq!(next.status, to, "{status:?} + {kind}");
            let event = next.events.last().unwrap();
            assert_eq!(
                (event.from, event.to),
                (Some(status), to),
                "{status:?} + {kind}"
            );
            assert_eq!(event.action.as_ref().map(TicketAction::kind), Some(kind));
        }
    }
}

#[test]
fn every_other_transition_is_refused_naming_the_allowed_actions() {
    let mut refused = 0;
    for status in TicketStatus::ALL {
        let allowed: Vec<&str> = expected(status).iter().map(|(k, _)| k.name()).collect();
        for kind in ActionKind::ALL {
            if allowed.contains(&kind.name()) {
                continue;
            }
            let ticket = ticket_in(status);
            let (action, actor) = sample(kind, &ticket);
            let err = try_step(&ticket, action, &actor).unwrap_err();
            let want = TransitionError::NotAllowed {
                from: status,
                action: kind.name(),
                allowed: allowed.clone(),
            };
            assert_eq!(err, want, "{status:?} + {kind}");
            refused += 1;
        }
    }
    let allowed_total: usize = TicketStatus::ALL.iter().map(|s| expected(*s).len()).sum();
    assert_eq!(
        refused + allowed_total,
        TicketStatus::ALL.len() * ActionKind::ALL.len()
    );
}

#[test]
fn a_refusal_reads_as_a_sentence_naming_what_is_allowed() {
    let err = try_step(&ticket_in(S::Closed), TicketAction::Sign, &as_unit(lead())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot sign a ticket that is 已办结 (closed); allowed now: survey"
    );
    let (withdraw, citizen) = sample(Withdraw, &ticket_in(S::Merged));
    let err = try_step(&ticket_in(S::Merged), withdraw, &citizen).unwrap_err();
    assert!(err.to_string().contains("allowed now: nothing"), "{err}");
}

#[test]
fn action_names_match_their_serialized_kind() {
    let ticket = ticket_in(S::Signed);
    for kind in ActionKind::ALL {
        let (action, _) = sample(kind, &ticket);
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json["kind"], kind.name());
    }
}
