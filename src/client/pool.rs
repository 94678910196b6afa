//! Plain HTTP/1.1 keep-alive connections to one address, each carrying one request at a time
//! and kept for the next once its answer is read, so a pool grows to its callers'
//! concurrency. Nothing is parsed but the heads: bytes in, bytes out. Used by `check` (calls
//! to an `http://` target) and by the proxy (one pool per forwarding thread, so a request
//! and its upstream connection stay on one thread).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Mutex;
use std::task::Poll;

/// The HTTP/1.1 state machine of one connection: it reads and writes only while polled.
type Driver = hyper::client::conn::http1::Connection<TokioIo<tokio::net::TcpStream>, Full<Bytes>>;

/// A connection of the pool. It has no task of its own: the task that sends a request on it
/// drives it until the answer is read, so an exchange never hops between tasks.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    /// None once the connection ended (dropped then, so requests queued on it fail at once).
    driver: Option<Pin<Box<Driver>>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("ended", &self.driver.is_none())
            .finish()
    }
}

impl Connection {
    fn is_closed(&self) -> bool {
        self.driver.is_none() || self.sender.is_closed()
    }
}

/// Runs `work` while driving the connection; a connection that ends meanwhile is dropped.
async fn driven<T>(driver: &mut Option<Pin<Box<Driver>>>, work: impl Future<Output = T>) -> T {
    let mut work = pin!(work);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        if let Some(connection) = driver.as_mut() {
            if let Poll::Ready(ended) = connection.as_mut().poll(cx) {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "a kept connection ended");
                }
                *driver = None;
                return work.as_mut().poll(cx);
            }
        }
        Poll::Pending
    })
    .await
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No connection could be made.
    #[error("cannot connect")]
    Connect(#[source] std::io::Error),
    /// A connection was made but HTTP/1.1 could not start on it.
    #[error("HTTP/1.1 could not start")]
    Handshake(#[source] hyper::Error),
    /// The request failed on its connection.
    #[error("the request failed")]
    Request(#[source] hyper::Error),
}

/// Kept connections to one `host:port`.
#[derive(Debug)]
pub struct Pool {
    address: String,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    /// A pool of connections to `address` (`host:port`); none is made before a request.
    pub fn new(address: impl Into<String>) -> Pool {
        Pool {
            address: address.into(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` on a kept connection, or a new one when none is free or the kept one
    /// turns out closed before the request went out, and gives its answer to `read`, whose
    /// result it returns. The connection is kept for the next request (one whose answer
    /// `read` left unread closes, and is then replaced).
    pub async fn exchange<T>(
        &self,
        mut request: hyper::Request<Full<Bytes>>,
        read: impl AsyncFnOnce(hyper::Response<Incoming>) -> T,
    ) -> Result<T, PoolError> {
        let mut kept = self.take_idle();
        // A kept connection the server closed meanwhile is replaced once by a new one.
        let (mut connection, reply) = loop {
            let reused = kept.is_some();
            let mut connection = match kept.take() {
                Some(c) => c,
                None => self.connect().await?,
            };
            let sender = &mut connection.sender;
            let sent = driven(&mut connection.driver, async {
                if let Err(e) = sender.ready().await {
                    return Err((e, Some(request)));
                }
                sender.try_send_request(request).await.map_err(|mut e| {
                    let unsent = e.take_message();
                    (e.into_error(), unsent)
                })
            })
            .await;
            match sent {
                Ok(reply) => break (connection, reply),
                Err((_, Some(unsent))) if reused => request = unsent,
                Err((e, _)) => return Err(PoolError::Request(e)),
            }
        };
        let out = driven(&mut connection.driver, read(reply)).await;
        self.keep(connection);
        Ok(out)
    }

    /// Keeps a connection for the next request.
    fn keep(&self, connection: Connection) {
        if !connection.is_closed() {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(connection);
        }
    }

    fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(connection) = idle.pop() {
            if !connection.is_closed() {
                return Some(connection);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Connection, PoolError> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .map_err(PoolError::Connect)?;
        // Requests are small and answered at once: no waiting to fill a segment.
        let _ = stream.set_nodelay(true);
        let (sender, driver) = hyper::client::conn::http1::Builder::new()
            // One buffer, one write: a head and a body of a few KB copied together cost
            // less than a vectored write of both.
            .writev(false)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(PoolError::Handshake)?;
        Ok(Connection {
            sender,
            driver: Some(Box::pin(driver)),
        })
    }
}
