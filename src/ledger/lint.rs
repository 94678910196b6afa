//! Why Target will or will not count: findings about the journal, and the counts it expects.

use super::event::{Event, ResponseItem};
use super::{Entry, Ledger, State};
use crate::delivery::{looks_like_bot, Location, Notification, NotificationType};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

/// Notifications stamped this far ahead of now are "in the future".
const FUTURE_TOLERANCE_MS: i64 = 60_000;

/// One finding, with the notification or option it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable short code (`prefetched-not-notified`, …).
    pub rule: &'static str,
    /// The notification id, or the location and token of an option.
    pub about: String,
    pub message: String,
}

struct Seen<'a> {
    item: &'a ResponseItem,
    mode: &'a str,
    /// The visitor key, shared by every item of a response.
    visitor: Option<Rc<str>>,
    session_id: &'a str,
    /// Whether a later response replaced this one's decision for the same location.
    superseded: bool,
}

fn short(token: &str) -> String {
    token.chars().take(12).collect::<String>() + "…"
}

/// Every finding for the journal of `ledger`, at `now_ms`.
pub fn lint(ledger: &Ledger, now_ms: i64) -> Vec<Finding> {
    let mut findings = Vec::new();
    let responses = ledger.responses();
    let mut seen: Vec<Seen> = Vec::new();
    let mut session_start: HashMap<&str, i64> = HashMap::new();
    for event in responses {
        if let Event::Response {
            mode,
            visitor,
            session_id,
            at,
            items,
            user_agent,
            beacon,
        } = event
        {
            let who: Option<Rc<str>> = visitor.visitor_key().map(Rc::from);
            let locations: HashSet<String> = items.iter().map(|i| i.location.label()).collect();
            for s in seen.iter_mut().filter(|s| s.visitor == who) {
                if locations.contains(&s.item.location.label()) {
                    s.superseded = true;
                }
            }
            for item in items {
                seen.push(Seen {
                    item,
                    mode,
                    visitor: who.clone(),
                    session_id,
                    superseded: false,
                });
            }
            let start = session_start.entry(session_id.as_str()).or_insert(*at);
            *start = (*start).min(*at);
            if *beacon {
                findings.push(Finding {
                    rule: "beacon",
                    about: format!("{mode} at {at}"),
                    message: "the request used beacon mode: Target answers 204 and no notification id can be checked".into(),
                });
            }
            if let Some(ua) = user_agent.as_deref().filter(|ua| looks_like_bot(ua)) {
                findings.push(Finding {
                    rule: "bot-user-agent",
                    about: format!("{mode} at {at}"),
                    message: format!("user agent looks like a bot ({ua:?}): Target counts no visits or impressions for it"),
                });
            }
        }
    }
    let entries: Vec<&Entry> = ledger.entries().collect();
    let notified_tokens: HashSet<&str> = entries
        .iter()
        .filter(|e| e.kind == NotificationType::Display)
        .flat_map(|e| e.tokens.iter().map(String::as_str))
        .collect();
    for s in seen.iter().filter(|s| {
        s.mode == "prefetch" && s.item.kind == NotificationType::Display && !s.superseded
    }) {
        if let Some(token) = s
            .item
            .token
            .as_deref()
            .filter(|t| !notified_tokens.contains(t))
        {
            findings.push(Finding {
                rule: "prefetched-not-notified",
                about: format!("{} {}", s.item.location.label(), short(token)),
                message: format!(
                    "prefetched, never notified: {} ({}) counts no impression until a display notification carries its eventToken",
                    s.item.location.label(),
                    describe(s.item)
                ),
            });
        }
    }
    let mut impressions_by_token: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for entry in &entries {
        findings.extend(
            lint_notification(&entry.notification())
                .into_iter()
                .map(|mut f| {
                    f.about = entry.id.clone();
                    f
                }),
        );
        lint_entry(entry, &seen, &session_start, now_ms, &mut findings);
        if entry.kind == NotificationType::Display {
            for token in &entry.tokens {
                impressions_by_token
                    .entry(token)
                    .or_default()
                    .insert(&entry.impression_id);
            }
        }
    }
    for (token, impressions) in impressions_by_token {
        if impressions.len() > 1 {
            findings.push(Finding {
                rule: "token-notified-twice",
                about: short(token),
                message: format!(
                    "the eventToken {} was notified with {} different impressionIds: each counts an impression",
                    short(token),
                    impressions.len()
                ),
            });
        }
    }
    findings
}

fn describe(item: &ResponseItem) -> String {
    let activity = item
        .activity_name
        .clone()
        .or_else(|| item.activity.clone())
        .unwrap_or_else(|| "activity ?".into());
    let experience = item
        .experience_name
        .clone()
        .or_else(|| item.experience.clone())
        .unwrap_or_else(|| "?".into());
    format!("{activity} · {experience}")
}

fn lint_entry(
    entry: &Entry,
    seen: &[Seen],
    session_start: &HashMap<&str, i64>,
    now_ms: i64,
    out: &mut Vec<Finding>,
) {
    let about = entry.id.clone();
    let who = entry.visitor.visitor_key();
    if entry.kind == NotificationType::Display
        && entry.location != Location::Page
        && entry.location.state().is_none()
    {
        out.push(Finding {
            rule: "display-without-state",
            about: about.clone(),
            message: format!(
                "display notification for {} without the {} state from the prefetch",
                entry.location.label(),
                entry.location.label()
            ),
        });
    }
    if entry.kind == NotificationType::Display {
        let executed = seen.iter().any(|s| {
            s.mode == "execute"
                && s.visitor.as_deref() == who.as_deref()
                && s.session_id == entry.session_id
                && s.item.location.label() == entry.location.label()
        });
        if executed {
            out.push(Finding {
                rule: "execute-also-notified",
                about: about.clone(),
                message: format!(
                    "{} came from execute, which already counted its impression: this display notification counts it twice",
                    entry.location.label()
                ),
            });
        }
    }
    if !seen.is_empty() {
        for token in &entry.tokens {
            let matches: Vec<&Seen> = seen
                .iter()
                .filter(|s| s.item.token.as_deref() == Some(token.as_str()))
                .collect();
            if matches.is_empty() {
                continue;
            }
            if !matches
                .iter()
                .any(|s| s.visitor.as_deref() == who.as_deref())
            {
                out.push(Finding {
                    rule: "token-from-another-visitor",
                    about: about.clone(),
                    message: format!(
                        "the eventToken {} came from another visitor's response",
                        short(token)
                    ),
                });
            } else if matches
                .iter()
                .filter(|s| s.visitor.as_deref() == who.as_deref())
                .all(|s| s.superseded)
            {
                out.push(Finding {
                    rule: "token-from-older-response",
                    about: about.clone(),
                    message: format!(
                        "the eventToken {} is from an older response; a newer prefetch replaced it",
                        short(token)
                    ),
                });
            }
            if let Some(s) = matches.iter().find(|s| {
                s.visitor.as_deref() == who.as_deref() && s.session_id != entry.session_id
            }) {
                out.push(Finding {
                    rule: "session-changed",
                    about: about.clone(),
                    message: format!(
                        "sessionId changed between prefetch ({}) and notification ({}): a new visit",
                        s.session_id, entry.session_id
                    ),
                });
            }
        }
    }
    if entry.timestamp > now_ms + FUTURE_TOLERANCE_MS {
        out.push(Finding {
            rule: "timestamp-in-future",
            about: about.clone(),
            message: "the notification's timestamp is in the future".into(),
        });
    }
    if let Some(start) = session_start.get(entry.session_id.as_str()) {
        if entry.timestamp < *start - super::super::client::SESSION_IDLE_MS {
            out.push(Finding {
                rule: "timestamp-before-session",
                about,
                message: "the notification's timestamp is older than its session".into(),
            });
        }
    }
}

/// Findings about one wire notification on its own.
pub fn lint_notification(n: &Notification) -> Vec<Finding> {
    let mut out = Vec::new();
    let about = n.id.clone().unwrap_or_else(|| "(no id)".into());
    if n.mbox.is_some() && n.view.is_some() {
        out.push(Finding {
            rule: "mbox-and-view",
            about,
            message:
                "a notification names both a mbox and a view: Target rejects the whole request"
                    .into(),
        });
    }
    out
}

/// Expected counts for one experience.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpectedCounts {
    pub activity: String,
    pub activity_name: Option<String>,
    pub experience: String,
    pub experience_name: Option<String>,
    pub impressions: u64,
    pub clicks: u64,
}

/// What Target should have counted from this journal: an impression per activity of each
/// acknowledged display notification and of each execute answer, a click per acknowledged click.
pub fn expected_counts(ledger: &Ledger) -> Vec<ExpectedCounts> {
    let mut by_token: HashMap<&str, &ResponseItem> = HashMap::new();
    let mut counts: BTreeMap<(String, String), ExpectedCounts> = BTreeMap::new();
    let mut bump = |item: &ResponseItem, impressions: u64, clicks: u64| {
        let (Some(activity), Some(experience)) = (&item.activity, &item.experience) else {
            return;
        };
        let c = counts
            .entry((activity.clone(), experience.clone()))
            .or_insert_with(|| ExpectedCounts {
                activity: activity.clone(),
                experience: experience.clone(),
                ..Default::default()
            });
        c.activity_name = c
            .activity_name
            .clone()
            .or_else(|| item.activity_name.clone());
        c.experience_name = c
            .experience_name
            .clone()
            .or_else(|| item.experience_name.clone());
        c.impressions += impressions;
        c.clicks += clicks;
    };
    for event in ledger.responses() {
        if let Event::Response { mode, items, .. } = event {
            for item in items {
                if let Some(t) = &item.token {
                    by_token.insert(t, item);
                }
                if mode == "execute" && item.kind == NotificationType::Display {
                    bump(item, 1, 0);
                }
            }
        }
    }
    for entry in ledger
        .entries()
        .filter(|e| matches!(e.state, State::Acked { .. }))
    {
        let mut activities = HashSet::new();
        for token in &entry.tokens {
            if let Some(item) = by_token.get(token.as_str()) {
                if !activities.insert(item.activity.clone()) {
                    continue;
                }
                match entry.kind {
                    NotificationType::Display => bump(item, 1, 0),
                    NotificationType::Click => bump(item, 0, 1),
                }
            }
        }
    }
    counts.into_values().collect()
}
