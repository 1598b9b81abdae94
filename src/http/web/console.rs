//! The handling units' console at `/console`: a page where a unit clerk pastes a token, lists the
//! unit's tickets and signs, answers and closes them through the unit API (an operator token gets
//! the queue and the dispatch form). The files are in `console/` beside this module, compiled in
//! and served like the chat page: assets named by content hash and cached for a year, the page
//! revalidated on every load.
//!
//! Security: the page holds a bearer token (in the tab's sessionStorage, never in a URL), so it
//! is stricter than the chat page. It may not be framed by anyone (`frame-ancestors 'none'`,
//! `X-Frame-Options: DENY`: no clickjacking of 办结), its forms may not submit anywhere
//! (`form-action 'none'`: all requests are `fetch` calls), and scripts, styles and data come
//! from this origin only. The CORS layer lets no foreign origin send an `Authorization` header.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;

use super::{Caching, ICON_SVG, WebFile, serve, serve_asset};
use crate::http::AppState;
use crate::http::error::ApiError;

const CONSOLE_HTML: &str = include_str!("console/index.html");
const CONSOLE_CSS: &str = concat!(
    include_str!("base.css"),
    include_str!("console/console.css")
);
const CONSOLE_JS: &str = include_str!("console/console.js");
const DETAIL_JS: &str = include_str!("console/detail.js");

/// The console's policy: this origin only, never framed, no form submissions.
const CONSOLE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The console page and its assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(page))
        .route("/console/assets/{name}", get(asset))
        .with_state(Arc::new(ConsoleFiles::new()))
}

struct ConsoleFiles {
    page: WebFile,
    css: WebFile,
    js: WebFile,
    detail: WebFile,
}

impl ConsoleFiles {
    fn new() -> ConsoleFiles {
        let css = WebFile::new(CONSOLE_CSS, "text/css; charset=utf-8");
        let js = WebFile::new(CONSOLE_JS, "text/javascript; charset=utf-8");
        let detail = WebFile::new(DETAIL_JS, "text/javascript; charset=utf-8");
        // The chat page's icon, named by the same hash, so both pages share one cached file.
        let icon = WebFile::new(ICON_SVG, "image/svg+xml");
        let html = CONSOLE_HTML
            .replace("__CONSOLE_CSS__", &css.version)
            .replace("__CONSOLE_JS__", &js.version)
            .replace("__DETAIL_JS__", &detail.version)
            .replace("__ICON_SVG__", &icon.version);
        let page = WebFile::new(html, "text/html; charset=utf-8")
            .with_header(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONSOLE_POLICY),
            )
            .with_header(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"))
            .with_header(
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
            )
            .with_header(
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            );
        ConsoleFiles {
            page,
            css,
            js,
            detail,
        }
    }
}

async fn page(State(files): State<Arc<ConsoleFiles>>, request: HeaderMap) -> Response {
    serve(&files.page, Caching::Revalidate, &request)
}

async fn asset(
    State(files): State<Arc<ConsoleFiles>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let file = match name.as_str() {
        "console.css" => &files.css,
        "console.js" => &files.js,
        "detail.js" => &files.detail,
        _ => return Err(ApiError::not_found("not_found", "no such file")),
    };
    Ok(serve_asset(file, query, &request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_names_every_asset_by_its_current_hash() {
        let files = ConsoleFiles::new();
        let html = std::str::from_utf8(&files.page.body).unwrap();
        for file in [&files.css, &files.js, &files.detail] {
            assert!(html.contains(&format!("?v={}", file.version)), "{html}");
        }
        assert!(!html.contains("__"), "a placeholder was left: {html}");
    }

    #[test]
    fn the_console_may_be_framed_by_no_one_and_submits_no_forms() {
        let files = ConsoleFiles::new();
        let policy = files
            .page
            .extra
            .iter()
            .find(|(name, _)| name == header::CONTENT_SECURITY_POLICY)
            .map(|(_, value)| value.to_str().unwrap())
            .unwrap();
        assert!(policy.ends_with("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("form-action 'none'"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
    }

    #[test]
    fn the_token_field_has_no_name_so_it_can_never_reach_a_url() {
        assert!(CONSOLE_HTML.contains(r#"id="token" type="password""#));
        let field = CONSOLE_HTML
            .split("<input")
            .find(|tag| tag.contains(r#"id="token""#))
            .unwrap();
        let field = field.split('>').next().unwrap();
        assert!(!field.contains("name="), "{field}");
    }
}
