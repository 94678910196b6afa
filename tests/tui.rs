//! The TUI through `update(&mut App, Action)` against the in-process emulator: every key, and
//! insta snapshots of every tab at 120x40 and 80x24 (ids, ports and timings redacted).

mod common;

use common::tui::*;
use crossterm::event::KeyCode;
use mboxscope::tui::app::{update, Action, Badge, Effect, Input, TabId};
use mboxscope::tui::rows::RowKind;
use mboxscope::tui::{render_text, Session};

#[tokio::test(flavor = "multi_thread")]
async fn every_tab_at_two_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    // Put something in the ledger and the report first.
    select_row(&mut s, |r| {
        r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Option(_))
    });
    press(&mut s, ch('d')).await;
    press(&mut s, ch('s')).await;
    for (w, h) in [(120u16, 40u16), (80, 24)] {
        for (i, name) in TabId::ALL.iter().map(|t| t.title()).enumerate() {
            press(&mut s, ch(char::from(b'1' + i as u8))).await;
            insta::assert_snapshot!(
                format!("{name}_{w}x{h}"),
                redact(&render_text(&s.app, w, h))
            );
        }
    }
    insta::assert_snapshot!("too_small", render_text(&s.app, 40, 10));
    // A metric row has no random state behind the overlay.
    select_row(&mut s, |r| matches!(r.kind, RowKind::Metric(_)));
    press(&mut s, ch('?')).await;
    insta::assert_snapshot!("help_120x40", redact(&render_text(&s.app, 120, 40)));
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_json_folds_scrolls_over_folds_and_copies_the_focused_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    press(&mut s, ch('2')).await;
    let total = s.app.tab_text(TabId::Response).len();
    // Z folds every response item; the tab then shows one line per item.
    press(&mut s, ch('Z')).await;
    assert!(
        s.app.folds[TabId::Response.index()].len() >= 4,
        "{} folds",
        s.app.folds[TabId::Response.index()].len()
    );
    let folded_screen = redact(&render_text(&s.app, 120, 40));
    assert!(folded_screen.contains("lines folded)"), "{folded_screen}");
    insta::assert_snapshot!("response_folded_120x40", folded_screen);
    // Scrolling to the end passes each folded item in one step.
    let mut steps = 0;
    loop {
        let before = s.app.scroll;
        press(&mut s, ch('l')).await;
        if s.app.scroll == before {
            break;
        }
        steps += 1;
    }
    assert!(steps < total / 2, "{steps} steps over {total} lines");
    // Z again unfolds; z on a line inside a block folds that block and moves to its start.
    press(&mut s, ch('Z')).await;
    assert!(s.app.folds[TabId::Response.index()].is_empty());
    press(&mut s, key(KeyCode::PageUp)).await;
    press(&mut s, key(KeyCode::PageUp)).await;
    let text = s.app.tab_text(TabId::Response).clone();
    let inside = (0..text.len())
        .find(|&i| text.line(i).contains("\"eventToken\""))
        .expect("an option with a token");
    s.app.scroll = inside;
    press(&mut s, ch('z')).await;
    assert!(
        s.app.scroll < inside
            && s.app.folds[TabId::Response.index()]
                .folded_at(s.app.scroll)
                .is_some()
    );
    // y copies the value at the top (the folded option, as JSON); Y the whole tab.
    let Some(Effect::Copy(value)) = press(&mut s, ch('y')).await.into_iter().next() else {
        panic!("y copies");
    };
    let option: serde_json::Value = serde_json::from_str(&value).expect("a JSON value");
    assert!(option["eventToken"].is_string(), "{value}");
    let Some(Effect::Copy(all)) = press(&mut s, ch('Y')).await.into_iter().next() else {
        panic!("Y copies");
    };
    // The Response tab's status line (`HTTP 200 · …`) is not JSON: Y copies the JSON only.
    assert!(text.as_str().starts_with("HTTP "));
    let json = text.as_str().split_once('\n').unwrap().1;
    assert_eq!(all, json);
    serde_json::from_str::<serde_json::Value>(&all).expect("Y copies JSON");
    // A search hit inside a fold unfolds it.
    press(&mut s, ch('z')).await;
    press(&mut s, ch('z')).await;
    assert!(s.app.folds[TabId::Response.index()]
        .folded_at(s.app.scroll)
        .is_some());
    press(&mut s, ch('/')).await;
    for c in "eventToken".chars() {
        press(&mut s, ch(c)).await;
    }
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(text.line(s.app.scroll).contains("eventToken"));
    assert_eq!(
        s.app.folds[TabId::Response.index()].visible(s.app.scroll),
        s.app.scroll
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn display_send_then_click_count_in_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    assert!(s
        .app
        .rows
        .iter()
        .any(|r| r.location.label() == "mbox home-hero"));
    select_row(&mut s, |r| {
        r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Option(_))
    });
    let key_of = s.app.row().unwrap().key();
    let experience = s
        .app
        .row()
        .unwrap()
        .response_token("experience.name")
        .unwrap();
    press(&mut s, ch('d')).await;
    assert_eq!(s.app.badges.get(&key_of), Some(&Badge::Queued));
    assert_eq!(s.app.queued.len(), 1);
    // d again on the same option is the same notification, not a second one.
    press(&mut s, ch('d')).await;
    assert_eq!(s.app.queued.len(), 1);
    press(&mut s, ch('s')).await;
    assert_eq!(
        s.app.badges.get(&key_of),
        Some(&Badge::Acked),
        "status: {}",
        s.app.status
    );
    assert!(s.app.queued.is_empty());
    // What the emulator counted, from the Report tab's comparison (expected must agree).
    let impressions = |s: &Session, activity: &str, experience: &str, field: &str| -> u64 {
        let row = s
            .app
            .comparison
            .rows
            .iter()
            .find(|r| {
                r.activity_name.as_deref() == Some(activity)
                    && r.experience_name.as_deref() == Some(experience)
            })
            .expect("the experience is in the Report tab");
        assert!(
            !row.mismatch(),
            "expected {:?} counted {:?}",
            row.expected,
            row.counted
        );
        let counted = row.counted.expect("the emulator's counts");
        match field {
            "impressions" => counted.impressions,
            _ => counted.clicks,
        }
    };
    assert_eq!(
        impressions(&s, "Spring hero", &experience, "impressions"),
        1
    );
    // c on the #cta metric: one click.
    select_row(&mut s, |r| {
        r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Metric(_))
    });
    press(&mut s, ch('c')).await;
    press(&mut s, ch('s')).await;
    assert_eq!(impressions(&s, "Spring hero", &experience, "clicks"), 1);
    assert_eq!(
        impressions(&s, "Spring hero", &experience, "impressions"),
        1
    );
    // The ledger tab lists both, acknowledged.
    assert_eq!(s.app.ledger.len(), 2);
    assert!(s.app.ledger.iter().all(|e| !e.is_pending()));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_key_does_its_job() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    let rows = s.app.rows.len();
    assert!(rows > 5);

    // Moving: arrows and vim keys.
    s.app.selected = 0;
    press(&mut s, key(KeyCode::Down)).await;
    press(&mut s, ch('j')).await;
    assert_eq!(s.app.selected, 2);
    press(&mut s, key(KeyCode::Up)).await;
    press(&mut s, ch('k')).await;
    press(&mut s, ch('k')).await;
    assert_eq!(s.app.selected, 0, "clamped at the top");

    // space selects (and moves on); a sends display for every option.
    select_row(&mut s, |r| matches!(r.kind, RowKind::Option(_)));
    press(&mut s, ch(' ')).await;
    assert_eq!(s.app.marked.len(), 1);
    press(&mut s, ch('a')).await;
    let options = s
        .app
        .rows
        .iter()
        .filter(|r| matches!(r.kind, RowKind::Option(_)))
        .count();
    assert_eq!(s.app.queued.len(), options);

    // c on an option row is refused with a reason.
    select_row(&mut s, |r| matches!(r.kind, RowKind::Option(_)));
    s.app.marked.clear();
    press(&mut s, ch('c')).await;
    assert!(s.app.status.contains("click metric"), "{}", s.app.status);

    // Tabs: tab cycles, digits jump; h/l and PageUp/PageDown scroll.
    press(&mut s, ch('2')).await;
    assert_eq!(s.app.tab, TabId::Response);
    press(&mut s, key(KeyCode::Tab)).await;
    assert_eq!(s.app.tab, TabId::Trace);
    // The trace tab holds one line: scrolling stops at it.
    press(&mut s, ch('l')).await;
    assert_eq!(s.app.scroll, 0);
    press(&mut s, ch('2')).await;
    press(&mut s, ch('l')).await;
    press(&mut s, key(KeyCode::PageDown)).await;
    assert_eq!(s.app.scroll, 11);
    press(&mut s, ch('h')).await;
    press(&mut s, key(KeyCode::PageUp)).await;
    assert_eq!(s.app.scroll, 0);

    // / searches the tab, n jumps to the next match, Esc clears the search.
    press(&mut s, ch('1')).await;
    press(&mut s, ch('/')).await;
    for c in "index".chars() {
        press(&mut s, ch(c)).await;
    }
    press(&mut s, key(KeyCode::Enter)).await;
    let first_match = s.app.scroll;
    assert!(s
        .app
        .tab_text(TabId::Request)
        .line(first_match)
        .contains("index"));
    press(&mut s, ch('n')).await;
    assert!(s.app.scroll > first_match, "n went to the next match");
    press(&mut s, key(KeyCode::Esc)).await;
    assert_eq!(s.app.search, None);

    // n without a search never changes the session; N does (a new visit); v: a new visitor.
    let session_before = s.app.visitor.session_id.clone();
    press(&mut s, ch('n')).await;
    assert_eq!(s.app.visitor.session_id, session_before);
    assert!(s.app.status.contains("no search"), "{}", s.app.status);
    press(&mut s, ch('N')).await;
    assert_ne!(s.app.visitor.session_id, session_before);
    press(&mut s, ch('v')).await;
    assert_eq!(s.app.visitor.tnt_id, None);

    // p prefetches for the new visitor, x executes.
    press(&mut s, ch('p')).await;
    assert!(s.app.visitor.tnt_id.is_some());
    assert!(s.app.last.as_ref().unwrap().response.prefetch.is_some());
    press(&mut s, ch('x')).await;
    assert!(s.app.last.as_ref().unwrap().response.execute.is_some());
    // Displaying execute content is refused: it would count twice.
    select_row(&mut s, |r| matches!(r.kind, RowKind::Option(_)));
    let queued = s.app.queued.len();
    press(&mut s, ch('d')).await;
    assert_eq!(s.app.queued.len(), queued);
    assert!(s.app.status.contains("count them twice"));

    // Q offers the emulator's QA links; p there takes a pasted one; T a trace token (masked);
    // R reveals.
    press(&mut s, ch('Q')).await;
    assert!(matches!(s.app.input, Input::QaPick(0)));
    press(&mut s, ch('p')).await;
    assert!(matches!(s.app.input, Input::QaUrl(_)));
    // The emulator's own link (it refuses tokens it did not make).
    let link = s.app.qa_links[0].url.clone();
    let qa_token = mboxscope::delivery::qa_mode_from_url(&link)
        .unwrap()
        .token
        .unwrap();
    update(&mut s.app, Action::Paste(link));
    press(&mut s, key(KeyCode::Enter)).await;
    let qa = s.app.spec.qa_mode.clone().expect("qa mode");
    assert_eq!(qa.listed_activities_only, Some(true));
    press(&mut s, ch('T')).await;
    for c in "TRACESECRET".chars() {
        press(&mut s, ch(c)).await;
    }
    press(&mut s, key(KeyCode::Enter)).await;
    assert_eq!(s.app.spec.trace_token.as_deref(), Some("TRACESECRET"));
    press(&mut s, ch('p')).await;
    press(&mut s, ch('1')).await;
    let request_tab = s.app.tab_text(TabId::Request).as_str().to_string();
    assert!(
        !request_tab.contains(&qa_token) && !request_tab.contains("TRACESECRET"),
        "secrets masked"
    );
    assert!(request_tab.contains("previewIndexes"));
    press(&mut s, ch('R')).await;
    assert!(s
        .app
        .tab_text(TabId::Request)
        .as_str()
        .to_string()
        .contains("TRACESECRET"));
    press(&mut s, ch('R')).await;
    assert!(
        !s.app.last.as_ref().unwrap().trace().is_empty(),
        "the emulator traced the request"
    );

    // Leave QA mode (the emulator keeps a QA session in QA: leaving takes a new session).
    press(&mut s, ch('Q')).await;
    for _ in 0..s.app.qa_links.len() {
        press(&mut s, key(KeyCode::Down)).await;
    }
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(s.app.spec.qa_mode.is_none(), "{}", s.app.status);

    // e hands the request to the editor; a valid edit replaces it, a broken one is refused.
    let effects = press(&mut s, ch('e')).await;
    let Some(Effect::Edit(text)) = effects.first() else {
        panic!("no edit effect: {effects:?}")
    };
    assert!(text.contains("\"prefetch\""));
    update(&mut s.app, Action::Edited("{ not json".into()));
    assert!(s.app.status.contains("not valid"));
    update(&mut s.app, Action::Edited(r#"{"context":{"channel":"web"},"prefetch":{"mboxes":[{"name":"product-recs","index":1,"parameters":{"category":"bags"}}]}}"#.into()));
    press(&mut s, ch('p')).await;
    assert_eq!(
        s.app
            .rows
            .iter()
            .filter(|r| matches!(r.kind, RowKind::Option(_)))
            .count(),
        1
    );
    assert_eq!(
        s.app.rows[1].response_token("experience.name").as_deref(),
        Some("Bags")
    );

    // y copies the tab; E exports HAR + JSON with secrets masked.
    let effects = press(&mut s, ch('y')).await;
    assert!(matches!(effects.first(), Some(Effect::Copy(t)) if !t.is_empty()));
    press(&mut s, ch('E')).await;
    let exports: Vec<_> = std::fs::read_dir(dir.path().join("data/exports"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let har = exports
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "har"))
        .expect("a HAR");
    let har_text = std::fs::read_to_string(har).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&har_text).unwrap();
    assert_eq!(parsed["log"]["version"], "1.2");
    assert!(parsed["log"]["entries"].as_array().unwrap().len() >= 5);
    assert!(
        !har_text.contains("TRACESECRET") && !har_text.contains(&qa_token),
        "HAR masks secrets"
    );

    // Esc cancels a running request; ? shows help, any key closes it; q quits.
    update(&mut s.app, ch('p'));
    assert!(s.app.in_flight.is_some());
    let effects = update(&mut s.app, key(KeyCode::Esc));
    assert_eq!(effects, vec![Effect::Cancel]);
    assert!(s.app.in_flight.is_none());
    press(&mut s, ch('?')).await;
    assert_eq!(s.app.input, Input::Help);
    press(&mut s, ch('z')).await;
    assert_eq!(s.app.input, Input::Normal);
    let effects = update(&mut s.app, ch('q'));
    assert_eq!(effects, vec![Effect::Quit]);
    assert!(s.app.quit);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_form_adds_and_removes_locations() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    // - on a view row takes that view out.
    select_row(&mut s, |r| r.location.label() == "view checkout");
    press(&mut s, ch('-')).await;
    // + replaces product-recs with parameters, and adds nothing twice.
    press(&mut s, ch('+')).await;
    assert!(matches!(s.app.input, Input::AddLocation(_)));
    update(
        &mut s.app,
        Action::Paste("mbox product-recs:category=bags".into()),
    );
    press(&mut s, key(KeyCode::Enter)).await;
    press(&mut s, ch('+')).await;
    update(&mut s.app, Action::Paste("nonsense".into()));
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(s.app.status.contains("mbox NAME"), "{}", s.app.status);
    press(&mut s, ch('p')).await;
    let labels: Vec<String> = s
        .app
        .rows
        .iter()
        .filter(|r| matches!(r.kind, RowKind::Location { .. }))
        .map(|r| r.location.label())
        .collect();
    assert!(!labels.contains(&"view checkout".to_string()), "{labels:?}");
    assert_eq!(
        labels.iter().filter(|l| *l == "mbox product-recs").count(),
        1
    );
    select_row(&mut s, |r| {
        r.location.label() == "mbox product-recs" && matches!(r.kind, RowKind::Option(_))
    });
    assert_eq!(
        s.app
            .row()
            .unwrap()
            .response_token("experience.name")
            .as_deref(),
        Some("Bags")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_visitors_rows_start_unmarked_and_many_visitors_give_no_false_findings() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    // a s: every option of the first visitor displayed and acknowledged.
    press(&mut s, ch('a')).await;
    press(&mut s, ch('s')).await;
    let hero = |r: &mboxscope::tui::rows::Row| {
        r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Option(_))
    };
    select_row(&mut s, hero);
    let key_of = s.app.row().unwrap().key();
    assert_eq!(s.app.badges.get(&key_of), Some(&Badge::Acked));
    for round in 0..3 {
        press(&mut s, ch('v')).await;
        press(&mut s, ch('p')).await;
        select_row(&mut s, hero);
        let key_of = s.app.row().unwrap().key();
        assert_eq!(
            s.app.badges.get(&key_of),
            None,
            "round {round}: nothing was sent for this visitor"
        );
    }
    // Each visitor notified once (or never): no token was notified twice.
    assert!(
        !s.app
            .findings
            .iter()
            .any(|f| f.rule == "token-notified-twice"),
        "{:#?}",
        s.app.findings
    );
    // The three new visitors never notified: findings name them, not the first visitor.
    let unnotified: Vec<_> = s
        .app
        .findings
        .iter()
        .filter(|f| f.rule == "prefetched-not-notified")
        .collect();
    assert!(!unnotified.is_empty());
    assert!(unnotified
        .iter()
        .all(|f| f.visitor.as_deref() != Some("snapshot-visitor")));
    // d s on the newest visitor's hero marks its row.
    let key_of = s.app.row().unwrap().key();
    press(&mut s, ch('d')).await;
    let after_d = s.app.status.clone();
    press(&mut s, ch('s')).await;
    assert_eq!(
        s.app.badges.get(&key_of),
        Some(&Badge::Acked),
        "after d: {after_d}; after s: {}",
        s.app.status
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_tab_shows_expected_beside_counted_and_scrolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    press(&mut s, ch('a')).await;
    press(&mut s, ch('s')).await;
    select_row(&mut s, |r| {
        r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Metric(_))
    });
    press(&mut s, ch('c')).await;
    press(&mut s, ch('s')).await;
    press(&mut s, ch('8')).await;
    assert!(s.app.comparison.rows.len() >= 5, "{:?}", s.app.comparison);
    assert_eq!(s.app.comparison.mismatches(), 0, "{:?}", s.app.comparison);
    assert!(s.app.comparison.rows.iter().all(|r| r.counted.is_some()));
    insta::assert_snapshot!(
        "report_expected_vs_counted_120x40",
        redact(&render_text(&s.app, 120, 40))
    );
    // At 120x40 the whole report fits: it does not scroll past its end.
    press(&mut s, ch('l')).await;
    assert_eq!(s.app.scroll, 0, "no scrolling past the end");
    update(&mut s.app, Action::Resize(80, 16));
    press(&mut s, ch('l')).await;
    press(&mut s, ch('l')).await;
    assert_eq!(s.app.scroll, 2, "the Report tab scrolls");
    insta::assert_snapshot!(
        "report_scrolled_80x16",
        redact(&render_text(&s.app, 80, 16))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn q_offers_the_emulators_qa_links_and_forces_experience_a_then_b() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path()).await;
    assert!(
        s.app.qa_links.len() >= 10,
        "the built-in emulator's GET /qa"
    );
    let hero_experience = |s: &Session| -> Vec<String> {
        s.app
            .rows
            .iter()
            .filter(|r| r.location.label() == "mbox home-hero")
            .filter_map(|r| r.response_token("experience.name"))
            .collect()
    };
    for wanted in ["Experience A", "Experience B"] {
        press(&mut s, ch('Q')).await;
        assert!(matches!(s.app.input, Input::QaPick(0)));
        let at = s
            .app
            .qa_links
            .iter()
            .position(|l| l.activity_name == "Spring hero" && l.experience_name == wanted)
            .unwrap();
        for _ in 0..at {
            press(&mut s, key(KeyCode::Down)).await;
        }
        if wanted == "Experience A" {
            insta::assert_snapshot!("qa_picker_80x24", redact(&render_text(&s.app, 80, 24)));
        }
        press(&mut s, key(KeyCode::Enter)).await;
        assert!(s.app.status.contains(wanted), "{}", s.app.status);
        press(&mut s, ch('p')).await;
        assert_eq!(hero_experience(&s), [wanted]);
        // listedActivitiesOnly: nothing of the other activities.
        assert!(s
            .app
            .rows
            .iter()
            .filter_map(|r| r.response_token("activity.name"))
            .all(|a| a == "Spring hero"));
    }
    // A display in QA is counted apart, and the Report tab says so.
    select_row(&mut s, |r| {
        r.location.label() == "mbox home-hero" && matches!(r.kind, RowKind::Option(_))
    });
    press(&mut s, ch('d')).await;
    press(&mut s, ch('s')).await;
    assert!(
        s.app
            .comparison
            .qa
            .iter()
            .any(|(label, c)| label == "Spring hero · Experience B" && c.impressions == 1),
        "{:?}",
        s.app.comparison
    );
    assert!(s
        .app
        .comparison
        .rows
        .iter()
        .all(|r| r.expected.impressions == 0));
    // Leaving QA mode: a new session, every activity again.
    press(&mut s, ch('Q')).await;
    let leave = s.app.qa_links.len();
    for _ in 0..leave {
        press(&mut s, key(KeyCode::Down)).await;
    }
    press(&mut s, key(KeyCode::Enter)).await;
    assert!(s.app.spec.qa_mode.is_none());
    press(&mut s, ch('p')).await;
    assert!(s
        .app
        .rows
        .iter()
        .filter_map(|r| r.response_token("activity.name"))
        .any(|a| a != "Spring hero"));
}
