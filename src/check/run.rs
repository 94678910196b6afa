//! Running checks: each target made ready once (the built-in emulator started in process when
//! a scenario names none), then every check of every file at most `concurrency` at a time.

use super::counts;
use super::expect;
use super::http::PlainHttp;
use super::scenario::{Check, Place, Scenario, ScenarioError};
use super::skeleton::Skeleton;
use crate::client::{ClientError, Server, TargetClient, TargetResponse, Visitor};
use crate::delivery::{clicks_for, displays_for, Location, Mode, Notifiable, RequestSpec};
use crate::emulator::http::{spawn, Faults, Server as EmulatorServer};
use crate::emulator::{Emulator, DEMO_ARTIFACT};
use crate::ledger::{compare::fetch_report, Event, Ledger, NewNotification, PageView};
use crate::target::{TargetArgs, TargetError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Why checks could not start.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// A target the checks run against.
pub struct Target {
    client: TargetClient,
    /// The prefetches of checks that do not notify, when the target is `http://`.
    plain: Option<PlainHttp>,
    /// The target's request parts (profile's property token, A4T logging, …).
    base: RequestSpec,
    /// Where `/report` is asked for (the built-in emulator, a server given as a URL).
    report_base: Option<String>,
    /// Whether `/report` must answer (the built-in emulator always does).
    built_in: bool,
    journal: PathBuf,
    /// Opened by the first check that notifies; held by one such check at a time, so what
    /// `/report` moved between its two reads is that check's doing.
    ledger: Mutex<Option<Ledger>>,
    emulator: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(task) = &self.emulator {
            task.abort();
        }
    }
}

impl Target {
    /// The target of `scenario`: the command line's target flags when they name one, else the
    /// file's `[target]`, else the built-in emulator on the demo artifact. `clock` freezes a
    /// built-in emulator's clock (ms since the epoch).
    pub async fn connect(
        args: &TargetArgs,
        scenario: &Scenario,
        clock: Option<i64>,
    ) -> Result<Target, CheckError> {
        let section = &scenario.target;
        let mut args = args.clone();
        let flags_name_one =
            args.server.is_some() || args.client_code.is_some() || args.profile.is_some();
        if !flags_name_one {
            args.server = section.server.clone();
            args.client_code = section.client.clone();
            args.profile = section.profile.clone();
        }
        let at = |message: String| ScenarioError {
            file: scenario.path.clone(),
            line: scenario.target_line,
            message,
        };
        let profile = args.resolve().map_err(|e| at(e.to_string()))?;
        let built_in = profile.server.is_none() && profile.client_code.is_none();
        let mut emulator = None;
        if built_in {
            let (bytes, location) = match &section.artifact {
                Some(path) if !flags_name_one => {
                    let path = scenario
                        .path
                        .parent()
                        .map_or_else(|| path.clone(), |dir| dir.join(path));
                    let bytes = std::fs::read(&path)
                        .map_err(|e| at(format!("artifact {}: {e}", path.display())))?;
                    (bytes, path.display().to_string())
                }
                _ => (
                    DEMO_ARTIFACT.to_vec(),
                    "assets/demo/rules.json (built in)".into(),
                ),
            };
            let local = Emulator::new(&bytes, args.org_id.as_deref(), &location)
                .map_err(|e| at(format!("artifact {location}: {e}")))?
                .with_clock(clock);
            args.client_code = Some(local.client_code().to_string());
            let server = Arc::new(EmulatorServer {
                emulator: Arc::new(local),
                faults: Faults::default(),
                log: false,
            });
            let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let (base, task) = spawn(server, loopback)
                .await
                .map_err(|e| at(format!("the built-in emulator cannot listen: {e}")))?;
            args.server = Some(base);
            emulator = Some(task);
        }
        let profile = args.resolve()?;
        // Thousands of calls: each at debug; failures and the summary are what the log keeps.
        let client = args.client(&profile)?.with_calls_logged_at_debug();
        let server = &client.settings().server;
        let report_base = match server {
            Server::Url(url) => Some(url.clone()),
            _ => None,
        };
        let journal = crate::ledger::store::journal_path(
            &args.data_dir()?,
            client.settings().client_code.as_deref(),
            &if built_in {
                crate::ledger::store::BUILT_IN.to_string()
            } else {
                server.describe()
            },
        );
        Ok(Target {
            base: args.request_spec(&profile, Mode::Prefetch)?,
            plain: PlainHttp::for_client(&client),
            client,
            report_base,
            built_in,
            journal,
            ledger: Mutex::new(None),
            emulator,
        })
    }
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Passed,
    /// What was expected and what came, one line each.
    Failed(Vec<String>),
    /// Target or HTTP error (or the journal could not be written).
    Error(String),
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub file: PathBuf,
    pub line: usize,
    pub name: String,
    pub verdict: Verdict,
    pub visitors: usize,
    pub elapsed: Duration,
}

/// Runs every check, at most `concurrency` at once: that many tasks, each taking the next
/// check when it is done with one (no task, join handle or copy of its name per check).
/// `on_result` sees each result in the files' order as soon as those before it are done.
/// Returns them all, in that order. A check that panics is an error of its own; the others
/// go on.
pub async fn run_all(
    checks: Vec<(Arc<Target>, Check)>,
    concurrency: usize,
    mut on_result: impl FnMut(&CheckResult),
) -> Vec<CheckResult> {
    use futures::FutureExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let total = checks.len();
    let checks = Arc::new(checks);
    let next = Arc::new(AtomicUsize::new(0));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    // Aborted when dropped: a run given up stops its checks.
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, total.max(1)) {
        let (checks, next, done_tx) = (checks.clone(), next.clone(), done_tx.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((target, check)) = checks.get(i) else {
                    break;
                };
                let result = std::panic::AssertUnwindSafe(run_one(target, check))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| stopped(check, &*panic));
                if done_tx.send((i, result)).is_err() {
                    break;
                }
            }
        });
    }
    drop(done_tx);
    let mut done: Vec<Option<CheckResult>> = vec![None; total];
    let mut next_out = 0;
    while let Some((i, result)) = done_rx.recv().await {
        done[i] = Some(result);
        while let Some(Some(result)) = done.get(next_out) {
            on_result(result);
            next_out += 1;
        }
    }
    done.into_iter().flatten().collect()
}

/// The result of a check that panicked.
fn stopped(check: &Check, panic: &(dyn std::any::Any + Send)) -> CheckResult {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    CheckResult {
        file: check.file.clone(),
        line: check.line,
        name: check.name.clone(),
        verdict: Verdict::Error(format!("the check stopped: {why}")),
        visitors: 0,
        elapsed: Duration::ZERO,
    }
}

async fn run_one(target: &Target, check: &Check) -> CheckResult {
    let started = Instant::now();
    let mut verdict = Verdict::Passed;
    let mut visitors = 0;
    for n in 1..=check.visitors {
        visitors = n;
        let outcome = one_visitor(target, check).await;
        let which = |line: String| {
            if check.visitors > 1 {
                format!("visitor {n} of {}: {line}", check.visitors)
            } else {
                line
            }
        };
        match outcome {
            Verdict::Passed => continue,
            Verdict::Failed(lines) => {
                verdict = Verdict::Failed(lines.into_iter().map(which).collect())
            }
            Verdict::Error(line) => verdict = Verdict::Error(which(line)),
        }
        break;
    }
    CheckResult {
        file: check.file.clone(),
        line: check.line,
        name: check.name.clone(),
        verdict,
        visitors,
        elapsed: started.elapsed(),
    }
}

/// One fresh visitor (or the check's fixed one): prefetch, compare, and notify when asked.
async fn one_visitor(target: &Target, check: &Check) -> Verdict {
    let mut visitor = Visitor::fresh();
    visitor.tnt_id = check.tnt_id.clone();
    if let (Some(plain), false) = (&target.plain, check.notify || check.click) {
        return match prefetch_plain(target, plain, check, &visitor).await {
            Ok(failures) if failures.is_empty() => Verdict::Passed,
            Ok(failures) => Verdict::Failed(failures),
            Err(e) => Verdict::Error(e.to_string()),
        };
    }
    let request = check.request(&target.base);
    let exchange = match target.client.send(request, &visitor).await {
        Ok(exchange) => exchange,
        Err(e) => return Verdict::Error(e.to_string()),
    };
    let failures = match Skeleton::read(exchange.status, &exchange.response_body) {
        Ok(response) => expect::verify(&check.expectations, &response),
        Err(e) => return Verdict::Error(e.to_string()),
    };
    if !failures.is_empty() {
        return Verdict::Failed(failures);
    }
    if !(check.notify || check.click) {
        return Verdict::Passed;
    }
    match notify(target, check, &exchange).await {
        Ok(failures) if failures.is_empty() => Verdict::Passed,
        Ok(failures) => Verdict::Failed(failures),
        Err(e) => Verdict::Error(e),
    }
}

/// `check`'s prefetch over the target's plain HTTP client, logged as [`TargetClient::send`]
/// logs a bulk run's calls: the expectations the answer does not meet.
async fn prefetch_plain(
    target: &Target,
    plain: &PlainHttp,
    check: &Check,
    visitor: &Visitor,
) -> Result<Vec<String>, ClientError> {
    let request = check.request(&target.base);
    let request = target.client.prepare(request, visitor.tnt_id.as_deref());
    let body = serde_json::to_vec(&request).map_err(|e| ClientError::Config(e.to_string()))?;
    let answer = match plain.post(&visitor.session_id, body.into()).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(
                target = %target.client.settings().server.describe(),
                session = %visitor.session_id,
                retryable = e.is_retryable(),
                error = %e,
                "failed"
            );
            return Err(e);
        }
    };
    tracing::debug!(
        session = %visitor.session_id,
        status = answer.status,
        bytes = answer.body.len(),
        ms = answer.elapsed.as_millis() as u64,
        "answered"
    );
    let response =
        Skeleton::read(answer.status, &answer.body).map_err(|e| ClientError::NotJson {
            url: plain.url(&visitor.session_id),
            status: answer.status,
            reason: format!("{e}; body starts {}", crate::client::snippet(&answer.body)),
        })?;
    Ok(expect::verify(&check.expectations, &response))
}

fn at_places(n: &Notifiable, check: &Check) -> bool {
    check
        .expectations
        .iter()
        .any(|e| match (&n.location, &e.place) {
            (Location::PageLoad { .. }, Place::PageLoad) => true,
            (Location::Mbox { name, .. }, Place::Mbox(want))
            | (Location::View { name, .. }, Place::View(want)) => name == want,
            _ => false,
        })
}

/// Sends the displays (and clicks) of the expected locations through the ledger, expects them
/// acknowledged and, on a `mboxscope serve`, `/report` to move as the counting model says.
async fn notify(
    target: &Target,
    check: &Check,
    exchange: &TargetResponse,
) -> Result<Vec<String>, String> {
    let response = &exchange.response;
    let mut wanted: Vec<Notifiable> = Vec::new();
    if check.notify {
        wanted.extend(displays_for(response));
    }
    if check.click {
        wanted.extend(clicks_for(response));
    }
    wanted.retain(|n| at_places(n, check));
    if wanted.is_empty() {
        return Ok(vec![
            "nothing to notify: no option or click metric with an eventToken at the expected locations".into(),
        ]);
    }
    let mut guard = target.ledger.lock().await;
    let ledger = match &mut *guard {
        Some(ledger) => ledger,
        empty => {
            empty.insert(crate::target::open_ledger(&target.journal).map_err(|e| e.to_string())?)
        }
    };
    let before = match &target.report_base {
        Some(base) => match fetch_report(base).await {
            Ok(report) => Some(report),
            Err(e) if target.built_in => return Err(e),
            Err(_) => None,
        },
        None => None,
    };
    let event = crate::ledger::record::response_event(
        Mode::Prefetch,
        &exchange.request,
        &exchange.session_id,
        response,
    );
    let items = match &event {
        Event::Response(record) => record.items.clone(),
        _ => Vec::new(),
    };
    let page = PageView {
        request: Some(&exchange.request),
        response,
        session_id: &exchange.session_id,
    };
    let list: Vec<NewNotification> = wanted
        .into_iter()
        .map(|n| NewNotification::of_page_view(n, &page))
        .collect();
    ledger.record(vec![event]).map_err(|e| e.to_string())?;
    let ids: Vec<String> = ledger
        .queue_all(list, false)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|q| q.id().to_string())
        .collect();
    let policy = crate::ledger::deliver::RetryPolicy::default();
    let delivered = crate::ledger::deliver::deliver(ledger, &target.client, &ids, &policy)
        .await
        .map_err(|e| e.to_string())?;
    let mut failures: Vec<String> = delivered
        .pending
        .iter()
        .chain(&delivered.rejected)
        .map(|(id, reason)| {
            let what = ledger.entry(id).map_or_else(String::new, |e| {
                format!("{} {} ", e.kind.as_str(), e.location.label())
            });
            format!("notification {what}not acknowledged: {reason}")
        })
        .collect();
    if let (Some(before), Some(base)) = (before, &target.report_base) {
        let after = fetch_report(base).await?;
        let acked: Vec<&crate::ledger::Entry> = delivered
            .acked
            .iter()
            .filter_map(|id| ledger.entry(id))
            .collect();
        let expected = counts::expected(&items, &acked, after.bot_filter);
        let qa = exchange.request.qa_mode.is_some();
        failures.extend(counts::differences(
            &expected,
            &before,
            &after,
            qa,
            check.tnt_id.is_none(),
        ));
    }
    Ok(failures)
}

/// Reads every file, makes each distinct target ready once (a built-in emulator once per
/// `time` its checks ask for), and pairs every check with its target, in the files' order.
pub async fn prepare(
    args: &TargetArgs,
    files: &[PathBuf],
) -> Result<Vec<(Arc<Target>, Check)>, CheckError> {
    let mut targets: HashMap<(String, Option<i64>), Arc<Target>> = HashMap::new();
    let mut out = Vec::new();
    for path in files {
        let mut scenario = super::scenario::load(path)?;
        let checks = std::mem::take(&mut scenario.checks);
        out.reserve(checks.len());
        let artifact = scenario.target.artifact.as_ref().map(|a| {
            let full = scenario
                .path
                .parent()
                .map_or_else(|| a.clone(), |d| d.join(a));
            std::fs::canonicalize(&full).unwrap_or(full)
        });
        let key = serde_json::json!([
            scenario.target.profile,
            scenario.target.server,
            scenario.target.client,
            artifact
        ])
        .to_string();
        for check in checks {
            let clock = check.time_ms;
            let target = match targets.get(&(key.clone(), clock)) {
                Some(t) => t.clone(),
                None => {
                    let t = Arc::new(Target::connect(args, &scenario, clock).await?);
                    targets.insert((key.clone(), clock), t.clone());
                    t
                }
            };
            if clock.is_some() && !target.built_in {
                return Err(ScenarioError {
                    file: check.file.clone(),
                    line: check.line,
                    message: format!(
                        "check {:?}: time sets the built-in emulator's clock; this target keeps its own (leave out [target] and the target flags)",
                        check.name
                    ),
                }
                .into());
            }
            out.push((target, check));
        }
    }
    Ok(out)
}
