//! The activities and experiences of the loaded artifact, in the order `/report` and QA links
//! list them (experiences by id, as Target numbers them from 1 in QA links).

use crate::counting::report::id_key;
use crate::decisioning::Artifact;
use serde_json::Value;

/// An experience of an activity.
#[derive(Debug, Clone)]
pub struct ExperienceInfo {
    pub id: Value,
    pub name: Value,
    /// The audiences of its rules (`audience.ids` of the rule meta).
    pub audiences: Vec<i64>,
}

/// An activity and its experiences.
#[derive(Debug, Clone)]
pub struct ActivityInfo {
    pub id: Value,
    pub name: Value,
    pub experiences: Vec<ExperienceInfo>,
}

impl ActivityInfo {
    /// The id as counts and QA plans key it.
    pub fn key(&self) -> String {
        id_key(&self.id)
    }
}

fn numeric_order(v: &Value) -> (f64, String) {
    let key = id_key(v);
    (key.parse().unwrap_or(f64::MAX), key)
}

/// Every activity of `artifact`, in the artifact's order.
pub fn of(artifact: &Artifact) -> Vec<ActivityInfo> {
    let mut catalog: Vec<ActivityInfo> = Vec::new();
    for rule in artifact.all_rules() {
        let meta = |key: &str| rule.meta.get(key).cloned().unwrap_or(Value::Null);
        let activity = meta("activity.id");
        let entry = match catalog.iter().position(|a| a.id == activity) {
            Some(i) => &mut catalog[i],
            None => {
                catalog.push(ActivityInfo {
                    id: activity,
                    name: meta("activity.name"),
                    experiences: Vec::new(),
                });
                catalog.last_mut().expect("just pushed")
            }
        };
        let experience = meta("experience.id");
        let audiences = rule
            .meta
            .get("audience.ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64);
        match entry.experiences.iter_mut().find(|e| e.id == experience) {
            Some(e) => e.audiences.extend(audiences),
            None => entry.experiences.push(ExperienceInfo {
                id: experience,
                name: meta("experience.name"),
                audiences: audiences.collect(),
            }),
        }
    }
    for activity in &mut catalog {
        activity.experiences.sort_by(|a, b| {
            numeric_order(&a.id)
                .partial_cmp(&numeric_order(&b.id))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for e in &mut activity.experiences {
            e.audiences.sort_unstable();
            e.audiences.dedup();
        }
    }
    catalog
}
