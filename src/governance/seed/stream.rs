//! The seed's tickets as a stream: a day at a time, in time order, before any store numbers
//! them. [`super::seed`] writes it; [`super::measure`] runs the detector over it.

use std::sync::Arc;

use jiff::ToSpan;
use jiff::civil::Date;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::{SeedOptions, SeedWorld, day_drafts, per_day, streets_of};
use crate::domain::NewTicket;

/// The seed's tickets, a day at a time in time order, before any store numbers them: what
/// [`seed`] writes, and what the detector is measured on (`seed::measure`).
pub struct Stream {
    pub(super) rng: StdRng,
    world: Arc<SeedWorld>,
    streets: Vec<Vec<String>>,
    days: Vec<Date>,
    counts: Vec<usize>,
    pub(super) surge_days: Vec<usize>,
    next: usize,
}

/// One seeded ticket: its details, and the index of the planted surge it belongs to.
pub struct Drafted {
    pub ticket: NewTicket,
    pub surge: Option<usize>,
}

impl Stream {
    pub fn new(world: Arc<SeedWorld>, options: &SeedOptions) -> Stream {
        let days: Vec<Date> = (1..=i64::from(options.days.max(1)))
            .rev()
            .filter_map(|back| options.until.checked_sub(back.days()).ok())
            .collect();
        let counts = per_day(&days, options.tickets, &world.calendar);
        // Surges on days spread over the last two thirds of the span.
        let surge_days: Vec<usize> = (0..options.surges.min(days.len()))
            .map(|i| {
                days.len() / 3 + (days.len() * 2 / 3) * (2 * i + 1) / (2 * options.surges.max(1))
            })
            .map(|d| d.min(days.len() - 1))
            .collect();
        let streets: Vec<Vec<String>> = world
            .districts
            .iter()
            .enumerate()
            .map(|(i, d)| streets_of(d, i))
            .collect();
        Stream {
            rng: StdRng::seed_from_u64(options.seed),
            world,
            streets,
            days,
            counts,
            surge_days,
            next: 0,
        }
    }

    /// The next day's tickets, in time order; `None` after the last day.
    pub fn next_day(&mut self) -> Option<Vec<Drafted>> {
        let i = self.next;
        let date = *self.days.get(i)?;
        self.next += 1;
        let surge = self.surge_days.iter().position(|d| *d == i);
        let drafts = day_drafts(
            &mut self.rng,
            &self.world,
            &self.streets,
            date,
            self.counts[i],
            surge,
        );
        Some(
            drafts
                .into_iter()
                .map(|d| Drafted {
                    ticket: d.ticket,
                    surge: d.surge,
                })
                .collect(),
        )
    }

    pub fn days_left(&self) -> usize {
        self.days.len() - self.next
    }
}
