//! Knowledge articles: Markdown files with a TOML front matter block, parsed and validated.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::Deserialize;

use crate::config::line_of_offset;
use crate::text::char_len;

/// An SMS holds 70 Chinese characters; two segments minus room for a signature.
pub const SUMMARY_MAX_CHARS: usize = 130;
const FENCE: &str = "+++";

/// A problem with one article, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ArticleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub domain: String,
    pub questions: Vec<String>,
    pub keywords: Vec<String>,
    pub unit: String,
    pub region: String,
    pub effective: Date,
    pub expires: Date,
    pub updated: Date,
    pub summary: String,
    /// The full answer, Markdown.
    pub body: String,
    pub path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: String,
    title: String,
    domain: String,
    #[serde(default)]
    questions: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    unit: String,
    region: Option<String>,
    effective: toml::value::Datetime,
    expires: toml::value::Datetime,
    updated: toml::value::Datetime,
    summary: String,
}

impl Article {
    /// Whether the article may be used on `today`.
    pub fn is_current(&self, today: Date) -> bool {
        self.effective <= today && today <= self.expires
    }

    /// Parses one article file's text. `default_region` fills a missing `region`.
    pub fn parse(path: &Path, text: &str, default_region: &str) -> Result<Article, ArticleError> {
        let file = path.display().to_string();
        let err = |line: usize, message: String| ArticleError {
            file: file.clone(),
            line,
            message,
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rest = text
            .strip_prefix(FENCE)
            .filter(|r| r.starts_with('\n') || r.starts_with("\r\n"))
            .ok_or_else(|| err(1, "expected a front matter block opened by `+++`".into()))?;
        let front_start = text.len() - rest.len();
        let close = rest
            .find("\n+++")
            .ok_or_else(|| err(1, "front matter block is not closed by a `+++` line".into()))?;
        let front = &rest[..close];
        let body = rest[close + 4..].trim().to_string();
        let meta: FrontMatter = toml::from_str(front).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            // The block starts on line 2 of the file.
            let line = line_of_offset(front, offset) + line_of_offset(text, front_start) - 1;
            err(line, e.message().trim().to_string())
        })?;
        let date = |field: &str, value: toml::value::Datetime| {
            let line = field_line(text, field);
            let d = value
                .date
                .ok_or_else(|| err(line, format!("`{field}` must be a date like 2026-01-31")))?;
            Date::new(d.year as i16, d.month as i8, d.day as i8)
                .map_err(|e| err(line, format!("`{field}`: {e}")))
        };
        let article = Article {
            effective: date("effective", meta.effective)?,
            expires: date("expires", meta.expires)?,
            updated: date("updated", meta.updated)?,
            id: meta.id,
            title: meta.title,
            domain: meta.domain,
            questions: meta.questions,
            keywords: meta.keywords,
            unit: meta.unit,
            region: meta.region.unwrap_or_else(|| default_region.to_string()),
            summary: meta.summary,
            body,
            path: path.to_path_buf(),
        };
        article
            .check_fields()
            .map_err(|(field, message)| err(field_line(text, field), message))?;
        Ok(article)
    }

    /// Problems that make an article unusable, as (field, message).
    fn check_fields(&self) -> Result<(), (&'static str, String)> {
        let blank = |s: &str| s.trim().is_empty();
        for (field, value) in [
            ("id", &self.id),
            ("title", &self.title),
            ("domain", &self.domain),
            ("unit", &self.unit),
            ("summary", &self.summary),
        ] {
            if blank(value) {
                return Err((field, format!("`{field}` must not be empty")));
            }
        }
        if !self
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(("id", "`id` may hold only a-z, 0-9 and `-`".into()));
        }
        let n = char_len(&self.summary);
        if n > SUMMARY_MAX_CHARS {
            return Err((
                "summary",
                format!("summary is {n} characters; at most {SUMMARY_MAX_CHARS} fit one SMS"),
            ));
        }
        if self.expires < self.effective {
            return Err(("expires", "`expires` is before `effective`".into()));
        }
        if blank(&self.body) {
            return Err((
                "id",
                "the article has no answer text after the front matter".into(),
            ));
        }
        Ok(())
    }

    /// The line of `field` in the file (for messages), 1 when not found.
    pub fn line_of(&self, field: &str) -> usize {
        std::fs::read_to_string(&self.path)
            .map(|t| field_line(&t, field))
            .unwrap_or(1)
    }
}

fn field_line(text: &str, field: &str) -> usize {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(field)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// Every `*.md` file under `dir` (recursively), sorted, skipping README files.
pub fn article_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md")
                && !path
                    .file_name()
                    .is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nid = \"a-1\"\ntitle = \"标题\"\ndomain = \"d\"\nunit = \"u\"\neffective = 2025-01-01\nexpires = 2027-01-01\nupdated = 2025-01-01\nsummary = \"短\"\n+++\n正文";

    #[test]
    fn a_good_article_parses_with_the_default_region() {
        let a = Article::parse(Path::new("a-1.md"), GOOD, "示例市").unwrap();
        assert_eq!(a.id, "a-1");
        assert_eq!(a.region, "示例市");
        assert_eq!(a.body, "正文");
    }

    #[test]
    fn a_too_long_summary_is_rejected_at_its_line() {
        let long = "长".repeat(131);
        let text = GOOD.replace("summary = \"短\"", &format!("summary = \"{long}\""));
        let e = Article::parse(Path::new("x.md"), &text, "示例市").unwrap_err();
        assert_eq!(e.line, 9);
        assert!(e.message.contains("131"), "{}", e.message);
    }

    #[test]
    fn a_missing_field_and_a_bad_key_are_reported() {
        let text = GOOD.replace("unit = \"u\"\n", "");
        let e = Article::parse(Path::new("x.md"), &text, "示例市").unwrap_err();
        assert!(e.message.contains("unit"), "{}", e.message);
        let text = GOOD.replace("unit = \"u\"", "unit = \"u\"\ncolour = 1");
        let e = Article::parse(Path::new("x.md"), &text, "示例市").unwrap_err();
        assert!(e.message.contains("colour"), "{}", e.message);
        assert_eq!(e.line, 6);
    }

    #[test]
    fn a_file_without_front_matter_is_rejected_at_line_one() {
        let e = Article::parse(Path::new("x.md"), "# 标题\n正文", "示例市").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
