//! Why Target will or will not count: findings about the journal, each naming the visitor, the
//! location, the activity and experience and the page view (response) it is about.
//!
//! Options are matched to notifications by visitor and response, never by eventToken alone:
//! Target's eventTokens are the same for every visitor who gets an experience.

use super::event::ResponseItem;
use super::{Entry, Ledger, LeftOut};
use crate::clock::iso8601;
use crate::counting::visitor_key;
use crate::delivery::{looks_like_bot, Location, Mode, Notification, NotificationType};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Notifications stamped this far ahead of now are "in the future".
const FUTURE_TOLERANCE_MS: i64 = 60_000;

/// One finding, with what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Finding {
    /// A stable short code (`prefetched-not-notified`, …).
    pub rule: &'static str,
    /// The visitor key (tntId, else MCID, else thirdPartyId…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    /// `mbox NAME`, `view NAME`, `pageLoad` or `page`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experience: Option<String>,
    /// The requestId of the response (page view) it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The notification id it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    /// When (ISO-8601, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub message: String,
}

/// A recorded response as the linter reads it.
struct Page<'a> {
    /// Its place in the journal's order.
    seq: u64,
    mode: Mode,
    visitor: Option<String>,
    session_id: &'a str,
    at: i64,
    response: Option<&'a str>,
    items: &'a [ResponseItem],
    user_agent: Option<&'a str>,
    beacon: bool,
    /// An application asked for it through the proxy.
    observed: bool,
    /// The locations a later response of the same visitor decided again, with that response's
    /// place in the journal.
    superseded: HashMap<String, u64>,
}

impl Page<'_> {
    fn has_location(&self, label: &str) -> bool {
        self.items.iter().any(|i| i.location.label() == label)
    }
}

fn short(token: &str) -> String {
    token.chars().take(12).collect::<String>() + "…"
}

fn named(id: &Option<String>, name: &Option<String>) -> Option<String> {
    match (id, name) {
        (Some(id), Some(name)) => Some(format!("{name} ({id})")),
        (Some(id), None) => Some(id.clone()),
        (None, name) => name.clone(),
    }
}

impl Finding {
    /// The finding on one line: rule, who and what, message.
    pub fn line(&self) -> String {
        let f = self;
        let mut about = Vec::new();
        for (label, value) in [
            ("visitor", &f.visitor),
            ("", &f.location),
            ("activity", &f.activity),
            ("experience", &f.experience),
            ("page view", &f.response),
            ("notification", &f.notification),
            ("at", &f.at),
        ] {
            if let Some(v) = value {
                about.push(if label.is_empty() {
                    v.clone()
                } else {
                    format!("{label} {v}")
                });
            }
        }
        format!("[{}] {} — {}", f.rule, about.join(", "), f.message)
    }

    fn about_page(rule: &'static str, page: &Page, message: String) -> Finding {
        Finding {
            rule,
            visitor: page.visitor.clone(),
            response: page.response.map(str::to_string),
            at: Some(iso8601(page.at)),
            message,
            ..Default::default()
        }
    }

    fn about_item(mut self, item: &ResponseItem) -> Finding {
        self.location = Some(item.location.label());
        self.activity = named(&item.activity, &item.activity_name);
        self.experience = named(&item.experience, &item.experience_name);
        self
    }

    fn about_entry(
        rule: &'static str,
        entry: &Entry,
        page_view: Option<&str>,
        item: Option<&ResponseItem>,
        message: String,
    ) -> Finding {
        let finding = Finding {
            rule,
            visitor: visitor_key(&entry.visitor),
            location: Some(entry.location.label()),
            response: page_view.map(str::to_string),
            notification: Some(entry.id.clone()),
            at: Some(iso8601(entry.timestamp)),
            message,
            ..Default::default()
        };
        match item {
            Some(item) => Finding {
                location: Some(entry.location.label()),
                ..finding.about_item(item)
            },
            None => finding,
        }
    }
}

/// Every finding for the journal of `ledger`, at `now_ms`.
pub fn lint(ledger: &Ledger, now_ms: i64) -> Vec<Finding> {
    let mut findings: Vec<Finding> = ledger.left_out().map(incomplete).into_iter().collect();
    let (pages, of_visitor) = pages(ledger);
    let mut session_start: HashMap<&str, i64> = HashMap::new();
    for page in &pages {
        let start = session_start.entry(page.session_id).or_insert(page.at);
        *start = (*start).min(page.at);
    }
    for page in &pages {
        if page.beacon {
            findings.push(Finding::about_page(
                "beacon",
                page,
                format!("the {} used beacon mode: Target answers 204 and no notification id can be checked", page.mode.as_str()),
            ));
        }
        if let Some(ua) = page.user_agent.filter(|ua| looks_like_bot(ua)) {
            findings.push(Finding::about_page(
                "bot-user-agent",
                page,
                format!("user agent looks like a bot ({ua:?}): Target counts no visits or impressions for this visitor"),
            ));
        }
    }
    let entries: Vec<Notified> = ledger
        .entries()
        .map(|entry| Notified {
            entry,
            page_view: page_view(entry, &pages, &of_visitor),
        })
        .collect();
    findings.extend(prefetched_not_notified(&pages, &entries));
    let by_token = token_items(&pages);
    let mut by_response: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, page) in pages.iter().enumerate() {
        if let Some(response) = page.response {
            by_response.entry(response).or_default().push(i);
        }
    }
    let seen = Seen {
        pages: &pages,
        of_visitor: &of_visitor,
        by_response: &by_response,
        by_token: &by_token,
        session_start: &session_start,
    };
    for notified in &entries {
        let entry = notified.entry;
        findings.extend(
            lint_notification(&entry.notification())
                .into_iter()
                .map(|f| Finding {
                    rule: f.rule,
                    message: f.message,
                    ..Finding::about_entry(f.rule, entry, notified.page_view, None, String::new())
                }),
        );
        lint_entry(notified, &seen, now_ms, &mut findings);
    }
    findings.extend(notified_twice(&entries, &by_token));
    findings
}

/// The finding that a proxy left exchanges out of the journal: whatever else the linter says
/// is said without them.
fn incomplete(gap: LeftOut) -> Finding {
    Finding {
        rule: "journal-incomplete",
        at: Some(iso8601(gap.until)),
        message: format!(
            "mboxscope proxy forwarded {} exchanges between {} and {} that it left out of this journal (its writer fell behind the traffic, or the journal could not be written): the expected counts and these findings miss them, and a notification whose page view was left out is judged without it",
            gap.count,
            iso8601(gap.since),
            iso8601(gap.until)
        ),
        ..Default::default()
    }
}

/// The page views the linter reads, and where to find them.
struct Seen<'a, 'b> {
    pages: &'b [Page<'a>],
    of_visitor: &'b Visitors,
    /// The pages of each requestId, oldest first.
    by_response: &'b HashMap<&'a str, Vec<usize>>,
    by_token: &'b HashMap<&'a str, &'a ResponseItem>,
    /// When each session's first page view was.
    session_start: &'b HashMap<&'a str, i64>,
}

/// A notification with the page view (requestId) it is about.
struct Notified<'a> {
    entry: &'a Entry,
    page_view: Option<&'a str>,
}

/// The page view a notification is about: the one it names (mboxscope's own notifications
/// name theirs); else, for an application's notification seen through the proxy, the page view
/// of its visitor that decided an item carrying its token: the one whose state it sends back
/// when it sends one, else the latest one journaled before it (none when no page view before it
/// carries the token: its own page view is not in the journal). Two page views of a visitor
/// decide the same option with the same eventToken, so the token alone cannot tell them apart.
fn page_view<'a>(entry: &'a Entry, pages: &[Page<'a>], of_visitor: &Visitors) -> Option<&'a str> {
    if let Some(named) = entry.response.as_deref() {
        return Some(named);
    }
    let own = of_visitor.get(&visitor_key(&entry.visitor))?;
    let carrying = || {
        own.iter().map(|&i| &pages[i]).filter(|page| {
            page.items
                .iter()
                .any(|i| i.token.as_ref().is_some_and(|t| entry.tokens.contains(t)))
        })
    };
    let in_state = entry.location.state().and_then(|state| {
        carrying().find(|page| {
            page.items.iter().any(|i| {
                i.location.state() == Some(state)
                    && i.token.as_ref().is_some_and(|t| entry.tokens.contains(t))
            })
        })
    });
    in_state
        .or_else(|| carrying().rfind(|page| page.seq < entry.seq))
        .and_then(|page| page.response)
}

/// Each visitor's pages (their places in the linter's list, oldest first).
type Visitors = HashMap<Option<String>, Vec<usize>>;

/// The recorded responses, each knowing which of its locations a later response of the same
/// visitor decided again, and each visitor's.
fn pages(ledger: &Ledger) -> (Vec<Page<'_>>, Visitors) {
    let mut pages: Vec<Page> = Vec::new();
    let mut of_visitor = Visitors::new();
    for (seq, view) in ledger.responses() {
        let page = Page {
            seq,
            mode: view.mode,
            visitor: visitor_key(&view.visitor),
            session_id: &view.session_id,
            at: view.at,
            response: view.response.as_deref(),
            items: &view.items,
            user_agent: view.user_agent.as_deref(),
            beacon: view.beacon,
            observed: view.observed,
            superseded: HashMap::new(),
        };
        let labels: HashSet<String> = view.items.iter().map(|i| i.location.label()).collect();
        let earlier = of_visitor.entry(page.visitor.clone()).or_default();
        for &i in earlier.iter() {
            // An application's page views (seen through the proxy) are renders of their own:
            // the next one does not replace them.
            if view.observed || pages[i].observed {
                continue;
            }
            for label in &labels {
                if pages[i].has_location(label) {
                    pages[i].superseded.entry(label.clone()).or_insert(seq);
                }
            }
        }
        earlier.push(pages.len());
        pages.push(page);
    }
    (pages, of_visitor)
}

/// The first recorded option or metric for each token (for names and activities).
fn token_items<'a>(pages: &[Page<'a>]) -> HashMap<&'a str, &'a ResponseItem> {
    let mut out = HashMap::new();
    for page in pages {
        for item in page.items {
            if let Some(t) = item.token.as_deref() {
                out.entry(t).or_insert(item);
            }
        }
    }
    out
}

/// The page views (see [`page_view`]) each visitor's display notifications are about, by the
/// tokens they carry (`None`: a notification whose page view is not known).
type Displayed<'a> = HashMap<Option<String>, HashMap<&'a str, Vec<Option<&'a str>>>>;

fn displayed<'a>(entries: &[Notified<'a>]) -> Displayed<'a> {
    let mut out: Displayed = HashMap::new();
    for notified in entries
        .iter()
        .filter(|n| n.entry.kind == NotificationType::Display)
    {
        let of_visitor = out.entry(visitor_key(&notified.entry.visitor)).or_default();
        for token in &notified.entry.tokens {
            of_visitor
                .entry(token.as_str())
                .or_default()
                .push(notified.page_view);
        }
    }
    out
}

/// Whether a display notification of `page`'s visitor carried `token` about `page` (or about a
/// page view it does not know).
fn was_displayed(displayed: &Displayed, page: &Page, token: &str) -> bool {
    let about = displayed.get(&page.visitor).and_then(|t| t.get(token));
    about
        .into_iter()
        .flatten()
        .any(|page_view| match (page_view, page.response) {
            (Some(about), Some(page)) => *about == page,
            _ => true,
        })
}

/// Prefetched options of each visitor's page view that no display notification of that
/// visitor carried (unless a later response of the visitor replaced the location).
fn prefetched_not_notified(pages: &[Page], entries: &[Notified]) -> Vec<Finding> {
    let displayed = displayed(entries);
    let mut out = Vec::new();
    for page in pages.iter().filter(|p| p.mode == Mode::Prefetch) {
        for item in page.items.iter().filter(|i| {
            i.kind == NotificationType::Display
                && !page.superseded.contains_key(&i.location.label())
        }) {
            let Some(token) = item.token.as_deref() else {
                continue;
            };
            if was_displayed(&displayed, page, token) {
                continue;
            }
            out.push(
                Finding::about_page(
                    "prefetched-not-notified",
                    page,
                    format!(
                        "prefetched, never notified: {} ({}) for visitor {} counts no impression until a display notification carries its eventToken",
                        item.location.label(),
                        describe(item),
                        page.visitor.as_deref().unwrap_or("?"),
                    ),
                )
                .about_item(item),
            );
        }
    }
    out
}

/// The same visitor notifying the same response's option with different impressionIds (or
/// more than once without one): each counts an impression.
fn notified_twice(entries: &[Notified], by_token: &HashMap<&str, &ResponseItem>) -> Vec<Finding> {
    type Key<'a> = (Option<String>, Option<&'a str>, &'a str);
    let mut groups: BTreeMap<Key, (Vec<&Entry>, BTreeSet<Option<&str>>)> = BTreeMap::new();
    for notified in entries
        .iter()
        .filter(|n| n.entry.kind == NotificationType::Display)
    {
        let entry = notified.entry;
        for token in &entry.tokens {
            let group = groups
                .entry((
                    visitor_key(&entry.visitor),
                    notified.page_view,
                    token.as_str(),
                ))
                .or_default();
            group.0.push(entry);
            group.1.insert(entry.impression_id.as_deref());
        }
    }
    let mut out = Vec::new();
    for ((_, page_view, token), (list, impressions)) in groups {
        let without = list.iter().filter(|e| e.impression_id.is_none()).count();
        let counted = impressions.iter().flatten().count() + without;
        if counted > 1 {
            let last = list.last().expect("a group has an entry");
            out.push(Finding::about_entry(
                "token-notified-twice",
                last,
                page_view,
                by_token.get(token).copied(),
                format!(
                    "the eventToken {} of this page view was notified {} times under different impressionIds (or none): each counts an impression",
                    short(token),
                    counted
                ),
            ));
        }
    }
    out
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

fn lint_entry(notified: &Notified, seen: &Seen, now_ms: i64, out: &mut Vec<Finding>) {
    let (entry, page_view) = (notified.entry, notified.page_view);
    let Seen {
        pages, by_token, ..
    } = seen;
    let who = visitor_key(&entry.visitor);
    let of_response = |response: &str| {
        let places = seen.by_response.get(response).map(Vec::as_slice);
        places.unwrap_or_default().iter().map(|&i| &pages[i])
    };
    let of_who = || {
        let places = seen.of_visitor.get(&who).map(Vec::as_slice);
        places.unwrap_or_default().iter().map(|&i| &pages[i])
    };
    let item = entry
        .tokens
        .iter()
        .find_map(|t| by_token.get(t.as_str()).copied());
    let finding = |rule, message| Finding::about_entry(rule, entry, page_view, item, message);
    let label = entry.location.label();
    if entry.kind == NotificationType::Display
        && entry.location != Location::Page
        && entry.location.state().is_none()
    {
        out.push(finding(
            "display-without-state",
            format!("display notification for {label} without the {label} state from the prefetch"),
        ));
    }
    if entry.impression_id.is_none() && entry.attempts > 1 {
        out.push(finding(
            "retry-without-impression-id",
            format!(
                "sent {} times without an impressionId: every attempt that reached Target counted again",
                entry.attempts
            ),
        ));
    }
    if let Some(ua) = entry
        .context
        .as_ref()
        .and_then(|c| c.user_agent.as_deref())
        .filter(|ua| looks_like_bot(ua))
    {
        // The page view's own finding says it when the page view was asked for as a bot too.
        if !page_view
            .into_iter()
            .flat_map(of_response)
            .any(|p| p.user_agent.is_some_and(looks_like_bot))
        {
            out.push(finding(
                "bot-user-agent",
                format!("the notification's user agent looks like a bot ({ua:?}): Target counts nothing for it"),
            ));
        }
    }
    // The page view the notification is about (see `page_view`).
    let named = page_view.and_then(|r| of_response(r).next_back());
    let carries = |p: &&Page| {
        p.items
            .iter()
            .any(|i| i.token.as_ref().is_some_and(|t| entry.tokens.contains(t)))
    };
    match named {
        Some(page) if page.visitor != who => out.push(finding(
            "token-from-another-visitor",
            format!(
                "the tokens came from visitor {}'s response, not this visitor's",
                page.visitor.as_deref().unwrap_or("?")
            ),
        )),
        Some(_) => {}
        None => {
            let carried = entry
                .tokens
                .iter()
                .any(|t| by_token.contains_key(t.as_str()));
            if carried && !of_who().any(|p| carries(&p)) {
                out.push(finding(
                    "token-from-another-visitor",
                    "its eventTokens came only from other visitors' responses".into(),
                ));
            }
        }
    }
    let own: Vec<&Page> = match named {
        Some(page) if page.visitor == who => vec![page],
        Some(_) => Vec::new(),
        None => of_who().filter(carries).collect(),
    };
    // An application's page views are renders of their own: a later one replaces nothing.
    if !entry.observed
        && !own.is_empty()
        && own.iter().all(|p| {
            p.superseded
                .get(&label)
                .is_some_and(|later| *later < entry.seq)
        })
    {
        out.push(finding(
            "token-from-older-response",
            format!("the tokens are from an older response: a newer one had replaced {label} before this was queued"),
        ));
    }
    if let Some(page) = own.iter().find(|p| p.session_id != entry.session_id) {
        out.push(finding(
            "session-changed",
            format!(
                "sessionId changed between the {} ({}) and the notification ({}): a new visit",
                page.mode.as_str(),
                page.session_id,
                entry.session_id
            ),
        ));
    }
    if entry.kind == NotificationType::Display {
        let executed = match named {
            Some(page) => page.mode == Mode::Execute,
            None => of_who().any(|p| {
                p.mode == Mode::Execute
                    && p.session_id == entry.session_id
                    && p.has_location(&label)
            }),
        };
        if executed {
            out.push(finding(
                "execute-also-notified",
                format!("{label} came from execute, which already counted its impression: this display notification counts it twice"),
            ));
        }
    }
    if entry.timestamp > now_ms + FUTURE_TOLERANCE_MS {
        out.push(finding(
            "timestamp-in-future",
            "the notification's timestamp is in the future".into(),
        ));
    }
    if let Some(start) = seen.session_start.get(entry.session_id.as_str()) {
        if entry.timestamp < *start - crate::counting::VISIT_IDLE_MS {
            out.push(finding(
                "timestamp-before-session",
                "the notification's timestamp is older than its session".into(),
            ));
        }
    }
}

/// Findings about one wire notification on its own.
pub fn lint_notification(n: &Notification) -> Vec<Finding> {
    let mut out = Vec::new();
    if n.mbox.is_some() && n.view.is_some() {
        out.push(Finding {
            rule: "mbox-and-view",
            notification: n.id.clone(),
            message:
                "a notification names both a mbox and a view: Target rejects the whole request"
                    .into(),
            ..Default::default()
        });
    }
    out
}
