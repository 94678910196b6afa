//! The Split view: bars of the observed share of each experience of one activity beside the
//! share its rules configure (or the operator expects), from a simulation. Render-only.

use crate::simulate::{ActivitySplit, FLAG_BELOW_P};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

/// The Split view of one activity.
pub struct SplitView<'a> {
    pub activity: &'a ActivitySplit,
    /// How many visitors were simulated.
    pub visitors: u64,
    pub color: bool,
}

impl Widget for SplitView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let title = format!(
            " Split · {} {} · {} visitors ",
            self.activity.id, self.activity.name, self.visitors
        );
        let inner_width = area.width.saturating_sub(2);
        Paragraph::new(split_text(self.activity, inner_width, self.color))
            .block(Block::default().borders(Borders::ALL).title(title))
            .render(area, buf);
    }
}

/// The label column's width and the room kept for the percentage.
const LABEL: usize = 24;
const KIND: usize = 11;
const FIGURE: usize = 8;

/// A bar of `share` percent in `width` cells, in eighths.
fn bar(share: f64, width: usize) -> String {
    let eighths = ((share.clamp(0.0, 100.0) / 100.0) * width as f64 * 8.0).round() as usize;
    let mut bar = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        bar.push([' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8]);
    }
    format!("{bar:<width$}")
}

/// The activity's bars as lines for `width` columns: per experience its observed share and
/// the configured (and expected, when given) one, then the test's verdict.
pub fn split_text(activity: &ActivitySplit, width: u16, color: bool) -> Text<'static> {
    let look = |c: Color| {
        if color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    };
    let bar_width = usize::from(width)
        .saturating_sub(LABEL + KIND + FIGURE + 1)
        .max(1);
    let mut lines = Vec::new();
    for e in &activity.experiences {
        let label: String = format!("{} {}", e.id, e.name)
            .chars()
            .take(LABEL - 1)
            .collect();
        let rows = [
            ("observed", Some(e.share), Color::Cyan),
            ("configured", e.configured_share, Color::DarkGray),
            ("expected", e.expected_share, Color::Yellow),
        ];
        for (k, (kind, share, c)) in rows.into_iter().enumerate() {
            let Some(share) = share else {
                if kind == "configured" {
                    lines.push(Line::from(format!(
                        "{:<LABEL$}{kind:<KIND$}(no allocation range)",
                        ""
                    )));
                }
                continue;
            };
            let name = if k == 0 { label.as_str() } else { "" };
            lines.push(Line::from(vec![
                Span::raw(format!("{name:<LABEL$}{kind:<KIND$}")),
                Span::styled(bar(share, bar_width), look(c)),
                Span::raw(format!(" {share:>6.2}%")),
            ]));
        }
        if e.visitors == 0 {
            lines.push(Line::from(Span::styled(
                format!("{:<LABEL$}no visitor reached it", ""),
                look(Color::Red),
            )));
        }
    }
    lines.push(match activity.p_value {
        None => Line::from("no split to test"),
        Some(p) if activity.flagged => Line::from(Span::styled(
            format!("FLAGGED: chi-square p = {p:.2e} < {FLAG_BELOW_P}"),
            look(Color::Red).add_modifier(Modifier::BOLD),
        )),
        Some(p) => Line::from(Span::styled(
            format!("consistent: chi-square p = {p:.3}"),
            look(Color::Green),
        )),
    });
    Text::from(lines)
}
