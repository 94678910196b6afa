//! The journal file: JSON Lines, one event a line, fsync'd before anything is sent, and shared
//! safely between processes. Writers hold an exclusive lock on the file while they read what
//! others appended and add their own lines, so two processes never queue the same notification
//! twice. Readers take no lock and never change the file: an incomplete last line is a write in
//! progress (or a crash's torn write) and is left alone; the next writer, holding the lock, knows
//! no one else is writing and cuts a torn line off.

use super::event::Event;
use crate::delivery::wire::WriteJson;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// How long [`Journal::lock_briefly`] waits for another process's lock.
pub const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(250);

/// A journal that could not be read or written.
#[derive(Debug, Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("journal {path}, line {line}: {message}")]
    Corrupt {
        path: String,
        line: usize,
        message: String,
    },
    #[error("no journal at {path}")]
    Missing { path: String },
    #[error("journal {path} is locked by another process")]
    Locked { path: String },
}

/// An append-only, fsync'd JSON Lines file.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Bytes read so far (always the end of a complete line).
    offset: u64,
    /// Lines read so far.
    lines: usize,
    writable: bool,
    /// The lines of the last append, kept so the next one writes into a buffer of that size
    /// (an observed page view's line is a few KB: a buffer grown per append copied them).
    scratch: Vec<u8>,
}

/// What reading a journal found.
#[derive(Debug, Default)]
pub struct Recovery {
    pub events: Vec<Event>,
    /// Bytes of an incomplete last line (a write in progress, or a crash's torn write).
    pub torn_bytes: Option<usize>,
    /// Complete lines of an event kind this version does not know (a newer mboxscope wrote
    /// them): skipped, never deleted.
    pub unknown_lines: usize,
}

/// The most buffer capacity a journal keeps between appends.
const MAX_KEPT_SCRATCH: usize = 4 << 20;

impl Journal {
    /// Opens (creating, readable by its owner only) the journal at `path` for reading and
    /// writing, and reads its events.
    pub fn open(path: &Path) -> Result<(Journal, Recovery), JournalError> {
        let io = io_error(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(io)?;
        Journal::read_all(path, file, true)
    }

    /// Opens an existing journal for reading only: creates nothing, writes nothing (works on a
    /// read-only data directory).
    pub fn open_read_only(path: &Path) -> Result<(Journal, Recovery), JournalError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JournalError::Missing {
                    path: path.display().to_string(),
                })
            }
            Err(e) => return Err(io_error(path)(e)),
        };
        Journal::read_all(path, file, false)
    }

    fn read_all(
        path: &Path,
        file: File,
        writable: bool,
    ) -> Result<(Journal, Recovery), JournalError> {
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            offset: 0,
            lines: 0,
            writable,
            scratch: Vec::new(),
        };
        let recovery = journal.read_new()?;
        Ok((journal, recovery))
    }

    /// Reads the complete lines appended since the last read (by this or another process).
    pub fn read_new(&mut self) -> Result<Recovery, JournalError> {
        let io = io_error(&self.path);
        self.file.seek(SeekFrom::Start(self.offset)).map_err(io)?;
        let mut bytes = Vec::new();
        (&self.file).read_to_end(&mut bytes).map_err(io)?;
        let (recovery, consumed) = parse_lines(&bytes, &mut self.lines, &self.path)?;
        self.offset += consumed as u64;
        Ok(recovery)
    }

    /// The events of the first `len` bytes of the file (what this journal has read so far,
    /// when `len` is [`offset`](Self::offset)), read afresh.
    pub fn reread(&self, len: u64) -> Result<Vec<Event>, JournalError> {
        let io = io_error(&self.path);
        let mut bytes = Vec::new();
        (&self.file)
            .seek(SeekFrom::Start(0))
            .and_then(|_| (&self.file).take(len).read_to_end(&mut bytes))
            .map_err(io)?;
        Ok(parse_lines(&bytes, &mut 0, &self.path)?.0.events)
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Takes the exclusive lock (waiting for other writers), cuts a torn last line off (no one
    /// else can be writing now) and returns what others appended since the last read. Every
    /// `lock` must be followed by [`unlock`](Self::unlock).
    pub fn lock(&mut self) -> Result<Recovery, JournalError> {
        self.lock_with(|file, path| file.lock().map_err(io_error(path)))
    }

    /// [`lock`](Self::lock) without waiting: [`JournalError::Locked`] while another process
    /// holds the lock.
    pub fn try_lock(&mut self) -> Result<Recovery, JournalError> {
        self.lock_with(|file, path| {
            file.try_lock().map_err(|e| match e {
                std::fs::TryLockError::WouldBlock => JournalError::Locked {
                    path: path.display().to_string(),
                },
                std::fs::TryLockError::Error(e) => io_error(path)(e),
            })
        })
    }

    /// [`try_lock`](Self::try_lock), tried again for up to [`LOCK_PATIENCE`]: another process
    /// (a TUI writing its own notifications) holds the lock for a moment only.
    pub fn lock_briefly(&mut self) -> Result<Recovery, JournalError> {
        let deadline = std::time::Instant::now() + LOCK_PATIENCE;
        loop {
            match self.try_lock() {
                Err(JournalError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                other => return other,
            }
        }
    }

    fn lock_with(
        &mut self,
        take: impl FnOnce(&File, &Path) -> Result<(), JournalError>,
    ) -> Result<Recovery, JournalError> {
        if !self.writable {
            return Err(io_error(&self.path)(std::io::Error::other(
                "opened read-only",
            )));
        }
        take(&self.file, &self.path)?;
        let caught_up = self.read_new().and_then(|recovery| {
            if recovery.torn_bytes.is_some() {
                self.file
                    .set_len(self.offset)
                    .map_err(io_error(&self.path))?;
                self.file.sync_all().map_err(io_error(&self.path))?;
            }
            Ok(recovery)
        });
        if caught_up.is_err() {
            self.unlock();
        }
        caught_up
    }

    /// Releases the lock.
    pub fn unlock(&mut self) {
        let _ = self.file.unlock();
    }

    /// Appends events and fsyncs them before returning; call between [`lock`](Self::lock) and
    /// [`unlock`](Self::unlock).
    pub fn append(&mut self, events: &[Event]) -> Result<(), JournalError> {
        if events.is_empty() {
            return Ok(());
        }
        let io = io_error(&self.path);
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        for event in events {
            event
                .write_json(&mut buf)
                .map_err(|e| io(std::io::Error::other(e)))?;
            buf.push(b'\n');
        }
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        let length = buf.len() as u64;
        if buf.capacity() <= MAX_KEPT_SCRATCH {
            self.scratch = buf;
        }
        if let Err(e) = written {
            // Leave no half line behind for the others to trip over.
            let _ = self.file.set_len(self.offset);
            return Err(io(e));
        }
        self.offset += length;
        self.lines += events.len();
        Ok(())
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Parses the complete lines of `bytes` (counting them in `lines`); returns what they hold and
/// how many bytes they take.
fn parse_lines(
    bytes: &[u8],
    lines: &mut usize,
    path: &Path,
) -> Result<(Recovery, usize), JournalError> {
    let mut recovery = Recovery::default();
    let mut start = 0usize;
    while let Some(len) = bytes[start..].iter().position(|b| *b == b'\n') {
        let line = &bytes[start..start + len];
        *lines += 1;
        start += len + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(line) {
            Ok(event) => recovery.events.push(event),
            Err(_) if is_unknown_kind(line) => recovery.unknown_lines += 1,
            Err(e) => {
                return Err(JournalError::Corrupt {
                    path: path.display().to_string(),
                    line: *lines,
                    message: e.to_string(),
                })
            }
        }
    }
    if start < bytes.len() {
        recovery.torn_bytes = Some(bytes.len() - start);
    }
    Ok((recovery, start))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> JournalError + Copy + '_ {
    move |source| JournalError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Whether a line is a well-formed event of a kind this version does not know.
fn is_unknown_kind(line: &[u8]) -> bool {
    const KNOWN: [&str; 6] = ["queued", "sent", "acked", "failed", "response", "leftOut"];
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("event")?.as_str().map(str::to_string))
        .is_some_and(|kind| !KNOWN.contains(&kind.as_str()))
}
