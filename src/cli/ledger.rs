//! `mboxscope ledger` and `mboxscope report`: the journal, the expected counts, the findings.

use super::common::{Failure, TargetArgs};
use crate::ledger::lint::{expected_counts, lint};
use crate::ledger::{now_ms, State};
use clap::Args;
use serde_json::json;

/// Flags of `ledger` and `report`.
#[derive(Debug, Clone, Args)]
pub struct LedgerArgs {
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Lists the journal's notifications.
pub fn list(target: &TargetArgs, args: &LedgerArgs) -> Result<(), Failure> {
    let profile = target.resolve()?;
    let client = target.client(&profile)?;
    let ledger = target.ledger(&client)?;
    let entries: Vec<_> = ledger.entries().collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"journal": ledger.path(), "notifications": entries})
            )
            .unwrap_or_default()
        );
        return Ok(());
    }
    println!("journal {}", ledger.path().display());
    for e in entries {
        let state = match &e.state {
            State::Queued => "queued".to_string(),
            State::Sent => "sent".to_string(),
            State::Acked { .. } => "acked".to_string(),
            State::Failed { reason, retryable } => format!(
                "failed{} ({reason})",
                if *retryable { ", pending" } else { "" }
            ),
        };
        println!(
            "{}  {:<7} {:<24} tokens {}  impression {}  attempts {}  {}",
            e.id,
            e.kind.as_str(),
            e.location.label(),
            e.tokens.len(),
            e.impression_id,
            e.attempts,
            state
        );
    }
    Ok(())
}

/// Prints expected counts and lint findings.
pub fn report(target: &TargetArgs, args: &LedgerArgs) -> Result<(), Failure> {
    let profile = target.resolve()?;
    let client = target.client(&profile)?;
    let ledger = target.ledger(&client)?;
    let counts = expected_counts(&ledger);
    let findings = lint(&ledger, now_ms());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"expected": counts, "findings": findings}))
                .unwrap_or_default()
        );
        return Ok(());
    }
    println!("expected counts (from the journal's acknowledged notifications and executes)");
    for c in &counts {
        println!(
            "  activity {} {:<28} experience {} {:<20} impressions {:>4}  clicks {:>4}",
            c.activity,
            c.activity_name.as_deref().unwrap_or(""),
            c.experience,
            c.experience_name.as_deref().unwrap_or(""),
            c.impressions,
            c.clicks
        );
    }
    if counts.is_empty() {
        println!("  (nothing counted yet)");
    }
    println!("findings");
    for f in &findings {
        println!("  [{}] {}: {}", f.rule, f.about, f.message);
    }
    if findings.is_empty() {
        println!("  (none)");
    }
    Ok(())
}
