//! The counting what-if: the simulated visitors' decisions through the counting model the
//! emulator counts with, under an integration pattern (how many calls execute, how many
//! pages notify what they showed).

use super::visitors::Population;
use super::SimulateError;
use crate::counting::{Counter, Hit, HitKind};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// An integration pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountingRates {
    /// The share of visitors whose page sends a display notification for what it got
    /// (notifying executed content counts it a second time, as Target does).
    pub notify: f64,
    /// The share of visitors whose call is an execute (counted at once) rather than a prefetch.
    pub execute: f64,
}

impl CountingRates {
    pub(super) fn check(&self) -> Result<(), SimulateError> {
        if !(0.0..=1.0).contains(&self.notify) {
            return Err(SimulateError::Rate("--notify-rate"));
        }
        if !(0.0..=1.0).contains(&self.execute) {
            return Err(SimulateError::Rate("--execute-rate"));
        }
        Ok(())
    }
}

/// What the counting model expects for one experience.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperienceCounts {
    pub activity: String,
    pub experience: String,
    pub impressions: u64,
    pub visits: u64,
    pub visitors: u64,
}

/// Counts every visitor's decisions: one visit per visitor, an execute and/or a display
/// notification as the rates draw them (seeded, so a run repeats).
pub(super) fn count(
    population: &Population,
    decisions: &[(usize, Vec<usize>)],
    rates: &CountingRates,
    seed: u64,
    now_ms: i64,
) -> Vec<ExperienceCounts> {
    let mut counter = Counter::new(true);
    let mut rng = SmallRng::seed_from_u64(seed);
    for (n, (user, slots)) in decisions.iter().enumerate() {
        let visitor = format!("sim-{n}");
        let session = format!("sim-session-{n}");
        let decided: Vec<_> = slots.iter().map(|&s| population.decision(s)).collect();
        let executed = rng.random_bool(rates.execute);
        let notified = rng.random_bool(rates.notify);
        for (kind, happens) in [(HitKind::Execute, executed), (HitKind::Display, notified)] {
            if happens {
                counter.observe(&Hit {
                    kind,
                    at_ms: now_ms,
                    visitor: Some(&visitor),
                    session_id: &session,
                    user_agent: population.user_agent(*user),
                    impression_id: None,
                    decisions: &decided,
                });
            }
        }
    }
    counter
        .experiences()
        .map(|(d, c)| ExperienceCounts {
            activity: d.activity.clone(),
            experience: d.experience.clone(),
            impressions: c.impressions,
            visits: c.visits,
            visitors: c.visitors,
        })
        .collect()
}
