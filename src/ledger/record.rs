//! Turning a prefetch/execute answer into the `response` event the linter reads.

use super::event::{Event, ResponseItem, ResponseRecord};
use crate::delivery::*;
use serde_json::Value;

/// A response token as text (a string as it is, another value as its JSON).
fn token_text(token: Option<Value>) -> Option<String> {
    token.map(|v| match v {
        Value::String(s) => s,
        other => other.to_string(),
    })
}

fn option_items(
    location: &Location,
    options: Option<&Vec<TargetOption>>,
    out: &mut Vec<ResponseItem>,
) {
    for option in options.into_iter().flatten() {
        // The four tokens the ledger keeps, read in one pass (the others are never parsed).
        let [activity, activity_name, experience, experience_name] = option
            .response_tokens
            .as_ref()
            .map_or_else(Default::default, |t| {
                t.fields([
                    "activity.id",
                    "activity.name",
                    "experience.id",
                    "experience.name",
                ])
            });
        out.push(ResponseItem {
            location: location.clone(),
            token: option.event_token.clone(),
            kind: NotificationType::Display,
            activity: token_text(activity),
            activity_name: token_text(activity_name),
            experience: token_text(experience),
            experience_name: token_text(experience_name),
        });
    }
}

fn metric_items(location: &Location, metrics: Option<&Vec<Metric>>, out: &mut Vec<ResponseItem>) {
    for metric in metrics
        .into_iter()
        .flatten()
        .filter(|m| m.metric_type.as_deref() == Some("click"))
    {
        let first = metric
            .analytics
            .as_ref()
            .and_then(|a| a.payload.as_ref())
            .and_then(|p| p.tnta.as_deref())
            .and_then(|t| tnta_entries(t).next());
        let activity = first.as_ref().map(|e| e.activity.to_string());
        let experience = first.as_ref().map(|e| e.experience.to_string());
        out.push(ResponseItem {
            location: location.clone(),
            token: metric.event_token.clone(),
            kind: NotificationType::Click,
            activity,
            activity_name: None,
            experience,
            experience_name: None,
        });
    }
}

/// The `response` event for the answer to `request` (made in `mode`, in session `session_id`).
pub fn response_event(
    mode: Mode,
    request: &DeliveryRequest,
    session_id: &str,
    response: &DeliveryResponse,
) -> Event {
    let visitor = response
        .id
        .clone()
        .or_else(|| request.id.clone())
        .unwrap_or_default();
    let context = request.context.as_ref();
    let mut items = Vec::new();
    for item in decided_items(response) {
        let (location, parts) = (item.location(response), item.parts(response));
        option_items(&location, parts.options, &mut items);
        metric_items(&location, parts.metrics, &mut items);
    }
    Event::Response(Box::new(ResponseRecord {
        mode,
        visitor,
        session_id: session_id.to_string(),
        at: super::now_ms(),
        items,
        user_agent: context.and_then(|c| c.user_agent.clone()),
        beacon: context.and_then(|c| c.beacon).unwrap_or(false),
        response: request
            .request_id
            .clone()
            .or_else(|| response.request_id.clone()),
        impression_id: request.impression_id.clone(),
        qa: request.qa_mode.is_some(),
    }))
}
