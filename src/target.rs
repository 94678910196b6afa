//! Where Target is and who the visitor is: the flags every face shares, resolved with the
//! profile file and the environment into the target's settings, and the one place that builds
//! a target's client and ledger. The CLI maps its errors to exit codes, the TUI to messages.

use crate::client::{ClientSettings, Server, TargetClient, Visitor};
use crate::config::{self, ConfigFile, Profile};
use crate::delivery::{qa_mode_from_url, CustomerId, MboxSpec, Mode, RequestSpec, VisitorId};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Why a target could not be resolved, reached or journaled (bad flags, profile or files).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

impl TargetError {
    /// An error with this message.
    pub fn new(message: impl std::fmt::Display) -> Self {
        TargetError(message.to_string())
    }
}

/// Whether A4T payloads are returned to the caller or logged by Target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyticsLogging {
    ClientSide,
    ServerSide,
}

/// Where to find Target and who the visitor is: the flags of every command that talks to a
/// target, under the help headings "Target" and "Visitor".
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// Delivery API base URL (e.g. http://127.0.0.1:8080) or server domain.
    #[arg(long, env = "MBOXSCOPE_SERVER", value_name = "URL|DOMAIN")]
    pub server: Option<String>,
    /// Target client code.
    #[arg(long = "client", env = "MBOXSCOPE_CLIENT", value_name = "CODE")]
    pub client_code: Option<String>,
    /// Experience Cloud organization id (…@AdobeOrg).
    #[arg(long, env = "MBOXSCOPE_ORG_ID", value_name = "ORG")]
    pub org_id: Option<String>,
    /// A saved profile (see `mboxscope profile`).
    #[arg(long, env = "MBOXSCOPE_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// The profiles file (default: config.toml in the user's config directory).
    #[arg(long, env = "MBOXSCOPE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where ledgers, exports and the log are stored (default: the user's data directory).
    #[arg(long, env = "MBOXSCOPE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The at_property token.
    #[arg(
        long,
        env = "MBOXSCOPE_PROPERTY_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub property_token: Option<String>,
    /// The environment id.
    #[arg(long, env = "MBOXSCOPE_ENVIRONMENT_ID", value_name = "ID")]
    pub environment_id: Option<i64>,
    /// Trace authorization token (asks Target for traces).
    #[arg(
        long,
        env = "MBOXSCOPE_TRACE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub trace_token: Option<String>,
    /// A QA link (at_preview_token=…) to put into qaMode.
    #[arg(long, value_name = "URL")]
    pub qa_url: Option<String>,
    /// A4T logging: client-side returns the payloads (default), server-side lets Target log them.
    #[arg(long, value_enum)]
    pub analytics: Option<AnalyticsLogging>,
    /// Give up on a call after this many milliseconds.
    #[arg(long, env = "MBOXSCOPE_TIMEOUT_MS", value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// The edge cluster (location hint) to start with.
    #[arg(long, env = "MBOXSCOPE_LOCATION_HINT", value_name = "HINT")]
    pub location_hint: Option<String>,
    /// Use http:// for hosts derived from a client code or server domain.
    #[arg(long)]
    pub insecure: bool,
    /// The visitor's tntId.
    #[arg(long, help_heading = "Visitor", value_name = "ID")]
    pub tnt_id: Option<String>,
    /// The sessionId to use (default: a new one).
    #[arg(long, help_heading = "Visitor", value_name = "ID")]
    pub session_id: Option<String>,
    /// The visitor's Experience Cloud id (marketingCloudVisitorId).
    #[arg(long, help_heading = "Visitor", value_name = "ID")]
    pub mcid: Option<String>,
    /// The visitor's third-party id.
    #[arg(long, help_heading = "Visitor", value_name = "ID")]
    pub third_party_id: Option<String>,
    /// A customer id: CODE=ID[:authenticated|logged_out|unknown] (repeatable).
    #[arg(
        long = "customer-id",
        help_heading = "Visitor",
        value_name = "CODE=ID[:STATE]"
    )]
    pub customer_ids: Vec<String>,
    /// The page URL (context.address.url).
    #[arg(
        long,
        help_heading = "Visitor",
        env = "MBOXSCOPE_PAGE_URL",
        value_name = "URL"
    )]
    pub page_url: Option<String>,
    /// The visitor's user agent (context.userAgent).
    #[arg(
        long,
        help_heading = "Visitor",
        env = "MBOXSCOPE_USER_AGENT",
        value_name = "UA"
    )]
    pub user_agent: Option<String>,
    /// The channel (context.channel: web, mobile).
    #[arg(
        long,
        help_heading = "Visitor",
        env = "MBOXSCOPE_CHANNEL",
        value_name = "CHANNEL"
    )]
    pub channel: Option<String>,
}

impl TargetArgs {
    /// The settings these flags (and their environment variables) give.
    pub fn as_profile(&self) -> Profile {
        Profile {
            client_code: self.client_code.clone(),
            org_id: self.org_id.clone(),
            server: self.server.clone(),
            property_token: self.property_token.clone(),
            environment_id: self.environment_id,
            location_hint: self.location_hint.clone(),
            trace_token: self.trace_token.clone(),
            timeout_ms: self.timeout_ms,
            user_agent: self.user_agent.clone(),
            channel: self.channel.clone(),
            page_url: self.page_url.clone(),
        }
    }

    /// The profiles file path.
    pub fn config_path(&self) -> Result<PathBuf, TargetError> {
        match &self.config {
            Some(p) => Ok(p.clone()),
            None => config::default_config_path().map_err(TargetError::new),
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> Result<PathBuf, TargetError> {
        self.data_dir
            .clone()
            .or_else(config::default_data_dir)
            .ok_or_else(|| {
                TargetError::new(
                    "no data directory could be found for this user; pass --data-dir DIR",
                )
            })
    }

    /// The effective profile: profile file < environment < flags.
    pub fn resolve(&self) -> Result<Profile, TargetError> {
        let file = if self.profile.is_some() || self.config.is_some() {
            ConfigFile::load(&self.config_path()?).map_err(TargetError::new)?
        } else {
            match config::default_config_path() {
                Ok(path) => ConfigFile::load(&path).map_err(TargetError::new)?,
                Err(_) => ConfigFile::default(),
            }
        };
        config::resolve(&file, self.profile.as_deref(), self.as_profile()).map_err(TargetError::new)
    }

    /// The visitor ids the flags name.
    pub fn visitor_id(&self) -> Result<VisitorId, TargetError> {
        let customer_ids = self
            .customer_ids
            .iter()
            .map(|c| parse_customer_id(c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VisitorId {
            tnt_id: self.tnt_id.clone(),
            marketing_cloud_visitor_id: self.mcid.clone(),
            third_party_id: self.third_party_id.clone(),
            customer_ids: (!customer_ids.is_empty()).then_some(customer_ids),
            ..Default::default()
        })
    }

    /// A client for the resolved target.
    pub fn client(&self, profile: &Profile) -> Result<TargetClient, TargetError> {
        let server = TargetArgs::server(profile).ok_or_else(|| {
            TargetError::new("no target: give --server URL or --client CODE (or a --profile)")
        })?;
        let mut settings = ClientSettings::new(server);
        settings.client_code = profile.client_code.clone();
        settings.org_id = profile.org_id.clone();
        settings.secure = !self.insecure;
        settings.timeout = Duration::from_millis(profile.timeout_ms.unwrap_or(10_000).max(1));
        if let Some(ua) = &profile.user_agent {
            settings.user_agent = ua.clone();
        }
        TargetClient::new(settings).map_err(TargetError::new)
    }

    /// The visitor the flags name (`--session-id`, `--tnt-id`, the profile's location hint),
    /// else a new one.
    pub fn visitor(&self, profile: &Profile) -> Result<Visitor, TargetError> {
        let mut visitor = Visitor::fresh();
        if let Some(session) = &self.session_id {
            validate_session_id(session)?;
            visitor.session_id = session.clone();
        }
        visitor.tnt_id = self.tnt_id.clone();
        visitor.location_hint = profile.location_hint.clone();
        Ok(visitor)
    }

    /// The ledger of the target `client` talks to (created when new).
    pub fn ledger(&self, client: &TargetClient) -> Result<crate::ledger::Ledger, TargetError> {
        let settings = client.settings();
        let path = crate::ledger::store::journal_path(
            &self.data_dir()?,
            settings.client_code.as_deref(),
            &settings.server.describe(),
        );
        open_ledger(&path)
    }

    /// The server a resolved profile names, if any.
    pub fn server(profile: &Profile) -> Option<Server> {
        match (&profile.server, &profile.client_code) {
            (Some(server), _) => Some(Server::from_flag(server)),
            (None, Some(code)) => Some(Server::ClientCode(code.clone())),
            (None, None) => None,
        }
    }

    /// The journal the flags name, opened read-only (nothing is created). With no target flags,
    /// the most recently written journal, said on stderr.
    pub fn ledger_read_only(&self) -> Result<crate::ledger::Ledger, TargetError> {
        use crate::ledger::{store, JournalError, Ledger};
        let profile = self.resolve()?;
        let data = self.data_dir()?;
        let existing = || {
            let names: Vec<String> = store::list(&data).into_iter().map(|j| j.name).collect();
            if names.is_empty() {
                format!("no journal yet under {}", data.join("ledger").display())
            } else {
                format!("journals: {} (`mboxscope ledger --list`)", names.join(", "))
            }
        };
        let path = match TargetArgs::server(&profile) {
            Some(server) => {
                store::journal_path(&data, profile.client_code.as_deref(), &server.describe())
            }
            None => {
                let newest = store::list(&data)
                    .into_iter()
                    .next()
                    .ok_or_else(|| TargetError::new(existing()))?;
                eprintln!(
                    "mboxscope: journal {} (the most recent; --server, --client or --profile picks another)",
                    newest.name
                );
                newest.path
            }
        };
        match Ledger::open_read_only(&path) {
            Err(JournalError::Missing { .. }) => Err(TargetError::new(format!(
                "no journal for this target ({}); {}",
                path.display(),
                existing()
            ))),
            other => {
                let ledger = other.map_err(TargetError::new)?;
                warn_about(&ledger);
                Ok(ledger)
            }
        }
    }

    /// The request parts common to every prefetch/execute.
    pub fn request_spec(&self, profile: &Profile, mode: Mode) -> Result<RequestSpec, TargetError> {
        let qa_mode = match &self.qa_url {
            Some(url) => Some(
                qa_mode_from_url(url).map_err(|e| TargetError::new(format!("--qa-url: {e}")))?,
            ),
            None => None,
        };
        Ok(RequestSpec {
            mode,
            visitor: self.visitor_id()?,
            property_token: profile.property_token.clone(),
            environment_id: profile.environment_id,
            trace_token: profile.trace_token.clone(),
            qa_mode,
            analytics_logging: Some(
                match self.analytics.unwrap_or(AnalyticsLogging::ClientSide) {
                    AnalyticsLogging::ClientSide => "client_side",
                    AnalyticsLogging::ServerSide => "server_side",
                }
                .to_string(),
            ),
            page_url: profile.page_url.clone(),
            user_agent: profile.user_agent.clone(),
            channel: profile.channel.clone(),
            ..Default::default()
        })
    }
}

/// Opens (creating) the journal at `path` and says on stderr what reading it found.
pub fn open_ledger(path: &std::path::Path) -> Result<crate::ledger::Ledger, TargetError> {
    let ledger = crate::ledger::Ledger::open(path).map_err(TargetError::new)?;
    warn_about(&ledger);
    Ok(ledger)
}

fn warn_about(ledger: &crate::ledger::Ledger) {
    let path = ledger.path().display();
    if let Some(bytes) = ledger.torn_bytes() {
        eprintln!("mboxscope: {path}: an incomplete last line ({bytes} bytes: a write in progress or an interrupted one) was left out");
    }
    if ledger.unknown_lines() > 0 {
        eprintln!(
            "mboxscope: {path}: {} line(s) of an event kind this version does not know were skipped",
            ledger.unknown_lines()
        );
    }
}

/// What to prefetch: mboxes, views, the page load (help heading "Locations").
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Locations")]
pub struct LocationArgs {
    /// A mbox: NAME[:k=v,…] (repeatable).
    #[arg(long = "mbox", value_name = "NAME[:k=v,...]")]
    pub mboxes: Vec<String>,
    /// A view by name (repeatable).
    #[arg(long = "view", value_name = "NAME")]
    pub views: Vec<String>,
    /// Every view.
    #[arg(long)]
    pub all_views: bool,
    /// The page load (global mbox).
    #[arg(long)]
    pub page_load: bool,
}

impl LocationArgs {
    /// Adds the locations to `spec`.
    pub fn apply(&self, spec: &mut RequestSpec) -> Result<(), TargetError> {
        spec.mboxes = self
            .mboxes
            .iter()
            .map(|m| {
                m.parse::<MboxSpec>()
                    .map_err(|e| TargetError::new(format!("--mbox {e}")))
            })
            .collect::<Result<_, _>>()?;
        spec.views = self.views.clone();
        spec.all_views = self.all_views;
        spec.page_load = self.page_load;
        Ok(())
    }

    /// Whether nothing at all was asked for.
    pub fn is_empty(&self) -> bool {
        self.mboxes.is_empty() && self.views.is_empty() && !self.all_views && !self.page_load
    }
}

/// Parses `CODE=ID[:STATE]`.
pub fn parse_customer_id(text: &str) -> Result<CustomerId, TargetError> {
    let bad = || {
        TargetError::new(format!(
            "--customer-id {text:?}: expected CODE=ID[:authenticated|logged_out|unknown]"
        ))
    };
    let (code, rest) = text.split_once('=').ok_or_else(bad)?;
    let (id, state) = match rest.rsplit_once(':') {
        Some((id, state)) if matches!(state, "authenticated" | "logged_out" | "unknown") => {
            (id, Some(state))
        }
        _ => (rest, None),
    };
    if code.is_empty() || id.is_empty() {
        return Err(bad());
    }
    Ok(CustomerId {
        id: Some(id.to_string()),
        integration_code: Some(code.to_string()),
        authenticated_state: state.map(str::to_string),
        ..Default::default()
    })
}

/// Checks a sessionId as Target does: 1–128 printable characters, no space, `?` or `/`.
pub fn validate_session_id(session: &str) -> Result<(), TargetError> {
    let ok = (1..=128).contains(&session.chars().count())
        && session
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '?' && c != '/');
    ok.then_some(()).ok_or_else(|| {
        TargetError::new(format!(
            "--session-id {session:?}: 1–128 printable characters without space, ? or /"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_parse_with_optional_state() {
        let c = parse_customer_id("crm=42:authenticated").unwrap();
        assert_eq!(
            (
                c.integration_code.as_deref().unwrap(),
                c.id.as_deref().unwrap(),
                c.authenticated_state.as_deref()
            ),
            ("crm", "42", Some("authenticated"))
        );
        let c = parse_customer_id("crm=a:b").unwrap();
        assert_eq!(
            (c.id.as_deref().unwrap(), c.authenticated_state),
            ("a:b", None)
        );
        assert!(parse_customer_id("crm").is_err());
        assert!(parse_customer_id("=1").is_err());
    }

    #[test]
    fn session_ids_are_checked() {
        assert!(validate_session_id("abc-123").is_ok());
        assert!(validate_session_id("a b").is_err());
        assert!(validate_session_id("a/b").is_err());
        assert!(validate_session_id("").is_err());
        assert!(validate_session_id(&"x".repeat(129)).is_err());
    }
}
