//! The variables rules are evaluated against: time, user, page, referring, geo, mbox, allocation.

use super::browser;
use super::jsonlogic::{js_number, walk, Memo, Variables};
use super::page::url_context;
use crate::delivery::{Address, ClientHints, DeliveryRequest, Geo, Parameters};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

/// The request-wide part of the context, built once per request. User agents and addresses
/// repeat across requests, so their parsed forms are shared from a per-thread cache.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub now_ms: i64,
    pub current_time: Value,
    pub current_day: Value,
    pub user: Arc<Value>,
    pub page: Arc<Value>,
    pub referring: Arc<Value>,
    pub geo: Value,
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

/// Most entries each per-thread cache keeps before it starts over.
const CACHE_LIMIT: usize = 4096;

thread_local! {
    static URLS: Cache = RefCell::new(foldhash::HashMap::default());
    static USERS: Cache = RefCell::new(foldhash::HashMap::default());
}

/// Keyed by whole user agents and URLs, hashed on every request: a fast hasher (the keys come
/// from requests, but an entry is only a cached parse and the cache starts over when full).
type Cache = RefCell<foldhash::HashMap<String, Arc<Value>>>;

fn cached(
    cache: &'static std::thread::LocalKey<Cache>,
    key: &str,
    build: impl FnOnce() -> Value,
) -> Arc<Value> {
    if let Some(hit) = cache.with(|c| c.borrow().get(key).cloned()) {
        return hit;
    }
    let value = Arc::new(build());
    cache.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(key.to_string(), value.clone());
    });
    value
}

/// `page.*`/`referring.*` for a URL, shared.
pub fn shared_url_context(url: &str) -> Arc<Value> {
    cached(&URLS, url, || url_context(url))
}

fn user_context(user_agent: &str, hints: Option<&ClientHints>) -> Arc<Value> {
    let build = || {
        let browser = browser::browser(user_agent, hints);
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
        Value::Object(user)
    };
    match hints {
        // Client hints are rare; they are not worth a cache key.
        Some(_) => Arc::new(build()),
        None => cached(&USERS, user_agent, build),
    }
}

impl RequestContext {
    /// Builds the context of `request` at `now_ms`, with `geo` as the resolved geo (if any).
    pub fn new(request: &DeliveryRequest, now_ms: i64, geo: Option<&Geo>) -> RequestContext {
        let context = request.context.as_ref();
        let user_agent = context.and_then(|c| c.user_agent.as_deref()).unwrap_or("");
        let hints = context.and_then(|c| c.client_hints.as_ref());
        let address = context.and_then(|c| c.address.as_ref());
        let (current_time, current_day) = time_of(now_ms);
        RequestContext {
            now_ms,
            current_time: Value::String(current_time),
            current_day: Value::from(current_day),
            user: user_context(user_agent, hints),
            page: shared_url_context(address.and_then(|a| a.url.as_deref()).unwrap_or("")),
            referring: shared_url_context(
                address
                    .and_then(|a| a.referring_url.as_deref())
                    .unwrap_or(""),
            ),
            geo: geo_context(geo),
        }
    }
}

/// `page.*` for an address.
pub fn page_context(address: Option<&Address>) -> Arc<Value> {
    shared_url_context(address.and_then(|a| a.url.as_deref()).unwrap_or(""))
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
    pub context: &'a RequestContext,
    pub page: Option<&'a Value>,
    pub mbox: &'a Value,
    pub allocation: f64,
    /// Results of the shared sub-conditions already tested for this location.
    pub memo: &'a Memo,
}

impl Variables for RuleVariables<'_> {
    fn lookup(&self, path: &[String]) -> Option<Cow<'_, Value>> {
        let (first, rest) = path.split_first()?;
        let c = self.context;
        let root: &Value = match first.as_str() {
            "allocation" if rest.is_empty() => return Some(Cow::Owned(js_number(self.allocation))),
            "current_timestamp" if rest.is_empty() => {
                return Some(Cow::Owned(Value::from(c.now_ms)))
            }
            "current_time" => &c.current_time,
            "current_day" => &c.current_day,
            "mbox" => self.mbox,
            // Adobe's engines recompute both page and referring from the mbox's own address.
            "page" => self.page.unwrap_or(&c.page),
            "referring" => self.page.unwrap_or(&c.referring),
            "user" => &c.user,
            "geo" => &c.geo,
            _ => return None,
        };
        walk(root, rest).map(Cow::Borrowed)
    }

    fn recall(&self, slot: u32) -> Option<bool> {
        self.memo.get(slot)
    }

    fn remember(&self, slot: u32, satisfied: bool) {
        self.memo.set(slot, satisfied);
    }
}

impl RuleVariables<'_> {
    /// The whole context as one JSON object (for traces).
    pub fn to_json(&self) -> Value {
        let c = self.context;
        let mut map = Map::new();
        map.insert("current_timestamp".into(), Value::from(c.now_ms));
        map.insert("current_time".into(), c.current_time.clone());
        map.insert("current_day".into(), c.current_day.clone());
        map.insert("user".into(), (*c.user).clone());
        map.insert(
            "page".into(),
            self.page.cloned().unwrap_or_else(|| (*c.page).clone()),
        );
        map.insert(
            "referring".into(),
            self.page.cloned().unwrap_or_else(|| (*c.referring).clone()),
        );
        map.insert("geo".into(), c.geo.clone());
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
