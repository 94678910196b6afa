use super::lint::{lint, lint_notification};
use super::*;
use crate::delivery::{
    DeliveryRequest, DeliveryResponse, Mode, Notification, NotificationMbox, NotificationView,
};
use serde_json::json;

fn visitor(tnt: &str) -> VisitorId {
    VisitorId {
        tnt_id: Some(tnt.into()),
        ..Default::default()
    }
}

fn display(tnt: &str, mbox: &str, token: &str) -> NewNotification {
    NewNotification::new(
        NotificationType::Display,
        visitor(tnt),
        "s1".into(),
        Location::Mbox {
            name: mbox.into(),
            state: Some("state".into()),
        },
        vec![token.into()],
    )
}

fn open_temp() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&dir.path().join("j.jsonl")).unwrap();
    (dir, ledger)
}

#[test]
fn queuing_is_idempotent_until_a_new_impression_is_asked_for() {
    let (_dir, mut ledger) = open_temp();
    let first = ledger.queue(display("t1", "m", "tok"), false).unwrap();
    assert!(matches!(first, Queued::New(_)));
    assert_eq!(
        ledger.queue(display("t1", "m", "tok"), false).unwrap(),
        Queued::Pending(first.id().to_string())
    );
    ledger
        .record(vec![Event::Acked {
            id: first.id().into(),
            at: 1,
        }])
        .unwrap();
    assert_eq!(
        ledger.queue(display("t1", "m", "tok"), false).unwrap(),
        Queued::AlreadyAcked(first.id().to_string())
    );
    let again = ledger.queue(display("t1", "m", "tok"), true).unwrap();
    assert!(matches!(again, Queued::New(ref id) if id != first.id()));
    assert_ne!(
        ledger.entry(again.id()).unwrap().impression_id,
        ledger.entry(first.id()).unwrap().impression_id
    );
    assert!(
        matches!(
            ledger.queue(display("t2", "m", "tok"), false).unwrap(),
            Queued::New(_)
        ),
        "another visitor is another notification"
    );
}

#[test]
fn every_state_change_is_replayed_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let ids: Vec<String> = {
        let mut ledger = Ledger::open(&path).unwrap();
        let ids: Vec<String> = ["a", "b", "c", "d"]
            .iter()
            .map(|t| {
                ledger
                    .queue(display("t", "m", t), false)
                    .unwrap()
                    .id()
                    .to_string()
            })
            .collect();
        ledger
            .record(vec![
                Event::Sent {
                    id: ids[0].clone(),
                    attempt: 1,
                    at: 1,
                },
                Event::Acked {
                    id: ids[0].clone(),
                    at: 2,
                },
            ])
            .unwrap();
        ledger
            .record(vec![Event::Sent {
                id: ids[1].clone(),
                attempt: 1,
                at: 1,
            }])
            .unwrap();
        ledger
            .record(vec![Event::Failed {
                id: ids[2].clone(),
                reason: "503".into(),
                retryable: true,
                at: 3,
            }])
            .unwrap();
        ledger
            .record(vec![Event::Failed {
                id: ids[3].clone(),
                reason: "400 bad token".into(),
                retryable: false,
                at: 3,
            }])
            .unwrap();
        ids
    };
    let ledger = Ledger::open(&path).unwrap();
    assert!(matches!(
        ledger.entry(&ids[0]).unwrap().state,
        State::Acked { at: 2 }
    ));
    assert_eq!(ledger.entry(&ids[1]).unwrap().state, State::Sent);
    assert_eq!(ledger.entry(&ids[1]).unwrap().attempts, 1);
    assert!(ledger.entry(&ids[2]).unwrap().is_pending());
    assert!(!ledger.entry(&ids[3]).unwrap().is_pending());
    let pending: Vec<&str> = ledger.pending().iter().map(|e| e.id.as_str()).collect();
    assert_eq!(pending, vec![ids[1].as_str(), ids[2].as_str()]);
    // An ack is final: a late failure does not make it pending again.
    let mut ledger = ledger;
    ledger
        .record(vec![Event::Failed {
            id: ids[0].clone(),
            reason: "late".into(),
            retryable: true,
            at: 9,
        }])
        .unwrap();
    assert!(!ledger.entry(&ids[0]).unwrap().is_pending());
}

#[test]
fn a_torn_last_line_at_any_offset_loses_nothing_and_resends_nothing_acked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let (acked, pending, last) = {
        let mut ledger = Ledger::open(&path).unwrap();
        let acked = ledger
            .queue(display("t", "m", "a"), false)
            .unwrap()
            .id()
            .to_string();
        ledger
            .record(vec![Event::Acked {
                id: acked.clone(),
                at: 1,
            }])
            .unwrap();
        let pending = ledger
            .queue(display("t", "m", "b"), false)
            .unwrap()
            .id()
            .to_string();
        let last = ledger
            .queue(display("t", "m", "c"), false)
            .unwrap()
            .id()
            .to_string();
        ledger
            .record(vec![Event::Acked {
                id: last.clone(),
                at: 2,
            }])
            .unwrap();
        (acked, pending, last)
    };
    let full = std::fs::read(&path).unwrap();
    let last_line_start = full[..full.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    for cut in last_line_start..full.len() {
        std::fs::write(&path, &full[..cut]).unwrap();
        let mut ledger = Ledger::open(&path).unwrap();
        let torn = cut - last_line_start;
        assert_eq!(
            ledger.torn_bytes(),
            (torn > 0).then_some(torn),
            "cut at {cut}"
        );
        assert!(
            !ledger.entry(&acked).unwrap().is_pending(),
            "cut at {cut}: an acked notification would be resent"
        );
        assert!(
            ledger.entry(&pending).unwrap().is_pending(),
            "cut at {cut}: a pending notification was lost"
        );
        // The last line was the ack of `last`: without it, `last` is pending again (same ids).
        assert!(ledger.entry(&last).unwrap().is_pending(), "cut at {cut}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            full[..cut],
            "cut at {cut}: reading changes nothing (the line may be another process's write in progress)"
        );
        // A writer holds the lock, so no one else is writing: it cuts the torn line off.
        ledger.record(Vec::new()).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            full[..last_line_start],
            "cut at {cut}: the next writer removes the torn bytes"
        );
    }
    std::fs::write(&path, &full).unwrap();
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.torn_bytes(), None);
    assert!(!ledger.entry(&last).unwrap().is_pending());
}

#[test]
fn a_corrupt_middle_line_is_an_error_not_silence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    std::fs::write(&path, "{\"event\":\"acked\",\"id\":\"x\",\"at\":1}\nnot json\n{\"event\":\"acked\",\"id\":\"y\",\"at\":1}\n").unwrap();
    let err = Ledger::open(&path).err().expect("corrupt journal");
    assert!(err.to_string().contains("line 2"), "{err}");
}

fn prefetch_response(tnt: &str, tokens: &[(&str, &str)]) -> DeliveryResponse {
    let mboxes: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, (mbox, token))| {
            json!({"index": i + 1, "name": mbox, "state": "st", "options": [{"type": "html", "content": "x", "eventToken": token,
                "responseTokens": {"activity.id": 7, "activity.name": "Spring hero", "experience.id": 1, "experience.name": "B"}}],
                "metrics": [{"type": "click", "selector": "#cta", "eventToken": format!("click-{token}"), "analytics": {"payload": {"pe": "tnt", "tnta": "7:1:0|32767"}}}]})
        })
        .collect();
    serde_json::from_value(
        json!({"status": 200, "id": {"tntId": tnt}, "prefetch": {"mboxes": mboxes}}),
    )
    .unwrap()
}

fn record_response(
    ledger: &mut Ledger,
    mode: Mode,
    tnt: &str,
    session: &str,
    ua: &str,
    response: &DeliveryResponse,
) {
    let request: DeliveryRequest = serde_json::from_value(json!({"id": {"tntId": tnt}, "context": {"channel": "web", "userAgent": ua, "beacon": false}})).unwrap();
    ledger
        .record(vec![record::response_event(
            mode, &request, session, response,
        )])
        .unwrap();
}

const BROWSER: &str = crate::delivery::DEFAULT_USER_AGENT;

fn rules(findings: &[lint::Finding]) -> Vec<&'static str> {
    let mut r: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    r.sort();
    r.dedup();
    r
}

#[test]
fn lint_prefetched_never_notified_and_bot_user_agent() {
    let (_dir, mut ledger) = open_temp();
    record_response(
        &mut ledger,
        Mode::Prefetch,
        "t1",
        "s1",
        "python-requests/2.31",
        &prefetch_response("t1", &[("product-recs", "tok")]),
    );
    let findings = lint(&ledger, now_ms());
    assert_eq!(
        rules(&findings),
        vec!["bot-user-agent", "prefetched-not-notified"]
    );
    assert!(findings
        .iter()
        .any(|f| f.message.contains("product-recs") && f.message.contains("Spring hero")));
    ledger
        .queue(display("t1", "product-recs", "tok"), false)
        .unwrap();
    assert_eq!(rules(&lint(&ledger, now_ms())), vec!["bot-user-agent"]);
}

#[test]
fn lint_execute_also_notified_and_display_without_state() {
    let (_dir, mut ledger) = open_temp();
    let executed: DeliveryResponse =
        serde_json::from_value(json!({"id": {"tntId": "t1"}, "execute": {"mboxes": [
        {"index": 1, "name": "home-hero", "options": [{"type": "html", "content": "x"}]}]}}))
        .unwrap();
    record_response(&mut ledger, Mode::Execute, "t1", "s1", BROWSER, &executed);
    let mut n = display("t1", "home-hero", "tok");
    n.location = Location::Mbox {
        name: "home-hero".into(),
        state: None,
    };
    ledger.queue(n, false).unwrap();
    assert_eq!(
        rules(&lint(&ledger, now_ms())),
        vec!["display-without-state", "execute-also-notified"]
    );
}

#[test]
fn lint_tokens_from_another_visitor_an_older_response_and_another_session() {
    let (_dir, mut ledger) = open_temp();
    record_response(
        &mut ledger,
        Mode::Prefetch,
        "t1",
        "s1",
        BROWSER,
        &prefetch_response("t1", &[("m", "old")]),
    );
    record_response(
        &mut ledger,
        Mode::Prefetch,
        "t1",
        "s1",
        BROWSER,
        &prefetch_response("t1", &[("m", "new")]),
    );
    ledger.queue(display("t1", "m", "old"), false).unwrap();
    assert!(rules(&lint(&ledger, now_ms())).contains(&"token-from-older-response"));
    ledger.queue(display("t2", "m", "new"), false).unwrap();
    assert!(rules(&lint(&ledger, now_ms())).contains(&"token-from-another-visitor"));
    let mut other_session = display("t1", "m", "new");
    other_session.session_id = "s2".into();
    ledger.queue(other_session, false).unwrap();
    assert!(rules(&lint(&ledger, now_ms())).contains(&"session-changed"));
}

#[test]
fn lint_timestamps_beacon_twice_notified_and_mbox_with_view() {
    let (_dir, mut ledger) = open_temp();
    let request: DeliveryRequest = serde_json::from_value(
        json!({"context": {"channel": "web", "userAgent": BROWSER, "beacon": true}}),
    )
    .unwrap();
    ledger
        .record(vec![record::response_event(
            Mode::Prefetch,
            &request,
            "s1",
            &prefetch_response("t1", &[("m", "tok")]),
        )])
        .unwrap();
    ledger.queue(display("t1", "m", "tok"), false).unwrap();
    ledger.queue(display("t1", "m", "tok"), true).unwrap();
    let findings = lint(&ledger, now_ms());
    assert!(rules(&findings).contains(&"beacon"));
    assert!(rules(&findings).contains(&"token-notified-twice"));
    assert!(rules(&lint(&ledger, now_ms() - 10 * 60_000)).contains(&"timestamp-in-future"));
    let session_start = ledger.responses().next().unwrap().1.at;
    let id = crate::ids::uuid_string();
    ledger
        .record(vec![Event::Queued {
            notification: Box::new(QueuedNotification {
                id,
                impression_id: Some("imp".into()),
                kind: NotificationType::Click,
                timestamp: session_start - 2 * crate::client::SESSION_IDLE_MS,
                visitor: visitor("t1"),
                session_id: "s1".into(),
                location: Location::Page,
                tokens: vec!["click-tok".into()],
                at: now_ms(),
                context: None,
                response: None,
                observed: false,
            }),
            property_token: None,
        }])
        .unwrap();
    assert!(rules(&lint(&ledger, now_ms())).contains(&"timestamp-before-session"));
    let both = Notification {
        id: Some("n".into()),
        mbox: Some(NotificationMbox {
            name: Some("m".into()),
            ..Default::default()
        }),
        view: Some(NotificationView {
            name: Some("v".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(rules(&lint_notification(&both)), vec!["mbox-and-view"]);
}

#[test]
fn expected_counts_follow_acks_and_executes() {
    let (_dir, mut ledger) = open_temp();
    record_response(
        &mut ledger,
        Mode::Prefetch,
        "t1",
        "s1",
        BROWSER,
        &prefetch_response("t1", &[("m", "tok")]),
    );
    let id = ledger
        .queue(display("t1", "m", "tok"), false)
        .unwrap()
        .id()
        .to_string();
    assert!(
        ledger.expected().is_empty(),
        "nothing is counted before the ack"
    );
    ledger.record(vec![Event::Acked { id, at: 1 }]).unwrap();
    let mut click = display("t1", "m", "click-tok");
    click.kind = NotificationType::Click;
    let click_id = ledger.queue(click, false).unwrap().id().to_string();
    ledger
        .record(vec![Event::Acked {
            id: click_id,
            at: 2,
        }])
        .unwrap();
    let counts = ledger.expected();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (
            counts[0].activity.as_str(),
            counts[0].experience.as_str(),
            counts[0].impressions,
            counts[0].clicks
        ),
        ("7", "1", 1, 1)
    );
    assert_eq!(counts[0].activity_name.as_deref(), Some("Spring hero"));
}

#[test]
fn retry_delays_grow_and_stay_capped() {
    let policy = deliver::RetryPolicy::default();
    for attempt in 2..12 {
        let d = policy.delay(attempt);
        assert!(
            d <= policy.max_delay.mul_f64(1.5),
            "attempt {attempt}: {d:?}"
        );
        assert!(d >= policy.base_delay.mul_f64(0.5));
    }
    assert!(
        policy.delay(8) > policy.delay(2),
        "the wait grows with the attempt"
    );
}

/// Records a page view with its requestId; the same eventToken for every visitor, as Target's.
fn page_view(ledger: &mut Ledger, mode: Mode, tnt: &str, session: &str, request_id: &str) {
    let request: DeliveryRequest = serde_json::from_value(json!({"requestId": request_id, "id": {"tntId": tnt}, "context": {"channel": "web", "userAgent": BROWSER}})).unwrap();
    let response = prefetch_response(tnt, &[("m", "tok")]);
    ledger
        .record(vec![record::response_event(
            mode, &request, session, &response,
        )])
        .unwrap();
}

fn notified(tnt: &str, session: &str, response: &str) -> NewNotification {
    NewNotification {
        response: Some(response.into()),
        session_id: session.into(),
        ..display(tnt, "m", "tok")
    }
}

fn findings_of<'a>(findings: &'a [lint::Finding], rule: &str) -> Vec<&'a lint::Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn lint_matches_options_by_visitor_and_page_view_not_by_token() {
    let (_dir, mut ledger) = open_temp();
    page_view(&mut ledger, Mode::Prefetch, "t1", "s1", "r1");
    page_view(&mut ledger, Mode::Prefetch, "t2", "s2", "r2");
    ledger.queue(notified("t1", "s1", "r1"), false).unwrap();
    let findings = lint(&ledger, now_ms());
    // Only t2 never notified, although t1's notification carries the very same token.
    let unnotified = findings_of(&findings, "prefetched-not-notified");
    assert_eq!(unnotified.len(), 1, "{findings:#?}");
    assert_eq!(unnotified[0].visitor.as_deref(), Some("t2"));
    assert_eq!(unnotified[0].response.as_deref(), Some("r2"));
    assert_eq!(unnotified[0].location.as_deref(), Some("mbox m"));
    assert_eq!(unnotified[0].activity.as_deref(), Some("Spring hero (7)"));
    assert!(unnotified[0]
        .at
        .as_deref()
        .is_some_and(|t| t.ends_with('Z')));
    // t2 notifies the same token once: still nobody notified twice.
    ledger.queue(notified("t2", "s2", "r2"), false).unwrap();
    let findings = lint(&ledger, now_ms());
    assert!(findings_of(&findings, "prefetched-not-notified").is_empty());
    assert!(findings_of(&findings, "token-notified-twice").is_empty());
    assert!(findings_of(&findings, "token-from-another-visitor").is_empty());
    assert!(findings_of(&findings, "session-changed").is_empty());
    // A new impression of t1's page view: t1 notified twice, t2 did not.
    ledger.queue(notified("t1", "s1", "r1"), true).unwrap();
    let twice = lint(&ledger, now_ms());
    let twice = findings_of(&twice, "token-notified-twice");
    assert_eq!(twice.len(), 1);
    assert_eq!(twice[0].visitor.as_deref(), Some("t1"));
}

#[test]
fn lint_another_visitors_tokens_an_older_page_view_and_a_changed_session() {
    let (_dir, mut ledger) = open_temp();
    page_view(&mut ledger, Mode::Prefetch, "t1", "s1", "r1");
    page_view(&mut ledger, Mode::Prefetch, "t2", "s2", "r2");
    // Another visitor prefetching later does not make t1's page view older.
    ledger.queue(notified("t1", "s1", "r1"), false).unwrap();
    assert!(findings_of(&lint(&ledger, now_ms()), "token-from-older-response").is_empty());
    // t2 sends t1's page view: another visitor's tokens.
    ledger.queue(notified("t2", "s2", "r1"), false).unwrap();
    let findings = lint(&ledger, now_ms());
    let other = findings_of(&findings, "token-from-another-visitor");
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].visitor.as_deref(), Some("t2"));
    // t1 prefetches again; then notifies the first page view: older.
    page_view(&mut ledger, Mode::Prefetch, "t1", "s1", "r3");
    ledger.queue(notified("t1", "s1", "r1"), true).unwrap();
    let findings = lint(&ledger, now_ms());
    let older = findings_of(&findings, "token-from-older-response");
    assert_eq!(older.len(), 1, "{findings:#?}");
    assert_eq!(older[0].visitor.as_deref(), Some("t1"));
    // t1 notifies its newest page view in another session: a new visit; t2 stays quiet.
    ledger.queue(notified("t1", "s9", "r3"), false).unwrap();
    let findings = lint(&ledger, now_ms());
    let changed = findings_of(&findings, "session-changed");
    assert_eq!(changed.len(), 1, "{findings:#?}");
    assert_eq!(changed[0].visitor.as_deref(), Some("t1"));
}

#[test]
fn lint_execute_bot_beacon_and_retries_name_only_their_visitor() {
    let (_dir, mut ledger) = open_temp();
    page_view(&mut ledger, Mode::Execute, "t1", "s1", "r1");
    page_view(&mut ledger, Mode::Prefetch, "t2", "s1", "r2");
    // t2 notifies its prefetch in the same session and location as t1's execute: fine.
    ledger.queue(notified("t2", "s1", "r2"), false).unwrap();
    assert!(findings_of(&lint(&ledger, now_ms()), "execute-also-notified").is_empty());
    ledger.queue(notified("t1", "s1", "r1"), false).unwrap();
    let findings = lint(&ledger, now_ms());
    let executed = findings_of(&findings, "execute-also-notified");
    assert_eq!(executed.len(), 1);
    assert_eq!(executed[0].visitor.as_deref(), Some("t1"));
    // A bot's and a beacon's page views are named; the browser visitor's are not.
    record_response(
        &mut ledger,
        Mode::Prefetch,
        "bot",
        "s3",
        "Googlebot/2.1",
        &prefetch_response("bot", &[("m", "tok")]),
    );
    let findings = lint(&ledger, now_ms());
    let bots = findings_of(&findings, "bot-user-agent");
    assert_eq!(bots.len(), 1);
    assert_eq!(bots[0].visitor.as_deref(), Some("bot"));
    // Sent twice without an impressionId: a retry that may have counted again.
    let mut bare = notified("t2", "s1", "r2");
    bare.impression = ImpressionId::Omitted;
    let id = ledger.queue(bare, true).unwrap().id().to_string();
    for attempt in 1..=2 {
        ledger
            .record(vec![Event::Sent {
                id: id.clone(),
                attempt,
                at: now_ms(),
            }])
            .unwrap();
    }
    let findings = lint(&ledger, now_ms());
    let retried = findings_of(&findings, "retry-without-impression-id");
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].notification.as_deref(), Some(id.as_str()));
    assert_eq!(
        ledger.entry(&id).unwrap().notification().impression_id,
        None
    );
}

#[test]
fn two_handles_on_one_journal_queue_one_notification() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let mut a = Ledger::open(&path).unwrap();
    let mut b = Ledger::open(&path).unwrap();
    let first = a.queue(notified("t1", "s1", "r1"), false).unwrap();
    // b has not read a's line yet: queuing reads it under the lock first.
    let second = b.queue(notified("t1", "s1", "r1"), false).unwrap();
    assert_eq!(second, Queued::Pending(first.id().to_string()));
    assert_eq!(b.entries().count(), 1);
    a.record(vec![Event::Acked {
        id: first.id().into(),
        at: 5,
    }])
    .unwrap();
    b.refresh().unwrap();
    assert!(!b.entry(first.id()).unwrap().is_pending());
}

#[test]
fn per_notification_rules_name_only_the_offending_visitor() {
    let (_dir, mut ledger) = open_temp();
    page_view(&mut ledger, Mode::Prefetch, "t1", "s1", "r1");
    page_view(&mut ledger, Mode::Prefetch, "t2", "s2", "r2");
    // t1 without state; t2 as it should be.
    let mut bad = notified("t1", "s1", "r1");
    bad.location = Location::Mbox {
        name: "m".into(),
        state: None,
    };
    ledger.queue(bad, false).unwrap();
    ledger.queue(notified("t2", "s2", "r2"), false).unwrap();
    let findings = lint(&ledger, now_ms());
    let stateless = findings_of(&findings, "display-without-state");
    assert_eq!(stateless.len(), 1, "{findings:#?}");
    assert_eq!(stateless[0].visitor.as_deref(), Some("t1"));
    assert!(findings_of(&findings, "timestamp-in-future").is_empty());
    // A beacon page view of t2 names t2 only.
    let request: DeliveryRequest =
        serde_json::from_value(json!({"requestId": "r9", "id": {"tntId": "t2"},
        "context": {"channel": "web", "userAgent": BROWSER, "beacon": true}}))
        .unwrap();
    ledger
        .record(vec![record::response_event(
            Mode::Prefetch,
            &request,
            "s2",
            &prefetch_response("t2", &[("m", "tok")]),
        )])
        .unwrap();
    let findings = lint(&ledger, now_ms());
    let beacons = findings_of(&findings, "beacon");
    assert_eq!(beacons.len(), 1);
    assert_eq!(beacons[0].visitor.as_deref(), Some("t2"));
    assert_eq!(beacons[0].response.as_deref(), Some("r9"));
    // A notification older than its session: only that visitor's.
    let id = crate::ids::uuid_string();
    ledger
        .record(vec![Event::Queued {
            notification: Box::new(QueuedNotification {
                id: id.clone(),
                impression_id: Some("old".into()),
                kind: NotificationType::Display,
                timestamp: now_ms() - 3 * crate::counting::VISIT_IDLE_MS,
                visitor: visitor("t2"),
                session_id: "s2".into(),
                location: Location::Mbox {
                    name: "m".into(),
                    state: Some("st".into()),
                },
                tokens: vec!["tok".into()],
                at: now_ms(),
                context: None,
                response: Some("r2".into()),
                observed: false,
            }),
            property_token: None,
        }])
        .unwrap();
    let findings = lint(&ledger, now_ms());
    let old = findings_of(&findings, "timestamp-before-session");
    assert_eq!(old.len(), 1, "{findings:#?}");
    assert_eq!(old[0].notification.as_deref(), Some(id.as_str()));
    assert_eq!(old[0].visitor.as_deref(), Some("t2"));
    assert!(findings_of(&findings, "timestamp-in-future").is_empty());
}

#[test]
fn a_response_read_from_its_text_keeps_the_four_tokens_of_each_option() {
    let text = r#"{"id": {"tntId": "v1"}, "prefetch": {"mboxes": [{"name": "hero", "state": "st", "options": [
        {"type": "html", "content": "<b>x</b>", "eventToken": "t1",
         "responseTokens": {"profile.x": [1], "experience.name": "B \"quoted\"", "activity.id": 7, "experience.id": "1", "activity.name": "Spring"}},
        {"type": "html", "content": "y", "eventToken": "t2", "responseTokens": {"offer.id": 3}}]}]}}"#;
    let response: DeliveryResponse = serde_json::from_str(text).unwrap();
    let request: DeliveryRequest = serde_json::from_str(r#"{"id": {"tntId": "v1"}}"#).unwrap();
    let Event::Response(record) = record::response_event(Mode::Prefetch, &request, "s", &response)
    else {
        panic!("a response event")
    };
    let tokens = |i: usize| {
        let item = &record.items[i];
        [
            &item.activity,
            &item.activity_name,
            &item.experience,
            &item.experience_name,
        ]
        .map(|t| t.clone())
    };
    assert_eq!(
        tokens(0),
        [
            Some("7".into()),
            Some("Spring".into()),
            Some("1".into()),
            Some("B \"quoted\"".into())
        ]
    );
    assert_eq!(tokens(1), [None, None, None, None]);
}
