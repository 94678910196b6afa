//! Prepared fragments (option contents and response tokens serialized once per artifact load)
//! leave the output byte for byte what serde_json writes for the same response: every mbox and
//! view of the production and demo artifacts, on the light and heavy benchmark pages, through
//! `to_writer_compact`, `decide --jsonl`'s `WriteJson` and the emulator's answers.

use mboxscope::cli::decide::decide_one;
use mboxscope::decisioning::{Artifact, DecideOptions, Engine};
use mboxscope::delivery::wire::WriteJson;
use mboxscope::delivery::{to_writer_compact, DeliveryRequest, DeliveryResponse};
use mboxscope::emulator::{Emulator, DEMO_ARTIFACT};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

const PAGES: [&str; 2] = [
    "http://local-target-test/home?bar=true",
    "http://local-target-test/?a=1",
];
const CHROME_120: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn artifacts() -> Vec<(&'static str, Vec<u8>)> {
    let production = std::fs::read(format!(
        "{}/../shared/fixtures/artifacts/targettesting-production-rules.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the production artifact");
    vec![("production", production), ("demo", DEMO_ARTIFACT.to_vec())]
}

/// Requests that ask for every mbox and view of `artifact` and the page load, prefetched and
/// executed, on each page, for a few visitors (other allocations), with and without trace and geo.
fn requests(artifact: &Artifact) -> Vec<DeliveryRequest> {
    let mboxes: Vec<Value> = artifact
        .mboxes
        .keys()
        .enumerate()
        .map(|(i, name)| json!({"name": name, "index": i + 1, "parameters": {"foo": "bar"}}))
        .collect();
    let views: Vec<Value> = artifact
        .views
        .keys()
        .map(|name| json!({"name": name}))
        .chain([json!({})])
        .collect();
    let mut out = Vec::new();
    for page in PAGES {
        for visitor in 0..12 {
            let mut request = json!({
                "id": {"tntId": format!("visitor{visitor:08}"), "customerIds": [{"id": "c\u{e9}", "x": 1}]},
                "context": {"channel": "web", "userAgent": CHROME_120, "address": {"url": page}},
                "prefetch": {"mboxes": mboxes, "views": views, "pageLoad": {}},
                "execute": {"mboxes": mboxes, "pageLoad": {}},
            });
            if visitor % 3 == 1 {
                request["trace"] = json!({});
            }
            if visitor % 3 == 2 {
                request["context"]["geo"] =
                    json!({"city": "san francisco", "countryCode": "US", "stateCode": "CA"});
            }
            out.push(serde_json::from_value(request).expect("a DeliveryRequest"));
        }
    }
    out
}

fn options(client: &str, edge: bool) -> DecideOptions {
    DecideOptions {
        client: client.into(),
        now_ms: 1_613_761_200_000,
        session_id: Some("session".into()),
        geo: None,
        telemetry: false,
        prefetch_mbox_metrics: edge,
        qa: None,
        edge,
        extra_tokens: if edge {
            Map::from_iter([("profile.favorite".to_string(), json!("tea"))])
        } else {
            Map::new()
        },
    }
}

#[test]
fn decide_output_is_what_serde_json_writes_for_every_rule_of_both_artifacts() {
    let mut compared = 0;
    for (label, bytes) in artifacts() {
        let artifact = Arc::new(Artifact::from_json(&bytes).expect("the artifact loads"));
        let engine = Engine::new(artifact.clone(), label, 0, 0.0);
        let client = artifact.client_code().unwrap_or("client").to_string();
        for request in requests(&artifact) {
            for edge in [false, true] {
                let output = decide_one(&engine, &request, &options(&client, edge));
                let mut prepared = Vec::new();
                to_writer_compact(&mut prepared, &output).expect("written");
                let plain = serde_json::to_vec(&output).expect("written");
                assert_eq!(
                    String::from_utf8_lossy(&prepared),
                    String::from_utf8_lossy(&plain),
                    "{label}, edge {edge}"
                );
                // What `decide --jsonl` writes (WriteJson, names escaped at compile time).
                let mut line = Vec::new();
                output.write_json(&mut line).expect("written");
                assert_eq!(
                    String::from_utf8_lossy(&line),
                    String::from_utf8_lossy(&plain),
                    "{label}, edge {edge}"
                );
                let read: Value = serde_json::from_slice(&prepared).expect("JSON");
                assert_eq!(read, serde_json::to_value(&output).expect("a value"));
                compared += prepared.len();
            }
        }
    }
    assert!(compared > 1_000_000, "only {compared} bytes compared");
}

#[test]
fn emulator_answers_are_what_serde_json_writes_for_the_same_response() {
    for (label, bytes) in artifacts() {
        let emulator = Emulator::new(&bytes, None, label).expect("the emulator starts");
        let artifact = emulator.artifact();
        let query = HashMap::from([("sessionId".to_string(), "session".to_string())]);
        for mut request in requests(&artifact) {
            // The emulator counts execute; a client_side logging asks for A4T payloads too.
            request.experience_cloud =
                serde_json::from_value(json!({"analytics": {"logging": "client_side"}})).ok();
            let body = serde_json::to_vec(&request).expect("a body");
            let reply = emulator.delivery(&query, &body);
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let response: DeliveryResponse =
                serde_json::from_slice(&reply.body).expect("a DeliveryResponse");
            assert_eq!(
                String::from_utf8_lossy(&reply.body),
                String::from_utf8_lossy(&serde_json::to_vec(&response).expect("written")),
                "{label}"
            );
        }
    }
}
