//! Activity QA in the emulator: tokens that name the activities they cover (as Target's token
//! stands for the activities chosen in Activity QA), a QA link for every experience, and the
//! plan a request's `qaMode` makes for the engine.

use super::catalog::ActivityInfo;
use crate::decisioning::qa::QaPlan;
use crate::delivery::{QaLink, QaMode};
use base64::Engine as _;

const TOKEN_PREFIX: &str = "mbxqa1.";
const ENCODING: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A QA token for these activities.
pub fn token(activities: &[String]) -> String {
    format!("{TOKEN_PREFIX}{}", ENCODING.encode(activities.join(",")))
}

/// The activities a token names; an error says why it is not one of this emulator's.
pub fn activities(token: &str) -> Result<Vec<String>, String> {
    let bad = || {
        format!("Invalid request: qaMode.token {token:?} is not a QA token of this emulator (GET /qa lists its links)")
    };
    let encoded = token.strip_prefix(TOKEN_PREFIX).ok_or_else(bad)?;
    let bytes = ENCODING.decode(encoded).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let list: Vec<String> = text
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    if list.is_empty() {
        return Err(bad());
    }
    Ok(list)
}

/// A QA link for every activity and experience: the experience forced, the activity alone, its
/// audiences taken as matching (so every experience can be seen).
pub fn links(catalog: &[ActivityInfo]) -> Vec<QaLink> {
    let mut out = Vec::new();
    for activity in catalog {
        let token = token(&[activity.key()]);
        for (i, experience) in activity.experiences.iter().enumerate() {
            let mut url = format!(
                "https://qa.mboxscope.invalid/?at_preview_token={token}&at_preview_index=1_{}&at_preview_listed_activities_only=true",
                i + 1
            );
            if !experience.audiences.is_empty() {
                let ids: Vec<String> = experience.audiences.iter().map(i64::to_string).collect();
                url.push_str(&format!(
                    "&at_preview_evaluate_as_true_audience_ids={}",
                    ids.join("_")
                ));
            }
            out.push(QaLink {
                activity: activity.id.clone(),
                activity_name: activity.name.clone(),
                experience: experience.id.clone(),
                experience_name: experience.name.clone(),
                url,
            });
        }
    }
    out
}

/// The engine's plan for a request's `qaMode`.
pub fn plan(qa: &QaMode, catalog: &[ActivityInfo]) -> Result<QaPlan, String> {
    let token = qa
        .token
        .as_deref()
        .ok_or("Invalid request: qaMode.token is required")?;
    let activities = activities(token)?;
    let mut plan = QaPlan {
        listed_only: qa.listed_activities_only.unwrap_or(false),
        true_audiences: qa
            .evaluate_as_true_audience_ids
            .iter()
            .flatten()
            .copied()
            .collect(),
        false_audiences: qa
            .evaluate_as_false_audience_ids
            .iter()
            .flatten()
            .copied()
            .collect(),
        ..Default::default()
    };
    for index in qa.preview_indexes.iter().flatten() {
        let (a, e) = (
            index.activity_index.unwrap_or(0),
            index.experience_index.unwrap_or(0),
        );
        let activity = usize::try_from(a - 1)
            .ok()
            .and_then(|i| activities.get(i))
            .ok_or_else(|| {
                format!("Invalid request: qaMode.previewIndexes: activityIndex {a} is not in the token (it names {} activities)", activities.len())
            })?;
        let info = catalog.iter().find(|c| c.key() == *activity).ok_or_else(|| {
            format!("Invalid request: qaMode.token names activity {activity}, which this artifact does not have")
        })?;
        let experience = usize::try_from(e - 1)
            .ok()
            .and_then(|i| info.experiences.get(i))
            .ok_or_else(|| {
                format!("Invalid request: qaMode.previewIndexes: experienceIndex {e} is not an experience of activity {activity} (it has {})", info.experiences.len())
            })?;
        plan.forced.insert(
            activity.clone(),
            crate::counting::report::id_key(&experience.id),
        );
    }
    plan.activities = activities;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_activities_and_strangers_are_refused() {
        let t = token(&["312345".into(), "9".into()]);
        assert_eq!(activities(&t).unwrap(), vec!["312345", "9"]);
        assert!(activities("abc").unwrap_err().contains("GET /qa"));
        assert!(activities("mbxqa1.!!!").is_err());
        assert!(activities(&token(&[])).is_err());
    }
}
