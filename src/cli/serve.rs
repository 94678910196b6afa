//! `mboxscope serve`: the local Delivery API emulator.

use super::common::{Failure, LogArgs};
use crate::emulator::http::{serve_on_threads, Faults, Limits, Server};
use crate::emulator::request_log::{self, LogFormat, RequestLog};
use crate::emulator::{Emulator, DEMO_ARTIFACT};
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Flags of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The rules artifact (default: the demo artifact).
    #[arg(long)]
    pub artifact: Option<PathBuf>,
    /// Address to listen on; anything but loopback must be given explicitly.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Share (0–1) of delivery requests that fail at random: dropped before or after processing, or 503.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Delay every reply by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// No line per request.
    #[arg(long, help_heading = "Output")]
    pub quiet: bool,
    /// How request lines are written on stdout: text, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, help_heading = "Output")]
    pub log_format: LogFormat,
    /// Threads that serve requests, each with its own event loop (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// Freeze the clock at this time (ms since the epoch) for time-based audiences.
    #[arg(long)]
    pub now: Option<i64>,
    /// Leave out user agents that look like bots (on, as Target does) or count them (off).
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub bot_filter: Switch,
    /// Organization id (for a rules.bin artifact).
    #[arg(long = "artifact-org-id", env = "MBOXSCOPE_ORG_ID")]
    pub artifact_org_id: Option<String>,
    /// Milliseconds a client has to send a request's head (also how long an idle keep-alive
    /// connection stays open).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_ms: u64,
    /// Milliseconds a client has to send a request's body once its head is in.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_ms: u64,
    /// Connections open at once; more wait until one closes.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,
    /// Where the log file is written (default: the user's data directory).
    #[arg(
        long,
        env = "MBOXSCOPE_DATA_DIR",
        value_name = "DIR",
        help_heading = "Log"
    )]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Prints a line on stdout; a closed stdout is no reason to stop serving.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// A setting that is on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

/// Runs the emulator until Ctrl-C.
pub async fn run(args: &ServeArgs) -> Result<(), Failure> {
    if !(0.0..=1.0).contains(&args.fault_rate) {
        return Err(Failure::usage(format!(
            "--fault-rate {} must be between 0 and 1",
            args.fault_rate
        )));
    }
    let (bytes, location) = match &args.artifact {
        Some(path) => (
            std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?,
            path.display().to_string(),
        ),
        None => (
            DEMO_ARTIFACT.to_vec(),
            "assets/demo/rules.json (built in)".to_string(),
        ),
    };
    if let Err(e) = crate::priority::avoid_huge_page_stalls() {
        let _ = writeln!(
            std::io::stderr(),
            "mboxscope serve: its memory may use transparent huge pages ({e})"
        );
    }
    let emulator = Emulator::new(&bytes, args.artifact_org_id.as_deref(), &location)
        .map_err(|e| Failure::usage(format!("{location}: {e}")))?
        .with_clock(args.now)
        .with_bot_filter(args.bot_filter == Switch::On);
    let listener = std::net::TcpListener::bind(args.addr)
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", args.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::usage(e.to_string()))?;
    say(&format!("http://{local}"));
    say(&format!(
        "mboxscope emulator: client {}, artifact {location}, fault rate {}, latency {} ms; Ctrl-C stops",
        emulator.client_code(),
        args.fault_rate,
        args.latency_ms
    ));
    tracing::info!(%local, artifact = %location, fault_rate = args.fault_rate, "serving");
    request_log::set_format(args.log_format);
    let server = Arc::new(Server {
        emulator: Arc::new(emulator),
        faults: Faults {
            rate: args.fault_rate,
            latency: Duration::from_millis(args.latency_ms),
        },
        log: !args.quiet,
    });
    let threads = match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let limits = Limits {
        header_read: Duration::from_millis(args.header_timeout_ms),
        body: Duration::from_millis(args.body_timeout_ms),
        max_connections: args.max_connections as usize,
    };
    let workers = serve_on_threads(listener, server, threads, limits, stopped)
        .map_err(|e| Failure::usage(format!("cannot start the server: {e}")))?;
    let _ = tokio::signal::ctrl_c().await;
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.join();
    }
    if !args.quiet {
        if let Some(log) = RequestLog::get() {
            log.flush(Duration::from_secs(1));
        }
    }
    tracing::info!(%local, "stopped");
    let _ = writeln!(std::io::stderr(), "stopped");
    Ok(())
}
