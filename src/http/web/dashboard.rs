//! The dashboard at `/dashboard` (热线运行监测): the analysis report's figures, live, for hotline
//! operators and admins, with the hotspot alerts (类案). Signed in with an operator or admin token
//! kept in the tab's sessionStorage; the page reads `/api/admin/dashboard` and shows the SVG
//! charts the server draws. Served like the console: this origin only, never framed.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;

use super::{Caching, ICON_SVG, WebFile, serve, serve_asset};
use crate::http::AppState;
use crate::http::error::ApiError;

const PAGE: &str = include_str!("dashboard/index.html");
const CSS: &str = include_str!("dashboard/dashboard.css");
const JS: &str = include_str!("dashboard/dashboard.js");

const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/assets/{name}", get(asset))
        .with_state(Arc::new(DashboardFiles::new()))
}

struct DashboardFiles {
    page: WebFile,
    css: WebFile,
    js: WebFile,
}

impl DashboardFiles {
    fn new() -> DashboardFiles {
        let css = WebFile::new(CSS, "text/css; charset=utf-8");
        let js = WebFile::new(JS, "text/javascript; charset=utf-8");
        let icon = WebFile::new(ICON_SVG, "image/svg+xml");
        let html = PAGE
            .replace("__DASHBOARD_CSS__", &css.version)
            .replace("__DASHBOARD_JS__", &js.version)
            .replace("__ICON_SVG__", &icon.version);
        let page = WebFile::new(html, "text/html; charset=utf-8")
            .with_header(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            )
            .with_header(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        DashboardFiles { page, css, js }
    }
}

async fn page(State(files): State<Arc<DashboardFiles>>, request: HeaderMap) -> Response {
    serve(&files.page, Caching::Revalidate, &request)
}

async fn asset(
    State(files): State<Arc<DashboardFiles>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let file = match name.as_str() {
        "dashboard.css" => &files.css,
        "dashboard.js" => &files.js,
        _ => return Err(ApiError::not_found("not_found", "no such file")),
    };
    Ok(serve_asset(file, query, &request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_names_every_asset_by_its_current_hash() {
        let files = DashboardFiles::new();
        let html = std::str::from_utf8(&files.page.body).unwrap();
        for file in [&files.css, &files.js] {
            assert!(html.contains(&format!("?v={}", file.version)), "{html}");
        }
        assert!(!html.contains("__"), "a placeholder was left: {html}");
    }
}
