//! Hardening of `mboxscope serve` over real HTTP on 127.0.0.1: request limits, notification
//! validation, Content-Type and Origin rules, logging that never blocks, timeouts and caps.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

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

/// Sends `head` (and `body`) on a new connection and reads the answer until it closes: status
/// and text.
fn exchange(url: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// A POST with these extra header lines.
fn post(e: &Emulator, path: &str, headers: &str, body: &str) -> (u16, String) {
    let host = e.url.trim_start_matches("http://");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    exchange(&e.url, &head, body.as_bytes())
}

/// Longest wait for an answer before a test gives up (a guard against hanging, not a measure).
const HANG_GUARD: Duration = Duration::from_secs(30);
const DELIVERY: &str = "/rest/v1/delivery?client=mboxscopedemo&sessionId=s1";
const JSON: &str = "Content-Type: application/json\r\n";

fn impressions(e: &Emulator) -> u64 {
    e.get("/report")["activities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["experiences"].as_array().unwrap())
        .map(|x| x["impressions"].as_u64().unwrap())
        .sum()
}

#[test]
fn posts_need_json_and_browsers_on_other_origins_are_refused() {
    let e = Emulator::start(&[]);
    let execute =
        json!({"context": context(), "execute": {"mboxes": [{"name": "home-hero", "index": 1}]}})
            .to_string();
    for headers in [
        "Content-Type: text/plain;charset=UTF-8\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        "",
    ] {
        let (status, text) = post(&e, DELIVERY, headers, &execute);
        assert_eq!(status, 415, "{headers:?}: {text}");
        assert!(text.contains(r#""status":415"#), "{text}");
    }
    assert_eq!(impressions(&e), 0, "nothing counted");
    let own = format!("Origin: {}\r\n", e.url);
    let (status, text) = post(
        &e,
        DELIVERY,
        &format!("Content-Type: application/json; charset=UTF-8\r\n{own}"),
        &execute,
    );
    assert_eq!(status, 200, "{text}");
    assert_eq!(impressions(&e), 1);
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let foreign = format!("{JSON}Origin: {origin}\r\n");
        let (status, text) = post(&e, DELIVERY, &foreign, &execute);
        assert_eq!(status, 403, "{origin}: {text}");
        assert!(text.contains(r#""status":403"#), "{text}");
        let (status, text) = post(&e, "/report/reset", &foreign, "{}");
        assert_eq!(status, 403, "{origin}: {text}");
    }
    assert_eq!(impressions(&e), 1, "neither counted nor reset");
    // A page that rebinds its own name to 127.0.0.1 sends that name as Host.
    let port = e.url.rsplit(':').next().unwrap();
    let (status, text) = exchange(
        &e.url,
        &format!("GET /report HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n"),
        b"",
    );
    assert_eq!(status, 403, "{text}");
    let (status, _) = post(
        &e,
        "/report/reset",
        &own.replace("127.0.0.1", "localhost"),
        "{}",
    );
    assert_eq!(status, 415, "a reset is JSON too");
    let (status, text) = post(&e, "/report/reset", &format!("{JSON}{own}"), "{}");
    assert_eq!(status, 200, "{text}");
    assert_eq!(impressions(&e), 0);
}

/// `mboxscope serve` (logging every request) with its stdout piped; its URL and stdout.
fn serve_logging(extra: &[&str]) -> (Child, String, BufReader<ChildStdout>) {
    let mut child = Command::new(bin())
        .arg("serve")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("http://127.0.0.1:"), "{first:?}");
    (child, first.trim().to_string(), stdout)
}

/// `count` GET /report on one keep-alive connection; each must be a 200.
fn keep_alive_gets(url: &str, count: usize) {
    let host = url.trim_start_matches("http://");
    let stream = TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for i in 0..count {
        let request = format!("GET /report HTTP/1.1\r\nHost: {host}\r\n\r\n");
        writer.write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("request {i}: no answer: {e}"));
        assert!(line.starts_with("HTTP/1.1 200"), "request {i}: {line:?}");
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        reader.read_exact(&mut vec![0; length]).unwrap();
    }
}

fn stop(mut child: Child) -> String {
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn logging_to_a_closed_stdout_neither_panics_nor_stops_the_server() {
    let (mut child, url, stdout) = serve_logging(&[]);
    drop(stdout);
    keep_alive_gets(&url, 50);
    let (status, _) = http("GET", &format!("{url}/report"), None);
    assert_eq!(status, 200);
    assert!(child.try_wait().unwrap().is_none(), "the server is up");
    let stderr = stop(child);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn logging_to_a_stdout_nobody_reads_never_blocks_the_server_and_says_what_it_dropped() {
    // A pipe holds 64 KiB (about 1,900 request lines) and a serving thread's buffer 8,192
    // lines: the rest is dropped, and once stdout is read again the log says how many.
    let (child, url, unread) = serve_logging(&[]);
    keep_alive_gets(&url, 12_000);
    let (found, said) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in unread.lines().map_while(Result::ok) {
            if line.contains("request lines dropped") {
                let _ = found.send(line);
                return;
            }
        }
    });
    // One more request after the reader started: its batch carries the count.
    keep_alive_gets(&url, 1);
    let line = said
        .recv_timeout(HANG_GUARD)
        .expect("a line saying lines were dropped");
    let dropped: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((1..=12_001).contains(&dropped), "{line}");
    let stderr = stop(child);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn ctrl_c_writes_every_request_line_before_the_server_stops() {
    let (child, url, mut stdout) = serve_logging(&[]);
    keep_alive_gets(&url, 200);
    send_signal(child.id(), "INT");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let lines = rest
        .lines()
        .filter(|l| l.contains("GET /report 200"))
        .count();
    assert_eq!(lines, 200, "{rest}");
    let stderr = stop(child);
    assert!(stderr.contains("stopped"), "{stderr}");
}

/// Open file descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Whether the server closed `stream` (it reads an end, or a reset) before the guard runs out.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(HANG_GUARD)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

#[test]
fn idle_and_slow_sockets_are_closed_and_capped_while_real_requests_get_through() {
    let cap = 32;
    let e = Emulator::start(&[
        "--header-timeout-ms",
        "1000",
        "--body-timeout-ms",
        "1000",
        "--max-connections",
        &cap.to_string(),
        "--threads",
        "1",
    ]);
    // Once a request is answered, the acceptor and the worker have their event loops open.
    assert_eq!(delivery(&e, &json!({"context": context()})).0, 200);
    let pid = e.child.id();
    let baseline = open_fds(pid);
    let host = e.url.trim_start_matches("http://").to_string();
    let mut idle: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(&host).unwrap())
        .collect();
    // Slowloris: a request head one byte at a time, never finished.
    let slowloris: Vec<_> = (0..10)
        .map(|_| {
            let mut stream = TcpStream::connect(&host).unwrap();
            let head = format!("POST {DELIVERY} HTTP/1.1\r\nHost: {host}\r\nX-Slow: ");
            std::thread::spawn(move || {
                let bytes = head.bytes().chain(std::iter::repeat(b'a'));
                for byte in bytes.take(600) {
                    if stream.write_all(&[byte]).is_err() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                false
            })
        })
        .collect();
    // A head, then a body that stops short.
    let mut stalled: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut stream = TcpStream::connect(&host).unwrap();
            let head = format!("POST {DELIVERY} HTTP/1.1\r\nHost: {host}\r\n{JSON}Content-Length: 100\r\n\r\n{{\"context\"");
            stream.write_all(head.as_bytes()).unwrap();
            stream
        })
        .collect();
    let (status, body) = delivery(
        &e,
        &json!({"context": context(), "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    );
    assert_eq!(status, 200, "{body}");
    let open = open_fds(pid);
    assert!(
        open <= baseline + cap,
        "{open} descriptors open, {baseline} before: more than {cap} connections"
    );
    for (i, stream) in idle.iter_mut().enumerate() {
        assert!(closed_by_server(stream), "idle socket {i} still open");
    }
    for (i, stream) in stalled.iter_mut().enumerate() {
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 408") && answer.contains(r#""status":408"#),
            "stalled body {i}: {answer:?}"
        );
    }
    for (i, slow) in slowloris.into_iter().enumerate() {
        assert!(slow.join().unwrap(), "slowloris {i} was never closed");
    }
    let (status, _) = delivery(&e, &json!({"context": context()}));
    assert_eq!(status, 200, "still serving");
}
