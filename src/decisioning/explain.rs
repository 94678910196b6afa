//! Why a request got what it got: per location, every rule the engine considers in order,
//! each condition with the value it read and whether it held, the visitor's allocation and each
//! experience's range, the rule that won and why later ones were not reached.
//!
//! The rules are walked by [`plan`] (shared with `simulate`) and tested exactly as the engine
//! tests them; the conditions are then taken apart for display only.

pub mod conditions;
pub mod plan;
pub mod render;
pub mod source;

pub use conditions::{Category, ConditionCheck, Read};
pub use plan::Selection;
pub use render::render_text;

use super::allocation::{allocation_in, allocation_visitor_id};
use super::artifact::{Artifact, Rule};
use super::context::{mbox_context, page_context, RequestContext, RuleVariables};
use super::jsonlogic::{to_js_string, AllocationRange, Memo};
use super::DecideOptions;
use crate::delivery::{DeliveryRequest, ItemKind};
use serde::Serialize;
use serde_json::Value;

/// The explanation of one request.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub client: String,
    /// The id allocation hashes; `random` when the request carries none.
    pub visitor_id: String,
    pub visitor_id_random: bool,
    pub property_token: Option<String>,
    pub locations: Vec<LocationExplanation>,
}

/// The explanation of one location (a mbox, a view, the page load).
#[derive(Debug, Clone, Serialize)]
pub struct LocationExplanation {
    /// `execute` or `prefetch`.
    pub mode: &'static str,
    /// `mbox`, `view` or `pageLoad`.
    pub kind: &'static str,
    /// The mbox or view name ("" for every view).
    pub name: String,
    pub index: Option<i64>,
    pub selection: Selection,
    pub rules: Vec<RuleExplanation>,
    /// The rule keys that won, in order.
    pub winners: Vec<String>,
}

/// One rule as the engine saw it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleExplanation {
    pub rule_key: String,
    pub activity_id: String,
    pub activity_name: Option<String>,
    pub experience_id: String,
    pub experience_name: Option<String>,
    pub audience_ids: Vec<Value>,
    /// The visitor's allocation in the activity (0–99.99), when the rule reads it.
    pub allocation: Option<f64>,
    /// The allocation range the rule's experience takes, when it has one.
    pub range: Option<Span>,
    /// Each conjunct of the condition (the property token first when the rule has any).
    pub conditions: Vec<ConditionCheck>,
    pub verdict: Verdict,
}

/// An allocation range as the lowest and highest bucket in it, and its share of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Span {
    pub low: f64,
    pub high: f64,
    /// Percent of all visitors (buckets in range / 100).
    pub share: f64,
}

impl Span {
    /// The buckets (0.00–99.99) inside `range`, or `None` when it holds none.
    pub fn of(range: &AllocationRange) -> Option<Span> {
        let mut inside = (0..10_000u32)
            .map(|b| f64::from(b) / 100.0)
            .filter(|a| range.contains(*a));
        let low = inside.next()?;
        let (high, count) = inside.fold((low, 1u32), |(_, n), a| (a, n + 1));
        Some(Span {
            low,
            high,
            share: f64::from(count) / 100.0,
        })
    }
}

/// What became of a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    /// It held and its experience was returned.
    Won,
    /// It was tested and did not hold.
    Failed,
    /// An earlier rule of this mbox won first (`winner` names its experience).
    NotReached { winner: String },
    /// A rule with the same rule key had already won here.
    SameRuleKeyWon,
    /// It belongs to another property.
    OtherProperty,
}

/// Explains `request` against `artifact` with the client, clock and geo of `options`.
pub fn explain(
    artifact: &Artifact,
    request: &DeliveryRequest,
    options: &DecideOptions,
) -> Explanation {
    let geo = super::engine::resolve_geo(request, options.geo.as_ref());
    let context = RequestContext::new(request, options.now_ms, geo.as_ref());
    let found = allocation_visitor_id(request.id.as_ref());
    let visitor_id_random = found.is_none();
    let visitor = found.unwrap_or_else(crate::ids::uuid_string);
    let property_token = request.property.as_ref().and_then(|p| p.token.clone());
    let mut buffer = Vec::new();
    let mut allocation = |rule: &Rule| {
        allocation_in(
            &mut buffer,
            &options.client,
            &rule.activity_id,
            &visitor,
            "0",
        )
    };
    let locations = plan::plan(artifact, request)
        .into_iter()
        .map(|location| {
            let mbox = mbox_context(location.details.parameters.as_ref());
            let page = location
                .details
                .address
                .as_ref()
                .map(|a| page_context(Some(a)));
            let memo = Memo::new(artifact.shared_conditions);
            let allocations: Vec<f64> = location.rules.iter().map(|r| allocation(r)).collect();
            let variables = |i: usize| RuleVariables {
                context: &context,
                page: page.as_deref(),
                mbox: &mbox,
                allocation: allocations[i],
                memo: &memo,
            };
            let won = plan::winners(&location.rules, location.selection, |i, rule| {
                rule.allocation_range
                    .is_none_or(|r| r.contains(allocations[i]))
                    && rule.condition.matches(&variables(i))
            });
            let first_winner = won.first().map(|&w| {
                let rule = location.rules[w];
                let text = |k: &str| rule.meta.get(k).map(to_js_string).unwrap_or_default();
                format!(
                    "experience {} {}",
                    text("experience.id"),
                    text("experience.name")
                )
            });
            let winner_keys: Vec<String> = won
                .iter()
                .map(|&w| location.rules[w].rule_key.clone())
                .collect();
            let mut rules: Vec<RuleExplanation> = location
                .rules
                .iter()
                .enumerate()
                .map(|(i, rule)| {
                    let verdict = if won.contains(&i) {
                        Verdict::Won
                    } else if location.selection == Selection::FirstMatch
                        && won.first().is_some_and(|&w| w < i)
                    {
                        Verdict::NotReached {
                            winner: first_winner.clone().unwrap_or_default(),
                        }
                    } else if location.selection == Selection::OnePerRuleKey
                        && won
                            .iter()
                            .any(|&w| w < i && location.rules[w].rule_key == rule.rule_key)
                    {
                        Verdict::SameRuleKeyWon
                    } else {
                        Verdict::Failed
                    };
                    let mut checks = property_check(rule, property_token.as_deref());
                    checks.extend(conditions::checks(
                        &rule.condition_json,
                        &variables(i).to_json(),
                    ));
                    describe(rule, Some(allocations[i]), checks, verdict)
                })
                .collect();
            rules.extend(location.other_property.iter().map(|rule| {
                describe(
                    rule,
                    None,
                    property_check(rule, property_token.as_deref()),
                    Verdict::OtherProperty,
                )
            }));
            LocationExplanation {
                mode: location.mode.as_str(),
                kind: match location.kind {
                    ItemKind::View => "view",
                    ItemKind::PageLoad => "pageLoad",
                    _ => "mbox",
                },
                name: location.name,
                index: location.index,
                selection: location.selection,
                rules,
                winners: winner_keys,
            }
        })
        .collect();
    Explanation {
        client: options.client.clone(),
        visitor_id: visitor,
        visitor_id_random,
        property_token,
        locations,
    }
}

fn property_check(rule: &Rule, token: Option<&str>) -> Vec<ConditionCheck> {
    let Some(tokens) = rule.property_tokens.as_ref().filter(|t| !t.is_empty()) else {
        return Vec::new();
    };
    vec![ConditionCheck {
        category: Category::Property,
        expression: format!("property token in {}", Value::from(tokens.clone())),
        reads: vec![Read {
            variable: "property.token".into(),
            value: token.map(Value::from).unwrap_or(Value::Null),
        }],
        held: plan::for_property(rule, token),
    }]
}

fn describe(
    rule: &Rule,
    allocation: Option<f64>,
    conditions: Vec<ConditionCheck>,
    verdict: Verdict,
) -> RuleExplanation {
    let text = |key: &str| rule.meta.get(key).map(to_js_string);
    RuleExplanation {
        rule_key: rule.rule_key.clone(),
        activity_id: rule.activity_id.clone(),
        activity_name: text("activity.name"),
        experience_id: text("experience.id").unwrap_or_default(),
        experience_name: text("experience.name"),
        audience_ids: rule
            .meta
            .get("audience.ids")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        allocation: allocation.filter(|_| rule.uses_allocation),
        range: rule.allocation_range.as_ref().and_then(Span::of),
        conditions,
        verdict,
    }
}
