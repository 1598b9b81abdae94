//! Proving a phone typed into the web chat: a one-time code by SMS.
//!
//! A number typed into the web chat links nothing: anyone can type anyone's number. The citizen
//! may prove it instead — `POST /api/chat/sessions/{id}/verify-phone {phone}` sends a six-digit
//! code to that number, `…/verify-phone/confirm {code}` checks it — and the session's proven
//! phone is set, so the tickets of that number (opened by SMS, say) are the citizen's own there
//! too. Only the code's SHA-256 (salted with the session id) is stored; it expires
//! (`[sms] code_ttl_secs`), a few wrong codes void it (`code_max_attempts`), and a number gets a
//! few codes at once, then one every 20 seconds.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::Quota;
use jiff::SignedDuration;
use minijinja::context;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::SmsChannel;
use super::number::SmsNumber;
use crate::clock;
use crate::domain::{ConversationId, PhoneCode};
use crate::engine::EngineError;
use crate::store::StoreError;

pub struct CodeSettings {
    pub country_code: String,
    pub ttl_secs: u64,
    pub max_attempts: u8,
}

/// Three codes at once per number, then one every 20 seconds.
pub fn code_quota() -> Quota {
    let burst = NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(Duration::from_secs(20))
        .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
        .allow_burst(burst)
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("SMS sending is not configured on this gateway")]
    NotConfigured,
    #[error("not a phone number")]
    InvalidPhone,
    #[error("a code was sent to this number moments ago")]
    TooSoon,
    #[error("the number asked for no SMS (退订)")]
    OptedOut,
    #[error("the code could not be sent: {0}")]
    SendFailed(String),
    #[error("no code is pending for this session")]
    NoCode,
    #[error("the code has expired")]
    Expired,
    #[error("wrong code; {left} attempts left")]
    WrongCode { left: u8 },
    #[error("too many wrong codes")]
    TooManyAttempts,
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<StoreError> for VerifyError {
    fn from(e: StoreError) -> Self {
        VerifyError::Engine(EngineError::Store(e))
    }
}

fn code_hash(conversation: ConversationId, code: &str) -> String {
    let digest = Sha256::digest(format!("{conversation}:{code}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl SmsChannel {
    /// Sends a code to `phone` for the web chat session `conversation`; returns the number masked.
    #[tracing::instrument(skip_all, fields(channel = "web", %conversation))]
    pub async fn send_phone_code(
        &self,
        conversation: ConversationId,
        phone: &str,
    ) -> Result<String, VerifyError> {
        let sender = self.sender.as_ref().ok_or(VerifyError::NotConfigured)?;
        self.gateway
            .engine()
            .conversation(conversation)?
            .ok_or(EngineError::UnknownConversation(conversation))?;
        let number =
            SmsNumber::parse(phone, &self.codes.country_code).ok_or(VerifyError::InvalidPhone)?;
        if self.stores.sms.opt_out(number.e164())?.is_some() {
            return Err(VerifyError::OptedOut);
        }
        if self
            .code_limiter
            .check_key(&number.e164().to_string())
            .is_err()
        {
            return Err(VerifyError::TooSoon);
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let ttl = SignedDuration::from_secs(self.codes.ttl_secs as i64);
        self.stores
            .sms
            .set_phone_code(
                conversation,
                Some(PhoneCode {
                    phone: number.e164().to_string(),
                    code_hash: code_hash(conversation, &code),
                    expires_at: clock::now() + ttl,
                    attempts: 0,
                }),
            )
            .await?;
        let minutes = self.codes.ttl_secs.div_ceil(60);
        let text = self
            .gateway
            .engine()
            .bots()
            .say("sms_verification_code", context! { code => &code, minutes });
        sender
            .send(&number, &text)
            .await
            .map_err(|e| VerifyError::SendFailed(e.to_string()))?;
        tracing::info!(to = %number.masked(), "phone verification code sent");
        Ok(number.masked())
    }

    /// Checks `code`; on success the session's proven phone is the number. Returns it masked.
    #[tracing::instrument(skip_all, fields(channel = "web", %conversation))]
    pub async fn confirm_phone_code(
        &self,
        conversation: ConversationId,
        code: &str,
    ) -> Result<String, VerifyError> {
        let mut pending = self
            .stores
            .sms
            .phone_code(conversation)?
            .ok_or(VerifyError::NoCode)?;
        if clock::now() > pending.expires_at {
            self.stores.sms.set_phone_code(conversation, None).await?;
            return Err(VerifyError::Expired);
        }
        let given = code_hash(conversation, crate::engine::words::bare(code).as_str());
        if !bool::from(given.as_bytes().ct_eq(pending.code_hash.as_bytes())) {
            pending.attempts += 1;
            let left = self.codes.max_attempts.saturating_sub(pending.attempts);
            if left == 0 {
                self.stores.sms.set_phone_code(conversation, None).await?;
                tracing::warn!("phone verification: too many wrong codes; the code is void");
                return Err(VerifyError::TooManyAttempts);
            }
            self.stores
                .sms
                .set_phone_code(conversation, Some(pending))
                .await?;
            return Err(VerifyError::WrongCode { left });
        }
        self.stores.sms.set_phone_code(conversation, None).await?;
        let number = SmsNumber::parse(&pending.phone, &self.codes.country_code)
            .ok_or(VerifyError::InvalidPhone)?;
        self.gateway
            .engine()
            .set_proven_phone(conversation, number.national())
            .await?;
        tracing::info!(phone = %number.masked(), "phone proven by a one-time code");
        Ok(number.masked())
    }
}
