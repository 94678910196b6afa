//! What can go wrong talking to a Delivery API, each with a one-line message.

use thiserror::Error;

/// A failed Delivery API call.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("Target answered {status}: {message}")]
    Target { status: u16, message: String },
    #[error("HTTP {status} from {url}: {snippet}")]
    Http {
        status: u16,
        url: String,
        snippet: String,
    },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("no answer from {url} within {timeout_ms} ms")]
    Timeout { url: String, timeout_ms: u64 },
    #[error("the response from {url} is over the {limit_bytes}-byte limit")]
    BodyTooLarge { url: String, limit_bytes: usize },
    #[error("the response from {url} (HTTP {status}) is not a Delivery API JSON body: {reason}")]
    NotJson {
        url: String,
        status: u16,
        reason: String,
    },
    #[error("the request could not be sent to {url}: {reason}")]
    Request { url: String, reason: String },
    #[error("configuration: {0}")]
    Config(String),
}

impl ClientError {
    /// Whether sending the same request again may succeed (connection errors, timeouts, 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Connect { .. }
            | ClientError::Timeout { .. }
            | ClientError::Request { .. } => true,
            ClientError::Target { status, .. }
            | ClientError::Http { status, .. }
            | ClientError::NotJson { status, .. } => *status >= 500,
            ClientError::BodyTooLarge { .. } | ClientError::Config(_) => false,
        }
    }
}
