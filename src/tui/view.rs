//! Drawing: reads the App, never changes it.

use super::app::{spinner, App, Badge, Input, TabId};
use super::keymap::KEYMAP;
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
    let Some(s) = id else { return "-".into() };
    let count = s.chars().count();
    if count <= 10 {
        return s.to_string();
    }
    let head: String = s.chars().take(6).collect();
    let tail: String = s.chars().skip(count - 2).collect();
    format!("{head}…{tail}")
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
    header(frame, app, theme, rows[0]);
    let middle = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(40), Constraint::Percentage(60)])
        .split(rows[1]);
    tree(frame, app, theme, middle[0]);
    detail(frame, app, theme, middle[1]);
    tab_bar(frame, app, theme, rows[2]);
    tab_body(frame, app, theme, rows[3]);
    footer(frame, app, theme, rows[4]);
    match &app.input {
        Input::Help => help(frame, theme, area),
        Input::QaUrl(text) => prompt(
            frame,
            "QA link (at_preview_token=…), Enter to apply, Esc to cancel",
            &super::secrets::mask_qa_link(text),
            area,
        ),
        Input::TraceToken(text) => prompt(
            frame,
            "trace authorization token, Enter to apply",
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
        Input::Normal => {}
    }
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

fn header(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let mut spans = vec![
        Span::styled(
            " mboxscope ",
            theme.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" {} ", app.target)),
        Span::raw(format!(
            " profile: {} ",
            app.profile.as_deref().unwrap_or("-")
        )),
        Span::raw(format!(" tnt {} ", short(app.visitor.tnt_id.as_deref()))),
        Span::raw(format!(" sid {} ", short(Some(&app.visitor.session_id)))),
        Span::styled(
            format!(" {} ", app.spec.mode.as_str().to_uppercase()),
            theme.fg(Color::Yellow),
        ),
    ];
    if app.spec.qa_mode.is_some()
        || app
            .custom_request
            .as_ref()
            .is_some_and(|r| r.qa_mode.is_some())
    {
        spans.push(Span::styled(
            " QA ",
            theme.fg(Color::Magenta).add_modifier(Modifier::BOLD),
        ));
    }
    if app.spec.trace_token.is_some()
        || app
            .custom_request
            .as_ref()
            .is_some_and(|r| r.trace.is_some())
    {
        spans.push(Span::styled(
            " TRACE ",
            theme.fg(Color::Blue).add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(last) = &app.last {
        spans.push(Span::raw(format!(
            " {} · {} ms ",
            last.status,
            last.duration.as_millis()
        )));
    }
    if let Some(s) = spinner(app) {
        spans.push(Span::styled(
            format!(" {s} (Esc cancels)"),
            theme.fg(Color::Yellow),
        ));
    }
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
            vec![Span::styled(
                format!("▾ {:<22}{mode} {options} opt", row.location.label()),
                theme.fg(Color::Cyan),
            )]
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
    let title = app
        .row()
        .map(|r| format!(" {} ", r.location.label()))
        .unwrap_or_else(|| " option ".into());
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(row) = app.row() else { return };
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
                content_lines(o.option_type.as_deref(), o.content.as_ref())
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
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
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

fn tab_bar(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let spans: Vec<Span> = TabId::ALL
        .iter()
        .enumerate()
        .flat_map(|(i, tab)| {
            let name = tab.title();
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
                    format!(" … {closing}  ({} lines folded)", close - at - 1),
                    theme.fg(Color::DarkGray),
                ));
                at = close + 1;
            }
            None => at += 1,
        }
        visible.push(line);
    }
    frame.render_widget(Paragraph::new(visible), area);
}

fn footer(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let mut hints = String::new();
    for (command, word) in super::keymap::FOOTER {
        hints.push_str(&format!(" {} {word}", super::keymap::label_of(*command)));
        if *command == super::keymap::Command::Send {
            hints.push_str(&format!(" ({} queued)", app.queued.len()));
        }
        hints.push(' ');
    }
    hints.push_str(&format!("│ {}", crate::safe_text::one_line(&app.status)));
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(hints, theme.fg(Color::Gray)))),
        area,
    );
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
