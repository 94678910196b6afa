//! Hardening of `mboxscope serve` over real HTTP on 127.0.0.1: request limits, notification
//! validation, Content-Type and Origin rules, logging that never blocks, timeouts and caps.

mod common;

use common::*;
use serde_json::{json, Value};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn delivery(e: &Emulator, body: &Value) -> (u16, Value) {
    e.post("/rest/v1/delivery?client=mboxscopedemo&sessionId=s1", body)
}

fn context() -> Value {
    json!({"channel": "web", "userAgent": BROWSER, "address": {"url": "https://shop.example.com/"}})
}

fn assert_rejected(reply: &(u16, Value), message: &str) {
    let (status, body) = reply;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["status"], 400, "{body}");
    let text = body["message"].as_str().unwrap_or_default();
    assert!(text.contains(message), "expected {message:?}: {body}");
}

#[test]
fn more_mboxes_views_or_notifications_than_the_limits_are_a_400() {
    let e = Emulator::start(&[]);
    let mboxes = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"name": "home-hero", "index": i}))
            .collect()
    };
    for mode in ["execute", "prefetch"] {
        let (status, body) = delivery(
            &e,
            &json!({"context": context(), mode: {"mboxes": mboxes(50)}}),
        );
        assert_eq!(status, 200, "50 mboxes are fine: {body}");
        assert_rejected(
            &delivery(
                &e,
                &json!({"context": context(), mode: {"mboxes": mboxes(51)}}),
            ),
            &format!("{mode}.mboxes: size must be between 0 and 50"),
        );
    }
    // 300,000 empty views: about 900 KB in, a short 400 out.
    let mut body = br#"{"context":{"channel":"web"},"prefetch":{"views":["#.to_vec();
    for i in 0..300_000 {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{}");
    }
    body.extend_from_slice(b"]}}");
    let (status, reply) = http_raw(
        "POST",
        &format!("{}/rest/v1/delivery?sessionId=s1", e.url),
        Some(&body),
    );
    assert_eq!(
        status,
        400,
        "{}",
        String::from_utf8_lossy(&reply[..reply.len().min(200)])
    );
    assert!(reply.len() < 1000, "a short answer: {} bytes", reply.len());
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .contains("prefetch.views: size must be between 0 and 50"),
        "{reply}"
    );
    let notification = json!({"id": "n", "type": "display", "timestamp": 1_700_000_000_000i64, "mbox": {"name": "home-hero"}, "tokens": ["t"]});
    assert_rejected(
        &delivery(
            &e,
            &json!({"context": context(), "notifications": vec![notification; 1001]}),
        ),
        "notifications: size must be between 0 and 1000",
    );
}

#[test]
fn notifications_without_an_mbox_name_or_tokens_are_a_400_and_not_counted() {
    let e = Emulator::start(&[]);
    let (_, body) = delivery(
        &e,
        &json!({"context": context(), "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    );
    let token = body["prefetch"]["mboxes"][0]["options"][0]["eventToken"].clone();
    assert!(token.is_string(), "{body}");
    let notification = |mbox: Value, tokens: Option<Value>| {
        let mut n =
            json!({"id": "n1", "type": "display", "timestamp": 1_700_000_000_000i64, "mbox": mbox});
        if let Some(tokens) = tokens {
            n["tokens"] = tokens;
        }
        json!({"context": context(), "notifications": [n]})
    };
    let cases = [
        (
            notification(json!({"name": ""}), Some(json!([token]))),
            "mbox.name is required",
        ),
        (
            notification(json!({}), Some(json!([token]))),
            "mbox.name is required",
        ),
        (
            notification(json!({"name": "home-hero"}), None),
            "tokens are required",
        ),
        (
            notification(json!({"name": "home-hero"}), Some(json!([]))),
            "tokens are required",
        ),
    ];
    for (body, message) in &cases {
        assert_rejected(&delivery(&e, body), message);
    }
    let notifications = &e.get("/report")["notifications"];
    assert_eq!(notifications["accepted"], 0, "{notifications}");
    assert_eq!(notifications["rejected"], cases.len(), "{notifications}");
    let (status, body) = delivery(
        &e,
        &notification(json!({"name": "home-hero"}), Some(json!([token]))),
    );
    assert_eq!(status, 200, "a complete notification is accepted: {body}");
}
