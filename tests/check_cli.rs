//! `mboxscope check` through the binary: the demo scenario on the built-in emulator and on a
//! `mboxscope serve`, failures, scenario errors, HTTP errors and JUnit XML.

mod common;

use common::{mboxscope, run, Emulator};
use std::path::{Path, PathBuf};
use std::process::Output;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/demo.toml")
}

fn demo_text() -> String {
    std::fs::read_to_string(demo()).expect("the demo scenario")
}

fn check(dir: &Path, args: &[&str]) -> Output {
    run(mboxscope(dir).arg("check").args(args))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts `out` ended with exit `code`, showing what it printed otherwise.
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The (testcase name, failure message) pairs of a JUnit file, parsed as XML.
fn junit_cases(path: &Path) -> Vec<(String, Option<String>)> {
    let text = std::fs::read_to_string(path).expect("the JUnit file");
    let doc = roxmltree::Document::parse(&text).expect("JUnit output is XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            let failure = n
                .children()
                .find(|c| c.has_tag_name("failure"))
                .and_then(|f| f.attribute("message").map(str::to_string));
            (n.attribute("name").unwrap_or_default().to_string(), failure)
        })
        .collect()
}

fn counts(
    report: &serde_json::Value,
    section: &str,
    activity: u64,
    experience: u64,
) -> serde_json::Value {
    report[section]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["id"] == activity)
        .flat_map(|a| a["experiences"].as_array().cloned().unwrap_or_default())
        .find(|e| e["id"] == experience)
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn the_demo_scenario_passes_on_the_built_in_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let out = check(
        dir.path(),
        &[demo().to_str().unwrap(), "--junit", junit.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        7,
        "{text}"
    );
    assert!(text.ends_with("check: 7 passed, 0 failed\n"), "{text}");
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), 7);
    assert!(cases.iter().all(|(_, failure)| failure.is_none()));
    // The notifications went through the built-in emulator's journal, acknowledged.
    let journal = dir
        .path()
        .join("data/ledger/mboxscopedemo@built-in-emulator.jsonl");
    let lines = std::fs::read_to_string(&journal).expect("the built-in emulator's journal");
    assert!(
        lines
            .lines()
            .filter(|l| l.contains("\"event\":\"acked\""))
            .count()
            >= 10
    );
}

#[test]
fn the_demo_scenario_passes_on_mboxscope_serve_and_moves_its_counts() {
    let server = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("on-serve.toml");
    std::fs::write(
        &file,
        format!("[target]\nserver = \"{}\"\n\n{}", server.url, demo_text()),
    )
    .unwrap();
    let out = check(dir.path(), &[file.to_str().unwrap()]);
    assert_exit(&out, 0);
    assert!(stdout(&out).ends_with("check: 7 passed, 0 failed\n"));
    let report = server.get("/report");
    // Five Firefox visitors, each notified the welcome banner's display and click.
    let firefox = counts(&report, "activities", 312370, 1);
    assert_eq!(
        (
            firefox["impressions"].as_u64(),
            firefox["visitors"].as_u64(),
            firefox["clicks"].as_u64()
        ),
        (Some(5), Some(5), Some(5)),
        "{report}"
    );
    // Three sale-page visitors; no click asked for.
    let sale = counts(&report, "activities", 312350, 0);
    assert_eq!(
        (sale["impressions"].as_u64(), sale["clicks"].as_u64()),
        (Some(3), Some(0))
    );
    // QA links are counted apart.
    let hero_b = counts(&report, "qa", 312345, 1);
    assert_eq!(
        (hero_b["impressions"].as_u64(), hero_b["clicks"].as_u64()),
        (Some(1), Some(1))
    );
    // The flags name the target too, over the file's.
    let again = check(
        dir.path(),
        &["--server", &server.url, demo().to_str().unwrap()],
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}{}",
        stdout(&again),
        stderr(&again)
    );
    let firefox = counts(&server.get("/report"), "activities", 312370, 1);
    assert_eq!(firefox["impressions"].as_u64(), Some(10));
}

#[test]
fn a_wrong_experience_fails_with_exit_1_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.toml");
    let text = demo_text().replace("experience = \"Shoes\"", "experience = \"Bags\"");
    let header_line = text
        .lines()
        .position(|l| l == "name = \"Shoe pages recommend shoes\"")
        .expect("the shoes check");
    std::fs::write(&file, text).unwrap();
    let junit = dir.path().join("junit.xml");
    let json_out = check(dir.path(), &[file.to_str().unwrap(), "--json"]);
    let out = check(
        dir.path(),
        &[file.to_str().unwrap(), "--junit", junit.to_str().unwrap()],
    );
    assert_exit(&out, 1);
    let text = stdout(&out);
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{text}");
    assert!(
        failed[0].contains("Shoe pages recommend shoes"),
        "{}",
        failed[0]
    );
    assert!(
        failed[0].contains(&format!("{}:{header_line})", file.display())),
        "{}",
        failed[0]
    );
    assert!(
        failed[0].contains("expected activity 312350, experience \"Bags\""),
        "{}",
        failed[0]
    );
    assert!(
        failed[0].contains("experience 1 \"Shoes\""),
        "{}",
        failed[0]
    );
    assert!(text.ends_with("check: 6 passed, 1 failed\n"), "{text}");
    let cases = junit_cases(&junit);
    assert_eq!(cases.len(), 7);
    let failures: Vec<_> = cases.iter().filter(|(_, f)| f.is_some()).collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, "Shoe pages recommend shoes");
    assert!(failures[0]
        .1
        .as_deref()
        .unwrap_or_default()
        .contains("\"Bags\""));
    assert_eq!(json_out.status.code(), Some(1));
    let json = common::stdout_json(&json_out);
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(json["checks"][4]["status"], "failed");
}

#[test]
fn a_malformed_file_exits_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[[check]]\nname = \"a\"\npage_load = maybe\n", 3, "quoted"),
        ("[[check]]\nname = \"a\"\npage_load = true\nmbox = [\"x\"]\n", 4, "mbox"),
        (
            "[[check]]\nname = \"a\"\npage_load = true\n\n[[check.expect]]\nlocation = \"view home\"\nactivity = 1\n",
            5,
            "view home",
        ),
        ("# two targets\n[target]\nserver = \"http://127.0.0.1:9\"\nartifact = \"r.json\"\n[[check]]\nname = \"a\"\npage_load = true\n[[check.expect]]\nlocation = \"pageLoad\"\nactivity = 1\n", 2, "[target]"),
    ];
    for (i, (text, line, says)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = check(
            dir.path(),
            &[demo().to_str().unwrap(), file.to_str().unwrap()],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(
            err.contains(&format!("{}:{line}: ", file.display())),
            "{text}: {err}"
        );
        assert!(err.contains(says), "{text}: {err}");
        assert!(stdout(&out).is_empty(), "nothing runs when a file is wrong");
    }
    let missing = check(
        dir.path(),
        &[dir.path().join("none.toml").to_str().unwrap()],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("none.toml"));
}

#[test]
fn an_unreachable_target_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = check(dir.path(), &["--server", &url, demo().to_str().unwrap()]);
    assert_exit(&out, 3);
    assert!(stdout(&out)
        .lines()
        .next()
        .unwrap_or_default()
        .starts_with("ERROR Firefox visitors"));
    assert!(stdout(&out).ends_with("check: 0 passed, 7 failed\n"));
}

#[test]
fn a_file_names_its_own_artifact_relative_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    let rules = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo/rules.json"),
    )
    .unwrap()
    .replace(
        "\"experience.name\": \"Shoes\"",
        "\"experience.name\": \"Sneakers\"",
    );
    std::fs::create_dir(dir.path().join("suite")).unwrap();
    std::fs::write(dir.path().join("suite/rules.json"), rules).unwrap();
    let file = dir.path().join("suite/own.toml");
    let scenario = |experience: &str| {
        format!(
            "[target]\nartifact = \"rules.json\"\n\n[[check]]\nname = \"shoes\"\nmboxes = [\"product-recs\"]\nmbox_parameters = {{ \"product-recs\" = {{ category = \"shoes\" }} }}\n\n[[check.expect]]\nlocation = \"product-recs\"\nexperience = \"{experience}\"\n"
        )
    };
    std::fs::write(&file, scenario("Sneakers")).unwrap();
    let out = check(dir.path(), &[file.to_str().unwrap()]);
    assert_exit(&out, 0);
    std::fs::write(&file, scenario("Shoes")).unwrap();
    let out = check(dir.path(), &[file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the demo artifact was used instead"
    );
}

#[test]
fn time_sets_the_built_in_emulators_clock_for_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("time.toml");
    let promo = |name: &str, time: &str, experience: &str| {
        format!(
            "[[check]]\nname = \"{name}\"\npage_load = true\ntime = \"{time}\"\n\n[[check.expect]]\nlocation = \"pageLoad\"\nactivity = 312380\nexperience = \"{experience}\"\n\n"
        )
    };
    let passing = promo("Saturday evening", "2026-12-05T20:00:00Z", "Weekend")
        + &promo(
            "Wednesday morning",
            "2026-12-02T10:00:00Z",
            "Business hours",
        );
    std::fs::write(&file, &passing).unwrap();
    let out = check(dir.path(), &[file.to_str().unwrap()]);
    assert_exit(&out, 0);
    assert!(stdout(&out).ends_with("check: 2 passed, 0 failed\n"));

    let wrong = promo("Wednesday morning", "1796205600000", "Weekend");
    std::fs::write(&file, &wrong).unwrap();
    let out = check(dir.path(), &[file.to_str().unwrap()]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("experience 1 \"Business hours\""),
        "{}",
        stdout(&out)
    );

    let server = Emulator::start(&[]);
    std::fs::write(&file, format!("# on a server\n{passing}")).unwrap();
    let out = check(
        dir.path(),
        &["--server", &server.url, file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{}:2: ", file.display())),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("time"), "{}", stderr(&out));

    std::fs::write(&file, promo("soon", "soon", "Weekend")).unwrap();
    let out = check(dir.path(), &[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{}:1: check \"soon\": time: ", file.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_log_keeps_failed_checks_and_the_summary_and_each_call_only_at_debug() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.toml");
    let text = demo_text().replace("experience = \"Shoes\"", "experience = \"Bags\"");
    std::fs::write(&file, text).unwrap();
    let log_path = dir.path().join("data/log/mboxscope.log");
    let log_after = |args: &[&str]| {
        let _ = std::fs::remove_file(&log_path);
        assert_exit(&check(dir.path(), args), 1);
        std::fs::read_to_string(&log_path).expect("the log")
    };
    let calls = |log: &str| log.lines().filter(|l| l.contains("answered")).count();
    let log = log_after(&[file.to_str().unwrap()]);
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("FAIL  Shoe pages recommend shoes")),
        "{log}"
    );
    assert!(log.contains("check: 6 passed, 1 failed"), "{log}");
    assert_eq!(calls(&log), 0, "{log}");
    let log = log_after(&[file.to_str().unwrap(), "--log-level", "debug"]);
    assert!(calls(&log) >= 7, "{log}");
}
