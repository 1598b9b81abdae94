//! The tantivy index over the articles: fields, weights and the query built from analyzer terms.
//!
//! User text never reaches tantivy's `QueryParser` (an unspaced Chinese sentence would become one
//! exact phrase, and `: ( ) "` are syntax): the query is a disjunction of term queries built from
//! the analyzer's words and pinyin bigrams, each field with its own weight.

use std::collections::HashSet;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
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
/// document, and the terms each field holds.
pub struct ArticleIndex {
    searcher: Searcher,
    fields: Fields,
    /// Per segment, per document: the article's position in the snapshot.
    ords: Vec<Vec<usize>>,
    /// The terms of each searched field. A query term a field does not hold matches nothing and
    /// adds nothing to any score, so it is left out of the query (and a query left with no term
    /// is not run at all).
    vocabulary: Vocabulary,
}

struct Vocabulary {
    title: HashSet<String>,
    questions: HashSet<String>,
    keywords: HashSet<String>,
    body: HashSet<String>,
    pinyin: HashSet<String>,
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
        let mut writer = index
            .writer::<TantivyDocument>(WRITER_MEMORY)
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
        let vocabulary = Vocabulary {
            title: terms(fields.title)?,
            questions: terms(fields.questions)?,
            keywords: terms(fields.keywords)?,
            body: terms(fields.body)?,
            pinyin: terms(fields.pinyin)?,
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
        let mut term = |field: Field, held: &HashSet<String>, text: &str, boost: f32| {
            if !held.contains(text) {
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
        let top = self
            .searcher
            .search(&query, &TopDocs::with_limit(limit).order_by_score())
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

/// Every term `field` holds, over all segments.
fn terms_of(searcher: &Searcher, field: Field) -> Result<HashSet<String>, KbError> {
    let mut terms = HashSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field).map_err(tantivy_error)?;
        let mut stream = inverted
            .terms()
            .stream()
            .map_err(|e| KbError::Index(e.to_string()))?;
        while stream.advance() {
            if let Ok(term) = std::str::from_utf8(stream.key()) {
                terms.insert(term.to_string());
            }
        }
    }
    Ok(terms)
}

fn tantivy_error(e: tantivy::TantivyError) -> KbError {
    KbError::Index(e.to_string())
}
