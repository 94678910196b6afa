//! Counting like Target: impressions, visits, visitors and clicks per experience, and what
//! happened to notifications.

use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// An experience's counts.
#[derive(Debug, Default)]
struct ExperienceCounts {
    impressions: u64,
    clicks: u64,
    sessions: HashSet<String>,
    visitors: HashSet<String>,
}

/// The notification counters of `/report`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct NotificationCounts {
    pub received: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
}

/// Who a count is for.
#[derive(Debug, Clone)]
pub struct Visit<'a> {
    pub session_id: &'a str,
    pub visitor: Option<&'a str>,
}

/// Everything counted since start (or the last reset).
#[derive(Debug, Default)]
pub struct Counts {
    experiences: HashMap<(String, String), ExperienceCounts>,
    /// (activity, impressionId) pairs already counted.
    impressions_seen: HashSet<(String, String)>,
    /// (activity, notification id) pairs of clicks already counted.
    clicks_seen: HashSet<(String, String)>,
    pub notifications: NotificationCounts,
}

/// An id as JavaScript prints it (the key counts are kept under).
pub fn key(v: &Value) -> String {
    crate::decisioning::jsonlogic::to_js_string(v)
}

impl Counts {
    fn touch(&mut self, activity: &str, experience: &str, visit: &Visit) -> &mut ExperienceCounts {
        let c = self
            .experiences
            .entry((activity.to_string(), experience.to_string()))
            .or_default();
        c.sessions.insert(visit.session_id.to_string());
        if let Some(v) = visit.visitor {
            c.visitors.insert(v.to_string());
        }
        c
    }

    /// Counts an impression unless this impression id was already counted for the activity;
    /// returns whether it counted.
    pub fn impression(
        &mut self,
        activity: &str,
        experience: &str,
        impression_id: &str,
        visit: &Visit,
    ) -> bool {
        if !self
            .impressions_seen
            .insert((activity.to_string(), impression_id.to_string()))
        {
            return false;
        }
        self.touch(activity, experience, visit).impressions += 1;
        true
    }

    /// Counts a click (a conversion) unless this notification was already counted.
    pub fn click(
        &mut self,
        activity: &str,
        experience: &str,
        notification_id: &str,
        visit: &Visit,
    ) -> bool {
        if !self
            .clicks_seen
            .insert((activity.to_string(), notification_id.to_string()))
        {
            return false;
        }
        self.touch(activity, experience, visit).clicks += 1;
        true
    }

    /// (impressions, visits, visitors, clicks) of an experience.
    pub fn of(&self, activity: &str, experience: &str) -> (u64, u64, u64, u64) {
        self.experiences
            .get(&(activity.to_string(), experience.to_string()))
            .map(|c| {
                (
                    c.impressions,
                    c.sessions.len() as u64,
                    c.visitors.len() as u64,
                    c.clicks,
                )
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impressions_are_counted_once_per_impression_id_and_activity() {
        let mut c = Counts::default();
        let visit = Visit {
            session_id: "s1",
            visitor: Some("v1"),
        };
        assert!(c.impression("1", "0", "imp", &visit));
        assert!(
            !c.impression("1", "0", "imp", &visit),
            "a retry is a duplicate"
        );
        assert!(
            c.impression("2", "0", "imp", &visit),
            "another activity of the same impression counts"
        );
        assert!(c.impression(
            "1",
            "0",
            "imp2",
            &Visit {
                session_id: "s2",
                visitor: Some("v1")
            }
        ));
        assert!(c.click("1", "0", "n1", &visit));
        assert!(!c.click("1", "0", "n1", &visit));
        assert_eq!(c.of("1", "0"), (2, 2, 1, 1));
        assert_eq!(c.of("9", "9"), (0, 0, 0, 0));
    }
}
