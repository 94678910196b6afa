//! Hardening of the client side: `decide --jsonl` on bytes that are not UTF-8, redirects,
//! location hints from the server, concurrent `profile save` and symlinked config files.

mod common;

use common::*;
use std::io::Write;
use std::process::Stdio;

fn production_artifact() -> String {
    fixtures()
        .join("artifacts/targettesting-production-rules.json")
        .display()
        .to_string()
}

#[test]
fn decide_jsonl_answers_a_line_that_is_not_utf8_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = mboxscope(dir.path())
        .args(["decide", "--artifact", &production_artifact(), "--jsonl"])
        .args(["--now", "1613761200000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let request = |id: &str| {
        format!(
            r#"{{"requestId":"{id}","context":{{"channel":"web"}},"prefetch":{{"mboxes":[{{"name":"mbox-params","index":1}}]}}}}"#
        )
        .into_bytes()
    };
    let mut input = Vec::new();
    input.extend(request("first"));
    input.extend(b"\n\xff\xfe garbage \xc3\n");
    input.extend(b"{\"requestId\":\"bad \xe9t\xe9\",\"context\":{\"channel\":\"web\"}}\n");
    input.extend(request("last"));
    input.push(b'\n');
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["response"]["requestId"], "first");
    for bad in &lines[1..3] {
        assert!(
            bad["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("not a DeliveryRequest")),
            "{bad}"
        );
    }
    assert_eq!(lines[3]["response"]["requestId"], "last");
}
