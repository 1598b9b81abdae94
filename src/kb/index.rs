//! The tantivy index over the articles: fields, weights and the query built from analyzer terms.
//!
//! User text never reaches tantivy's `QueryParser` (an unspaced Chinese sentence would become one
//! exact phrase, and `: ( ) "` are syntax): the query is a disjunction of term queries built from
//! the analyzer's words and pinyin bigrams, each field with its own weight.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, ReloadPolicy, Searcher, TantivyDocument, Term, doc};

use super::KbError;
use super::analyzer::{Analyzer, pinyin_bigrams};
use super::article::Article;

const JIEBA: &str = "jieba";
const WHITESPACE: &str = "ws";
const WRITER_MEMORY: usize = 50_000_000;

/// Field weights: what a citizen asks matches titles and alternative questions best.
const TITLE_BOOST: f32 = 3.0;
const QUESTIONS_BOOST: f32 = 2.0;
const KEYWORDS_BOOST: f32 = 2.0;
const BODY_BOOST: f32 = 0.4;
const PINYIN_BOOST: f32 = 0.6;

#[derive(Clone, Copy)]
struct Fields {
    ord: Field,
    title: Field,
    questions: Field,
    keywords: Field,
    body: Field,
    pinyin: Field,
}

/// The index is built once and never changes (a reload builds a new one), so one searcher
/// serves every query, with what each query would otherwise look up again: the article of each
/// document, the terms each field holds and the BM25 statistics of the whole index.
pub struct ArticleIndex {
    searcher: Searcher,
    fields: Fields,
    /// Per segment, per document: the article's position in the snapshot.
    ords: Vec<Vec<usize>>,
    /// The terms of each searched field with their document frequencies. A query term a field
    /// does not hold matches nothing and adds nothing to any score, so it is left out of the
    /// query (and a query left with no term is not run at all).
    vocabulary: Vocabulary,
}

/// Per field: each term it holds and how many documents hold it (read for every query word;
/// built from the articles only, so hashed with rustc-hash's Fx).
type Terms = rustc_hash::FxHashMap<Vec<u8>, u64>;

struct Vocabulary {
    title: Terms,
    questions: Terms,
    keywords: Terms,
    body: Terms,
    pinyin: Terms,
    /// Tokens per field over all documents (BM25's average field length).
    tokens: HashMap<Field, u64>,
    documents: u64,
}

impl Vocabulary {
    fn of(&self, fields: &Fields, field: Field) -> Option<&Terms> {
        [
            (fields.title, &self.title),
            (fields.questions, &self.questions),
            (fields.keywords, &self.keywords),
            (fields.body, &self.body),
            (fields.pinyin, &self.pinyin),
        ]
        .into_iter()
        .find_map(|(f, terms)| (f == field).then_some(terms))
    }
}

/// The statistics BM25 reads for each query term, from the tables made at build time instead of
/// term-dictionary look-ups in every segment on every query: the same numbers (the index never
/// changes), so the same scores.
struct Statistics<'a> {
    vocabulary: &'a Vocabulary,
    fields: &'a Fields,
}

impl Bm25StatisticsProvider for Statistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        Ok(self.vocabulary.tokens.get(&field).copied().unwrap_or(0))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.vocabulary.documents)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(self
            .vocabulary
            .of(self.fields, term.field())
            .and_then(|terms| terms.get(term.serialized_value_bytes()))
            .copied()
            .unwrap_or(0))
    }
}

/// One search result: the article's position in the snapshot and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredOrd {
    pub ord: usize,
    pub score: f32,
}

impl ArticleIndex {
    /// Builds an in-memory index of `articles`; `progress` is called after each article.
    pub fn build(
        analyzer: &Analyzer,
        articles: &[Arc<Article>],
        mut progress: impl FnMut(usize),
    ) -> Result<ArticleIndex, KbError> {
        let mut builder = Schema::builder();
        let text = |tokenizer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
        };
        let fields = Fields {
            ord: builder.add_u64_field("ord", FAST),
            title: builder.add_text_field("title", text(JIEBA)),
            questions: builder.add_text_field("questions", text(JIEBA)),
            keywords: builder.add_text_field("keywords", text(JIEBA)),
            body: builder.add_text_field("body", text(JIEBA)),
            pinyin: builder.add_text_field("pinyin", text(WHITESPACE)),
        };
        let index = Index::create_in_ram(builder.build());
        index
            .tokenizers()
            .register(JIEBA, TextAnalyzer::from(analyzer.tokenizer()));
        index.tokenizers().register(
            WHITESPACE,
            TextAnalyzer::from(WhitespaceTokenizer::default()),
        );
        // One indexing thread makes one segment: a query then sets up one scorer per term and
        // field instead of one per segment (the scores are the same, from index-wide statistics).
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY)
            .map_err(tantivy_error)?;
        for (ord, article) in articles.iter().enumerate() {
            let title = analyzer.prepare(&article.title);
            let questions = analyzer.prepare(&article.questions.join("\n"));
            let keywords = analyzer.prepare(&article.keywords.join("\n"));
            let body = analyzer.prepare(&format!("{}\n{}", article.summary, article.body));
            let pinyin = [&title, &questions, &keywords]
                .iter()
                .flat_map(|t| pinyin_bigrams(t))
                .collect::<Vec<_>>()
                .join(" ");
            writer
                .add_document(doc!(
                    fields.ord => ord as u64,
                    fields.title => title,
                    fields.questions => questions,
                    fields.keywords => keywords,
                    fields.body => body,
                    fields.pinyin => pinyin,
                ))
                .map_err(tantivy_error)?;
            progress(ord + 1);
        }
        writer.commit().map_err(tantivy_error)?;
        let searcher = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_error)?
            .searcher();
        let ords = searcher
            .segment_readers()
            .iter()
            .map(|segment| {
                let column = segment.fast_fields().u64("ord").map_err(tantivy_error)?;
                Ok((0..segment.max_doc())
                    .map(|doc| column.first(doc).unwrap_or_default() as usize)
                    .collect())
            })
            .collect::<Result<Vec<Vec<usize>>, KbError>>()?;
        let terms = |field: Field| terms_of(&searcher, field);
        let searched = [
            fields.title,
            fields.questions,
            fields.keywords,
            fields.body,
            fields.pinyin,
        ];
        let vocabulary = Vocabulary {
            title: terms(fields.title)?,
            questions: terms(fields.questions)?,
            keywords: terms(fields.keywords)?,
            body: terms(fields.body)?,
            pinyin: terms(fields.pinyin)?,
            tokens: searched
                .into_iter()
                .map(|field| {
                    let tokens = Bm25StatisticsProvider::total_num_tokens(&searcher, field);
                    Ok((field, tokens.map_err(tantivy_error)?))
                })
                .collect::<Result<_, KbError>>()?,
            documents: Bm25StatisticsProvider::total_num_docs(&searcher).map_err(tantivy_error)?,
        };
        Ok(ArticleIndex {
            searcher,
            fields,
            ords,
            vocabulary,
        })
    }

    /// The best `limit` articles for the query's words and pinyin bigrams.
    pub fn search(
        &self,
        words: &[&str],
        bigrams: &[String],
        limit: usize,
    ) -> Result<Vec<ScoredOrd>, KbError> {
        let (f, v) = (self.fields, &self.vocabulary);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut term = |field: Field, held: &Terms, text: &str, boost: f32| {
            if !held.contains_key(text.as_bytes()) {
                return;
            }
            let query = TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(query), boost)),
            ));
        };
        for word in words {
            term(f.title, &v.title, word, TITLE_BOOST);
            term(f.questions, &v.questions, word, QUESTIONS_BOOST);
            term(f.keywords, &v.keywords, word, KEYWORDS_BOOST);
            term(f.body, &v.body, word, BODY_BOOST);
        }
        for bigram in bigrams {
            term(f.pinyin, &v.pinyin, bigram, PINYIN_BOOST);
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(clauses);
        let statistics = Statistics {
            vocabulary: &self.vocabulary,
            fields: &self.fields,
        };
        let top = self
            .searcher
            .search_with_statistics_provider(
                &query,
                &TopDocs::with_limit(limit).order_by_score(),
                &statistics,
            )
            .map_err(tantivy_error)?;
        Ok(top
            .into_iter()
            .filter_map(|(score, address)| {
                let ord = *self
                    .ords
                    .get(address.segment_ord as usize)?
                    .get(address.doc_id as usize)?;
                Some(ScoredOrd { ord, score })
            })
            .collect())
    }
}

/// Every term `field` holds and its document frequency, over all segments.
fn terms_of(searcher: &Searcher, field: Field) -> Result<Terms, KbError> {
    let mut terms = Terms::default();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field).map_err(tantivy_error)?;
        let mut stream = inverted
            .terms()
            .stream()
            .map_err(|e| KbError::Index(e.to_string()))?;
        while stream.advance() {
            *terms.entry(stream.key().to_vec()).or_default() += u64::from(stream.value().doc_freq);
        }
    }
    Ok(terms)
}

fn tantivy_error(e: tantivy::TantivyError) -> KbError {
    KbError::Index(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ArticleIndex {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let analyzer = Analyzer::load(&dir).unwrap();
        let files = super::super::article::article_files(&dir.join("articles")).unwrap();
        let articles: Vec<Arc<Article>> = files
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                Arc::new(Article::parse(p, &text, "示例市").unwrap())
            })
            .collect();
        assert!(articles.len() > 50, "{} articles", articles.len());
        ArticleIndex::build(&analyzer, &articles, |_| {}).unwrap()
    }

    #[test]
    fn the_statistics_kept_at_build_are_the_ones_the_index_itself_gives() {
        let index = index();
        assert_eq!(index.searcher.segment_readers().len(), 1);
        let (f, v) = (index.fields, &index.vocabulary);
        let kept = Statistics {
            vocabulary: v,
            fields: &f,
        };
        let searcher = &index.searcher;
        assert_eq!(
            kept.total_num_docs().unwrap(),
            Bm25StatisticsProvider::total_num_docs(searcher).unwrap()
        );
        for (field, terms) in [
            (f.title, &v.title),
            (f.questions, &v.questions),
            (f.keywords, &v.keywords),
            (f.body, &v.body),
            (f.pinyin, &v.pinyin),
        ] {
            assert!(!terms.is_empty());
            assert_eq!(
                kept.total_num_tokens(field).unwrap(),
                Bm25StatisticsProvider::total_num_tokens(searcher, field).unwrap()
            );
            for text in terms.keys() {
                let term = Term::from_field_text(field, std::str::from_utf8(text).unwrap());
                assert_eq!(
                    kept.doc_freq(&term).unwrap(),
                    searcher.doc_freq(&term).unwrap()
                );
            }
        }
        let unknown = Term::from_field_text(f.title, "不存在的词语");
        assert_eq!(kept.doc_freq(&unknown).unwrap(), 0);
    }

    #[test]
    fn a_search_scores_as_tantivys_own_statistics_would() {
        let index = index();
        let words = ["身份证", "补办", "公积金", "提取", "路灯"];
        let bigrams = vec!["shen fen".to_string(), "gong ji".to_string()];
        let ours = index.search(&words, &bigrams, 20).unwrap();
        assert!(!ours.is_empty());
        let (f, v) = (index.fields, &index.vocabulary);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in words {
            for (field, held, boost) in [
                (f.title, &v.title, TITLE_BOOST),
                (f.questions, &v.questions, QUESTIONS_BOOST),
                (f.keywords, &v.keywords, KEYWORDS_BOOST),
                (f.body, &v.body, BODY_BOOST),
            ] {
                if held.contains_key(word.as_bytes()) {
                    let query = TermQuery::new(
                        Term::from_field_text(field, word),
                        IndexRecordOption::WithFreqs,
                    );
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(query), boost)),
                    ));
                }
            }
        }
        for bigram in &bigrams {
            if v.pinyin.contains_key(bigram.as_bytes()) {
                let query = TermQuery::new(
                    Term::from_field_text(f.pinyin, bigram),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), PINYIN_BOOST)),
                ));
            }
        }
        let theirs = index
            .searcher
            .search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(20).order_by_score(),
            )
            .unwrap();
        let theirs: Vec<ScoredOrd> = theirs
            .into_iter()
            .map(|(score, address)| ScoredOrd {
                ord: index.ords[address.segment_ord as usize][address.doc_id as usize],
                score,
            })
            .collect();
        assert_eq!(ours, theirs);
    }
}
