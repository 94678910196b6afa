//! The Locations tree: pageLoad, mboxes and views of a response, their options and metrics.

use crate::delivery::*;
use serde_json::Value;

/// What a row shows.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// A mbox, view or pageLoad with its option count.
    Location { options: usize },
    /// One option (offer).
    Option(Box<TargetOption>),
    /// One click metric.
    Metric(Box<Metric>),
}

/// One row of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub mode: Mode,
    pub location: Location,
    pub kind: RowKind,
    pub analytics: Option<AnalyticsResponse>,
}

impl Row {
    /// A key that survives a redraw: location, kind and token.
    pub fn key(&self) -> String {
        let token = self.token().unwrap_or("");
        let kind = match self.kind {
            RowKind::Location { .. } => "location",
            RowKind::Option(_) => "option",
            RowKind::Metric(_) => "metric",
        };
        format!("{}|{kind}|{token}", self.location.label())
    }

    /// The eventToken of an option or metric row.
    pub fn token(&self) -> Option<&str> {
        match &self.kind {
            RowKind::Option(o) => o.event_token.as_deref(),
            RowKind::Metric(m) => m.event_token.as_deref(),
            RowKind::Location { .. } => None,
        }
    }

    /// A response token of an option row.
    pub fn response_token(&self, key: &str) -> Option<String> {
        match &self.kind {
            RowKind::Option(o) => o.response_tokens.as_ref()?.get(key).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            _ => None,
        }
    }
}

fn push_location(
    rows: &mut Vec<Row>,
    mode: Mode,
    location: Location,
    options: Option<&Vec<TargetOption>>,
    metrics: Option<&Vec<Metric>>,
    analytics: Option<&AnalyticsResponse>,
) {
    let options: Vec<&TargetOption> = options.into_iter().flatten().collect();
    rows.push(Row {
        mode,
        location: location.clone(),
        kind: RowKind::Location {
            options: options.len(),
        },
        analytics: analytics.cloned(),
    });
    for o in options {
        rows.push(Row {
            mode,
            location: location.clone(),
            kind: RowKind::Option(Box::new(o.clone())),
            analytics: analytics.cloned(),
        });
    }
    for m in metrics
        .into_iter()
        .flatten()
        .filter(|m| m.metric_type.as_deref() == Some("click"))
    {
        rows.push(Row {
            mode,
            location: location.clone(),
            kind: RowKind::Metric(Box::new(m.clone())),
            analytics: m.analytics.clone(),
        });
    }
}

/// The rows of a response: pageLoad first, then mboxes, then views.
pub fn rows_of(response: &DeliveryResponse) -> Vec<Row> {
    let mut rows = Vec::new();
    if let Some(e) = &response.execute {
        if let Some(p) = &e.page_load {
            push_location(
                &mut rows,
                Mode::Execute,
                Location::PageLoad {
                    state: p.state.clone(),
                },
                p.options.as_ref(),
                p.metrics.as_ref(),
                p.analytics.as_ref(),
            );
        }
        for m in e.mboxes.iter().flatten() {
            let loc = Location::Mbox {
                name: m.name.clone().unwrap_or_default(),
                state: m.state.clone(),
            };
            push_location(
                &mut rows,
                Mode::Execute,
                loc,
                m.options.as_ref(),
                m.metrics.as_ref(),
                m.analytics.as_ref(),
            );
        }
    }
    if let Some(p) = &response.prefetch {
        if let Some(pl) = &p.page_load {
            push_location(
                &mut rows,
                Mode::Prefetch,
                Location::PageLoad {
                    state: pl.state.clone(),
                },
                pl.options.as_ref(),
                pl.metrics.as_ref(),
                pl.analytics.as_ref(),
            );
        }
        for m in p.mboxes.iter().flatten() {
            let loc = Location::Mbox {
                name: m.name.clone().unwrap_or_default(),
                state: m.state.clone(),
            };
            push_location(
                &mut rows,
                Mode::Prefetch,
                loc,
                m.options.as_ref(),
                m.metrics.as_ref(),
                m.analytics.as_ref(),
            );
        }
        for v in p.views.iter().flatten() {
            let loc = Location::View {
                name: v.name.clone().unwrap_or_default(),
                key: v.key.clone(),
                state: v.state.clone(),
            };
            push_location(
                &mut rows,
                Mode::Prefetch,
                loc,
                v.options.as_ref(),
                v.metrics.as_ref(),
                v.analytics.as_ref(),
            );
        }
        if p.metrics.as_ref().is_some_and(|m| !m.is_empty()) {
            push_location(
                &mut rows,
                Mode::Prefetch,
                Location::Page,
                None,
                p.metrics.as_ref(),
                None,
            );
        }
    }
    rows
}

/// `activity:experience:traffic|event` entries of a tnta payload, in words.
pub fn decode_tnta(tnta: &str) -> Vec<String> {
    tnta.split(',')
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (ids, event) = entry.split_once('|').unwrap_or((entry, ""));
            let mut parts = ids.split(':');
            let (a, e, t) = (
                parts.next().unwrap_or("?"),
                parts.next().unwrap_or("?"),
                parts.next().unwrap_or("?"),
            );
            let event = match event.split('|').next().unwrap_or("") {
                "0" => "entrance",
                "1" => "visit",
                "2" => "impression",
                "32767" => "conversion",
                "-1" | "65535" => "release",
                other => other,
            };
            format!("activity {a}, experience {e}, traffic {t}, {event}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tnta_is_decoded_in_words() {
        assert_eq!(
            decode_tnta("312345:1:0|2,312345:1:0|32767"),
            vec![
                "activity 312345, experience 1, traffic 0, impression",
                "activity 312345, experience 1, traffic 0, conversion"
            ]
        );
        assert_eq!(
            decode_tnta("1:0:0|1|100"),
            vec!["activity 1, experience 0, traffic 0, visit"]
        );
    }
}
