//! Retry schedules: how long to wait after failures in a row, for everything that retries an
//! outside party until it answers.
//!
//! One formula (a first delay doubling with each failure, capped) and two schedules:
//! - [`DELIVERY`]: outbox messages to citizens and webhooks to units and integrators. Their
//!   failures are counted on disk (`attempts`) and the next attempt is a moment stored with the
//!   message ([`Backoff::next_attempt`]), so the schedule survives a restart. They are never
//!   given up: a message waits for its channel, a webhook for a 2xx.
//! - [`PLATFORM_CALL`]: the Telegram channel's start-up and polling calls (setWebhook,
//!   deleteWebhook, getUpdates), retried in process ([`Backoff::retry_until_stopped`]) until they
//!   succeed or the server stops.
//!
//! Quick retries inside one SMS send are backon's (`channels::sms::twilio`); the outbox's
//! schedule takes over when those are spent. backon's schedules are iterators held in memory;
//! the delivery schedule is a count on disk, so it is computed here from that count.

use std::future::Future;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// A delay of `first × 2^failures`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

/// Outbox messages and webhooks: 10 s after the first failure, doubling, at most an hour.
pub const DELIVERY: Backoff = Backoff {
    first: Duration::from_secs(5),
    max: Duration::from_secs(3600),
};

/// The Telegram channel's calls: 2 s after the first failure, doubling, at most a minute.
pub const PLATFORM_CALL: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(60),
};

impl Backoff {
    /// The wait after `failures` failures in a row.
    pub fn after(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.max)
    }

    /// Counts one more failed attempt of a stored delivery; returns when the next one is due.
    pub fn next_attempt(&self, attempts: &mut u32, now: Timestamp) -> Timestamp {
        *attempts = attempts.saturating_add(1);
        let wait = SignedDuration::try_from(self.after(*attempts)).unwrap_or(SignedDuration::MAX);
        now.saturating_add(wait).unwrap_or(Timestamp::MAX)
    }

    /// Waits as long as the schedule says after `failures`; false if `stop` resolved first.
    pub async fn wait_unless_stopped(
        &self,
        failures: u32,
        stop: &mut (impl Future<Output = ()> + Unpin),
    ) -> bool {
        tokio::select! {
            _ = stop => false,
            _ = tokio::time::sleep(self.after(failures)) => true,
        }
    }

    /// Calls `call` until it succeeds, waiting between failures; `None` if `stop` resolves
    /// while waiting. `call` logs its own failures.
    pub async fn retry_until_stopped<T, E, F>(
        &self,
        stop: &mut (impl Future<Output = ()> + Unpin),
        mut call: impl FnMut() -> F,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, E>>,
    {
        let mut failures = 0;
        loop {
            match call().await {
                Ok(done) => return Some(done),
                Err(_) => failures += 1,
            }
            if !self.wait_unless_stopped(failures, stop).await {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_waits_ten_seconds_after_the_first_failure_doubling_to_an_hour() {
        let secs: Vec<u64> = (1..=12).map(|n| DELIVERY.after(n).as_secs()).collect();
        assert_eq!(
            secs,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]
        );
        assert_eq!(DELIVERY.after(u32::MAX).as_secs(), 3600);
    }

    #[test]
    fn platform_calls_wait_two_seconds_after_the_first_failure_doubling_to_a_minute() {
        let secs: Vec<u64> = (0..=8).map(|n| PLATFORM_CALL.after(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(PLATFORM_CALL.after(40).as_secs(), 60);
    }

    #[test]
    fn a_failed_delivery_counts_the_attempt_and_is_due_after_the_backoff() {
        let now: Timestamp = "2026-11-22T06:00:00Z".parse().unwrap();
        let mut attempts = 0;
        assert_eq!(
            DELIVERY.next_attempt(&mut attempts, now),
            now + SignedDuration::from_secs(10)
        );
        assert_eq!(attempts, 1);
        assert_eq!(
            DELIVERY.next_attempt(&mut attempts, now),
            now + SignedDuration::from_secs(20)
        );
        assert_eq!(attempts, 2);
    }

    #[tokio::test]
    async fn a_call_is_retried_until_it_succeeds_and_not_after_stop() {
        let quick = Backoff {
            first: Duration::from_millis(1),
            max: Duration::from_millis(4),
        };
        let mut calls = 0;
        let mut never = std::pin::pin!(std::future::pending::<()>());
        let done = quick
            .retry_until_stopped(&mut never, || {
                calls += 1;
                let result = if calls < 3 { Err("down") } else { Ok(calls) };
                async move { result }
            })
            .await;
        assert_eq!(done, Some(3));

        let mut stopped = std::pin::pin!(std::future::ready(()));
        let gave_up = quick
            .retry_until_stopped(&mut stopped, || async { Err::<(), _>("down") })
            .await;
        assert_eq!(gave_up, None);
    }
}
