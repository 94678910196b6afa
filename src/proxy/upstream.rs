//! Raw HTTP/1.1 exchanges with a plain (`http://`) upstream, for the proxy's fast path: a
//! request's bytes go out as they are given, and the answer is read with httparse, its body
//! as its framing says (`Content-Length`, chunked, or until the upstream closes). Connections
//! are kept for the next exchange while the upstream keeps them open.

use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most headers an answer may have (as hyper's client allows).
const MAX_HEADERS: usize = 100;

/// The longest head an answer may have (about hyper's client's read buffer limit).
const MAX_HEAD_BYTES: usize = 400 * 1024;

/// The longest chunk-size line (with its extensions), and the longest trailers, read.
const MAX_LINES_BYTES: usize = 16 * 1024;

/// The largest answer read (Target's answers are a few hundred KB at most).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// A plain upstream: where it is, what requests to it say, and its kept connections.
#[derive(Debug)]
pub struct Upstream {
    /// `host:port` to connect to.
    address: String,
    /// The `Host` header it gets (its own authority, as a client addressing it).
    pub host: String,
    /// Its URL's path (empty, or `/base`): requests' paths go below it.
    pub prefix: String,
    idle: Mutex<Vec<TcpStream>>,
}

/// An answer read whole into the exchange's buffer: the upstream's head (its first
/// `head_len` bytes), then the body without its framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    pub status: u16,
    pub head_len: usize,
}

/// How an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// What an answer's head says.
struct Head {
    status: u16,
    len: usize,
    framing: Framing,
    keep_alive: bool,
}

impl Upstream {
    /// An upstream at `address` (`host:port`) addressed as `host`, below `prefix`.
    pub fn new(address: String, host: String, prefix: String) -> Upstream {
        Upstream {
            address,
            host,
            prefix,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` (a whole HTTP/1.1 request) on a kept connection or a new one, and
    /// reads the answer into `answer` (emptied first).
    pub async fn exchange(&self, request: &[u8], answer: &mut Vec<u8>) -> Result<Answered, String> {
        answer.clear();
        let mut stream = match self.take_idle() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(&self.address)
                    .await
                    .map_err(|e| format!("cannot connect: {e}"))?;
                // Requests are small and answered at once: no waiting to fill a segment.
                let _ = stream.set_nodelay(true);
                stream
            }
        };
        stream
            .write_all(request)
            .await
            .map_err(|e| format!("the request failed: {e}"))?;
        let (answered, keep) = read_answer(&mut stream, answer).await?;
        if keep {
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(stream);
        }
        Ok(answered)
    }

    /// A kept connection the upstream has not been seen to close: the check reads the socket
    /// only when the reactor saw it readable (an idle connection has nothing to say but its
    /// end), so a close the reactor has not yet seen is found by the exchange, which then
    /// fails (as with hyper's pool: a request that may have been sent is not sent again).
    fn take_idle(&self) -> Option<TcpStream> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(stream) = idle.pop() {
            match stream.try_read(&mut [0; 1]) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(stream),
                _ => continue,
            }
        }
        None
    }
}

/// Reads one answer (past informational ones) into `buf`; says whether the connection can
/// carry another exchange.
async fn read_answer(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<(Answered, bool), String> {
    let head = loop {
        let head = match parse_head(buf)? {
            Some(head) => head,
            None if buf.len() > MAX_HEAD_BYTES => {
                return Err(format!("its head is longer than {MAX_HEAD_BYTES} bytes"))
            }
            None => {
                read_more(stream, buf).await?;
                continue;
            }
        };
        match head.status {
            101 => return Err("it switched protocols".into()),
            100..=199 => {
                buf.drain(..head.len);
            }
            _ => break head,
        }
    };
    let whole = match head.framing {
        Framing::Length(length) => {
            if length > MAX_ANSWER_BYTES {
                return Err(too_large());
            }
            let end = head.len + length;
            // Room for the body as it says, up to 1 MiB before any of it comes.
            buf.reserve(end.saturating_sub(buf.len()).min(1024 * 1024));
            while buf.len() < end {
                read_more(stream, buf).await?;
            }
            let whole = buf.len() == end;
            buf.truncate(end);
            whole
        }
        Framing::Chunked => {
            let mut chunks = Dechunk {
                read: head.len,
                written: head.len,
            };
            loop {
                if let Some(whole) = chunks.step(buf)? {
                    break whole;
                }
                if buf.len() > head.len + MAX_ANSWER_BYTES {
                    return Err(too_large());
                }
                read_more(stream, buf).await?;
            }
        }
        Framing::UntilClose => {
            loop {
                if buf.len() > head.len + MAX_ANSWER_BYTES {
                    return Err(too_large());
                }
                buf.reserve(8 * 1024);
                match stream.read_buf(buf).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => return Err(format!("its answer was cut off: {e}")),
                }
            }
            false
        }
    };
    let answered = Answered {
        status: head.status,
        head_len: head.len,
    };
    // Bytes after the answer (none were asked for) leave the connection unusable.
    Ok((answered, head.keep_alive && whole))
}

/// Why an answer over [`MAX_ANSWER_BYTES`] was not given back.
pub fn too_large() -> String {
    format!("its answer is larger than {MAX_ANSWER_BYTES} bytes")
}

/// Reads what the upstream sent next; its end, before the answer is whole, is an error.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    buf.reserve(8 * 1024);
    match stream.read_buf(buf).await {
        Ok(0) => Err("it closed the connection before its answer was whole".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("its answer was cut off: {e}")),
    }
}

/// The head at the start of `buf`, once it is whole.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("its answer is not HTTP/1.1: {e}")),
    };
    let status = response
        .code
        .filter(|code| (100..=999).contains(code))
        .ok_or("its status is not a status code")?;
    let mut length: Option<usize> = None;
    let (mut chunked, mut encoded, mut close) = (false, false, response.version != Some(1));
    for header in response.headers.iter() {
        let value = header.value;
        if header.name.eq_ignore_ascii_case("content-length") {
            // One length, or the same one listed again (`8, 8`), as hyper takes it.
            for listed in value.split(|&b| b == b',') {
                let parsed = std::str::from_utf8(listed.trim_ascii())
                    .ok()
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse().ok())
                    .ok_or("its Content-Length is not a length")?;
                if length.is_some_and(|l| l != parsed) {
                    return Err("it gave two different Content-Lengths".into());
                }
                length = Some(parsed);
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if response.version != Some(1) {
                // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding is faulty.
                return Err("it sent Transfer-Encoding in HTTP/1.0".into());
            }
            encoded = true;
            chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if header.name.eq_ignore_ascii_case("connection") {
            close |= value
                .split(|&b| b == b',')
                .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"));
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if encoded {
        Framing::UntilClose
    } else {
        length.map_or(Framing::UntilClose, Framing::Length)
    };
    Ok(Some(Head {
        status,
        len,
        framing,
        keep_alive: !close && framing != Framing::UntilClose,
    }))
}

/// A chunked body decoded in place as it comes: `buf[written..read]` is free, the decoded
/// body ends at `written`, and the next chunk starts at `read`.
struct Dechunk {
    read: usize,
    written: usize,
}

impl Dechunk {
    /// Decodes the chunks that are whole. Once the last chunk and its trailers are in, the
    /// buffer ends with the decoded body and this says whether nothing followed them.
    fn step(&mut self, buf: &mut Vec<u8>) -> Result<Option<bool>, String> {
        let bad = || "its chunked body is malformed".to_string();
        loop {
            let (consumed, size) = match httparse::parse_chunk_size(&buf[self.read..]) {
                Ok(httparse::Status::Complete(sized)) => sized,
                // A size line (its extensions) is bounded, as hyper bounds it: it is read
                // again with each part that comes.
                Ok(httparse::Status::Partial) if buf.len() - self.read > MAX_LINES_BYTES => {
                    return Err(bad())
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(_) => return Err(bad()),
            };
            let data = self.read + consumed;
            if size == 0 {
                let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                return match httparse::parse_headers(&buf[data..], &mut trailers) {
                    Ok(httparse::Status::Complete((len, _))) => {
                        let whole = data + len == buf.len();
                        buf.truncate(self.written);
                        Ok(Some(whole))
                    }
                    Ok(httparse::Status::Partial) if buf.len() - data > MAX_LINES_BYTES => {
                        Err(bad())
                    }
                    Ok(httparse::Status::Partial) => Ok(None),
                    Err(_) => Err(bad()),
                };
            }
            let size = usize::try_from(size)
                .ok()
                .filter(|&size| size <= MAX_ANSWER_BYTES)
                .ok_or_else(too_large)?;
            if buf.len() < data + size + 2 {
                return Ok(None);
            }
            if &buf[data + size..data + size + 2] != b"\r\n" {
                return Err(bad());
            }
            buf.copy_within(data..data + size, self.written);
            self.written += size;
            self.read = data + size + 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` given in parts of `step` bytes, as reads would bring it.
    fn dechunk(input: &[u8], step: usize) -> Result<(Vec<u8>, bool), String> {
        let mut buf = Vec::new();
        let mut chunks = Dechunk {
            read: 0,
            written: 0,
        };
        for part in input.chunks(step) {
            buf.extend_from_slice(part);
            if let Some(whole) = chunks.step(&mut buf)? {
                return Ok((buf, whole));
            }
        }
        Err("not whole".into())
    }

    #[test]
    fn a_chunked_body_is_decoded_in_place_however_it_is_split() {
        let input = b"5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n";
        for step in 1..input.len() {
            assert_eq!(
                dechunk(input, step),
                Ok((b"hello 0123456789".to_vec(), true)),
                "{step}"
            );
        }
        let mut extra = input.to_vec();
        extra.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        assert!(!dechunk(&extra, extra.len()).unwrap().1);
        assert!(dechunk(b"5\r\nhelloXX0\r\n\r\n", 100).is_err());
        assert!(dechunk(b"zz\r\n", 100).is_err());
        assert!(dechunk(b"ffffffffffffffff\r\n", 100).is_err());
        // Endless extensions or trailers are refused once past the bound, not read forever.
        let mut extension = b"1;".to_vec();
        extension.extend(std::iter::repeat_n(b'e', MAX_LINES_BYTES + 1));
        assert!(dechunk(&extension, 4096).is_err());
        let mut trailer = b"1\r\nx\r\n0\r\nX-T: ".to_vec();
        trailer.extend(std::iter::repeat_n(b'v', MAX_LINES_BYTES + 1));
        assert!(dechunk(&trailer, 4096).is_err());
    }

    #[test]
    fn an_answers_framing_comes_from_its_head() {
        let head = |text: &str| parse_head(text.as_bytes()).unwrap().unwrap();
        let length = head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(
            (length.framing, length.keep_alive),
            (Framing::Length(12), true)
        );
        let chunked = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 3\r\n\r\n",
        );
        assert_eq!(chunked.framing, Framing::Chunked);
        let unframed = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(
            (unframed.framing, unframed.keep_alive),
            (Framing::UntilClose, false)
        );
        let closing =
            head("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n");
        assert!(!closing.keep_alive);
        assert!(!head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        assert_eq!(
            head("HTTP/1.1 204 No Content\r\n\r\n").framing,
            Framing::Length(0)
        );
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .is_err()
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le")
            .unwrap()
            .is_none());
        assert!(parse_head(b"SMTP ready\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 099 Weird\r\nContent-Length: 0\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n").is_err());
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 8, 8\r\n\r\n").framing,
            Framing::Length(8)
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 8, 9\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
    }
}
