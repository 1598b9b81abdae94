//! `hotline`: a gateway for a city's 12345 citizen service hotline (接诉即办).
//!
//! A map of the modules, in the order a message meets them:
//!
//! - [`http`]: the axum router; thin handlers for the web chat API; the one place errors become
//!   `{"code","message"}` responses.
//! - [`engine`]: one inbound message in, replies and maybe a ticket out; durable before replying.
//! - [`classify`]: 咨询 求助 投诉 举报 建议 表扬 紧急, emergency rules plus a trained model.
//! - [`tickets`]: dispatch, the lifecycle with persistence, deadline warnings, the outbox.
//! - [`callback`]: 回访 after 办结: when surveys may go out, reading the answers, the worker.
//! - [`rates`]: 响应率, 解决率, 满意率 and the other rates per unit, district or category.
//! - [`kb`]: the knowledge base: Markdown articles, a tantivy index with a jieba tokenizer, and the
//!   calibrated decision to answer, suggest, or not.
//! - [`store`]: a trait per aggregate (tickets, conversations) and the sled implementation with
//!   group commit.
//! - [`domain`]: messages, replies, tickets, categories: no transport or storage types.
//! - [`bots`]: what the bot says (templates in `bots/`), per channel.
//! - [`config`], [`text`], [`clock`]: settings, normalisation, the city's time.
//! - [`calendar`]: working days (the national holiday table with 调休), deadlines and warnings.
//! - [`app`]: start-up and ordered shutdown.
//! - [`open311`], [`webhooks`], [`integrators`]: interoperability — the Open311 service
//!   catalog, signed webhooks to units' case systems and integrators' apps, and the integrators
//!   of the generic channel API.
//! - [`retry`]: the backoff schedules of deliveries and platform calls.

/// mimalloc's settings, set at the start of `main`.
pub mod allocator;
pub mod app;
pub mod auth;
pub mod bots;
pub mod calendar;
pub mod callback;
pub mod channels;
pub mod classify;
pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod governance;
pub mod http;
pub mod integrators;
pub mod kb;
pub mod open311;
pub mod rates;
pub mod retry;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod tickets;
pub mod units;
pub mod webhooks;
