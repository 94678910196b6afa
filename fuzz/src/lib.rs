//! What each fuzz target does with its input, as plain functions: the libFuzzer binaries in
//! `fuzz_targets/` call them, and `tests/seeds.rs` runs them over the committed seeds.
//!
//! Every function accepts any bytes; a panic (or a broken invariant, asserted) is a bug.

use mboxscope::client::cookies::{location_hint_cookie, target_cookie};
use mboxscope::client::{views, TargetResponse};
use mboxscope::decisioning::jsonlogic::{truthy, Logic, Memo, SharedConditions, Variables};
use mboxscope::decisioning::Artifact;
use mboxscope::delivery::{
    build_notification, clicks_for, decided_items, displays_for, DeliveryResponse, ErrorResponse,
};
use mboxscope::emulator::{Emulator, DEMO_ARTIFACT};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The organization id `obfuscated-rules.bin` (a seed of `artifact_load`) is encoded with.
pub const ORG_ID: &str = "74F652E95F1B16FE0A495C92@AdobeOrg";
/// The emulators' frozen clock (2026-01-01T00:00:00Z), so time-based audiences decide alike.
const NOW_MS: i64 = 1_767_225_600_000;
/// The most mboxes of a fuzzed artifact the `artifact_load` target asks its emulator for.
const MBOXES_ASKED: usize = 5;

/// Parses a Delivery API response as the client does, and builds everything the client, the
/// SDK-style views and the notification builders make from it.
pub fn delivery_response(data: &[u8]) {
    // A non-2xx answer is read as Target's error shape first.
    let _ = serde_json::from_slice::<ErrorResponse>(data);
    let Ok(mut response) = serde_json::from_slice::<DeliveryResponse>(data) else {
        return;
    };
    response.share_response_tokens();
    let tnt_id = response.id.as_ref().and_then(|id| id.tnt_id.clone());
    let hint_cookie = location_hint_cookie(tnt_id.as_deref(), response.edge_host.as_deref());
    for item in decided_items(&response) {
        let _ = item.mode();
        let _ = item.parts(&response);
        let location = item.location(&response);
        let _ = (location.label(), location.state());
    }
    for notifiable in displays_for(&response)
        .into_iter()
        .chain(clicks_for(&response))
    {
        let _ = build_notification(
            "id",
            Some("impression"),
            notifiable.kind,
            NOW_MS,
            &notifiable.location,
            &notifiable.tokens,
        );
    }
    let _ = views::meta(&response);
    assert_round_trips(&response);
    let answer = TargetResponse {
        request: Arc::default(),
        session_id: "fuzz-session".into(),
        request_url: String::new(),
        request_headers: Vec::new(),
        request_body: Default::default(),
        status: 200,
        response_headers: Vec::new(),
        response_body: Default::default(),
        duration: Default::default(),
        started_at_ms: NOW_MS,
        target_cookie: target_cookie("fuzz-session", tnt_id.as_deref(), NOW_MS / 1000),
        target_location_hint_cookie: hint_cookie,
        response: Arc::new(response),
    };
    let _ = answer.sdk_result();
}

/// A parsed response writes back to JSON that parses to the same response.
fn assert_round_trips(response: &DeliveryResponse) {
    let written = serde_json::to_vec(response).expect("a parsed response serializes");
    let again: DeliveryResponse =
        serde_json::from_slice(&written).expect("a serialized response parses");
    let mut shared = again.clone();
    shared.share_response_tokens();
    assert_eq!(
        &shared,
        response,
        "round trip changed {}",
        String::from_utf8_lossy(&written)
    );
}

/// The emulator over the demo artifact, built once.
fn demo_emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        Emulator::new(DEMO_ARTIFACT, None, "fuzz")
            .expect("the demo artifact loads")
            .with_clock(Some(NOW_MS))
    })
}

/// Posts the input as a Delivery API request body to the emulator over the demo artifact
/// (parse, validate, decide, count, serialize).
pub fn emulator_delivery(data: &[u8]) {
    let emulator = demo_emulator();
    post(emulator, data);
    // Counts would otherwise grow over a long run.
    emulator.reset();
}

/// Posts `body` to `emulator` and checks the reply is JSON of Target's shape for its status.
fn post(emulator: &Emulator, body: &[u8]) {
    let query = HashMap::from([
        ("client".to_string(), emulator.client_code().to_string()),
        ("sessionId".to_string(), "fuzz-session".to_string()),
    ]);
    let reply = emulator.delivery(&query, body);
    let answer: Value = serde_json::from_slice(&reply.body).expect("every reply is JSON");
    if reply.status == 200 {
        serde_json::from_value::<DeliveryResponse>(answer)
            .expect("a 200 reply is a DeliveryResponse");
    } else {
        assert_eq!(
            answer["status"],
            json!(reply.status),
            "an error reply states its status: {answer}"
        );
    }
}

/// Loads the input as `rules.json` or `rules.bin`; an artifact that loads then serves one
/// request for some of its mboxes, its views and the page load.
pub fn artifact_load(data: &[u8]) {
    let Ok(artifact) = Artifact::load(data, Some(ORG_ID)) else {
        return;
    };
    let Ok(emulator) = Emulator::new(data, Some(ORG_ID), "fuzz") else {
        panic!("an artifact that loads makes an emulator");
    };
    let emulator = emulator.with_clock(Some(NOW_MS));
    let mboxes: Vec<Value> = artifact
        .mboxes
        .keys()
        .take(MBOXES_ASKED)
        .enumerate()
        .map(|(index, name)| json!({"index": index, "name": name}))
        .collect();
    let request = json!({
        "id": {"tntId": "338e3c1e51f7416a8e1ccba4f81acea0.28_0"},
        "context": {
            "channel": "web",
            "address": {"url": "https://www.example.com/products?category=shoes"},
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
        },
        "execute": {"mboxes": mboxes, "pageLoad": {}},
        "prefetch": {"views": [{}], "mboxes": mboxes}
    });
    post(&emulator, request.to_string().as_bytes());
}

/// The variables a rule condition is tested against: the keys Target's artifacts read.
fn rule_context() -> &'static Value {
    static CONTEXT: OnceLock<Value> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        json!({
            "allocation": 42.17,
            "current_timestamp": NOW_MS,
            "current_day": "4",
            "current_time": "0930",
            "page": {
                "url": "https://www.example.com/products/shoes?color=red#top",
                "url_lc": "https://www.example.com/products/shoes?color=red#top",
                "domain": "www.example.com", "domain_lc": "www.example.com",
                "subdomain": "www", "subdomain_lc": "www",
                "topLevelDomain": "com", "topLevelDomain_lc": "com",
                "path": "/products/shoes", "path_lc": "/products/shoes",
                "query": "color=red", "query_lc": "color=red",
                "fragment": "top", "fragment_lc": "top"
            },
            "referring": {"url": "", "domain": ""},
            "user": {"browserType": "chrome", "platform": "windows", "locale": "en", "browserVersion": 120},
            "mbox": {"category": "Shoes", "category_lc": "shoes", "jason": "correct", "greg": 7, "foo": "bar",
                     "favorite": {"color_lc": "red"}, "list": [1, "2", null, true]},
            "geo": {"country": "US", "region": "CA", "city": "SANFRANCISCO", "latitude": 37.75, "longitude": -122.4}
        })
    })
}

/// A context with a memo, as the engine tests shared sub-conditions.
struct Memoized<'a> {
    data: &'a Value,
    memo: Memo,
}

impl Variables for Memoized<'_> {
    fn lookup(&self, path: &[String]) -> Option<Cow<'_, Value>> {
        self.data.lookup(path)
    }

    fn recall(&self, slot: u32) -> Option<bool> {
        self.memo.get(slot)
    }

    fn remember(&self, slot: u32, satisfied: bool) {
        self.memo.set(slot, satisfied)
    }
}

/// Compiles the input as a json-logic condition and tests it against a fixed context: the
/// fast boolean test, the value's truthiness and the compiled rule (allocation range split
/// off, shared sub-conditions memoized) must all agree.
pub fn jsonlogic(data: &[u8]) {
    let Ok(rule) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(logic) = Logic::compile(&rule) else {
        return;
    };
    let context = rule_context();
    let satisfied = logic.matches(context);
    assert_eq!(
        satisfied,
        truthy(&logic.evaluate(context)),
        "matches() disagrees with the truthiness of evaluate() for {rule}"
    );
    let mut shared = SharedConditions::default();
    let (range, rest) = shared
        .compile_rule(&rule)
        .expect("a condition that compiles compiles as a rule");
    let memoized = Memoized {
        data: context,
        memo: Memo::new(shared.slots()),
    };
    let allocation = context["allocation"].as_f64().unwrap_or_default();
    let in_range = range.is_none_or(|r| r.contains(allocation));
    for pass in ["first", "memoized"] {
        assert_eq!(
            in_range && rest.matches(&memoized),
            satisfied,
            "the compiled rule ({pass} test) disagrees with the condition {rule}"
        );
    }
}
