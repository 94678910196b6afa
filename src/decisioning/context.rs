//! The variables rules are evaluated against: time, user, page, referring, geo, mbox, allocation.

use super::browser;
use super::jsonlogic::{js_number, walk, Variables};
use super::page::url_context;
use crate::delivery::{Address, DeliveryRequest, Geo, Parameters};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The request-wide part of the context, built once per request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// `current_timestamp`, `current_time`, `current_day`, `user`, `page`, `referring`, `geo`.
    pub base: Value,
}

/// Milliseconds since the epoch to (`current_time` "HHmm" UTC, `current_day` 1=Mon…7=Sun).
pub fn time_of(now_ms: i64) -> (String, i64) {
    let secs = now_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday; 0 = Sunday
    (
        format!("{:02}{:02}", of_day / 3600, (of_day % 3600) / 60),
        if weekday == 0 { 7 } else { weekday },
    )
}

impl RequestContext {
    /// Builds the context of `request` at `now_ms`, with `geo` as the resolved geo (if any).
    pub fn new(request: &DeliveryRequest, now_ms: i64, geo: Option<&Geo>) -> RequestContext {
        let context = request.context.as_ref();
        let user_agent = context.and_then(|c| c.user_agent.as_deref()).unwrap_or("");
        let hints = context.and_then(|c| c.client_hints.as_ref());
        let browser = browser::browser(user_agent, hints);
        let address = context.and_then(|c| c.address.as_ref());
        let (current_time, current_day) = time_of(now_ms);
        let mut user = Map::new();
        user.insert(
            "browserType".into(),
            Value::String(browser.name.to_lowercase()),
        );
        user.insert(
            "platform".into(),
            Value::String(browser::platform(user_agent, hints)),
        );
        user.insert("locale".into(), Value::String("en".into()));
        user.insert("browserVersion".into(), Value::from(browser.version));
        let mut base = Map::new();
        base.insert("current_timestamp".into(), Value::from(now_ms));
        base.insert("current_time".into(), Value::String(current_time));
        base.insert("current_day".into(), Value::from(current_day));
        base.insert("user".into(), Value::Object(user));
        base.insert("page".into(), page_context(address));
        base.insert(
            "referring".into(),
            url_context(
                address
                    .and_then(|a| a.referring_url.as_deref())
                    .unwrap_or(""),
            ),
        );
        base.insert("geo".into(), geo_context(geo));
        RequestContext {
            base: Value::Object(base),
        }
    }
}

/// `page.*` for an address.
pub fn page_context(address: Option<&Address>) -> Value {
    url_context(address.and_then(|a| a.url.as_deref()).unwrap_or(""))
}

/// `geo.*` from a resolved geo (absent fields left out).
pub fn geo_context(geo: Option<&Geo>) -> Value {
    let mut map = Map::new();
    if let Some(g) = geo {
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                map.insert(k.to_string(), v);
            }
        };
        put("country", g.country_code.clone().map(Value::String));
        put("region", g.state_code.clone().map(Value::String));
        put("city", g.city.clone().map(Value::String));
        put("latitude", g.latitude.clone().map(Value::Number));
        put("longitude", g.longitude.clone().map(Value::Number));
    }
    Value::Object(map)
}

/// `mbox.*`: the parameters with dotted names unflattened, and `_lc` copies of string values.
pub fn mbox_context(parameters: Option<&Parameters>) -> Value {
    let mut root = Map::new();
    for (key, value) in parameters.into_iter().flatten() {
        if is_expandable(key) {
            let parts: Vec<&str> = key.split('.').collect();
            let mut node = &mut root;
            for part in &parts[..parts.len() - 1] {
                let entry = node
                    .entry(part.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                node = entry.as_object_mut().expect("just made an object");
            }
            node.insert(parts[parts.len() - 1].to_string(), value.clone());
        } else {
            root.insert(key.clone(), value.clone());
        }
    }
    with_lowercase_copies(Value::Object(root))
}

fn is_expandable(key: &str) -> bool {
    key.contains('.') && !key.contains("..") && !key.starts_with('.') && !key.ends_with('.')
}

fn with_lowercase_copies(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len() * 2);
            for (k, v) in map {
                match v {
                    Value::String(s) => {
                        out.insert(format!("{k}_lc"), Value::String(s.to_lowercase()));
                        out.insert(k, Value::String(s));
                    }
                    Value::Object(_) => {
                        out.insert(k, with_lowercase_copies(v));
                    }
                    other => {
                        out.insert(k, other);
                    }
                }
            }
            Value::Object(out)
        }
        other => other,
    }
}

/// The variables of one rule evaluation: the request context, the mbox or view's own page
/// (when it has an address), its parameters and the visitor's allocation in the activity.
pub struct RuleVariables<'a> {
    pub base: &'a Value,
    pub page: Option<&'a Value>,
    pub mbox: &'a Value,
    pub allocation: f64,
}

impl Variables for RuleVariables<'_> {
    fn lookup(&self, path: &[String]) -> Option<Cow<'_, Value>> {
        let (first, rest) = path.split_first()?;
        match first.as_str() {
            "allocation" if rest.is_empty() => Some(Cow::Owned(js_number(self.allocation))),
            "mbox" => walk(self.mbox, rest).map(Cow::Borrowed),
            // Adobe's engines recompute both page and referring from the mbox's own address.
            "page" | "referring" if self.page.is_some() => {
                walk(self.page?, rest).map(Cow::Borrowed)
            }
            _ => walk(self.base, path).map(Cow::Borrowed),
        }
    }
}

impl RuleVariables<'_> {
    /// The whole context as one JSON object (for traces).
    pub fn to_json(&self) -> Value {
        let mut map = self.base.as_object().cloned().unwrap_or_default();
        if let Some(page) = self.page {
            map.insert("page".into(), page.clone());
            map.insert("referring".into(), page.clone());
        }
        map.insert("mbox".into(), self.mbox.clone());
        map.insert("allocation".into(), js_number(self.allocation));
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_variables_are_utc() {
        // 2021-02-19T19:00:00Z was a Friday.
        assert_eq!(time_of(1_613_761_200_000), ("1900".to_string(), 5));
        // 1970-01-04 was a Sunday.
        assert_eq!(time_of(3 * 86_400_000 + 60_000), ("0001".to_string(), 7));
    }

    #[test]
    fn mbox_parameters_are_unflattened_with_lowercase_copies() {
        let params: Parameters =
            serde_json::from_value(json!({"favorite.color": "Red", "n": 3, "a..b": "X"})).unwrap();
        let ctx = mbox_context(Some(&params));
        assert_eq!(ctx["favorite"]["color"], "Red");
        assert_eq!(ctx["favorite"]["color_lc"], "red");
        assert_eq!(ctx["n"], 3);
        assert_eq!(ctx["a..b_lc"], "x");
    }
}
