//! What an SMS provider must offer the channel: verify and parse its inbound webhook, acknowledge
//! it the way it expects, and (for the outbound provider) send one segment. Add a provider by
//! implementing [`InboundProvider`] (and [`SmsSender`] if it sends) and registering it in
//! [`super::SmsChannel::build`].

use std::future::Future;
use std::pin::Pin;

use axum::http::HeaderMap;

use super::number::SmsNumber;

/// A webhook call as it arrived, before anything is trusted.
pub struct WebhookRequest<'a> {
    /// The request's path and query as the server saw them (`/hooks/sms/twilio?x=1`).
    pub path_and_query: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// One citizen's text, verified and parsed.
#[derive(Debug, Clone)]
pub struct SmsInbound {
    pub from: SmsNumber,
    /// The provider's id for the message (prefixed with the provider's name).
    pub message_id: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// The signature (or callback token) is missing or wrong: answered 403, nothing stored.
    #[error("the request signature is missing or wrong")]
    BadSignature,
    /// The payload is not what the provider sends: answered 400 with the reason.
    /// The reason never holds a phone number or message text.
    #[error("{0}")]
    Malformed(String),
}

/// What the provider expects back on success.
pub struct Acknowledgement {
    pub content_type: &'static str,
    pub body: &'static str,
}

pub trait InboundProvider: Send + Sync {
    /// The path segment of its webhook: `/hooks/sms/{name}`.
    fn name(&self) -> &'static str;
    /// Verifies the request and parses its messages (some providers batch several).
    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<SmsInbound>, InboundError>;
    fn acknowledgement(&self) -> Acknowledgement;
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying soon: a timeout, a connection error, 429 or 5xx.
    #[error("transient: {0}")]
    Transient(String),
    /// The provider refused the message; retrying the same call will not help soon.
    #[error("refused: {0}")]
    Refused(String),
    /// The provider keeps its own opt-out list and the recipient is on it (they texted STOP to
    /// the provider's number): nothing will reach them until they text START.
    #[error("the recipient opted out at the provider")]
    RecipientOptedOut,
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient(_))
    }
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>>;

/// Sends one SMS segment; resolves with the provider's id for it. Errors never hold the number
/// or the text.
pub trait SmsSender: Send + Sync {
    fn send<'a>(&'a self, to: &'a SmsNumber, body: &'a str) -> SendFuture<'a>;
}
