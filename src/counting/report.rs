//! The `/report` document: what a target counted, per activity and experience, and what happened
//! to the notifications it received. The emulator writes it; the CLI, the TUI and the tests read it.

use super::Counts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a `mboxscope serve` counted since it started (or was reset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub activities: Vec<ActivityReport>,
    /// QA traffic (requests in Activity QA), counted apart from live traffic.
    #[serde(default)]
    pub qa: Vec<ActivityReport>,
    pub notifications: NotificationCounts,
    /// Whether user agents that look like bots are left out.
    #[serde(default = "yes")]
    pub bot_filter: bool,
    /// When these counts began (the server's start or last reset), ms since the epoch.
    #[serde(default)]
    pub since: i64,
}

fn yes() -> bool {
    true
}

/// An activity's experiences and their counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityReport {
    /// The artifact's id as it is written there (usually a number).
    pub id: Value,
    #[serde(default)]
    pub name: Value,
    pub experiences: Vec<ExperienceReport>,
}

/// One experience's counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperienceReport {
    pub id: Value,
    #[serde(default)]
    pub name: Value,
    pub impressions: u64,
    pub visits: u64,
    pub visitors: u64,
    pub clicks: u64,
}

/// The notification counters of `/report`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationCounts {
    pub received: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Accepted notifications whose every activity was already counted (same impressionId).
    pub duplicates: u64,
}

impl ExperienceReport {
    /// The four counts.
    pub fn counts(&self) -> Counts {
        Counts {
            impressions: self.impressions,
            visits: self.visits,
            visitors: self.visitors,
            clicks: self.clicks,
        }
    }
}

/// An id as JavaScript prints it: the key counts are compared under (`312345` and `"312345"`
/// are the same activity).
pub fn id_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Report {
    /// The counts of an experience, by ids in any JSON form.
    pub fn counts(&self, activity: &str, experience: &str) -> Option<Counts> {
        self.activities
            .iter()
            .filter(|a| id_key(&a.id) == activity)
            .flat_map(|a| &a.experiences)
            .find(|e| id_key(&e.id) == experience)
            .map(ExperienceReport::counts)
    }

    /// Every (activity, experience) with its names and counts.
    pub fn rows(&self) -> impl Iterator<Item = (&ActivityReport, &ExperienceReport)> {
        self.activities
            .iter()
            .flat_map(|a| a.experiences.iter().map(move |e| (a, e)))
    }
}
