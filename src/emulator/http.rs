//! The emulator's HTTP server (hyper, HTTP/1.1 keep-alive) with injectable faults and latency.

use super::{Emulator, Reply, MAX_BODY_BYTES};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::Rng;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

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
    ) -> Result<Response<Full<Bytes>>, Dropped> {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let method = parts.method;
        let path = parts.uri.path();
        let query: HashMap<String, String> = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let is_delivery = method == Method::POST && path == "/rest/v1/delivery";
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
            (_, &Method::POST, "/rest/v1/delivery") => {
                let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
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
                let reply = self.emulator.delivery(&query, &body);
                if fault == Some(Fault::DropAfter) {
                    self.log_line(
                        &method,
                        path,
                        &format!("{} processed, then dropped (fault)", reply.status),
                        started,
                    );
                    return Err(Dropped);
                }
                json_response(reply)
            }
            (_, &Method::GET, "/report") => {
                json_response(Reply::json(200, &self.emulator.report()))
            }
            (_, &Method::POST, "/report/reset") => {
                self.emulator.reset();
                json_response(Reply::json(200, &self.emulator.report()))
            }
            (_, &Method::GET, "/rules.json") => {
                bytes_response(200, "application/json", self.emulator.rules_json().to_vec())
            }
            (_, _, "/rest/v1/delivery" | "/report" | "/report/reset" | "/rules.json") => {
                json_response(Reply::error(
                    405,
                    format!("{method} is not allowed on {path}"),
                ))
            }
            _ => json_response(Reply::error(404, format!("no such endpoint: {path}"))),
        };
        self.log_line(&method, path, response.status().as_str(), started);
        Ok(response)
    }

    fn log_line(&self, method: &Method, path: &str, outcome: &str, started: Instant) {
        if self.log {
            println!(
                "{method} {path} {outcome} {:.2} ms",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, server: Arc<Server>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(connection(stream, server.clone()));
            }
        }
    }
}

/// Serves one keep-alive connection.
async fn connection(stream: TcpStream, server: Arc<Server>) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |req| server.clone().handle(req));
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
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
/// (as nginx runs a worker per core: no hand-offs between threads per request), until `stop`
/// turns true. An acceptor thread deals the connections round-robin, so the workers share
/// the load evenly (with a shared listener, the first worker awake took them all).
pub fn serve_on_threads(
    listener: std::net::TcpListener,
    server: Arc<Server>,
    threads: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    listener.set_nonblocking(true)?;
    let mut handles = Vec::new();
    let mut workers = Vec::new();
    for i in 0..threads.max(1) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<std::net::TcpStream>();
        workers.push(tx);
        let server = server.clone();
        handles.push(spawn_thread(
            format!("emulator-{i}"),
            stop.clone(),
            move || async move {
                while let Some(stream) = rx.recv().await {
                    if let Ok(stream) = TcpStream::from_std(stream) {
                        tokio::spawn(connection(stream, server.clone()));
                    }
                }
            },
        )?);
    }
    handles.push(spawn_thread(
        "emulator-accept".into(),
        stop,
        move || async move {
            let Ok(listener) = TcpListener::from_std(listener) else {
                return;
            };
            for worker in workers.iter().cycle() {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of file descriptors, say: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if let Ok(stream) = stream.into_std() {
                    let _ = worker.send(stream);
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
