//! The outbox's SMS deliverer: renders a queued reply as segments and sends them in order.
//!
//! Each accepted segment is recorded durably, so a delivery retried after a failure (or a crash)
//! resumes at the first segment the provider has not accepted and never sends one twice — except
//! in the instant between the provider's acceptance and our record of it: Twilio's Messages API
//! takes no idempotency key, so there a crash can repeat one segment.
//!
//! Messages to a number that opted out (退订) are dropped, not held: they are marked delivered
//! with a log line, and the opt-out's confirmation is the one message still sent. Holding them
//! would send a backlog the moment the citizen writes again, which they did not ask for; what
//! happened to their tickets they can still ask (查询工单号). When the provider itself refuses a
//! number as unsubscribed (Twilio error 21610: the citizen texted STOP and Twilio answered it),
//! the opt-out is recorded here too and the message dropped, not retried for ever.

use std::sync::Arc;

use super::number::SmsNumber;
use super::provider::{SendError, SmsSender};
use super::segment::SmsFormat;
use crate::bots::Bots;
use crate::clock;
use crate::domain::{OptOut, OutboxMessage, Speaker, TranscriptEntry};
use crate::engine::locks::StripedLocks;
use crate::store::{ConversationStore, SmsStore};
use crate::tickets::outbox::{Deliverer, DeliveryFuture};

pub struct SmsDeliverer {
    pub conversations: Arc<dyn ConversationStore>,
    pub sms: Arc<dyn SmsStore>,
    pub sender: Arc<dyn SmsSender>,
    pub bots: Arc<Bots>,
    /// The web chat's address, linked at the end of a cut reply.
    pub link: Option<String>,
    /// The engine's conversation locks: recording a later message never races a turn.
    pub locks: Arc<StripedLocks>,
}

impl SmsDeliverer {
    async fn deliver_one(&self, message: &OutboxMessage) -> Result<(), String> {
        let conversation = self
            .conversations
            .get(message.conversation)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("conversation {} is gone", message.conversation))?;
        let to = conversation
            .address
            .as_deref()
            .and_then(|a| SmsNumber::parse(a, ""))
            .ok_or_else(|| format!("conversation {} has no SMS number", message.conversation))?;
        if let Some(opt_out) = self.sms.opt_out(to.e164()).map_err(|e| e.to_string())?
            && opt_out.confirmation != Some(message.id)
        {
            tracing::info!(
                id = message.id,
                "not sent: the number opted out (退订); dropped"
            );
            return Ok(());
        }
        let style = self.bots.channel(crate::domain::Channel::Sms);
        let format = SmsFormat {
            bots: &self.bots,
            max_chars: style.max_chars,
            max_segments: style.max_segments.unwrap_or(4),
            link: self.link.as_deref(),
        };
        let segments = format.segments(&message.reply);
        let sent = self
            .sms
            .sent_segments(message.id)
            .map_err(|e| e.to_string())?;
        for (index, segment) in segments.iter().enumerate().skip(sent) {
            let provider_id = match self.sender.send(&to, segment).await {
                Ok(id) => id,
                Err(SendError::RecipientOptedOut) => return self.opted_out_at_provider(&to).await,
                Err(e) => return Err(format!("segment {} of {}: {e}", index + 1, segments.len())),
            };
            self.sms
                .record_segment(message.id, index, provider_id)
                .await
                .map_err(|e| e.to_string())?;
        }
        tracing::info!(
            id = message.id,
            to = %to.masked(),
            segments = segments.len(),
            "sms sent"
        );
        if !message.in_transcript {
            self.record(message).await?;
        }
        Ok(())
    }

    /// The provider blocks the number (it texted STOP to the provider): we record the opt-out
    /// too, so nothing more is queued for it in vain, and drop the message.
    async fn opted_out_at_provider(&self, to: &SmsNumber) -> Result<(), String> {
        if self
            .sms
            .opt_out(to.e164())
            .map_err(|e| e.to_string())?
            .is_none()
        {
            let opt_out = OptOut {
                at: clock::now(),
                confirmation: None,
            };
            self.sms
                .set_opt_out(to.e164().to_string(), Some(opt_out))
                .await
                .map_err(|e| e.to_string())?;
        }
        tracing::info!(to = %to.masked(), "not sent: the provider says the number opted out; recorded, dropped");
        Ok(())
    }

    /// A later message (a unit's reply, a survey) joins the transcript, so a digit answered to
    /// its options finds them.
    async fn record(&self, message: &OutboxMessage) -> Result<(), String> {
        let _turn = self.locks.lock(&message.conversation).await;
        let Some(mut conversation) = self
            .conversations
            .get(message.conversation)
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        if conversation
            .transcript
            .iter()
            .any(|e| e.outbox_id == Some(message.id))
        {
            return Ok(());
        }
        conversation.record(TranscriptEntry {
            at: clock::now(),
            from: Speaker::Hotline,
            text: message.reply.text.clone(),
            buttons: message.reply.buttons.clone(),
            outbox_id: Some(message.id),
            ticket: message.ticket,
        });
        self.conversations
            .save(conversation)
            .await
            .map_err(|e| e.to_string())
    }
}

impl Deliverer for SmsDeliverer {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_one(message))
    }
}
