//! The Telegram background task: register the webhook at start-up (webhook mode), or fetch
//! updates with `getUpdates` (polling mode). Both retry with backoff and stop on shutdown.

use std::future::Future;
use std::time::Duration;

use teloxide::payloads::{GetUpdatesSetters, SetWebhookSetters};
use teloxide::requests::Requester;
use teloxide::types::AllowedUpdate;

use super::{Telegram, TelegramMode};

const UPDATES: [AllowedUpdate; 2] = [AllowedUpdate::Message, AllowedUpdate::CallbackQuery];

/// 1 s doubling, at most a minute.
fn retry_delay(failures: u32) -> Duration {
    Duration::from_secs((1u64 << failures.min(6)).min(60))
}

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
        let mut failures = 0;
        loop {
            match request.clone().await {
                Ok(_) => {
                    tracing::info!(%url, "telegram webhook registered");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "telegram setWebhook failed; retrying");
                    failures += 1;
                }
            }
            tokio::select! {
                _ = &mut *stop => return,
                _ = tokio::time::sleep(retry_delay(failures)) => {}
            }
        }
    }

    async fn poll(&self, stop: &mut (impl Future<Output = ()> + Unpin)) {
        // getUpdates is refused while a webhook is set.
        let mut failures = 0;
        loop {
            match self.bot.delete_webhook().await {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "telegram deleteWebhook failed; retrying");
                    failures += 1;
                }
            }
            tokio::select! {
                _ = &mut *stop => return,
                _ = tokio::time::sleep(retry_delay(failures)) => {}
            }
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
            if failed {
                tokio::select! {
                    _ = &mut *stop => return,
                    _ = tokio::time::sleep(retry_delay(failures)) => {}
                }
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
