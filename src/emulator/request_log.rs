//! What `mboxscope serve` says about each request: kind (prefetch / execute / notifications ×N),
//! visitor, locations, status, what it counted per notification and latency, as a line of
//! text or of JSON.

use crate::counting::{Outcome, Verdict};
use crate::delivery::DeliveryRequest;
use serde_json::json;

/// How request lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per request.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// What a delivery request was and what it counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// "prefetch", "execute", "notifications ×N" (joined by " + ").
    pub kind: String,
    /// The visitor's id (tntId without its location hint, else another id).
    pub visitor: Option<String>,
    /// The mboxes (`view:NAME`, `views`, `pageLoad`) asked for.
    pub locations: Vec<String>,
    /// Per notification: its id and what was counted.
    pub notifications: Vec<(String, String)>,
}

impl Summary {
    /// What `request` asks for, and for whom.
    pub fn of(request: &DeliveryRequest) -> Summary {
        let mut kinds = Vec::new();
        let mut locations = Vec::new();
        if let Some(execute) = &request.execute {
            kinds.push("execute".to_string());
            if execute.page_load.is_some() {
                locations.push("pageLoad".to_string());
            }
            locations.extend(
                execute
                    .mboxes
                    .iter()
                    .flatten()
                    .filter_map(|m| m.name.clone()),
            );
        }
        if let Some(prefetch) = &request.prefetch {
            kinds.push("prefetch".to_string());
            if prefetch.page_load.is_some() {
                locations.push("pageLoad".to_string());
            }
            locations.extend(
                prefetch
                    .mboxes
                    .iter()
                    .flatten()
                    .filter_map(|m| m.name.clone()),
            );
            for view in prefetch.views.iter().flatten() {
                locations.push(match &view.name {
                    Some(name) => format!("view:{name}"),
                    None => "views".to_string(),
                });
            }
        }
        let notifications = request.notifications.as_deref().unwrap_or_default();
        if !notifications.is_empty() {
            kinds.push(format!("notifications ×{}", notifications.len()));
            for n in notifications {
                if let Some(name) = n.mbox.as_ref().and_then(|m| m.name.clone()) {
                    locations.push(name);
                } else if let Some(name) = n.view.as_ref().and_then(|v| v.name.clone()) {
                    locations.push(format!("view:{name}"));
                } else if n.page_load.is_some() {
                    locations.push("pageLoad".to_string());
                }
            }
            locations.dedup();
        }
        Summary {
            kind: if kinds.is_empty() {
                "nothing asked".to_string()
            } else {
                kinds.join(" + ")
            },
            visitor: request.id.as_ref().and_then(|id| id.visitor_key()),
            locations,
            notifications: Vec::new(),
        }
    }

    /// Notes what the counting model made of notification `id` (or of the execute).
    pub fn counted(&mut self, id: &str, outcome: &Outcome) {
        self.notifications
            .push((id.to_string(), verdict_text(outcome)));
    }
}

/// "#3 counted", "#4 duplicate of #3", "#5 bot", "#6 no activity".
fn verdict_text(outcome: &Outcome) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (_, verdict) in &outcome.verdicts {
        let text = match verdict {
            Verdict::Counted => "counted".to_string(),
            Verdict::Duplicate { of } => format!("duplicate of #{of}"),
            Verdict::NotCounted(crate::counting::Reason::Bot) => "bot".to_string(),
        };
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        parts.push("no activity".to_string());
    }
    format!("#{} {}", outcome.seq, parts.join(", "))
}

/// One request as the log shows it.
pub struct Line<'a> {
    pub at_ms: i64,
    pub method: &'a str,
    pub path: &'a str,
    /// The status, or what happened instead ("dropped (fault)").
    pub outcome: &'a str,
    /// Why the request was refused (from an error reply), every notification rejected with it.
    pub refusal: Option<String>,
    pub summary: Option<&'a Summary>,
    pub latency_ms: f64,
}

/// The message of an error reply's body (`{"status", "message"}`).
pub fn refusal(status: u16, body: &[u8]) -> Option<String> {
    if status < 400 {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("message")?
        .as_str()
        .map(str::to_string)
}

impl Line<'_> {
    /// The line in `format` (no newline).
    pub fn render(&self, format: LogFormat) -> String {
        match format {
            LogFormat::Text => self.text(),
            LogFormat::Json => self.json(),
        }
    }

    fn text(&self) -> String {
        use std::fmt::Write;
        // One buffer, written in place: this runs on the serving threads for every request.
        let mut line = String::with_capacity(256);
        let _ = write!(
            line,
            "{} {} {} {}",
            crate::clock::iso8601(self.at_ms),
            self.method,
            self.path,
            self.outcome
        );
        if let Some(s) = self.summary {
            let _ = write!(line, " {}", s.kind);
            if let Some(visitor) = &s.visitor {
                let _ = write!(line, " visitor {visitor}");
            }
            if !s.locations.is_empty() {
                let _ = write!(line, " [{}]", s.locations.join(", "));
            }
            for (i, (id, verdict)) in s.notifications.iter().enumerate() {
                let _ = write!(line, "{}{id}: {verdict}", if i == 0 { " {" } else { "; " });
            }
            if !s.notifications.is_empty() {
                line.push('}');
            }
        }
        if let Some(reason) = &self.refusal {
            let _ = write!(line, " rejected: {reason}");
        }
        let _ = write!(line, " {:.2} ms", self.latency_ms);
        if crate::safe_text::is_safe(&line) {
            line
        } else {
            crate::safe_text::one_line_uncapped(&line)
        }
    }

    fn json(&self) -> String {
        let mut value = json!({
            "time": crate::clock::iso8601(self.at_ms),
            "method": self.method,
            "path": self.path,
            "status": self.outcome,
            "ms": (self.latency_ms * 100.0).round() / 100.0,
        });
        if let Some(s) = self.summary {
            value["kind"] = json!(s.kind);
            value["visitor"] = json!(s.visitor);
            value["locations"] = json!(s.locations);
            value["notifications"] = s
                .notifications
                .iter()
                .map(|(id, verdict)| json!({"id": id, "verdict": verdict}))
                .collect();
        }
        if let Some(reason) = &self.refusal {
            value["rejected"] = json!(reason);
        }
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_request_reads_as_its_kind_visitor_and_verdicts() {
        let request: DeliveryRequest = serde_json::from_value(json!({
            "id": {"tntId": "abc.28_0"},
            "notifications": [
                {"id": "n1", "type": "display", "mbox": {"name": "home-hero"}},
                {"id": "n2", "type": "display", "mbox": {"name": "home-hero"}}
            ]
        }))
        .unwrap();
        let mut summary = Summary::of(&request);
        let first = Outcome {
            seq: 3,
            verdicts: vec![(None, Verdict::Counted)],
        };
        let again = Outcome {
            seq: 4,
            verdicts: vec![(None, Verdict::Duplicate { of: 3 })],
        };
        summary.counted("n1", &first);
        summary.counted("n2", &again);
        let line = Line {
            at_ms: 0,
            method: "POST",
            path: "/rest/v1/delivery",
            outcome: "200",
            refusal: None,
            summary: Some(&summary),
            latency_ms: 0.5,
        };
        let text = line.render(LogFormat::Text);
        assert_eq!(
            text,
            "1970-01-01T00:00:00.000Z POST /rest/v1/delivery 200 notifications ×2 visitor abc \
             [home-hero] {n1: #3 counted; n2: #4 duplicate of #3} 0.50 ms"
        );
        let json: serde_json::Value = serde_json::from_str(&line.render(LogFormat::Json)).unwrap();
        assert_eq!(json["notifications"][1]["verdict"], "#4 duplicate of #3");
        assert_eq!(json["kind"], "notifications ×2");
    }
}
