//! The events a journal records.

use crate::delivery::{Context, Location, Mode, NotificationType, VisitorId};
use serde::{Deserialize, Serialize};

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// A notification was queued; its ids are fixed from here on.
    #[serde(rename_all = "camelCase")]
    Queued {
        #[serde(flatten)]
        notification: Box<QueuedNotification>,
        /// The at_property token the page view was requested with (sent again, as SDKs do).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        property_token: Option<String>,
    },
    /// A request carrying the notification is about to go out.
    #[serde(rename_all = "camelCase")]
    Sent { id: String, attempt: u32, at: i64 },
    /// Target echoed the notification's id.
    #[serde(rename_all = "camelCase")]
    Acked { id: String, at: i64 },
    /// The request failed; `retryable` failures stay pending.
    #[serde(rename_all = "camelCase")]
    Failed {
        id: String,
        reason: String,
        retryable: bool,
        at: i64,
    },
    /// A prefetch or execute answer, kept for the linter and the expected counts.
    Response(Box<ResponseRecord>),
}

/// A queued notification as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedNotification {
    pub id: String,
    /// None sends the notification without one (as some integrations do): every accepted
    /// copy then counts.
    pub impression_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub timestamp: i64,
    pub visitor: VisitorId,
    pub session_id: String,
    pub location: Location,
    pub tokens: Vec<String>,
    /// When it was queued.
    pub at: i64,
    /// The request context of the page view it is about (user agent, page URL, geo…), sent
    /// with the notification as an SDK would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The requestId of the response its tokens came from (the page view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// An application sent it through `mboxscope proxy`: observed, never sent by mboxscope.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub observed: bool,
}

/// A recorded prefetch or execute answer: one page view of one visitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseRecord {
    pub mode: Mode,
    pub visitor: VisitorId,
    pub session_id: String,
    pub at: i64,
    pub items: Vec<ResponseItem>,
    /// The request's `context.userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The request's `context.beacon`.
    #[serde(default)]
    pub beacon: bool,
    /// The requestId (names the page view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The request's impressionId (an execute retried with it counts once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impression_id: Option<String>,
    /// The request was in Activity QA (its session's traffic is counted apart).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub qa: bool,
}

/// One option (or click metric) of a recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseItem {
    pub location: Location,
    /// The option's eventToken (display) or the metric's (click); none for execute.
    pub token: Option<String>,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub activity: Option<String>,
    pub activity_name: Option<String>,
    pub experience: Option<String>,
    pub experience_name: Option<String>,
}
