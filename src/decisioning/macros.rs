//! Campaign macros in offer content (`${campaign.id}`, `${mbox.name}`, `${offer.name}`…).

use super::artifact::Rule;
use super::jsonlogic::to_js_string;
use crate::delivery::TargetOption;
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

static MACRO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{([a-zA-Z0-9_.]*?)\}").expect("static regex"));
static MACRO_RENAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)campaign|recipe").expect("static regex"));

/// Where a macro's values come from besides the rule: the location being decided.
pub trait MacroSource {
    /// The location's request object as JSON.
    fn json(&self) -> &Value;
    /// The mbox or view name.
    fn name(&self) -> Option<&str>;
}

/// The key a macro's name (`campaign.recipe.id`) is looked up by (`experience.id`).
fn macro_key(name: &str) -> String {
    let renamed = MACRO_RENAME.replace_all(name, |m: &regex::Captures| {
        if m[0].eq_ignore_ascii_case("campaign") {
            "activity"
        } else {
            "experience"
        }
    });
    let parts: Vec<&str> = renamed.split('.').collect();
    let parts = if parts.len() > 2 {
        &parts[parts.len() - 2..]
    } else {
        &parts[..]
    };
    parts
        .iter()
        .filter(|p| **p != "mbox")
        .copied()
        .collect::<Vec<_>>()
        .join(".")
}

/// The rule meta's value for a macro key, as the SDKs print it (none when absent or null).
fn meta_value(meta: &Map<String, Value>, key: &str) -> Option<String> {
    meta.get(key).filter(|v| !v.is_null()).map(to_js_string)
}

/// Whether `content` (a text, or actions with texts) holds something that reads as a macro.
fn content_has_macros(content: &Value) -> bool {
    match content {
        Value::String(s) => s.contains("${"),
        Value::Array(actions) => actions.iter().any(|a| {
            a.get("content")
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains("${"))
        }),
        _ => false,
    }
}

/// Whether the option's content holds something that reads as a macro.
pub fn has_macros(option: &TargetOption) -> bool {
    option.content.as_deref().is_some_and(content_has_macros)
}

/// Applies `edit` to the strings of html and actions content that macros may be in.
fn for_each_text(option: &mut TargetOption, mut edit: impl FnMut(&mut String)) {
    // Content without macros stays shared with the artifact.
    let Some(content) = option.content.as_mut().filter(|c| content_has_macros(c)) else {
        return;
    };
    match (option.option_type.as_deref(), content.make_mut()) {
        (Some("html"), Value::String(s)) => edit(s),
        (Some("actions"), Value::Array(actions)) => {
            for action in actions {
                if let Some(Value::String(s)) = action.get_mut("content") {
                    edit(s);
                }
            }
        }
        _ => {}
    }
}

/// Substitutes once, when the artifact loads, the macros of every text whose macros the rule's
/// meta answers all (the SDKs look there first), unless the result could read as a macro again;
/// the other texts are left for [`replace_macros`], which then finds the same answer.
pub fn replace_meta_macros(option: &mut TargetOption, meta: &Map<String, Value>) {
    for_each_text(option, |text| {
        let mut complete = true;
        let replaced = MACRO.replace_all(text, |caps: &regex::Captures| {
            meta_value(meta, &macro_key(&caps[1])).unwrap_or_else(|| {
                complete = false;
                String::new()
            })
        });
        if complete && !replaced.contains("${") {
            *text = replaced.into_owned();
        }
    });
}

/// Substitutes campaign macros (`${campaign.id}`, `${mbox.name}`, …) in html and actions
/// content, as the SDKs do: rule meta first, then the location's request fields and parameters.
pub fn replace_macros(option: &mut TargetOption, rule: &Rule, location: &impl MacroSource) {
    let substitute = |text: &str| -> String {
        MACRO
            .replace_all(text, |caps: &regex::Captures| {
                let key = macro_key(&caps[1]);
                if let Some(value) = meta_value(&rule.meta, &key) {
                    return value;
                }
                let json = location.json();
                let parameters = json.get("parameters");
                [
                    json.get(&key).filter(|_| key != "parameters"),
                    parameters.and_then(|p| p.get(&key)),
                ]
                .into_iter()
                .flatten()
                .find(|v| !v.is_null())
                .map(to_js_string)
                .or_else(|| {
                    (key == "name")
                        .then(|| location.name().map(str::to_string))
                        .flatten()
                })
                .unwrap_or_else(|| caps[0].to_string())
            })
            .into_owned()
    };
    for_each_text(option, |s| {
        if s.contains("${") {
            *s = substitute(s);
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::decisioning::{Artifact, DecideOptions, Engine};
    use serde_json::{json, Value};
    use std::sync::Arc;

    /// What the engine answers for mbox `m` when its one rule's html options hold `texts`.
    fn decided(texts: &[&str]) -> Vec<Value> {
        let options: Vec<Value> = texts
            .iter()
            .map(|t| json!({"type": "html", "content": t}))
            .collect();
        let artifact = json!({"version": "1.0.0", "globalMbox": "target-global-mbox", "rules": {"mboxes": {"m": [
            {"ruleKey": "1", "activityId": 1, "meta": {"activity.id": 1, "activity.name": "name", "offer.name": ""},
             "condition": true, "consequence": {"name": "m", "options": options}}]}}});
        let bytes = serde_json::to_vec(&artifact).unwrap();
        let engine = Engine::new(Arc::new(Artifact::from_json(&bytes).unwrap()), "t", 0, 0.0);
        let request =
            serde_json::from_value(json!({"id": {"tntId": "v"}, "context": {"channel": "web"},
            "prefetch": {"mboxes": [{"name": "m", "index": 1, "parameters": {"p": "param"}}]}}))
            .unwrap();
        let options = DecideOptions::sdk("c", 0);
        let response = engine.decide(&request, &options).response;
        let mbox = &response.prefetch.unwrap().mboxes.unwrap()[0];
        let contents = mbox.options.iter().flatten();
        contents
            .map(|o| Value::clone(o.content.as_ref().unwrap()))
            .collect()
    }

    #[test]
    fn macros_answered_at_load_read_as_one_pass_over_the_offer() {
        assert_eq!(
            decided(&[
                "${campaign.id}: ${campaign.name}",
                "${campaign.id} in ${mbox.name} with ${mbox.p}",
                // Substituted once, the answer must not be read again as a macro.
                "${${campaign.name}}",
                "$${offer.name}{name}",
                "${unknown} ${campaign.id}",
            ]),
            [
                json!("1: name"),
                json!("1 in m with param"),
                json!("${name}"),
                json!("${name}"),
                json!("${unknown} 1"),
            ]
        );
    }
}
