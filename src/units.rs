//! Handling units (承办单位) from `config/units.toml`: who can be sent a ticket.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, parse_toml};

pub const UNITS_FILE: &str = "units.toml";

/// What kind of body a unit is; a committee only ever assists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    DistrictGovernment,
    Department,
    Street,
    Enterprise,
    /// Village or residents' committee (村委会/居委会): never the lead unit.
    Committee,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    /// Districts covered; empty = the whole city.
    #[serde(default)]
    pub districts: Vec<String>,
    /// Knowledge domains / fields of work.
    #[serde(default)]
    pub domains: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsFile {
    #[serde(default)]
    unit: Vec<Unit>,
}

/// All units, by id.
#[derive(Debug, Clone, Default)]
pub struct Units {
    by_id: BTreeMap<String, Unit>,
}

impl Units {
    /// Reads `dir/units.toml`; a duplicate id is an error naming the file.
    pub fn load(dir: &Path) -> Result<Units, ConfigError> {
        let path = dir.join(UNITS_FILE);
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Units::default()),
            Err(source) => return Err(ConfigError::Read { file, source }),
        };
        let parsed: UnitsFile = parse_toml(&file, &text)?;
        let mut by_id = BTreeMap::new();
        for unit in parsed.unit {
            if unit.id.trim().is_empty() {
                return Err(ConfigError::Semantic(format!(
                    "{file}: a unit has an empty id"
                )));
            }
            if let Some(previous) = by_id.insert(unit.id.clone(), unit) {
                return Err(ConfigError::Semantic(format!(
                    "{file}: unit id `{}` is defined twice",
                    previous.id
                )));
            }
        }
        Ok(Units { by_id })
    }

    pub fn get(&self, id: &str) -> Option<&Unit> {
        self.by_id.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Unit> {
        self.by_id.values()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_units_load() {
        let units = Units::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).unwrap();
        assert!(units.contains("hotline-center"));
        assert!(units.len() > 20);
    }

    #[test]
    fn a_duplicate_unit_id_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let unit = "[[unit]]\nid = \"a\"\nname = \"A\"\nkind = \"department\"\n";
        std::fs::write(dir.path().join(UNITS_FILE), format!("{unit}{unit}")).unwrap();
        let err = Units::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("defined twice"), "{err}");
    }
}
