//! Reading a running proxy's feed from another process (the TUI's live view): the exchanges
//! after the last one seen.

use super::feed::{ObservedExchange, ProxyTarget, FEED_PATH, TARGET_PATH};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Why the feed could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot reach the proxy at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("the proxy at {url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url} did not answer with a proxy's feed: {message}")]
    NotAFeed { url: String, message: String },
}

/// The exchanges after `after` (0 for all the proxy still keeps), oldest first; at once, empty
/// when there is none.
pub async fn poll(
    client: &reqwest::Client,
    base_url: &str,
    after: u64,
) -> Result<Vec<ObservedExchange>, WatchError> {
    poll_waiting(client, base_url, after, Duration::ZERO).await
}

/// As [`poll`], but when there is none yet the proxy waits up to `wait` (at most 30 s) for
/// one before answering (a long poll: the live view sees an exchange as soon as it is
/// journaled). `client` must allow `wait` and more as its timeout.
pub async fn poll_waiting(
    client: &reqwest::Client,
    base_url: &str,
    after: u64,
    wait: Duration,
) -> Result<Vec<ObservedExchange>, WatchError> {
    let url = format!(
        "{}{FEED_PATH}?after={after}&wait_ms={}",
        base_url.trim_end_matches('/'),
        wait.as_millis()
    );
    get(client, url).await
}

/// The target the proxy at `base_url` stands for: its upstream, client and journal.
pub async fn target(client: &reqwest::Client, base_url: &str) -> Result<ProxyTarget, WatchError> {
    get(
        client,
        format!("{}{TARGET_PATH}", base_url.trim_end_matches('/')),
    )
    .await
}

/// `url`'s JSON answer (200), read as a `T`.
async fn get<T: DeserializeOwned>(client: &reqwest::Client, url: String) -> Result<T, WatchError> {
    let unreachable = |source| WatchError::Unreachable {
        url: url.clone(),
        source,
    };
    let response = client.get(&url).send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(unreachable)?;
    if status != 200 {
        return Err(WatchError::Status {
            url,
            status,
            message: crate::safe_text::one_line_uncapped(&String::from_utf8_lossy(&body)),
        });
    }
    serde_json::from_slice(&body).map_err(|e| WatchError::NotAFeed {
        url,
        message: e.to_string(),
    })
}
