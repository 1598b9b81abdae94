//! Where the callback survey of an Open311 request goes. GeoReport v2 carries no messages back
//! to the requester, so the request's own conversation (the integrator's chat) reaches nobody
//! unless the integrator relays messages to its users. In order:
//!
//! 1. the request gave a mainland mobile and SMS sending is configured (and the number has not
//!    opted out): the survey goes by SMS to that phone, as a 12345 callback goes to the contact
//!    number, and the citizen answers by SMS;
//! 2. the integrator takes later messages (`callback_url`) and the request named its user
//!    (`account_id`): through the integrator, who answers through the channel API as that user;
//! 3. otherwise nothing reaches the citizen: 未联系上, recorded at once (never satisfied).
//!
//! Tickets that did not come through Open311 are surveyed on their own conversation.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::callback::reach::{CallbackReach, Reach, ReachFuture};
use crate::channels::Gateway;
use crate::channels::sms::number::SmsNumber;
use crate::domain::{Channel, SurveyChat, Ticket};
use crate::store::{Open311Store, SmsStore, StoreError};

pub struct Open311Reach {
    pub open311: Arc<dyn Open311Store>,
    /// Opens (or finds) the SMS chat with a phone number.
    pub gateway: Arc<Gateway>,
    pub sms: Arc<dyn SmsStore>,
    /// The SMS country code when SMS sending is configured; `None`: no SMS.
    pub sms_country: Option<String>,
    /// Integrators that take later messages for their users (they have a `callback_url`).
    pub relaying: BTreeSet<String>,
}

/// A mainland mobile number (11 digits from 1): the only kind an SMS reaches.
fn mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

impl Open311Reach {
    async fn decide(&self, ticket: &Ticket) -> Result<Reach, StoreError> {
        if ticket.details.channel != Channel::Api {
            return Ok(Reach::Own);
        }
        let Some(record) = self.open311.open311(ticket.number)? else {
            return Ok(Reach::Own);
        };
        if let Some(chat) = self.sms_chat(ticket).await? {
            return Ok(Reach::Chat(chat));
        }
        if record.account_id.is_some() && self.relaying.contains(&record.integrator) {
            return Ok(Reach::Own);
        }
        Ok(Reach::Nowhere)
    }

    /// The SMS chat with the request's contact phone, when SMS can reach it.
    async fn sms_chat(&self, ticket: &Ticket) -> Result<Option<SurveyChat>, StoreError> {
        let (Some(country), Some(phone)) = (&self.sms_country, &ticket.details.phone) else {
            return Ok(None);
        };
        let Some(number) = mobile(phone)
            .then(|| SmsNumber::parse(phone, country))
            .flatten()
        else {
            return Ok(None);
        };
        if self.sms.opt_out(number.e164())?.is_some() {
            return Ok(None);
        }
        let conversation = self
            .gateway
            .conversation_for(Channel::Sms, number.e164())
            .await
            .map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(Some(SurveyChat {
            channel: Channel::Sms,
            conversation: conversation.id,
        }))
    }
}

impl CallbackReach for Open311Reach {
    fn reach<'a>(&'a self, ticket: &'a Ticket) -> ReachFuture<'a> {
        Box::pin(self.decide(ticket))
    }
}

#[cfg(test)]
mod tests {
    use super::mobile;

    #[test]
    fn only_mainland_mobiles_are_texted() {
        assert!(mobile("13812345678"));
        assert!(!mobile("075512345678"));
        assert!(!mobile("0755-1234567"));
        assert!(!mobile("1381234567"));
    }
}
