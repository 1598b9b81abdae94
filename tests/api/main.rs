//! Integration tests: the real server over real HTTP on port 0, with a temporary data directory.
//! One test binary (link time matters on two cores); modules by area.

mod fake_telegram;
mod helpers;
mod receiver;

mod backup;
mod bad_input;
mod browser;
mod callback;
mod callback_channels;
mod callback_expiry;
mod callback_schedule;
mod channel_api;
mod channels;
mod chat;
mod console;
mod fake_sms;
mod governance;
mod kb;
mod open311;
mod open311_callback;
mod open311_limits;

mod crash;
mod hardening;
mod limits;
mod observe;
mod process;
mod sms;
mod telegram;
mod tickets;
mod transcripts;
mod web;
mod webhooks;
