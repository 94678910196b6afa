//! The tabs below the tree: their names, order and keys in one place, and the text of each.

use super::*;

/// A tab below the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TabId {
    Request,
    Response,
    Trace,
    Analytics,
    Cookies,
    Meta,
    Ledger,
    Report,
    Diff,
}

impl TabId {
    /// Every tab, in the order the tab bar shows them (`1`–`9` select them).
    pub const ALL: [TabId; 9] = [
        TabId::Request,
        TabId::Response,
        TabId::Trace,
        TabId::Analytics,
        TabId::Cookies,
        TabId::Meta,
        TabId::Ledger,
        TabId::Report,
        TabId::Diff,
    ];

    /// The tabs made from the exchange shown.
    pub const OF_EXCHANGE: [TabId; 7] = [
        TabId::Request,
        TabId::Response,
        TabId::Trace,
        TabId::Analytics,
        TabId::Cookies,
        TabId::Meta,
        TabId::Diff,
    ];

    /// The tab's name.
    pub fn title(self) -> &'static str {
        match self {
            TabId::Request => "Request",
            TabId::Response => "Response",
            TabId::Trace => "Trace",
            TabId::Analytics => "Analytics",
            TabId::Cookies => "Cookies",
            TabId::Meta => "Meta",
            TabId::Ledger => "Ledger",
            TabId::Report => "Report",
            TabId::Diff => "Diff",
        }
    }

    /// A shorter name, for narrow terminals.
    pub fn short_title(self) -> &'static str {
        match self {
            TabId::Request => "Req",
            TabId::Response => "Resp",
            TabId::Trace => "Trace",
            TabId::Analytics => "A4T",
            TabId::Cookies => "Cook",
            TabId::Meta => "Meta",
            TabId::Ledger => "Ledg",
            TabId::Report => "Rep",
            TabId::Diff => "Diff",
        }
    }

    /// Its place in [`TabId::ALL`] (0-based).
    pub fn index(self) -> usize {
        TabId::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The tab at place `i` (clamped to the last).
    pub fn at(i: usize) -> TabId {
        TabId::ALL[i.min(TabId::ALL.len() - 1)]
    }

    /// The next tab (after the last, the first).
    pub fn next(self) -> TabId {
        TabId::ALL[(self.index() + 1) % TabId::ALL.len()]
    }
}

impl App {
    /// The text of `tab`, made afresh.
    pub(super) fn text_of(&self, tab: TabId) -> String {
        match tab {
            TabId::Request => self.request_text(),
            TabId::Response => self.response_text(),
            TabId::Trace => self.trace_text(),
            TabId::Analytics => self.analytics_text(),
            TabId::Cookies => self.cookies_text(),
            TabId::Meta => self.meta_text(),
            TabId::Ledger => self.ledger_text(),
            TabId::Report => self.report_text(),
            TabId::Diff => self.diff_text(),
        }
    }

    fn request_text(&self) -> String {
        let next_first = self.next_differs && self.pane == Pane::Locations;
        if let Some(exchange) = self.shown_exchange().filter(|_| !next_first) {
            let mut shown = serde_json::to_value(exchange.sent_request()).unwrap_or_default();
            if !self.reveal {
                mask_in_place(&mut shown);
            }
            return format!(
                "POST {}\n{}",
                exchange.url,
                serde_json::to_string_pretty(&shown).unwrap_or_default()
            );
        }
        let mut shown = serde_json::to_value(self.request(self.spec.mode)).unwrap_or_default();
        if !self.reveal {
            mask_in_place(&mut shown);
        }
        format!(
            "(not sent yet: {} sends it)\n{}",
            if self.spec.mode == Mode::Execute {
                "x"
            } else {
                "p"
            },
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        )
    }

    fn response_text(&self) -> String {
        let Some(exchange) = self.shown_exchange() else {
            return "(no response yet)".into();
        };
        let l = match &exchange.outcome {
            Ok(l) => l,
            Err(e) => {
                return format!(
                    "no answer after {} ms:\n{}",
                    exchange.duration.as_millis(),
                    crate::safe_text::one_line_uncapped(e)
                )
            }
        };
        // The parsed response keeps every field: printing it needs no second tree.
        let mut pretty = format!(
            "HTTP {} · {} ms · {} bytes\n",
            l.status,
            l.duration.as_millis(),
            l.response_body.len()
        )
        .into_bytes();
        let _ = serde_json::to_writer_pretty(&mut pretty, &*l.response);
        String::from_utf8(pretty).unwrap_or_default()
    }

    fn trace_text(&self) -> String {
        match self.shown_response().map(|l| l.trace()) {
            Some(traces) if !traces.is_empty() => {
                serde_json::to_string_pretty(&traces).unwrap_or_default()
            }
            _ => "(no trace: set a trace token with T; the emulator traces any request that asks)"
                .into(),
        }
    }

    fn analytics_text(&self) -> String {
        let mut analytics = String::new();
        let rows = self
            .shown_response()
            .map(|r| rows_of(&r.response))
            .unwrap_or_default();
        for row in rows
            .iter()
            .filter(|r| !matches!(r.kind, RowKind::Option(_)))
        {
            let Some(tnta) = row
                .analytics()
                .and_then(|a| a.payload.as_ref())
                .and_then(|p| p.tnta.as_deref())
            else {
                continue;
            };
            let what = if matches!(row.kind, RowKind::Metric(_)) {
                " click metric"
            } else {
                ""
            };
            analytics.push_str(&format!("{}{what}\n  tnta {tnta}\n", row.location.label()));
            for line in crate::tui::rows::decode_tnta(tnta) {
                analytics.push_str(&format!("  → {line}\n"));
            }
        }
        if analytics.is_empty() {
            analytics = "(no A4T payloads: ask with --analytics client-side)".into();
        }
        analytics
    }

    fn meta_text(&self) -> String {
        let Some(l) = self.shown_response() else {
            return "(no response yet)".into();
        };
        #[derive(serde::Serialize)]
        struct MetaTab<'a> {
            meta: crate::client::views::Meta,
            response_tokens: Vec<&'a serde_json::Map<String, Value>>,
        }
        serde_json::to_string_pretty(&MetaTab {
            meta: l.meta(),
            response_tokens: l.response_tokens(),
        })
        .unwrap_or_default()
    }

    fn cookies_text(&self) -> String {
        let visitor = format!(
            "visitor now: tntId {} · sessionId {} (I copies the ids)\n",
            self.visitor.tnt_id.as_deref().unwrap_or("(none yet)"),
            self.visitor.session_id
        );
        match self.shown_response() {
            Some(l) => format!(
                "{visitor}{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "target_cookie": l.target_cookie,
                    "target_location_hint_cookie": l.target_location_hint_cookie,
                    "sessionId": l.session_id,
                    "tntId": l.response.id.as_ref().and_then(|id| id.tnt_id.clone()),
                }))
                .unwrap_or_default()
            ),
            None => format!("{visitor}(no cookies yet)"),
        }
    }

    /// The Ledger tab: every notification with its visitor, type, location, tokens, state,
    /// times, attempts and the findings about it; then the other findings.
    fn ledger_text(&self) -> String {
        let mut ledger = String::new();
        for e in self.ledger.iter().rev() {
            ledger.push_str(&notification_detail(e, &self.findings));
        }
        let general: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.notification.is_none())
            .collect();
        if !general.is_empty() {
            ledger.push_str("\nfindings\n");
            for f in general {
                ledger.push_str(&format!("  {}\n", f.line()));
            }
        }
        if ledger.is_empty() {
            ledger = "(no notification yet: d marks the selected option displayed, s sends)".into();
        }
        ledger
    }

    /// The Diff tab: the baseline (`m`) beside the exchange shown.
    fn diff_text(&self) -> String {
        match (&self.baseline, self.shown_exchange()) {
            (Some(baseline), Some(this)) => super::super::diff::text(baseline, this),
            (None, _) => "(no baseline: m marks the exchange shown (H lists them all); then show another and D diffs them)".into(),
            (Some(_), None) => "(nothing to compare: p prefetches, or H picks an exchange)".into(),
        }
    }

    /// The Report tab: expected beside counted, per experience, and the findings that may
    /// explain a difference.
    fn report_text(&self) -> String {
        let mut out = self.comparison.text(&self.findings);
        if self.comparison.rows.is_empty() {
            out.push_str(
                "(d marks an option displayed, s sends: what it should count shows here)\n",
            );
        }
        out
    }
}

/// One notification in full, with the findings about it.
pub fn notification_detail(e: &Entry, findings: &[Finding]) -> String {
    let mark = if e.is_pending() { "…" } else { "✓" };
    let acked = match &e.state {
        crate::ledger::State::Acked { at } => format!(" · acked {}", crate::clock::iso8601(*at)),
        _ => String::new(),
    };
    let mut out = format!(
        "{mark} {} {} · {}{}\n    visitor {} · session {}\n    id {} · impressionId {}\n    queued {} · timestamp {}{acked} · attempts {}\n",
        e.kind.as_str(),
        e.location.label(),
        e.state.describe(),
        e.verdict
            .as_deref()
            .map(|v| format!(" · {v}"))
            .unwrap_or_default(),
        crate::counting::visitor_key(&e.visitor).unwrap_or_else(|| "?".into()),
        e.session_id,
        e.id,
        e.impression_id.as_deref().unwrap_or("(none)"),
        crate::clock::iso8601(e.at),
        crate::clock::iso8601(e.timestamp),
        e.attempts,
    );
    for token in &e.tokens {
        out.push_str(&format!("    token {token}\n"));
    }
    for f in findings
        .iter()
        .filter(|f| f.notification.as_deref() == Some(e.id.as_str()))
    {
        out.push_str(&format!("    ⚠ {}\n", f.line()));
    }
    out
}
