//! Request validation with Target's error shape and messages.

use crate::delivery::{DeliveryRequest, Notification, Parameters, RequestDetails};

/// Most parameters a mbox may carry.
const MAX_PARAMETERS: usize = 50;
const MAX_PARAMETER_NAME: usize = 128;
const MAX_PARAMETER_VALUE: usize = 5000;
const MAX_NOTIFICATION_ID: usize = 200;
const RESERVED_PARAMETERS: [&str; 3] = ["orderId", "orderTotal", "productPurchasedIds"];
/// Notifications stamped further ahead than this are rejected.
const MAX_FUTURE_MS: i64 = 24 * 3600 * 1000;
/// Most mboxes in `execute.mboxes` or `prefetch.mboxes`. Target's hard limit, answered with 400
/// "size must be between 0 and 50": "Limit: 50 mboxes per Target content delivery batch mbox
/// request" (https://experienceleague.adobe.com/en/docs/target/using/troubleshoot/target-limits).
/// The OpenAPI spec (fixtures/delivery-api/openapi) states no array limits.
const MAX_MBOXES: usize = 50;
/// Most views in `prefetch.views`. Adobe documents no limit for views; the emulator applies the
/// mbox limit, as each view can answer with every view of the artifact (300,000 empty views in a
/// 900 KB request made a 437 MB response).
const MAX_VIEWS: usize = 50;
/// Most notifications per request. Adobe recommends 50 per batch (same page) but documents no
/// hard limit; the emulator refuses more than this so one request stays small to process.
const MAX_NOTIFICATIONS: usize = 1000;

/// Checks the `sessionId` query parameter.
pub fn session_id(session: Option<&str>) -> Result<&str, String> {
    let s = session.ok_or("Invalid request: sessionId is required")?;
    let ok = (1..=128).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '?' && c != '/');
    ok.then_some(s)
        .ok_or_else(|| format!("Invalid request: sessionId {s:?} must be 1-128 printable characters without space, '?' or '/'"))
}

/// Checks that a list has at most `max` entries, with Target's message.
fn size(what: &str, len: usize, max: usize) -> Result<(), String> {
    if len > max {
        return Err(format!(
            "Invalid request: {what}: size must be between 0 and {max}"
        ));
    }
    Ok(())
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
        let count = mboxes.map_or(0, Vec::len);
        if count > MAX_MBOXES {
            return size(&format!("{mode}.mboxes"), count, MAX_MBOXES);
        }
        // At most MAX_MBOXES: a list beats hashing.
        let mut indexes = Vec::with_capacity(count);
        for m in mboxes.into_iter().flatten() {
            let index = m.index.ok_or_else(|| {
                format!("Invalid request: {mode}.mboxes: every mbox needs an index")
            })?;
            let name = m.name.as_deref().filter(|n| !n.is_empty()).ok_or_else(|| {
                format!("Invalid request: {mode}.mboxes[index {index}] needs a name")
            })?;
            if indexes.contains(&index) {
                return Err(format!(
                    "Invalid request: {mode}.mboxes: duplicate mbox index {index}"
                ));
            }
            indexes.push(index);
            details(&|| format!("{mode} mbox {name}"), &m.details)?;
        }
        if let Some(p) = page_load {
            details(&|| format!("{mode} pageLoad"), p)?;
        }
    }
    let views = req.prefetch.as_ref().and_then(|p| p.views.as_ref());
    size("prefetch.views", views.map_or(0, Vec::len), MAX_VIEWS)?;
    for v in views.into_iter().flatten() {
        details(
            &|| format!("view {}", v.name.as_deref().unwrap_or("*")),
            &v.details,
        )?;
    }
    size(
        "notifications",
        req.notifications.as_ref().map_or(0, Vec::len),
        MAX_NOTIFICATIONS,
    )?;
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
    if let Some(mbox) = &n.mbox {
        if mbox.name.as_deref().is_none_or(str::is_empty) {
            return Err(format!(
                "Invalid request: notification {id}: mbox.name is required"
            ));
        }
    }
    if n.tokens.as_ref().is_none_or(Vec::is_empty) {
        return Err(format!(
            "Invalid request: notification {id}: tokens are required"
        ));
    }
    details(&|| format!("notification {id}"), &n.details)
}
