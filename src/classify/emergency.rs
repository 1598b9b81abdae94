//! The emergency rules: is someone in danger right now, and which number must they call?
//!
//! A missed emergency is the worst error the classifier can make, so emergencies do not rest on
//! the statistical model alone. [`EmergencyRules::assess`] finds the hazard words of
//! [`super::lexicon`] (and their homophone typos) in normalised text, drops those that are
//! negated or hypothetical in their own clause (没着火, 怕引起火灾), and notes the words of
//! [`super::context`] around them: thanks for firefighters after the fact, a question about
//! safety rules, a gas bill or a nuisance that happens every night is not an emergency. The
//! resulting [`Assessment`] forces 紧急 on its own when a strong trigger is live and nothing calms
//! it, gives the model its cues otherwise, and always knows the numbers to call, the right one
//! first.

use aho_corasick::AhoCorasick;

use super::ClassifyError;
use super::assessment::{Assessment, Hazard};
use super::context;
use super::homophone::Homophones;
use super::lexicon::{self, Strength};

/// What a word in the lexicon means when found.
#[derive(Debug, Clone, Copy)]
enum Meaning {
    Trigger(Hazard, Strength),
    Injury,
    Nobody,
    Minor,
    Praise,
    Past,
    Resolved,
    Hypothetical,
    Habitual,
    Aftermath,
    Repair,
    Complaint,
    NotComplaint,
    Animal,
    Question,
    Live,
    Urgent,
    Plea,
}

/// The lexicon compiled into one automaton.
pub struct EmergencyRules {
    matcher: AhoCorasick,
    meanings: Vec<Meaning>,
    homophones: Homophones,
}

impl EmergencyRules {
    pub fn new() -> Result<EmergencyRules, ClassifyError> {
        let mut words: Vec<&'static str> = Vec::new();
        let mut meanings = Vec::new();
        let mut add = |list: &'static str, meaning: Meaning| {
            for word in list.split_whitespace() {
                words.push(word);
                meanings.push(meaning);
            }
        };
        for (list, hazard, strength) in lexicon::TRIGGERS {
            add(list, Meaning::Trigger(*hazard, *strength));
        }
        add(
            lexicon::NO_INJURY,
            Meaning::Trigger(Hazard::Medical, Strength::Neutral),
        );
        add(lexicon::INJURY, Meaning::Injury);
        add(lexicon::NOBODY, Meaning::Nobody);
        add(lexicon::MINOR, Meaning::Minor);
        add(context::PRAISE, Meaning::Praise);
        add(context::PAST, Meaning::Past);
        add(context::RESOLVED, Meaning::Resolved);
        add(context::HYPOTHETICAL, Meaning::Hypothetical);
        add(context::HABITUAL, Meaning::Habitual);
        add(context::AFTERMATH, Meaning::Aftermath);
        add(context::REPAIR, Meaning::Repair);
        add(context::COMPLAINT, Meaning::Complaint);
        add(context::NOT_COMPLAINT, Meaning::NotComplaint);
        add(context::ANIMAL, Meaning::Animal);
        add(context::QUESTION, Meaning::Question);
        add(context::LIVE, Meaning::Live);
        add(context::URGENT, Meaning::Urgent);
        add(context::PLEA, Meaning::Plea);
        let matcher = AhoCorasick::new(&words).map_err(|e| ClassifyError::Rules(e.to_string()))?;
        let strong = lexicon::TRIGGERS
            .iter()
            .filter(|(_, _, strength)| *strength == Strength::Strong)
            .flat_map(|(list, hazard, _)| list.split_whitespace().map(|w| (w, *hazard)));
        Ok(EmergencyRules {
            matcher,
            meanings,
            homophones: Homophones::new(strong, lexicon::HOMOPHONE_DENY),
        })
    }

    /// Weighs normalised text (see [`crate::text::normalize`]).
    pub fn assess(&self, text: &str) -> Assessment {
        let mut found = Assessment {
            genre_opening: opens_with_genre(text),
            ..Assessment::default()
        };
        let spans = self.scan(text, &mut found);
        spans.weigh(text, &mut found);
        found
    }

    /// Finds every lexicon word: context words become flags at once, the rest become spans.
    fn scan(&self, text: &str, found: &mut Assessment) -> Spans {
        let mut spans = Spans::default();
        for m in self.matcher.find_overlapping_iter(text) {
            let span = (m.start(), m.end());
            match self.meanings[m.pattern().as_usize()] {
                Meaning::Trigger(hazard, strength) => {
                    spans.triggers.push((span.0, span.1, hazard, strength))
                }
                Meaning::Injury => spans.injuries.push(span),
                Meaning::Nobody => spans.nobody = true,
                Meaning::Complaint => spans.complaints.push(span),
                Meaning::NotComplaint => spans.not_complaints.push(span),
                Meaning::Minor => found.minor = true,
                Meaning::Praise => found.praise = true,
                Meaning::Past => found.past = true,
                Meaning::Resolved => found.resolved = true,
                Meaning::Hypothetical => found.hypothetical = true,
                Meaning::Habitual => found.habitual = true,
                Meaning::Aftermath => found.aftermath = true,
                Meaning::Repair => found.repair = true,
                Meaning::Animal => found.animal = true,
                Meaning::Question => found.question = true,
                Meaning::Live => found.live = true,
                Meaning::Urgent => found.urgent = true,
                Meaning::Plea => found.plea = true,
            }
        }
        let typos = self.homophones.find(text).into_iter();
        spans
            .triggers
            .extend(typos.map(|m| (m.start, m.end, m.hazard, Strength::Strong)));
        spans
    }
}

/// Where the words that need their surroundings were found, as byte ranges.
#[derive(Default)]
struct Spans {
    triggers: Vec<(usize, usize, Hazard, Strength)>,
    injuries: Vec<(usize, usize)>,
    complaints: Vec<(usize, usize)>,
    not_complaints: Vec<(usize, usize)>,
    /// Nobody is inside (里面没人): trapped-person words do not count.
    nobody: bool,
}

impl Spans {
    /// A trigger inside a longer one does not count: the longest wins (打不着火 swallows 着火).
    fn swallowed(&self, start: usize, end: usize) -> bool {
        self.triggers
            .iter()
            .any(|&(s, e, _, _)| s <= start && end <= e && e - s > end - start)
    }

    /// Keeps the live triggers, their hazards, the injuries and the complaints.
    fn weigh(&self, text: &str, found: &mut Assessment) {
        for &(start, end, hazard, strength) in &self.triggers {
            let ignored =
                strength == Strength::Neutral || (self.nobody && hazard == Hazard::Trapped);
            if ignored || self.swallowed(start, end) {
                continue;
            }
            if calmed_in_clause(&text[..start]) {
                found.negated = true;
                continue;
            }
            match strength {
                Strength::Strong => found.strong = true,
                _ => found.weak = true,
            }
            if !found.hazards.contains(&hazard) {
                found.hazards.push(hazard);
            }
        }
        found.hazards.sort();
        found.injured = self
            .injuries
            .iter()
            .any(|&(s, e)| !self.swallowed(s, e) && !calmed_in_clause(&text[..s]));
        found.complaint = self.complaints.iter().any(|&(s, e)| {
            !self
                .not_complaints
                .iter()
                .any(|&(ns, ne)| ns <= s && e <= ne)
        });
    }
}

/// The clause before a trigger (back to the last punctuation, at most 4 characters) negates it
/// or makes it hypothetical.
fn calmed_in_clause(before: &str) -> bool {
    let clause: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric())
        .take(4)
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect();
    // A question of doubt or a cry of fear is no negation: 是不是着火了, 好害怕有人砸门.
    let clause = ["是不是", "害怕", "好怕", "很怕", "可怕"]
        .iter()
        .fold(clause, |c, w| c.replace(w, ""));
    context::LOCAL_CALM
        .split_whitespace()
        .any(|w| clause.contains(w))
}

/// The message starts (after a greeting) with a word that names another kind of request.
fn opens_with_genre(text: &str) -> bool {
    let mut rest = text.trim_start_matches(|c: char| !c.is_alphanumeric());
    for greeting in ["你好", "您好", "喂", "hi", "hello"] {
        if let Some(after) = rest.strip_prefix(greeting) {
            rest = after.trim_start_matches(|c: char| !c.is_alphanumeric());
        }
    }
    context::GENRE_OPENINGS
        .split_whitespace()
        .any(|opening| rest.starts_with(opening))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assess(text: &str) -> Assessment {
        let rules = EmergencyRules::new().expect("the lexicon compiles");
        rules.assess(&crate::text::normalize(text))
    }

    #[test]
    fn a_live_fire_is_forced_whatever_the_model_thinks() {
        let a = assess("厨房着火了");
        assert!(a.forces_emergency());
        assert_eq!(a.numbers(), vec!["119"]);
    }

    #[test]
    fn a_negated_trigger_is_not_live() {
        let a = assess("楼道有点味道，不过没着火");
        assert!(!a.strong);
        assert!(a.negated);
    }

    #[test]
    fn a_stove_that_will_not_light_is_not_a_fire() {
        assert!(!assess("燃气灶打不着火了").forces_emergency());
    }

    #[test]
    fn thanks_after_the_fact_calm_a_fire() {
        let a = assess("前天家里着火，消防员很快就扑灭了，非常感谢");
        assert!(a.strong && a.settled() && !a.forces_emergency());
    }

    #[test]
    fn a_question_about_fire_in_general_is_left_to_the_model() {
        let a = assess("高层住宅着火了应该往楼上跑还是往楼下跑");
        assert!(a.general_question() && !a.forces_emergency());
    }

    #[test]
    fn a_nuisance_that_happens_every_night_is_not_forced() {
        assert!(!assess("楼下每天晚上都有人打架吵闹").forces_emergency());
    }

    #[test]
    fn a_stuck_lift_with_nobody_inside_is_a_repair() {
        assert!(!assess("电梯卡在两层中间，里面没人").forces_emergency());
        assert!(assess("电梯卡在两层中间，里面有人在喊").forces_emergency());
    }

    #[test]
    fn a_homophone_typo_still_raises_the_alarm() {
        let a = assess("着活了，快来人");
        assert!(a.forces_emergency());
        assert_eq!(a.numbers()[0], "119");
    }
}
