//! Signed webhooks: ticket changes pushed to the handling units' own case systems, and later
//! replies pushed to integrators' apps.
//!
//! - [`UnitWebhooks`] reads `config/webhooks.toml` (a URL per unit; the secret from
//!   `HOTLINE_WEBHOOK_SECRET_<UNIT>`) and, as the ticket service's [`ChangeHook`], turns every
//!   lifecycle change of a dispatched ticket into one delivery per involved unit. The delivery is
//!   stored in the same transaction as the change, so no change is lost between them.
//! - [`worker::WebhookWorker`] sends what is due, signed (see [`signature`]), and retries with
//!   backoff from the persisted queue until the receiver answers 2xx; every attempt is logged.
//!
//! - `[operators]` is the operators' own endpoint: hotspot alerts (`hotspot.alert`, sent by
//!   [`crate::governance::live`]) go there through the same queue, signature and retries.
//!
//! Payloads carry the ticket as the unit API shows it to that unit: contact masked, and no
//! identity at all on a 保密 ticket.

pub mod signature;
pub mod worker;

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, Secret, parse_toml};
use crate::domain::{Ticket, UnitId, WebhookDelivery};
use crate::http::tickets_view::{TicketView, Viewer, view};
use crate::tickets::{ChangeHook, TicketChange};
use crate::units::Units;

pub const WEBHOOKS_FILE: &str = "webhooks.toml";

/// Where a target's webhooks go and the secret they are signed with.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    pub secret: Secret,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("secret", &self.secret)
            .finish()
    }
}

/// `PREFIX` + the id in upper case with `-` as `_`: `HOTLINE_WEBHOOK_SECRET_NANSHAN_URBAN`.
pub fn secret_var(prefix: &str, id: &str) -> String {
    format!(
        "{prefix}{}",
        id.to_ascii_uppercase().replace(['-', '.'], "_")
    )
}

/// An absolute http(s) URL, or why not.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(format!(
            "`{url}` is not an http(s) URL such as https://cases.example.gov.cn/hotline"
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookEntry {
    unit: String,
    url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhooksFile {
    #[serde(default)]
    webhook: Vec<WebhookEntry>,
    /// The operators' own endpoint, for events about the hotline as a whole (`hotspot.alert`).
    #[serde(default)]
    operators: Option<OperatorsEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OperatorsEntry {
    url: String,
}

/// The target of the operators' endpoint (`[operators]` in webhooks.toml), whose secret is
/// `HOTLINE_WEBHOOK_SECRET_OPERATORS`.
pub const OPERATORS_TARGET: &str = "operators";

/// The units whose case systems receive webhooks, and the ticket view they are sent.
pub struct UnitWebhooks {
    endpoints: BTreeMap<String, Endpoint>,
    units: Units,
}

/// The body of a ticket-change webhook.
#[derive(Serialize)]
struct ChangeBody<'a> {
    /// `ticket.<action>`: `ticket.dispatch`, `ticket.sign`, `ticket.reply`, … and for 回访
    /// `ticket.survey_sent`, `ticket.survey_reminder`, `ticket.survey` (the result, also
    /// 未联系上) and `ticket.rehandle` (重办); `ticket.repeated_report` when the citizen reports
    /// the same open matter again.
    event: String,
    /// The lifecycle action's name (`dispatch`, `sign`, `progress`, …, `survey_sent`).
    action: &'static str,
    /// Who acted: `system`, `operator:<id>`, `unit:<id>`, `citizen`.
    actor: &'a str,
    occurred_at: Timestamp,
    /// The unit this delivery is for, and whether it (still) handles the ticket.
    unit: &'a str,
    involved: bool,
    /// How many events the ticket's audit trail holds after this change: orders deliveries.
    sequence: usize,
    /// Machine-readable deadlines (the view has them as the citizen reads them).
    deadline_at: Option<Timestamp>,
    accept_by_at: Option<Timestamp>,
    ticket: TicketView,
}

impl UnitWebhooks {
    /// Reads `dir/webhooks.toml` (no webhooks when it is absent): every unit must exist and have
    /// its secret in the environment (`secret` looks a variable up; the error names it).
    pub fn load(
        dir: &Path,
        units: &Units,
        secret: impl Fn(&str) -> Option<Secret>,
    ) -> Result<UnitWebhooks, ConfigError> {
        let path = dir.join(WEBHOOKS_FILE);
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { file, source }),
        };
        let parsed: WebhooksFile = parse_toml(&file, &text)?;
        let semantic = |m: String| ConfigError::Semantic(format!("{file}: {m}"));
        let mut endpoints = BTreeMap::new();
        for entry in parsed.webhook {
            if !units.contains(&entry.unit) {
                return Err(semantic(format!(
                    "unknown unit `{}` (see config/units.toml)",
                    entry.unit
                )));
            }
            check_url(&entry.url).map_err(|m| semantic(format!("unit `{}`: {m}", entry.unit)))?;
            let var = secret_var("HOTLINE_WEBHOOK_SECRET_", &entry.unit);
            let secret = secret(&var).ok_or_else(|| {
                semantic(format!(
                    "unit `{}` has a webhook but its signing secret is not set: export {var}",
                    entry.unit
                ))
            })?;
            let target = format!("unit:{}", entry.unit);
            if endpoints.contains_key(&target) {
                return Err(semantic(format!(
                    "unit `{}` has two webhooks; give it one",
                    entry.unit
                )));
            }
            endpoints.insert(
                target,
                Endpoint {
                    url: entry.url,
                    secret,
                },
            );
        }
        if let Some(operators) = parsed.operators {
            check_url(&operators.url).map_err(|m| semantic(format!("[operators]: {m}")))?;
            let var = secret_var("HOTLINE_WEBHOOK_SECRET_", OPERATORS_TARGET);
            let secret = secret(&var).ok_or_else(|| {
                semantic(format!(
                    "[operators] has a webhook but its signing secret is not set: export {var}"
                ))
            })?;
            endpoints.insert(
                OPERATORS_TARGET.to_string(),
                Endpoint {
                    url: operators.url,
                    secret,
                },
            );
        }
        Ok(UnitWebhooks {
            endpoints,
            units: units.clone(),
        })
    }

    pub fn endpoints(&self) -> &BTreeMap<String, Endpoint> {
        &self.endpoints
    }

    fn body(
        &self,
        unit: &UnitId,
        after: &Ticket,
        change: &TicketChange,
        now: Timestamp,
    ) -> Option<String> {
        let kind = change.name();
        let actor = if change.appends_event() {
            after.events.last().map(|e| e.actor.as_str()).unwrap_or("")
        } else {
            "system"
        };
        let change = ChangeBody {
            event: format!("ticket.{kind}"),
            action: kind,
            actor,
            occurred_at: now,
            unit: unit.as_str(),
            involved: after.handling.involves(unit),
            sequence: after.events.len(),
            deadline_at: after.handling.deadline,
            accept_by_at: after.handling.accept_by,
            ticket: view(after, Viewer::Unit(unit), &self.units, now),
        };
        match serde_json::to_string(&change) {
            Ok(body) => Some(body),
            Err(e) => {
                tracing::error!(error = %e, "webhook body could not be encoded");
                None
            }
        }
    }
}

impl ChangeHook for UnitWebhooks {
    /// One delivery per unit with a webhook that handled the ticket before or after the change
    /// (a unit relieved by a re-dispatch hears of it too). Nothing before the first dispatch.
    fn webhooks(
        &self,
        before: &Ticket,
        after: &Ticket,
        change: &TicketChange,
        now: Timestamp,
    ) -> Vec<WebhookDelivery> {
        if self.endpoints.is_empty() {
            return Vec::new();
        }
        let mut units: Vec<&UnitId> = [&before.handling, &after.handling]
            .into_iter()
            .flat_map(|h| h.lead.iter().chain(h.co_handlers.iter()))
            .collect();
        units.sort();
        units.dedup();
        units
            .into_iter()
            .filter_map(|unit| {
                let target = format!("unit:{}", unit.as_str());
                if !self.endpoints.contains_key(&target) {
                    return None;
                }
                let body = self.body(unit, after, change, now)?;
                Some(WebhookDelivery::new(
                    target,
                    format!("ticket.{}", change.name()),
                    Some(after.number),
                    body,
                    now,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Units {
        Units::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).unwrap()
    }

    #[test]
    fn secret_variables_are_named_after_the_unit() {
        assert_eq!(
            secret_var("HOTLINE_WEBHOOK_SECRET_", "nanshan-urban"),
            "HOTLINE_WEBHOOK_SECRET_NANSHAN_URBAN"
        );
    }

    #[test]
    fn a_webhook_for_an_unknown_unit_or_without_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join(WEBHOOKS_FILE), text).unwrap();
        write("[[webhook]]\nunit = \"nowhere\"\nurl = \"https://x.example\"\n");
        let err = UnitWebhooks::load(dir.path(), &units(), |_| None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unknown unit `nowhere`"), "{err}");
        write("[[webhook]]\nunit = \"nanshan-urban\"\nurl = \"https://x.example\"\n");
        let err = UnitWebhooks::load(dir.path(), &units(), |_| None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("export HOTLINE_WEBHOOK_SECRET_NANSHAN_URBAN"),
            "{err}"
        );
        let ok =
            UnitWebhooks::load(dir.path(), &units(), |_| Some(Secret::new("s".into()))).unwrap();
        assert!(ok.endpoints().contains_key("unit:nanshan-urban"));
        assert!(!format!("{:?}", ok.endpoints()).contains("\"s\""));
    }

    #[test]
    fn the_operators_endpoint_needs_a_url_and_its_own_secret() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join(WEBHOOKS_FILE), text).unwrap();
        write("[operators]\nurl = \"ops.example\"\n");
        let err = UnitWebhooks::load(dir.path(), &units(), |_| Some(Secret::new("s".into())))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("[operators]: `ops.example` is not an http(s) URL"),
            "{err}"
        );
        write("[operators]\nurl = \"https://ops.example/alerts\"\n");
        let err = UnitWebhooks::load(dir.path(), &units(), |_| None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("export HOTLINE_WEBHOOK_SECRET_OPERATORS"),
            "{err}"
        );
        let ok = UnitWebhooks::load(dir.path(), &units(), |var| {
            (var == "HOTLINE_WEBHOOK_SECRET_OPERATORS").then(|| Secret::new("s".into()))
        })
        .unwrap();
        assert_eq!(
            ok.endpoints()[OPERATORS_TARGET].url,
            "https://ops.example/alerts"
        );
    }
}
