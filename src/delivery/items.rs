//! Walking the decided items of a response (pageLoad, mboxes, views, page metrics) with
//! their locations: one walk for the TUI's rows and the ledger's response events.

use super::*;

/// Which mbox, view or pageLoad of a response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Item {
    ExecutePageLoad,
    ExecuteMbox(usize),
    PrefetchPageLoad,
    PrefetchMbox(usize),
    PrefetchView(usize),
    /// `prefetch.metrics`: page-level metrics.
    PrefetchPage,
}

/// An item's options, metrics and analytics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    pub options: Option<&'a Vec<TargetOption>>,
    pub metrics: Option<&'a Vec<Metric>>,
    pub analytics: Option<&'a AnalyticsResponse>,
}

impl Item {
    /// The mode the item was asked in.
    pub fn mode(self) -> Mode {
        match self {
            Item::ExecutePageLoad | Item::ExecuteMbox(_) => Mode::Execute,
            _ => Mode::Prefetch,
        }
    }

    /// The item's parts in `response` (none when it is not there).
    pub fn parts(self, response: &DeliveryResponse) -> Parts<'_> {
        let execute = response.execute.as_ref();
        let prefetch = response.prefetch.as_ref();
        match self {
            Item::ExecutePageLoad => execute.and_then(|e| e.page_load.as_ref()).map(page_parts),
            Item::ExecuteMbox(i) => execute
                .and_then(|e| e.mboxes.as_ref()?.get(i))
                .map(mbox_parts),
            Item::PrefetchPageLoad => prefetch.and_then(|p| p.page_load.as_ref()).map(page_parts),
            Item::PrefetchMbox(i) => prefetch
                .and_then(|p| p.mboxes.as_ref()?.get(i))
                .map(mbox_parts),
            Item::PrefetchView(i) => {
                prefetch
                    .and_then(|p| p.views.as_ref()?.get(i))
                    .map(|v| Parts {
                        options: v.options.as_ref(),
                        metrics: v.metrics.as_ref(),
                        analytics: v.analytics.as_ref(),
                    })
            }
            Item::PrefetchPage => prefetch.map(|p| Parts {
                metrics: p.metrics.as_ref(),
                ..Parts::default()
            }),
        }
        .unwrap_or_default()
    }
}

fn page_parts(p: &PageLoadResponse) -> Parts<'_> {
    Parts {
        options: p.options.as_ref(),
        metrics: p.metrics.as_ref(),
        analytics: p.analytics.as_ref(),
    }
}

fn mbox_parts(m: &MboxResponse) -> Parts<'_> {
    Parts {
        options: m.options.as_ref(),
        metrics: m.metrics.as_ref(),
        analytics: m.analytics.as_ref(),
    }
}

/// Every decided item of `response` with its location: execute's pageLoad and mboxes, then
/// prefetch's pageLoad, mboxes, views and page metrics (when there are any).
pub fn decided_items(response: &DeliveryResponse) -> Vec<(Item, Location)> {
    let mut items = Vec::new();
    let mbox = |m: &MboxResponse| Location::Mbox {
        name: m.name.clone().unwrap_or_default(),
        state: m.state.clone(),
    };
    if let Some(e) = &response.execute {
        if let Some(p) = &e.page_load {
            let state = p.state.clone();
            items.push((Item::ExecutePageLoad, Location::PageLoad { state }));
        }
        for (i, m) in e.mboxes.iter().flatten().enumerate() {
            items.push((Item::ExecuteMbox(i), mbox(m)));
        }
    }
    if let Some(p) = &response.prefetch {
        if let Some(pl) = &p.page_load {
            let state = pl.state.clone();
            items.push((Item::PrefetchPageLoad, Location::PageLoad { state }));
        }
        for (i, m) in p.mboxes.iter().flatten().enumerate() {
            items.push((Item::PrefetchMbox(i), mbox(m)));
        }
        for (i, v) in p.views.iter().flatten().enumerate() {
            let location = Location::View {
                name: v.name.clone().unwrap_or_default(),
                key: v.key.clone(),
                state: v.state.clone(),
            };
            items.push((Item::PrefetchView(i), location));
        }
        if p.metrics.as_ref().is_some_and(|m| !m.is_empty()) {
            items.push((Item::PrefetchPage, Location::Page));
        }
    }
    items
}
