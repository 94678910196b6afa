//! The keymap: one table that both dispatches keys and writes the help overlay.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Prefetch,
    Execute,
    Display,
    Click,
    Select,
    Send,
    DisplayAll,
    NewVisitor,
    NewSession,
    Edit,
    QaUrl,
    AddLocation,
    RemoveLocation,
    TraceToken,
    Search,
    Copy,
    CopyAll,
    Fold,
    FoldAll,
    Export,
    NextTab,
    Tab(usize),
    Help,
    Quit,
    Up,
    Down,
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    Cancel,
    Reveal,
    NextMatch,
    History,
    MarkBaseline,
    Diff,
    DetailUp,
    DetailDown,
    Zoom,
    ScrollLeft,
    ScrollRight,
    Wrap,
    Overrides,
    MessageLog,
    CopyVisitor,
    Why,
    Split,
    Record,
}

/// One row of the keymap: the keys, the command, what help says.
pub struct Binding {
    pub keys: &'static [KeyCode],
    pub label: &'static str,
    pub command: Command,
    pub help: &'static str,
}

/// Every binding, in help order.
pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: &[KeyCode::Char('p')],
        label: "p",
        command: Command::Prefetch,
        help: "prefetch",
    },
    Binding {
        keys: &[KeyCode::Char('x')],
        label: "x",
        command: Command::Execute,
        help: "execute (counts at once)",
    },
    Binding {
        keys: &[KeyCode::Char('d')],
        label: "d",
        command: Command::Display,
        help: "queue a display notification",
    },
    Binding {
        keys: &[KeyCode::Char('c')],
        label: "c",
        command: Command::Click,
        help: "queue a click (on a metric row)",
    },
    Binding {
        keys: &[KeyCode::Char(' ')],
        label: "space",
        command: Command::Select,
        help: "select / unselect the row",
    },
    Binding {
        keys: &[KeyCode::Char('s')],
        label: "s",
        command: Command::Send,
        help: "send queued notifications",
    },
    Binding {
        keys: &[KeyCode::Char('a')],
        label: "a",
        command: Command::DisplayAll,
        help: "display all options",
    },
    Binding {
        keys: &[KeyCode::Char('v')],
        label: "v",
        command: Command::NewVisitor,
        help: "new visitor",
    },
    Binding {
        keys: &[KeyCode::Char('N')],
        label: "N",
        command: Command::NewSession,
        help: "new session (a new visit)",
    },
    Binding {
        keys: &[KeyCode::Char('I')],
        label: "I",
        command: Command::CopyVisitor,
        help: "show and copy the visitor's full ids",
    },
    Binding {
        keys: &[KeyCode::Char('o')],
        label: "o",
        command: Command::Overrides,
        help: "context overrides: user agent, URLs, geo, clock, parameters",
    },
    Binding {
        keys: &[KeyCode::Char('e')],
        label: "e",
        command: Command::Edit,
        help: "edit the request in $EDITOR",
    },
    Binding {
        keys: &[KeyCode::Char('+')],
        label: "+",
        command: Command::AddLocation,
        help: "add: mbox NAME[:k=v,…] | view NAME | pageload",
    },
    Binding {
        keys: &[KeyCode::Char('-')],
        label: "-",
        command: Command::RemoveLocation,
        help: "take the selected location out of the request",
    },
    Binding {
        keys: &[KeyCode::Char('Q')],
        label: "Q",
        command: Command::QaUrl,
        help: "paste a QA link",
    },
    Binding {
        keys: &[KeyCode::Char('T')],
        label: "T",
        command: Command::TraceToken,
        help: "set a trace token",
    },
    Binding {
        keys: &[KeyCode::Char('/')],
        label: "/",
        command: Command::Search,
        help: "search the tab",
    },
    Binding {
        keys: &[KeyCode::Char('n')],
        label: "n",
        command: Command::NextMatch,
        help: "next match of the search",
    },
    Binding {
        keys: &[KeyCode::Char('H')],
        label: "H",
        command: Command::History,
        help: "left pane: Locations / History of every exchange",
    },
    Binding {
        keys: &[KeyCode::Char('m')],
        label: "m",
        command: Command::MarkBaseline,
        help: "mark the exchange shown as the diff baseline",
    },
    Binding {
        keys: &[KeyCode::Char('D')],
        label: "D",
        command: Command::Diff,
        help: "diff the exchange shown with the baseline",
    },
    Binding {
        keys: &[KeyCode::Char('w')],
        label: "w",
        command: Command::Why,
        help: "why: the rules and conditions behind the selected location",
    },
    Binding {
        keys: &[KeyCode::Char('%')],
        label: "%",
        command: Command::Split,
        help: "split of its activities over 20,000 simulated visitors",
    },
    Binding {
        keys: &[KeyCode::Char('W')],
        label: "W",
        command: Command::Record,
        help: "record the latest answer as a scenario check (mboxscope check)",
    },
    Binding {
        keys: &[KeyCode::Char('J')],
        label: "J",
        command: Command::DetailDown,
        help: "scroll the detail pane down",
    },
    Binding {
        keys: &[KeyCode::Char('K')],
        label: "K",
        command: Command::DetailUp,
        help: "scroll the detail pane up",
    },
    Binding {
        keys: &[KeyCode::Char('f')],
        label: "f",
        command: Command::Zoom,
        help: "enlarge the detail pane / back",
    },
    Binding {
        keys: &[KeyCode::Char('<')],
        label: "<",
        command: Command::ScrollLeft,
        help: "scroll the tab left",
    },
    Binding {
        keys: &[KeyCode::Char('>')],
        label: ">",
        command: Command::ScrollRight,
        help: "scroll the tab right",
    },
    Binding {
        keys: &[KeyCode::Char('L')],
        label: "L",
        command: Command::Wrap,
        help: "wrap long lines in the tab / cut them",
    },
    Binding {
        keys: &[KeyCode::Char('!')],
        label: "!",
        command: Command::MessageLog,
        help: "every status message in full",
    },
    Binding {
        keys: &[KeyCode::Char('y')],
        label: "y",
        command: Command::Copy,
        help: "copy the value at the top of the tab (OSC 52)",
    },
    Binding {
        keys: &[KeyCode::Char('Y')],
        label: "Y",
        command: Command::CopyAll,
        help: "copy the whole tab (OSC 52)",
    },
    Binding {
        keys: &[KeyCode::Char('z')],
        label: "z",
        command: Command::Fold,
        help: "fold / unfold the JSON block at the top of the tab",
    },
    Binding {
        keys: &[KeyCode::Char('Z')],
        label: "Z",
        command: Command::FoldAll,
        help: "fold every item / unfold everything",
    },
    Binding {
        keys: &[KeyCode::Char('E')],
        label: "E",
        command: Command::Export,
        help: "export HAR and session JSON",
    },
    Binding {
        keys: &[KeyCode::Char('R')],
        label: "R",
        command: Command::Reveal,
        help: "reveal / mask secrets",
    },
    Binding {
        keys: &[KeyCode::Tab],
        label: "tab",
        command: Command::NextTab,
        help: "next tab",
    },
    Binding {
        keys: &[KeyCode::Char('1')],
        label: "1",
        command: Command::Tab(0),
        help: "Request",
    },
    Binding {
        keys: &[KeyCode::Char('2')],
        label: "2",
        command: Command::Tab(1),
        help: "Response",
    },
    Binding {
        keys: &[KeyCode::Char('3')],
        label: "3",
        command: Command::Tab(2),
        help: "Trace",
    },
    Binding {
        keys: &[KeyCode::Char('4')],
        label: "4",
        command: Command::Tab(3),
        help: "Analytics",
    },
    Binding {
        keys: &[KeyCode::Char('5')],
        label: "5",
        command: Command::Tab(4),
        help: "Cookies",
    },
    Binding {
        keys: &[KeyCode::Char('6')],
        label: "6",
        command: Command::Tab(5),
        help: "Meta",
    },
    Binding {
        keys: &[KeyCode::Char('7')],
        label: "7",
        command: Command::Tab(6),
        help: "Ledger",
    },
    Binding {
        keys: &[KeyCode::Char('8')],
        label: "8",
        command: Command::Tab(7),
        help: "Report",
    },
    Binding {
        keys: &[KeyCode::Char('9')],
        label: "9",
        command: Command::Tab(8),
        help: "Diff",
    },
    Binding {
        keys: &[KeyCode::Up, KeyCode::Char('k')],
        label: "↑/k",
        command: Command::Up,
        help: "previous row",
    },
    Binding {
        keys: &[KeyCode::Down, KeyCode::Char('j')],
        label: "↓/j",
        command: Command::Down,
        help: "next row",
    },
    Binding {
        keys: &[KeyCode::Left, KeyCode::Char('h')],
        label: "←/h",
        command: Command::ScrollUp,
        help: "scroll the tab up",
    },
    Binding {
        keys: &[KeyCode::Right, KeyCode::Char('l')],
        label: "→/l",
        command: Command::ScrollDown,
        help: "scroll the tab down",
    },
    Binding {
        keys: &[KeyCode::PageUp],
        label: "PgUp",
        command: Command::PageUp,
        help: "tab page up",
    },
    Binding {
        keys: &[KeyCode::PageDown],
        label: "PgDn",
        command: Command::PageDown,
        help: "tab page down",
    },
    Binding {
        keys: &[KeyCode::Esc],
        label: "Esc",
        command: Command::Cancel,
        help: "cancel the request / close",
    },
    Binding {
        keys: &[KeyCode::Char('?')],
        label: "?",
        command: Command::Help,
        help: "this help",
    },
    Binding {
        keys: &[KeyCode::Char('q')],
        label: "q",
        command: Command::Quit,
        help: "quit",
    },
];

/// The commands the footer names, each with a word for it (its key comes from [`KEYMAP`]).
pub const FOOTER: &[(Command, &str)] = &[
    (Command::Prefetch, "prefetch"),
    (Command::Execute, "execute"),
    (Command::Display, "display"),
    (Command::Click, "click"),
    (Command::Send, "send"),
    (Command::Help, "help"),
    (Command::Quit, "quit"),
];

/// The label of the key bound to `command` (as help shows it).
pub fn label_of(command: Command) -> &'static str {
    KEYMAP
        .iter()
        .find(|b| b.command == command)
        .map_or("?", |b| b.label)
}

/// The command bound to a key press, if any (Ctrl-C always quits).
pub fn command_for(key: &KeyEvent) -> Option<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Command::Quit);
    }
    KEYMAP
        .iter()
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = Vec::new();
        for b in KEYMAP {
            for k in b.keys {
                assert!(!seen.contains(k), "{k:?} bound twice");
                seen.push(*k);
            }
        }
    }
}
