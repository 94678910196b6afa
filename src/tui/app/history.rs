//! The History pane (every exchange of the session), the exchange the tabs show, and the
//! diff baseline.

use super::*;

impl App {
    /// The exchange the tabs show: the one selected in History, else the latest prefetch or
    /// execute.
    pub fn shown_exchange(&self) -> Option<&Exchange> {
        self.shown_shared().map(|e| &**e)
    }

    /// [`App::shown_exchange`], shared.
    fn shown_shared(&self) -> Option<&Arc<Exchange>> {
        match self.pane {
            Pane::History => self.history.get(self.history_selected),
            Pane::Locations => self
                .history
                .iter()
                .rev()
                .find(|e| matches!(e.kind, ExchangeKind::Call(_)) && e.outcome.is_ok()),
        }
    }

    /// The answer the tabs show.
    pub fn shown_response(&self) -> Option<&TargetResponse> {
        match self.pane {
            Pane::History => self.shown_exchange()?.response(),
            Pane::Locations => self.last.as_deref(),
        }
    }

    /// Keeps a finished exchange; in History the newest is selected as it arrives.
    pub(super) fn add_exchange(&mut self, exchange: Arc<Exchange>) {
        let follow = self.history_selected + 1 >= self.history.len();
        self.history.push(exchange);
        if self.pane == Pane::History && follow {
            self.history_selected = self.history.len() - 1;
            self.detail_scroll = 0;
            self.refresh(&TabId::OF_EXCHANGE);
        }
    }

    /// `H`: the left pane lists the locations or every exchange.
    pub(super) fn toggle_pane(&mut self) {
        self.pane = match self.pane {
            Pane::Locations => {
                self.history_selected = self.history.len().saturating_sub(1);
                Pane::History
            }
            Pane::History => Pane::Locations,
        };
        // The tabs may show another exchange now: from their top.
        self.detail_scroll = 0;
        self.scroll = 0;
        self.hscroll = 0;
        self.refresh(&TabId::OF_EXCHANGE);
        self.set_status(match self.pane {
            Pane::History => {
                "History: ↑↓ pick an exchange, the tabs show it (H: back to Locations)"
            }
            Pane::Locations => "Locations of the latest answer (H: History)",
        });
    }

    /// `m`: the exchange shown becomes the Diff tab's baseline.
    pub(super) fn mark_baseline(&mut self) {
        match self.shown_shared().cloned() {
            Some(exchange) => {
                let title = exchange.title();
                self.baseline = Some(exchange);
                self.refresh(&[TabId::Diff]);
                self.set_status(format!(
                    "baseline: {title} (show another exchange, or v then p; D diffs)"
                ));
            }
            None => self.set_status("nothing to mark: p prefetches first"),
        }
    }

    /// Shows `tab` from its top.
    pub(super) fn show_tab(&mut self, tab: TabId) {
        self.tab = tab;
        self.scroll = 0;
        self.hscroll = 0;
    }

    /// The first line of the tab's body: the Response tab's first line is a status line, not
    /// JSON, and is never copied.
    pub(super) fn body_start(&self) -> usize {
        let text = self.tab_text(self.tab);
        usize::from(
            self.tab == TabId::Response && text.len() > 1 && text.line(0).starts_with("HTTP "),
        )
    }
}
