//! Labelled examples on disk: JSON lines `{"text", "category"}`, for training and evaluation.
//!
//! A bad line is refused with its file and line number (`train.jsonl:17: unknown category
//! "咨洵"`), so whoever edits the training file can find it at once. Blank lines are skipped.

use std::path::Path;

use serde::Deserialize;

use super::ClassifyError;
use crate::domain::Category;

#[derive(Deserialize)]
struct Line {
    text: String,
    category: String,
}

/// Reads every example of a JSON lines file.
pub fn read_examples(path: &Path) -> Result<Vec<(String, Category)>, ClassifyError> {
    let text = std::fs::read_to_string(path).map_err(|e| ClassifyError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_examples(&path.display().to_string(), &text)
}

/// Parses JSON lines; `origin` names the source in errors.
pub fn parse_examples(origin: &str, text: &str) -> Result<Vec<(String, Category)>, ClassifyError> {
    let invalid = |line: usize, message: String| ClassifyError::Invalid {
        path: origin.to_string(),
        line,
        message,
    };
    let mut examples = Vec::new();
    for (number, raw) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw).map_err(|e| invalid(number, e.to_string()))?;
        let category = Category::from_label(line.category.trim())
            .ok_or_else(|| invalid(number, format!("unknown category {:?}", line.category)))?;
        if line.text.trim().is_empty() {
            return Err(invalid(number, "empty text".into()));
        }
        examples.push((line.text, category));
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_category_is_refused_with_file_and_line() {
        let text = "{\"text\":\"社保卡怎么办\",\"category\":\"咨询\"}\n\n{\"text\":\"x\",\"category\":\"咨洵\"}\n";
        let error = parse_examples("knowledge/classifier/train.jsonl", text)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("knowledge/classifier/train.jsonl:3: unknown category \"咨洵\"")
        );
    }

    #[test]
    fn broken_json_names_its_line() {
        let error = parse_examples("f.jsonl", "{\"text\":")
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.starts_with("f.jsonl:1: ")));
    }

    #[test]
    fn good_lines_become_examples() {
        let examples =
            parse_examples("f", "{\"text\":\"着火了\",\"category\":\"紧急\"}").unwrap_or_default();
        assert_eq!(examples, vec![("着火了".to_string(), Category::Emergency)]);
    }
}
