//! 直接答复率's counts: the consultations the knowledge base answered at once, and all
//! consultations, each counted once.
//!
//! A consultation the knowledge base answered can still become a 咨询 ticket: the answer did not
//! help and the citizen asked for a ticket, with the question they had asked (the engine starts
//! the ticket from it). That consultation was not answered directly and is one consultation, not
//! two: the ticket absorbs the answer. An answer and a ticket are paired when the ticket's content
//! is the answered question (surrounding white space aside) and the ticket came at or after the
//! answer; each answer pairs with one ticket at most, the earliest unpaired answer first. A
//! question whose ticket content the citizen corrected, or in which the ticket masks a name or a
//! phone number, is not recognised (the answer then counts as direct, as before).

use std::hash::{DefaultHasher, Hash, Hasher};

use jiff::Timestamp;

/// The knowledge base's answers and the 咨询 tickets of a period, by question.
#[derive(Debug, Default)]
pub(super) struct Consultations {
    /// (question key, when answered).
    answers: Vec<(u64, Timestamp)>,
    /// (question key, when received).
    tickets: Vec<(u64, Timestamp)>,
}

/// A question as a key: its hash, white space around it left out (only pairing reads it).
fn key(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.trim().hash(&mut hasher);
    hasher.finish()
}

impl Consultations {
    /// The knowledge base answered `question` at `at`.
    pub(super) fn answered(&mut self, question: &str, at: Timestamp) {
        self.answers.push((key(question), at));
    }

    /// A 咨询 ticket with `content` was received at `at`.
    pub(super) fn ticket(&mut self, content: &str, at: Timestamp) {
        self.tickets.push((key(content), at));
    }

    /// (consultations answered directly, all consultations).
    pub(super) fn counts(self) -> (u64, u64) {
        // Answers sort before tickets of the same question and moment: that ticket follows it.
        let mut events: Vec<(u64, Timestamp, bool)> = self
            .answers
            .iter()
            .map(|(k, at)| (*k, *at, false))
            .chain(self.tickets.iter().map(|(k, at)| (*k, *at, true)))
            .collect();
        events.sort_unstable();
        let mut absorbed = 0u64;
        let mut open = 0u64;
        let mut question = None;
        for (k, _, is_ticket) in events {
            if question != Some(k) {
                question = Some(k);
                open = 0;
            }
            if !is_ticket {
                open += 1;
            } else if open > 0 {
                open -= 1;
                absorbed += 1;
            }
        }
        let direct = self.answers.len() as u64 - absorbed;
        (direct, direct + self.tickets.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::Consultations;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000).unwrap() + SignedDuration::from_mins(minutes)
    }

    #[test]
    fn each_ticket_absorbs_one_earlier_answer_to_its_question_and_no_more() {
        let mut c = Consultations::default();
        // Two citizens got the same answer; one of them then asked for a ticket.
        c.answered("怎么办居住证", at(0));
        c.answered("怎么办居住证", at(1));
        c.ticket(" 怎么办居住证 ", at(5));
        // A ticket before any answer to its question, and one at the answer's very moment.
        c.ticket("公积金怎么提取", at(0));
        c.answered("公积金怎么提取", at(2));
        c.answered("社保卡补办", at(3));
        c.ticket("社保卡补办", at(3));
        // Answered: 居住证 once (the other is the ticket), 公积金 (its ticket came first).
        assert_eq!(c.counts(), (2, 5));
    }

    #[test]
    fn without_tickets_every_answer_is_direct() {
        let mut c = Consultations::default();
        c.answered("a", at(0));
        c.answered("a", at(1));
        assert_eq!(c.counts(), (2, 2));
        assert_eq!(Consultations::default().counts(), (0, 0));
    }
}
