//! `mboxscope notify`: display or click notifications, one or all of a saved prefetch.

use super::common::{Failure, TargetArgs, EXIT_UNACKED};
use crate::client::cookies::parse_target_cookie;
use crate::client::Visitor;
use crate::delivery::*;
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
    /// A saved `mboxscope prefetch` output: notify all its options (display) or metrics (click).
    #[arg(long)]
    pub from: Option<PathBuf>,
}

/// A saved prefetch: its response and the visitor and session it was made for.
pub struct SavedPrefetch {
    pub response: DeliveryResponse,
    pub visitor: Option<VisitorId>,
    pub session_id: Option<String>,
}

/// Reads a `prefetch` output (or a bare DeliveryResponse) from `path`.
pub fn read_saved_prefetch(path: &PathBuf) -> Result<SavedPrefetch, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::usage(format!("{}: not JSON: {e}", path.display())))?;
    let response_json = value.get("response").cloned().unwrap_or_else(|| value.clone());
    let response: DeliveryResponse = serde_json::from_value(response_json)
        .map_err(|e| Failure::usage(format!("{}: not a prefetch response: {e}", path.display())))?;
    let cookie = value.pointer("/target_cookie/value").and_then(Value::as_str);
    let session_id = cookie.and_then(|c| parse_target_cookie(c, crate::decisioning::engine::now_ms() / 1000).session_id);
    let visitor = response.id.clone();
    Ok(SavedPrefetch { response, visitor, session_id })
}

/// What `notify` should send, from its flags.
pub fn notifiables(args: &NotifyArgs) -> Result<(Vec<Notifiable>, Option<SavedPrefetch>), Failure> {
    match (&args.from, &args.mbox) {
        (Some(path), _) => {
            let saved = read_saved_prefetch(path)?;
            let list = match args.kind {
                NotificationType::Display => displays_for(&saved.response),
                NotificationType::Click => clicks_for(&saved.response),
            };
            if list.is_empty() {
                return Err(Failure::usage(format!(
                    "{}: nothing to notify (no prefetched option with an eventToken{})",
                    path.display(),
                    if args.kind == NotificationType::Click { ", no click metric" } else { "" }
                )));
            }
            Ok((list, Some(saved)))
        }
        (None, Some(mbox)) => {
            if args.tokens.is_empty() {
                return Err(Failure::usage("--mbox needs at least one --token"));
            }
            let location = Location::Mbox { name: mbox.clone(), state: args.state.clone() };
            Ok((vec![Notifiable { kind: args.kind, location, tokens: args.tokens.clone() }], None))
        }
        (None, None) => Err(Failure::usage("give --mbox NAME --token T [--state S], or --from FILE")),
    }
}

/// Points the client at the visitor and session of a saved prefetch.
pub fn adopt_visitor(client: &crate::client::TargetClient, saved: &SavedPrefetch, target: &TargetArgs) {
    let mut visitor: Visitor = client.visitor();
    if target.session_id.is_none() {
        if let Some(session) = &saved.session_id {
            visitor.session_id = session.clone();
        }
    }
    if target.tnt_id.is_none() {
        if let Some(tnt) = saved.visitor.as_ref().and_then(|v| v.tnt_id.clone()) {
            visitor.tnt_id = Some(tnt);
        }
    }
    client.set_visitor(visitor);
}

/// Prints the outcome summary; the exit code says whether all were acknowledged.
pub fn report_acks(sent: &[String], acked: &[String]) -> Result<(), Failure> {
    let missing: Vec<&String> = sent.iter().filter(|id| !acked.contains(id)).collect();
    if missing.is_empty() {
        eprintln!("{} of {} notifications acknowledged", sent.len(), sent.len());
        Ok(())
    } else {
        Err(Failure {
            code: EXIT_UNACKED,
            message: format!(
                "{} of {} notifications acknowledged; not acknowledged: {}",
                sent.len() - missing.len(),
                sent.len(),
                missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
    }
}
