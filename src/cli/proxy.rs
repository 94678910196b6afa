//! `mboxscope proxy`: watch what an application's SDK sends to Target, and journal it in the
//! target's ledger so `mboxscope report` explains its counting.

use super::common::{Failure, TargetArgs};
use crate::client::Server;
use crate::emulator::http::{spawn, Faults, Server as EmulatorServer};
use crate::emulator::{Emulator, DEMO_ARTIFACT};
use crate::ledger::store;
use crate::priority::avoid_huge_page_stalls;
use crate::proxy::{default_workers, start, ProxySettings};
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// Flags of `proxy`.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Where to forward: a Delivery API base URL (`http://127.0.0.1:8080`) or server domain
    /// (default: the built-in emulator on the demo artifact).
    #[arg(long)]
    pub upstream: Option<String>,
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Threads that forward (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
}

/// Prints a line on stdout; a closed stdout is no reason to stop forwarding.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// Runs the proxy until Ctrl-C; the first line on stdout is its base URL.
pub async fn run(target: &TargetArgs, args: &ProxyArgs) -> Result<(), Failure> {
    let profile = target.resolve()?;
    let mut client_code = profile.client_code.clone();
    let (upstream, label, _emulator) = match &args.upstream {
        Some(upstream) => {
            let server = Server::from_flag(upstream);
            (
                server.base_url(None, !target.insecure),
                server.describe(),
                None,
            )
        }
        None => {
            let emulator = Emulator::new(DEMO_ARTIFACT, None, "assets/demo/rules.json (built in)")
                .map_err(|e| Failure::usage(format!("the demo artifact: {e}")))?;
            client_code.get_or_insert_with(|| emulator.client_code().to_string());
            let server = Arc::new(EmulatorServer {
                emulator: Arc::new(emulator),
                faults: Faults::default(),
                log: false,
            });
            let (url, handle) = spawn(server, SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .map_err(|e| Failure::usage(format!("cannot start the built-in emulator: {e}")))?;
            (url, store::BUILT_IN.to_string(), Some(handle))
        }
    };
    let journal = store::journal_path(&target.data_dir()?, client_code.as_deref(), &label);
    if let Err(e) = avoid_huge_page_stalls() {
        let _ = writeln!(
            std::io::stderr(),
            "mboxscope proxy: its memory may use transparent huge pages ({e})"
        );
    }
    let proxy = start(ProxySettings {
        upstream: upstream.clone(),
        journal: journal.clone(),
        client: client_code.clone(),
        addr: args.addr,
        workers: args.workers.map_or_else(default_workers, usize::from),
    })
    .await
    .map_err(Failure::usage)?;
    say(&proxy.url);
    say(&format!(
        "mboxscope proxy: forwarding to {upstream}, journal {}; exchanges at {}{}; Ctrl-C stops",
        journal.display(),
        proxy.url,
        crate::proxy::feed::FEED_PATH
    ));
    let _ = tokio::signal::ctrl_c().await;
    proxy.stop().await;
    let _ = writeln!(std::io::stderr(), "stopped");
    Ok(())
}
