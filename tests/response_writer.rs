//! The emulator's response writer (`WriteJson`: field names escaped at compile time, prepared
//! parts as stored bytes) writes byte for byte what `serde_json::to_vec` writes: for every case
//! of Adobe's cross-SDK decisioning suites (decided, on device and as the edge, and their
//! expected outputs), every kind of response object with unknown fields, and arbitrary
//! strings. Every mbox and view of the production and demo artifacts: tests/prepared_output.rs.

use mboxscope::decisioning::{Artifact, DecideOptions, Engine};
use mboxscope::delivery::wire::compact;
use mboxscope::delivery::{to_writer_compact, DeliveryRequest, DeliveryResponse};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures")
}

/// Asserts the writer's bytes are serde_json's (and the compact writer's); returns how many.
fn assert_written_as_serde_json(response: &DeliveryResponse, what: &str) -> usize {
    let ours = compact::to_vec(response, 0).expect("written");
    let plain = serde_json::to_vec(response).expect("written");
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&plain),
        "{what}"
    );
    let mut prepared = Vec::new();
    to_writer_compact(&mut prepared, response).expect("written");
    assert_eq!(ours, prepared, "{what}");
    ours.len()
}

fn options(client: &str, now_ms: i64, edge: bool) -> DecideOptions {
    DecideOptions {
        session_id: Some("session".into()),
        prefetch_mbox_metrics: edge,
        edge,
        extra_tokens: if edge {
            Map::from_iter([("profile.favorite".to_string(), json!("tea \"earl\" grey"))])
        } else {
            Map::new()
        },
        ..DecideOptions::sdk(client, now_ms)
    }
}

#[test]
fn every_cross_sdk_suite_case_is_written_as_serde_json_writes_it() {
    let dir = fixtures().join("target-sdk-testing");
    let (mut cases, mut outputs, mut bytes) = (0, 0, 0);
    let mut suites: Vec<_> = std::fs::read_dir(dir.join("models"))
        .expect("the suites")
        .map(|e| e.expect("an entry").path())
        .collect();
    suites.sort();
    for path in suites {
        let suite: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("a suite")).expect("JSON");
        for (name, case) in suite["test"].as_object().expect("cases") {
            let what = format!("{} {name}", path.display());
            // Some expected outputs hold the suites' matchers ("expect.any(Object)") where a
            // response has an object: those are no response.
            let expected = case
                .get("output")
                .and_then(|o| serde_json::from_value::<DeliveryResponse>(o.clone()).ok());
            if let Some(expected) = expected {
                bytes += assert_written_as_serde_json(&expected, &what);
                outputs += 1;
            }
            let Some(artifact_name) = case
                .get("artifact")
                .or_else(|| suite.get("artifact"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let artifact_path = dir.join("artifacts").join(format!("{artifact_name}.json"));
            let artifact_bytes = std::fs::read(&artifact_path).expect("the suite's artifact");
            let artifact = Arc::new(Artifact::from_json(&artifact_bytes).expect("it loads"));
            let request: DeliveryRequest =
                serde_json::from_value(case["input"].get("request").cloned().unwrap_or(json!({})))
                    .expect("a request");
            let client = artifact.client_code().unwrap_or("client").to_string();
            let engine = Engine::new(artifact, "artifactPayload", 0, 1.0);
            for edge in [false, true] {
                let decision = engine.decide(&request, &options(&client, 1_613_761_200_000, edge));
                bytes += assert_written_as_serde_json(&decision.response, &what);
            }
            cases += 1;
        }
    }
    // 53 cases and 47 expected outputs in the suites as stored.
    assert!(cases >= 50, "only {cases} cases decided");
    assert!(outputs >= 40, "only {outputs} expected outputs written");
    assert!(bytes > 100_000, "only {bytes} bytes compared");
}

/// A response with every kind of object the writer knows, unknown fields on each, and `text`
/// in every string (names, tokens, unknown keys and values).
fn every_object(text: &str) -> Value {
    let item = |extra: &str| {
        json!({
            "options": [
                {"type": text, "content": {"a": [1, 2.5, text]}, "eventToken": text,
                 "responseTokens": {text: text, "n": 1}, text: [text]},
                {"type": "html", "content": text}
            ],
            "metrics": [{"type": "click", "selector": text, "eventToken": text,
                "analytics": {"payload": {"pe": "tnt", "tnta": text, text: 1}}}],
            "analytics": {"payload": {"pe": "tnt", "tnta": text}},
            "state": text,
            "trace": {"clientCode": text, "n": [1, null]},
            extra: text,
        })
    };
    let mut mbox = item("mboxExtra");
    mbox["index"] = json!(-3);
    mbox["name"] = json!(text);
    let mut view = item("viewExtra");
    view["name"] = json!(text);
    view["key"] = json!(text);
    view["id"] = json!(7);
    json!({
        "status": 200,
        "requestId": text,
        "id": {"tntId": text, "thirdPartyId": text, "marketingCloudVisitorId": text,
            "customerIds": [{"id": text, "integrationCode": text, "authenticatedState": text, text: true}]},
        "client": text,
        "edgeHost": text,
        "execute": {"pageLoad": item("pageExtra"), "mboxes": [mbox.clone(), {}], text: {}},
        "prefetch": {"views": [view, {}], "pageLoad": item("p"), "mboxes": [mbox, {}], "metrics": [{}],
            "extra": []},
        "notifications": [{"id": text, "trace": {"a": text}, text: false}, {}],
        "telemetryServerToken": text,
        text: {"nested": [text]},
        "remoteMboxes": [text],
    })
}

#[test]
fn every_response_object_with_unknown_fields_is_written_as_serde_json_writes_it() {
    for text in [
        "plain",
        "",
        "quote \" and back\\slash",
        "controls \u{0}\u{1f}\n\t\r\u{8}\u{c} and \u{7f}",
        "unicode caf\u{e9} \u{2028} \u{1f600}",
        &"long ".repeat(40),
    ] {
        let response: DeliveryResponse =
            serde_json::from_value(every_object(text)).expect("a response");
        assert_written_as_serde_json(&response, text);
        let empty = DeliveryResponse::default();
        assert_written_as_serde_json(&empty, "empty");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_text_in_any_field_is_written_as_serde_json_writes_it(text in any::<String>()) {
        let response: DeliveryResponse =
            serde_json::from_value(every_object(&text)).expect("a response");
        let ours = compact::to_vec(&response, 0).expect("written");
        let plain = serde_json::to_vec(&response).expect("written");
        prop_assert_eq!(ours, plain);
    }
}
