//! Named profiles (TOML in the config dir) < `MBOXSCOPE_*` environment variables < flags.

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
    #[error("no profile named {0:?} (see `mboxscope profile list`)")]
    UnknownProfile(String),
    #[error("{name}={value:?}: {message}")]
    BadValue {
        name: String,
        value: String,
        message: String,
    },
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

    /// The profile the `MBOXSCOPE_*` environment variables describe.
    pub fn from_env() -> Result<Profile, ConfigError> {
        Profile::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Profile, ConfigError> {
        let number = |name: &str| -> Result<Option<i64>, ConfigError> {
            var(name)
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|e| ConfigError::BadValue {
                        name: name.into(),
                        value: v.clone(),
                        message: e.to_string(),
                    })
                })
                .transpose()
        };
        Ok(Profile {
            client_code: var("MBOXSCOPE_CLIENT"),
            org_id: var("MBOXSCOPE_ORG_ID"),
            server: var("MBOXSCOPE_SERVER"),
            property_token: var("MBOXSCOPE_PROPERTY_TOKEN"),
            environment_id: number("MBOXSCOPE_ENVIRONMENT_ID")?,
            location_hint: var("MBOXSCOPE_LOCATION_HINT"),
            trace_token: var("MBOXSCOPE_TRACE_TOKEN"),
            timeout_ms: number("MBOXSCOPE_TIMEOUT_MS")?.map(|v| v.max(1) as u64),
            user_agent: var("MBOXSCOPE_USER_AGENT"),
            channel: var("MBOXSCOPE_CHANNEL"),
            page_url: var("MBOXSCOPE_PAGE_URL"),
        })
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
            Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.display().to_string(),
                message: e.message().to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(source) => Err(ConfigError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the file, readable by its owner only (it holds tokens).
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let io = |source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let tmp = path.with_extension("toml.tmp");
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp).map_err(io)?;
            file.write_all(text.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// A named profile.
    pub fn profile(&self, name: &str) -> Result<Profile, ConfigError> {
        self.profiles
            .get(name)
            .cloned()
            .ok_or_else(|| ConfigError::UnknownProfile(name.to_string()))
    }
}

/// The effective settings: the profile (if named) under the environment under the flags.
pub fn resolve(
    file: &ConfigFile,
    profile: Option<&str>,
    env: Profile,
    flags: Profile,
) -> Result<Profile, ConfigError> {
    let base = match profile {
        Some(name) => file.profile(name)?,
        None => Profile::default(),
    };
    Ok(base.overlay(env).overlay(flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_env_over_profile() {
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
        let env = Profile::from_vars(|n| match n {
            "MBOXSCOPE_CLIENT" => Some("env".into()),
            "MBOXSCOPE_TIMEOUT_MS" => Some("2000".into()),
            _ => None,
        })
        .unwrap();
        let flags = Profile {
            timeout_ms: Some(3),
            ..Default::default()
        };
        let p = resolve(&file, Some("staging"), env, flags).unwrap();
        assert_eq!(p.client_code.as_deref(), Some("env"));
        assert_eq!(p.org_id.as_deref(), Some("org"));
        assert_eq!(p.timeout_ms, Some(3));
        assert!(matches!(
            resolve(&file, Some("nope"), Profile::default(), Profile::default()),
            Err(ConfigError::UnknownProfile(_))
        ));
        assert!(
            Profile::from_vars(|n| (n == "MBOXSCOPE_TIMEOUT_MS").then(|| "soon".into())).is_err()
        );
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
            Err(ConfigError::Parse { .. })
        ));
    }
}
