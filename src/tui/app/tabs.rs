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
}

impl TabId {
    /// Every tab, in the order the tab bar shows them (`1`–`8` select them).
    pub const ALL: [TabId; 8] = [
        TabId::Request,
        TabId::Response,
        TabId::Trace,
        TabId::Analytics,
        TabId::Cookies,
        TabId::Meta,
        TabId::Ledger,
        TabId::Report,
    ];

    /// The tabs made from the last response.
    pub const OF_RESPONSE: [TabId; 4] =
        [TabId::Response, TabId::Trace, TabId::Analytics, TabId::Meta];

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
        }
    }

    fn request_text(&self) -> String {
        let unsent;
        let request = match &self.last {
            Some(l) => &l.request,
            None => {
                unsent = self.request(self.spec.mode);
                &unsent
            }
        };
        let mut shown = serde_json::to_value(request).unwrap_or_default();
        if !self.reveal {
            mask_in_place(&mut shown);
        }
        let url = self
            .last
            .as_ref()
            .map(|l| format!("POST {}\n", l.request_url))
            .unwrap_or_else(|| "(not sent yet)\n".into());
        format!(
            "{url}{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        )
    }

    fn response_text(&self) -> String {
        let Some(l) = &self.last else {
            return "(no response yet)".into();
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
        match self.last.as_ref().map(|l| l.trace()) {
            Some(traces) if !traces.is_empty() => {
                serde_json::to_string_pretty(&traces).unwrap_or_default()
            }
            _ => "(no trace: set a trace token with T; the emulator traces any request that asks)"
                .into(),
        }
    }

    fn analytics_text(&self) -> String {
        let mut analytics = String::new();
        for row in self
            .rows
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
        let Some(l) = &self.last else {
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
        match &self.last {
            Some(l) => serde_json::to_string_pretty(&serde_json::json!({
                "target_cookie": l.target_cookie,
                "target_location_hint_cookie": l.target_location_hint_cookie,
                "sessionId": self.visitor.session_id,
                "tntId": self.visitor.tnt_id,
            }))
            .unwrap_or_default(),
            None => "(no cookies yet)".into(),
        }
    }

    fn ledger_text(&self) -> String {
        let mut ledger = String::new();
        for e in self.ledger.iter().rev() {
            let mark = if e.is_pending() { "…" } else { "✓" };
            ledger.push_str(&format!("{mark} {}\n", e.summary()));
        }
        if !self.findings.is_empty() {
            ledger.push_str("\nfindings\n");
            for f in &self.findings {
                ledger.push_str(&format!("  {}\n", f.line()));
            }
        }
        if ledger.is_empty() {
            ledger = "(no notification yet: d marks the selected option displayed, s sends)".into();
        }
        ledger
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
