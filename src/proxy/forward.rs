//! Forwarding one request to the upstream as it came, and its answer back as it came: the
//! same method, path, query, headers and body each way (hop-by-hop headers aside), or a 502 in
//! Target's error shape when the upstream cannot be reached.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderMap, HeaderName};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

/// How long the upstream may take to answer (the application's SDK has its own timeout).
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);

/// An answer to give the application.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Why the upstream could not be reached (the answer is then the proxy's 502).
    pub unreachable: Option<String>,
}

impl Answer {
    /// A 502 in Target's error shape.
    fn bad_gateway(message: String) -> Answer {
        let body = serde_json::json!({ "status": 502, "message": message });
        let mut headers = HeaderMap::new();
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        Answer {
            status: 502,
            headers,
            body: Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
            unreachable: Some(message),
        }
    }
}

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1), and the
/// framing headers the HTTP libraries set themselves.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

/// Copies the end-to-end headers of `from`.
fn end_to_end(from: &HeaderMap) -> HeaderMap {
    from.iter()
        .filter(|(name, _)| !is_hop_by_hop(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// The pooled keep-alive connections requests go out on: plain HTTP through hyper's client
/// (bytes in, bytes out, nothing parsed but the head), HTTPS (a real Target host) through
/// reqwest and rustls.
#[derive(Debug, Clone)]
enum Transport {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(reqwest::Client),
}

/// Sends requests to one upstream.
#[derive(Debug, Clone)]
pub struct Forwarder {
    transport: Transport,
    /// The upstream's base URL, without a trailing slash.
    upstream: String,
}

/// An upstream's answer: its head and its whole body.
type Answered = (hyper::StatusCode, HeaderMap, Bytes);

impl Forwarder {
    /// A forwarder to `upstream` (a base URL such as `http://127.0.0.1:8080`).
    pub fn new(upstream: &str) -> Result<Forwarder, reqwest::Error> {
        let transport = if upstream.starts_with("http://") {
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            Transport::Plain(
                Client::builder(TokioExecutor::new())
                    .pool_timer(TokioTimer::new())
                    .build(connector),
            )
        } else {
            Transport::Tls(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .tcp_nodelay(true)
                    .timeout(UPSTREAM_TIMEOUT)
                    .build()?,
            )
        };
        Ok(Forwarder {
            transport,
            upstream: upstream.trim_end_matches('/').to_string(),
        })
    }

    /// The upstream's base URL.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Forwards a request (`path_and_query` as the application sent it) and returns the
    /// upstream's answer unchanged, or a 502 when it cannot be had.
    pub async fn forward(
        &self,
        method: hyper::Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Answer {
        let url = format!("{}{path_and_query}", self.upstream);
        let answered = match &self.transport {
            Transport::Plain(client) => plain(client, method, &url, headers, body).await,
            Transport::Tls(client) => tls(client, method, &url, headers, body).await,
        };
        match answered {
            Ok((status, headers, body)) => Answer {
                status: status.as_u16(),
                headers: end_to_end(&headers),
                body,
                unreachable: None,
            },
            Err(why) => Answer::bad_gateway(format!(
                "Bad Gateway: the upstream {} did not answer ({why})",
                self.upstream
            )),
        }
    }
}

/// One exchange over plain HTTP, within [`UPSTREAM_TIMEOUT`].
async fn plain(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: hyper::Method,
    url: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Answered, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| why(&e))?;
    let mut request = hyper::Request::new(Full::new(body));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = end_to_end(headers);
    let exchange = async {
        let (head, body) = client
            .request(request)
            .await
            .map_err(|e| why(&e))?
            .into_parts();
        let body = body.collect().await.map_err(|e| why(&e))?.to_bytes();
        Ok((head.status, head.headers, body))
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", UPSTREAM_TIMEOUT.as_secs()))?
}

/// One exchange over HTTPS.
async fn tls(
    client: &reqwest::Client,
    method: hyper::Method,
    url: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Answered, String> {
    let response = client
        .request(method, url)
        .headers(end_to_end(headers))
        .body(body)
        .send()
        .await
        .map_err(|e| why(&e))?;
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.bytes().await.map_err(|e| why(&e))?;
    Ok((status, headers, body))
}

/// An error with its chain of causes, on one line.
fn why(e: &dyn std::error::Error) -> String {
    let mut why = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_end_to_end_headers_are_copied() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive"),
            ("host", "127.0.0.1:1"),
            ("content-length", "3"),
            ("transfer-encoding", "chunked"),
            ("content-type", "application/json"),
            ("x-request-id", "abc"),
            ("x-exc-sdk", "AdobeTargetNode"),
        ] {
            headers.insert(
                HeaderName::from_static(name),
                hyper::header::HeaderValue::from_static(value),
            );
        }
        let copied = end_to_end(&headers);
        let mut names: Vec<&str> = copied.keys().map(HeaderName::as_str).collect();
        names.sort();
        assert_eq!(names, ["content-type", "x-exc-sdk", "x-request-id"]);
    }
}
