//! The log: `tracing` events written to `<data dir>/log/mboxscope.log` (rotated at
//! [`MAX_BYTES`], [`KEPT_FILES`] old files kept) through a non-blocking writer, with every known
//! secret replaced, and the most recent entries kept in memory for the TUI's message log.

use crate::cli::common::LogLevel;
use crate::target::TargetArgs;
use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// A log file is rotated when it reaches this size.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Rotated files kept beside the current one (`mboxscope.log.1` …).
pub const KEPT_FILES: usize = 3;
/// Entries [`recent`] can return.
pub const RECENT_CAPACITY: usize = 500;
/// What replaces a secret in the log.
const HIDDEN: &str = "[secret]";

/// Why the log could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("no data directory could be found for this user; pass --data-dir DIR")]
    NoDataDir,
    #[error("cannot write the log {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("a log is already set up in this process")]
    AlreadySet,
}

/// The running log: where it writes; dropping it writes out what is still queued.
pub struct LogHandle {
    path: PathBuf,
    _flush: tracing_appender::non_blocking::WorkerGuard,
}

impl LogHandle {
    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The log file under a data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("log").join("mboxscope.log")
}

/// Where the log is written by default, for `--help`: under `MBOXSCOPE_DATA_DIR` when it is
/// set (as `--data-dir` reads it), else under the user's data directory.
pub fn describe_default_path() -> String {
    if let Some(dir) = std::env::var_os("MBOXSCOPE_DATA_DIR").filter(|d| !d.is_empty()) {
        return format!(
            "{} (MBOXSCOPE_DATA_DIR; under --data-dir DIR when given)",
            path_in(Path::new(&dir)).display()
        );
    }
    match crate::config::default_data_dir() {
        Some(dir) => format!(
            "{} (under --data-dir DIR when given)",
            path_in(&dir).display()
        ),
        None => "log/mboxscope.log under --data-dir DIR".to_string(),
    }
}

/// Starts the log of a command: the file, and also stderr at `debug` and `trace`.
pub fn init(data_dir: Option<&Path>, level: LogLevel) -> Result<LogHandle, LogError> {
    let echo = matches!(level, LogLevel::Debug | LogLevel::Trace);
    start(data_dir, level, echo)
}

/// Starts the log of the TUI: the file only (the terminal is the TUI's); [`recent`] gives
/// the entries to show in its message log.
pub fn init_for_tui(data_dir: Option<&Path>, level: LogLevel) -> Result<LogHandle, LogError> {
    start(data_dir, level, false)
}

fn start(data_dir: Option<&Path>, level: LogLevel, echo: bool) -> Result<LogHandle, LogError> {
    let dir = data_dir
        .map(Path::to_path_buf)
        .or_else(crate::config::default_data_dir)
        .ok_or(LogError::NoDataDir)?;
    let path = path_in(&dir);
    let io = |source| LogError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    // Opened once here so that a file that cannot be written is an error, not a panic later.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io)?;
    let file = file_rotate::FileRotate::new(
        &path,
        file_rotate::suffix::AppendCount::new(KEPT_FILES),
        file_rotate::ContentLimit::BytesSurpassed(MAX_BYTES),
        file_rotate::compression::Compression::None,
        None,
    );
    // A small queue (the default, 128,000 lines, costs megabytes at every start); a line that
    // finds it full is dropped, never waited for.
    let (writer, flush) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(4096)
        .lossy(true)
        .finish(file);
    let level = LevelFilter::from(level);
    // Our own events at the chosen level; the libraries' only when they warn.
    let filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level))
        .with_target("mboxscope", level);
    let file_layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Redacting(writer));
    let recent_layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(RecentWriter);
    let stderr_layer = echo.then(|| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| Redacting(std::io::stderr()))
    });
    let subscriber = tracing_subscriber::registry()
        .with(file_layer)
        .with(recent_layer)
        .with(stderr_layer)
        .with(filter);
    tracing::subscriber::set_global_default(subscriber).map_err(|_| LogError::AlreadySet)?;
    tracing::info!(version = env!("MBOXSCOPE_VERSION"), "mboxscope started");
    Ok(LogHandle {
        path,
        _flush: flush,
    })
}

impl From<LogLevel> for LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

/// The secrets no log line may show.
fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Keeps `secret` out of the log from now on (replaced by a marker wherever it appears).
pub fn keep_secret(secret: &str) {
    // Too short a value would hide ordinary text and protect nothing.
    if secret.len() < 4 {
        return;
    }
    let mut secrets = secrets().lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_string());
        // Longest first, so a secret containing another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Keeps the tokens the target's flags, environment and profile name out of the log: trace
/// and property tokens, and the QA link's preview token.
pub fn keep_secrets_of(target: &TargetArgs) {
    let mut profiles = vec![target.as_profile()];
    if let Ok(resolved) = target.resolve() {
        profiles.push(resolved);
    }
    for p in &profiles {
        for token in [&p.trace_token, &p.property_token].into_iter().flatten() {
            keep_secret(token);
        }
    }
    if let Some(qa) = target
        .qa_url
        .as_deref()
        .and_then(|url| crate::delivery::qa_mode_from_url(url).ok())
    {
        for token in qa.token.iter() {
            keep_secret(token);
        }
    }
}

/// `text` with every known secret replaced.
pub fn redact(text: &str) -> String {
    let secrets = secrets().lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), HIDDEN);
        }
    }
    out
}

/// A writer that hides the secrets in what goes through it (the formatter writes one event
/// per call, so no secret is split between two writes).
struct Redacting<W>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .write_all(redact(&String::from_utf8_lossy(buf)).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<'a> MakeWriter<'a> for Redacting<tracing_appender::non_blocking::NonBlocking> {
    type Writer = Redacting<tracing_appender::non_blocking::NonBlocking>;

    fn make_writer(&'a self) -> Self::Writer {
        Redacting(self.0.clone())
    }
}

/// The most recent entries, oldest first.
fn ring() -> &'static Mutex<VecDeque<String>> {
    static RING: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();
    RING.get_or_init(|| Mutex::new(VecDeque::with_capacity(RECENT_CAPACITY)))
}

/// Writes each event into the ring of recent entries.
struct RecentWriter;

impl Write for RecentWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let entry = redact(String::from_utf8_lossy(buf).trim_end());
        let mut ring = ring().lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() == RECENT_CAPACITY {
            ring.pop_front();
        }
        ring.push_back(entry);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RecentWriter {
    type Writer = RecentWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RecentWriter
    }
}

/// The last `n` log entries (at most [`RECENT_CAPACITY`]), oldest first, secrets hidden.
pub fn recent(n: usize) -> Vec<String> {
    let ring = ring().lock().unwrap_or_else(|e| e.into_inner());
    ring.iter()
        .skip(ring.len().saturating_sub(n))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_longest_first() {
        keep_secret("tok");
        keep_secret("secret-token");
        keep_secret("secret-token-2");
        assert_eq!(
            redact("a secret-token-2 b secret-token tok"),
            "a [secret] b [secret] tok"
        );
    }

    #[test]
    fn recent_entries_are_the_last_ones_in_order() {
        for i in 0..(RECENT_CAPACITY + 3) {
            let _ = RecentWriter.write(format!("entry {i}\n").as_bytes());
        }
        let last = recent(2);
        assert_eq!(
            last,
            vec![
                format!("entry {}", RECENT_CAPACITY + 1),
                format!("entry {}", RECENT_CAPACITY + 2)
            ]
        );
        assert_eq!(recent(10_000).len(), RECENT_CAPACITY);
    }
}
