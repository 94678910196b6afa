//! The SDK telemetry an on-device decision reports with its notifications.

use super::Engine;
use crate::clock::now_ms;
use crate::delivery::{DeliveryRequest, TelemetryEntry};
use serde_json::{json, Map, Value};
use std::time::Instant;

impl Engine {
    /// The telemetry an SDK sends with its notifications for this decision (and, once, the
    /// artifact's load).
    pub(super) fn telemetry_entries(
        &self,
        request: &DeliveryRequest,
        started: Instant,
    ) -> Vec<TelemetryEntry> {
        let mut entries: Vec<TelemetryEntry> = self
            .artifact_telemetry
            .lock()
            .map(|mut e| e.take())
            .unwrap_or(None)
            .into_iter()
            .collect();
        let count = |v: Option<usize>| v.filter(|n| *n > 0).map(|n| json!(n));
        let mut features = Map::new();
        features.insert("decisioningMethod".into(), json!("on-device"));
        let execute = request.execute.as_ref();
        let prefetch = request.prefetch.as_ref();
        for (key, value) in [
            (
                "executeMboxCount",
                count(execute.and_then(|e| e.mboxes.as_ref()).map(Vec::len)),
            ),
            (
                "executePageLoad",
                execute
                    .and_then(|e| e.page_load.as_ref())
                    .map(|_| json!(true)),
            ),
            (
                "prefetchMboxCount",
                count(prefetch.and_then(|p| p.mboxes.as_ref()).map(Vec::len)),
            ),
            (
                "prefetchPageLoad",
                prefetch
                    .and_then(|p| p.page_load.as_ref())
                    .map(|_| json!(true)),
            ),
            (
                "prefetchViewCount",
                count(prefetch.and_then(|p| p.views.as_ref()).map(Vec::len)),
            ),
        ] {
            if let Some(v) = value {
                features.insert(key.into(), v);
            }
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        entries.push(TelemetryEntry {
            request_id: Some(
                request
                    .request_id
                    .clone()
                    .unwrap_or_else(crate::ids::uuid_string),
            ),
            timestamp: Some(now_ms()),
            mode: Some("local".into()),
            execution: serde_json::Number::from_f64(ms),
            parsing: serde_json::Number::from_f64(0.0),
            features: Some(Value::Object(features)),
            ..Default::default()
        });
        entries
    }
}
