//! Objects shared by requests, responses and notifications.

use super::wire::wire_struct;

use serde_json::{Number, Value};

wire_struct! {
    /// `address`: the page URL and its referrer.
    pub struct Address {
        "url" => pub url: String,
        "referringUrl" => pub referring_url: String,
    }
}

wire_struct! {
    /// `id`: the visitor's identifiers.
    pub struct VisitorId {
        "tntId" => pub tnt_id: String,
        "thirdPartyId" => pub third_party_id: String,
        "marketingCloudVisitorId" => pub marketing_cloud_visitor_id: String,
        "customerIds" => pub customer_ids: Vec<CustomerId>,
    }
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

wire_struct! {
    /// A customer id with its integration code and authenticated state.
    pub struct CustomerId {
        "id" => pub id: String,
        "integrationCode" => pub integration_code: String,
        "authenticatedState" => pub authenticated_state: String,
    }
}

wire_struct! {
    /// `order` details of a mbox or notification.
    pub struct Order {
        "id" => pub id: String,
        "total" => pub total: Number,
        "purchasedProductIds" => pub purchased_product_ids: Vec<String>,
        "time" => pub time: String,
        "experienceLocalId" => pub experience_local_id: i64,
    }
}

wire_struct! {
    /// `product` details of a mbox or notification.
    pub struct Product {
        "id" => pub id: String,
        "categoryId" => pub category_id: String,
    }
}

/// Mbox or profile parameters: names to (string) values, in the order given.
pub type Parameters = serde_json::Map<String, Value>;

wire_struct! {
    /// The details shared by mbox, view and pageLoad requests and by notifications.
    pub struct RequestDetails {
        "address" => pub address: Address,
        "parameters" => pub parameters: Parameters,
        "profileParameters" => pub profile_parameters: Parameters,
        "order" => pub order: Order,
        "product" => pub product: Product,
    }
}

wire_struct! {
    /// `analytics` of a response item: the A4T payload.
    pub struct AnalyticsResponse {
        "payload" => pub payload: AnalyticsPayload,
    }
}

wire_struct! {
    /// `analytics.payload`: `pe` ("tnt") and `tnta` (activity:experience:traffic|event, comma-joined).
    pub struct AnalyticsPayload {
        "pe" => pub pe: String,
        "tnta" => pub tnta: String,
    }
}

/// A free-form trace object as Target returns it.
pub type Trace = Value;
