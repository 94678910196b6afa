//! The proxy's fast path for a keep-alive connection to a plain upstream: a whole
//! `POST /rest/v1/delivery` is read with httparse, its bytes go to the upstream as they came
//! (its `Host` the upstream's, its path below the upstream's), the upstream's answer goes back
//! with its own head (hop-by-hop headers aside), and the exchange is handed to the journal,
//! all without hyper's per-request machinery on either side. Anything else (another route,
//! a body still on its way, a head over 64 KiB, an unusual header) hands the connection, with
//! what it has read, to hyper for the rest of its life, as in `mboxscope serve`.

use super::forward::{Answer, HOP_BY_HOP, UPSTREAM_TIMEOUT};
use super::recorder::Observed;
use super::upstream::{Answered, Upstream};
use super::{session_id, Proxy, DELIVERY_PATH, MAX_BODY_BYTES};
use crate::http1::{http_date, is_plain_query, is_visible_ascii};
use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How a connection left the fast path.
pub(super) enum Left {
    /// It closed, failed, or did not send a whole head within the head's time limit.
    Closed,
    /// It sent something the fast path does not take: hyper goes on from these bytes. A head
    /// still partial (one longer than the fast path reads) comes with the time it has left.
    Handover(Vec<u8>, Option<Duration>),
}

/// Most headers a fast request may have (more go to hyper, which allows 100).
const MAX_HEADERS: usize = 32;

/// The longest head the fast path reads (hyper reads longer ones, up to its own limit).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Whether a header belongs to one connection or to a message's framing (see
/// [`HOP_BY_HOP`]): an answer's are not relayed; a request with one of them goes to hyper
/// (`Host`, `Content-Length` and `Connection: keep-alive` aside, which the fast path writes
/// itself).
fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP
        .iter()
        .any(|hop| name.eq_ignore_ascii_case(hop.as_str()))
}

/// What the start of the input is.
enum Parsed<'a> {
    /// A whole delivery request, its bytes for the upstream written.
    Fast(FastRequest<'a>),
    /// A head not yet whole (however long: [`serve`] bounds it).
    Partial,
    /// Anything else: hyper's to take.
    Other,
}

/// A delivery request read whole from the buffer.
struct FastRequest<'a> {
    query: Option<&'a str>,
    body: &'a [u8],
    /// Its length in the buffer, head and body.
    len: usize,
}

/// Reads a fast request from the start of `input` and writes into `forward` the request the
/// upstream gets: an HTTP/1.1 `POST /rest/v1/delivery` with a plain query, one plain
/// `Content-Length` within the limit, its whole body in, no hop-by-hop header but
/// `Connection: keep-alive` and `Host`, and no `Expect`.
fn read_request<'a>(input: &'a [u8], upstream: &Upstream, forward: &mut Vec<u8>) -> Parsed<'a> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(input) {
        // A head longer than the fast path reads goes to hyper even when one read brought it
        // whole (hyper refuses a request-target over its own limit).
        Ok(httparse::Status::Complete(head_len)) if head_len > MAX_HEAD_BYTES => {
            return Parsed::Other
        }
        Ok(httparse::Status::Complete(head_len)) => head_len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Other,
    };
    forward.clear();
    match fast_request(&request, input, head_len, upstream, forward) {
        Some(request) => Parsed::Fast(request),
        None => Parsed::Other,
    }
}

/// The request of a whole head, if the fast path takes it (see [`read_request`]).
fn fast_request<'a>(
    request: &httparse::Request<'_, 'a>,
    input: &'a [u8],
    head_len: usize,
    upstream: &Upstream,
    forward: &mut Vec<u8>,
) -> Option<FastRequest<'a>> {
    if request.method != Some("POST") || request.version != Some(1) {
        return None;
    }
    let target = request.path?;
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    if path != DELIVERY_PATH || !query.is_none_or(is_plain_query) {
        return None;
    }
    forward.extend_from_slice(b"POST ");
    forward.extend_from_slice(upstream.prefix.as_bytes());
    forward.extend_from_slice(target.as_bytes());
    forward.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    forward.extend_from_slice(upstream.host.as_bytes());
    forward.extend_from_slice(b"\r\n");
    let mut length = None;
    for header in request.headers.iter() {
        let (name, value) = (header.name, header.value);
        if !is_visible_ascii(value) {
            return None;
        }
        if name.eq_ignore_ascii_case("content-length") {
            if length.replace(value).is_some() {
                return None;
            }
        } else if name.eq_ignore_ascii_case("connection") {
            if !value.eq_ignore_ascii_case(b"keep-alive") {
                return None;
            }
        } else if name.eq_ignore_ascii_case("host") {
        } else if is_hop_by_hop(name) || name.eq_ignore_ascii_case("expect") {
            return None;
        } else {
            forward.extend_from_slice(name.as_bytes());
            forward.extend_from_slice(b": ");
            forward.extend_from_slice(value);
            forward.extend_from_slice(b"\r\n");
        }
    }
    let length = length?;
    if length.is_empty() || length.len() > 8 || !length.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let length: usize = std::str::from_utf8(length).ok()?.parse().ok()?;
    if length > MAX_BODY_BYTES || input.len() - head_len < length {
        return None;
    }
    let body = &input[head_len..head_len + length];
    forward.extend_from_slice(b"content-length: ");
    forward.extend_from_slice(itoa::Buffer::new().format(length).as_bytes());
    forward.extend_from_slice(b"\r\n\r\n");
    forward.extend_from_slice(body);
    Some(FastRequest {
        query,
        body,
        len: head_len + length,
    })
}

/// Writes the upstream's answer for the application: its status line and end-to-end
/// headers as they came, a `content-length` for the body (unless the status has none), a
/// `date` when it had none, and the body. Gives where the body is in `out`.
fn write_relayed(out: &mut Vec<u8>, answer: &[u8], answered: Answered) -> std::ops::Range<usize> {
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut response = httparse::Response::new(&mut headers);
    // The head the upstream module read whole from these same bytes: it parses again.
    let _ = response.parse(&answer[..answered.head_len]);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(answered.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(response.reason.unwrap_or_default().as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut dated = false;
    for header in response.headers.iter() {
        if is_hop_by_hop(header.name) {
            continue;
        }
        dated |= header.name.eq_ignore_ascii_case("date");
        out.extend_from_slice(header.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(header.value);
        out.extend_from_slice(b"\r\n");
    }
    let body = &answer[answered.head_len..];
    finish_head(out, answered.status, body.len(), dated);
    let start = out.len();
    out.extend_from_slice(body);
    start..out.len()
}

/// Ends a head: `content-length` (unless the status has no body, as hyper writes it), a
/// `date` unless it has one, and the blank line.
fn finish_head(out: &mut Vec<u8>, status: u16, length: usize, dated: bool) {
    if !((100..200).contains(&status) || status == 204 || status == 304) {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(length).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !dated {
        out.extend_from_slice(b"date: ");
        http_date(|date| out.extend_from_slice(date));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes the proxy's own answer (a 502 in Target's error shape) as hyper would.
fn write_own(out: &mut Vec<u8>, answer: &Answer) -> std::ops::Range<usize> {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(answer.status).as_bytes());
    out.push(b' ');
    let reason = hyper::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or_default();
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &answer.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    finish_head(out, answer.status, answer.body.len(), false);
    let start = out.len();
    out.extend_from_slice(&answer.body);
    start..out.len()
}

/// Forwards the connection's delivery requests for as long as they come whole, then says how
/// it left. Each head must be whole within `header_read` of the connection's start or of the
/// previous answer, as hyper counts it; each answer must come within [`UPSTREAM_TIMEOUT`].
pub(super) async fn serve(
    stream: &mut TcpStream,
    proxy: &Proxy,
    upstream: &Upstream,
    header_read: Duration,
) -> Left {
    let mut input = Vec::with_capacity(8 * 1024);
    let mut forward = Vec::with_capacity(8 * 1024);
    let mut answer = Vec::with_capacity(8 * 1024);
    let mut output = Vec::with_capacity(8 * 1024);
    // One timer for the connection, moved after each step (a cheap update in tokio).
    let deadline = tokio::time::sleep(header_read);
    tokio::pin!(deadline);
    loop {
        let request = match read_request(&input, upstream, &mut forward) {
            Parsed::Fast(request) => request,
            Parsed::Other => return Left::Handover(input, None),
            Parsed::Partial if input.len() >= MAX_HEAD_BYTES => {
                let left = deadline.deadline() - tokio::time::Instant::now();
                return Left::Handover(input, Some(left));
            }
            Parsed::Partial => {
                input.reserve(4 * 1024);
                tokio::select! {
                    biased;
                    read = stream.read_buf(&mut input) => match read {
                        Ok(0) | Err(_) => return Left::Closed,
                        Ok(_) => continue,
                    },
                    _ = &mut deadline => return Left::Closed,
                }
            }
        };
        let (started, at) = (Instant::now(), crate::clock::now_ms());
        deadline
            .as_mut()
            .reset(tokio::time::Instant::now() + UPSTREAM_TIMEOUT);
        let answered = tokio::select! {
            biased;
            answered = upstream.exchange(&forward, &mut answer) => answered,
            _ = &mut deadline => Err(format!("no answer within {} s", UPSTREAM_TIMEOUT.as_secs())),
        };
        let (status, body, unreachable) = match answered {
            Ok(answered) => (
                answered.status,
                write_relayed(&mut output, &answer, answered),
                None,
            ),
            Err(why) => {
                let own = proxy.forwarder.unreachable(&why);
                (own.status, write_own(&mut output, &own), own.unreachable)
            }
        };
        // Copies: the journal's queue must not keep these buffers from being reused.
        proxy.recorder.observe(Observed {
            at,
            duration: started.elapsed(),
            session_id: session_id(request.query),
            request: Bytes::copy_from_slice(request.body),
            status,
            response: Bytes::copy_from_slice(&output[body]),
            unreachable,
        });
        let len = request.len;
        if len == input.len() {
            input.clear();
        } else {
            input.drain(..len);
        }
        if stream.write_all(&output).await.is_err() {
            return Left::Closed;
        }
        output.clear();
        deadline
            .as_mut()
            .reset(tokio::time::Instant::now() + header_read);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream() -> Upstream {
        Upstream::new("127.0.0.1:9".into(), "127.0.0.1:9".into(), "/base".into())
    }

    fn forwarded(input: &str) -> Option<String> {
        let mut forward = Vec::new();
        match read_request(input.as_bytes(), &upstream(), &mut forward) {
            Parsed::Fast(_) => Some(String::from_utf8(forward).unwrap()),
            _ => None,
        }
    }

    #[test]
    fn a_delivery_goes_to_the_upstream_as_it_came_with_the_upstreams_host_and_path() {
        let sent = forwarded(
            "POST /rest/v1/delivery?client=demo&sessionId=s1 HTTP/1.1\r\nHost: 127.0.0.1:4000\r\n\
             Content-Type: application/json\r\nX-EXC-SDK: AdobeTargetNode\r\nConnection: keep-alive\r\n\
             Content-Length: 2\r\n\r\n{}",
        );
        assert_eq!(
            sent.as_deref(),
            Some(
                "POST /base/rest/v1/delivery?client=demo&sessionId=s1 HTTP/1.1\r\nhost: 127.0.0.1:9\r\n\
                 Content-Type: application/json\r\nX-EXC-SDK: AdobeTargetNode\r\ncontent-length: 2\r\n\r\n{}"
            )
        );
    }

    #[test]
    fn anything_unusual_goes_to_hyper() {
        let with = |extra: &str| {
            forwarded(&format!(
                "POST /rest/v1/delivery HTTP/1.1\r\n{extra}Content-Length: 2\r\n\r\n{{}}"
            ))
        };
        assert!(with("").is_some());
        for extra in [
            "Connection: close\r\n",
            "Transfer-Encoding: chunked\r\n",
            "Expect: 100-continue\r\n",
            "Upgrade: websocket\r\n",
            "Proxy-Authorization: Basic x\r\n",
            "TE: trailers\r\n",
            "Content-Length: 2\r\n",
            "X-Name: caf\u{e9}\r\n",
        ] {
            assert_eq!(with(extra), None, "{extra}");
        }
        assert_eq!(forwarded("GET /mboxscope/exchanges HTTP/1.1\r\n\r\n"), None);
        assert_eq!(
            forwarded("POST /rest/v1/delivery HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
            None
        );
        assert_eq!(
            forwarded("POST /rest/v1/delivery?a=[1] HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            None
        );
        assert_eq!(
            forwarded("POST /rest/v1/delivery HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}"),
            None
        );
        // A head over 64 KiB, even when it came whole.
        let long = format!("/rest/v1/delivery?x={}", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(
            forwarded(&format!(
                "POST {long} HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
            )),
            None
        );
        // A body still on its way.
        assert_eq!(
            forwarded("POST /rest/v1/delivery HTTP/1.1\r\nContent-Length: 3\r\n\r\n{}"),
            None
        );
    }

    #[test]
    fn an_answer_goes_back_with_its_own_head_less_its_framing() {
        let answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n\
                       Transfer-Encoding: chunked\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\nX-Request-Id: 7\r\n\r\n{\"a\":1}";
        let head_len = answer.len() - 7;
        let mut out = Vec::new();
        let body = write_relayed(
            &mut out,
            answer,
            Answered {
                status: 200,
                head_len,
            },
        );
        assert_eq!(&out[body], b"{\"a\":1}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             X-Request-Id: 7\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
        );
    }
}
