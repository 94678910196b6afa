//! The request form: `+` adds a mbox (with parameters), a view or the page load to what `p`
//! asks for, `-` takes the selected location out.

use super::*;

impl App {
    /// The request form: `mbox NAME[:k=v,…]` adds (or replaces, with new parameters) a mbox,
    /// `view NAME` a view, `pageload` the page load.
    pub(super) fn add_location(&mut self, text: &str) {
        if self.custom_request.is_some() {
            self.set_status("the request was edited in $EDITOR: e edits it again");
            return;
        }
        let (kind, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let rest = rest.trim();
        match kind {
            "mbox" => match rest.parse::<MboxSpec>() {
                Ok(spec) => {
                    let name = spec.name.clone();
                    match self.spec.mboxes.iter_mut().find(|m| m.name == name) {
                        Some(existing) => *existing = spec,
                        None => self.spec.mboxes.push(spec),
                    }
                    self.set_status(format!("mbox {name} in the request: p prefetches"));
                }
                Err(e) => self.set_status(format!("mbox: {e}")),
            },
            "view" if !rest.is_empty() => {
                if !self.spec.views.iter().any(|v| v == rest) {
                    self.spec.views.push(rest.to_string());
                }
                self.set_status(format!("view {rest} in the request: p prefetches"));
            }
            "pageload" => {
                self.spec.page_load = true;
                self.set_status("page load in the request: p prefetches");
            }
            _ => {
                self.set_status("add: mbox NAME[:k=v,…] | view NAME | pageload");
                return;
            }
        }
        self.refresh(&[TabId::Request]);
    }

    /// Takes the selected row's mbox, view or page load out of the request.
    pub(super) fn remove_location(&mut self) {
        if self.custom_request.is_some() {
            self.set_status("the request was edited in $EDITOR: e edits it again");
            return;
        }
        let Some(location) = self.row().map(|r| (*r.location).clone()) else {
            return;
        };
        match &location {
            Location::Mbox { name, .. } => self.spec.mboxes.retain(|m| &m.name != name),
            Location::View { name, .. } => self.spec.views.retain(|v| v != name),
            Location::PageLoad { .. } => self.spec.page_load = false,
            Location::Page => return,
        }
        self.set_status(format!(
            "{} taken out of the request: p prefetches without it",
            location.label()
        ));
        self.refresh(&[TabId::Request]);
    }
}
