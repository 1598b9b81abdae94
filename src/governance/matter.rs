//! What a ticket is about (its matter, from `config/topics.toml`) and where (district and street,
//! from the normalised address): the two keys hotspots and the report group tickets by.

use std::path::Path;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Deserialize;

use crate::config::{ConfigError, parse_toml};
pub use crate::domain::street_of;

pub const TOPICS_FILE: &str = "topics.toml";
/// The matter of a ticket that matches no topic.
pub const OTHER: &str = "其他";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub name: String,
    pub keywords: Vec<String>,
    #[serde(default)]
    pub utilities: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsFile {
    #[serde(default)]
    topic: Vec<Topic>,
}

/// The topics and a matcher over all their keywords.
#[derive(Debug, Clone)]
pub struct Topics {
    topics: Vec<Topic>,
    matcher: AhoCorasick,
    /// Pattern index → topic index.
    owner: Vec<usize>,
}

impl Topics {
    /// Reads `dir/topics.toml`; an empty keyword or a topic named twice is an error naming the
    /// file.
    pub fn load(dir: &Path) -> Result<Topics, ConfigError> {
        let path = dir.join(TOPICS_FILE);
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        let parsed: TopicsFile = parse_toml(&file, &text)?;
        Topics::new(parsed.topic).map_err(|m| ConfigError::Semantic(format!("{file}: {m}")))
    }

    pub fn new(topics: Vec<Topic>) -> Result<Topics, String> {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (i, t) in topics.iter().enumerate() {
            if t.name.trim().is_empty() || t.name == OTHER {
                return Err(format!("topic {} has no usable name", i + 1));
            }
            if topics[..i].iter().any(|o| o.name == t.name) {
                return Err(format!("topic `{}` is defined twice", t.name));
            }
            for k in &t.keywords {
                if k.trim().is_empty() {
                    return Err(format!("topic `{}` has an empty keyword", t.name));
                }
                patterns.push(crate::text::normalize(k));
                owner.push(i);
            }
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| e.to_string())?;
        Ok(Topics {
            topics,
            matcher,
            owner,
        })
    }

    pub fn all(&self) -> &[Topic] {
        &self.topics
    }

    /// The matter of `content`: the earliest-listed topic any keyword of which occurs.
    pub fn matter_of(&self, content: &str) -> &str {
        self.matcher
            .find_iter(content)
            .map(|m| self.owner[m.pattern().as_usize()])
            .min()
            .map(|i| self.topics[i].name.as_str())
            .unwrap_or(OTHER)
    }

    pub fn is_utilities(&self, matter: &str) -> bool {
        self.topics.iter().any(|t| t.name == matter && t.utilities)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Topics {
        Topics::load(Path::new("config")).unwrap()
    }

    #[test]
    fn the_bundled_topics_load_and_name_a_matter() {
        let t = topics();
        assert_eq!(t.matter_of("我们小区从早上开始停水了"), "停水");
        assert_eq!(t.matter_of("楼下烧烤噪音太大"), "噪音扰民");
        assert_eq!(t.matter_of("想问一下怎么办理护照"), OTHER);
        assert!(t.is_utilities("停水"));
    }

    #[test]
    fn the_street_is_the_subdistrict_else_the_road() {
        assert_eq!(
            street_of("南山区桃源街道龙珠路18号", Some("南山区")).as_deref(),
            Some("桃源街道")
        );
        assert_eq!(
            street_of("和平路18号门口", Some("西城区")).as_deref(),
            Some("和平路")
        );
        assert_eq!(
            street_of("滨江县江口镇新村", None).as_deref(),
            Some("江口镇")
        );
        assert_eq!(street_of("门口", None), None);
    }

    #[test]
    fn a_topic_named_twice_is_refused() {
        let t = Topic {
            name: "停水".into(),
            keywords: vec!["停水".into()],
            utilities: true,
        };
        let err = Topics::new(vec![t.clone(), t]).unwrap_err();
        assert!(err.contains("twice"), "{err}");
    }
}
