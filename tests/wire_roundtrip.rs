//! Every sample Delivery API body and every JSON example of the spec parses into the wire
//! model and serializes back to an equal JSON value.

use mboxscope::delivery::{DeliveryRequest, DeliveryResponse, ErrorResponse};
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    std::env::var_os("MBOXSCOPE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"))
}

/// Round-trips `value` through the type its shape says it is; returns the type's name.
fn round_trip(value: &Value) -> &'static str {
    let is_response = value.get("status").is_some()
        || value.get("client").is_some()
        || value.get("edgeHost").is_some();
    if value.get("message").is_some() && value.get("status").is_some() {
        let parsed: ErrorResponse =
            serde_json::from_value(value.clone()).expect("error body parses");
        assert_eq!(&serde_json::to_value(parsed).unwrap(), value);
        "ErrorResponse"
    } else if is_response {
        let parsed: DeliveryResponse =
            serde_json::from_value(value.clone()).expect("response parses");
        assert_eq!(&serde_json::to_value(parsed).unwrap(), value);
        "DeliveryResponse"
    } else {
        let parsed: DeliveryRequest =
            serde_json::from_value(value.clone()).expect("request parses");
        assert_eq!(&serde_json::to_value(parsed).unwrap(), value);
        "DeliveryRequest"
    }
}

#[test]
fn every_sample_round_trips() {
    let mut count = 0;
    for dir in [
        "delivery-api/samples",
        "delivery-api/openapi/delivery/examples",
    ] {
        for entry in std::fs::read_dir(fixtures().join(dir)).expect("fixtures directory") {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // One of Adobe's spec examples has a trailing comma; strict JSON rejects it, so
            // it is read with trailing commas dropped (and the defect is printed).
            let value: Value = match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(e) => {
                    eprintln!(
                        "{}: not strict JSON ({e}); reading it without trailing commas",
                        path.display()
                    );
                    serde_json::from_str(&without_trailing_commas(&text))
                        .expect("valid once trailing commas are dropped")
                }
            };
            let kind = round_trip(&value);
            eprintln!("{} round-trips as {kind}", path.display());
            count += 1;
        }
    }
    assert!(count >= 12, "expected the shared samples, found {count}");
}

/// JSON blocks of the spec's prose and the `-d '...'` bodies of its curl examples.
#[test]
fn every_json_example_of_the_spec_round_trips() {
    let md = std::fs::read_to_string(
        fixtures().join("delivery-api/openapi/delivery/markdown/api-description.md"),
    )
    .unwrap();
    let mut count = 0;
    for block in md.split("```").skip(1).step_by(2) {
        let candidates: Vec<&str> = match block.find("-d '") {
            Some(start) => vec![block[start + 4..]
                .rsplit_once('\'')
                .map(|(body, _)| body)
                .unwrap_or("")],
            None => vec![block],
        };
        for text in candidates {
            if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text.trim()) {
                round_trip(&value);
                count += 1;
            }
        }
    }
    assert!(
        count >= 5,
        "expected JSON examples in the spec prose, found {count}"
    );
}

fn without_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}
