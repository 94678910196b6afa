//! Hardening (issue #11): what a hostile or odd server sends, and what the TUI and the commands
//! leave behind (tokens, files, the terminal). Real processes against scripted servers on
//! 127.0.0.1.

mod common;

use common::*;
use serde_json::json;

/// A prefetch answer whose ids and tokens are not ASCII and whose content carries escape
/// sequences (an OSC title and an OSC 52 clipboard write).
fn hostile_prefetch() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "status": 200,
        "client": "mboxscopedemo",
        "id": {"tntId": "ñandú-visitante-é.28_0"},
        "prefetch": {"mboxes": [{
            "index": 1,
            "name": "home-hero",
            "state": "estado-ñ",
            "options": [{
                "type": "html",
                "content": "<b>\u{1b}]2;pwned\u{7}</b>\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}",
                "eventToken": "tökén-ñøñ-ascii-ééé",
                "responseTokens": {"experience.name": "Expérience \u{1b}[2J B"}
            }],
            "metrics": [{"type": "click", "selector": "#cta", "eventToken": "ééééééééééééé"}]
        }]}
    }))
    .unwrap()
}

fn assert_terminal_safe(text: &str, what: &str) {
    assert!(
        mboxscope::safe_text::is_safe(text.trim_end_matches('\n').replace('\n', "").as_str()),
        "{what} holds control characters: {text:?}"
    );
}

#[test]
fn snapshot_survives_non_ascii_ids_and_shows_no_escape_sequence() {
    let url = scripted_server(Script::Reply(200, hostile_prefetch()));
    let dir = tempfile::tempdir().unwrap();
    let out = run(mboxscope(dir.path()).args([
        "--snapshot",
        "--server",
        &url,
        "--client",
        "mboxscopedemo",
        "--mbox",
        "home-hero",
    ]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("tnt ñandú-…_0"), "{stdout}");
    assert_terminal_safe(&stdout, "the snapshot");
}

#[test]
fn snapshot_size_is_bounded_with_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for (width, height) in [("10000", "40"), ("120", "10000")] {
        let out =
            run(mboxscope(dir.path()).args(["--snapshot", "--width", width, "--height", height]));
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not in"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// A Target error whose message would set the pane title, fill the clipboard and break lines.
fn hostile_error() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "status": 400,
        "message": "bad request\u{1b}]2;pwned\u{7}\nsecond line\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}"
    }))
    .unwrap()
}

#[test]
fn server_error_messages_are_escaped_on_stderr_in_the_tui_and_in_the_ledger() {
    let url = scripted_server(Script::Reply(400, hostile_error()));
    let dir = tempfile::tempdir().unwrap();
    let target = ["--server", url.as_str(), "--client", "mboxscopedemo"];

    let out = run(mboxscope(dir.path())
        .arg("prefetch")
        .args(target)
        .args(["--mbox", "home-hero"]));
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert_terminal_safe(&stderr, "prefetch's stderr");
    assert!(stderr.contains("\\u{1b}]2;pwned"), "{stderr}");

    let out = run(mboxscope(dir.path())
        .args(target)
        .args(["--snapshot", "--mbox", "home-hero"]));
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("Target answered 400"), "{screen}");
    assert_terminal_safe(&screen, "the snapshot");

    let out = run(mboxscope(dir.path()).arg("notify").args(target).args([
        "--mbox",
        "home-hero",
        "--state",
        "s",
        "--token",
        "t",
    ]));
    assert_terminal_safe(&String::from_utf8_lossy(&out.stderr), "notify's stderr");
    let out = run(mboxscope(dir.path()).arg("ledger").args(target));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("pwned"), "{listing}");
    assert_terminal_safe(&listing, "the ledger listing");
}

/// An editor (a shell script) that logs the mode and path of the file it is given, then runs
/// `then` (shell code, `$1` is the file).
fn logging_editor(dir: &std::path::Path, then: &str) -> (String, std::path::PathBuf) {
    let log = dir.join("editor.log");
    let script = dir.join("editor.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nstat -c '%a' \"$1\" > '{log}'\nprintf '%s' \"$1\" >> '{log}'\n{then}\n",
            log = log.display()
        ),
    )
    .unwrap();
    (format!("sh '{}'", script.display()), log)
}

/// (mode, path) the editor saw.
fn editor_saw(log: &std::path::Path) -> (String, std::path::PathBuf) {
    let text = std::fs::read_to_string(log).expect("the editor ran");
    let (mode, path) = text.split_once('\n').expect("mode and path");
    (mode.trim().to_string(), std::path::PathBuf::from(path))
}

#[test]
fn the_request_is_edited_in_a_private_file_removed_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let (editor, log) = logging_editor(dir.path(), "printf '{\"edited\":true}' > \"$1\"");
    let edited = mboxscope::tui::runtime::edit_with(&editor, "{\"token\":\"SECRET\"}").unwrap();
    assert_eq!(edited, "{\"edited\":true}");
    let (mode, path) = editor_saw(&log);
    assert_eq!(mode, "600", "the request file is private");
    assert!(!path.exists(), "{} left behind", path.display());
}

#[test]
fn a_failing_editor_leaves_no_request_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (editor, log) = logging_editor(dir.path(), "exit 1");
    let outcome = mboxscope::tui::runtime::edit_with(&editor, "{\"token\":\"SECRET\"}");
    assert!(outcome.is_err());
    let (mode, path) = editor_saw(&log);
    assert_eq!(mode, "600");
    assert!(!path.exists(), "{} left behind", path.display());
}

#[test]
fn a_planted_symlink_at_the_old_predictable_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "untouched").unwrap();
    let planted =
        std::env::temp_dir().join(format!("mboxscope-request-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&planted);
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let (editor, log) = logging_editor(dir.path(), "true");
    let outcome = mboxscope::tui::runtime::edit_with(&editor, "{\"token\":\"SECRET\"}");
    let _ = std::fs::remove_file(&planted);
    assert!(outcome.is_ok());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    let (_, path) = editor_saw(&log);
    assert_ne!(path, planted);
}

const TRACE_SECRET: &str = "TRACESECRET-0123456789abcdef";
const QA_SECRET: &str = "QASECRET42";
const PROPERTY_SECRET: &str = "PROPSECRET-aaaa-bbbb-cccc";

/// The QA token of the emulator's first QA link (the emulator refuses tokens it did not make).
fn emulator_qa_token(emulator: &Emulator) -> String {
    let links = emulator.get("/qa");
    let url = links[0]["url"].as_str().unwrap();
    let qa = mboxscope::delivery::qa_mode_from_url(url).unwrap();
    qa.token.unwrap()
}

fn prefetch_with_secrets(
    dir: &std::path::Path,
    url: &str,
    qa_token: &str,
    extra: &[&str],
) -> std::process::Output {
    let qa = format!("https://shop.example.com/?at_preview_token={qa_token}&at_preview_index=1_1");
    run(mboxscope(dir)
        .args(["prefetch", "--server", url, "--client", "mboxscopedemo"])
        .args(["--mbox", "home-hero", "--trace-token", TRACE_SECRET])
        .args(["--property-token", PROPERTY_SECRET, "--qa-url", &qa])
        .args(extra))
}

#[test]
fn prefetch_masks_the_request_secrets_unless_revealed_and_notify_reads_the_masked_file() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let qa_secret = emulator_qa_token(&emulator);
    let out = prefetch_with_secrets(dir.path(), &emulator.url, &qa_secret, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    for secret in [TRACE_SECRET, qa_secret.as_str(), PROPERTY_SECRET] {
        assert!(!printed.contains(secret), "{secret} printed in clear");
    }
    // Nothing of the short QA token shows, and at most an eighth of the long ones.
    let result = stdout_json(&out);
    assert!(!result["request"]["qaMode"]["token"]
        .as_str()
        .unwrap()
        .contains("QA"));
    assert!(result["request"]["trace"]["authorizationToken"]
        .as_str()
        .unwrap()
        .starts_with("TRA…("));

    // The saved (masked) output still notifies every prefetched option.
    let saved = dir.path().join("saved.json");
    std::fs::write(&saved, &out.stdout).unwrap();
    let notify = run(mboxscope(dir.path())
        .args([
            "notify",
            "--server",
            &emulator.url,
            "--client",
            "mboxscopedemo",
            "--from",
        ])
        .arg(&saved));
    assert!(
        notify.status.success(),
        "{}",
        String::from_utf8_lossy(&notify.stderr)
    );

    let out = prefetch_with_secrets(dir.path(), &emulator.url, &qa_secret, &["--reveal"]);
    let result = stdout_json(&out);
    assert_eq!(
        result["request"]["trace"]["authorizationToken"],
        TRACE_SECRET
    );
    assert_eq!(result["request"]["qaMode"]["token"], qa_secret.as_str());
    assert_eq!(result["request"]["property"]["token"], PROPERTY_SECRET);
}

mod in_process {
    use crossterm::event::{KeyCode, KeyEvent};
    use mboxscope::cli::common::TargetArgs;
    use mboxscope::tui::app::{update, Action, Effect};
    use mboxscope::tui::{render_text, settle, start, Session, TuiArgs};
    use std::os::unix::fs::PermissionsExt;

    async fn session(dir: &std::path::Path) -> Session {
        let target = TargetArgs {
            data_dir: Some(dir.join("data")),
            config: Some(dir.join("config.toml")),
            ..Default::default()
        };
        let mut s = start(&target, &TuiArgs::default()).await.expect("starts");
        let first = std::mem::take(&mut s.first);
        settle(&mut s, first).await;
        s
    }

    async fn press(s: &mut Session, action: Action) {
        let effects: Vec<Effect> = update(&mut s.app, action)
            .into_iter()
            .filter(|e| !matches!(e, Effect::Edit(_) | Effect::Copy(_) | Effect::Quit))
            .collect();
        settle(s, effects).await;
    }

    fn key(c: char) -> Action {
        Action::Key(KeyEvent::from(KeyCode::Char(c)))
    }

    #[tokio::test]
    async fn the_qa_prompt_masks_the_token_while_it_is_pasted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = session(dir.path()).await;
        press(&mut s, key('Q')).await;
        press(
            &mut s,
            Action::Paste(format!(
                "https://shop.example.com/?at_preview_token={}&at_preview_index=1_1",
                super::QA_SECRET
            )),
        )
        .await;
        let screen = render_text(&s.app, 160, 40);
        assert!(screen.contains("at_preview_token=••"), "{screen}");
        assert!(!screen.contains(super::QA_SECRET), "{screen}");
    }

    #[tokio::test]
    async fn exports_are_private_and_say_when_they_hold_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = session(dir.path()).await;
        press(&mut s, key('T')).await;
        press(&mut s, Action::Paste(super::TRACE_SECRET.into())).await;
        press(&mut s, Action::Key(KeyEvent::from(KeyCode::Enter))).await;
        press(&mut s, key('p')).await;
        press(&mut s, key('R')).await;
        press(&mut s, key('E')).await;
        assert!(
            s.app.status.contains("tokens in clear") && s.app.status.contains("0600"),
            "{}",
            s.app.status
        );
        let exports: Vec<_> = std::fs::read_dir(dir.path().join("data/exports"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(exports.len(), 2, "{exports:?}");
        for path in &exports {
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
        let har = exports
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "har"))
            .unwrap();
        assert!(std::fs::read_to_string(har)
            .unwrap()
            .contains(super::TRACE_SECRET));
    }
}
