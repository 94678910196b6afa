//! The notification ledger: every notification is journaled (fsync'd) before it is sent, keeps
//! its ids across retries, and is never sent again once acknowledged.

pub mod compare;
pub mod deliver;
pub mod event;
pub mod expected;
pub mod journal;
pub mod lint;
pub mod observed;
pub mod record;
pub mod store;

pub use event::{Event, QueuedNotification, ResponseItem, ResponseRecord};
pub use journal::{Journal, JournalError, Recovery};

use crate::delivery::{
    build_notification, Context, Location, Notification, NotificationType, VisitorId,
};
use expected::Expected;
use indexmap::IndexMap;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::path::Path;

/// How many recorded prefetch/execute answers the linter looks at (the newest); the expected
/// counts always cover the whole journal.
pub const LINT_WINDOW: usize = 10_000;

/// Where a notification stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum State {
    /// Journaled, not yet sent.
    Queued,
    /// A request carrying it went out; no answer recorded yet.
    Sent,
    /// Target acknowledged it.
    Acked { at: i64 },
    /// The last attempt failed; `retryable` ones are still pending.
    Failed { reason: String, retryable: bool },
}

/// One notification and its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// What was queued (its fields read through the entry: `entry.id`, `entry.tokens`…).
    #[serde(flatten)]
    pub notification: QueuedNotification,
    pub attempts: u32,
    /// The at_property token to send it with (a secret: never printed).
    #[serde(skip)]
    pub property_token: Option<String>,
    #[serde(flatten)]
    pub state: State,
    /// What the counting model made of it once acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Its place in the journal's order (it was queued after every event with a lower one).
    #[serde(skip)]
    pub seq: u64,
}

impl std::ops::Deref for Entry {
    type Target = QueuedNotification;

    fn deref(&self) -> &QueuedNotification {
        &self.notification
    }
}

impl State {
    /// In words: `queued`, `sent`, `acked`, `failed, pending (REASON)`, `failed (REASON)`.
    pub fn describe(&self) -> String {
        match self {
            State::Queued => "queued".into(),
            State::Sent => "sent".into(),
            State::Acked { .. } => "acked".into(),
            State::Failed { reason, retryable } => format!(
                "failed{} ({reason})",
                if *retryable { ", pending" } else { "" }
            ),
        }
    }
}

impl Entry {
    /// The entry on one line: time, type, location, visitor, ids, tokens, attempts, state and
    /// what it counted.
    pub fn summary(&self) -> String {
        format!(
            "{} {:<7} {:<20} visitor {} id {} impression {} tokens {} attempts {} · {}{}{}",
            crate::clock::iso8601(self.timestamp),
            self.kind.as_str(),
            self.location.label(),
            crate::counting::visitor_key(&self.visitor).unwrap_or_else(|| "?".into()),
            self.id,
            self.impression_id.as_deref().unwrap_or("(none)"),
            self.tokens.join(","),
            self.attempts,
            self.state.describe(),
            self.verdict
                .as_deref()
                .map(|v| format!(" · {v}"))
                .unwrap_or_default(),
            if self.observed {
                " · observed (sent by the application)"
            } else {
                ""
            }
        )
    }

    /// Whether it still has to be sent (queued, sent without answer, or failed retryably).
    pub fn is_pending(&self) -> bool {
        match &self.state {
            State::Queued | State::Sent => true,
            _ if self.observed => false,
            State::Failed { retryable, .. } => *retryable,
            State::Acked { .. } => false,
        }
    }

    /// The wire notification (same ids every time).
    pub fn notification(&self) -> Notification {
        build_notification(
            &self.id,
            self.impression_id.as_deref(),
            self.kind,
            self.timestamp,
            &self.location,
            &self.tokens,
        )
    }

    /// What makes two queue requests the same notification.
    fn key(&self) -> String {
        dedupe_key(
            &self.visitor,
            self.kind,
            &self.location,
            &self.tokens,
            self.response.as_deref(),
        )
    }
}

/// The same visitor, type, location and tokens of the same page view (response) are the same
/// notification; another page view of the same content is another impression.
fn dedupe_key(
    visitor: &VisitorId,
    kind: NotificationType,
    location: &Location,
    tokens: &[String],
    response: Option<&str>,
) -> String {
    let mut sorted = tokens.to_vec();
    sorted.sort();
    serde_json::json!([visitor.visitor_key(), kind, location, sorted, response]).to_string()
}

/// A notification to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub kind: NotificationType,
    pub visitor: VisitorId,
    pub session_id: String,
    pub location: Location,
    pub tokens: Vec<String>,
    /// The page view's request context (user agent, page URL, geo…).
    pub context: Option<Context>,
    /// The requestId of the response the tokens came from.
    pub response: Option<String>,
    /// The at_property token of the page view.
    pub property_token: Option<String>,
    /// Which impressionId it is sent with.
    pub impression: ImpressionId,
}

impl NewNotification {
    /// A notification with a new impressionId and no page-view details (no context, response
    /// or property token).
    pub fn new(
        kind: NotificationType,
        visitor: VisitorId,
        session_id: String,
        location: Location,
        tokens: Vec<String>,
    ) -> NewNotification {
        NewNotification {
            kind,
            visitor,
            session_id,
            location,
            tokens,
            context: None,
            response: None,
            property_token: None,
            impression: ImpressionId::New,
        }
    }
}

/// One page view: a prefetch's request (when known), its answer and its session.
pub struct PageView<'a> {
    pub request: Option<&'a crate::delivery::DeliveryRequest>,
    pub response: &'a crate::delivery::DeliveryResponse,
    pub session_id: &'a str,
}

impl NewNotification {
    /// A notification about `n` of a page view, carrying what an SDK sends with it: the
    /// visitor the answer names, the session, the request's context and property token, and
    /// the page view's requestId.
    pub fn of_page_view(n: crate::delivery::Notifiable, page: &PageView) -> NewNotification {
        let request = page.request;
        NewNotification {
            context: request.and_then(|r| r.context.clone()),
            response: request
                .and_then(|r| r.request_id.clone())
                .or_else(|| page.response.request_id.clone()),
            property_token: request
                .and_then(|r| r.property.as_ref())
                .and_then(|p| p.token.clone()),
            ..NewNotification::new(
                n.kind,
                page.response
                    .id
                    .clone()
                    .or_else(|| request.and_then(|r| r.id.clone()))
                    .unwrap_or_default(),
                page.session_id.to_string(),
                n.location,
                n.tokens,
            )
        }
    }
}

/// The impressionId a new notification gets.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ImpressionId {
    /// A new one (a retry reuses it: counted once).
    #[default]
    New,
    /// This one (to reproduce an integration that reuses one).
    Given(String),
    /// None, as integrations that omit it send: every accepted copy counts.
    Omitted,
}

/// What queuing did.
#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    /// A new entry with new ids.
    New(String),
    /// The same notification is already pending: it will be sent with its first ids.
    Pending(String),
    /// The same notification was already acknowledged: nothing to send.
    AlreadyAcked(String),
}

impl Queued {
    /// The entry's id.
    pub fn id(&self) -> &str {
        match self {
            Queued::New(id) | Queued::Pending(id) | Queued::AlreadyAcked(id) => id,
        }
    }
}

/// What `mboxscope proxy` forwarded and left out of a journal, all its gaps together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LeftOut {
    pub count: u64,
    /// From the start of the first gap (ms)…
    pub since: i64,
    /// …to the end of the last one (ms).
    pub until: i64,
}

impl LeftOut {
    /// Both gaps as one: their counts added, from the earlier start to the later end.
    pub fn and(self, other: LeftOut) -> LeftOut {
        LeftOut {
            count: self.count.saturating_add(other.count),
            since: self.since.min(other.since),
            until: self.until.max(other.until),
        }
    }
}

/// The journal of one target and the state it describes.
pub struct Ledger {
    journal: Journal,
    entries: IndexMap<String, Entry>,
    /// The newest entry for each dedupe key.
    by_key: HashMap<String, String>,
    /// The newest page views, for the linter, with their place in the journal.
    responses: VecDeque<(u64, ResponseRecord)>,
    /// Events applied so far (the place of the next one in the journal's order).
    applied: u64,
    expected: Expected,
    /// The expected counts from a server's start (or reset) on, when asked for.
    window: Option<Expected>,
    recovery_torn_bytes: Option<usize>,
    unknown_lines: usize,
    left_out: Option<LeftOut>,
}

use crate::clock::now_ms;

impl Ledger {
    /// Opens (creating) the journal at `path` and replays it.
    pub fn open(path: &Path) -> Result<Ledger, JournalError> {
        let (journal, recovery) = Journal::open(path)?;
        Ok(Ledger::replay(journal, recovery))
    }

    /// Opens an existing journal without writing anything (for the read-only commands).
    pub fn open_read_only(path: &Path) -> Result<Ledger, JournalError> {
        let (journal, recovery) = Journal::open_read_only(path)?;
        Ok(Ledger::replay(journal, recovery))
    }

    fn replay(journal: Journal, recovery: Recovery) -> Ledger {
        let mut ledger = Ledger {
            journal,
            entries: IndexMap::new(),
            by_key: HashMap::new(),
            responses: VecDeque::new(),
            applied: 0,
            expected: Expected::default(),
            window: None,
            recovery_torn_bytes: recovery.torn_bytes,
            unknown_lines: recovery.unknown_lines,
            left_out: None,
        };
        for event in recovery.events {
            ledger.apply(event);
        }
        ledger
    }

    /// Bytes of an incomplete last line when the journal was read (a crash mid-write, or
    /// another process writing), if any.
    pub fn torn_bytes(&self) -> Option<usize> {
        self.recovery_torn_bytes
    }

    /// The exchanges a proxy forwarded and left out of this journal, if it left any out.
    pub fn left_out(&self) -> Option<LeftOut> {
        self.left_out
    }

    /// Lines of an event kind this version does not know (skipped).
    pub fn unknown_lines(&self) -> usize {
        self.unknown_lines
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        self.journal.path()
    }

    /// Reads what other processes appended since the last read.
    pub fn refresh(&mut self) -> Result<(), JournalError> {
        let recovery = self.journal.read_new()?;
        self.unknown_lines += recovery.unknown_lines;
        for event in recovery.events {
            self.apply(event);
        }
        Ok(())
    }

    fn apply(&mut self, event: Event) {
        self.applied += 1;
        match event {
            Event::Queued {
                notification,
                property_token,
            } => {
                let entry = Entry {
                    notification: *notification,
                    attempts: 0,
                    property_token,
                    state: State::Queued,
                    verdict: None,
                    seq: self.applied,
                };
                let id = entry.id.clone();
                if !entry.observed {
                    self.by_key.insert(entry.key(), id.clone());
                }
                self.entries.insert(id, entry);
            }
            Event::Sent { id, attempt, .. } => {
                if let Some(e) = self.entries.get_mut(&id) {
                    e.attempts = e.attempts.max(attempt);
                    if !matches!(e.state, State::Acked { .. }) {
                        e.state = State::Sent;
                    }
                }
            }
            Event::Acked { id, at } => {
                if let Some(e) = self.entries.get_mut(&id) {
                    // An application may send a notification again: Target counts each copy.
                    if e.observed || !matches!(e.state, State::Acked { .. }) {
                        e.state = State::Acked { at };
                        e.verdict = Some(self.expected.acked(e, at));
                        if let Some(window) = self.window.as_mut() {
                            window.acked(e, at);
                        }
                    }
                }
            }
            Event::Failed {
                id,
                reason,
                retryable,
                ..
            } => {
                if let Some(e) = self.entries.get_mut(&id) {
                    if !matches!(e.state, State::Acked { .. }) {
                        e.state = State::Failed { reason, retryable };
                    }
                }
            }
            Event::Response(page) => {
                self.expected.response(&page);
                if let Some(window) = self.window.as_mut() {
                    window.response(&page);
                }
                if self.responses.len() >= LINT_WINDOW {
                    self.responses.pop_front();
                }
                self.responses.push_back((self.applied, *page))
            }
            Event::LeftOut { count, since, at } => {
                let gap = LeftOut {
                    count,
                    since,
                    until: at,
                };
                self.left_out = Some(self.left_out.map_or(gap, |seen| seen.and(gap)));
            }
        }
    }

    /// Journals and applies events (fsync'd before this returns), after what other processes
    /// appended.
    pub fn record(&mut self, events: Vec<Event>) -> Result<(), JournalError> {
        self.write(|_| (events, ()))
    }

    /// Under the journal's lock: applies what others appended, asks `make` for the events to
    /// add, journals them (fsync'd) and applies them.
    fn write<T>(
        &mut self,
        make: impl FnOnce(&Ledger) -> (Vec<Event>, T),
    ) -> Result<T, JournalError> {
        self.write_locked(Journal::lock, make)
    }

    /// [`write`](Self::write) under a lock taken by `lock` (waiting or not).
    fn write_locked<T>(
        &mut self,
        lock: fn(&mut Journal) -> Result<Recovery, JournalError>,
        make: impl FnOnce(&Ledger) -> (Vec<Event>, T),
    ) -> Result<T, JournalError> {
        let recovery = lock(&mut self.journal)?;
        self.unknown_lines += recovery.unknown_lines;
        for event in recovery.events {
            self.apply(event);
        }
        let (events, out) = make(self);
        let written = self.journal.append(&events);
        self.journal.unlock();
        written?;
        for event in events {
            self.apply(event);
        }
        Ok(out)
    }

    /// Queues a notification. The same visitor, type, location and tokens as an entry already
    /// journaled reuses that entry, unless `again` asks for a new impression (new ids).
    pub fn queue(&mut self, n: NewNotification, again: bool) -> Result<Queued, JournalError> {
        let mut queued = self.queue_all(vec![n], again)?;
        Ok(queued.remove(0))
    }

    /// Queues several notifications with one journal write (one fsync). Another process's
    /// entries for the same notifications are reused, not doubled.
    pub fn queue_all(
        &mut self,
        list: Vec<NewNotification>,
        again: bool,
    ) -> Result<Vec<Queued>, JournalError> {
        self.write(|ledger| ledger.plan_queue(list, again))
    }

    fn plan_queue(&self, list: Vec<NewNotification>, again: bool) -> (Vec<Event>, Vec<Queued>) {
        let mut outcomes = Vec::with_capacity(list.len());
        let mut events = Vec::new();
        let mut new_keys: HashMap<String, String> = HashMap::new();
        for n in list {
            let key = dedupe_key(
                &n.visitor,
                n.kind,
                &n.location,
                &n.tokens,
                n.response.as_deref(),
            );
            if !again {
                if let Some(id) = new_keys.get(&key) {
                    outcomes.push(Queued::Pending(id.clone()));
                    continue;
                }
                if let Some(existing) = self.by_key.get(&key).and_then(|id| self.entries.get(id)) {
                    outcomes.push(match existing.state {
                        State::Acked { .. } => Queued::AlreadyAcked(existing.id.clone()),
                        _ => Queued::Pending(existing.id.clone()),
                    });
                    continue;
                }
            }
            let id = crate::ids::uuid_string();
            let at = now_ms();
            new_keys.insert(key, id.clone());
            events.push(Event::Queued {
                notification: Box::new(QueuedNotification {
                    id: id.clone(),
                    impression_id: match n.impression {
                        ImpressionId::New => Some(crate::ids::uuid_string()),
                        ImpressionId::Given(given) => Some(given),
                        ImpressionId::Omitted => None,
                    },
                    kind: n.kind,
                    timestamp: at,
                    visitor: n.visitor,
                    session_id: n.session_id,
                    location: n.location,
                    tokens: n.tokens,
                    at,
                    context: n.context,
                    response: n.response,
                    observed: false,
                }),
                property_token: n.property_token,
            });
            outcomes.push(Queued::New(id));
        }
        (events, outcomes)
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// One entry.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// The entries still to be sent, oldest first.
    pub fn pending(&self) -> Vec<&Entry> {
        self.entries.values().filter(|e| e.is_pending()).collect()
    }

    /// The newest recorded prefetch/execute responses (up to [`LINT_WINDOW`]), oldest first,
    /// each with its place in the journal's order (see [`Entry::seq`]).
    pub fn responses(&self) -> impl Iterator<Item = (u64, &ResponseRecord)> {
        self.responses.iter().map(|(seq, e)| (*seq, e))
    }

    /// What Target should have counted, from the whole journal.
    pub fn expected(&self) -> Vec<expected::ExpectedCounts> {
        self.expected.counts()
    }

    /// What Target should have counted from `since` (ms) on: what a server whose counts began
    /// then should show. Reads the journal again when `since` changes.
    pub fn expected_since(
        &mut self,
        since: i64,
    ) -> Result<Vec<expected::ExpectedCounts>, JournalError> {
        if self.window.as_ref().map(Expected::start) != Some(since) {
            // Exactly what this ledger has read: what comes later is fed to both as usual.
            let events = self.journal.reread(self.journal.offset())?;
            let (journal, _) = Journal::open_read_only(self.path())?;
            let mut replay = Ledger::replay(journal, Recovery::default());
            replay.window = Some(Expected::since(since));
            for event in events {
                replay.apply(event);
            }
            self.window = replay.window;
        }
        Ok(self
            .window
            .as_ref()
            .map(Expected::counts)
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests;
