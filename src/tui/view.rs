//! Drawing: reads the App, never changes it.

use super::app::{notification_detail, spinner, App, Badge, DetailView, Input, Pane, TabId};
use super::exchange::{Exchange, ExchangeKind};
use super::keymap::KEYMAP;
use super::overrides::{Field, Form};
use super::rows::{decode_tnta, Row, RowKind};
use crate::delivery::{Location, Mode};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;

/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Colours, or none (`NO_COLOR`).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn selected(&self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
}

/// An id (tntId, sessionId, token) shortened to its first six and last two characters; counts
/// characters, not bytes, since a server may send any text.
fn short(id: Option<&str>) -> String {
    id.map_or_else(|| "-".into(), |id| super::exchange::elided(id, 6))
}

/// Draws the whole screen; no cell keeps a control character a server sent.
pub fn draw(frame: &mut Frame, app: &App, theme: Theme) {
    draw_screen(frame, app, theme);
    scrub_controls(frame.buffer_mut());
}

/// The backend writes cells to the terminal as they are: a control character in one (from a
/// server's content, names or ids) would run as an escape sequence. Tabs become spaces, every
/// other control character U+FFFD.
fn scrub_controls(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        if !crate::safe_text::is_safe(cell.symbol()) {
            cell.set_symbol(if cell.symbol() == "\t" {
                " "
            } else {
                "\u{fffd}"
            });
        }
    }
}

/// Where each part of the screen goes.
pub struct Areas {
    pub header: Rect,
    pub left: Rect,
    pub detail: Rect,
    pub tab_bar: Rect,
    pub tabs: Rect,
    pub footer: Rect,
}

/// The layout of a screen of `area` (the detail pane fills the right side when zoomed).
pub fn areas(area: Rect, zoom: bool) -> Areas {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Percentage(50),
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .split(area);
    let split = |r: Rect| {
        Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(40), Constraint::Percentage(60)])
            .split(r)
    };
    let middle = split(rows[1]);
    if zoom {
        let body = Rect {
            height: rows[4].y - rows[1].y,
            ..rows[1]
        };
        let sides = split(body);
        return Areas {
            header: rows[0],
            left: sides[0],
            detail: sides[1],
            tab_bar: Rect::default(),
            tabs: Rect::default(),
            footer: rows[4],
        };
    }
    Areas {
        header: rows[0],
        left: middle[0],
        detail: middle[1],
        tab_bar: rows[2],
        tabs: rows[3],
        footer: rows[4],
    }
}

fn app_areas(app: &App) -> Areas {
    areas(Rect::new(0, 0, app.size.0, app.size.1), false)
}

/// How many lines of a tab the screen shows.
pub fn tab_rows(app: &App) -> usize {
    (app_areas(app).tabs.height as usize).max(1)
}

/// How many columns of a tab the screen shows.
pub fn tab_cols(app: &App) -> usize {
    (app_areas(app).tabs.width as usize).max(1)
}

fn draw_screen(frame: &mut Frame, app: &App, theme: Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "make me bigger: mboxscope needs {MIN_WIDTH}x{MIN_HEIGHT}, this is {}x{}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let at = areas(area, app.zoom);
    header(frame, app, theme, at.header);
    match app.pane {
        Pane::Locations => tree(frame, app, theme, at.left),
        Pane::History => history(frame, app, theme, at.left),
    }
    detail(frame, app, theme, at.detail);
    if !app.zoom {
        tab_bar(frame, app, theme, at.tab_bar);
        tab_body(frame, app, theme, at.tabs);
    }
    footer(frame, app, theme, at.footer);
    match &app.input {
        Input::Help => help(frame, theme, area),
        Input::QaUrl(text) => prompt(
            frame,
            app.prompt_error.as_deref().unwrap_or(
                "QA link (at_preview_token=…), Enter to apply (empty: leave QA mode), Esc to cancel",
            ),
            &super::secrets::mask_qa_link(text),
            area,
        ),
        Input::TraceToken(text) => prompt(
            frame,
            "trace authorization token, Enter to apply (empty: no trace)",
            &"•".repeat(text.chars().count()),
            area,
        ),
        Input::Search(text) => prompt(frame, "search the tab, Enter to find (n: next)", text, area),
        Input::AddLocation(text) => prompt(
            frame,
            "add: mbox NAME[:k=v,…] | view NAME | pageload",
            text,
            area,
        ),
        Input::QaPick(selected) => qa_picker(frame, app, theme, *selected, area),
        Input::Overrides(form) => overrides_form(frame, app, theme, form, area),
        Input::RecordName(text) => prompt(
            frame,
            "record a scenario check: its name, Enter writes it (what is on screen is expected)",
            text,
            area,
        ),
        Input::Log(up) => message_log(frame, app, theme, *up, area),
        Input::Normal => {}
    }
}

/// The context overrides form.
fn overrides_form(frame: &mut Frame, app: &App, theme: Theme, form: &Form, area: Rect) {
    let rect = centered(
        area,
        area.width.saturating_sub(4),
        (Field::ALL.len() as u16 + 4).min(area.height),
    );
    let label_width = 26;
    let value_width = (rect.width as usize).saturating_sub(label_width + 5);
    let mut lines: Vec<Line> = Field::ALL
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let mut value = if *field == Field::PropertyToken && !app.reveal {
                "•".repeat(form.texts[i].chars().count())
            } else {
                form.texts[i].clone()
            };
            if *field == Field::Clock && !app.local {
                value = format!("{value}  (only the built-in emulator's clock)");
            }
            // The end of a long value shows, where the cursor is.
            let count = value.chars().count();
            if count > value_width {
                value = format!(
                    "…{}",
                    value
                        .chars()
                        .skip(count + 1 - value_width)
                        .collect::<String>()
                );
            }
            let here = i == form.at;
            let text = format!(
                "{} {:<label_width$} {value}{}",
                if here { "▶" } else { " " },
                field.label(),
                if here { "▏" } else { "" }
            );
            if here {
                Line::from(Span::styled(text, theme.fg(Color::Yellow)))
            } else {
                Line::from(text)
            }
        })
        .collect();
    lines.push(Line::from(Span::styled(
        form.error.clone().unwrap_or_default(),
        theme.fg(Color::Red),
    )));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(
            " context overrides: ↑↓ field, type, ←→ UA presets, Enter applies, Esc cancels ",
        )),
        rect,
    );
}

/// Every status message of the session, in full, newest at the bottom.
fn message_log(frame: &mut Frame, app: &App, theme: Theme, up: usize, area: Rect) {
    let rect = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    let inner_height = rect.height.saturating_sub(2) as usize;
    let mut all: Vec<Line> = app
        .log
        .iter()
        .map(|m| Line::from(crate::safe_text::one_line_uncapped(m)))
        .collect();
    if !app.log_entries.is_empty() {
        all.push(Line::from(Span::styled(
            "── the log file's recent entries ──",
            theme.fg(Color::DarkGray),
        )));
        all.extend(
            app.log_entries
                .iter()
                .map(|m| Line::from(crate::safe_text::one_line_uncapped(m))),
        );
    }
    let end = all.len().saturating_sub(up);
    let start = end.saturating_sub(inner_height);
    let lines: Vec<Line> = all.drain(start..end).collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .style(theme.fg(Color::Gray))
            .block(Block::default().borders(Borders::ALL).title(format!(
                " messages ({}): ↑↓ scroll, any other key closes ",
                app.log.len()
            ))),
        rect,
    );
}

/// The History pane: every exchange, newest at the bottom.
fn history(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" History ({}) ", app.history.len()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.history.is_empty() {
        frame.render_widget(Paragraph::new("no exchange yet: p prefetches"), inner);
        return;
    }
    let height = inner.height as usize;
    let first = app
        .history_selected
        .saturating_sub(height.saturating_sub(1) / 2)
        .min(app.history.len().saturating_sub(height));
    let lines: Vec<Line> = app.history[first..(first + height).min(app.history.len())]
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let time = crate::clock::iso8601(e.started_at_ms);
            let clock = time.get(11..19).unwrap_or(&time);
            let base = app
                .baseline
                .as_ref()
                .is_some_and(|b| std::sync::Arc::ptr_eq(b, e));
            let color = if e.outcome.is_ok() {
                Color::Reset
            } else {
                Color::Red
            };
            let outcome = match &e.outcome {
                Ok(r) => format!("{:<4}", r.status),
                Err(_) => "✗   ".to_string(),
            };
            let line = Line::from(vec![
                Span::raw(format!("{}{clock} ", if base { "◆" } else { " " })),
                Span::styled(outcome, theme.fg(color)),
                Span::styled(e.row_title(), theme.fg(Color::Cyan)),
                Span::raw(format!(" · {} ms", e.duration.as_millis())),
            ]);
            if first + i == app.history_selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The detail pane in History: the exchange, and each notification it carried in full.
fn exchange_detail(app: &App, exchange: &Exchange) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(format!(
            "{} · {}",
            exchange.title(),
            exchange.outcome_text()
        )),
        Line::from(format!(
            "at {} · visitor {}",
            crate::clock::iso8601(exchange.started_at_ms),
            exchange.visitor()
        )),
        Line::from(format!("POST {}", exchange.url)),
    ];
    if let Err(e) = &exchange.outcome {
        lines.push(Line::from(format!(
            "error: {}",
            crate::safe_text::one_line_uncapped(e)
        )));
    }
    if let ExchangeKind::Observed {
        notifications,
        findings,
        ..
    } = &exchange.kind
    {
        lines.push(Line::from(
            "an application's exchange, seen through mboxscope proxy",
        ));
        for n in notifications {
            lines.push(Line::from(format!(
                "{} {} · {}{}",
                n.kind,
                n.location,
                n.state,
                n.verdict
                    .as_deref()
                    .map(|v| format!(" · {v}"))
                    .unwrap_or_default()
            )));
        }
        for f in findings {
            lines.push(Line::from(format!("⚠ {}", f.line)));
        }
    }
    if let ExchangeKind::Notifications { ids, .. } = &exchange.kind {
        for id in ids {
            match app.ledger.iter().find(|e| &e.id == id) {
                Some(entry) => lines.extend(
                    notification_detail(entry, &app.findings)
                        .lines()
                        .map(|l| Line::from(l.to_string())),
                ),
                None => lines.push(Line::from(format!("notification {id}"))),
            }
        }
    }
    lines.push(Line::from(
        "the tabs show its request, response, trace and cookies",
    ));
    lines
}

/// The server's QA links to pick from (the highlighted one scrolled into view).
fn qa_picker(frame: &mut Frame, app: &App, theme: Theme, selected: usize, area: Rect) {
    let entries = super::qa_pick::lines(&app.qa_links);
    let rect = centered(
        area,
        area.width.saturating_sub(8),
        (entries.len() as u16 + 2).min(area.height),
    );
    let visible = rect.height.saturating_sub(2) as usize;
    let first = selected.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = entries
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, text)| {
            if i == selected {
                Line::from(Span::styled(format!("▶ {text}"), theme.fg(Color::Yellow)))
            } else {
                Line::from(format!("  {text}"))
            }
        })
        .collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" QA links: ↑↓ choose, Enter applies, p pastes one, Esc closes "),
        ),
        rect,
    );
}

/// The header: what matters most first kept (mode, QA, trace, the last answer, the spinner),
/// then overrides, ids, target and profile as the width allows.
fn header(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    // (priority: lower is kept longer, span)
    let mut parts: Vec<(u8, Span)> = vec![(
        0,
        Span::styled(
            " mboxscope ",
            theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
    )];
    let mode = app
        .last_call
        .as_ref()
        .map_or(app.spec.mode, |(mode, _)| *mode);
    parts.push((
        0,
        Span::styled(
            format!(" {} ", mode.as_str().to_uppercase()),
            theme.fg(Color::Yellow),
        ),
    ));
    if app.spec.qa_mode.is_some()
        || app
            .custom_request
            .as_ref()
            .is_some_and(|r| r.qa_mode.is_some())
    {
        parts.push((
            0,
            Span::styled(
                " QA ",
                theme.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            ),
        ));
    }
    if app.spec.trace_token.is_some()
        || app
            .custom_request
            .as_ref()
            .is_some_and(|r| r.trace.is_some())
    {
        parts.push((
            0,
            Span::styled(
                " TRACE ",
                theme.fg(Color::Blue).add_modifier(Modifier::BOLD),
            ),
        ));
    }
    if let Some((_, outcome)) = &app.last_call {
        let color = if outcome == "failed" {
            Color::Red
        } else {
            Color::Reset
        };
        parts.push((0, Span::styled(format!(" {outcome} "), theme.fg(color))));
    }
    if let Some(s) = spinner(app) {
        parts.push((
            0,
            Span::styled(format!(" {s} (Esc cancels)"), theme.fg(Color::Yellow)),
        ));
    }
    let overrides = app
        .overrides
        .summary_over(app.spec.user_agent.as_deref(), app.spec.page_url.as_deref());
    if !overrides.is_empty() {
        parts.push((
            1,
            Span::styled(format!(" {overrides} "), theme.fg(Color::Green)),
        ));
    }
    if app.custom_request.is_some() {
        parts.push((1, Span::raw(" edited ")));
    }
    parts.push((
        2,
        Span::raw(format!(" tnt {} ", short(app.visitor.tnt_id.as_deref()))),
    ));
    parts.push((
        2,
        Span::raw(format!(" sid {} ", short(Some(&app.visitor.session_id)))),
    ));
    parts.push((3, Span::raw(format!(" {} ", app.target))));
    parts.push((
        4,
        Span::raw(format!(
            " profile: {} ",
            app.profile.as_deref().unwrap_or("-")
        )),
    ));
    let width = |parts: &[(u8, Span)]| parts.iter().map(|(_, s)| s.width()).sum::<usize>();
    for drop in (1..=4).rev() {
        if width(&parts) <= area.width as usize {
            break;
        }
        parts.retain(|(priority, _)| *priority < drop);
    }
    let spans: Vec<Span> = parts.into_iter().map(|(_, s)| s).collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn badge(app: &App, row: &Row) -> (&'static str, Color) {
    if app.marked.contains(&row.key()) && !app.badges.contains_key(&row.key()) {
        return ("[sel]", Color::White);
    }
    match app.badges.get(&row.key()) {
        Some(Badge::Queued) => ("queued", Color::Yellow),
        Some(Badge::Sent) => ("sent…", Color::Yellow),
        Some(Badge::Acked) => ("✓ acked", Color::Green),
        Some(Badge::Failed(_)) => ("✗ failed", Color::Red),
        None => ("", Color::Reset),
    }
}

fn row_line(app: &App, row: &Row, theme: Theme) -> Line<'static> {
    let (badge_text, badge_color) = badge(app, row);
    let marker = if app.marked.contains(&row.key()) {
        "*"
    } else {
        " "
    };
    let mut spans = match &row.kind {
        RowKind::Location { options } => {
            let mode = if row.mode == Mode::Execute {
                " (execute)"
            } else {
                ""
            };
            let unknown = match &*row.location {
                Location::Mbox { name, .. } => app
                    .known_mboxes
                    .as_ref()
                    .is_some_and(|known| !known.contains(name)),
                _ => false,
            };
            let mut spans = vec![Span::styled(
                format!("▾ {:<22}{mode} {options} opt", row.location.label()),
                theme.fg(Color::Cyan),
            )];
            if unknown {
                spans.push(Span::styled(" · not in the rules", theme.fg(Color::Red)));
            }
            spans
        }
        RowKind::Option(o) => {
            let kind = o.option_type.clone().unwrap_or_else(|| "?".into());
            let experience = row
                .response_token("experience.name")
                .or_else(|| row.response_token("experience.id"))
                .unwrap_or_default();
            vec![Span::raw(format!("  └{marker}● {kind:<8} {experience}"))]
        }
        RowKind::Metric(m) => vec![Span::styled(
            format!(
                "  └{marker}◆ click {}",
                m.selector.clone().unwrap_or_default()
            ),
            theme.fg(Color::Magenta),
        )],
    };
    if !badge_text.is_empty() {
        spans.push(Span::styled(
            format!("  {badge_text}"),
            theme.fg(badge_color),
        ));
    }
    Line::from(spans)
}

fn tree(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(" Locations ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.rows.is_empty() {
        frame.render_widget(Paragraph::new("nothing yet: p prefetches"), inner);
        return;
    }
    // Only the visible window is laid out, however many rows there are.
    let height = inner.height as usize;
    let first = app
        .selected
        .saturating_sub(height.saturating_sub(1) / 2)
        .min(app.rows.len().saturating_sub(height));
    let lines: Vec<Line> = app.rows[first..(first + height).min(app.rows.len())]
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let line = row_line(app, row, theme);
            if first + i == app.selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn detail(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let (title, lines) = match app.pane {
        Pane::History => match app.shown_exchange() {
            Some(e) => (format!(" {} ", e.title()), exchange_detail(app, e)),
            None => (" exchange ".to_string(), Vec::new()),
        },
        Pane::Locations => {
            let place = app
                .row()
                .map(|r| r.location.label())
                .unwrap_or_else(|| "option".into());
            match app.detail_view {
                DetailView::Row => (
                    format!(" {place} "),
                    app.row()
                        .map(|row| row_detail(app, row, theme))
                        .unwrap_or_default(),
                ),
                DetailView::Why => (format!(" why: {place} (w: back) "), why_lines(app, theme)),
                DetailView::Split => (
                    format!(" split: {place} (%: back) "),
                    split_lines(app, theme, area.width.saturating_sub(2)),
                ),
            }
        }
    };
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let inner_width = area.width.saturating_sub(2);
    let total = paragraph.line_count(inner_width) as u16;
    let visible = area.height.saturating_sub(2);
    let top = app.detail_scroll.min(total.saturating_sub(visible));
    let more = if total > visible {
        format!(
            "{title}[{}-{}/{total} J/K] ",
            top + 1,
            (top + visible).min(total)
        )
    } else {
        title
    };
    let block = Block::default().borders(Borders::ALL).title(more);
    frame.render_widget(paragraph.block(block).scroll((top, 0)), area);
}

/// The Why view: the explanation of the selected location, then the server's trace of it
/// (when a trace token asked for one) with where the two disagree.
fn why_lines(app: &App, theme: Theme) -> Vec<Line<'static>> {
    let Some(location) = &app.insight.why else {
        return vec![Line::from("w explains the selected location")];
    };
    let mut lines = super::why::explanation_text(location, theme.color).lines;
    match app.row().and_then(|r| r.trace()) {
        Some(trace) => {
            lines.push(Line::from(""));
            lines.extend(super::why::trace_text(location, trace, theme.color).lines);
        }
        None => lines.push(Line::from(
            "(no server trace: T sets a trace token, p asks again, and the trace shows here beside the rules)",
        )),
    }
    lines
}

/// The Split view: observed vs configured share of each activity of the location.
fn split_lines(app: &App, theme: Theme, width: u16) -> Vec<Line<'static>> {
    let Some((label, simulation)) = &app.insight.split else {
        return vec![Line::from("simulating…")];
    };
    let mut lines = vec![Line::from(format!(
        "{label}: {} simulated visitors with this request's context",
        simulation.visitors
    ))];
    for activity in &simulation.activities {
        lines.push(Line::from(""));
        lines.extend(super::split::split_text(activity, width, theme.color).lines);
    }
    if simulation.activities.is_empty() {
        lines.push(Line::from(
            "no activity decided this location for any visitor",
        ));
    }
    lines
}

/// The detail of a row: an option's activity, experience, state, token, A4T, metrics,
/// response tokens and content; a metric; a location.
fn row_detail(app: &App, row: &Row, theme: Theme) -> Vec<Line<'static>> {
    let label = |s: &str| Span::styled(format!("{s:<10}"), theme.fg(Color::DarkGray));
    let mut lines: Vec<Line> = Vec::new();
    let state = row
        .location
        .state()
        .map(str::to_string)
        .unwrap_or_else(|| "-".into());
    match &row.kind {
        RowKind::Option(o) => {
            let activity = row.response_token("activity.name").unwrap_or_default();
            let activity_id = row.response_token("activity.id").unwrap_or_default();
            let experience = row.response_token("experience.name").unwrap_or_default();
            let experience_id = row.response_token("experience.id").unwrap_or_default();
            lines.push(Line::from(vec![
                label("type"),
                Span::raw(format!("{}   activity {activity} ({activity_id}) · experience {experience} ({experience_id})", o.option_type.clone().unwrap_or_default())),
            ]));
            lines.push(Line::from(vec![label("state"), Span::raw(state)]));
            lines.push(Line::from(vec![
                label("token"),
                Span::raw(
                    o.event_token
                        .clone()
                        .unwrap_or_else(|| "(none: execute content is already counted)".into()),
                ),
            ]));
            if let Some(tnta) = row
                .analytics()
                .and_then(|a| a.payload.as_ref())
                .and_then(|p| p.tnta.clone())
            {
                lines.push(Line::from(vec![
                    label("A4T"),
                    Span::raw(format!("{tnta}  ({})", decode_tnta(&tnta).join("; "))),
                ]));
            }
            let click_metrics: Vec<String> = app
                .rows
                .iter()
                .filter(|r| r.location == row.location)
                .filter_map(|r| match &r.kind {
                    RowKind::Metric(m) => Some(format!(
                        "click {} token {}",
                        m.selector.clone().unwrap_or_default(),
                        short(m.event_token.as_deref())
                    )),
                    _ => None,
                })
                .collect();
            if !click_metrics.is_empty() {
                lines.push(Line::from(vec![
                    label("metrics"),
                    Span::raw(click_metrics.join("; ")),
                ]));
            }
            if let Some(tokens) = &o.response_tokens {
                lines.push(Line::from(label("responseTokens")));
                for (k, v) in tokens.iter() {
                    lines.push(Line::from(format!(
                        "  {k:<28} {}",
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    )));
                }
            }
            lines.push(Line::from(label("content")));
            lines.extend(
                content_lines(o.option_type.as_deref(), o.content.as_deref())
                    .into_iter()
                    .map(Line::from),
            );
        }
        RowKind::Metric(m) => {
            lines.push(Line::from(vec![
                label("metric"),
                Span::raw(format!("click {}", m.selector.clone().unwrap_or_default())),
            ]));
            lines.push(Line::from(vec![
                label("token"),
                Span::raw(m.event_token.clone().unwrap_or_default()),
            ]));
            if let Some(tnta) = m
                .analytics
                .as_ref()
                .and_then(|a| a.payload.as_ref())
                .and_then(|p| p.tnta.clone())
            {
                lines.push(Line::from(vec![
                    label("A4T"),
                    Span::raw(format!("{tnta}  ({})", decode_tnta(&tnta).join("; "))),
                ]));
            }
            lines.push(Line::from(
                "c queues a click notification for this metric, s sends it",
            ));
        }
        RowKind::Location { options } => {
            lines.push(Line::from(vec![
                label("location"),
                Span::raw(row.location.label()),
            ]));
            lines.push(Line::from(vec![
                label("mode"),
                Span::raw(row.mode.as_str()),
            ]));
            lines.push(Line::from(vec![label("state"), Span::raw(state)]));
            lines.push(Line::from(vec![
                label("options"),
                Span::raw(options.to_string()),
            ]));
            if row.mode == Mode::Execute {
                lines.push(Line::from(
                    "execute counted these impressions already: do not notify them",
                ));
            } else if matches!(*row.location, Location::Page) {
                lines.push(Line::from("page-level click metrics"));
            } else {
                lines.push(Line::from(
                    "d on this row queues one display for all its options",
                ));
            }
        }
    }
    if let Some(Badge::Failed(reason)) = app.badges.get(&row.key()) {
        lines.push(Line::from(Span::styled(
            format!("failed: {}", crate::safe_text::one_line(reason)),
            theme.fg(Color::Red),
        )));
    }
    lines
}

/// An option's content, pretty-printed by type.
pub fn content_lines(kind: Option<&str>, content: Option<&Value>) -> Vec<String> {
    match (kind, content) {
        (_, None) => vec!["(no content)".into()],
        (Some("actions"), Some(Value::Array(actions))) => actions
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                let head = format!(
                    "  {}. {} {}",
                    i + 1,
                    a["type"].as_str().unwrap_or("?"),
                    a["selector"]
                        .as_str()
                        .or(a["cssSelector"].as_str())
                        .unwrap_or("")
                );
                let body = match &a["content"] {
                    Value::String(s) => s.lines().map(|l| format!("     {l}")).collect::<Vec<_>>(),
                    Value::Null => Vec::new(),
                    other => serde_json::to_string_pretty(other)
                        .unwrap_or_default()
                        .lines()
                        .map(|l| format!("     {l}"))
                        .collect(),
                };
                std::iter::once(head).chain(body)
            })
            .collect(),
        (Some("redirect"), Some(Value::String(url))) => vec![format!("  → redirect to {url}")],
        (_, Some(Value::String(html))) => html.lines().map(|l| format!("  {l}")).collect(),
        (_, Some(other)) => serde_json::to_string_pretty(other)
            .unwrap_or_default()
            .lines()
            .map(|l| format!("  {l}"))
            .collect(),
    }
}

/// The tab bar; with short names when the full ones do not fit, so every tab shows.
fn tab_bar(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let full: usize = TabId::ALL
        .iter()
        .map(|t| t.title().chars().count() + 5)
        .sum();
    let spans: Vec<Span> = TabId::ALL
        .iter()
        .enumerate()
        .flat_map(|(i, tab)| {
            let name = if full <= area.width as usize {
                tab.title()
            } else {
                tab.short_title()
            };
            let style = if *tab == app.tab {
                theme.selected()
            } else {
                Style::default()
            };
            [
                Span::styled(format!(" {} {name} ", i + 1), style),
                Span::raw(" "),
            ]
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Colours one line of pretty-printed JSON: keys, strings, numbers, literals.
fn json_line(line: &str, theme: Theme, search: Option<&str>) -> Line<'static> {
    if search.is_some_and(|s| !s.is_empty() && line.to_lowercase().contains(&s.to_lowercase())) {
        return Line::from(Span::styled(
            line.to_string(),
            theme
                .fg(Color::Black)
                .bg(if theme.color {
                    Color::Yellow
                } else {
                    Color::Reset
                })
                .add_modifier(Modifier::BOLD),
        ));
    }
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if let Some(rest) = trimmed.strip_prefix('"') {
        if let Some(end) = rest.find("\": ") {
            let key = format!("\"{}\"", &rest[..end]);
            let value = &rest[end + 3..];
            let color = if value.starts_with('"') {
                Color::Green
            } else if value.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                Color::Yellow
            } else {
                Color::Magenta
            };
            return Line::from(vec![
                Span::raw(indent.to_string()),
                Span::styled(key, theme.fg(Color::Cyan)),
                Span::raw(": "),
                Span::styled(value.to_string(), theme.fg(color)),
            ]);
        }
        return Line::from(vec![
            Span::raw(indent.to_string()),
            Span::styled(trimmed.to_string(), theme.fg(Color::Green)),
        ]);
    }
    Line::from(line.to_string())
}

/// What names a folded item: its first `"name"`, else `"id"` or `"index"` member at its own
/// level (`name: "home-hero"`); nothing when it has none.
fn folded_name(lines: &super::text::TabText, open: usize, close: usize) -> String {
    let depth = |l: &str| l.len() - l.trim_start().len();
    let inner = depth(lines.line(open)) + 2;
    for key in ["\"name\": ", "\"id\": ", "\"index\": "] {
        let found = (open + 1..close.min(open + 400))
            .map(|i| lines.line(i))
            .find(|l| depth(l) == inner && l.trim_start().starts_with(key));
        if let Some(line) = found {
            let value = line.trim().trim_end_matches(',');
            return format!(" {}", value.replacen('"', "", 2));
        }
    }
    String::new()
}

fn tab_body(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let lines = app.tab_text(app.tab);
    let folds = app.folds();
    let mut at = folds.visible(app.scroll.min(lines.len().saturating_sub(1)));
    let mut visible: Vec<Line> = Vec::with_capacity(area.height as usize);
    while visible.len() < area.height as usize && at < lines.len() {
        let mut line = json_line(lines.line(at), theme, app.search.as_deref());
        match folds.folded_at(at) {
            Some(close) => {
                let closing = lines.line(close).trim();
                line.spans.push(Span::styled(
                    format!(
                        " …{} {closing}  ({} lines folded)",
                        folded_name(lines, at, close),
                        close - at - 1
                    ),
                    theme.fg(Color::DarkGray),
                ));
                at = close + 1;
            }
            None => at += 1,
        }
        visible.push(line);
    }
    let body = Paragraph::new(visible);
    let body = if app.wrap {
        body.wrap(Wrap { trim: false })
    } else {
        body.scroll((0, app.hscroll.min(u16::MAX as usize) as u16))
    };
    frame.render_widget(body, area);
}

/// The footer: the status message first (`!` shows every one in full), then the key hints
/// that fit.
fn footer(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let status = crate::safe_text::one_line(&app.status);
    let mut hints = String::new();
    for (command, word) in super::keymap::FOOTER {
        hints.push_str(&format!(" {} {word}", super::keymap::label_of(*command)));
        if *command == super::keymap::Command::Send {
            hints.push_str(&format!(" ({} queued)", app.queued.len()));
        }
        hints.push(' ');
    }
    let room = (area.width as usize).saturating_sub(status.chars().count() + 3);
    let hints: String = if hints.chars().count() <= room {
        hints
    } else {
        // Cut at a hint's end, never in the middle of one.
        let cut: String = hints.chars().take(room).collect();
        cut.rsplit_once("  ")
            .map(|(keep, _)| format!("{keep} "))
            .unwrap_or_default()
    };
    let line = Line::from(vec![
        Span::styled(
            format!(" {status} "),
            theme.fg(Color::White).add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("│{hints}"), theme.fg(Color::Gray)),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The keymap in as many columns as the screen's height needs.
fn help(frame: &mut Frame, theme: Theme, area: Rect) {
    let fits = (area.height.saturating_sub(2) as usize).max(1);
    let columns = KEYMAP.len().div_ceil(fits);
    let rows = KEYMAP.len().div_ceil(columns);
    let width = (area.width.saturating_sub(2) as usize / columns).clamp(8, 76);
    let text_width = width - 7;
    let lines: Vec<Line> = (0..rows)
        .map(|row| {
            let mut spans = Vec::new();
            for b in (0..columns).filter_map(|c| KEYMAP.get(c * rows + row)) {
                let mut help: String = b.help.chars().take(text_width).collect();
                if b.help.chars().count() > text_width {
                    help.pop();
                    help.push('…');
                }
                spans.push(Span::styled(
                    format!(" {:<6}", b.label),
                    theme.fg(Color::Cyan),
                ));
                spans.push(Span::raw(format!("{help:<text_width$}")));
            }
            Line::from(spans)
        })
        .collect();
    let rect = centered(area, (width * columns) as u16 + 2, rows as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (any key closes) "),
        ),
        rect,
    );
}

fn prompt(frame: &mut Frame, title: &str, text: &str, area: Rect) {
    let rect = centered(area, area.width.saturating_sub(8), 3);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(format!("{text}▏")).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} ")),
        ),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::widgets::Widget;

    #[test]
    fn short_counts_characters_not_bytes() {
        assert_eq!(short(Some("ééééééééééééé")), "éééééé…éé");
        assert_eq!(short(Some("日本語のトークンです長い")), "日本語のトー…長い");
        assert_eq!(short(Some("ascii-only-id-42")), "ascii-…42");
        assert_eq!(short(Some("shortid")), "shortid");
        assert_eq!(short(None), "-");
    }

    #[test]
    fn no_cell_keeps_a_control_character() {
        let area = Rect::new(0, 0, 12, 1);
        let mut buffer = ratatui::buffer::Buffer::empty(area);
        Paragraph::new("a\x1b]2;x\x07\tb").render(area, &mut buffer);
        let raw = |b: &ratatui::buffer::Buffer| {
            b.content
                .iter()
                .any(|c| !crate::safe_text::is_safe(c.symbol()))
        };
        assert!(raw(&buffer), "ratatui keeps control characters in cells");
        scrub_controls(&mut buffer);
        assert!(!raw(&buffer));
    }
}
