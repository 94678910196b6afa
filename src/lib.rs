//! mboxscope: prefetch, inspect and notify Adobe Target activities, and count what Target counts.

pub mod decisioning;
pub mod delivery;
