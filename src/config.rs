//! Typed settings read once from `config/hotline.toml`, with `HOTLINE__SECTION__KEY` environment
//! overrides.
//!
//! We parse with the `toml` crate directly (not a layering crate) because an operator who mistypes
//! a key must be told the file *and line*: `config/hotline.toml:7: unknown field `listn` …`.
//! Unknown keys are rejected everywhere (`deny_unknown_fields`). Secrets never live here: they come
//! from the environment and are held as [`Secret`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod callback;
pub use callback::{CallbackSettings, RateSettings, RatedRound, SatisfactionScale};
mod http;
pub use http::HttpSettings;

pub const MAIN_FILE: &str = "hotline.toml";
const ENV_PREFIX: &str = "HOTLINE__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{0}")]
    Semantic(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub chat: ChatSettings,
    pub knowledge: KnowledgeSettings,
    pub bots: BotSettings,
    pub log: LogSettings,
    pub city: CitySettings,
    pub intake: IntakeSettings,
    /// 办理时限 per category label, in working days (e.g. "投诉" = 15).
    pub time_limits: std::collections::BTreeMap<String, u32>,
    pub deadlines: DeadlineSettings,
    pub web: WebSettings,
    /// 回访: delay, quiet hours, reminder, scale.
    pub callback: CallbackSettings,
    /// The rates' formulas: weights and what counts as evaluated.
    pub rates: RateSettings,
    /// The Telegram bot (token and webhook secret from the environment only).
    pub telegram: crate::channels::telegram::TelegramSettings,
    pub sms: crate::channels::sms::SmsSettings,
    /// Hotspot detection (热点预警): window and thresholds.
    pub hotspots: crate::governance::HotspotSettings,
    pub limits: LimitSettings,
    /// The embedded store: how much memory its page cache may take.
    pub store: StoreSettings,
    /// The HTTP server's connection limits (header-read timeout).
    pub http: HttpSettings,
}

/// The embedded store (sled).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// sled's page cache, in MiB. Reads beyond it go to the file (the OS cache); the resident
    /// memory of the server grows with it, whatever the size of the store.
    pub cache_mb: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings { cache_mb: 4 }
    }
}

/// Rate limits: requests per minute with a burst, per client address and per sender (a web
/// chat session; a channel's chat id or phone number). 0 turns a limit off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Requests per minute from one client address (every route but /healthz, /readyz).
    pub per_ip_per_minute: u32,
    pub per_ip_burst: u32,
    /// Messages per minute from one sender.
    pub per_sender_per_minute: u32,
    pub per_sender_burst: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            per_ip_per_minute: 600,
            per_ip_burst: 200,
            per_sender_per_minute: 30,
            per_sender_burst: 10,
        }
    }
}

/// Time-limit tiers by urgency and the handling rules around deadlines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadlineSettings {
    /// 生命财产安全: natural hours from dispatch.
    pub life_safety_hours: u32,
    /// 水电气热: natural hours from dispatch.
    pub utilities_hours: u32,
    /// 复杂疑难: working days.
    pub complex_working_days: u32,
    /// Working-day limits count from the next day (Zhongshan practice) rather than from now.
    pub count_from_next_day: bool,
    /// Working days after dispatch in which the lead unit may object (管辖异议).
    pub objection_working_days: u32,
    /// Extensions (延期) a ticket may be granted.
    pub max_extensions: u32,
}

impl Default for DeadlineSettings {
    fn default() -> Self {
        DeadlineSettings {
            life_safety_hours: 2,
            utilities_hours: 24,
            complex_working_days: 15,
            count_from_next_day: true,
            objection_working_days: 2,
            max_extensions: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CitySettings {
    pub name: String,
    /// The districts (and counties) a citizen may name; the intake dialogue offers these.
    pub districts: Vec<String>,
}

impl Default for CitySettings {
    fn default() -> Self {
        CitySettings {
            name: "示例市".into(),
            districts: ["东城区", "西城区", "南山区", "北湖区", "高新区", "滨江县"]
                .map(String::from)
                .to_vec(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeSettings {
    /// An unfinished draft is kept this long, then forgotten.
    pub draft_ttl_hours: u64,
    /// After this much silence, the next message is first asked whether to resume the draft.
    pub resume_prompt_minutes: u64,
    /// The same matter from the same citizen within this window joins the open ticket (并单).
    pub duplicate_window_hours: u64,
    /// This many identical messages within `flood_window_minutes` are flagged and not repeated.
    pub flood_repeats: usize,
    pub flood_window_minutes: u64,
    /// Invalid phone numbers accepted before offering to go on anonymously.
    pub max_phone_attempts: u8,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        IntakeSettings {
            draft_ttl_hours: 24,
            resume_prompt_minutes: 30,
            duplicate_window_hours: 72,
            flood_repeats: 3,
            flood_window_minutes: 10,
            max_phone_attempts: 3,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address the HTTP server binds; `--listen` overrides it.
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes (413 above it).
    pub body_limit_bytes: usize,
    /// A request that takes longer is answered 408 (the work it started still completes).
    pub request_timeout_secs: u64,
    /// How often the deadline scheduler looks for warnings to send.
    pub scheduler_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatSettings {
    /// Longest citizen message accepted, in characters.
    pub max_text_chars: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnowledgeSettings {
    /// Folder with the articles, dictionary and synonyms.
    pub dir: PathBuf,
    /// Confidence at or above which the bot answers with the article.
    pub answer_threshold: f32,
    /// Confidence at or above which near hits are offered as suggestions.
    pub suggest_threshold: f32,
    /// The region this gateway serves; articles for other regions never answer automatically.
    pub region: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BotSettings {
    /// Folder with what the bot says (templates) and per-channel settings.
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `hotline=debug,tower_http=info`.
    pub filter: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// Sites that may embed the chat widget (frame the chat page) and call the chat API from the
    /// browser (CORS), as origins: `https://www.example.gov.cn`. Empty: this gateway's own only.
    pub allowed_origins: Vec<String>,
}

impl WebSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        match self.allowed_origins.iter().find(|o| !is_web_origin(o)) {
            Some(bad) => Err(ConfigError::Semantic(format!(
                "web.allowed_origins: `{bad}` is not an origin: write it as https://host or \
                 https://host:port, lowercase, without a path or a trailing slash"
            ))),
            None => Ok(()),
        }
    }
}

/// `http(s)://host[:port]` and nothing more: what a browser sends as `Origin`, and safe to place
/// in a header (no spaces, semicolons or commas). Internationalised names go in punycode.
fn is_web_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    host_ok && port_ok
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings::default(),
            chat: ChatSettings::default(),
            knowledge: KnowledgeSettings::default(),
            bots: BotSettings::default(),
            log: LogSettings::default(),
            city: CitySettings::default(),
            intake: IntakeSettings::default(),
            time_limits: [
                ("咨询", 2),
                ("表扬", 2),
                ("求助", 10),
                ("建议", 10),
                ("投诉", 15),
                ("举报", 15),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            deadlines: DeadlineSettings::default(),
            web: WebSettings::default(),
            callback: CallbackSettings::default(),
            rates: RateSettings::default(),
            telegram: Default::default(),
            sms: crate::channels::sms::SmsSettings::default(),
            hotspots: crate::governance::HotspotSettings::default(),
            limits: LimitSettings::default(),
            store: StoreSettings::default(),
            http: HttpSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 64 * 1024,
            request_timeout_secs: 15,
            scheduler_interval_secs: 60,
        }
    }
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            max_text_chars: 2000,
        }
    }
}

impl Default for KnowledgeSettings {
    fn default() -> Self {
        KnowledgeSettings {
            dir: PathBuf::from("knowledge"),
            answer_threshold: 0.4,
            suggest_threshold: 0.2,
            region: "示例市".to_string(),
        }
    }
}

impl Default for BotSettings {
    fn default() -> Self {
        BotSettings {
            dir: PathBuf::from("bots"),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
            filter: "info".to_string(),
        }
    }
}

impl Settings {
    /// Reads `<dir>/hotline.toml` (defaults when the file is absent) and applies the environment
    /// overrides found in `env`.
    pub fn load(
        dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let path = dir.join(MAIN_FILE);
        let file = path.display().to_string();
        let env: Vec<(String, String)> = env.into_iter().collect();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { file, source }),
        };
        // First pass: the file alone, so errors point at a line of it.
        parse_toml::<Settings>(&file, &text)?;
        let mut table: toml::Table = parse_toml(&file, &text)?;
        // Secrets (HOTLINE_… with one underscore) are kept aside; overrides are HOTLINE__….
        let (secrets, env): (Vec<_>, Vec<_>) = env
            .into_iter()
            .partition(|(k, _)| k.starts_with("HOTLINE_") && !k.starts_with(ENV_PREFIX));
        let overridden = apply_env_overrides(&mut table, env)?;
        let mut settings: Settings =
            Settings::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Env {
                var: overridden.join(", "),
                message: e.message().to_string(),
            })?;
        settings.telegram.read_secrets(&secrets);
        settings.sms.secrets = crate::channels::sms::SmsSecrets::from_env(
            secrets.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        settings.validate()?;
        settings.callback.validate(&file, &text)?;
        settings.rates.validate(&file, &text)?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.web.validate()?;
        self.telegram.validate()?;
        self.sms.validate()?;
        self.http.validate()?;
        let k = &self.knowledge;
        if !(0.0..=1.0).contains(&k.answer_threshold) || !(0.0..=1.0).contains(&k.suggest_threshold)
        {
            return Err(ConfigError::Semantic(
                "knowledge.answer_threshold and knowledge.suggest_threshold must be between 0 and 1"
                    .into(),
            ));
        }
        if k.suggest_threshold > k.answer_threshold {
            return Err(ConfigError::Semantic(
                "knowledge.suggest_threshold must not exceed knowledge.answer_threshold".into(),
            ));
        }
        if let Some(bad) = self
            .time_limits
            .keys()
            .find(|k| crate::domain::Category::from_label(k).is_none())
        {
            return Err(ConfigError::Semantic(format!(
                "time_limits: unknown category `{bad}` (use 咨询, 求助, 投诉, 举报, 建议, 表扬)"
            )));
        }
        if self.city.districts.is_empty() {
            return Err(ConfigError::Semantic(
                "city.districts must list at least one district".into(),
            ));
        }
        if self.store.cache_mb == 0 {
            return Err(ConfigError::Semantic(
                "store.cache_mb must be at least 1 (MiB of sled's page cache; 4 is the default)"
                    .into(),
            ));
        }
        if self.chat.max_text_chars == 0 || self.server.body_limit_bytes < 1024 {
            return Err(ConfigError::Semantic(
                "chat.max_text_chars must be positive and server.body_limit_bytes at least 1024"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Parses TOML text, turning an error into `file:line: message`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| line_of_offset(text, span.start))
            .unwrap_or(1);
        ConfigError::Invalid {
            file: file.to_string(),
            line,
            message: e.message().trim().to_string(),
        }
    })
}

/// 1-based line number of a byte offset.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Applies `HOTLINE__SECTION__KEY=value`; returns the names of the variables applied.
fn apply_env_overrides(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<String>, ConfigError> {
    let mut applied = Vec::new();
    for (var, raw) in env {
        let Some(path) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
        if keys.len() != 2 || keys.iter().any(|k| k.is_empty()) {
            return Err(ConfigError::Env {
                var,
                message: "expected the form HOTLINE__SECTION__KEY".into(),
            });
        }
        let section = table
            .entry(keys[0].clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(section) = section else {
            return Err(ConfigError::Env {
                var,
                message: format!("`{}` is not a section", keys[0]),
            });
        };
        section.insert(keys[1].clone(), env_value(&raw));
        applied.push(var);
    }
    Ok(applied)
}

/// An environment value is read as a TOML value when it is one (`42`, `true`, `0.5`), else as a
/// string, so `HOTLINE__SERVER__LISTEN=0.0.0.0:80` needs no quotes. Times and dates stay strings
/// (no setting is a TOML datetime): `HOTLINE__CALLBACK__QUIET_START=22:00` means "22:00".
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !v.is_datetime())
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// A secret read from the environment: never printed, never logged.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    pub fn from_env(var: &str) -> Option<Secret> {
        std::env::var(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MAIN_FILE), text).unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load(dir.path(), env)
    }

    #[test]
    fn an_unknown_key_is_reported_with_file_line_and_key() {
        let err = load_text("[server]\n\nlistn = \"1.2.3.4:5\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("hotline.toml:3:"), "{err}");
        assert!(err.contains("listn"), "{err}");
    }

    #[test]
    fn environment_overrides_win_over_the_file() {
        let s = load_text(
            "[chat]\nmax_text_chars = 10\n",
            &[("HOTLINE__CHAT__MAX_TEXT_CHARS", "20"), ("OTHER", "x")],
        )
        .unwrap();
        assert_eq!(s.chat.max_text_chars, 20);
    }

    #[test]
    fn a_store_without_a_page_cache_is_refused_at_load() {
        let err = load_text("[store]\ncache_mb = 0\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("store.cache_mb"), "{err}");
        assert!(load_text("[store]\ncache_mb = 1\n", &[]).is_ok());
    }

    #[test]
    fn a_time_in_the_environment_is_read_as_written() {
        let s = load_text("", &[("HOTLINE__CALLBACK__QUIET_START", "22:30")]).unwrap();
        assert_eq!(s.callback.quiet_start, "22:30");
    }

    #[test]
    fn a_bad_environment_override_names_the_variable() {
        let err = load_text("", &[("HOTLINE__CHAT__MAX_TEXT_CHARS", "many")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("HOTLINE__CHAT__MAX_TEXT_CHARS"), "{err}");
    }

    #[test]
    fn web_origins_must_be_bare_origins() {
        let ok = load_text(
            "[web]\nallowed_origins = [\"https://www.example.gov.cn\", \"http://127.0.0.1:8081\"]\n",
            &[],
        );
        assert!(ok.is_ok(), "{ok:?}");
        for bad in [
            "https://a.gov.cn/",
            "a.gov.cn",
            "https://a.gov.cn/x",
            "*",
            "https://A.gov.cn",
        ] {
            let err = load_text(&format!("[web]\nallowed_origins = [\"{bad}\"]\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains("web.allowed_origins"), "{bad}: {err}");
        }
    }

    #[test]
    fn rate_weights_that_do_not_add_up_name_the_file_and_line() {
        let err = load_text("[rates]\n\nsolved_weight = 0.5\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("hotline.toml:1:"), "{err}");
        let err = load_text("[rates]\nresponse_weight = 1.5\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("hotline.toml:2:"), "{err}");
        let err = load_text(
            "[callback]\ndelay_minutes = 5\nquiet_start = \"9pm\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("hotline.toml:3:") && err.contains("quiet_start"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", Secret::new("abc".into())), "Secret(***)");
    }
}
