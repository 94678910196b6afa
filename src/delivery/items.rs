//! Walking the decided items of a response (pageLoad, mboxes, views, page metrics): one walk
//! for the TUI's rows, the ledger's response events and the SDK-style views.

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

/// What kind of place an item (or a decision) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    PageLoad,
    Mbox,
    View,
    /// Page-level metrics (`prefetch.metrics`).
    Page,
}

/// An item's options, metrics, analytics and trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    pub options: Option<&'a Vec<TargetOption>>,
    pub metrics: Option<&'a Vec<Metric>>,
    pub analytics: Option<&'a AnalyticsResponse>,
    pub trace: Option<&'a Trace>,
}

/// An item's parts that an answer's finishing touches change, with its name and index.
pub struct PartsMut<'a> {
    pub name: Option<&'a str>,
    pub index: Option<i64>,
    pub options: &'a mut Option<Vec<TargetOption>>,
    pub metrics: &'a mut Option<Vec<Metric>>,
    pub analytics: &'a mut Option<AnalyticsResponse>,
    pub trace: &'a mut Option<Trace>,
    /// `None` for items that have no state (page metrics).
    pub state: Option<&'a mut Option<String>>,
}

/// The object an item names in a response.
enum Object<'a> {
    PageLoad(&'a PageLoadResponse),
    Mbox(&'a MboxResponse),
    View(&'a ViewResponse),
    Page(&'a PrefetchResponse),
}

impl Item {
    /// The mode the item was asked in.
    pub fn mode(self) -> Mode {
        match self {
            Item::ExecutePageLoad | Item::ExecuteMbox(_) => Mode::Execute,
            _ => Mode::Prefetch,
        }
    }

    fn object(self, response: &DeliveryResponse) -> Option<Object<'_>> {
        let execute = response.execute.as_ref();
        let prefetch = response.prefetch.as_ref();
        match self {
            Item::ExecutePageLoad => execute?.page_load.as_ref().map(Object::PageLoad),
            Item::ExecuteMbox(i) => execute?.mboxes.as_ref()?.get(i).map(Object::Mbox),
            Item::PrefetchPageLoad => prefetch?.page_load.as_ref().map(Object::PageLoad),
            Item::PrefetchMbox(i) => prefetch?.mboxes.as_ref()?.get(i).map(Object::Mbox),
            Item::PrefetchView(i) => prefetch?.views.as_ref()?.get(i).map(Object::View),
            Item::PrefetchPage => prefetch.map(Object::Page),
        }
    }

    /// The item's parts in `response` (none when it is not there).
    pub fn parts(self, response: &DeliveryResponse) -> Parts<'_> {
        match self.object(response) {
            Some(Object::PageLoad(p)) => Parts {
                options: p.options.as_ref(),
                metrics: p.metrics.as_ref(),
                analytics: p.analytics.as_ref(),
                trace: p.trace.as_ref(),
            },
            Some(Object::Mbox(m)) => Parts {
                options: m.options.as_ref(),
                metrics: m.metrics.as_ref(),
                analytics: m.analytics.as_ref(),
                trace: m.trace.as_ref(),
            },
            Some(Object::View(v)) => Parts {
                options: v.options.as_ref(),
                metrics: v.metrics.as_ref(),
                analytics: v.analytics.as_ref(),
                trace: v.trace.as_ref(),
            },
            Some(Object::Page(p)) => Parts {
                metrics: p.metrics.as_ref(),
                ..Parts::default()
            },
            None => Parts::default(),
        }
    }

    /// The item's changeable parts in `response` (none when it is not there, or for page
    /// metrics, which have nothing to finish).
    pub fn parts_mut(self, response: &mut DeliveryResponse) -> Option<PartsMut<'_>> {
        let execute = response.execute.as_mut();
        let prefetch = response.prefetch.as_mut();
        fn page_load(p: &mut PageLoadResponse) -> PartsMut<'_> {
            PartsMut {
                name: None,
                index: None,
                options: &mut p.options,
                metrics: &mut p.metrics,
                analytics: &mut p.analytics,
                trace: &mut p.trace,
                state: Some(&mut p.state),
            }
        }
        fn mbox(m: &mut MboxResponse) -> PartsMut<'_> {
            PartsMut {
                name: m.name.as_deref(),
                index: m.index,
                options: &mut m.options,
                metrics: &mut m.metrics,
                analytics: &mut m.analytics,
                trace: &mut m.trace,
                state: Some(&mut m.state),
            }
        }
        match self {
            Item::ExecutePageLoad => execute?.page_load.as_mut().map(page_load),
            Item::ExecuteMbox(i) => execute?.mboxes.as_mut()?.get_mut(i).map(mbox),
            Item::PrefetchPageLoad => prefetch?.page_load.as_mut().map(page_load),
            Item::PrefetchMbox(i) => prefetch?.mboxes.as_mut()?.get_mut(i).map(mbox),
            Item::PrefetchView(i) => prefetch?.views.as_mut()?.get_mut(i).map(|v| PartsMut {
                name: v.name.as_deref(),
                index: None,
                options: &mut v.options,
                metrics: &mut v.metrics,
                analytics: &mut v.analytics,
                trace: &mut v.trace,
                state: Some(&mut v.state),
            }),
            Item::PrefetchPage => None,
        }
    }

    /// What kind of place the item is.
    pub fn kind(self) -> ItemKind {
        match self {
            Item::ExecutePageLoad | Item::PrefetchPageLoad => ItemKind::PageLoad,
            Item::ExecuteMbox(_) | Item::PrefetchMbox(_) => ItemKind::Mbox,
            Item::PrefetchView(_) => ItemKind::View,
            Item::PrefetchPage => ItemKind::Page,
        }
    }

    /// Where the item is, as notifications name it (with its prefetch state).
    pub fn location(self, response: &DeliveryResponse) -> Location {
        match self.object(response) {
            Some(Object::PageLoad(p)) => Location::PageLoad {
                state: p.state.clone(),
            },
            Some(Object::Mbox(m)) => Location::Mbox {
                name: m.name.clone().unwrap_or_default(),
                state: m.state.clone(),
            },
            Some(Object::View(v)) => Location::View {
                name: v.name.clone().unwrap_or_default(),
                key: v.key.clone(),
                state: v.state.clone(),
            },
            Some(Object::Page(_)) | None => Location::Page,
        }
    }
}

/// Every decided item of `response`: execute's pageLoad and mboxes, then prefetch's
/// pageLoad, mboxes, views and page metrics (when there are any).
pub fn decided_items(response: &DeliveryResponse) -> Vec<Item> {
    let mut items = Vec::new();
    if let Some(e) = &response.execute {
        items.extend(e.page_load.as_ref().map(|_| Item::ExecutePageLoad));
        items.extend((0..e.mboxes.as_ref().map_or(0, Vec::len)).map(Item::ExecuteMbox));
    }
    if let Some(p) = &response.prefetch {
        items.extend(p.page_load.as_ref().map(|_| Item::PrefetchPageLoad));
        items.extend((0..p.mboxes.as_ref().map_or(0, Vec::len)).map(Item::PrefetchMbox));
        items.extend((0..p.views.as_ref().map_or(0, Vec::len)).map(Item::PrefetchView));
        if p.metrics.as_ref().is_some_and(|m| !m.is_empty()) {
            items.push(Item::PrefetchPage);
        }
    }
    items
}
