//! The TUI's state and its one `update(&mut App, Action) -> Vec<Effect>`: every change of
//! state goes through it, so tests drive the whole UI without a terminal.

use super::exchange::{Exchange, ExchangeKind};
use super::fold::Folds;
use super::keymap::{command_for, Command};
use super::overrides::{Form, Overrides};
use super::rows::{rows_of, Row, RowKind};
use super::secrets::mask_in_place;
use super::text::TabText;
use crate::client::{TargetResponse, Visitor};
use crate::delivery::*;
use crate::ledger::compare::Comparison;
use crate::ledger::lint::Finding;
use crate::ledger::{Entry, NewNotification, PageView};
use crossterm::event::{KeyCode, KeyEvent};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod form;
mod history;
mod input;
mod insight;
mod tabs;

pub use insight::{DetailView, Insight, SimulateJob};
pub use tabs::{notification_detail, TabId};

/// Where a notification of a row stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Badge {
    Queued,
    Sent,
    Acked,
    Failed(String),
}

/// What the keyboard is typing into.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Normal,
    Help,
    QaUrl(String),
    /// Choosing one of the server's QA links (the index of the highlighted entry).
    QaPick(usize),
    /// Adding to the request: `mbox NAME[:k=v,…]`, `view NAME` or `pageload`.
    AddLocation(String),
    TraceToken(String),
    Search(String),
    /// The context overrides form.
    Overrides(Form),
    /// The message log, scrolled up this many lines from its end.
    Log(usize),
    /// The name of a scenario check to record (`W`).
    RecordName(String),
}

/// What the left pane lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Locations,
    /// Every exchange of the session.
    History,
}

/// Something that happened: a key, a reply, a tick.
#[derive(Debug)]
pub enum Action {
    /// The session begins: the first prefetch.
    Start,
    Key(KeyEvent),
    Paste(String),
    /// Mouse wheel over the tabs: lines to scroll (negative = up).
    Scroll(i32),
    Tick,
    /// A prefetch/execute answered (or failed with a one-line message).
    Answered(Result<Box<TargetResponse>, String>),
    /// An exchange (call or notification attempt) finished, answered or not.
    Exchange(Arc<Exchange>),
    /// The terminal's size (columns, rows).
    Resize(u16, u16),
    /// A simulated split for the location labelled so (or why there is none).
    Split(String, Result<Box<crate::simulate::Simulation>, String>),
    /// The target's rules artifact was fetched (or why not).
    Rules(Result<Arc<crate::decisioning::Artifact>, String>),
    /// Notifications were queued in the ledger: (badge key, notification id, already
    /// acknowledged).
    Queued(Vec<(String, String, bool)>),
    /// A send finished.
    Delivered {
        acked: Vec<String>,
        failed: Vec<(String, String)>,
    },
    /// The ledger's entries and findings, and its expected counts beside what the server
    /// counted.
    Ledger {
        entries: Vec<Entry>,
        findings: Vec<Finding>,
        comparison: Comparison,
    },
    /// The request came back from `$EDITOR`.
    Edited(String),
    /// The server's QA links (`GET /qa` of the built-in emulator or a `mboxscope serve`).
    QaLinks(Vec<QaLink>),
    /// A line for the status bar and log.
    Status(String),
}

/// What the runtime must do (I/O stays out of `update`).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send this request for this visitor.
    Call(Box<DeliveryRequest>, Mode, Box<Visitor>),
    /// Queue these notifications (each with its badge key); `bool`: a new impression even
    /// when already acknowledged.
    Queue(Vec<(String, NewNotification)>, bool),
    /// Send these queued notifications.
    Send(Vec<String>),
    Cancel,
    Edit(String),
    Copy(String),
    /// Export the session; `reveal`: with the secrets in clear.
    Export {
        reveal: bool,
    },
    /// Ask the server for its QA links (`GET /qa`).
    LoadQaLinks,
    /// Set the built-in emulator's clock (ms since the epoch; `None`: the wall clock).
    SetClock(Option<i64>),
    /// Simulate visitors through the rules (off the event loop).
    Simulate(Box<SimulateJob>),
    /// Fetch the rules artifact Adobe publishes for the client, from this URL.
    LoadRules(String),
    /// Show what the `mboxscope proxy` at `url` sees in the History (`once`: what it has now).
    Watch {
        url: String,
        once: bool,
    },
    /// Write a recorded scenario (TOML) named so under the data dir's `scenarios/`.
    WriteScenario {
        name: String,
        toml: String,
    },
    Quit,
}

/// Everything on screen.
pub struct App {
    pub target: String,
    pub local: bool,
    pub profile: Option<String>,
    pub spec: RequestSpec,
    /// A whole request edited in `$EDITOR`, used instead of `spec`.
    pub custom_request: Option<DeliveryRequest>,
    /// QA mode, overrides or the trace token changed since the last call: the Request tab
    /// shows the next request (not sent yet) until a call is made.
    pub next_differs: bool,
    pub visitor: Visitor,
    pub last: Option<Box<TargetResponse>>,
    pub rows: Vec<Row>,
    pub selected: usize,
    pub marked: BTreeSet<String>,
    /// The badges of the rows on screen, by row key (the current response's).
    pub badges: HashMap<String, Badge>,
    /// Every badge of the session, by badge key (response and row: see [`App::badge_key`]).
    notified: HashMap<String, Badge>,
    /// Notification ids waiting for `s`, with their badge keys.
    pub queued: Vec<(String, String)>,
    pub tab: TabId,
    /// The tab's top line (a line of its text; folded blocks show as their first line).
    pub scroll: usize,
    /// The folded JSON blocks of each tab.
    pub folds: Vec<Folds>,
    /// Pretty-printed lines of each tab: made when first shown after a change, then kept
    /// (never per frame).
    tab_text: Vec<std::cell::OnceCell<TabText>>,
    pub search: Option<String>,
    pub input: Input,
    pub in_flight: Option<(String, Instant)>,
    pub status: String,
    pub log: Vec<String>,
    pub ledger: Vec<Entry>,
    pub findings: Vec<Finding>,
    pub comparison: Comparison,
    /// The server's QA links, for `Q` to offer.
    pub qa_links: Vec<QaLink>,
    pub reveal: bool,
    pub spinner: usize,
    pub quit: bool,
    /// What the left pane lists.
    pub pane: Pane,
    /// Every exchange of the session, oldest first.
    pub history: Vec<Arc<Exchange>>,
    /// The exchange selected in the History pane.
    pub history_selected: usize,
    /// The exchange the Diff tab compares with (`m`).
    pub baseline: Option<Arc<Exchange>>,
    /// The detail pane's first line.
    pub detail_scroll: u16,
    /// The detail pane fills the right side.
    pub zoom: bool,
    /// Long lines of the tabs wrap (else they are cut, and `<`/`>` scroll sideways).
    pub wrap: bool,
    /// The tabs' first column when lines are cut.
    pub hscroll: usize,
    /// The terminal's size (columns, rows).
    pub size: (u16, u16),
    /// Context overrides (`o`), applied to every request.
    pub overrides: Overrides,
    /// The built-in emulator's clock as started (`--emulator-now`).
    pub emulator_now: Option<i64>,
    /// The text given to `$EDITOR`, to tell an unchanged save.
    edit_sent: Option<String>,
    /// An edited request that did not parse, kept for the next `e`.
    pub edit_draft: Option<String>,
    /// The mboxes the server's rules know (for "not in the rules"); `None` when unknown.
    pub known_mboxes: Option<Vec<String>>,
    /// The mode and outcome (`200 · 3 ms` or `failed`) of the latest prefetch or execute.
    pub last_call: Option<(Mode, String)>,
    /// Why the prompt's text was not applied (the prompt stays open).
    pub prompt_error: Option<String>,
    /// The log file's recent entries, read when the message log opens.
    pub log_entries: Vec<String>,
    /// What the detail pane shows.
    pub detail_view: DetailView,
    /// The rules artifact and what `w` and `%` computed from it.
    pub insight: Insight,
    /// Where Adobe publishes the client's rules artifact (a real Target client only).
    pub published_rules: Option<String>,
    /// The `[target]` a recorded scenario names (`W`): this session's target.
    pub scenario_target: crate::check::TargetSection,
}

impl App {
    /// A new app for `target` (a description), asking for what `spec` names.
    pub fn new(
        target: String,
        local: bool,
        profile: Option<String>,
        spec: RequestSpec,
        visitor: Visitor,
    ) -> App {
        let mut app = App {
            target,
            local,
            profile,
            spec,
            custom_request: None,
            next_differs: false,
            visitor,
            last: None,
            rows: Vec::new(),
            selected: 0,
            marked: BTreeSet::new(),
            badges: HashMap::new(),
            notified: HashMap::new(),
            queued: Vec::new(),
            tab: TabId::Request,
            scroll: 0,
            folds: vec![Folds::default(); TabId::ALL.len()],
            tab_text: (0..TabId::ALL.len())
                .map(|_| std::cell::OnceCell::new())
                .collect(),
            search: None,
            input: Input::Normal,
            in_flight: None,
            status: String::from("ready"),
            log: Vec::new(),
            ledger: Vec::new(),
            findings: Vec::new(),
            comparison: Comparison::default(),
            qa_links: Vec::new(),
            reveal: false,
            spinner: 0,
            quit: false,
            pane: Pane::Locations,
            history: Vec::new(),
            history_selected: 0,
            baseline: None,
            detail_scroll: 0,
            zoom: false,
            wrap: false,
            hscroll: 0,
            size: (120, 40),
            overrides: Overrides::default(),
            emulator_now: None,
            edit_sent: None,
            edit_draft: None,
            known_mboxes: None,
            last_call: None,
            prompt_error: None,
            log_entries: Vec::new(),
            detail_view: DetailView::Row,
            insight: Insight::default(),
            published_rules: None,
            scenario_target: Default::default(),
        };
        app.refresh_tabs();
        app
    }

    /// The request `p` or `x` would send now.
    pub fn request(&self, mode: Mode) -> DeliveryRequest {
        let mut request = match &self.custom_request {
            Some(r) => r.clone(),
            None => RequestSpec {
                mode,
                ..self.spec.clone()
            }
            .build(crate::ids::uuid_string()),
        };
        if self.custom_request.is_some() && mode == Mode::Execute {
            if let Some(p) = request.prefetch.take() {
                request.execute = Some(ExecuteRequest {
                    mboxes: p.mboxes,
                    page_load: p.page_load,
                    ..Default::default()
                });
            }
        }
        self.overrides.apply(&mut request);
        request
    }

    /// The selected row.
    pub fn row(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    fn set_status(&mut self, text: impl Into<String>) {
        self.status = text.into();
        self.log.push(self.status.clone());
        if self.log.len() > 200 {
            self.log.remove(0);
        }
    }

    /// Recomputes every tab's text.
    pub fn refresh_tabs(&mut self) {
        self.refresh(&TabId::ALL);
    }

    /// Forgets the text (and folds) of `tabs`: made again when next shown.
    pub fn refresh(&mut self, tabs: &[TabId]) {
        for &tab in tabs {
            let i = tab.index();
            self.tab_text[i] = std::cell::OnceCell::new();
            self.folds[i] = Folds::default();
            if tab == self.tab {
                self.scroll = self.scroll.min(self.tab_len().saturating_sub(1));
            }
        }
    }

    /// The text of `tab`, made now if it is not yet.
    pub fn tab_text(&self, tab: TabId) -> &TabText {
        self.tab_text[tab.index()].get_or_init(|| TabText::new(self.text_of(tab)))
    }

    /// The folds of the tab on screen.
    pub fn folds(&self) -> &Folds {
        &self.folds[self.tab.index()]
    }

    fn tab_len(&self) -> usize {
        self.tab_text(self.tab).len()
    }

    /// Scrolls the tab by `lines` visible lines (negative = up), folded blocks counting one;
    /// never past the point where its last line is at the bottom.
    fn scroll_by(&mut self, lines: isize) {
        let folds = &self.folds[self.tab.index()];
        let len = self.tab_len();
        self.scroll = if lines < 0 {
            folds.up(self.scroll, lines.unsigned_abs())
        } else {
            let rows = super::view::tab_rows(self);
            let down = folds.down(self.scroll, lines as usize, len);
            // The last top line that still fills the tab: `rows` visible lines up from the end.
            let floor = folds.up(len.saturating_sub(1), rows.saturating_sub(1));
            down.min(floor.max(self.scroll))
        };
    }

    /// The value at the top of the tab: the block opening there, else that line's value.
    fn focused_value(&self) -> String {
        let text = self.tab_text(self.tab);
        let top = self.scroll.max(self.body_start());
        match text.block_around(top) {
            Some((open, close)) if open == top => {
                let block = text.lines(open, close).trim();
                // `"key": {…}` → the object itself.
                let value = match block.split_once(": ") {
                    Some((key, rest)) if key.starts_with('"') && !key.contains('\n') => rest,
                    _ => block,
                };
                value.trim_end_matches(',').to_string()
            }
            _ => {
                let line = text.line(top).trim().trim_end_matches(',');
                match line.split_once("\": ") {
                    Some((key, value)) if key.starts_with('"') => value.to_string(),
                    _ => line.to_string(),
                }
            }
        }
    }

    /// The key of a row's badge: the response it is in (its requestId) and the row, so a new
    /// visitor's or a new response's rows start unmarked.
    pub fn badge_key(&self, row: &Row) -> String {
        format!(
            "{}\u{1f}{}",
            self.response_id().unwrap_or_default(),
            row.key()
        )
    }

    fn response_id(&self) -> Option<&str> {
        self.last.as_ref()?.request.request_id.as_deref()
    }

    /// Sets a badge; it shows when its response is the one on screen.
    fn set_badge(&mut self, key: String, badge: Badge) {
        let prefix = format!("{}\u{1f}", self.response_id().unwrap_or_default());
        if let Some(row_key) = key.strip_prefix(&prefix) {
            self.badges.insert(row_key.to_string(), badge.clone());
        }
        self.notified.insert(key, badge);
    }

    fn apply_response(&mut self, response: Box<TargetResponse>) {
        let selected_key = self.row().map(Row::key);
        let selected_place =
            (self.selected < self.rows.len()).then(|| place_of(&self.rows, self.selected));
        self.rows = rows_of(&response.response);
        // The same row stays selected (else the row at the same place: the same location,
        // kind and rank; else the first option).
        self.selected = selected_key
            .and_then(|key| self.rows.iter().position(|r| r.key() == key))
            .or_else(|| {
                let place = selected_place?;
                (0..self.rows.len()).find(|&i| place_of(&self.rows, i) == place)
            })
            .or_else(|| {
                self.rows
                    .iter()
                    .position(|r| matches!(r.kind, RowKind::Option(_)))
            })
            .unwrap_or(0);
        self.marked.clear();
        let mode = if response.response.execute.is_some() {
            Mode::Execute
        } else {
            Mode::Prefetch
        };
        let locations = self
            .rows
            .iter()
            .filter(|r| matches!(r.kind, RowKind::Location { .. }))
            .count();
        // The timing is in the header: the message keeps a fixed width for the footer.
        let asked = super::exchange::asked_locations(&response.request, mode);
        let answered = if locations < asked {
            // Target leaves out views it decided nothing for (QA links that list one activity).
            format!("{locations} of {asked} locations answered")
        } else {
            super::exchange::plural(locations, "location")
        };
        let mut status = format!("{} {} · {answered}", response.status, mode.as_str());
        let unknown = self.unknown_mboxes(&response.request);
        if !unknown.is_empty() {
            status.push_str(&format!(
                " · not in the rules: {} (the server knows {})",
                unknown.join(", "),
                self.known_mboxes.as_deref().unwrap_or_default().join(", ")
            ));
        }
        self.last_call = Some((
            mode,
            format!("{} · {} ms", response.status, response.duration.as_millis()),
        ));
        self.visitor.learn(&response);
        self.last = Some(response);
        let prefix = format!("{}\u{1f}", self.response_id().unwrap_or_default());
        self.badges = self
            .notified
            .iter()
            .filter_map(|(k, b)| Some((k.strip_prefix(&prefix)?.to_string(), b.clone())))
            .collect();
        self.set_status(status);
        self.detail_scroll = 0;
        self.refresh(&TabId::OF_EXCHANGE);
    }

    /// The mboxes `request` asked for that the server's rules do not have (none when the
    /// rules are unknown, as with real Target).
    pub fn unknown_mboxes(&self, request: &DeliveryRequest) -> Vec<String> {
        let Some(known) = &self.known_mboxes else {
            return Vec::new();
        };
        let asked = request
            .prefetch
            .iter()
            .flat_map(|p| p.mboxes.iter().flatten())
            .chain(
                request
                    .execute
                    .iter()
                    .flat_map(|e| e.mboxes.iter().flatten()),
            );
        asked
            .filter_map(|m| m.name.clone())
            .filter(|name| !known.contains(name))
            .collect()
    }

    /// What a notification about `row` carries, as an SDK sends it: the visitor and session
    /// of the response, its request's context and property token, and its requestId.
    fn new_notification(&self, row: &Row, kind: NotificationType) -> Option<NewNotification> {
        let n = self.notifiable(row, kind)?;
        let last = self.last.as_ref()?;
        Some(NewNotification::of_page_view(
            n,
            &PageView {
                request: Some(&last.request),
                response: &last.response,
                session_id: &last.session_id,
            },
        ))
    }

    fn notifiable(&self, row: &Row, kind: NotificationType) -> Option<Notifiable> {
        match (&row.kind, kind) {
            (RowKind::Option(o), NotificationType::Display) => Some(Notifiable {
                kind,
                location: (*row.location).clone(),
                tokens: vec![o.event_token.clone()?],
            }),
            (RowKind::Location { .. }, NotificationType::Display) => {
                let tokens: Vec<String> = self
                    .rows
                    .iter()
                    .filter(|r| r.location == row.location && r.mode == row.mode)
                    .filter_map(|r| match &r.kind {
                        RowKind::Option(o) => o.event_token.clone(),
                        _ => None,
                    })
                    .collect();
                (!tokens.is_empty()).then(|| Notifiable {
                    kind,
                    location: (*row.location).clone(),
                    tokens,
                })
            }
            (RowKind::Metric(m), NotificationType::Click) => Some(Notifiable {
                kind,
                location: row.location.for_kind(kind),
                tokens: vec![m.event_token.clone()?],
            }),
            _ => None,
        }
    }

    fn queue_rows(&mut self, rows: Vec<Row>, kind: NotificationType) -> Vec<Effect> {
        if rows.iter().any(|r| r.mode == Mode::Execute) && kind == NotificationType::Display {
            self.set_status("execute already counted these impressions: a display notification would count them twice (prefetch with p)");
            return Vec::new();
        }
        let list: Vec<(String, NewNotification)> = rows
            .iter()
            .filter_map(|r| Some((self.badge_key(r), self.new_notification(r, kind)?)))
            .collect();
        if list.is_empty() {
            self.set_status(match kind {
                NotificationType::Display => {
                    "nothing to display here: select an option with an eventToken"
                }
                NotificationType::Click => "nothing to click here: select a click metric row (◆)",
            });
            return Vec::new();
        }
        vec![Effect::Queue(list, false)]
    }

    fn selection(&self) -> Vec<Row> {
        if self.marked.is_empty() {
            self.row().cloned().into_iter().collect()
        } else {
            self.rows
                .iter()
                .filter(|r| self.marked.contains(&r.key()))
                .cloned()
                .collect()
        }
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::Quit => {
                self.quit = true;
                vec![Effect::Quit]
            }
            Command::Help => {
                self.input = Input::Help;
                Vec::new()
            }
            Command::Prefetch | Command::Execute => {
                let mode = if command == Command::Prefetch {
                    Mode::Prefetch
                } else {
                    Mode::Execute
                };
                if self.in_flight.is_some() {
                    self.set_status("a request is running (Esc cancels it)");
                    return Vec::new();
                }
                let mut request = self.request(mode);
                if request.execute.is_none() && request.prefetch.is_none() {
                    self.set_status("nothing to ask for: start with --mbox/--view/--page-load or edit the request (e)");
                    return Vec::new();
                }
                if mode == Mode::Execute {
                    // Execute counts at once; its impressionId makes a resend count once.
                    request
                        .impression_id
                        .get_or_insert_with(crate::ids::uuid_string);
                }
                self.in_flight = Some((mode.as_str().to_string(), Instant::now()));
                // This call sends what changed; a change while it runs is shown again.
                self.next_differs = false;
                let visitor = self.visitor.for_call(crate::clock::now_ms());
                vec![Effect::Call(Box::new(request), mode, Box::new(visitor))]
            }
            Command::Display => {
                let rows = self.selection();
                self.queue_rows(rows, NotificationType::Display)
            }
            Command::Click => {
                let rows = self.selection();
                self.queue_rows(rows, NotificationType::Click)
            }
            Command::DisplayAll => {
                let rows: Vec<Row> = self
                    .rows
                    .iter()
                    .filter(|r| matches!(r.kind, RowKind::Option(_)))
                    .cloned()
                    .collect();
                self.queue_rows(rows, NotificationType::Display)
            }
            Command::Select => {
                if let Some(key) = self.row().map(Row::key) {
                    if !self.marked.remove(&key) {
                        self.marked.insert(key);
                    }
                }
                self.move_selection(1);
                Vec::new()
            }
            Command::Send => {
                if self.in_flight.is_some() {
                    self.set_status("a request is running: wait for it, or Esc cancels it");
                    return Vec::new();
                }
                if self.queued.is_empty() {
                    self.set_status("nothing queued: d or c queue a notification first");
                    return Vec::new();
                }
                for (key, _) in self.queued.clone() {
                    self.set_badge(key, Badge::Sent);
                }
                self.in_flight = Some((format!("sending {}", self.queued.len()), Instant::now()));
                vec![Effect::Send(
                    self.queued.iter().map(|(_, id)| id.clone()).collect(),
                )]
            }
            Command::NewVisitor => {
                // A new visitor has none of the old one's ids (--tnt-id, --mcid… included).
                self.spec.visitor = VisitorId::default();
                if let Some(request) = self.custom_request.as_mut() {
                    request.id = None;
                }
                self.visitor = Visitor::fresh();
                self.refresh(&[TabId::Cookies]);
                self.set_status("new visitor: p prefetches for it");
                Vec::new()
            }
            Command::NewSession => {
                self.new_session();
                self.set_status("new session (a new visit)");
                Vec::new()
            }
            Command::NextMatch => {
                match self.search.clone() {
                    Some(term) => self.find_next(&term, true),
                    None => {
                        self.set_status("no search: / searches the tab (N starts a new session)")
                    }
                }
                Vec::new()
            }
            Command::Edit => {
                let text = match self.edit_draft.take() {
                    Some(draft) => draft,
                    None => serde_json::to_string_pretty(&self.request(self.spec.mode))
                        .unwrap_or_default(),
                };
                self.edit_sent = Some(text.clone());
                vec![Effect::Edit(text)]
            }
            Command::QaUrl => {
                self.input = if self.qa_links.is_empty() {
                    Input::QaUrl(String::new())
                } else {
                    Input::QaPick(0)
                };
                Vec::new()
            }
            Command::AddLocation => {
                self.input = Input::AddLocation(String::new());
                Vec::new()
            }
            Command::RemoveLocation => {
                self.remove_location();
                Vec::new()
            }
            Command::TraceToken => {
                self.input = Input::TraceToken(String::new());
                Vec::new()
            }
            Command::Search => {
                self.input = Input::Search(String::new());
                Vec::new()
            }
            Command::Copy => vec![Effect::Copy(self.focused_value())],
            Command::CopyAll => {
                let text = self.tab_text(self.tab);
                let from = self.body_start();
                vec![Effect::Copy(
                    text.lines(from, text.len().saturating_sub(1)).to_string(),
                )]
            }
            Command::Fold => {
                let mut folds = std::mem::take(&mut self.folds[self.tab.index()]);
                let top = folds.toggle(self.tab_text(self.tab), self.scroll);
                self.folds[self.tab.index()] = folds;
                match top {
                    Some(top) => self.scroll = top,
                    None => self.set_status("no JSON block here to fold"),
                }
                Vec::new()
            }
            Command::FoldAll => {
                // The response's items sit three levels down (`prefetch` → `mboxes` → item).
                let depth = if self.tab == TabId::Response { 3 } else { 1 };
                let mut folds = std::mem::take(&mut self.folds[self.tab.index()]);
                let folded = folds.toggle_all(self.tab_text(self.tab), depth);
                // From the top: what was below the fold is now a line or two.
                self.scroll = 0;
                self.folds[self.tab.index()] = folds;
                self.set_status(if folded {
                    "folded every item (Z unfolds)"
                } else {
                    "unfolded"
                });
                Vec::new()
            }
            Command::Export => vec![Effect::Export {
                reveal: self.reveal,
            }],
            Command::Reveal => {
                self.reveal = !self.reveal;
                self.refresh(&[TabId::Request]);
                self.set_status(if self.reveal {
                    "secrets revealed (R masks them)"
                } else {
                    "secrets masked"
                });
                Vec::new()
            }
            Command::NextTab => {
                self.show_tab(self.tab.next());
                Vec::new()
            }
            Command::Tab(i) => {
                self.show_tab(TabId::at(i));
                Vec::new()
            }
            Command::Up => {
                self.move_selection(-1);
                Vec::new()
            }
            Command::Down => {
                self.move_selection(1);
                Vec::new()
            }
            Command::History => {
                self.toggle_pane();
                Vec::new()
            }
            Command::MarkBaseline => {
                self.mark_baseline();
                Vec::new()
            }
            Command::Diff => {
                self.show_tab(TabId::Diff);
                Vec::new()
            }
            Command::DetailUp => {
                self.detail_scroll = self.detail_scroll.saturating_sub(3);
                Vec::new()
            }
            Command::DetailDown => {
                self.detail_scroll = self.detail_scroll.saturating_add(3);
                Vec::new()
            }
            Command::Zoom => {
                self.zoom = !self.zoom;
                Vec::new()
            }
            Command::ScrollLeft => {
                self.hscroll = self.hscroll.saturating_sub(8);
                Vec::new()
            }
            Command::ScrollRight => {
                if self.wrap {
                    self.set_status("lines wrap: L cuts them, then < and > scroll sideways");
                } else {
                    self.hscroll += 8;
                }
                Vec::new()
            }
            Command::Wrap => {
                self.wrap = !self.wrap;
                self.hscroll = 0;
                self.set_status(if self.wrap {
                    "long lines wrap (L cuts them)"
                } else {
                    "long lines cut: < and > scroll sideways (L wraps)"
                });
                Vec::new()
            }
            Command::Overrides => {
                self.input = Input::Overrides(Form::of(&self.overrides));
                Vec::new()
            }
            Command::MessageLog => {
                self.log_entries = crate::log::recent(100);
                self.input = Input::Log(0);
                Vec::new()
            }
            Command::Record => {
                if self.last.is_none() {
                    self.set_status("nothing to record yet: p prefetches");
                } else {
                    self.input = Input::RecordName(String::new());
                }
                Vec::new()
            }
            Command::Why => self.toggle_why(),
            Command::Split => self.show_split(),
            Command::CopyVisitor => {
                let tnt = self.visitor.tnt_id.clone().unwrap_or_default();
                self.set_status(format!(
                    "tntId {} · sessionId {} (copied the tntId)",
                    if tnt.is_empty() { "(none yet)" } else { &tnt },
                    self.visitor.session_id
                ));
                vec![Effect::Copy(tnt)]
            }
            Command::ScrollUp => {
                self.scroll_by(-1);
                Vec::new()
            }
            Command::ScrollDown => {
                self.scroll_by(1);
                Vec::new()
            }
            Command::PageUp => {
                self.scroll_by(-10);
                Vec::new()
            }
            Command::PageDown => {
                self.scroll_by(10);
                Vec::new()
            }
            Command::Cancel => {
                if self.search.take().is_some() {
                    return Vec::new();
                }
                if self.in_flight.take().is_some() {
                    self.set_status("cancelled");
                    return vec![Effect::Cancel];
                }
                Vec::new()
            }
        }
    }

    fn move_selection(&mut self, delta: isize) {
        let (len, at) = match self.pane {
            Pane::Locations => (self.rows.len(), &mut self.selected),
            Pane::History => (self.history.len(), &mut self.history_selected),
        };
        if len == 0 {
            return;
        }
        let moved = (*at as isize + delta).clamp(0, len as isize - 1) as usize;
        if moved != *at {
            *at = moved;
            self.detail_scroll = 0;
            self.detail_view = DetailView::Row;
            if self.pane == Pane::History {
                // Another exchange: its tabs are read from their top.
                self.scroll = 0;
                self.hscroll = 0;
                self.refresh(&TabId::OF_EXCHANGE);
            }
        }
    }

    /// Moves the tab's scroll to the next line containing `term`.
    fn find_next(&mut self, term: &str, after_current: bool) {
        let needle = term.to_lowercase();
        let start = self.scroll + usize::from(after_current);
        let lines = self.tab_text(self.tab);
        let found = (start..lines.len())
            .chain(0..start.min(lines.len()))
            .find(|&i| lines.line(i).to_lowercase().contains(&needle));
        match found {
            Some(i) => {
                self.folds[self.tab.index()].reveal(i);
                self.scroll = i;
                // The hit is brought into view sideways too, when lines are cut.
                let line = self.tab_text(self.tab).line(i).to_lowercase();
                let column = line
                    .find(&needle)
                    .map_or(0, |byte| line[..byte].chars().count());
                let width = super::view::tab_cols(self);
                if !self.wrap
                    && (column < self.hscroll
                        || column + needle.chars().count() > self.hscroll + width)
                {
                    self.hscroll = column.saturating_sub(width / 4);
                }
                self.set_status(format!("/{term}: line {}", i + 1));
            }
            None => self.set_status(format!("/{term}: not found in {}", self.tab.title())),
        }
    }

    /// A new session (a new visit) for the same visitor.
    fn new_session(&mut self) {
        self.visitor.new_session();
        self.refresh(&[TabId::Cookies]);
    }

    /// Sets (or with `None` clears) the QA mode of the requests to come.
    fn set_qa_mode(&mut self, qa: Option<QaMode>) {
        self.spec.qa_mode = qa;
        if let Some(r) = self.custom_request.as_mut() {
            r.qa_mode = self.spec.qa_mode.clone();
        }
        self.next_request_changed();
    }

    /// The next request differs from the last one sent: the Request tab shows it.
    fn next_request_changed(&mut self) {
        self.next_differs = true;
        self.refresh(&[TabId::Request]);
    }
}

/// Where row `i` sits: its location, its kind, and its rank among the rows of that kind there.
fn place_of(rows: &[Row], i: usize) -> (String, u8, usize) {
    let kind = |r: &Row| match r.kind {
        RowKind::Location { .. } => 0,
        RowKind::Option(_) => 1,
        RowKind::Metric(_) => 2,
    };
    let row = &rows[i];
    let rank = rows[..i]
        .iter()
        .filter(|r| r.location == row.location && kind(r) == kind(row))
        .count();
    (row.location.label(), kind(row), rank)
}

/// Applies one action; returns what the runtime must do.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Start => app.command(Command::Prefetch),
        Action::Key(key) => {
            if app.input != Input::Normal {
                return app.typed(&key);
            }
            match command_for(&key) {
                Some(command) => app.command(command),
                None => Vec::new(),
            }
        }
        Action::Paste(text) => {
            if let Input::QaPick(_) = app.input {
                // A link pasted while the picker is open goes to the paste prompt.
                app.input = Input::QaUrl(String::new());
            }
            match &mut app.input {
                Input::Overrides(form) => form.paste(&text),
                Input::QaUrl(b)
                | Input::TraceToken(b)
                | Input::Search(b)
                | Input::AddLocation(b) => b.push_str(text.trim()),
                _ => {}
            }
            Vec::new()
        }
        Action::Scroll(lines) => {
            app.scroll_by(lines as isize);
            Vec::new()
        }
        Action::Tick => {
            app.spinner = app.spinner.wrapping_add(1);
            Vec::new()
        }
        Action::Answered(result) => {
            let mode = app.in_flight.take().map_or(Mode::Prefetch, |(what, _)| {
                if what == Mode::Execute.as_str() {
                    Mode::Execute
                } else {
                    Mode::Prefetch
                }
            });
            match result {
                Ok(response) => app.apply_response(response),
                Err(message) => {
                    app.last_call = Some((mode, "failed".into()));
                    app.set_status(format!("error: {message}"));
                }
            }
            Vec::new()
        }
        Action::Exchange(exchange) => {
            app.add_exchange(exchange);
            Vec::new()
        }
        Action::Resize(width, height) => {
            app.size = (width, height);
            Vec::new()
        }
        Action::Split(label, result) => {
            match result {
                Ok(simulation) => {
                    app.set_status(format!(
                        "split of {label} over {} simulated visitors (% closes)",
                        simulation.visitors
                    ));
                    app.insight.split = Some((label, *simulation));
                }
                Err(e) => {
                    app.detail_view = DetailView::Row;
                    app.set_status(format!("simulate: {e}"));
                }
            }
            Vec::new()
        }
        Action::Rules(result) => {
            match result {
                Ok(rules) => {
                    app.insight.rules = Some(rules);
                    app.set_status("rules artifact loaded: w explains, % simulates");
                }
                Err(e) => app.set_status(format!("rules artifact: {e}")),
            }
            Vec::new()
        }
        Action::Queued(items) => {
            let mut fresh = 0;
            for (key, id, already) in items {
                if already {
                    app.set_badge(key, Badge::Acked);
                    continue;
                }
                if !app.queued.iter().any(|(_, i)| *i == id) {
                    app.queued.push((key.clone(), id));
                    fresh += 1;
                }
                app.set_badge(key, Badge::Queued);
            }
            let text = format!("{fresh} queued ({} waiting): s sends", app.queued.len());
            app.set_status(text);
            Vec::new()
        }
        Action::Delivered { acked, failed } => {
            app.in_flight = None;
            let mut remaining = Vec::new();
            for (key, id) in std::mem::take(&mut app.queued) {
                if acked.contains(&id) {
                    app.set_badge(key, Badge::Acked);
                } else if let Some((_, reason)) = failed.iter().find(|(f, _)| *f == id) {
                    app.set_badge(key.clone(), Badge::Failed(reason.clone()));
                    remaining.push((key, id));
                } else {
                    remaining.push((key, id));
                }
            }
            app.queued = remaining;
            let text = if failed.is_empty() {
                format!("{} acknowledged", acked.len())
            } else {
                format!(
                    "{} acknowledged, {} failed: {}",
                    acked.len(),
                    failed.len(),
                    failed[0].1
                )
            };
            app.set_status(text);
            Vec::new()
        }
        Action::Ledger {
            entries,
            findings,
            comparison,
        } => {
            app.ledger = entries;
            app.findings = findings;
            app.comparison = comparison;
            app.refresh(&[TabId::Ledger, TabId::Report]);
            Vec::new()
        }
        Action::Edited(text) => {
            if app.edit_sent.take().is_some_and(|sent| sent == text) {
                app.set_status("request unchanged");
                return Vec::new();
            }
            match serde_json::from_str::<DeliveryRequest>(&text) {
                Ok(request) if request.context.is_some() => {
                    app.custom_request = Some(request);
                    app.set_status("request edited: p sends it");
                    app.refresh(&[TabId::Request]);
                }
                Ok(_) => {
                    app.edit_draft = Some(text);
                    app.set_status("edited request has no context: kept your text, e to fix it")
                }
                Err(e) => {
                    app.edit_draft = Some(text);
                    app.set_status(format!(
                        "edited request is not valid ({e}): kept your text, e to fix it"
                    ))
                }
            }
            Vec::new()
        }
        Action::QaLinks(links) => {
            app.qa_links = links;
            Vec::new()
        }
        Action::Status(text) => {
            app.set_status(text);
            Vec::new()
        }
    }
}

/// The spinner frame for elapsed time.
pub fn spinner(app: &App) -> Option<String> {
    let (what, started) = app.in_flight.as_ref()?;
    const FRAMES: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];
    let elapsed: Duration = started.elapsed();
    Some(format!(
        "{} {what} {:.1} s",
        FRAMES[app.spinner % FRAMES.len()],
        elapsed.as_secs_f64()
    ))
}
