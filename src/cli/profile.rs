//! `mboxscope profile`: save the flags as a named profile, list and show profiles.

use super::common::{Failure, TargetArgs};
use crate::config::{ConfigFile, Profile};
use clap::Subcommand;

/// Profile subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ProfileCommand {
    /// Save the given target flags (--client, --org-id, --server, …) as profile NAME.
    Save { name: String },
    /// List the profiles.
    List,
    /// Show a profile (tokens masked unless --reveal).
    Show {
        name: String,
        #[arg(long)]
        reveal: bool,
    },
}

/// Masks a secret as the TUI does (nothing of a short one).
pub fn mask(secret: &str) -> String {
    crate::tui::secrets::mask(secret)
}

/// Runs a profile subcommand.
pub fn run(target: &TargetArgs, command: &ProfileCommand) -> Result<(), Failure> {
    let path = target.config_path()?;
    let load = || ConfigFile::load(&path).map_err(Failure::usage);
    match command {
        ProfileCommand::Save { name } => save(target, &path, name)?,
        ProfileCommand::List => {
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
        ProfileCommand::Show { name, reveal } => {
            let mut p = load()?.profile(name).map_err(Failure::usage)?;
            if !reveal {
                p.trace_token = p.trace_token.as_deref().map(mask);
                p.property_token = p.property_token.as_deref().map(mask);
            }
            print!("{}", toml::to_string_pretty(&p).map_err(Failure::usage)?);
        }
    }
    Ok(())
}

/// Saves the flags as profile `name`, over what it had: under the config file's lock, so
/// concurrent saves all land.
fn save(target: &TargetArgs, path: &std::path::Path, name: &str) -> Result<(), Failure> {
    let flags = Profile {
        client_code: target.client_code.clone(),
        org_id: target.org_id.clone(),
        server: target.server.clone(),
        property_token: target.property_token.clone(),
        environment_id: target.environment_id,
        location_hint: target.location_hint.clone(),
        trace_token: target.trace_token.clone(),
        timeout_ms: target.timeout_ms,
        user_agent: target.user_agent.clone(),
        channel: None,
        page_url: target.page_url.clone(),
    };
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
