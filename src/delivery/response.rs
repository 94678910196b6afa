//! `DeliveryResponse` and everything inside it.

use super::common::*;
use super::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body Target answers `POST /rest/v1/delivery` with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<VisitorId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute: Option<ExecuteResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<PrefetchResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<NotificationResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_server_token: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `execute` of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_load: Option<PageLoadResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mboxes: Option<Vec<MboxResponse>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `prefetch` of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrefetchResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<Vec<ViewResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_load: Option<PageLoadResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mboxes: Option<Vec<MboxResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A mbox's decision; a prefetched mbox also carries `state`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MboxResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<TargetOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics: Option<AnalyticsResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A prefetched view's decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<TargetOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics: Option<AnalyticsResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The page load's (global mbox's) decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageLoadResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<TargetOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics: Option<AnalyticsResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An option (offer): `type` html|json|redirect|dynamic|actions and its content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetOption {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub option_type: Option<String>,
    /// A string (html, redirect URL), an object (json) or a list of actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_tokens: Option<serde_json::Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A click or display metric with its event token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics: Option<AnalyticsResponse>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An acknowledged notification: its `id` came back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Target's error body: `{"status": 400, "message": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
