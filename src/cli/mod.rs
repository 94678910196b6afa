//! The command line: one file per subcommand.

pub mod check;
pub mod common;
pub mod decide;
pub mod help;
pub mod ledger;
pub mod notify;
pub mod prefetch;
pub mod profile;
pub mod proxy;
pub mod serve;
pub mod simulate;

use clap::{Args, CommandFactory, Parser, Subcommand};
use common::{Failure, LogArgs, TargetArgs};

/// QA Adobe Target activities and see what Target counts.
#[derive(Debug, Parser)]
#[command(name = "mboxscope", version = env!("MBOXSCOPE_VERSION"), about, long_about = None)]
#[command(disable_help_subcommand = true, args_conflicts_with_subcommands = true)]
#[command(after_long_help = help::with_log(help::TUI))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub tui: crate::tui::TuiArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// A command that talks to a target: its own flags, then the target, visitor and log flags.
#[derive(Debug, Clone, Args)]
pub struct Targeted<A: Args> {
    #[command(flatten)]
    pub args: A,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prefetch mboxes, views and the page load; prints the SDK-style result as JSON.
    #[command(after_long_help = help::with_log(help::PREFETCH), mut_arg("reveal", output))]
    Prefetch(Targeted<prefetch::PrefetchArgs>),
    /// Execute mboxes and the page load (counts impressions at once); prints JSON.
    #[command(after_long_help = help::with_log(help::EXECUTE), mut_arg("reveal", output))]
    Execute(Targeted<common::ExecuteArgs>),
    /// Run QA scenario files as regression checks (exit 0 passed, 1 failed, 2 bad file, 3 HTTP).
    #[command(after_long_help = help::with_log(help::CHECK), mut_arg("json", output))]
    Check(Targeted<check::CheckArgs>),
    /// Send display or click notifications through the ledger.
    #[command(after_long_help = help::with_log(help::NOTIFY))]
    Notify(Targeted<notify::NotifyArgs>),
    /// Decide a DeliveryRequest on device with a rules artifact, as Adobe's SDKs would.
    #[command(after_long_help = help::with_log(help::DECIDE))]
    Decide(Targeted<decide::DecideArgs>),
    /// Simulate many visitors through an artifact: the split per experience, tested.
    #[command(after_long_help = help::with_log(help::SIMULATE))]
    Simulate(Box<Targeted<simulate::SimulateArgs>>),
    /// Run the local Delivery API emulator.
    #[command(after_long_help = help::with_log(help::SERVE))]
    Serve(serve::ServeArgs),
    /// Forward an application's Delivery API traffic unchanged and journal it as observed.
    #[command(after_long_help = help::with_log(help::PROXY))]
    Proxy(Targeted<proxy::ProxyArgs>),
    /// List the notification journal of the target.
    #[command(after_long_help = help::with_log(help::LEDGER), mut_arg("json", output))]
    Ledger(Targeted<ledger::LedgerArgs>),
    /// Expected counts per experience beside what a mboxscope serve counted, and the findings.
    #[command(after_long_help = help::with_log(help::REPORT), mut_arg("json", output))]
    Report(Targeted<ledger::LedgerArgs>),
    /// Save, list or show profiles.
    #[command(subcommand, after_long_help = help::with_log(help::PROFILE))]
    Profile(profile::ProfileCommand),
    /// Print shell completions.
    #[command(after_long_help = help::COMPLETIONS)]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(after_long_help = help::MAN)]
    Man {
        /// Write mboxscope.1, mboxscope-prefetch.1, … here instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// Help on a command, or a guide: `help counting`, `help qa`.
    #[command(after_long_help = help::HELP)]
    Help(help::HelpArgs),
}

/// Puts a flag under the "Output" heading.
fn output(arg: clap::Arg) -> clap::Arg {
    arg.help_heading("Output")
}

/// Where a run logs: the data directory (`None`: the default one) and the level.
type LogSettings = (Option<std::path::PathBuf>, common::LogLevel);

impl Cli {
    /// Where this run logs (`None`: a command that logs nothing); the target's secrets are
    /// kept out of the log.
    fn log_settings(&self) -> Option<LogSettings> {
        let (target, log) = match &self.command {
            None => (&self.target, &self.log),
            Some(Command::Prefetch(c)) => (&c.target, &c.log),
            Some(Command::Execute(c)) => (&c.target, &c.log),
            Some(Command::Notify(c)) => (&c.target, &c.log),
            Some(Command::Decide(c)) => (&c.target, &c.log),
            Some(Command::Check(c)) => (&c.target, &c.log),
            Some(Command::Proxy(c)) => (&c.target, &c.log),
            Some(Command::Simulate(c)) => (&c.target, &c.log),
            Some(Command::Ledger(c)) | Some(Command::Report(c)) => {
                // They only read: a data directory that does not exist yet stays so.
                if !c.target.data_dir().is_ok_and(|dir| dir.exists()) {
                    return None;
                }
                (&c.target, &c.log)
            }
            Some(Command::Profile(command)) => command.target_and_log(),
            Some(Command::Serve(args)) => return Some((args.data_dir.clone(), args.log.log_level)),
            Some(Command::Completions { .. } | Command::Man { .. } | Command::Help(_)) => {
                return None
            }
        };
        crate::log::keep_secrets_of(target);
        Some((target.data_dir.clone(), log.log_level))
    }
}

/// Runs the parsed command line; the process exits with the returned code.
pub async fn run(cli: Cli) -> i32 {
    let log = cli.log_settings().map(|(dir, level)| {
        if cli.command.is_none() {
            crate::log::init_for_tui(dir.as_deref(), level)
        } else {
            crate::log::init(dir.as_deref(), level)
        }
    });
    let outcome = match &cli.command {
        None => crate::tui::run(&cli.target, &cli.tui)
            .await
            .map_err(Failure::from),
        Some(Command::Prefetch(c)) => {
            let mode = crate::delivery::Mode::Prefetch;
            prefetch::run(&c.target, &c.args.locations, mode, c.args.reveal).await
        }
        Some(Command::Execute(c)) => {
            let mode = crate::delivery::Mode::Execute;
            let locations = c.args.locations.to_locations();
            prefetch::run(&c.target, &locations, mode, c.args.reveal).await
        }
        Some(Command::Check(c)) => check::run(&c.target, &c.args).await,
        Some(Command::Notify(c)) => notify::run(&c.target, &c.args).await,
        Some(Command::Decide(c)) => decide::run(&c.target, &c.args),
        Some(Command::Simulate(c)) => simulate::run(&c.target, &c.args),
        Some(Command::Serve(args)) => serve::run(args).await,
        Some(Command::Proxy(c)) => proxy::run(&c.target, &c.args).await,
        Some(Command::Ledger(c)) => ledger::list(&c.target, &c.args),
        Some(Command::Report(c)) => ledger::report(&c.target, &c.args).await,
        Some(Command::Profile(command)) => profile::run(command),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "mboxscope",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Some(Command::Man { dir }) => man(dir.as_deref()),
        Some(Command::Help(args)) => help::text(&mut Cli::command(), &args.topic)
            .map(|text| print!("{text}"))
            .map_err(Failure::usage),
    };
    match outcome {
        Ok(()) => 0,
        Err(failure) => {
            tracing::error!(code = failure.code, "{}", failure.message);
            // Failures quote servers and files: no escape sequence may reach the terminal.
            let message = crate::safe_text::one_line_uncapped(&failure.message);
            match &log {
                Some(Ok(log)) => eprintln!("mboxscope: {message} (log: {})", log.path().display()),
                Some(Err(e)) => eprintln!("mboxscope: {message} (no log: {e})"),
                None => eprintln!("mboxscope: {message}"),
            }
            failure.code
        }
    }
}

/// `mboxscope man`: the page on stdout, or every page into `dir`.
fn man(dir: Option<&std::path::Path>) -> Result<(), Failure> {
    use std::io::Write;
    match dir {
        Some(dir) => clap_mangen::generate_to(Cli::command(), dir)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display()))),
        None => {
            let page = help::man_page(Cli::command()).map_err(Failure::usage)?;
            std::io::stdout()
                .write_all(&page)
                .map_err(|e| Failure::usage(format!("stdout: {e}")))
        }
    }
}
