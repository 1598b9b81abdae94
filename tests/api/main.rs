//! Integration tests: the real server over real HTTP on port 0, with a temporary data directory.
//! One test binary (link time matters on two cores); modules by area.

mod helpers;

mod backup;
mod bad_input;
mod browser;
mod chat;
mod console;

mod crash;
mod kb;
mod limits;
mod observe;
mod process;
mod tickets;
mod transcripts;
mod web;
