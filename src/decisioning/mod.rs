//! On-device decisioning: Target's rules artifact evaluated locally, as Adobe's SDKs do.

pub mod allocation;
pub mod artifact;
pub mod browser;
pub mod context;
pub mod engine;
pub mod explain;
pub mod jsonlogic;
pub mod macros;
pub mod page;
pub mod qa;
pub mod trace;

pub use artifact::{Artifact, ArtifactError};
pub use engine::{DecideOptions, Decision, Engine, Matched};
