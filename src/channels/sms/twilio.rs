//! Twilio: inbound messages (form-encoded webhook, `X-Twilio-Signature`) and outbound sends
//! (`POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form, basic auth).
//!
//! The signature is base64(HMAC-SHA1(auth token, URL + every form field's name and value, sorted
//! by name)), where URL is the webhook's address as Twilio called it. Behind a reverse proxy the
//! Host header and scheme we see are not that address, so the URL is built from the configured
//! `[sms] public_url` and the request's path, never from the request's Host.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::number::SmsNumber;
use super::provider::{
    Acknowledgement, InboundError, InboundProvider, SendError, SendFuture, SmsInbound, SmsSender,
    WebhookRequest,
};
use crate::config::Secret;

type HmacSha1 = Hmac<Sha1>;

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The base64 signature Twilio sends for `url` and these form fields.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(mac(auth_token, url, params).finalize().into_bytes())
}

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac =
        HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Checks a signature in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(expected) = BASE64.decode(signature.trim()) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&expected).is_ok()
}

pub struct TwilioInbound {
    pub auth_token: Secret,
    /// `[sms] public_url`, without a trailing slash.
    pub public_url: String,
    pub country_code: String,
}

impl InboundProvider for TwilioInbound {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<SmsInbound>, InboundError> {
        let params: Vec<(String, String)> =
            serde_urlencoded::from_bytes(request.body).map_err(|_| {
                InboundError::Malformed(
                    "the body is not form-encoded (application/x-www-form-urlencoded) as Twilio \
                     sends it"
                        .into(),
                )
            })?;
        let signature = request
            .headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(InboundError::BadSignature)?;
        let url = format!("{}{}", self.public_url, request.path_and_query);
        if !verify(self.auth_token.expose(), &url, &params, signature) {
            return Err(InboundError::BadSignature);
        }
        let field = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let sid = field("MessageSid")
            .or_else(|| field("SmsSid"))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| InboundError::Malformed("MessageSid is missing".into()))?;
        let from =
            field("From").ok_or_else(|| InboundError::Malformed("From is missing".into()))?;
        let from = SmsNumber::parse(from, &self.country_code).ok_or_else(|| {
            InboundError::Malformed("From is not a phone number in E.164 form".into())
        })?;
        Ok(vec![SmsInbound {
            from,
            message_id: format!("twilio:{sid}"),
            text: field("Body").unwrap_or_default().to_string(),
        }])
    }

    fn acknowledgement(&self) -> Acknowledgement {
        // Empty TwiML: replies leave through the API (and the outbox), not in this response.
        Acknowledgement {
            content_type: "text/xml; charset=utf-8",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
        }
    }
}

/// Sends through Twilio's Messages API, retrying transient failures a few times (backon) before
/// the outbox takes over with its longer backoff.
pub struct TwilioSender {
    pub client: reqwest::Client,
    /// `{api_base}/2010-04-01/Accounts/{sid}/Messages.json`
    pub endpoint: String,
    pub account_sid: Secret,
    pub auth_token: Secret,
    /// A number (`From`) or a Messaging Service SID (`MG…`).
    pub from: String,
    pub retries: usize,
    pub retry_delay: Duration,
}

impl TwilioSender {
    pub fn new(
        api_base: &str,
        account_sid: Secret,
        auth_token: Secret,
        from: String,
        timeout: Duration,
    ) -> reqwest::Result<TwilioSender> {
        let endpoint = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            api_base.trim_end_matches('/'),
            account_sid.expose()
        );
        Ok(TwilioSender {
            client: reqwest::Client::builder().timeout(timeout).build()?,
            endpoint,
            account_sid,
            auth_token,
            from,
            retries: 3,
            retry_delay: Duration::from_millis(500),
        })
    }

    async fn send_once(&self, to: &SmsNumber, body: &str) -> Result<String, SendError> {
        let sender = if self.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let form = [
            ("To", to.e164()),
            (sender, self.from.as_str()),
            ("Body", body),
        ];
        let response = self
            .client
            .post(&self.endpoint)
            .basic_auth(self.account_sid.expose(), Some(self.auth_token.expose()))
            .form(&form)
            .send()
            .await
            // The URL holds the Account SID: keep it out of the error.
            .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if status.is_success() {
            return body["sid"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| SendError::Transient("the answer has no message sid".into()));
        }
        // 21610: "Attempt to send to unsubscribed recipient" (Twilio's own STOP handling).
        if body["code"].as_u64() == Some(21610) {
            return Err(SendError::RecipientOptedOut);
        }
        // Twilio's message may quote the number: only the status and error code are kept.
        let reason = format!("HTTP {status}, Twilio error {}", body["code"]);
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Transient(reason))
        } else {
            Err(SendError::Refused(reason))
        }
    }
}

impl SmsSender for TwilioSender {
    fn send<'a>(&'a self, to: &'a SmsNumber, body: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            (|| self.send_once(to, body))
                .retry(
                    ExponentialBuilder::default()
                        .with_min_delay(self.retry_delay)
                        .with_max_times(self.retries),
                )
                .when(SendError::is_transient)
                .notify(|error, after| {
                    tracing::debug!(%error, ?after, "sms send failed; retrying");
                })
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<(String, String)> {
        [
            ("From", "+8613800138000"),
            ("Body", "你好"),
            ("MessageSid", "SM1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec()
    }

    #[test]
    fn a_signature_verifies_only_for_its_url_token_and_fields() {
        let url = "https://12345.example.gov.cn/hooks/sms/twilio";
        let signature = sign("token", url, &params());
        assert!(verify("token", url, &params(), &signature));
        assert!(!verify("other", url, &params(), &signature));
        assert!(!verify(
            "token",
            "http://127.0.0.1:8080/hooks/sms/twilio",
            &params(),
            &signature
        ));
        let mut changed = params();
        changed[1].1 = "再见".into();
        assert!(!verify("token", url, &changed, &signature));
        assert!(!verify("token", url, &params(), "not base64!"));
    }

    #[test]
    fn the_example_in_twilios_security_documentation_verifies() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .to_vec();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(verify(
            "12345",
            url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn field_order_does_not_matter() {
        let url = "https://x/hooks/sms/twilio";
        let mut reversed = params();
        reversed.reverse();
        assert_eq!(sign("t", url, &params()), sign("t", url, &reversed));
    }
}
