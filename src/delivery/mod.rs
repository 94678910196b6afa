//! The Target Delivery API wire model (`/rest/v1/delivery`), as in Adobe's OpenAPI spec.
//!
//! Every object keeps the fields it does not know in `extra`, so a parse followed by a
//! serialize loses nothing. Absent fields are omitted on the wire; names are camelCase.

pub mod builders;
pub mod common;
pub mod items;
pub mod notification;
pub mod prepared;
pub mod qa;
pub mod request;
pub mod response;
pub mod tnta;
pub mod user_agent;
pub mod wire;

pub use builders::*;
pub use common::*;
pub use items::*;
pub use notification::*;
pub use prepared::{to_writer_compact, Prepared};
pub use qa::*;
pub use request::*;
pub use response::*;
pub use tnta::*;
pub use user_agent::*;

/// Unknown fields of a wire object, kept for a lossless round trip.
pub type Extra = serde_json::Map<String, serde_json::Value>;
