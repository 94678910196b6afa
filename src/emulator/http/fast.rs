//! The delivery fast path of a keep-alive connection: a head is read whole (within the header
//! time, as hyper counts it), and a `POST /rest/v1/delivery` whose body came with it is
//! parsed with httparse, answered by the emulator and written back with the head hyper would
//! write, without hyper's per-request machinery (header map, body channel, timers). Anything
//! else (a body still on its way, a head over 64 KiB, another route, a foreign host or origin,
//! an unusual header) hands the connection, with what it has read, to hyper for the rest of
//! its life, so every other behaviour stays hyper's and the server's own.

use super::{
    is_json_type, is_own_authority, is_own_origin, status_text, QueryParameters, Server,
    DELIVERY_PATH,
};
use crate::emulator::MAX_BODY_BYTES;
use crate::http1::{http_date, is_plain_query, is_visible_ascii};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How a connection left the fast path.
pub(super) enum Left {
    /// It closed, failed, or did not send a whole head within the head's time limit.
    Closed,
    /// It sent something the fast path does not answer: hyper goes on from these bytes. A
    /// head still partial (one longer than the fast path reads) comes with the time it has
    /// left, which hyper keeps.
    Handover(Vec<u8>, Option<Duration>),
}

/// Most headers a fast request may have (more go to hyper, which allows 100).
const MAX_HEADERS: usize = 32;

/// The longest head the fast path reads (hyper reads longer ones, up to its own limit).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What the start of the input is.
enum Parsed<'a> {
    /// A whole delivery request the fast path answers.
    Fast(FastRequest<'a>),
    /// A head not yet whole (however long: [`serve`] bounds it).
    Partial,
    /// Anything else: hyper's to answer.
    Other,
}

/// A delivery request read whole from the buffer.
struct FastRequest<'a> {
    query: Option<&'a str>,
    body: &'a [u8],
    /// Its length in the buffer, head and body.
    len: usize,
}

/// What the start of `input` is. The fast path answers a whole delivery request: an
/// HTTP/1.1 `POST /rest/v1/delivery` with one plain `Content-Length` within the limit, its
/// whole body in, a JSON content type, this server's host and origin (or none), and no
/// `Transfer-Encoding`, `Expect`, `Upgrade` or `Connection` other than keep-alive.
fn parse(input: &[u8], local: SocketAddr) -> Parsed<'_> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(input) {
        // A head longer than the fast path reads goes to hyper even when one read brought it
        // whole (hyper refuses a request-target over its own limit).
        Ok(httparse::Status::Complete(head_len)) if head_len > MAX_HEAD_BYTES => Parsed::Other,
        Ok(httparse::Status::Complete(head_len)) => {
            fast_request(&request, input, head_len, local).map_or(Parsed::Other, Parsed::Fast)
        }
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(_) => Parsed::Other,
    }
}

/// The request of a whole head, if the fast path answers it (see [`parse`]).
fn fast_request<'a>(
    request: &httparse::Request<'_, 'a>,
    input: &'a [u8],
    head_len: usize,
    local: SocketAddr,
) -> Option<FastRequest<'a>> {
    if request.method != Some("POST") || request.version != Some(1) {
        return None;
    }
    let (path, query) = match request.path?.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.path?, None),
    };
    if path != DELIVERY_PATH || !query.is_none_or(is_plain_query) {
        return None;
    }
    let (mut length, mut host, mut origin, mut content_type) = (None, None, None, None);
    for header in request.headers.iter() {
        let (name, value) = (header.name, header.value);
        let slot = if name.eq_ignore_ascii_case("content-length") {
            &mut length
        } else if name.eq_ignore_ascii_case("host") {
            &mut host
        } else if name.eq_ignore_ascii_case("origin") {
            &mut origin
        } else if name.eq_ignore_ascii_case("content-type") {
            &mut content_type
        } else if name.eq_ignore_ascii_case("connection") {
            if !value.eq_ignore_ascii_case(b"keep-alive") {
                return None;
            }
            continue;
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("expect")
            || name.eq_ignore_ascii_case("upgrade")
        {
            return None;
        } else {
            continue;
        };
        if slot.is_some() || !is_visible_ascii(value) {
            return None;
        }
        *slot = Some(std::str::from_utf8(value).ok()?);
    }
    let length = length?;
    if length.is_empty() || length.len() > 8 || !length.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let length: usize = length.parse().ok()?;
    if length > MAX_BODY_BYTES || input.len() - head_len < length {
        return None;
    }
    if local.ip().is_loopback() && host.is_some_and(|host| !is_own_authority(host, local)) {
        return None;
    }
    if origin.is_some_and(|origin| !is_own_origin(origin, local))
        || !content_type.is_some_and(is_json_type)
    {
        return None;
    }
    Some(FastRequest {
        query,
        body: &input[head_len..head_len + length],
        len: head_len + length,
    })
}

/// Writes the answer as hyper writes it: status line, `content-type`, `content-length`
/// (unless the status has no body), `date`, then the body.
fn write_answer(out: &mut Vec<u8>, status: u16, body: &[u8]) {
    if status == 200 {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        let reason = hyper::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("<none>");
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
        out.push(b' ');
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/json\r\n");
    let has_body = !((100..200).contains(&status) || status == 204 || status == 304);
    if has_body {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"date: ");
    http_date(|date| out.extend_from_slice(date));
    out.extend_from_slice(b"\r\n\r\n");
    if has_body {
        out.extend_from_slice(body);
    }
}

/// Answers the connection's delivery requests for as long as they come whole, then says how
/// it left. Each head must be whole within `header_read` of the connection's start or of the
/// previous answer, as hyper counts it: else the connection is closed, as hyper closes it.
pub(super) async fn serve(
    stream: &mut TcpStream,
    server: &Server,
    local: SocketAddr,
    header_read: Duration,
) -> Left {
    let mut input = Vec::with_capacity(8 * 1024);
    let mut output = Vec::with_capacity(8 * 1024);
    // One timer for the connection, moved later after each answer (a cheap update in tokio).
    let deadline = tokio::time::sleep(header_read);
    tokio::pin!(deadline);
    loop {
        let request = match parse(&input, local) {
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
        let started = Instant::now();
        let query = QueryParameters::parse(request.query);
        let (reply, summary) = server.delivery(&query, request.body);
        server.log_delivery(status_text(reply.status), &reply, summary, started);
        write_answer(&mut output, reply.status, &reply.body);
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
