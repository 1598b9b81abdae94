//! `[sms]` in config/hotline.toml, and the SMS secrets, which come from the environment only.

use serde::Deserialize;

use crate::config::{ConfigError, Secret};

/// Twilio's Account SID (starts with AC).
pub const ENV_TWILIO_ACCOUNT_SID: &str = "HOTLINE_TWILIO_ACCOUNT_SID";
/// Twilio's Auth Token: signs inbound webhooks and authenticates outbound sends.
pub const ENV_TWILIO_AUTH_TOKEN: &str = "HOTLINE_TWILIO_AUTH_TOKEN";
/// The token we put in the Alibaba Cloud 上行消息 push URL (`?token=…`).
pub const ENV_ALIYUN_CALLBACK_TOKEN: &str = "HOTLINE_ALIYUN_SMS_CALLBACK_TOKEN";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSettings {
    /// The public base URL providers call, as they see it (behind a reverse proxy, the proxy's
    /// URL, with any path prefix): `https://12345.example.gov.cn`. Twilio signs this URL.
    pub public_url: String,
    /// Linked at the end of a reply cut at `max_segments` (bots/channels.toml); default
    /// `public_url` (the web chat page).
    pub web_url: String,
    /// Base URL of the outbound API (Twilio's; a local fake in tests).
    pub api_base: String,
    /// The number replies are sent from (E.164, e.g. `+8610690000`), or a Twilio Messaging
    /// Service SID (`MG…`).
    pub from: String,
    /// Country code assumed for numbers a provider gives without one (Alibaba Cloud sends
    /// `13800138000`).
    pub country_code: String,
    /// Messages one number may send per minute before the rest are kept but not answered.
    pub rate_per_minute: u32,
    /// How many messages may arrive at once within that rate.
    pub rate_burst: u32,
    /// Quick retries of one send on a transient error (timeouts, 429, 5xx) before the outbox
    /// backs off and tries again later.
    pub send_retries: usize,
    /// First delay between those retries, doubling.
    pub send_retry_delay_ms: u64,
    /// Timeout of one call to the provider.
    pub send_timeout_secs: u64,
    /// How long a web chat's phone verification code is valid.
    pub code_ttl_secs: u64,
    /// Wrong codes allowed before the code is void.
    pub code_max_attempts: u8,
    #[serde(skip)]
    pub secrets: SmsSecrets,
}

/// Credentials, from the environment; never in a file, never printed.
#[derive(Debug, Clone, Default)]
pub struct SmsSecrets {
    pub twilio_account_sid: Option<Secret>,
    pub twilio_auth_token: Option<Secret>,
    pub aliyun_callback_token: Option<Secret>,
}

impl SmsSecrets {
    /// Reads the variables above from `env` (the process environment in `main`).
    pub fn from_env<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> SmsSecrets {
        let mut secrets = SmsSecrets::default();
        for (var, value) in env {
            if value.is_empty() {
                continue;
            }
            let secret = Some(Secret::new(value.to_string()));
            match var {
                ENV_TWILIO_ACCOUNT_SID => secrets.twilio_account_sid = secret,
                ENV_TWILIO_AUTH_TOKEN => secrets.twilio_auth_token = secret,
                ENV_ALIYUN_CALLBACK_TOKEN => secrets.aliyun_callback_token = secret,
                _ => {}
            }
        }
        secrets
    }
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            public_url: String::new(),
            web_url: String::new(),
            api_base: "https://api.twilio.com".into(),
            from: String::new(),
            country_code: "86".into(),
            rate_per_minute: 10,
            rate_burst: 5,
            send_retries: 3,
            send_retry_delay_ms: 500,
            send_timeout_secs: 10,
            code_ttl_secs: 600,
            code_max_attempts: 5,
            secrets: SmsSecrets::default(),
        }
    }
}

impl SmsSettings {
    /// The link appended to a cut reply, if any.
    pub fn link(&self) -> Option<&str> {
        [self.web_url.as_str(), self.public_url.as_str()]
            .into_iter()
            .map(|u| u.trim_end_matches('/'))
            .find(|u| !u.is_empty())
    }

    /// Whether outbound sending is configured (Twilio credentials and a sender).
    pub fn can_send(&self) -> bool {
        self.secrets.twilio_account_sid.is_some()
            && self.secrets.twilio_auth_token.is_some()
            && !self.from.is_empty()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let url_ok =
            |u: &str| u.is_empty() || u.starts_with("https://") || u.starts_with("http://");
        if let Some(bad) = [&self.public_url, &self.web_url, &self.api_base]
            .into_iter()
            .find(|u| !url_ok(u))
        {
            return Err(ConfigError::Semantic(format!(
                "sms: `{bad}` is not a URL: write it as https://host[/path]"
            )));
        }
        if self.rate_per_minute == 0 || self.rate_burst == 0 {
            return Err(ConfigError::Semantic(
                "sms.rate_per_minute and sms.rate_burst must be at least 1".into(),
            ));
        }
        if self.country_code.is_empty() || !self.country_code.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConfigError::Semantic(
                "sms.country_code must be digits, such as 86".into(),
            ));
        }
        Ok(())
    }
}
