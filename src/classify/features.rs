//! What the statistical model sees of a message: character n-grams, jieba words and rule cues.
//!
//! Citizens misspell, abbreviate and mix scripts, so most of the signal is in short character
//! runs: bigrams and trigrams (with `^` and `$` marking the start and end, because 建议… and …吗?
//! say a lot) survive typos that break jieba's words. Jieba words add the longer terms, and the
//! emergency rules add their cues (a live hazard, thanks, a past tense) so the model learns how
//! much to trust them. Digits collapse to `0` and punctuation to `|`: a phone number or an address
//! says nothing about the kind of request.

use std::path::Path;
use std::sync::Arc;

use super::ClassifyError;
use super::assessment::Assessment;
use super::emergency::EmergencyRules;
use crate::kb::{Analysis, Analyzer};
use crate::text::is_han;

/// Turns a raw message into the rules' [`Assessment`] and the model's features. Cheap to clone.
#[derive(Clone)]
pub struct Featurizer {
    analyzer: Analyzer,
    rules: Arc<EmergencyRules>,
}

impl Featurizer {
    /// Reuses an analyzer (jieba's dictionary is costly to load).
    pub fn new(analyzer: Analyzer) -> Result<Featurizer, ClassifyError> {
        Ok(Featurizer {
            analyzer,
            rules: Arc::new(EmergencyRules::new()?),
        })
    }

    /// Loads the analyzer (dictionary, synonyms) of the knowledge folder.
    pub fn load(knowledge_dir: &Path) -> Result<Featurizer, ClassifyError> {
        Featurizer::new(Analyzer::load(knowledge_dir)?)
    }

    /// The rules read the normalised text; jieba reads it with synonyms rewritten (煤气 → 燃气),
    /// which the rules must not see: the rewrite splits 煤气泄漏 into " 燃气 泄漏".
    pub fn read(&self, text: &str) -> (Assessment, Vec<String>) {
        self.read_analysis(&self.analyzer.analyse(text))
    }

    /// [`Featurizer::read`] of a message already analysed (by this featurizer's analyzer, or it
    /// is analysed again).
    pub fn read_analysis(&self, analysis: &Analysis) -> (Assessment, Vec<String>) {
        let analysis = self.analyzer.reuse(analysis);
        let assessment = self.rules.assess(analysis.normalized());
        let features = extract(analysis.normalized(), analysis.words(), &assessment.cues());
        (assessment, features)
    }

    /// Analyses a message once, for this classifier and the knowledge base alike.
    pub fn analyse(&self, text: &str) -> Analysis {
        self.analyzer.analyse(text)
    }

    /// [`Featurizer::analyse`] of a text already normalised (see [`Analyzer::analyse_normalized`]).
    pub fn analyse_normalized(&self, text: &str, normalized: String) -> Analysis {
        self.analyzer.analyse_normalized(text, normalized)
    }
}

/// Features, sorted and without repeats: n-grams of the normalised text, the words of the
/// prepared text (see [`Analyzer::prepare`] and [`Analyzer::words`]), and the rules' cues.
pub fn extract<'a>(
    normalized: &str,
    words: impl Iterator<Item = &'a str>,
    cues: &[&'static str],
) -> Vec<String> {
    let symbols = symbols(normalized);
    let mut features: Vec<String> = Vec::with_capacity(symbols.len() * 3 + 16);
    // Built by pushing, not `format!`: a message makes dozens of features.
    let feature = |prefix: &str, body: &mut dyn Iterator<Item = char>, len: usize| {
        let mut feature = String::with_capacity(prefix.len() + len);
        feature.push_str(prefix);
        feature.extend(body);
        feature
    };
    for &c in &symbols {
        if is_han(c) {
            features.push(feature("1:", &mut std::iter::once(c), 4));
        }
    }
    for (n, prefix) in [(2, "2:"), (3, "3:")] {
        for gram in symbols.windows(n).filter(|g| is_informative(g)) {
            features.push(feature(prefix, &mut gram.iter().copied(), 4 * n));
        }
    }
    for word in words {
        if word.chars().count() >= 2 {
            features.push(feature("w:", &mut word.chars(), word.len()));
        }
    }
    let length = normalized.chars().filter(|c| c.is_alphanumeric()).count();
    let bucket = match length {
        0..=8 => "len:short",
        9..=24 => "len:medium",
        25..=60 => "len:long",
        _ => "len:very-long",
    };
    features.push(bucket.to_string());
    features.extend(cues.iter().map(|c| c.to_string()));
    features.sort_unstable();
    features.dedup();
    features
}

/// The text as model symbols between `^` and `$`: Han characters and letters as they are, digit
/// runs as one `0`, `?` and `!` kept, any other run of punctuation or space as one `|`.
fn symbols(prepared: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(prepared.len() / 2 + 2);
    out.push('^');
    for c in prepared.chars() {
        let symbol = if c.is_ascii_digit() {
            '0'
        } else if c.is_alphanumeric() || c == '?' || c == '!' {
            c
        } else {
            '|'
        };
        let repeats = matches!(symbol, '0' | '|') && out.last() == Some(&symbol);
        if !repeats {
            out.push(symbol);
        }
    }
    if out.last() == Some(&'|') {
        out.pop();
    }
    out.push('$');
    out
}

/// An n-gram made only of boundaries and punctuation carries nothing.
fn is_informative(gram: &[char]) -> bool {
    gram.iter().any(|c| !matches!(c, '^' | '$' | '|'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_punctuation_collapse_to_one_symbol_each() {
        let s: String = symbols("电话139123,,  ok").into_iter().collect();
        assert_eq!(s, "^电话0|ok$");
    }

    #[test]
    fn features_are_prefixed_characters_grams_words_length_and_cues() {
        let features = extract("路灯坏了1", ["路灯", "坏", "了"].into_iter(), &["cue:past"]);
        let expected = [
            "1:坏",
            "1:灯",
            "1:了",
            "1:路",
            "2:^路",
            "2:坏了",
            "2:灯坏",
            "2:了0",
            "2:路灯",
            "2:0$",
            "3:^路灯",
            "3:坏了0",
            "3:灯坏了",
            "3:了0$",
            "3:路灯坏",
            "cue:past",
            "len:short",
            "w:路灯",
        ];
        let mut expected: Vec<String> = expected.iter().map(|f| f.to_string()).collect();
        expected.sort_unstable();
        assert_eq!(features, expected);
    }

    #[test]
    fn trailing_punctuation_is_dropped_before_the_end_mark() {
        let s: String = symbols("着火了!!。").into_iter().collect();
        assert_eq!(s, "^着火了!!$");
    }
}
