//! One message, analysed once: normalised, synonyms rewritten and cut into words by jieba.
//!
//! The classifier and the knowledge base read the same message the same way (see
//! [`Analyzer::prepare`] and [`Analyzer::words`]); an [`Analysis`] does that work once per message
//! and both read it. It remembers the analyzer that made it: a reader holding another analyzer
//! (a knowledge-base reload loads a new dictionary) analyses the text again with its own, so the
//! result is always what that reader would have computed from the text itself.

use std::collections::HashSet;
use std::ops::Range;

use super::analyzer::{Analyzer, is_stopword};

/// A message as the analyzer sees it. Cheap to pass by reference; build it with
/// [`Analyzer::analyse`].
#[derive(Clone)]
pub struct Analysis {
    analyzer: Analyzer,
    /// The text as the citizen sent it.
    text: String,
    /// [`crate::text::normalize`] of the text.
    normalized: String,
    /// The normalised text with synonyms rewritten ([`Analyzer::prepare`]).
    prepared: String,
    /// [`Analyzer::words`] of `prepared`, as byte ranges into it.
    words: Vec<Range<usize>>,
}

impl Analyzer {
    /// Normalises, rewrites synonyms and cuts `text` into search words, once.
    pub fn analyse(&self, text: &str) -> Analysis {
        self.analyse_normalized(text, crate::text::normalize(text))
    }

    /// [`Analyzer::analyse`] of `text` whose [`crate::text::normalize`] is `normalized` (made
    /// already by the caller, who reads it too).
    pub fn analyse_normalized(&self, text: &str, normalized: String) -> Analysis {
        debug_assert_eq!(normalized, crate::text::normalize(text));
        let prepared = self.rewrite_synonyms(&normalized);
        let words = self.word_ranges(&prepared);
        Analysis {
            analyzer: self.clone(),
            text: text.to_string(),
            normalized,
            prepared,
            words,
        }
    }

    /// `analysis` itself when this analyzer made it, otherwise the text analysed again here.
    pub fn reuse<'a>(&self, analysis: &'a Analysis) -> std::borrow::Cow<'a, Analysis> {
        if analysis.analyzer.same_as(self) {
            std::borrow::Cow::Borrowed(analysis)
        } else {
            std::borrow::Cow::Owned(self.analyse(&analysis.text))
        }
    }
}

impl Analysis {
    /// The text as it was sent.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The normalised text (Simplified, half-width, lower case, spaces collapsed).
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The normalised text with synonyms rewritten: what the index and the model's words see.
    pub fn prepared(&self) -> &str {
        &self.prepared
    }

    /// jieba's search-mode words of the prepared text, punctuation dropped (in order, repeats
    /// kept): the same as [`Analyzer::words`] of [`Analysis::prepared`].
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|r| &self.prepared[r.clone()])
    }

    /// The words without stopwords, first occurrence only: [`Analyzer::content_words`].
    pub fn content_words(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.words()
            .filter(|w| !is_stopword(w) && seen.insert(*w))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> Analyzer {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        Analyzer::load(&dir).unwrap()
    }

    #[test]
    fn an_analysis_reads_the_same_as_the_analyzer_on_the_text() {
        let analyzer = analyzer();
        for text in [
            "身份證掉了去哪補辦？",
            "ＧＪＪ怎么提取",
            "北湖区和平路8号的路灯坏了，电话13912345678",
            "！！",
        ] {
            let analysis = analyzer.analyse(text);
            let prepared = analyzer.prepare(text);
            assert_eq!(analysis.normalized(), crate::text::normalize(text));
            assert_eq!(analysis.prepared(), prepared);
            assert_eq!(
                analysis.words().collect::<Vec<_>>(),
                analyzer.words(&prepared)
            );
            assert_eq!(analysis.content_words(), analyzer.content_words(&prepared));
        }
    }

    #[test]
    fn another_analyzer_analyses_the_text_again() {
        let (first, second) = (analyzer(), analyzer());
        let analysis = first.analyse("公积金怎么取");
        assert!(matches!(
            first.reuse(&analysis),
            std::borrow::Cow::Borrowed(_)
        ));
        let again = second.reuse(&analysis);
        assert!(matches!(again, std::borrow::Cow::Owned(_)));
        assert_eq!(again.prepared(), analysis.prepared());
    }
}
