//! What Target should count from a journal: its acknowledged notifications and its executes,
//! fed as they are read to the same counting model the emulator counts with.

use super::event::{ResponseItem, ResponseRecord};
use super::Entry;
use crate::counting::{visitor_key, Counter, Decision, Hit, HitKind, Outcome, Verdict};
use crate::delivery::{Mode, NotificationType};
use serde::Serialize;
use std::collections::HashSet;

/// Expected counts for one experience.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpectedCounts {
    pub activity: String,
    pub activity_name: Option<String>,
    pub experience: String,
    pub experience_name: Option<String>,
    pub impressions: u64,
    pub visits: u64,
    pub visitors: u64,
    pub clicks: u64,
}

/// The counting model over a journal, and what its tokens stand for.
#[derive(Debug)]
pub struct Expected {
    /// Events before this time (ms) are not counted (a server's counts began then).
    since: i64,
    counter: Counter,
    /// eventToken → (display or click, activity and experience); looked up only, never
    /// listed, so hashed with foldhash (tokens are long).
    tokens: foldhash::HashMap<String, (NotificationType, Decision)>,
    /// Names of activities and experiences, as response tokens gave them (looked up only).
    names: foldhash::HashMap<Decision, (Option<String>, Option<String>)>,
    /// Sessions in Activity QA: Target counts their traffic apart from live traffic.
    qa_sessions: HashSet<String>,
}

impl Default for Expected {
    fn default() -> Self {
        Expected::since(i64::MIN)
    }
}

impl ResponseItem {
    /// The activity and experience it stands for, when the answer named both.
    pub fn decision(&self) -> Option<Decision> {
        Some(Decision {
            activity: self.activity.clone()?,
            experience: self.experience.clone()?,
        })
    }
}

impl Entry {
    /// Shows this notification to the counting model as what its tokens stand for
    /// (`decisions`): its kind, time, visitor, session, user agent and impressionId.
    pub fn observe_in(&self, counter: &mut Counter, decisions: &[Decision]) -> Outcome {
        let visitor = visitor_key(&self.visitor);
        counter.observe(&Hit {
            kind: match self.kind {
                NotificationType::Display => HitKind::Display,
                NotificationType::Click => HitKind::Click,
            },
            at_ms: self.timestamp,
            visitor: visitor.as_deref(),
            session_id: &self.session_id,
            user_agent: self.context.as_ref().and_then(|c| c.user_agent.as_deref()),
            impression_id: self.impression_id.as_deref(),
            decisions,
        })
    }
}

impl Expected {
    /// A model that counts only what happened from `since` (ms) on.
    pub fn since(since: i64) -> Expected {
        Expected {
            since,
            counter: Counter::default(),
            tokens: foldhash::HashMap::default(),
            names: foldhash::HashMap::default(),
            qa_sessions: HashSet::new(),
        }
    }

    /// From when it counts.
    pub fn start(&self) -> i64 {
        self.since
    }

    /// Learns a response's tokens and names; an execute counts its impressions.
    pub fn response(&mut self, page: &ResponseRecord) {
        let ResponseRecord {
            mode,
            visitor,
            session_id,
            at,
            items,
            user_agent,
            impression_id,
            qa,
            ..
        } = page;
        if *qa {
            self.qa_sessions.insert(session_id.clone());
        }
        let mut executed = Vec::new();
        for item in items {
            let Some(d) = item.decision() else { continue };
            if item.activity_name.is_some() || item.experience_name.is_some() {
                self.learn_names(&d, item);
            }
            if let Some(token) = &item.token {
                // Most tokens are known already, standing for the same: nothing is copied then.
                match self.tokens.get_mut(token.as_str()) {
                    Some(known) if known.0 == item.kind && known.1 == d => {}
                    Some(known) => *known = (item.kind, d.clone()),
                    None => {
                        self.tokens.insert(token.clone(), (item.kind, d.clone()));
                    }
                }
            }
            if *mode == Mode::Execute && item.kind == NotificationType::Display {
                executed.push(d);
            }
        }
        if !executed.is_empty() && *at >= self.since && !self.qa_sessions.contains(session_id) {
            let visitor = visitor_key(visitor);
            self.counter.observe(&Hit {
                kind: HitKind::Execute,
                at_ms: *at,
                visitor: visitor.as_deref(),
                session_id,
                user_agent: user_agent.as_deref(),
                impression_id: impression_id.as_deref(),
                decisions: &executed,
            });
        }
    }

    /// Learns the names an item gives its activity and experience (copied only when new).
    fn learn_names(&mut self, d: &Decision, item: &ResponseItem) {
        let names = (&item.activity_name, &item.experience_name);
        match self.names.get_mut(d) {
            Some(known) if (&known.0, &known.1) == names => {}
            Some(known) => *known = (names.0.clone(), names.1.clone()),
            None => {
                self.names
                    .insert(d.clone(), (names.0.clone(), names.1.clone()));
            }
        }
    }

    /// Counts a notification acknowledged at `at`; says what it counted.
    pub fn acked(&mut self, entry: &Entry, at: i64) -> String {
        if at < self.since {
            return "acknowledged before the server's counts began".into();
        }
        if self.qa_sessions.contains(&entry.session_id) {
            return "Activity QA traffic: counted apart from live traffic".into();
        }
        let decisions: Vec<Decision> = entry
            .tokens
            .iter()
            .filter_map(|t| self.tokens.get(t))
            .filter(|(kind, _)| *kind == entry.kind)
            .map(|(_, d)| d.clone())
            .collect();
        let outcome = entry.observe_in(&mut self.counter, &decisions);
        describe(&outcome, entry.kind)
    }

    /// Every experience that should have counted something.
    pub fn counts(&self) -> Vec<ExpectedCounts> {
        self.counter
            .experiences()
            .map(|(d, c)| {
                let (activity_name, experience_name) =
                    self.names.get(d).cloned().unwrap_or_default();
                ExpectedCounts {
                    activity: d.activity.clone(),
                    activity_name,
                    experience: d.experience.clone(),
                    experience_name,
                    impressions: c.impressions,
                    visits: c.visits,
                    visitors: c.visitors,
                    clicks: c.clicks,
                }
            })
            .collect()
    }
}

/// One line on what an event counted: "counted 2 impressions", "duplicate of event 3", …
fn describe(outcome: &Outcome, kind: NotificationType) -> String {
    let counted = outcome
        .verdicts
        .iter()
        .filter(|(_, v)| *v == Verdict::Counted)
        .count();
    let what = match kind {
        NotificationType::Display => "impression",
        NotificationType::Click => "click",
    };
    if let Some((_, Verdict::NotCounted(reason))) = outcome.verdicts.first() {
        return format!("not counted: {}", reason.describe());
    }
    let duplicate = outcome.verdicts.iter().find_map(|(_, v)| match v {
        Verdict::Duplicate { of } => Some(*of),
        _ => None,
    });
    match (counted, duplicate) {
        (0, Some(of)) => {
            format!("duplicate of counted event {of} (same impressionId): counts nothing")
        }
        (0, None) => "counts nothing: no token of it names a known activity".into(),
        (n, None) => format!("counted {n} {what}{}", if n == 1 { "" } else { "s" }),
        (n, Some(of)) => format!(
            "counted {n} {what}{}; the rest duplicate event {of}",
            if n == 1 { "" } else { "s" }
        ),
    }
}
