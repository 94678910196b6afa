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
use crate::http1::{
    end_head, has_body, is_visible_ascii, parse_head, post_to, read_more, send_answer,
    with_whole_body, write_status_line, FastRequest, Left, Parsed, MAX_HEADERS,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// What the start of `input` is. The fast path answers a whole delivery request: an
/// HTTP/1.1 `POST /rest/v1/delivery` with one plain `Content-Length` within the limit, its
/// whole body in, a JSON content type, this server's host and origin (or none), and no
/// `Transfer-Encoding`, `Expect`, `Upgrade` or `Connection` other than keep-alive.
fn parse(input: &[u8], local: SocketAddr) -> Parsed<'_> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match parse_head(&mut request, input) {
        Ok(head_len) => {
            fast_request(&request, input, head_len, local).map_or(Parsed::Other, Parsed::Fast)
        }
        Err(parsed) => parsed,
    }
}

/// The request of a whole head, if the fast path answers it (see [`parse`]).
fn fast_request<'a>(
    request: &httparse::Request<'_, 'a>,
    input: &'a [u8],
    head_len: usize,
    local: SocketAddr,
) -> Option<FastRequest<'a>> {
    let (_, query) = post_to(request, DELIVERY_PATH)?;
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
    if local.ip().is_loopback() && host.is_some_and(|host| !is_own_authority(host, local)) {
        return None;
    }
    if origin.is_some_and(|origin| !is_own_origin(origin, local))
        || !content_type.is_some_and(is_json_type)
    {
        return None;
    }
    with_whole_body(input, head_len, length?.as_bytes(), MAX_BODY_BYTES, query)
}

/// Writes the answer as hyper writes it: status line, `content-type`, `content-length`
/// (unless the status has no body), `date`, then the body.
fn write_answer(out: &mut Vec<u8>, status: u16, body: &[u8]) {
    write_status_line(out, status);
    out.extend_from_slice(b"content-type: application/json\r\n");
    end_head(out, status, body.len(), false);
    if has_body(status) {
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
            Parsed::Partial => match read_more(stream, &mut input, deadline.as_mut()).await {
                Some(left) => return left,
                None => continue,
            },
        };
        let started = Instant::now();
        let query = QueryParameters::parse(request.query);
        let (reply, summary) = server.delivery(&query, request.body);
        server.log_delivery(status_text(reply.status), &reply, summary, started);
        write_answer(&mut output, reply.status, &reply.body);
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
