//! Hazard words typed with one wrong character of the same sound: 着活了, 车货, 晕到.
//!
//! Citizens in a hurry type by pinyin and take the first candidate, so an emergency often arrives
//! misspelt. A window of the text matches a strong trigger when every character has the trigger
//! character's toneless pinyin and exactly one character differs. Two characters are too few to
//! tell a typo from chance (政务服务 holds 务服, which sounds like 误服), so a two-character
//! trigger only counts as said with 了 or 啦 after it: 着活了 for 着火了. Windows holding a real
//! word that sounds like a trigger (拿到 for 拿刀, 家住 for 夹住) are listed in
//! [`super::lexicon::HOMOPHONE_DENY`] and never match.

use std::collections::HashMap;

use pinyin::ToPinyin;

use super::assessment::Hazard;

/// Strong triggers indexed by the pinyin of their first two characters.
pub struct Homophones {
    by_first_syllables: HashMap<(&'static str, &'static str), Vec<Entry>>,
    deny: Vec<&'static str>,
}

struct Entry {
    chars: Vec<char>,
    syllables: Vec<&'static str>,
    hazard: Hazard,
}

/// A match: byte range in the text and the hazard of the trigger it sounds like.
pub struct Match {
    pub start: usize,
    pub end: usize,
    pub hazard: Hazard,
}

impl Homophones {
    pub fn new(
        triggers: impl IntoIterator<Item = (&'static str, Hazard)>,
        deny: &'static str,
    ) -> Homophones {
        let mut by_first_syllables: HashMap<_, Vec<Entry>> = HashMap::new();
        let spoken = triggers.into_iter().flat_map(|(word, hazard)| {
            let forms = match word.chars().count() {
                0 | 1 => vec![],
                2 => vec![format!("{word}了"), format!("{word}啦")],
                _ => vec![word.to_string()],
            };
            forms.into_iter().map(move |form| (form, hazard))
        });
        for (word, hazard) in spoken {
            let chars: Vec<char> = word.chars().collect();
            let syllables: Option<Vec<&'static str>> = chars.iter().map(|c| syllable(*c)).collect();
            let Some(syllables) = syllables.filter(|s| s.len() >= 2) else {
                continue;
            };
            by_first_syllables
                .entry((syllables[0], syllables[1]))
                .or_default()
                .push(Entry {
                    chars,
                    syllables,
                    hazard,
                });
        }
        Homophones {
            by_first_syllables,
            deny: deny.split_whitespace().collect(),
        }
    }

    /// Windows of `text` that sound like a trigger but differ from it in one character.
    pub fn find(&self, text: &str) -> Vec<Match> {
        let chars: Vec<(usize, char, Option<&'static str>)> = text
            .char_indices()
            .map(|(i, c)| (i, c, syllable(c)))
            .collect();
        let end_of = |k: usize| chars.get(k).map_or(text.len(), |(i, _, _)| *i);
        let mut found = Vec::new();
        for (k, pair) in chars.windows(2).enumerate() {
            let (Some(a), Some(b)) = (pair[0].2, pair[1].2) else {
                continue;
            };
            for entry in self.by_first_syllables.get(&(a, b)).into_iter().flatten() {
                let Some(window) = chars.get(k..k + entry.chars.len()) else {
                    continue;
                };
                let same_sound = window
                    .iter()
                    .zip(&entry.syllables)
                    .all(|((_, _, s), t)| *s == Some(*t));
                let differing = window
                    .iter()
                    .zip(&entry.chars)
                    .filter(|((_, c, _), t)| c != *t)
                    .count();
                let (start, end) = (window[0].0, end_of(k + entry.chars.len()));
                let window = &text[start..end];
                let denied = self.deny.iter().any(|d| window.contains(d));
                if same_sound && differing == 1 && !denied {
                    found.push(Match {
                        start,
                        end,
                        hazard: entry.hazard,
                    });
                }
            }
        }
        found
    }
}

fn syllable(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homophones() -> Homophones {
        Homophones::new([("着火", Hazard::Fire), ("打人", Hazard::Crime)], "大人")
    }

    #[test]
    fn a_one_character_homophone_typo_matches() {
        let found = homophones().find("家里着活了");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].hazard, Hazard::Fire);
        assert_eq!(&"家里着活了"[found[0].start..found[0].end], "着活了");
    }

    #[test]
    fn the_exact_word_and_denied_real_words_do_not_match_as_typos() {
        assert!(homophones().find("着火了").is_empty());
        assert!(homophones().find("大人了").is_empty());
    }

    #[test]
    fn a_two_character_trigger_needs_a_particle_to_count_as_a_typo() {
        assert!(homophones().find("着活").is_empty());
        assert_eq!(homophones().find("着活啦").len(), 1);
    }
}
