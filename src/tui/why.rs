//! The Why view: one location's explanation (every rule considered, each condition with the
//! value it read, the allocation, the winner) and, when the server's trace is at hand, the
//! trace's campaigns beside it with every disagreement flagged. Render-only.

use crate::decisioning::explain::{
    render::allocation_text, render::location_title, render::rule_title, render::verdict_text,
    LocationExplanation, Verdict,
};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};
use serde_json::Value;

/// The Why view of one location, with the trace of the same location when there is one.
pub struct WhyView<'a> {
    pub location: &'a LocationExplanation,
    /// The location's `trace` object from the server's response.
    pub trace: Option<&'a Value>,
    pub color: bool,
}

impl Widget for WhyView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let local = Paragraph::new(explanation_text(self.location, self.color))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Why (local) "),
            )
            .wrap(Wrap { trim: false });
        match self.trace {
            None => local.render(area, buf),
            Some(trace) => {
                let [left, right] =
                    Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                        .areas(area);
                local.render(left, buf);
                Paragraph::new(trace_text(self.location, trace, self.color))
                    .block(
                        Block::default()
                            .borders(Borders::ALL)
                            .title(" Server trace "),
                    )
                    .wrap(Wrap { trim: false })
                    .render(right, buf);
            }
        }
    }
}

fn style(color: bool, c: Color) -> Style {
    if color {
        Style::default().fg(c)
    } else {
        Style::default()
    }
}

/// The local explanation of one location as lines.
pub fn explanation_text(location: &LocationExplanation, color: bool) -> Text<'static> {
    let mut lines = vec![Line::from(Span::styled(
        location_title(location),
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    for rule in &location.rules {
        let (mark, look) = match rule.verdict {
            Verdict::Won => ("✓", style(color, Color::Green).add_modifier(Modifier::BOLD)),
            Verdict::Failed => ("✗", style(color, Color::Red)),
            _ => ("·", style(color, Color::DarkGray)),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), look),
            Span::raw(rule_title(rule)),
            Span::styled(format!(" — {}", verdict_text(&rule.verdict)), look),
        ]));
        if let Some(allocation) = allocation_text(rule) {
            lines.push(Line::from(format!("    {allocation}")));
        }
        if rule.conditions.is_empty() {
            lines.push(Line::from("    no audience condition: everyone qualifies"));
        }
        for check in &rule.conditions {
            let reads: Vec<String> = check
                .reads
                .iter()
                .map(|r| format!("{} = {}", r.variable, r.value))
                .collect();
            let (word, look) = if check.held {
                ("held  ", style(color, Color::Green))
            } else {
                ("failed", style(color, Color::Red))
            };
            lines.push(Line::from(vec![
                Span::raw("    "),
                Span::styled(word, look),
                Span::raw(format!(" {}: {}", check.category.label(), reads.join(", "))),
            ]));
        }
    }
    let winners: Vec<String> = location
        .rules
        .iter()
        .filter(|r| r.verdict == Verdict::Won)
        .map(|r| {
            format!(
                "{} {}",
                r.experience_id,
                r.experience_name.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let winners = if winners.is_empty() {
        "none: no experience for this location".to_string()
    } else {
        format!("experience {}", winners.join(", "))
    };
    lines.push(Line::from(Span::styled(
        format!("winner: {winners}"),
        Style::default().add_modifier(Modifier::BOLD),
    )));
    Text::from(lines)
}

/// An id as text, from a JSON number or string.
fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The trace's campaigns and evaluated targets as lines, each campaign checked against the
/// local winners: agreements marked ✓, disagreements flagged.
pub fn trace_text(location: &LocationExplanation, trace: &Value, color: bool) -> Text<'static> {
    let local: Vec<(String, String)> = location
        .rules
        .iter()
        .filter(|r| r.verdict == Verdict::Won)
        .map(|r| (r.activity_id.clone(), r.experience_id.clone()))
        .collect();
    let campaigns: Vec<(String, String)> = trace["campaigns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (id_text(&c["id"]), id_text(&c["branchId"])))
        .collect();
    let flag = style(color, Color::Red).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from(Span::styled(
        "campaigns the server returned",
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    if campaigns.is_empty() {
        lines.push(Line::from("  none"));
    }
    for (activity, experience) in &campaigns {
        let text = format!("activity {activity} experience {experience}");
        if local.contains(&(activity.clone(), experience.clone())) {
            lines.push(Line::from(vec![
                Span::styled("✓ ", style(color, Color::Green)),
                Span::raw(text),
            ]));
        } else {
            let local_experience = local
                .iter()
                .find(|(a, _)| a == activity)
                .map(|(_, e)| format!("local explanation: experience {e}"))
                .unwrap_or_else(|| "local explanation: not returned".into());
            lines.push(Line::from(Span::styled(
                format!("✗ {text} — DISAGREES, {local_experience}"),
                flag,
            )));
        }
    }
    for (activity, experience) in &local {
        if !campaigns.iter().any(|(a, _)| a == activity) {
            lines.push(Line::from(Span::styled(
                format!(
                    "✗ activity {activity} experience {experience} won locally — DISAGREES, not in the trace"
                ),
                flag,
            )));
        }
    }
    let targets = trace["evaluatedCampaignTargets"].as_array();
    if let Some(targets) = targets.filter(|t| !t.is_empty()) {
        lines.push(Line::from(Span::styled(
            "evaluated campaign targets",
            Style::default().add_modifier(Modifier::BOLD),
        )));
        for t in targets {
            let ids = |k: &str| {
                t[k].as_array()
                    .map(|a| a.iter().map(Value::to_string).collect::<Vec<_>>().join(","))
                    .unwrap_or_default()
            };
            lines.push(Line::from(format!(
                "  activity {}: matched [{}] unmatched [{}]",
                id_text(&t["campaignId"]),
                ids("matchedSegmentIds"),
                ids("unmatchedSegmentIds")
            )));
        }
    }
    Text::from(lines)
}
