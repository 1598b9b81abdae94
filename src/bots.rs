//! What the bot says: templates from `bots/messages.toml` and per-channel settings from
//! `bots/channels.toml`. No reply text lives in Rust code.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::Environment;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, parse_toml};
use crate::domain::Channel;

pub const MESSAGES_FILE: &str = "messages.toml";
pub const CHANNELS_FILE: &str = "channels.toml";

#[derive(Debug, thiserror::Error)]
pub enum BotsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{file}: template `{name}`: {message}")]
    Template {
        file: String,
        name: String,
        message: String,
    },
    #[error("{file}: missing template `{name}`")]
    Missing { file: String, name: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagesFile {
    templates: BTreeMap<String, String>,
    #[serde(default)]
    buttons: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerStyle {
    Full,
    Short,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelStyle {
    pub buttons: bool,
    pub max_chars: usize,
    #[serde(default)]
    pub max_segments: Option<usize>,
    pub answer: AnswerStyle,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelsFile {
    web: ChannelStyle,
    telegram: ChannelStyle,
    sms: ChannelStyle,
    api: ChannelStyle,
}

/// Templates every deployment must provide; checked at start-up so a typo fails early.
const REQUIRED: &[&str] = &[
    "ask_address",
    "ask_confidential",
    "ask_confidential_again",
    "ask_content",
    "ask_district",
    "ask_phone",
    "cancelled",
    "confirm_again",
    "confirm_summary",
    "correction_applied",
    "emergency",
    "empty_message",
    "event_repeated_report",
    "flood_notice",
    "greeting",
    "human_handoff",
    "invalid_address",
    "invalid_district",
    "invalid_phone",
    "kb_answer",
    "kb_answer_short",
    "kb_feedback_thanks",
    "kb_helpful_question",
    "kb_not_helpful",
    "kb_suggestions",
    "no_text_meaning",
    "nothing_to_cancel",
    "notify_closed",
    "notify_reply",
    "event_red_warning",
    "event_yellow_warning",
    "phone_give_up",
    "resume_prompt",
    "resumed",
    "status_ask_digits",
    "status_ask_number",
    "status_denied",
    "status_not_found",
    "status_reply",
    "telegram_contact_not_own",
    "telegram_help",
    "telegram_phone_linked",
    "telegram_share_contact",
    "telegram_stale_button",
    "telegram_text_only",
    "ticket_created",
    "ticket_joined",
    "too_long",
    "welcome",
    "survey_intro",
    "survey_ask_satisfaction",
    "survey_ask_reason",
    "survey_ask_comment",
    "survey_unclear",
    "survey_thanks",
    "survey_rehandled",
    "survey_escalated",
    "survey_reminder",
    "survey_question_solved",
    "event_survey_unreachable",
    "open311_notice",
    "sms_choice",
    "sms_more",
    "sms_part",
    "sms_opted_out",
    "sms_resubscribed",
    "sms_verification_code",
    "event_survey_no_channel",
    "survey_expired_intro",
    "survey_expired_reminder",
    "survey_expired_ask_reason",
    "survey_expired_thanks",
    "event_survey_expired",
    "event_survey_settled",
    "event_survey_superseded",
    "survey_overtaken",
];

pub struct Bots {
    env: Environment<'static>,
    buttons: BTreeMap<String, String>,
    channels: ChannelsFile,
}

impl Bots {
    pub fn load(dir: &Path) -> Result<Bots, BotsError> {
        let messages_path = dir.join(MESSAGES_FILE);
        let file = messages_path.display().to_string();
        let text = std::fs::read_to_string(&messages_path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        let messages: MessagesFile = parse_toml(&file, &text)?;
        let channels_path = dir.join(CHANNELS_FILE);
        let channels_file = channels_path.display().to_string();
        let channels_text =
            std::fs::read_to_string(&channels_path).map_err(|source| ConfigError::Read {
                file: channels_file.clone(),
                source,
            })?;
        let channels: ChannelsFile = parse_toml(&channels_file, &channels_text)?;
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in messages.templates {
            env.add_template_owned(name.clone(), source)
                .map_err(|e| BotsError::Template {
                    file: file.clone(),
                    name,
                    message: e.to_string(),
                })?;
        }
        for name in REQUIRED {
            if env.get_template(name).is_err() {
                return Err(BotsError::Missing {
                    file: file.clone(),
                    name: name.to_string(),
                });
            }
        }
        Ok(Bots {
            env,
            buttons: messages.buttons,
            channels,
        })
    }

    /// Renders template `name`. A template that fails to render (a bug in the template or a
    /// missing variable) yields its name in brackets and an error in the log, never a panic.
    pub fn say<S: Serialize>(&self, name: &str, vars: S) -> String {
        match self.env.get_template(name).and_then(|t| t.render(vars)) {
            Ok(text) => text.trim().to_string(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "template failed to render");
                format!("[{name}]")
            }
        }
    }

    /// Whether a template named `name` exists (for rules that name templates in data files).
    pub fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    /// A template without variables.
    pub fn text(&self, name: &str) -> String {
        self.say(name, minijinja::context! {})
    }

    /// A button label from `[buttons]`; the key itself when absent.
    pub fn button(&self, key: &str) -> String {
        self.buttons
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    pub fn channel(&self, channel: Channel) -> &ChannelStyle {
        match channel {
            Channel::Web => &self.channels.web,
            Channel::Telegram => &self.channels.telegram,
            Channel::Sms => &self.channels.sms,
            Channel::Api => &self.channels.api,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Bots {
        Bots::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bots")).unwrap()
    }

    #[test]
    fn the_bundled_templates_load_and_render() {
        let bots = bundled();
        let text = bots.say("too_long", minijinja::context! { max => 2000 });
        assert!(text.contains("2000"), "{text}");
    }

    #[test]
    fn a_missing_variable_does_not_panic() {
        let bots = bundled();
        assert_eq!(bots.say("too_long", minijinja::context! {}), "[too_long]");
    }
}
