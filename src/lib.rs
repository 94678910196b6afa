//! mboxscope: prefetch, inspect and notify Adobe Target activities, and count what Target counts.

pub mod check;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod counting;
pub mod decisioning;
pub mod delivery;
pub mod emulator;
pub mod http1;
pub mod ids;
pub mod ledger;
pub mod log;
pub mod priority;
pub mod proxy;
pub mod safe_text;
pub mod simulate;
pub mod target;
pub mod tui;
