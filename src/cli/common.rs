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

/// How much the log records (`--log-level`, `MBOXSCOPE_LOG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

/// The log flags of every command that logs (help heading "Log").
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Log")]
pub struct LogArgs {
    /// How much the log file records.
    #[arg(long, value_enum, env = "MBOXSCOPE_LOG", default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
}

/// Flags of `execute`: the mboxes and page load (views can only be prefetched), and whether
/// to print secrets.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecuteArgs {
    #[command(flatten)]
    pub locations: ExecuteLocationArgs,
    /// Print the request's trace, QA and property tokens in clear (masked by default).
    #[arg(long)]
    pub reveal: bool,
}

/// What to execute (help heading "Locations").
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Locations")]
pub struct ExecuteLocationArgs {
    /// A mbox: NAME[:k=v,…] (repeatable).
    #[arg(long = "mbox", value_name = "NAME[:k=v,...]")]
    pub mboxes: Vec<String>,
    /// The page load (global mbox).
    #[arg(long)]
    pub page_load: bool,
}

impl ExecuteLocationArgs {
    /// The same locations in the form prefetch and execute share.
    pub fn to_locations(&self) -> LocationArgs {
        LocationArgs {
            mboxes: self.mboxes.clone(),
            page_load: self.page_load,
            ..Default::default()
        }
    }
}
