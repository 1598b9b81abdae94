//! What the emergency rules conclude about one message: the hazards, the context, and the verdict.
//!
//! An [`Assessment`] holds flags, not a score, so each decision reads as a sentence: 紧急 when a
//! strong hazard word is live and nothing calms it ([`Assessment::forces_emergency`]); not 紧急
//! whatever the model says when the message thanks someone or blames someone for what is over
//! ([`Assessment::settled`]). [`Assessment::numbers`] puts the right emergency number first.

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
    /// Nobody is hurt, or only slightly (没受伤, 擦破了皮).
    pub minor: bool,
    pub praise: bool,
    pub past: bool,
    pub resolved: bool,
    pub hypothetical: bool,
    pub habitual: bool,
    /// Someone is asked to pay or answer for harm already done (不赔, 给个说法).
    pub aftermath: bool,
    /// The citizen asks for something to be mended (派人修一下, 加固).
    pub repair: bool,
    /// Someone does not do their job (不管, 不处理).
    pub complaint: bool,
    /// The one in trouble seems to be an animal.
    pub animal: bool,
    /// The message asks something …
    pub question: bool,
    /// … and names a present, particular situation (我, 现在, 有人, 楼道 …).
    pub live: bool,
    pub urgent: bool,
    pub plea: bool,
    /// The message opens by naming another kind of request (建议, 举报, 感谢 …).
    pub genre_opening: bool,
}

impl Assessment {
    /// Something in the message says the danger is not live: it is over, a thing to mend (but a
    /// fire or a gas leak stays dangerous while it waits for the mender), hypothetical, a
    /// recurring nuisance, or the message is of another kind.
    pub fn calmed(&self) -> bool {
        let burning = self
            .hazards
            .iter()
            .any(|h| matches!(h, Hazard::Fire | Hazard::Explosion | Hazard::GasLeak));
        let mending = self.repair && !burning;
        ((self.praise || self.resolved || self.aftermath || mending) && !self.plea)
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

    /// Signs of danger without certainty: a weak hazard word, urgency or an injury, and nothing
    /// calming. Enough for 紧急 when the model gives it a fair chance.
    pub fn hints_emergency(&self) -> bool {
        (self.weak || self.urgent || self.injured)
            && !self.minor
            && !self.calmed()
            && !self.general_question()
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
            (self.minor, "cue:minor"),
            (self.praise, "cue:praise"),
            (self.past, "cue:past"),
            (self.resolved, "cue:resolved"),
            (self.hypothetical, "cue:hypothetical"),
            (self.habitual, "cue:habitual"),
            (self.aftermath, "cue:aftermath"),
            (self.repair, "cue:repair"),
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

#[cfg(test)]
mod tests {
    use super::Hazard::*;
    use super::*;

    fn numbers(hazards: &[Hazard], injured: bool) -> Vec<&'static str> {
        let mut hazards = hazards.to_vec();
        hazards.sort();
        Assessment {
            hazards,
            injured,
            ..Assessment::default()
        }
        .numbers()
    }

    #[test]
    fn an_accident_with_injured_calls_122_then_120() {
        assert_eq!(numbers(&[TrafficAccident], true), vec!["122", "120"]);
    }

    #[test]
    fn a_robbery_with_someone_hurt_calls_110_then_120() {
        assert_eq!(numbers(&[Crime, Medical], true), vec!["110", "120"]);
    }

    #[test]
    fn poison_already_swallowed_calls_the_ambulance_before_the_police() {
        assert_eq!(numbers(&[Suicide, Medical], false), vec!["120", "110"]);
    }

    #[test]
    fn a_burning_car_with_the_driver_inside_calls_119_first() {
        assert_eq!(
            numbers(&[TrafficAccident, Trapped, Fire], false),
            vec!["119", "122"]
        );
    }

    #[test]
    fn an_emergency_of_no_known_kind_calls_the_police() {
        assert_eq!(numbers(&[], false), vec!["110"]);
        assert_eq!(numbers(&[], true), vec!["120"]);
    }
}
