//! Display and click notifications.

use super::common::*;
use super::wire::wire_struct;

wire_struct! {
    /// One notification: required `id`, `type` (display|click), `timestamp` (ms).
    pub struct Notification {
        "id" => pub id: String,
        "impressionId" => pub impression_id: String,
        "type" => pub notification_type: String,
        "timestamp" => pub timestamp: i64,
        "tokens" => pub tokens: Vec<String>,
        "mbox" => pub mbox: NotificationMbox,
        "view" => pub view: NotificationView,
        "pageLoad" => pub page_load: NotificationPageLoad,
        ..details: RequestDetails
    }
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
