//! The views of a response that Adobe's SDKs return beside it: analytics details, traces,
//! response tokens and meta, each collected in the SDKs' walk order (execute.pageLoad,
//! execute.mboxes, prefetch.pageLoad, prefetch.views, prefetch.mboxes).

use crate::delivery::{AnalyticsResponse, DeliveryResponse, Item, Parts, Prepared};
use serde::Serialize;
use serde_json::{Map, Value};

/// `meta` of the SDKs' result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Meta {
    pub decisioning_method: String,
    pub remote_mboxes: Vec<String>,
    pub remote_views: Vec<String>,
}

/// The parts of every item in the SDKs' order: execute's pageLoad and mboxes, then
/// prefetch's pageLoad, views (before mboxes, unlike
/// [`decided_items`](crate::delivery::decided_items)), mboxes and page
/// metrics.
fn walk(response: &DeliveryResponse) -> impl Iterator<Item = Parts<'_>> {
    let execute = response.execute.as_ref();
    let prefetch = response.prefetch.as_ref();
    let count = |list: Option<usize>| 0..list.unwrap_or(0);
    let execute_page = execute.and_then(|e| e.page_load.as_ref().map(|_| Item::ExecutePageLoad));
    let execute_mboxes = count(execute.and_then(|e| e.mboxes.as_ref().map(Vec::len)));
    let prefetch_page = prefetch.and_then(|p| p.page_load.as_ref().map(|_| Item::PrefetchPageLoad));
    let views = count(prefetch.and_then(|p| p.views.as_ref().map(Vec::len)));
    let mboxes = count(prefetch.and_then(|p| p.mboxes.as_ref().map(Vec::len)));
    let page_metrics = prefetch
        .filter(|p| p.metrics.as_ref().is_some_and(|m| !m.is_empty()))
        .map(|_| Item::PrefetchPage);
    execute_page
        .into_iter()
        .chain(execute_mboxes.map(Item::ExecuteMbox))
        .chain(prefetch_page)
        .chain(views.map(Item::PrefetchView))
        .chain(mboxes.map(Item::PrefetchMbox))
        .chain(page_metrics)
        .map(move |item| item.parts(response))
}

/// Every `analytics` object, in walk order.
pub fn analytics_details(response: &DeliveryResponse) -> Vec<&AnalyticsResponse> {
    walk(response).filter_map(|i| i.analytics).collect()
}

/// Every `trace` object, in walk order.
pub fn traces(response: &DeliveryResponse) -> Vec<&Value> {
    walk(response).filter_map(|i| i.trace).collect()
}

/// Every option's `responseTokens`, in walk order (each parsed when first read).
pub fn response_tokens(response: &DeliveryResponse) -> Vec<&Prepared<Map<String, Value>>> {
    all_response_tokens(response).collect()
}

fn all_response_tokens(
    response: &DeliveryResponse,
) -> impl Iterator<Item = &Prepared<Map<String, Value>>> {
    walk(response)
        .flat_map(|i| i.options.into_iter().flatten())
        .filter_map(|o| o.response_tokens.as_ref())
}

/// `meta`: how the response was decided and what needed the edge.
pub fn meta(response: &DeliveryResponse) -> Meta {
    let names = |key: &str| -> Vec<String> {
        response
            .extra
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let on_device = all_response_tokens(response)
        .any(|t| t.field_is("activity.decisioningMethod", "on-device"));
    Meta {
        decisioning_method: if on_device {
            "on-device"
        } else {
            "server-side"
        }
        .into(),
        remote_mboxes: names("remoteMboxes"),
        remote_views: names("remoteViews"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_sdk_order() {
        let response: DeliveryResponse = serde_json::from_value(serde_json::json!({
            "prefetch": {
                "mboxes": [{"name": "m", "options": [{"responseTokens": {"k": "m"}}], "analytics": {"payload": {"tnta": "3"}}}],
                "views": [{"name": "v", "options": [{"responseTokens": {"k": "v"}}], "trace": {"t": "v"}}],
                "pageLoad": {"options": [{"responseTokens": {"k": "p"}}], "analytics": {"payload": {"tnta": "2"}}}
            },
            "execute": {"mboxes": [{"name": "e", "options": [{"responseTokens": {"k": "e"}}], "analytics": {"payload": {"tnta": "1"}},
                "metrics": [{"type": "click", "analytics": {"payload": {"tnta": "metric"}}}]}]}
        }))
        .unwrap();
        let tnta: Vec<&str> = analytics_details(&response)
            .into_iter()
            .filter_map(|a| a.payload.as_ref()?.tnta.as_deref())
            .collect();
        assert_eq!(
            tnta,
            vec!["1", "2", "3"],
            "metrics' analytics are not in the walk"
        );
        let keys: Vec<Value> = response_tokens(&response)
            .into_iter()
            .map(|t| t["k"].clone())
            .collect();
        assert_eq!(keys, vec!["e", "p", "v", "m"]);
        assert_eq!(traces(&response), vec![&serde_json::json!({"t": "v"})]);
        assert_eq!(meta(&response).decisioning_method, "server-side");
    }

    #[test]
    fn meta_says_on_device_when_an_option_was_decided_there() {
        let response = |method: &str| -> DeliveryResponse {
            serde_json::from_value(
                serde_json::json!({"execute": {"mboxes": [{"name": "m", "options": [
                    {"responseTokens": {"activity.decisioningMethod": "server-side"}},
                    {"responseTokens": {"activity.id": 1, "activity.decisioningMethod": method}}
                ]}]}}),
            )
            .unwrap()
        };
        assert_eq!(meta(&response("on-device")).decisioning_method, "on-device");
        assert_eq!(meta(&response("hybrid")).decisioning_method, "server-side");
        let on_device = response("on-device");
        let tokens = response_tokens(&on_device);
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[1]["activity.id"], 1);
    }
}
