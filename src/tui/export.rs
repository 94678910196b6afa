//! Exporting the session: HAR 1.2 (every request and response, with timings) and a JSON
//! session file; secrets masked unless revealed.

use super::secrets::{mask_in_place, mask_sdk_result};
use crate::client::TargetResponse;
use crate::ledger::Entry;
use serde_json::{json, Value};

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

/// The HAR 1.2 document of the exchanges.
pub fn har(exchanges: &[TargetResponse], reveal: bool) -> Value {
    let entries: Vec<Value> = exchanges
        .iter()
        .map(|e| {
            let started = crate::clock::iso8601(e.started_at_ms);
            let query: Vec<Value> = url::Url::parse(&e.request_url)
                .map(|u| u.query_pairs().map(|(k, v)| json!({"name": k, "value": v})).collect())
                .unwrap_or_default();
            let ms = e.duration.as_secs_f64() * 1000.0;
            json!({
                "startedDateTime": started,
                "time": ms,
                "request": {
                    "method": "POST", "url": e.request_url, "httpVersion": "HTTP/1.1",
                    "cookies": [], "headers": headers(&e.request_headers), "queryString": query,
                    "postData": {"mimeType": "application/json", "text": body_json(&e.request_body, reveal)},
                    "headersSize": -1, "bodySize": e.request_body.len(),
                },
                "response": {
                    "status": e.status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                    "headers": headers(&e.response_headers),
                    "content": {"size": e.response_body.len(), "mimeType": "application/json", "text": body_json(&e.response_body, reveal)},
                    "redirectURL": "", "headersSize": -1, "bodySize": e.response_body.len(),
                },
                "cache": {},
                "timings": {"send": 0, "wait": ms, "receive": 0},
            })
        })
        .collect();
    json!({"log": {"version": "1.2", "creator": {"name": "mboxscope", "version": env!("CARGO_PKG_VERSION")}, "entries": entries}})
}

/// The session file: exchanges (as the SDKs return them) and the ledger.
pub fn session(exchanges: &[TargetResponse], ledger: &[Entry], reveal: bool) -> Value {
    let calls: Vec<Value> = exchanges
        .iter()
        .map(|e| {
            let mut result = e.sdk_result();
            if !reveal {
                mask_sdk_result(&mut result);
            }
            result
        })
        .collect();
    json!({"mboxscope": env!("CARGO_PKG_VERSION"), "calls": calls, "notifications": ledger})
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
