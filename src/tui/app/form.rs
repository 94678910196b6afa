//! The request form: `+` adds a mbox (with parameters), a view or the page load to what `p`
//! asks for, `-` takes the selected location out. Both work on a request edited in `$EDITOR`
//! too.

use super::*;

impl App {
    /// The request form: `mbox NAME[:k=v,…]` adds (or replaces, with new parameters) a mbox,
    /// `view NAME` a view, `pageload` the page load.
    pub(super) fn add_location(&mut self, text: &str) {
        let (kind, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let rest = rest.trim();
        match kind {
            "mbox" => match rest.parse::<MboxSpec>() {
                Ok(spec) => {
                    let name = spec.name.clone();
                    if let Some(request) = self.custom_request.as_mut() {
                        add_mbox(request, &spec);
                    }
                    match self.spec.mboxes.iter_mut().find(|m| m.name == name) {
                        Some(existing) => *existing = spec,
                        None => self.spec.mboxes.push(spec),
                    }
                    self.set_status(format!("mbox {name} in the request: p prefetches"));
                }
                Err(e) => self.set_status(format!("mbox: {e}")),
            },
            "view" if !rest.is_empty() => {
                if let Some(request) = self.custom_request.as_mut() {
                    let views = request
                        .prefetch
                        .get_or_insert_with(Default::default)
                        .views
                        .get_or_insert_with(Vec::new);
                    if !views.iter().any(|v| v.name.as_deref() == Some(rest)) {
                        views.push(ViewRequest {
                            name: Some(rest.to_string()),
                            ..Default::default()
                        });
                    }
                }
                if !self.spec.views.iter().any(|v| v == rest) {
                    self.spec.views.push(rest.to_string());
                }
                self.set_status(format!("view {rest} in the request: p prefetches"));
            }
            "pageload" => {
                if let Some(request) = self.custom_request.as_mut() {
                    request
                        .prefetch
                        .get_or_insert_with(Default::default)
                        .page_load
                        .get_or_insert_with(Default::default);
                }
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
        let Some(location) = self.row().map(|r| (*r.location).clone()) else {
            return;
        };
        match &location {
            Location::Mbox { name, .. } => self.spec.mboxes.retain(|m| &m.name != name),
            Location::View { name, .. } => self.spec.views.retain(|v| v != name),
            Location::PageLoad { .. } => self.spec.page_load = false,
            Location::Page => return,
        }
        if let Some(request) = self.custom_request.as_mut() {
            remove_from(request, &location);
        }
        self.set_status(format!(
            "{} taken out of the request: p prefetches without it",
            location.label()
        ));
        self.refresh(&[TabId::Request]);
    }
}

/// Adds (or gives new parameters to) a mbox in an edited request's prefetch.
fn add_mbox(request: &mut DeliveryRequest, spec: &MboxSpec) {
    let mboxes = request
        .prefetch
        .get_or_insert_with(Default::default)
        .mboxes
        .get_or_insert_with(Vec::new);
    let parameters = (!spec.parameters.is_empty()).then(|| {
        spec.parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()
    });
    match mboxes
        .iter_mut()
        .find(|m| m.name.as_deref() == Some(spec.name.as_str()))
    {
        Some(existing) => existing.details.parameters = parameters,
        None => {
            let index = mboxes.iter().filter_map(|m| m.index).max().unwrap_or(0) + 1;
            mboxes.push(MboxRequest {
                index: Some(index),
                name: Some(spec.name.clone()),
                details: RequestDetails {
                    parameters,
                    ..Default::default()
                },
            });
        }
    }
}

/// Takes a location out of an edited request (prefetch and execute).
fn remove_from(request: &mut DeliveryRequest, location: &Location) {
    let keep = |m: &MboxRequest| !matches!(location, Location::Mbox { name, .. } if m.name.as_deref() == Some(name.as_str()));
    if let Some(p) = request.prefetch.as_mut() {
        if let Some(mboxes) = p.mboxes.as_mut() {
            mboxes.retain(keep);
        }
        if let (Some(views), Location::View { name, .. }) = (p.views.as_mut(), location) {
            views.retain(|v| v.name.as_deref() != Some(name.as_str()));
        }
        if matches!(location, Location::PageLoad { .. }) {
            p.page_load = None;
        }
    }
    if let Some(e) = request.execute.as_mut() {
        if let Some(mboxes) = e.mboxes.as_mut() {
            mboxes.retain(keep);
        }
        if matches!(location, Location::PageLoad { .. }) {
            e.page_load = None;
        }
    }
}
