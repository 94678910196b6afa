//! Traffic an application sent through `mboxscope proxy`, journaled as observed: its prefetch
//! and execute answers as page views (as the tool's own), its notifications as entries that
//! mboxscope never sends, with what Target answered (acknowledged or rejected).

use super::event::{Event, QueuedNotification, ResponseItem};
use super::record::{page_view_event, response_items, Answer};
use super::{Journal, JournalError, Ledger, LeftOut};
use crate::delivery::{
    DeliveryRequest, DeliveryResponse, Location, Mode, Notification, NotificationType, VisitorId,
};

/// What the journal keeps of a Delivery response: the visitor and requestId it names, the
/// options and click metrics it decided, and the notification ids it echoed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseDigest {
    pub visitor: Option<VisitorId>,
    pub request_id: Option<String>,
    /// As the `response` event keeps them, in the response's order.
    pub items: Vec<ResponseItem>,
    /// The ids of `notifications` (acknowledged).
    pub acknowledged: Vec<String>,
}

impl ResponseDigest {
    /// The digest of a parsed response.
    pub fn of(response: &DeliveryResponse) -> ResponseDigest {
        ResponseDigest {
            visitor: response.id.clone(),
            request_id: response.request_id.clone(),
            items: response_items(response),
            acknowledged: response
                .notifications
                .iter()
                .flatten()
                .filter_map(|n| n.id.clone())
                .collect(),
        }
    }
}

/// One Delivery API exchange the proxy forwarded; its answer's digest is moved into the
/// journal's events (its items are not copied).
#[derive(Debug, Clone)]
pub struct Exchange<'a> {
    /// The `sessionId` query parameter.
    pub session_id: &'a str,
    pub request: &'a DeliveryRequest,
    /// The upstream's answer when it was a Delivery response (2xx).
    pub response: Option<ResponseDigest>,
    /// Why the request failed as a whole (the upstream's error, or that it was unreachable).
    pub failure: Option<&'a str>,
    /// When the answer came (ms).
    pub at: i64,
}

impl Ledger {
    /// Journals exchanges with one write (one fsync), without waiting for another process's
    /// lock: [`JournalError::Locked`] then, and nothing is written.
    pub fn record_observed(&mut self, exchanges: Vec<Exchange>) -> Result<(), JournalError> {
        self.record_observed_after(None, exchanges)
    }

    /// [`record_observed`](Self::record_observed), first saying in the same write that the
    /// proxy left `left_out` exchanges out of the journal.
    pub fn record_observed_after(
        &mut self,
        left_out: Option<LeftOut>,
        exchanges: Vec<Exchange>,
    ) -> Result<(), JournalError> {
        self.write_locked(Journal::lock_briefly, |ledger| {
            let mut events = Vec::with_capacity(exchanges.len() + 1);
            events.extend(left_out.map(|gap| Event::LeftOut {
                count: gap.count,
                since: gap.since,
                at: gap.until,
            }));
            let mut attempts = std::collections::HashMap::new();
            for exchange in exchanges {
                ledger.observed_events(exchange, &mut attempts, &mut events);
            }
            (events, ())
        })
    }

    /// The events of one exchange; `attempts` counts the sends of ids seen earlier in the
    /// same write.
    fn observed_events(
        &self,
        mut exchange: Exchange,
        attempts: &mut std::collections::HashMap<String, u32>,
        events: &mut Vec<Event>,
    ) {
        let request = exchange.request;
        // The page view is journaled after the notifications its request carried: those are
        // about earlier page views (an SDK sends them with its next call), never about this one.
        let mut page_view = None;
        if let Some(response) = exchange.response.as_mut() {
            if request.execute.is_some() || request.prefetch.is_some() {
                let mode = if request.execute.is_some() {
                    Mode::Execute
                } else {
                    Mode::Prefetch
                };
                let answer = Answer {
                    visitor: response.visitor.as_ref(),
                    request_id: response.request_id.as_deref(),
                    items: std::mem::take(&mut response.items),
                };
                page_view = Some(page_view_event(
                    mode,
                    request,
                    exchange.session_id,
                    answer,
                    true,
                ));
            }
        }
        let visitor = request
            .id
            .clone()
            .or_else(|| exchange.response.as_ref()?.visitor.clone())
            .unwrap_or_default();
        for n in request.notifications.iter().flatten() {
            let id = n.id.clone().unwrap_or_else(crate::ids::uuid_string);
            let earlier = attempts
                .get(&id)
                .copied()
                .or_else(|| self.entry(&id).map(|e| e.attempts));
            if earlier.is_none() {
                events.push(Event::Queued {
                    notification: Box::new(QueuedNotification {
                        id: id.clone(),
                        impression_id: n.impression_id.clone(),
                        kind: n
                            .notification_type
                            .as_deref()
                            .and_then(|t| t.parse().ok())
                            .unwrap_or(NotificationType::Display),
                        timestamp: n.timestamp.unwrap_or(exchange.at),
                        visitor: visitor.clone(),
                        session_id: exchange.session_id.to_string(),
                        location: location(n),
                        tokens: n.tokens.clone().unwrap_or_default(),
                        at: exchange.at,
                        context: request.context.clone(),
                        response: None,
                        observed: true,
                    }),
                    property_token: None,
                });
            }
            let attempt = earlier.unwrap_or(0) + 1;
            attempts.insert(id.clone(), attempt);
            events.push(Event::Sent {
                id: id.clone(),
                attempt,
                at: exchange.at,
            });
            events.push(outcome(&exchange, id));
        }
        events.extend(page_view);
    }
}

/// Acknowledged when the answer echoes the id; else rejected, with why.
fn outcome(exchange: &Exchange, id: String) -> Event {
    let echoed = exchange
        .response
        .as_ref()
        .is_some_and(|r| r.acknowledged.contains(&id));
    if echoed {
        return Event::Acked {
            id,
            at: exchange.at,
        };
    }
    Event::Failed {
        id,
        reason: match exchange.failure {
            Some(why) => format!("rejected: {why}"),
            None => "rejected: the answer did not echo its id (not processed)".into(),
        },
        retryable: false,
        at: exchange.at,
    }
}

/// The location a wire notification names.
fn location(n: &Notification) -> Location {
    if let Some(mbox) = &n.mbox {
        Location::Mbox {
            name: mbox.name.clone().unwrap_or_default(),
            state: mbox.state.clone(),
        }
    } else if let Some(view) = &n.view {
        Location::View {
            name: view.name.clone().unwrap_or_default(),
            key: view.key.clone(),
            state: view.state.clone(),
        }
    } else if let Some(page_load) = &n.page_load {
        Location::PageLoad {
            state: page_load.state.clone(),
        }
    } else {
        Location::Page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::lint::lint;
    use crate::ledger::State;
    use serde_json::json;

    fn prefetch(tnt: &str, request_id: &str) -> (DeliveryRequest, ResponseDigest) {
        prefetch_in_state(tnt, request_id, "st")
    }

    /// A prefetch of home-hero whose answer gives the mbox `state`.
    fn prefetch_in_state(
        tnt: &str,
        request_id: &str,
        state: &str,
    ) -> (DeliveryRequest, ResponseDigest) {
        let request = json!({
            "requestId": request_id,
            "id": {"tntId": tnt},
            "context": {"channel": "web", "userAgent": "Mozilla/5.0 (X11) Chrome/120"},
            "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}
        });
        let response = json!({
            "status": 200, "requestId": request_id, "id": {"tntId": tnt},
            "prefetch": {"mboxes": [{"index": 1, "name": "home-hero", "state": state,
                "options": [{"type": "html", "content": "A", "eventToken": "tok-a",
                    "responseTokens": {"activity.id": "312345", "experience.id": "0"}}]}]}
        });
        let response: DeliveryResponse = serde_json::from_value(response).unwrap();
        (
            serde_json::from_value(request).unwrap(),
            ResponseDigest::of(&response),
        )
    }

    fn display(tnt: &str, id: &str, impression: Option<&str>) -> DeliveryRequest {
        display_in_state(tnt, id, impression, Some("st"))
    }

    /// A display notification of home-hero's token, with the mbox `state` when given.
    fn display_in_state(
        tnt: &str,
        id: &str,
        impression: Option<&str>,
        state: Option<&str>,
    ) -> DeliveryRequest {
        let mut n = json!({"id": id, "type": "display", "timestamp": crate::clock::now_ms(),
            "mbox": {"name": "home-hero"}, "tokens": ["tok-a"]});
        if let Some(state) = state {
            n["mbox"]["state"] = json!(state);
        }
        if let Some(i) = impression {
            n["impressionId"] = json!(i);
        }
        serde_json::from_value(json!({
            "id": {"tntId": tnt},
            "context": {"channel": "web", "userAgent": "Mozilla/5.0 (X11) Chrome/120"},
            "notifications": [n]
        }))
        .unwrap()
    }

    fn acked(id: &str) -> ResponseDigest {
        let response: DeliveryResponse =
            serde_json::from_value(json!({"status": 200, "notifications": [{"id": id}]})).unwrap();
        ResponseDigest::of(&response)
    }

    fn exchange<'a>(
        request: &'a DeliveryRequest,
        response: Option<&ResponseDigest>,
        failure: Option<&'a str>,
    ) -> Exchange<'a> {
        Exchange {
            session_id: "s1",
            request,
            response: response.cloned(),
            failure,
            at: crate::clock::now_ms(),
        }
    }

    fn open() -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("j.jsonl")).unwrap();
        (dir, ledger)
    }

    #[test]
    fn an_applications_traffic_is_counted_and_linted_like_the_tools_own() {
        let (_dir, mut ledger) = open();
        let (request_a, response_a) = prefetch("a", "r1");
        let (request_b, response_b) = prefetch("b", "r2");
        let notify = display("a", "n1", Some("i1"));
        let ack = acked("n1");
        ledger
            .record_observed(vec![
                exchange(&request_a, Some(&response_a), None),
                exchange(&request_b, Some(&response_b), None),
                exchange(&notify, Some(&ack), None),
            ])
            .unwrap();
        let entry = ledger.entry("n1").unwrap();
        assert!(entry.observed);
        assert!(matches!(entry.state, State::Acked { .. }));
        assert!(
            !entry.is_pending(),
            "mboxscope never sends what it observed"
        );
        assert_eq!(entry.verdict.as_deref(), Some("counted 1 impression"));
        let counts = ledger.expected();
        assert_eq!(counts.len(), 1);
        assert_eq!((counts[0].impressions, counts[0].visitors), (1, 1));
        let never: Vec<_> = lint(&ledger, crate::clock::now_ms())
            .into_iter()
            .filter(|f| f.rule == "prefetched-not-notified")
            .map(|f| f.visitor.unwrap())
            .collect();
        assert_eq!(never, ["b"]);
        // Read again from the file: the same.
        let again = Ledger::open_read_only(ledger.path()).unwrap();
        assert_eq!(again.entry("n1").unwrap(), ledger.entry("n1").unwrap());
    }

    /// Visitor `a`'s two page views of home-hero (r1 in state st1, r2 in st2) and a display
    /// of each (n1, n2, with impressionIds i1, i2 and `states`), each with its answer.
    struct TwoPageViews {
        pages: [(DeliveryRequest, ResponseDigest); 2],
        displays: [(DeliveryRequest, ResponseDigest); 2],
    }

    fn two_page_views(states: [Option<&str>; 2]) -> TwoPageViews {
        TwoPageViews {
            pages: [
                prefetch_in_state("a", "r1", "st1"),
                prefetch_in_state("a", "r2", "st2"),
            ],
            displays: [
                (
                    display_in_state("a", "n1", Some("i1"), states[0]),
                    acked("n1"),
                ),
                (
                    display_in_state("a", "n2", Some("i2"), states[1]),
                    acked("n2"),
                ),
            ],
        }
    }

    impl TwoPageViews {
        /// Page view `i` (0: r1, 1: r2) as the proxy saw it.
        fn page(&self, i: usize) -> Exchange<'_> {
            exchange(&self.pages[i].0, Some(&self.pages[i].1), None)
        }

        /// The display of page view `i`, acknowledged.
        fn display(&self, i: usize) -> Exchange<'_> {
            exchange(&self.displays[i].0, Some(&self.displays[i].1), None)
        }
    }

    /// The rules the linter found for visitor `a`'s traffic, with the page view each is about.
    fn findings(ledger: &Ledger) -> Vec<(&'static str, Option<String>)> {
        let mut found: Vec<_> = lint(ledger, crate::clock::now_ms())
            .into_iter()
            .map(|f| (f.rule, f.response))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn an_application_notifying_each_page_view_once_is_not_said_to_notify_twice() {
        // Two page views of one visitor decide the same option (the same eventToken); the
        // application notifies each once, with its own impressionId and that page's state.
        let (_dir, mut ledger) = open();
        let views = two_page_views([Some("st1"), Some("st2")]);
        ledger
            .record_observed(vec![
                views.page(0),
                views.display(0),
                views.page(1),
                views.display(1),
            ])
            .unwrap();
        assert_eq!(findings(&ledger), []);
        assert_eq!(ledger.expected()[0].impressions, 2);
        // The first page view notified again under another impressionId: found, and about it.
        let again = display_in_state("a", "n3", Some("i3"), Some("st1"));
        let ack3 = acked("n3");
        ledger
            .record_observed(vec![exchange(&again, Some(&ack3), None)])
            .unwrap();
        assert_eq!(
            findings(&ledger),
            [("token-notified-twice", Some("r1".to_string()))]
        );
    }

    #[test]
    fn each_page_view_an_application_never_notified_is_found() {
        // A backend prefetches twice for one visitor (two page renders) and never notifies:
        // two impressions lost, one finding each.
        let (_dir, mut ledger) = open();
        let views = two_page_views([None, None]);
        ledger
            .record_observed(vec![views.page(0), views.page(1)])
            .unwrap();
        assert_eq!(
            findings(&ledger),
            [
                ("prefetched-not-notified", Some("r1".to_string())),
                ("prefetched-not-notified", Some("r2".to_string()))
            ]
        );
    }

    #[test]
    fn without_a_state_a_notification_is_about_the_latest_page_view_before_it() {
        let (_dir, mut ledger) = open();
        let views = two_page_views([None, None]);
        let mut exchanges = vec![
            views.page(0),
            views.display(0),
            views.page(1),
            views.display(1),
        ];
        let start = crate::clock::now_ms();
        for (i, exchange) in exchanges.iter_mut().enumerate() {
            exchange.at = start + 1 + i as i64;
        }
        ledger.record_observed(exchanges).unwrap();
        let rules: Vec<&str> = findings(&ledger)
            .into_iter()
            .map(|(rule, _)| rule)
            .collect();
        assert_eq!(rules, ["display-without-state", "display-without-state"]);
    }

    #[test]
    fn a_notification_sent_with_the_next_prefetch_is_about_the_page_view_before() {
        // An SDK sends the display of page view 1 with the request of page view 2.
        let (_dir, mut ledger) = open();
        let views = two_page_views([None, None]);
        let mut second_with_display = views.pages[1].0.clone();
        second_with_display.notifications = views.displays[0].0.notifications.clone();
        let mut answer = views.pages[1].1.clone();
        answer.acknowledged = vec!["n1".into()];
        ledger
            .record_observed(vec![
                views.page(0),
                exchange(&second_with_display, Some(&answer), None),
                views.display(1),
            ])
            .unwrap();
        assert_eq!(
            findings(&ledger),
            [
                ("display-without-state", Some("r1".to_string())),
                ("display-without-state", Some("r2".to_string()))
            ]
        );
    }

    #[test]
    fn a_notification_whose_page_view_is_not_journaled_is_about_none_after_it() {
        let (_dir, mut ledger) = open();
        let views = two_page_views([Some("st-unknown"), Some("st2")]);
        ledger
            .record_observed(vec![views.display(0), views.page(1), views.display(1)])
            .unwrap();
        let rules: Vec<&str> = findings(&ledger)
            .into_iter()
            .map(|(rule, _)| rule)
            .collect();
        assert!(!rules.contains(&"token-notified-twice"), "{rules:?}");
    }

    #[test]
    fn journals_written_before_page_views_were_marked_observed_lint_as_before() {
        let (dir, mut ledger) = open();
        let views = two_page_views([Some("st1"), Some("st2")]);
        ledger
            .record_observed(vec![
                views.page(0),
                views.page(1),
                views.display(0),
                views.display(1),
            ])
            .unwrap();
        let path = dir.path().join("j.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#","observed":true"#));
        // Page views lacked the flag (notifications had it already).
        let old: Vec<String> = text
            .lines()
            .map(|line| match line.starts_with(r#"{"event":"response""#) {
                true => line.replace(r#","observed":true"#, ""),
                false => line.to_string(),
            })
            .collect();
        std::fs::write(&path, old.join("\n") + "\n").unwrap();
        let old = Ledger::open_read_only(&path).unwrap();
        assert_eq!(findings(&old), []);
    }

    #[test]
    fn rejected_notifications_fail_for_good_and_a_resend_counts_again() {
        let (_dir, mut ledger) = open();
        let (request, response) = prefetch("a", "r1");
        let bad = display("a", "n-bad", None);
        ledger
            .record_observed(vec![
                exchange(&request, Some(&response), None),
                exchange(&bad, None, Some("400 unknown token")),
            ])
            .unwrap();
        let failed = ledger.entry("n-bad").unwrap();
        assert_eq!(
            failed.state,
            State::Failed {
                reason: "rejected: 400 unknown token".into(),
                retryable: false
            }
        );
        assert!(!failed.is_pending());
        // Without an impressionId, each accepted copy counts (Target does the same).
        let twice = display("a", "n2", None);
        let ack = acked("n2");
        ledger
            .record_observed(vec![
                exchange(&twice, Some(&ack), None),
                exchange(&twice, Some(&ack), None),
            ])
            .unwrap();
        assert_eq!(ledger.entry("n2").unwrap().attempts, 2);
        assert_eq!(ledger.expected()[0].impressions, 2);
        let rules: Vec<&str> = lint(&ledger, crate::clock::now_ms())
            .iter()
            .map(|f| f.rule)
            .collect();
        assert!(rules.contains(&"retry-without-impression-id"), "{rules:?}");
    }

    #[test]
    fn journals_written_before_observed_traffic_read_as_before() {
        let line = r#"{"event":"queued","id":"n","impressionId":"i","type":"display","timestamp":1,"visitor":{"tntId":"a"},"sessionId":"s","location":{"kind":"mbox","name":"m","state":"st"},"tokens":["t"],"at":1}"#;
        let Event::Queued { notification, .. } = serde_json::from_str(line).unwrap() else {
            panic!("a queued event")
        };
        assert!(!notification.observed);
        let written = serde_json::to_string(&Event::Queued {
            notification,
            property_token: None,
        })
        .unwrap();
        assert!(!written.contains("observed"), "{written}");
    }

    #[test]
    fn a_journal_locked_for_a_moment_is_waited_for() {
        let (dir, mut ledger) = open();
        let holder = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(dir.path().join("j.jsonl"))
            .unwrap();
        holder.lock().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            holder.unlock().unwrap();
        });
        let (request, response) = prefetch("a", "r1");
        ledger
            .record_observed(vec![exchange(&request, Some(&response), None)])
            .unwrap();
        assert_eq!(ledger.responses().count(), 1);
        release.join().unwrap();
    }

    #[test]
    fn a_journal_locked_longer_is_refused_and_written_once_free() {
        let (dir, mut ledger) = open();
        let holder = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(dir.path().join("j.jsonl"))
            .unwrap();
        holder.lock().unwrap();
        let (request, response) = prefetch("a", "r1");
        let err = ledger
            .record_observed(vec![exchange(&request, Some(&response), None)])
            .unwrap_err();
        assert!(matches!(err, JournalError::Locked { .. }), "{err}");
        assert_eq!(ledger.responses().count(), 0);
        holder.unlock().unwrap();
        ledger
            .record_observed(vec![exchange(&request, Some(&response), None)])
            .unwrap();
        assert_eq!(ledger.responses().count(), 1);
    }
}
