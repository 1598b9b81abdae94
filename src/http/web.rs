//! The citizen's web chat: the page at `/`, its stylesheet and script, and `widget.js`, the one
//! line a government site adds to show a floating "12345在线" button that opens the same page,
//! compact, in an iframe (`/?embed=1`).
//!
//! The files live in `web/` beside this module and are compiled into the binary, so a deployment
//! stays one file. The page names its assets with a content hash (`/assets/chat.js?v=…`): those
//! are cached for a year, while the page itself is revalidated on every load (ETag, 304), so a new
//! release reaches every citizen at once. `widget.js` sits at a fixed URL in other sites' pages and
//! is cached for an hour.
//!
//! Security: the page loads scripts, styles and data from this origin only; it may be framed only
//! by this origin and `[web] allowed_origins`, and that list is also the only set of foreign
//! origins the CORS layer lets call the chat API from a browser.
//!
//! The handling units' console (`/console`, in [`console`]) is served the same way, with a
//! stricter policy: it holds a token, so nobody may frame it.

mod console;
mod dashboard;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::AppState;
use super::error::ApiError;
use crate::config::Settings;

const INDEX_HTML: &str = include_str!("web/index.html");
const CHAT_CSS: &str = concat!(include_str!("web/base.css"), include_str!("web/chat.css"));
const CHAT_JS: &str = include_str!("web/chat.js");
const WIDGET_JS: &str = include_str!("web/widget.js");
const ICON_SVG: &str = include_str!("web/icon.svg");

/// Everything but `frame-ancestors`, which depends on the settings.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'";

/// The chat page, its assets and the widget script.
pub fn routes(settings: &Settings) -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/assets/{name}", get(asset))
        .route("/widget.js", get(widget))
        .with_state(Arc::new(WebFiles::new(&settings.web.allowed_origins)))
        .merge(console::routes())
        .merge(dashboard::routes())
}

/// Lets the allowed sites call the chat API from their own pages; other origins get no CORS
/// headers, so browsers keep refusing them. (The widget itself needs none: its iframe is ours.)
pub fn cors(settings: &Settings) -> CorsLayer {
    let origins = settings
        .web
        .allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600))
}

/// One file as served: its bytes, type, validator and any headers of its own.
struct WebFile {
    body: Bytes,
    content_type: &'static str,
    etag: HeaderValue,
    /// The short content hash the page puts in `?v=`.
    version: String,
    extra: Vec<(HeaderName, HeaderValue)>,
}

impl WebFile {
    fn new(body: impl Into<Bytes>, content_type: &'static str) -> WebFile {
        let body = body.into();
        let hash = format!("{:016x}", fnv1a(&body));
        WebFile {
            etag: HeaderValue::from_str(&format!("\"{hash}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
            version: hash[..10].to_string(),
            body,
            content_type,
            extra: Vec::new(),
        }
    }

    fn with_header(mut self, name: HeaderName, value: HeaderValue) -> WebFile {
        self.extra.push((name, value));
        self
    }
}

struct WebFiles {
    page: WebFile,
    embedded_page: WebFile,
    css: WebFile,
    js: WebFile,
    icon: WebFile,
    widget: WebFile,
}

impl WebFiles {
    fn new(allowed_origins: &[String]) -> WebFiles {
        let css = WebFile::new(CHAT_CSS, "text/css; charset=utf-8");
        let js = WebFile::new(CHAT_JS, "text/javascript; charset=utf-8");
        let icon = WebFile::new(ICON_SVG, "image/svg+xml");
        let html = INDEX_HTML
            .replace("__CHAT_CSS__", &css.version)
            .replace("__CHAT_JS__", &js.version)
            .replace("__ICON_SVG__", &icon.version);
        let policy = page_policy(allowed_origins);
        let page = |mode: &str| {
            let html = html.replace("__MODE__", mode);
            WebFile::new(html, "text/html; charset=utf-8")
                .with_header(header::CONTENT_SECURITY_POLICY, policy.clone())
                .with_header(
                    HeaderName::from_static("permissions-policy"),
                    HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
                )
        };
        WebFiles {
            page: page("standalone"),
            embedded_page: page("embed"),
            css,
            js,
            icon,
            widget: WebFile::new(WIDGET_JS, "text/javascript; charset=utf-8").with_header(
                HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("cross-origin"),
            ),
        }
    }
}

/// The page's policy, with the sites that may frame it (the widget's hosts).
fn page_policy(allowed_origins: &[String]) -> HeaderValue {
    let ancestors: Vec<&str> = std::iter::once("'self'")
        .chain(allowed_origins.iter().map(String::as_str))
        .collect();
    let policy = format!("{PAGE_POLICY}; frame-ancestors {}", ancestors.join(" "));
    // Origins are validated when settings load; should one still not fit a header, frame nowhere.
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        tracing::error!("web.allowed_origins do not fit a header; the chat page cannot be framed");
        HeaderValue::from_static(
            "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
        )
    })
}

/// How long a browser may keep a response before asking again.
#[derive(Clone, Copy)]
enum Caching {
    /// Ask every time; unchanged files cost a 304.
    Revalidate,
    /// On other sites' pages at a fixed URL: a new version spreads within the hour.
    Hour,
    /// Asked for with the current content hash: that URL never changes.
    Immutable,
}

impl Caching {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Caching::Revalidate => "no-cache",
            Caching::Hour => "public, max-age=3600",
            Caching::Immutable => "public, max-age=31536000, immutable",
        })
    }
}

async fn page(
    State(files): State<Arc<WebFiles>>,
    RawQuery(query): RawQuery,
    request: HeaderMap,
) -> Response {
    let embedded = query
        .as_deref()
        .is_some_and(|q| q.split('&').any(|pair| pair == "embed=1"));
    let file = if embedded {
        &files.embedded_page
    } else {
        &files.page
    };
    serve(file, Caching::Revalidate, &request)
}

async fn asset(
    State(files): State<Arc<WebFiles>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let file = match name.as_str() {
        "chat.css" => &files.css,
        "chat.js" => &files.js,
        "icon.svg" => &files.icon,
        _ => return Err(ApiError::not_found("not_found", "no such file")),
    };
    Ok(serve_asset(file, query, &request))
}

/// Serves an asset: cached for a year when asked for by its current content hash (`?v=…`),
/// revalidated otherwise.
fn serve_asset(file: &WebFile, query: Option<String>, request: &HeaderMap) -> Response {
    let current = query.is_some_and(|q| q == format!("v={}", file.version));
    let caching = if current {
        Caching::Immutable
    } else {
        Caching::Revalidate
    };
    serve(file, caching, request)
}

async fn widget(State(files): State<Arc<WebFiles>>, request: HeaderMap) -> Response {
    serve(&files.widget, Caching::Hour, &request)
}

fn serve(file: &WebFile, caching: Caching, request: &HeaderMap) -> Response {
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| etag_matches(tags, &file.etag));
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = file.body.clone().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, file.etag.clone());
    headers.insert(header::CACHE_CONTROL, caching.header());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    for (name, value) in &file.extra {
        headers.insert(name.clone(), value.clone());
    }
    response
}

/// `If-None-Match: "a", W/"b"` or `*` against our strong tag (weak comparison, as RFC 9110 asks).
fn etag_matches(tags: &str, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default();
    tags.split(',')
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// FNV-1a: a stable content hash for ETags and `?v=` (no security rests on it).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_asset_by_its_current_hash() {
        let files = WebFiles::new(&[]);
        let html = std::str::from_utf8(&files.page.body).unwrap();
        for file in [&files.css, &files.js, &files.icon] {
            assert!(html.contains(&format!("?v={}", file.version)), "{html}");
        }
        assert!(!html.contains("__"), "a placeholder was left: {html}");
    }

    #[test]
    fn only_the_embedded_page_is_marked_embed() {
        let files = WebFiles::new(&[]);
        let standalone = std::str::from_utf8(&files.page.body).unwrap();
        let embedded = std::str::from_utf8(&files.embedded_page.body).unwrap();
        assert!(embedded.contains(r#"class="embed""#));
        assert!(!standalone.contains(r#"class="embed""#));
    }

    #[test]
    fn the_allowed_origins_may_frame_the_page() {
        let policy = page_policy(&["https://www.example.gov.cn".to_string()]);
        let policy = policy.to_str().unwrap();
        assert!(
            policy.ends_with("frame-ancestors 'self' https://www.example.gov.cn"),
            "{policy}"
        );
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(etag_matches("\"abc\"", &etag));
        assert!(etag_matches("\"x\", W/\"abc\"", &etag));
        assert!(etag_matches("*", &etag));
        assert!(!etag_matches("\"abd\"", &etag));
    }
}
