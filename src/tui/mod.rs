//! The interactive TUI (ratatui + crossterm + tokio): prefetch, inspect, mark displayed or
//! clicked, and watch what is counted.

pub mod app;
pub mod diff;
pub mod exchange;
pub mod export;
pub mod fold;
pub mod keymap;
pub mod keys;
pub mod overrides;
pub mod qa_pick;
pub mod rows;
pub mod runtime;
pub mod secrets;
pub mod split;
pub mod text;
pub mod view;
pub mod why;

use crate::delivery::{MboxSpec, Mode, RequestSpec};
use crate::emulator::http::{spawn, Faults, Server as EmulatorServer};
use crate::emulator::{Emulator, DEMO_ARTIFACT};
use crate::target::{LocationArgs, TargetArgs, TargetError};
use app::{update, Action, App, Effect};
use clap::Args;
use runtime::Runtime;
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};
use view::Theme;

/// The largest snapshot side: a screen's buffer grows with width × height.
pub const MAX_SNAPSHOT_SIDE: i64 = 1000;

/// Flags of the TUI (the default command).
#[derive(Debug, Clone, Args, Default)]
pub struct TuiArgs {
    #[command(flatten)]
    pub locations: LocationArgs,
    /// Render the screen after the start-up prefetch (and --keys) as plain text, and exit.
    #[arg(long)]
    pub snapshot: bool,
    /// Snapshot width (20 to 1000 columns).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u16).range(20..=MAX_SNAPSHOT_SIDE))]
    pub width: u16,
    /// Snapshot height (5 to 1000 rows).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u16).range(5..=MAX_SNAPSHOT_SIDE))]
    pub height: u16,
    /// Leave the mouse to the terminal (text selection).
    #[arg(long)]
    pub no_mouse: bool,
    /// Freeze the local emulator's clock for time-based audiences: ISO-8601
    /// (2026-12-24T10:00:00Z) or ms since the epoch.
    #[arg(long, value_parser = crate::clock::parse_instant)]
    pub emulator_now: Option<i64>,
    /// With --snapshot: keys to press after the start-up prefetch, space-separated, by the
    /// keymap's names (`j d s tab enter esc H space up down pgdn`...); each waits for the
    /// requests it starts. Another word is typed letter by letter (`=word` types it as is).
    #[arg(long, requires = "snapshot")]
    pub keys: Option<String>,
    /// Watch the exchanges an application has through a `mboxscope proxy` at this URL: they
    /// appear in the History as they happen (with --snapshot: those there now).
    #[arg(long, value_name = "PROXY_URL")]
    pub watch: Option<String>,
}

/// Why the TUI could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("local emulator: {0}")]
    Emulator(String),
    #[error("--keys: {0}")]
    Keys(String),
    #[error("terminal: {0}")]
    Terminal(std::io::Error),
    /// A signal ended it (the terminal was restored).
    #[error("{0}")]
    Stopped(runtime::Stopped),
}

/// A ready TUI: the app, the runtime for its effects, and where replies arrive.
pub struct Session {
    pub app: App,
    pub runtime: Runtime,
    pub rx: mpsc::UnboundedReceiver<Action>,
    /// The start-up prefetch.
    pub first: Vec<Effect>,
}

/// The locations a server's rules artifact (`GET /rules.json`) knows.
struct ArtifactLocations {
    mboxes: Vec<String>,
    views: Vec<String>,
    global: String,
    /// The artifact itself, for `w` and `%` (when it loads as one).
    rules: Option<Arc<crate::decisioning::Artifact>>,
}

/// The mboxes and views the server's artifact has (none when it serves no `rules.json`); the
/// artifact parsed for `w` and `%` unless `parsed` is it already.
async fn artifact_locations(
    base: &str,
    parsed: Option<Arc<crate::decisioning::Artifact>>,
) -> Option<ArtifactLocations> {
    let reply = reqwest::Client::new()
        .get(format!("{base}/rules.json"))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let bytes = reply.error_for_status().ok()?.bytes().await.ok()?;
    let artifact: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    // Only a rules artifact says which mboxes exist (a server may answer any path).
    artifact.get("rules")?.as_object()?;
    let global = artifact["globalMbox"]
        .as_str()
        .unwrap_or("target-global-mbox")
        .to_string();
    let names = |key: &str| -> Vec<String> {
        artifact[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .filter(|n| *n != global)
            .map(str::to_string)
            .collect()
    };
    Some(ArtifactLocations {
        mboxes: names("localMboxes"),
        views: names("localViews"),
        global,
        rules: parsed.or_else(|| {
            crate::decisioning::Artifact::from_json(&bytes)
                .ok()
                .map(Arc::new)
        }),
    })
}

/// Whether `url` is an `http://` URL of a loopback host.
fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http"
            && u.host_str()
                .is_some_and(|host| crate::proxy::is_loopback_host(host.as_bytes()))
    })
}

/// What the proxy at `url` stands for (asked once, briefly: it runs on this machine).
async fn watched_target(
    url: &str,
) -> Result<crate::proxy::feed::ProxyTarget, crate::proxy::watch::WatchError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    crate::proxy::watch::target(&client, url).await
}

/// Builds the session: the in-process emulator when no target is named, the client, the ledger,
/// what to prefetch first.
pub async fn start(target: &TargetArgs, args: &TuiArgs) -> Result<Session, TuiError> {
    let profile = target.resolve()?;
    let named = profile.server.is_some() || profile.client_code.is_some();
    let mut target = target.clone();
    let mut label = String::new();
    let mut report_base = None;
    let mut local_emulator = None;
    let mut note: Option<String> = None;
    // Watching a proxy with no target named: its own target (upstream, client), and its
    // journal when it is the same one under this data directory.
    let mut watching = false;
    let mut watched_journal = None;
    if let (Some(url), false) = (&args.watch, named) {
        match watched_target(url).await {
            Ok(watched) => {
                watching = true;
                label = format!("watching {url} → {}", watched.upstream);
                target.server = Some(watched.upstream);
                target.client_code = watched.client;
                let data_dir = target.data_dir()?;
                watched_journal =
                    crate::ledger::store::same_journal_here(&data_dir, &watched.journal);
                if watched_journal.is_none() {
                    note = Some(format!(
                        "the proxy's journal {} is not under {}: the Ledger and Report tabs show this window's own",
                        crate::safe_text::one_line(&watched.journal.display().to_string()),
                        data_dir.display()
                    ));
                }
            }
            Err(e) => {
                note = Some(format!(
                    "the proxy did not say its target ({e}): p prefetches from a local emulator"
                ))
            }
        }
    }
    let local = !named && !watching;
    if local {
        let emulator = Emulator::new(DEMO_ARTIFACT, None, "assets/demo/rules.json (built in)")
            .map_err(|e| TuiError::Emulator(e.to_string()))?
            .with_clock(args.emulator_now);
        let client_code = emulator.client_code().to_string();
        let emulator = Arc::new(emulator);
        local_emulator = Some(emulator.clone());
        let server = Arc::new(EmulatorServer {
            emulator,
            faults: Faults::default(),
            log: false,
        });
        let (base, _) = spawn(server, "127.0.0.1:0".parse().expect("loopback"))
            .await
            .map_err(|e| TuiError::Emulator(e.to_string()))?;
        label = format!("local emulator {base}");
        target.server = Some(base.clone());
        target.client_code = Some(client_code);
        report_base = Some(base);
    }
    let profile = target.resolve()?;
    let client = target.client(&profile)?;
    if !local {
        if label.is_empty() {
            label = client.settings().server.describe();
        }
        // A server given as a URL may be a `mboxscope serve`: its `/report` is asked for (a
        // watched proxy's upstream only on loopback: the operator did not name it).
        if let crate::client::Server::Url(url) = &client.settings().server {
            if !watching || is_loopback_url(url) {
                report_base = Some(url.clone());
            }
        }
    }
    let ledger = if let Some(journal) = &watched_journal {
        // The proxy's own journal: the application's traffic and this window's, together.
        crate::target::open_ledger(journal)?
    } else if local {
        // The built-in emulator's port changes every run; its journal keeps one name.
        crate::target::open_ledger(&crate::ledger::store::journal_path(
            &target.data_dir()?,
            client.settings().client_code.as_deref(),
            crate::ledger::store::BUILT_IN,
        ))?
    } else {
        target.ledger(&client)?
    };
    let mut spec: RequestSpec = target.request_spec(&profile, Mode::Prefetch)?;
    args.locations.apply(&mut spec)?;
    let visitor = target.visitor(&profile)?;
    let base = client.base_url(visitor.location_hint.as_deref());
    // Only a server on loopback or named by URL is asked (never Adobe's edge unasked).
    let rules = match (&report_base, args.locations.is_empty()) {
        (Some(known), _) => {
            artifact_locations(known, local_emulator.as_ref().map(|e| e.artifact())).await
        }
        (None, true) => artifact_locations(&base, None).await,
        (None, false) => None,
    };
    if args.locations.is_empty() {
        match &rules {
            Some(rules) => {
                spec.mboxes = rules.mboxes.iter().map(|name| MboxSpec { name: name.clone(), parameters: Vec::new() }).collect();
                spec.views = rules.views.clone();
            }
            None => note = Some("no --mbox given and the server serves no rules.json: prefetching the page load only".into()),
        }
        spec.page_load = true;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let data_dir = target.data_dir()?;
    let mut app = App::new(label, local, target.profile.clone(), spec, visitor);
    if let Some(r) = &rules {
        app.insight.rules = r.rules.clone();
    }
    app.known_mboxes = rules.map(|r| {
        let mut known = r.mboxes;
        known.push(r.global);
        known
    });
    if report_base.is_none() {
        // Real Target: the artifact Adobe publishes for the client, fetched when `w` asks.
        app.published_rules = client.settings().client_code.as_deref().map(|code| {
            crate::decisioning::explain::source::published_artifact_url(
                code,
                None,
                profile.property_token.as_deref(),
            )
        });
    }
    app.emulator_now = args.emulator_now;
    if !local {
        // A scenario names one target: the profile, unless flags overrode its server or client.
        app.scenario_target = match &target.profile {
            Some(name) if target.server.is_none() && target.client_code.is_none() => {
                crate::check::TargetSection {
                    profile: Some(name.clone()),
                    ..Default::default()
                }
            }
            _ => crate::check::TargetSection {
                profile: None,
                server: target.server.clone(),
                client: client.settings().client_code.clone(),
                artifact: None,
            },
        };
    }
    let mut first = match &args.watch {
        Some(url) => {
            app.pane = app::Pane::History;
            let mut status =
                format!("watching the proxy at {url}: its exchanges arrive in the History");
            if let Some(n) = note.take() {
                status = format!("{status} · {n}");
            }
            let _ = update(&mut app, Action::Status(status));
            vec![Effect::Watch {
                url: url.trim_end_matches('/').to_string(),
                once: args.snapshot,
            }]
        }
        None => {
            if let Some(n) = note.take() {
                let _ = update(&mut app, Action::Status(n));
            }
            update(&mut app, Action::Start)
        }
    };
    if report_base.is_some() {
        first.push(Effect::LoadQaLinks);
    }
    let runtime = Runtime {
        client: Arc::new(client),
        journal: ledger.path().to_path_buf(),
        ledger: Arc::new(Mutex::new(ledger)),
        report_base,
        data_dir,
        tx,
        history: Arc::new(std::sync::Mutex::new(Vec::new())),
        emulator: local_emulator,
        headless: args.snapshot,
        watcher: None,
        task: None,
        background: Vec::new(),
    };
    Ok(Session {
        app,
        runtime,
        rx,
        first,
    })
}

/// Runs effects and applies the actions they send until nothing is left to do (for snapshots
/// and tests; the interactive loop does the same as events arrive).
pub async fn settle(session: &mut Session, effects: Vec<Effect>) {
    let mut pending = effects;
    loop {
        for effect in std::mem::take(&mut pending) {
            session.runtime.run(effect).await;
        }
        if let Some(task) = session.runtime.task.take() {
            let _ = task.await;
        }
        for task in std::mem::take(&mut session.runtime.background) {
            let _ = task.await;
        }
        let mut any = false;
        while let Ok(action) = session.rx.try_recv() {
            any = true;
            pending.extend(update(&mut session.app, action));
        }
        if !any && pending.is_empty() {
            return;
        }
    }
}

/// The screen as plain text.
pub fn render_text(app: &App, width: u16, height: u16) -> String {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = ratatui::Terminal::new(backend).expect("test backend");
    let theme = Theme { color: false };
    let _ = terminal.draw(|f| view::draw(f, app, theme));
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..height {
        let line: String = (0..width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `mboxscope` with no subcommand.
pub async fn run(target: &TargetArgs, args: &TuiArgs) -> Result<(), TuiError> {
    let mut session = start(target, args).await?;
    if args.snapshot {
        let first = std::mem::take(&mut session.first);
        let _ = update(&mut session.app, Action::Resize(args.width, args.height));
        settle(&mut session, first).await;
        let script = keys::script(args.keys.as_deref().unwrap_or("")).map_err(TuiError::Keys)?;
        for key in script {
            let effects = update(&mut session.app, Action::Key(key));
            if effects.contains(&Effect::Quit) {
                break;
            }
            settle(&mut session, effects).await;
        }
        print!(
            "{}",
            render_text(&session.app, args.width.max(20), args.height.max(5))
        );
        return Ok(());
    }
    let theme = Theme {
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let Session {
        app,
        runtime,
        rx,
        first,
    } = session;
    runtime::run_loop(app, runtime, rx, theme, !args.no_mouse, first)
        .await
        .map_err(|e| {
            match e
                .get_ref()
                .and_then(|e| e.downcast_ref::<runtime::Stopped>())
            {
                Some(stopped) => TuiError::Stopped(stopped.clone()),
                None => TuiError::Terminal(e),
            }
        })
}
