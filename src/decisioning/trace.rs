//! On-device trace objects (`trace` on each mbox/view/pageLoad when the request asks for it),
//! in the shape of Adobe's SDKs (`TEST_SUITE_TRACE`).

use super::artifact::Rule;
use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// What every trace of one request shares.
#[derive(Debug, Clone)]
pub struct TraceFrame {
    pub client_code: String,
    pub artifact: Value,
    pub profile: Value,
    pub session_id: Option<String>,
}

struct Campaign {
    fields: Map<String, Value>,
    notifications: Option<Vec<Value>>,
}

struct Target {
    context: Value,
    campaign_id: Value,
    campaign_type: Value,
    matched_segments: BTreeSet<i64>,
    unmatched_segments: BTreeSet<i64>,
    matched_conditions: Vec<Value>,
    unmatched_conditions: Vec<Value>,
}

/// Collects what happened while one mode (execute or prefetch) was decided.
pub struct RequestTracer<'f> {
    frame: &'f TraceFrame,
    environment: Value,
    request: Map<String, Value>,
    campaigns: IndexMap<String, Campaign>,
    targets: IndexMap<String, Target>,
}

impl<'f> RequestTracer<'f> {
    /// A tracer for one mode of one request.
    pub fn new(frame: &'f TraceFrame, environment: Option<&str>) -> Self {
        RequestTracer {
            frame,
            environment: environment
                .map(|e| Value::String(e.into()))
                .unwrap_or(Value::Null),
            request: Map::new(),
            campaigns: IndexMap::new(),
            targets: IndexMap::new(),
        }
    }

    /// Records which mbox/view/pageLoad is being decided.
    pub fn trace_request(&mut self, mode: &str, request_type: &str, details: &Value, page: &Value) {
        let mut details = details.as_object().cloned().unwrap_or_default();
        details.insert("type".into(), Value::String(mode.into()));
        self.request = Map::new();
        self.request.insert(
            "pageURL".into(),
            page.get("url").cloned().unwrap_or(Value::Null),
        );
        self.request.insert(
            "host".into(),
            page.get("domain").cloned().unwrap_or(Value::Null),
        );
        self.request
            .insert(request_type.into(), Value::Object(details));
    }

    /// Records one rule evaluation (`context` is built only when tracing).
    pub fn trace_rule(&mut self, rule: &Rule, context: impl FnOnce() -> Value, satisfied: bool) {
        let meta = &rule.meta;
        let activity = rule.activity_id.clone();
        if satisfied && !self.campaigns.contains_key(&activity) {
            let mut fields = Map::new();
            fields.insert(
                "id".into(),
                meta.get("activity.id").cloned().unwrap_or(Value::Null),
            );
            fields.insert(
                "campaignType".into(),
                meta.get("activity.type").cloned().unwrap_or(Value::Null),
            );
            fields.insert(
                "branchId".into(),
                meta.get("experience.id").cloned().unwrap_or(Value::Null),
            );
            let offers = meta
                .get("offer.id")
                .filter(|v| !v.is_null())
                .map(|v| vec![v.clone()])
                .unwrap_or_default();
            fields.insert("offers".into(), Value::Array(offers));
            fields.insert("environment".into(), self.environment.clone());
            self.campaigns.insert(
                activity.clone(),
                Campaign {
                    fields,
                    notifications: None,
                },
            );
        }
        let target = self.targets.entry(activity).or_insert_with(|| Target {
            context: context(),
            campaign_id: meta.get("activity.id").cloned().unwrap_or(Value::Null),
            campaign_type: meta.get("activity.type").cloned().unwrap_or(Value::Null),
            matched_segments: BTreeSet::new(),
            unmatched_segments: BTreeSet::new(),
            matched_conditions: Vec::new(),
            unmatched_conditions: Vec::new(),
        });
        let audiences = meta
            .get("audience.ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64);
        if satisfied {
            target.matched_segments.extend(audiences);
            target.matched_conditions.push(rule.condition_json.clone());
        } else {
            target.unmatched_segments.extend(audiences);
            target
                .unmatched_conditions
                .push(rule.condition_json.clone());
        }
    }

    /// Records a notification the engine will send for the rule's activity.
    pub fn trace_notification(&mut self, rule: &Rule, notification: Value) {
        if let Some(c) = self.campaigns.get_mut(&rule.activity_id) {
            c.notifications
                .get_or_insert_with(Vec::new)
                .push(notification);
        }
    }

    /// The trace object as it stands now.
    pub fn result(&self) -> Value {
        let campaigns: Vec<Value> = self
            .campaigns
            .values()
            .map(|c| {
                let mut fields = c.fields.clone();
                if let Some(n) = &c.notifications {
                    fields.insert("notifications".into(), Value::Array(n.clone()));
                }
                Value::Object(fields)
            })
            .collect();
        let targets: Vec<Value> = self
            .targets
            .values()
            .map(|t| {
                json!({
                    "context": t.context,
                    "campaignId": t.campaign_id,
                    "campaignType": t.campaign_type,
                    "matchedSegmentIds": t.matched_segments.iter().collect::<Vec<_>>(),
                    "unmatchedSegmentIds": t.unmatched_segments.iter().collect::<Vec<_>>(),
                    "matchedRuleConditions": t.matched_conditions,
                    "unmatchedRuleConditions": t.unmatched_conditions,
                })
            })
            .collect();
        let mut request = Map::new();
        if let Some(session) = &self.frame.session_id {
            request.insert("sessionId".into(), Value::String(session.clone()));
        }
        request.extend(self.request.clone());
        json!({
            "clientCode": self.frame.client_code,
            "artifact": self.frame.artifact,
            "profile": self.frame.profile,
            "request": request,
            "campaigns": campaigns,
            "evaluatedCampaignTargets": targets,
        })
    }
}
