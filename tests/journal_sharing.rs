//! One journal shared by several processes (issue #11, items 1–4): concurrent `notify --from`
//! count once, readers never cut a writer's line, a rejected batch still delivers its valid
//! notifications, unknown event kinds survive, read-only commands change and create nothing.

mod common;

use common::*;
use mboxscope::client::{ClientSettings, Server, TargetClient};
use mboxscope::delivery::{Location, NotificationType, VisitorId};
use mboxscope::ledger::deliver::{deliver, RetryPolicy};
use mboxscope::ledger::{Event, Ledger, NewNotification};
use std::path::Path;
use std::time::Duration;

fn impressions(emulator: &Emulator) -> u64 {
    emulator.get("/report")["activities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["experiences"].as_array().unwrap().iter())
        .map(|e| e["impressions"].as_u64().unwrap())
        .sum()
}

fn prefetch_to(dir: &Path, emulator: &Emulator, file: &str) -> std::path::PathBuf {
    let out = run(mboxscope(dir)
        .args(["prefetch", "--server", &emulator.url])
        .args(["--mbox", "home-hero", "--mbox", "product-recs"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join(file);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

#[test]
fn two_concurrent_notify_from_runs_count_once() {
    for trial in 0..5 {
        let emulator = Emulator::start(&[]);
        let dir = tempfile::tempdir().unwrap();
        let saved = prefetch_to(dir.path(), &emulator, "prefetch.json");
        let spawn = || {
            mboxscope(dir.path())
                .args(["notify", "--server", &emulator.url, "--from"])
                .arg(&saved)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "trial {trial}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(
            impressions(&emulator),
            2,
            "trial {trial}: one impression per mbox"
        );
        let out = run(mboxscope(dir.path()).args(["ledger", "--json", "--server", &emulator.url]));
        let entries = stdout_json(&out)["notifications"].as_array().unwrap().len();
        assert_eq!(
            entries, 2,
            "trial {trial}: one journal entry per notification"
        );
    }
}

fn demo_token(emulator: &Emulator) -> (String, String) {
    let (_, body) = http(
        "POST",
        &format!("{}/rest/v1/delivery?sessionId=s1", emulator.url),
        Some(
            &serde_json::json!({"id": {"tntId": "t1"}, "context": {"channel": "web"},
            "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
        ),
    );
    let mbox = &body["prefetch"]["mboxes"][0];
    (
        mbox["options"][0]["eventToken"]
            .as_str()
            .unwrap()
            .to_string(),
        mbox["state"].as_str().unwrap().to_string(),
    )
}

fn hero_display(token: &str, state: &str, page_view: usize) -> NewNotification {
    NewNotification {
        response: Some(format!("page-view-{page_view}")),
        ..NewNotification::new(
            NotificationType::Display,
            VisitorId {
                tnt_id: Some("t1".into()),
                ..Default::default()
            },
            "s1".into(),
            Location::Mbox {
                name: "home-hero".into(),
                state: Some(state.into()),
            },
            vec![token.into()],
        )
    }
}

fn client(emulator: &Emulator) -> TargetClient {
    TargetClient::new(ClientSettings::new(Server::Url(emulator.url.clone()))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_looping_ledger_while_100000_are_queued_and_sent_loses_and_doubles_nothing() {
    const TOTAL: usize = 100_000;
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (token, state) = demo_token(&emulator);
    let journal = mboxscope::ledger::store::journal_path(
        &dir.path().join("data"),
        None,
        &Server::Url(emulator.url.clone()).describe(),
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, dir, url) = (stop.clone(), dir.path().to_path_buf(), emulator.url.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let out = run(mboxscope(&dir).args(["ledger", "--server", &url]));
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success() || stderr.contains("no journal"),
                    "a reader failed: {stderr}"
                );
                reads += 1;
            }
            reads
        })
    };
    let mut ledger = Ledger::open(&journal).unwrap();
    for chunk in (0..TOTAL).collect::<Vec<_>>().chunks(5_000) {
        let list = chunk
            .iter()
            .map(|i| hero_display(&token, &state, *i))
            .collect();
        ledger.queue_all(list, false).unwrap();
    }
    let report = deliver(
        &mut ledger,
        &client(&emulator),
        &[],
        &RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
    )
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().unwrap();
    assert!(reads > 0);
    assert_eq!(report.acked.len(), TOTAL);
    let counted = emulator.get("/report")["notifications"].clone();
    assert_eq!(counted["received"], TOTAL, "nothing sent twice: {counted}");
    let reopened = Ledger::open_read_only(&journal).unwrap();
    assert_eq!(reopened.entries().count(), TOTAL, "nothing lost");
    assert!(reopened.pending().is_empty());
    assert_eq!(reopened.torn_bytes(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_with_one_bad_token_delivers_the_valid_ones() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (token, state) = demo_token(&emulator);
    let mut ledger = Ledger::open(&dir.path().join("j.jsonl")).unwrap();
    let mut list: Vec<NewNotification> = (0..5).map(|i| hero_display(&token, &state, i)).collect();
    list[2].tokens = vec!["not-a-token-of-this-artifact".into()];
    let ids: Vec<String> = ledger
        .queue_all(list, false)
        .unwrap()
        .iter()
        .map(|q| q.id().to_string())
        .collect();
    let report = deliver(
        &mut ledger,
        &client(&emulator),
        &[],
        &RetryPolicy::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.acked.len(), 4, "{:?}", report.rejected);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].0, ids[2]);
    assert!(
        report.rejected[0].1.contains("unknown token"),
        "{}",
        report.rejected[0].1
    );
    assert!(
        ledger.pending().is_empty(),
        "the bad one failed for good, the rest were acked"
    );
    assert_eq!(impressions(&emulator), 4);
}

#[test]
fn unknown_event_kinds_are_kept_and_skipped_and_readers_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    {
        let mut ledger = Ledger::open(&path).unwrap();
        ledger.queue(hero_display("tok", "st", 1), false).unwrap();
    }
    let future = "{\"event\":\"archived\",\"id\":\"x\",\"at\":1}\n";
    let mut bytes = std::fs::read(&path).unwrap();
    let mut middle = bytes.clone();
    bytes.extend_from_slice(future.as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    // A complete last line of a kind this version does not know is neither torn nor deleted.
    let mut ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.unknown_lines(), 1);
    assert_eq!(ledger.torn_bytes(), None);
    ledger
        .record(vec![Event::Acked {
            id: "x".into(),
            at: 2,
        }])
        .unwrap();
    assert!(String::from_utf8(std::fs::read(&path).unwrap())
        .unwrap()
        .contains("archived"));
    // The same line in the middle of the file is skipped the same way.
    middle.extend_from_slice(future.as_bytes());
    middle.extend_from_slice(b"{\"event\":\"acked\",\"id\":\"y\",\"at\":3}\n");
    std::fs::write(&path, &middle).unwrap();
    assert_eq!(Ledger::open_read_only(&path).unwrap().unknown_lines(), 1);

    // Read-only commands on a target with no journal create nothing and name what exists.
    let data = dir.path().join("data");
    let out = run(mboxscope(dir.path()).args(["report", "--server", "http://127.0.0.1:9"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no journal"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !data.exists(),
        "a read-only command created {}",
        data.display()
    );
    let out = run(mboxscope(dir.path()).args(["ledger", "--list"]));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no journal yet"));
    assert!(!data.exists());
}

#[test]
fn ledger_and_report_without_target_use_the_most_recent_journal_and_say_which() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let saved = prefetch_to(dir.path(), &emulator, "p.json");
    let out = run(mboxscope(dir.path())
        .args(["notify", "--server", &emulator.url, "--from"])
        .arg(&saved));
    assert!(out.status.success());
    let before = std::fs::read(
        mboxscope::ledger::store::list(&dir.path().join("data"))[0]
            .path
            .clone(),
    )
    .unwrap();
    let out = run(mboxscope(dir.path()).args(["ledger"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("the most recent"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("mbox home-hero"));
    let list = run(mboxscope(dir.path()).args(["ledger", "--list"]));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("bytes") && listed.contains("last written"),
        "{listed}"
    );
    let after = std::fs::read(
        mboxscope::ledger::store::list(&dir.path().join("data"))[0]
            .path
            .clone(),
    )
    .unwrap();
    assert_eq!(before, after, "reading changed the journal");
}

#[test]
fn ledger_and_report_print_a_hostile_name_with_its_escape_sequences_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let journal = mboxscope::ledger::store::journal_path(
        &dir.path().join("data"),
        Some("acme"),
        &Server::Url("http://127.0.0.1:9".into()).describe(),
    );
    let mut ledger = Ledger::open(&journal).unwrap();
    let mut n = hero_display("tok\u{1b}]52;c;cHduZWQ=\u{7}", "st", 1);
    n.location = Location::Mbox {
        name: "hero\u{1b}]0;pwned\u{7}".into(),
        state: None,
    };
    ledger.queue(n, false).unwrap();
    for command in ["ledger", "report"] {
        let out = run(mboxscope(dir.path()).args([
            command,
            "--client",
            "acme",
            "--server",
            "http://127.0.0.1:9",
        ]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.stdout.contains(&0x1b),
            "{command}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!out.stdout.contains(&0x07));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\\u{1b}"),
            "{command}"
        );
    }
}
