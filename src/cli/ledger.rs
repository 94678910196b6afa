//! `mboxscope ledger` and `mboxscope report`: the journal, the expected counts beside what the
//! server counted, the findings. Both only read: they never create or change a journal.

use super::common::{Failure, TargetArgs};
use crate::clock::iso8601;
use crate::clock::now_ms;
use crate::ledger::compare::{compare, fetch_report, Comparison};
use crate::ledger::lint::lint;
use crate::ledger::{store, Ledger};
use clap::Args;
use serde_json::json;

/// Flags of `ledger` and `report`.
#[derive(Debug, Clone, Args)]
pub struct LedgerArgs {
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// List the journals (size, last use) instead (`ledger` only).
    #[arg(long)]
    pub list: bool,
}

/// Lists the journal's notifications (or, with `--list`, the journals).
pub fn list(target: &TargetArgs, args: &LedgerArgs) -> Result<(), Failure> {
    if args.list {
        return list_journals(target, args);
    }
    let ledger = target.ledger_read_only()?;
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
        print_safe(&e.summary());
    }
    Ok(())
}

/// Prints text a server or a saved file may have put control characters into, line by line,
/// with them escaped.
fn print_safe(text: &str) {
    for line in text.lines() {
        println!("{}", crate::safe_text::one_line_uncapped(line));
    }
}

fn list_journals(target: &TargetArgs, args: &LedgerArgs) -> Result<(), Failure> {
    let data = target.data_dir()?;
    let journals = store::list(&data);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&journals).unwrap_or_default()
        );
        return Ok(());
    }
    if journals.is_empty() {
        println!("no journal yet under {}", data.join("ledger").display());
    }
    for j in journals {
        println!(
            "{:<48} {:>10} bytes  last written {}",
            j.name,
            j.bytes,
            iso8601(j.modified_ms)
        );
    }
    Ok(())
}

/// Where the target's counts can be read, and the comparison with them.
async fn comparison(target: &TargetArgs, ledger: &mut Ledger) -> Result<Comparison, Failure> {
    let profile = target.resolve()?;
    let counted = match TargetArgs::server(&profile) {
        None => Err("the built-in emulator's counts ended with the TUI that ran it; `mboxscope serve` keeps counting across runs".to_string()),
        Some(server) => fetch_report(&server.base_url(None, !target.insecure)).await,
    };
    let comparison = match counted {
        Ok(report) => {
            let expected = ledger
                .expected_since(report.since)
                .map_err(Failure::usage)?;
            compare(&expected, Ok(&report))
        }
        Err(why) => compare(&ledger.expected(), Err(why)),
    };
    Ok(comparison.missing(ledger.left_out()))
}

/// Prints expected (and, for a `mboxscope serve`, counted) counts and the findings.
pub async fn report(target: &TargetArgs, args: &LedgerArgs) -> Result<(), Failure> {
    let mut ledger = target.ledger_read_only()?;
    let comparison = comparison(target, &mut ledger).await?;
    let findings = lint(&ledger, now_ms());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "journal": ledger.path(),
                "expected": ledger.expected(),
                "comparison": comparison,
                "findings": findings,
            }))
            .unwrap_or_default()
        );
        return Ok(());
    }
    print_safe(&comparison.text(&findings));
    println!("findings");
    for f in &findings {
        print_safe(&format!("  {}", f.line()));
    }
    if findings.is_empty() {
        println!("  (none)");
    }
    Ok(())
}
