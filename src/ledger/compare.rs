//! Expected against counted: the ledger's expected counts beside what a `mboxscope serve` (or
//! the built-in emulator) says it counted, per experience.

use super::expected::ExpectedCounts;
use super::lint::Finding;
use super::LeftOut;
use crate::clock::iso8601;
use crate::counting::report::id_key;
use crate::counting::{Counts, NotificationCounts, Report};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// One experience's expected and counted numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub activity: String,
    pub activity_name: Option<String>,
    pub experience: String,
    pub experience_name: Option<String>,
    pub expected: Counts,
    /// None when the target cannot say what it counted.
    pub counted: Option<Counts>,
}

impl Row {
    /// Whether what was counted differs from what was expected.
    pub fn mismatch(&self) -> bool {
        self.counted.is_some_and(|c| c != self.expected)
    }

    /// `Activity name · Experience name` (ids when there are no names).
    pub fn label(&self) -> String {
        format!(
            "{} · {}",
            self.activity_name.as_deref().unwrap_or(&self.activity),
            self.experience_name.as_deref().unwrap_or(&self.experience)
        )
    }
}

/// The whole self.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// The server's notification counters, when it reports them.
    pub notifications: Option<NotificationCounts>,
    /// Why there is nothing counted to compare with, when there is not.
    pub no_counts_because: Option<String>,
    /// What the server counted of Activity QA traffic, apart from live traffic (experiences
    /// with counts only): `Activity · Experience` and the counts.
    pub qa: Vec<(String, Counts)>,
    /// Since when the server counts (ms), when it said what it counted.
    pub counted_since: Option<i64>,
    /// Exchanges a proxy left out of the journal while the server counted (or ever, with
    /// expected counts only): the expected counts miss them.
    pub left_out: Option<LeftOut>,
}

/// Puts expected counts beside a report (every experience either side counted).
pub fn compare(expected: &[ExpectedCounts], counted: Result<&Report, String>) -> Comparison {
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    for e in expected {
        rows.insert(
            (e.activity.clone(), e.experience.clone()),
            Row {
                activity: e.activity.clone(),
                activity_name: e.activity_name.clone(),
                experience: e.experience.clone(),
                experience_name: e.experience_name.clone(),
                expected: Counts {
                    impressions: e.impressions,
                    visits: e.visits,
                    visitors: e.visitors,
                    clicks: e.clicks,
                },
                counted: None,
            },
        );
    }
    let report = match counted {
        Ok(report) => report,
        Err(why) => {
            return Comparison {
                rows: rows.into_values().collect(),
                notifications: None,
                no_counts_because: Some(why),
                ..Comparison::default()
            }
        }
    };
    for (a, e) in report.rows() {
        let key = (id_key(&a.id), id_key(&e.id));
        let counted = e.counts();
        if counted == Counts::default() && !rows.contains_key(&key) {
            continue;
        }
        let row = rows.entry(key.clone()).or_insert_with(|| Row {
            activity: key.0.clone(),
            activity_name: None,
            experience: key.1.clone(),
            experience_name: None,
            expected: Counts::default(),
            counted: None,
        });
        row.activity_name = row
            .activity_name
            .take()
            .or_else(|| a.name.as_str().map(str::to_string));
        row.experience_name = row
            .experience_name
            .take()
            .or_else(|| e.name.as_str().map(str::to_string));
        row.counted = Some(counted);
    }
    for row in rows.values_mut() {
        row.counted.get_or_insert_with(Counts::default);
    }
    let qa = report
        .qa
        .iter()
        .flat_map(|a| a.experiences.iter().map(move |e| (a, e)))
        .map(|(a, e)| {
            (
                format!("{} · {}", id_key(&a.name), id_key(&e.name)),
                e.counts(),
            )
        })
        .filter(|(_, c)| *c != Counts::default())
        .collect();
    Comparison {
        rows: rows.into_values().collect(),
        notifications: Some(report.notifications),
        no_counts_because: None,
        qa,
        counted_since: Some(report.since),
        left_out: None,
    }
}

/// `GET {base}/report` of a `mboxscope serve`; an error says why there is none (real Target
/// has no such endpoint).
pub async fn fetch_report(base: &str) -> Result<Report, String> {
    let not_serve = |why: String| {
        format!("{base} is not a mboxscope serve ({why}): Target itself reports counts only in its UI and Analytics, so only the expected counts are shown")
    };
    crate::client::get_json(base, "/report", Duration::from_secs(5))
        .await
        .map_err(not_serve)
}

fn counts_text(c: &Counts) -> String {
    format!(
        "{:>5} {:>5} {:>5} {:>5}",
        c.impressions, c.visits, c.visitors, c.clicks
    )
}

impl Comparison {
    /// Notes the exchanges a proxy left out of the journal, when they fall within what the
    /// server counted.
    pub fn missing(mut self, gap: Option<LeftOut>) -> Comparison {
        self.left_out = gap.filter(|gap| self.counted_since.is_none_or(|since| gap.until >= since));
        self
    }

    /// Rows whose counts differ.
    pub fn mismatches(&self) -> usize {
        self.rows.iter().filter(|r| r.mismatch()).count()
    }

    /// The expected-vs-counted table, with the findings that may explain each mismatch.
    pub fn text(&self, findings: &[Finding]) -> String {
        let mut out = String::new();
        let counted = self.no_counts_because.is_none();
        out.push_str(if counted {
            "expected vs counted (impressions visits visitors clicks)\n"
        } else {
            "expected counts (impressions visits visitors clicks)\n"
        });
        if let Some(gap) = self.left_out {
            out.push_str(&format!(
                "! journal incomplete: {} exchanges missing (mboxscope proxy left them out between {} and {}): the expected counts miss them\n",
                gap.count,
                iso8601(gap.since),
                iso8601(gap.until)
            ));
        }
        for row in &self.rows {
            let mark = if row.mismatch() { "≠" } else { " " };
            out.push_str(&format!(
                "{mark} {:<46} expected {}",
                row.label(),
                counts_text(&row.expected)
            ));
            if let Some(c) = &row.counted {
                out.push_str(&format!("   counted {}", counts_text(c)));
            }
            out.push('\n');
            if row.mismatch() {
                for f in findings.iter().filter(|f| {
                    f.activity.as_deref().is_some_and(|a| {
                        a == row.activity || a.ends_with(&format!("({})", row.activity))
                    })
                }) {
                    out.push_str(&format!("    explained by? {}\n", f.line()));
                }
            }
        }
        if self.rows.is_empty() {
            out.push_str("  (nothing counted yet)\n");
        }
        if let Some(n) = &self.notifications {
            out.push_str(&format!(
                "server notifications: received {} accepted {} rejected {} duplicates {}\n",
                n.received, n.accepted, n.rejected, n.duplicates
            ));
            out.push_str(&format!(
                "{} of {} experiences differ\n",
                self.mismatches(),
                self.rows.len()
            ));
        }
        if !self.qa.is_empty() {
            out.push_str("Activity QA traffic, counted apart from live (impressions visits visitors clicks)\n");
            for (label, c) in &self.qa {
                out.push_str(&format!("  {label:<46} counted  {}\n", counts_text(c)));
            }
        }
        if let Some(why) = &self.no_counts_because {
            out.push_str(&format!("counted: not available: {why}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(until: i64) -> Option<LeftOut> {
        Some(LeftOut {
            count: 12,
            since: until - 1_000,
            until,
        })
    }

    #[test]
    fn exchanges_left_out_while_the_server_counted_are_said_above_the_counts() {
        let counted_since = |since| Comparison {
            counted_since: since,
            ..Comparison::default()
        };
        let said = |c: &Comparison| c.text(&[]).lines().nth(1).unwrap_or("").to_string();
        let within = counted_since(Some(5_000)).missing(gap(6_000));
        assert!(
            said(&within).starts_with("! journal incomplete: 12 exchanges missing"),
            "{}",
            within.text(&[])
        );
        // A gap that ended before the server's counts began cannot explain them.
        let before = counted_since(Some(5_000)).missing(gap(4_000));
        assert_eq!(before.left_out, None);
        assert!(!before.text(&[]).contains("journal incomplete"));
        // Expected counts only: they cover the whole journal, gaps included.
        let expected_only = counted_since(None).missing(gap(4_000));
        assert!(said(&expected_only).starts_with("! journal incomplete"));
    }
}
