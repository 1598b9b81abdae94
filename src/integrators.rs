//! Integrators from `config/integrators.toml`: other apps (a city app, a WeChat mini-program, an
//! Open311 client) that bring citizens' messages in through the generic channel API or post
//! Open311 requests.
//!
//! Each integrator authenticates with its own API key (a token with the `integrator` role, made
//! by `hotline tokens create --role integrator --integrator ID`), is rate-limited on its own,
//! and may name a `callback_url`: later replies to its users (a unit's answer, a survey) are
//! pushed there as signed webhooks, with the secret from `HOTLINE_INTEGRATOR_SECRET_<ID>`.
//! Without a callback the integrator pulls them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::config::{ConfigError, Secret, parse_toml};
use crate::webhooks::{Endpoint, check_url, secret_var};

pub const INTEGRATORS_FILE: &str = "integrators.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integrator {
    /// Lowercase letters, digits and `-`: it names the API key's role and the secret variable.
    pub id: String,
    pub name: String,
    /// Where later replies to this integrator's users are pushed (signed); none: they pull.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Messages and requests accepted per minute (a burst of as many); over it: 429.
    #[serde(default = "default_rate")]
    pub rate_per_minute: u32,
}

fn default_rate() -> u32 {
    120
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntegratorsFile {
    #[serde(default)]
    integrator: Vec<Integrator>,
}

/// The configured integrators, by id, with their callback endpoints.
#[derive(Debug, Clone, Default)]
pub struct Integrators {
    by_id: BTreeMap<String, Integrator>,
    callbacks: BTreeMap<String, Endpoint>,
}

impl Integrators {
    /// Reads `dir/integrators.toml` (none configured when it is absent). A callback needs its
    /// secret in the environment (`secret` looks a variable up): the error names the variable.
    pub fn load(
        dir: &Path,
        secret: impl Fn(&str) -> Option<Secret>,
    ) -> Result<Integrators, ConfigError> {
        let path = dir.join(INTEGRATORS_FILE);
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Integrators::default());
            }
            Err(source) => return Err(ConfigError::Read { file, source }),
        };
        let parsed: IntegratorsFile = parse_toml(&file, &text)?;
        let semantic = |m: String| ConfigError::Semantic(format!("{file}: {m}"));
        let mut integrators = Integrators::default();
        for i in parsed.integrator {
            if i.id.is_empty()
                || !i
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(semantic(format!(
                    "integrator id `{}` must be lowercase letters, digits and `-`",
                    i.id
                )));
            }
            if i.rate_per_minute == 0 {
                return Err(semantic(format!(
                    "integrator `{}`: rate_per_minute must be at least 1",
                    i.id
                )));
            }
            if let Some(url) = &i.callback_url {
                check_url(url).map_err(|m| semantic(format!("integrator `{}`: {m}", i.id)))?;
                let var = secret_var("HOTLINE_INTEGRATOR_SECRET_", &i.id);
                let Some(secret) = secret(&var) else {
                    return Err(semantic(format!(
                        "integrator `{}` has a callback_url but its signing secret is not set: \
                         export {var}",
                        i.id
                    )));
                };
                integrators.callbacks.insert(
                    format!("integrator:{}", i.id),
                    Endpoint {
                        url: url.clone(),
                        secret,
                    },
                );
            }
            if integrators.by_id.contains_key(&i.id) {
                return Err(semantic(format!("integrator `{}` is defined twice", i.id)));
            }
            integrators.by_id.insert(i.id.clone(), i);
        }
        Ok(integrators)
    }

    pub fn get(&self, id: &str) -> Option<&Integrator> {
        self.by_id.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Integrator> {
        self.by_id.values()
    }

    /// Callback endpoints by webhook target (`integrator:<id>`).
    pub fn callbacks(&self) -> &BTreeMap<String, Endpoint> {
        &self.callbacks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, secret: Option<&str>) -> Result<Integrators, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(INTEGRATORS_FILE), text).unwrap();
        Integrators::load(dir.path(), |_| secret.map(|s| Secret::new(s.into())))
    }

    #[test]
    fn a_callback_without_its_secret_names_the_variable_to_export() {
        let text = "[[integrator]]\nid = \"city-app\"\nname = \"市民App\"\ncallback_url = \"http://127.0.0.1:9/cb\"\n";
        let err = load(text, None).unwrap_err().to_string();
        assert!(err.contains("HOTLINE_INTEGRATOR_SECRET_CITY_APP"), "{err}");
        let ok = load(text, Some("s3cret")).unwrap();
        assert!(ok.callbacks().contains_key("integrator:city-app"));
        assert_eq!(ok.get("city-app").unwrap().rate_per_minute, 120);
    }

    #[test]
    fn a_bad_id_or_url_is_refused_with_the_file_name() {
        let err = load("[[integrator]]\nid = \"City App\"\nname = \"x\"\n", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(INTEGRATORS_FILE) && err.contains("lowercase"),
            "{err}"
        );
        let err = load(
            "[[integrator]]\nid = \"a\"\nname = \"x\"\ncallback_url = \"ftp://x\"\n",
            Some("s"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("http"), "{err}");
    }
}
