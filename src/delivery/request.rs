//! `DeliveryRequest` and everything inside it.

use super::common::*;
use super::notification::Notification;
use super::wire::wire_struct;
use serde_json::{Number, Value};

wire_struct! {
    /// The body of `POST /rest/v1/delivery`.
    pub struct DeliveryRequest {
        "requestId" => pub request_id: String,
        "impressionId" => pub impression_id: String,
        "id" => pub id: VisitorId,
        "environmentId" => pub environment_id: i64,
        "property" => pub property: Property,
        "trace" => pub trace: TraceRequest,
        "context" => pub context: Context,
        "experienceCloud" => pub experience_cloud: ExperienceCloud,
        "execute" => pub execute: ExecuteRequest,
        "prefetch" => pub prefetch: PrefetchRequest,
        "telemetry" => pub telemetry: Telemetry,
        "notifications" => pub notifications: Vec<Notification>,
        "qaMode" => pub qa_mode: QaMode,
        "preview" => pub preview: Preview,
    }
}

wire_struct! {
    /// `property`: the at_property token of a premium account.
    pub struct Property {
        "token" => pub token: String,
    }
}

wire_struct! {
    /// `trace`: asks Target for trace objects; the token is a secret.
    pub struct TraceRequest {
        "authorizationToken" => pub authorization_token: String,
        "usage" => pub usage: serde_json::Map<String, Value>,
    }
}

wire_struct! {
    /// `context`: where and on what the visitor is.
    pub struct Context {
        "channel" => pub channel: String,
        "mobilePlatform" => pub mobile_platform: MobilePlatform,
        "application" => pub application: Application,
        "screen" => pub screen: Screen,
        "window" => pub window: Window,
        "browser" => pub browser: Browser,
        "address" => pub address: Address,
        "geo" => pub geo: Geo,
        "timeOffsetInMinutes" => pub time_offset_in_minutes: Number,
        "userAgent" => pub user_agent: String,
        "clientHints" => pub client_hints: ClientHints,
        "beacon" => pub beacon: bool,
    }
}

wire_struct! {
    /// `context.mobilePlatform`.
    pub struct MobilePlatform {
        "deviceName" => pub device_name: String,
        "deviceType" => pub device_type: String,
        "platformType" => pub platform_type: String,
        "version" => pub version: String,
    }
}

wire_struct! {
    /// `context.application`.
    pub struct Application {
        "id" => pub id: String,
        "name" => pub name: String,
        "version" => pub version: String,
    }
}

wire_struct! {
    /// `context.screen`.
    pub struct Screen {
        "width" => pub width: Number,
        "height" => pub height: Number,
        "colorDepth" => pub color_depth: Number,
        "pixelRatio" => pub pixel_ratio: Number,
        "orientation" => pub orientation: String,
    }
}

wire_struct! {
    /// `context.window`.
    pub struct Window {
        "width" => pub width: Number,
        "height" => pub height: Number,
    }
}

wire_struct! {
    /// `context.browser`.
    pub struct Browser {
        "host" => pub host: String,
        "language" => pub language: String,
        "webGLRenderer" => pub web_gl_renderer: String,
    }
}

wire_struct! {
    /// `context.geo`.
    pub struct Geo {
        "ipAddress" => pub ip_address: String,
        "latitude" => pub latitude: Number,
        "longitude" => pub longitude: Number,
        "countryCode" => pub country_code: String,
        "stateCode" => pub state_code: String,
        "city" => pub city: String,
        "zip" => pub zip: String,
    }
}

wire_struct! {
    /// `context.clientHints` (User-Agent Client Hints).
    pub struct ClientHints {
        "mobile" => pub mobile: bool,
        "model" => pub model: String,
        "platform" => pub platform: String,
        "platformVersion" => pub platform_version: String,
        "browserUAWithMajorVersion" => pub browser_u_a_with_major_version: String,
        "browserUAWithFullVersion" => pub browser_u_a_with_full_version: String,
        "architecture" => pub architecture: String,
        "bitness" => pub bitness: String,
    }
}

wire_struct! {
    /// `experienceCloud`: Audience Manager and Analytics integration.
    pub struct ExperienceCloud {
        "audienceManager" => pub audience_manager: AudienceManager,
        "analytics" => pub analytics: AnalyticsRequest,
    }
}

wire_struct! {
    /// `experienceCloud.audienceManager`.
    pub struct AudienceManager {
        "locationHint" => pub location_hint: i64,
        "blob" => pub blob: String,
    }
}

wire_struct! {
    /// `experienceCloud.analytics`: `logging` is `server_side` or `client_side`.
    pub struct AnalyticsRequest {
        "supplementalDataId" => pub supplemental_data_id: String,
        "logging" => pub logging: String,
        "trackingServer" => pub tracking_server: String,
        "trackingServerSecure" => pub tracking_server_secure: String,
    }
}

wire_struct! {
    /// A mbox to execute or prefetch; `index` is the correlation key.
    pub struct MboxRequest {
        "index" => pub index: i64,
        "name" => pub name: String,
        ..details: RequestDetails
    }
}

wire_struct! {
    /// A view to prefetch; an empty `{}` asks for every view.
    pub struct ViewRequest {
        "name" => pub name: String,
        "key" => pub key: String,
        ..details: RequestDetails
    }
}

wire_struct! {
    /// `execute`: decided and counted at once.
    pub struct ExecuteRequest {
        "pageLoad" => pub page_load: RequestDetails,
        "mboxes" => pub mboxes: Vec<MboxRequest>,
    }
}

wire_struct! {
    /// `prefetch`: decided now, counted when notified.
    pub struct PrefetchRequest {
        "views" => pub views: Vec<ViewRequest>,
        "pageLoad" => pub page_load: RequestDetails,
        "mboxes" => pub mboxes: Vec<MboxRequest>,
    }
}

wire_struct! {
    /// `telemetry`: SDK timing entries.
    pub struct Telemetry {
        "entries" => pub entries: Vec<TelemetryEntry>,
    }
}

wire_struct! {
    /// One telemetry entry.
    pub struct TelemetryEntry {
        "requestId" => pub request_id: String,
        "timestamp" => pub timestamp: i64,
        "mode" => pub mode: String,
        "execution" => pub execution: Number,
        "parsing" => pub parsing: Number,
        "features" => pub features: Value,
        "request" => pub request: Value,
        "telemetryServerToken" => pub telemetry_server_token: String,
    }
}

wire_struct! {
    /// `qaMode`: QA/preview of activities; the token is a secret.
    pub struct QaMode {
        "token" => pub token: String,
        "listedActivitiesOnly" => pub listed_activities_only: bool,
        "evaluateAsTrueAudienceIds" => pub evaluate_as_true_audience_ids: Vec<i64>,
        "evaluateAsFalseAudienceIds" => pub evaluate_as_false_audience_ids: Vec<i64>,
        "previewIndexes" => pub preview_indexes: Vec<PreviewIndex>,
    }
}

wire_struct! {
    /// One `qaMode.previewIndexes` entry (1-based).
    pub struct PreviewIndex {
        "activityIndex" => pub activity_index: i64,
        "experienceIndex" => pub experience_index: i64,
    }
}

wire_struct! {
    /// `preview`: the VEC preview token.
    pub struct Preview {
        "token" => pub token: String,
    }
}
