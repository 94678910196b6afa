//! The command line: one file per subcommand.

pub mod check;
pub mod common;
pub mod decide;
pub mod ledger;
pub mod notify;
pub mod prefetch;
pub mod profile;
pub mod serve;

use clap::{CommandFactory, Parser, Subcommand};
use common::{Failure, TargetArgs};

/// QA Adobe Target activities and see what Target counts.
#[derive(Debug, Parser)]
#[command(name = "mboxscope", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub tui: crate::tui::TuiArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prefetch mboxes, views and the page load; prints the SDK-style result as JSON.
    Prefetch(prefetch::PrefetchArgs),
    /// Execute mboxes and the page load (counts impressions at once); prints JSON.
    Execute(prefetch::PrefetchArgs),
    /// Run QA scenario files as regression checks (exit 0 passed, 1 failed, 2 bad file, 3 HTTP).
    Check(check::CheckArgs),
    /// Send display or click notifications through the ledger.
    Notify(notify::NotifyArgs),
    /// Decide a DeliveryRequest on device with a rules artifact, as Adobe's SDKs would.
    Decide(decide::DecideArgs),
    /// Run the local Delivery API emulator.
    Serve(serve::ServeArgs),
    /// List the notification journal of the target.
    Ledger(ledger::LedgerArgs),
    /// Expected counts per experience beside what a mboxscope serve counted, and the findings.
    Report(ledger::LedgerArgs),
    /// Save, list or show profiles.
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// Runs the parsed command line; the process exits with the returned code.
pub async fn run(cli: Cli) -> i32 {
    let outcome = match &cli.command {
        None => crate::tui::run(&cli.target, &cli.tui)
            .await
            .map_err(Failure::from),
        Some(Command::Prefetch(args)) => {
            let mode = crate::delivery::Mode::Prefetch;
            prefetch::run(&cli.target, &args.locations, mode, args.reveal).await
        }
        Some(Command::Execute(args)) => {
            let mode = crate::delivery::Mode::Execute;
            prefetch::run(&cli.target, &args.locations, mode, args.reveal).await
        }
        Some(Command::Check(args)) => check::run(&cli.target, args).await,
        Some(Command::Notify(args)) => notify::run(&cli.target, args).await,
        Some(Command::Decide(args)) => decide::run(&cli.target, args),
        Some(Command::Serve(args)) => serve::run(args, cli.target.org_id.as_deref()).await,
        Some(Command::Ledger(args)) => ledger::list(&cli.target, args),
        Some(Command::Report(args)) => ledger::report(&cli.target, args).await,
        Some(Command::Profile(command)) => profile::run(&cli.target, command),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "mboxscope",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match outcome {
        Ok(()) => 0,
        Err(failure) => {
            // Failures quote servers and files: no escape sequence may reach the terminal.
            eprintln!(
                "mboxscope: {}",
                crate::safe_text::one_line_uncapped(&failure.message)
            );
            failure.code
        }
    }
}
