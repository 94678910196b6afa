//! No notification lost or counted twice: 50 visitors against `serve --fault-rate 0.3`, one
//! `notify` killed with SIGKILL mid-way, re-run, then `--resume`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const VISITORS: usize = 50;

fn prefetch_with_retries(dir: &std::path::Path, url: &str, visitor: usize) -> Vec<u8> {
    for _ in 0..30 {
        let out = run(mboxscope(dir)
            .args([
                "prefetch",
                "--server",
                url,
                "--tnt-id",
                &format!("resilience-{visitor}"),
                "--timeout-ms",
                "3000",
            ])
            .args(DEMO_PAGE));
        if out.status.success() {
            return out.stdout;
        }
        assert_eq!(
            out.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    panic!("prefetch kept failing");
}

/// An id whether it is written as a number (the artifact) or a string (response tokens).
fn id_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Impressions per (activity, experience) that notifying every option of `saved` must count:
/// one per activity of each notified location.
fn expected(saved: &Value, into: &mut BTreeMap<(String, String), u64>) {
    let prefetch = &saved["response"]["prefetch"];
    let mut locations: Vec<&Value> = Vec::new();
    locations.extend(prefetch["mboxes"].as_array().into_iter().flatten());
    locations.extend(prefetch["views"].as_array().into_iter().flatten());
    locations.push(&prefetch["pageLoad"]);
    for location in locations {
        let mut activities = std::collections::BTreeSet::new();
        for option in location["options"].as_array().into_iter().flatten() {
            if option["eventToken"].is_string() {
                let t = &option["responseTokens"];
                activities.insert((id_text(&t["activity.id"]), id_text(&t["experience.id"])));
            }
        }
        for key in activities {
            *into.entry(key).or_default() += 1;
        }
    }
}

fn journal_events(data: &std::path::Path) -> String {
    let dir = data.join("data/ledger");
    std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kill_9_rerun_and_resume_count_every_impression_exactly_once() {
    let emulator = Emulator::start(&["--fault-rate", "0.3"]);
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut want = BTreeMap::new();
    for visitor in 0..VISITORS {
        let saved = prefetch_with_retries(dir.path(), &emulator.url, visitor);
        expected(&serde_json::from_slice(&saved).unwrap(), &mut want);
        let path = dir.path().join(format!("visitor-{visitor}.json"));
        std::fs::write(&path, saved).unwrap();
        files.push(path);
    }
    let notify = |extra: &[&str]| {
        let mut cmd = mboxscope(dir.path());
        cmd.args(["notify", "--server", &emulator.url, "--timeout-ms", "3000"]);
        for f in &files {
            cmd.arg("--from").arg(f);
        }
        cmd.args(extra);
        cmd
    };

    // Start, and kill -9 once some notifications are acknowledged but not all.
    let mut child = notify(&[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let acked = journal_events(dir.path())
            .matches("\"event\":\"acked\"")
            .count();
        if acked >= 20 || started.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "notify was killed mid-way, not finished: lower the kill threshold"
    );

    // Re-run the same command, then finish whatever is still pending.
    let rerun = run(&mut notify(&[]));
    assert!(
        matches!(rerun.status.code(), Some(0) | Some(4)),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    for _ in 0..5 {
        let resume =
            run(mboxscope(dir.path()).args(["notify", "--server", &emulator.url, "--resume"]));
        if resume.status.success() {
            break;
        }
    }

    let ledger = run(mboxscope(dir.path()).args(["ledger", "--server", &emulator.url, "--json"]));
    let entries = stdout_json(&ledger)["notifications"]
        .as_array()
        .unwrap()
        .clone();
    let pending: Vec<&Value> = entries.iter().filter(|e| e["state"] != "acked").collect();
    assert!(pending.is_empty(), "still pending: {pending:?}");

    let report = emulator.get("/report");
    let mut got = BTreeMap::new();
    for activity in report["activities"].as_array().unwrap() {
        for e in activity["experiences"].as_array().unwrap() {
            let n = e["impressions"].as_u64().unwrap();
            if n > 0 {
                got.insert((id_text(&activity["id"]), id_text(&e["id"])), n);
            }
        }
    }
    assert_eq!(
        got, want,
        "impressions must be exact; duplicates: {}",
        report["notifications"]["duplicates"]
    );
    eprintln!("report notifications: {}", report["notifications"]);
}
