//! The journal's cost: queue → fsync → ack for 10,000 notifications, one by one and batched
//! as `notify` sends them (50 per request). Prints rates and bytes per notification. Then the
//! linter's cost per visitor on journals of 2,000 and 8,000 visitors (each a prefetch, two in
//! three notified): the ratio of the two says how it grows with the journal (linear: 1,
//! quadratic: 4; before the linter indexed its page views it was 5.7, after 1.5-1.7 on a
//! 2-vCPU VM, where larger maps also miss the caches more).

use mboxscope::delivery::{Location, Mode, NotificationType, VisitorId};
use mboxscope::ledger::lint::lint;
use mboxscope::ledger::{Event, Ledger, NewNotification, ResponseItem, ResponseRecord};
use std::time::{Duration, Instant};

const COUNT: usize = 10_000;

fn notification(i: usize) -> NewNotification {
    NewNotification::new(
        NotificationType::Display,
        VisitorId {
            tnt_id: Some(format!("visitor-{}", i / 4)),
            ..Default::default()
        },
        format!("session-{}", i / 4),
        Location::Mbox {
            name: "home-hero".into(),
            state: Some("J+W1Fq18hxliDDJonTPfV0S+mzxapAO3d14M43EsM9f".into()),
        },
        vec![format!(
            "XoXF6byz+xl/hHDOMv31BWqipfsIHvVzTQxHolz2IpSCnQ9Y9OaLL2gsdrWQTvE{i:08}=="
        )],
    )
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");

    // One by one: every queue and every ack is its own fsync'd write.
    let path = dir.path().join("single.jsonl");
    let mut ledger = Ledger::open(&path).expect("journal");
    let started = Instant::now();
    for i in 0..COUNT {
        let id = ledger
            .queue(notification(i), false)
            .expect("queue")
            .id()
            .to_string();
        ledger
            .record(vec![Event::Acked { id, at: 0 }])
            .expect("ack");
    }
    let single = started.elapsed();
    let single_bytes = std::fs::metadata(&path).expect("size").len();

    // As notify does it: one queue write, then per batch of 50 a sent and an acked write.
    let path = dir.path().join("batched.jsonl");
    let mut ledger = Ledger::open(&path).expect("journal");
    let started = Instant::now();
    let queued = ledger
        .queue_all((0..COUNT).map(notification).collect(), false)
        .expect("queue");
    let ids: Vec<String> = queued.iter().map(|q| q.id().to_string()).collect();
    for batch in ids.chunks(50) {
        ledger
            .record(
                batch
                    .iter()
                    .map(|id| Event::Sent {
                        id: id.clone(),
                        attempt: 1,
                        at: 0,
                    })
                    .collect(),
            )
            .expect("sent");
        ledger
            .record(
                batch
                    .iter()
                    .map(|id| Event::Acked {
                        id: id.clone(),
                        at: 0,
                    })
                    .collect(),
            )
            .expect("acked");
    }
    let batched = started.elapsed();
    let batched_bytes = std::fs::metadata(&path).expect("size").len();

    let reopen = Instant::now();
    let ledger = Ledger::open(&path).expect("reopen");
    let replay = reopen.elapsed();
    assert_eq!(ledger.pending().len(), 0);

    println!("journal, {COUNT} notifications:");
    println!(
        "  one by one (queue+fsync, ack+fsync): {:>9.0} notifications/s, {:.0} bytes/notification",
        COUNT as f64 / single.as_secs_f64(),
        single_bytes as f64 / COUNT as f64
    );
    println!(
        "  batched as notify sends (50/request): {:>9.0} notifications/s, {:.0} bytes/notification",
        COUNT as f64 / batched.as_secs_f64(),
        batched_bytes as f64 / COUNT as f64
    );
    println!(
        "  replaying the batched journal on open: {:.1} ms",
        replay.as_secs_f64() * 1000.0
    );

    let small = lint_per_visitor(dir.path(), 2_000);
    let large = lint_per_visitor(dir.path(), 8_000);
    println!("linter, per visitor (a prefetch, two in three notified):");
    println!(
        "  2,000 visitors: {:.1} us   8,000 visitors: {:.1} us   ratio {:.2} (linear: 1, quadratic: 4)",
        small.as_secs_f64() * 1e6,
        large.as_secs_f64() * 1e6,
        large.as_secs_f64() / small.as_secs_f64()
    );
}

/// The linter's time per visitor on a journal of `visitors` page views (best of three runs).
fn lint_per_visitor(dir: &std::path::Path, visitors: usize) -> Duration {
    let path = dir.join(format!("lint-{visitors}.jsonl"));
    let mut ledger = Ledger::open(&path).expect("journal");
    let location = || Location::Mbox {
        name: "home-hero".into(),
        state: Some("state".into()),
    };
    let token = |i: usize| format!("token-{}", i % 2);
    let visitor = |i: usize| VisitorId {
        tnt_id: Some(format!("visitor-{i}")),
        ..Default::default()
    };
    let pages = (0..visitors).map(|i| {
        Event::Response(Box::new(ResponseRecord {
            mode: Mode::Prefetch,
            visitor: visitor(i),
            session_id: format!("session-{i}"),
            at: i as i64,
            items: vec![ResponseItem {
                location: location(),
                token: Some(token(i)),
                kind: NotificationType::Display,
                activity: Some("312345".into()),
                activity_name: None,
                experience: Some(format!("{}", i % 2)),
                experience_name: None,
            }],
            user_agent: Some("Mozilla/5.0 Chrome/80.0".into()),
            beacon: false,
            response: Some(format!("request-{i}")),
            impression_id: None,
            qa: false,
            observed: true,
        }))
    });
    ledger.record(pages.collect()).expect("page views");
    let notified = (0..visitors).filter(|i| i % 3 != 0).map(|i| {
        NewNotification::new(
            NotificationType::Display,
            visitor(i),
            format!("session-{i}"),
            location(),
            vec![token(i)],
        )
    });
    ledger
        .queue_all(notified.collect(), false)
        .expect("notifications");
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let findings = lint(&ledger, mboxscope::clock::now_ms());
        best = best.min(started.elapsed());
        assert_eq!(
            findings.len(),
            visitors.div_ceil(3),
            "one finding per visitor never notified"
        );
    }
    best / visitors as u32
}
