//! The handling units' console (`/console`) in real headless Chromium (the harness of
//! `browser.rs`) against the real server: a clerk logs in with a unit token, signs, answers and
//! closes a citizen's ticket, and the citizen's chat shows the answer; a wrong token is refused;
//! an objection reaches an operator, who re-dispatches from the same page. (Its headers are
//! checked in `web.rs`.)

use fantoccini::Locator;
use fantoccini::key::Key;
use hotline::auth::Role;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{create_token, spawn_app, spawn_app_in, test_settings};

const NOISE: &str = "南山区海景路3号楼下烧烤店噪音扰民，电话13812345678";

/// The console's page width against the viewport's: both should be 360 on a phone.
const WIDTHS: &str = "return [document.documentElement.scrollWidth, window.innerWidth]";

/// Opens the console, pastes `token` and presses Enter.
async fn log_in(browser: &Browser, base: &str, token: &str) {
    browser
        .client
        .goto(&format!("{base}/console"))
        .await
        .unwrap();
    browser
        .wait_until(
            "the login form",
            "return !document.getElementById('login').hidden",
        )
        .await;
    let field = browser.client.find(Locator::Id("token")).await.unwrap();
    field
        .send_keys(&format!("{token}{}", Key::Enter))
        .await
        .unwrap();
}

async fn click(browser: &Browser, css: &str) {
    let element = browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"));
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Takes `action` on the open ticket (typing `text` into its form when it has one) and waits
/// until the ticket shows `status`.
async fn act(browser: &Browser, action: &str, text: Option<&str>, status: &str) {
    let form = format!("form[data-action='{action}']");
    if let Some(text) = text {
        click(
            browser,
            &format!("button.action-toggle[data-action='{action}']"),
        )
        .await;
        let field = browser
            .client
            .find(Locator::Css(&format!("{form} textarea")))
            .await
            .unwrap();
        field.send_keys(text).await.unwrap();
    }
    click(browser, &format!("{form} button[type='submit']")).await;
    browser
        .wait_until(
            &format!("{action}: the ticket {status}"),
            &format!(
                "const b = document.querySelector('#detail .badges .badge-status');
                 return b && b.innerText === '{status}' && !document.querySelector('#detail .error:not([hidden])')"
            ),
        )
        .await;
}

#[tokio::test]
async fn a_clerk_signs_answers_and_closes_a_ticket_in_the_console_and_the_citizen_sees_the_answer()
{
    let data = tempfile::tempdir().unwrap();
    let token = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let app = spawn_app_in(data, test_settings()).await;
    let (session, number) = app.open_ticket(NOISE).await;
    let browser = Browser::start().await;

    log_in(&browser, &app.base, &token).await;
    let item = format!(".ticket-item[data-number='{number}']");
    let listed = browser
        .wait_until(
            "the ticket in the list",
            &format!("const i = document.querySelector(\"{item}\"); return i && i.innerText"),
        )
        .await;
    let listed = listed.as_str().unwrap_or_default();
    for shown in [
        "投诉",
        "已派遣",
        "南山区",
        "海景路3号",
        "烧烤店噪音扰民",
        "办理时限",
    ] {
        assert!(listed.contains(shown), "the list shows {shown}: {listed}");
    }
    assert_eq!(
        browser.js(WIDTHS).await,
        json!([360, 360]),
        "the list fits a 360 px phone"
    );
    browser.screenshot("console-list").await;

    // Opened from the keyboard: the list's entries are buttons.
    let entry = browser.client.find(Locator::Css(&item)).await.unwrap();
    entry.send_keys(&Key::Enter.to_string()).await.unwrap();
    let detail = browser
        .wait_until("the ticket's detail", "const d = document.getElementById('detail'); return d.innerText.includes('办理记录') && d.innerText")
        .await;
    let detail = detail.as_str().unwrap_or_default();
    assert!(
        detail.contains("138****5678"),
        "masked before signing: {detail}"
    );
    assert!(detail.contains(&format!("工单 {number}")), "{detail}");
    let focused = browser.js("return document.activeElement.id").await;
    assert_eq!(
        focused, "detail-title",
        "the detail's heading takes the focus"
    );

    act(&browser, "sign", None, "已签收").await;
    let phone = browser
        .js("return document.getElementById('detail').innerText.includes('13812345678')")
        .await;
    assert_eq!(
        phone, true,
        "the lead sees the full number once it has signed"
    );
    // An extension ending before the current deadline: the server's 409, shown in Chinese.
    click(&browser, "button.action-toggle[data-action='extension']").await;
    browser
        .js(
            "const f = document.querySelector(\"form[data-action='extension']\");
             f.elements.reason.value = '需协调市场监管部门联合执法';
             f.elements.until.value = new Date(Date.now() + 864e5).toISOString().slice(0, 16);
             f.querySelector('button[type=submit]').click()",
        )
        .await;
    let refused = browser
        .wait_until(
            "the refusal",
            "const e = document.querySelector(\"form[data-action='extension'] .error\");
             return e && !e.hidden && e.innerText",
        )
        .await;
    let refused = refused.as_str().unwrap_or_default();
    assert!(
        refused.starts_with("申请延期未成功：此操作不符合办理规则"),
        "{refused}"
    );
    assert!(
        refused.contains("after the current deadline"),
        "the server's words: {refused}"
    );

    let answer = "已约谈店主，晚上10点后停止营业，我们将持续巡查。";
    act(&browser, "reply", Some(answer), "已答复").await;
    act(
        &browser,
        "close",
        Some("已现场核实，噪音问题已解决。"),
        "已办结",
    )
    .await;
    let timeline = browser
        .js("return document.querySelectorAll('#detail .timeline li').length")
        .await;
    assert!(
        timeline.as_u64().is_some_and(|n| n >= 4),
        "受理, 派遣, 签收, 答复, 办结: {timeline}"
    );
    assert_eq!(
        browser.js(WIDTHS).await,
        json!([360, 360]),
        "the detail fits a 360 px phone"
    );
    browser.screenshot("console-detail").await;

    let history = app.history(&session).await;
    assert!(
        history.to_string().contains(answer),
        "the answer is in the transcript: {history}"
    );

    // The citizen's chat page, in the same browser, shows the answer and redraws the card.
    browser
        .js(&format!(
            "localStorage.setItem('hotline.session', '{session}')"
        ))
        .await;
    browser
        .client
        .goto(&format!("{}/", app.base))
        .await
        .unwrap();
    let card = browser
        .wait_until(
            "the answer and the ticket's card on the chat page",
            &format!(
                "const log = document.getElementById('log').innerText;
                 const n = document.querySelector('#log .ticket-number');
                 return log.includes('{answer}') && n && [n.innerText,
                     document.querySelector('#log .ticket-status').innerText]"
            ),
        )
        .await;
    assert_eq!(
        card,
        json!([number, "已办结"]),
        "the card shows the ticket as it is now"
    );
    browser.screenshot("console-citizen").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_in_plain_chinese_and_not_kept() {
    let app = spawn_app().await;
    let browser = Browser::start().await;

    log_in(&browser, &app.base, "not-a-real-token").await;
    let error = browser
        .wait_until(
            "the login error",
            "const e = document.getElementById('login-error'); return !e.hidden && e.innerText",
        )
        .await;
    let error = error.as_str().unwrap_or_default();
    assert!(
        error.contains("登录失败") && error.contains("令牌无效"),
        "{error}"
    );
    let state = browser
        .js("const t = document.getElementById('token');
             return [sessionStorage.length, document.getElementById('workspace').hidden,
                     t.getAttribute('aria-invalid'), document.activeElement.id,
                     [...t.labels].map(l => l.innerText).join(''), location.search]")
        .await;
    assert_eq!(state, json!([0, true, "true", "token", "访问令牌", ""]));
    assert_eq!(
        browser.js(WIDTHS).await,
        json!([360, 360]),
        "the login fits a 360 px phone"
    );
    browser.screenshot("console-login-error").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_objection_made_in_the_console_reaches_the_operator_who_re_dispatches_it() {
    let data = tempfile::tempdir().unwrap();
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let operator = create_token(data.path(), Role::Operator).await;
    let app = spawn_app_in(data, test_settings()).await;
    let (_, number) = app
        .open_ticket("南山区海景路烧烤油烟太大熏得开不了窗，电话13812345678")
        .await;
    // A desktop: the list and the ticket side by side.
    let browser = Browser::start_sized(1280, 860).await;

    log_in(&browser, &app.base, &unit).await;
    let item = format!(".ticket-item[data-number='{number}']");
    browser
        .wait_until(
            "the ticket in the list",
            &format!("return document.querySelector(\"{item}\")"),
        )
        .await;
    click(&browser, &item).await;
    browser
        .wait_until(
            "the detail",
            "return document.getElementById('detail-title')",
        )
        .await;
    act(
        &browser,
        "objection",
        Some("油烟属于市场监管部门管辖"),
        "已退回",
    )
    .await;
    let side_by_side = browser
        .js(
            "const l = document.getElementById('list-pane').getBoundingClientRect();
             const d = document.getElementById('detail-pane').getBoundingClientRect();
             return l.width > 0 && d.left >= l.right",
        )
        .await;
    assert_eq!(
        side_by_side, true,
        "on a desktop the list stays beside the ticket"
    );
    browser.screenshot("console-desktop").await;

    click(&browser, "#logout").await;
    let cleared = browser
        .wait_until(
            "the login form again",
            "return !document.getElementById('login').hidden && [sessionStorage.length]",
        )
        .await;
    assert_eq!(cleared, json!([0]), "退出 clears the token");

    log_in(&browser, &app.base, &operator).await;
    browser
        .wait_until(
            "the operator queue",
            &format!("return document.querySelector(\"{item}\")"),
        )
        .await;
    let role = browser
        .js("return document.getElementById('role').innerText")
        .await;
    assert!(
        role.as_str().is_some_and(|r| r.contains("话务员")),
        "{role}"
    );
    click(&browser, &item).await;
    browser
        .wait_until(
            "the detail",
            "return document.getElementById('detail-title')",
        )
        .await;
    click(&browser, "button.action-toggle[data-action='dispatch']").await;
    let lead = browser
        .client
        .find(Locator::Css(
            "form[data-action='dispatch'] input[name='lead']",
        ))
        .await
        .unwrap();
    lead.send_keys("nanshan-market").await.unwrap();
    click(
        &browser,
        "form[data-action='dispatch'] button[type='submit']",
    )
    .await;
    let lead_shown = browser
        .wait_until(
            "the re-dispatched ticket",
            "const b = document.querySelector('#detail .badges .badge-status');
             return b && b.innerText === '已派遣' && document.getElementById('detail').innerText",
        )
        .await;
    assert!(
        lead_shown
            .as_str()
            .unwrap_or_default()
            .contains("市场监督管理"),
        "{lead_shown}"
    );
    browser.close().await;

    let ticket: Value = app
        .client
        .get(format!("{}/api/operator/tickets/{number}", app.base))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ticket["lead"], "nanshan-market");
    app.stop().await;
}
