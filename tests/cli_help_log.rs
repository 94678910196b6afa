//! The command line and diagnostics, through the binary: help that fits each command, the log
//! file (retries, no secrets), config.toml errors that say where, the server's request lines.

mod common;

use common::{mboxscope, read_request, respond, run, Emulator};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};

/// Flags that only commands talking to a target take.
const TARGET_FLAGS: [&str; 8] = [
    "--server",
    "--client",
    "--org-id",
    "--tnt-id",
    "--qa-url",
    "--trace-token",
    "--property-token",
    "--profile",
];

fn help_of(args: &[&str]) -> String {
    let out = Command::new(common::bin())
        .args(args)
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The subcommand names listed under "Commands:" in a help text.
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn serve_and_completions_list_no_target_flag() {
    for command in ["serve", "completions"] {
        let help = help_of(&[command]);
        for flag in TARGET_FLAGS {
            assert!(
                !help.contains(flag),
                "`{command} --help` lists {flag}:\n{help}"
            );
        }
    }
    // The commands that do talk to a target list them under their own headings.
    let help = help_of(&["prefetch"]);
    for heading in ["Target:", "Visitor:", "Locations:", "Output:"] {
        assert!(help.contains(heading), "no {heading} in:\n{help}");
    }
    assert!(!help_of(&["execute"]).contains("--view"));
}

#[test]
fn every_command_help_ends_with_examples() {
    let mut paths: Vec<Vec<String>> = vec![vec![]];
    for command in commands_in(&help_of(&[])) {
        let sub = commands_in(&help_of(&[command.as_str()]));
        paths.push(vec![command.clone()]);
        paths.extend(sub.into_iter().map(|s| vec![command.clone(), s]));
    }
    assert!(paths.len() > 10, "too few commands found: {paths:?}");
    for path in paths {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let help = help_of(&args);
        let (_, examples) = help
            .rsplit_once("Examples:\n")
            .unwrap_or_else(|| panic!("`{args:?} --help` has no examples:\n{help}"));
        let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            (2..=3).contains(&lines.len()) || (path.is_empty() && lines.len() <= 5),
            "{args:?}: {lines:?}"
        );
        let first = format!("  mboxscope {}", path.first().map_or("", String::as_str));
        assert!(
            lines[0].starts_with(first.trim_end()),
            "{args:?}: {lines:?}"
        );
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("  mboxscope") || l.starts_with("Guides:")),
            "{args:?} does not end with examples: {lines:?}"
        );
    }
}

#[test]
fn help_topics_print_the_guides_the_readme_links() {
    for (topic, file) in [("counting", "docs/counting.md"), ("qa", "docs/qa.md")] {
        let dir = tempfile::tempdir().unwrap();
        let out = run(mboxscope(dir.path()).args(["help", topic]));
        assert!(out.status.success());
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .expect("the guide");
        assert_eq!(String::from_utf8_lossy(&out.stdout), text);
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
                .unwrap();
        assert!(readme.contains(&format!("({file})")), "README links {file}");
    }
}

#[test]
fn a_bad_config_value_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.staging]\nclient_code = \"acme\"\ntimeout_ms = \"soon\"\n",
    )
    .unwrap();
    let out = run(mboxscope(dir.path()).args([
        "prefetch",
        "--profile",
        "staging",
        "--mbox",
        "home-hero",
    ]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let expected = format!("{}:3: profiles.staging.timeout_ms", config.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

/// A Delivery API on 127.0.0.1 that answers its first request 503 and every later one 200,
/// acknowledging the notifications it got.
fn fails_once_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (n, mut stream) in listener.incoming().flatten().enumerate() {
            let Some(body) = read_request(&stream) else {
                continue;
            };
            let (status, reply) = if n == 0 {
                (
                    503,
                    serde_json::json!({"status": 503, "message": "try later"}),
                )
            } else {
                let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let ids: Vec<serde_json::Value> = request["notifications"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| serde_json::json!({"id": n["id"]}))
                    .collect();
                (
                    200,
                    serde_json::json!({"status": 200, "notifications": ids}),
                )
            };
            respond(&mut stream, status, reply.to_string().as_bytes());
        }
    });
    url
}

/// Everything the log files under a data directory hold.
fn log_text(data: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(data.join("log")).expect("a log directory") {
        text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    text
}

#[test]
fn a_retried_notification_is_in_the_log_with_its_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let server = fails_once_server();
    let out = run(mboxscope(dir.path()).args([
        "notify",
        "--server",
        &server,
        "--mbox",
        "home-hero",
        "--token",
        "token-1",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = log_text(&dir.path().join("data"));
    let retry = log
        .lines()
        .find(|l| l.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry in the log:\n{log}"));
    assert!(retry.contains("attempt=2"), "{retry}");
    assert!(retry.contains("503"), "the reason is missing: {retry}");
    assert!(
        log.lines()
            .any(|l| l.contains("acknowledged") && l.contains("attempts=2")),
        "{log}"
    );
}

#[test]
fn no_secret_reaches_the_log() {
    const TRACE: &str = "trace-secret-7d1f";
    const PROPERTY: &str = "property-secret-93ab";
    const BAD_QA: &str = "qa-secret-not-of-this-emulator";
    let emulator = Emulator::start(&[]);
    let links = emulator.get("/qa");
    let qa_url = links[0]["url"].as_str().expect("a QA link").to_string();
    let qa_token = mboxscope::delivery::qa_mode_from_url(&qa_url)
        .expect("a QA link")
        .token
        .expect("a token");
    let dir = tempfile::tempdir().unwrap();
    let secrets = [
        "--trace-token",
        TRACE,
        "--property-token",
        PROPERTY,
        "--log-level",
        "trace",
    ];
    let page = dir.path().join("page.json");
    let out = run(mboxscope(dir.path())
        .args(["prefetch", "--server", &emulator.url, "--mbox", "home-hero"])
        .args(secrets)
        .args(["--qa-url", &qa_url]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&page, &out.stdout).unwrap();
    let out = run(mboxscope(dir.path())
        .args(["notify", "--server", &emulator.url, "--from"])
        .arg(&page)
        .args(secrets)
        .args(["--qa-url", &qa_url]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A token the emulator does not know comes back in its error message.
    let bad_link = format!("https://shop.example/?at_preview_token={BAD_QA}");
    let out = run(mboxscope(dir.path())
        .args(["prefetch", "--server", &emulator.url, "--mbox", "home-hero"])
        .args(secrets)
        .args(["--qa-url", &bad_link]));
    assert_eq!(out.status.code(), Some(3));
    let log = log_text(&dir.path().join("data"));
    assert!(log.contains("qaMode.token"), "the error is logged:\n{log}");
    for secret in [TRACE, PROPERTY, BAD_QA, qa_token.as_str()] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}

#[test]
fn the_server_says_duplicate_for_a_duplicate_notification() {
    let mut serve = Command::new(common::bin())
        .args(["serve", "--data-dir"])
        .arg(tempfile::tempdir().unwrap().keep())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let lines = BufReader::new(serve.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let url = rx.recv().expect("the URL line");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.json");
    let out =
        run(mboxscope(dir.path()).args(["prefetch", "--server", &url, "--mbox", "home-hero"]));
    assert!(out.status.success());
    std::fs::write(&page, &out.stdout).unwrap();
    for extra in [&[][..], &["--again"][..]] {
        let out = run(mboxscope(dir.path())
            .args([
                "notify",
                "--server",
                &url,
                "--impression-id",
                "same-impression",
            ])
            .arg("--from")
            .arg(&page)
            .args(extra));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The lines are written by the server's logger thread: wait for them (bounded).
    let mut lines = Vec::new();
    while lines
        .iter()
        .filter(|l: &&String| l.contains("notifications"))
        .count()
        < 2
    {
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    let notifications: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("notifications ×1"))
        .collect();
    assert_eq!(notifications.len(), 2, "{lines:#?}");
    assert!(notifications[0].contains(" counted"), "{lines:#?}");
    assert!(notifications[1].contains("duplicate of #1"), "{lines:#?}");
    assert!(notifications[1].contains("[home-hero]"), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains(" prefetch ")), "{lines:#?}");
}

#[test]
fn profile_show_says_where_each_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.staging]\nclient_code = \"acme\"\ntimeout_ms = 5000\ntrace_token = \"trace-in-file-123\"\n",
    )
    .unwrap();
    let out = run(mboxscope(dir.path())
        .env("MBOXSCOPE_ORG_ID", "ENV@AdobeOrg")
        .args(["profile", "show", "staging", "--timeout-ms", "700"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |field: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{field} = ")))
            .unwrap_or_else(|| panic!("no {field}:\n{stdout}"))
            .to_string()
    };
    assert!(
        line("client_code").ends_with(&format!("# profile \"staging\" in {}", config.display()))
    );
    assert_eq!(line("timeout_ms"), "timeout_ms = 700  # --timeout-ms");
    assert_eq!(
        line("org_id"),
        "org_id = \"ENV@AdobeOrg\"  # MBOXSCOPE_ORG_ID"
    );
    assert!(!stdout.contains("trace-in-file-123"), "{stdout}");
}

#[test]
fn the_man_page_and_completions_come_from_the_same_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let man = run(mboxscope(dir.path()).arg("man"));
    assert!(man.status.success());
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH mboxscope"),
        "{page}"
    );
    let completions = run(mboxscope(dir.path()).args(["completions", "bash"]));
    let script = String::from_utf8_lossy(&completions.stdout);
    for command in ["prefetch", "notify", "serve", "man"] {
        assert!(page.contains(command), "the man page lacks {command}");
        assert!(script.contains(command), "the completions lack {command}");
    }
    let pages = dir.path().join("man");
    std::fs::create_dir_all(&pages).unwrap();
    let out = run(mboxscope(dir.path()).args(["man", "--dir"]).arg(&pages));
    assert!(out.status.success());
    let serve = std::fs::read_to_string(pages.join("mboxscope-serve.1")).expect("a serve page");
    assert!(serve.contains("log\\-format"), "{serve}");
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let out = Command::new(common::bin())
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(version.starts_with(&format!("mboxscope {}", env!("CARGO_PKG_VERSION"))));
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Some(head) = head.ok().filter(|h| h.status.success()) {
        let commit = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(version.contains(&commit), "{version} lacks {commit}");
    }
}

#[test]
fn help_names_the_log_under_the_data_directory_the_environment_sets() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["notify", "--help"][..]] {
        let out = run(mboxscope(dir.path()).args(args));
        let help = String::from_utf8_lossy(&out.stdout);
        let expected = dir.path().join("data/log/mboxscope.log");
        assert!(
            help.contains(&format!("Log: {}", expected.display())),
            "{args:?}:\n{help}"
        );
    }
}
