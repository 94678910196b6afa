//! The emulator's HTTP server (hyper, HTTP/1.1 keep-alive) with injectable faults and latency.

mod fast;

use super::request_log::{refusal, Line, RequestLog, Summary};
use super::{DeliveryQuery, Emulator, Reply, MAX_BODY_BYTES};
use crate::http1::{hand_over, Left};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rand::Rng;
use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A delivery's status as the log says it: the usual ones without an allocation.
fn status_text(status: u16) -> Cow<'static, str> {
    match status {
        200 => "200".into(),
        204 => "204".into(),
        400 => "400".into(),
        other => other.to_string().into(),
    }
}

/// The query parameters a delivery reads, decoded in place (borrowed unless escaped); of a
/// repeated one, the last counts.
#[derive(Debug, Default)]
struct QueryParameters<'q> {
    client: Option<Cow<'q, str>>,
    session_id: Option<Cow<'q, str>>,
}

impl<'q> QueryParameters<'q> {
    fn parse(query: Option<&'q str>) -> Self {
        let mut parameters = QueryParameters::default();
        let Some(query) = query else {
            return parameters;
        };
        if query.bytes().any(|b| b == b'%' || b == b'+') {
            for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
                parameters.set(&name, value);
            }
        } else {
            // Nothing escaped (the usual query): the pairs as they are, split as
            // `form_urlencoded` splits them.
            for pair in query.split('&').filter(|pair| !pair.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                parameters.set(name, Cow::Borrowed(value));
            }
        }
        parameters
    }

    fn set(&mut self, name: &str, value: Cow<'q, str>) {
        match name {
            "client" => self.client = Some(value),
            "sessionId" => self.session_id = Some(value),
            _ => {}
        }
    }

    fn delivery(&self) -> DeliveryQuery<'_> {
        DeliveryQuery {
            client: self.client.as_deref(),
            session_id: self.session_id.as_deref(),
        }
    }
}

/// The Delivery API's path.
const DELIVERY_PATH: &str = "/rest/v1/delivery";

/// How the server misbehaves on purpose.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Share (0–1) of delivery requests that fail at random.
    pub rate: f64,
    /// Delay before every reply.
    pub latency: Duration,
}

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// The connection is dropped before the request is processed.
    DropBefore,
    /// The request is processed (and counted) but the connection drops before the answer.
    DropAfter,
    /// 503 Service Unavailable.
    Unavailable,
}

/// How long a client may take and how many connections may be open at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Time to send a request's head, counted from the connection's start or from the previous
    /// answer: it closes idle keep-alive connections and slow (slowloris) heads alike.
    pub header_read: Duration,
    /// Time to send a request's body once its head is in.
    pub body: Duration,
    /// Connections open at once; further ones wait in the listen backlog for a free slot.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            body: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// What a request's connection tells its handler.
#[derive(Debug, Clone, Copy)]
struct ConnectionInfo {
    /// The server's address on this connection: its own origin.
    local: SocketAddr,
    body_timeout: Duration,
}

/// The server's shared state.
pub struct Server {
    pub emulator: Arc<Emulator>,
    pub faults: Faults,
    /// Print a line per request.
    pub log: bool,
}

/// A dropped connection (hyper closes it without an answer).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// Whether `authority` (`host[:port]`) names this server: its address, or `localhost` on a
/// loopback address. A browser page that rebinds its own name to 127.0.0.1 sends its name.
/// Read in place (it runs for every request): `[v6]` or a name or v4 address, then `:port`.
fn is_own_authority(authority: &str, local: SocketAddr) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, rest)) => match rest.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        None => 80,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            match digits.parse::<u16>() {
                Ok(port) => port,
                Err(_) => return false,
            }
        }
        Some(_) => return false,
    };
    let same_host = host.parse::<std::net::IpAddr>().ok() == Some(local.ip())
        || (local.ip().is_loopback() && host.eq_ignore_ascii_case("localhost"));
    same_host && port == local.port()
}

/// Whether an `Origin` is this server's own (`http://` and its authority).
fn is_own_origin(origin: &str, local: SocketAddr) -> bool {
    origin
        .strip_prefix("http://")
        .is_some_and(|authority| is_own_authority(authority, local))
}

/// Refuses what a web page in the user's browser could send to a loopback server: a request
/// for another host name (DNS rebinding) or from another origin.
fn refuse_foreign(parts: &hyper::http::request::Parts, local: SocketAddr) -> Option<Reply> {
    let header = |name: hyper::header::HeaderName| {
        let value = parts.headers.get(name)?;
        Some(String::from_utf8_lossy(value.as_bytes()))
    };
    if local.ip().is_loopback() {
        if let Some(host) = header(hyper::header::HOST).filter(|h| !is_own_authority(h, local)) {
            return Some(Reply::error(
                403,
                format!("Forbidden: Host {host:?} is not this server ({local})"),
            ));
        }
    }
    match header(hyper::header::ORIGIN) {
        Some(origin) if !is_own_origin(&origin, local) => Some(Reply::error(
            403,
            format!("Forbidden: cross-origin request from {origin:?} refused"),
        )),
        _ => None,
    }
}

/// Whether a request's body is declared JSON (`application/json`, parameters allowed), as the
/// SDKs send it (the Node and Python SDKs' helpers set it; a form or `text/plain` is refused).
fn is_json(parts: &hyper::http::request::Parts) -> bool {
    parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_type)
}

/// Whether a `Content-Type` value is `application/json` (parameters allowed).
fn is_json_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

fn json_response(reply: Reply) -> Response<Full<Bytes>> {
    bytes_response(reply.status, "application/json", reply.body)
}

fn bytes_response(status: u16, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

/// The whole of `body`, or `None` when it does not arrive within `timeout`. A small body
/// usually came in with the head: then it is taken without arming a timer.
async fn collect_within<B: hyper::body::Body>(
    body: B,
    timeout: Duration,
) -> Option<Result<http_body_util::Collected<B::Data>, B::Error>> {
    let mut collect = std::pin::pin!(body.collect());
    if let std::task::Poll::Ready(collected) = futures::poll!(collect.as_mut()) {
        return Some(collected);
    }
    tokio::time::timeout(timeout, collect).await.ok()
}

impl Server {
    fn pick_fault(&self) -> Option<Fault> {
        if self.faults.rate <= 0.0 {
            return None;
        }
        let mut rng = rand::rng();
        if rng.random::<f64>() >= self.faults.rate {
            return None;
        }
        Some(match rng.random_range(0..3) {
            0 => Fault::DropBefore,
            1 => Fault::DropAfter,
            _ => Fault::Unavailable,
        })
    }

    async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
        connection: ConnectionInfo,
    ) -> Result<Response<Full<Bytes>>, Dropped> {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let method = parts.method.clone();
        let path = parts.uri.path();
        if let Some(reply) = refuse_foreign(&parts, connection.local) {
            self.log_line(&method, path, "403 (foreign host or origin)", started);
            return Ok(json_response(reply));
        }
        if method == Method::POST && !is_json(&parts) {
            self.log_line(&method, path, "415", started);
            return Ok(json_response(Reply::error(
                415,
                "Unsupported Media Type: send the body as Content-Type: application/json",
            )));
        }
        let query = QueryParameters::parse(parts.uri.query());
        let is_delivery = method == Method::POST && path == DELIVERY_PATH;
        let fault = if is_delivery { self.pick_fault() } else { None };
        if !self.faults.latency.is_zero() {
            tokio::time::sleep(self.faults.latency).await;
        }
        let response = match (fault, &method, path) {
            (Some(Fault::DropBefore), _, _) => {
                self.log_line(&method, path, "dropped before processing (fault)", started);
                return Err(Dropped);
            }
            (Some(Fault::Unavailable), _, _) => {
                json_response(Reply::error(503, "Service Unavailable (fault injection)"))
            }
            (_, &Method::POST, DELIVERY_PATH) => {
                let Some(collected) =
                    collect_within(Limited::new(body, MAX_BODY_BYTES), connection.body_timeout)
                        .await
                else {
                    self.log_line(&method, path, "408", started);
                    let mut response = json_response(Reply::error(
                        408,
                        format!(
                            "Request Timeout: the body did not arrive within {} ms",
                            connection.body_timeout.as_millis()
                        ),
                    ));
                    response.headers_mut().insert(
                        hyper::header::CONNECTION,
                        hyper::header::HeaderValue::from_static("close"),
                    );
                    return Ok(response);
                };
                let body = match collected {
                    Ok(collected) => collected.to_bytes(),
                    Err(e)
                        if e.downcast_ref::<http_body_util::LengthLimitError>()
                            .is_some() =>
                    {
                        let reply = Reply::error(
                            413,
                            format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
                        );
                        self.log_line(&method, path, "413", started);
                        return Ok(json_response(reply));
                    }
                    Err(_) => return Err(Dropped),
                };
                let (reply, summary) = self.delivery(&query, &body);
                if fault == Some(Fault::DropAfter) {
                    self.log_delivery(
                        format!("{} processed, then dropped (fault)", reply.status),
                        &reply,
                        summary,
                        started,
                    );
                    return Err(Dropped);
                }
                self.log_delivery(status_text(reply.status), &reply, summary, started);
                return Ok(json_response(reply));
            }
            (_, &Method::GET, "/report") => {
                json_response(Reply::json(200, &self.emulator.report()))
            }
            (_, &Method::GET, "/qa") => json_response(Reply::json(200, &self.emulator.qa_links())),
            (_, &Method::GET, p) if p.starts_with("/visitors/") => {
                let id = percent_encoding::percent_decode_str(&p["/visitors/".len()..])
                    .decode_utf8_lossy();
                json_response(match self.emulator.visitor(&id) {
                    Some(record) => Reply::json(200, &record),
                    None => Reply::error(404, format!("no visitor {id:?} (it may have been forgotten: the emulator keeps the most recent ones)")),
                })
            }
            (_, &Method::POST, "/report/reset") => {
                self.emulator.reset();
                json_response(Reply::json(200, &self.emulator.report()))
            }
            (_, &Method::GET, "/rules.json") => {
                bytes_response(200, "application/json", self.emulator.rules_json().to_vec())
            }
            (_, _, "/rest/v1/delivery" | "/report" | "/report/reset" | "/rules.json" | "/qa") => {
                json_response(Reply::error(
                    405,
                    format!("{method} is not allowed on {path}"),
                ))
            }
            _ => json_response(Reply::error(404, format!("no such endpoint: {path}"))),
        };
        self.log_line(
            &method,
            path,
            response.status().as_str().to_string(),
            started,
        );
        Ok(response)
    }

    /// The emulator's answer to a delivery, with what the log says of it when logging.
    fn delivery(&self, query: &QueryParameters, body: &[u8]) -> (Reply, Option<Summary>) {
        if self.log {
            let (reply, summary) = self.emulator.delivery_summarized(query.delivery(), body);
            (reply, Some(summary))
        } else {
            (self.emulator.delivery(query.delivery(), body), None)
        }
    }

    /// Logs a line per request (when logging): dropped rather than waited for.
    fn log_line(
        &self,
        method: &Method,
        path: &str,
        outcome: impl Into<Cow<'static, str>>,
        started: Instant,
    ) {
        if self.log {
            self.send_line(Line {
                at_ms: crate::clock::now_ms(),
                method: method.clone(),
                path: path.to_string().into(),
                outcome: outcome.into(),
                refusal: None,
                summary: None,
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            });
        }
    }

    /// Logs a delivery: what it was, what it counted, and why it was refused if it was.
    fn log_delivery(
        &self,
        outcome: impl Into<Cow<'static, str>>,
        reply: &Reply,
        summary: Option<Summary>,
        started: Instant,
    ) {
        if self.log {
            self.send_line(Line {
                at_ms: crate::clock::now_ms(),
                method: Method::POST,
                path: DELIVERY_PATH.into(),
                outcome: outcome.into(),
                refusal: refusal(reply.status, &reply.body),
                summary,
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            });
        }
    }

    /// Queues a line for the logger thread; a full queue drops it.
    fn send_line(&self, line: Line) {
        if let Some(log) = RequestLog::get() {
            log.send(line);
        }
    }
}

/// Serves on `listener` with the default limits until `shutdown` completes.
pub async fn serve(listener: TcpListener, server: Arc<Server>, shutdown: impl Future<Output = ()>) {
    let limits = Limits::default();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(connection(stream, server.clone(), limits, slot));
            }
        }
    }
}

/// Serves one keep-alive connection within `limits`; its `slot` frees when it ends. Whole
/// delivery requests take the fast path; the rest of the connection goes to hyper from the
/// first request that does not (and all of it when faults are injected).
async fn connection(
    mut stream: TcpStream,
    server: Arc<Server>,
    limits: Limits,
    slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let info = ConnectionInfo {
        local,
        body_timeout: limits.body,
    };
    if server.faults.rate > 0.0 || !server.faults.latency.is_zero() {
        serve_with_hyper(stream, server, info, limits).await;
    } else {
        match fast::serve(&mut stream, &server, local, limits.header_read).await {
            Left::Closed => {}
            Left::Handover(read, head_time_left) => {
                let (io, header_read) = hand_over(stream, read, head_time_left, limits.header_read);
                let limits = Limits {
                    header_read,
                    ..limits
                };
                serve_with_hyper(io, server, info, limits).await;
            }
        }
    }
    drop(slot);
}

/// Serves a connection with hyper, `io` being what is left of it.
async fn serve_with_hyper<I>(io: I, server: Arc<Server>, info: ConnectionInfo, limits: Limits)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| server.clone().handle(req, info));
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true)
        // A client that shuts its side after a whole request still gets the answer, as on the
        // fast path (and from nginx).
        .half_close(true)
        // One buffer, one write: the head and a body of a few KB copied together cost less
        // than a vectored write of both (measured with callgrind).
        .writev(false)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// A thread running a single-threaded runtime until `stop` turns true.
fn spawn_thread<F: Future<Output = ()> + 'static>(
    name: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
    work: impl FnOnce() -> F + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("mboxscope: {name}: {e}");
                    return;
                }
            };
            runtime.block_on(async move {
                tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => {}
                    _ = work() => {}
                }
            });
        })
}

/// Serves `listener` on `threads` worker threads, each with its own single-threaded runtime
/// (as nginx runs a worker per core: no hand-offs between threads per request), within
/// `limits` until `stop` turns true. An acceptor thread deals the connections round-robin, so
/// the workers share the load evenly (with a shared listener, the first worker awake took
/// them all); it accepts only while a connection slot is free.
pub fn serve_on_threads(
    listener: std::net::TcpListener,
    server: Arc<Server>,
    threads: usize,
    limits: Limits,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    listener.set_nonblocking(true)?;
    let mut handles = Vec::new();
    let mut workers = Vec::new();
    for i in 0..threads.max(1) {
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<(std::net::TcpStream, OwnedSemaphorePermit)>();
        workers.push(tx);
        let server = server.clone();
        handles.push(spawn_thread(
            format!("emulator-{i}"),
            stop.clone(),
            move || async move {
                while let Some((stream, slot)) = rx.recv().await {
                    if let Ok(stream) = TcpStream::from_std(stream) {
                        tokio::spawn(connection(stream, server.clone(), limits, slot));
                    }
                }
            },
        )?);
    }
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    handles.push(spawn_thread(
        "emulator-accept".into(),
        stop,
        move || async move {
            let Ok(listener) = TcpListener::from_std(listener) else {
                return;
            };
            for worker in workers.iter().cycle() {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of file descriptors, say: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if let Ok(stream) = stream.into_std() {
                    let _ = worker.send((stream, slot));
                }
            }
        },
    )?);
    Ok(handles)
}

/// Binds `addr` and serves in the background; returns the base URL.
pub async fn spawn(
    server: Arc<Server>,
    addr: SocketAddr,
) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let handle = tokio::spawn(serve(listener, server, std::future::pending()));
    Ok((format!("http://{local}"), handle))
}

#[cfg(test)]
mod tests {
    use super::{collect_within, is_own_authority, QueryParameters};
    use crate::emulator::DeliveryQuery;
    use bytes::Bytes;
    use hyper::body::{Body, Frame};
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    /// A body whose bytes come in `pending` polls after it is first asked (0: at once), or
    /// never.
    struct Arriving {
        pending: Option<usize>,
        sent: bool,
    }

    impl Body for Arriving {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            match self.pending {
                None => return Poll::Pending,
                Some(n) if n > 0 => {
                    self.pending = Some(n - 1);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Some(_) => {}
            }
            if self.sent {
                return Poll::Ready(None);
            }
            self.sent = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{}")))))
        }
    }

    #[tokio::test]
    async fn a_body_is_collected_whether_it_is_in_or_comes_later_and_not_when_it_never_comes() {
        let timeout = Duration::from_secs(30);
        for pending in [0, 1, 3] {
            let body = Arriving {
                pending: Some(pending),
                sent: false,
            };
            let collected = collect_within(body, timeout).await;
            let bytes = collected.expect("in time").expect("no error").to_bytes();
            assert_eq!(&bytes[..], b"{}", "after {pending} pending polls");
        }
        let never = Arriving {
            pending: None,
            sent: false,
        };
        assert!(collect_within(never, Duration::from_millis(1))
            .await
            .is_none());
    }

    #[test]
    fn the_query_is_decoded_in_place_and_the_last_of_a_repeated_parameter_counts() {
        let parsed = QueryParameters::parse(Some(
            "client=first&sessionId=a%20b+c&client=targettesting&other=x&%63lient=last",
        ));
        assert_eq!(
            parsed.delivery(),
            DeliveryQuery {
                client: Some("last"),
                session_id: Some("a b c"),
            }
        );
        assert_eq!(
            QueryParameters::parse(None).delivery(),
            DeliveryQuery::default()
        );
        // Unescaped queries are split in place, as form_urlencoded splits them.
        for query in [
            "client=a&sessionId=b",
            "&&client=a=b&sessionId&client=last&",
            "sessionId=x&other=1&sessionId=y=z",
            "=&client",
            "",
        ] {
            let parsed = QueryParameters::parse(Some(query));
            let mut expected = (None, None);
            for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
                match &*name {
                    "client" => expected.0 = Some(value.into_owned()),
                    "sessionId" => expected.1 = Some(value.into_owned()),
                    _ => {}
                }
            }
            let got = parsed.delivery();
            assert_eq!(
                (
                    got.client.map(str::to_string),
                    got.session_id.map(str::to_string)
                ),
                expected,
                "{query}"
            );
        }
        assert_eq!(
            QueryParameters::parse(Some("sessionId=&client")).delivery(),
            DeliveryQuery {
                client: Some(""),
                session_id: Some(""),
            }
        );
    }

    #[test]
    fn only_this_servers_address_or_localhost_with_its_port_is_its_own_authority() {
        let v4 = "127.0.0.1:8080".parse().unwrap();
        let v6 = "[::1]:8080".parse().unwrap();
        for own in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080"] {
            assert!(is_own_authority(own, v4), "{own}");
        }
        for foreign in [
            "127.0.0.1",
            "127.0.0.1:80",
            "127.0.0.1:08080x",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "evil.example:8080",
            "user@127.0.0.1:8080",
            "127.0.0.2:8080",
            "[::1]:8080",
        ] {
            assert!(!is_own_authority(foreign, v4), "{foreign}");
        }
        assert!(is_own_authority("[::1]:8080", v6));
        assert!(is_own_authority("localhost:8080", v6));
        for foreign in ["[::1]", "[::1]8080", "[::1:8080", "::1:8080"] {
            assert!(!is_own_authority(foreign, v6), "{foreign}");
        }
        let default_port = "127.0.0.1:80".parse().unwrap();
        assert!(is_own_authority("127.0.0.1", default_port));
    }
}
