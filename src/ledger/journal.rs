//! The journal file: JSON Lines, one event a line, fsync'd before anything is sent.
//! A torn last line (a crash mid-write) is reported and cut off on open.

use super::event::Event;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

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
}

/// An append-only, fsync'd JSON Lines file.
pub struct Journal {
    path: PathBuf,
    file: File,
}

/// What opening a journal found.
#[derive(Debug, Default)]
pub struct Recovery {
    pub events: Vec<Event>,
    /// Bytes of a torn last line that were cut off.
    pub torn_bytes: Option<usize>,
}

impl Journal {
    /// Opens (creating) the journal at `path` and reads its events. A last line without its
    /// newline or that is not a whole event is a torn write: it is reported and removed.
    pub fn open(path: &Path) -> Result<(Journal, Recovery), JournalError> {
        let io = |source| JournalError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let mut recovery = Recovery::default();
        let mut good_end = 0usize;
        let mut line_no = 0usize;
        let mut start = 0usize;
        while start < bytes.len() {
            line_no += 1;
            let (line, next, complete) = match bytes[start..].iter().position(|b| *b == b'\n') {
                Some(i) => (&bytes[start..start + i], start + i + 1, true),
                None => (&bytes[start..], bytes.len(), false),
            };
            let is_last = next == bytes.len();
            if complete && line.iter().all(u8::is_ascii_whitespace) {
                good_end = next;
                start = next;
                continue;
            }
            match serde_json::from_slice::<Event>(line) {
                Ok(event) if complete => {
                    recovery.events.push(event);
                    good_end = next;
                }
                _ if is_last => {
                    recovery.torn_bytes = Some(bytes.len() - start);
                    break;
                }
                Err(e) => {
                    return Err(JournalError::Corrupt {
                        path: path.display().to_string(),
                        line: line_no,
                        message: e.to_string(),
                    })
                }
                Ok(_) => unreachable!("only the last line can lack its newline"),
            }
            start = next;
        }
        if good_end < bytes.len() {
            file.set_len(good_end as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok((
            Journal {
                path: path.to_path_buf(),
                file,
            },
            recovery,
        ))
    }

    /// Appends events and fsyncs them to disk before returning.
    pub fn append(&mut self, events: &[Event]) -> Result<(), JournalError> {
        if events.is_empty() {
            return Ok(());
        }
        let io = |source| JournalError::Io {
            path: self.path.display().to_string(),
            source,
        };
        let mut buf = Vec::with_capacity(events.len() * 256);
        for event in events {
            serde_json::to_writer(&mut buf, event).map_err(|e| io(std::io::Error::other(e)))?;
            buf.push(b'\n');
        }
        self.file.write_all(&buf).map_err(io)?;
        self.file.sync_data().map_err(io)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
