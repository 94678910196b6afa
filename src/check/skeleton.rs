//! A response read only as far as expectations look: per location its name and its options'
//! content and response tokens, borrowed from the body as raw JSON; everything else is skipped
//! (serde's default for unknown fields) and nothing is built for it.

use super::scenario::Place;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The locations of a Delivery API response (execute's, then prefetch's).
#[derive(Debug, Default, Deserialize)]
pub struct Skeleton<'a> {
    #[serde(borrow, default)]
    execute: Option<Decided<'a>>,
    #[serde(borrow, default)]
    prefetch: Option<Decided<'a>>,
}

/// `execute` or `prefetch`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Decided<'a> {
    #[serde(borrow, default)]
    page_load: Option<Decision<'a>>,
    #[serde(borrow, default)]
    mboxes: Option<Vec<Decision<'a>>>,
    #[serde(borrow, default)]
    views: Option<Vec<Decision<'a>>>,
}

/// A page load, mbox or view: its name and options.
#[derive(Debug, Default, Deserialize)]
struct Decision<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    options: Option<Vec<OptionView<'a>>>,
}

/// An option's content and response tokens, as raw JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionView<'a> {
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    response_tokens: Option<BTreeMap<Cow<'a, str>, &'a RawValue>>,
}

/// A JSON value as text: a string as it is, anything else as compact JSON (as
/// `serde_json::Value` prints it, so the body's spacing and key order do not matter).
fn text_of(raw: &RawValue) -> String {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => raw.get().to_string(),
    }
}

impl OptionView<'_> {
    /// A response token as text (`312345` and `"312345"` alike).
    pub fn token(&self, key: &str) -> Option<String> {
        self.response_tokens.as_ref()?.get(key).map(|v| text_of(v))
    }

    /// The content as the text `content_contains` looks in (a string as it is, anything
    /// else as JSON; none is empty).
    pub fn content_text(&self) -> String {
        self.content.map(text_of).unwrap_or_default()
    }
}

impl<'a> Skeleton<'a> {
    /// Reads the body of a `status` answer; an empty 204 (a beacon's) has no locations.
    pub fn read(status: u16, body: &'a [u8]) -> Result<Skeleton<'a>, serde_json::Error> {
        if body.is_empty() && status == 204 {
            return Ok(Skeleton::default());
        }
        serde_json::from_slice(body)
    }

    /// The options at `place`, execute's then prefetch's (views are prefetched only).
    pub fn options_at(&self, place: &Place) -> Vec<&OptionView<'a>> {
        let mut out = Vec::new();
        let parts = [(&self.execute, false), (&self.prefetch, true)];
        for (decided, has_views) in parts {
            let Some(decided) = decided else { continue };
            let decisions: Vec<&Decision<'a>> = match place {
                Place::PageLoad => decided.page_load.iter().collect(),
                Place::Mbox(name) => named(&decided.mboxes, name),
                Place::View(name) if has_views => named(&decided.views, name),
                Place::View(_) => Vec::new(),
            };
            out.extend(
                decisions
                    .into_iter()
                    .flat_map(|d| d.options.iter().flatten()),
            );
        }
        out
    }
}

/// The decisions of `list` named `want` (a missing name is the empty one).
fn named<'s, 'a>(list: &'s Option<Vec<Decision<'a>>>, want: &str) -> Vec<&'s Decision<'a>> {
    list.iter()
        .flatten()
        .filter(|d| d.name.as_deref().unwrap_or_default() == want)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::expect::{content_text, token_text};
    use crate::delivery::{decided_items, DeliveryResponse, Location};

    /// Options of every kind of location, content of every JSON kind (spaced and with keys
    /// out of order), tokens as numbers and strings, names with escapes.
    const BODY: &str = r#"{
      "status": 200, "id": {"tntId": "t"},
      "execute": {"pageLoad": {"options": [{"content": {"b": [1, 2.5], "a": "x"}, "responseTokens": {"activity.id": 1}}]},
                  "mboxes": [{"name": "m\u0031", "index": 1, "options": [{"content": "<b>\"hi\"</b>", "responseTokens": {"n": null, "s": "a\nb"}}]}]},
      "prefetch": {"pageLoad": {"options": [{"content": [ {"type": "setHtml", "content": "x"} ], "responseTokens": {}}]},
                   "mboxes": [{"name": "m1", "options": [{"type": "html"}, {"content": null, "responseTokens": {"f": 1e2}}]}],
                   "views": [{"name": "home", "options": [{"content": true, "responseTokens": {"t": false}}]}],
                   "metrics": [{"type": "click", "eventToken": "e"}]}
    }"#;

    #[test]
    fn the_skeleton_reads_what_the_parsed_response_shows() {
        let response: DeliveryResponse = serde_json::from_str(BODY).unwrap();
        let skeleton = Skeleton::read(200, BODY.as_bytes()).unwrap();
        let places = [
            Place::PageLoad,
            Place::Mbox("m1".into()),
            Place::View("home".into()),
            Place::View("none".into()),
        ];
        let keys = ["activity.id", "n", "s", "f", "t", "missing"];
        for place in &places {
            let parsed: Vec<_> = decided_items(&response)
                .into_iter()
                .filter(|item| match (item.location(&response), place) {
                    (Location::PageLoad { .. }, Place::PageLoad) => true,
                    (Location::Mbox { name, .. }, Place::Mbox(want))
                    | (Location::View { name, .. }, Place::View(want)) => &name == want,
                    _ => false,
                })
                .flat_map(|item| item.parts(&response).options.into_iter().flatten())
                .collect();
            let read = skeleton.options_at(place);
            assert_eq!(read.len(), parsed.len(), "{place:?}");
            for (r, p) in read.iter().zip(&parsed) {
                assert_eq!(r.content_text(), content_text(p), "{place:?}");
                for key in keys {
                    assert_eq!(r.token(key), token_text(p, key), "{place:?} {key}");
                }
            }
        }
        assert_eq!(skeleton.options_at(&Place::Mbox("m1".into())).len(), 3);
    }

    #[test]
    fn only_an_empty_204_has_no_body_to_read() {
        assert!(Skeleton::read(204, b"")
            .unwrap()
            .options_at(&Place::PageLoad)
            .is_empty());
        assert!(Skeleton::read(200, b"").is_err());
        assert!(Skeleton::read(200, b"<html>").is_err());
    }
}
