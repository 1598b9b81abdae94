//! Open311 GeoReport v2: the service catalog from `config/open311.toml` and what the gateway
//! keeps about a request besides its ticket. The HTTP side (JSON and XML) is `http/open311.rs`.
//!
//! A service maps to one of our categories (咨询 求助 投诉 举报 建议 表扬) and, where the
//! dispatch rules in `config/dispatch.toml` route by topic, to a topic word that the ticket's
//! content starts with (【噪音】…), so an Open311 request is dispatched by the same rules as a
//! chat. A service whose matter happens somewhere asks for the district as an attribute (a
//! single-value list of `[city] districts`).
//!
//! [`reach`] decides where the callback survey of a request goes (GeoReport has no way back).

pub mod reach;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, parse_toml};
use crate::domain::{Category, TicketStatus};

pub const OPEN311_FILE: &str = "open311.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub description: String,
    /// One of 咨询 求助 投诉 举报 建议 表扬.
    pub category: String,
    pub group: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The dispatch topic written at the head of the ticket's content (【topic】…).
    #[serde(default)]
    pub topic: Option<String>,
    /// The request must name the district (attribute `district`).
    #[serde(default)]
    pub needs_district: bool,
}

impl Service {
    pub fn category(&self) -> Category {
        Category::from_label(&self.category).unwrap_or(Category::Consultation)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    /// The jurisdiction this gateway serves; a request naming another is refused.
    #[serde(default)]
    jurisdiction_id: Option<String>,
    #[serde(default)]
    service: Vec<Service>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub jurisdiction_id: Option<String>,
    services: Vec<Service>,
}

impl Catalog {
    /// Reads `dir/open311.toml` (an empty catalog when absent); checks codes and categories.
    pub fn load(dir: &Path) -> Result<Catalog, ConfigError> {
        let path = dir.join(OPEN311_FILE);
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalog::default()),
            Err(source) => return Err(ConfigError::Read { file, source }),
        };
        let parsed: CatalogFile = parse_toml(&file, &text)?;
        let semantic = |m: String| ConfigError::Semantic(format!("{file}: {m}"));
        let mut codes = std::collections::HashSet::new();
        for s in &parsed.service {
            let code_ok = !s.code.is_empty()
                && s.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !code_ok {
                return Err(semantic(format!(
                    "service code `{}` must be lowercase letters, digits and `-`",
                    s.code
                )));
            }
            if !codes.insert(s.code.clone()) {
                return Err(semantic(format!("service `{}` is defined twice", s.code)));
            }
            match Category::from_label(&s.category) {
                Some(Category::Emergency) | None => {
                    return Err(semantic(format!(
                        "service `{}`: category `{}` must be one of 咨询 求助 投诉 举报 建议 表扬",
                        s.code, s.category
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(Catalog {
            jurisdiction_id: parsed.jurisdiction_id,
            services: parsed.service,
        })
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn get(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }
}

/// What an Open311 request adds to its ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub service_code: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    /// The integrator whose API key posted it.
    pub integrator: String,
    pub account_id: Option<String>,
    /// A photo or other media of the matter, as the requester's app hosts it (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
}

/// Longest `media_url` accepted.
pub const MAX_MEDIA_URL_CHARS: usize = 2048;

/// A `media_url` as posted: an absolute http(s) URL with a host, no spaces or control characters,
/// at most [`MAX_MEDIA_URL_CHARS`]; `Err` says what is wrong.
pub fn check_media_url(url: &str) -> Result<(), String> {
    if url.chars().count() > MAX_MEDIA_URL_CHARS {
        return Err(format!(
            "`media_url` is longer than {MAX_MEDIA_URL_CHARS} characters"
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("`media_url` must not contain spaces or control characters".into());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or_default())
        .map(|h| h.rsplit('@').next().unwrap_or_default());
    match host {
        Some(h) if !h.is_empty() && !h.starts_with(':') => Ok(()),
        _ => Err(format!(
            "`media_url` must be an http(s) URL such as https://example.org/photo.jpg (got `{url}`)"
        )),
    }
}

/// GeoReport's two statuses: `closed` once the matter is settled (办结, 回访, withdrawn, merged).
pub fn spec_status(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Closed
        | TicketStatus::Surveyed
        | TicketStatus::Withdrawn
        | TicketStatus::Merged => "closed",
        _ => "open",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalog_loads_and_maps_to_our_categories() {
        let catalog = Catalog::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).unwrap();
        assert!(catalog.services().len() >= 10);
        let noise = catalog.get("noise").unwrap();
        assert_eq!(noise.category(), Category::Complaint);
        assert!(noise.needs_district);
    }

    #[test]
    fn an_emergency_service_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(OPEN311_FILE),
            "[[service]]\ncode = \"fire\"\nname = \"火警\"\ndescription = \"x\"\ncategory = \"紧急\"\ngroup = \"x\"\n",
        )
        .unwrap();
        let err = Catalog::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("open311.toml") && err.contains("fire"),
            "{err}"
        );
    }

    #[test]
    fn a_media_url_must_be_an_http_url_with_a_host() {
        assert!(check_media_url("https://img.example.org/a.jpg").is_ok());
        assert!(check_media_url("http://example.org:8080/p?x=1").is_ok());
        for bad in [
            "ftp://example.org/a.jpg",
            "javascript:alert(1)",
            "https://",
            "https:///a.jpg",
            "https://exa mple.org/a.jpg",
            "example.org/a.jpg",
        ] {
            assert!(check_media_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://example.org/{}", "a".repeat(MAX_MEDIA_URL_CHARS));
        assert!(check_media_url(&long).unwrap_err().contains("longer"));
    }

    #[test]
    fn settled_tickets_are_closed_in_geo_report_terms() {
        assert_eq!(spec_status(TicketStatus::Signed), "open");
        assert_eq!(spec_status(TicketStatus::Replied), "open");
        assert_eq!(spec_status(TicketStatus::Closed), "closed");
        assert_eq!(spec_status(TicketStatus::Withdrawn), "closed");
    }
}
