//! Whether a response shows what a check expects: per location, an option of the expected
//! activity and experience, with the expected content and response tokens.

use super::scenario::Expectation;
use super::skeleton::{OptionView, Skeleton};
use crate::delivery::TargetOption;
use serde_json::Value;

/// A response token of a parsed option as text (`312345` and `"312345"` alike), as
/// [`OptionView::token`] reads it from a body.
pub fn token_text(option: &TargetOption, key: &str) -> Option<String> {
    option
        .response_tokens
        .as_deref()?
        .get(key)
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
}

/// A parsed option's content as the text `content_contains` looks in (a string as it is,
/// anything else as JSON), as [`OptionView::content_text`] reads it from a body.
pub fn content_text(option: &TargetOption) -> String {
    match option.content.as_deref() {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn matches(e: &Expectation, option: &OptionView) -> bool {
    let token = |key: &str| option.token(key);
    e.activity.as_ref().is_none_or(|a| {
        a.matches(
            token("activity.id").as_deref(),
            token("activity.name").as_deref(),
        )
    }) && e.experience.as_ref().is_none_or(|x| {
        x.matches(
            token("experience.id").as_deref(),
            token("experience.name").as_deref(),
        )
    }) && e
        .content_contains
        .as_ref()
        .is_none_or(|c| option.content_text().contains(c.as_str()))
        && e.response_tokens
            .iter()
            .all(|(k, v)| token(k).as_deref() == Some(v.as_str()))
}

/// What an expectation asked for, in words.
fn wanted(e: &Expectation) -> String {
    let mut parts = Vec::new();
    if let Some(a) = &e.activity {
        parts.push(format!("activity {a}"));
    }
    if let Some(x) = &e.experience {
        parts.push(format!("experience {x}"));
    }
    if let Some(c) = &e.content_contains {
        parts.push(format!("content containing {c:?}"));
    }
    for (k, v) in &e.response_tokens {
        parts.push(format!("{k} = {v:?}"));
    }
    parts.join(", ")
}

/// What an option is, in words: activity, experience, the start of its content.
fn got(option: &OptionView) -> String {
    let name = |id: &str, name: &str| {
        let id = option.token(id).unwrap_or_else(|| "?".into());
        match option.token(name) {
            Some(n) => format!("{id} {n:?}"),
            None => id,
        }
    };
    let content: String = option.content_text().chars().take(60).collect();
    format!(
        "activity {}, experience {}, content {}",
        name("activity.id", "activity.name"),
        name("experience.id", "experience.name"),
        crate::safe_text::one_line(&content)
    )
}

/// The expectations `response` does not meet, one line each (expected vs got).
pub fn verify(expectations: &[Expectation], response: &Skeleton) -> Vec<String> {
    let mut failures = Vec::new();
    for e in expectations {
        let options = response.options_at(&e.place);
        if options.iter().any(|o| matches(e, o)) {
            continue;
        }
        let got = if options.is_empty() {
            "nothing".to_string()
        } else {
            options
                .iter()
                .map(|o| got(o))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        failures.push(format!(
            "{}: expected {}; got {got}",
            e.place.label(),
            wanted(e)
        ));
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::super::scenario::{IdOrName, Place};
    use super::*;
    use std::collections::BTreeMap;

    fn body() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "prefetch": {
                "pageLoad": {"options": [
                    {"type": "actions", "content": [{"content": "Welcome, Firefox user"}],
                     "responseTokens": {"activity.id": "312370", "activity.name": "Welcome banner",
                                        "experience.id": "1", "experience.name": "Firefox visitors"}},
                    {"type": "actions", "content": [],
                     "responseTokens": {"activity.id": "312380", "experience.id": "0", "experience.name": "Weekend"}}
                ]},
                "mboxes": [{"name": "home-hero", "index": 1, "options": [
                    {"type": "html", "content": "<h1>20% off</h1>", "responseTokens": {"activity.id": 312345, "offer.name": "A"}}
                ]}]
            }
        }))
        .unwrap()
    }

    fn verify(expectations: &[Expectation], body: &[u8]) -> Vec<String> {
        super::verify(expectations, &Skeleton::read(200, body).unwrap())
    }

    fn expect(place: Place) -> Expectation {
        Expectation {
            place,
            activity: None,
            experience: None,
            content_contains: None,
            response_tokens: BTreeMap::new(),
        }
    }

    #[test]
    fn any_option_of_the_location_may_meet_the_expectation() {
        let e = Expectation {
            activity: Some(IdOrName::Text("Welcome banner".into())),
            experience: Some(IdOrName::Id(1)),
            content_contains: Some("Firefox".into()),
            ..expect(Place::PageLoad)
        };
        let weekend = Expectation {
            experience: Some(IdOrName::Text("Weekend".into())),
            ..expect(Place::PageLoad)
        };
        let hero = Expectation {
            activity: Some(IdOrName::Id(312345)),
            response_tokens: BTreeMap::from([("offer.name".into(), "A".into())]),
            ..expect(Place::Mbox("home-hero".into()))
        };
        assert!(verify(&[e, weekend, hero], &body()).is_empty());
    }

    #[test]
    fn a_failure_says_what_was_expected_and_what_came() {
        let e = Expectation {
            activity: Some(IdOrName::Id(312370)),
            experience: Some(IdOrName::Text("Chrome visitors".into())),
            ..expect(Place::PageLoad)
        };
        let failures = verify(&[e], &body());
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].contains("expected activity 312370, experience \"Chrome visitors\""),
            "{}",
            failures[0]
        );
        assert!(
            failures[0].contains("experience 1 \"Firefox visitors\""),
            "{}",
            failures[0]
        );
        let missing = Expectation {
            activity: Some(IdOrName::Id(1)),
            ..expect(Place::View("home".into()))
        };
        assert!(verify(&[missing], &body())[0].ends_with("got nothing"));
    }
}
