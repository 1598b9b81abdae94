//! Turning text into search terms: normalisation, synonyms, jieba words and pinyin bigrams.
//!
//! The same [`Analyzer`] prepares article text at index time and citizen text at query time, so
//! both sides always agree. The tantivy tokenizer ([`JiebaTokenizer`]) only segments: it is handed
//! text that [`Analyzer::prepare`] already normalised.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use jieba_rs::Jieba;
use serde::Deserialize;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::KbError;
use crate::config::parse_toml;
use crate::text::{is_han, normalize, pinyin_syllables};

pub const DICT_FILE: &str = "dict.txt";
pub const SYNONYMS_FILE: &str = "synonyms.toml";

/// Words that carry no topic: question words, particles, pronouns, politeness.
const STOPWORDS: &[&str] = &[
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "哦",
    "嘛",
    "么",
    "是",
    "在",
    "有",
    "和",
    "与",
    "或",
    "我",
    "你",
    "您",
    "他",
    "她",
    "我们",
    "你们",
    "自己",
    "这",
    "那",
    "这个",
    "那个",
    "一下",
    "一个",
    "怎么",
    "怎么样",
    "怎样",
    "如何",
    "什么",
    "哪里",
    "哪儿",
    "哪些",
    "哪个",
    "多少",
    "几",
    "为什么",
    "请问",
    "问",
    "问下",
    "想问",
    "想",
    "要",
    "能",
    "能不能",
    "可以",
    "可不可以",
    "需要",
    "应该",
    "吗?",
    "请",
    "麻烦",
    "谢谢",
    "你好",
    "您好",
    "就",
    "都",
    "也",
    "还",
    "又",
    "去",
    "来",
    "到",
    "给",
    "把",
    "被",
    "让",
    "对",
    "从",
    "办",
    "做",
    "弄",
    "搞",
    "下",
    "上",
    "个",
    "些",
    "很",
    "太",
    "现在",
    "已经",
    "还是",
    "然后",
    "如果",
    "但是",
    "因为",
    "所以",
    "不",
    "没",
    "没有",
    "会",
    "得",
    "地",
    "着",
    "过",
    "啥",
    "咋",
    "咋办",
    "怎么办",
    "办理",
    "手续",
    "流程",
    "示例市",
    "一般",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymFile {
    #[serde(default)]
    group: Vec<SynonymGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymGroup {
    terms: Vec<String>,
}

/// Rewrites variants to their canonical term ("gjj" → "公积金", "户口本" → "户口簿").
#[derive(Clone)]
struct Synonyms {
    matcher: Option<AhoCorasick>,
    canonical: Vec<String>,
}

impl Synonyms {
    fn load(path: &Path) -> Result<Synonyms, KbError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(KbError::Io(format!("{}: {e}", path.display()))),
        };
        let file: SynonymFile = parse_toml(&path.display().to_string(), &text)
            .map_err(|e| KbError::Invalid(e.to_string()))?;
        let mut variants: HashMap<String, String> = HashMap::new();
        for group in file.group {
            let mut terms = group
                .terms
                .iter()
                .map(|t| normalize(t))
                .filter(|t| !t.is_empty());
            let Some(canonical) = terms.next() else {
                continue;
            };
            for variant in terms.filter(|v| *v != canonical) {
                variants.insert(variant, canonical.clone());
            }
        }
        Ok(Synonyms::from_pairs(variants))
    }

    fn from_pairs(pairs: HashMap<String, String>) -> Synonyms {
        let (patterns, canonical): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .filter(|_| !patterns.is_empty());
        Synonyms { matcher, canonical }
    }

    fn rewrite(&self, text: &str) -> String {
        let Some(matcher) = &self.matcher else {
            return text.to_string();
        };
        let mut out = String::with_capacity(text.len() + 16);
        let mut last = 0;
        for m in matcher.find_iter(text) {
            let pattern = &text[m.start()..m.end()];
            // A Latin abbreviation only counts as a whole word: "gs" is not inside "gps".
            if pattern.is_ascii() && !is_word_boundary(text, m.start(), m.end()) {
                continue;
            }
            out.push_str(&text[last..m.start()]);
            out.push(' ');
            out.push_str(&self.canonical[m.pattern().as_usize()]);
            out.push(' ');
            last = m.end();
        }
        out.push_str(&text[last..]);
        out
    }
}

fn is_word_boundary(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(|c| c.is_ascii_alphanumeric())
        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Loaded once per process (jieba's dictionary costs ~130 ms and ~30 MB) and shared.
#[derive(Clone)]
pub struct Analyzer {
    jieba: Arc<Jieba>,
    synonyms: Arc<Synonyms>,
}

impl Analyzer {
    /// Loads jieba with `dir/dict.txt` and the synonym table `dir/synonyms.toml` (both optional).
    pub fn load(dir: &Path) -> Result<Analyzer, KbError> {
        let mut jieba = Jieba::new();
        let dict = dir.join(DICT_FILE);
        if dict.exists() {
            let file = std::fs::File::open(&dict)
                .map_err(|e| KbError::Io(format!("{}: {e}", dict.display())))?;
            jieba
                .load_dict(&mut std::io::BufReader::new(file))
                .map_err(|e| KbError::Invalid(format!("{}: {e}", dict.display())))?;
        }
        let synonyms = Synonyms::load(&dir.join(SYNONYMS_FILE))?;
        Ok(Analyzer {
            jieba: Arc::new(jieba),
            synonyms: Arc::new(synonyms),
        })
    }

    /// Normalised, synonyms rewritten: the form both the index and queries see.
    pub fn prepare(&self, text: &str) -> String {
        self.synonyms.rewrite(&normalize(text))
    }

    /// Synonyms rewritten in text that is already normalised.
    pub(super) fn rewrite_synonyms(&self, normalized: &str) -> String {
        self.synonyms.rewrite(normalized)
    }

    /// The jieba dictionary, for others that cut text the same way (the reports' key terms).
    pub fn jieba(&self) -> Arc<Jieba> {
        Arc::clone(&self.jieba)
    }

    /// Whether `other` is this analyzer (the same dictionary and synonyms, not merely equal ones).
    pub fn same_as(&self, other: &Analyzer) -> bool {
        Arc::ptr_eq(&self.jieba, &other.jieba) && Arc::ptr_eq(&self.synonyms, &other.synonyms)
    }

    /// [`Analyzer::words`] as byte ranges into `prepared`.
    pub(super) fn word_ranges(&self, prepared: &str) -> Vec<std::ops::Range<usize>> {
        self.jieba
            .cut_for_search(prepared, true)
            .into_iter()
            .filter(|t| is_word(t.word))
            .map(|t| t.byte_start..t.byte_end)
            .collect()
    }

    /// Search words of prepared text: jieba's search-mode cut, punctuation dropped.
    pub fn words<'a>(&self, prepared: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut_for_search(prepared, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| is_word(w))
            .collect()
    }

    /// Words that say what the text is about: [`Analyzer::words`] without stopwords, deduplicated.
    pub fn content_words<'a>(&self, prepared: &'a str) -> Vec<&'a str> {
        let mut seen = std::collections::HashSet::new();
        self.words(prepared)
            .into_iter()
            .filter(|w| !is_stopword(w) && seen.insert(*w))
            .collect()
    }

    /// Whole words of prepared text (jieba's default cut, no sub-words), without stopwords,
    /// deduplicated: each thing the citizen said counts once when weighing a match.
    pub fn whole_words<'a>(&self, prepared: &'a str) -> Vec<&'a str> {
        let mut seen = std::collections::HashSet::new();
        self.jieba
            .cut(prepared, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| is_word(w) && !STOPWORDS.contains(w) && seen.insert(*w))
            .collect()
    }

    pub fn tokenizer(&self) -> JiebaTokenizer {
        JiebaTokenizer {
            jieba: self.jieba.clone(),
            tokens: Vec::new(),
        }
    }
}

/// Pinyin syllable bigrams ("gong_ji", "ji_jin") of each run of Han characters, so a homophone
/// typo (公积今) still meets the word it meant.
pub fn pinyin_bigrams(prepared: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<String>| {
        let syllables = pinyin_syllables(run);
        for pair in syllables.windows(2) {
            out.push(format!("{}_{}", pair[0], pair[1]));
        }
        run.clear();
    };
    for c in prepared.chars() {
        if is_han(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A word that carries no topic (see `STOPWORDS`).
pub(super) fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

fn is_word(word: &str) -> bool {
    word.chars().any(|c| c.is_alphanumeric())
}

/// tantivy tokenizer over jieba's search-mode cut; positions follow token order so phrase queries
/// work; offsets are byte offsets into the text.
#[derive(Clone)]
pub struct JiebaTokenizer {
    jieba: Arc<Jieba>,
    tokens: Vec<Token>,
}

pub struct VecTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    index: usize,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        self.tokens.clear();
        for (position, t) in self
            .jieba
            .cut_for_search(text, true)
            .into_iter()
            .filter(|t| is_word(t.word))
            .enumerate()
        {
            self.tokens.push(Token {
                offset_from: t.byte_start,
                offset_to: t.byte_end,
                position,
                text: t.word.to_string(),
                position_length: 1,
            });
        }
        VecTokenStream {
            tokens: &mut self.tokens,
            index: 0,
        }
    }
}

impl TokenStream for VecTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synonyms(pairs: &[(&str, &str)]) -> Synonyms {
        Synonyms::from_pairs(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn abbreviations_are_rewritten_only_as_whole_words() {
        let s = synonyms(&[("gjj", "公积金"), ("gs", "个税")]);
        assert!(s.rewrite("gjj怎么取").contains("公积金"));
        assert!(!s.rewrite("gps定位").contains("个税"));
    }

    #[test]
    fn pinyin_bigrams_match_homophone_typos() {
        assert_eq!(pinyin_bigrams("公积今"), pinyin_bigrams("公积金"));
        assert_eq!(pinyin_bigrams("公积金"), vec!["gong_ji", "ji_jin"]);
    }
}
