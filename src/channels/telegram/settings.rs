//! The `[telegram]` section of `config/hotline.toml`, and the two secrets that never live there:
//! the bot token and the webhook secret come only from the environment.

use serde::Deserialize;

use crate::config::{ConfigError, Secret};

/// The bot token from @BotFather.
pub const TOKEN_VAR: &str = "HOTLINE_TELEGRAM_TOKEN";
/// The secret Telegram sends back in `X-Telegram-Bot-Api-Secret-Token` with every webhook call.
pub const WEBHOOK_SECRET_VAR: &str = "HOTLINE_TELEGRAM_WEBHOOK_SECRET";

/// How updates reach us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Telegram calls `public_url` + `webhook_path` on our own HTTP server.
    #[default]
    Webhook,
    /// We ask Telegram for updates (`getUpdates`): no public URL needed.
    Polling,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramSettings {
    pub enabled: bool,
    pub mode: TelegramMode,
    /// The public HTTPS base URL of this gateway (`https://hotline.example.gov.cn`). In webhook
    /// mode the webhook is registered there at start-up; unset, it is left as registered.
    pub public_url: Option<String>,
    /// The Bot API server: Telegram's, a local Bot API server, a proxy, or a test fake.
    pub api_url: String,
    /// Where the webhook is mounted on our server.
    pub webhook_path: String,
    /// Long-polling: how long one `getUpdates` call waits for updates.
    pub poll_timeout_secs: u32,
    /// Longest wait for one Bot API call that sends; a slower Telegram gets the reply later,
    /// through the outbox.
    pub send_timeout_secs: u64,
    /// From [`TOKEN_VAR`] only.
    #[serde(skip)]
    pub token: Option<Secret>,
    /// From [`WEBHOOK_SECRET_VAR`] only.
    #[serde(skip)]
    pub webhook_secret: Option<Secret>,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        TelegramSettings {
            enabled: false,
            mode: TelegramMode::Webhook,
            public_url: None,
            api_url: "https://api.telegram.org".into(),
            webhook_path: "/telegram/webhook".into(),
            poll_timeout_secs: 25,
            send_timeout_secs: 10,
            token: None,
            webhook_secret: None,
        }
    }
}

impl TelegramSettings {
    /// Takes the token and the webhook secret from the environment variables given.
    pub fn read_secrets<'a>(&mut self, env: impl IntoIterator<Item = &'a (String, String)>) {
        for (var, value) in env {
            if value.is_empty() {
                continue;
            }
            if var == TOKEN_VAR {
                self.token = Some(Secret::new(value.clone()));
            } else if var == WEBHOOK_SECRET_VAR {
                self.webhook_secret = Some(Secret::new(value.clone()));
            }
        }
    }

    /// Checks the section once at start-up; every error is one line naming what to fix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        let fail = |m: String| Err(ConfigError::Semantic(m));
        if self.token.is_none() {
            return fail(format!(
                "telegram.enabled is true but {TOKEN_VAR} is not set: export the bot token from @BotFather, or set telegram.enabled = false"
            ));
        }
        for (key, url) in [
            ("api_url", Some(&self.api_url)),
            ("public_url", self.public_url.as_ref()),
        ] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return fail(format!("telegram.{key}: `{url}` is not an http(s) URL"));
            }
        }
        if !self.webhook_path.starts_with('/') || self.webhook_path.len() < 2 {
            return fail(
                "telegram.webhook_path must start with `/`, e.g. /telegram/webhook".into(),
            );
        }
        if self.mode == TelegramMode::Webhook {
            let Some(secret) = &self.webhook_secret else {
                return fail(format!(
                    "telegram.mode is webhook but {WEBHOOK_SECRET_VAR} is not set: export 1-256 characters of A-Z a-z 0-9 _ - (e.g. from `openssl rand -hex 32`)"
                ));
            };
            let s = secret.expose();
            let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            if s.len() > 256 || !s.chars().all(allowed) {
                return fail(format!(
                    "{WEBHOOK_SECRET_VAR} must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)"
                ));
            }
        }
        if self.poll_timeout_secs == 0 || self.send_timeout_secs == 0 {
            return fail(
                "telegram.poll_timeout_secs and telegram.send_timeout_secs must be positive".into(),
            );
        }
        Ok(())
    }

    /// The URL Telegram is told to call, when a public URL is configured.
    pub fn webhook_url(&self) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{}{}", base.trim_end_matches('/'), self.webhook_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(mode: TelegramMode) -> TelegramSettings {
        TelegramSettings {
            enabled: true,
            mode,
            ..TelegramSettings::default()
        }
    }

    #[test]
    fn an_enabled_bot_without_a_token_fails_with_one_line_naming_the_variable() {
        let err = enabled(TelegramMode::Polling)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains(TOKEN_VAR), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn secrets_come_from_the_environment_and_webhook_mode_needs_a_valid_one() {
        let mut s = enabled(TelegramMode::Webhook);
        s.read_secrets(&[(TOKEN_VAR.to_string(), "123:abc".to_string())]);
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains(WEBHOOK_SECRET_VAR), "{err}");
        s.read_secrets(&[(WEBHOOK_SECRET_VAR.to_string(), "not allowed!".to_string())]);
        assert!(s.validate().is_err());
        s.read_secrets(&[(WEBHOOK_SECRET_VAR.to_string(), "abc_DEF-123".to_string())]);
        assert!(s.validate().is_ok());
        assert_eq!(format!("{:?}", s.token), "Some(Secret(***))");
    }

    #[test]
    fn the_webhook_url_joins_the_public_url_and_the_path() {
        let s = TelegramSettings {
            public_url: Some("https://hotline.example.gov.cn/".into()),
            ..TelegramSettings::default()
        };
        assert_eq!(
            s.webhook_url().as_deref(),
            Some("https://hotline.example.gov.cn/telegram/webhook")
        );
    }
}
