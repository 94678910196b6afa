//! `DeliveryResponse` and everything inside it.

use super::common::*;
use super::prepared::Prepared;
use super::wire::{from_json, wire_struct};

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
        "content" => pub content: Prepared<Value>,
        "eventToken" => pub event_token: String,
        /// Shared: every option of a rule carries the same tokens.
        "responseTokens" => pub response_tokens: Prepared<serde_json::Map<String, Value>>,
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

impl DeliveryResponse {
    /// Reads a response body as `serde_json::from_slice` does ([`from_json`]).
    pub fn from_json(body: &[u8]) -> serde_json::Result<Self> {
        from_json(body)
    }

    /// Every list of options in the response (execute and prefetch mboxes, views, pageLoad).
    fn option_lists_mut(&mut self) -> impl Iterator<Item = &mut Vec<TargetOption>> {
        let (executed, executed_page) = match self.execute.as_mut() {
            Some(e) => (e.mboxes.as_mut(), e.page_load.as_mut()),
            None => (None, None),
        };
        let (prefetched, views, prefetched_page) = match self.prefetch.as_mut() {
            Some(p) => (p.mboxes.as_mut(), p.views.as_mut(), p.page_load.as_mut()),
            None => (None, None, None),
        };
        let mboxes = executed.into_iter().chain(prefetched).flatten();
        let pages = executed_page.into_iter().chain(prefetched_page);
        mboxes
            .filter_map(|m| m.options.as_mut())
            .chain(
                views
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.options.as_mut()),
            )
            .chain(pages.filter_map(|p| p.options.as_mut()))
    }

    /// Lets options of one item that carry equal response tokens share one map (the options
    /// of a rule always do): a response of thousands of options then holds half the maps.
    pub fn share_response_tokens(&mut self) {
        for options in self.option_lists_mut() {
            let mut previous: Option<Prepared<serde_json::Map<String, Value>>> = None;
            for option in options.iter_mut() {
                match (&option.response_tokens, &previous) {
                    (Some(tokens), Some(shared)) if tokens == shared => {
                        option.response_tokens = Some(shared.clone());
                    }
                    (tokens, _) => previous = tokens.clone(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_options_with_equal_tokens_share_one_map() {
        let mut response: DeliveryResponse = serde_json::from_value(serde_json::json!({
            "prefetch": {"mboxes": [{"name": "a", "options": [
                {"type": "html", "responseTokens": {"activity.id": 1}},
                {"type": "json", "responseTokens": {"activity.id": 1}},
                {"type": "json", "responseTokens": {"activity.id": 2}}
            ]}]}
        }))
        .unwrap();
        let before = serde_json::to_value(&response).unwrap();
        response.share_response_tokens();
        assert_eq!(serde_json::to_value(&response).unwrap(), before);
        let options = response.option_lists_mut().next().unwrap();
        let tokens: Vec<_> = options
            .iter()
            .map(|o| o.response_tokens.clone().unwrap())
            .collect();
        assert!(Prepared::ptr_eq(&tokens[0], &tokens[1]));
        assert!(!Prepared::ptr_eq(&tokens[1], &tokens[2]));
    }

    #[test]
    fn a_body_reads_as_from_slice_reads_it_with_the_same_errors() {
        let bodies: [&[u8]; 5] = [
            br#"{"status":200,"prefetch":{"mboxes":[{"name":"m","options":[{"type":"html","content":"<b>\u00e9</b>"}]}]}}"#,
            "{\"client\":\"caf\u{e9}\"}".as_bytes(),
            b"{\"client\":\"caf\xe9\"}",
            b"{\"client\": 5}",
            b"{\"client\":\"a\"",
        ];
        for body in bodies {
            let ours = DeliveryResponse::from_json(body).map_err(|e| e.to_string());
            let slice = serde_json::from_slice::<DeliveryResponse>(body).map_err(|e| e.to_string());
            assert_eq!(ours, slice, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn numbers_read_exactly_and_survive_a_write_and_read() {
        // Found by fuzzing: 4.5e300 read as 4.500000000000001e300, and that changed again
        // on every write and read (a journal's responses drifted).
        let text = r#"{"prefetch":{"mboxes":[{"name":"m","options":[{"type":"json","content":{"a":4.5e300}}]}]}}"#;
        let response: DeliveryResponse = serde_json::from_str(text).unwrap();
        let written = serde_json::to_string(&response).unwrap();
        let read: Value = serde_json::from_str(&written).unwrap();
        let number = &read["prefetch"]["mboxes"][0]["options"][0]["content"]["a"];
        assert_eq!(number.as_f64(), Some(4.5e300), "{written}");
        let again: DeliveryResponse = serde_json::from_str(&written).unwrap();
        assert_eq!(again, response);
    }
}
