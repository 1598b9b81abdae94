//! The tantivy index over the articles: fields, weights and the query built from analyzer terms.
//!
//! User text never reaches tantivy's `QueryParser` (an unspaced Chinese sentence would become one
//! exact phrase, and `: ( ) "` are syntax): the query is a disjunction of term queries built from
//! the analyzer's words and pinyin bigrams, each field with its own weight.

use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

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

pub struct ArticleIndex {
    reader: IndexReader,
    fields: Fields,
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
            ord: builder.add_u64_field("ord", STORED),
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
        let reader = index.reader().map_err(tantivy_error)?;
        Ok(ArticleIndex { reader, fields })
    }

    /// The best `limit` articles for the query's words and pinyin bigrams.
    pub fn search(
        &self,
        words: &[&str],
        bigrams: &[String],
        limit: usize,
    ) -> Result<Vec<ScoredOrd>, KbError> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut term = |field: Field, text: &str, boost: f32| {
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
            term(f.title, word, TITLE_BOOST);
            term(f.questions, word, QUESTIONS_BOOST);
            term(f.keywords, word, KEYWORDS_BOOST);
            term(f.body, word, BODY_BOOST);
        }
        for bigram in bigrams {
            term(f.pinyin, bigram, PINYIN_BOOST);
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit).order_by_score())
            .map_err(tantivy_error)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let stored: TantivyDocument = searcher.doc(address).map_err(tantivy_error)?;
            if let Some(ord) = stored.get_first(f.ord).and_then(|v| v.as_u64()) {
                hits.push(ScoredOrd {
                    ord: ord as usize,
                    score,
                });
            }
        }
        Ok(hits)
    }
}

fn tantivy_error(e: tantivy::TantivyError) -> KbError {
    KbError::Index(e.to_string())
}
