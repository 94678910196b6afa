//! The notification ledger: every notification is journaled (fsync'd) before it is sent, keeps
//! its ids across retries, and is never sent again once acknowledged.

pub mod deliver;
pub mod event;
pub mod journal;
pub mod lint;
pub mod record;

pub use event::{Event, ResponseItem};
pub use journal::{Journal, JournalError, Recovery};

use crate::delivery::{build_notification, Location, Notification, NotificationType, VisitorId};
use indexmap::IndexMap;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How many recorded prefetch/execute answers the linter looks at (the newest).
pub const MAX_RESPONSES_IN_MEMORY: usize = 64;

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
    pub id: String,
    pub impression_id: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub timestamp: i64,
    pub visitor: VisitorId,
    pub session_id: String,
    pub location: Location,
    pub tokens: Vec<String>,
    pub queued_at: i64,
    pub attempts: u32,
    #[serde(flatten)]
    pub state: State,
}

impl Entry {
    /// Whether it still has to be sent (queued, sent without answer, or failed retryably).
    pub fn is_pending(&self) -> bool {
        match &self.state {
            State::Queued | State::Sent => true,
            State::Failed { retryable, .. } => *retryable,
            State::Acked { .. } => false,
        }
    }

    /// The wire notification (same ids every time).
    pub fn notification(&self) -> Notification {
        build_notification(
            &self.id,
            &self.impression_id,
            self.kind,
            self.timestamp,
            &self.location,
            &self.tokens,
        )
    }

    /// What makes two queue requests the same notification.
    fn key(&self) -> String {
        dedupe_key(&self.visitor, self.kind, &self.location, &self.tokens)
    }
}

fn dedupe_key(
    visitor: &VisitorId,
    kind: NotificationType,
    location: &Location,
    tokens: &[String],
) -> String {
    let mut sorted = tokens.to_vec();
    sorted.sort();
    serde_json::json!([visitor.visitor_key(), kind, location, sorted]).to_string()
}

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: NotificationType,
    pub visitor: VisitorId,
    pub session_id: String,
    pub location: Location,
    pub tokens: Vec<String>,
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

/// The journal of one target and the state it describes.
pub struct Ledger {
    journal: Journal,
    entries: IndexMap<String, Entry>,
    /// The newest entry for each dedupe key.
    by_key: HashMap<String, String>,
    responses: Vec<Event>,
    recovery_torn_bytes: Option<usize>,
}

/// The journal file of a target under `data_dir`.
pub fn journal_path(data_dir: &Path, client_code: Option<&str>, server: &str) -> PathBuf {
    let name = format!("{}@{}", client_code.unwrap_or("-"), server);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    data_dir.join("ledger").join(format!("{safe}.jsonl"))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    crate::decisioning::engine::now_ms()
}

impl Ledger {
    /// Opens the journal at `path` and replays it.
    pub fn open(path: &Path) -> Result<Ledger, JournalError> {
        let (journal, recovery) = Journal::open(path)?;
        let mut ledger = Ledger {
            journal,
            entries: IndexMap::new(),
            by_key: HashMap::new(),
            responses: Vec::new(),
            recovery_torn_bytes: recovery.torn_bytes,
        };
        for event in recovery.events {
            ledger.apply(event);
        }
        Ok(ledger)
    }

    /// Bytes of a torn last line that opening cut off (a crash mid-write), if any.
    pub fn torn_bytes(&self) -> Option<usize> {
        self.recovery_torn_bytes
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        self.journal.path()
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Queued {
                id,
                impression_id,
                kind,
                timestamp,
                visitor,
                session_id,
                location,
                tokens,
                at,
            } => {
                let entry = Entry {
                    id: id.clone(),
                    impression_id,
                    kind,
                    timestamp,
                    visitor,
                    session_id,
                    location,
                    tokens,
                    queued_at: at,
                    attempts: 0,
                    state: State::Queued,
                };
                self.by_key.insert(entry.key(), id.clone());
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
                    e.state = State::Acked { at };
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
            response @ Event::Response { .. } => {
                // The linter reads recent answers; a long journal keeps the newest in memory.
                if self.responses.len() >= MAX_RESPONSES_IN_MEMORY {
                    self.responses.remove(0);
                }
                self.responses.push(response)
            }
        }
    }

    /// Journals and applies events (fsync'd before this returns).
    pub fn record(&mut self, events: Vec<Event>) -> Result<(), JournalError> {
        self.journal.append(&events)?;
        for event in events {
            self.apply(event);
        }
        Ok(())
    }

    /// Queues a notification. The same visitor, type, location and tokens as an entry already
    /// journaled reuses that entry, unless `again` asks for a new impression (new ids).
    pub fn queue(&mut self, n: NewNotification, again: bool) -> Result<Queued, JournalError> {
        let mut queued = self.queue_all(vec![n], again)?;
        Ok(queued.remove(0))
    }

    /// Queues several notifications with one journal write (one fsync).
    pub fn queue_all(
        &mut self,
        list: Vec<NewNotification>,
        again: bool,
    ) -> Result<Vec<Queued>, JournalError> {
        let mut outcomes = Vec::with_capacity(list.len());
        let mut events = Vec::new();
        let mut new_keys: HashMap<String, String> = HashMap::new();
        for n in list {
            let key = dedupe_key(&n.visitor, n.kind, &n.location, &n.tokens);
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
            let id = crate::ids::uuid().to_string();
            let at = now_ms();
            new_keys.insert(key, id.clone());
            events.push(Event::Queued {
                id: id.clone(),
                impression_id: crate::ids::uuid().to_string(),
                kind: n.kind,
                timestamp: at,
                visitor: n.visitor,
                session_id: n.session_id,
                location: n.location,
                tokens: n.tokens,
                at,
            });
            outcomes.push(Queued::New(id));
        }
        self.record(events)?;
        Ok(outcomes)
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

    /// The recorded prefetch/execute responses.
    pub fn responses(&self) -> &[Event] {
        &self.responses
    }
}

#[cfg(test)]
mod tests;
