//! The explanation as text, for `mboxscope decide --explain`.

use super::{Explanation, LocationExplanation, RuleExplanation, Selection, Span, Verdict};
use std::fmt::Write;

/// The explanation as indented text, one rule per block.
pub fn render_text(explanation: &Explanation) -> String {
    let mut out = String::new();
    let random = if explanation.visitor_id_random {
        " (random: the request has no visitor id)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "visitor {}{random} · client {}{}",
        explanation.visitor_id,
        explanation.client,
        explanation
            .property_token
            .as_deref()
            .map(|t| format!(" · property {t}"))
            .unwrap_or_default()
    );
    for location in &explanation.locations {
        render_location(&mut out, location);
    }
    out
}

/// The location's heading: mode, kind, name, index.
pub fn location_title(location: &LocationExplanation) -> String {
    let name = if location.name.is_empty() {
        "(every view)"
    } else {
        &location.name
    };
    let index = location.index.map(|i| format!(" #{i}")).unwrap_or_default();
    format!("{} {} {name}{index}", location.mode, location.kind)
}

/// One line naming a rule's activity and experience.
pub fn rule_title(rule: &RuleExplanation) -> String {
    format!(
        "{} {} · experience {} {} (rule {})",
        rule.activity_id,
        rule.activity_name.as_deref().unwrap_or(""),
        rule.experience_id,
        rule.experience_name.as_deref().unwrap_or(""),
        rule.rule_key
    )
}

/// The verdict in a few words.
pub fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Won => "WON".into(),
        Verdict::Failed => "did not hold".into(),
        Verdict::NotReached { winner } => format!("not reached: {winner} won first"),
        Verdict::SameRuleKeyWon => "skipped: its rule key already won here".into(),
        Verdict::OtherProperty => "skipped: another property".into(),
    }
}

/// The allocation line of a rule: the visitor's bucket and the experience's range.
pub fn allocation_text(rule: &RuleExplanation) -> Option<String> {
    let range = rule.range.map(|Span { low, high, share }| {
        format!("experience range {low:.2}–{high:.2} ({share:.2}% of traffic)")
    });
    match (rule.allocation, range) {
        (None, None) => None,
        (Some(a), None) => Some(format!("allocation {a:.2}")),
        (None, Some(r)) => Some(r),
        (Some(a), Some(r)) => Some(format!("allocation {a:.2} · {r}")),
    }
}

fn render_location(out: &mut String, location: &LocationExplanation) {
    let how = match location.selection {
        Selection::FirstMatch => "the first rule that holds wins",
        Selection::OnePerRuleKey => "every rule that holds wins, one per rule key",
    };
    let _ = writeln!(out, "\n{} ({how})", location_title(location));
    if location.rules.is_empty() {
        let _ = writeln!(out, "  no rules for this location in the artifact");
    }
    for rule in &location.rules {
        let mark = if rule.verdict == Verdict::Won {
            "✓"
        } else {
            "·"
        };
        let _ = writeln!(
            out,
            "  {mark} {} — {}",
            rule_title(rule),
            verdict_text(&rule.verdict)
        );
        if let Some(line) = allocation_text(rule) {
            let _ = writeln!(out, "      {line}");
        }
        if rule.conditions.is_empty() {
            let _ = writeln!(out, "      no audience condition: everyone qualifies");
        }
        for check in &rule.conditions {
            let reads: Vec<String> = check
                .reads
                .iter()
                .map(|r| format!("{} = {}", r.variable, r.value))
                .collect();
            let _ = writeln!(
                out,
                "      {} {:<14} {}  [{}]",
                if check.held { "held  " } else { "failed" },
                check.category.label(),
                check.expression,
                reads.join(", ")
            );
        }
    }
    let winners = if location.winners.is_empty() {
        "none: no experience for this location".to_string()
    } else {
        location.winners.join(", ")
    };
    let _ = writeln!(out, "  winner: {winners}");
}
