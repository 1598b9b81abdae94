//! Knowledge gaps (知识库缺口): consultations that fell through to tickets (the knowledge base had
//! no answer) grouped by their key terms into suggested new articles, and articles citizens marked
//! 没帮助 as suggested improvements; both ranked by how many citizens they would have served.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::sync::Arc;

use jieba_rs::{DEFAULT_STOP_WORDS, Jieba};
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

/// jieba's IDF table (`knowledge/keyterms/`), compressed in the binary.
static IDF_GZ: &[u8] = include_bytes!("../../knowledge/keyterms/idf.txt.gz");

/// The parts of speech a key term may be: nouns, verbal nouns, names, verbs.
const KEY_POS: [&str; 6] = ["n", "vn", "nz", "nt", "nr", "v"];

/// Finds the key terms of consultation texts: jieba TF-IDF over nouns and verbs, the terms
/// `jieba_rs::TfIdf::default()` would find.
///
/// The server shares the knowledge base's jieba ([`KeyTerms::sharing`]): one dictionary in
/// memory, not two (~25 MB). Without one (the CLI reports, tests) jieba's own is loaded on first
/// use. The IDF table is read for one batch of texts ([`KeyTerms::subjects`]), keeping only the
/// weights of that batch's words: jieba-rs's `TfIdf` would hold all 270,000 (~20 MB) while a
/// report is made.
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

    /// The key terms of each text, in order: its two strongest terms (term frequency × IDF; on
    /// a tie the word first in byte order), sorted and joined by a space; `None` for a text
    /// with no candidate word. Each text is cut once; the IDF table is read once for all of
    /// them and only their words' weights are kept.
    pub fn subjects(&self, texts: &[&str]) -> Vec<Option<String>> {
        let jieba: &Jieba = self.jieba.get_or_init(|| Arc::new(Jieba::new()));
        let counts: Vec<Vec<(&str, u64)>> = texts.iter().map(|t| candidates(jieba, t)).collect();
        let wanted: HashSet<&str> = counts.iter().flatten().map(|(w, _)| *w).collect();
        if wanted.is_empty() {
            return vec![None; texts.len()];
        }
        let (idf, median) = read_idf(&wanted);
        counts
            .iter()
            .map(|words| strongest_two(words, &idf, median))
            .collect()
    }
}

/// The candidate words of `text` with how often each occurs, in order of first occurrence.
fn candidates<'t>(jieba: &'t Jieba, text: &'t str) -> Vec<(&'t str, u64)> {
    let mut counts: Vec<(&str, u64)> = Vec::new();
    for tag in jieba.tag(text, false) {
        if is_candidate(tag.word, tag.tag) {
            match counts.iter_mut().find(|(w, _)| *w == tag.word) {
                Some((_, n)) => *n += 1,
                None => counts.push((tag.word, 1)),
            }
        }
    }
    counts
}

/// The two strongest of `words` (see [`KeyTerms::subjects`]).
fn strongest_two(words: &[(&str, u64)], idf: &HashMap<String, f64>, median: f64) -> Option<String> {
    let total: u64 = words.iter().map(|(_, n)| n).sum();
    let mut weighted: Vec<(f64, &str)> = words
        .iter()
        .map(|(word, n)| {
            let idf = idf.get(*word).copied().unwrap_or(median);
            (*n as f64 * idf / total as f64, *word)
        })
        .collect();
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut terms: Vec<&str> = weighted.into_iter().take(2).map(|(_, w)| w).collect();
    if terms.is_empty() {
        return None;
    }
    terms.sort();
    Some(terms.join(" "))
}

/// A word that may be a key term: a noun or verb of two characters or more, not a stop word
/// (jieba-rs's `KeywordExtractConfig::default()` rules).
fn is_candidate(word: &str, pos: &str) -> bool {
    if !KEY_POS.contains(&pos) || word.chars().count() < 2 || DEFAULT_STOP_WORDS.contains(word) {
        return false;
    }
    !word.chars().any(char::is_uppercase) || !DEFAULT_STOP_WORDS.contains(&word.to_lowercase())
}

/// The IDF of each `wanted` word found in the table, and the table's median IDF (the lower
/// median of every line, what a word missing from it weighs).
fn read_idf(wanted: &HashSet<&str>) -> (HashMap<String, f64>, f64) {
    let mut idf = HashMap::new();
    let mut all: Vec<f64> = Vec::with_capacity(280_000);
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(IDF_GZ)).lines();
    for line in lines {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                // The table is part of the binary; a broken one is a build fault.
                tracing::error!(error = %e, "the key-term IDF table could not be read to its end");
                break;
            }
        };
        let mut parts = line.split_whitespace();
        if let (Some(word), Some(value)) = (parts.next(), parts.next().and_then(|v| v.parse().ok()))
        {
            all.push(value);
            if wanted.contains(word) {
                idf.insert(word.to_string(), value);
            }
        }
    }
    let median = if all.is_empty() {
        0.0
    } else {
        let mid = (all.len() - 1) / 2;
        *all.select_nth_unstable_by(mid, f64::total_cmp).1
    };
    (idf, median)
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
    let texts: Vec<&str> = consultations.iter().map(|c| c.text).collect();
    for (c, subject) in consultations.iter().zip(terms.subjects(&texts)) {
        let Some(subject) = subject else {
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

    /// The key terms are the ones jieba-rs's own TF-IDF extractor finds with its default table,
    /// for consultations of many shapes (written for this test).
    #[test]
    fn key_terms_match_jieba_tfidf_with_its_default_table() {
        use jieba_rs::{KeywordExtract, TfIdf};
        let texts = [
            "居住证办理需要什么材料",
            "请问护照加急办理多久能拿到",
            "公积金租房提取每个月能取多少钱",
            "小孩上小学报名要准备哪些证件，户口不在本区可以吗",
            "医保卡丢了怎么补办，要去哪个窗口",
            "新能源汽车牌照摇号怎么申请",
            "我想咨询一下失业金领取条件和流程",
            "老人办理高龄津贴需要本人到场吗？",
            "营业执照经营范围变更在网上能办吗",
            "出租屋消防检查的标准是什么",
            "残疾证换证需要体检吗",
            "社保断缴三个月对买房有影响吗",
            "ETC怎么注销，银行说要去服务网点",
            "孩子打疫苗在哪里预约，周末开门吗",
            "办理结婚登记要带户口本原件吗",
            "人才引进落户的学历要求",
            "不动产登记证明怎么查询",
            "垃圾分类厨余垃圾几点收",
            "好",
            "",
        ];
        let subjects = KeyTerms::default().subjects(&texts);
        let jieba = Jieba::new();
        let reference = TfIdf::default();
        let pos: Vec<String> = KEY_POS.map(String::from).to_vec();
        for (text, subject) in texts.iter().zip(subjects) {
            let mut expected: Vec<String> = reference
                .extract_keywords(&jieba, text, 2, pos.clone())
                .into_iter()
                .map(|k| k.keyword)
                .collect();
            expected.sort();
            let expected = (!expected.is_empty()).then(|| expected.join(" "));
            assert_eq!(subject, expected, "{text}");
        }
        // Only the weights asked for are kept, and the table has them.
        let wanted: HashSet<&str> = ["居住证", "材料", "不在表里的词语"].into();
        let (idf, median) = read_idf(&wanted);
        assert_eq!(idf.len(), 2, "{idf:?}");
        assert!(median > 0.0 && idf["居住证"] > median, "{idf:?} {median}");
    }

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
