//! The emulator behaves like Target where QA depends on it (issue #12), over real HTTP: QA links
//! force their experience, QA traffic is counted apart, the wire carries nothing Target would
//! not send, beacons get 204, `serve --now` sets the clock.

mod common;

use common::*;
use mboxscope::delivery::{qa_mode_from_url, QaLink};
use serde_json::{json, Value};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn delivery(e: &Emulator, session: &str, body: &Value) -> (u16, Value) {
    e.post(&format!("/rest/v1/delivery?sessionId={session}"), body)
}

fn context() -> Value {
    json!({"channel": "web", "userAgent": BROWSER, "address": {"url": "https://shop.example.com/"}})
}

/// Where each activity of the demo artifact is decided: ("mbox"|"view"|"pageLoad", name).
fn locations(e: &Emulator) -> Vec<(String, &'static str, String)> {
    let rules = e.get("/rules.json");
    let global = rules["globalMbox"].as_str().unwrap().to_string();
    let mut out = Vec::new();
    for (kind, key) in [("mbox", "mboxes"), ("view", "views")] {
        for (name, list) in rules["rules"][key].as_object().unwrap() {
            for rule in list.as_array().unwrap() {
                let activity = rule["meta"]["activity.id"].to_string();
                let kind = if *name == global { "pageLoad" } else { kind };
                if !out.iter().any(|(a, _, _)| *a == activity) {
                    out.push((activity, kind, name.clone()));
                }
            }
        }
    }
    out
}

/// Every option's (activity.id, experience.id) in a response.
fn decided(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut walk = |v: &Value| {
        for o in v["options"].as_array().into_iter().flatten() {
            let t = &o["responseTokens"];
            out.push((
                t["activity.id"].as_str().unwrap_or("?").to_string(),
                t["experience.id"].as_str().unwrap_or("?").to_string(),
            ));
        }
    };
    for part in ["prefetch", "execute"] {
        for key in ["mboxes", "views"] {
            for item in body[part][key].as_array().into_iter().flatten() {
                walk(item);
            }
        }
        walk(&body[part]["pageLoad"]);
    }
    out
}

fn everything() -> Value {
    json!({"mboxes": [{"name": "home-hero", "index": 1}, {"name": "product-recs", "index": 2}],
           "views": [{"name": "home"}, {"name": "checkout"}], "pageLoad": {}})
}

#[test]
fn every_qa_link_forces_its_experience_for_every_visitor_and_lists_only_its_activity() {
    let e = Emulator::start(&[]);
    let links: Vec<QaLink> = serde_json::from_value(e.get("/qa")).unwrap();
    let places = locations(&e);
    assert!(links.len() >= 10, "{links:?}");
    for link in &links {
        let qa = qa_mode_from_url(&link.url).unwrap();
        assert_eq!(qa.listed_activities_only, Some(true));
        let activity = link.activity.to_string();
        let experience = link.experience.to_string();
        assert!(places.iter().any(|(a, _, _)| *a == activity), "{activity}");
        for visitor in 0..20 {
            let (status, body) = delivery(
                &e,
                &format!("qa-{activity}-{visitor}"),
                &json!({"id": {"tntId": format!("qa-visitor-{visitor}")}, "context": context(),
                        "qaMode": qa, "prefetch": everything()}),
            );
            assert_eq!(status, 200, "{body}");
            let got = decided(&body);
            assert!(
                got.contains(&(activity.clone(), experience.clone())),
                "{} · {}: visitor {visitor} got {got:?}",
                link.activity_name,
                link.experience_name
            );
            assert!(
                got.iter().all(|(a, x)| *a == activity && *x == experience),
                "listedActivitiesOnly: only {activity}/{experience}, got {got:?}"
            );
        }
    }
    // Experience A then B of the hero activity, as the first QA session does.
    let hero: Vec<&QaLink> = links
        .iter()
        .filter(|l| l.activity_name == "Spring hero")
        .collect();
    assert_eq!(hero.len(), 2);
    assert_eq!(hero[0].experience_name, "Experience A");
    assert_eq!(hero[1].experience_name, "Experience B");
    // A token that is not one of the emulator's is refused, in Target's error shape.
    let (status, body) = delivery(
        &e,
        "bad-token",
        &json!({"context": context(), "qaMode": {"token": "forged"}, "prefetch": everything()}),
    );
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("qaMode.token"),
        "{body}"
    );
}

#[test]
fn qa_traffic_is_counted_apart_from_live_traffic_for_the_whole_session() {
    let e = Emulator::start(&[]);
    let links: Vec<QaLink> = serde_json::from_value(e.get("/qa")).unwrap();
    let b = links
        .iter()
        .find(|l| l.experience_name == "Experience B")
        .unwrap();
    let qa = qa_mode_from_url(&b.url).unwrap();
    let (_, body) = delivery(
        &e,
        "qa-session",
        &json!({"id": {"tntId": "tester"}, "context": context(), "qaMode": qa,
                "execute": {"mboxes": [{"name": "home-hero", "index": 1}]},
                "prefetch": {"mboxes": [{"name": "home-hero", "index": 2}]}}),
    );
    let mbox = &body["prefetch"]["mboxes"][0];
    // A notification later in the same session, without qaMode, is QA traffic too.
    let (status, reply) = delivery(
        &e,
        "qa-session",
        &json!({"id": {"tntId": "tester"}, "context": context(), "notifications": [{
            "id": "n1", "impressionId": "i1", "type": "display", "timestamp": mboxscope::clock::now_ms(),
            "mbox": {"name": "home-hero", "state": mbox["state"]},
            "tokens": [mbox["options"][0]["eventToken"]]}]}),
    );
    assert_eq!(status, 200, "{reply}");
    let report: mboxscope::counting::Report = serde_json::from_value(e.get("/report")).unwrap();
    let qa_counts = report
        .qa
        .iter()
        .flat_map(|a| a.experiences.iter())
        .find(|x| x.name == "Experience B")
        .unwrap();
    assert_eq!(qa_counts.impressions, 2, "execute and display, under qa");
    assert!(
        report.rows().all(|(_, x)| x.impressions == 0),
        "live counts untouched: {report:?}"
    );
    // Another session of the same visitor is live again.
    delivery(
        &e,
        "live-session",
        &json!({"id": {"tntId": "tester"}, "context": context(),
                "execute": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    );
    let report: mboxscope::counting::Report = serde_json::from_value(e.get("/report")).unwrap();
    assert_eq!(report.rows().map(|(_, x)| x.impressions).sum::<u64>(), 1);
}

fn scan_for_on_device_leftovers(v: &Value, path: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                assert!(
                    k != "remoteMboxes" && k != "remoteViews",
                    "{path}.{k}: the edge sends no {k}"
                );
                if k == "responseTokens" {
                    for (name, token) in child.as_object().unwrap() {
                        assert!(
                            token.is_string(),
                            "{path}.{k}.{name} = {token}: tokens are strings"
                        );
                        assert_ne!(name, "activity.decisioningMethod");
                    }
                }
                scan_for_on_device_leftovers(child, &format!("{path}.{k}"));
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                scan_for_on_device_leftovers(child, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}

#[test]
fn the_wire_carries_what_the_edge_sends_and_beacons_get_204() {
    let e = Emulator::start(&[]);
    for request in [
        json!({"context": context(), "prefetch": everything()}),
        json!({"context": context(), "execute": {"mboxes": [{"name": "home-hero", "index": 1}], "pageLoad": {}}}),
        // A mbox the artifact does not decide on device (a server-side-only activity).
        json!({"context": context(), "prefetch": {"mboxes": [{"name": "server-side-only", "index": 1}]}}),
    ] {
        let (status, body) = delivery(&e, "wire", &request);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], 200);
        assert!(
            body["requestId"].as_str().is_some_and(|r| !r.is_empty()),
            "a requestId is generated: {body}"
        );
        scan_for_on_device_leftovers(&body, "");
    }
    let (status, bytes) = http_raw(
        "POST",
        &format!("{}/rest/v1/delivery?sessionId=beacon", e.url),
        Some(
            &serde_json::to_vec(
                &json!({"context": {"channel": "web", "userAgent": BROWSER, "beacon": true},
                "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
            )
            .unwrap(),
        ),
    );
    assert_eq!(status, 204);
    assert!(bytes.is_empty(), "a beacon's answer has no body");
}

#[test]
fn a4t_payloads_only_for_activities_reporting_to_analytics() {
    let e = Emulator::start(&[]);
    let (_, body) = delivery(
        &e,
        "a4t",
        &json!({"context": context(), "experienceCloud": {"analytics": {"logging": "client_side"}},
                "prefetch": everything()}),
    );
    // Spring hero reports to Analytics; Checkout reassurance (views) to Target.
    let hero = &body["prefetch"]["mboxes"][0];
    assert!(hero["analytics"]["payload"]["tnta"]
        .as_str()
        .unwrap()
        .starts_with("312345:"));
    for view in body["prefetch"]["views"].as_array().unwrap() {
        assert!(view["analytics"].is_null(), "{view}");
    }
}

#[test]
fn serve_now_sets_the_clock_of_time_based_audiences() {
    // Saturday 2025-11-29 12:00 UTC, and Wednesday 2025-11-26 10:00 UTC.
    let experience_at = |now: &str| -> Vec<String> {
        let e = Emulator::start(&["--now", now]);
        let (_, body) = delivery(
            &e,
            "clock",
            &json!({"context": context(), "prefetch": {"pageLoad": {}}}),
        );
        body["prefetch"]["pageLoad"]["options"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["responseTokens"]["activity.id"] == "312380")
            .map(|o| {
                o["responseTokens"]["experience.name"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(experience_at("1764417600000"), ["Weekend"]);
    assert_eq!(experience_at("1764151200000"), ["Business hours"]);
}

#[test]
fn visitors_get_a_tnt_id_keep_their_experience_and_their_profile() {
    let e = Emulator::start(&[]);
    let hero = |session: &str, id: Value, extra: Value| -> (String, String, Value) {
        let mut request = json!({"id": id, "context": context(),
            "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}});
        if let (Some(r), Some(x)) = (request.as_object_mut(), extra.as_object()) {
            r.extend(x.clone());
        }
        let (status, body) = delivery(&e, session, &request);
        assert_eq!(status, 200, "{body}");
        let tokens = body["prefetch"]["mboxes"][0]["options"][0]["responseTokens"].clone();
        (
            body["id"]["tntId"].as_str().unwrap_or_default().to_string(),
            tokens["experience.id"].as_str().unwrap().to_string(),
            tokens,
        )
    };
    for (n, id) in [
        json!({"marketingCloudVisitorId": "mcid-only-1"}),
        json!({"thirdPartyId": "crm-only-1"}),
        json!({"customerIds": [{"id": "42", "integrationCode": "crm"}]}),
    ]
    .into_iter()
    .enumerate()
    {
        let (tnt, experience, _) = hero(&format!("s{n}"), id.clone(), json!({}));
        assert_eq!(tnt.len(), 32, "a tntId is minted for {id}: {tnt:?}");
        assert!(!tnt.contains('.'), "no location hint");
        for later in 0..5 {
            let (again, same, _) = hero(&format!("s{n}-{later}"), id.clone(), json!({}));
            assert_eq!(again, tnt, "the same visitor on every call ({id})");
            assert_eq!(same, experience, "and the same experience ({id})");
        }
    }
    // A known tntId seen later with an MCID stays one visitor in the same experience.
    let mut moved = 0;
    for v in 0..20 {
        let tnt = format!("pinned-{v}");
        let (_, first, _) = hero("p1", json!({"tntId": tnt}), json!({}));
        let (again, second, _) = hero(
            "p2",
            json!({"tntId": tnt, "marketingCloudVisitorId": format!("mcid-{v}")}),
            json!({}),
        );
        assert_eq!(again, tnt);
        let (by_mcid, third, _) = hero(
            "p3",
            json!({"marketingCloudVisitorId": format!("mcid-{v}")}),
            json!({}),
        );
        assert_eq!(by_mcid, tnt, "the MCID now names the same visitor");
        moved += usize::from(first != second || first != third);
    }
    assert_eq!(moved, 0, "no visitor moved to another experience");
    // Profile parameters are kept and come back as profile.* response tokens.
    hero(
        "prof",
        json!({"tntId": "profiled"}),
        json!({"execute": {"pageLoad": {"profileParameters": {"favoriteColor": "green"}}}}),
    );
    let (_, _, tokens) = hero("prof-2", json!({"tntId": "profiled"}), json!({}));
    assert_eq!(tokens["profile.favoriteColor"], "green", "{tokens}");
    let record = e.get("/visitors/profiled");
    assert_eq!(record["profile"]["favoriteColor"], "green", "{record}");
    assert_eq!(e.get("/visitors/mcid-3")["tnt_id"], "pinned-3");
    let (status, _) = http("GET", &format!("{}/visitors/nobody", e.url), None);
    assert_eq!(status, 404);
}

#[test]
fn a4t_events_follow_the_visitor_entrance_visit_impression() {
    let e = Emulator::start(&[]);
    let tnta = |session: &str| -> String {
        let (_, body) = delivery(
            &e,
            session,
            &json!({"id": {"tntId": "a4t-visitor"}, "context": context(),
                    "experienceCloud": {"analytics": {"logging": "client_side"}},
                    "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
        );
        body["prefetch"]["mboxes"][0]["analytics"]["payload"]["tnta"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let events = |t: &str| -> Vec<String> {
        t.split(',')
            .map(|e| e.rsplit('|').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        events(&tnta("v1")),
        ["2", "1", "0"],
        "first hit: impression, visit, entrance"
    );
    assert_eq!(events(&tnta("v1")), ["2"], "same visit: impression");
    assert_eq!(
        events(&tnta("v2")),
        ["2", "1"],
        "a new visit: impression, visit"
    );
}

#[test]
fn a_remote_only_mbox_comes_back_empty_with_a_trace_note_and_status_200() {
    let artifact = fixtures().join("target-sdk-testing/artifacts/TEST_ARTIFACT_FEATURE_FLAG.json");
    let e = Emulator::start(&["--artifact", artifact.to_str().unwrap()]);
    let (status, body) = delivery(
        &e,
        "remote",
        &json!({"context": context(), "trace": {"authorizationToken": "t"},
                "prefetch": {"mboxes": [{"name": "remote-only-mbox-a", "index": 1}]}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], 200);
    scan_for_on_device_leftovers(&body, "");
    let mbox = &body["prefetch"]["mboxes"][0];
    assert_eq!(mbox["name"], "remote-only-mbox-a");
    assert!(
        mbox["options"].as_array().is_none_or(|o| o.is_empty()),
        "{mbox}"
    );
    assert!(
        mbox["trace"]["mboxscopeNote"]
            .as_str()
            .is_some_and(|n| n.contains("cannot decide server-side-only")),
        "{mbox}"
    );
}
