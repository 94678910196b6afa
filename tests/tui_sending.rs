//! A send in the TUI runs beside the operator (issue #13): `d` during a send is handled at once,
//! `v` during a send keeps the new visitor, a second `s` is refused and `Esc` still cancels.
//! Against a real `mboxscope serve` whose every reply is slow.

mod common;

use common::Emulator;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mboxscope::cli::common::TargetArgs;
use mboxscope::tui::app::{update, Action, Badge, Effect};
use mboxscope::tui::rows::RowKind;
use mboxscope::tui::{settle, start, Session, TuiArgs};

fn ch(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

async fn slow_session(dir: &std::path::Path, emulator: &Emulator) -> Session {
    let target = TargetArgs {
        server: Some(emulator.url.clone()),
        data_dir: Some(dir.join("data")),
        config: Some(dir.join("config.toml")),
        ..Default::default()
    };
    let args = TuiArgs {
        locations: mboxscope::cli::common::LocationArgs {
            mboxes: vec!["home-hero".into(), "product-recs".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut s = start(&target, &args).await.expect("starts");
    let first = std::mem::take(&mut s.first);
    settle(&mut s, first).await;
    s
}

/// Selects the option row of `mbox`.
fn select_option(s: &mut Session, mbox: &str) {
    s.app.selected = s
        .app
        .rows
        .iter()
        .position(|r| {
            r.location.label() == format!("mbox {mbox}") && matches!(r.kind, RowKind::Option(_))
        })
        .expect("an option row");
}

/// Selects the option of `mbox` and queues its display (settled).
async fn queue_display(s: &mut Session, mbox: &str) {
    select_option(s, mbox);
    let effects = update(&mut s.app, ch('d'));
    settle(s, effects).await;
}

/// Queues the display of `mbox`'s option while a send runs (without waiting for the send).
async fn queue_during_send(s: &mut Session, mbox: &str) -> bool {
    select_option(s, mbox);
    for effect in update(&mut s.app, ch('d')) {
        s.runtime.run(effect).await;
    }
    let mut queued = false;
    while let Ok(action) = s.rx.try_recv() {
        queued |= matches!(action, Action::Queued(_));
        update(&mut s.app, action);
    }
    queued
}

/// Presses `s` and starts the send without waiting for it.
async fn start_send(s: &mut Session) {
    let effects = update(&mut s.app, ch('s'));
    assert!(
        matches!(effects.as_slice(), [Effect::Send(ids)] if !ids.is_empty()),
        "{effects:?}"
    );
    for effect in effects {
        s.runtime.run(effect).await;
    }
    assert!(s.runtime.task.as_ref().is_some_and(|t| !t.is_finished()));
}

#[tokio::test(flavor = "multi_thread")]
async fn d_and_v_during_a_send_are_handled_at_once_and_kept() {
    let emulator = Emulator::start(&["--latency-ms", "1500"]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = slow_session(dir.path(), &emulator).await;
    queue_display(&mut s, "home-hero").await;
    start_send(&mut s).await;

    // d while the send waits on the server: journaled and answered without waiting for it.
    let queued = queue_during_send(&mut s, "product-recs").await;
    assert!(
        s.runtime.task.as_ref().is_some_and(|t| !t.is_finished()),
        "d waited for the send to finish"
    );
    assert!(queued, "the display was queued during the send");

    // v during the send: the new visitor is kept when the send ends.
    let before = s.app.visitor.clone();
    for effect in update(&mut s.app, ch('v')) {
        s.runtime.run(effect).await;
    }
    let chosen = s.app.visitor.clone();
    assert_ne!(chosen.session_id, before.session_id);
    let task = s.runtime.task.take().unwrap();
    task.await.unwrap();
    settle(&mut s, Vec::new()).await;
    assert_eq!(
        s.app.visitor.session_id, chosen.session_id,
        "the send put the old visitor back"
    );
    assert_eq!(s.app.visitor.tnt_id, None);
    // The next prefetch goes out for the new visitor.
    let effects = update(&mut s.app, ch('p'));
    assert!(
        matches!(effects.as_slice(), [Effect::Call(_, _, v)] if v.session_id == chosen.session_id && v.tnt_id.is_none()),
        "{effects:?}"
    );
    assert!(
        s.app.badges.values().any(|b| *b == Badge::Acked),
        "{:?}",
        s.app.badges
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_s_during_a_send_is_refused_and_esc_still_cancels() {
    let emulator = Emulator::start(&["--latency-ms", "1500"]);
    let dir = tempfile::tempdir().unwrap();
    let mut s = slow_session(dir.path(), &emulator).await;
    queue_display(&mut s, "home-hero").await;
    start_send(&mut s).await;
    assert!(queue_during_send(&mut s, "product-recs").await);
    let again = update(&mut s.app, ch('s'));
    assert!(again.is_empty(), "{again:?}");
    assert!(s.app.status.contains("running"), "{}", s.app.status);
    let running = s.runtime.task.as_ref().map(|t| t.id());
    let effects = update(
        &mut s.app,
        Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert_eq!(effects, [Effect::Cancel]);
    assert!(running.is_some());
    for effect in effects {
        s.runtime.run(effect).await;
    }
    assert!(s.runtime.task.is_none(), "Esc cancelled the first send");
}
