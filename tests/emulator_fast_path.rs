//! The emulator's delivery fast path over real HTTP on 127.0.0.1: a request sent whole (the
//! fast path) is answered with the bytes hyper writes for the same request sent in two parts
//! (the head, a pause, the body: the connection goes to hyper); pipelined requests are
//! answered in order; a connection goes on with hyper after a request the fast path leaves.

mod common;

use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const QUERY: &str = "/rest/v1/delivery?client=mboxscopedemo&sessionId=fast-1";

fn host(e: &Emulator) -> String {
    e.url.trim_start_matches("http://").to_string()
}

/// A delivery request's bytes, with `extra` header lines.
fn request(e: &Emulator, body: &[u8], extra: &str) -> (Vec<u8>, Vec<u8>) {
    let head = format!(
        "POST {QUERY} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n",
        host(e),
        body.len()
    );
    (head.into_bytes(), body.to_vec())
}

/// Reads answers from `stream` until `count` whole ones are in (each framed by its
/// Content-Length, or none for a 204), with their `date` values blanked.
fn read_answers(stream: &mut TcpStream, count: usize) -> Vec<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut answers = Vec::new();
    let mut buf = [0u8; 65536];
    while answers.len() < count {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8(bytes[..end].to_vec()).unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |n| n.parse().unwrap());
            if bytes.len() >= end + 4 + length {
                let answer = String::from_utf8(bytes[..end + 4 + length].to_vec()).unwrap();
                bytes.drain(..end + 4 + length);
                let dated = answer.find("date: ").expect("a date header");
                let mut blanked = answer.clone();
                blanked.replace_range(dated + 6..dated + 6 + 29, "(date)");
                answers.push(blanked);
                continue;
            }
        }
        let n = stream.read(&mut buf).expect("an answer in time");
        assert!(n > 0, "closed after {} answers: {bytes:?}", answers.len());
        bytes.extend_from_slice(&buf[..n]);
    }
    answers
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The answer to `request` sent in one write, and the answer to it sent in two.
fn whole_and_split(e: &Emulator, (head, body): &(Vec<u8>, Vec<u8>)) -> (String, String) {
    let mut whole = TcpStream::connect(host(e)).unwrap();
    whole.write_all(&[&head[..], &body[..]].concat()).unwrap();
    let mut split = TcpStream::connect(host(e)).unwrap();
    split.write_all(head).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    split.write_all(body).unwrap();
    (
        read_answers(&mut whole, 1).remove(0),
        read_answers(&mut split, 1).remove(0),
    )
}

#[test]
fn a_request_sent_whole_gets_the_bytes_hyper_writes_for_it_sent_in_two_parts() {
    let e = Emulator::start(&[]);
    let context = json!({"channel": "web", "userAgent": BROWSER, "address": {"url": "https://shop.example.com/"}});
    let (status, prefetched) = e.post(
        QUERY,
        &json!({"id": {"tntId": "fast-visitor.28_0"}, "context": context,
                "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    );
    assert_eq!(status, 200, "{prefetched}");
    let token = prefetched["prefetch"]["mboxes"][0]["options"][0]["eventToken"].clone();
    assert!(token.is_string(), "{prefetched}");
    let cases = [
        // Executed mboxes: no random state tokens, so the whole answer is deterministic.
        json!({"requestId": "r1", "id": {"tntId": "fast-visitor.28_0"}, "context": context,
               "execute": {"mboxes": [{"name": "home-hero", "index": 1}], "pageLoad": {}}}),
        // A validation error: 400.
        json!({"requestId": "r2", "context": {"channel": "web"}, "execute": {"mboxes": [{"index": 1}]}}),
        // A beacon: 204, no length, no body.
        json!({"requestId": "r3", "id": {"tntId": "fast-visitor.28_0"},
               "context": {"channel": "web", "beacon": true, "userAgent": BROWSER},
               "notifications": [{"id": "n1", "type": "display", "timestamp": 1,
                                  "mbox": {"name": "home-hero"}, "tokens": [token]}]}),
    ];
    for case in &cases {
        let body = serde_json::to_vec(case).unwrap();
        for extra in ["", "Connection: keep-alive\r\n", "X-Other: 1\r\n"] {
            let (whole, split) = whole_and_split(&e, &request(&e, &body, extra));
            assert_eq!(whole, split, "{case} with {extra:?}");
        }
    }
    let statuses: Vec<String> = cases
        .iter()
        .map(|case| {
            let body = serde_json::to_vec(case).unwrap();
            whole_and_split(&e, &request(&e, &body, "")).0[..12].to_string()
        })
        .collect();
    assert_eq!(
        statuses,
        ["HTTP/1.1 200", "HTTP/1.1 400", "HTTP/1.1 204"],
        "the cases cover an answer, an error and a beacon"
    );
    // Malformed JSON is the same too.
    let (whole, split) = whole_and_split(&e, &request(&e, b"{\"context\":", ""));
    assert_eq!(whole, split);
    assert!(whole.starts_with("HTTP/1.1 400"), "{whole}");
}

#[test]
fn pipelined_requests_are_answered_in_order_and_a_connection_goes_on_after_a_handover() {
    let e = Emulator::start(&[]);
    let mut stream = TcpStream::connect(host(&e)).unwrap();
    let mut bytes = Vec::new();
    for i in 0..3 {
        let body = serde_json::to_vec(&json!({"requestId": format!("p{i}"), "context": {"channel": "web"}, "execute": {"pageLoad": {}}})).unwrap();
        let (head, body) = request(&e, &body, "");
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(&body);
    }
    // A route the fast path leaves to hyper, pipelined behind them, then a delivery again.
    bytes.extend_from_slice(
        format!("GET /report HTTP/1.1\r\nHost: {}\r\n\r\n", host(&e)).as_bytes(),
    );
    let body = serde_json::to_vec(
        &json!({"requestId": "p3", "context": {"channel": "web"}, "execute": {"pageLoad": {}}}),
    )
    .unwrap();
    let (head, body) = request(&e, &body, "");
    bytes.extend_from_slice(&head);
    bytes.extend_from_slice(&body);
    stream.write_all(&bytes).unwrap();
    let answers = read_answers(&mut stream, 5);
    for (i, answer) in [0, 1, 2].iter().zip(&answers) {
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(
            answer.contains(&format!(r#""requestId":"p{i}""#)),
            "{answer}"
        );
    }
    assert!(
        answers[3].contains(r#""activities""#),
        "the report: {}",
        answers[3]
    );
    assert!(answers[4].contains(r#""requestId":"p3""#), "{}", answers[4]);
    // A foreign Host sent whole is refused as before (by the server's own check, via hyper).
    let mut foreign = TcpStream::connect(host(&e)).unwrap();
    let body = br#"{"context":{"channel":"web"}}"#;
    foreign
        .write_all(
            &[
                format!("POST {QUERY} HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes(),
                &body[..],
            ]
            .concat(),
        )
        .unwrap();
    let answer = read_answers(&mut foreign, 1).remove(0);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
}

#[test]
fn a_head_gets_the_header_time_once_whether_the_fast_path_or_hyper_reads_it() {
    let e = Emulator::start(&["--header-timeout-ms", "1000"]);
    for handed_over in [false, true] {
        let mut stream = TcpStream::connect(host(&e)).unwrap();
        let connected = std::time::Instant::now();
        std::thread::sleep(Duration::from_millis(800));
        if handed_over {
            // Over the fast path's longest head: hyper reads the rest, with the time left. In
            // two parts, so the buffer passes 64 KiB at a length of no read's choosing.
            let long = format!("POST {QUERY} HTTP/1.1\r\nX-Long: {}", "a".repeat(70_000));
            let (first, rest) = long.as_bytes().split_at(63_000);
            stream.write_all(first).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            stream.write_all(rest).unwrap();
        } else {
            stream
                .write_all(b"POST /rest/v1/delivery HTTP/1.1\r\n")
                .unwrap();
        }
        // Then a byte now and then, never the end of the head.
        let mut closed = false;
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(50));
            if stream.write_all(b"a").is_err() {
                closed = true;
                break;
            }
            stream.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 512];
            let read = stream.read(&mut buf);
            stream.set_nonblocking(false).unwrap();
            if matches!(read, Ok(0))
                || read.is_err_and(|e| e.kind() != std::io::ErrorKind::WouldBlock)
            {
                closed = true;
                break;
            }
        }
        let after = connected.elapsed();
        assert!(
            closed,
            "still open {after:?} after connecting (handed over: {handed_over})"
        );
        assert!(
            after < Duration::from_millis(1500),
            "closed {after:?} after connecting: the head had 1 s (handed over: {handed_over})"
        );
    }
}

#[test]
fn a_client_that_shuts_its_side_after_a_whole_request_gets_the_answer_on_both_paths() {
    let e = Emulator::start(&[]);
    let body = serde_json::to_vec(
        &json!({"requestId": "h1", "context": {"channel": "web"}, "execute": {"pageLoad": {}}}),
    )
    .unwrap();
    let (head, body) = request(&e, &body, "");
    for split in [false, true] {
        let mut stream = TcpStream::connect(host(&e)).unwrap();
        if split {
            stream.write_all(&head).unwrap();
            std::thread::sleep(Duration::from_millis(150));
            stream.write_all(&body).unwrap();
        } else {
            stream.write_all(&[&head[..], &body[..]].concat()).unwrap();
        }
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let answer = read_answers(&mut stream, 1).remove(0);
        assert!(
            answer.starts_with("HTTP/1.1 200 OK") && answer.contains(r#""requestId":"h1""#),
            "split {split}: {answer}"
        );
    }
}

#[test]
fn a_head_over_64_kib_is_hyper_s_to_answer_even_when_one_read_brings_it_whole() {
    let e = Emulator::start(&[]);
    let body = br#"{"context":{"channel":"web"},"execute":{"pageLoad":{}}}"#;
    let long = format!("{QUERY}&pad={}", "a".repeat(70_000));
    let head = format!(
        "POST {long} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        host(&e),
        body.len()
    );
    let request = [head.as_bytes(), body].concat();
    // 63,000 bytes (a partial head under 64 KiB: the fast path reads on, its buffer grown
    // past the rest), then the rest at once: one read brings the head whole.
    let mut stream = TcpStream::connect(host(&e)).unwrap();
    stream.write_all(&request[..63_000]).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    stream.write_all(&request[63_000..]).unwrap();
    let answer = read_answers(&mut stream, 1).remove(0);
    // hyper refuses a request-target over its limit.
    assert!(answer.starts_with("HTTP/1.1 414 URI Too Long"), "{answer}");
}
