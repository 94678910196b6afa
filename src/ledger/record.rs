//! Turning a prefetch/execute answer into the `response` event the linter reads.

use super::event::{Event, ResponseItem, ResponseRecord};
use crate::delivery::*;
use serde_json::Value;

/// A response token as text (a string as it is, another value as its JSON).
pub(crate) fn token_text(token: Option<Value>) -> Option<String> {
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
        let tnta = metric
            .analytics
            .as_ref()
            .and_then(|a| a.payload.as_ref())
            .and_then(|p| p.tnta.as_deref());
        out.push(click_item(location, metric.event_token.clone(), tnta));
    }
}

/// A click metric's item: its activity and experience are the first of its `tnta`.
pub(crate) fn click_item(
    location: &Location,
    token: Option<String>,
    tnta: Option<&str>,
) -> ResponseItem {
    let first = tnta.and_then(|t| tnta_entries(t).next());
    ResponseItem {
        location: location.clone(),
        token,
        kind: NotificationType::Click,
        activity: first.as_ref().map(|e| e.activity.to_string()),
        activity_name: None,
        experience: first.as_ref().map(|e| e.experience.to_string()),
        experience_name: None,
    }
}

/// The options and click metrics of every decided item of `response`, in its order.
pub fn response_items(response: &DeliveryResponse) -> Vec<ResponseItem> {
    let mut items = Vec::new();
    for item in decided_items(response) {
        let (location, parts) = (item.location(response), item.parts(response));
        option_items(&location, parts.options, &mut items);
        metric_items(&location, parts.metrics, &mut items);
    }
    items
}

/// The `response` event for the answer to `request` (made in `mode`, in session `session_id`).
pub fn response_event(
    mode: Mode,
    request: &DeliveryRequest,
    session_id: &str,
    response: &DeliveryResponse,
) -> Event {
    let answer = Answer {
        visitor: response.id.as_ref(),
        request_id: response.request_id.as_deref(),
        items: response_items(response),
    };
    page_view_event(mode, request, session_id, answer, false)
}

/// What a page view's event takes from its answer.
pub(crate) struct Answer<'a> {
    /// The visitor the answer names.
    pub visitor: Option<&'a VisitorId>,
    /// The answer's requestId.
    pub request_id: Option<&'a str>,
    pub items: Vec<ResponseItem>,
}

/// The `response` event of a page view: the request's details with what its answer decided;
/// `observed` when an application asked for it through the proxy.
pub(crate) fn page_view_event(
    mode: Mode,
    request: &DeliveryRequest,
    session_id: &str,
    answer: Answer,
    observed: bool,
) -> Event {
    let visitor = answer
        .visitor
        .or(request.id.as_ref())
        .cloned()
        .unwrap_or_default();
    let context = request.context.as_ref();
    Event::Response(Box::new(ResponseRecord {
        mode,
        visitor,
        session_id: session_id.to_string(),
        at: super::now_ms(),
        items: answer.items,
        user_agent: context.and_then(|c| c.user_agent.clone()),
        beacon: context.and_then(|c| c.beacon).unwrap_or(false),
        response: request
            .request_id
            .clone()
            .or_else(|| answer.request_id.map(str::to_string)),
        impression_id: request.impression_id.clone(),
        qa: request.qa_mode.is_some(),
        observed,
    }))
}
