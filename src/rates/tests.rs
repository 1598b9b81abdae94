//! The formulas against a fixture computed by hand (the arithmetic is in the comments).

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::domain::lifecycle::{Actor, LifecycleRules, TicketAction, apply};
use crate::domain::{
    CallbackRound, Channel, ConversationId, Deadlines, NewTicket, TicketNumber, UnitId,
};

/// Monday 2026-11-02 09:00, city time.
fn t0() -> Timestamp {
    "2026-11-02T09:00:00+08:00[Asia/Shanghai]"
        .parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
}

fn at(hours: i64) -> Timestamp {
    t0() + SignedDuration::from_hours(hours)
}

fn unit(id: &str) -> Actor {
    Actor::Unit(UnitId::new(id))
}

fn new(seq: u64, category: Category, district: &str, created: Timestamp) -> Ticket {
    Ticket::open(
        TicketNumber::from_sequence(seq),
        NewTicket {
            category,
            content: "事项".into(),
            district: Some(district.into()),
            phone: Some("13800000000".into()),
            ..NewTicket::sample(created)
        },
    )
}

fn act(t: Ticket, action: TicketAction, actor: &Actor, hours: i64) -> Ticket {
    apply(&t, action, actor, at(hours), &LifecycleRules::default()).unwrap()
}

/// Dispatched at hour 0: sign within 24 h, object within 48 h, close within 240 h.
fn dispatched(t: Ticket, lead: &str) -> Ticket {
    let deadlines = Deadlines {
        accept_by: at(24),
        object_by: at(48),
        deadline: at(240),
    };
    let action = TicketAction::Dispatch {
        lead: UnitId::new(lead),
        co_handlers: vec![],
        deadlines,
    };
    act(t, action, &Actor::System, 0)
}

/// Signed at `sign`, replied and closed at `close` (hours after t0).
fn handled(t: Ticket, lead: &str, sign: i64, close: i64) -> Ticket {
    let u = unit(lead);
    let t = act(t, TicketAction::Sign, &u, sign);
    let t = act(
        t,
        TicketAction::Reply {
            text: "答复".into(),
        },
        &u,
        close - 1,
    );
    act(
        t,
        TicketAction::Close {
            text: "办结".into(),
        },
        &u,
        close,
    )
}

fn surveyed(mut t: Ticket, outcome: SurveyOutcome, hours: i64) -> Ticket {
    let round = t.callback.rounds.len() as u32 + 1;
    t.callback.rounds.push(CallbackRound {
        round,
        closed_at: at(hours),
        due_at: at(hours),
        sent_at: Some(at(hours)),
        reminded_at: None,
        finished_at: Some(at(hours)),
        outcome: Some(outcome),
        expired: None,
    });
    act(t, TicketAction::Survey, &Actor::System, hours)
}

fn answered(solved: bool, s: Satisfaction) -> SurveyOutcome {
    SurveyOutcome::Answered {
        solved: Some(solved),
        satisfaction: Some(s),
        comment: None,
    }
}

const A: &str = "nanshan-urban";
const B: &str = "xicheng-urban";

fn fixture() -> (Vec<Ticket>, Vec<IntakeRecord>) {
    use Satisfaction::*;
    // A1: on time throughout; 已解决 · 满意.
    let a1 = handled(
        dispatched(new(100_001, Category::Complaint, "南山区", at(0)), A),
        A,
        2,
        72,
    );
    let a1 = surveyed(a1, answered(true, Satisfied), 80);
    // A2: signed late (48 > 24), closed late (288 > 240); 已解决 · 基本满意.
    let a2 = handled(
        dispatched(new(100_002, Category::Complaint, "南山区", at(0)), A),
        A,
        48,
        288,
    );
    let a2 = surveyed(a2, answered(true, BasicallySatisfied), 290);
    // A3: on time; first 未解决 · 不满意 → 重办 → final 已解决 · 满意.
    let a3 = handled(
        dispatched(new(100_003, Category::Help, "西城区", at(0)), A),
        A,
        2,
        72,
    );
    let a3 = surveyed(a3, answered(false, Dissatisfied), 80);
    let rehandle = TicketAction::Rehandle {
        reason: "还是不亮".into(),
        accept_by: at(104),
        deadline: at(300),
    };
    let a3 = act(a3, rehandle, &Actor::System, 80);
    let a3 = handled(a3, A, 82, 150);
    let a3 = surveyed(a3, answered(true, Satisfied), 160);
    // A4: on time; 未联系上.
    let a4 = handled(
        dispatched(new(100_004, Category::Suggestion, "南山区", at(0)), A),
        A,
        2,
        72,
    );
    let a4 = surveyed(a4, SurveyOutcome::Unreachable, 130);
    // B5: on time, one objection (rejected); 未解决 · 不满意 without a reason.
    let b5 = dispatched(new(100_005, Category::Complaint, "西城区", at(0)), B);
    let b5 = act(b5, TicketAction::Sign, &unit(B), 2);
    let b5 = act(
        b5,
        TicketAction::Object {
            reason: "非本单位".into(),
        },
        &unit(B),
        3,
    );
    let b5 = act(
        b5,
        TicketAction::RejectObjection {
            note: "属本单位".into(),
        },
        &Actor::Operator("op".into()),
        5,
    );
    let b5 = act(
        b5,
        TicketAction::Reply {
            text: "答复".into(),
        },
        &unit(B),
        30,
    );
    let b5 = act(
        b5,
        TicketAction::Close {
            text: "办结".into(),
        },
        &unit(B),
        72,
    );
    let b5 = surveyed(b5, answered(false, Dissatisfied), 80);
    // B6: a 咨询 ticket never signed nor closed, both deadlines long past at as_of.
    let b6 = dispatched(new(100_006, Category::Consultation, "西城区", at(0)), B);
    // Outside the period (received the next Monday): ignored.
    let out = new(100_007, Category::Complaint, "南山区", at(7 * 24 + 1));
    let out = handled(dispatched(out, A), A, 200, 230);
    let record = |hours: i64, kind: RecordKind| IntakeRecord {
        at: at(hours),
        kind,
        channel: Channel::Web,
        conversation: ConversationId::new(),
        text: "问题".into(),
    };
    let kb = |hours| {
        record(
            hours,
            RecordKind::Answered {
                article: "a".into(),
            },
        )
    };
    let records = vec![
        kb(1),
        kb(30),
        kb(100),
        kb(24 * 8), // next Tuesday: outside
        record(5, RecordKind::Flood),
    ];
    (vec![a1, a2, a3, a4, b5, b6, out], records)
}

/// A real store on disk in a temporary directory (kept alive by the first value) holding
/// `tickets` as given and `records`.
async fn stored(
    tickets: &[Ticket],
    records: &[IntakeRecord],
) -> (tempfile::TempDir, crate::store::SledStore) {
    use crate::store::{RecordStore, TicketStore};
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::SledStore::open(dir.path()).unwrap();
    for t in tickets {
        store.save(t.clone()).await.unwrap();
    }
    for r in records {
        store.add_record(r.clone()).await.unwrap();
    }
    (dir, store)
}

fn period() -> Period {
    Period {
        from: jiff::civil::date(2026, 11, 2),
        to: jiff::civil::date(2026, 11, 8),
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn report(settings: &RateSettings, by: GroupBy) -> RateReport {
    let (tickets, records) = fixture();
    compute(&tickets, &records, period(), by, settings, at(720))
}

#[test]
fn the_rates_per_unit_match_the_hand_computed_fixture() {
    let r = report(&RateSettings::default(), GroupBy::Unit);
    assert_eq!(r.rows.len(), 2);
    let a = &r.rows[0];
    assert_eq!(a.group, A);
    assert_eq!((a.counts.received, a.counts.evaluated), (4, 4));
    // 响应率: A1, A3, A4 signed in time of 4 evaluated.
    assert!(close(a.response_rate, 0.75), "{a:?}");
    // 解决率: A1, A2, A3 (final) of 4.
    assert!(close(a.solved_rate, 0.75));
    // 满意率: (1 + 0.8 + 1 + 0) / 4.
    assert!(close(a.satisfied_rate, 0.7));
    // 100 × (0.30 × 0.75 + 0.35 × 0.75 + 0.35 × 0.7) = 73.25.
    assert!(close(a.score, 73.25));
    assert!(close(a.on_time_sign_rate, 0.75));
    assert!(close(a.on_time_close_rate, 0.75));
    assert!(close(a.rehandle_rate, 0.25));
    assert!(close(a.objection_rate, 0.0));
    assert_eq!(a.counts.unreachable, 1);

    let b = &r.rows[1];
    assert_eq!(b.group, B);
    assert_eq!((b.counts.received, b.counts.evaluated), (2, 1));
    assert!(close(b.response_rate, 1.0));
    assert!(close(b.solved_rate, 0.0));
    assert!(close(b.satisfied_rate, 0.0));
    assert!(close(b.score, 30.0));
    // B6 was never signed and is past both deadlines: late on both counts.
    assert!(close(b.on_time_sign_rate, 0.5));
    assert!(close(b.on_time_close_rate, 0.5));
    assert!(close(b.objection_rate, 0.5));

    let t = &r.total;
    assert_eq!((t.counts.received, t.counts.evaluated), (6, 5));
    assert!(close(t.response_rate, 0.8));
    assert!(close(t.solved_rate, 0.6));
    assert!(close(t.satisfied_rate, 0.56));
    // 100 × (0.30 × 0.8 + 0.35 × 0.6 + 0.35 × 0.56) = 64.6.
    assert!(close(t.score, 64.6));
    assert!(close(t.on_time_sign_rate, 4.0 / 6.0));
    assert!(close(t.rehandle_rate, 0.2));
    // 直接答复率: 3 answered by the knowledge base ÷ (3 + 1 咨询 ticket).
    assert_eq!((r.kb_answered, r.consultations), (3, 4));
    assert!(close(r.direct_answer_rate, 0.75));
}

#[test]
fn the_first_rating_and_leaving_out_the_unreachable_are_settings() {
    let first = RateSettings {
        rated_round: RatedRound::First,
        ..RateSettings::default()
    };
    let a = report(&first, GroupBy::Unit).rows[0].clone();
    // A3 counts with its first rating, 未解决 · 不满意.
    assert!(close(a.solved_rate, 0.5));
    assert!(close(a.satisfied_rate, 0.45));

    let reachable = RateSettings {
        unreachable_is_evaluated: false,
        ..RateSettings::default()
    };
    let a = report(&reachable, GroupBy::Unit).rows[0].clone();
    assert_eq!(a.counts.evaluated, 3);
    // (1 + 0.8 + 1) / 3; A1 and A3 of 3 responded in time.
    assert!(close(a.satisfied_rate, 2.8 / 3.0));
    assert!(close(a.response_rate, 2.0 / 3.0));
}

#[test]
fn rows_group_by_district_and_category() {
    let r = report(&RateSettings::default(), GroupBy::District);
    let groups: Vec<_> = r.rows.iter().map(|r| r.group.as_str()).collect();
    assert_eq!(groups, ["南山区", "西城区"]);
    assert_eq!(r.rows[0].counts.received, 3);
    let r = report(&RateSettings::default(), GroupBy::Category);
    let complaints = r.rows.iter().find(|r| r.group == "投诉").unwrap();
    assert_eq!(complaints.counts.received, 3);
    assert_eq!(r.total.counts.received, 6);
}

#[test]
fn the_table_and_the_csv_show_the_same_figures() {
    let r = report(&RateSettings::default(), GroupBy::Unit);
    let name = |id: &str| format!("单位{id}");
    let table = to_table(&r, &name);
    assert!(table.contains("单位nanshan-urban"), "{table}");
    assert!(table.contains("73.2") || table.contains("73.3"), "{table}");
    assert!(table.contains("直接答复率 75.0%"), "{table}");
    let csv = to_csv(&r, &name).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].starts_with("nanshan-urban,单位nanshan-urban,4,4,4,0.7500,0.7500,0.7000,73.25"),
        "{csv}"
    );
    assert!(lines[3].starts_with("合计,合计,6,6,5,0.8000"), "{csv}");
    assert!(lines[3].ends_with(",0.7500"), "{csv}");
}

/// The analysis report's 三率与单位排名 shows, per unit, exactly what this module computes for the
/// same tickets (the report's period, as of its end), read from a real store on disk.
#[tokio::test]
async fn the_analysis_report_shows_the_rates_this_module_computes() {
    use crate::governance::report::{self, PeriodKind, ReportInputs};

    let (tickets, _) = fixture();
    let settings = RateSettings::default();
    let week = report::Period::containing(PeriodKind::Weekly, jiff::civil::date(2026, 11, 4));
    let expected = compute(
        &tickets,
        &[],
        period(),
        GroupBy::Unit,
        &settings,
        week.end(),
    );

    let (_dir, store) = stored(&tickets, &[]).await;
    let from_store = crate::governance::unit_rates(&store, week, &settings).unwrap();
    assert_eq!(from_store.rows, expected.rows);

    let topics = crate::governance::matter::Topics::new(vec![]).unwrap();
    let units = crate::units::Units::default();
    let hotspots = crate::governance::HotspotSettings::default();
    let terms = crate::governance::gaps::KeyTerms::default();
    let inputs = ReportInputs {
        period: week,
        city: "深圳",
        units: &units,
        hotspots: &hotspots,
        feedback: &[],
        terms: &terms,
        unit_rates: Some(&from_store),
    };
    let facts = tickets
        .iter()
        .map(|t| crate::governance::facts::from_ticket(t, &topics));
    let built = report::build(&inputs, facts);
    assert!(!built.rates.interim);
    assert_eq!(built.rates.rows.len(), 2);
    for u in &built.rates.rows {
        let row = expected.rows.iter().find(|r| r.group == u.unit).unwrap();
        assert!(row.counts.evaluated > 0, "{} has evaluated tickets", u.unit);
        assert_eq!(u.responded, row.response_rate, "{}", u.unit);
        assert_eq!(u.resolved, row.solved_rate, "{}", u.unit);
        assert_eq!(u.satisfied, row.satisfied_rate, "{}", u.unit);
        assert_eq!(u.score, row.score, "{}", u.unit);
        assert!(u.score.is_some());
    }
    // Ranked by score, best first.
    let scores: Vec<f64> = built.rates.rows.iter().filter_map(|u| u.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The rendering shows the figures, and no placeholder.
    let md = report::render::markdown(&built).unwrap();
    assert!(!md.contains("待接入"), "{md}");
    let a = built.rates.rows.iter().find(|u| u.unit == A).unwrap();
    let shown = format!("{:.1}%", a.responded.unwrap() * 100.0);
    assert!(md.contains(&shown), "{shown} in {md}");
}

/// The rates the server serves read the period's digests and records from the store; they equal
/// the rates of the whole tickets, for every grouping and setting, and a digest read back from
/// its stored bytes counts like the ticket it came from.
#[tokio::test]
async fn the_rates_from_stored_digests_equal_the_rates_from_whole_tickets() {
    let (tickets, records) = fixture();
    for t in &tickets {
        let digest = TicketDigest::of(t);
        assert_eq!(TicketDigest::decode(&digest.encode()).unwrap(), digest);
    }
    let (_dir, store) = stored(&tickets, &records).await;
    let first_only = RateSettings {
        rated_round: RatedRound::First,
        unreachable_is_evaluated: false,
        ..RateSettings::default()
    };
    for settings in [RateSettings::default(), first_only] {
        for by in [GroupBy::Unit, GroupBy::District, GroupBy::Category] {
            let whole = from_store(&store, &store, period(), by, &settings, at(720)).unwrap();
            let served =
                crate::governance::rates_report(&store, period(), by, &settings, at(720)).unwrap();
            assert_eq!(served, whole, "{by:?}");
            assert_eq!(served, report(&settings, by), "{by:?}");
            assert!(served.kb_answered > 0);
        }
    }
    store.close().unwrap();
}

/// 直接答复率 counts each consultation once. One the knowledge base answered that then became a
/// 咨询 ticket (the answer did not help, and the citizen asked for a ticket with the same
/// question) was not answered directly: it counts as the ticket alone. An answer that helped
/// counts as answered, and a 咨询 ticket with the same words from before the answer stays a
/// ticket of its own.
#[tokio::test]
async fn a_consultation_answered_and_then_made_a_ticket_counts_once_as_the_ticket() {
    let question = "居住证到期了怎么续签";
    let asked = ConversationId::new();
    let answer = |hours: i64, text: &str, conversation: ConversationId| IntakeRecord {
        at: at(hours),
        kind: RecordKind::Answered {
            article: "residence-permit".into(),
        },
        channel: Channel::Web,
        conversation,
        text: text.into(),
    };
    let consultation = |seq: u64, hours: i64, conversation: ConversationId| {
        let mut t = new(seq, Category::Consultation, "南山区", at(hours));
        t.details.content = question.into();
        t.details.conversation = conversation;
        t
    };
    // Answered at hour 9 (the citizen's message, as typed), not helpful, a ticket at hour 10.
    let records = vec![
        answer(9, &format!("{question}\n"), asked),
        answer(20, "公积金怎么提取", ConversationId::new()),
    ];
    let tickets = vec![
        consultation(200_001, 10, asked),
        // Someone else's ticket with the same words, before any answer.
        consultation(200_002, 5, ConversationId::new()),
    ];
    let (_dir, store) = stored(&tickets, &records).await;
    let settings = RateSettings::default();
    let whole = from_store(&store, &store, period(), GroupBy::Unit, &settings, at(720)).unwrap();
    let served =
        crate::governance::rates_report(&store, period(), GroupBy::Unit, &settings, at(720))
            .unwrap();
    for r in [&whole, &served] {
        // Three consultations: 公积金 answered; 居住证 twice, both as tickets.
        assert_eq!((r.kb_answered, r.consultations), (1, 3), "{r:?}");
        assert!(close(r.direct_answer_rate, 1.0 / 3.0), "{r:?}");
    }
    store.close().unwrap();
}
