//! The emulator over real HTTP on 127.0.0.1: answers, validation, counting, reset, faults.

mod common;

use common::*;
use serde_json::{json, Value};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn delivery(e: &Emulator, session: &str, body: &Value) -> (u16, Value) {
    e.post(
        &format!("/rest/v1/delivery?client=mboxscopedemo&sessionId={session}"),
        body,
    )
}

fn context() -> Value {
    json!({"channel": "web", "userAgent": BROWSER, "address": {"url": "https://shop.example.com/"}})
}

fn experience<'a>(report: &'a Value, activity: &str, experience_id: i64) -> &'a Value {
    report["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == activity)
        .flat_map(|a| a["experiences"].as_array().unwrap().iter())
        .find(|e| e["id"] == experience_id)
        .unwrap_or_else(|| panic!("{activity}/{experience_id} not in {report}"))
}

#[test]
fn prefetch_answers_with_state_tokens_a4t_and_a_hintless_tnt_id() {
    let e = Emulator::start(&[]);
    let (status, body) = delivery(
        &e,
        "s1",
        &json!({
            "requestId": "r1",
            "context": context(),
            "experienceCloud": {"analytics": {"logging": "client_side"}},
            "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}], "views": [{"name": "checkout"}], "pageLoad": {}}
        }),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], 200);
    assert_eq!(body["requestId"], "r1");
    assert_eq!(body["client"], "mboxscopedemo");
    let tnt = body["id"]["tntId"].as_str().unwrap();
    assert!(!tnt.contains('.'), "no location hint: {tnt}");
    assert!(body.get("edgeHost").is_none());
    let mbox = &body["prefetch"]["mboxes"][0];
    assert!(mbox["state"].is_string());
    assert!(mbox["options"][0]["eventToken"].is_string());
    assert_eq!(mbox["options"][0]["type"], "html");
    let tnta = mbox["analytics"]["payload"]["tnta"].as_str().unwrap();
    // A visitor's first impression: impression, visit and entrance events.
    assert!(
        tnta.starts_with("312345:") && tnta.contains(":0|2,") && tnta.ends_with(":0|0"),
        "{tnta}"
    );
    assert_eq!(mbox["analytics"]["payload"]["pe"], "tnt");
    assert!(mbox["metrics"][0]["analytics"]["payload"]["tnta"]
        .as_str()
        .unwrap()
        .ends_with("|32767"));
    assert_eq!(mbox["metrics"][0]["selector"], "#cta");
    let view = &body["prefetch"]["views"][0];
    assert_eq!(view["name"], "checkout");
    assert_eq!(view["options"][0]["type"], "actions");
    assert!(view["state"].is_string());
    assert!(
        body["prefetch"]["pageLoad"]["options"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    // A tntId with a hint comes back without it, so SDKs stay here.
    let (_, body) = delivery(
        &e,
        "s1",
        &json!({"id": {"tntId": "abc.28_0"}, "context": context(), "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    );
    assert_eq!(body["id"]["tntId"], "abc");
    // server_side logging: no payloads.
    let (_, body) = delivery(
        &e,
        "s1",
        &json!({"context": context(), "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    );
    assert!(body["prefetch"]["mboxes"][0].get("analytics").is_none());
}

#[test]
fn execute_strips_tokens_counts_and_traces_when_asked() {
    let e = Emulator::start(&[]);
    let (status, body) = delivery(
        &e,
        "s1",
        &json!({
            "id": {"tntId": "visitor-1"}, "context": context(), "trace": {"authorizationToken": "t"},
            "execute": {"mboxes": [{"name": "home-hero", "index": 1}]}
        }),
    );
    assert_eq!(status, 200, "{body}");
    let mbox = &body["execute"]["mboxes"][0];
    assert!(mbox["options"][0].get("eventToken").is_none());
    assert_eq!(mbox["trace"]["clientCode"], "mboxscopedemo");
    assert_eq!(mbox["trace"]["request"]["sessionId"], "s1");
    assert_eq!(mbox["trace"]["campaigns"][0]["id"], 312345);
    let experience_id = mbox["options"][0]["responseTokens"]["experience.id"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .expect("response tokens are strings, as the edge sends them");
    let report = e.get("/report");
    let counted = experience(&report, "Spring hero", experience_id);
    assert_eq!(
        (
            counted["impressions"].as_u64(),
            counted["visits"].as_u64(),
            counted["visitors"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
}

#[test]
fn display_click_duplicates_visits_visitors_and_reset() {
    let e = Emulator::start(&[]);
    let (_, body) = delivery(
        &e,
        "s1",
        &json!({"id": {"tntId": "v1"}, "context": context(), "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    );
    let mbox = &body["prefetch"]["mboxes"][0];
    let token = mbox["options"][0]["eventToken"].as_str().unwrap();
    let click_token = mbox["metrics"][0]["eventToken"].as_str().unwrap();
    let exp = mbox["options"][0]["responseTokens"]["experience.id"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .expect("response tokens are strings, as the edge sends them");
    let display = |id: &str, impression: &str| json!({"id": id, "impressionId": impression, "type": "display", "timestamp": 1_700_000_000_000i64, "mbox": {"name": "home-hero", "state": mbox["state"]}, "tokens": [token]});
    let send = |session: &str, tnt: &str, notifications: Vec<Value>| {
        delivery(
            &e,
            session,
            &json!({"id": {"tntId": tnt}, "context": context(), "notifications": notifications}),
        )
    };
    let (status, reply) = send("s1", "v1", vec![display("n1", "imp1")]);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["notifications"][0]["id"], "n1");
    // A retry with the same impressionId, and a second send of it: duplicates, not impressions.
    send("s1", "v1", vec![display("n1", "imp1")]);
    send("s1", "v1", vec![display("n1-again", "imp1")]);
    // Another visit of the same visitor, and another visitor.
    send("s2", "v1", vec![display("n2", "imp2")]);
    send("s3", "v2", vec![display("n3", "imp3")]);
    // A click without an impressionId counts every time it is accepted (the id only
    // acknowledges); one with an impressionId counts once however often it is resent.
    let click = json!({"id": "c1", "type": "click", "timestamp": 1_700_000_000_000i64, "mbox": {"name": "home-hero"}, "tokens": [click_token]});
    send("s1", "v1", vec![click.clone()]);
    send("s1", "v1", vec![click]);
    let click = json!({"id": "c2", "impressionId": "click-imp", "type": "click", "timestamp": 1_700_000_000_000i64, "mbox": {"name": "home-hero"}, "tokens": [click_token]});
    send("s1", "v1", vec![click.clone()]);
    send("s1", "v1", vec![click]);
    let report = e.get("/report");
    let counted = experience(&report, "Spring hero", exp);
    assert_eq!(counted["impressions"], 3, "{report}");
    assert_eq!(counted["visits"], 3);
    assert_eq!(counted["visitors"], 2);
    assert_eq!(counted["clicks"], 3);
    assert_eq!(
        report["notifications"],
        json!({"received": 9, "accepted": 9, "rejected": 0, "duplicates": 3})
    );
    // Exactly the documented shape.
    let mut keys: Vec<&String> = report.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["activities", "botFilter", "notifications", "qa", "since"]
    );
    let (status, _) = e.post("/report/reset", &json!({}));
    assert_eq!(status, 200);
    let report = e.get("/report");
    assert_eq!(experience(&report, "Spring hero", exp)["impressions"], 0);
    assert_eq!(report["notifications"]["received"], 0);
}

#[test]
fn every_validation_error_is_a_400_in_targets_shape() {
    let e = Emulator::start(&[]);
    let ok_mbox = json!([{"name": "home-hero", "index": 1}]);
    let n = |extra: Value| {
        let mut base = json!({"id": "n1", "type": "display", "timestamp": 1_700_000_000_000i64, "mbox": {"name": "home-hero"}, "tokens": []});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base
    };
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("p{i}"), json!("v"))).collect();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "s1",
            json!({"prefetch": {"mboxes": ok_mbox}}),
            "context is required",
        ),
        (
            "s1",
            json!({"context": {"userAgent": BROWSER}, "prefetch": {"mboxes": ok_mbox}}),
            "context.channel is required",
        ),
        (
            "s1",
            json!({"context": {"channel": "tv"}}),
            "must be web or mobile",
        ),
        (
            "s1",
            json!({"context": context(), "prefetch": {"mboxes": [{"name": "a", "index": 1}, {"name": "b", "index": 1}]}}),
            "duplicate mbox index 1",
        ),
        (
            "s1",
            json!({"context": context(), "execute": {"mboxes": [{"name": "a"}]}}),
            "needs an index",
        ),
        (
            "s1",
            json!({"context": context(), "notifications": [n(json!({"id": null}))]}),
            "notification id is required",
        ),
        (
            "s1",
            json!({"context": context(), "notifications": [n(json!({"type": null}))]}),
            "type is required",
        ),
        (
            "s1",
            json!({"context": context(), "notifications": [n(json!({"timestamp": null}))]}),
            "timestamp is required",
        ),
        (
            "s1",
            json!({"context": context(), "notifications": [n(json!({"tokens": ["forged"]}))]}),
            "unknown token",
        ),
        (
            "s1",
            json!({"context": context(), "notifications": [n(json!({"view": {"name": "home"}}))]}),
            "mutually exclusive",
        ),
        (
            "s1",
            json!({"context": context(), "prefetch": {"mboxes": [{"name": "a", "index": 1, "parameters": many}]}}),
            "at most 50",
        ),
        (
            "s1",
            json!({"context": context(), "prefetch": {"mboxes": [{"name": "a", "index": 1, "parameters": {"orderTotal": "1"}}]}}),
            "reserved",
        ),
        (
            "s1",
            json!({"context": context(), "prefetch": {"mboxes": [{"name": "a", "index": 1, "parameters": {"profile.age": "1"}}]}}),
            "reserved",
        ),
        (
            "s1",
            json!({"context": context(), "prefetch": {"mboxes": [{"name": "a", "index": 1, "parameters": {"x": "y".repeat(5001)}}]}}),
            "longer than 5000",
        ),
        ("bad%20session", json!({"context": context()}), "sessionId"),
        (
            "s1",
            json!({"context": context(), "prefetch": {"mboxes": [{"name": 5, "index": "one"}]}}),
            "malformed DeliveryRequest",
        ),
    ];
    for (session, body, message) in cases {
        let (status, reply) = delivery(&e, session, &body);
        assert_eq!(status, 400, "{body} → {reply}");
        assert_eq!(reply["status"], 400);
        assert!(
            reply["message"].as_str().unwrap().contains(message),
            "{body}: expected {message:?}, got {reply}"
        );
    }
    let (status, reply) = http_raw(
        "POST",
        &format!("{}/rest/v1/delivery?sessionId=s1", e.url),
        Some(b"{not json"),
    );
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&reply));
    let (status, _) = http(
        "POST",
        &format!("{}/rest/v1/delivery?client=someoneelse&sessionId=s1", e.url),
        Some(&json!({"context": context()})),
    );
    assert_eq!(status, 400);
    let (status, _) = http(
        "POST",
        &format!("{}/rest/v1/delivery", e.url),
        Some(&json!({"context": context()})),
    );
    assert_eq!(status, 400, "sessionId is required");
    let huge = vec![b' '; 1024 * 1024 + 10];
    let (status, reply) = http_raw(
        "POST",
        &format!("{}/rest/v1/delivery?sessionId=s1", e.url),
        Some(&huge),
    );
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&reply));
    // The rejected notifications were counted as such.
    assert_eq!(e.get("/report")["notifications"]["rejected"], 5);
}

#[test]
fn serves_the_artifact_and_defaults_the_client_for_sdks() {
    let e = Emulator::start(&[]);
    let rules = e.get("/rules.json");
    assert_eq!(rules["meta"]["clientCode"], "mboxscopedemo");
    // SDKs send imsOrgId and sessionId, no client.
    let (status, body) = http(
        "POST",
        &format!(
            "{}/rest/v1/delivery?imsOrgId=X%40AdobeOrg&sessionId=s1",
            e.url
        ),
        Some(
            &json!({"context": context(), "prefetch": {"mboxes": [{"name": "product-recs", "index": 1, "parameters": {"category": "bags"}}]}}),
        ),
    );
    assert_eq!(status, 200);
    assert_eq!(body["client"], "mboxscopedemo");
    assert_eq!(
        body["prefetch"]["mboxes"][0]["options"][0]["content"]["experience"],
        "Bags"
    );
    let (status, _) = http("GET", &format!("{}/nope", e.url), None);
    assert_eq!(status, 404);
}

#[test]
fn a_production_artifact_and_a_broken_one() {
    let production = fixtures().join("artifacts/targettesting-production-rules.json");
    let e = Emulator::start(&["--artifact", production.to_str().unwrap()]);
    let (status, body) = http(
        "POST",
        &format!("{}/rest/v1/delivery?sessionId=s1", e.url),
        Some(
            &json!({"context": {"channel": "web", "userAgent": BROWSER}, "prefetch": {"mboxes": [{"name": "mbox-browsers", "index": 1}]}}),
        ),
    );
    assert_eq!(status, 200);
    assert_eq!(body["client"], "targettesting");
    assert_eq!(
        body["prefetch"]["mboxes"][0]["options"][0]["content"],
        "<h1>it's chrome</h1>"
    );
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("rules.json");
    std::fs::write(&broken, "{\"version\":\"2.0.0\"}").unwrap();
    let out = run(mboxscope(dir.path()).args(["serve", "--artifact", broken.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported"));
}

#[test]
fn faults_drop_before_drop_after_and_503() {
    let e = Emulator::start(&["--fault-rate", "0.5"]);
    let body = serde_json::to_vec(
        &json!({"context": context(), "execute": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    )
    .unwrap();
    let url = format!("{}/rest/v1/delivery?sessionId=s1", e.url);
    let (mut ok, mut unavailable, mut dropped) = (0, 0, 0);
    for _ in 0..120 {
        let outcome = std::panic::catch_unwind(|| http_raw("POST", &url, Some(&body)));
        match outcome {
            Ok((200, _)) => ok += 1,
            Ok((503, reply)) => {
                unavailable += 1;
                assert!(String::from_utf8_lossy(&reply).contains("\"status\":503"));
            }
            Ok((status, _)) => panic!("unexpected status {status}"),
            Err(_) => dropped += 1,
        }
    }
    assert!(
        ok > 20 && unavailable > 5 && dropped > 10,
        "ok {ok}, 503 {unavailable}, dropped {dropped}"
    );
    // Executes dropped after processing were counted: more impressions than answers.
    let report = e.get("/report");
    let impressions: u64 = report["activities"][0]["experiences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["impressions"].as_u64().unwrap())
        .sum();
    assert!(
        impressions > ok as u64,
        "impressions {impressions} vs answered {ok}"
    );
    assert!(impressions < (ok + dropped) as u64 + 1);
}

#[test]
fn latency_delays_every_reply() {
    let e = Emulator::start(&["--latency-ms", "300"]);
    let started = std::time::Instant::now();
    e.get("/report");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}
