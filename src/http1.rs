//! What the fast paths of `mboxscope serve` and `mboxscope proxy` share to read and write
//! HTTP/1.1 by hand (httparse, bytes in and out) for the requests they take from hyper: which
//! header values and queries they take as they are, the `date` header, and a connection given
//! to hyper with the bytes already read from it.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

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

/// A connection for hyper to go on with: what was already read from it comes first.
pub fn with_read_first(
    stream: TcpStream,
    read: Vec<u8>,
) -> impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {
    let (reader, writer) = stream.into_split();
    tokio::io::join(std::io::Cursor::new(read).chain(reader), writer)
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
