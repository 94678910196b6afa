//! The TUI driven through `update(&mut App, Action)` against the in-process emulator: a
//! session at a fixed clock and visitor, key presses that wait for their requests, and
//! redaction of what changes between runs (ports, ids, timings).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mboxscope::cli::common::TargetArgs;
use mboxscope::tui::app::{update, Action, Effect};
use mboxscope::tui::{settle, start, Session, TuiArgs};
use regex::Regex;

pub fn target(dir: &std::path::Path) -> TargetArgs {
    TargetArgs {
        data_dir: Some(dir.join("data")),
        config: Some(dir.join("config.toml")),
        tnt_id: Some("snapshot-visitor".into()),
        session_id: Some("snapshot-session".into()),
        ..Default::default()
    }
}

pub async fn session(dir: &std::path::Path) -> Session {
    // A Wednesday, 08:00 UTC: the time-of-day activity decides the same every run.
    let args = TuiArgs {
        emulator_now: Some(1_764_144_000_000),
        ..Default::default()
    };
    let mut s = start(&target(dir), &args).await.expect("starts");
    let first = std::mem::take(&mut s.first);
    settle(&mut s, first).await;
    s
}

pub fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Action {
    key(KeyCode::Char(c))
}

pub async fn press(s: &mut Session, action: Action) -> Vec<Effect> {
    let effects = update(&mut s.app, action);
    let keep = effects.clone();
    let runnable: Vec<Effect> = effects
        .into_iter()
        .filter(|e| !matches!(e, Effect::Edit(_) | Effect::Copy(_) | Effect::Quit))
        .collect();
    settle(s, runnable).await;
    keep
}

pub fn select_row(s: &mut Session, pred: impl Fn(&mboxscope::tui::rows::Row) -> bool) {
    s.app.selected = s.app.rows.iter().position(pred).expect("such a row");
}

pub fn redact(text: &str) -> String {
    let rules = [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "<uuid>",
        ),
        // A uuid cut at the screen's edge.
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f-]+", "<uuid>"),
        (r"[0-9a-f]{32}", "<hex32>"),
        (r"[0-9a-f]{6}…[0-9a-f]{2}", "<short>"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "<iso>"),
        (r"\b1\d{12}\b", "<ms>"),
        (r"\b1\d{9}\b", "<s>"),
        (r"\d+ bytes", "N bytes="),
        (r"\b\d\d:\d\d:\d\d\b", "HH:MM:SS"),
        (r"session-\d+", "session-<ms>"),
    ];
    // Each match becomes a placeholder of the same width, so boxes stay aligned; a placeholder
    // ending in '=' is used as it is (what it hides has no fixed width, e.g. timings).
    // A timing: "N ms"; one that pads a box to its border keeps the box's width.
    let mut out = Regex::new(r"\b\d+ ms( *)(│?)")
        .unwrap()
        .replace_all(text, |c: &regex::Captures| {
            if c[2].is_empty() {
                format!("N ms{}", &c[1])
            } else {
                let width = c[0].chars().count();
                format!("{:<w$}│", "N ms", w = width - 1)
            }
        })
        .into_owned();
    for (pattern, placeholder) in rules {
        out = Regex::new(pattern)
            .unwrap()
            .replace_all(&out, |c: &regex::Captures| {
                if let Some(fixed) = placeholder.strip_suffix('=') {
                    return fixed.to_string();
                }
                let width = c[0].chars().count();
                let mut p: String = placeholder.chars().take(width).collect();
                while p.chars().count() < width {
                    p.push('#');
                }
                p
            })
            .into_owned();
    }
    out
}
