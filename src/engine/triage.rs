//! Triage before anything else: emergencies to 110/119/120/122, and matters the hotline does not
//! take as tickets (告知), found by the rules in `knowledge/refusals.toml`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, parse_toml};
use crate::text::normalize;

pub const REFUSALS_FILE: &str = "refusals.toml";

/// What an emergency number is for, as the citizen is told.
#[derive(Debug, Clone, Serialize)]
pub struct EmergencyNumber {
    pub number: &'static str,
    pub what: &'static str,
}

pub fn describe_number(number: &'static str) -> EmergencyNumber {
    let what = match number {
        "110" => "报警",
        "119" => "火警和抢险救援",
        "120" => "医疗急救",
        "122" => "交通事故报警",
        _ => "紧急求助",
    };
    EmergencyNumber { number, what }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusalRule {
    pub name: String,
    pub template: String,
    pub phrases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefusalFile {
    rule: Vec<RefusalRule>,
}

#[derive(Debug, Clone, Default)]
pub struct RefusalRules {
    rules: Vec<RefusalRule>,
}

impl RefusalRules {
    /// Reads `dir/refusals.toml`; no file means no rules.
    pub fn load(dir: &Path) -> Result<RefusalRules, ConfigError> {
        let path = dir.join(REFUSALS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RefusalRules::default());
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    file: path.display().to_string(),
                    source,
                });
            }
        };
        let file: RefusalFile = parse_toml(&path.display().to_string(), &text)?;
        let rules = file
            .rule
            .into_iter()
            .map(|mut r| {
                r.phrases = r.phrases.iter().map(|p| normalize(p)).collect();
                r
            })
            .collect();
        Ok(RefusalRules { rules })
    }

    /// Template names the rules refer to (checked against bots/ at start-up).
    pub fn templates(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.template.as_str())
    }

    /// The first rule whose phrase appears in the (normalised) text.
    pub fn find(&self, normalized: &str) -> Option<&RefusalRule> {
        self.rules
            .iter()
            .find(|r| r.phrases.iter().any(|p| normalized.contains(p.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_rules_find_a_matter_in_court_but_not_a_question_about_arbitration() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let rules = RefusalRules::load(&dir).unwrap();
        let found = rules.find(&normalize("我和开发商的纠纷法院已经立案了，你们帮我催一下"));
        assert_eq!(found.map(|r| r.name.as_str()), Some("litigation"));
        assert!(rules.find(&normalize("劳动仲裁怎么申请？")).is_none());
    }
}
