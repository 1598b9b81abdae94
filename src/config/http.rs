//! `[http]`: how long the server waits for a client's request head. The same timer bounds a
//! connection that sends nothing and a kept-alive connection between requests (see
//! `http::serve`), so a slow or idle client cannot hold a connection open.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// The longest header-read timeout accepted: beyond it the limit no longer protects anything.
const MAX_HEADER_READ_TIMEOUT_SECS: u64 = 300;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Seconds a client has to send a complete request head (request line and headers), counted
    /// from the moment the server waits for it: a new connection, or a kept-alive one after its
    /// last response. Past it the connection is closed without an answer.
    pub header_read_timeout_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            header_read_timeout_secs: 10,
        }
    }
}

impl HttpSettings {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if (1..=MAX_HEADER_READ_TIMEOUT_SECS).contains(&self.header_read_timeout_secs) {
            Ok(())
        } else {
            Err(ConfigError::Semantic(format!(
                "http.header_read_timeout_secs is {}: it must be between 1 and \
                 {MAX_HEADER_READ_TIMEOUT_SECS} seconds (a client that cannot send its headers \
                 in that time is cut off)",
                self.header_read_timeout_secs
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_read_timeout_must_be_between_one_second_and_five_minutes() {
        for (secs, ok) in [(0, false), (1, true), (10, true), (300, true), (301, false)] {
            let settings = HttpSettings {
                header_read_timeout_secs: secs,
            };
            assert_eq!(settings.validate().is_ok(), ok, "{secs}");
        }
        let err = HttpSettings {
            header_read_timeout_secs: 0,
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(err.contains("http.header_read_timeout_secs"), "{err}");
    }
}
