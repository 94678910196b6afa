//! `mboxscope proxy`: a Delivery API endpoint on loopback that an application's SDK points at.
//! It forwards every request unchanged to the upstream (real Target, a `mboxscope serve`, the
//! built-in emulator), gives the upstream's answer back unchanged, and journals each Delivery
//! exchange as observed traffic in the ledger of that target, off the forwarding path. Its feed
//! (`GET /mboxscope/exchanges`) shows the exchanges as they are journaled.

pub mod digest;
mod fast;
pub mod feed;
pub mod forward;
pub mod recorder;
pub mod upstream;
pub mod watch;

use crate::http1::{hand_over, Left};
use bytes::Bytes;
use feed::{Feed, FEED_PATH};
use forward::{Answer, Forwarder};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use recorder::{Observed, Recorder};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

/// The largest request body forwarded (Target's own limit is 60 MB).
pub const MAX_BODY_BYTES: usize = 60 * 1024 * 1024;

/// How long a request's head may take to come (hyper's default).
const HEADER_READ: Duration = Duration::from_secs(30);

/// The Delivery API's path: the exchanges on it are journaled.
const DELIVERY_PATH: &str = "/rest/v1/delivery";

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("the proxy listens on loopback only, not {0}")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Forwarder(#[from] forward::ForwarderError),
    #[error("cannot start the journal writer: {0}")]
    Writer(std::io::Error),
}

/// What the proxy forwards to and journals in.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// The upstream's base URL (`http://127.0.0.1:8080`, `https://acme.tt.omtrdc.net`).
    pub upstream: String,
    /// The journal of the target (client code + upstream).
    pub journal: PathBuf,
    /// The client code the journal is for.
    pub client: Option<String>,
    /// Where to listen (loopback only).
    pub addr: SocketAddr,
    /// Threads that forward (at least one).
    pub workers: usize,
}

/// One forwarding thread per core, as `mboxscope serve` has: the application and the
/// upstream often share the machine, and the scheduler gives each runnable thread its share,
/// so a single forwarding thread (with the journal writer beside it) got less than the
/// upstream's threads and became the bottleneck (on 2 cores, full load side by side, 8 rounds:
/// one thread a median 63% of the direct rate, two 72%).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One worker's proxy: its own upstream client (so a request and its upstream connection stay
/// on the worker's thread), the shared journal writer and feed.
pub struct Proxy {
    forwarder: Forwarder,
    recorder: Arc<Recorder>,
    feed: Arc<Feed>,
    /// What `GET /mboxscope/target` answers (a [`feed::ProxyTarget`] as JSON).
    target: Bytes,
}

/// A proxy serving in the background.
pub struct RunningProxy {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    recorder: Arc<Recorder>,
    stop: tokio::sync::watch::Sender<bool>,
    acceptor: tokio::task::JoinHandle<()>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl RunningProxy {
    /// Stops accepting connections, then waits until what was handed to the journal writer is
    /// journaled.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.acceptor.await;
        let (recorder, workers) = (self.recorder, self.workers);
        let _ = tokio::task::spawn_blocking(move || {
            for worker in workers {
                let _ = worker.join();
            }
            recorder.stop();
        })
        .await;
    }
}

/// Binds the loopback address and serves in the background: an acceptor on the caller's
/// runtime deals connections round-robin to `settings.workers` worker threads, each with its
/// own single-threaded runtime (as `mboxscope serve` does), so forwarding never hops threads.
pub async fn start(settings: ProxySettings) -> Result<RunningProxy, ProxyError> {
    if !settings.addr.ip().is_loopback() {
        return Err(ProxyError::NotLoopback(settings.addr));
    }
    let listen_error = |source| ProxyError::Listen {
        addr: settings.addr,
        source,
    };
    let listener = TcpListener::bind(settings.addr)
        .await
        .map_err(listen_error)?;
    let local = listener.local_addr().map_err(listen_error)?;
    let feed = Arc::new(Feed::default());
    let target = Bytes::from(
        serde_json::to_vec(&feed::ProxyTarget {
            upstream: settings.upstream.clone(),
            client: settings.client.clone(),
            journal: settings.journal.clone(),
        })
        .unwrap_or_default(),
    );
    let recorder =
        Arc::new(Recorder::start(settings.journal, feed.clone()).map_err(ProxyError::Writer)?);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    let mut queues = Vec::new();
    for i in 0..settings.workers.max(1) {
        let proxy = Arc::new(Proxy {
            forwarder: Forwarder::new(&settings.upstream)?,
            recorder: recorder.clone(),
            feed: feed.clone(),
            target: target.clone(),
        });
        let (queue, connections) = tokio::sync::mpsc::unbounded_channel();
        queues.push(queue);
        workers.push(worker(i, proxy, connections).map_err(ProxyError::Writer)?);
    }
    let acceptor = tokio::spawn(accept(listener, queues, stopped));
    Ok(RunningProxy {
        url: format!("http://{local}"),
        recorder,
        stop,
        acceptor,
        workers,
    })
}

/// A worker thread serving the connections it is dealt until their queue closes.
fn worker(
    index: usize,
    proxy: Arc<Proxy>,
    mut connections: tokio::sync::mpsc::UnboundedReceiver<std::net::TcpStream>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("proxy-{index}"))
        .spawn(move || {
            runtime.block_on(async move {
                while let Some(stream) = connections.recv().await {
                    if let Ok(stream) = TcpStream::from_std(stream) {
                        tokio::spawn(connection(stream, proxy.clone()));
                    }
                }
            })
        })
}

/// Accepts connections and deals them round-robin until `stopped` turns true.
async fn accept(
    listener: TcpListener,
    queues: Vec<tokio::sync::mpsc::UnboundedSender<std::net::TcpStream>>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    for queue in queues.iter().cycle() {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted.and_then(|(s, _)| s.into_std()) {
                Ok(stream) => {
                    let _ = queue.send(stream);
                }
                // Out of file descriptors, say: wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

/// Serves one keep-alive connection: whole delivery requests to a plain upstream take the
/// fast path; the rest of the connection goes to hyper from the first request that does not.
async fn connection(mut stream: TcpStream, proxy: Arc<Proxy>) {
    let _ = stream.set_nodelay(true);
    let Some(upstream) = proxy.forwarder.plain() else {
        return serve_with_hyper(stream, proxy, HEADER_READ).await;
    };
    match fast::serve(&mut stream, &proxy, upstream, HEADER_READ).await {
        Left::Closed => {}
        Left::Handover(read, head_time_left) => {
            let (io, header_read) = hand_over(stream, read, head_time_left, HEADER_READ);
            serve_with_hyper(io, proxy, header_read).await;
        }
    }
}

/// Serves a connection with hyper, `io` being what is left of it.
async fn serve_with_hyper<I>(io: I, proxy: Arc<Proxy>, header_read: Duration)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| proxy.clone().handle(request));
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read)
        .keep_alive(true)
        // A client that shuts its side after a whole request still gets the answer, as from
        // `mboxscope serve` and nginx.
        .half_close(true)
        // One buffer, one write: the head and a body of a few KB copied together cost less
        // than a vectored write of both (as `mboxscope serve` writes).
        .writev(false)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

fn json(status: u16, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Target's error shape.
fn error(status: u16, message: String) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "status": status, "message": message });
    json(status, serde_json::to_vec(&body).unwrap_or_default())
}

impl Proxy {
    async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        if request.uri().path() == FEED_PATH {
            return Ok(self.feed(&request).await);
        }
        if request.uri().path() == feed::TARGET_PATH {
            return Ok(self.target(&request));
        }
        let started = Instant::now();
        let at = crate::clock::now_ms();
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Ok(error(
                    413,
                    format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
                ))
            }
            Err(e) => return Ok(error(400, format!("the request body was cut off: {e}"))),
        };
        let delivery = parts.method == Method::POST && parts.uri.path() == DELIVERY_PATH;
        let session = if delivery {
            session_id(parts.uri.query())
        } else {
            None
        };
        let answer = self
            .forwarder
            .forward(parts.method, parts.uri, parts.headers, body.clone())
            .await;
        if delivery {
            // Copies: the bodies are slices of the connections' read buffers, which they
            // would keep from being reused while they wait in the journal's queue.
            self.recorder.observe(Observed {
                at,
                duration: started.elapsed(),
                session_id: session,
                request: Bytes::copy_from_slice(&body),
                status: answer.status,
                response: Bytes::copy_from_slice(&answer.body),
                unreachable: answer.unreachable.clone(),
            });
        }
        Ok(respond(answer))
    }

    /// `GET /mboxscope/target`: the target this proxy stands for.
    fn target(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        match refused(request, feed::TARGET_PATH) {
            Some(refusal) => refusal,
            None => json(200, self.target.to_vec()),
        }
    }

    /// `GET /mboxscope/exchanges?after=SEQ&wait_ms=N`.
    async fn feed(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if let Some(refusal) = refused(request, FEED_PATH) {
            return refusal;
        }
        match feed::parse_query(request.uri().query()) {
            Ok((after, wait)) => {
                let exchanges = self.feed.wait_after(after, wait).await;
                json(200, serde_json::to_vec(&exchanges).unwrap_or_default())
            }
            Err(message) => error(400, message),
        }
    }
}

/// The refusal of a request for the proxy's own `path` (the feed, its target): another method
/// than GET, or a Host that is not loopback.
fn refused(request: &Request<Incoming>, path: &str) -> Option<Response<Full<Bytes>>> {
    if request.method() != Method::GET {
        return Some(error(
            405,
            format!("{} is not allowed on {path}", request.method()),
        ));
    }
    let host = request
        .headers()
        .get(hyper::header::HOST)
        .filter(|host| !is_loopback_host(host.as_bytes()))?;
    let host = String::from_utf8_lossy(host.as_bytes()).into_owned();
    Some(error(
        403,
        format!("Forbidden: Host {host:?} is not loopback"),
    ))
}

/// Whether a Host header (or a URL's authority) names a loopback host (the feed holds the
/// application's traffic: a web page that rebinds its own name to 127.0.0.1 must not read it).
pub(crate) fn is_loopback_host(host: &[u8]) -> bool {
    let Ok(authority) = std::str::from_utf8(host).map(str::parse::<hyper::http::uri::Authority>)
    else {
        return false;
    };
    let Ok(authority) = authority else {
        return false;
    };
    let name = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `sessionId` query parameter.
fn session_id(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == "sessionId")
        .map(|(_, value)| value.into_owned())
}

fn respond(answer: Answer) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    *response.headers_mut() = answer.headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_comes_from_the_query() {
        assert_eq!(
            session_id(Some("client=demo&sessionId=s%201")).as_deref(),
            Some("s 1")
        );
        assert_eq!(session_id(Some("client=demo")), None);
        assert_eq!(session_id(None), None);
    }

    #[test]
    fn only_loopback_hosts_may_read_the_feed() {
        assert!(is_loopback_host(b"127.0.0.1:4000"));
        assert!(is_loopback_host(b"localhost:4000"));
        assert!(is_loopback_host(b"[::1]:4000"));
        assert!(!is_loopback_host(b"evil.example:4000"));
        assert!(!is_loopback_host(b"\xff"));
    }
}
