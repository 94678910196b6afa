//! What the commands share: the target flags (from `crate::target`) and how a failure ends the
//! process (exit codes).

pub use crate::target::{
    open_ledger, parse_customer_id, validate_session_id, AnalyticsLogging, LocationArgs,
    TargetArgs, TargetError,
};

/// Exit code: usage or input error.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: Target or HTTP error.
pub const EXIT_TARGET: i32 = 3;
/// Exit code: notifications not all acknowledged.
pub const EXIT_UNACKED: i32 = 4;

/// A failure with the exit code it ends the process with.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    /// An input or usage error (exit 2).
    pub fn usage(message: impl std::fmt::Display) -> Self {
        Failure {
            code: EXIT_USAGE,
            message: message.to_string(),
        }
    }

    /// A Target or HTTP error (exit 3).
    pub fn target(message: impl std::fmt::Display) -> Self {
        Failure {
            code: EXIT_TARGET,
            message: message.to_string(),
        }
    }
}

impl From<TargetError> for Failure {
    fn from(e: TargetError) -> Self {
        Failure::usage(e)
    }
}

impl From<crate::tui::TuiError> for Failure {
    fn from(e: crate::tui::TuiError) -> Self {
        match e {
            crate::tui::TuiError::Stopped(stopped) => Failure {
                code: 128 + stopped.number,
                message: stopped.to_string(),
            },
            other => Failure::usage(other),
        }
    }
}
