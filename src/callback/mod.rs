//! 回访: the callback loop after a ticket is closed, and the survey's questions and answers.
//!
//! - [`timing`]: when a survey or reminder may go out (delay, quiet hours): pure.
//! - [`answers`]: reading the citizen's replies (payloads, digits, words, phrases): pure.
//! - [`survey`]: the questions as channel-agnostic replies with buttons.
//! - [`reach`]: where a survey reaches the citizen when not on the ticket's own conversation.
//! - [`worker`]: the background loop that sends due surveys and reminders and records 未联系上.
//!
//! The decisions that change a ticket (closing a round, 重办) live with the ticket service
//! (`tickets::service::callback`); the citizen's side of the dialogue lives in the engine
//! (`engine::survey`).

pub mod answers;
pub mod reach;
pub mod survey;
pub mod timing;
pub mod worker;
