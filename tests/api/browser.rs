//! The chat page and the widget in a real browser: Debian's Chromium, driven through chromedriver
//! (WebDriver), at a phone's 360 px width, against the real server.
//!
//! chromium and chromedriver must be installed (`.ci/run` installs the Debian packages chromium
//! and chromium-driver); without them these tests fail and say so. `HOTLINE_CHROMIUM` and
//! `HOTLINE_CHROMEDRIVER` name other binaries; `HOTLINE_SCREENSHOTS=DIR` saves a PNG of the page
//! from some tests, to look at.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hotline::auth::Role;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{create_token, spawn_app, spawn_app_in, test_settings};

/// Longest wait for anything the page should show.
const WAIT: Duration = Duration::from_secs(20);

/// The page's own state, read by the tests.
const HOTLINE_MESSAGES: &str =
    "return document.querySelectorAll('#log .msg-hotline:not([aria-hidden])').length";
const CITIZEN_MESSAGES: &str =
    "return document.querySelectorAll('#log .msg-citizen:not(.msg-pending)').length";
const IDLE: &str = "return document.getElementById('composer').getAttribute('aria-busy') !== 'true' \
    && !document.querySelector('.msg-pending')";
const LOG_TEXT: &str = "return document.getElementById('log').innerText";
const BUBBLES: &str =
    "return [...document.querySelectorAll('#log .msg .bubble')].map(b => b.innerText)";

#[tokio::test]
async fn a_question_typed_on_the_page_is_answered_from_the_knowledge_base() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;

    browser.say("身份证丢了怎么补办").await;

    let log = browser.js(LOG_TEXT).await;
    let log = log.as_str().unwrap_or_default();
    assert!(log.contains("身份证丢了怎么补办？"), "{log}");
    assert!(log.contains("工本费40元"), "{log}");
    let input = browser
        .js("return document.getElementById('input').value")
        .await;
    assert_eq!(input, "", "the sent text should leave the input");
    browser.assert_no_error_shown().await;
    browser.screenshot("answer").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_problem_described_on_the_page_shows_its_ticket_number() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;

    browser
        .say("西城区和平路18号门口的路灯坏了一个星期了，晚上很黑，请安排人来修")
        .await;
    let number = browser.answer_until_a_ticket_shows().await;

    assert!(
        number.len() >= 6 && number.chars().all(|c| c.is_ascii_digit()),
        "{number}"
    );
    let card = browser
        .js("const card = document.querySelector('#log .ticket');
             return [card.innerText, card.querySelector('.ticket-status').innerText]")
        .await;
    let (text, status) = (card[0].as_str().unwrap_or_default(), &card[1]);
    assert!(text.contains(&format!("工单号 {number}")), "{text}");
    assert!(
        status.as_str().is_some_and(|s| !s.is_empty()),
        "the card shows the ticket's status: {text}"
    );
    browser.screenshot("ticket").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn reloading_the_page_shows_the_same_conversation() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    browser.say("身份证丢了怎么补办").await;
    let before = browser.js(BUBBLES).await;
    let session = browser.session_id().await;

    browser.client.refresh().await.unwrap();
    let count = before.as_array().map_or(0, Vec::len);
    browser
        .wait_until(
            "the history after reloading",
            &format!(
                "return document.querySelectorAll('#log .msg .bubble').length >= {count} \
                 && document.getElementById('composer').getAttribute('aria-busy') !== 'true'"
            ),
        )
        .await;

    assert_eq!(browser.js(BUBBLES).await, before);
    assert_eq!(browser.session_id().await, session);
    browser.assert_no_error_shown().await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_kept_session_the_server_no_longer_knows_is_quietly_replaced() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    let gone = "0190f0f0-0000-7000-8000-000000000000";
    browser
        .js(&format!(
            "localStorage.setItem('hotline.session', '{gone}')"
        ))
        .await;

    browser.client.refresh().await.unwrap();
    browser
        .wait_until(
            "a new conversation",
            &format!(
                "const id = localStorage.getItem('hotline.session');
                 return id && id !== '{gone}'
                     && document.querySelectorAll('#log .msg-hotline').length === 1"
            ),
        )
        .await;
    browser.assert_no_error_shown().await;
    browser.say("身份证丢了怎么补办").await;
    let history = app.history(&browser.session_id().await).await;
    assert!(history["messages"].as_array().is_some_and(|m| m.len() >= 3));
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn clicking_a_reply_button_sends_it_and_a_new_reply_appears() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    browser.say("身份证丢了怎么补办").await;
    let hotline_before = browser.count(HOTLINE_MESSAGES).await;
    let citizen_before = browser.count(CITIZEN_MESSAGES).await;

    let helpful = browser
        .client
        .find(Locator::XPath(
            "//div[@id='log']//button[@class='choice' and normalize-space()='有帮助']",
        ))
        .await
        .unwrap_or_else(|e| panic!("no 有帮助 button under the answer: {e}"));
    helpful.click().await.unwrap();

    browser
        .wait_until(
            "the button's text sent as the citizen's message, and a reply",
            &format!(
                "const mine = [...document.querySelectorAll('#log .msg-citizen:not(.msg-pending)')];
                 const replies = document.querySelectorAll('#log .msg-hotline:not([aria-hidden])');
                 return mine.length > {citizen_before}
                     && mine[mine.length - 1].innerText.includes('有帮助')
                     && replies.length > {hotline_before}"
            ),
        )
        .await;
    let last = browser
        .js("const m = document.querySelectorAll('#log .msg'); return m[m.length - 1].className")
        .await;
    assert!(
        last.as_str().unwrap_or_default().contains("msg-hotline"),
        "the reply should come last: {last}"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_unit_s_answer_appears_on_the_open_page_without_reloading() {
    let data = tempfile::tempdir().unwrap();
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let app = spawn_app_in(data, test_settings()).await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    browser
        .say("南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678")
        .await;
    let number = browser.answer_until_a_ticket_shows().await;

    let answer = "已约谈店主，晚上10点后停止营业，我们将持续巡查。";
    let ticket = format!("{}/api/units/tickets/{number}", app.base);
    for (step, body) in [("sign", json!({})), ("reply", json!({ "text": answer }))] {
        let response = app
            .client
            .post(format!("{ticket}/{step}"))
            .bearer_auth(&unit)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{step}: {}",
            response.text().await.unwrap()
        );
    }

    browser
        .wait_until(
            "the unit's answer, live",
            &format!(
                "const m = document.querySelectorAll('#log .msg-hotline');
                 return m[m.length - 1].innerText.includes('{answer}')"
            ),
        )
        .await;
    let shown = browser
        .js(&format!(
            "return [...document.querySelectorAll('#log .msg-hotline')]
                 .filter(m => m.innerText.includes('{answer}')).length"
        ))
        .await;
    assert_eq!(shown, 1, "shown once");
    browser.assert_no_error_shown().await;
    browser.screenshot("live").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_page_fits_a_360_px_phone_and_its_controls_are_labelled() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    // A long answer with lists: the widest thing the page shows.
    browser.say("身份证丢了怎么补办").await;

    let width = browser
        .js("return [document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    assert_eq!(
        width[1], 360,
        "the viewport should be a 360 px phone's: {width}"
    );
    assert!(width[0].as_u64().is_some_and(|w| w <= 360), "{width}");
    let label = browser
        .js("const input = document.getElementById('input');
             return [...input.labels].map(l => l.textContent.trim()).join('')
                 || input.getAttribute('aria-label') || ''")
        .await;
    assert!(
        label.as_str().is_some_and(|l| l.chars().count() >= 4),
        "the input needs an accessible label: {label}"
    );
    let structure = browser
        .js("const log = document.getElementById('log');
             const controls = [...document.querySelectorAll('#send, #new-chat, .choice')];
             return [document.documentElement.lang, log.getAttribute('role'),
                     log.getAttribute('aria-live'),
                     controls.length > 2 && controls.every(c => c.tagName === 'BUTTON')]")
        .await;
    assert_eq!(structure, json!(["zh-CN", "log", "polite", true]));

    // Tab from the input reaches the send button, which shows where the focus is.
    browser
        .client
        .find(Locator::Id("input"))
        .await
        .unwrap()
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    let focused = browser
        .js("const b = document.activeElement;
             return [b.id, getComputedStyle(b).outlineStyle, getComputedStyle(b).outlineWidth]")
        .await;
    assert_eq!(focused[0], "send", "{focused}");
    assert_ne!(
        focused[1], "none",
        "the focused button needs a visible outline: {focused}"
    );
    browser.screenshot("phone").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn shift_enter_adds_a_line_and_enter_sends_both_lines() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    let input = browser.client.find(Locator::Id("input")).await.unwrap();

    let keys = format!(
        "你好{}{}{}身份证丢了怎么补办",
        Key::Shift,
        Key::Enter,
        Key::Null
    );
    input.send_keys(&keys).await.unwrap();
    let value = browser
        .js("return document.getElementById('input').value")
        .await;
    assert_eq!(value, "你好\n身份证丢了怎么补办");
    assert_eq!(browser.count(CITIZEN_MESSAGES).await, 0, "nothing sent yet");

    input.send_keys(&Key::Enter.to_string()).await.unwrap();
    browser
        .wait_until(
            "the two-line message in the conversation",
            "const mine = document.querySelector('#log .msg-citizen:not(.msg-pending) .bubble');
             return mine && mine.innerText.includes('你好\\n身份证丢了怎么补办')",
        )
        .await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_message_the_server_refuses_is_explained_and_stays_in_the_input() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    let too_long = "路".repeat(2001);
    browser
        .js(&format!(
            "const input = document.getElementById('input'); input.value = '{too_long}';
             input.dispatchEvent(new Event('input'))"
        ))
        .await;

    browser
        .client
        .find(Locator::Id("send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = browser
        .wait_until(
            "an error notice",
            "const n = document.querySelector('#log .notice-error'); return n && n.innerText",
        )
        .await;
    assert!(
        notice.as_str().is_some_and(|n| n.contains("太长")),
        "{notice}"
    );
    browser.wait_until("the page to be idle", IDLE).await;
    let kept = browser
        .js("return document.getElementById('input').value")
        .await;
    assert_eq!(
        kept.as_str(),
        Some(too_long.as_str()),
        "the typed text is kept"
    );
    assert_eq!(browser.count(CITIZEN_MESSAGES).await, 0);
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_new_chat_button_starts_a_fresh_conversation() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_chat(&app.base).await;
    browser.say("身份证丢了怎么补办").await;
    let first = browser.session_id().await;

    browser
        .client
        .find(Locator::Id("new-chat"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_until(
            "a conversation with only the welcome",
            &format!(
                "return localStorage.getItem('hotline.session') !== '{first}'
                     && document.querySelectorAll('#log .msg').length === 1"
            ),
        )
        .await;
    let history = app.history(&browser.session_id().await).await;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(1));
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_widget_on_an_allowed_site_opens_the_chat_in_a_frame() {
    // The site (http://localhost:PORT) is another origin than the gateway (http://127.0.0.1:…).
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_origin = format!("http://localhost:{}", site.local_addr().unwrap().port());
    let mut settings = test_settings();
    settings.web.allowed_origins = vec![site_origin.clone()];
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>示例市人民政府</title>\
         <script src=\"{}/widget.js\" defer></script></head><body><h1>示例市人民政府</h1></body></html>",
        app.base
    );
    let page = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    let site_server = tokio::spawn(async move { axum::serve(site, page).await });

    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{site_origin}/"))
        .await
        .unwrap();
    browser
        .wait_until(
            "the widget's button",
            "const host = document.querySelector('[data-hotline-12345]');
             return host && host.shadowRoot.querySelector('.launcher') !== null",
        )
        .await;
    let widget = browser
        .client
        .find(Locator::Css("[data-hotline-12345]"))
        .await
        .unwrap()
        .shadow_root()
        .await
        .unwrap();
    let launcher = widget.find(Locator::Css(".launcher")).await.unwrap();
    assert_eq!(launcher.text().await.unwrap().trim(), "12345在线");
    launcher.click().await.unwrap();
    assert_eq!(
        launcher.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );

    widget
        .find(Locator::Css("iframe"))
        .await
        .unwrap()
        .enter_frame()
        .await
        .unwrap();
    browser
        .wait_until(
            "the chat inside the frame",
            "return document.documentElement.classList.contains('embed')
                 && document.querySelectorAll('#log .msg-hotline').length > 0",
        )
        .await;
    browser.say("身份证丢了怎么补办").await;
    let log = browser.js(LOG_TEXT).await;
    assert!(
        log.as_str().unwrap_or_default().contains("工本费40元"),
        "{log}"
    );
    browser.screenshot("widget").await;

    browser
        .client
        .find(Locator::Id("close"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.client.enter_parent_frame().await.unwrap();
    browser
        .wait_until(
            "the panel to close",
            "const root = document.querySelector('[data-hotline-12345]').shadowRoot;
             return root.querySelector('.panel').hidden
                 && root.querySelector('.launcher').getAttribute('aria-expanded') === 'false'",
        )
        .await;
    browser.close().await;
    site_server.abort();
    app.stop().await;
}

/// Headless Chromium at 360 × 740 with a fresh profile, under its own chromedriver.
pub(crate) struct Browser {
    pub(crate) client: Client,
    /// Ended when the browser is dropped, after `Drop for Browser` has ended the session.
    _driver: Driver,
    driver_url: String,
    session: Option<String>,
    _profile: TempDir,
}

impl Browser {
    pub(crate) async fn start() -> Browser {
        Browser::start_sized(360, 740).await
    }

    /// A viewport of `width` × `height` CSS pixels (a phone's below 600 px wide, else a desktop's).
    pub(crate) async fn start_sized(width: u32, height: u32) -> Browser {
        let chromium = program("HOTLINE_CHROMIUM", "chromium");
        let chromedriver = program("HOTLINE_CHROMEDRIVER", "chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut driver = Driver(
            Command::new(&chromedriver)
                .arg("--port=0")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromedriver.display())),
        );
        let port = driver_port(&mut driver.0).await;
        let driver_url = format!("http://127.0.0.1:{port}");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                // Chromium keeps desktop windows at least 500 px wide; a phone's viewport is
                // emulated (and `width=device-width` honoured) so the page really gets 360 px.
                "mobileEmulation": {
                    "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "mobile": width < 600, "touch": false },
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let connected = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await;
        let client = connected
            .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}", chromium.display()));
        let session = client.session_id().await.ok().flatten();
        Browser {
            client,
            _driver: driver,
            driver_url,
            session,
            _profile: profile,
        }
    }

    /// Opens the chat page and waits for the welcome.
    pub(crate) async fn open_chat(&self, base: &str) {
        self.client.goto(&format!("{base}/")).await.unwrap();
        self.wait_until(
            "the welcome message",
            "return document.querySelectorAll('#log .msg-hotline').length > 0",
        )
        .await;
        self.wait_until("the page to be idle", IDLE).await;
    }

    /// Types `text`, presses Enter, and waits until it is sent and answered.
    pub(crate) async fn say(&self, text: &str) {
        let sent = self.count(CITIZEN_MESSAGES).await;
        let input = self.client.find(Locator::Id("input")).await.unwrap();
        input
            .send_keys(&format!("{text}{}", Key::Enter))
            .await
            .unwrap();
        self.wait_until(
            &format!("{text:?} sent and answered"),
            &format!(
                "return document.querySelectorAll('#log .msg-citizen:not(.msg-pending)').length > {sent}
                     && document.getElementById('composer').getAttribute('aria-busy') !== 'true'"
            ),
        )
        .await;
    }

    /// Answers the hotline's questions (district, address, phone, confirmation…) as a citizen
    /// would, until a ticket card shows; returns its number.
    pub(crate) async fn answer_until_a_ticket_shows(&self) -> String {
        const ANSWERS: &[(&str, &str)] = &[
            ("核对", "确认"),
            ("确认", "确认"),
            ("保密", "不保密"),
            ("电话", "13812345678"),
            ("地址", "和平路18号"),
            ("哪个区", "西城区"),
        ];
        for _ in 0..8 {
            let number = self
                .js("const n = document.querySelector('#log .ticket-number'); return n && n.innerText")
                .await;
            if let Some(number) = number.as_str() {
                return number.to_string();
            }
            let last = self
                .js("const m = document.querySelectorAll('#log .msg-hotline');
                     return m.length ? m[m.length - 1].innerText : ''")
                .await;
            let last = last.as_str().unwrap_or_default().to_string();
            let Some((_, answer)) = ANSWERS.iter().find(|(cue, _)| last.contains(cue)) else {
                panic!("no ticket, and no question this test can answer:\n{last}");
            };
            self.say(answer).await;
        }
        panic!(
            "no ticket after eight answers:\n{}",
            self.js(LOG_TEXT).await
        );
    }

    pub(crate) async fn session_id(&self) -> String {
        let id = self
            .js("return localStorage.getItem('hotline.session')")
            .await;
        id.as_str()
            .unwrap_or_else(|| panic!("no session kept in localStorage: {id}"))
            .to_string()
    }

    pub(crate) async fn assert_no_error_shown(&self) {
        let shown = self
            .js("return [document.getElementById('status').innerText,
                         document.querySelectorAll('.notice-error').length]")
            .await;
        assert_eq!(shown, json!(["", 0]), "the citizen should see no error");
    }

    pub(crate) async fn count(&self, script: &str) -> u64 {
        self.js(script).await.as_u64().unwrap_or_default()
    }

    pub(crate) async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something other than null or false.
    pub(crate) async fn wait_until(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.js(script).await;
            if !value.is_null() && value != Value::Bool(false) {
                return value;
            }
            if Instant::now() >= deadline {
                let page = self
                    .js("return document.body ? document.body.innerText : ''")
                    .await;
                panic!(
                    "waited {WAIT:?} for {what}; the page shows:\n{}",
                    page.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG to `$HOTLINE_SCREENSHOTS/<name>.png` when that variable is set.
    pub(crate) async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("HOTLINE_SCREENSHOTS") else {
            return;
        };
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the session (Chromium quits) and the driver.
    pub(crate) async fn close(mut self) {
        let client = self.client.clone();
        if client.close().await.is_ok() {
            self.session = None;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that panicked never reached `close`: end the session over plain HTTP from a
        // thread (no async here), so Chromium does not outlive the test.
        if let Some(session) = self.session.take() {
            let url = format!("{}/session/{session}", self.driver_url);
            let _ = std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .delete(url)
                    .timeout(Duration::from_secs(10))
                    .send()
            })
            .join();
        }
    }
}

/// The chromedriver process, ended when dropped, whatever happened.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The program named by `var`, else `name` on PATH; a missing browser fails the test.
fn program(var: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` was not found on PATH: the browser tests need Debian's chromium and \
                 chromium-driver packages (apt-get install chromium chromium-driver; .ci/run \
                 installs them), or {var}=/path/to/{name}"
            )
        })
}

/// Reads chromedriver's "started successfully on port N" line, then keeps draining its output.
async fn driver_port(driver: &mut Child) -> u16 {
    let Some(stdout) = driver.stdout.take() else {
        panic!("chromedriver's output was not captured");
    };
    let (found, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let port = line
                .split("started successfully on port ")
                .nth(1)
                .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok());
            if let Some(port) = port
                && let Some(found) = found.take()
            {
                let _ = found.send(port);
            }
        }
    });
    tokio::task::spawn_blocking(move || port.recv_timeout(Duration::from_secs(20)))
        .await
        .unwrap()
        .unwrap_or_else(|_| panic!("chromedriver did not say which port it listens on within 20 s"))
}
