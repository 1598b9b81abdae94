//! The handling side of tickets: dispatch, the lifecycle applied with persistence, deadline
//! warnings, and the outbox that carries replies back to citizens.
//!
//! The state machine itself is pure domain code (`domain::lifecycle`); this module gives it its
//! inputs (deadlines from the calendar, proposals from the dispatch rules) and stores its outputs
//! (the ticket and the messages to the citizen, atomically).

pub mod dispatch;
mod hooks;
pub mod outbox;
pub mod scheduler;
mod service;

pub use hooks::{ChangeHook, Hooks, TicketChange};
pub use service::{
    CallbackContext, CallbackStep, ServiceError, SurveyFinish, TicketService, TicketServiceParts,
};
