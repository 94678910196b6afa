//! Target's counting rules as one pure model: the events a target sees (executes, display and
//! click notifications) go in, per-experience impressions, visits, visitors and clicks come out,
//! with a verdict for every event. The emulator's `/report` and the ledger's expected counts are
//! both made here, so they cannot count by different rules.
//!
//! The rules and where they come from (`shared/docs/target-delivery.md` §6, the Delivery API
//! spec's `Notification.impressionId` and `DeliveryRequest.impressionId`):
//! - an execute counts one impression per activity it returns;
//! - a display notification counts one impression per activity of its tokens, a click
//!   notification one click (conversion) per activity;
//! - an `impressionId` already counted for the same visitor and activity makes the event a
//!   duplicate ("in case they both match, the second request will not increase impression
//!   count"); an event without one counts every time it is accepted (the notification `id` only
//!   acknowledges);
//! - a visit is a sessionId of a visitor, closed after 30 minutes without a request; a visitor is
//!   a visitor id (tntId without its location hint, else marketingCloudVisitorId, else
//!   thirdPartyId, else the customer ids);
//! - a user agent that looks like a bot counts nothing (when the bot filter is on).

pub mod report;

pub use report::{ActivityReport, ExperienceReport, NotificationCounts, Report};

use crate::delivery::{looks_like_bot, VisitorId};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// A visit ends after this long without a request from its visitor and session.
pub const VISIT_IDLE_MS: i64 = 30 * 60 * 1000;

/// What kind of event a target saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HitKind {
    /// An execute: an impression for every activity it returned.
    Execute,
    /// A display notification: an impression for every activity of its tokens.
    Display,
    /// A click notification: a click for every activity of its tokens.
    Click,
}

/// One activity and experience an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decision {
    pub activity: String,
    pub experience: String,
}

/// One event as a target sees it.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    pub kind: HitKind,
    /// When it happened (ms since the epoch): a notification's timestamp, a request's arrival.
    pub at_ms: i64,
    /// The visitor key (see [`visitor_key`]).
    pub visitor: Option<&'a str>,
    pub session_id: &'a str,
    /// The request's `context.userAgent`.
    pub user_agent: Option<&'a str>,
    pub impression_id: Option<&'a str>,
    /// The activities it is about (one per activity; see [`Hit::decisions`]).
    pub decisions: &'a [Decision],
}

/// What the model made of one activity of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It counted (an impression or a click).
    Counted,
    /// The same visitor's earlier event number `of` already counted this impressionId.
    Duplicate { of: u64 },
    /// Not counted, and why.
    NotCounted(Reason),
}

/// Why an event counted nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The user agent looks like a bot.
    Bot,
}

impl Reason {
    /// A short explanation.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Bot => "the user agent looks like a bot: Target counts nothing for it",
        }
    }
}

/// What observing one event did.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The event's number (1, 2, …, in the order observed).
    pub seq: u64,
    /// One verdict per activity, in the hit's order (a bot's event with no activity gets one).
    pub verdicts: Vec<(Option<Decision>, Verdict)>,
}

impl Outcome {
    /// Whether every activity of the event was a duplicate.
    pub fn all_duplicates(&self) -> bool {
        !self.verdicts.is_empty()
            && self
                .verdicts
                .iter()
                .all(|(_, v)| matches!(v, Verdict::Duplicate { .. }))
    }
}

/// The counts of one experience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub impressions: u64,
    pub visits: u64,
    pub visitors: u64,
    pub clicks: u64,
}

#[derive(Debug, Default)]
struct Tally {
    impressions: u64,
    clicks: u64,
    visits: HashSet<u64>,
    visitors: HashSet<u64>,
}

#[derive(Debug)]
struct VisitClock {
    last_at: i64,
    number: u32,
}

/// The counting model's state: everything counted so far. Memory grows with distinct
/// impressionIds, visits and visitors, not with the number of events.
#[derive(Debug)]
pub struct Counter {
    bot_filter: bool,
    tallies: BTreeMap<Decision, Tally>,
    /// (visitor, activity, impressionId, click?) → the event that counted it.
    seen: HashMap<u64, u64>,
    visits: HashMap<u64, VisitClock>,
    events: u64,
}

impl Default for Counter {
    fn default() -> Self {
        Counter::new(true)
    }
}

fn hash_of(value: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The key a visitor is counted under: tntId without its location hint, else
/// marketingCloudVisitorId, else thirdPartyId, else the customer ids.
pub fn visitor_key(id: &VisitorId) -> Option<String> {
    id.visitor_key().or_else(|| {
        let ids: Vec<String> = id
            .customer_ids
            .iter()
            .flatten()
            .filter_map(|c| {
                Some(format!(
                    "{}={}",
                    c.integration_code.as_deref().unwrap_or(""),
                    c.id.as_deref()?
                ))
            })
            .collect();
        (!ids.is_empty()).then(|| ids.join(","))
    })
}

impl Counter {
    /// An empty model; `bot_filter` off counts bots like everyone else.
    pub fn new(bot_filter: bool) -> Counter {
        Counter {
            bot_filter,
            tallies: BTreeMap::new(),
            seen: HashMap::new(),
            visits: HashMap::new(),
            events: 0,
        }
    }

    /// Whether bots are left out.
    pub fn bot_filter(&self) -> bool {
        self.bot_filter
    }

    /// Whether this user agent counts nothing under this model.
    pub fn is_bot(&self, user_agent: Option<&str>) -> bool {
        self.bot_filter && user_agent.is_some_and(looks_like_bot)
    }

    /// Observes one event and says what it counted.
    pub fn observe(&mut self, hit: &Hit) -> Outcome {
        self.events += 1;
        let seq = self.events;
        if self.is_bot(hit.user_agent) {
            let bot = Verdict::NotCounted(Reason::Bot);
            return Outcome {
                seq,
                verdicts: if hit.decisions.is_empty() {
                    vec![(None, bot)]
                } else {
                    hit.decisions
                        .iter()
                        .map(|d| (Some(d.clone()), bot.clone()))
                        .collect()
                },
            };
        }
        let visit = self.visit(hit);
        let click = hit.kind == HitKind::Click;
        let visitor_hash = hit.visitor.map(hash_of);
        let mut verdicts = Vec::with_capacity(hit.decisions.len());
        let mut done: HashSet<&str> = HashSet::new();
        for decision in hit.decisions {
            if !done.insert(decision.activity.as_str()) {
                continue;
            }
            if let Some(impression) = hit.impression_id {
                let key = hash_of((hit.visitor, &decision.activity, impression, click));
                if let Some(of) = self.seen.get(&key) {
                    verdicts.push((Some(decision.clone()), Verdict::Duplicate { of: *of }));
                    continue;
                }
                self.seen.insert(key, seq);
            }
            let tally = self.tallies.entry(decision.clone()).or_default();
            if click {
                tally.clicks += 1;
            } else {
                tally.impressions += 1;
            }
            tally.visits.insert(visit);
            if let Some(v) = visitor_hash {
                tally.visitors.insert(v);
            }
            verdicts.push((Some(decision.clone()), Verdict::Counted));
        }
        Outcome { seq, verdicts }
    }

    /// The visit an event belongs to: a new one after 30 minutes of silence.
    fn visit(&mut self, hit: &Hit) -> u64 {
        let key = hash_of((hit.visitor, hit.session_id));
        let clock = self.visits.entry(key).or_insert(VisitClock {
            last_at: hit.at_ms,
            number: 0,
        });
        if hit.at_ms > clock.last_at + VISIT_IDLE_MS {
            clock.number += 1;
        }
        clock.last_at = clock.last_at.max(hit.at_ms);
        hash_of((key, clock.number))
    }

    /// The counts of one experience.
    pub fn counts(&self, activity: &str, experience: &str) -> Counts {
        self.tallies
            .get(&Decision {
                activity: activity.to_string(),
                experience: experience.to_string(),
            })
            .map(Tally::counts)
            .unwrap_or_default()
    }

    /// Every experience that counted something, in (activity, experience) order.
    pub fn experiences(&self) -> impl Iterator<Item = (&Decision, Counts)> {
        self.tallies.iter().map(|(d, t)| (d, t.counts()))
    }
}

impl Tally {
    fn counts(&self) -> Counts {
        Counts {
            impressions: self.impressions,
            visits: self.visits.len() as u64,
            visitors: self.visitors.len() as u64,
            clicks: self.clicks,
        }
    }
}

#[cfg(test)]
mod tests;
