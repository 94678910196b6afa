//! What a check's acknowledged notifications should move on a `mboxscope serve`'s `/report`,
//! by the counting model (`crate::counting`), and what did move.

use crate::counting::report::id_key;
use crate::counting::{ActivityReport, Counter, Counts, Decision, Report};
use crate::ledger::{Entry, ResponseItem};
use std::collections::BTreeMap;

/// The counts per (activity, experience) of one report section.
fn section(activities: &[ActivityReport]) -> BTreeMap<(String, String), Counts> {
    activities
        .iter()
        .flat_map(|a| {
            a.experiences
                .iter()
                .map(move |e| ((id_key(&a.id), id_key(&e.id)), e.counts()))
        })
        .collect()
}

/// The live section, or the Activity QA one for QA traffic.
fn counted(report: &Report, qa: bool) -> BTreeMap<(String, String), Counts> {
    section(if qa { &report.qa } else { &report.activities })
}

/// What the model says `acked` notifications count, given the page view's `items` (which
/// token is which activity and experience).
pub fn expected(
    items: &[ResponseItem],
    acked: &[&Entry],
    bot_filter: bool,
) -> BTreeMap<(String, String), Counts> {
    let mut counter = Counter::new(bot_filter);
    for entry in acked {
        let decisions: Vec<Decision> = entry
            .tokens
            .iter()
            .filter_map(|t| {
                items
                    .iter()
                    .find(|i| i.kind == entry.kind && i.token.as_ref() == Some(t))
            })
            .filter_map(ResponseItem::decision)
            .collect();
        entry.observe_in(&mut counter, &decisions);
    }
    counter
        .experiences()
        .map(|(d, c)| ((d.activity.clone(), d.experience.clone()), c))
        .collect()
}

fn minus(after: Counts, before: Counts) -> Counts {
    Counts {
        impressions: after.impressions.saturating_sub(before.impressions),
        visits: after.visits.saturating_sub(before.visits),
        visitors: after.visitors.saturating_sub(before.visitors),
        clicks: after.clicks.saturating_sub(before.clicks),
    }
}

fn describe(c: &Counts, with_visitors: bool) -> String {
    let visitors = if with_visitors {
        format!(" +{} visitors", c.visitors)
    } else {
        String::new()
    };
    format!(
        "+{} impressions +{} visits{visitors} +{} clicks",
        c.impressions, c.visits, c.clicks
    )
}

/// The experiences whose counts moved between `before` and `after` other than `expected`
/// says, one line each. `qa` reads the Activity QA section; `with_visitors` off leaves
/// visitors out (a fixed visitor may have been counted before this run).
pub fn differences(
    expected: &BTreeMap<(String, String), Counts>,
    before: &Report,
    after: &Report,
    qa: bool,
    with_visitors: bool,
) -> Vec<String> {
    let (before, after) = (counted(before, qa), counted(after, qa));
    let mut keys: Vec<&(String, String)> = expected.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let want = expected.get(key).copied().unwrap_or_default();
        let moved = minus(
            after.get(key).copied().unwrap_or_default(),
            before.get(key).copied().unwrap_or_default(),
        );
        let same = want.impressions == moved.impressions
            && want.visits == moved.visits
            && want.clicks == moved.clicks
            && (!with_visitors || want.visitors == moved.visitors);
        if !same {
            out.push(format!(
                "counts of activity {} experience {}{}: expected {}, counted {}",
                key.0,
                key.1,
                if qa { " (Activity QA)" } else { "" },
                describe(&want, with_visitors),
                describe(&moved, with_visitors)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{Context, Location, NotificationType, VisitorId};
    use crate::ledger::{QueuedNotification, State};

    fn item(token: &str, kind: NotificationType) -> ResponseItem {
        ResponseItem {
            location: Location::PageLoad { state: None },
            token: Some(token.into()),
            kind,
            activity: Some("312370".into()),
            activity_name: None,
            experience: Some("1".into()),
            experience_name: None,
        }
    }

    fn entry(token: &str, kind: NotificationType, user_agent: &str) -> Entry {
        Entry {
            notification: QueuedNotification {
                id: format!("id-{token}"),
                impression_id: Some(format!("imp-{token}")),
                kind,
                timestamp: 1_000,
                visitor: VisitorId {
                    tnt_id: Some("v1.28_0".into()),
                    ..Default::default()
                },
                session_id: "s1".into(),
                location: Location::PageLoad { state: None },
                tokens: vec![token.into()],
                at: 1_000,
                context: Some(Context {
                    user_agent: Some(user_agent.into()),
                    ..Default::default()
                }),
                response: None,
                observed: false,
            },
            attempts: 1,
            property_token: None,
            state: State::Acked { at: 1_000 },
            verdict: None,
            seq: 1,
        }
    }

    fn report(impressions: u64, visitors: u64, clicks: u64) -> Report {
        report_with(impressions, visitors, visitors, clicks)
    }

    fn report_with(impressions: u64, visits: u64, visitors: u64, clicks: u64) -> Report {
        serde_json::from_value(serde_json::json!({
            "activities": [{"id": 312370, "name": "Welcome banner", "experiences": [
                {"id": 1, "name": "Firefox visitors", "impressions": impressions, "visits": visits,
                 "visitors": visitors, "clicks": clicks}]}],
            "notifications": {"received": 0, "accepted": 0, "rejected": 0, "duplicates": 0}
        }))
        .unwrap()
    }

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

    #[test]
    fn a_display_and_a_click_count_one_impression_one_click_one_visit() {
        let items = [
            item("d", NotificationType::Display),
            item("c", NotificationType::Click),
        ];
        let acked = [
            entry("d", NotificationType::Display, FIREFOX),
            entry("c", NotificationType::Click, FIREFOX),
        ];
        let acked: Vec<&Entry> = acked.iter().collect();
        let want = expected(&items, &acked, true);
        let key = ("312370".to_string(), "1".to_string());
        assert_eq!(
            want[&key],
            Counts {
                impressions: 1,
                visits: 1,
                visitors: 1,
                clicks: 1
            }
        );
        assert!(differences(&want, &report(4, 2, 0), &report(5, 3, 1), false, true).is_empty());
        let missing = differences(&want, &report(4, 2, 0), &report(4, 2, 1), false, true);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].contains("expected +1 impressions +1 visits +1 visitors +1 clicks, counted +0 impressions +0 visits +0 visitors +1 clicks"), "{}", missing[0]);
        // A fixed visitor may have been counted before: its visitors are not compared.
        let (before, after) = (report_with(4, 2, 3, 0), report_with(5, 3, 3, 1));
        assert!(differences(&want, &before, &after, false, false).is_empty());
        assert_eq!(differences(&want, &before, &after, false, true).len(), 1);
        // QA traffic is read from the QA section, where nothing moved here.
        assert_eq!(
            differences(&want, &report(4, 2, 0), &report(5, 3, 1), true, true).len(),
            1
        );
    }

    #[test]
    fn bots_count_nothing_unless_the_server_counts_them() {
        let items = [item("d", NotificationType::Display)];
        let acked = [entry("d", NotificationType::Display, "curl/8.0")];
        let acked: Vec<&Entry> = acked.iter().collect();
        assert!(expected(&items, &acked, true).is_empty());
        assert_eq!(expected(&items, &acked, false).len(), 1);
        let moved = differences(
            &expected(&items, &acked, true),
            &report(0, 0, 0),
            &report(1, 1, 0),
            false,
            true,
        );
        assert_eq!(moved.len(), 1, "an unexpected count is a difference too");
    }
}
