//! Exporting the session: HAR 1.2 (every request and response, with timings) and a JSON
//! session file; secrets masked unless revealed.

use super::exchange::Exchange;
use super::runtime::LedgerState;
use super::secrets::{mask_in_place, mask_sdk_result};
use serde_json::{json, Value};
use std::sync::Arc;

fn headers(list: &[(String, String)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

fn body_json(bytes: &[u8], reveal: bool) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            if !reveal {
                mask_in_place(&mut v);
            }
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// What an export holds: every exchange and the ledger's state.
pub struct Session<'a> {
    pub history: &'a [Arc<Exchange>],
    pub ledger: &'a LedgerState,
}

/// The request as it went out: the bytes sent when answered, else the request as built.
fn request_text(e: &Exchange, reveal: bool) -> (String, usize) {
    match e.response() {
        Some(r) => (body_json(&r.request_body, reveal), r.request_body.len()),
        None => {
            let bytes = serde_json::to_vec(&*e.request).unwrap_or_default();
            (body_json(&bytes, reveal), bytes.len())
        }
    }
}

/// One HAR entry; a failed exchange has status 0 and its error in `_error` (as browsers
/// export a request that got no answer).
fn har_entry(e: &Exchange, reveal: bool) -> Value {
    let started = crate::clock::iso8601(e.started_at_ms);
    let query: Vec<Value> = url::Url::parse(&e.url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect()
        })
        .unwrap_or_default();
    let ms = e.duration.as_secs_f64() * 1000.0;
    let (text, size) = request_text(e, reveal);
    let request_headers = e.response().map(|r| headers(&r.request_headers));
    let response = match &e.outcome {
        Ok(r) => json!({
            "status": r.status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": headers(&r.response_headers),
            "content": {"size": r.response_body.len(), "mimeType": "application/json", "text": body_json(&r.response_body, reveal)},
            "redirectURL": "", "headersSize": -1, "bodySize": r.response_body.len(),
        }),
        Err(error) => json!({
            "status": 0, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "", "headersSize": -1, "bodySize": -1, "_error": error,
        }),
    };
    json!({
        "startedDateTime": started,
        "time": ms,
        "request": {
            "method": "POST", "url": e.url, "httpVersion": "HTTP/1.1",
            "cookies": [], "headers": request_headers.unwrap_or_else(|| json!([])), "queryString": query,
            "postData": {"mimeType": "application/json", "text": text},
            "headersSize": -1, "bodySize": size,
        },
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": ms, "receive": 0},
        "_mboxscope": {"kind": e.title()},
    })
}

/// The HAR 1.2 document of every exchange and attempt, the failed ones included.
pub fn har(history: &[Arc<Exchange>], reveal: bool) -> Value {
    let entries: Vec<Value> = history.iter().map(|e| har_entry(e, reveal)).collect();
    json!({"log": {"version": "1.2", "creator": {"name": "mboxscope", "version": env!("CARGO_PKG_VERSION")}, "entries": entries}})
}

/// The session file: every exchange (answered calls as the SDKs return them), the ledger, the
/// linter's findings and the expected counts beside the server's.
pub fn session(session: &Session, reveal: bool) -> Value {
    let exchanges: Vec<Value> = session
        .history
        .iter()
        .map(|e| {
            let mut entry = json!({
                "kind": e.title(),
                "started": crate::clock::iso8601(e.started_at_ms),
                "ms": e.duration.as_millis() as u64,
                "url": e.url,
            });
            match &e.outcome {
                Ok(r) => {
                    let mut result = r.sdk_result();
                    if !reveal {
                        mask_sdk_result(&mut result);
                    }
                    entry["result"] = result;
                }
                Err(error) => entry["error"] = json!(error),
            }
            entry
        })
        .collect();
    json!({
        "mboxscope": env!("CARGO_PKG_VERSION"),
        "exchanges": exchanges,
        "notifications": session.ledger.entries,
        "findings": session.ledger.findings,
        "report": session.ledger.comparison,
    })
}

/// Writes an export readable by its owner only (mode 0600; it may hold tokens in clear),
/// creating it exclusively: an existing file or a planted symlink is an error, never followed.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The status line after an export: where it went, and whether it holds secrets.
pub fn exported_message(stem: &std::path::Path, reveal: bool) -> String {
    let secrets = if reveal {
        "private (0600): they hold the tokens in clear"
    } else {
        "private (0600), tokens masked"
    };
    format!("exported {}.har and .json, {secrets}", stem.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_export_is_private_and_never_follows_a_planted_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.har");
        write_private(&path, b"{}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let planted = dir.path().join("planted.json");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(write_private(&planted, b"secret").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    }
}
