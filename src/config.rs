//! Named profiles (TOML in the config dir) < `MBOXSCOPE_*` environment variables < flags
//! (clap reads the variables with the flags).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why the configuration could not be read or written.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a valid profiles file: {message}")]
    Parse { path: String, message: String },
    #[error("{path}:{line}: {field}: {message}")]
    BadField {
        path: String,
        line: usize,
        field: String,
        message: String,
    },
    #[error("no profile named {0:?} (see `mboxscope profile list`)")]
    UnknownProfile(String),
    #[error("no configuration directory could be found for this user; pass --config FILE")]
    NoConfigDir,
}

/// One target's settings; every field optional so layers can be merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub client_code: Option<String>,
    pub org_id: Option<String>,
    pub server: Option<String>,
    pub property_token: Option<String>,
    pub environment_id: Option<i64>,
    pub location_hint: Option<String>,
    pub trace_token: Option<String>,
    pub timeout_ms: Option<u64>,
    pub user_agent: Option<String>,
    pub channel: Option<String>,
    pub page_url: Option<String>,
}

impl Profile {
    /// `other`'s fields where it has them, else `self`'s.
    pub fn overlay(self, other: Profile) -> Profile {
        Profile {
            client_code: other.client_code.or(self.client_code),
            org_id: other.org_id.or(self.org_id),
            server: other.server.or(self.server),
            property_token: other.property_token.or(self.property_token),
            environment_id: other.environment_id.or(self.environment_id),
            location_hint: other.location_hint.or(self.location_hint),
            trace_token: other.trace_token.or(self.trace_token),
            timeout_ms: other.timeout_ms.or(self.timeout_ms),
            user_agent: other.user_agent.or(self.user_agent),
            channel: other.channel.or(self.channel),
            page_url: other.page_url.or(self.page_url),
        }
    }
}

/// The profiles file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// The default profiles file: `config.toml` in the user's config directory.
pub fn default_config_path() -> Result<PathBuf, ConfigError> {
    directories::ProjectDirs::from("", "", "mboxscope")
        .map(|d| d.config_dir().join("config.toml"))
        .ok_or(ConfigError::NoConfigDir)
}

/// The default data directory (ledgers, exports).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mboxscope").map(|d| d.data_dir().to_path_buf())
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| where_in(path, &text, &e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(source) => Err(ConfigError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the file, readable by its owner only (it holds tokens): a new file in the
    /// directory of the file `path` names (through symlinks, which stay), renamed over it.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let io = |source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        };
        let real = follow_symlinks(path).map_err(io)?;
        let dir = match real.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        // A unique name, created 0600: concurrent writers never share a temporary file.
        let mut tmp = tempfile::Builder::new()
            .prefix(".config.")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io)?;
        {
            use std::io::Write;
            tmp.write_all(text.as_bytes()).map_err(io)?;
            tmp.as_file().sync_all().map_err(io)?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
        tmp.persist(&real).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Reads, changes and writes the file with no other `update` in between (an advisory lock
    /// on `<file>.lock` beside the real file), so concurrent saves all land.
    pub fn update(
        path: &Path,
        change: impl FnOnce(&mut ConfigFile),
    ) -> Result<ConfigFile, ConfigError> {
        let io = |source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        };
        let real = follow_symlinks(path).map_err(io)?;
        if let Some(dir) = real.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut lock_path = real.clone().into_os_string();
        lock_path.push(".lock");
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let lock = options.open(&lock_path).map_err(io)?;
        lock.lock().map_err(io)?;
        let mut file = ConfigFile::load(&real)?;
        change(&mut file);
        file.save(&real)?;
        drop(lock);
        Ok(file)
    }

    /// A named profile.
    pub fn profile(&self, name: &str) -> Result<Profile, ConfigError> {
        self.profiles
            .get(name)
            .cloned()
            .ok_or_else(|| ConfigError::UnknownProfile(name.to_string()))
    }
}

/// The file `path` names, through any symlinks (relative ones from their own directory).
fn follow_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) => dir.join(target),
                    None => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// A parse error of the file at `path`, with the line and the field (`profiles.NAME.KEY`) it
/// is about when the parser says where.
fn where_in(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let path = path.display().to_string();
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return ConfigError::Parse { path, message };
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let this_line = text.lines().nth(line - 1).unwrap_or_default();
    let key = this_line
        .split_once('=')
        .map(|(key, _)| key.trim().trim_matches('"').to_string())
        .filter(|key| !key.is_empty() && !key.starts_with('['));
    // The table the line is in: the last `[header]` above it.
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let field = match (table, key) {
        (Some(table), Some(key)) => format!("{table}.{key}"),
        (None, Some(key)) => key,
        (Some(table), None) => table,
        (None, None) => "(top level)".to_string(),
    };
    ConfigError::BadField {
        path,
        line,
        field,
        message,
    }
}

/// The effective settings: the profile (if named) under the flags (and the environment
/// variables clap read for them).
pub fn resolve(
    file: &ConfigFile,
    profile: Option<&str>,
    flags: Profile,
) -> Result<Profile, ConfigError> {
    let base = match profile {
        Some(name) => file.profile(name)?,
        None => Profile::default(),
    };
    Ok(base.overlay(flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_profile() {
        let mut file = ConfigFile::default();
        file.profiles.insert(
            "staging".into(),
            Profile {
                client_code: Some("file".into()),
                org_id: Some("org".into()),
                timeout_ms: Some(1),
                ..Default::default()
            },
        );
        let flags = Profile {
            client_code: Some("flag".into()),
            timeout_ms: Some(3),
            ..Default::default()
        };
        let p = resolve(&file, Some("staging"), flags).unwrap();
        assert_eq!(p.client_code.as_deref(), Some("flag"));
        assert_eq!(p.org_id.as_deref(), Some("org"));
        assert_eq!(p.timeout_ms, Some(3));
        assert!(matches!(
            resolve(&file, Some("nope"), Profile::default()),
            Err(ConfigError::UnknownProfile(_))
        ));
    }

    #[test]
    fn a_bad_value_is_reported_with_its_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = "[profiles.staging]\nclient_code = \"acme\"\ntimeout_ms = \"soon\"\n";
        std::fs::write(&path, text).unwrap();
        let message = ConfigFile::load(&path).unwrap_err().to_string();
        let expected = format!("{}:3: profiles.staging.timeout_ms: ", path.display());
        assert!(message.starts_with(&expected), "{message}");
    }

    #[test]
    fn saved_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let mut file = ConfigFile::default();
        file.profiles.insert(
            "p".into(),
            Profile {
                trace_token: Some("secret".into()),
                ..Default::default()
            },
        );
        file.save(&path).unwrap();
        assert_eq!(ConfigFile::load(&path).unwrap(), file);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::write(&path, "profiles = 3").unwrap();
        assert!(matches!(
            ConfigFile::load(&path),
            Err(ConfigError::BadField { line: 1, .. })
        ));
    }
}
