//! The simulation as a text table, for `mboxscope simulate`.

use super::{Simulation, FLAG_BELOW_P};
use std::fmt::Write;

fn share(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.2}%"))
        .unwrap_or_else(|| "-".into())
}

/// The simulation as text: per activity a table of experiences, the test, then audiences and
/// the counting what-if.
pub fn render_text(simulation: &Simulation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} simulated visitors", simulation.visitors);
    for activity in &simulation.activities {
        let entered: u64 = activity.experiences.iter().map(|e| e.visitors).sum();
        let _ = writeln!(
            out,
            "\nactivity {} {} ({entered} visitors)",
            activity.id, activity.name
        );
        let _ = writeln!(
            out,
            "  {:<28} {:>9} {:>8} {:>11} {:>9}  range",
            "experience", "visitors", "share", "configured", "expected"
        );
        for e in &activity.experiences {
            let range = e
                .range
                .map(|r| format!("{:.2}–{:.2}", r.low, r.high))
                .unwrap_or_else(|| "-".into());
            let unreached = if e.visitors == 0 {
                "  (no visitor reached it)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {:<28} {:>9} {:>8} {:>11} {:>9}  {range}{unreached}",
                format!("{} {}", e.id, e.name),
                e.visitors,
                share(Some(e.share)),
                share(e.configured_share),
                share(e.expected_share),
            );
        }
        let verdict = match activity.p_value {
            None => "no split to test (no allocation ranges or expectation)".to_string(),
            Some(p) if activity.flagged => {
                format!("chi-square p = {p:.3e} < {FLAG_BELOW_P}: FLAGGED, the split differs")
            }
            Some(p) => format!("chi-square p = {p:.4}: consistent with the split"),
        };
        let _ = writeln!(out, "  {verdict}");
    }
    if !simulation.audiences.is_empty() {
        let _ = writeln!(out, "\naudiences (share of all visitors that qualified)");
        for a in &simulation.audiences {
            let ids: Vec<String> = a.audience_ids.iter().map(|v| v.to_string()).collect();
            let name = if ids.is_empty() {
                "no audience".to_string()
            } else {
                format!("audience {}", ids.join("+"))
            };
            let _ = writeln!(
                out,
                "  activity {} {:<24} {:>7.2}%  ({})",
                a.activity_id,
                name,
                a.share,
                a.experiences.join(", ")
            );
        }
    }
    if let Some(counts) = &simulation.counting {
        let _ = writeln!(
            out,
            "\nexpected counts (counting model)\n  {:<10} {:<10} {:>11} {:>8} {:>9}",
            "activity", "experience", "impressions", "visits", "visitors"
        );
        for c in counts {
            let _ = writeln!(
                out,
                "  {:<10} {:<10} {:>11} {:>8} {:>9}",
                c.activity, c.experience, c.impressions, c.visits, c.visitors
            );
        }
    }
    out
}
