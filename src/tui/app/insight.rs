//! Decision insight in the detail pane: why the selected location got what it got (`w`, from
//! the target's rules artifact, beside the server's trace when there is one) and the split of
//! its activity over simulated visitors (`%`).

use super::*;
use crate::decisioning::explain::{explain, LocationExplanation};
use crate::decisioning::{Artifact, DecideOptions};
use crate::simulate::Simulation;

/// What the detail pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetailView {
    /// The selected row (option, metric, location).
    #[default]
    Row,
    /// Why the selected location got what it got.
    Why,
    /// The split of the selected location's activities over simulated visitors.
    Split,
}

/// How many visitors the Split view simulates.
pub const SPLIT_VISITORS: u64 = 20_000;

/// What the insight views need: the rules and what was computed from them.
#[derive(Debug, Default)]
pub struct Insight {
    /// The target's rules artifact, when it is known (the built-in emulator's, a
    /// `mboxscope serve`'s `GET /rules.json`, or Adobe's published one fetched on demand).
    pub rules: Option<Arc<Artifact>>,
    /// The explanation of the selected location (computed on `w`).
    pub why: Option<LocationExplanation>,
    /// The simulated split of the selected location, with its label.
    pub split: Option<(String, Simulation)>,
}

impl App {
    /// The decision options the explanation and the simulation use: the target's client,
    /// the clock in effect, the visitor's session.
    fn decide_options(&self, rules: &Artifact) -> DecideOptions {
        let now_ms = self
            .overrides
            .clock
            .or(self.emulator_now)
            .unwrap_or_else(crate::clock::now_ms);
        DecideOptions {
            session_id: Some(self.visitor.session_id.clone()),
            ..DecideOptions::sdk(rules.client_code().unwrap_or_default(), now_ms)
        }
    }

    /// The request the selected row's answer came from, as the server decided it: with the
    /// visitor id the answer gave when the request named none (a first visit), since the
    /// allocation hashes it; and the row.
    fn explained(&self) -> Option<(DeliveryRequest, &Row)> {
        let last = self.last.as_ref()?;
        let mut request = (*last.request).clone();
        if request.id.is_none() {
            request.id = last.response.id.clone();
        }
        Some((request, self.row()?))
    }

    /// `w`: why the selected location got what it got; again: back to the row.
    pub(super) fn toggle_why(&mut self) -> Vec<Effect> {
        if self.detail_view == DetailView::Why {
            self.detail_view = DetailView::Row;
            return Vec::new();
        }
        let Some(rules) = self.insight.rules.clone() else {
            return self.ask_for_rules();
        };
        let Some((request, row)) = self.explained() else {
            self.set_status("nothing to explain yet: p prefetches");
            return Vec::new();
        };
        let explanation = explain(&rules, &request, &self.decide_options(&rules));
        let wanted = location_key(row);
        match explanation.locations.into_iter().find(|l| {
            // The page load is named by the global mbox; a request for every view, "".
            let name_fits = match l.kind {
                "pageLoad" => true,
                "view" => l.name.is_empty() || l.name == wanted.2,
                _ => l.name == wanted.2,
            };
            (l.mode, l.kind) == (wanted.0, wanted.1) && name_fits
        }) {
            Some(location) => {
                self.insight.why = Some(location);
                self.detail_view = DetailView::Why;
                self.detail_scroll = 0;
                self.set_status(
                    "why: every rule considered, each condition with what it read (w: back)",
                );
            }
            None => self.set_status(format!(
                "the rules have nothing for {} (w explains mboxes, views and the page load)",
                row.location.label()
            )),
        }
        Vec::new()
    }

    /// `%`: the split of the selected location over simulated visitors (a background task).
    pub(super) fn show_split(&mut self) -> Vec<Effect> {
        if self.detail_view == DetailView::Split {
            self.detail_view = DetailView::Row;
            return Vec::new();
        }
        let Some(rules) = self.insight.rules.clone() else {
            return self.ask_for_rules();
        };
        let Some((request, row)) = self.explained() else {
            self.set_status("nothing to simulate yet: p prefetches");
            return Vec::new();
        };
        let label = row.location.label();
        let request = only_location(&request, &row.location);
        let options = self.decide_options(&rules);
        self.detail_view = DetailView::Split;
        self.detail_scroll = 0;
        self.set_status(format!("simulating {SPLIT_VISITORS} visitors for {label}…"));
        vec![Effect::Simulate(Box::new(SimulateJob {
            rules,
            request,
            options,
            label,
        }))]
    }

    /// Without rules: Adobe's published artifact for a real Target client (fetched now, on
    /// the operator's word), else a reason.
    fn ask_for_rules(&mut self) -> Vec<Effect> {
        match self.published_rules.clone() {
            Some(url) => {
                self.set_status(format!(
                    "fetching the rules artifact Adobe publishes: {url}"
                ));
                vec![Effect::LoadRules(url)]
            }
            None => {
                self.set_status("no rules artifact for this target: w and % need the built-in emulator, a mboxscope serve, or a Target client code");
                Vec::new()
            }
        }
    }
}

/// A simulation to run off the event loop.
#[derive(Debug, Clone)]
pub struct SimulateJob {
    pub rules: Arc<Artifact>,
    pub request: DeliveryRequest,
    pub options: DecideOptions,
    pub label: String,
}

impl PartialEq for SimulateJob {
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label && Arc::ptr_eq(&self.rules, &other.rules)
    }
}

impl SimulateJob {
    /// Runs it (CPU-bound: on every core).
    pub fn run(&self) -> Result<Simulation, String> {
        crate::simulate::split_for(&self.rules, &self.request, &self.options, SPLIT_VISITORS)
            .map_err(|e| e.to_string())
    }
}

/// `(mode, kind, name)` as the explanation names a row's location.
fn location_key(row: &Row) -> (&'static str, &'static str, String) {
    let mode = if row.mode == Mode::Execute {
        "execute"
    } else {
        "prefetch"
    };
    match &*row.location {
        Location::Mbox { name, .. } => (mode, "mbox", name.clone()),
        Location::View { name, .. } => (mode, "view", name.clone()),
        Location::PageLoad { .. } | Location::Page => (mode, "pageLoad", String::new()),
    }
}

/// `request` asking for `location` only (so the simulation decides nothing else).
fn only_location(request: &DeliveryRequest, location: &Location) -> DeliveryRequest {
    let mut request = request.clone();
    let keep_mbox = |m: &MboxRequest| matches!(location, Location::Mbox { name, .. } if m.name.as_deref() == Some(name.as_str()));
    let page_load = matches!(location, Location::PageLoad { .. } | Location::Page);
    if let Some(p) = request.prefetch.as_mut() {
        if let Some(mboxes) = p.mboxes.as_mut() {
            mboxes.retain(keep_mbox);
        }
        if let Some(views) = p.views.as_mut() {
            views.retain(|v| matches!(location, Location::View { name, .. } if v.name.as_deref() == Some(name.as_str())));
        }
        if !page_load {
            p.page_load = None;
        }
    }
    if let Some(e) = request.execute.as_mut() {
        if let Some(mboxes) = e.mboxes.as_mut() {
            mboxes.retain(keep_mbox);
        }
        if !page_load {
            e.page_load = None;
        }
    }
    request
}
