//! The event loop: one `select!` over replies, terminal events and a spinner tick; effects
//! run as tasks that report back as actions. The terminal is restored on every exit path.

use super::app::{update, Action, App, Effect};
use super::exchange::{Exchange, ExchangeKind};
use super::export;
use super::view::{draw, Theme};
use crate::client::TargetClient;
use crate::ledger::compare::{compare, fetch_report};
use crate::ledger::deliver::{deliver, RetryPolicy};
use crate::ledger::lint::lint;
use crate::ledger::{record, Ledger, Queued};
use base64::Engine as _;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream, KeyEventKind, MouseEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// What the effects need.
pub struct Runtime {
    pub client: Arc<TargetClient>,
    pub ledger: Arc<Mutex<Ledger>>,
    /// The journal's file (sends open their own handle on it).
    pub journal: PathBuf,
    /// The emulator's base URL when it is local (for `/report`).
    pub report_base: Option<String>,
    pub data_dir: PathBuf,
    pub tx: mpsc::UnboundedSender<Action>,
    /// Every exchange of the session, for exports.
    pub history: Arc<std::sync::Mutex<Vec<Arc<Exchange>>>>,
    /// The built-in emulator (its clock can be set from the TUI).
    pub emulator: Option<Arc<crate::emulator::Emulator>>,
    /// No terminal (`--snapshot`): nothing is written to stdout, the editor runs as it is.
    pub headless: bool,
    /// The live view of a proxy's exchanges (`--watch`), for as long as the TUI runs.
    pub watcher: Option<JoinHandle<()>>,
    pub task: Option<JoinHandle<()>>,
    /// Work that reports back on its own and is not cancelled (ledger refreshes).
    pub background: Vec<JoinHandle<()>>,
}

/// The ledger's entries, the linter's findings, and the expected counts beside what the server
/// counted (its `/report`, when it is a `mboxscope serve` or the built-in emulator).
pub struct LedgerState {
    pub entries: Vec<crate::ledger::Entry>,
    pub findings: Vec<crate::ledger::lint::Finding>,
    pub comparison: crate::ledger::compare::Comparison,
}

/// Reads the ledger's state now (re-reading what other processes appended).
pub async fn ledger_state(
    ledger: &Arc<Mutex<Ledger>>,
    report_base: Option<&str>,
    tx: &mpsc::UnboundedSender<Action>,
) -> LedgerState {
    let counted = match report_base {
        Some(base) => fetch_report(base).await,
        None => Err(
            "Target reports its counts only in its UI and Analytics: expected counts only"
                .to_string(),
        ),
    };
    let mut ledger = ledger.lock().await;
    if let Err(e) = ledger.refresh() {
        let _ = tx.send(Action::Status(format!("ledger: {e}")));
    }
    let comparison = match &counted {
        Ok(report) => match ledger.expected_since(report.since) {
            Ok(expected) => compare(&expected, Ok(report)),
            Err(e) => compare(&ledger.expected(), Err(e.to_string())),
        },
        Err(why) => compare(&ledger.expected(), Err(why.clone())),
    }
    .missing(ledger.left_out());
    LedgerState {
        entries: ledger.entries().cloned().collect(),
        findings: lint(&ledger, crate::clock::now_ms()),
        comparison,
    }
}

/// Sends the ledger's state back to the app.
pub async fn refresh(
    ledger: &Arc<Mutex<Ledger>>,
    report_base: Option<&str>,
    tx: &mpsc::UnboundedSender<Action>,
) {
    let state = ledger_state(ledger, report_base, tx).await;
    let _ = tx.send(Action::Ledger {
        entries: state.entries,
        findings: state.findings,
        comparison: state.comparison,
    });
}

/// The QA links of a `mboxscope serve` (or the built-in emulator); none from other targets.
async fn fetch_qa_links(base: &str) -> Option<Vec<crate::delivery::QaLink>> {
    crate::client::get_json(base, "/qa", Duration::from_secs(2))
        .await
        .ok()
}

impl Runtime {
    /// Runs one effect; long ones become a task.
    pub async fn run(&mut self, effect: Effect) {
        let (client, ledger, tx, report) = (
            self.client.clone(),
            self.ledger.clone(),
            self.tx.clone(),
            self.report_base.clone(),
        );
        match effect {
            Effect::Call(request, mode, visitor) => {
                let history = self.history.clone();
                self.task = Some(tokio::spawn(async move {
                    let url = client
                        .delivery_url(&visitor)
                        .map(|u| u.to_string())
                        .unwrap_or_default();
                    let sent = Arc::new((*request).clone());
                    let started_at_ms = crate::clock::now_ms();
                    let started = Instant::now();
                    let outcome = client.send(*request, &visitor).await;
                    if let Ok(response) = &outcome {
                        let event = record::response_event(
                            mode,
                            &response.request,
                            &response.session_id,
                            &response.response,
                        );
                        if let Err(e) = ledger.lock().await.record(vec![event]) {
                            let _ = tx.send(Action::Status(format!("ledger: {e}")));
                        }
                    }
                    let exchange = Arc::new(Exchange {
                        kind: ExchangeKind::Call(mode),
                        url,
                        request: sent,
                        started_at_ms,
                        duration: started.elapsed(),
                        outcome: outcome
                            .as_ref()
                            .map(|r| Box::new(r.clone()))
                            .map_err(ToString::to_string),
                    });
                    remember(&history, &tx, exchange);
                    let _ = tx.send(Action::Answered(
                        outcome.map(Box::new).map_err(|e| e.to_string()),
                    ));
                    refresh(&ledger, report.as_deref(), &tx).await;
                }));
            }
            Effect::Queue(list, again) => {
                let (keys, news): (Vec<String>, Vec<_>) = list.into_iter().unzip();
                let outcome = ledger.lock().await.queue_all(news, again);
                match outcome {
                    Ok(queued) => {
                        let items = keys
                            .into_iter()
                            .zip(queued)
                            .map(|(k, q)| {
                                let already = matches!(q, Queued::AlreadyAcked(_));
                                (k, q.id().to_string(), already)
                            })
                            .collect();
                        let _ = tx.send(Action::Queued(items));
                    }
                    Err(e) => {
                        let _ = tx.send(Action::Status(format!(
                            "could not journal the notification: {e}"
                        )));
                    }
                }
                // The ledger tabs and the server's counts are read off the event loop.
                self.background.retain(|t| !t.is_finished());
                self.background.push(tokio::spawn(async move {
                    refresh(&ledger, report.as_deref(), &tx).await;
                }));
            }
            Effect::Send(ids) => {
                let history = self.history.clone();
                let journal = self.journal.clone();
                self.task = Some(tokio::spawn(async move {
                    // A handle of its own on the journal (shared safely, as between processes):
                    // the UI's ledger stays free while the send waits on the network.
                    let outcome = match Ledger::open(&journal) {
                        Ok(mut own) => {
                            deliver(
                                &mut own,
                                &client,
                                &ids,
                                &RetryPolicy {
                                    max_attempts: 3,
                                    ..Default::default()
                                },
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    match outcome {
                        Ok(delivery) => {
                            for attempt in delivery.attempts {
                                remember(&history, &tx, Arc::new(Exchange::of_attempt(attempt)));
                            }
                            let failed = delivery
                                .pending
                                .iter()
                                .chain(&delivery.rejected)
                                .cloned()
                                .collect();
                            let _ = tx.send(Action::Delivered {
                                acked: delivery.acked,
                                failed,
                            });
                        }
                        Err(e) => {
                            let _ = tx.send(Action::Delivered {
                                acked: Vec::new(),
                                failed: ids.iter().map(|i| (i.clone(), e.to_string())).collect(),
                            });
                        }
                    }
                    refresh(&ledger, report.as_deref(), &tx).await;
                }));
            }
            Effect::Cancel => {
                if let Some(task) = self.task.take() {
                    task.abort();
                }
            }
            Effect::Edit(text) => {
                let edited = if self.headless {
                    edit_with(&editor(), &text)
                } else {
                    edit_in_editor(&text)
                };
                let _ = tx.send(match edited {
                    Ok(edited) => Action::Edited(edited),
                    Err(e) => Action::Status(format!("editor: {e}")),
                });
            }
            Effect::Copy(text) => {
                if !self.headless {
                    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    let mut out = std::io::stdout();
                    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
                    let _ = out.flush();
                }
                let _ = tx.send(Action::Status(format!(
                    "copied {} bytes (OSC 52)",
                    text.len()
                )));
            }
            Effect::Export { reveal } => {
                let history = self
                    .history
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let state = ledger_state(&ledger, report.as_deref(), &tx).await;
                let session = export::Session {
                    history: &history,
                    ledger: &state,
                };
                let _ = tx.send(Action::Status(
                    match write_exports(&self.data_dir, &session, reveal) {
                        Ok(path) => export::exported_message(&path, reveal),
                        Err(e) => format!("export failed: {e}"),
                    },
                ));
            }
            Effect::LoadQaLinks => {
                // Once, at start, from a server on loopback: answered at once or not at all.
                if let Some(links) = match report {
                    Some(base) => fetch_qa_links(&base).await,
                    None => None,
                } {
                    let _ = tx.send(Action::QaLinks(links));
                }
            }
            Effect::SetClock(now) => match &self.emulator {
                Some(emulator) => emulator.set_clock(now),
                None => {
                    let _ = tx.send(Action::Status(
                        "the clock is the server's: only the built-in emulator's can be set".into(),
                    ));
                }
            },
            Effect::Simulate(job) => {
                self.background.retain(|t| !t.is_finished());
                self.background.push(tokio::spawn(async move {
                    let label = job.label.clone();
                    let result = tokio::task::spawn_blocking(move || job.run())
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    let _ = tx.send(Action::Split(label, result.map(Box::new)));
                }));
            }
            Effect::LoadRules(url) => {
                self.background.retain(|t| !t.is_finished());
                self.background.push(tokio::spawn(async move {
                    // Adobe's published artifact: asked for by the operator, never in tests.
                    let rules = crate::decisioning::explain::source::fetch_rules(
                        &url,
                        Duration::from_secs(10),
                    )
                    .await
                    .map(Arc::new)
                    .map_err(|e| e.to_string());
                    let _ = tx.send(Action::Rules(rules));
                }));
            }
            Effect::WriteScenario { name, toml } => {
                let _ = tx.send(Action::Status(
                    match write_scenario(&self.data_dir, &name, &toml) {
                        Ok(path) => format!(
                            "recorded {}: mboxscope check {} runs it",
                            path.display(),
                            path.display()
                        ),
                        Err(e) => format!("record: {e}"),
                    },
                ));
            }
            Effect::Watch { url, once } => {
                let journal = (ledger, report);
                let task = watch(url, once, self.history.clone(), journal, tx);
                if once {
                    task.await;
                } else {
                    self.watcher = Some(tokio::spawn(task));
                }
            }
            Effect::Quit => {}
        }
    }
}

/// Writes `<data>/exports/session-<time>.har` and `.json`; returns the path without extension.
pub fn write_exports(
    data_dir: &std::path::Path,
    session: &export::Session,
    reveal: bool,
) -> std::io::Result<PathBuf> {
    let dir = data_dir.join("exports");
    std::fs::create_dir_all(&dir)?;
    let stem = dir.join(format!("session-{}", crate::clock::now_ms()));
    let har = serde_json::to_vec_pretty(&export::har(session.history, reveal))
        .map_err(std::io::Error::other)?;
    export::write_private(&stem.with_extension("har"), &har)?;
    let json = serde_json::to_vec_pretty(&export::session(session, reveal))
        .map_err(std::io::Error::other)?;
    export::write_private(&stem.with_extension("json"), &json)?;
    Ok(stem)
}

/// Writes a recorded scenario to `<data>/scenarios/<name>.toml` (a new file: `-2`, `-3`… when
/// the name is taken); returns its path.
pub fn write_scenario(
    data_dir: &std::path::Path,
    name: &str,
    toml: &str,
) -> std::io::Result<PathBuf> {
    let dir = data_dir.join("scenarios");
    std::fs::create_dir_all(&dir)?;
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        "check".to_string()
    } else {
        slug
    };
    for n in 1..1000 {
        let file = if n == 1 {
            format!("{slug}.toml")
        } else {
            format!("{slug}-{n}.toml")
        };
        let path = dir.join(file);
        match export::write_private(&path, toml.as_bytes()) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("999 scenarios of that name already"))
}

/// Brings the exchanges the proxy at `url` sees into the History: all it keeps, then each as
/// it happens (a long poll); `once`: only those there now. An unreachable proxy is said once
/// and asked again every two seconds.
/// How often a watch window reads the journal again while exchanges arrive.
const WATCH_REFRESH: Duration = Duration::from_secs(1);

async fn watch(
    url: String,
    once: bool,
    history: Arc<std::sync::Mutex<Vec<Arc<Exchange>>>>,
    (ledger, report): (Arc<Mutex<Ledger>>, Option<String>),
    tx: mpsc::UnboundedSender<Action>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap_or_default();
    let mut after = 0;
    let mut failing = false;
    // The tabs read the journal again at most once a second (a read lints the whole journal
    // and asks the upstream's /report), and within a second of the last exchange.
    let mut stale = false;
    let mut refreshed: Option<Instant> = None;
    loop {
        let wait = if once || after == 0 {
            Duration::ZERO
        } else if stale {
            WATCH_REFRESH
        } else {
            Duration::from_secs(25)
        };
        match crate::proxy::watch::poll_waiting(&client, &url, after, wait).await {
            Ok(exchanges) => {
                if failing {
                    let _ = tx.send(Action::Status(format!("watching {url} again")));
                    failing = false;
                }
                stale |= !exchanges.is_empty();
                for observed in exchanges {
                    after = after.max(observed.seq);
                    remember(
                        &history,
                        &tx,
                        Arc::new(Exchange::of_observed(observed, &url)),
                    );
                }
                if stale && (once || refreshed.is_none_or(|at| at.elapsed() >= WATCH_REFRESH)) {
                    // The proxy journals before it publishes: the Ledger and Report tabs read
                    // the journal again (it is the proxy's own when the window watches its
                    // target).
                    refresh(&ledger, report.as_deref(), &tx).await;
                    refreshed = Some(Instant::now());
                    stale = false;
                }
            }
            Err(e) => {
                if !failing {
                    let _ = tx.send(Action::Status(format!("watch: {e}")));
                }
                failing = true;
                if !once {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
        if once || tx.is_closed() {
            return;
        }
    }
}

/// Keeps an exchange for exports and shows it in the history.
fn remember(
    history: &std::sync::Mutex<Vec<Arc<Exchange>>>,
    tx: &mpsc::UnboundedSender<Action>,
    exchange: Arc<Exchange>,
) {
    history
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(exchange.clone());
    let _ = tx.send(Action::Exchange(exchange));
}

/// Leaves the TUI, runs `$EDITOR` on the text, comes back with what was saved.
fn edit_in_editor(text: &str) -> std::io::Result<String> {
    suspend();
    let edited = edit_with(&editor(), text);
    resume(true);
    edited
}

/// `$VISUAL`, else `$EDITOR`, else `vi`.
fn editor() -> String {
    std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into())
}

/// Runs the shell command `editor` on a private copy of `text` (the request, tokens in clear):
/// a temporary file created exclusively with mode 0600 under a random name, removed on every
/// path, the editor's failure included.
pub fn edit_with(editor: &str, text: &str) -> std::io::Result<String> {
    let mut file = tempfile::Builder::new()
        .prefix("mboxscope-request-")
        .suffix(".json")
        .tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!(
            "{editor} exited with {status}"
        )));
    }
    // Read by path: editors that save by renaming leave a new file there.
    std::fs::read_to_string(file.path())
}

/// Puts the terminal back as it was.
pub fn suspend() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Takes the terminal for the TUI.
pub fn resume(mouse: bool) {
    let _ = enable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste
    );
    if mouse {
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
    }
}

/// The signal that ended the TUI (after the terminal was restored); the process exits
/// 128 + its number, as a shell reports a death by signal.
#[derive(Debug, Clone, thiserror::Error)]
#[error("stopped by {name}")]
pub struct Stopped {
    pub name: &'static str,
    pub number: i32,
}

/// SIGTERM, SIGHUP, SIGINT and SIGQUIT: caught, so the loop ends and the guard restores the
/// terminal instead of the process dying in the alternate screen.
struct StopSignals([(Signal, &'static str, i32); 4]);

impl StopSignals {
    fn install() -> std::io::Result<Self> {
        let catch = |kind: SignalKind, name: &'static str, number: i32| {
            signal(kind).map(|stream| (stream, name, number))
        };
        Ok(StopSignals([
            catch(SignalKind::terminate(), "SIGTERM", 15)?,
            catch(SignalKind::hangup(), "SIGHUP", 1)?,
            catch(SignalKind::interrupt(), "SIGINT", 2)?,
            catch(SignalKind::quit(), "SIGQUIT", 3)?,
        ]))
    }

    async fn next(&mut self) -> Stopped {
        let [(term, ..), (hup, ..), (int, ..), (quit, ..)] = &mut self.0;
        let at = tokio::select! {
            _ = term.recv() => 0,
            _ = hup.recv() => 1,
            _ = int.recv() => 2,
            _ = quit.recv() => 3,
        };
        let (_, name, number) = self.0[at];
        Stopped { name, number }
    }
}

/// Restores the terminal when dropped (every exit path, panics included).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        suspend();
    }
}

/// Runs the interactive loop until `q`.
pub async fn run_loop(
    mut app: App,
    mut runtime: Runtime,
    mut rx: mpsc::UnboundedReceiver<Action>,
    theme: Theme,
    mouse: bool,
    first: Vec<Effect>,
) -> std::io::Result<()> {
    let mut stop = StopSignals::install()?;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        suspend();
        hook(info);
    }));
    resume(mouse);
    let _guard = TerminalGuard;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    terminal.clear()?;
    let size = terminal.size()?;
    let _ = update(&mut app, Action::Resize(size.width, size.height));
    for effect in first {
        runtime.run(effect).await;
    }
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(120));
    terminal.draw(|f| draw(f, &app, theme))?;
    loop {
        let action = tokio::select! {
            biased;
            stopped = stop.next() => return Err(std::io::Error::other(stopped)),
            Some(action) = rx.recv() => action,
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => Action::Key(key),
                Some(Ok(Event::Paste(text))) => Action::Paste(text),
                Some(Ok(Event::Mouse(m))) => match m.kind {
                    MouseEventKind::ScrollDown => Action::Scroll(3),
                    MouseEventKind::ScrollUp => Action::Scroll(-3),
                    _ => continue,
                },
                Some(Ok(Event::Resize(width, height))) => Action::Resize(width, height),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e),
                None => break,
            },
            _ = tick.tick() => {
                if app.in_flight.is_none() { continue; }
                Action::Tick
            }
        };
        for effect in update(&mut app, action) {
            if effect == Effect::Quit {
                return Ok(());
            }
            let edit = matches!(effect, Effect::Edit(_));
            runtime.run(effect).await;
            if edit {
                terminal.clear()?;
            }
        }
        if app.quit {
            break;
        }
        // Draw once the actions that arrived together are applied (one prefetch sends several).
        if rx.is_empty() {
            terminal.draw(|f| draw(f, &app, theme))?;
        }
    }
    Ok(())
}
