//! `DeliveryRequest` and everything inside it.

use super::common::*;
use super::notification::Notification;
use super::Extra;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// The body of `POST /rest/v1/delivery`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impression_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<VisitorId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<Property>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience_cloud: Option<ExperienceCloud>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute: Option<ExecuteRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<PrefetchRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Telemetry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<Notification>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qa_mode: Option<QaMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `property`: the at_property token of a premium account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `trace`: asks Target for trace objects; the token is a secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<serde_json::Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context`: where and on what the visitor is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_platform: Option<MobilePlatform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<Screen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<Browser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_offset_in_minutes: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_hints: Option<ClientHints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beacon: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context.mobilePlatform`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MobilePlatform {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context.application`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context.screen`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Screen {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_depth: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixel_ratio: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context.window`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Number>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context.browser`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Browser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(
        rename = "webGLRenderer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub web_gl_renderer: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context.geo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Geo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `context.clientHints` (User-Agent Client Hints).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientHints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_u_a_with_major_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_u_a_with_full_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitness: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `experienceCloud`: Audience Manager and Analytics integration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperienceCloud {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_manager: Option<AudienceManager>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics: Option<AnalyticsRequest>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `experienceCloud.audienceManager`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudienceManager {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_hint: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `experienceCloud.analytics`: `logging` is `server_side` or `client_side`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplemental_data_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_server_secure: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A mbox to execute or prefetch; `index` is the correlation key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MboxRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub details: RequestDetails,
}

/// A view to prefetch; an empty `{}` asks for every view.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(flatten)]
    pub details: RequestDetails,
}

/// `execute`: decided and counted at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_load: Option<RequestDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mboxes: Option<Vec<MboxRequest>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `prefetch`: decided now, counted when notified.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrefetchRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<Vec<ViewRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_load: Option<RequestDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mboxes: Option<Vec<MboxRequest>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `telemetry`: SDK timing entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Telemetry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<TelemetryEntry>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One telemetry entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsing: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry_server_token: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `qaMode`: QA/preview of activities; the token is a secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QaMode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_activities_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_as_true_audience_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_as_false_audience_ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_indexes: Option<Vec<PreviewIndex>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One `qaMode.previewIndexes` entry (1-based).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewIndex {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_index: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience_index: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `preview`: the VEC preview token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
