//! Objects shared by requests, responses and notifications.

use super::Extra;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// `address`: the page URL and its referrer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referring_url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `id`: the visitor's identifiers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitorId {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tnt_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_cloud_visitor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ids: Option<Vec<CustomerId>>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl VisitorId {
    /// The id a report counts visitors by: tntId (without location hint), else mcid, else thirdPartyId.
    pub fn visitor_key(&self) -> Option<String> {
        if let Some(tnt) = self.tnt_id.as_deref().filter(|s| !s.is_empty()) {
            return Some(tnt.split('.').next().unwrap_or(tnt).to_string());
        }
        self.marketing_cloud_visitor_id
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| self.third_party_id.clone().filter(|s| !s.is_empty()))
    }
}

/// A customer id with its integration code and authenticated state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerId {
    pub id: String,
    pub integration_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated_state: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `order` details of a mbox or notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchased_product_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience_local_id: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `product` details of a mbox or notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Mbox or profile parameters: names to (string) values, in the order given.
pub type Parameters = serde_json::Map<String, Value>;

/// The details shared by mbox, view and pageLoad requests and by notifications.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_parameters: Option<Parameters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Product>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `analytics` of a response item: the A4T payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<AnalyticsPayload>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `analytics.payload`: `pe` ("tnt") and `tnta` (activity:experience:traffic|event, comma-joined).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tnta: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A free-form trace object as Target returns it.
pub type Trace = Value;
