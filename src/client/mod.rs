//! `TargetClient`: talks to a Delivery API exactly as Adobe's SDKs do, and keeps everything
//! that was sent and received for inspection.

pub mod cookies;
pub mod error;
pub mod host;
pub mod pool;
pub mod views;

use crate::delivery::{
    DeliveryRequest, DeliveryResponse, ErrorResponse, VisitorId, DEFAULT_USER_AGENT,
};
use cookies::{location_hint_cookie, target_cookie, Cookie};
pub use error::ClientError;
pub use host::Server;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The SDK name sent in `X-EXC-SDK`.
pub const SDK_NAME: &str = "mboxscope";
/// A session ends after this long without a call (Target's visit length).
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;
/// The largest response body read by default.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How a client reaches and identifies itself to a Delivery API.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub server: Server,
    pub client_code: Option<String>,
    pub org_id: Option<String>,
    /// `https` for hosts derived from a client code or server domain (`false` = http).
    pub secure: bool,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// `context.userAgent` when a request has none.
    pub user_agent: String,
}

impl ClientSettings {
    /// Settings for a server with defaults for everything else.
    pub fn new(server: Server) -> Self {
        ClientSettings {
            server,
            client_code: None,
            org_id: None,
            secure: true,
            timeout: Duration::from_secs(10),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: DEFAULT_USER_AGENT.to_string(),
        }
    }
}

/// The visitor the client speaks for: session, tntId, edge cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Visitor {
    pub session_id: String,
    pub tnt_id: Option<String>,
    pub location_hint: Option<String>,
    /// When the session was last used (ms since the epoch).
    pub last_call_ms: Option<i64>,
}

impl Visitor {
    /// A new visitor with a fresh session and no tntId yet.
    pub fn fresh() -> Self {
        Visitor {
            session_id: new_session_id(),
            tnt_id: None,
            location_hint: None,
            last_call_ms: None,
        }
    }

    /// The visitor as a call at `now_ms` uses it: a new session after 30 idle minutes (as the
    /// SDKs keep it), and the call noted as the session's last use.
    pub fn for_call(&mut self, now_ms: i64) -> Visitor {
        if self
            .last_call_ms
            .is_some_and(|last| now_ms - last > SESSION_IDLE_MS)
        {
            self.session_id = new_session_id();
        }
        self.last_call_ms = Some(now_ms);
        self.clone()
    }

    /// Takes what an answer for this visitor's session says of it: its tntId and edge cluster.
    pub fn learn(&mut self, exchange: &TargetResponse) {
        if exchange.session_id != self.session_id {
            return;
        }
        if let Some(tnt) = exchange
            .response
            .id
            .as_ref()
            .and_then(|id| id.tnt_id.clone())
        {
            self.tnt_id = Some(tnt);
        }
        if let Some(c) = &exchange.target_location_hint_cookie {
            self.location_hint = Some(c.value.clone());
        }
    }

    /// Starts a new session (a new visit) for the same visitor.
    pub fn new_session(&mut self) {
        self.session_id = new_session_id();
        self.last_call_ms = None;
    }
}

/// A new sessionId (32 hex characters, as the SDKs make them).
pub fn new_session_id() -> String {
    crate::ids::uuid_simple()
}

/// One call as it happened, and the SDK-style views of its answer.
#[derive(Debug, Clone)]
pub struct TargetResponse {
    /// Shared: the session keeps every exchange for export.
    pub request: Arc<DeliveryRequest>,
    /// The sessionId the call was made in.
    pub session_id: String,
    pub request_url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: bytes::Bytes,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: bytes::Bytes,
    pub duration: Duration,
    /// When the request went out (ms since the epoch).
    pub started_at_ms: i64,
    /// The parsed answer (shared: the TUI's rows point into it).
    pub response: std::sync::Arc<DeliveryResponse>,
    pub target_cookie: Cookie,
    pub target_location_hint_cookie: Option<Cookie>,
}

impl TargetResponse {
    /// Every `analytics` object of the response.
    pub fn analytics_details(&self) -> Vec<&crate::delivery::AnalyticsResponse> {
        views::analytics_details(&self.response)
    }

    /// Every `trace` object of the response.
    pub fn trace(&self) -> Vec<&Value> {
        views::traces(&self.response)
    }

    /// Every option's responseTokens.
    pub fn response_tokens(&self) -> Vec<&serde_json::Map<String, Value>> {
        views::response_tokens(&self.response)
            .into_iter()
            .map(|t| &**t)
            .collect()
    }

    /// `meta`: decisioning method, remote mboxes and views.
    pub fn meta(&self) -> views::Meta {
        views::meta(&self.response)
    }

    /// The object the Python SDK's `get_offers` returns, keys as there.
    pub fn sdk_result(&self) -> Value {
        json!({
            "request": self.request,
            "response": self.response,
            "target_cookie": self.target_cookie,
            "target_location_hint_cookie": self.target_location_hint_cookie,
            "analytics_details": self.analytics_details(),
            "trace": self.trace(),
            "response_tokens": self.response_tokens(),
            "meta": self.meta(),
        })
    }
}

/// A Delivery API client; every call says which visitor it is for.
pub struct TargetClient {
    http: reqwest::Client,
    settings: ClientSettings,
    /// Each call logged at debug, not info (bulk runs); failures stay warnings.
    calls_at_debug: bool,
}

use crate::clock::now_ms;

/// `GET {base}{path}` as JSON from a `mboxscope serve` (its `/report`, `/qa`), following no
/// redirect; an error says what went wrong in words.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    base: &str,
    path: &str,
    timeout: Duration,
) -> Result<T, String> {
    let reply = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())?
        .get(format!("{}{path}", base.trim_end_matches('/')))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    if !reply.status().is_success() {
        return Err(format!("GET {path}: HTTP {}", reply.status().as_u16()));
    }
    let bytes = reply.bytes().await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("GET {path}: {e}"))
}

impl TargetClient {
    /// A client with `settings`.
    pub fn new(settings: ClientSettings) -> Result<Self, ClientError> {
        // No redirects: following one to another host would re-send the body with its trace,
        // property and QA tokens (307/308) or turn the call into a GET that looks like success.
        let http = reqwest::Client::builder()
            .user_agent(format!("{SDK_NAME}/{}", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        Ok(TargetClient {
            http,
            settings,
            calls_at_debug: false,
        })
    }

    /// This client with each answered call logged at debug instead of info, for bulk runs
    /// (thousands of calls): below debug the log skips them without formatting anything.
    /// Failures are still logged as warnings.
    pub fn with_calls_logged_at_debug(mut self) -> Self {
        self.calls_at_debug = true;
        self
    }

    /// The settings in use.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The base URL of a call for a visitor in edge cluster `location_hint`.
    pub fn base_url(&self, location_hint: Option<&str>) -> String {
        self.settings
            .server
            .base_url(location_hint, self.settings.secure)
    }

    /// Completes `request` as the SDKs do: the visitor's tntId (`tnt_id`) when it names no
    /// visitor, a user agent that is not a bot's, and `beacon: false` so notifications are
    /// acknowledged (unless the request asks for a beacon itself).
    pub fn prepare(&self, mut request: DeliveryRequest, tnt_id: Option<&str>) -> DeliveryRequest {
        let id = request.id.get_or_insert_with(VisitorId::default);
        if id.tnt_id.is_none()
            && id.marketing_cloud_visitor_id.is_none()
            && id.third_party_id.is_none()
        {
            id.tnt_id = tnt_id.map(str::to_string);
        }
        if request.id.as_ref() == Some(&VisitorId::default()) {
            request.id = None;
        }
        let context = request.context.get_or_insert_with(Default::default);
        context.channel.get_or_insert_with(|| "web".into());
        context
            .user_agent
            .get_or_insert_with(|| self.settings.user_agent.clone());
        context.beacon.get_or_insert(false);
        if request.request_id.is_none() {
            request.request_id = Some(crate::ids::uuid_string());
        }
        request
    }

    /// The URL a call for `visitor` goes to: its edge cluster, client code, session and org.
    pub fn delivery_url(&self, visitor: &Visitor) -> Result<reqwest::Url, ClientError> {
        let base = self
            .settings
            .server
            .base_url(visitor.location_hint.as_deref(), self.settings.secure);
        let mut url = reqwest::Url::parse(&host::delivery_url(&base))
            .map_err(|e| ClientError::Config(format!("bad server URL {base}: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(client) = &self.settings.client_code {
                query.append_pair("client", client);
            }
            query.append_pair("sessionId", &visitor.session_id);
            if let Some(org) = &self.settings.org_id {
                query.append_pair("imsOrgId", org);
            }
            query.append_pair("version", env!("CARGO_PKG_VERSION"));
        }
        Ok(url)
    }

    /// Sends `request` (after [`prepare`](Self::prepare)) for `visitor`: in its session, with
    /// its tntId, to its edge cluster. What the answer says of the visitor is for the caller to
    /// keep ([`Visitor::learn`]).
    pub async fn send(
        &self,
        request: DeliveryRequest,
        visitor: &Visitor,
    ) -> Result<TargetResponse, ClientError> {
        use tracing::{Instrument, Level};
        // The span's fields and the answer's line are only evaluated when their level is on.
        macro_rules! call_span {
            ($level:expr) => {
                tracing::span!(
                    $level,
                    "delivery",
                    target = %self.settings.server.describe(),
                    kind = %crate::emulator::request_log::Summary::of(&request).kind,
                    visitor = visitor.tnt_id.as_deref().unwrap_or("(new)"),
                    session = %visitor.session_id,
                )
            };
        }
        macro_rules! answered {
            ($level:expr, $r:expr) => {
                tracing::event!(
                    $level,
                    status = $r.status,
                    bytes = $r.response_body.len(),
                    ms = $r.duration.as_millis() as u64,
                    "answered"
                )
            };
        }
        let span = if self.calls_at_debug {
            call_span!(Level::DEBUG)
        } else {
            call_span!(Level::INFO)
        };
        let outcome = self
            .exchange(request, visitor)
            .instrument(span.clone())
            .await;
        span.in_scope(|| match &outcome {
            Ok(r) if self.calls_at_debug => answered!(Level::DEBUG, r),
            Ok(r) => answered!(Level::INFO, r),
            Err(e) => tracing::warn!(retryable = e.is_retryable(), error = %e, "failed"),
        });
        outcome
    }

    /// One request and its answer ([`send`](Self::send) without the log).
    async fn exchange(
        &self,
        request: DeliveryRequest,
        visitor: &Visitor,
    ) -> Result<TargetResponse, ClientError> {
        let request = self.prepare(request, visitor.tnt_id.as_deref());
        let session_id = visitor.session_id.clone();
        let url = self.delivery_url(visitor)?;
        let url_text = url.to_string();
        let body = serde_json::to_vec(&request).map_err(|e| ClientError::Config(e.to_string()))?;
        let request_headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Accept".to_string(), "application/json".to_string()),
            ("X-EXC-SDK".to_string(), SDK_NAME.to_string()),
            (
                "X-EXC-SDK-Version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            ("X-Request-Id".to_string(), crate::ids::uuid_string()),
        ];
        let mut builder = self
            .http
            .post(url)
            .timeout(self.settings.timeout)
            .body(body.clone());
        for (name, value) in &request_headers {
            builder = builder.header(name, value);
        }
        let started = Instant::now();
        let started_at_ms = now_ms();
        let timeout_ms = self.settings.timeout.as_millis() as u64;
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                ClientError::Timeout {
                    url: url_text.clone(),
                    timeout_ms,
                }
            } else if e.is_connect() {
                ClientError::Connect {
                    url: url_text.clone(),
                    reason: root_cause(&e),
                }
            } else {
                ClientError::Request {
                    url: url_text.clone(),
                    reason: root_cause(&e),
                }
            }
        };
        let mut reply = builder.send().await.map_err(transport)?;
        let status = reply.status().as_u16();
        let response_headers: Vec<(String, String)> = reply
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        if reply.status().is_redirection() {
            let location = reply
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_else(|| "(no Location header)".into());
            return Err(ClientError::Http {
                status,
                url: url_text,
                snippet: format!("redirect to {location:?} not followed"),
            });
        }
        let limit = self.settings.max_body_bytes;
        if reply
            .content_length()
            .is_some_and(|len| len as usize > limit)
        {
            return Err(ClientError::BodyTooLarge {
                url: url_text,
                limit_bytes: limit,
            });
        }
        let mut response_body = Vec::new();
        while let Some(chunk) = reply.chunk().await.map_err(transport)? {
            if response_body.len() + chunk.len() > limit {
                return Err(ClientError::BodyTooLarge {
                    url: url_text,
                    limit_bytes: limit,
                });
            }
            response_body.extend_from_slice(&chunk);
        }
        let duration = started.elapsed();
        if !(200..300).contains(&status) {
            return Err(refusal(status, url_text, &response_body));
        }
        let mut response: DeliveryResponse = if response_body.is_empty() && status == 204 {
            DeliveryResponse::default()
        } else {
            DeliveryResponse::from_json(&response_body).map_err(|e| ClientError::NotJson {
                url: url_text.clone(),
                status,
                reason: format!("{e}; body starts {}", snippet(&response_body)),
            })?
        };
        response.share_response_tokens();
        let tnt_id = response
            .id
            .as_ref()
            .and_then(|id| id.tnt_id.clone())
            .or_else(|| visitor.tnt_id.clone());
        let hint_cookie = location_hint_cookie(tnt_id.as_deref(), response.edge_host.as_deref());
        Ok(TargetResponse {
            request: Arc::new(request),
            session_id: session_id.clone(),
            request_url: url_text,
            request_headers,
            request_body: body.into(),
            status,
            response_headers,
            response_body: response_body.into(),
            duration,
            started_at_ms,
            response: std::sync::Arc::new(response),
            target_cookie: target_cookie(&session_id, tnt_id.as_deref(), now_ms() / 1000),
            target_location_hint_cookie: hint_cookie,
        })
    }
}

/// The innermost cause of an error, the one that names what went wrong on the wire.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut source = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

/// The error a non-2xx answer is: Target's own message when the body carries one, else the
/// status with the start of the body.
pub(crate) fn refusal(status: u16, url: String, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorResponse>(body).map(|e| e.message) {
        Ok(Some(message)) => ClientError::Target { status, message },
        _ => ClientError::Http {
            status,
            url,
            snippet: snippet(body),
        },
    }
}

/// The start of a body, on one line, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]).replace(['\n', '\r'], " ");
    if text.trim().is_empty() {
        "(empty body)".into()
    } else {
        format!("{:?}", text.trim())
    }
}
