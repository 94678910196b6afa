//! The local Delivery API: decides with the on-device engine over a rules artifact, answers
//! like Target (validation, tntIds, A4T payloads, traces) and counts impressions like Target.

mod answer;
pub mod catalog;
pub mod http;
pub mod qa;
pub mod request_log;
pub mod validate;
pub mod visitors;

use crate::counting::{
    report::id_key, visitor_key, ActivityReport, Counter, Decision, ExperienceReport, Hit, HitKind,
    NotificationCounts, Report,
};
use crate::decisioning::{Artifact, DecideOptions, Engine, Matched};
use crate::delivery::*;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The demo artifact shipped in `assets/demo/rules.json`.
pub const DEMO_ARTIFACT: &[u8] = include_bytes!("../../assets/demo/rules.json");
/// The rule meta key that names an activity's reporting source (`analytics` for A4T, else
/// `target`): an emulator extension of the artifact that the SDKs ignore.
pub const REPORTING_SOURCE: &str = "activity.reportingSource";
/// How many sessions' QA modes are kept.
pub const QA_SESSIONS: usize = 10_000;
/// The largest request body accepted (Target's limit).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What an eventToken of the artifact stands for.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub activity: Value,
    pub experience: Value,
    pub click: bool,
}

/// What the emulator counted: the counting model and the notification counters.
#[derive(Debug)]
struct Tally {
    counter: Counter,
    /// QA traffic, counted apart from live traffic (as Target reports it).
    qa: Counter,
    notifications: NotificationCounts,
    /// When counting began (start or reset), ms since the epoch.
    since: i64,
}

impl Tally {
    fn new(bot_filter: bool) -> Tally {
        Tally {
            counter: Counter::new(bot_filter),
            qa: Counter::new(bot_filter),
            notifications: NotificationCounts::default(),
            since: crate::clock::now_ms(),
        }
    }
}

/// The query parameters a delivery reads (`client`, `sessionId`); of a repeated one, the last.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeliveryQuery<'q> {
    pub client: Option<&'q str>,
    pub session_id: Option<&'q str>,
}

impl<'q> From<&'q HashMap<String, String>> for DeliveryQuery<'q> {
    fn from(query: &'q HashMap<String, String>) -> Self {
        DeliveryQuery {
            client: query.get("client").map(String::as_str),
            session_id: query.get("sessionId").map(String::as_str),
        }
    }
}

/// An answer: HTTP status and JSON body bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON answer (serialized straight to bytes; prepared parts written as stored).
    pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Reply {
        // Most answers fit: growing from serde_json's 128 bytes would copy them five times.
        let mut body = Vec::with_capacity(8 * 1024);
        match crate::delivery::to_writer_compact(&mut body, value) {
            Ok(()) => Reply { status, body },
            Err(e) => Reply::error(500, format!("could not encode the response: {e}")),
        }
    }

    /// A wire object's JSON answer, written by [`WriteJson`](crate::delivery::wire::WriteJson):
    /// the same bytes as [`json`](Self::json), without serde's per-field work.
    pub fn wire<T: crate::delivery::wire::WriteJson>(status: u16, value: &T) -> Reply {
        // Most answers fit: growing from a small buffer would copy them several times.
        match crate::delivery::wire::compact::to_vec(value, 8 * 1024) {
            Ok(body) => Reply { status, body },
            Err(e) => Reply::error(500, format!("could not encode the response: {e}")),
        }
    }

    /// Target's error shape.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        let body = json!({ "status": status, "message": message.into() });
        Reply {
            status,
            body: serde_json::to_vec(&body).unwrap_or_default(),
        }
    }
}

/// The emulator's state: the engine, what the artifact's tokens mean, and the counts.
pub struct Emulator {
    engine: Engine,
    client_code: String,
    rules_json: Vec<u8>,
    tokens: HashMap<String, TokenInfo>,
    catalog: Vec<catalog::ActivityInfo>,
    /// The QA mode of each session that used one (Target keeps a visitor in QA for the rest of
    /// the session): at most [`QA_SESSIONS`], the oldest forgotten first.
    qa_sessions: Mutex<indexmap::IndexMap<String, QaMode>>,
    /// Whether any session used a QA mode: until one does, requests without one take no lock.
    qa_used: AtomicBool,
    /// Every visitor seen (at most [`visitors::DEFAULT_CAP`], least recently used forgotten).
    visitors: Mutex<visitors::Visitors>,
    /// Activities whose reporting source is Analytics (A4T): only they get A4T payloads.
    a4t_activities: HashSet<String>,
    counts: Mutex<Tally>,
    /// A frozen clock (ms since the epoch) for time-based audiences; the wall clock when it
    /// holds [`WALL_CLOCK`]. Settable while serving (the TUI's clock override).
    clock: std::sync::atomic::AtomicI64,
}

/// The value of [`Emulator`]'s clock that means "the wall clock".
const WALL_CLOCK: i64 = i64::MIN;

impl Emulator {
    /// An emulator over artifact bytes (`rules.json`, or `rules.bin` with the org id).
    pub fn new(
        bytes: &[u8],
        org_id: Option<&str>,
        location: &str,
    ) -> Result<Emulator, crate::decisioning::ArtifactError> {
        let started = std::time::Instant::now();
        let artifact = Artifact::load(bytes, org_id)?;
        let rules_json = if bytes.starts_with(b"ATOD") {
            crate::decisioning::artifact::deobfuscate(bytes, org_id.unwrap_or_default())?
        } else {
            bytes.to_vec()
        };
        let mut tokens = HashMap::new();
        for rule in artifact.all_rules() {
            let activity = rule.meta.get("activity.id").cloned().unwrap_or(Value::Null);
            let experience = rule
                .meta
                .get("experience.id")
                .cloned()
                .unwrap_or(Value::Null);
            for option in &rule.consequence.options {
                if let Some(t) = &option.event_token {
                    tokens.insert(
                        t.clone(),
                        TokenInfo {
                            activity: activity.clone(),
                            experience: experience.clone(),
                            click: false,
                        },
                    );
                }
            }
            for metric in &rule.consequence.metrics {
                if let Some(t) = &metric.event_token {
                    let click = metric.metric_type.as_deref() == Some("click");
                    tokens.insert(
                        t.clone(),
                        TokenInfo {
                            activity: activity.clone(),
                            experience: experience.clone(),
                            click,
                        },
                    );
                }
            }
        }
        let catalog = catalog::of(&artifact);
        let a4t_activities = artifact
            .all_rules()
            .filter(|rule| {
                rule.meta
                    .get(REPORTING_SOURCE)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("analytics"))
            })
            .filter_map(|rule| rule.meta.get("activity.id").map(id_key))
            .collect();
        let client_code = artifact.client_code().unwrap_or("emulator").to_string();
        let load_ms = started.elapsed().as_secs_f64() * 1000.0;
        let engine = Engine::new(
            Arc::new(artifact),
            location,
            crate::clock::now_ms(),
            load_ms,
        );
        Ok(Emulator {
            engine,
            client_code,
            rules_json,
            tokens,
            catalog,
            qa_sessions: Mutex::new(indexmap::IndexMap::new()),
            qa_used: AtomicBool::new(false),
            visitors: Mutex::new(visitors::Visitors::new(visitors::DEFAULT_CAP)),
            a4t_activities,
            counts: Mutex::new(Tally::new(true)),
            clock: std::sync::atomic::AtomicI64::new(WALL_CLOCK),
        })
    }

    /// Counts user agents that look like bots too (`serve --bot-filter off`).
    pub fn with_bot_filter(self, on: bool) -> Emulator {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()) = Tally::new(on);
        self
    }

    /// Freezes the emulator's clock at `now_ms` (time-based audiences decide as at that time).
    pub fn with_clock(self, now_ms: Option<i64>) -> Emulator {
        self.set_clock(now_ms);
        self
    }

    /// Freezes the clock at `now_ms`, or with `None` lets it follow the wall clock again.
    pub fn set_clock(&self, now_ms: Option<i64>) {
        self.clock.store(
            now_ms.unwrap_or(WALL_CLOCK),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The client code answers are made for (the artifact's).
    pub fn client_code(&self) -> &str {
        &self.client_code
    }

    /// The parsed artifact it decides with.
    pub fn artifact(&self) -> Arc<Artifact> {
        self.engine.shared_artifact()
    }

    /// The artifact as `rules.json` bytes.
    pub fn rules_json(&self) -> &[u8] {
        &self.rules_json
    }

    /// Answers `POST /rest/v1/delivery?client&sessionId&imsOrgId` with `body`.
    pub fn delivery<'q>(&self, query: impl Into<DeliveryQuery<'q>>, body: &[u8]) -> Reply {
        self.answer(query.into(), body, &mut None)
    }

    /// Answers like [`delivery`](Self::delivery), and says what the request was and what it
    /// counted (for the request log).
    pub fn delivery_summarized<'q>(
        &self,
        query: impl Into<DeliveryQuery<'q>>,
        body: &[u8],
    ) -> (Reply, request_log::Summary) {
        let mut summary = Some(request_log::Summary::default());
        let reply = self.answer(query.into(), body, &mut summary);
        (reply, summary.unwrap_or_default())
    }

    fn answer(
        &self,
        query: DeliveryQuery,
        body: &[u8],
        summary: &mut Option<request_log::Summary>,
    ) -> Reply {
        let wall = crate::clock::now_ms();
        let now = match self.clock.load(std::sync::atomic::Ordering::Relaxed) {
            WALL_CLOCK => wall,
            frozen => frozen,
        };
        if body.len() > MAX_BODY_BYTES {
            return Reply::error(
                413,
                format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
            );
        }
        if let Some(client) = query.client.filter(|c| *c != self.client_code) {
            return Reply::error(
                400,
                format!(
                    "Invalid request: unknown client {client:?} (this emulator serves {:?})",
                    self.client_code
                ),
            );
        }
        let session_id = match validate::session_id(query.session_id) {
            Ok(s) => s.to_string(),
            Err(message) => return self.reject(body, message),
        };
        let mut request = DeliveryRequest::default();
        if let Err(e) = crate::delivery::wire::from_json_into(body, &mut request) {
            return Reply::error(
                400,
                format!("Invalid request: malformed DeliveryRequest: {e}"),
            );
        }
        if let Some(summary) = summary {
            *summary = request_log::Summary::of(&request);
        }
        if let Err(message) = validate::request(&request, wall.max(now)) {
            return self.reject_count(request.notifications.as_ref().map_or(0, Vec::len), message);
        }
        for n in request.notifications.iter().flatten() {
            for token in n.tokens.iter().flatten() {
                if !self.tokens.contains_key(token) {
                    let id = n.id.as_deref().unwrap_or("?");
                    return self.reject_count(
                        request.notifications.as_ref().map_or(0, Vec::len),
                        format!("Invalid request: notification {id}: unknown token {token:?}"),
                    );
                }
            }
        }
        // One record per visitor: a tntId (without a location hint, so SDKs stay on this
        // server) minted when the request has none, ids seen together pinned to one visitor,
        // its allocation fixed, its profile kept.
        let profile_parameters = visitors::profile_parameters(&request);
        let id = request.id.get_or_insert_with(VisitorId::default);
        let (pinned, profile) = {
            let mut visitors = self.visitors.lock().unwrap_or_else(|e| e.into_inner());
            let (tnt, _) = visitors.resolve(id, wall);
            id.tnt_id = Some(tnt.clone());
            if let Some(summary) = summary.as_mut().filter(|s| s.visitor.is_none()) {
                summary.visitor = id.visitor_key();
            }
            visitors.remember_profile(&tnt, profile_parameters);
            let allocation = visitors
                .get(&tnt)
                .map(|r| r.allocation_id.clone())
                .unwrap_or_else(|| tnt.clone());
            (
                VisitorId {
                    marketing_cloud_visitor_id: Some(allocation),
                    ..Default::default()
                },
                visitors.profile_tokens(&tnt),
            )
        };
        let qa = match self.qa_mode(request.qa_mode.as_ref(), &session_id) {
            Some(mode) => match qa::plan(&mode, &self.catalog) {
                Ok(plan) => Some(plan),
                Err(message) => {
                    return self
                        .reject_count(request.notifications.as_ref().map_or(0, Vec::len), message)
                }
            },
            None => None,
        };
        let in_qa = qa.is_some();
        let options = DecideOptions {
            client: self.client_code.clone(),
            now_ms: now,
            session_id: Some(session_id.clone()),
            geo: None,
            telemetry: false,
            prefetch_mbox_metrics: true,
            qa,
            edge: true,
            extra_tokens: profile,
        };
        // The engine allocates by the visitor's pinned id; the answer names all its ids.
        let ids = request.id.replace(pinned);
        let decision = self.engine.decide(&request, &options);
        request.id = ids;
        let mut response = decision.response;
        let client_side = request
            .experience_cloud
            .as_ref()
            .and_then(|e| e.analytics.as_ref())
            .and_then(|a| a.logging.as_deref())
            == Some("client_side");
        answer::as_the_edge_sends_it(&mut response);
        if request.trace.is_some() {
            answer::note_remote(
                &mut response,
                &decision.remote_mboxes,
                &decision.remote_views,
            );
        }
        let a4t_events = self.a4t_events(&decision.matched, &request, &session_id);
        answer::Edge {
            tokens: &self.tokens,
            client_side,
            a4t_events: &a4t_events,
        }
        .finish(&mut response, &decision.matched);
        response
            .request_id
            .get_or_insert_with(crate::ids::uuid_string);
        let acked = self.count(
            &request,
            &decision.matched,
            (&session_id, wall, in_qa),
            summary.as_mut(),
        );
        if request.notifications.is_some() {
            response.notifications = Some(acked);
        }
        response.id = request.id.take();
        if request.context.as_ref().and_then(|c| c.beacon) == Some(true) {
            // Target answers a beacon with 204 and no body (the notifications still count).
            return Reply {
                status: 204,
                body: Vec::new(),
            };
        }
        Reply::wire(200, &response)
    }

    /// Counts the request's executed activities and its notifications through the counting
    /// model; returns the acknowledgements. Requests with nothing to count (prefetches) do not
    /// take the lock.
    /// The tuple is the request's session, arrival time and whether it is QA traffic;
    /// `summary` (when logging) gets each notification's verdict.
    fn count(
        &self,
        request: &DeliveryRequest,
        matched: &[Matched],
        (session_id, now, in_qa): (&str, i64, bool),
        mut summary: Option<&mut request_log::Summary>,
    ) -> Vec<NotificationResponse> {
        let notifications = request.notifications.as_deref().unwrap_or_default();
        let executed: Vec<Decision> = matched
            .iter()
            .filter(|m| m.mode == Mode::Execute)
            .map(|m| Decision {
                activity: id_key(&m.activity_id),
                experience: id_key(&m.experience_id),
            })
            .collect();
        if executed.is_empty() && notifications.is_empty() {
            return Vec::new();
        }
        let visitor = request.id.as_ref().and_then(visitor_key);
        let user_agent = request
            .context
            .as_ref()
            .and_then(|c| c.user_agent.as_deref());
        let mut tally = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let Tally {
            counter,
            qa,
            notifications: counters,
            ..
        } = &mut *tally;
        let counter = if in_qa { qa } else { counter };
        if !executed.is_empty() {
            let outcome = counter.observe(&Hit {
                kind: HitKind::Execute,
                at_ms: now,
                visitor: visitor.as_deref(),
                session_id,
                user_agent,
                impression_id: request.impression_id.as_deref(),
                decisions: &executed,
            });
            if let Some(summary) = summary.as_deref_mut() {
                summary.counted("execute", &outcome);
            }
        }
        notifications
            .iter()
            .map(|n| {
                let click = n.notification_type.as_deref() == Some("click");
                let decisions = self.decisions_of(n, click);
                let outcome = counter.observe(&Hit {
                    kind: if click {
                        HitKind::Click
                    } else {
                        HitKind::Display
                    },
                    at_ms: n.timestamp.unwrap_or(now),
                    visitor: visitor.as_deref(),
                    session_id,
                    user_agent,
                    impression_id: n.impression_id.as_deref(),
                    decisions: &decisions,
                });
                counters.received += 1;
                counters.accepted += 1;
                if outcome.all_duplicates() {
                    counters.duplicates += 1;
                }
                if let Some(summary) = summary.as_deref_mut() {
                    summary.counted(n.id.as_deref().unwrap_or("?"), &outcome);
                }
                NotificationResponse {
                    id: Some(n.id.clone().unwrap_or_default()),
                    ..Default::default()
                }
            })
            .collect()
    }

    /// The activities a notification's tokens stand for (click tokens for a click, option
    /// tokens for a display).
    fn decisions_of(&self, n: &Notification, click: bool) -> Vec<Decision> {
        n.tokens
            .iter()
            .flatten()
            .filter_map(|t| self.tokens.get(t))
            .filter(|info| info.click == click)
            .map(|info| Decision {
                activity: id_key(&info.activity),
                experience: id_key(&info.experience),
            })
            .collect()
    }

    fn reject(&self, body: &[u8], message: String) -> Reply {
        let count = serde_json::from_slice::<DeliveryRequest>(body)
            .ok()
            .and_then(|r| r.notifications)
            .map_or(0, |n| n.len());
        self.reject_count(count, message)
    }

    fn reject_count(&self, notifications: usize, message: String) -> Reply {
        let mut tally = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        tally.notifications.received += notifications as u64;
        tally.notifications.rejected += notifications as u64;
        Reply::error(400, message)
    }

    /// The A4T events of this answer's activities that report to Analytics: an impression,
    /// with the visit the first time in a session and the entrance the first time ever.
    fn a4t_events(
        &self,
        matched: &[Matched],
        request: &DeliveryRequest,
        session_id: &str,
    ) -> HashMap<String, Vec<u16>> {
        if self.a4t_activities.is_empty() {
            return HashMap::new();
        }
        let activities: HashSet<String> = matched
            .iter()
            .map(|m| id_key(&m.activity_id))
            .filter(|a| self.a4t_activities.contains(a))
            .collect();
        if activities.is_empty() {
            return HashMap::new();
        }
        let tnt = request
            .id
            .as_ref()
            .and_then(|i| i.tnt_id.clone())
            .unwrap_or_default();
        let visit = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            session_id.hash(&mut h);
            h.finish() as u32
        };
        let mut visitors = self.visitors.lock().unwrap_or_else(|e| e.into_inner());
        activities
            .into_iter()
            .map(|a| {
                let hit = visitors.a4t_hit(&tnt, &a, visit);
                let mut events = vec![answer::IMPRESSION];
                if hit.visit {
                    events.push(answer::VISIT);
                }
                if hit.entrance {
                    events.push(answer::ENTRANCE);
                }
                (a, events)
            })
            .collect()
    }

    /// A visitor's record by any of its ids (`GET /visitors/{id}`).
    pub fn visitor(&self, any_id: &str) -> Option<visitors::VisitorRecord> {
        self.visitors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(any_id)
            .cloned()
    }

    /// The QA mode of a request: its own, else the one its session used (a visitor stays in
    /// QA for the rest of the session, as with Target's QA links).
    fn qa_mode(&self, own: Option<&QaMode>, session_id: &str) -> Option<QaMode> {
        if own.is_none() && !self.qa_used.load(Ordering::Acquire) {
            return None;
        }
        let mut sessions = self.qa_sessions.lock().unwrap_or_else(|e| e.into_inner());
        match own {
            Some(mode) => {
                if sessions.len() >= QA_SESSIONS && !sessions.contains_key(session_id) {
                    sessions.shift_remove_index(0);
                }
                sessions.insert(session_id.to_string(), mode.clone());
                self.qa_used.store(true, Ordering::Release);
                Some(mode.clone())
            }
            None if sessions.is_empty() => None,
            None => sessions.get(session_id).cloned(),
        }
    }

    /// A QA link for every activity and experience (`GET /qa`).
    pub fn qa_links(&self) -> Vec<QaLink> {
        qa::links(&self.catalog)
    }

    fn activity_reports(&self, counter: &Counter) -> Vec<ActivityReport> {
        self.catalog
            .iter()
            .map(|a| ActivityReport {
                id: a.id.clone(),
                name: a.name.clone(),
                experiences: a
                    .experiences
                    .iter()
                    .map(|e| {
                        let c = counter.counts(&a.key(), &id_key(&e.id));
                        ExperienceReport {
                            id: e.id.clone(),
                            name: e.name.clone(),
                            impressions: c.impressions,
                            visits: c.visits,
                            visitors: c.visitors,
                            clicks: c.clicks,
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    /// What was counted, per activity and experience of the artifact (QA traffic apart).
    pub fn report(&self) -> Report {
        let tally = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        Report {
            activities: self.activity_reports(&tally.counter),
            qa: self.activity_reports(&tally.qa),
            notifications: tally.notifications,
            bot_filter: tally.counter.bot_filter(),
            since: tally.since,
        }
    }

    /// Zeroes every count (the bot filter stays as it was).
    pub fn reset(&self) {
        let mut tally = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *tally = Tally::new(tally.counter.bot_filter());
    }
}
