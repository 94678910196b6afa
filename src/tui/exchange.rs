//! The session's history: every exchange with the server (prefetch, execute, each attempt at a
//! notification batch), the failed ones included.

use crate::client::TargetResponse;
use crate::delivery::{DeliveryRequest, Mode};
use crate::ledger::deliver::Attempt;
use crate::proxy::feed::{ObservedExchange, ObservedFinding, ObservedNotification};
use std::sync::Arc;
use std::time::Duration;

/// What an exchange was.
#[derive(Debug, Clone, PartialEq)]
pub enum ExchangeKind {
    Call(Mode),
    /// A batch of notifications (their ids), and which attempt at them it was.
    Notifications {
        ids: Vec<String>,
        attempt: u32,
    },
    /// An application's exchange seen through `mboxscope proxy` (`--watch`): its kind
    /// (`prefetch`, `notifications`…), what came of its notifications, the linter's findings.
    Observed {
        kind: String,
        /// The visitor key the exchange names.
        visitor: Option<String>,
        /// The locations the answer decided.
        locations: Vec<String>,
        notifications: Vec<ObservedNotification>,
        findings: Vec<ObservedFinding>,
    },
}

/// One request and what came of it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub kind: ExchangeKind,
    pub url: String,
    pub request: Arc<DeliveryRequest>,
    pub started_at_ms: i64,
    pub duration: Duration,
    /// The answer, or why there was none.
    pub outcome: Result<Box<TargetResponse>, String>,
}

impl Exchange {
    /// A notification attempt of the ledger's delivery.
    pub fn of_attempt(attempt: Attempt) -> Exchange {
        Exchange {
            kind: ExchangeKind::Notifications {
                ids: attempt.ids,
                attempt: attempt.number,
            },
            url: attempt.url,
            request: attempt.request,
            started_at_ms: attempt.started_at_ms,
            duration: attempt.duration,
            outcome: attempt.outcome.map(Box::new),
        }
    }

    /// An exchange the proxy at `proxy` saw an application have.
    pub fn of_observed(o: ObservedExchange, proxy: &str) -> Exchange {
        let request: DeliveryRequest = serde_json::from_str(&o.request).unwrap_or_default();
        let request = Arc::new(request);
        let duration = Duration::from_secs_f64(o.duration_ms.max(0.0) / 1000.0);
        let outcome = if (200..300).contains(&o.status) {
            let mut response: crate::delivery::DeliveryResponse =
                serde_json::from_str(&o.response).unwrap_or_default();
            response.share_response_tokens();
            let session_id = o.session_id.clone().unwrap_or_default();
            let tnt_id = response.id.as_ref().and_then(|id| id.tnt_id.clone());
            Ok(Box::new(TargetResponse {
                request: request.clone(),
                session_id: session_id.clone(),
                request_url: proxy.to_string(),
                request_headers: Vec::new(),
                request_body: o.request.clone().into(),
                status: o.status,
                response_headers: Vec::new(),
                response_body: o.response.clone().into(),
                duration,
                started_at_ms: o.at,
                response: Arc::new(response),
                target_cookie: crate::client::cookies::target_cookie(
                    &session_id,
                    tnt_id.as_deref(),
                    o.at / 1000,
                ),
                target_location_hint_cookie: None,
            }))
        } else {
            Err(format!(
                "HTTP {}: {}",
                o.status,
                crate::safe_text::one_line(&o.response)
            ))
        };
        Exchange {
            kind: ExchangeKind::Observed {
                kind: o.kind,
                visitor: o.visitor,
                locations: o.locations,
                notifications: o.notifications,
                findings: o.findings,
            },
            url: proxy.to_string(),
            request,
            started_at_ms: o.at,
            duration,
            outcome,
        }
    }

    /// The answer, when there was one.
    pub fn response(&self) -> Option<&TargetResponse> {
        self.outcome.as_deref().ok()
    }

    /// The request as it went out (completed by the client) when answered, else as built.
    pub fn sent_request(&self) -> &DeliveryRequest {
        match &self.outcome {
            Ok(response) => &response.request,
            Err(_) => &self.request,
        }
    }

    /// `prefetch 3 locations`, `notifications ×2 (attempt 2)`.
    pub fn title(&self) -> String {
        match &self.kind {
            ExchangeKind::Call(mode) => {
                let asked = asked_locations(self.sent_request(), *mode);
                format!("{} {}", mode.as_str(), plural(asked, "location"))
            }
            ExchangeKind::Observed {
                kind,
                notifications,
                ..
            } => {
                let count = if notifications.is_empty() {
                    String::new()
                } else {
                    format!(" ×{}", notifications.len())
                };
                format!("app {kind}{count}")
            }
            ExchangeKind::Notifications { ids, attempt } => {
                let retry = if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                };
                format!("notifications ×{}{retry}", ids.len())
            }
        }
    }

    /// Its row in the History list: the title, and for an application's exchange its visitor
    /// and the locations decided (`app prefetch · 925ee19f…47 · home-hero, view cart`).
    pub fn row_title(&self) -> String {
        let mut title = self.title();
        if let ExchangeKind::Observed {
            visitor, locations, ..
        } = &self.kind
        {
            if let Some(visitor) = visitor {
                title.push_str(" · ");
                title.push_str(&elided(visitor, 8));
            }
            if !locations.is_empty() {
                let names: Vec<&str> = locations
                    .iter()
                    .map(|l| l.strip_prefix("mbox ").unwrap_or(l))
                    .collect();
                title.push_str(" · ");
                title.push_str(&names.join(", "));
            }
        }
        title
    }

    /// `200 · 3 ms`, or `failed: why`.
    pub fn outcome_text(&self) -> String {
        match &self.outcome {
            Ok(r) => format!("{} · {} ms", r.status, self.duration.as_millis()),
            Err(e) => format!("failed: {}", crate::safe_text::one_line(e)),
        }
    }

    /// The visitor it was for (tntId, else another id), as the counting model keys it.
    pub fn visitor(&self) -> String {
        let answered = self.response().and_then(|r| r.response.id.as_ref());
        answered
            .or(self.sent_request().id.as_ref())
            .and_then(crate::counting::visitor_key)
            .unwrap_or_else(|| "-".into())
    }
}

/// A long id as its first `head` characters and last two (`925ee19f…47`); counts characters,
/// not bytes, since a server may send any text.
pub fn elided(id: &str, head: usize) -> String {
    let count = id.chars().count();
    if count <= head + 4 {
        return id.to_string();
    }
    let first: String = id.chars().take(head).collect();
    let last: String = id.chars().skip(count - 2).collect();
    format!("{first}…{last}")
}

/// How many locations (mboxes, views, the page load) `request` asks for in `mode`.
pub fn asked_locations(request: &DeliveryRequest, mode: Mode) -> usize {
    match mode {
        Mode::Execute => request
            .execute
            .as_ref()
            .map(|e| e.mboxes.as_ref().map_or(0, Vec::len) + usize::from(e.page_load.is_some())),
        _ => request.prefetch.as_ref().map(|p| {
            p.mboxes.as_ref().map_or(0, Vec::len)
                + p.views.as_ref().map_or(0, Vec::len)
                + usize::from(p.page_load.is_some())
        }),
    }
    .unwrap_or(0)
}

/// `1 location`, `3 locations`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
