//! Forwarding one request to the upstream as it came, and its answer back as it came: the
//! same method, path, query, headers and body each way (hop-by-hop headers aside), or a 502 in
//! Target's error shape when the upstream cannot be reached.

use super::upstream::{too_large, Upstream, MAX_ANSWER_BYTES};
use crate::client::pool::Pool;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Uri};
use std::time::Duration;

/// How long the upstream may take to answer (the application's SDK has its own timeout).
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);

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
            HeaderValue::from_static("application/json"),
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
pub const HOP_BY_HOP: [HeaderName; 11] = [
    hyper::header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    hyper::header::PROXY_AUTHENTICATE,
    hyper::header::PROXY_AUTHORIZATION,
    hyper::header::TE,
    hyper::header::TRAILER,
    hyper::header::TRANSFER_ENCODING,
    hyper::header::UPGRADE,
    HOST,
    hyper::header::CONTENT_LENGTH,
];

/// Takes the hop-by-hop headers out of `headers`, leaving the end-to-end ones in place.
fn keep_end_to_end(headers: &mut HeaderMap) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Where requests go: plain HTTP on this thread's own keep-alive connections (bytes in,
/// bytes out, nothing parsed but the heads), HTTPS (a real Target host) through reqwest and
/// rustls.
#[derive(Debug)]
enum Transport {
    Plain(Box<Plain>),
    Tls(reqwest::Client),
}

/// A plain HTTP upstream: hyper's connections for what the fast path does not take, and
/// raw ones for what it does.
#[derive(Debug)]
struct Plain {
    pool: Pool,
    /// The raw connections, with the upstream's authority and path.
    raw: Upstream,
    /// The `Host` header the upstream gets (the raw upstream's `host`, as a header).
    host: HeaderValue,
}

/// Why a forwarder cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ForwarderError {
    #[error("the upstream {url} is not a URL this proxy can forward to: {reason}")]
    BadUpstream { url: String, reason: String },
    #[error("cannot make the upstream's HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Sends requests to one upstream.
#[derive(Debug)]
pub struct Forwarder {
    transport: Transport,
    /// The upstream's base URL, without a trailing slash.
    upstream: String,
}

/// An upstream's answer: its head and its whole body.
type Answered = (hyper::StatusCode, HeaderMap, Bytes);

impl Plain {
    fn new(upstream: &str) -> Result<Plain, ForwarderError> {
        let bad = |reason: &str| ForwarderError::BadUpstream {
            url: upstream.to_string(),
            reason: reason.to_string(),
        };
        let url = url::Url::parse(upstream).map_err(|e| bad(&e.to_string()))?;
        let host = url.host_str().ok_or_else(|| bad("it names no host"))?;
        let port = url.port_or_known_default().ok_or_else(|| bad("no port"))?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let path = url.path().trim_end_matches('/');
        let address = format!("{host}:{port}");
        Ok(Plain {
            pool: Pool::new(address.clone()),
            host: HeaderValue::from_str(&authority).map_err(|e| bad(&e.to_string()))?,
            raw: Upstream::new(address, authority, path.to_string()),
        })
    }

    /// The request-target the upstream gets: the application's path and query, below the
    /// upstream's own path when it has one.
    fn target(&self, uri: Uri) -> Result<Uri, String> {
        let path_and_query = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        match self.raw.prefix.as_str() {
            "" if uri.scheme().is_none() && uri.path_and_query().is_some() => Ok(uri),
            "" => path_and_query.parse().map_err(|e| why(&e)),
            prefix => format!("{prefix}{path_and_query}")
                .parse()
                .map_err(|e| why(&e)),
        }
    }

    /// One exchange, within [`UPSTREAM_TIMEOUT`].
    async fn exchange(
        &self,
        method: Method,
        uri: Uri,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Result<Answered, String> {
        let mut request = hyper::Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = self.target(uri)?;
        keep_end_to_end(&mut headers);
        headers.insert(HOST, self.host.clone());
        *request.headers_mut() = headers;
        let exchange = async {
            let read = async |reply: hyper::Response<hyper::body::Incoming>| {
                let (head, body) = reply.into_parts();
                let body = Limited::new(body, MAX_ANSWER_BYTES).collect().await;
                let body = body.map_err(|e| match e.is::<http_body_util::LengthLimitError>() {
                    true => too_large(),
                    false => why(&*e),
                })?;
                let body = body.to_bytes();
                Ok((head.status, head.headers, body))
            };
            self.pool
                .exchange(request, read)
                .await
                .map_err(|e| why(&e))?
        };
        tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
            .await
            .map_err(|_| format!("no answer within {} s", UPSTREAM_TIMEOUT.as_secs()))?
    }
}

impl Forwarder {
    /// A forwarder to `upstream` (a base URL such as `http://127.0.0.1:8080`), with
    /// connections of its own: make one per forwarding thread.
    pub fn new(upstream: &str) -> Result<Forwarder, ForwarderError> {
        let transport = if upstream.starts_with("http://") {
            Transport::Plain(Box::new(Plain::new(upstream)?))
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

    /// The raw connections of a plain upstream (none for HTTPS).
    pub fn plain(&self) -> Option<&Upstream> {
        match &self.transport {
            Transport::Plain(plain) => Some(&plain.raw),
            Transport::Tls(_) => None,
        }
    }

    /// The 502 an application gets when the upstream did not answer, for `why`.
    pub fn unreachable(&self, why: &str) -> Answer {
        Answer::bad_gateway(format!(
            "Bad Gateway: the upstream {} did not answer ({why})",
            self.upstream
        ))
    }

    /// Forwards a request (its `uri` as the application sent it) and returns the upstream's
    /// answer unchanged, or a 502 when it cannot be had. The headers are moved, not copied.
    pub async fn forward(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Answer {
        let answered = match &self.transport {
            Transport::Plain(plain) => plain.exchange(method, uri, headers, body).await,
            Transport::Tls(client) => {
                let path_and_query = uri.path_and_query().map_or("/", PathAndQuery::as_str);
                let url = format!("{}{path_and_query}", self.upstream);
                tls(client, method, &url, headers, body).await
            }
        };
        match answered {
            Ok((status, mut headers, body)) => {
                keep_end_to_end(&mut headers);
                Answer {
                    status: status.as_u16(),
                    headers,
                    body,
                    unreachable: None,
                }
            }
            Err(why) => self.unreachable(&why),
        }
    }
}

/// One exchange over HTTPS.
async fn tls(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    mut headers: HeaderMap,
    body: Bytes,
) -> Result<Answered, String> {
    keep_end_to_end(&mut headers);
    let mut response = client
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| why(&e))?;
    let (status, headers) = (response.status(), response.headers().clone());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| why(&e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, headers, Bytes::from(body)))
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
    fn only_end_to_end_headers_are_kept() {
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
        keep_end_to_end(&mut headers);
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort();
        assert_eq!(names, ["content-type", "x-exc-sdk", "x-request-id"]);
    }

    #[test]
    fn requests_go_below_the_upstreams_path_with_its_authority_as_host() {
        let plain = Plain::new("http://127.0.0.1:9/base/").unwrap();
        assert_eq!(plain.host, "127.0.0.1:9");
        let target = |uri: &str| plain.target(uri.parse().unwrap()).unwrap().to_string();
        assert_eq!(
            target("/rest/v1/delivery?a=1"),
            "/base/rest/v1/delivery?a=1"
        );
        let bare = Plain::new("http://localhost").unwrap();
        assert_eq!(bare.host, "localhost");
        let target = |uri: &str| bare.target(uri.parse().unwrap()).unwrap().to_string();
        assert_eq!(target("/rest/v1/delivery?a=1"), "/rest/v1/delivery?a=1");
        assert_eq!(target("http://elsewhere:1/x?y"), "/x?y");
        assert!(matches!(
            Plain::new("http://"),
            Err(ForwarderError::BadUpstream { .. })
        ));
    }
}
