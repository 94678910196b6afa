//! Sending pending notifications: batches of up to 50 per visitor, session and page-view context,
//! retries with exponential backoff and jitter on connection errors, timeouts and 5xx; a batch
//! rejected with a 4xx is split until the bad notifications are found.

use super::{Event, JournalError, Ledger};
use crate::client::{TargetClient, TargetResponse, Visitor};
use crate::clock::now_ms;
use crate::delivery::{Context, DeliveryRequest, Property, VisitorId};
use indexmap::IndexMap;
use rand::Rng;
use std::time::Duration;
use tracing::Instrument;

/// The most notifications sent in one request.
pub const BATCH_SIZE: usize = 50;

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt` (2 = first retry): base·2^(n-2), capped, with ±50% jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(2).min(16));
        let capped = exp.min(self.max_delay);
        let jitter = rand::rng().random_range(0.5..1.5);
        capped.mul_f64(jitter)
    }
}

/// What a delivery did.
#[derive(Debug, Default)]
pub struct DeliveryReport {
    pub acked: Vec<String>,
    /// Ids that are still pending after every attempt, with the last reason.
    pub pending: Vec<(String, String)>,
    /// Ids that failed for good (4xx), with Target's message.
    pub rejected: Vec<(String, String)>,
    /// Every attempt, in order, failed ones included (for the TUI's history and exports).
    pub attempts: Vec<Attempt>,
}

impl DeliveryReport {
    /// The attempts that were answered, in order.
    pub fn exchanges(&self) -> impl Iterator<Item = &TargetResponse> {
        self.attempts.iter().filter_map(|a| a.outcome.as_ref().ok())
    }
}

/// One attempt at sending a batch: what went out and what came back.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The notification ids it carried.
    pub ids: Vec<String>,
    /// 1 for the first try of these notifications, 2 for the first retry...
    pub number: u32,
    /// Where it went.
    pub url: String,
    /// The request as built (the client completes it as it sends).
    pub request: std::sync::Arc<DeliveryRequest>,
    pub started_at_ms: i64,
    pub duration: Duration,
    /// The answer, or why there was none.
    pub outcome: Result<TargetResponse, String>,
}

/// What the notifications of one request share: visitor, session, page-view context and
/// property token.
struct Group {
    visitor: VisitorId,
    session_id: String,
    context: Option<Context>,
    property_token: Option<String>,
}

/// Sends the pending entries among `ids` (all pending ones when `ids` is empty). A batch Target
/// rejects (4xx: one bad token voids the whole request) is split in halves and sent again, so
/// only the bad notifications end rejected.
pub async fn deliver(
    ledger: &mut Ledger,
    client: &TargetClient,
    ids: &[String],
    policy: &RetryPolicy,
) -> Result<DeliveryReport, JournalError> {
    let mut groups: IndexMap<String, (Group, Vec<String>)> = IndexMap::new();
    for entry in ledger.pending() {
        if !ids.is_empty() && !ids.contains(&entry.id) {
            continue;
        }
        let key = serde_json::to_string(&(
            &entry.visitor,
            &entry.session_id,
            &entry.context,
            &entry.property_token,
        ))
        .unwrap_or_default();
        groups
            .entry(key)
            .or_insert_with(|| {
                (
                    Group {
                        visitor: entry.visitor.clone(),
                        session_id: entry.session_id.clone(),
                        context: entry.context.clone(),
                        property_token: entry.property_token.clone(),
                    },
                    Vec::new(),
                )
            })
            .1
            .push(entry.id.clone());
    }
    let mut report = DeliveryReport::default();
    for (_, (group, group_ids)) in groups {
        let mut work: Vec<Vec<String>> = group_ids
            .chunks(BATCH_SIZE)
            .rev()
            .map(<[String]>::to_vec)
            .collect();
        while let Some(chunk) = work.pop() {
            let span = tracing::info_span!("notifications", ids = %chunk.join(","));
            if let Some((rejected, reason)) =
                send_batch(ledger, client, &group, &chunk, policy, &mut report)
                    .instrument(span)
                    .await?
            {
                if rejected.len() > 1 {
                    let (a, b) = rejected.split_at(rejected.len() / 2);
                    work.push(b.to_vec());
                    work.push(a.to_vec());
                } else {
                    report
                        .rejected
                        .extend(rejected.into_iter().map(|id| (id, reason.clone())));
                }
            }
        }
    }
    Ok(report)
}

/// Sends one batch with retries; returns the ids Target rejected (4xx) with its message.
async fn send_batch(
    ledger: &mut Ledger,
    client: &TargetClient,
    group: &Group,
    chunk: &[String],
    policy: &RetryPolicy,
    report: &mut DeliveryReport,
) -> Result<Option<(Vec<String>, String)>, JournalError> {
    let mut remaining: Vec<String> = chunk.to_vec();
    let mut last_reason = String::new();
    for attempt in 1..=policy.max_attempts.max(1) {
        if attempt > 1 {
            tracing::warn!(attempt, reason = %last_reason, "retrying");
            tokio::time::sleep(policy.delay(attempt)).await;
        }
        let previous = remaining
            .iter()
            .filter_map(|id| ledger.entry(id))
            .map(|e| e.attempts)
            .max()
            .unwrap_or(0);
        let at = now_ms();
        ledger.record(
            remaining
                .iter()
                .map(|id| Event::Sent {
                    id: id.clone(),
                    attempt: previous + 1,
                    at,
                })
                .collect(),
        )?;
        let notifications = remaining
            .iter()
            .filter_map(|id| ledger.entry(id))
            .map(|e| e.notification())
            .collect();
        // The notifications' own visitor and session; the client's visitor stays as it is.
        let visitor = Visitor {
            session_id: group.session_id.clone(),
            tnt_id: group.visitor.tnt_id.clone(),
            // The edge cluster its tntId names, as the SDKs read it.
            location_hint: crate::client::cookies::location_hint_cookie(
                group.visitor.tnt_id.as_deref(),
                None,
            )
            .map(|c| c.value),
            last_call_ms: None,
        };
        // Never a beacon: a beacon's answer (204, no body) acknowledges nothing.
        let context = group.context.clone().map(|context| Context {
            beacon: Some(false),
            ..context
        });
        let request = DeliveryRequest {
            id: Some(group.visitor.clone()).filter(|v| v != &VisitorId::default()),
            context,
            property: group.property_token.clone().map(|token| Property {
                token: Some(token),
                ..Default::default()
            }),
            notifications: Some(notifications),
            ..Default::default()
        };
        let url = client
            .delivery_url(&visitor)
            .map(|u| u.to_string())
            .unwrap_or_default();
        let sent = std::sync::Arc::new(request.clone());
        let started = std::time::Instant::now();
        let outcome = client.send(request, &visitor).await;
        report.attempts.push(Attempt {
            ids: remaining.clone(),
            number: previous + 1,
            url,
            request: sent,
            started_at_ms: at,
            duration: started.elapsed(),
            outcome: outcome
                .as_ref()
                .map(Clone::clone)
                .map_err(ToString::to_string),
        });
        match outcome {
            Ok(exchange) => {
                let echoed: Vec<String> = exchange
                    .response
                    .notifications
                    .iter()
                    .flatten()
                    .filter_map(|n| n.id.clone())
                    .collect();
                let at = now_ms();
                let (acked, missing): (Vec<String>, Vec<String>) = remaining
                    .iter()
                    .cloned()
                    .partition(|id| echoed.contains(id));
                let mut events: Vec<Event> = acked
                    .iter()
                    .map(|id| Event::Acked { id: id.clone(), at })
                    .collect();
                last_reason = "not acknowledged (its id did not come back)".into();
                events.extend(missing.iter().map(|id| Event::Failed {
                    id: id.clone(),
                    reason: last_reason.clone(),
                    retryable: true,
                    at,
                }));
                ledger.record(events)?;
                report.acked.extend(acked);
                remaining = missing;
            }
            Err(error) => {
                let retryable = error.is_retryable();
                last_reason = error.to_string();
                let at = now_ms();
                // A rejected batch is split and sent again: only a lone notification fails for good.
                let for_good = !retryable && remaining.len() == 1;
                ledger.record(
                    remaining
                        .iter()
                        .map(|id| Event::Failed {
                            id: id.clone(),
                            reason: last_reason.clone(),
                            retryable: !for_good,
                            at,
                        })
                        .collect(),
                )?;
                if !retryable {
                    tracing::warn!(attempts = attempt, reason = %last_reason, "rejected");
                    return Ok(Some((remaining, last_reason)));
                }
            }
        }
        if remaining.is_empty() {
            tracing::info!(attempts = attempt, "acknowledged");
            return Ok(None);
        }
    }
    tracing::warn!(attempts = policy.max_attempts, reason = %last_reason, pending = remaining.len(), "still pending");
    report
        .pending
        .extend(remaining.into_iter().map(|id| (id, last_reason.clone())));
    Ok(None)
}
