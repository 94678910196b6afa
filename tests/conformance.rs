//! Runs Adobe's cross-SDK on-device decisioning suites (`TEST_SUITE_*.json`) against the engine.
//!
//! The directory comes from `MBOXSCOPE_SUITES_DIR` (default `../shared/fixtures/target-sdk-testing`,
//! with `models/` and `artifacts/` inside). `output` is matched as a subset (listed keys must
//! match, extra keys are fine, arrays element by element), `notificationOutput` likewise
//! (null = nothing sent), with `expect.any(String|Number|Object)` placeholders.

use mboxscope::clock::days_from_civil;
use mboxscope::decisioning::{Artifact, DecideOptions, Engine};
use mboxscope::delivery::{DeliveryRequest, Geo};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn suites_dir() -> PathBuf {
    std::env::var_os("MBOXSCOPE_SUITES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/target-sdk-testing")
        })
}

/// Checks that `actual` has everything `expected` lists; the first difference otherwise.
fn matches(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    let describe = |what: &str| format!("{path}: expected {what}, got {}", short(actual));
    match expected {
        Value::String(s) if s == "expect.any(String)" => actual
            .is_string()
            .then_some(())
            .ok_or_else(|| describe("any String")),
        Value::String(s) if s == "expect.any(Number)" => actual
            .is_number()
            .then_some(())
            .ok_or_else(|| describe("any Number")),
        Value::String(s) if s == "expect.any(Object)" => (actual.is_object() || actual.is_array())
            .then_some(())
            .ok_or_else(|| describe("any Object")),
        Value::Object(fields) => {
            let Some(actual_fields) = actual.as_object() else {
                return Err(describe("an object"));
            };
            for (key, want) in fields {
                let got = actual_fields.get(key).unwrap_or(&Value::Null);
                if !actual_fields.contains_key(key) && !want.is_null() {
                    return Err(format!("{path}.{key}: missing, expected {}", short(want)));
                }
                matches(want, got, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let Some(actual_items) = actual.as_array() else {
                return Err(describe("an array"));
            };
            if items.len() != actual_items.len() {
                return Err(format!(
                    "{path}: expected {} items, got {}: {}",
                    items.len(),
                    actual_items.len(),
                    short(actual)
                ));
            }
            for (i, (want, got)) in items.iter().zip(actual_items).enumerate() {
                matches(want, got, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Value::Number(n) => match actual.as_f64() {
            Some(a) if Some(a) == n.as_f64() => Ok(()),
            _ => Err(describe(&n.to_string())),
        },
        other => (other == actual)
            .then_some(())
            .ok_or_else(|| describe(&short(other))),
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 160 {
        format!(
            "{}…",
            &text[..text
                .char_indices()
                .nth(160)
                .map(|(i, _)| i)
                .unwrap_or(text.len())]
        )
    } else {
        text
    }
}

fn load_artifact(dir: &Path, name: &str) -> Result<Arc<Artifact>, String> {
    let path = dir.join("artifacts").join(format!("{name}.json"));
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Artifact::from_json(&bytes)
        .map(Arc::new)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `mockDate` (JavaScript month, 0-based) as milliseconds since the epoch.
fn mock_now(mock: &Value) -> i64 {
    let field = |k: &str| mock.get(k).and_then(Value::as_i64).unwrap_or(0);
    let days = days_from_civil(
        field("year"),
        field("month") + 1,
        mock.get("date").and_then(Value::as_i64).unwrap_or(1),
    );
    ((days * 24 + field("hours")) * 60 + field("minutes")) * 60_000 + field("seconds") * 1000
}

/// A geo lookup answer (`mockGeo`, the geo service's headers) as a Geo.
fn mock_geo(mock: &Value) -> Geo {
    let text = |k: &str| mock.get(k).and_then(|v| v.as_str().map(str::to_string));
    let number = |k: &str| {
        mock.get(k).and_then(|v| match v {
            Value::Number(n) => Some(n.clone()),
            Value::String(s) => s.parse::<f64>().ok().and_then(serde_json::Number::from_f64),
            _ => None,
        })
    };
    Geo {
        country_code: text("x-geo-country-code"),
        state_code: text("x-geo-region-code"),
        city: text("x-geo-city"),
        latitude: number("x-geo-latitude"),
        longitude: number("x-geo-longitude"),
        ..Default::default()
    }
}

fn run_case(dir: &Path, suite: &Value, case: &Value) -> Result<(), String> {
    let artifact_name = case
        .get("artifact")
        .or_else(|| suite.get("artifact"))
        .and_then(Value::as_str)
        .ok_or("no artifact named")?;
    let artifact = load_artifact(dir, artifact_name)?;
    let mut conf: Map<String, Value> = suite
        .get("conf")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    conf.extend(
        case.get("conf")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    );
    let input = case.get("input").ok_or("no input")?;
    let request: DeliveryRequest =
        serde_json::from_value(input.get("request").cloned().unwrap_or(json!({})))
            .map_err(|e| format!("request: {e}"))?;
    let now_ms = case
        .get("mockDate")
        .map(mock_now)
        .unwrap_or_else(mboxscope::clock::now_ms);
    let options = DecideOptions {
        client: conf
            .get("client")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| artifact.client_code().map(str::to_string))
            .unwrap_or_default(),
        now_ms,
        session_id: input
            .get("sessionId")
            .and_then(Value::as_str)
            .map(str::to_string),
        geo: case.get("mockGeo").map(mock_geo),
        telemetry: conf
            .get("telemetryEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        prefetch_mbox_metrics: false,
        qa: None,
        edge: false,
        extra_tokens: Default::default(),
    };
    let engine = Engine::new(artifact, "artifactPayload", now_ms, 1.0);
    let decision = engine.decide(&request, &options);
    let response = serde_json::to_value(&decision.response).map_err(|e| e.to_string())?;
    if let Some(output) = case.get("output").filter(|o| !o.is_null()) {
        matches(output, &response, "output")?;
    }
    if let Some(expected) = case.get("notificationOutput") {
        let sent = decision
            .notification_request
            .map(|r| json!({ "request": r }));
        match (expected, sent) {
            (Value::Null, None) => {}
            (Value::Null, Some(sent)) => {
                return Err(format!(
                    "notificationOutput: expected none, sent {}",
                    short(&sent)
                ))
            }
            (_, None) => {
                return Err("notificationOutput: expected a notification, none sent".into())
            }
            (want, Some(sent)) => matches(want, &sent, "notificationOutput")?,
        }
    }
    Ok(())
}

#[test]
fn adobe_cross_sdk_suites() {
    let dir = suites_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("models"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join("models").display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("TEST_SUITE_") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let suite_name = file.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        let suite: Value = match std::fs::read(file)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                println!("FAIL {suite_name}: cannot read the suite: {e}");
                failed += 1;
                continue;
            }
        };
        for (case_name, case) in suite
            .get("test")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match run_case(&dir, &suite, case) {
                Ok(()) => passed += 1,
                Err(difference) => {
                    failed += 1;
                    println!("FAIL {suite_name} / {case_name}: {difference}");
                }
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed");
    assert!(passed > 0, "no conformance case ran");
    assert_eq!(failed, 0, "{failed} conformance cases failed");
}
