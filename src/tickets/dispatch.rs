//! Dispatch rules (精准派单) from `config/dispatch.toml`: each new ticket gets a proposal — a lead
//! unit, co-handlers and the reason — and a confident proposal dispatches without an operator.

use std::path::Path;

use serde::Deserialize;

use crate::config::{ConfigError, parse_toml};
use crate::domain::{Category, NewTicket, Proposal, UnitId};
use crate::text::normalize;
use crate::units::{UnitKind, Units};

pub const DISPATCH_FILE: &str = "dispatch.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRule {
    pub id: u32,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub districts: Vec<String>,
    pub lead: String,
    #[serde(default)]
    pub co_handlers: Vec<String>,
    #[serde(default)]
    pub auto: bool,
    #[serde(default)]
    pub urgency: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchFile {
    #[serde(default)]
    rule: Vec<DispatchRule>,
}

#[derive(Debug, Clone, Default)]
pub struct DispatchRules {
    rules: Vec<DispatchRule>,
}

/// Why a unit cannot lead (shared by config validation and operator dispatch).
pub fn check_lead(units: &Units, lead: &str) -> Result<(), String> {
    match units.get(lead) {
        None => Err(format!("unknown unit `{lead}`")),
        Some(u) if u.kind == UnitKind::Committee => Err(format!(
            "`{lead}` ({}) is a village or residents' committee: it can only assist (协办), never lead",
            u.name
        )),
        Some(_) => Ok(()),
    }
}

impl DispatchRules {
    /// Reads and validates `dir/dispatch.toml` against the units.
    pub fn load(dir: &Path, units: &Units) -> Result<DispatchRules, ConfigError> {
        let path = dir.join(DISPATCH_FILE);
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DispatchRules::default());
            }
            Err(source) => return Err(ConfigError::Read { file, source }),
        };
        let parsed: DispatchFile = parse_toml(&file, &text)?;
        DispatchRules::validated(parsed.rule, units)
            .map_err(|message| ConfigError::Semantic(format!("{file}: {message}")))
    }

    pub fn validated(rules: Vec<DispatchRule>, units: &Units) -> Result<DispatchRules, String> {
        for rule in &rules {
            check_lead(units, &rule.lead).map_err(|e| format!("rule {}: {e}", rule.id))?;
            if let Some(u) = rule.co_handlers.iter().find(|u| !units.contains(u)) {
                return Err(format!("rule {}: unknown co-handler `{u}`", rule.id));
            }
            if let Some(c) = rule
                .categories
                .iter()
                .find(|c| Category::from_label(c).is_none())
            {
                return Err(format!("rule {}: unknown category `{c}`", rule.id));
            }
            if let Some(u) = &rule.urgency
                && crate::calendar::Urgency::from_label(u).is_none()
            {
                return Err(format!("rule {}: unknown urgency `{u}`", rule.id));
            }
        }
        let rules = rules
            .into_iter()
            .map(|mut r| {
                r.keywords = r.keywords.iter().map(|k| normalize(k)).collect();
                r
            })
            .collect();
        Ok(DispatchRules { rules })
    }

    /// The first matching rule's proposal (with its urgency), if any.
    pub fn propose(&self, ticket: &NewTicket, units: &Units) -> Option<(Proposal, Option<String>)> {
        let content = normalize(&ticket.content);
        self.rules.iter().find_map(|rule| {
            let category_ok = rule.categories.is_empty()
                || rule.categories.iter().any(|c| c == ticket.category.label());
            let keyword = rule.keywords.iter().find(|k| content.contains(k.as_str()));
            let keyword_ok = rule.keywords.is_empty() || keyword.is_some();
            let district_ok = rule.districts.is_empty()
                || ticket
                    .district
                    .as_ref()
                    .is_some_and(|d| rule.districts.contains(d));
            if !(category_ok && keyword_ok && district_ok) {
                return None;
            }
            let mut why: Vec<String> = Vec::new();
            if let Some(k) = keyword {
                why.push(k.clone());
            } else if !rule.categories.is_empty() {
                why.push(ticket.category.label().to_string());
            }
            if let Some(d) = ticket
                .district
                .as_ref()
                .filter(|_| !rule.districts.is_empty())
            {
                why.push(d.clone());
            }
            let name = units
                .get(&rule.lead)
                .map(|u| u.name.as_str())
                .unwrap_or(&rule.lead);
            let proposal = Proposal {
                rule: rule.id,
                lead: UnitId::new(rule.lead.clone()),
                co_handlers: rule
                    .co_handlers
                    .iter()
                    .map(|u| UnitId::new(u.clone()))
                    .collect(),
                reason: format!("rule {}: {} → {name}", rule.id, why.join(" + ")),
                auto: rule.auto,
            };
            Some((proposal, rule.urgency.clone()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Units {
        Units::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).unwrap()
    }

    fn ticket(content: &str, district: Option<&str>) -> NewTicket {
        NewTicket {
            content: content.into(),
            district: district.map(String::from),
            ..NewTicket::sample(jiff::Timestamp::UNIX_EPOCH)
        }
    }

    #[test]
    fn the_bundled_rules_propose_a_lead_with_the_reason() {
        let units = units();
        let rules = DispatchRules::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("config"),
            &units,
        )
        .unwrap();
        let (p, _) = rules
            .propose(&ticket("楼下烧烤店噪音太大", Some("南山区")), &units)
            .unwrap();
        assert_eq!(p.lead.as_str(), "nanshan-urban");
        assert_eq!(
            p.reason,
            "rule 10: 噪音 + 南山区 → 南山区城市管理综合执法局"
        );
        assert!(p.auto);
        assert!(rules.propose(&ticket("想问问天气", None), &units).is_none());
    }

    #[test]
    fn a_committee_can_never_be_the_lead_unit() {
        let units = units();
        let rule = DispatchRule {
            id: 7,
            categories: vec![],
            keywords: vec!["楼道".into()],
            districts: vec![],
            lead: "nanshan-binhe-committee".into(),
            co_handlers: vec![],
            auto: true,
            urgency: None,
        };
        let err = DispatchRules::validated(vec![rule], &units).unwrap_err();
        assert!(
            err.contains("rule 7") && err.contains("never lead"),
            "{err}"
        );
        assert!(check_lead(&units, "nanshan-binhe-committee").is_err());
        assert!(check_lead(&units, "nanshan-urban").is_ok());
    }
}
