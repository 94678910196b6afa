//! What Target's edge does to an answer that the on-device engine does not: `state` on
//! prefetched items, A4T payloads for the activities that report to Analytics, response tokens
//! as strings, status 200 and none of the SDK's on-device bookkeeping (`remoteMboxes`,
//! `remoteViews`, `activity.decisioningMethod`).

use super::TokenInfo;
use crate::counting::report::id_key;
use crate::decisioning::Matched;
use crate::delivery::*;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The A4T event numbers (Adobe's A4T documentation: 0 entrance, 1 visit, 2 impression,
/// 32767 conversion): the visitor's first hit on an activity.
pub const ENTRANCE: u16 = 0;
/// The first hit on an activity in a visit.
pub const VISIT: u16 = 1;
/// Every hit.
pub const IMPRESSION: u16 = 2;
/// A conversion (a click metric).
pub const CONVERSION: u16 = 32767;

/// What the edge needs to finish an answer.
pub struct Edge<'a> {
    /// What each eventToken of the artifact stands for.
    pub tokens: &'a HashMap<String, TokenInfo>,
    /// Whether `experienceCloud.analytics.logging` is `client_side`.
    pub client_side: bool,
    /// For each activity reporting to Analytics, the events of this hit (`[2, 1, 0]` for a
    /// visitor's first impression); activities absent here report to Target: no payload.
    pub a4t_events: &'a HashMap<String, Vec<u16>>,
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
    crate::ids::uuid_simple()
}

impl Edge<'_> {
    /// The `tnta` entries of the matched activities of one location.
    fn payload(
        &self,
        matched: &[Matched],
        mode: Mode,
        kind: ItemKind,
        name: Option<&str>,
        index: Option<i64>,
    ) -> Option<AnalyticsResponse> {
        if !self.client_side {
            return None;
        }
        let tnta: Vec<String> = matched
            .iter()
            .filter(|m| {
                m.mode == mode
                    && m.kind == kind
                    && (kind == ItemKind::PageLoad || m.name.as_deref() == name)
                    && (kind != ItemKind::Mbox || m.index == index)
            })
            .flat_map(|m| {
                let (activity, experience) = (id_key(&m.activity_id), id_key(&m.experience_id));
                self.a4t_events
                    .get(&activity)
                    .into_iter()
                    .flatten()
                    .map(move |event| format!("{activity}:{experience}:0|{event}"))
            })
            .collect();
        (!tnta.is_empty()).then(|| a4t(tnta.join(",")))
    }

    fn click_payloads(&self, metrics: &mut Option<Vec<Metric>>) {
        if !self.client_side {
            return;
        }
        for m in metrics.iter_mut().flatten() {
            if let Some(info) = m
                .event_token
                .as_ref()
                .and_then(|t| self.tokens.get(t))
                .filter(|i| i.click && self.a4t_events.contains_key(&id_key(&i.activity)))
            {
                m.analytics = Some(a4t(format!(
                    "{}:{}:0|{CONVERSION}",
                    id_key(&info.activity),
                    id_key(&info.experience)
                )));
            }
        }
    }

    /// Adds `state` to prefetched items and the A4T payloads.
    pub fn finish(&self, response: &mut DeliveryResponse, matched: &[Matched]) {
        for item in decided_items(response) {
            let Some(parts) = item.parts_mut(response) else {
                continue;
            };
            *parts.analytics =
                self.payload(matched, item.mode(), item.kind(), parts.name, parts.index);
            if item.mode() == Mode::Prefetch {
                if let Some(state) = parts.state {
                    *state = Some(state_token());
                }
            }
            self.click_payloads(parts.metrics);
        }
    }
}

/// Makes an on-device answer look like the edge's: status 200, no `remoteMboxes` /
/// `remoteViews` (the SDKs' on-device bookkeeping). The engine, deciding for the edge
/// (`DecideOptions::edge`), already wrote the response tokens as the edge does.
pub fn as_the_edge_sends_it(response: &mut DeliveryResponse) {
    response.status = Some(200);
    response.extra.remove("remoteMboxes");
    response.extra.remove("remoteViews");
}

/// What a trace says of a mbox or view that only server-side activities decide.
pub const REMOTE_NOTE: &str = "decided on Target's servers only (an activity with audiences the artifact cannot evaluate): the emulator cannot decide server-side-only activities and answers it empty";

/// Adds [`REMOTE_NOTE`] to the trace of each remote mbox and view of the answer.
pub fn note_remote(response: &mut DeliveryResponse, mboxes: &[String], views: &[String]) {
    for item in decided_items(response) {
        let remote = match item.kind() {
            ItemKind::Mbox => mboxes,
            ItemKind::View => views,
            _ => continue,
        };
        let Some(parts) = item.parts_mut(response) else {
            continue;
        };
        if parts.name.is_some_and(|n| remote.iter().any(|r| r == n)) {
            let trace = parts.trace.get_or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(map) = trace {
                map.insert("mboxscopeNote".into(), Value::String(REMOTE_NOTE.into()));
            }
        }
    }
}
