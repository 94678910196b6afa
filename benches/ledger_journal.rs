//! The journal's cost: queue → fsync → ack for 10,000 notifications, one by one and batched
//! as `notify` sends them (50 per request). Prints rates and bytes per notification.

use mboxscope::delivery::{Location, NotificationType, VisitorId};
use mboxscope::ledger::{Event, Ledger, NewNotification};
use std::time::Instant;

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
}
