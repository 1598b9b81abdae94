//! Deadline warnings: yellow one working day before a deadline (催办), red once it has passed
//! (督办). Each fires once per deadline, remembered on the ticket, so a restart neither repeats nor
//! skips one; a new deadline (extension, re-handling) arms them again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use minijinja::context;

use super::TicketService;
use crate::bots::Bots;
use crate::calendar::Warning;
use crate::clock;
use crate::domain::Ticket;
use crate::domain::lifecycle::{Actor, TicketAction};

pub struct Scheduler {
    pub service: Arc<TicketService>,
    pub bots: Arc<Bots>,
    pub every: Duration,
}

impl Scheduler {
    /// Sends the warnings due at `now`; returns (yellow, red) counts.
    pub async fn tick(&self, now: Timestamp) -> (usize, usize) {
        let candidates = match self.service.warning_candidates(now) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "scheduler scan failed");
                return (0, 0);
            }
        };
        let (mut yellow, mut red) = (0, 0);
        for ticket in candidates {
            let Some(deadline) = ticket.handling.deadline else {
                continue;
            };
            let warned = &ticket.handling.warned;
            let fresh = warned.for_deadline != Some(deadline);
            let (sent_yellow, sent_red) = if fresh {
                (false, false)
            } else {
                (warned.yellow, warned.red)
            };
            let action = match self.service.calendar().warning(now, deadline) {
                Warning::Red if !sent_red => {
                    red += 1;
                    TicketAction::Supervise {
                        note: self.bots.say(
                            "event_red_warning",
                            context! { deadline => clock::display(deadline) },
                        ),
                    }
                }
                Warning::Yellow if !sent_yellow => {
                    yellow += 1;
                    TicketAction::Remind {
                        note: self.bots.say(
                            "event_yellow_warning",
                            context! { deadline => clock::display(deadline) },
                        ),
                    }
                }
                _ => continue,
            };
            if let Err(e) = self.service.warn(ticket, action, deadline, now).await {
                tracing::error!(error = %e, "deadline warning failed");
            }
        }
        (yellow, red)
    }

    pub async fn run_until_stopped(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            self.tick(clock::now()).await;
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(self.every) => {}
            }
        }
        tracing::info!("deadline scheduler stopped");
    }
}

impl TicketService {
    /// Running tickets that may owe a warning at `now`, read from the deadline index: entries
    /// whose warnings already went out are skipped without loading the ticket, and the walk stops
    /// once deadlines are too far off for a yellow warning.
    pub(super) fn warning_candidates(
        &self,
        now: Timestamp,
    ) -> Result<Vec<Ticket>, super::ServiceError> {
        // A yellow moment is at most a day earlier than that of an earlier deadline (both fall on
        // the same previous working day), so once one lies a day past `now`, all later ones do.
        let horizon = now + jiff::SignedDuration::from_hours(24);
        let mut numbers = Vec::new();
        self.tickets().by_deadline(&mut |entry| {
            if self.calendar().yellow_warning(entry.deadline) > horizon {
                return false;
            }
            let owed = match self.calendar().warning(now, entry.deadline) {
                Warning::Red => !entry.red_sent,
                Warning::Yellow => !entry.yellow_sent,
                Warning::Clear => false,
            };
            if owed {
                numbers.push(entry.number);
            }
            true
        })?;
        let mut tickets = Vec::with_capacity(numbers.len());
        for number in numbers {
            if let Some(ticket) = self.tickets().get(number)? {
                tickets.push(ticket);
            }
        }
        Ok(tickets)
    }

    /// Records a warning (催办 or 督办) by the system and marks it sent for `deadline`.
    pub(super) async fn warn(
        &self,
        ticket: Ticket,
        action: TicketAction,
        deadline: Timestamp,
        now: Timestamp,
    ) -> Result<(), super::ServiceError> {
        let red = matches!(action, TicketAction::Supervise { .. });
        let mut next = crate::domain::lifecycle::apply(
            &ticket,
            action.clone(),
            &Actor::System,
            now,
            self.lifecycle(),
        )?;
        let warned = &mut next.handling.warned;
        if warned.for_deadline != Some(deadline) {
            *warned = Default::default();
            warned.for_deadline = Some(deadline);
        }
        if red {
            warned.red = true;
            warned.yellow = true;
        } else {
            warned.yellow = true;
        }
        // Through the one save path: the units' webhooks hear of 催办 and 督办 too.
        let change = super::TicketChange::Action(action);
        if red {
            self.save_rewatching(&ticket, change, next, now).await?;
        } else {
            self.save_steps(&ticket, vec![(change, next)], Vec::new(), now)
                .await?;
        }
        Ok(())
    }
}
