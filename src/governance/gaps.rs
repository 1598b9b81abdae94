//! Knowledge gaps (知识库缺口): consultations that fell through to tickets (the knowledge base had
//! no answer) grouped by their key terms into suggested new articles, and articles citizens marked
//! 没帮助 as suggested improvements; both ranked by how many citizens they would have served.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jieba_rs::{Jieba, KeywordExtract, TfIdf};
use serde::Serialize;

use crate::domain::ArticleFeedback;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum GapKind {
    /// 新增: no article answered these consultations.
    #[serde(rename = "新增")]
    New,
    /// 完善: an article answered, and citizens said it did not help.
    #[serde(rename = "完善")]
    Improve,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnowledgeGap {
    pub kind: GapKind,
    /// The key terms (新增) or the article id (完善).
    pub subject: String,
    /// Citizens it would have served: distinct citizens (新增) or 没帮助 votes (完善).
    pub citizens: u64,
    /// Consultations (新增) or all votes (完善).
    pub requests: u64,
    /// Up to three of the questions, long digit runs masked.
    pub examples: Vec<String>,
}

/// Finds the key terms of consultation texts (jieba TF-IDF, nouns and verbal nouns).
///
/// The server shares the knowledge base's jieba ([`KeyTerms::sharing`]): one dictionary in
/// memory, not two (~25 MB). Without one (the CLI reports, tests) jieba's own is loaded on first
/// use. The IDF table (~20 MB) is loaded for one batch of texts ([`KeyTerms::extractor`]) and
/// freed after it, so a server holds it only while a report is being made.
#[derive(Default)]
pub struct KeyTerms {
    jieba: std::sync::OnceLock<Arc<Jieba>>,
}

impl KeyTerms {
    /// Key terms cut with `jieba` (the knowledge base's, already loaded).
    pub fn sharing(jieba: Arc<Jieba>) -> KeyTerms {
        let terms = KeyTerms::default();
        let _ = terms.jieba.set(jieba);
        terms
    }

    /// An extractor for one batch of texts, holding the IDF table until it is dropped.
    pub fn extractor(&self) -> TermExtractor<'_> {
        TermExtractor {
            jieba: self.jieba.get_or_init(|| Arc::new(Jieba::new())),
            tfidf: TfIdf::default(),
        }
    }
}

/// [`KeyTerms`] with its IDF table loaded: what one report uses, then drops.
pub struct TermExtractor<'a> {
    jieba: &'a Jieba,
    tfidf: TfIdf,
}

impl TermExtractor<'_> {
    /// The two strongest terms of `text`, in a stable order, joined by a space.
    pub fn subject(&self, text: &str) -> Option<String> {
        let pos = ["n", "vn", "nz", "nt", "nr", "v"]
            .map(String::from)
            .to_vec();
        let mut terms: Vec<String> = self
            .tfidf
            .extract_keywords(self.jieba, text, 2, pos)
            .into_iter()
            .map(|k| k.keyword)
            .collect();
        if terms.is_empty() {
            return None;
        }
        terms.sort();
        Some(terms.join(" "))
    }
}

/// One consultation that became a ticket: its text and (a hash of) who asked.
pub struct Consultation<'a> {
    pub text: &'a str,
    pub citizen: Option<u64>,
}

/// The gaps, best first: new articles from `consultations`, improvements from `feedback`.
pub fn knowledge_gaps(
    consultations: &[Consultation<'_>],
    feedback: &[(String, ArticleFeedback)],
    terms: &KeyTerms,
    limit: usize,
) -> Vec<KnowledgeGap> {
    struct Group<'a> {
        citizens: BTreeSet<u64>,
        anonymous: u64,
        requests: u64,
        examples: BTreeSet<&'a str>,
    }
    let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
    let extractor = (!consultations.is_empty()).then(|| terms.extractor());
    for c in consultations {
        let Some(subject) = extractor.as_ref().and_then(|e| e.subject(c.text)) else {
            continue;
        };
        let g = groups.entry(subject).or_insert_with(|| Group {
            citizens: BTreeSet::new(),
            anonymous: 0,
            requests: 0,
            examples: BTreeSet::new(),
        });
        g.requests += 1;
        match c.citizen {
            Some(h) => {
                g.citizens.insert(h);
            }
            None => g.anonymous += 1,
        }
        if g.examples.len() < 3 {
            g.examples.insert(c.text);
        }
    }
    drop(extractor);
    let mut gaps: Vec<KnowledgeGap> = groups
        .into_iter()
        .filter(|(_, g)| g.requests >= 2)
        .map(|(subject, g)| KnowledgeGap {
            kind: GapKind::New,
            subject,
            citizens: g.citizens.len() as u64 + g.anonymous,
            requests: g.requests,
            examples: g.examples.into_iter().map(mask_digits).collect(),
        })
        .collect();
    gaps.extend(
        feedback
            .iter()
            .filter(|(_, f)| f.not_helpful > 0)
            .map(|(article, f)| KnowledgeGap {
                kind: GapKind::Improve,
                subject: article.clone(),
                citizens: f.not_helpful,
                requests: f.helpful + f.not_helpful,
                examples: Vec::new(),
            }),
    );
    gaps.sort_by(|a, b| {
        b.citizens
            .cmp(&a.citizens)
            .then(b.requests.cmp(&a.requests))
            .then(a.subject.cmp(&b.subject))
    });
    gaps.truncate(limit);
    gaps
}

/// Runs of five or more digits (phone numbers, ids) become `***`.
fn mask_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 5 {
            out.push_str("***");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_consultations_become_one_suggested_article_ranked_by_citizens() {
        let terms = KeyTerms::default();
        let texts = [
            ("居住证办理需要什么材料", Some(1)),
            ("居住证办理需要什么材料？", Some(2)),
            ("居住证办理需要什么材料", Some(2)),
            ("护照加急办理多久", Some(3)),
            ("护照加急办理多久", Some(4)),
            ("护照加急办理多久", Some(5)),
            ("我的电话13812345678", Some(6)),
        ];
        let consultations: Vec<Consultation> = texts
            .iter()
            .map(|(text, citizen)| Consultation {
                text,
                citizen: *citizen,
            })
            .collect();
        let feedback = vec![(
            "unemployment-registration".to_string(),
            ArticleFeedback {
                helpful: 3,
                not_helpful: 1,
            },
        )];
        let gaps = knowledge_gaps(&consultations, &feedback, &terms, 10);
        assert_eq!(gaps[0].kind, GapKind::New);
        assert!(gaps[0].subject.contains("护照"), "{gaps:?}");
        assert_eq!(gaps[0].citizens, 3);
        assert!(
            gaps[1].examples.iter().all(|e| e.contains("居住证")),
            "{gaps:?}"
        );
        assert_eq!((gaps[1].citizens, gaps[1].requests), (2, 3));
        assert_eq!(gaps.last().map(|g| g.kind.clone()), Some(GapKind::Improve));
        assert!(
            gaps.iter()
                .all(|g| g.examples.iter().all(|e| !e.contains("13812345678")))
        );
    }

    #[test]
    fn long_digit_runs_are_masked() {
        assert_eq!(mask_digits("电话13812345678，3号楼"), "电话***，3号楼");
    }
}
