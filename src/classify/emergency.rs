//! The emergency rules: is someone in danger right now, and which number must they call?
//!
//! A missed emergency is the worst error the classifier can make, so emergencies do not rest on
//! the statistical model alone. [`EmergencyRules::assess`] finds the hazard words of
//! [`super::lexicon`] in normalised text, drops those that are negated or hypothetical in their
//! own clause (没着火, 怕引起火灾), and weighs the message as a whole: thanks for firefighters
//! after the fact, a question about safety rules, a gas bill or a nuisance that happens every
//! night is not an emergency. The resulting [`Assessment`] forces 紧急 on its own when a strong
//! trigger is live and nothing calms it, gives the model its cues otherwise, and always knows the
//! numbers to call, the right one first.

use aho_corasick::AhoCorasick;

use super::ClassifyError;
use super::homophone::Homophones;
use super::lexicon::{self, Strength};

/// What kind of danger; the order is the order in which their numbers are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hazard {
    Fire,
    Explosion,
    TrafficAccident,
    Crime,
    GasLeak,
    Trapped,
    Drowning,
    Suicide,
    Medical,
}

impl Hazard {
    /// The emergency numbers for this hazard, the one to call first leading.
    pub fn numbers(self) -> &'static [&'static str] {
        match self {
            Hazard::Fire | Hazard::Explosion | Hazard::GasLeak | Hazard::Trapped => &["119"],
            Hazard::TrafficAccident => &["122"],
            Hazard::Crime | Hazard::Suicide => &["110"],
            Hazard::Drowning => &["119", "120"],
            Hazard::Medical => &["120"],
        }
    }

    fn cue(self) -> &'static str {
        match self {
            Hazard::Fire => "cue:hazard:fire",
            Hazard::Explosion => "cue:hazard:explosion",
            Hazard::TrafficAccident => "cue:hazard:traffic",
            Hazard::Crime => "cue:hazard:crime",
            Hazard::GasLeak => "cue:hazard:gas",
            Hazard::Trapped => "cue:hazard:trapped",
            Hazard::Drowning => "cue:hazard:drowning",
            Hazard::Suicide => "cue:hazard:suicide",
            Hazard::Medical => "cue:hazard:medical",
        }
    }
}

/// What a word in the lexicon means when found.
#[derive(Debug, Clone, Copy)]
enum Meaning {
    Trigger(Hazard, Strength),
    Injury,
    Nobody,
    Praise,
    Past,
    Resolved,
    Hypothetical,
    Habitual,
    Aftermath,
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

/// What the rules saw in one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assessment {
    /// Hazards of live (not negated, not hypothetical) triggers, in number order, no repeats.
    pub hazards: Vec<Hazard>,
    /// A live strong trigger.
    pub strong: bool,
    /// A live weak trigger.
    pub weak: bool,
    /// A trigger was negated or hypothetical in its clause.
    pub negated: bool,
    pub injured: bool,
    pub praise: bool,
    pub past: bool,
    pub resolved: bool,
    pub hypothetical: bool,
    pub habitual: bool,
    /// Someone is asked to pay or answer for harm already done (不赔, 给个说法).
    pub aftermath: bool,
    /// Someone does not do their job (不管, 不处理).
    pub complaint: bool,
    /// The one in trouble seems to be an animal.
    pub animal: bool,
    /// The message asks something …
    pub question: bool,
    /// … and names a present, particular situation (我, 现在, 有人, 楼下 …).
    pub live: bool,
    pub urgent: bool,
    pub plea: bool,
    /// The message opens by naming another kind of request (建议, 举报, 请问 …).
    pub genre_opening: bool,
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
        add(lexicon::PRAISE, Meaning::Praise);
        add(lexicon::PAST, Meaning::Past);
        add(lexicon::RESOLVED, Meaning::Resolved);
        add(lexicon::HYPOTHETICAL, Meaning::Hypothetical);
        add(lexicon::HABITUAL, Meaning::Habitual);
        add(lexicon::AFTERMATH, Meaning::Aftermath);
        add(lexicon::COMPLAINT, Meaning::Complaint);
        add(lexicon::NOT_COMPLAINT, Meaning::NotComplaint);
        add(lexicon::ANIMAL, Meaning::Animal);
        add(lexicon::QUESTION, Meaning::Question);
        add(lexicon::LIVE, Meaning::Live);
        add(lexicon::URGENT, Meaning::Urgent);
        add(lexicon::PLEA, Meaning::Plea);
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
        let mut triggers: Vec<(usize, usize, Hazard, Strength)> = Vec::new();
        let mut injuries: Vec<(usize, usize)> = Vec::new();
        let mut nobody = false;
        let (mut complaints, mut not_complaints) = (Vec::new(), Vec::new());
        for m in self.matcher.find_overlapping_iter(text) {
            let (start, end) = (m.start(), m.end());
            match self.meanings[m.pattern().as_usize()] {
                Meaning::Trigger(hazard, strength) => triggers.push((start, end, hazard, strength)),
                Meaning::Injury => injuries.push((start, end)),
                Meaning::Nobody => nobody = true,
                Meaning::Praise => found.praise = true,
                Meaning::Past => found.past = true,
                Meaning::Resolved => found.resolved = true,
                Meaning::Hypothetical => found.hypothetical = true,
                Meaning::Habitual => found.habitual = true,
                Meaning::Aftermath => found.aftermath = true,
                Meaning::Complaint => complaints.push((start, end)),
                Meaning::NotComplaint => not_complaints.push((start, end)),
                Meaning::Animal => found.animal = true,
                Meaning::Question => found.question = true,
                Meaning::Live => found.live = true,
                Meaning::Urgent => found.urgent = true,
                Meaning::Plea => found.plea = true,
            }
        }
        triggers.extend(
            self.homophones
                .find(text)
                .into_iter()
                .map(|m| (m.start, m.end, m.hazard, Strength::Strong)),
        );
        found.complaint = complaints.iter().any(|&(s, e)| {
            !not_complaints
                .iter()
                .any(|&(ns, ne): &(usize, usize)| ns <= s && e <= ne)
        });
        // Overlapping triggers: the longest wins (打不着火 swallows 着火).
        let outer = |s: usize, e: usize| {
            triggers
                .iter()
                .any(|&(os, oe, _, _)| os <= s && e <= oe && oe - os > e - s)
        };
        let kept: Vec<_> = triggers
            .iter()
            .filter(|&&(s, e, _, _)| !outer(s, e))
            .copied()
            .collect();
        for (start, _, hazard, strength) in kept {
            if strength == Strength::Neutral || (nobody && hazard == Hazard::Trapped) {
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
        found.injured = injuries
            .iter()
            .any(|&(s, e)| !outer(s, e) && !calmed_in_clause(&text[..s]));
        found.hazards.sort();
        found
    }
}

impl Assessment {
    /// Something in the message says the danger is not live: it is over, hypothetical, a
    /// recurring nuisance, or the message is of another kind.
    pub fn calmed(&self) -> bool {
        ((self.praise || self.resolved || self.aftermath) && !self.plea)
            || ((self.past
                || self.hypothetical
                || self.habitual
                || self.complaint
                || self.animal
                || self.genre_opening)
                && !self.urgent)
    }

    /// The message decisively says the danger is not live: thanks or a complaint for what is
    /// over, or a question about emergencies in general. Unlike [`Assessment::calmed`], this
    /// overrules the model too; a past or hypothetical word is often only background in a real
    /// emergency (他平时有心脏病，刚才突然倒下了), so the model weighs those.
    pub fn settled(&self) -> bool {
        ((self.praise || self.resolved || self.aftermath) && !self.plea) || self.general_question()
    }

    /// The rules alone decide this is an emergency: a strong trigger, or a weak one with
    /// someone hurt or a plea for help, and nothing calming.
    pub fn forces_emergency(&self) -> bool {
        (self.strong || (self.weak && (self.plea || self.injured)))
            && !self.calmed()
            && !self.general_question()
    }

    /// A question about emergencies in general, not about one happening here: the model
    /// decides (高层着火了应该往楼上跑还是往楼下跑).
    pub fn general_question(&self) -> bool {
        self.question && !self.live
    }

    /// Emergency numbers, the right one first; 120 follows when someone is hurt. Without a
    /// recognised hazard: 120 if someone is hurt, else 110 (the police coordinate the others).
    pub fn numbers(&self) -> Vec<&'static str> {
        let mut hazards = self.hazards.clone();
        // Poison already swallowed or wrists cut: the ambulance comes before the police.
        if hazards.contains(&Hazard::Suicide) && hazards.contains(&Hazard::Medical) {
            hazards.retain(|h| *h != Hazard::Medical);
            hazards.insert(0, Hazard::Medical);
        }
        let mut numbers: Vec<&'static str> = Vec::new();
        for number in hazards.iter().flat_map(|h| h.numbers()) {
            if !numbers.contains(number) {
                numbers.push(number);
            }
        }
        if self.injured && !numbers.contains(&"120") {
            numbers.push("120");
        }
        if numbers.is_empty() {
            numbers.push("110");
        }
        numbers
    }

    /// Features for the statistical model.
    pub fn cues(&self) -> Vec<&'static str> {
        let flags = [
            (self.strong, "cue:strong"),
            (self.weak, "cue:weak"),
            (self.negated, "cue:negated"),
            (self.injured, "cue:injured"),
            (self.praise, "cue:praise"),
            (self.past, "cue:past"),
            (self.resolved, "cue:resolved"),
            (self.hypothetical, "cue:hypothetical"),
            (self.habitual, "cue:habitual"),
            (self.aftermath, "cue:aftermath"),
            (self.complaint, "cue:complaint"),
            (self.animal, "cue:animal"),
            (self.general_question(), "cue:general-question"),
            (self.urgent, "cue:urgent"),
            (self.plea, "cue:plea"),
            (self.genre_opening, "cue:genre-opening"),
            (self.forces_emergency(), "cue:forces-emergency"),
            (self.calmed(), "cue:calmed"),
        ];
        let mut cues: Vec<&'static str> = flags
            .into_iter()
            .filter_map(|(on, cue)| on.then_some(cue))
            .collect();
        cues.extend(self.hazards.iter().map(|h| h.cue()));
        cues
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
    lexicon::LOCAL_CALM
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
    lexicon::GENRE_OPENINGS
        .split_whitespace()
        .any(|opening| rest.starts_with(opening))
}
