//! `mboxscope profile`: save the flags as a named profile, list and show profiles.

use super::common::{Failure, LogArgs, TargetArgs};
use super::Targeted;
use crate::config::{ConfigFile, Profile};
use clap::{Args, Subcommand};

/// Profile subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ProfileCommand {
    /// Save the given target flags (--client, --org-id, --server, …) as profile NAME.
    #[command(after_long_help = super::help::with_log(super::help::PROFILE))]
    Save(Targeted<NameArgs>),
    /// List the profiles.
    #[command(after_long_help = super::help::with_log(super::help::PROFILE))]
    List(Targeted<NoArgs>),
    /// Show a profile with the flags and environment over it, and where each value came from
    /// (tokens masked unless --reveal).
    #[command(after_long_help = super::help::with_log(super::help::PROFILE))]
    Show(Targeted<ShowArgs>),
}

/// The profile to save.
#[derive(Debug, Clone, Args)]
pub struct NameArgs {
    /// The profile's name.
    pub name: String,
}

/// `profile list` takes no flags of its own.
#[derive(Debug, Clone, Args)]
pub struct NoArgs {}

/// Flags of `profile show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The profile's name.
    pub name: String,
    /// Print the tokens in clear.
    #[arg(long, help_heading = "Output")]
    pub reveal: bool,
}

impl ProfileCommand {
    /// The target and log flags of the subcommand.
    pub fn target_and_log(&self) -> (&TargetArgs, &LogArgs) {
        match self {
            ProfileCommand::Save(c) => (&c.target, &c.log),
            ProfileCommand::List(c) => (&c.target, &c.log),
            ProfileCommand::Show(c) => (&c.target, &c.log),
        }
    }
}

/// Masks a secret as the TUI does (nothing of a short one).
pub fn mask(secret: &str) -> String {
    crate::tui::secrets::mask(secret)
}

/// Each profile field: its flag and its environment variable.
const FIELDS: [(&str, &str, &str); 11] = [
    ("client_code", "--client", "MBOXSCOPE_CLIENT"),
    ("org_id", "--org-id", "MBOXSCOPE_ORG_ID"),
    ("server", "--server", "MBOXSCOPE_SERVER"),
    (
        "property_token",
        "--property-token",
        "MBOXSCOPE_PROPERTY_TOKEN",
    ),
    (
        "environment_id",
        "--environment-id",
        "MBOXSCOPE_ENVIRONMENT_ID",
    ),
    (
        "location_hint",
        "--location-hint",
        "MBOXSCOPE_LOCATION_HINT",
    ),
    ("trace_token", "--trace-token", "MBOXSCOPE_TRACE_TOKEN"),
    ("timeout_ms", "--timeout-ms", "MBOXSCOPE_TIMEOUT_MS"),
    ("user_agent", "--user-agent", "MBOXSCOPE_USER_AGENT"),
    ("channel", "--channel", "MBOXSCOPE_CHANNEL"),
    ("page_url", "--page-url", "MBOXSCOPE_PAGE_URL"),
];

/// Runs a profile subcommand.
pub fn run(command: &ProfileCommand) -> Result<(), Failure> {
    let (target, _) = command.target_and_log();
    let path = target.config_path()?;
    let load = || ConfigFile::load(&path).map_err(Failure::usage);
    match command {
        ProfileCommand::Save(c) => save(target, &path, &c.args.name)?,
        ProfileCommand::List(_) => {
            let file = load()?;
            for (name, p) in &file.profiles {
                println!(
                    "{name}\t{}",
                    p.client_code
                        .as_deref()
                        .or(p.server.as_deref())
                        .unwrap_or("-")
                );
            }
        }
        ProfileCommand::Show(c) => {
            let saved = load()?.profile(&c.args.name).map_err(Failure::usage)?;
            let origin = format!("profile {:?} in {}", c.args.name, path.display());
            print!(
                "{}",
                show(&saved, &target.as_profile(), &origin, c.args.reveal)?
            );
        }
    }
    Ok(())
}

/// Where the flags of this process's `profile show` came from: the command line or the
/// environment (read again from the process's arguments, as clap saw them).
fn flag_sources() -> std::collections::HashMap<String, clap::parser::ValueSource> {
    use clap::CommandFactory;
    let mut sources = std::collections::HashMap::new();
    let Ok(matches) = super::Cli::command().try_get_matches_from(std::env::args_os()) else {
        return sources;
    };
    let show = matches
        .subcommand_matches("profile")
        .and_then(|m| m.subcommand_matches("show"));
    if let Some(show) = show {
        for (field, _, _) in FIELDS {
            if let Some(source) = show.value_source(field) {
                sources.insert(field.to_string(), source);
            }
        }
    }
    sources
}

/// The profile `saved` with `flags` over it, one `field = value  # origin` line per value.
fn show(saved: &Profile, flags: &Profile, origin: &str, reveal: bool) -> Result<String, Failure> {
    let mut effective = saved.clone().overlay(flags.clone());
    if !reveal {
        effective.trace_token = effective.trace_token.as_deref().map(mask);
        effective.property_token = effective.property_token.as_deref().map(mask);
    }
    let table = |p: &Profile| toml::Table::try_from(p).map_err(Failure::usage);
    let (effective, flags) = (table(&effective)?, table(flags)?);
    let sources = flag_sources();
    let mut out = String::new();
    for (field, flag, env) in FIELDS {
        let Some(value) = effective.get(field) else {
            continue;
        };
        let from = if flags.contains_key(field) {
            match sources.get(field) {
                Some(clap::parser::ValueSource::EnvVariable) => env.to_string(),
                _ => flag.to_string(),
            }
        } else {
            origin.to_string()
        };
        out.push_str(&format!("{field} = {value}  # {from}\n"));
    }
    Ok(out)
}

/// Saves the flags as profile `name`, over what it had: under the config file's lock, so
/// concurrent saves all land.
fn save(target: &TargetArgs, path: &std::path::Path, name: &str) -> Result<(), Failure> {
    let flags = target.as_profile();
    ConfigFile::update(path, |file| {
        let merged = file
            .profiles
            .get(name)
            .cloned()
            .unwrap_or_default()
            .overlay(flags);
        file.profiles.insert(name.to_string(), merged);
    })
    .map_err(Failure::usage)?;
    eprintln!("saved profile {name:?} in {}", path.display());
    Ok(())
}
