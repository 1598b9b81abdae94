//! Proactive governance: planted surges found and the steady background quiet, clusters linking
//! the right tickets and dispatched in one call, the report deterministic for a seed, and the
//! report and the dashboard drawn in Chromium.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use hotline::auth::Role;
use hotline::domain::{
    Category, Channel, ConversationId, NewTicket, Ticket, TicketNumber, TicketStatus,
};
use hotline::governance::Analysis;
use hotline::governance::facts::TicketFacts;
use hotline::governance::live::HotspotMonitor;
use hotline::governance::matter::Topics;
use hotline::governance::report::{Period, PeriodKind, render};
use hotline::governance::seed::{SeedOptions, SeedSummary, SeedWorld, seed};
use hotline::store::{SledStore, TicketStore};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{call, repo, spawn_app_in, test_settings};

const UNTIL: Date = date(2026, 6, 29);

fn options(tickets: usize, seed_value: u64) -> SeedOptions {
    SeedOptions {
        tickets,
        seed: seed_value,
        until: UNTIL,
        days: 28,
        surges: 2,
    }
}

async fn seeded(dir: &Path, options: &SeedOptions) -> SeedSummary {
    let settings = test_settings();
    let world = Arc::new(SeedWorld::load(&settings, &repo().join("config")).unwrap());
    let store = reopen(dir);
    let summary = seed(&store, world, options, |_| {}).await.unwrap();
    store.close().unwrap();
    summary
}

/// Opens a store just closed in this process: sled's own I/O threads may hold its lock for a
/// moment after the last handle is gone.
fn reopen(dir: &Path) -> SledStore {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match SledStore::open(dir) {
            Ok(store) => return store,
            Err(e) if Instant::now() < deadline => {
                eprintln!("retrying open of {}: {e}", dir.display());
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// A token written through a store that is already open (closing and reopening a sled store in
/// one process races with sled's own I/O threads, which hold its lock for a moment).
async fn token(store: &SledStore, role: Role) -> String {
    use hotline::auth::{TokenRecord, generate_token, token_hash, token_id};
    use hotline::store::TokenStore;
    let token = generate_token();
    let hash = token_hash(&token);
    let record = TokenRecord {
        id: token_id(&hash),
        role,
        label: "test".into(),
        created_at: Timestamp::now(),
        revoked: false,
    };
    store.put_token(hash, record).await.unwrap();
    token
}

/// Closes a store the server will open next, and gives sled's I/O threads a moment to let go of
/// its lock.
fn hand_over(store: SledStore) {
    store.close().unwrap();
    drop(store);
    std::thread::sleep(Duration::from_millis(500));
}

fn analysis() -> Arc<Analysis> {
    Arc::new(Analysis::load(&test_settings(), &repo().join("config")).unwrap())
}

fn midnight(d: Date) -> Timestamp {
    d.to_zoned(hotline::clock::city_tz()).unwrap().timestamp()
}

#[tokio::test]
async fn planted_surges_are_found_and_the_steady_background_raises_no_alert() {
    let dir = tempfile::tempdir().unwrap();
    let summary = seeded(dir.path(), &options(4_000, 7)).await;
    assert_eq!(summary.tickets, 4_000);
    assert_eq!(summary.surges.len(), 2);

    let store = Arc::new(reopen(dir.path()));
    let monitor = HotspotMonitor::new(store.clone(), analysis());
    let read = monitor.warm(midnight(UNTIL)).await.unwrap();
    assert_eq!(read, 4_000, "the whole span is within the baseline");

    let clusters = store.clusters().unwrap();
    assert_eq!(
        clusters.len(),
        2,
        "one alert per planted surge, none from the background: {clusters:#?}"
    );
    for surge in &summary.surges {
        let cluster = clusters
            .iter()
            .find(|c| c.tickets.contains(&surge.tickets[0]))
            .unwrap_or_else(|| panic!("surge {surge:?} not found in {clusters:#?}"));
        assert_eq!(cluster.matter, surge.matter);
        assert_eq!(
            (&cluster.district, &cluster.street),
            (&surge.district, &surge.street)
        );
        assert!(
            surge.tickets.iter().all(|n| cluster.tickets.contains(n)),
            "the cluster links every ticket of the surge: {cluster:#?}"
        );
        // Anything else it links is the same matter from the same street, in the same hour.
        for n in cluster
            .tickets
            .iter()
            .filter(|n| !surge.tickets.contains(n))
        {
            let t = store.get(*n).unwrap().unwrap();
            let facts = hotline::governance::facts::from_ticket(&t, &analysis().topics);
            assert_eq!(
                (facts.matter.as_str(), facts.digest.street.as_deref()),
                (surge.matter.as_str(), Some(surge.street.as_str()))
            );
        }
        assert!(cluster.count_at_alert >= 5);
        for n in &surge.tickets {
            assert_eq!(
                store.cluster_of(*n).unwrap().as_deref(),
                Some(cluster.id.as_str())
            );
        }
    }
    // Warming again (a restart) stores nothing twice.
    let again = HotspotMonitor::new(store.clone(), analysis());
    again.warm(midnight(UNTIL)).await.unwrap();
    assert_eq!(store.clusters().unwrap(), clusters);
    store.close().unwrap();
}

#[tokio::test]
async fn the_report_is_the_same_for_the_same_seed_and_shows_what_was_seeded() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let summary = seeded(a.path(), &options(3_000, 42)).await;
    seeded(b.path(), &options(3_000, 42)).await;
    let analysis = analysis();
    let period = Period::containing(PeriodKind::Monthly, date(2026, 6, 15));
    let report = |dir: &Path| {
        let store = reopen(dir);
        let r = analysis.report(&store, period).unwrap();
        store.close().unwrap();
        r
    };
    let (first, second) = (report(a.path()), report(b.path()));
    {
        // The report reads on every core; the slices joined are the serial scan, in order.
        let store = reopen(a.path());
        let (from, until) = (midnight(date(2026, 6, 3)), midnight(date(2026, 6, 20)));
        let mut serial = Vec::new();
        hotline::governance::scan(&store, &analysis.topics, from, until, |f| serial.push(f))
            .unwrap();
        let parallel =
            hotline::governance::scan_parallel(&store, &analysis.topics, from, until).unwrap();
        assert!(serial.len() > 1_000);
        assert_eq!(parallel, serial);
        store.close().unwrap();
    }
    assert_eq!(
        render::html(&first).unwrap(),
        render::html(&second).unwrap()
    );
    assert_eq!(render::csv(&first).unwrap(), render::csv(&second).unwrap());
    assert_eq!(
        render::markdown(&first).unwrap(),
        render::markdown(&second).unwrap()
    );

    assert!(
        first.total > 2_000,
        "June holds most of the 28 days: {}",
        first.total
    );
    assert_eq!(
        first.hotspots.len(),
        summary.surges.len(),
        "{:#?}",
        first.hotspots
    );
    assert!(
        first.hotspots.iter().all(|h| h.tickets >= 8),
        "{:#?}",
        first.hotspots
    );
    // The rates are wired (issue #7): each unit's figures are the rates module's for the period.
    assert!(!first.rates.interim && !first.rates.rows.is_empty());
    {
        let store = reopen(a.path());
        let expected = hotline::governance::unit_rates(&store, period, &analysis.rates).unwrap();
        store.close().unwrap();
        // The seed records 回访 outcomes as the callback service does: answered with a rating,
        // some 未联系上, some 重办 and a second round.
        let total = &expected.total.counts;
        assert!(
            total.evaluated > total.received / 3,
            "most tickets of a month ago are rated: {total:?}"
        );
        assert!(
            total.solved > 0 && total.solved < total.evaluated,
            "{total:?}"
        );
        assert!(total.unreachable > 0 && total.rehandled > 0, "{total:?}");
        let satisfied = expected.total.satisfied_rate.unwrap();
        assert!((0.6..0.98).contains(&satisfied), "{satisfied}");
        for u in &first.rates.rows {
            let row = expected.rows.iter().find(|r| r.group == u.unit).unwrap();
            assert_eq!(
                (u.responded, u.resolved, u.satisfied, u.score),
                (
                    row.response_rate,
                    row.solved_rate,
                    row.satisfied_rate,
                    row.score
                ),
                "{}",
                u.unit
            );
        }
    }
    // The report shows the three rates as numbers, not —, for the units with ratings.
    let rated: Vec<_> = first
        .rates
        .rows
        .iter()
        .filter(|u| u.responded.is_some() && u.resolved.is_some() && u.satisfied.is_some())
        .collect();
    assert!(
        rated.len() * 2 > first.rates.rows.len(),
        "{:#?}",
        first.rates.rows
    );
    let md = render::markdown(&first).unwrap();
    let row = md
        .lines()
        .find(|l| l.starts_with("| 1 | "))
        .unwrap_or_else(|| panic!("{md}"));
    assert_eq!(row.matches('%').count(), 3, "{row}");
    assert!(!row.contains('—'), "{row}");
    assert!(first.overdue.open + first.overdue.answered_late > 0);
    assert!(!first.gaps.is_empty());
    assert!(first.top_matters.iter().any(|m| m.matter == "停水"));
    let md = render::markdown(&first).unwrap();
    assert!(
        md.contains("## 六、热点预警与类案") && md.contains("停水"),
        "{md}"
    );

    let other = tempfile::tempdir().unwrap();
    seeded(other.path(), &options(3_000, 43)).await;
    assert_ne!(
        render::csv(&report(other.path())).unwrap(),
        render::csv(&first).unwrap(),
        "another seed gives other tickets"
    );
}

#[tokio::test]
async fn the_report_command_writes_html_markdown_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path(), &options(1_500, 3)).await;
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("report.html");
    let status = crate::helpers::hotline_command(dir.path())
        .args(["report", "weekly", "--date", "2026-06-24", "--out"])
        .arg(&html)
        .arg("--md")
        .arg(out.path().join("report.md"))
        .arg("--csv")
        .arg(out.path().join("report.csv"))
        .status()
        .unwrap();
    assert!(status.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("2026年06月22日—06月28日"),
        "the week of the date"
    );
    assert!(
        !page.contains("<script")
            && !page.contains("<link")
            && !page.contains("src=")
            && !page.contains("url("),
        "self-contained: nothing to fetch"
    );
    let csv = std::fs::read_to_string(out.path().join("report.csv")).unwrap();
    assert!(csv.starts_with("section,name,value,extra\n"), "{csv}");
    assert!(out.path().join("report.md").exists());
}

fn ticket(at: Timestamp, content: &str) -> NewTicket {
    NewTicket {
        category: Category::Help,
        content: content.into(),
        district: Some("南山区".into()),
        address: Some("南山区桃源街道龙珠路18号".into()),
        phone: Some("13800001111".into()),
        name: None,
        confidential: false,
        channel: Channel::Web,
        conversation: ConversationId::new(),
        created_at: at,
    }
}

/// An operator's `POST /api/operator/clusters/{id}/dispatch` naming `lead`: (status, body).
async fn dispatch(
    app: &crate::helpers::TestApp,
    token: &str,
    id: &str,
    lead: &str,
) -> (u16, Value) {
    let url = format!("{}/api/operator/clusters/{id}/dispatch", app.base);
    call(&app.client, url, token, Some(json!({ "lead": lead }))).await
}

async fn until_clusters(app: &crate::helpers::TestApp, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = Value::Array(hotspots(&app.client, &app.base, token).await);
        if list.as_array().is_some_and(|a| !a.is_empty()) || Instant::now() > deadline {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_cluster_is_raised_by_the_server_and_dispatched_to_one_unit_in_one_call() {
    let data = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    let mut numbers: Vec<TicketNumber> = Vec::new();
    let (operator, unit) = {
        let store = SledStore::open(data.path()).unwrap();
        let other = store
            .create(ticket(
                now - Duration::from_secs(7200),
                "我家门口的路灯坏了",
            ))
            .await
            .unwrap();
        for k in (1..=6).rev() {
            let t = store
                .create(ticket(
                    now - Duration::from_secs(k * 300),
                    "小区从早上开始停水了，一直没来水",
                ))
                .await
                .unwrap();
            numbers.push(t.number);
        }
        assert!(!numbers.contains(&other.number));
        let tokens = (
            token(&store, Role::Operator).await,
            token(&store, Role::Unit("water-group".into())).await,
        );
        hand_over(store);
        tokens
    };
    let app = spawn_app_in(data, test_settings()).await;

    let list = until_clusters(&app, &operator).await;
    let clusters = list.as_array().unwrap();
    assert_eq!(clusters.len(), 1, "{list}");
    let id = clusters[0]["id"].as_str().unwrap().to_string();
    assert_eq!(clusters[0]["matter"], "停水");
    assert_eq!(clusters[0]["street"], "桃源街道");
    let linked: Vec<u64> = clusters[0]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(
        linked,
        numbers.iter().map(|n| n.value()).collect::<Vec<_>>()
    );

    let (refused, _) = dispatch(&app, &unit, &id, "water-group").await;
    assert_eq!(refused, 403);
    let (unknown, body) = dispatch(&app, &operator, &id, "no-such-unit").await;
    assert_eq!(unknown, 400);
    assert_eq!(body["code"], "invalid");
    let (missing, _) = dispatch(&app, &operator, "LA1", "water-group").await;
    assert_eq!(missing, 404);

    let (status, done) = dispatch(&app, &operator, &id, "water-group").await;
    assert_eq!(status, 200);
    assert_eq!(done["dispatched"].as_array().unwrap().len(), 6, "{done}");
    for n in &numbers {
        let t = app.operator_ticket(&operator, &n.to_string()).await;
        assert_eq!(t["status"], "dispatched", "{t}");
    }
    let (_, view) = call(
        &app.client,
        format!("{}/api/operator/clusters/{id}", app.base),
        &operator,
        None,
    )
    .await;
    assert_eq!(view["dispatched_to"], "water-group");
    assert_eq!(view["ticket_views"].as_array().unwrap().len(), 6);
    app.stop().await;
}

/// Checks, in the page Chromium shows, that every chart is an SVG with its series drawn.
async fn assert_charts_drawn(browser: &Browser, expected: usize) {
    let charts = browser
        .wait_until(
            "the charts",
            &format!(
                "const f = [...document.querySelectorAll('figure.chart')].filter(f => f.querySelector('svg'));
                 return f.length >= {expected} && f.map(f => [f.dataset.chart, f.dataset.series,
                   f.querySelectorAll('rect[fill=\"#1F5FA8\"]').length,
                   [...f.querySelectorAll('polyline[stroke-width=\"2\"]')].filter(p => p.points.length > 2).length,
                   [...f.querySelectorAll('text')].map(t => t.textContent.trim()).join('|'),
                   f.querySelector('svg').getBoundingClientRect().height])"
            ),
        )
        .await;
    let charts = charts.as_array().unwrap();
    assert_eq!(charts.len(), expected, "{charts:?}");
    for c in charts {
        let (id, series) = (c[0].as_str().unwrap(), c[1].as_str().unwrap());
        let (rects, lines, texts) = (
            c[2].as_u64().unwrap(),
            c[3].as_u64().unwrap(),
            c[4].as_str().unwrap(),
        );
        assert!(c[5].as_f64().unwrap() > 100.0, "{id} is laid out: {c:?}");
        let names: Vec<&str> = series.split(',').filter(|s| !s.is_empty()).collect();
        assert!(!names.is_empty(), "{id} names its series");
        match id {
            "volume" | "matters" => {
                assert_eq!(lines as usize, names.len(), "{id}: a line per series")
            }
            _ => assert!(rects > 0, "{id}: bars drawn in the series colour"),
        }
        if names.len() > 1 {
            for name in names {
                assert!(
                    texts.split('|').any(|t| t == name),
                    "{id}: legend names {name}: {texts}"
                );
            }
        }
    }
    // The pixels: each chart's screenshot has ink, not a blank box.
    for figure in browser
        .client
        .find_all(Locator::Css("figure.chart"))
        .await
        .unwrap()
    {
        let png = figure.screenshot().await.unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let pixels = &buf[..info.buffer_size()];
        let dark = pixels
            .chunks(info.color_type.samples())
            .filter(|p| p[..3].iter().all(|v| *v < 200))
            .count();
        assert!(dark > 200, "a chart with ink: {dark} dark pixels");
    }
}

#[tokio::test]
async fn the_weekly_report_file_shows_its_charts_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path(), &options(2_000, 11)).await;
    let store = reopen(dir.path());
    let report = analysis()
        .report(
            &store,
            Period::containing(PeriodKind::Weekly, date(2026, 6, 24)),
        )
        .unwrap();
    store.close().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, render::html(&report).unwrap()).unwrap();

    let browser = Browser::start_sized(1024, 900).await;
    browser
        .client
        .goto(&format!("file://{}", file.display()))
        .await
        .unwrap();
    assert_charts_drawn(&browser, 6).await;
    let ranking = browser
        .js("return document.querySelectorAll('#unit-ranking tr').length")
        .await;
    assert!(ranking.as_u64().unwrap() > 2);
    browser.screenshot("report").await;
    browser.close().await;
}

#[tokio::test]
async fn the_dashboard_shows_live_figures_and_alerts_after_sign_in() {
    // Seeded up to today: the server's detector reads the last four weeks when it starts.
    let data = tempfile::tempdir().unwrap();
    let today = hotline::clock::today();
    let yesterday = today.yesterday().unwrap();
    seeded(
        data.path(),
        &SeedOptions {
            until: today,
            ..options(2_000, 5)
        },
    )
    .await;
    let store = reopen(data.path());
    let admin = token(&store, Role::Admin).await;
    hand_over(store);
    let app = spawn_app_in(data, test_settings()).await;
    let alerts = until_clusters(&app, &admin).await;
    assert_eq!(
        alerts.as_array().map(Vec::len),
        Some(2),
        "the two planted surges: {alerts}"
    );
    let anonymous = app
        .client
        .get(format!("{}/api/admin/dashboard", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let bad = app
        .client
        .get(format!("{}/api/admin/dashboard?period=yearly", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let browser = Browser::start_sized(1280, 1000).await;
    browser
        .client
        .goto(&format!("{}/dashboard?date={yesterday}", app.base))
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(&admin)
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("#login-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_charts_drawn(&browser, 6).await;
    let title = browser
        .js("return document.getElementById('period-title').innerText")
        .await;
    assert!(title.as_str().unwrap().contains("周报"), "{title}");
    let alerts = browser
        .wait_until(
            "the alerts",
            "const n = document.querySelectorAll('#alerts tbody tr').length; return n > 0 && n",
        )
        .await;
    assert_eq!(alerts, 2, "the two planted surges");
    browser.screenshot("dashboard").await;
    browser.close().await;
    app.stop().await;
}

const OPERATORS_SECRET: &str = "operators-webhook-secret";

/// A water-outage report from 桃源街道 through Open311, as a city app would post it.
async fn outage_report(client: &reqwest::Client, base: &str, key: &str, k: usize) -> u64 {
    let phone = format!("1390000{k:04}");
    let form = [
        ("api_key", key),
        ("service_code", "water-outage"),
        ("description", "小区从早上开始停水了，一直没来水"),
        ("address_string", "南山区桃源街道龙珠路18号"),
        ("attribute[district]", "南山区"),
        ("phone", phone.as_str()),
    ];
    let response = client
        .post(format!("{base}/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let created: Value = response.json().await.unwrap();
    created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn hotspots(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let (_, list) = call(client, format!("{base}/api/operator/hotspots"), token, None).await;
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn tickets_posted_after_the_server_started_raise_an_alert_sent_to_the_operators_signed() {
    use crate::receiver::{Receiver, config_dir, start_with};
    let receiver = Receiver::start(OPERATORS_SECRET, None).await;
    let config = config_dir(&[(
        "webhooks.toml",
        format!("[operators]\nurl = \"{}\"\n", receiver.url()),
    )]);
    let data = tempfile::tempdir().unwrap();
    let key = crate::helpers::create_token(data.path(), Role::Integrator("open311".into())).await;
    let operator = crate::helpers::create_token(data.path(), Role::Operator).await;
    let server = start_with(
        data.path(),
        config.path(),
        &[
            ("HOTLINE_WEBHOOK_SECRET_OPERATORS", OPERATORS_SECRET),
            ("HOTLINE__HOTSPOTS__POLL_SECONDS", "1"),
        ],
    );
    let (client, base) = (reqwest::Client::new(), server.base.clone());

    // The server is up and polling: four reports are no surge yet.
    let mut numbers = Vec::new();
    for k in 0..4 {
        numbers.push(outage_report(&client, &base, &key, k).await);
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(hotspots(&client, &base, &operator).await.is_empty());
    assert!(receiver.accepted().is_empty());

    // The fifth within the hour is: the next poll raises one alert. The operators' system is
    // briefly unavailable; the alert is retried with backoff until it is acknowledged.
    receiver
        .state
        .fail_next
        .store(1, std::sync::atomic::Ordering::SeqCst);
    numbers.push(outage_report(&client, &base, &key, 4).await);
    let arrivals = receiver.wait_for(1, 40).await;
    let alert = &arrivals[0];
    assert_eq!(alert.event, "hotspot.alert");
    let body = alert.json();
    assert_eq!(body["event"], "hotspot.alert");
    assert_eq!(body["cluster"]["matter"], "停水");
    assert_eq!(body["cluster"]["street"], "桃源街道");
    let linked: Vec<u64> = body["cluster"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(linked, numbers);
    assert!(
        !String::from_utf8_lossy(&alert.body).contains("1390000"),
        "no citizen's phone in an alert"
    );
    let id = body["cluster"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["href"], format!("/api/operator/clusters/{id}"));

    // The admin page's list has it too; a sixth report joins the cluster, with no second alert.
    numbers.push(outage_report(&client, &base, &key, 5).await);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = hotspots(&client, &base, &operator).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["id"], id.as_str());
        if list[0]["tickets"].as_array().unwrap().len() == 6 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{list:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(receiver.accepted().len(), 1, "one alert per surge");
    assert!(receiver.refused().is_empty(), "{:?}", receiver.refused());
    assert_eq!(
        receiver
            .state
            .hits
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    let (_, log) = call(
        &client,
        format!("{base}/api/operator/webhooks?target=operators"),
        &operator,
        None,
    )
    .await;
    let deliveries = log["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{log}");
    assert_eq!(deliveries[0]["event"], "hotspot.alert");
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(deliveries[0]["failed_attempts"], 1, "{log}");
    drop(server);
    receiver.stop().await;
}

/// The rates over HTTP read only the period's digests and records; they must be what the rates
/// module computes from every whole ticket and record in the store.
#[tokio::test]
async fn the_rates_over_http_equal_the_rates_computed_from_whole_tickets() {
    let data = tempfile::tempdir().unwrap();
    let today = hotline::clock::today();
    seeded(
        data.path(),
        &SeedOptions {
            until: today,
            ..options(3_000, 9)
        },
    )
    .await;
    let store = reopen(data.path());
    let admin = token(&store, Role::Admin).await;
    hand_over(store);
    let app = spawn_app_in(data, test_settings()).await;
    // A consultation the knowledge base answers today: an intake record for 直接答复率.
    let session = app.new_session().await;
    app.say(&session, "公积金租房提取要什么材料").await;

    let periods = [
        (today.saturating_sub(jiff::Span::new().days(30)), today),
        (
            today.saturating_sub(jiff::Span::new().days(20)),
            today.saturating_sub(jiff::Span::new().days(13)),
        ),
        (today, today),
    ];
    let mut served = Vec::new();
    for (from, to) in periods {
        for by in ["unit", "district", "category"] {
            let url = format!(
                "{}/api/admin/reports/rates?from={from}&to={to}&by={by}",
                app.base
            );
            let (status, body) = call(&app.client, url, &admin, None).await;
            assert_eq!(status, 200, "{body}");
            served.push((from, to, by, body));
        }
    }
    let data = app.stop().await;

    let store = reopen(data.path());
    let settings = test_settings();
    let mut compared = 0;
    for (from, to, by, body) in served {
        let expected = hotline::rates::from_store(
            &store,
            &store,
            hotline::rates::Period { from, to },
            hotline::rates::GroupBy::parse(by).unwrap(),
            &settings.rates,
            Timestamp::now(),
        )
        .unwrap();
        // Through the same text and parser as the served body (serde_json's float parsing can
        // differ from the value in the last place).
        let expected_json: Value =
            serde_json::from_str(&serde_json::to_string(&expected).unwrap()).unwrap();
        assert_eq!(body, expected_json, "{from}..{to} by {by}");
        if from < to {
            assert!(
                expected.total.counts.received > 100,
                "{from}..{to}: {expected:?}"
            );
            assert!(expected.total.counts.evaluated > 0);
        }
        compared += 1;
    }
    assert_eq!(compared, 9);
    let month = hotline::rates::from_store(
        &store,
        &store,
        hotline::rates::Period {
            from: today.saturating_sub(jiff::Span::new().days(30)),
            to: today,
        },
        hotline::rates::GroupBy::Unit,
        &settings.rates,
        Timestamp::now(),
    )
    .unwrap();
    assert!(month.kb_answered >= 1, "the answered consultation counts");
    store.close().unwrap();
}

/// What the analysis must read of one ticket, field by field.
#[derive(Debug, PartialEq)]
struct Seen {
    number: TicketNumber,
    created_at: Timestamp,
    channel: Channel,
    category: Category,
    status: TicketStatus,
    district: Option<String>,
    street: Option<String>,
    matter: String,
    consultation: Option<String>,
    citizen: Option<u64>,
    lead: Option<String>,
    deadline: Option<Timestamp>,
    signed_at: Option<Timestamp>,
    replied_at: Option<Timestamp>,
    closed_at: Option<Timestamp>,
    surveyed: bool,
}

/// The reference: [`Seen`] worked out here from the whole ticket (its details, handling and
/// trail), independently of the digest the store derives and keeps.
fn seen_in_ticket(t: &Ticket, topics: &Topics) -> Seen {
    // The latest entry into a status counts (a re-handled ticket is replied to again).
    let last_into = |status: TicketStatus| {
        t.events
            .iter()
            .rev()
            .find(|e| e.to == status && e.from != Some(status))
            .map(|e| e.at)
    };
    let d = &t.details;
    Seen {
        number: t.number,
        created_at: d.created_at,
        channel: d.channel,
        category: d.category,
        status: t.status,
        district: d.district.clone(),
        street: d
            .address
            .as_deref()
            .and_then(|a| hotline::domain::street_of(a, d.district.as_deref())),
        matter: topics.matter_of(&d.content).to_string(),
        consultation: (d.category == Category::Consultation).then(|| d.content.clone()),
        citizen: d
            .phone
            .as_deref()
            .map(hotline::domain::digest::citizen_hash),
        lead: t.handling.lead.as_ref().map(|u| u.as_str().to_string()),
        deadline: t.handling.deadline,
        signed_at: last_into(TicketStatus::Signed),
        replied_at: last_into(TicketStatus::Replied),
        closed_at: last_into(TicketStatus::Closed),
        surveyed: t.events.iter().any(|e| e.to == TicketStatus::Surveyed),
    }
}

/// [`Seen`] as the analysis reads it from the facts of a stored digest.
fn seen_in_facts(f: &TicketFacts) -> Seen {
    let d = &f.digest;
    Seen {
        number: d.number,
        created_at: d.created_at,
        channel: d.channel,
        category: d.category,
        status: d.status,
        district: d.district.clone(),
        street: d.street.clone(),
        matter: f.matter.clone(),
        consultation: f.consultation().map(str::to_string),
        citizen: d.citizen,
        lead: d.lead.clone(),
        deadline: d.deadline,
        signed_at: d.signed_at,
        replied_at: d.replied_at,
        closed_at: d.closed_at,
        surveyed: d.surveyed,
    }
}

/// Every stored ticket's digest says what the ticket says: the facts the analysis reads from the
/// digests equal those worked out from the whole stored tickets.
#[tokio::test]
async fn the_digests_the_store_keeps_equal_what_the_whole_tickets_say() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path(), &options(2_000, 13)).await;
    let store = reopen(dir.path());
    let topics = &analysis().topics;
    let mut from_digests = Vec::new();
    let from = midnight(UNTIL.saturating_sub(jiff::Span::new().days(40)));
    hotline::governance::scan(&store, topics, from, midnight(UNTIL), |f| {
        from_digests.push(seen_in_facts(&f))
    })
    .unwrap();
    let mut whole = Vec::new();
    store
        .scan(&mut |t| {
            whole.push(seen_in_ticket(t, topics));
            false
        })
        .unwrap();
    assert_eq!(whole.len(), 2_000);
    assert_eq!(from_digests, whole);
    // The seeded history reaches every field the comparison reads.
    assert!(
        whole
            .iter()
            .any(|s| s.street.is_some() && s.citizen.is_some())
    );
    assert!(whole.iter().any(|s| s.consultation.is_some()));
    assert!(
        whole
            .iter()
            .any(|s| s.signed_at.is_some() && s.replied_at.is_some())
    );
    assert!(whole.iter().any(|s| s.closed_at.is_some() && s.surveyed));
    for raw in store.digests_from(TicketNumber::from_sequence(0)) {
        let raw = raw.unwrap();
        let ticket = store.get(raw.number).unwrap().unwrap();
        assert_eq!(
            raw.decode().unwrap(),
            hotline::domain::TicketDigest::of(&ticket)
        );
    }
    store.close().unwrap();
}

/// The monthly report of a seeded store, pinned byte for byte: a change to how the analysis
/// reads tickets must not change what the report says. `HOTLINE_BLESS=1` writes the files
/// anew, for a change that means to change the report (then read the diff).
#[tokio::test]
async fn the_monthly_report_of_a_seeded_store_is_the_pinned_one_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path(), &options(3_000, 42)).await;
    let store = reopen(dir.path());
    let period = Period::containing(PeriodKind::Monthly, date(2026, 6, 15));
    let report = analysis().report(&store, period).unwrap();
    store.close().unwrap();
    let pinned = repo().join("tests/api/pinned");
    let outputs = [
        ("report-2026-06.md", render::markdown(&report).unwrap()),
        ("report-2026-06.csv", render::csv(&report).unwrap()),
        ("report-2026-06.html", render::html(&report).unwrap()),
    ];
    for (name, made) in outputs {
        let path = pinned.join(name);
        if std::env::var_os("HOTLINE_BLESS").is_some() {
            std::fs::create_dir_all(&pinned).unwrap();
            std::fs::write(&path, &made).unwrap();
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (HOTLINE_BLESS=1 writes it)", path.display()));
        assert!(made == expected, "{name} differs from {}", path.display());
    }
}
