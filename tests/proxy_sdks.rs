//! `mboxscope proxy` between Adobe's SDKs and a `mboxscope serve`, all real processes on
//! 127.0.0.1: what an application sends is forwarded unchanged, journaled as observed traffic,
//! and `mboxscope report` on that target names the visitors it never notified. The SDK
//! environments are the ones `tests/official_sdks.rs` uses (`MBOXSCOPE_SDK_DIR`, default
//! `target/sdk-env`, made by `.ci/run` or on first use).

mod common;

use common::proxy::Proxy;
use common::sdk::*;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const CLIENT: &str = "mboxscopedemo";

fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("the script runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Runs an application (five visitors prefetch home-hero through the proxy, three are
/// notified) and checks what `mboxscope report` makes of it against the upstream's `/report`.
fn application_through_the_proxy(
    app: &mut Command,
    proxy: &Proxy,
    emulator: &Emulator,
    data: &Path,
) {
    let seen = run_json(app.arg(&proxy.url));
    assert_eq!(seen["sent"], seen["acked"], "{seen}");
    let visitors = strings(&seen["visitors"]);
    let notified = strings(&seen["notified"]);
    assert_eq!((visitors.len(), notified.len()), (5, 3), "{seen}");
    // 5 prefetches and 3 notification requests.
    let exchanges = proxy.exchanges(8);
    assert!(exchanges.iter().all(|x| x["journaled"] == true));
    let report = stdout_json(&run(mboxscope(data).args([
        "report",
        "--server",
        &emulator.url,
        "--client",
        CLIENT,
        "--json",
    ])));
    let never: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "prefetched-not-notified")
        .map(|f| f["visitor"].as_str().unwrap().to_string())
        .collect();
    let expected_never: BTreeSet<String> = visitors.difference(&notified).cloned().collect();
    assert_eq!(never, expected_never, "{report:#}");
    let rows = report["comparison"]["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{report:#}");
    for row in rows {
        assert_eq!(row["expected"], row["counted"], "{row}");
    }
    let counted = emulator.get("/report");
    let hero: u64 = counted["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == "Spring hero")
        .flat_map(|a| a["experiences"].as_array().unwrap())
        .map(|e| e["impressions"].as_u64().unwrap())
        .sum();
    assert_eq!(hero, 3, "{counted}");
    let expected_impressions: u64 = report["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["impressions"].as_u64().unwrap())
        .sum();
    assert_eq!(expected_impressions, hero);
}

#[test]
fn python_sdk_application_counted_and_linted_through_the_proxy() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let mut app = Command::new(python);
    app.arg(script("proxy_app.py"));
    application_through_the_proxy(&mut app, &proxy, &emulator, dir.path());
}

#[test]
fn node_sdk_application_counted_and_linted_through_the_proxy() {
    let modules = node_modules();
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let mut app = Command::new("node");
    app.env("NODE_PATH", &modules).arg(script("proxy_app.js"));
    application_through_the_proxy(&mut app, &proxy, &emulator, dir.path());
}

/// A raw request: status, headers (lower-case) and body bytes.
fn exchange(url: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nAccept: application/json\r\nX-EXC-SDK: AdobeTargetNode\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, response[split + 4..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::trim)
}

#[test]
fn bytes_through_the_proxy_equal_bytes_direct_and_a_down_upstream_gives_a_502() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let request = serde_json::to_vec(&json!({
        "requestId": "same-request",
        "id": {"tntId": "replayed-visitor"},
        "context": {"channel": "web", "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"},
        "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}, {"name": "product-recs", "index": 2}], "views": [{}], "pageLoad": {}}
    }))
    .unwrap();
    let query = "rest/v1/delivery?client=mboxscopedemo&sessionId=replay";
    // The emulator makes a new state per answer: an upstream that gives the same bytes to the
    // same request is the emulator's answer, replayed.
    let answer = exchange(&format!("{}/{query}", emulator.url), &request).2;
    let replaying = scripted_server(Script::Reply(200, answer));
    let proxy_to_replaying = Proxy::start(dir.path(), Some(&replaying));
    let direct = exchange(&format!("{replaying}/{query}"), &request);
    let proxied = exchange(&format!("{}/{query}", proxy_to_replaying.url), &request);
    assert_eq!(direct.0, 200);
    assert_eq!(proxied.0, direct.0);
    assert_eq!(
        header(&proxied.1, "content-type"),
        header(&direct.1, "content-type")
    );
    assert!(
        proxied.2 == direct.2,
        "bytes differ:\n{}\n{}",
        String::from_utf8_lossy(&direct.2),
        String::from_utf8_lossy(&proxied.2)
    );
    // An error of the upstream comes back as it is.
    let bad = br#"{"context":{}}"#;
    let direct_error = exchange(&format!("{}/{query}", emulator.url), bad);
    let proxied_error = exchange(&format!("{}/{query}", proxy.url), bad);
    assert_eq!(direct_error.0, 400);
    assert_eq!(
        (proxied_error.0, &proxied_error.2),
        (direct_error.0, &direct_error.2)
    );

    // The upstream goes away: the application gets Target's error shape with a 502.
    let down = Proxy::start(dir.path(), Some(&scripted_down_upstream()));
    let (status, head, body) = exchange(&format!("{}/{query}", down.url), &request);
    assert_eq!(status, 502);
    assert_eq!(header(&head, "content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["status"], 502);
    assert!(
        body["message"].as_str().unwrap().contains("did not answer"),
        "{body}"
    );
    let feed = down.exchanges(1);
    assert_eq!(feed[0]["status"], 502);
}

/// A loopback address nothing listens on.
fn scripted_down_upstream() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn a_journal_that_cannot_be_written_is_reported_and_the_traffic_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    // A directory where the journal file should be: it cannot be opened.
    let journal = mboxscope::ledger::store::journal_path(
        &dir.path().join("data"),
        Some(CLIENT),
        &mboxscope::client::Server::from_flag(&emulator.url).describe(),
    );
    std::fs::create_dir_all(&journal).unwrap();
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let request = br#"{"id":{"tntId":"v"},"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"home-hero","index":1}]}}"#;
    let query = "rest/v1/delivery?client=mboxscopedemo&sessionId=s";
    let (status, _, body) = exchange(&format!("{}/{query}", proxy.url), request);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let feed = proxy.exchanges(1);
    assert_eq!(feed[0]["journaled"], false, "{}", feed[0]);
    let path = journal.display().to_string();
    let said = proxy.stderr_saying(&path);
    assert!(said.contains(&path), "stderr: {said}");
    // Once the journal can be written, what waited is journaled.
    std::fs::remove_dir(&journal).unwrap();
    let (status, _, _) = exchange(&format!("{}/{query}", proxy.url), request);
    assert_eq!(status, 200);
    proxy.exchanges(2);
    let ledger = mboxscope::ledger::Ledger::open_read_only(&journal).unwrap();
    assert_eq!(ledger.responses().count(), 2);
}

#[test]
fn a_locked_journal_never_holds_the_traffic_up() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let request = br#"{"id":{"tntId":"v"},"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"home-hero","index":1}]}}"#;
    let query = "rest/v1/delivery?client=mboxscopedemo&sessionId=s";
    exchange(&format!("{}/{query}", proxy.url), request);
    proxy.exchanges(1);
    let journal = std::fs::read_dir(dir.path().join("data/ledger"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let holder = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(&journal)
        .unwrap();
    holder.lock().unwrap();
    for _ in 0..3 {
        let (status, _, _) = exchange(&format!("{}/{query}", proxy.url), request);
        assert_eq!(status, 200);
    }
    let feed = proxy.exchanges(4);
    assert!(feed[1..].iter().all(|x| x["journaled"] == false));
    let said = proxy.stderr_saying("locked by another process");
    assert!(said.contains("locked by another process"), "{said}");
    holder.unlock().unwrap();
    // The next exchange finds the journal free: everything that waited is written.
    exchange(&format!("{}/{query}", proxy.url), request);
    proxy.exchanges(5);
    let ledger = mboxscope::ledger::Ledger::open_read_only(&journal).unwrap();
    assert_eq!(ledger.responses().count(), 5);
    // The page views that waited keep what their answers decided.
    let items: Vec<usize> = ledger.responses().map(|(_, r)| r.items.len()).collect();
    assert!(items.iter().all(|n| *n == items[0] && *n > 0), "{items:?}");
}

#[test]
fn the_feed_shows_each_exchange_with_its_notifications_and_findings() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    // A live view watches from the start: nothing yet, answered at once.
    let none = runtime
        .block_on(mboxscope::proxy::watch::poll(&client, &proxy.url, 0))
        .unwrap();
    assert!(none.is_empty());
    let query = "rest/v1/delivery?client=mboxscopedemo&sessionId=feed-session";
    let (_, _, body) = exchange(
        &format!("{}/{query}", proxy.url),
        br#"{"requestId":"page-1","id":{"tntId":"feed-visitor"},"context":{"channel":"web","userAgent":"curl/8.0"},"prefetch":{"mboxes":[{"name":"home-hero","index":1}]}}"#,
    );
    let answer: Value = serde_json::from_slice(&body).unwrap();
    let mbox = &answer["prefetch"]["mboxes"][0];
    let two_hours_ago = mboxscope::clock::now_ms() - 2 * 3_600_000;
    let notify = json!({"id": {"tntId": "feed-visitor"}, "context": {"channel": "web"},
        "notifications": [{"id": "n-1", "type": "display", "timestamp": two_hours_ago,
            "mbox": {"name": "home-hero", "state": mbox["state"]},
            "tokens": [mbox["options"][0]["eventToken"]]}]});
    exchange(
        &format!("{}/{query}", proxy.url),
        &serde_json::to_vec(&notify).unwrap(),
    );
    let feed = runtime
        .block_on(mboxscope::proxy::watch::poll_waiting(
            &client,
            &proxy.url,
            0,
            std::time::Duration::from_secs(10),
        ))
        .unwrap();
    let first = &feed[0];
    assert_eq!(first.seq, 1);
    assert_eq!(first.kind, "prefetch");
    assert_eq!(first.visitor.as_deref(), Some("feed-visitor"));
    assert_eq!(first.session_id.as_deref(), Some("feed-session"));
    assert_eq!(first.locations, ["mbox home-hero"]);
    assert_eq!(first.options, 1);
    assert_eq!(first.response.as_bytes(), &body[..]);
    let rules: Vec<&str> = first.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"bot-user-agent"), "{rules:?}");
    let rest = runtime
        .block_on(mboxscope::proxy::watch::poll_waiting(
            &client,
            &proxy.url,
            first.seq,
            std::time::Duration::from_secs(10),
        ))
        .unwrap();
    let second = &rest[0];
    assert_eq!(second.kind, "notifications");
    assert_eq!(second.notifications.len(), 1);
    assert_eq!(second.notifications[0].id, "n-1");
    assert_eq!(second.notifications[0].state, "acked");
    assert!(second.notifications[0].verdict.is_some());
    let rules: Vec<&str> = second.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"timestamp-before-session"), "{rules:?}");
    // Nothing newer: a plain poll answers at once, empty.
    let none = runtime
        .block_on(mboxscope::proxy::watch::poll(
            &client, &proxy.url, second.seq,
        ))
        .unwrap();
    assert!(none.is_empty());
    let refused = runtime.block_on(mboxscope::proxy::watch::poll(&client, &emulator.url, 0));
    assert!(refused.is_err());
}

#[test]
fn a_client_that_shuts_its_side_after_a_whole_request_gets_the_answer_through_the_proxy() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let body =
        br#"{"requestId":"half-closed","context":{"channel":"web"},"execute":{"pageLoad":{}}}"#;
    for base in [&emulator.url, &proxy.url] {
        let host = base.strip_prefix("http://").unwrap();
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        let head = format!(
            "POST /rest/v1/delivery?client={CLIENT}&sessionId=s1 HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream
            .write_all(&[head.as_bytes(), &body[..]].concat())
            .unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 200 OK")
                && answer.contains(r#""requestId":"half-closed""#),
            "{base}: {answer}"
        );
    }
}
