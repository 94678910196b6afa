//! Exporting the session: HAR 1.2 (every request and response, with timings) and a JSON
//! session file; secrets masked unless revealed.

use super::secrets::mask_in_place;
use crate::client::TargetResponse;
use crate::ledger::Entry;
use serde_json::{json, Value};

fn headers(list: &[(String, String)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

fn body_json(bytes: &[u8], reveal: bool) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            if !reveal {
                mask_in_place(&mut v);
            }
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The HAR 1.2 document of the exchanges.
pub fn har(exchanges: &[TargetResponse], reveal: bool) -> Value {
    let entries: Vec<Value> = exchanges
        .iter()
        .map(|e| {
            let started = crate::decisioning::engine::iso8601(e.started_at_ms);
            let query: Vec<Value> = url::Url::parse(&e.request_url)
                .map(|u| u.query_pairs().map(|(k, v)| json!({"name": k, "value": v})).collect())
                .unwrap_or_default();
            let ms = e.duration.as_secs_f64() * 1000.0;
            json!({
                "startedDateTime": started,
                "time": ms,
                "request": {
                    "method": "POST", "url": e.request_url, "httpVersion": "HTTP/1.1",
                    "cookies": [], "headers": headers(&e.request_headers), "queryString": query,
                    "postData": {"mimeType": "application/json", "text": body_json(&e.request_body, reveal)},
                    "headersSize": -1, "bodySize": e.request_body.len(),
                },
                "response": {
                    "status": e.status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                    "headers": headers(&e.response_headers),
                    "content": {"size": e.response_body.len(), "mimeType": "application/json", "text": body_json(&e.response_body, reveal)},
                    "redirectURL": "", "headersSize": -1, "bodySize": e.response_body.len(),
                },
                "cache": {},
                "timings": {"send": 0, "wait": ms, "receive": 0},
            })
        })
        .collect();
    json!({"log": {"version": "1.2", "creator": {"name": "mboxscope", "version": env!("CARGO_PKG_VERSION")}, "entries": entries}})
}

/// The session file: exchanges (as the SDKs return them) and the ledger.
pub fn session(exchanges: &[TargetResponse], ledger: &[Entry], reveal: bool) -> Value {
    let calls: Vec<Value> = exchanges
        .iter()
        .map(|e| {
            let mut result = e.sdk_result();
            if !reveal {
                if let Some(request) = result.get_mut("request") {
                    mask_in_place(request);
                }
            }
            result
        })
        .collect();
    json!({"mboxscope": env!("CARGO_PKG_VERSION"), "calls": calls, "notifications": ledger})
}
