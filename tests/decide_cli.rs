//! `mboxscope decide`: one request, JSON Lines streaming, garbage lines, broken artifacts.

mod common;

use common::*;
use std::io::Write;
use std::process::Stdio;

#[test]
fn decides_one_request_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        r#"{"id":{"tntId":"338e3c1e51f7416a8e1ccba4f81acea0.28_0"},"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36"},
            "execute":{"mboxes":[{"name":"mbox-browsers","index":1}]}}"#,
    )
    .unwrap();
    let out = run(mboxscope(dir.path()).args([
        "decide",
        "--artifact",
        &production_artifact(),
        "--request",
        request.to_str().unwrap(),
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = stdout_json(&out);
    assert_eq!(
        result["response"]["client"], "targettesting",
        "the client defaults to the artifact's"
    );
    let mbox = &result["response"]["execute"]["mboxes"][0];
    assert_eq!(mbox["options"][0]["content"], "<h1>it's chrome</h1>");
    assert!(
        mbox["options"][0].get("eventToken").is_none(),
        "execute strips eventTokens"
    );
    let notifications = result["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0]["type"], "display");
    assert_eq!(notifications[0]["mbox"]["name"], "mbox-browsers");
}

#[test]
fn jsonl_streams_in_order_and_survives_garbage_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = mboxscope(dir.path())
        .args([
            "decide",
            "--artifact",
            &production_artifact(),
            "--jsonl",
            "--now",
            "1613761200000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for i in 0..200 {
        input.push_str(&format!(
            r#"{{"requestId":"r{i}","id":{{"tntId":"visitor-{i}"}},"context":{{"channel":"web"}},"prefetch":{{"mboxes":[{{"name":"mbox-params","index":1,"parameters":{{"foo":"bar"}}}}]}}}}"#
        ));
        input.push('\n');
        if i % 50 == 7 {
            input.push_str("{this is not json\n");
            input.push_str("[1,2,3]\n");
            input.push_str("\u{0}\u{1}garbage\n");
            input.push_str("{\"context\": {\"channel\": 5}}\n");
        }
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 200 + 4 * 4);
    let answers: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l.get("response").is_some())
        .collect();
    let errors = lines.iter().filter(|l| l.get("error").is_some()).count();
    assert_eq!((answers.len(), errors), (200, 16));
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(
            answer["response"]["requestId"],
            format!("r{i}"),
            "answers come in input order"
        );
    }
}

#[test]
fn broken_artifacts_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("rules.json");
    std::fs::write(&broken, "{\"version\": \"1.0.0\", \"rules\": ").unwrap();
    let out = run(mboxscope(dir.path()).args(["decide", "--artifact", broken.to_str().unwrap()]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
    let bin = fixtures().join("artifacts/obfuscated-rules.bin");
    let out = run(mboxscope(dir.path()).args([
        "decide",
        "--artifact",
        bin.to_str().unwrap(),
        "--org-id",
        "wrong@AdobeOrg",
    ]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong organization id"));
}
