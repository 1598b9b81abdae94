//! The SMS channel: providers' webhooks in, replies out through the outbox.
//!
//! A citizen's text arrives at `POST /hooks/sms/{provider}` (Twilio, Alibaba Cloud): the provider
//! verifies and parses it ([`provider::InboundProvider`]), then [`SmsChannel::receive`]:
//! 1. 退订/TD/STOP records an opt-out (durably, confirmed once); 订阅/START undoes it;
//! 2. a number over its rate limit is kept as a flagged record, not answered;
//! 3. a bare digit ("1", "１") becomes the payload of that option in the last message we sent;
//! 4. the [`Gateway`] runs the turn (the sender is the proven phone; a retried message id
//!    changes nothing), and the replies are queued in the outbox as one message, in the same
//!    write as the turn.
//!
//! The webhook answers 200 once the turn and its queued reply are on disk; the
//! [`deliver::SmsDeliverer`] sends them (segmented, numbered choices, cut with a link), so a
//! provider outage never blocks intake and its retries survive a restart.
//!
//! The turn, its message id and its queued reply are one durable write
//! ([`Gateway::receive_queued`]): a crash keeps all three or none, so a provider's retry after a
//! crash is either a no-op with the reply still queued, or handled afresh.

pub mod aliyun;
pub mod deliver;
pub mod keywords;
pub mod number;
pub mod provider;
pub mod segment;
mod settings;
pub mod twilio;
pub mod verify;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use minijinja::context;
use tokio::sync::Notify;

use crate::clock;
use crate::domain::{
    Channel, ConversationId, IntakeRecord, OptOut, OutboundReply, OutboxMessage, RecordKind,
    Speaker,
};
use crate::engine::{EngineError, EngineOutput, words};
use crate::store::{OutboxStore, RecordStore, SmsStore};
use keywords::Keyword;
use number::SmsNumber;
use provider::{InboundProvider, SmsInbound, SmsSender};
pub use settings::{
    ENV_ALIYUN_CALLBACK_TOKEN, ENV_TWILIO_ACCOUNT_SID, ENV_TWILIO_AUTH_TOKEN, SmsSecrets,
    SmsSettings,
};

use super::{ChannelMessage, Gateway, Received};

/// What became of one inbound text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handled; the reply is queued.
    Answered,
    /// The provider delivered this message before; nothing changed.
    Duplicate,
    OptedOut,
    OptedIn,
    /// Over the number's rate limit: recorded and flagged, not answered.
    RateLimited,
}

/// The stores the channel writes to.
pub struct SmsStores {
    pub sms: Arc<dyn SmsStore>,
    pub outbox: Arc<dyn OutboxStore>,
    pub records: Arc<dyn RecordStore>,
}

pub struct SmsChannel {
    gateway: Arc<Gateway>,
    stores: SmsStores,
    outbox_ready: Arc<Notify>,
    limiter: DefaultKeyedRateLimiter<String>,
    providers: HashMap<&'static str, Arc<dyn InboundProvider>>,
    /// Sends one-time codes (web chat phone verification); `None` when sending is not configured.
    sender: Option<Arc<dyn SmsSender>>,
    /// Codes sent per number: a few at once, then one every 20 seconds.
    code_limiter: DefaultKeyedRateLimiter<String>,
    codes: verify::CodeSettings,
}

impl SmsChannel {
    /// The channel with every inbound provider whose secret is configured.
    pub fn build(
        settings: &SmsSettings,
        gateway: Arc<Gateway>,
        stores: SmsStores,
        outbox_ready: Arc<Notify>,
        sender: Option<Arc<dyn SmsSender>>,
    ) -> anyhow::Result<SmsChannel> {
        let mut providers: HashMap<&'static str, Arc<dyn InboundProvider>> = HashMap::new();
        if let Some(token) = &settings.secrets.twilio_auth_token {
            if settings.public_url.is_empty() {
                anyhow::bail!(
                    "{ENV_TWILIO_AUTH_TOKEN} is set but sms.public_url is empty: set it to the \
                     public address Twilio calls (it is part of what Twilio signs)"
                );
            }
            providers.insert(
                "twilio",
                Arc::new(twilio::TwilioInbound {
                    auth_token: token.clone(),
                    public_url: settings.public_url.trim_end_matches('/').to_string(),
                    country_code: settings.country_code.clone(),
                }),
            );
        }
        if let Some(token) = &settings.secrets.aliyun_callback_token {
            providers.insert(
                "aliyun",
                Arc::new(aliyun::AliyunInbound {
                    token: token.clone(),
                    country_code: settings.country_code.clone(),
                }),
            );
        }
        let per_minute = NonZeroU32::new(settings.rate_per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.rate_burst).unwrap_or(NonZeroU32::MIN);
        Ok(SmsChannel {
            gateway,
            stores,
            outbox_ready,
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            providers,
            sender,
            code_limiter: RateLimiter::keyed(verify::code_quota()),
            codes: verify::CodeSettings {
                country_code: settings.country_code.clone(),
                ttl_secs: settings.code_ttl_secs,
                max_attempts: settings.code_max_attempts,
            },
        })
    }

    /// The inbound provider behind `/hooks/sms/{name}`, if configured.
    pub fn provider(&self, name: &str) -> Option<&Arc<dyn InboundProvider>> {
        self.providers.get(name)
    }

    pub fn provider_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.providers.keys().copied().collect();
        names.sort();
        names
    }

    /// Handles one verified text; returns once everything it changed is on disk.
    #[tracing::instrument(skip_all, fields(channel = "sms", from = %inbound.from.masked()))]
    pub async fn receive(&self, inbound: SmsInbound) -> Result<Outcome, EngineError> {
        let number = inbound.from.e164().to_string();
        match keywords::keyword(&inbound.text) {
            Some(Keyword::OptOut) => return self.opt_out(&inbound.from).await,
            Some(Keyword::OptIn) if self.stores.sms.opt_out(&number)?.is_some() => {
                return self.opt_in(&inbound.from).await;
            }
            _ => {}
        }
        if self.limiter.check_key(&number).is_err() {
            return self.rate_limited(&inbound).await;
        }
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        if self.stores.sms.opt_out(&number)?.is_some() {
            // Writing again after 退订 is asking to hear back.
            self.stores.sms.set_opt_out(number.clone(), None).await?;
            tracing::info!("an opted-out number wrote again: subscribed again");
        }
        let text = self.choice_payload(&number, &inbound.text).await?;
        let message = ChannelMessage {
            channel: Channel::Sms,
            chat: number.clone(),
            message_id: inbound.message_id,
            text,
            proven_phone: Some(inbound.from.national()),
        };
        // The reply is queued in the same durable write as the turn and its message id.
        let queue = |conversation: ConversationId, output: &EngineOutput| {
            reply_message(conversation, &output.replies, true)
                .into_iter()
                .collect()
        };
        match self.gateway.receive_queued(message, &queue).await {
            Ok(Received::Handled { .. }) => {
                self.outbox_ready.notify_one();
                Ok(Outcome::Answered)
            }
            Ok(Received::Duplicate { .. }) => Ok(Outcome::Duplicate),
            Err(e @ (EngineError::EmptyText | EngineError::TooLong { .. })) => {
                let bots = self.gateway.engine().bots();
                let text = match e {
                    EngineError::TooLong { max, .. } => bots.say("too_long", context! { max }),
                    _ => bots.text("empty_message"),
                };
                let conversation = self.conversation(&number).await?;
                self.queue(conversation, vec![OutboundReply::text(text)], false)
                    .await?;
                Ok(Outcome::Answered)
            }
            Err(e) => Err(e),
        }
    }

    async fn conversation(&self, number: &str) -> Result<ConversationId, EngineError> {
        Ok(self
            .gateway
            .conversation_for(Channel::Sms, number)
            .await?
            .id)
    }

    /// "1" or "１" (or "回复1") after a message with options: that option's payload.
    async fn choice_payload(&self, number: &str, text: &str) -> Result<String, EngineError> {
        let word = words::bare(text);
        let digits = word
            .strip_prefix("回复")
            .or_else(|| word.strip_prefix('回'))
            .unwrap_or(&word);
        let Ok(choice) = digits.parse::<usize>() else {
            return Ok(text.to_string());
        };
        if digits.len() > 2 || choice == 0 {
            return Ok(text.to_string());
        }
        let conversation = self.gateway.conversation_for(Channel::Sms, number).await?;
        let payload = conversation
            .transcript
            .iter()
            .rev()
            .find(|e| e.from == Speaker::Hotline)
            .and_then(|e| e.buttons.get(choice - 1))
            .map(|b| b.payload.clone());
        Ok(payload.unwrap_or_else(|| text.to_string()))
    }

    /// Queues replies that are not a dialogue turn (a confirmation, an input error).
    async fn queue(
        &self,
        conversation: ConversationId,
        replies: Vec<OutboundReply>,
        in_transcript: bool,
    ) -> Result<Option<u64>, EngineError> {
        let Some(message) = reply_message(conversation, &replies, in_transcript) else {
            return Ok(None);
        };
        let id = self.stores.outbox.enqueue(message).await?;
        self.outbox_ready.notify_one();
        Ok(Some(id))
    }

    async fn opt_out(&self, from: &SmsNumber) -> Result<Outcome, EngineError> {
        let number = from.e164().to_string();
        if self.stores.sms.opt_out(&number)?.is_some() {
            return Ok(Outcome::OptedOut);
        }
        let conversation = self.conversation(&number).await?;
        let confirmation = OutboundReply::text(self.gateway.engine().bots().text("sms_opted_out"));
        let id = self.queue(conversation, vec![confirmation], false).await?;
        self.stores
            .sms
            .set_opt_out(
                number,
                Some(OptOut {
                    at: clock::now(),
                    confirmation: id,
                }),
            )
            .await?;
        tracing::info!("number opted out (退订): nothing more is sent to it");
        Ok(Outcome::OptedOut)
    }

    async fn opt_in(&self, from: &SmsNumber) -> Result<Outcome, EngineError> {
        let number = from.e164().to_string();
        self.stores.sms.set_opt_out(number.clone(), None).await?;
        let conversation = self.conversation(&number).await?;
        let confirmation =
            OutboundReply::text(self.gateway.engine().bots().text("sms_resubscribed"));
        self.queue(conversation, vec![confirmation], false).await?;
        tracing::info!("number subscribed again");
        Ok(Outcome::OptedIn)
    }

    async fn rate_limited(&self, inbound: &SmsInbound) -> Result<Outcome, EngineError> {
        let conversation = self.conversation(inbound.from.e164()).await?;
        self.stores
            .records
            .add_record(IntakeRecord {
                at: clock::now(),
                kind: RecordKind::RateLimited,
                channel: Channel::Sms,
                conversation,
                text: inbound.text.clone(),
            })
            .await?;
        tracing::warn!("over the per-number rate limit: kept as a flagged record, not answered");
        Ok(Outcome::RateLimited)
    }
}

/// The replies of one turn as one outbox message (one SMS, segmented if long), with the last
/// reply's options; `None` when there is nothing to say.
fn reply_message(
    conversation: ConversationId,
    replies: &[OutboundReply],
    in_transcript: bool,
) -> Option<OutboxMessage> {
    let buttons = replies.last()?.buttons.clone();
    let text = replies
        .iter()
        .map(|r| r.text.trim())
        .collect::<Vec<_>>()
        .join("\n");
    let mut message = OutboxMessage::new(
        conversation,
        Channel::Sms,
        OutboundReply::text(text).with_buttons(buttons),
        None,
        clock::now(),
    );
    message.in_transcript = in_transcript;
    Some(message)
}
