//! `mboxscope notify`: display or click notifications, one or all of a saved prefetch.

use super::common::{Failure, TargetArgs, EXIT_UNACKED};
use crate::client::cookies::parse_target_cookie;
use crate::delivery::*;
use crate::ledger::{ImpressionId, NewNotification, PageView};
use clap::Args;
use serde_json::Value;
use std::path::PathBuf;

/// What to notify.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// The mbox the notification is about.
    #[arg(long, conflicts_with = "from")]
    pub mbox: Option<String>,
    /// The mbox state from the prefetch response.
    #[arg(long, requires = "mbox")]
    pub state: Option<String>,
    /// An eventToken (repeatable).
    #[arg(long = "token", requires = "mbox")]
    pub tokens: Vec<String>,
    /// display (default) or click.
    #[arg(long = "type", default_value = "display")]
    pub kind: NotificationType,
    /// A saved `mboxscope prefetch` output: notify all its options (display) or click metrics
    /// (click). Repeatable: one visitor per file.
    #[arg(long)]
    pub from: Vec<PathBuf>,
    /// Also send everything still pending in the journal.
    #[arg(long)]
    pub resume: bool,
    /// Send a new impression even when the same notification was already acknowledged.
    #[arg(long)]
    pub again: bool,
    /// The impressionId to send: an id (to reproduce an integration that reuses one) or `none`
    /// (to send none, as integrations that omit it do: every accepted copy then counts).
    /// Default: a new one per notification, reused by every retry.
    #[arg(long, value_name = "ID|none")]
    pub impression_id: Option<String>,
}

impl NotifyArgs {
    fn impression(&self) -> ImpressionId {
        match self.impression_id.as_deref() {
            None => ImpressionId::New,
            Some("none") => ImpressionId::Omitted,
            Some(id) => ImpressionId::Given(id.to_string()),
        }
    }
}

/// A saved prefetch: its response, the request it answered, and the visitor and session it was
/// made for.
pub struct SavedPrefetch {
    pub response: DeliveryResponse,
    /// The request, when the file has it (a `mboxscope prefetch` output does).
    pub request: Option<DeliveryRequest>,
    pub visitor: Option<VisitorId>,
    pub session_id: Option<String>,
}

impl SavedPrefetch {
    /// The property token the prefetch was made with, unless it was saved masked (see
    /// `tui::secrets::mask`; `prefetch --reveal` saves it in clear).
    pub fn property_token(&self) -> Option<String> {
        self.request
            .as_ref()
            .and_then(|r| r.property.as_ref())
            .and_then(|p| p.token.clone())
            .filter(|t| !t.ends_with("masked)"))
    }
}

/// Reads a `prefetch` output (or a bare DeliveryResponse) from `path`.
pub fn read_saved_prefetch(path: &PathBuf) -> Result<SavedPrefetch, Failure> {
    let bytes =
        std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::usage(format!("{}: not JSON: {e}", path.display())))?;
    let response_json = value
        .get("response")
        .cloned()
        .unwrap_or_else(|| value.clone());
    let response: DeliveryResponse = serde_json::from_value(response_json)
        .map_err(|e| Failure::usage(format!("{}: not a prefetch response: {e}", path.display())))?;
    let cookie = value
        .pointer("/target_cookie/value")
        .and_then(Value::as_str);
    let session_id =
        cookie.and_then(|c| parse_target_cookie(c, crate::clock::now_ms() / 1000).session_id);
    let request = match value.get("request") {
        Some(r) => Some(serde_json::from_value(r.clone()).map_err(|e| {
            Failure::usage(format!(
                "{}: its \"request\" is not a DeliveryRequest: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let visitor = response.id.clone().or_else(|| {
        request
            .as_ref()
            .and_then(|r: &DeliveryRequest| r.id.clone())
    });
    Ok(SavedPrefetch {
        response,
        request,
        visitor,
        session_id,
    })
}

/// Prints the outcome summary; the exit code says whether all were acknowledged.
pub fn report_acks(sent: &[String], acked: &[String]) -> Result<(), Failure> {
    let missing: Vec<&String> = sent.iter().filter(|id| !acked.contains(id)).collect();
    if missing.is_empty() {
        eprintln!(
            "{} of {} notifications acknowledged",
            sent.len(),
            sent.len()
        );
        Ok(())
    } else {
        Err(Failure {
            code: EXIT_UNACKED,
            message: format!(
                "{} of {} notifications acknowledged; not acknowledged: {}",
                sent.len() - missing.len(),
                sent.len(),
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// Queues what the flags name in the ledger and sends everything pending among it.
pub async fn run(target: &TargetArgs, args: &NotifyArgs) -> Result<(), Failure> {
    let profile = target.resolve()?;
    let client = target.client(&profile)?;
    let mut ledger = target.ledger(&client)?;
    let mut to_send: Vec<String> = Vec::new();
    let mut already: Vec<String> = Vec::new();
    if !args.resume || args.mbox.is_some() || !args.from.is_empty() {
        let list = collect(target, args)?;
        for queued in ledger.queue_all(list, args.again).map_err(Failure::usage)? {
            match queued {
                crate::ledger::Queued::AlreadyAcked(id) => already.push(id),
                other => to_send.push(other.id().to_string()),
            }
        }
    }
    if args.resume {
        let pending: Vec<String> = ledger
            .pending()
            .iter()
            .map(|e| e.id.clone())
            .filter(|id| !to_send.contains(id))
            .collect();
        to_send.extend(pending);
    }
    if !already.is_empty() {
        eprintln!(
            "mboxscope: {} notification(s) already acknowledged, not sent again (--again sends a new impression)",
            already.len()
        );
    }
    if to_send.is_empty() {
        if already.is_empty() {
            eprintln!("nothing pending");
        }
        return Ok(());
    }
    let report =
        crate::ledger::deliver::deliver(&mut ledger, &client, &to_send, &Default::default())
            .await
            .map_err(Failure::usage)?;
    let summary = serde_json::json!({
        "reply": report.exchanges().last().map(|e| e.sdk_result()),
        "sent": to_send,
        "acknowledged": report.acked,
        "not_acknowledged": report.pending.iter().chain(&report.rejected).map(|(id, reason)| serde_json::json!({"id": id, "reason": reason})).collect::<Vec<_>>(),
        "already_acknowledged": already,
        "journal": ledger.path(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
    if let Some((_, reason)) = report.rejected.first() {
        eprintln!("mboxscope: rejected: {reason}");
    }
    report_acks(&to_send, &report.acked)
}

/// What to queue: each notifiable with the visitor, session and page view it belongs to.
fn collect(target: &TargetArgs, args: &NotifyArgs) -> Result<Vec<NewNotification>, Failure> {
    let profile = target.resolve()?;
    let spec = target.request_spec(&profile, Mode::Prefetch)?;
    // The visitor the flags name, else a new one (its session for files that name none).
    let fresh = target.visitor(&profile)?;
    if let Some(mbox) = &args.mbox {
        if args.tokens.is_empty() {
            return Err(Failure::usage("--mbox needs at least one --token"));
        }
        let location = Location::Mbox {
            name: mbox.clone(),
            state: args.state.clone(),
        };
        let notifiable = Notifiable {
            kind: args.kind,
            location,
            tokens: args.tokens.clone(),
        };
        // The page view's context as the flags and profile describe it.
        let context = spec.build(String::new()).context;
        return Ok(vec![NewNotification {
            context,
            property_token: spec.property_token.clone(),
            impression: args.impression(),
            ..NewNotification::new(
                notifiable.kind,
                target.visitor_id()?,
                fresh.session_id.clone(),
                notifiable.location,
                notifiable.tokens,
            )
        }]);
    }
    if args.from.is_empty() && !args.resume {
        return Err(Failure::usage(
            "give --mbox NAME --token T [--state S], --from FILE, or --resume",
        ));
    }
    let mut out = Vec::new();
    for path in &args.from {
        let saved = read_saved_prefetch(path)?;
        let list = match args.kind {
            NotificationType::Display => displays_for(&saved.response),
            NotificationType::Click => clicks_for(&saved.response),
        };
        if list.is_empty() {
            return Err(Failure::usage(format!(
                "{}: nothing to notify (no prefetched {} with an eventToken)",
                path.display(),
                if args.kind == NotificationType::Click {
                    "click metric"
                } else {
                    "option"
                }
            )));
        }
        let visitor = target
            .tnt_id
            .as_ref()
            .map(|_| target.visitor_id())
            .transpose()?
            .or_else(|| saved.visitor.clone())
            .unwrap_or_default();
        let session = target
            .session_id
            .clone()
            .or_else(|| saved.session_id.clone())
            .unwrap_or_else(|| fresh.session_id.clone());
        // What an SDK would send: the saved request's context and property token (the
        // profile's when it was saved masked), for the visitor and session the flags name.
        let page = PageView {
            request: saved.request.as_ref(),
            response: &saved.response,
            session_id: &session,
        };
        let property_token = saved
            .property_token()
            .or_else(|| spec.property_token.clone());
        out.extend(list.into_iter().map(|n| NewNotification {
            visitor: visitor.clone(),
            property_token: property_token.clone(),
            impression: args.impression(),
            ..NewNotification::of_page_view(n, &page)
        }));
    }
    Ok(out)
}
