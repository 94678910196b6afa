//! The local Delivery API: decides with the on-device engine over a rules artifact, answers
//! like Target (validation, tntIds, A4T payloads, traces) and counts impressions like Target.

pub mod counting;
pub mod http;
pub mod validate;

use crate::decisioning::{Artifact, DecideOptions, Engine, Matched};
use crate::delivery::*;
use counting::{key, Counts, Visit};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The demo artifact shipped in `assets/demo/rules.json`.
pub const DEMO_ARTIFACT: &[u8] = include_bytes!("../../assets/demo/rules.json");
/// The largest request body accepted (Target's limit).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What an eventToken of the artifact stands for.
#[derive(Debug, Clone)]
struct TokenInfo {
    activity: Value,
    experience: Value,
    click: bool,
}

/// An activity and its experiences, as `/report` lists them.
#[derive(Debug, Clone)]
struct ActivityInfo {
    id: Value,
    name: Value,
    experiences: Vec<(Value, Value)>,
}

/// An answer: HTTP status and JSON body bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON answer (serialized straight to bytes).
    pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Reply {
        // Most answers fit: growing from serde_json's 128 bytes would copy them five times.
        let mut body = Vec::with_capacity(8 * 1024);
        match serde_json::to_writer(&mut body, value) {
            Ok(()) => Reply { status, body },
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
    catalog: Vec<ActivityInfo>,
    counts: Mutex<Counts>,
    /// A frozen clock (ms since the epoch) for time-based audiences; the wall clock when `None`.
    clock: Option<i64>,
}

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
        let mut catalog: Vec<ActivityInfo> = Vec::new();
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
            let entry = match catalog.iter_mut().position(|a| a.id == activity) {
                Some(i) => &mut catalog[i],
                None => {
                    catalog.push(ActivityInfo {
                        id: activity.clone(),
                        name: rule
                            .meta
                            .get("activity.name")
                            .cloned()
                            .unwrap_or(Value::Null),
                        experiences: Vec::new(),
                    });
                    catalog.last_mut().expect("just pushed")
                }
            };
            if !entry.experiences.iter().any(|(id, _)| *id == experience) {
                entry.experiences.push((
                    experience,
                    rule.meta
                        .get("experience.name")
                        .cloned()
                        .unwrap_or(Value::Null),
                ));
            }
        }
        let client_code = artifact.client_code().unwrap_or("emulator").to_string();
        let load_ms = started.elapsed().as_secs_f64() * 1000.0;
        let engine = Engine::new(
            Arc::new(artifact),
            location,
            crate::ledger::now_ms(),
            load_ms,
        );
        Ok(Emulator {
            engine,
            client_code,
            rules_json,
            tokens,
            catalog,
            counts: Mutex::new(Counts::default()),
            clock: None,
        })
    }

    /// Freezes the emulator's clock at `now_ms` (time-based audiences decide as at that time).
    pub fn with_clock(mut self, now_ms: Option<i64>) -> Emulator {
        self.clock = now_ms;
        self
    }

    /// The client code answers are made for (the artifact's).
    pub fn client_code(&self) -> &str {
        &self.client_code
    }

    /// The artifact as `rules.json` bytes.
    pub fn rules_json(&self) -> &[u8] {
        &self.rules_json
    }

    /// Answers `POST /rest/v1/delivery?client&sessionId&imsOrgId` with `body`.
    pub fn delivery(&self, query: &HashMap<String, String>, body: &[u8]) -> Reply {
        let wall = crate::ledger::now_ms();
        let now = self.clock.unwrap_or(wall);
        if body.len() > MAX_BODY_BYTES {
            return Reply::error(
                413,
                format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
            );
        }
        if let Some(client) = query.get("client").filter(|c| **c != self.client_code) {
            return Reply::error(
                400,
                format!(
                    "Invalid request: unknown client {client:?} (this emulator serves {:?})",
                    self.client_code
                ),
            );
        }
        let session_id = match validate::session_id(query.get("sessionId").map(String::as_str)) {
            Ok(s) => s.to_string(),
            Err(message) => return self.reject(body, message),
        };
        let mut request: DeliveryRequest = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                return Reply::error(
                    400,
                    format!("Invalid request: malformed DeliveryRequest: {e}"),
                )
            }
        };
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
        // Visitors get a tntId without a location hint, so SDKs stay on this server.
        let id = request.id.get_or_insert_with(VisitorId::default);
        match id.tnt_id.as_deref() {
            Some(t) if t.contains('.') => id.tnt_id = t.split('.').next().map(str::to_string),
            None if id.marketing_cloud_visitor_id.is_none() && id.third_party_id.is_none() => {
                id.tnt_id = Some(crate::ids::uuid().simple().to_string())
            }
            _ => {}
        }
        let options = DecideOptions {
            client: self.client_code.clone(),
            now_ms: now,
            session_id: Some(session_id.clone()),
            geo: None,
            telemetry: false,
            prefetch_mbox_metrics: true,
        };
        let decision = self.engine.decide(&request, &options);
        let mut response = decision.response;
        let client_side = request
            .experience_cloud
            .as_ref()
            .and_then(|e| e.analytics.as_ref())
            .and_then(|a| a.logging.as_deref())
            == Some("client_side");
        self.finish_response(&mut response, &decision.matched, client_side);
        let visitor_key = request.id.as_ref().and_then(VisitorId::visitor_key);
        let bot = request
            .context
            .as_ref()
            .and_then(|c| c.user_agent.as_deref())
            .is_some_and(looks_like_bot);
        let visit = Visit {
            session_id: &session_id,
            visitor: visitor_key.as_deref(),
        };
        let acked = self.count(&request, &decision.matched, &visit, bot);
        if request.notifications.is_some() {
            response.notifications = Some(acked);
        }
        response.id = request.id.clone();
        Reply::json(200, &response)
    }

    /// Counts the request's executed activities and its notifications; the acknowledgements.
    /// Requests with nothing to count (prefetches) do not take the lock.
    fn count(
        &self,
        request: &DeliveryRequest,
        matched: &[Matched],
        visit: &Visit,
        bot: bool,
    ) -> Vec<NotificationResponse> {
        let notifications = request.notifications.as_deref().unwrap_or_default();
        let executed: Vec<&Matched> = matched
            .iter()
            .filter(|m| !bot && m.mode == Mode::Execute)
            .collect();
        if executed.is_empty() && notifications.is_empty() {
            return Vec::new();
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if !executed.is_empty() {
            let impression = request
                .impression_id
                .clone()
                .unwrap_or_else(|| crate::ids::uuid().to_string());
            for m in executed {
                counts.impression(
                    &key(&m.activity_id),
                    &key(&m.experience_id),
                    &impression,
                    visit,
                );
            }
        }
        notifications
            .iter()
            .map(|n| {
                counts.notifications.received += 1;
                counts.notifications.accepted += 1;
                if !bot && !self.count_notification(&mut counts, n, visit) {
                    counts.notifications.duplicates += 1;
                }
                NotificationResponse {
                    id: Some(n.id.clone().unwrap_or_default()),
                    ..Default::default()
                }
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
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.notifications.received += notifications as u64;
        counts.notifications.rejected += notifications as u64;
        Reply::error(400, message)
    }

    /// Counts one notification; false when it was a duplicate of one already counted.
    fn count_notification(&self, counts: &mut Counts, n: &Notification, visit: &Visit) -> bool {
        let id = n.id.as_deref().unwrap_or_default();
        let impression = n.impression_id.as_deref().unwrap_or(id);
        let click = n.notification_type.as_deref() == Some("click");
        let mut counted_any = false;
        let mut known_any = false;
        let mut activities_done: Vec<&Value> = Vec::new();
        for token in n.tokens.iter().flatten() {
            let Some(info) = self.tokens.get(token) else {
                continue;
            };
            if info.click != click || activities_done.contains(&&info.activity) {
                continue;
            }
            activities_done.push(&info.activity);
            known_any = true;
            let (a, e) = (key(&info.activity), key(&info.experience));
            counted_any |= if click {
                counts.click(&a, &e, id, visit)
            } else {
                counts.impression(&a, &e, impression, visit)
            };
        }
        counted_any || !known_any
    }

    /// Adds what Target's edge adds: `state` on prefetched items, A4T payloads when asked.
    fn finish_response(
        &self,
        response: &mut DeliveryResponse,
        matched: &[Matched],
        client_side: bool,
    ) {
        let payload = |mode: Mode,
                       kind: &str,
                       name: Option<&str>,
                       index: Option<i64>|
         -> Option<AnalyticsResponse> {
            if !client_side {
                return None;
            }
            let tnta: Vec<String> = matched
                .iter()
                .filter(|m| {
                    m.mode == mode
                        && m.kind == kind
                        && (kind == "pageLoad" || m.name.as_deref() == name)
                        && (kind != "mbox" || m.index == index)
                })
                .map(|m| format!("{}:{}:0|2", key(&m.activity_id), key(&m.experience_id)))
                .collect();
            (!tnta.is_empty()).then(|| a4t(tnta.join(",")))
        };
        let click_payloads = |metrics: &mut Option<Vec<Metric>>| {
            for m in metrics.iter_mut().flatten() {
                if let Some(info) = m
                    .event_token
                    .as_ref()
                    .and_then(|t| self.tokens.get(t))
                    .filter(|i| i.click)
                {
                    if client_side {
                        m.analytics = Some(a4t(format!(
                            "{}:{}:0|32767",
                            key(&info.activity),
                            key(&info.experience)
                        )));
                    }
                }
            }
        };
        if let Some(execute) = response.execute.as_mut() {
            for m in execute.mboxes.iter_mut().flatten() {
                m.analytics = payload(Mode::Execute, "mbox", m.name.as_deref(), m.index);
                click_payloads(&mut m.metrics);
            }
            if let Some(p) = execute.page_load.as_mut() {
                p.analytics = payload(Mode::Execute, "pageLoad", None, None);
                click_payloads(&mut p.metrics);
            }
        }
        if let Some(prefetch) = response.prefetch.as_mut() {
            for m in prefetch.mboxes.iter_mut().flatten() {
                m.analytics = payload(Mode::Prefetch, "mbox", m.name.as_deref(), m.index);
                m.state = Some(state_token());
                click_payloads(&mut m.metrics);
            }
            for v in prefetch.views.iter_mut().flatten() {
                v.analytics = payload(Mode::Prefetch, "view", v.name.as_deref(), None);
                v.state = Some(state_token());
                click_payloads(&mut v.metrics);
            }
            if let Some(p) = prefetch.page_load.as_mut() {
                p.analytics = payload(Mode::Prefetch, "pageLoad", None, None);
                p.state = Some(state_token());
                click_payloads(&mut p.metrics);
            }
        }
    }

    /// The `/report` body.
    pub fn report(&self) -> Value {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let activities: Vec<Value> = self
            .catalog
            .iter()
            .map(|a| {
                let experiences: Vec<Value> = a
                    .experiences
                    .iter()
                    .map(|(id, name)| {
                        let (impressions, visits, visitors, clicks) = counts.of(&key(&a.id), &key(id));
                        json!({"id": id, "name": name, "impressions": impressions, "visits": visits, "visitors": visitors, "clicks": clicks})
                    })
                    .collect();
                json!({"id": a.id, "name": a.name, "experiences": experiences})
            })
            .collect();
        json!({"activities": activities, "notifications": counts.notifications})
    }

    /// Zeroes every count.
    pub fn reset(&self) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()) = Counts::default();
    }
}

fn a4t(tnta: String) -> AnalyticsResponse {
    AnalyticsResponse {
        payload: Some(AnalyticsPayload {
            pe: Some("tnt".into()),
            tnta: Some(tnta),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An opaque prefetch state, like Target's (the emulator needs none back).
fn state_token() -> String {
    crate::ids::uuid().simple().to_string()
}
