//! Prefetches to an `http://` target (the built-in emulator, a `mboxscope serve`) over plain
//! HTTP/1.1 keep-alive connections, each carrying one call at a time and kept for the next, so
//! a pool grows to the checks' concurrency. Same URL, headers, timeout, body limit, redirect
//! refusal and errors as [`TargetClient`]; https targets go through the `TargetClient`.

use crate::client::pool::{Pool, PoolError};
use crate::client::{root_cause, ClientError, TargetClient, Visitor, SDK_NAME};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, ACCEPT, CONTENT_TYPE, HOST, LOCATION, USER_AGENT};
use std::time::{Duration, Instant};

/// A session id that cannot come from a client code or org id; where it lands in the
/// delivery URL is where each call's session id goes.
const SESSION_MARK: &str = "0mboxscope0session0mark0";

/// A 2xx answer.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub elapsed: Duration,
}

/// The plain HTTP client of one `http://` target.
pub struct PlainHttp {
    /// The `Host` header.
    host: HeaderValue,
    /// The delivery URL (for messages) and its path and query (sent), each cut where the
    /// session id goes.
    url: (String, String),
    origin: (String, String),
    user_agent: HeaderValue,
    timeout: Duration,
    max_body_bytes: usize,
    /// Kept connections to the target's `host:port`.
    pool: Pool,
}

impl PlainHttp {
    /// The plain client for `client`'s target when its calls go to an `http://` URL; `None`
    /// for https (and for a URL this cannot cut where the session id goes).
    pub fn for_client(client: &TargetClient) -> Option<PlainHttp> {
        if proxied(|name| std::env::var(name).ok()) {
            return None;
        }
        let probe = Visitor {
            session_id: SESSION_MARK.into(),
            tnt_id: None,
            location_hint: None,
            last_call_ms: None,
        };
        let url = client.delivery_url(&probe).ok()?;
        if url.scheme() != "http" || url.as_str().matches(SESSION_MARK).count() != 1 {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let (head, tail) = url.as_str().split_once(SESSION_MARK)?;
        let origin = format!("{}?{}", url.path(), url.query()?);
        let (origin_head, origin_tail) = origin.split_once(SESSION_MARK)?;
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let settings = client.settings();
        Some(PlainHttp {
            host: HeaderValue::from_str(&host_header).ok()?,
            url: (head.to_string(), tail.to_string()),
            origin: (origin_head.to_string(), origin_tail.to_string()),
            user_agent: HeaderValue::from_str(&format!("{SDK_NAME}/{}", env!("CARGO_PKG_VERSION")))
                .ok()?,
            timeout: settings.timeout,
            max_body_bytes: settings.max_body_bytes,
            pool: Pool::new(format!("{host}:{port}")),
        })
    }

    /// The delivery URL of a call in session `session_id`.
    pub fn url(&self, session_id: &str) -> String {
        format!("{}{session_id}{}", self.url.0, self.url.1)
    }

    /// POSTs `body` (a prepared DeliveryRequest as JSON) in session `session_id`; a 2xx answer
    /// with its whole body, or the error [`TargetClient::send`] would give.
    pub async fn post(&self, session_id: &str, body: Bytes) -> Result<Answer, ClientError> {
        let started = Instant::now();
        let url = || self.url(session_id);
        let call = self.call(session_id, body, &url);
        let (status, body) = match tokio::time::timeout(self.timeout, call).await {
            Ok(answer) => answer?,
            Err(_) => {
                return Err(ClientError::Timeout {
                    url: url(),
                    timeout_ms: self.timeout.as_millis() as u64,
                })
            }
        };
        if !(200..300).contains(&status) {
            return Err(crate::client::refusal(status, url(), &body));
        }
        Ok(Answer {
            status,
            body,
            elapsed: started.elapsed(),
        })
    }

    /// The call without its timeout, on a kept connection or a new one.
    async fn call(
        &self,
        session_id: &str,
        body: Bytes,
        url: &impl Fn() -> String,
    ) -> Result<(u16, Bytes), ClientError> {
        let request = self.request(session_id, body, url)?;
        let read = async |reply: hyper::Response<hyper::body::Incoming>| {
            let status = reply.status().as_u16();
            if reply.status().is_redirection() {
                let location = reply
                    .headers()
                    .get(LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_else(|| "(no Location header)".into());
                return Err(ClientError::Http {
                    status,
                    url: url(),
                    snippet: format!("redirect to {location:?} not followed"),
                });
            }
            let too_large = || ClientError::BodyTooLarge {
                url: url(),
                limit_bytes: self.max_body_bytes,
            };
            let length = reply.headers().get(hyper::header::CONTENT_LENGTH);
            let length = length.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            if length.is_some_and(|len| len > self.max_body_bytes as u64) {
                return Err(too_large());
            }
            let body = Limited::new(reply.into_body(), self.max_body_bytes)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        too_large()
                    } else {
                        ClientError::Request {
                            url: url(),
                            reason: root_cause(&*e),
                        }
                    }
                })?
                .to_bytes();
            Ok((status, body))
        };
        self.pool
            .exchange(request, read)
            .await
            .map_err(|e| match e {
                PoolError::Connect(e) => ClientError::Connect {
                    url: url(),
                    reason: e.to_string(),
                },
                PoolError::Handshake(e) => ClientError::Connect {
                    url: url(),
                    reason: root_cause(&e),
                },
                PoolError::Request(e) => ClientError::Request {
                    url: url(),
                    reason: root_cause(&e),
                },
            })?
    }

    fn request(
        &self,
        session_id: &str,
        body: Bytes,
        url: &impl Fn() -> String,
    ) -> Result<hyper::Request<Full<Bytes>>, ClientError> {
        let uri = format!("{}{session_id}{}", self.origin.0, self.origin.1);
        let request_id = crate::ids::uuid_string();
        hyper::Request::post(uri)
            .header(HOST, self.host.clone())
            .header(USER_AGENT, self.user_agent.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header("X-EXC-SDK", HeaderValue::from_static(SDK_NAME))
            .header(
                "X-EXC-SDK-Version",
                HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
            )
            .header("X-Request-Id", request_id)
            .body(Full::new(body))
            .map_err(|e| ClientError::Config(format!("bad request to {}: {e}", url())))
    }
}

/// Whether the environment names an HTTP proxy, which the `TargetClient` (reqwest) would go
/// through: then so do the checks, and this client is not used.
fn proxied(var: impl Fn(&str) -> Option<String>) -> bool {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|name| var(name).is_some_and(|v| !v.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientSettings, Server};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// How the test server answers.
    #[derive(Clone, Copy)]
    enum Answers {
        /// `{}` and the connection kept.
        Kept,
        /// `{}` and the connection closed after each answer, without saying so.
        ClosedAfterEach,
        /// A redirect.
        Redirect,
        /// A 2 KiB body.
        Big,
    }

    /// A loopback HTTP/1.1 server answering `answers`; counts the connections it accepted.
    async fn server(answers: Answers) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let Ok(n) = stream.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&seen).to_string();
                        let Some(head_end) = text.find("\r\n\r\n") else {
                            continue;
                        };
                        let length: usize = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(str::to_string)
                            })
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if seen.len() < head_end + 4 + length {
                            continue;
                        }
                        seen.drain(..head_end + 4 + length);
                        let reply = match answers {
                            Answers::Kept | Answers::ClosedAfterEach => {
                                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_string()
                            }
                            Answers::Redirect => "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://elsewhere.invalid/\r\ncontent-length: 0\r\n\r\n".to_string(),
                            Answers::Big => format!("HTTP/1.1 200 OK\r\ncontent-length: 2048\r\n\r\n{}", " ".repeat(2048)),
                        };
                        if stream.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                        if matches!(answers, Answers::ClosedAfterEach) {
                            return;
                        }
                    }
                });
            }
        });
        (base, accepted)
    }

    fn plain(base: &str, max_body_bytes: usize) -> PlainHttp {
        let mut settings = ClientSettings::new(Server::Url(base.to_string()));
        settings.client_code = Some("demo".into());
        settings.max_body_bytes = max_body_bytes;
        let client = TargetClient::new(settings).unwrap();
        PlainHttp::for_client(&client).expect("an http:// target")
    }

    #[tokio::test]
    async fn calls_one_after_another_share_one_kept_connection() {
        let (base, accepted) = server(Answers::Kept).await;
        let http = plain(&base, 1024);
        assert!(http.url("s1").starts_with(&format!(
            "{base}/rest/v1/delivery?client=demo&sessionId=s1&"
        )));
        for session in ["s1", "s2", "s3"] {
            let answer = http.post(session, Bytes::from_static(b"{}")).await.unwrap();
            assert_eq!((answer.status, &answer.body[..]), (200, &b"{}"[..]));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_kept_connection_the_server_closed_is_replaced() {
        let (base, accepted) = server(Answers::ClosedAfterEach).await;
        let http = plain(&base, 1024);
        for session in ["s1", "s2", "s3"] {
            let answer = http.post(session, Bytes::from_static(b"{}")).await;
            assert_eq!(answer.map(|a| a.status).map_err(|e| e.to_string()), Ok(200));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn redirects_are_not_followed_and_big_bodies_are_refused() {
        let (base, _) = server(Answers::Redirect).await;
        let e = plain(&base, 1024)
            .post("s", Bytes::new())
            .await
            .err()
            .unwrap();
        assert!(matches!(e, ClientError::Http { status: 307, .. }), "{e}");
        assert!(e.to_string().contains("not followed"), "{e}");
        let (base, _) = server(Answers::Big).await;
        let e = plain(&base, 1024)
            .post("s", Bytes::new())
            .await
            .err()
            .unwrap();
        assert!(
            matches!(
                e,
                ClientError::BodyTooLarge {
                    limit_bytes: 1024,
                    ..
                }
            ),
            "{e}"
        );
        assert!(plain(&base, 4096).post("s", Bytes::new()).await.is_ok());
    }

    #[tokio::test]
    async fn a_connection_whose_answer_was_left_unread_serves_the_next_call() {
        let (base, accepted) = server(Answers::Big).await;
        let http = plain(&base, 1024);
        for _ in 0..3 {
            let e = http.post("s", Bytes::new()).await.err().unwrap();
            assert!(matches!(e, ClientError::BodyTooLarge { .. }), "{e}");
        }
        // Reused when the unread body could be skipped, else replaced: never stuck.
        assert!((1..=3).contains(&accepted.load(Ordering::SeqCst)));
    }

    #[test]
    fn a_proxy_in_the_environment_leaves_calls_to_the_target_client() {
        let env = |set: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                set.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(!proxied(env(&[])));
        assert!(!proxied(env(&[
            ("HTTPS_PROXY", "http://p:3128"),
            ("http_proxy", " ")
        ])));
        assert!(proxied(env(&[("HTTP_PROXY", "http://p:3128")])));
        assert!(proxied(env(&[("all_proxy", "socks5://p:1080")])));
    }

    #[tokio::test]
    async fn https_targets_are_left_to_the_target_client() {
        let settings = ClientSettings::new(Server::Url("https://127.0.0.1:1".into()));
        assert!(PlainHttp::for_client(&TargetClient::new(settings).unwrap()).is_none());
    }
}
