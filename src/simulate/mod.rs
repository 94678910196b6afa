//! `simulate`: many generated visitors through an artifact, decided as the engine decides, to
//! check a traffic split: visitors and share per experience against the split the rules
//! configure (or the one the operator intends), a chi-square test of it, the share of visitors
//! each audience qualified, and, on request, what the counting model makes of an integration
//! pattern. Runs on every core; parses no JSON per visitor.

pub mod mix;
pub mod stats;
mod text;
mod visitors;
mod whatif;

pub use mix::{Mix, MixError};
pub use text::render_text;
pub use whatif::{CountingRates, ExperienceCounts};

use crate::decisioning::explain::Span;
use crate::decisioning::{Artifact, DecideOptions};
use crate::delivery::DeliveryRequest;
use serde::Serialize;
use thiserror::Error;

/// The p-value under which a split is flagged.
pub const FLAG_BELOW_P: f64 = 0.001;

/// Why a simulation cannot run.
#[derive(Debug, Error)]
pub enum SimulateError {
    #[error("nothing to simulate: give --mbox NAME, --view NAME, --all-views or --page-load")]
    NoLocations,
    #[error(transparent)]
    Mix(#[from] MixError),
    #[error("--expect {0:?}: expected ACTIVITY=SHARE/SHARE[/…] (e.g. 312345=50/50)")]
    ExpectSyntax(String),
    #[error("--expect: activity {0} is not decided at the simulated locations")]
    ExpectActivity(String),
    #[error("--expect: activity {activity} has {experiences} experiences, {shares} shares given")]
    ExpectShares {
        activity: String,
        experiences: usize,
        shares: usize,
    },
    #[error("{0} must be between 0 and 1")]
    Rate(&'static str),
}

/// The split an operator intends for one activity, one share per experience in artifact order.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub activity: String,
    pub shares: Vec<f64>,
}

impl std::str::FromStr for Expectation {
    type Err = SimulateError;

    /// Parses `ACTIVITY=SHARE/SHARE[/…]`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || SimulateError::ExpectSyntax(text.to_string());
        let (activity, shares) = text.split_once('=').ok_or_else(bad)?;
        let shares = shares
            .split('/')
            .map(|s| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
            })
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(bad)?;
        if activity.trim().is_empty() || shares.len() < 2 || shares.iter().sum::<f64>() <= 0.0 {
            return Err(bad());
        }
        Ok(Expectation {
            activity: activity.trim().to_string(),
            shares,
        })
    }
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub visitors: u64,
    /// The fixed part of every visitor's request: its locations and context.
    pub request: DeliveryRequest,
    /// The client code, the clock (the week the mix's hours fall in) and a geo lookup result.
    pub options: DecideOptions,
    pub mix: Mix,
    /// Seeds the mix draws (visitor ids are fixed: `sim-0`, `sim-1`, …).
    pub seed: u64,
    pub expect: Vec<Expectation>,
    pub counting: Option<CountingRates>,
}

/// The result of a simulation.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub visitors: u64,
    pub activities: Vec<ActivitySplit>,
    /// Per audience, the share of all visitors that qualified.
    pub audiences: Vec<AudienceShare>,
    /// Expected counts per experience under the counting what-if, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counting: Option<Vec<ExperienceCounts>>,
}

/// One activity's observed split.
#[derive(Debug, Clone, Serialize)]
pub struct ActivitySplit {
    pub id: String,
    pub name: String,
    pub experiences: Vec<ExperienceSplit>,
    /// Chi-square p-value of the observed split against the expected share, else the
    /// configured one (`None` when there is nothing to test).
    pub p_value: Option<f64>,
    /// p < [`FLAG_BELOW_P`].
    pub flagged: bool,
}

/// One experience's visitors and shares (percent of the activity's visitors).
#[derive(Debug, Clone, Serialize)]
pub struct ExperienceSplit {
    pub id: String,
    pub name: String,
    pub visitors: u64,
    pub share: f64,
    /// The share its rules' allocation ranges give it, when they all have one.
    pub configured_share: Option<f64>,
    pub expected_share: Option<f64>,
    /// The allocation range its rules configure.
    #[serde(skip)]
    pub range: Option<Span>,
}

/// The share of visitors an audience qualified.
#[derive(Debug, Clone, Serialize)]
pub struct AudienceShare {
    pub activity_id: String,
    /// The audience ids of its rules (empty: the rule has no audience of its own).
    pub audience_ids: Vec<serde_json::Value>,
    /// The experience(s) whose rules carry it.
    pub experiences: Vec<String>,
    pub visitors: u64,
    pub share: f64,
}

/// Runs a simulation of `spec` against `artifact` on every core.
pub fn simulate(artifact: &Artifact, spec: &Spec) -> Result<Simulation, SimulateError> {
    if let Some(rates) = &spec.counting {
        rates.check()?;
    }
    let population = visitors::Population::new(artifact, spec)?;
    let tally = population.run(spec.visitors, spec.counting.is_some());
    let mut activities = population.splits(&tally.experience_visitors);
    for expectation in &spec.expect {
        let activity = activities
            .iter_mut()
            .find(|a| a.id == expectation.activity)
            .ok_or_else(|| SimulateError::ExpectActivity(expectation.activity.clone()))?;
        if activity.experiences.len() != expectation.shares.len() {
            return Err(SimulateError::ExpectShares {
                activity: activity.id.clone(),
                experiences: activity.experiences.len(),
                shares: expectation.shares.len(),
            });
        }
        let total: f64 = expectation.shares.iter().sum();
        for (e, share) in activity.experiences.iter_mut().zip(&expectation.shares) {
            e.expected_share = Some(share / total * 100.0);
        }
    }
    for activity in &mut activities {
        test_split(activity);
    }
    let counting = spec.counting.as_ref().map(|rates| {
        whatif::count(
            &population,
            &tally.decisions,
            rates,
            spec.seed,
            spec.options.now_ms,
        )
    });
    Ok(Simulation {
        visitors: spec.visitors,
        audiences: population.audiences(&tally.audience_visitors, spec.visitors),
        activities,
        counting,
    })
}

/// The split of the locations of `request` over `visitors` generated visitors (only the
/// visitor id varies): what the TUI's Split view draws for one location.
pub fn split_for(
    artifact: &Artifact,
    request: &DeliveryRequest,
    options: &DecideOptions,
    visitors: u64,
) -> Result<Simulation, SimulateError> {
    simulate(
        artifact,
        &Spec {
            visitors,
            request: request.clone(),
            options: options.clone(),
            mix: Mix::default(),
            seed: 0,
            expect: Vec::new(),
            counting: None,
        },
    )
}

fn test_split(activity: &mut ActivitySplit) {
    let observed: Vec<u64> = activity.experiences.iter().map(|e| e.visitors).collect();
    let shares: Option<Vec<f64>> = activity
        .experiences
        .iter()
        .map(|e| e.expected_share.or(e.configured_share))
        .collect();
    activity.p_value = shares.and_then(|s| stats::chi_square_p_value(&observed, &s));
    activity.flagged = activity.p_value.is_some_and(|p| p < FLAG_BELOW_P);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_parse_and_bad_ones_say_the_syntax() {
        let e: Expectation = "312345=70/30".parse().unwrap();
        assert_eq!(e.activity, "312345");
        assert_eq!(e.shares, vec![70.0, 30.0]);
        for bad in [
            "312345",
            "312345=50",
            "=50/50",
            "1=a/b",
            "1=0/0",
            "1=-5/105",
        ] {
            let err = bad.parse::<Expectation>().unwrap_err().to_string();
            assert!(err.contains("ACTIVITY=SHARE"), "{bad}: {err}");
        }
    }
}
