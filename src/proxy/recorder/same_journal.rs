//! The writer's cheap path (the request parsed once, the response's skeleton read by serde)
//! journals what the full model journals: the same lines, byte for byte, and the same ledger,
//! for the emulator's answers, every fixture response, odd bodies, failures, notifications
//! and 502s. A body the full model refuses is read as the skeleton reads it (it ignores a
//! lone surrogate escape in a field it skips).

use super::{facts, upstream_error, Observed, Pending};
use crate::delivery::wire::from_json;
use crate::delivery::{DeliveryRequest, DeliveryResponse};
use crate::emulator::{DeliveryQuery, Emulator, DEMO_ARTIFACT};
use crate::ledger::observed::{Exchange, ResponseDigest};
use crate::ledger::Ledger;
use crate::proxy::digest::{self, ResponseFacts};
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Duration;

fn observed(at: i64, request: &Value, status: u16, response: Vec<u8>) -> Observed {
    Observed {
        at,
        duration: Duration::from_millis(3),
        session_id: (at % 3 > 0).then(|| format!("s{}", at % 5)),
        request: Bytes::from(serde_json::to_vec(request).unwrap()),
        status,
        response: Bytes::from(response),
        unreachable: None,
    }
}

/// The emulator's answers to prefetches, executes and notifications (acknowledged, repeated,
/// unknown), then every fixture response as the answer to a prefetch, then odd exchanges.
fn traffic() -> Vec<Observed> {
    let emulator = Emulator::new(DEMO_ARTIFACT, None, "demo").unwrap();
    let query = DeliveryQuery {
        client: Some(emulator.client_code()),
        session_id: Some("s1"),
    };
    let context = json!({"channel": "web", "address": {"url": "https://shop.example.com/"},
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) Chrome/80.0.3987.163"});
    let mut requests = vec![
        json!({"context": context, "id": {"tntId": "v1.28_0"}, "requestId": "r1",
            "prefetch": {"mboxes": [{"name": "home-hero", "index": 1},
                {"name": "product-recs", "index": 2, "parameters": {"category": "shoes"}}],
                "pageLoad": {}}}),
        json!({"context": context, "id": {"tntId": "v2"}, "impressionId": "i2",
            "execute": {"pageLoad": {}, "mboxes": [{"name": "home-hero", "index": 1}]}}),
        json!({"context": context, "prefetch": {"views": [{}]}, "qaMode": {"token": "t"}}),
        json!({"context": context, "execute": {"mboxes": [{"name": "unknown", "index": 1}]},
            "prefetch": {"pageLoad": {}}}),
    ];
    let mut exchanges = Vec::new();
    let mut at = 1_700_000_000_000;
    for request in &requests {
        at += 1000;
        let reply = emulator.delivery(query, &serde_json::to_vec(request).unwrap());
        exchanges.push(observed(at, request, reply.status, reply.body));
    }
    // Notifications of the first answer's options: acknowledged, sent again, and rejected.
    let first: DeliveryResponse = serde_json::from_slice(&exchanges[0].response).unwrap();
    let tokens: Vec<String> = crate::delivery::decided_items(&first)
        .into_iter()
        .filter_map(|item| item.parts(&first).options.cloned())
        .flatten()
        .filter_map(|o| o.event_token)
        .collect();
    assert!(tokens.len() > 2, "{tokens:?}");
    requests = vec![
        json!({"context": context, "id": {"tntId": "v1.28_0"}, "notifications": [
            {"id": "n1", "type": "display", "timestamp": at, "impressionId": "i1",
                "mbox": {"name": "home-hero", "state": "st"}, "tokens": [tokens[0]]},
            {"id": "n2", "type": "click", "timestamp": at, "view": {"name": "home", "key": "k"},
                "tokens": [tokens[1]]}]}),
        json!({"context": context, "id": {"tntId": "v1.28_0"}, "notifications": [
            {"id": "n1", "type": "display", "timestamp": at, "impressionId": "i1",
                "mbox": {"name": "home-hero", "state": "st"}, "tokens": [tokens[0]]},
            {"id": "n3", "type": "display", "pageLoad": {"state": "p"}, "tokens": ["nope"]}]}),
    ];
    for request in &requests {
        at += 1000;
        let reply = emulator.delivery(query, &serde_json::to_vec(request).unwrap());
        exchanges.push(observed(at, request, reply.status, reply.body));
    }
    let prefetch =
        json!({"id": {"tntId": "f"}, "prefetch": {"mboxes": [{"name": "m", "index": 1}]}});
    for body in digest::tests::fixture_objects() {
        at += 7;
        exchanges.push(observed(at, &prefetch, 200, body));
    }
    let notify = json!({"notifications": [{"id": "odd", "type": "display", "tokens": ["t"]}]});
    let odd: [(u16, &[u8]); 6] = [
        (
            200,
            br#"{"prefetch":{"mboxes":[{"name":"a","name":"b","options":[{"eventToken":"t"}]}]}}"#,
        ),
        (200, b"not json"),
        (200, br#"{"notifications":[{"id":"odd"}],"x":"\ud800"}"#),
        (400, br#"{"status":400,"message":"Invalid token"}"#),
        (503, b"\xff upstream down"),
        (204, b""),
    ];
    for (status, body) in odd {
        at += 1;
        exchanges.push(observed(at, &notify, status, body.to_vec()));
        exchanges.push(observed(at, &prefetch, status, body.to_vec()));
    }
    at += 1;
    let mut unreachable = observed(at, &notify, 502, br#"{"status":502}"#.to_vec());
    unreachable.unreachable = Some("connection refused".into());
    exchanges.push(unreachable);
    exchanges
}

/// What the full model reads of a 2xx answer (the journal's digest and the feed's facts), or
/// the skeleton's when the full model refuses the body.
fn reference(observed: &Observed) -> Option<(ResponseDigest, ResponseFacts)> {
    if !(200..300).contains(&observed.status) {
        return None;
    }
    match serde_json::from_slice::<DeliveryResponse>(&observed.response) {
        Ok(response) => Some((ResponseDigest::of(&response), digest::whole(&response))),
        Err(_) => digest::read(&observed.response).map(|f| (f.digest.clone(), f)),
    }
}

/// A journal's lines, each page view's `at` (when it was journaled) made 0, and its ledger.
fn journaled(exchanges: impl FnOnce(&mut Ledger)) -> (Vec<String>, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    exchanges(&mut ledger);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = text
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            match (&value["event"], &value["at"]) {
                (Value::String(kind), Value::Number(at)) if kind == "response" => line.replacen(
                    &format!(",\"at\":{at},\"items\":"),
                    ",\"at\":0,\"items\":",
                    1,
                ),
                _ => line.to_string(),
            }
        })
        .collect();
    (lines, ledger)
}

#[test]
fn the_writers_journal_and_ledger_are_the_full_models() {
    let traffic = traffic();
    // The writer's path.
    let mut pending: Vec<Pending> = (1..)
        .zip(traffic.iter().cloned())
        .map(|(seq, observed)| Pending::new(seq, observed))
        .collect();
    let (cheap, cheap_ledger) = journaled(|ledger| {
        let exchanges = pending.iter_mut().filter_map(Pending::exchange).collect();
        ledger.record_observed(exchanges).unwrap();
    });
    // The full model: request and response parsed whole.
    let requests: Vec<Option<DeliveryRequest>> =
        traffic.iter().map(|o| from_json(&o.request).ok()).collect();
    let failures: Vec<Option<String>> = traffic
        .iter()
        .map(|o| match &o.unreachable {
            Some(why) => Some(why.clone()),
            None if !(200..300).contains(&o.status) => Some(upstream_error(o.status, &o.response)),
            None => None,
        })
        .collect();
    let (whole, whole_ledger) = journaled(|ledger| {
        let exchanges = traffic
            .iter()
            .zip(&requests)
            .zip(&failures)
            .filter_map(|((o, request), failure)| {
                Some(Exchange {
                    session_id: o.session_id.as_deref().unwrap_or_default(),
                    request: request.as_ref()?,
                    response: reference(o).map(|(digest, _)| digest),
                    failure: failure.as_deref(),
                    at: o.at,
                })
            })
            .collect();
        ledger.record_observed(exchanges).unwrap();
    });
    assert!(cheap.len() > 1000, "{} lines", cheap.len());
    for (line, (ours, theirs)) in cheap.iter().zip(&whole).enumerate() {
        assert_eq!(ours, theirs, "line {}", line + 1);
    }
    assert_eq!(cheap.len(), whole.len());
    let entries = |l: &Ledger| l.entries().cloned().collect::<Vec<_>>();
    assert_eq!(entries(&cheap_ledger), entries(&whole_ledger));
    assert_eq!(cheap_ledger.expected(), whole_ledger.expected());
    let pages = |l: &Ledger| {
        l.responses()
            .map(|(seq, r)| (seq, crate::ledger::ResponseRecord { at: 0, ..r.clone() }))
            .collect::<Vec<_>>()
    };
    assert_eq!(pages(&cheap_ledger), pages(&whole_ledger));
    assert!(cheap_ledger.entries().any(|e| e.verdict.is_some()));
    // What the feed shows of each answer (visitor, locations, options) is the whole model's.
    for observed in &traffic {
        let whole = reference(observed).map(|(_, facts)| facts);
        assert_eq!(facts(observed), whole);
    }
}
