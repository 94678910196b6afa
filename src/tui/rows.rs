//! The Locations tree: pageLoad, mboxes and views of a response, their options and metrics.

use crate::delivery::*;
use serde_json::Value;
use std::sync::Arc;

/// Where an option or metric sits in a shared response (no copy of its content).
#[derive(Debug, Clone)]
pub struct PartRef {
    response: Arc<DeliveryResponse>,
    item: Item,
    index: usize,
}

impl PartRef {
    fn parts(&self) -> Parts<'_> {
        self.item.parts(&self.response)
    }
}

impl PartialEq for PartRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.response, &other.response)
            && self.item == other.item
            && self.index == other.index
    }
}

/// An option of a shared response.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionRef(PartRef);

impl std::ops::Deref for OptionRef {
    type Target = TargetOption;
    fn deref(&self) -> &TargetOption {
        // Rows are built from this very (immutable) response, so the path always resolves.
        &self.0.parts().options.expect("row path resolves")[self.0.index]
    }
}

/// A metric of a shared response.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRef(PartRef);

impl std::ops::Deref for MetricRef {
    type Target = Metric;
    fn deref(&self) -> &Metric {
        // Rows are built from this very (immutable) response, so the path always resolves.
        &self.0.parts().metrics.expect("row path resolves")[self.0.index]
    }
}

/// What a row shows.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// A mbox, view or pageLoad with its option count.
    Location { options: usize },
    /// One option (offer).
    Option(OptionRef),
    /// One click metric.
    Metric(MetricRef),
}

/// One row of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub mode: Mode,
    /// Shared by the rows of one mbox, view or pageLoad.
    pub location: Arc<Location>,
    pub kind: RowKind,
    response: Arc<DeliveryResponse>,
    item: Item,
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

    /// The A4T analytics of the row: its item's, or its metric's.
    pub fn analytics(&self) -> Option<&AnalyticsResponse> {
        match &self.kind {
            RowKind::Metric(m) => m.analytics.as_ref(),
            _ => self.item.parts(&self.response).analytics,
        }
    }

    /// The server's trace of the row's mbox, view or page load (asked with a trace token).
    pub fn trace(&self) -> Option<&crate::delivery::Trace> {
        self.item.parts(&self.response).trace
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

fn push_item(
    rows: &mut Vec<Row>,
    response: &Arc<DeliveryResponse>,
    mode: Mode,
    location: Location,
    item: Item,
) {
    let p = item.parts(response);
    let options = p.options.map_or(0, Vec::len);
    let location = Arc::new(location);
    let row = |kind| Row {
        mode,
        location: location.clone(),
        kind,
        response: response.clone(),
        item,
    };
    let part = |index| PartRef {
        response: response.clone(),
        item,
        index,
    };
    rows.push(row(RowKind::Location { options }));
    for index in 0..options {
        rows.push(row(RowKind::Option(OptionRef(part(index)))));
    }
    for (index, m) in p.metrics.into_iter().flatten().enumerate() {
        if m.metric_type.as_deref() == Some("click") {
            rows.push(row(RowKind::Metric(MetricRef(part(index)))));
        }
    }
}

/// The rows of a response: pageLoad first, then mboxes, then views.
pub fn rows_of(response: &Arc<DeliveryResponse>) -> Vec<Row> {
    let mut rows = Vec::new();
    for item in decided_items(response) {
        push_item(
            &mut rows,
            response,
            item.mode(),
            item.location(response),
            item,
        );
    }
    rows
}

/// `activity:experience:traffic|event` entries of a tnta payload, in words.
pub fn decode_tnta(tnta: &str) -> Vec<String> {
    tnta_entries(tnta)
        .map(|e| {
            format!(
                "activity {}, experience {}, traffic {}, {}",
                e.activity,
                e.experience,
                e.traffic_type,
                e.event_name()
            )
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
