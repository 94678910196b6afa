//! The event loop: one `select!` over replies, terminal events and a spinner tick; effects
//! run as tasks that report back as actions. The terminal is restored on every exit path.

use super::app::{update, Action, App, Effect};
use super::export;
use super::view::{draw, Theme};
use crate::client::{TargetClient, TargetResponse};
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
use std::time::Duration;
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
    pub exchanges: Arc<std::sync::Mutex<Vec<TargetResponse>>>,
    pub task: Option<JoinHandle<()>>,
    /// Work that reports back on its own and is not cancelled (ledger refreshes).
    pub background: Vec<JoinHandle<()>>,
}

/// Sends the ledger's state back to the app, with its expected counts beside what the server
/// counted (its `/report`, when it is a `mboxscope serve` or the built-in emulator).
pub async fn refresh(
    ledger: &Arc<Mutex<Ledger>>,
    report_base: Option<&str>,
    tx: &mpsc::UnboundedSender<Action>,
) {
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
    };
    let _ = tx.send(Action::Ledger {
        entries: ledger.entries().cloned().collect(),
        findings: lint(&ledger, crate::clock::now_ms()),
        comparison,
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
                let exchanges = self.exchanges.clone();
                self.task = Some(tokio::spawn(async move {
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
                        exchanges
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(response.clone());
                    }
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
                let exchanges = self.exchanges.clone();
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
                        Ok(report_) => {
                            let exchange = report_.exchanges.last().cloned().map(Box::new);
                            exchanges
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .extend(report_.exchanges.iter().cloned());
                            let failed = report_
                                .pending
                                .iter()
                                .chain(&report_.rejected)
                                .cloned()
                                .collect();
                            let _ = tx.send(Action::Delivered {
                                acked: report_.acked,
                                failed,
                                exchange,
                            });
                        }
                        Err(e) => {
                            let _ = tx.send(Action::Delivered {
                                acked: Vec::new(),
                                failed: ids.iter().map(|i| (i.clone(), e.to_string())).collect(),
                                exchange: None,
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
                let _ = tx.send(match edit_in_editor(&text) {
                    Ok(edited) => Action::Edited(edited),
                    Err(e) => Action::Status(format!("editor: {e}")),
                });
            }
            Effect::Copy(text) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                let mut out = std::io::stdout();
                let _ = write!(out, "\x1b]52;c;{encoded}\x07");
                let _ = out.flush();
                let _ = tx.send(Action::Status(format!(
                    "copied {} bytes (OSC 52)",
                    text.len()
                )));
            }
            Effect::Export { reveal } => {
                let exchanges = self
                    .exchanges
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let entries: Vec<_> = ledger.lock().await.entries().cloned().collect();
                let _ = tx.send(Action::Status(
                    match write_exports(&self.data_dir, &exchanges, &entries, reveal) {
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
            Effect::Quit => {}
        }
    }
}

/// Writes `<data>/exports/session-<time>.har` and `.json`; returns the path without extension.
pub fn write_exports(
    data_dir: &std::path::Path,
    exchanges: &[TargetResponse],
    entries: &[crate::ledger::Entry],
    reveal: bool,
) -> std::io::Result<PathBuf> {
    let dir = data_dir.join("exports");
    std::fs::create_dir_all(&dir)?;
    let stem = dir.join(format!("session-{}", crate::clock::now_ms()));
    let har = serde_json::to_vec_pretty(&export::har(exchanges, reveal))
        .map_err(std::io::Error::other)?;
    export::write_private(&stem.with_extension("har"), &har)?;
    let session = serde_json::to_vec_pretty(&export::session(exchanges, entries, reveal))
        .map_err(std::io::Error::other)?;
    export::write_private(&stem.with_extension("json"), &session)?;
    Ok(stem)
}

/// Leaves the TUI, runs `$EDITOR` on the text, comes back with what was saved.
fn edit_in_editor(text: &str) -> std::io::Result<String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    suspend();
    let edited = edit_with(&editor, text);
    resume(true);
    edited
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
                Some(Ok(Event::Resize(_, _))) => Action::Tick,
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
