//! `mboxscope proxy` and `mboxscope serve` as real processes on 127.0.0.1: the operating
//! system is asked to favour serving over background writing (the proxy's journal, serve's
//! request log), their memory is kept off transparent huge pages (whose first touch may compact
//! memory on the serving path), and a stopped proxy says how many exchanges it journaled and
//! how many it did not.

mod common;

use common::proxy::Proxy;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[cfg(target_os = "linux")]
/// A nice value lowered by `by` (as far as 19, the least favoured: tests may run under `nice`).
fn lowered(nice: i64, by: i64) -> i64 {
    (nice + by).min(19)
}

/// The value of `field` in `/proc/PID/status`.
#[cfg(target_os = "linux")]
fn status_field(pid: u32, field: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(|value| value.trim().to_string())
}

/// What a running process says of its threads' priorities and its huge pages.
#[cfg(target_os = "linux")]
struct Priorities {
    /// Each thread's name and nice value.
    threads: Vec<(String, i64)>,
    /// `THP_enabled` of `/proc/PID/status` (kernels before 6.x do not show it).
    huge_pages: Option<String>,
}

/// Reads `pid`'s priorities, while it runs.
#[cfg(target_os = "linux")]
fn priorities(pid: u32) -> Priorities {
    Priorities {
        threads: thread_niceness(pid),
        huge_pages: status_field(pid, "THP_enabled"),
    }
}

/// Asserts that the one thread named `background` runs below every thread `serving` names
/// (lowered by `by` nice levels), and that the memory is kept off transparent huge pages.
#[cfg(target_os = "linux")]
fn assert_background_below_serving(
    Priorities {
        threads,
        huge_pages,
    }: &Priorities,
    background: &str,
    by: i64,
    serving: impl Fn(&str) -> bool,
) {
    let nice_of = |pick: &dyn Fn(&str) -> bool| -> Vec<i64> {
        threads
            .iter()
            .filter(|(name, _)| pick(name))
            .map(|(_, nice)| *nice)
            .collect()
    };
    let writer = nice_of(&|name| name == background);
    let servers = nice_of(&|name| name != background && serving(name));
    assert_eq!(writer.len(), 1, "{threads:?}");
    assert!(!servers.is_empty(), "{threads:?}");
    assert!(
        servers.iter().all(|nice| writer[0] >= lowered(*nice, by)),
        "{background} is not below the serving threads: {threads:?}"
    );
    // Where the kernel shows the field, it must say disabled.
    if let Some(enabled) = huge_pages {
        assert_eq!(enabled, "0", "transparent huge pages are still enabled");
    }
}

/// Each thread's name and nice value.
#[cfg(target_os = "linux")]
fn thread_niceness(pid: u32) -> Vec<(String, i64)> {
    let mut threads = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap();
        let stat = std::fs::read_to_string(task.join("stat")).unwrap();
        // Fields after the parenthesised name: state is field 3, nice is field 19.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let nice = after_name.split(' ').nth(16).unwrap().parse().unwrap();
        threads.push((name.trim().to_string(), nice));
    }
    threads
}

#[cfg(target_os = "linux")]
#[test]
fn the_journal_writer_yields_the_cpu_to_forwarding_and_memory_avoids_huge_pages() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let seen = priorities(proxy.child.id());
    drop(proxy);
    // Every other thread forwards or serves forwarding (acceptor, timers, the workers, whose
    // names may not be set yet). The writer takes the least favoured priority: on a saturated
    // machine it gives the cores to forwarding, and says what it left out.
    assert_background_below_serving(&seen, "proxy-journal", 19, |_| true);
}

#[cfg(target_os = "linux")]
#[test]
fn serves_request_log_yields_the_cpu_to_answers_and_memory_avoids_huge_pages() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = mboxscope(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    lines.read_line(&mut url).expect("first line");
    // The request log's thread starts with the first request line.
    let (status, _) = http_raw("GET", &format!("{}/report", url.trim()), None);
    assert_eq!(status, 200);
    let mut line = String::new();
    while !line.contains("GET /report") {
        line.clear();
        assert!(lines.read_line(&mut line).unwrap() > 0, "serve ended");
    }
    let seen = priorities(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert_background_below_serving(&seen, "emulator-log", 10, |name| {
        name.starts_with("emulator-")
    });
}

#[test]
fn a_stopped_proxy_says_how_many_exchanges_it_journaled_and_did_not() {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(&[]);
    let proxy = Proxy::start(dir.path(), Some(&emulator.url));
    let url = &proxy.url;
    let request = br#"{"id":{"tntId":"v"},"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"home-hero","index":1}]}}"#;
    for _ in 0..3 {
        let (status, body) = http_raw(
            "POST",
            &format!("{url}/rest/v1/delivery?client=mboxscopedemo&sessionId=s"),
            Some(request),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    send_signal(proxy.child.id(), "INT");
    let stderr = proxy.stderr_saying("exchanges journaled");
    assert!(
        stderr.contains("3 exchanges journaled, 0 not journaled"),
        "stderr: {stderr}"
    );
}
