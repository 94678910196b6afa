//! Display and click notifications.

use super::common::*;
use super::wire::wire_struct;
use serde::{Deserialize, Serialize};

/// One notification: required `id`, `type` (display|click), `timestamp` (ms).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impression_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub notification_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbox: Option<NotificationMbox>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<NotificationView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_load: Option<NotificationPageLoad>,
    #[serde(flatten)]
    pub details: RequestDetails,
}

wire_struct! {
    /// `notification.mbox`: the mbox name and its prefetch `state`.
    pub struct NotificationMbox {
        "name" => pub name: String,
        "state" => pub state: String,
    }
}

wire_struct! {
    /// `notification.view`: the view name, key and `state`.
    pub struct NotificationView {
        "name" => pub name: String,
        "key" => pub key: String,
        "state" => pub state: String,
    }
}

wire_struct! {
    /// `notification.pageLoad`: the page load `state`.
    pub struct NotificationPageLoad {
        "state" => pub state: String,
    }
}
