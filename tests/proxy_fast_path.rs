//! The proxy's fast path, over real sockets on 127.0.0.1: keep-alive deliveries go to the
//! upstream and back as bytes, whatever framing the upstream answers with, journaled like
//! the rest; other requests on the same connection go to hyper; a kept upstream connection
//! the upstream closed is not used again; an upstream that fails gives a 502 and the
//! application's connection goes on.

mod common;

use common::{read_request, Emulator};
use mboxscope::proxy::{self, ProxySettings};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A proxy to `upstream` in this process, with its journal in `dir`.
fn start_proxy(
    runtime: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    upstream: &str,
) -> proxy::RunningProxy {
    runtime
        .block_on(proxy::start(ProxySettings {
            upstream: upstream.to_string(),
            journal: dir.join("journal.jsonl"),
            client: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            workers: 1,
        }))
        .expect("the proxy starts")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A connection to `url`'s host and port.
fn connect(url: &str) -> TcpStream {
    let stream = TcpStream::connect(url.strip_prefix("http://").unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// A keep-alive delivery request's bytes.
fn delivery(body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /rest/v1/delivery?client=mboxscopedemo&sessionId=fast HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nX-EXC-SDK: AdobeTargetNode\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// One answer read from a keep-alive connection: status, head (lower-case) and body.
fn read_answer(stream: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "the connection closed: {buf:?}"
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap().to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let length: usize = header(&head, "content-length").map_or(0, |l| l.parse().unwrap());
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (status, head, body)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::trim)
}

fn request_body(request_id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "requestId": request_id,
        "id": {"tntId": format!("visitor-{request_id}")},
        "context": {"channel": "web"},
        "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}
    }))
    .unwrap()
}

/// The feed's exchanges after `after`, waiting up to 5 s for one.
fn feed(stream: &mut TcpStream, after: u64) -> Vec<Value> {
    write!(
        stream,
        "GET /mboxscope/exchanges?after={after}&wait_ms=5000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .unwrap();
    let (status, _, body) = read_answer(stream);
    assert_eq!(status, 200);
    serde_json::from_slice::<Value>(&body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The feed's first `n` exchanges (the writer publishes them in batches), and any after.
fn journaled(stream: &mut TcpStream, n: usize) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    for _ in 0..10 {
        let after = seen.last().map_or(0, |x| x["seq"].as_u64().unwrap());
        seen.extend(feed(stream, after));
        if seen.len() >= n {
            break;
        }
    }
    seen
}

#[test]
fn pipelined_deliveries_get_the_upstreams_answers_in_order_and_the_connection_goes_on_with_hyper() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let runtime = runtime();
    let proxy = start_proxy(&runtime, dir.path(), &emulator.url);
    let mut stream = connect(&proxy.url);
    let mut pipelined = Vec::new();
    for id in ["r1", "r2", "r3"] {
        pipelined.extend(delivery(&request_body(id)));
    }
    stream.write_all(&pipelined).unwrap();
    for id in ["r1", "r2", "r3"] {
        let (status, head, body) = read_answer(&mut stream);
        assert_eq!(status, 200, "{head}");
        assert_eq!(header(&head, "content-type"), Some("application/json"));
        assert_eq!(head.matches("\r\ndate:").count(), 1, "{head}");
        assert_eq!(header(&head, "transfer-encoding"), None);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["requestId"], id);
        assert_eq!(body["prefetch"]["mboxes"][0]["name"], "home-hero");
    }
    // A request the fast path does not take, on the same connection: hyper answers it.
    let first = journaled(&mut stream, 3);
    assert_eq!(first.len(), 3, "{first:?}");
    // And the connection goes on: a delivery again (now through hyper).
    stream.write_all(&delivery(&request_body("r4"))).unwrap();
    let (status, _, body) = read_answer(&mut stream);
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["requestId"],
        "r4"
    );
    let seen = journaled(&mut stream, 4);
    let visitors: Vec<&str> = seen
        .iter()
        .map(|x| x["visitor"].as_str().unwrap())
        .collect();
    assert_eq!(
        visitors,
        ["visitor-r1", "visitor-r2", "visitor-r3", "visitor-r4"]
    );
    assert!(seen
        .iter()
        .all(|x| x["journaled"] == true && x["status"] == 200));
    runtime.block_on(proxy.stop());
}

/// A raw upstream: `answer` serves each connection; the count of connections it got.
fn upstream(answer: impl Fn(TcpStream) + Send + Sync + 'static) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let (answer, counted) = (Arc::new(answer), connections.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            std::thread::spawn(move || answer(stream));
        }
    });
    (url, connections)
}

/// A raw upstream that answers one request per connection with `answer`, keeps the
/// connection `linger`, then closes it.
fn answering_once(answer: &'static [u8], linger: Duration) -> (String, Arc<AtomicUsize>) {
    upstream(move |mut stream| {
        if read_request(&stream).is_some() {
            let _ = stream.write_all(answer);
            std::thread::sleep(linger);
        }
    })
}

#[test]
fn an_answer_framed_any_way_reaches_the_application_whole_with_its_own_headers() {
    // One connection, three answers: chunked with a trailer, after a 100 Continue, then one
    // that ends when the upstream closes.
    let (url, connections) = upstream(|mut stream| {
        let answers: [&[u8]; 3] = [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Upstream: chunked\r\n\
              Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\
              Content-Length: 7\r\n\r\n{\"b\":2}",
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"c\":3}",
        ];
        for answer in answers {
            if read_request(&stream).is_none() {
                return;
            }
            stream.write_all(answer).unwrap();
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    let proxy = start_proxy(&runtime, dir.path(), &url);
    let mut stream = connect(&proxy.url);
    let mut got = Vec::new();
    for id in ["a", "b", "c"] {
        stream.write_all(&delivery(&request_body(id))).unwrap();
        got.push(read_answer(&mut stream));
    }
    assert_eq!((got[0].0, got[0].2.as_slice()), (200, &b"{\"a\":1}"[..]));
    assert_eq!(header(&got[0].1, "x-upstream"), Some("chunked"));
    assert_eq!(header(&got[0].1, "content-length"), Some("7"));
    assert_eq!(header(&got[0].1, "transfer-encoding"), None);
    assert_eq!((got[1].0, got[1].2.as_slice()), (201, &b"{\"b\":2}"[..]));
    assert_eq!((got[2].0, got[2].2.as_slice()), (200, &b"{\"c\":3}"[..]));
    assert_eq!(header(&got[2].1, "connection"), None, "{}", got[2].1);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    let journaled = journaled(&mut stream, 3);
    assert_eq!(journaled.len(), 3, "{journaled:?}");
    assert_eq!(journaled[0]["response"], "{\"a\":1}");
    runtime.block_on(proxy.stop());
}

#[test]
fn a_kept_upstream_connection_the_upstream_closed_is_not_used_again() {
    // The upstream answers one request per connection, keeps it open a moment, then closes
    // it (as a server whose keep-alive time ran out).
    let (url, connections) = answering_once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        Duration::from_millis(50),
    );
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    let proxy = start_proxy(&runtime, dir.path(), &url);
    let mut stream = connect(&proxy.url);
    for id in ["first", "second", "third"] {
        stream.write_all(&delivery(&request_body(id))).unwrap();
        let (status, head, body) = read_answer(&mut stream);
        assert_eq!((status, body.as_slice()), (200, &b"{}"[..]), "{id}: {head}");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(connections.load(Ordering::SeqCst), 3);
    runtime.block_on(proxy.stop());
}

#[test]
fn an_upstream_that_fails_gives_a_502_in_targets_shape_and_the_connection_goes_on() {
    // Cut off in the middle of its body, then not there at all.
    let (url, _) = answering_once(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"cut",
        Duration::ZERO,
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime();
    for (upstream, why) in [
        (&url, "closed the connection before its answer was whole"),
        (&down, "cannot connect"),
    ] {
        let proxy = start_proxy(&runtime, dir.path(), upstream);
        let mut stream = connect(&proxy.url);
        for _ in 0..2 {
            stream.write_all(&delivery(&request_body("x"))).unwrap();
            let (status, head, body) = read_answer(&mut stream);
            assert_eq!(status, 502, "{head}");
            assert_eq!(header(&head, "content-type"), Some("application/json"));
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["status"], 502);
            let message = body["message"].as_str().unwrap();
            assert!(
                message.contains("did not answer") && message.contains(why),
                "{message}"
            );
        }
        let journaled = journaled(&mut stream, 2);
        assert!(
            journaled.len() == 2 && journaled.iter().all(|x| x["status"] == 502),
            "{journaled:?}"
        );
        runtime.block_on(proxy.stop());
    }
}
