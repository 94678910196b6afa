//! What can go wrong talking to a Delivery API, each with a one-line message. Text that comes
//! from the server (or the network) is shown through [`one_line`]: no escape sequence runs.

use crate::safe_text::one_line;
use thiserror::Error;

/// A failed Delivery API call.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("Target answered {status}: {}", one_line(.message))]
    Target { status: u16, message: String },
    #[error("HTTP {status} from {}: {}", one_line(.url), one_line(.snippet))]
    Http {
        status: u16,
        url: String,
        snippet: String,
    },
    #[error("cannot connect to {}: {}", one_line(.url), one_line(.reason))]
    Connect { url: String, reason: String },
    #[error("no answer from {} within {timeout_ms} ms", one_line(.url))]
    Timeout { url: String, timeout_ms: u64 },
    #[error("the response from {} is over the {limit_bytes}-byte limit", one_line(.url))]
    BodyTooLarge { url: String, limit_bytes: usize },
    #[error(
        "the response from {} (HTTP {status}) is not a Delivery API JSON body: {}",
        one_line(.url),
        one_line(.reason)
    )]
    NotJson {
        url: String,
        status: u16,
        reason: String,
    },
    #[error("the request could not be sent to {}: {}", one_line(.url), one_line(.reason))]
    Request { url: String, reason: String },
    #[error("configuration: {}", one_line(.0))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_message_cannot_reach_the_terminal_raw() {
        let error = ClientError::Target {
            status: 400,
            message: "bad\x1b]52;c;ZWNobyBwd25lZA==\x07\nsecond line".into(),
        };
        let text = error.to_string();
        assert!(crate::safe_text::is_safe(&text), "{text:?}");
        assert!(text.contains("\\u{1b}]52;c;"), "{text}");
        let snippet = ClientError::Http {
            status: 502,
            url: "http://127.0.0.1:1/x".into(),
            snippet: "<h1>\x1b[2J</h1>".into(),
        };
        assert!(crate::safe_text::is_safe(&snippet.to_string()));
    }
}
