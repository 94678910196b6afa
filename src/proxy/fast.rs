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
use crate::http1::{
    end_head, is_visible_ascii, parse_head, post_to, read_more, send_answer, with_whole_body,
    write_header, write_status_line, FastRequest, Left, Parsed, MAX_HEADERS,
};
use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Whether a header belongs to one connection or to a message's framing (see
/// [`HOP_BY_HOP`]): an answer's are not relayed; a request with one of them goes to hyper
/// (`Host`, `Content-Length` and `Connection: keep-alive` aside, which the fast path writes
/// itself).
fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP
        .iter()
        .any(|hop| name.eq_ignore_ascii_case(hop.as_str()))
}

/// Reads a fast request from the start of `input` and writes into `forward` the request the
/// upstream gets: an HTTP/1.1 `POST /rest/v1/delivery` with a plain query, one plain
/// `Content-Length` within the limit, its whole body in, no hop-by-hop header but
/// `Connection: keep-alive` and `Host`, and no `Expect`.
fn read_request<'a>(input: &'a [u8], upstream: &Upstream, forward: &mut Vec<u8>) -> Parsed<'a> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match parse_head(&mut request, input) {
        Ok(head_len) => head_len,
        Err(parsed) => return parsed,
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
    let (target, query) = post_to(request, DELIVERY_PATH)?;
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
            write_header(forward, name.as_bytes(), value);
        }
    }
    let request = with_whole_body(input, head_len, length?, MAX_BODY_BYTES, query)?;
    forward.extend_from_slice(b"content-length: ");
    forward.extend_from_slice(itoa::Buffer::new().format(request.body.len()).as_bytes());
    forward.extend_from_slice(b"\r\n\r\n");
    forward.extend_from_slice(request.body);
    Some(request)
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
        write_header(out, header.name.as_bytes(), header.value);
    }
    let body = &answer[answered.head_len..];
    end_head(out, answered.status, body.len(), dated);
    let start = out.len();
    out.extend_from_slice(body);
    start..out.len()
}

/// Writes the proxy's own answer (a 502 in Target's error shape) as hyper would.
fn write_own(out: &mut Vec<u8>, answer: &Answer) -> std::ops::Range<usize> {
    write_status_line(out, answer.status);
    for (name, value) in &answer.headers {
        write_header(out, name.as_str().as_bytes(), value.as_bytes());
    }
    end_head(out, answer.status, answer.body.len(), false);
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
            Parsed::Partial => match read_more(stream, &mut input, deadline.as_mut()).await {
                Some(left) => return left,
                None => continue,
            },
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
        if !send_answer(
            stream,
            &mut input,
            len,
            &mut output,
            deadline.as_mut(),
            header_read,
        )
        .await
        {
            return Left::Closed;
        }
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
        let long = format!(
            "/rest/v1/delivery?x={}",
            "a".repeat(crate::http1::MAX_HEAD_BYTES)
        );
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
