//! Activity QA as Target applies a request's `qaMode` (Adobe, "Use Activity QA with server-side
//! delivery"): the token names the activities under QA; `previewIndexes` force an experience of
//! one of them (1-based activity index into the token's list, 1-based experience index);
//! `listedActivitiesOnly` leaves every other activity out; audiences are still evaluated (the
//! default of `bypassEntryAudience`), except those listed in `evaluateAsTrueAudienceIds`
//! (taken as matching) and `evaluateAsFalseAudienceIds` (taken as not matching).

use super::artifact::Rule;
use std::collections::{HashMap, HashSet};

/// What QA mode changes for one request, resolved against the artifact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QaPlan {
    /// The activities the token names, in its order.
    pub activities: Vec<String>,
    /// Activity → the experience id it is forced to.
    pub forced: HashMap<String, String>,
    pub listed_only: bool,
    pub true_audiences: HashSet<i64>,
    pub false_audiences: HashSet<i64>,
}

/// What is tested of a rule under a QA plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QaTests {
    /// The visitor's allocation (not for a forced experience).
    pub allocation: bool,
    /// The audience condition (not when one of its audiences is evaluated as true).
    pub audience: bool,
}

fn audiences(rule: &Rule) -> impl Iterator<Item = i64> + '_ {
    rule.meta
        .get("audience.ids")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
}

impl QaPlan {
    /// What is tested of `rule` (of experience `experience`); `None`: it is not evaluated
    /// (another experience is forced, the activity is not listed, or one of its audiences is
    /// evaluated as false).
    pub fn tests(&self, rule: &Rule, experience: &str) -> Option<QaTests> {
        let listed = self.activities.contains(&rule.activity_id);
        if self.listed_only && !listed {
            return None;
        }
        if audiences(rule).any(|a| self.false_audiences.contains(&a)) {
            return None;
        }
        let forced = match self.forced.get(&rule.activity_id) {
            Some(f) if f != experience => return None,
            Some(_) => true,
            None => false,
        };
        Some(QaTests {
            allocation: !forced,
            audience: !audiences(rule).any(|a| self.true_audiences.contains(&a)),
        })
    }
}
