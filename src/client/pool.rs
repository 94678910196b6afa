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
use std::sync::Mutex;

/// A connection of the pool, free to send one request.
pub type Connection = SendRequest<Full<Bytes>>;

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
    /// turns out closed before the request went out. Returns the answer's head (its body
    /// still to read) and the connection: give it back with [`keep`](Self::keep) once the
    /// body is read.
    pub async fn send(
        &self,
        mut request: hyper::Request<Full<Bytes>>,
    ) -> Result<(hyper::Response<Incoming>, Connection), PoolError> {
        let mut kept = self.take_idle();
        // A kept connection the server closed meanwhile is replaced once by a new one.
        loop {
            let reused = kept.is_some();
            let mut connection = match kept.take() {
                Some(c) => c,
                None => self.connect().await?,
            };
            if let Err(e) = connection.ready().await {
                if reused {
                    continue;
                }
                return Err(PoolError::Request(e));
            }
            match connection.try_send_request(request).await {
                Ok(reply) => return Ok((reply, connection)),
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => request = unsent,
                    _ => return Err(PoolError::Request(e.into_error())),
                },
            }
        }
    }

    /// Keeps a connection whose answer was read whole, for the next request.
    pub fn keep(&self, connection: Connection) {
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
        let (sender, connection) = hyper::client::conn::http1::Builder::new()
            // One buffer, one write: a head and a body of a few KB copied together cost
            // less than a vectored write of both.
            .writev(false)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(PoolError::Handshake)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a kept connection ended");
            }
        });
        Ok(sender)
    }
}
