//! `[callback]` (回访 timing and scale) and `[rates]` (the formulas' weights), with defaults from
//! DOMAIN.md. Their checks name the file and the line of the offending key.

use jiff::civil::Time;
use serde::Deserialize;

use super::ConfigError;

/// How satisfied a citizen can say they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SatisfactionScale {
    /// 满意 / 基本满意 / 不满意.
    Three,
    /// 非常满意 / 满意 / 基本满意 / 不满意 / 非常不满意.
    Five,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallbackSettings {
    /// Minutes after 办结 before the survey goes out.
    pub delay_minutes: u32,
    /// No survey or reminder is sent from `quiet_start` to `quiet_end`, city time ("HH:MM").
    pub quiet_start: String,
    pub quiet_end: String,
    /// Hours without an answer before the one reminder.
    pub reminder_after_hours: u32,
    /// Hours after the reminder before the round is recorded as 未联系上.
    pub give_up_after_hours: u32,
    pub scale: SatisfactionScale,
    /// How often the callback worker looks for due surveys, reminders and give-ups.
    pub interval_secs: u64,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            delay_minutes: 60,
            quiet_start: "21:00".into(),
            quiet_end: "08:00".into(),
            reminder_after_hours: 24,
            give_up_after_hours: 24,
            scale: SatisfactionScale::Three,
            interval_secs: 60,
        }
    }
}

/// Which callback round the rates read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RatedRound {
    /// The last finished round (after any 重办).
    Final,
    /// The first round, before any 重办.
    First,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateSettings {
    /// Weights of 响应率, 解决率 and 满意率 in the overall score (综合得分); they add up to 1.
    pub response_weight: f64,
    pub solved_weight: f64,
    pub satisfied_weight: f64,
    /// What a 基本满意 counts for in 满意率 (满意 and 非常满意 count 1).
    pub basically_satisfied_weight: f64,
    /// 未联系上 counts in the denominator (evaluated, never satisfied); false leaves it out.
    pub unreachable_is_evaluated: bool,
    pub rated_round: RatedRound,
}

impl Default for RateSettings {
    fn default() -> Self {
        RateSettings {
            response_weight: 0.30,
            solved_weight: 0.35,
            satisfied_weight: 0.35,
            basically_satisfied_weight: 0.8,
            unreachable_is_evaluated: true,
            rated_round: RatedRound::Final,
        }
    }
}

impl CallbackSettings {
    pub fn quiet_hours(&self) -> Option<(Time, Time)> {
        Some((parse_time(&self.quiet_start)?, parse_time(&self.quiet_end)?))
    }

    pub(super) fn validate(&self, file: &str, text: &str) -> Result<(), ConfigError> {
        for (key, value) in [
            ("quiet_start", &self.quiet_start),
            ("quiet_end", &self.quiet_end),
        ] {
            if parse_time(value).is_none() {
                return Err(invalid(
                    file,
                    text,
                    "callback",
                    key,
                    format!(
                        "callback.{key}: `{value}` is not a time: write it as HH:MM, e.g. 21:00"
                    ),
                ));
            }
        }
        if self.reminder_after_hours == 0 || self.give_up_after_hours == 0 {
            let key = if self.reminder_after_hours == 0 {
                "reminder_after_hours"
            } else {
                "give_up_after_hours"
            };
            return Err(invalid(
                file,
                text,
                "callback",
                key,
                format!("callback.{key} must be at least 1 hour"),
            ));
        }
        if self.interval_secs == 0 {
            return Err(invalid(
                file,
                text,
                "callback",
                "interval_secs",
                "callback.interval_secs must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl RateSettings {
    pub(super) fn validate(&self, file: &str, text: &str) -> Result<(), ConfigError> {
        let weights = [
            ("response_weight", self.response_weight),
            ("solved_weight", self.solved_weight),
            ("satisfied_weight", self.satisfied_weight),
            (
                "basically_satisfied_weight",
                self.basically_satisfied_weight,
            ),
        ];
        if let Some((key, value)) = weights.iter().find(|(_, w)| !(0.0..=1.0).contains(w)) {
            return Err(invalid(
                file,
                text,
                "rates",
                key,
                format!("rates.{key} is {value}: a weight lies between 0 and 1"),
            ));
        }
        let sum = self.response_weight + self.solved_weight + self.satisfied_weight;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(invalid(
                file,
                text,
                "rates",
                "response_weight",
                format!(
                    "rates.response_weight + solved_weight + satisfied_weight is {sum}: they must add up to 1 (e.g. 0.30, 0.35, 0.35)"
                ),
            ));
        }
        Ok(())
    }
}

fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

/// An error at the line of `key` in `[section]` (the section header, or line 1, when the key is
/// not in the file: the value came from the environment or a default).
fn invalid(file: &str, text: &str, section: &str, key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        file: file.to_string(),
        line: line_of_key(text, section, key),
        message,
    }
}

pub(super) fn line_of_key(text: &str, section: &str, key: &str) -> usize {
    let header = format!("[{section}]");
    let mut in_section = false;
    let mut header_line = 1;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = trimmed == header;
            if in_section {
                header_line = i + 1;
            }
            continue;
        }
        let name = trimmed.split('=').next().unwrap_or("").trim();
        if in_section && name == key {
            return i + 1;
        }
    }
    header_line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_of_a_key_is_found_in_its_section() {
        let text = "[a]\nx = 1\n\n[rates]\n# c\nsolved_weight = 0.5\n";
        assert_eq!(line_of_key(text, "rates", "solved_weight"), 6);
        assert_eq!(line_of_key(text, "rates", "missing"), 4);
        assert_eq!(line_of_key(text, "none", "x"), 1);
    }

    #[test]
    fn times_are_hours_and_minutes() {
        assert_eq!(parse_time("21:00"), Some(Time::constant(21, 0, 0, 0)));
        assert_eq!(parse_time("8:30"), Some(Time::constant(8, 30, 0, 0)));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_time("nine"), None);
    }
}
