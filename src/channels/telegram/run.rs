//! The Telegram background task: register the webhook at start-up (webhook mode), or fetch
//! updates with `getUpdates` (polling mode). Both retry on the schedule of
//! [`crate::retry::PLATFORM_CALL`] and stop on shutdown.

use std::future::Future;

use teloxide::payloads::{GetUpdatesSetters, SetWebhookSetters};
use teloxide::requests::Requester;
use teloxide::types::AllowedUpdate;

use super::{Telegram, TelegramMode};
use crate::retry::PLATFORM_CALL;

const UPDATES: [AllowedUpdate; 2] = [AllowedUpdate::Message, AllowedUpdate::CallbackQuery];

impl Telegram {
    /// Runs until `stop` resolves.
    pub async fn run_until_stopped(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        match self.settings.mode {
            TelegramMode::Webhook => self.register_webhook(&mut stop).await,
            TelegramMode::Polling => self.poll(&mut stop).await,
        }
        tracing::info!("telegram stopped");
    }

    async fn register_webhook(&self, stop: &mut (impl Future<Output = ()> + Unpin)) {
        let Some(url) = self.settings.webhook_url() else {
            tracing::info!("telegram webhook mounted; no public_url, so it is not registered");
            return;
        };
        let secret = self
            .settings
            .webhook_secret
            .as_ref()
            .map(|s| s.expose().to_string())
            .unwrap_or_default();
        let request = self
            .bot
            .set_webhook(match url.parse() {
                Ok(parsed) => parsed,
                Err(_) => {
                    tracing::error!(%url, "telegram webhook URL is not a URL; not registered");
                    return;
                }
            })
            .secret_token(secret)
            .allowed_updates(UPDATES);
        let registered = PLATFORM_CALL
            .retry_until_stopped(stop, || async {
                request.clone().await.inspect_err(|e| {
                    tracing::warn!(error = %e, "telegram setWebhook failed; retrying");
                })
            })
            .await;
        if registered.is_some() {
            tracing::info!(%url, "telegram webhook registered");
        }
    }

    async fn poll(&self, stop: &mut (impl Future<Output = ()> + Unpin)) {
        // getUpdates is refused while a webhook is set.
        let deleted = PLATFORM_CALL
            .retry_until_stopped(stop, || async {
                self.bot.delete_webhook().await.inspect_err(|e| {
                    tracing::warn!(error = %e, "telegram deleteWebhook failed; retrying");
                })
            })
            .await;
        if deleted.is_none() {
            return;
        }
        tracing::info!("telegram long polling started");
        let mut offset = None;
        let mut failures = 0;
        loop {
            let mut request = self
                .poll_bot
                .get_updates()
                .timeout(self.settings.poll_timeout_secs)
                .allowed_updates(UPDATES);
            if let Some(offset) = offset {
                request = request.offset(offset);
            }
            let updates = tokio::select! {
                _ = &mut *stop => return,
                updates = request => updates,
            };
            let failed = match updates {
                Ok(updates) => self.handle_batch(updates, &mut offset).await,
                Err(e) => {
                    tracing::warn!(error = %e, "telegram getUpdates failed; retrying");
                    true
                }
            };
            failures = if failed { failures + 1 } else { 0 };
            if failed && !PLATFORM_CALL.wait_unless_stopped(failures, stop).await {
                return;
            }
        }
    }

    /// Handles updates in order, moving the offset past each one handled; stops at a failure
    /// (returns true), so that update is fetched again.
    async fn handle_batch(
        &self,
        updates: Vec<teloxide::types::Update>,
        offset: &mut Option<i32>,
    ) -> bool {
        for update in updates {
            let next = update.id.as_offset();
            if let Err(e) = self.handle_update(update).await {
                tracing::error!(error = %e, "telegram update not handled; will fetch it again");
                return true;
            }
            *offset = Some(next);
        }
        false
    }
}
