//! Security headers on every response, set only where the handler did not set its own: pages
//! (the chat, the console, the dashboard) carry their own policies, with `frame-ancestors`
//! allowing only `[web] allowed_origins` for the chat page and nobody for the console; every
//! other response (JSON, errors, YAML, 404, 408, 413, 429) gets a policy that loads nothing and
//! may be framed by nobody, `nosniff`, and no referrer.

use axum::http::{HeaderValue, header};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::set_header::SetResponseHeaderLayer;

/// For responses that are not pages: nothing to load, nobody may frame them.
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

type Layers = Stack<
    SetResponseHeaderLayer<HeaderValue>,
    Stack<
        SetResponseHeaderLayer<HeaderValue>,
        Stack<SetResponseHeaderLayer<HeaderValue>, Identity>,
    >,
>;

/// The three defaults, as one layer.
pub fn defaults() -> ServiceBuilder<Layers> {
    ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}
