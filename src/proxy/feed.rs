//! The exchanges the proxy saw, newest last, as a feed a live view polls:
//! `GET /mboxscope/exchanges?after=SEQ[&wait_ms=N]` answers the exchanges after `SEQ` as a JSON
//! array, waiting up to `N` ms (at most [`MAX_WAIT`]) for one when there is none yet.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The feed's path on the proxy.
pub const FEED_PATH: &str = "/mboxscope/exchanges";

/// Where the proxy says which target it stands for (a [`ProxyTarget`]).
pub const TARGET_PATH: &str = "/mboxscope/target";

/// The target a proxy stands for: where it forwards, for which client, and its journal, so a
/// live view in another process sends to the same server and reads the same journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyTarget {
    /// The upstream's base URL.
    pub upstream: String,
    /// The client code the journal is for.
    pub client: Option<String>,
    /// The journal the proxy writes.
    pub journal: std::path::PathBuf,
}

/// How many exchanges the feed keeps (the oldest are forgotten first).
pub const FEED_LENGTH: usize = 256;

/// The longest a poll waits for a new exchange.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// One exchange an application had with Target through the proxy, with what the ledger made
/// of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedExchange {
    /// Its place in the feed: 1, 2, 3… in the order the proxy journaled them.
    pub seq: u64,
    /// When the request arrived (ms since the epoch) and the same in ISO-8601 (UTC).
    pub at: i64,
    pub time: String,
    /// The visitor key (tntId, else MCID, else thirdPartyId…), when the exchange names one.
    pub visitor: Option<String>,
    /// The `sessionId` query parameter.
    pub session_id: Option<String>,
    /// `prefetch`, `execute`, `notifications`, several joined with `+`, or `other`.
    pub kind: String,
    /// The locations the answer decided (`mbox home-hero`, `view home`, `pageLoad`).
    pub locations: Vec<String>,
    /// How many options the answer carries.
    pub options: usize,
    /// The request and response bodies as forwarded (lossy UTF-8 for anything else).
    pub request: String,
    pub response: String,
    /// The status the application got.
    pub status: u16,
    /// Time from the request's arrival to the upstream's answer.
    pub duration_ms: f64,
    /// The notifications the request carried, with what came of them.
    pub notifications: Vec<ObservedNotification>,
    /// The linter's findings about this exchange (its page view and notifications), when it
    /// was journaled while a live view watched the feed.
    pub findings: Vec<ObservedFinding>,
    /// Whether it is in the journal (false while the journal cannot be written).
    pub journaled: bool,
}

/// A notification of an observed exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedNotification {
    pub id: String,
    /// `display` or `click`.
    pub kind: String,
    pub location: String,
    /// `acked`, `failed (REASON)`…
    pub state: String,
    /// What Target counted for it (`counted 1 impression`, `duplicate of …`), once acknowledged.
    pub verdict: Option<String>,
}

/// A finding of the linter, as the feed carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedFinding {
    /// The rule's code (`prefetched-not-notified`, …).
    pub rule: String,
    /// The finding on one line.
    pub line: String,
}

/// An exchange as the feed keeps it: its bodies as they were forwarded, made text only when
/// a live view reads them (most exchanges are forgotten unread).
#[derive(Debug, Clone)]
pub struct Published {
    /// The exchange, its `request` and `response` left empty.
    pub exchange: ObservedExchange,
    pub request: Bytes,
    pub response: Bytes,
}

impl Published {
    /// The exchange with its bodies (lossy UTF-8).
    fn observed(&self) -> ObservedExchange {
        ObservedExchange {
            request: String::from_utf8_lossy(&self.request).into_owned(),
            response: String::from_utf8_lossy(&self.response).into_owned(),
            ..self.exchange.clone()
        }
    }
}

/// The newest exchanges, and a signal for pollers waiting for the next.
pub struct Feed {
    exchanges: Mutex<VecDeque<Published>>,
    latest: tokio::sync::watch::Sender<u64>,
    /// Whether a live view has polled the feed.
    watched: AtomicBool,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            exchanges: Mutex::new(VecDeque::with_capacity(FEED_LENGTH)),
            latest: tokio::sync::watch::Sender::new(0),
            watched: AtomicBool::new(false),
        }
    }
}

impl Feed {
    /// Adds an exchange (its `seq` above every earlier one) and wakes the pollers.
    pub fn publish(&self, exchange: Published) {
        let seq = exchange.exchange.seq;
        {
            let mut exchanges = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
            if exchanges.len() == FEED_LENGTH {
                exchanges.pop_front();
            }
            exchanges.push_back(exchange);
        }
        self.latest.send_replace(seq);
    }

    /// The exchanges after `after` that the feed still keeps, oldest first.
    pub fn after(&self, after: u64) -> Vec<ObservedExchange> {
        let exchanges = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
        exchanges
            .iter()
            .filter(|x| x.exchange.seq > after)
            .map(Published::observed)
            .collect()
    }

    /// Whether a live view has polled the feed (the findings are worked out from then on:
    /// the linter reads the whole journal, so nobody pays for it while nobody watches).
    pub fn is_watched(&self) -> bool {
        self.watched.load(Ordering::Relaxed)
    }

    /// A live view's poll: the exchanges after `after`, waiting up to `wait` (capped at
    /// [`MAX_WAIT`]) for one.
    pub async fn wait_after(&self, after: u64, wait: Duration) -> Vec<ObservedExchange> {
        self.watched.store(true, Ordering::Relaxed);
        let mut latest = self.latest.subscribe();
        let _ = tokio::time::timeout(wait.min(MAX_WAIT), latest.wait_for(|seq| *seq > after)).await;
        self.after(after)
    }
}

/// Reads `after` and `wait_ms` from a feed request's query.
pub fn parse_query(query: Option<&str>) -> Result<(u64, Duration), String> {
    let mut after = 0;
    let mut wait = Duration::ZERO;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{key}={value:?} is not a whole number"))
        };
        match key.as_ref() {
            "after" => after = number()?,
            "wait_ms" => wait = Duration::from_millis(number()?),
            _ => {}
        }
    }
    Ok((after, wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(seq: u64) -> Published {
        let exchange = ObservedExchange {
            seq,
            at: 0,
            time: String::new(),
            visitor: None,
            session_id: None,
            kind: "other".into(),
            locations: Vec::new(),
            options: 0,
            request: String::new(),
            response: String::new(),
            status: 200,
            duration_ms: 0.0,
            notifications: Vec::new(),
            findings: Vec::new(),
            journaled: true,
        };
        Published {
            exchange,
            request: Bytes::from_static(b"{\"prefetch\":{}}"),
            response: Bytes::from(vec![b'{', 0xff, b'}']),
        }
    }

    #[test]
    fn keeps_the_newest_and_answers_what_came_after() {
        let feed = Feed::default();
        for seq in 1..=(FEED_LENGTH as u64 + 2) {
            feed.publish(exchange(seq));
        }
        let all = feed.after(0);
        assert_eq!(all.len(), FEED_LENGTH);
        assert_eq!(all[0].seq, 3, "the two oldest were forgotten");
        assert_eq!(all[0].request, "{\"prefetch\":{}}");
        assert_eq!(all[0].response, "{\u{fffd}}", "lossy UTF-8");
        let seqs: Vec<u64> = feed
            .after(FEED_LENGTH as u64)
            .iter()
            .map(|x| x.seq)
            .collect();
        assert_eq!(seqs, [FEED_LENGTH as u64 + 1, FEED_LENGTH as u64 + 2]);
    }

    #[tokio::test]
    async fn a_waiting_poll_returns_when_an_exchange_arrives() {
        let feed = std::sync::Arc::new(Feed::default());
        let poller = tokio::spawn({
            let feed = feed.clone();
            async move { feed.wait_after(0, MAX_WAIT).await }
        });
        tokio::task::yield_now().await;
        feed.publish(exchange(1));
        let got = poller.await.unwrap();
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn queries_are_read_and_bad_numbers_refused() {
        assert_eq!(
            parse_query(Some("after=7&wait_ms=250")),
            Ok((7, Duration::from_millis(250)))
        );
        assert_eq!(parse_query(None), Ok((0, Duration::ZERO)));
        assert!(parse_query(Some("after=-1")).unwrap_err().contains("after"));
    }
}
