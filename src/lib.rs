//! `hotline`: a gateway for a city's 12345 citizen service hotline (接诉即办).
//!
//! A map of the modules, in the order a message meets them:
//!
//! - [`http`]: the axum router; thin handlers for the web chat API; the one place errors become
//!   `{"code","message"}` responses.
//! - [`engine`]: one inbound message in, replies and maybe a ticket out; durable before replying.
//! - [`classify`]: 咨询 求助 投诉 举报 建议 表扬 紧急, emergency rules plus a trained model.
//! - [`tickets`]: dispatch, the lifecycle with persistence, deadline warnings, the outbox.
//! - [`kb`]: the knowledge base: Markdown articles, a tantivy index with a jieba tokenizer, and the
//!   calibrated decision to answer, suggest, or not.
//! - [`store`]: a trait per aggregate (tickets, conversations) and the sled implementation with
//!   group commit.
//! - [`domain`]: messages, replies, tickets, categories: no transport or storage types.
//! - [`bots`]: what the bot says (templates in `bots/`), per channel.
//! - [`config`], [`text`], [`clock`]: settings, normalisation, the city's time.
//! - [`calendar`]: working days (the national holiday table with 调休), deadlines and warnings.
//! - [`app`]: start-up and ordered shutdown.

pub mod app;
pub mod auth;
pub mod bots;
pub mod calendar;
pub mod classify;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod http;
pub mod kb;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod tickets;
pub mod units;
