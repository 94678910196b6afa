//! Request validation with Target's error shape and messages.

use crate::delivery::{DeliveryRequest, Notification, Parameters, RequestDetails};
use std::collections::HashSet;

/// Most parameters a mbox may carry.
const MAX_PARAMETERS: usize = 50;
const MAX_PARAMETER_NAME: usize = 128;
const MAX_PARAMETER_VALUE: usize = 5000;
const MAX_NOTIFICATION_ID: usize = 200;
const RESERVED_PARAMETERS: [&str; 3] = ["orderId", "orderTotal", "productPurchasedIds"];
/// Notifications stamped further ahead than this are rejected.
const MAX_FUTURE_MS: i64 = 24 * 3600 * 1000;

/// Checks the `sessionId` query parameter.
pub fn session_id(session: Option<&str>) -> Result<&str, String> {
    let s = session.ok_or("Invalid request: sessionId is required")?;
    let ok = (1..=128).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '?' && c != '/');
    ok.then_some(s)
        .ok_or_else(|| format!("Invalid request: sessionId {s:?} must be 1-128 printable characters without space, '?' or '/'"))
}

/// Where a check runs, for its message: made only when the check fails.
type Where<'a> = &'a dyn Fn() -> String;

fn parameters(where_: Where, params: Option<&Parameters>) -> Result<(), String> {
    let Some(params) = params else { return Ok(()) };
    if params.len() > MAX_PARAMETERS {
        return Err(format!(
            "Invalid request: {} has {} parameters, at most {MAX_PARAMETERS} are allowed",
            where_(),
            params.len()
        ));
    }
    for (name, value) in params {
        if name.is_empty() || name.chars().count() > MAX_PARAMETER_NAME {
            return Err(format!("Invalid request: {} parameter name {name:?} must be 1-{MAX_PARAMETER_NAME} characters", where_()));
        }
        if RESERVED_PARAMETERS.contains(&name.as_str()) || name.starts_with("profile.") {
            return Err(format!("Invalid request: {} parameter {name:?} is reserved (use order, product or profileParameters)", where_()));
        }
        let text = value
            .as_str()
            .map(str::len)
            .unwrap_or_else(|| value.to_string().len());
        if text > MAX_PARAMETER_VALUE {
            return Err(format!("Invalid request: {} parameter {name:?} is longer than {MAX_PARAMETER_VALUE} characters", where_()));
        }
    }
    Ok(())
}

fn details(where_: Where, d: &RequestDetails) -> Result<(), String> {
    parameters(where_, d.parameters.as_ref())?;
    parameters(
        &|| format!("{} profileParameters", where_()),
        d.profile_parameters.as_ref(),
    )
}

/// Checks everything but the notification tokens (which need the artifact).
pub fn request(req: &DeliveryRequest, now_ms: i64) -> Result<(), String> {
    let context = req
        .context
        .as_ref()
        .ok_or("Invalid request: context is required")?;
    match context.channel.as_deref() {
        None => return Err("Invalid request: context.channel is required".into()),
        Some("web" | "mobile") => {}
        Some(other) => {
            return Err(format!(
                "Invalid request: context.channel {other:?} must be web or mobile"
            ))
        }
    }
    for (mode, mboxes, page_load) in [
        (
            "execute",
            req.execute.as_ref().and_then(|e| e.mboxes.as_ref()),
            req.execute.as_ref().and_then(|e| e.page_load.as_ref()),
        ),
        (
            "prefetch",
            req.prefetch.as_ref().and_then(|p| p.mboxes.as_ref()),
            req.prefetch.as_ref().and_then(|p| p.page_load.as_ref()),
        ),
    ] {
        let mut indexes = HashSet::new();
        for m in mboxes.into_iter().flatten() {
            let index = m.index.ok_or_else(|| {
                format!("Invalid request: {mode}.mboxes: every mbox needs an index")
            })?;
            let name = m.name.as_deref().filter(|n| !n.is_empty()).ok_or_else(|| {
                format!("Invalid request: {mode}.mboxes[index {index}] needs a name")
            })?;
            if !indexes.insert(index) {
                return Err(format!(
                    "Invalid request: {mode}.mboxes: duplicate mbox index {index}"
                ));
            }
            details(&|| format!("{mode} mbox {name}"), &m.details)?;
        }
        if let Some(p) = page_load {
            details(&|| format!("{mode} pageLoad"), p)?;
        }
    }
    for v in req
        .prefetch
        .as_ref()
        .and_then(|p| p.views.as_ref())
        .into_iter()
        .flatten()
    {
        details(
            &|| format!("view {}", v.name.as_deref().unwrap_or("*")),
            &v.details,
        )?;
    }
    for n in req.notifications.iter().flatten() {
        notification(n, now_ms)?;
    }
    Ok(())
}

fn notification(n: &Notification, now_ms: i64) -> Result<(), String> {
    let id =
        n.id.as_deref()
            .filter(|i| !i.is_empty())
            .ok_or("Invalid request: notification id is required")?;
    if id.chars().count() > MAX_NOTIFICATION_ID {
        return Err(format!(
            "Invalid request: notification id is longer than {MAX_NOTIFICATION_ID} characters"
        ));
    }
    match n.notification_type.as_deref() {
        Some("display" | "click") => {}
        None => {
            return Err(format!(
                "Invalid request: notification {id}: type is required"
            ))
        }
        Some(other) => {
            return Err(format!(
                "Invalid request: notification {id}: type {other:?} must be display or click"
            ))
        }
    }
    let ts = n
        .timestamp
        .ok_or_else(|| format!("Invalid request: notification {id}: timestamp is required"))?;
    if ts <= 0 || ts > now_ms + MAX_FUTURE_MS {
        return Err(format!("Invalid request: notification {id}: timestamp {ts} is not a valid time in milliseconds"));
    }
    if n.mbox.is_some() && n.view.is_some() {
        return Err(format!(
            "Invalid request: notification {id}: mbox and view are mutually exclusive"
        ));
    }
    details(&|| format!("notification {id}"), &n.details)
}
