//! The `Q` picker on the built-in emulator or a `mboxscope serve`: a QA link for every activity
//! and experience (the server's `GET /qa`), paste one instead, or leave QA mode.

use crate::delivery::QaLink;
use crossterm::event::{KeyCode, KeyEvent};

/// What a key did in the picker.
#[derive(Debug, Clone, PartialEq)]
pub enum Picked {
    /// Still choosing.
    Moving,
    /// This link.
    Link(QaLink),
    /// Leave QA mode.
    Leave,
    /// Paste or type a link instead.
    Paste,
    /// Closed without a choice.
    Cancel,
}

/// The entries after the links.
const EXTRA: [&str; 2] = ["leave QA mode (a new session)", "paste a QA link…"];

/// Moves through `links` (and the two extra entries) from `selected`; says what was picked.
pub fn key(links: &[QaLink], selected: &mut usize, key: &KeyEvent) -> Picked {
    let count = links.len() + EXTRA.len();
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => *selected = (*selected + 1).min(count - 1),
        KeyCode::Up | KeyCode::Char('k') => *selected = selected.saturating_sub(1),
        KeyCode::Esc | KeyCode::Char('q') => return Picked::Cancel,
        KeyCode::Char('p') => return Picked::Paste,
        KeyCode::Enter => {
            return match links.get(*selected) {
                Some(link) => Picked::Link(link.clone()),
                None if *selected == links.len() => Picked::Leave,
                None => Picked::Paste,
            }
        }
        _ => {}
    }
    Picked::Moving
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One line per entry: `Activity · Experience (ids)`, then the extra entries.
pub fn lines(links: &[QaLink]) -> Vec<String> {
    links
        .iter()
        .map(|l| {
            format!(
                "{} · {}  ({} / {})",
                text(&l.activity_name),
                text(&l.experience_name),
                text(&l.activity),
                text(&l.experience)
            )
        })
        .chain(EXTRA.iter().map(|s| s.to_string()))
        .collect()
}
