//! `mboxscope simulate`: many generated visitors through an artifact; the split per activity
//! and experience, tested against the configured or intended one.

use super::common::{Failure, LocationArgs, TargetArgs};
use crate::clock::now_ms;
use crate::decisioning::{Artifact, DecideOptions};
use crate::delivery::{Geo, Mode, RequestSpec};
use crate::emulator::DEMO_ARTIFACT;
use crate::simulate::{render_text, CountingRates, Expectation, Mix, Spec};
use clap::Args;
use std::path::PathBuf;

/// Flags of `simulate` (`--user-agent`, `--page-url`, `--property-token`, `--client` and
/// `--org-id` are the global ones: the fixed part of every visitor).
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub locations: LocationArgs,
    /// The rules artifact (default: the demo artifact).
    #[arg(long)]
    pub artifact: Option<PathBuf>,
    /// How many visitors.
    #[arg(long, default_value_t = 100_000)]
    pub visitors: u64,
    /// A geo lookup result for every visitor: {"countryCode","stateCode","city",…}.
    #[arg(long)]
    pub geo: Option<String>,
    /// The clock, in milliseconds since the epoch (the week --mix-hour falls in).
    #[arg(long)]
    pub now: Option<i64>,
    /// A TOML mix file: [[user_agents]] value/weight, [[page_urls]], [[geos]]
    /// country/region/city, [[mbox_parameters]] parameters = {…}, [[hours]] day/hour.
    #[arg(long)]
    pub mix: Option<PathBuf>,
    /// A user agent in the mix: [WEIGHT:]USER-AGENT (repeatable).
    #[arg(long = "mix-user-agent", value_name = "[WEIGHT:]UA")]
    pub mix_user_agents: Vec<String>,
    /// A page URL in the mix: [WEIGHT:]URL (repeatable).
    #[arg(long = "mix-page-url", value_name = "[WEIGHT:]URL")]
    pub mix_page_urls: Vec<String>,
    /// A geo in the mix: [WEIGHT:]COUNTRY[/REGION[/CITY]] (repeatable).
    #[arg(long = "mix-geo", value_name = "[WEIGHT:]GEO")]
    pub mix_geos: Vec<String>,
    /// Mbox parameters in the mix: [WEIGHT:]k=v[,k=v…] (repeatable).
    #[arg(long = "mix-param", value_name = "[WEIGHT:]k=v,...")]
    pub mix_parameters: Vec<String>,
    /// An hour of the week in the mix (UTC): [WEIGHT:]DAY/HOUR, day 1 = Monday (repeatable).
    #[arg(long = "mix-hour", value_name = "[WEIGHT:]DAY/HOUR")]
    pub mix_hours: Vec<String>,
    /// The split you intend: ACTIVITY=SHARE/SHARE[/…] in artifact order (repeatable).
    #[arg(long = "expect", value_name = "ACTIVITY=A/B")]
    pub expect: Vec<String>,
    /// Counting what-if: the share of visitors whose page sends a display notification.
    #[arg(long)]
    pub notify_rate: Option<f64>,
    /// Counting what-if: the share of visitors whose call is an execute.
    #[arg(long)]
    pub execute_rate: Option<f64>,
    /// Seeds the mix draws and the what-if.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `simulate`.
pub fn run(target: &TargetArgs, args: &SimulateArgs) -> Result<(), Failure> {
    if args.locations.is_empty() {
        return Err(Failure::usage(crate::simulate::SimulateError::NoLocations));
    }
    let artifact = match &args.artifact {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
            Artifact::load(&bytes, target.org_id.as_deref())
                .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?
        }
        None => Artifact::from_json(DEMO_ARTIFACT).map_err(Failure::usage)?,
    };
    let client = target
        .client_code
        .clone()
        .or_else(|| artifact.client_code().map(str::to_string))
        .ok_or_else(|| {
            Failure::usage("the artifact names no client code (meta.clientCode): give --client")
        })?;
    let mut spec = RequestSpec {
        mode: Mode::Prefetch,
        page_url: target.page_url.clone(),
        user_agent: target.user_agent.clone(),
        property_token: target.property_token.clone(),
        ..Default::default()
    };
    args.locations.apply(&mut spec)?;
    let geo = match &args.geo {
        Some(text) => Some(
            serde_json::from_str::<Geo>(text).map_err(|e| Failure::usage(format!("--geo: {e}")))?,
        ),
        None => None,
    };
    let counting =
        (args.notify_rate.is_some() || args.execute_rate.is_some()).then(|| CountingRates {
            notify: args.notify_rate.unwrap_or(1.0),
            execute: args.execute_rate.unwrap_or(0.0),
        });
    let spec = Spec {
        visitors: args.visitors,
        request: spec.build("simulate".into()),
        options: DecideOptions {
            geo,
            ..DecideOptions::sdk(client, args.now.unwrap_or_else(now_ms))
        },
        mix: mix_of(args)?,
        seed: args.seed,
        expect: args
            .expect
            .iter()
            .map(|e| e.parse::<Expectation>())
            .collect::<Result<_, _>>()
            .map_err(Failure::usage)?,
        counting,
    };
    let simulation = crate::simulate::simulate(&artifact, &spec).map_err(Failure::usage)?;
    let text = if args.json {
        serde_json::to_string_pretty(&simulation).map_err(Failure::usage)? + "\n"
    } else {
        render_text(&simulation)
    };
    print!("{text}");
    Ok(())
}

/// Adds one flag's value to a mix.
type AddToMix = fn(&mut Mix, &str) -> Result<(), crate::simulate::MixError>;

fn mix_of(args: &SimulateArgs) -> Result<Mix, Failure> {
    let mut mix = match &args.mix {
        Some(path) => Mix::from_toml_file(path).map_err(Failure::usage)?,
        None => Mix::default(),
    };
    let adders: [(&Vec<String>, AddToMix); 5] = [
        (&args.mix_user_agents, Mix::add_user_agent),
        (&args.mix_page_urls, Mix::add_page_url),
        (&args.mix_geos, Mix::add_geo),
        (&args.mix_parameters, Mix::add_parameters),
        (&args.mix_hours, Mix::add_hour),
    ];
    for (values, add) in adders {
        for value in values {
            add(&mut mix, value).map_err(Failure::usage)?;
        }
    }
    Ok(mix)
}
