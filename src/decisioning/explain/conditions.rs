//! A rule's condition taken apart: each conjunct of its top-level `and`, the variables it
//! reads with the values they had, and whether it held.

use crate::decisioning::jsonlogic::{walk, Logic};
use serde_json::Value;

/// What a condition is about, from the variables it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The visitor's traffic allocation (0–99.99).
    Allocation,
    /// The browser, from the user agent (`user.browserType`, `user.browserVersion`).
    Browser,
    /// The operating system, from the user agent (`user.platform`).
    Platform,
    /// The page URL or a part of it (`page.*`).
    Page,
    /// The referring URL (`referring.*`).
    Referrer,
    /// A mbox or view parameter (`mbox.*`).
    MboxParameter,
    /// Geo (`geo.*`).
    Geo,
    /// Date and time (`current_*`).
    Time,
    /// The request's property token against the rule's `propertyTokens`.
    Property,
    /// Anything else (a literal, the locale).
    Other,
}

impl Category {
    /// A short label for text output.
    pub fn label(self) -> &'static str {
        match self {
            Category::Allocation => "allocation",
            Category::Browser => "browser",
            Category::Platform => "platform",
            Category::Page => "page URL",
            Category::Referrer => "referrer",
            Category::MboxParameter => "mbox parameter",
            Category::Geo => "geo",
            Category::Time => "time",
            Category::Property => "property",
            Category::Other => "other",
        }
    }

    fn of_variable(path: &str) -> Category {
        let root = path.split('.').next().unwrap_or("");
        match root {
            "allocation" => Category::Allocation,
            "user" if path.starts_with("user.platform") => Category::Platform,
            "user" if path.starts_with("user.browser") => Category::Browser,
            "page" => Category::Page,
            "referring" => Category::Referrer,
            "mbox" => Category::MboxParameter,
            "geo" => Category::Geo,
            r if r.starts_with("current_") => Category::Time,
            _ => Category::Other,
        }
    }
}

/// One variable a condition read and the value it had (null when absent).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Read {
    pub variable: String,
    pub value: Value,
}

/// One conjunct of a rule's condition.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConditionCheck {
    pub category: Category,
    /// The json-logic of the conjunct, compact.
    pub expression: String,
    pub reads: Vec<Read>,
    pub held: bool,
}

/// Takes `condition` apart against `context` (the rule's variables as one JSON object).
/// A literal `true` condition (everyone) gives no checks.
pub fn checks(condition: &Value, context: &Value) -> Vec<ConditionCheck> {
    let mut conjuncts = Vec::new();
    flatten_and(condition, &mut conjuncts);
    conjuncts
        .into_iter()
        .filter(|c| **c != Value::Bool(true))
        .map(|conjunct| {
            let mut variables = Vec::new();
            variables_of(conjunct, &mut variables);
            let reads: Vec<Read> = variables
                .into_iter()
                .map(|variable| {
                    let path: Vec<String> = variable.split('.').map(str::to_string).collect();
                    let value = walk(context, &path).cloned().unwrap_or(Value::Null);
                    Read { variable, value }
                })
                .collect();
            let category = reads
                .iter()
                .map(|r| Category::of_variable(&r.variable))
                .find(|c| *c != Category::Other)
                .unwrap_or(Category::Other);
            // The conjunct compiled when the artifact loaded, as part of its rule.
            let held = Logic::compile(conjunct).is_ok_and(|logic| logic.matches(context));
            ConditionCheck {
                category,
                expression: conjunct.to_string(),
                reads,
                held,
            }
        })
        .collect()
}

fn flatten_and<'v>(condition: &'v Value, out: &mut Vec<&'v Value>) {
    match condition.as_object().and_then(|o| o.get("and")) {
        Some(Value::Array(items)) if condition.as_object().is_some_and(|o| o.len() == 1) => {
            for item in items {
                flatten_and(item, out);
            }
        }
        _ => out.push(condition),
    }
}

/// The literal `var` paths `logic` reads, each once, in order.
fn variables_of(logic: &Value, out: &mut Vec<String>) {
    match logic {
        Value::Object(map) => {
            for (op, args) in map {
                if op == "var" {
                    let path = match args {
                        Value::Array(a) => a.first(),
                        single => Some(single),
                    };
                    if let Some(Value::String(p)) = path {
                        if !out.contains(p) {
                            out.push(p.clone());
                        }
                    }
                } else {
                    variables_of(args, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| variables_of(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conjuncts_read_their_variables_and_say_whether_they_held() {
        let condition = json!({"and": [
            {"<=": [0, {"var": "allocation"}]},
            {"and": [{"==": [{"var": "user.browserType"}, "firefox"]}]},
            {"in": ["/sale", {"var": "page.url_lc"}]}
        ]});
        let context = json!({"allocation": 12.5, "user": {"browserType": "chrome"},
            "page": {"url_lc": "https://shop.example/sale"}});
        let checks = checks(&condition, &context);
        let summary: Vec<(Category, bool, Value)> = checks
            .iter()
            .map(|c| (c.category, c.held, c.reads[0].value.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Category::Allocation, true, json!(12.5)),
                (Category::Browser, false, json!("chrome")),
                (Category::Page, true, json!("https://shop.example/sale")),
            ]
        );
    }

    #[test]
    fn an_everyone_rule_has_no_checks_and_a_missing_variable_reads_null() {
        assert!(checks(&json!(true), &json!({})).is_empty());
        let c = checks(
            &json!({"==": [{"var": "mbox.category"}, "shoes"]}),
            &json!({}),
        );
        assert_eq!(c[0].reads[0].value, Value::Null);
        assert_eq!(c[0].category, Category::MboxParameter);
        assert!(!c[0].held);
    }
}
