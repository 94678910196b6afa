//! Campaign macros in offer content (`${campaign.id}`, `${mbox.name}`, `${offer.name}`…).

use super::artifact::Rule;
use super::jsonlogic::to_js_string;
use crate::delivery::TargetOption;
use regex::Regex;
use serde_json::Value;
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

/// Substitutes campaign macros (`${campaign.id}`, `${mbox.name}`, …) in html and actions
/// content, as the SDKs do: rule meta first, then the location's request fields and parameters.
pub fn replace_macros(option: &mut TargetOption, rule: &Rule, location: &impl MacroSource) {
    let substitute = |text: &str| -> String {
        MACRO
            .replace_all(text, |caps: &regex::Captures| {
                let renamed = MACRO_RENAME.replace_all(&caps[1], |m: &regex::Captures| {
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
                let key = parts
                    .iter()
                    .filter(|p| **p != "mbox")
                    .copied()
                    .collect::<Vec<_>>()
                    .join(".");
                let json = location.json();
                let parameters = json.get("parameters");
                [
                    rule.meta.get(&key),
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
    let replace = |s: &mut String| {
        if s.contains("${") {
            *s = substitute(s);
        }
    };
    let has_macros = |content: &Value| match content {
        Value::String(s) => s.contains("${"),
        Value::Array(actions) => actions.iter().any(|a| {
            a.get("content")
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains("${"))
        }),
        _ => false,
    };
    // Content without macros stays shared with the artifact.
    let Some(content) = option.content.as_mut().filter(|c| has_macros(c)) else {
        return;
    };
    match (option.option_type.as_deref(), content.make_mut()) {
        (Some("html"), Value::String(s)) => replace(s),
        (Some("actions"), Value::Array(actions)) => {
            for action in actions {
                if let Some(Value::String(s)) = action.get_mut("content") {
                    replace(s);
                }
            }
        }
        _ => {}
    }
}
