//! The knowledge base (知识库): articles, their index, and the decision to answer or not.
//!
//! A [`KnowledgeBase`] holds the current [`Snapshot`] behind an atomic pointer: a reload builds a
//! whole new snapshot off to the side and swaps it in, so a query always sees one consistent
//! version and never a half-built index. A broken article is rejected with its file and line while
//! the others keep serving.

mod analysis;
mod analyzer;
mod article;
pub mod eval;
mod index;

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use jiff::civil::Date;

pub use analysis::Analysis;
pub use analyzer::{Analyzer, pinyin_bigrams};
pub use article::{Article, ArticleError, SUMMARY_MAX_CHARS, article_files};
use index::ArticleIndex;

/// How many hits a lookup returns.
pub const MAX_HITS: usize = 5;
/// A set of words, read many times per lookup and built from our own articles only: hashed with
/// rustc-hash's Fx (no user text is ever inserted, so no collision flooding to guard against).
type Words = rustc_hash::FxHashSet<String>;

const ARTICLES_DIR: &str = "articles";
/// Share of a matched word's weight credited when it matched only by sound.
const HOMOPHONE_CREDIT: f32 = 0.8;
/// Share of a word's weight credited when only the answer text mentions it.
const BODY_CREDIT: f32 = 0.5;
/// How much a clear lead over the second hit adds to the confidence.
const MARGIN_WEIGHT: f32 = 0.3;

#[derive(Debug, Clone, thiserror::Error)]
pub enum KbError {
    #[error("knowledge base: {0}")]
    Io(String),
    #[error("knowledge base: {0}")]
    Invalid(String),
    #[error("knowledge base index: {0}")]
    Index(String),
}

/// Thresholds and scope of automatic answers.
#[derive(Debug, Clone)]
pub struct AnswerPolicy {
    pub answer_threshold: f32,
    pub suggest_threshold: f32,
    /// The region served; an article for another region never answers automatically.
    pub region: String,
}

/// One loaded, indexed version of the knowledge base.
pub struct Snapshot {
    articles: Vec<Arc<Article>>,
    by_id: HashMap<String, usize>,
    /// Per article: the words of its title, questions and keywords.
    lexicons: Vec<Words>,
    /// Per article: the same words as pinyin ("dengji"), to credit homophone typos.
    sound_lexicons: Vec<Words>,
    /// Per article: the words of its summary and answer text.
    body_lexicons: Vec<Words>,
    /// Inverse document frequency of lexicon words.
    idf: FxHashMap<String, f32>,
    index: ArticleIndex,
    analyzer: Analyzer,
    rejected: Vec<ArticleError>,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub article: Arc<Article>,
    pub score: f32,
}

#[derive(Debug, Clone)]
pub enum Decision {
    /// Confident: answer with this article.
    Answer(Arc<Article>),
    /// Close but not sure: offer these.
    Suggest(Vec<Arc<Article>>),
    /// Nothing close enough.
    Nothing,
}

#[derive(Debug, Clone)]
pub struct Lookup {
    pub hits: Vec<Hit>,
    pub confidence: f32,
    pub decision: Decision,
}

impl Lookup {
    pub fn answer(&self) -> Option<&Arc<Article>> {
        match &self.decision {
            Decision::Answer(a) => Some(a),
            _ => None,
        }
    }
}

impl Snapshot {
    /// Loads every article under `dir/articles`, plus the dictionary and synonyms in `dir`.
    pub fn load(
        dir: &Path,
        default_region: &str,
        progress: impl FnMut(usize, usize),
    ) -> Result<Snapshot, KbError> {
        let analyzer = Analyzer::load(dir)?;
        Snapshot::load_with(analyzer, dir, default_region, progress)
    }

    /// Like [`Snapshot::load`], reusing an analyzer (jieba's dictionary is costly to load).
    pub fn load_with(
        analyzer: Analyzer,
        dir: &Path,
        default_region: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Snapshot, KbError> {
        let articles_dir = dir.join(ARTICLES_DIR);
        let files = article_files(&articles_dir)
            .map_err(|e| KbError::Io(format!("{}: {e}", articles_dir.display())))?;
        let (articles, rejected) = parse_all(&files, default_region);
        let total = articles.len();
        let index = ArticleIndex::build(&analyzer, &articles, |done| progress(done, total))?;
        let lexicons: Vec<Words> = articles.iter().map(|a| lexicon(&analyzer, a)).collect();
        let idf = inverse_document_frequency(&lexicons);
        let body_lexicons = articles
            .iter()
            .map(|a| words_of(&analyzer, &format!("{}\n{}", a.summary, a.body)))
            .collect();
        let sound_lexicons = lexicons
            .iter()
            .map(|l| l.iter().filter_map(|w| sound_of(w)).collect())
            .collect();
        let by_id = articles
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        Ok(Snapshot {
            articles,
            by_id,
            lexicons,
            sound_lexicons,
            body_lexicons,
            idf,
            index,
            analyzer,
            rejected,
        })
    }

    pub fn articles(&self) -> &[Arc<Article>] {
        &self.articles
    }

    pub fn article(&self, id: &str) -> Option<&Arc<Article>> {
        self.by_id.get(id).map(|&i| &self.articles[i])
    }

    /// Articles that failed to load, with their location and reason.
    pub fn rejected(&self) -> &[ArticleError] {
        &self.rejected
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Every problem a knowledge editor must fix: articles that failed to load, plus expired
    /// articles, ids that differ from their file name, unknown units and unknown regions.
    pub fn check(
        &self,
        is_known_unit: impl Fn(&str) -> bool,
        regions: &[String],
        today: Date,
    ) -> Vec<ArticleError> {
        let mut problems = self.rejected.clone();
        for a in &self.articles {
            let at = |field: &str, message: String| ArticleError {
                file: a.path.display().to_string(),
                line: a.line_of(field),
                message,
            };
            if a.expires < today {
                problems.push(at(
                    "expires",
                    format!("expired on {} (失效): update or remove it", a.expires),
                ));
            }
            if a.path
                .file_stem()
                .is_some_and(|stem| stem.to_string_lossy() != a.id)
            {
                problems.push(at(
                    "id",
                    format!("id `{}` differs from the file name", a.id),
                ));
            }
            if !is_known_unit(&a.unit) {
                problems.push(at(
                    "unit",
                    format!("unknown unit `{}` (see config/units.toml)", a.unit),
                ));
            }
            if !regions.iter().any(|r| *r == a.region) {
                problems.push(at("region", format!("unknown region `{}`", a.region)));
            }
        }
        problems.sort_by(|x, y| (&x.file, x.line).cmp(&(&y.file, y.line)));
        problems
    }

    /// Searches and decides whether to answer, suggest or neither.
    pub fn lookup(
        &self,
        text: &str,
        policy: &AnswerPolicy,
        today: Date,
    ) -> Result<Lookup, KbError> {
        self.lookup_analysed(&self.analyzer.analyse(text), policy, today)
    }

    /// [`Snapshot::lookup`] of a message already analysed (by this snapshot's analyzer, or it
    /// is analysed again).
    pub fn lookup_analysed(
        &self,
        analysis: &Analysis,
        policy: &AnswerPolicy,
        today: Date,
    ) -> Result<Lookup, KbError> {
        let analysis = self.analyzer.reuse(analysis);
        let prepared = analysis.prepared();
        let words = analysis.content_words();
        let bigrams = pinyin_bigrams(prepared);
        let scored = self.index.search(&words, &bigrams, MAX_HITS * 4)?;
        let hits: Vec<Hit> = scored
            .iter()
            .map(|s| Hit {
                article: self.articles[s.ord].clone(),
                score: s.score,
            })
            .filter(|h| h.article.is_current(today))
            .take(MAX_HITS)
            .collect();
        let confidence = match scored.first() {
            Some(top)
                if hits
                    .first()
                    .is_some_and(|h| Arc::ptr_eq(&h.article, &self.articles[top.ord])) =>
            {
                self.confidence(&self.analyzer.whole_words(prepared), top.ord, &hits)
            }
            _ => 0.0,
        };
        let decision = decide(&hits, confidence, policy, prepared);
        Ok(Lookup {
            hits,
            confidence,
            decision,
        })
    }

    /// A calibrated confidence in [0, 1] that the top hit answers the query.
    ///
    /// Raw BM25 scores shift as the knowledge base grows, so the confidence is built from
    /// scale-free parts: how much of what the citizen said (weighted by how specific each word
    /// is) the article's title, questions and keywords explain, and how far the top hit leads the
    /// second.
    fn confidence(&self, words: &[&str], top: usize, hits: &[Hit]) -> f32 {
        if words.is_empty() {
            return 0.0;
        }
        let unknown_idf = (1.0 + self.articles.len() as f32).ln();
        let lexicon = &self.lexicons[top];
        let sounds = &self.sound_lexicons[top];
        let (mut matched, mut total) = (0.0f32, 0.0f32);
        for w in words
            .iter()
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        {
            let known = self.idf.get(*w).copied();
            // A single character says little on its own (次, 第, 个): half weight.
            let short = if w.chars().count() == 1 { 0.5 } else { 1.0 };
            let weight = known.unwrap_or(unknown_idf) * short;
            total += weight;
            if lexicon.contains(*w) {
                matched += weight;
            } else if sound_of(w).is_some_and(|s| sounds.contains(&s)) {
                // A homophone typo (登计 for 登记): credited, a little less than the real word.
                matched += HOMOPHONE_CREDIT * weight;
            } else if self.body_lexicons[top].contains(*w) {
                // Mentioned in the answer text: related, but not what the article is about.
                matched += BODY_CREDIT * weight;
            }
        }
        let coverage = if total > 0.0 { matched / total } else { 0.0 };
        let margin = match hits {
            [first, second, ..] if first.score > 0.0 => 1.0 - second.score / first.score,
            [_] => 1.0,
            _ => 0.0,
        };
        (coverage * (1.0 - MARGIN_WEIGHT + MARGIN_WEIGHT * margin.clamp(0.0, 1.0))).clamp(0.0, 1.0)
    }
}

fn decide(hits: &[Hit], confidence: f32, policy: &AnswerPolicy, prepared: &str) -> Decision {
    let Some(top) = hits.first() else {
        return Decision::Nothing;
    };
    let in_region = top.article.region == policy.region || prepared.contains(&top.article.region);
    if confidence >= policy.answer_threshold && in_region {
        return Decision::Answer(top.article.clone());
    }
    if confidence >= policy.suggest_threshold {
        return Decision::Suggest(hits.iter().take(3).map(|h| h.article.clone()).collect());
    }
    Decision::Nothing
}

fn parse_all(files: &[PathBuf], default_region: &str) -> (Vec<Arc<Article>>, Vec<ArticleError>) {
    let mut articles: Vec<Arc<Article>> = Vec::new();
    let mut rejected = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for path in files {
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| ArticleError {
                file: path.display().to_string(),
                line: 1,
                message: e.to_string(),
            })
            .and_then(|text| Article::parse(path, &text, default_region));
        match parsed {
            Ok(article) => {
                if let Some(first) = seen.get(&article.id) {
                    rejected.push(ArticleError {
                        file: path.display().to_string(),
                        line: article.line_of("id"),
                        message: format!(
                            "duplicate id `{}` (also in {})",
                            article.id,
                            first.display()
                        ),
                    });
                    continue;
                }
                seen.insert(article.id.clone(), path.clone());
                articles.push(Arc::new(article));
            }
            Err(e) => rejected.push(e),
        }
    }
    (articles, rejected)
}

fn lexicon(analyzer: &Analyzer, article: &Article) -> Words {
    let text = format!(
        "{}\n{}\n{}",
        article.title,
        article.questions.join("\n"),
        article.keywords.join("\n")
    );
    words_of(analyzer, &text)
}

fn words_of(analyzer: &Analyzer, text: &str) -> Words {
    let prepared = analyzer.prepare(text);
    analyzer
        .content_words(&prepared)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// The pinyin of a word of two or more Han characters ("登记" → "dengji").
fn sound_of(word: &str) -> Option<String> {
    let chars = word.chars().count();
    if chars < 2 || !word.chars().all(crate::text::is_han) {
        return None;
    }
    Some(crate::text::pinyin_syllables(word).concat())
}

fn inverse_document_frequency(lexicons: &[Words]) -> FxHashMap<String, f32> {
    let mut df: HashMap<&str, usize> = HashMap::new();
    for lexicon in lexicons {
        for w in lexicon {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    let n = lexicons.len() as f32;
    df.into_iter()
        .map(|(w, d)| (w.to_string(), (1.0 + n / d as f32).ln()))
        .collect()
}

/// The knowledge base as the server holds it: the current snapshot, swapped atomically on reload.
pub struct KnowledgeBase {
    current: ArcSwap<Snapshot>,
    dir: PathBuf,
    policy: AnswerPolicy,
    reload_lock: tokio::sync::Mutex<()>,
}

impl KnowledgeBase {
    pub fn new(snapshot: Snapshot, dir: PathBuf, policy: AnswerPolicy) -> KnowledgeBase {
        KnowledgeBase {
            current: ArcSwap::from_pointee(snapshot),
            dir,
            policy,
            reload_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn policy(&self) -> &AnswerPolicy {
        &self.policy
    }

    pub fn lookup(&self, text: &str, today: Date) -> Result<Lookup, KbError> {
        self.current.load().lookup(text, &self.policy, today)
    }

    /// [`KnowledgeBase::lookup`] of a message the classifier already analysed.
    pub fn lookup_analysed(&self, analysis: &Analysis, today: Date) -> Result<Lookup, KbError> {
        self.current
            .load()
            .lookup_analysed(analysis, &self.policy, today)
    }

    /// Re-reads the folder and swaps the new version in; returns it. Concurrent reloads queue.
    pub async fn reload(&self) -> Result<Arc<Snapshot>, KbError> {
        let _guard = self.reload_lock.lock().await;
        let dir = self.dir.clone();
        let region = self.policy.region.clone();
        let snapshot =
            tokio::task::spawn_blocking(move || Snapshot::load(&dir, &region, |_, _| {}))
                .await
                .map_err(|e| KbError::Io(e.to_string()))??;
        let snapshot = Arc::new(snapshot);
        self.current.store(snapshot.clone());
        Ok(snapshot)
    }
}
