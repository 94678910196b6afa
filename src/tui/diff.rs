//! Two exchanges side by side: the options, experiences, tokens, response tokens, A4T payloads
//! and cookies that differ.

use super::exchange::Exchange;
use super::rows::{rows_of, RowKind};
use crate::client::TargetResponse;
use indexmap::IndexMap;

/// What an exchange says, fact by fact (`mbox home-hero · Hero test › experience` → `B (1)`).
pub fn facts(exchange: &Exchange) -> IndexMap<String, String> {
    let mut facts = IndexMap::new();
    let status = match &exchange.outcome {
        Ok(r) => r.status.to_string(),
        Err(e) => format!("failed: {}", crate::safe_text::one_line(e)),
    };
    facts.insert("status".to_string(), status);
    facts.insert("visitor".to_string(), exchange.visitor());
    if let Some(response) = exchange.response() {
        response_facts(response, &mut facts);
    }
    facts
}

fn response_facts(response: &TargetResponse, facts: &mut IndexMap<String, String>) {
    facts.insert("sessionId".into(), response.session_id.clone());
    // The mbox cookie's entries without their expiry times (those differ on every call).
    let entries: Vec<String> = response
        .target_cookie
        .value
        .split('|')
        .map(|entry| {
            let mut parts = entry.split('#');
            format!(
                "{}={}",
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default()
            )
        })
        .collect();
    facts.insert("cookie mbox".into(), entries.join(" "));
    if let Some(hint) = &response.target_location_hint_cookie {
        facts.insert("cookie mboxEdgeCluster".into(), hint.value.clone());
    }
    for row in rows_of(&response.response) {
        let place = row.location.label();
        match &row.kind {
            RowKind::Location { options } => {
                facts.insert(format!("{place} › options"), options.to_string());
            }
            RowKind::Option(option) => {
                let activity = row
                    .response_token("activity.name")
                    .or_else(|| row.response_token("activity.id"))
                    .unwrap_or_else(|| "?".into());
                let at = format!("{place} · {activity}");
                let experience = match (
                    row.response_token("experience.name"),
                    row.response_token("experience.id"),
                ) {
                    (Some(name), Some(id)) => format!("{name} ({id})"),
                    (name, id) => name.or(id).unwrap_or_else(|| "?".into()),
                };
                facts.insert(format!("{at} › experience"), experience);
                facts.insert(
                    format!("{at} › type"),
                    option.option_type.clone().unwrap_or_default(),
                );
                facts.insert(
                    format!("{at} › eventToken"),
                    option.event_token.clone().unwrap_or_else(|| "-".into()),
                );
                if let Some(tokens) = &option.response_tokens {
                    for (key, value) in tokens.iter() {
                        let value = value
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| value.to_string());
                        facts.insert(format!("{at} › {key}"), value);
                    }
                }
                if let Some(tnta) = row
                    .analytics()
                    .and_then(|a| a.payload.as_ref())
                    .and_then(|p| p.tnta.clone())
                {
                    facts.insert(format!("{at} › A4T tnta"), tnta);
                }
            }
            RowKind::Metric(metric) => {
                let selector = metric.selector.clone().unwrap_or_default();
                facts.insert(
                    format!("{place} › click {selector}"),
                    metric.event_token.clone().unwrap_or_else(|| "-".into()),
                );
            }
        }
    }
}

/// The Diff tab: the facts that differ, baseline beside this one, then how many are equal.
pub fn text(baseline: &Exchange, this: &Exchange) -> String {
    let (left, right) = (facts(baseline), facts(this));
    let mut keys: Vec<&String> = left.keys().collect();
    keys.extend(right.keys().filter(|k| !left.contains_key(*k)));
    let missing = "(absent)".to_string();
    let differ: Vec<(&String, &String, &String)> = keys
        .into_iter()
        .map(|k| {
            (
                k,
                left.get(k).unwrap_or(&missing),
                right.get(k).unwrap_or(&missing),
            )
        })
        .filter(|(_, a, b)| a != b)
        .collect();
    let equal = left.len().max(right.len()) - differ.len().min(left.len().max(right.len()));
    let key_width = differ
        .iter()
        .map(|(k, ..)| k.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 48);
    let value_width = differ
        .iter()
        .map(|(_, a, _)| a.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 40);
    let mut out = format!(
        "baseline: {} at {} · this: {} at {}\n\n",
        baseline.title(),
        crate::clock::iso8601(baseline.started_at_ms),
        this.title(),
        crate::clock::iso8601(this.started_at_ms)
    );
    out.push_str(&format!(
        "  {:<key_width$}  {:<value_width$}  {}\n",
        "", "baseline", "this"
    ));
    for (key, a, b) in &differ {
        let key = fit(key, key_width);
        let a = fit(a, value_width);
        out.push_str(&format!("≠ {key:<key_width$}  {a:<value_width$}  {b}\n"));
    }
    if differ.is_empty() {
        out.push_str("(no difference)\n");
    }
    out.push_str(&format!("\n{equal} facts equal\n"));
    out
}

/// `text` cut to `width` characters, with `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
