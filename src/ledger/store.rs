//! Where journals live: one per client and target under `<data dir>/ledger/`, named so that the
//! same target always finds the same journal (the built-in emulator included), and listed with
//! their sizes and last use.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The server label of the TUI's built-in emulator (its port changes every run; its journal
/// must not).
pub const BUILT_IN: &str = "built-in-emulator";

/// The journal file of a target under `data_dir`.
pub fn journal_path(data_dir: &Path, client_code: Option<&str>, server: &str) -> PathBuf {
    let name = format!("{}@{}", client_code.unwrap_or("-"), server);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    journals_dir(data_dir).join(format!("{safe}.jsonl"))
}

/// A journal's file name as another process gave it (a proxy's target): the same name under
/// this data directory, when it is a plain journal name and that journal exists here; never a
/// path the other process chose.
pub fn same_journal_here(data_dir: &Path, theirs: &Path) -> Option<PathBuf> {
    let name = theirs.file_name()?.to_str()?;
    let plain = name.ends_with(".jsonl")
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    let here = journals_dir(data_dir).join(name);
    (plain && here.is_file()).then_some(here)
}

fn journals_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("ledger")
}

/// A journal on disk.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JournalFile {
    pub path: PathBuf,
    /// `client@server`, as the file is named.
    pub name: String,
    pub bytes: u64,
    /// Last written, ms since the epoch.
    pub modified_ms: i64,
}

/// Every journal under `data_dir`, most recently written first (nothing is created).
pub fn list(data_dir: &Path) -> Vec<JournalFile> {
    let Ok(dir) = std::fs::read_dir(journals_dir(data_dir)) else {
        return Vec::new();
    };
    let mut files: Vec<JournalFile> = dir
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".jsonl")?
                .to_string();
            let meta = entry.metadata().ok().filter(|m| m.is_file())?;
            let modified_ms = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis() as i64);
            Some(JournalFile {
                path,
                name,
                bytes: meta.len(),
                modified_ms,
            })
        })
        .collect();
    files.sort_by(|a, b| b.modified_ms.cmp(&a.modified_ms).then(a.name.cmp(&b.name)));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_safe_and_listing_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(list(dir.path()).is_empty());
        assert!(!dir.path().join("ledger").exists());
        let a = journal_path(dir.path(), Some("demo"), BUILT_IN);
        assert_eq!(a, journal_path(dir.path(), Some("demo"), BUILT_IN));
        assert_eq!(
            a.file_name().unwrap().to_str().unwrap(),
            "demo@built-in-emulator.jsonl"
        );
        let b = journal_path(dir.path(), None, "http://127.0.0.1:8080/../x");
        assert_eq!(b.parent(), a.parent(), "no way out of the ledger directory");
        std::fs::create_dir_all(a.parent().unwrap()).unwrap();
        std::fs::write(&a, "{}\n").unwrap();
        std::fs::write(a.with_file_name("notes.txt"), "x").unwrap();
        let found = list(dir.path());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "demo@built-in-emulator");
        assert_eq!(found[0].bytes, 3);
    }
}
