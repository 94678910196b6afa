//! Journaling that never holds forwarding up: the proxy hands every exchange to a bounded
//! queue (never waiting: when it is full the exchange is counted and left out of the journal)
//! and a writer thread, at the least favoured CPU priority, journals them in batches
//! (one fsync a batch), then publishes them to the feed with what the ledger made of them. A
//! journal that cannot be written (locked by another process, a full disk, a bad path) is said
//! on stderr; its exchanges wait, a bounded number of them, and are written once it can be.
//! When the writer stops it says how many exchanges it journaled and how many it did not.

use super::digest::ResponseFacts;
use super::feed::{
    Feed, ObservedExchange, ObservedFinding, ObservedNotification, Published, FEED_LENGTH,
};
use crate::clock::{iso8601, now_ms};
use crate::counting::visitor_key;
use crate::delivery::wire::from_json;
use crate::delivery::DeliveryRequest;
use crate::ledger::lint::{lint, Finding};
use crate::ledger::observed::{Exchange, ResponseDigest};
use crate::ledger::{Ledger, LeftOut};
use crate::priority::{lower_this_thread, LEAST_FAVOURED};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// Exchanges the queue holds for the writer.
const QUEUE: usize = 16_384;
/// Exchanges journaled with one write at most: the writer's memory stays small and steady
/// (a batch's parsed bodies are freed before the next is read).
const BATCH: usize = 512;
/// How long the writer lets exchanges gather after a write: it is then woken once per window
/// under load, not once per exchange (each wake takes a core from forwarding).
const GATHER: Duration = Duration::from_millis(20);
/// Exchanges kept while the journal cannot be written; older ones are dropped.
const MAX_WAITING: usize = 50_000;
/// How often a journal that could not be written is tried again.
const RETRY: Duration = Duration::from_millis(200);

/// One forwarded Delivery API exchange, as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Observed {
    /// When the request arrived (ms).
    pub at: i64,
    pub duration: Duration,
    /// The `sessionId` query parameter.
    pub session_id: Option<String>,
    pub request: Bytes,
    pub status: u16,
    pub response: Bytes,
    /// Why the upstream could not be reached (the application got a 502).
    pub unreachable: Option<String>,
}

enum Message {
    Exchange(Observed),
    /// Journal what is queued, then stop and say so.
    Stop(std::sync::mpsc::Sender<()>),
}

/// Exchanges that carry notifications and found the queue full: they wait here (up to
/// [`MAX_WAITING`]) rather than be left out, so what the application notified is journaled
/// even under a load the writer cannot keep up with.
type Overflow = Arc<std::sync::Mutex<VecDeque<Observed>>>;

/// Exchanges left out of the journal (the queue full, or too many waiting for a journal that
/// could not be written): in all, and those the journal does not say yet.
#[derive(Default)]
struct Dropped {
    count: AtomicU64,
    /// Not journaled as left out yet: how many, from the earliest's arrival to the latest's.
    unsaid: std::sync::Mutex<Option<LeftOut>>,
}

impl Dropped {
    /// Counts `n` exchanges left out, the earliest of them arrived at `earliest` (ms).
    fn add(&self, n: u64, earliest: i64) {
        self.count.fetch_add(n, Ordering::Relaxed);
        self.keep_unsaid(LeftOut {
            count: n,
            since: earliest,
            until: earliest,
        });
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether some are not journaled as left out yet.
    fn any_unsaid(&self) -> bool {
        self.unsaid().is_some()
    }

    /// Takes those not journaled as left out yet, the gap ending now (the clock is read once
    /// they are taken: every one of them arrived before).
    fn take_unsaid(&self) -> Option<LeftOut> {
        let gap = self.unsaid().take()?;
        Some(LeftOut {
            until: now_ms(),
            ..gap
        })
    }

    /// Adds to those not journaled as left out yet (`take_unsaid`'s, when their write failed).
    fn keep_unsaid(&self, gap: LeftOut) {
        let mut unsaid = self.unsaid();
        *unsaid = Some(unsaid.map_or(gap, |kept| kept.and(gap)));
    }

    fn unsaid(&self) -> std::sync::MutexGuard<'_, Option<LeftOut>> {
        self.unsaid.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The proxy's side of the queue.
pub struct Recorder {
    queue: SyncSender<Message>,
    dropped: Arc<Dropped>,
    overflow: Overflow,
}

/// Whether a request body asks for notifications (a byte scan: this runs on the forwarding path).
fn carries_notifications(request: &[u8]) -> bool {
    const KEY: &[u8] = b"\"notifications\"";
    request.windows(KEY.len()).any(|window| window == KEY)
}

impl Recorder {
    /// Starts the writer thread for the journal at `journal`, publishing to `feed`; returns
    /// once the writer runs at its lower CPU priority.
    pub fn start(journal: PathBuf, feed: Arc<Feed>) -> std::io::Result<Recorder> {
        let (queue, messages) = sync_channel(QUEUE);
        let dropped = Arc::new(Dropped::default());
        let overflow = Overflow::default();
        let mut writer = Writer::new(journal, feed, dropped.clone(), overflow.clone());
        let (lowered, ready) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("proxy-journal".into())
            .spawn(move || {
                if let Err(e) = lower_this_thread(LEAST_FAVOURED) {
                    say(&format!(
                        "the journal writer keeps the proxy's CPU priority ({e})"
                    ));
                }
                let _ = lowered.send(());
                writer.run(messages)
            })?;
        let _ = ready.recv();
        Ok(Recorder {
            queue,
            dropped,
            overflow,
        })
    }

    /// Hands an exchange to the writer without waiting. Its bodies should be copies of their
    /// own (not slices of a connection's read buffer, which they would keep from being reused
    /// while they wait).
    pub fn observe(&self, exchange: Observed) {
        match self.queue.try_send(Message::Exchange(exchange)) {
            Ok(()) => {}
            Err(TrySendError::Full(Message::Exchange(exchange)))
                if carries_notifications(&exchange.request) =>
            {
                let mut overflow = self.overflow.lock().unwrap_or_else(|e| e.into_inner());
                if overflow.len() < MAX_WAITING {
                    overflow.push_back(exchange);
                } else {
                    self.dropped.add(1, exchange.at);
                }
            }
            Err(
                TrySendError::Full(Message::Exchange(exchange))
                | TrySendError::Disconnected(Message::Exchange(exchange)),
            ) => {
                self.dropped.add(1, exchange.at);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }

    /// Waits until what was handed over is journaled (or said to be lost) and the writer has
    /// stopped.
    pub fn stop(&self) {
        let (done, finished) = std::sync::mpsc::channel();
        if self.queue.send(Message::Stop(done)).is_ok() {
            let _ = finished.recv();
        }
    }
}

/// An exchange on its way to the journal.
struct Pending {
    seq: u64,
    observed: Observed,
    request: Option<DeliveryRequest>,
    response: Option<ResponseFacts>,
    /// Why the request failed as a whole, if it did.
    failure: Option<String>,
    published: bool,
}

impl Pending {
    fn new(seq: u64, observed: Observed) -> Pending {
        let request = from_json::<DeliveryRequest>(&observed.request).ok();
        let ok = (200..300).contains(&observed.status);
        let response = facts(&observed);
        let failure = match &observed.unreachable {
            Some(why) => Some(why.clone()),
            None if !ok => Some(upstream_error(observed.status, &observed.response)),
            None => None,
        };
        Pending {
            seq,
            observed,
            request,
            response,
            failure,
            published: false,
        }
    }

    /// The exchange to journal, its answer's items moved into it (see
    /// [`read_again`](Self::read_again)).
    fn exchange(&mut self) -> Option<Exchange<'_>> {
        let request = self.request.as_ref()?;
        let response = self.response.as_mut().map(|r| ResponseDigest {
            items: std::mem::take(&mut r.digest.items),
            ..r.digest.clone()
        });
        Some(Exchange {
            session_id: self.observed.session_id.as_deref().unwrap_or_default(),
            request,
            response,
            failure: self.failure.as_deref(),
            at: self.observed.at,
        })
    }

    /// Reads the answer again after a write that failed took its items.
    fn read_again(&mut self) {
        if self.response.is_some() {
            self.response = facts(&self.observed);
        }
    }

    /// The requestId naming this exchange's page view in the journal.
    fn page_view(&self) -> Option<&str> {
        self.request
            .as_ref()
            .and_then(|r| r.request_id.as_deref())
            .or_else(|| self.response.as_ref()?.digest.request_id.as_deref())
    }

    fn kind(&self) -> String {
        let Some(request) = &self.request else {
            return "other".into();
        };
        let parts: Vec<&str> = [
            ("prefetch", request.prefetch.is_some()),
            ("execute", request.execute.is_some()),
            (
                "notifications",
                request
                    .notifications
                    .as_ref()
                    .is_some_and(|n| !n.is_empty()),
            ),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        if parts.is_empty() {
            "other".into()
        } else {
            parts.join("+")
        }
    }

    /// The exchange for the feed; the ledger and its findings when it was journaled.
    fn summary(&self, journaled: Option<(&Ledger, &FindingsIndex)>) -> Published {
        let request = self.request.as_ref();
        let visitor = request
            .and_then(|r| r.id.as_ref())
            .or_else(|| self.response.as_ref()?.digest.visitor.as_ref())
            .and_then(visitor_key);
        let (locations, options) = self
            .response
            .as_ref()
            .map_or_else(Default::default, |r| (r.locations.clone(), r.options));
        let ids: Vec<String> = request
            .and_then(|r| r.notifications.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|n| n.id.clone())
            .collect();
        let notifications = request
            .and_then(|r| r.notifications.as_ref())
            .into_iter()
            .flatten()
            .map(|n| {
                let id = n.id.clone().unwrap_or_default();
                let entry = journaled.and_then(|(ledger, _)| ledger.entry(&id));
                ObservedNotification {
                    kind: n.notification_type.clone().unwrap_or_default(),
                    location: entry.map(|e| e.location.label()).unwrap_or_default(),
                    state: entry.map_or_else(|| "not journaled".into(), |e| e.state.describe()),
                    verdict: entry.and_then(|e| e.verdict.clone()),
                    id,
                }
            })
            .collect();
        let findings = journaled
            .map(|(_, index)| index.about(visitor.as_deref(), self.page_view(), &ids))
            .unwrap_or_default();
        let exchange = ObservedExchange {
            seq: self.seq,
            at: self.observed.at,
            time: iso8601(self.observed.at),
            visitor,
            session_id: self.observed.session_id.clone(),
            kind: self.kind(),
            locations,
            options,
            request: String::new(),
            response: String::new(),
            status: self.observed.status,
            duration_ms: self.observed.duration.as_secs_f64() * 1000.0,
            notifications,
            findings,
            journaled: journaled.is_some(),
        };
        Published {
            exchange,
            request: self.observed.request.clone(),
            response: self.observed.response.clone(),
        }
    }
}

/// The linter's findings by page view (visitor and requestId) and by notification id.
struct FindingsIndex<'a> {
    by_page: HashMap<(Option<&'a str>, &'a str), Vec<&'a Finding>>,
    by_notification: HashMap<&'a str, Vec<&'a Finding>>,
}

impl<'a> FindingsIndex<'a> {
    fn new(findings: &'a [Finding]) -> FindingsIndex<'a> {
        let mut index = FindingsIndex {
            by_page: HashMap::new(),
            by_notification: HashMap::new(),
        };
        for f in findings {
            if let Some(id) = f.notification.as_deref() {
                index.by_notification.entry(id).or_default().push(f);
            } else if let Some(page) = f.response.as_deref() {
                let key = (f.visitor.as_deref(), page);
                index.by_page.entry(key).or_default().push(f);
            }
        }
        index
    }

    /// The findings about a visitor's page view and about the notifications `ids`.
    fn about(
        &self,
        visitor: Option<&str>,
        page_view: Option<&str>,
        ids: &[String],
    ) -> Vec<ObservedFinding> {
        let page = page_view.and_then(|p| self.by_page.get(&(visitor, p)));
        let notifications = ids
            .iter()
            .filter_map(|id| self.by_notification.get(id.as_str()));
        page.into_iter()
            .chain(notifications)
            .flatten()
            .map(|f| ObservedFinding {
                rule: f.rule.to_string(),
                line: f.line(),
            })
            .collect()
    }
}

/// What the journal and the feed need of a 2xx answer.
fn facts(observed: &Observed) -> Option<ResponseFacts> {
    if (200..300).contains(&observed.status) {
        super::digest::read(&observed.response)
    } else {
        None
    }
}

/// `STATUS MESSAGE` of an upstream's error answer (Target's `{"status","message"}`).
fn upstream_error(status: u16, body: &[u8]) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    format!("{status} {message}")
}

/// Says something on stderr; a closed stderr is no reason to stop.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "mboxscope proxy: {line}");
}

/// The writer thread's state.
struct Writer {
    path: PathBuf,
    ledger: Option<Ledger>,
    waiting: VecDeque<Pending>,
    feed: Arc<Feed>,
    next_seq: u64,
    /// The last problem said on stderr (said again only when it changes).
    problem: Option<String>,
    dropped: Arc<Dropped>,
    dropped_said: u64,
    /// Exchanges written to the journal so far.
    journaled: u64,
    overflow: Overflow,
}

impl Writer {
    fn new(path: PathBuf, feed: Arc<Feed>, dropped: Arc<Dropped>, overflow: Overflow) -> Writer {
        Writer {
            overflow,
            path,
            ledger: None,
            waiting: VecDeque::new(),
            feed,
            next_seq: 1,
            problem: None,
            dropped,
            dropped_said: 0,
            journaled: 0,
        }
    }

    fn run(&mut self, messages: Receiver<Message>) {
        loop {
            let first = if self.waiting.is_empty() {
                messages.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                messages.recv_timeout(RETRY)
            };
            let mut stop = None;
            match first {
                Ok(Message::Exchange(x)) => self.take(x),
                Ok(Message::Stop(done)) => stop = Some(done),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return self.finish(None),
            }
            let mut taken = 1;
            while stop.is_none() && taken < BATCH {
                match messages.try_recv() {
                    Ok(Message::Exchange(x)) => self.take(x),
                    Ok(Message::Stop(done)) => stop = Some(done),
                    Err(_) => break,
                }
                taken += 1;
            }
            self.take_overflow();
            self.flush();
            if let Some(done) = stop {
                return self.finish(Some(done));
            }
            // A full batch: more are queued, write them at once.
            if taken < BATCH {
                std::thread::sleep(GATHER);
            }
        }
    }

    fn take(&mut self, observed: Observed) {
        self.waiting
            .push_back(Pending::new(self.next_seq, observed));
        self.next_seq += 1;
    }

    /// Takes the notifications that found the queue full.
    fn take_overflow(&mut self) {
        let overflow =
            std::mem::take(&mut *self.overflow.lock().unwrap_or_else(|e| e.into_inner()));
        for observed in overflow {
            self.take(observed);
        }
    }

    fn finish(&mut self, done: Option<std::sync::mpsc::Sender<()>>) {
        self.take_overflow();
        self.flush();
        if !self.waiting.is_empty() {
            say(&format!(
                "{} exchanges were not journaled ({})",
                self.waiting.len(),
                self.problem.as_deref().unwrap_or("stopped")
            ));
        }
        say(&format!(
            "{} exchanges journaled, {} not journaled",
            self.journaled,
            self.dropped_said + self.waiting.len() as u64
        ));
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    /// Journals what waits, then publishes it; on failure says why and publishes it as not
    /// journaled (it stays waiting).
    fn flush(&mut self) {
        self.say_dropped();
        if self.waiting.is_empty() && !self.dropped.any_unsaid() {
            return;
        }
        match self.write() {
            Ok(()) => {
                if self.problem.take().is_some() {
                    say(&format!("journal {}: written again", self.path.display()));
                }
                let Some(ledger) = &self.ledger else { return };
                let findings = if self.feed.is_watched() {
                    lint(ledger, now_ms())
                } else {
                    Vec::new()
                };
                let findings = FindingsIndex::new(&findings);
                self.journaled += self.waiting.len() as u64;
                // The feed keeps the newest FEED_LENGTH: older ones of a large batch would
                // be forgotten as soon as published, so their summaries are not made.
                let forgotten = self.waiting.len().saturating_sub(FEED_LENGTH);
                for pending in self.waiting.drain(..).skip(forgotten) {
                    if !pending.published {
                        self.feed
                            .publish(pending.summary(Some((ledger, &findings))));
                    }
                }
            }
            Err(problem) => {
                if self.problem.as_ref() != Some(&problem) {
                    say(&format!(
                        "{problem}; the application's traffic goes on, its exchanges wait to be journaled"
                    ));
                    self.problem = Some(problem);
                }
                for pending in self.waiting.iter_mut().filter(|p| !p.published) {
                    self.feed.publish(pending.summary(None));
                    pending.published = true;
                }
                let excess = self.waiting.len().saturating_sub(MAX_WAITING);
                if excess > 0 {
                    let drained = self.waiting.drain(..excess);
                    let earliest = drained.map(|p| p.observed.at).min();
                    self.dropped
                        .add(excess as u64, earliest.unwrap_or_else(now_ms));
                }
            }
        }
    }

    fn write(&mut self) -> Result<(), String> {
        if self.ledger.is_none() {
            self.ledger = Some(Ledger::open(&self.path).map_err(|e| e.to_string())?);
        }
        let Some(ledger) = &mut self.ledger else {
            return Ok(());
        };
        let gap = self.dropped.take_unsaid();
        let exchanges = self.waiting.iter_mut().filter_map(Pending::exchange);
        let written = ledger.record_observed_after(gap, exchanges.collect());
        if written.is_err() {
            if let Some(gap) = gap {
                self.dropped.keep_unsaid(gap);
            }
            self.waiting.iter_mut().for_each(Pending::read_again);
        }
        written.map_err(|e| e.to_string())
    }

    fn say_dropped(&mut self) {
        let dropped = self.dropped.count();
        if dropped > self.dropped_said {
            say(&format!(
                "{} exchanges were left out of the journal: it fell behind the traffic",
                dropped - self.dropped_said
            ));
            self.dropped_said = dropped;
        }
    }
}

#[cfg(test)]
mod same_journal;

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(request: &'static [u8]) -> Observed {
        Observed {
            at: 0,
            duration: Duration::ZERO,
            session_id: None,
            request: Bytes::from_static(request),
            status: 200,
            response: Bytes::from_static(b"{}"),
            unreachable: None,
        }
    }

    #[test]
    fn a_full_queue_leaves_out_prefetches_but_keeps_notifications_for_the_writer() {
        let (queue, _writer_side) = sync_channel(1);
        let recorder = Recorder {
            queue,
            dropped: Arc::default(),
            overflow: Overflow::default(),
        };
        let prefetch = br#"{"prefetch":{"mboxes":[{"name":"home-hero","index":1}]}}"#;
        let notification = br#"{"notifications":[{"id":"n1","type":"display"}]}"#;
        recorder.observe(exchange(prefetch));
        recorder.observe(exchange(prefetch));
        recorder.observe(exchange(notification));
        assert_eq!(recorder.dropped.count(), 1);
        let kept = recorder.overflow.lock().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(&kept[0].request[..], &notification[..]);
    }

    #[test]
    fn exchanges_left_out_are_journaled_as_a_gap_the_linter_names_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let dropped = Arc::new(Dropped::default());
        let mut writer = Writer::new(
            path.clone(),
            Arc::new(Feed::default()),
            dropped.clone(),
            Overflow::default(),
        );
        dropped.add(2, 1_000);
        dropped.add(1, 2_000);
        writer.take(exchange(
            br#"{"prefetch":{"mboxes":[{"name":"home-hero"}]}}"#,
        ));
        writer.flush();
        // Nothing new left out: no second gap.
        writer.take(exchange(
            br#"{"prefetch":{"mboxes":[{"name":"home-hero"}]}}"#,
        ));
        writer.flush();
        let lines = std::fs::read_to_string(&path).unwrap();
        let gaps: Vec<&str> = lines.lines().filter(|l| l.contains("leftOut")).collect();
        assert_eq!(gaps.len(), 1, "{lines}");
        assert!(
            gaps[0].starts_with(r#"{"event":"leftOut","count":3,"since":1000,"#),
            "{lines}"
        );
        // Left out later, with nothing else to journal: the gap is still written.
        dropped.add(4, 5_000);
        writer.flush();
        let ledger = Ledger::open_read_only(&path).unwrap();
        let gap = ledger.left_out().unwrap();
        assert_eq!((gap.count, gap.since), (7, 1_000));
        let findings = lint(&ledger, now_ms());
        assert_eq!(findings[0].rule, "journal-incomplete");
        assert!(
            findings[0].message.contains(" 7 exchanges "),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_gap_whose_write_failed_is_kept_with_those_left_out_meanwhile() {
        let dropped = Dropped::default();
        dropped.add(2, 1_000);
        let taken = dropped.take_unsaid().unwrap();
        assert_eq!((taken.count, taken.since), (2, 1_000));
        assert!(!dropped.any_unsaid());
        // Left out while the write ran, which then failed.
        dropped.add(1, 3_000);
        dropped.keep_unsaid(taken);
        let again = dropped.take_unsaid().unwrap();
        assert_eq!((again.count, again.since), (3, 1_000));
        assert_eq!(dropped.count(), 3);
    }
}
