//! What the fast paths of `mboxscope serve` and `mboxscope proxy` share to read and write
//! HTTP/1.1 by hand (httparse, bytes in and out) for the delivery requests they take from
//! hyper: reading a head whole within the header time, the request line and body they take,
//! which header values and queries they take as they are, the end of an answer's head, and a
//! connection given to hyper with the bytes already read from it.

use std::cell::RefCell;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// Most headers a fast request may have (more go to hyper, which allows 100).
pub const MAX_HEADERS: usize = 32;

/// The longest head a fast path reads (hyper reads longer ones, up to its own limit).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How a connection left a fast path.
pub enum Left {
    /// It closed, failed, or did not send a whole head within the head's time limit.
    Closed,
    /// It sent something the fast path does not take: hyper goes on from these bytes. A head
    /// still partial (one longer than the fast path reads) comes with the time it has left.
    Handover(Vec<u8>, Option<Duration>),
}

/// What the start of a connection's input is.
pub enum Parsed<'a> {
    /// A whole delivery request the fast path takes.
    Fast(FastRequest<'a>),
    /// A head not yet whole (however long: [`read_more`] bounds it).
    Partial,
    /// Anything else: hyper's to take.
    Other,
}

/// A delivery request read whole from the input.
pub struct FastRequest<'a> {
    pub query: Option<&'a str>,
    pub body: &'a [u8],
    /// Its length in the input, head and body.
    pub len: usize,
}

/// Parses the head at the start of `input`: its length once it is whole and no longer than
/// a fast path reads, else what the input is for now (a head longer than that goes to hyper
/// even when one read brought it whole: hyper refuses a request-target over its own limit).
pub fn parse_head<'b>(
    request: &mut httparse::Request<'_, 'b>,
    input: &'b [u8],
) -> Result<usize, Parsed<'b>> {
    match request.parse(input) {
        Ok(httparse::Status::Complete(head_len)) if head_len <= MAX_HEAD_BYTES => Ok(head_len),
        Ok(httparse::Status::Partial) => Err(Parsed::Partial),
        Ok(httparse::Status::Complete(_)) | Err(_) => Err(Parsed::Other),
    }
}

/// The request-target and query of an HTTP/1.1 `POST` to `path` with a plain query (or none).
pub fn post_to<'a>(
    request: &httparse::Request<'_, 'a>,
    path: &str,
) -> Option<(&'a str, Option<&'a str>)> {
    if request.method != Some("POST") || request.version != Some(1) {
        return None;
    }
    let target = request.path?;
    let (target_path, query) = match target.split_once('?') {
        Some((target_path, query)) => (target_path, Some(query)),
        None => (target, None),
    };
    (target_path == path && query.is_none_or(is_plain_query)).then_some((target, query))
}

/// The request whose head is `input[..head_len]`, when its `Content-Length` value is plain
/// digits (at most 8), within `limit`, and its whole body is in the input.
pub fn with_whole_body<'a>(
    input: &'a [u8],
    head_len: usize,
    length: &[u8],
    limit: usize,
    query: Option<&'a str>,
) -> Option<FastRequest<'a>> {
    if length.is_empty() || length.len() > 8 || !length.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let length: usize = std::str::from_utf8(length).ok()?.parse().ok()?;
    if length > limit || input.len() - head_len < length {
        return None;
    }
    Some(FastRequest {
        query,
        body: &input[head_len..head_len + length],
        len: head_len + length,
    })
}

/// Whether a query can be taken as a fast path takes it: the characters of form-encoded
/// pairs, nothing a URI parser could read otherwise.
pub fn is_plain_query(query: &str) -> bool {
    query
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~%+=&".contains(&b))
}

/// Whether a header value is what `HeaderValue::to_str` accepts (visible ASCII, space, tab).
pub fn is_visible_ascii(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// This second's HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), formatted once a second per
/// thread.
pub fn http_date(with: impl FnOnce(&[u8])) {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|date| {
        let mut date = date.borrow_mut();
        if date.0 != second {
            *date = (second, httpdate::fmt_http_date(now));
        }
        with(date.1.as_bytes());
    });
}

/// Reads more of a head that is not yet whole, before `deadline`. Says how the connection
/// leaves when it cannot: closed (by the client, an error or the deadline), or handed to hyper
/// with what was read and the time left once the head is longer than a fast path reads.
pub async fn read_more(
    stream: &mut TcpStream,
    input: &mut Vec<u8>,
    mut deadline: Pin<&mut Sleep>,
) -> Option<Left> {
    if input.len() >= MAX_HEAD_BYTES {
        let left = deadline.deadline() - tokio::time::Instant::now();
        return Some(Left::Handover(std::mem::take(input), Some(left)));
    }
    input.reserve(4 * 1024);
    tokio::select! {
        biased;
        read = stream.read_buf(input) => match read {
            Ok(0) | Err(_) => Some(Left::Closed),
            Ok(_) => None,
        },
        _ = &mut deadline => Some(Left::Closed),
    }
}

/// Takes an answered request (its `len` bytes) out of the input, writes `output` and empties
/// it, and gives the next head `header_read` from now; false when the connection failed.
pub async fn send_answer(
    stream: &mut TcpStream,
    input: &mut Vec<u8>,
    len: usize,
    output: &mut Vec<u8>,
    deadline: Pin<&mut Sleep>,
    header_read: Duration,
) -> bool {
    if len == input.len() {
        input.clear();
    } else {
        input.drain(..len);
    }
    if stream.write_all(output).await.is_err() {
        return false;
    }
    output.clear();
    deadline.reset(tokio::time::Instant::now() + header_read);
    true
}

/// A connection a fast path handed over, for hyper to go on with (what was already read
/// comes first), and the header time hyper gives it: a head still partial keeps the time it
/// has left (hyper then applies it to the connection's later heads too: stricter, never
/// longer).
pub fn hand_over(
    stream: TcpStream,
    read: Vec<u8>,
    head_time_left: Option<Duration>,
    header_read: Duration,
) -> (
    impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    Duration,
) {
    let (reader, writer) = stream.into_split();
    let io = tokio::io::join(std::io::Cursor::new(read).chain(reader), writer);
    let header_read = head_time_left.map_or(header_read, |left| left.max(Duration::from_millis(1)));
    (io, header_read)
}

/// Writes a status line as hyper writes it (the canonical reason, `<none>` for a status
/// without one).
pub fn write_status_line(out: &mut Vec<u8>, status: u16) {
    if status == 200 {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        return;
    }
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

/// Writes a header line.
pub fn write_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Whether an answer with this status has a body (1xx, 204 and 304 have none).
pub fn has_body(status: u16) -> bool {
    !((100..200).contains(&status) || status == 204 || status == 304)
}

/// Ends an answer's head as hyper ends it: `content-length` (unless the status has no body),
/// a `date` unless the head has one, and the blank line.
pub fn end_head(out: &mut Vec<u8>, status: u16, length: usize, dated: bool) {
    if has_body(status) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_queries_and_visible_values_are_told_apart() {
        assert!(is_plain_query("client=demo&sessionId=a-b_c.d~e%20f+g"));
        assert!(!is_plain_query("a=b#c"));
        assert!(!is_plain_query("a=[1]"));
        assert!(is_visible_ascii(b"application/json; charset=utf-8\t"));
        assert!(!is_visible_ascii(b"caf\xc3\xa9"));
        assert!(!is_visible_ascii(b"a\x7f"));
    }

    #[test]
    fn the_date_is_an_http_date() {
        let mut date = String::new();
        http_date(|d| date = String::from_utf8(d.to_vec()).unwrap());
        assert!(httpdate::parse_http_date(&date).is_ok(), "{date}");
    }
}
