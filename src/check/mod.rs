//! `mboxscope check`: QA scenarios (TOML) run as regression checks against a target, with
//! expected activities, experiences, content and counts; JUnit XML for CI; and recording a
//! check from what a session showed.

pub mod chunks;
pub mod counts;
pub mod expect;
pub mod http;
pub mod junit;
pub mod record;
pub mod run;
pub mod scenario;
pub mod skeleton;

pub use record::{record_check, RecordError};
pub use run::{prepare, run_all, CheckError, CheckResult, Target, Verdict};
pub use scenario::{load, Check, Scenario, ScenarioError, TargetSection};
