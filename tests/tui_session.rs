//! The TUI for a whole QA session (issue #14): the History of every exchange and attempt, the
//! notification detail, the diff, long content, context overrides, small terminals, and the
//! editor and prompt bugs, each through `update(&mut App, Action)` against real servers on
//! 127.0.0.1; `--snapshot --keys` through the binary.

mod common;

use common::proxy::Proxy;
use common::tui::*;
use common::{scripted_server, Script};
use crossterm::event::KeyCode;
use mboxscope::cli::common::{LocationArgs, TargetArgs};
use mboxscope::tui::app::{update, Action, Effect, Input, Pane, TabId};
use mboxscope::tui::exchange::ExchangeKind;
use mboxscope::tui::render_text;
use mboxscope::tui::rows::RowKind;
use mboxscope::tui::{settle, start, Session, TuiArgs};
use serde_json::json;

async fn typed(s: &mut Session, text: &str) {
    for c in text.chars() {
        press(s, ch(c)).await;
    }
}

/// A session against `server` asking for `mboxes`.
async fn session_on(dir: &std::path::Path, server: &str, mboxes: &[&str]) -> Session {
    let target = TargetArgs {
        server: Some(server.to_string()),
        client_code: Some("acme".into()),
        data_dir: Some(dir.join("data")),
        config: Some(dir.join("config.toml")),
        ..Default::default()
    };
    let args = TuiArgs {
        locations: LocationArgs {
            mboxes: mboxes.iter().map(|m| m.to_string()).collect(),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut s = start(&target, &args).await.expect("starts");
    let first = std::mem::take(&mut s.first);
    settle(&mut s, first).await;
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lists_every_exchange_and_shows_a_notification_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    press(&mut s, ch('a')).await;
    press(&mut s, ch('s')).await;
    press(&mut s, ch('H')).await;
    assert_eq!(s.app.pane, Pane::History);
    let kinds: Vec<String> = s.app.history.iter().map(|e| e.title()).collect();
    assert_eq!(kinds[0], "prefetch 5 locations");
    assert!(kinds[1].starts_with("notifications ×"), "{kinds:?}");
    // The newest is selected: the notification batch, with each notification in full.
    assert_eq!(s.app.history_selected, 1);
    let screen = render_text(&s.app, 120, 40);
    assert!(screen.contains("History (2)"), "{screen}");
    assert!(
        screen.contains("· acked · counted 1 impression"),
        "{screen}"
    );
    insta::assert_snapshot!("notification_detail_120x40", redact(&screen));
    // The tabs show the selected exchange: its request carries the notifications.
    assert!(s
        .app
        .tab_text(TabId::Request)
        .as_str()
        .contains("\"notifications\""));
    press(&mut s, ch('k')).await;
    assert!(s
        .app
        .tab_text(TabId::Request)
        .as_str()
        .contains("\"prefetch\""));
    insta::assert_snapshot!("history_80x24", redact(&render_text(&s.app, 80, 24)));
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_calls_and_every_attempt_are_in_the_history_and_the_har() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: the start-up prefetch fails.
    let mut s = session_on(dir.path(), "http://127.0.0.1:1", &["home-hero"]).await;
    assert_eq!(s.app.history.len(), 1);
    assert!(s.app.history[0].outcome.is_err());
    assert_eq!(
        s.app.last_call.as_ref().map(|(_, o)| o.as_str()),
        Some("failed")
    );
    let screen = render_text(&s.app, 120, 40);
    assert!(screen.contains(" failed "), "the header says it: {screen}");
    press(&mut s, ch('E')).await;
    let har = exported(dir.path(), "har");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{har}");
    assert_eq!(entries[0]["response"]["status"], 0);
    assert!(entries[0]["response"]["_error"]
        .as_str()
        .unwrap()
        .contains("127.0.0.1:1"));
    assert!(entries[0]["request"]["url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:1/rest/v1/delivery"));

    // A server that answers every request with the same prefetch never acknowledges a
    // notification: each of the three attempts is in the history.
    let dir = tempfile::tempdir().unwrap();
    let prefetch = json!({"status": 200, "requestId": "r1", "id": {"tntId": "t1"}, "client": "acme",
        "prefetch": {"mboxes": [{"index": 1, "name": "home-hero", "state": "s1",
            "options": [{"type": "html", "content": "<p>hi</p>", "eventToken": "E1"}]}]}});
    let url = scripted_server(Script::Reply(200, prefetch.to_string().into_bytes()));
    let mut s = session_on(dir.path(), &url, &["home-hero"]).await;
    select_row(&mut s, |r| matches!(r.kind, RowKind::Option(_)));
    press(&mut s, ch('d')).await;
    press(&mut s, ch('s')).await;
    let attempts: Vec<u32> = s
        .app
        .history
        .iter()
        .filter_map(|e| match &e.kind {
            ExchangeKind::Notifications { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    press(&mut s, ch('E')).await;
    let session = exported(dir.path(), "json");
    assert_eq!(session["exchanges"].as_array().unwrap().len(), 4);
    assert!(session["findings"].is_array() && session["report"].is_object());
    assert_eq!(session["notifications"][0]["attempts"], 3);
}

fn exported(dir: &std::path::Path, extension: &str) -> serde_json::Value {
    let path = std::fs::read_dir(dir.join("data/exports"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == extension))
        .expect("exported");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_diff_shows_what_differs_between_two_visitors() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    press(&mut s, ch('D')).await;
    assert!(s.app.tab_text(TabId::Diff).as_str().contains("no baseline"));
    press(&mut s, ch('m')).await;
    // The same visitor as Firefox: the welcome banner's experience differs.
    press(&mut s, ch('o')).await;
    press(&mut s, key(KeyCode::Right)).await;
    press(&mut s, key(KeyCode::Right)).await;
    press(&mut s, key(KeyCode::Enter)).await;
    press(&mut s, ch('p')).await;
    press(&mut s, ch('D')).await;
    let diff = s.app.tab_text(TabId::Diff).as_str().to_string();
    assert!(
        diff.contains("Chrome visitors (0)") && diff.contains("Firefox visitors"),
        "{diff}"
    );
    assert!(!diff.contains("≠ visitor"), "{diff}");
    insta::assert_snapshot!("diff_120x40", redact(&render_text(&s.app, 120, 40)));
    // Another visitor: the ids differ too.
    press(&mut s, ch('v')).await;
    press(&mut s, ch('p')).await;
    let diff = s.app.tab_text(TabId::Diff).as_str().to_string();
    assert!(
        diff.contains("≠ visitor") && diff.contains("facts equal"),
        "{diff}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn long_content_scrolls_in_the_detail_pane_and_tabs_scroll_sideways() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = (1..=60)
        .map(|i| json!({"sku": format!("SKU-{i}"), "title": format!("Item number {i}")}))
        .collect();
    let html: String = (1..=30)
        .map(|i| format!("<section id=\"s{i}\">Section {i}</section>\n"))
        .collect();
    let prefetch = json!({"status": 200, "requestId": "r1", "id": {"tntId": "t1"}, "client": "acme",
        "prefetch": {"mboxes": [
            {"index": 1, "name": "long-json", "options": [{"type": "json", "content": {"items": items}, "eventToken": "E1",
                "responseTokens": {"activity.name": "Long", "experience.name": "Sixty items"}}]},
            {"index": 2, "name": "long-html", "options": [{"type": "html", "content": html, "eventToken": "E2"}]}]}});
    let url = scripted_server(Script::Reply(200, prefetch.to_string().into_bytes()));
    let mut s = session_on(dir.path(), &url, &["long-json", "long-html"]).await;
    select_row(&mut s, |r| {
        r.location.label() == "mbox long-json" && matches!(r.kind, RowKind::Option(_))
    });
    for _ in 0..20 {
        press(&mut s, ch('J')).await;
    }
    let screen = render_text(&s.app, 120, 40);
    assert!(
        screen.contains("SKU-1"),
        "scrolled into the items: {screen}"
    );
    assert!(screen.contains("J/K]"), "the title says where: {screen}");
    insta::assert_snapshot!("long_json_offer_scrolled_120x40", redact(&screen));
    // f enlarges the detail to the whole right side.
    press(&mut s, ch('f')).await;
    let zoomed = render_text(&s.app, 120, 40);
    assert!(
        zoomed.lines().filter(|l| l.contains("\"sku\"")).count() > 6,
        "{zoomed}"
    );
    press(&mut s, ch('f')).await;
    // The HTML offer: every section, one per line.
    select_row(&mut s, |r| {
        r.location.label() == "mbox long-html" && matches!(r.kind, RowKind::Option(_))
    });
    press(&mut s, ch('f')).await;
    let zoomed = render_text(&s.app, 120, 40);
    assert!(zoomed.contains("Section 1<") && zoomed.contains("Section 20<"));
    press(&mut s, ch('f')).await;

    // A search hit far to the right is brought into view; L wraps instead.
    update(&mut s.app, Action::Resize(80, 24));
    press(&mut s, ch('2')).await;
    press(&mut s, ch('/')).await;
    typed(&mut s, "Section 30").await;
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(s.app.hscroll > 0, "scrolled sideways to the hit");
    let screen = render_text(&s.app, 80, 24);
    assert!(screen.contains("Section 30"), "{screen}");
    press(&mut s, ch('<')).await;
    press(&mut s, ch('L')).await;
    assert!(s.app.wrap);
    assert_eq!(s.app.hscroll, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn overrides_change_the_context_without_an_editor_and_after_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    press(&mut s, ch('o')).await;
    assert!(matches!(s.app.input, Input::Overrides(_)));
    // Firefox preset (Chrome, then Firefox), then the page URL.
    press(&mut s, key(KeyCode::Right)).await;
    press(&mut s, key(KeyCode::Right)).await;
    press(&mut s, key(KeyCode::Down)).await;
    update(
        &mut s.app,
        Action::Paste("https://shop.example/sale".into()),
    );
    insta::assert_snapshot!("overrides_form_80x24", redact(&render_text(&s.app, 80, 24)));
    press(&mut s, key(KeyCode::Enter)).await;
    assert_eq!(s.app.input, Input::Normal);
    press(&mut s, ch('p')).await;
    let welcome = |s: &Session| -> Vec<String> {
        s.app
            .rows
            .iter()
            .filter(|r| r.response_token("activity.id").as_deref() == Some("312370"))
            .filter_map(|r| r.response_token("experience.name"))
            .collect()
    };
    assert_eq!(welcome(&s), ["Firefox visitors"], "{}", s.app.status);
    let header = render_text(&s.app, 120, 40);
    assert!(header
        .lines()
        .next()
        .unwrap()
        .contains("UA Firefox · url /sale"));
    // A bad field keeps the form open on it, with the text.
    press(&mut s, ch('o')).await;
    for _ in 0..6 {
        press(&mut s, key(KeyCode::Down)).await;
    }
    typed(&mut s, "north").await;
    press(&mut s, key(KeyCode::Enter)).await;
    let Input::Overrides(form) = &s.app.input else {
        panic!("the form stays open")
    };
    assert!(form.error.as_deref().unwrap().contains("latitude"));
    press(&mut s, key(KeyCode::Esc)).await;

    // After e, the overrides and + still apply (the form was locked before).
    update(
        &mut s.app,
        Action::Edited(
            r#"{"context":{"channel":"web","userAgent":"curl/8"},"prefetch":{"pageLoad":{}}}"#
                .into(),
        ),
    );
    press(&mut s, ch('+')).await;
    typed(&mut s, "mbox home-hero").await;
    press(&mut s, key(KeyCode::Enter)).await;
    let request = s.app.request(mboxscope::delivery::Mode::Prefetch);
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(json["prefetch"]["mboxes"][0]["name"], "home-hero");
    assert!(json["context"]["userAgent"]
        .as_str()
        .unwrap()
        .contains("Firefox"));
    press(&mut s, ch('v')).await;
    press(&mut s, ch('+')).await;
    typed(&mut s, "mbox product-recs").await;
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(!s.app.status.contains("$EDITOR"), "{}", s.app.status);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_clock_override_moves_the_built_in_emulators_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    let promo = |s: &Session| -> Option<String> {
        s.app
            .rows
            .iter()
            .find(|r| r.response_token("activity.id").as_deref() == Some("312380"))
            .and_then(|r| r.response_token("experience.name"))
    };
    let wednesday_morning = promo(&s);
    let mut seen = vec![wednesday_morning.clone()];
    for clock in ["2025-11-29T13:00:00Z", "2025-11-26T22:00:00+01:00"] {
        press(&mut s, ch('o')).await;
        for _ in 0..8 {
            press(&mut s, key(KeyCode::Down)).await;
        }
        let Input::Overrides(form) = &mut s.app.input else {
            panic!("form")
        };
        form.texts[8].clear();
        let effects = {
            typed(&mut s, clock).await;
            update(&mut s.app, key(KeyCode::Enter))
        };
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::SetClock(Some(_)))),
            "{effects:?}"
        );
        settle(&mut s, effects).await;
        press(&mut s, ch('p')).await;
        seen.push(promo(&s));
    }
    seen.dedup();
    assert!(
        seen.len() > 1,
        "the time-of-day activity followed the clock: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn editor_and_prompt_bugs_are_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    // :q! without a change: "unchanged", not "edited".
    let Some(Effect::Edit(text)) = press(&mut s, ch('e')).await.into_iter().next() else {
        panic!("edit")
    };
    update(&mut s.app, Action::Edited(text));
    assert_eq!(s.app.status, "request unchanged");
    assert!(s.app.custom_request.is_none());
    // Invalid text is kept and offered again by the next e.
    press(&mut s, ch('e')).await;
    update(&mut s.app, Action::Edited("{ \"context\": oops".into()));
    assert!(s.app.status.contains("kept your text"));
    let Some(Effect::Edit(again)) = press(&mut s, ch('e')).await.into_iter().next() else {
        panic!("edit")
    };
    assert_eq!(again, "{ \"context\": oops");
    // An edited beacon: true is sent as true.
    update(&mut s.app, Action::Edited(r#"{"context":{"channel":"web","beacon":true},"prefetch":{"mboxes":[{"index":1,"name":"home-hero"}]}}"#.into()));
    press(&mut s, ch('p')).await;
    let sent = s.app.history.last().unwrap().sent_request().clone();
    assert_eq!(sent.context.unwrap().beacon, Some(true));

    // An invalid QA link keeps the prompt open with the text; keys typed then are text.
    press(&mut s, ch('Q')).await;
    press(&mut s, ch('p')).await;
    update(
        &mut s.app,
        Action::Paste("https://shop.example/?at_preview_token=".into()),
    );
    press(&mut s, key(KeyCode::Enter)).await;
    let Input::QaUrl(kept) = &s.app.input else {
        panic!("the prompt stays open: {:?}", s.app.input)
    };
    assert!(kept.contains("shop.example"));
    assert!(s.app.prompt_error.is_some());
    let history = s.app.history.len();
    press(&mut s, ch('p')).await;
    assert_eq!(s.app.history.len(), history, "p was typed, not run");
    press(&mut s, key(KeyCode::Esc)).await;
    // A QA link set, then cleared with an empty link.
    press(&mut s, ch('Q')).await;
    let link = s.app.qa_links[0].url.clone();
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(
        s.app.spec.qa_mode.is_some() || s.app.custom_request.as_ref().unwrap().qa_mode.is_some(),
        "{link}"
    );
    press(&mut s, ch('Q')).await;
    press(&mut s, ch('p')).await;
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(s.app.spec.qa_mode.is_none());
    assert!(s.app.status.contains("left QA mode"), "{}", s.app.status);
    // An empty T does not claim a token was set; T then an empty T clears one.
    press(&mut s, ch('T')).await;
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(s.app.status.contains("no trace token"), "{}", s.app.status);
    press(&mut s, ch('T')).await;
    typed(&mut s, "SECRET").await;
    press(&mut s, key(KeyCode::Enter)).await;
    press(&mut s, ch('T')).await;
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(s.app.status.contains("cleared"), "{}", s.app.status);
    assert!(s.app.spec.trace_token.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_smaller_bugs_are_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    // y in the Response tab copies JSON, not the status line.
    press(&mut s, ch('2')).await;
    let Some(Effect::Copy(value)) = press(&mut s, ch('y')).await.into_iter().next() else {
        panic!("y")
    };
    assert!(!value.starts_with("HTTP"), "{value}");
    // The selection stays on its row across p.
    select_row(&mut s, |r| {
        r.location.label() == "mbox product-recs" && matches!(r.kind, RowKind::Option(_))
    });
    press(&mut s, ch('p')).await;
    assert_eq!(s.app.row().unwrap().location.label(), "mbox product-recs");
    // The header says EXECUTE after x.
    press(&mut s, ch('x')).await;
    let header = render_text(&s.app, 120, 40)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.contains("EXECUTE"), "{header}");
    // Z folds every item and shows the top, with each item's name.
    press(&mut s, ch('p')).await;
    press(&mut s, ch('2')).await;
    press(&mut s, key(KeyCode::PageDown)).await;
    press(&mut s, ch('Z')).await;
    assert_eq!(s.app.scroll, 0);
    assert!(render_text(&s.app, 120, 40).contains("{ … name: \"checkout\" },"));
    // The Ledger tab stops at its end.
    press(&mut s, ch('a')).await;
    press(&mut s, ch('s')).await;
    press(&mut s, ch('7')).await;
    for _ in 0..50 {
        press(&mut s, key(KeyCode::PageDown)).await;
    }
    let len = s.app.tab_text(TabId::Ledger).len();
    let rows = mboxscope::tui::view::tab_rows(&s.app);
    assert!(
        s.app.scroll + rows <= len + 1,
        "scroll {} rows {rows} len {len}",
        s.app.scroll
    );
    let screen = render_text(&s.app, 120, 40);
    assert!(
        !screen.lines().nth(40 - 2).unwrap().trim().is_empty(),
        "the last line of the tab is filled: {screen}"
    );
    // "1 location", and a mistyped mbox is named.
    press(&mut s, ch('+')).await;
    typed(&mut s, "mbox home-heroo").await;
    press(&mut s, key(KeyCode::Enter)).await;
    press(&mut s, ch('p')).await;
    assert!(
        s.app.status.contains("not in the rules: home-heroo"),
        "{}",
        s.app.status
    );
    assert!(render_text(&s.app, 120, 40).contains("not in the rules"));
    // I shows and copies the full tntId.
    let tnt = s.app.visitor.tnt_id.clone().unwrap();
    let effects = press(&mut s, ch('I')).await;
    assert_eq!(effects, vec![Effect::Copy(tnt.clone())]);
    assert!(s.app.log.iter().any(|m| m.contains(&tnt)));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_location_is_singular_and_small_terminals_keep_status_and_badges() {
    let dir = tempfile::tempdir().unwrap();
    let target = target(dir.path());
    let args = TuiArgs {
        locations: LocationArgs {
            mboxes: vec!["home-hero".into()],
            ..Default::default()
        },
        emulator_now: Some(1_764_144_000_000),
        ..Default::default()
    };
    let mut s = start(&target, &args).await.unwrap();
    let first = std::mem::take(&mut s.first);
    settle(&mut s, first).await;
    assert_eq!(s.app.status, "200 prefetch · 1 location");
    press(&mut s, ch('T')).await;
    typed(&mut s, "SECRET").await;
    press(&mut s, key(KeyCode::Enter)).await;
    let screen = render_text(&s.app, 80, 24);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[0].contains("TRACE") && lines[0].contains("PREFETCH"),
        "{screen}"
    );
    assert!(lines[23].contains("trace token set"), "{screen}");
    assert!(lines
        .iter()
        .any(|l| l.contains("8 Rep") && l.contains("9 Diff")));
    // ! keeps every message in full.
    update(
        &mut s.app,
        Action::Status(format!("a long message {} the end", "x".repeat(150))),
    );
    press(&mut s, ch('!')).await;
    let log = render_text(&s.app, 80, 24);
    assert!(log.contains("the end"), "{log}");
    insta::assert_snapshot!("message_log_80x24", redact(&log));
    press(&mut s, ch('q')).await;
    assert_eq!(s.app.input, Input::Normal, "any other key closes the log");
    assert!(!s.app.quit);
}

#[test]
fn snapshot_keys_show_the_export_path_and_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(common::mboxscope(dir.path()).args([
        "--snapshot",
        "--width",
        "80",
        "--height",
        "24",
        "--keys",
        "E",
    ]));
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.lines().last().unwrap().contains("exported "),
        "{screen}"
    );
    let out = common::run(common::mboxscope(dir.path()).args(["--snapshot", "--keys", "a s H"]));
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("History (2)"), "{screen}");
    assert!(screen.contains("prefetch 5 locations"), "{screen}");
    assert!(screen.contains("notifications ×"), "{screen}");
    let out = common::run(
        common::mboxscope(dir.path())
            .args(["--snapshot", "--keys", "C-"])
            .env("X", "1"),
    );
    assert!(out.status.success(), "a lone C- is typed as it is");
    let bad = common::mboxscope(dir.path())
        .args(["--keys", "a"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "--keys needs --snapshot");
}

#[tokio::test(flavor = "multi_thread")]
async fn w_explains_the_selected_location_and_percent_simulates_its_split() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    select_row(&mut s, |r| {
        r.location.label() == "pageLoad" && matches!(r.kind, RowKind::Option(_))
    });
    press(&mut s, ch('w')).await;
    assert_eq!(s.app.detail_view, mboxscope::tui::app::DetailView::Why);
    let screen = render_text(&s.app, 120, 40);
    assert!(screen.contains("why: pageLoad"), "{screen}");
    assert!(screen.contains("browser: user.browserType"), "{screen}");
    assert!(screen.contains("WON"), "{screen}");
    press(&mut s, ch('w')).await;
    assert_eq!(s.app.detail_view, mboxscope::tui::app::DetailView::Row);
    // % simulates the hero mbox's visitors off the event loop: a 50/50 split.
    select_row(&mut s, |r| {
        r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Option(_))
    });
    press(&mut s, ch('%')).await;
    let (label, simulation) = s.app.insight.split.as_ref().expect("a split");
    assert_eq!(label, "mbox home-hero");
    let hero = &simulation.activities[0];
    assert_eq!(hero.id, "312345");
    for experience in &hero.experiences {
        assert!((experience.share - 50.0).abs() < 2.0, "{hero:?}");
    }
    let screen = render_text(&s.app, 120, 40);
    assert!(screen.contains("split: mbox home-hero"), "{screen}");
    assert!(screen.contains("configured"), "{screen}");
}

#[test]
fn a_scenario_recorded_with_w_passes_when_checked_right_after() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(common::mboxscope(dir.path()).args([
        "--snapshot",
        "--width",
        "160",
        "--keys",
        "W hero space check enter",
    ]));
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("recorded "), "{screen}");
    let path = dir.path().join("data/scenarios/hero-check.toml");
    let toml = std::fs::read_to_string(&path).expect("the scenario is written");
    assert!(toml.contains("hero check"), "{toml}");
    let check = common::run(common::mboxscope(dir.path()).arg("check").arg(&path));
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{stdout}\n{toml}");
    assert!(stdout.contains("check: 1 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_scenario_recorded_under_a_profile_names_the_profile_and_passes_check() {
    let server = common::Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[profiles.staging]\nclient_code = \"mboxscopedemo\"\nserver = \"{}\"\n",
            server.url
        ),
    )
    .unwrap();
    let out = common::run(common::mboxscope(dir.path()).args([
        "--profile",
        "staging",
        "--snapshot",
        "--width",
        "160",
        "--keys",
        "p W staging2 enter",
    ]));
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("recorded "), "{screen}");
    let path = dir.path().join("data/scenarios/staging2.toml");
    let toml = std::fs::read_to_string(&path).expect("the scenario is written");
    assert!(toml.contains("profile = \"staging\""), "{toml}");
    let check = common::run(common::mboxscope(dir.path()).arg("check").arg(&path));
    let stdout = String::from_utf8_lossy(&check.stdout);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(0), "{stdout}{stderr}\n{toml}");
    assert!(stdout.contains("check: 1 passed, 0 failed"), "{stdout}");
}

#[test]
fn watch_shows_an_applications_exchanges_through_a_proxy_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    // A proxy in front of the built-in emulator.
    let proxy = Proxy::start(dir.path(), None);
    let url = proxy.url.clone();
    // The application prefetches as a bot would: the linter has something to say.
    let body = json!({"id": {"tntId": "app-visitor"},
        "context": {"channel": "web", "userAgent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
        "prefetch": {"mboxes": [{"index": 1, "name": "home-hero"}]}});
    let (status, _) = common::http(
        "POST",
        &format!("{url}/rest/v1/delivery?client=mboxscopedemo&sessionId=app-session"),
        Some(&body),
    );
    assert_eq!(status, 200);
    // The proxy journals in batches; a live view shows what is journaled.
    proxy.exchanges(1);
    let watched = common::run(common::mboxscope(dir.path()).args([
        "--snapshot",
        "--width",
        "140",
        "--watch",
        &url,
    ]));
    let screen = String::from_utf8_lossy(&watched.stdout);
    drop(proxy);
    assert!(watched.status.success(), "{screen}");
    assert!(screen.contains("History (1)"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("200 app prefetch · app-visitor · home-hero")),
        "each row names its visitor and locations: {screen}"
    );
    assert!(screen.contains("visitor app-visitor"), "{screen}");
    assert!(
        screen.contains("\"tntId\": \"app-visitor\""),
        "the tabs show its request: {screen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn why_explains_a_first_visit_with_the_visitor_id_the_answer_gave() {
    // No --tnt-id: the emulator names the visitor, and allocates with that id.
    for _ in 0..6 {
        let dir = tempfile::tempdir().unwrap();
        let target = TargetArgs {
            data_dir: Some(dir.path().join("data")),
            config: Some(dir.path().join("config.toml")),
            ..Default::default()
        };
        let mut s = start(&target, &TuiArgs::default()).await.unwrap();
        let first = std::mem::take(&mut s.first);
        settle(&mut s, first).await;
        select_row(&mut s, |r| {
            r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Option(_))
        });
        let delivered = s
            .app
            .row()
            .unwrap()
            .response_token("experience.name")
            .unwrap();
        press(&mut s, ch('w')).await;
        let why = s.app.insight.why.as_ref().expect("an explanation");
        let winner = why
            .rules
            .iter()
            .find(|r| r.verdict == mboxscope::decisioning::explain::Verdict::Won)
            .map(|r| r.experience_name.clone().unwrap_or_default());
        assert_eq!(winner.as_deref(), Some(delivered.as_str()));
    }
}

#[test]
fn the_header_shows_the_user_agent_and_page_given_as_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(common::mboxscope(dir.path()).args([
        "--user-agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
        "--page-url",
        "https://shop.example/sale",
        "--mbox",
        "product-recs",
        "--snapshot",
        "--width",
        "200",
    ]));
    let screen = String::from_utf8_lossy(&out.stdout);
    let header = screen.lines().next().unwrap_or_default();
    assert!(
        header.contains("UA Firefox (custom) · url /sale"),
        "{header}"
    );
}

#[test]
fn after_a_qa_link_the_request_tab_shows_the_next_request_with_qa_mode() {
    let dir = tempfile::tempdir().unwrap();
    let shown = |keys: &str| {
        let out = common::run(common::mboxscope(dir.path()).args([
            "--snapshot",
            "--width",
            "160",
            "--height",
            "140",
            "--keys",
            keys,
        ]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The session starts with a prefetch; the link changes what `p` sends next.
    let pasted = shown("Q enter");
    assert!(pasted.contains("(not sent yet: p sends it)"), "{pasted}");
    assert!(pasted.contains("\"qaMode\": {"), "{pasted}");
    assert!(pasted.contains("••••(masked)"), "{pasted}");
    // Once sent, the tab shows the request as it was sent.
    let sent = shown("Q enter p");
    assert!(!sent.contains("not sent yet"), "{sent}");
    assert!(sent.contains("\"qaMode\": {"), "{sent}");
    // The QA link lists one activity: the answer leaves out the views asked for, and the
    // status says how many of the locations asked for were answered.
    assert!(
        sent.contains("200 prefetch · 3 of 5 locations answered"),
        "{sent}"
    );
}

#[test]
fn picking_another_exchange_shows_its_tabs_from_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run(common::mboxscope(dir.path()).args([
        "--snapshot",
        "--width",
        "100",
        "--height",
        "30",
        "--keys",
        "j j j j pgdn pgdn pgdn d s H j",
    ]));
    let screen = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = screen.lines().collect();
    let tabs = lines
        .iter()
        .position(|l| l.contains("1 Req"))
        .expect("the tab bar");
    assert!(
        lines[tabs + 1].starts_with("POST http://127.0.0.1:"),
        "the notification batch's request from its first line: {screen}"
    );
    assert!(screen.contains("\"notifications\": ["), "{screen}");
}

#[test]
fn watching_a_proxy_works_on_its_target_and_reads_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(dir.path(), None);
    let url = proxy.url.clone();
    let (status, target) = common::http("GET", &format!("{url}/mboxscope/target"), None);
    assert_eq!(status, 200, "{target}");
    let upstream = target["upstream"]
        .as_str()
        .expect("its upstream")
        .to_string();
    assert_eq!(target["client"], "mboxscopedemo");
    // The application prefetches, then notifies the option it displayed.
    let delivery = format!("{url}/rest/v1/delivery?client=mboxscopedemo&sessionId=app-session");
    let prefetch = json!({"id": {"tntId": "app-visitor"}, "context": {"channel": "web"},
        "prefetch": {"mboxes": [{"index": 1, "name": "home-hero"}]}});
    let (status, answer) = common::http("POST", &delivery, Some(&prefetch));
    assert_eq!(status, 200, "{answer}");
    let mbox = &answer["prefetch"]["mboxes"][0];
    let notify = json!({"id": {"tntId": "app-visitor"}, "context": {"channel": "web"},
        "notifications": [{"id": "app-n1", "impressionId": "app-i1", "type": "display",
            "timestamp": 1, "mbox": {"name": "home-hero", "state": mbox["state"]},
            "tokens": [mbox["options"][0]["eventToken"]]}]});
    let (status, answer) = common::http("POST", &delivery, Some(&notify));
    assert_eq!(status, 200, "{answer}");
    // The proxy journals in batches; a live view shows what is journaled.
    proxy.exchanges(2);
    let watched = |keys: &str| {
        let out = common::run(common::mboxscope(dir.path()).args([
            "--watch",
            &url,
            "--snapshot",
            "--width",
            "200",
            "--height",
            "50",
            "--keys",
            keys,
        ]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let report = watched("8");
    drop(proxy);
    let header = report.lines().next().unwrap_or_default();
    assert!(
        header.contains(&format!("watching {url} → {upstream}")),
        "{header}"
    );
    let counts = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        report.lines().map(counts).any(|l| l
            .contains("Experience A expected 1 1 1 0 counted 1 1 1 0")),
        "the Report tab counts the application's notification, beside the upstream's counts: {report}"
    );
}

#[test]
fn a_watched_server_cannot_choose_the_file_the_window_opens() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious-no-newline").unwrap();
    let upstream = common::Emulator::start(&[]);
    let answer = json!({"upstream": upstream.url, "client": "mboxscopedemo",
        "journal": victim.display().to_string()});
    let url = common::scripted_server(common::Script::Reply(
        200,
        serde_json::to_vec(&answer).unwrap(),
    ));
    let out = common::run(common::mboxscope(dir.path()).args([
        "--watch",
        &url,
        "--snapshot",
        "--width",
        "220",
        "--keys",
        "p",
    ]));
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious-no-newline",
        "{screen}"
    );
    assert!(screen.contains("watching"), "{screen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_made_while_a_call_runs_is_still_shown_as_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let target = target(dir.path());
    let args = TuiArgs {
        locations: LocationArgs {
            mboxes: vec!["home-hero".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut s = start(&target, &args).await.unwrap();
    // The first prefetch is issued but has not landed when the trace token is set.
    let first = std::mem::take(&mut s.first);
    press(&mut s, ch('T')).await;
    typed(&mut s, "SECRET").await;
    press(&mut s, key(KeyCode::Enter)).await;
    settle(&mut s, first).await;
    assert_eq!(s.app.status, "200 prefetch · 1 location");
    let screen = render_text(&s.app, 120, 60);
    assert!(screen.contains("(not sent yet: p sends it)"), "{screen}");
}
