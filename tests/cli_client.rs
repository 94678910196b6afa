//! The scriptable commands against real servers on 127.0.0.1: prefetch → notify, and every
//! way a server can fail.

mod common;

use common::*;
use std::time::{Duration, Instant};

#[test]
fn prefetch_then_notify_from_the_saved_output_is_fully_acknowledged() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let out = run(mboxscope(dir.path())
        .args(["prefetch", "--server", &emulator.url])
        .args(DEMO_PAGE));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = stdout_json(&out);
    for key in [
        "request",
        "response",
        "target_cookie",
        "target_location_hint_cookie",
        "analytics_details",
        "trace",
        "response_tokens",
        "meta",
    ] {
        assert!(result.get(key).is_some(), "missing {key}");
    }
    assert!(
        result["target_location_hint_cookie"].is_null(),
        "the emulator hands out no location hint"
    );
    assert_eq!(
        result["request"]["experienceCloud"]["analytics"]["logging"],
        "client_side"
    );
    assert_eq!(result["request"]["context"]["beacon"], false);
    let saved = dir.path().join("prefetch.json");
    std::fs::write(&saved, &out.stdout).unwrap();

    let out = run(mboxscope(dir.path()).args([
        "notify",
        "--server",
        &emulator.url,
        "--from",
        saved.to_str().unwrap(),
    ]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary = stdout_json(&out);
    let sent = summary["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 4, "pageLoad, two mboxes and one view");
    assert_eq!(summary["acknowledged"].as_array().unwrap().len(), 4);
    assert!(
        stderr.contains("4 of 4 notifications acknowledged"),
        "{stderr}"
    );
    // The notifications went out in the prefetch's session, for its visitor.
    let reply_request = &summary["reply"]["request"];
    assert_eq!(
        reply_request["id"]["tntId"],
        result["response"]["id"]["tntId"]
    );
    let report = emulator.get("/report");
    let impressions: u64 = report["activities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["experiences"].as_array().unwrap().iter())
        .map(|e| e["impressions"].as_u64().unwrap())
        .sum();
    assert_eq!(
        impressions, 5,
        "home-hero, product-recs, home view, two pageLoad activities"
    );

    // Sending again is safe: nothing new is sent or counted.
    let again = run(mboxscope(dir.path()).args([
        "notify",
        "--server",
        &emulator.url,
        "--from",
        saved.to_str().unwrap(),
    ]));
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already acknowledged"));
    assert_eq!(emulator.get("/report")["notifications"]["received"], 4);
}

fn failing_call(server: &str, extra: &[&str]) -> (i32, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = run(mboxscope(dir.path())
        .args(["prefetch", "--server", server, "--mbox", "home-hero"])
        .args(extra));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout on failure");
    (out.status.code().unwrap_or(-1), stderr, started.elapsed())
}

#[test]
fn a_target_error_reply_becomes_its_message() {
    let url = scripted_server(Script::Reply(
        400,
        br#"{"status":400,"message":"Invalid request: Invalid imsOrg -  bad"}"#.to_vec(),
    ));
    let (code, stderr, _) = failing_call(&url, &[]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("Target answered 400: Invalid request: Invalid imsOrg -  bad"),
        "{stderr}"
    );
}

#[test]
fn a_dead_port_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, stderr, _) = failing_call(&format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(code, 3);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[test]
fn a_stalled_server_times_out() {
    let url = scripted_server(Script::Stall(Duration::from_secs(5)));
    let (code, stderr, took) = failing_call(&url, &["--timeout-ms", "500"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("within 500 ms"), "{stderr}");
    assert!(took < Duration::from_secs(4), "gave up after {took:?}");
}

#[test]
fn a_non_json_body_is_reported() {
    let url = scripted_server(Script::Reply(200, b"<html>maintenance</html>".to_vec()));
    let (code, stderr, _) = failing_call(&url, &[]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("not a Delivery API JSON body") && stderr.contains("maintenance"),
        "{stderr}"
    );
}

#[test]
fn a_50_mb_body_is_refused() {
    let url = scripted_server(Script::Huge(50 * 1024 * 1024));
    let (code, stderr, _) = failing_call(&url, &[]);
    assert_eq!(code, 3);
    assert!(stderr.contains("over the 16777216-byte limit"), "{stderr}");
}

#[test]
fn bad_input_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(mboxscope(dir.path()).args([
        "prefetch",
        "--server",
        "http://127.0.0.1:9",
        "--mbox",
        "x",
        "--qa-url",
        "https://shop/?at_preview_index=1_1",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no at_preview_token"));
    let out = run(mboxscope(dir.path()).args(["prefetch", "--server", "http://127.0.0.1:9"]));
    assert_eq!(out.status.code(), Some(2));
    let out = run(mboxscope(dir.path()).args([
        "notify",
        "--server",
        "http://127.0.0.1:9",
        "--from",
        "/nonexistent.json",
    ]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unacknowledged_notifications_exit_4() {
    // A server that answers 200 but echoes no notification id.
    let url = scripted_server(Script::Reply(
        200,
        br#"{"status":200,"notifications":[]}"#.to_vec(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let out = run(mboxscope(dir.path()).args([
        "notify",
        "--server",
        &url,
        "--mbox",
        "home-hero",
        "--token",
        "t",
        "--state",
        "s",
    ]));
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not acknowledged"));
}
