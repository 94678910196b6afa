//! `DeliveryResponse` and everything inside it.

use super::common::*;
use super::wire::wire_struct;

use serde_json::Value;

wire_struct! {
    /// The body Target answers `POST /rest/v1/delivery` with.
    pub struct DeliveryResponse {
        "status" => pub status: i64,
        "requestId" => pub request_id: String,
        "id" => pub id: VisitorId,
        "client" => pub client: String,
        "edgeHost" => pub edge_host: String,
        "execute" => pub execute: ExecuteResponse,
        "prefetch" => pub prefetch: PrefetchResponse,
        "notifications" => pub notifications: Vec<NotificationResponse>,
        "telemetryServerToken" => pub telemetry_server_token: String,
    }
}

wire_struct! {
    /// `execute` of a response.
    pub struct ExecuteResponse {
        "pageLoad" => pub page_load: PageLoadResponse,
        "mboxes" => pub mboxes: Vec<MboxResponse>,
    }
}

wire_struct! {
    /// `prefetch` of a response.
    pub struct PrefetchResponse {
        "views" => pub views: Vec<ViewResponse>,
        "pageLoad" => pub page_load: PageLoadResponse,
        "mboxes" => pub mboxes: Vec<MboxResponse>,
        "metrics" => pub metrics: Vec<Metric>,
    }
}

wire_struct! {
    /// A mbox's decision; a prefetched mbox also carries `state`.
    pub struct MboxResponse {
        "index" => pub index: i64,
        "name" => pub name: String,
        "options" => pub options: Vec<TargetOption>,
        "metrics" => pub metrics: Vec<Metric>,
        "analytics" => pub analytics: AnalyticsResponse,
        "state" => pub state: String,
        "trace" => pub trace: Trace,
    }
}

wire_struct! {
    /// A prefetched view's decision.
    pub struct ViewResponse {
        "name" => pub name: String,
        "key" => pub key: String,
        "id" => pub id: Value,
        "options" => pub options: Vec<TargetOption>,
        "metrics" => pub metrics: Vec<Metric>,
        "analytics" => pub analytics: AnalyticsResponse,
        "state" => pub state: String,
        "trace" => pub trace: Trace,
    }
}

wire_struct! {
    /// The page load's (global mbox's) decision.
    pub struct PageLoadResponse {
        "options" => pub options: Vec<TargetOption>,
        "metrics" => pub metrics: Vec<Metric>,
        "analytics" => pub analytics: AnalyticsResponse,
        "state" => pub state: String,
        "trace" => pub trace: Trace,
    }
}

wire_struct! {
    /// An option (offer): `type` html|json|redirect|dynamic|actions and its content.
    pub struct TargetOption {
        "type" => pub option_type: String,
        /// A string (html, redirect URL), an object (json) or a list of actions.
        "content" => pub content: Value,
        "eventToken" => pub event_token: String,
        /// Shared: every option of a rule carries the same tokens.
        "responseTokens" => pub response_tokens: std::sync::Arc<serde_json::Map<String, Value>>,
    }
}

wire_struct! {
    /// A click or display metric with its event token.
    pub struct Metric {
        "type" => pub metric_type: String,
        "selector" => pub selector: String,
        "eventToken" => pub event_token: String,
        "analytics" => pub analytics: AnalyticsResponse,
    }
}

wire_struct! {
    /// An acknowledged notification: its `id` came back.
    pub struct NotificationResponse {
        "id" => pub id: String,
        "trace" => pub trace: Trace,
    }
}

wire_struct! {
    /// Target's error body: `{"status": 400, "message": "..."}`.
    pub struct ErrorResponse {
        "status" => pub status: i64,
        "message" => pub message: String,
    }
}
