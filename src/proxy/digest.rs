//! Reading what the journal and the feed need of a Delivery response, and nothing else: a
//! skeleton of the response (serde skips the options' content, analytics but `tnta`, traces
//! and the response tokens the ledger does not keep, unparsed and unallocated) made into a
//! [`ResponseDigest`]. A response the skeleton cannot read is parsed whole, so the proxy reads
//! every response the full model reads, with the same result.

use crate::delivery::wire::from_json;
use crate::delivery::{decided_items, DeliveryResponse, Location, NotificationType, VisitorId};
use crate::ledger::observed::ResponseDigest;
use crate::ledger::record::{click_item, token_text};
use crate::ledger::ResponseItem;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// What the proxy keeps of a Delivery response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseFacts {
    pub digest: ResponseDigest,
    /// The labels of the locations it decided (`mbox home-hero`), each once, in its order.
    pub locations: Vec<String>,
    /// How many options it carries.
    pub options: usize,
}

/// The facts of a response body; none when it is not a Delivery response.
pub fn read(body: &[u8]) -> Option<ResponseFacts> {
    match from_json::<Skeleton>(body) {
        Ok(skeleton) => Some(skeleton.facts()),
        Err(_) => from_json::<DeliveryResponse>(body)
            .ok()
            .map(|response| whole(&response)),
    }
}

/// The facts of a response parsed whole.
pub(super) fn whole(response: &DeliveryResponse) -> ResponseFacts {
    let mut facts = ResponseFacts {
        digest: ResponseDigest::of(response),
        ..ResponseFacts::default()
    };
    for item in decided_items(response) {
        facts.add_location(item.location(response));
        facts.options += item.parts(response).options.map_or(0, Vec::len);
    }
    facts
}

impl ResponseFacts {
    fn add_location(&mut self, location: Location) {
        let label = location.label();
        if !self.locations.contains(&label) {
            self.locations.push(label);
        }
    }
}

/// A text of the response, borrowed from its body unless it has escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
        }
        deserializer.deserialize_str(TextVisitor).map(Text)
    }
}

/// A Delivery response's fields that the ledger reads (unknown fields are skipped), their
/// texts borrowed from the body.
#[derive(Deserialize)]
struct Skeleton<'a> {
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Text<'a>>,
    id: Option<VisitorId>,
    #[serde(borrow)]
    execute: Option<Executed<'a>>,
    #[serde(borrow)]
    prefetch: Option<Prefetched<'a>>,
    #[serde(borrow)]
    notifications: Option<Vec<Echoed<'a>>>,
}

#[derive(Deserialize)]
struct Executed<'a> {
    #[serde(rename = "pageLoad", borrow)]
    page_load: Option<Decided<'a>>,
    #[serde(borrow)]
    mboxes: Option<Vec<Decided<'a>>>,
}

#[derive(Deserialize)]
struct Prefetched<'a> {
    #[serde(rename = "pageLoad", borrow)]
    page_load: Option<Decided<'a>>,
    #[serde(borrow)]
    mboxes: Option<Vec<Decided<'a>>>,
    #[serde(borrow)]
    views: Option<Vec<Decided<'a>>>,
    #[serde(borrow)]
    metrics: Option<Vec<SkeletonMetric<'a>>>,
}

/// A pageLoad, mbox or view decision.
#[derive(Deserialize)]
struct Decided<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    key: Option<Text<'a>>,
    #[serde(borrow)]
    state: Option<Text<'a>>,
    #[serde(borrow)]
    options: Option<Vec<SkeletonOption<'a>>>,
    #[serde(borrow)]
    metrics: Option<Vec<SkeletonMetric<'a>>>,
}

#[derive(Deserialize)]
struct SkeletonOption<'a> {
    #[serde(rename = "eventToken", borrow)]
    event_token: Option<Text<'a>>,
    #[serde(rename = "responseTokens", borrow)]
    response_tokens: Option<JournaledTokens<'a>>,
}

/// The four response tokens the journal keeps, as their JSON (a token present as `null` is
/// kept as `null`).
#[derive(Deserialize)]
struct JournaledTokens<'a> {
    #[serde(rename = "activity.id", default, borrow, deserialize_with = "present")]
    activity: Option<&'a RawValue>,
    #[serde(
        rename = "activity.name",
        default,
        borrow,
        deserialize_with = "present"
    )]
    activity_name: Option<&'a RawValue>,
    #[serde(
        rename = "experience.id",
        default,
        borrow,
        deserialize_with = "present"
    )]
    experience: Option<&'a RawValue>,
    #[serde(
        rename = "experience.name",
        default,
        borrow,
        deserialize_with = "present"
    )]
    experience_name: Option<&'a RawValue>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// A response token as the ledger keeps it (a string as it is, another value as its JSON),
/// a string without escapes copied from the body as it is.
fn token(raw: Option<&RawValue>) -> Option<String> {
    let json = raw?.get();
    let plain = json
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|s| !s.contains('\\'));
    match plain {
        Some(text) => Some(text.to_string()),
        None => token_text(serde_json::from_str::<Value>(json).ok()),
    }
}

#[derive(Deserialize)]
struct SkeletonMetric<'a> {
    #[serde(rename = "type", borrow)]
    metric_type: Option<Text<'a>>,
    #[serde(rename = "eventToken", borrow)]
    event_token: Option<Text<'a>>,
    #[serde(borrow)]
    analytics: Option<Analytics<'a>>,
}

#[derive(Deserialize)]
struct Analytics<'a> {
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    tnta: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Echoed<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
}

/// An owned copy of a text.
fn owned(text: Option<Text>) -> Option<String> {
    text.map(|t| t.0.into_owned())
}

impl<'a> Skeleton<'a> {
    fn facts(self) -> ResponseFacts {
        let mut facts = ResponseFacts {
            digest: ResponseDigest {
                visitor: self.id,
                request_id: owned(self.request_id),
                items: Vec::new(),
                acknowledged: self
                    .notifications
                    .into_iter()
                    .flatten()
                    .filter_map(|n| owned(n.id))
                    .collect(),
            },
            ..ResponseFacts::default()
        };
        let page_load = |d: Decided<'a>| {
            let state = owned(d.state);
            (Location::PageLoad { state }, d.options, d.metrics)
        };
        let mbox = |d: Decided<'a>| {
            let name = owned(d.name).unwrap_or_default();
            let state = owned(d.state);
            (Location::Mbox { name, state }, d.options, d.metrics)
        };
        let view = |d: Decided<'a>| {
            let name = owned(d.name).unwrap_or_default();
            let (key, state) = (owned(d.key), owned(d.state));
            (Location::View { name, key, state }, d.options, d.metrics)
        };
        let (executed, prefetched) = (self.execute, self.prefetch);
        let (executed_page, executed_mboxes) = match executed {
            Some(e) => (e.page_load, e.mboxes),
            None => (None, None),
        };
        let (page, mboxes, views, page_metrics) = match prefetched {
            Some(p) => (p.page_load, p.mboxes, p.views, p.metrics),
            None => (None, None, None, None),
        };
        let decided = executed_page
            .map(page_load)
            .into_iter()
            .chain(executed_mboxes.into_iter().flatten().map(mbox))
            .chain(page.map(page_load))
            .chain(mboxes.into_iter().flatten().map(mbox))
            .chain(views.into_iter().flatten().map(view));
        for (location, options, metrics) in decided {
            facts.decided(location, options, metrics);
        }
        if let Some(metrics) = page_metrics.filter(|m| !m.is_empty()) {
            facts.decided(Location::Page, None, Some(metrics));
        }
        facts
    }
}

impl ResponseFacts {
    /// Adds a decided location with its options and metrics.
    fn decided(
        &mut self,
        location: Location,
        options: Option<Vec<SkeletonOption>>,
        metrics: Option<Vec<SkeletonMetric>>,
    ) {
        let options = options.unwrap_or_default();
        self.options += options.len();
        let items = &mut self.digest.items;
        for option in options {
            let tokens = option.response_tokens;
            let (activity, activity_name, experience, experience_name) = match tokens {
                Some(t) => (t.activity, t.activity_name, t.experience, t.experience_name),
                None => (None, None, None, None),
            };
            items.push(ResponseItem {
                location: location.clone(),
                token: owned(option.event_token),
                kind: NotificationType::Display,
                activity: token(activity),
                activity_name: token(activity_name),
                experience: token(experience),
                experience_name: token(experience_name),
            });
        }
        let clicks = metrics
            .into_iter()
            .flatten()
            .filter(|m| m.metric_type.as_ref().is_some_and(|t| t.0 == "click"));
        for metric in clicks {
            let tnta = metric.analytics.and_then(|a| a.payload?.tnta);
            let tnta = tnta.as_ref().map(|t| t.0.as_ref());
            items.push(click_item(&location, owned(metric.event_token), tnta));
        }
        self.add_location(location);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    /// Every object of `value`, nested ones too.
    fn objects<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
        match value {
            Value::Object(map) => {
                out.push(value);
                map.values().for_each(|v| objects(v, out));
            }
            Value::Array(list) => list.iter().for_each(|v| objects(v, out)),
            _ => {}
        }
    }

    /// The skeleton's facts and the whole parse's agree on `body` (when the whole parse reads
    /// it); returns whether the skeleton read it.
    fn agree(body: &[u8]) -> bool {
        let Ok(response) = serde_json::from_slice::<DeliveryResponse>(body) else {
            return false;
        };
        let skeleton = serde_json::from_slice::<Skeleton>(body).map(Skeleton::facts);
        let expected = whole(&response);
        if let Ok(facts) = &skeleton {
            assert_eq!(facts, &expected, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(read(body), Some(expected));
        skeleton.is_ok()
    }

    /// Every JSON object of the fixtures (nested ones too), compact.
    pub(in crate::proxy) fn fixture_objects() -> Vec<Vec<u8>> {
        let mut bodies = Vec::new();
        let mut stack = vec![std::path::PathBuf::from("../shared/fixtures")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read(&path).unwrap();
                    let Ok(value) = serde_json::from_slice::<Value>(&text) else {
                        continue;
                    };
                    let mut found = Vec::new();
                    objects(&value, &mut found);
                    bodies.extend(found.into_iter().map(|o| serde_json::to_vec(o).unwrap()));
                }
            }
        }
        bodies
    }

    #[test]
    fn the_skeleton_reads_every_fixture_response_as_the_whole_model_does() {
        let mut read_by_skeleton = 0;
        let mut with_items = 0;
        for body in fixture_objects() {
            if agree(&body) {
                read_by_skeleton += 1;
                let facts = read(&body).unwrap();
                with_items += usize::from(!facts.digest.items.is_empty());
            }
        }
        assert!(read_by_skeleton > 100, "{read_by_skeleton}");
        assert!(with_items > 10, "{with_items}");
    }

    #[test]
    fn tokens_numbers_nulls_escapes_clicks_and_views_read_as_the_whole_model_reads_them() {
        let body = json!({
            "requestId": "r\u{e9}\"1", "id": {"tntId": "t.28_0", "extra": [1]},
            "execute": {"pageLoad": {"options": [{"content": {"a": [1, 2.5e300]}, "eventToken": "e1",
                "responseTokens": {"activity.id": 12, "activity.name": null, "experience.id": 1.5,
                    "offer.id": "x"}}]},
                "mboxes": [{"name": "m\\1", "options": [{"type": "html", "content": "<b>\u{1F600}</b>"}]}]},
            "prefetch": {
                "mboxes": [{"name": "m", "state": "s", "metrics": [
                    {"type": "click", "eventToken": "c1", "analytics": {"payload": {"tnta": "1:2:0|32767,3:4:1|1"}}},
                    {"type": "display", "eventToken": "d1"}]}],
                "views": [{"name": "home", "key": "k", "state": "vs", "id": 3,
                    "options": [{"eventToken": "v1", "responseTokens": {"experience.name": "E\\n\"x\"", "activity.name": "\u{e9}"}}]}],
                "metrics": [{"type": "click", "selector": "#a", "eventToken": "p1"}]},
            "notifications": [{"id": "n1", "trace": {"x": 1}}, {"trace": {}}]
        });
        let body = serde_json::to_vec(&body).unwrap();
        assert!(agree(&body), "the skeleton reads it");
        let facts = read(&body).unwrap();
        assert_eq!(facts.digest.items.len(), 5);
        assert_eq!(facts.digest.items[0].activity_name.as_deref(), Some("null"));
        assert_eq!(facts.digest.acknowledged, ["n1"]);
        assert_eq!(
            facts.locations,
            ["pageLoad", "mbox m\\1", "mbox m", "view home", "page"]
        );
        assert_eq!(facts.options, 3);
    }

    #[test]
    fn what_the_skeleton_cannot_read_is_read_whole_and_what_neither_reads_is_none() {
        // Equal keys: serde's derive refuses them, the whole model keeps the last.
        let twice =
            br#"{"prefetch":{"mboxes":[{"name":"a","name":"b","options":[{"eventToken":"t"}]}]}}"#;
        assert!(serde_json::from_slice::<Skeleton>(twice).is_err());
        let facts = read(twice).unwrap();
        assert_eq!(facts.locations, ["mbox b"]);
        assert_eq!(facts.digest.items.len(), 1);
        assert_eq!(read(b"{\"prefetch\": 3}"), None);
        assert_eq!(read(b"not json"), None);
    }
}
