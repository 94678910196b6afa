//! The locations a request asks for and the rules each considers, in the engine's order, and
//! how the engine picks among them. Explain and simulate both walk rules through here.

use crate::decisioning::artifact::{Artifact, Rule};
use crate::delivery::{DeliveryRequest, ItemKind, Mode, RequestDetails};

/// How a location picks among the rules that hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// A regular mbox: the first rule that holds wins; later rules are not reached.
    FirstMatch,
    /// The global mbox (pageLoad) and views: every rule that holds wins, one per rule key.
    OnePerRuleKey,
}

/// One location of a request and the rules the engine considers for it.
#[derive(Debug)]
pub struct LocationPlan<'a> {
    pub mode: Mode,
    pub kind: ItemKind,
    /// The mbox or view name (the global mbox for pageLoad; "" for every view).
    pub name: String,
    pub index: Option<i64>,
    pub details: &'a RequestDetails,
    pub selection: Selection,
    /// The rules evaluated, in order.
    pub rules: Vec<&'a Rule>,
    /// The rules left out because they belong to another property (`propertyTokens`).
    pub other_property: Vec<&'a Rule>,
}

/// Whether a rule is for the request's property: a rule with no property tokens is for all.
pub fn for_property(rule: &Rule, token: Option<&str>) -> bool {
    let tokens = rule.property_tokens.as_deref().unwrap_or(&[]);
    tokens.is_empty() || token.is_some_and(|t| tokens.iter().any(|x| x == t))
}

/// Every location of `request` (execute mboxes, execute pageLoad, prefetch mboxes, views,
/// prefetch pageLoad: the engine's order) with its rules.
pub fn plan<'a>(artifact: &'a Artifact, request: &'a DeliveryRequest) -> Vec<LocationPlan<'a>> {
    let token = request.property.as_ref().and_then(|p| p.token.as_deref());
    let split = |rules: Vec<&'a Rule>| -> (Vec<&'a Rule>, Vec<&'a Rule>) {
        rules.into_iter().partition(|r| for_property(r, token))
    };
    let mbox = |mode: Mode,
                kind: ItemKind,
                name: &str,
                index: Option<i64>,
                details: &'a RequestDetails| {
        let is_global = name == artifact.global_mbox;
        let (rules, other_property) =
            split(artifact.mboxes.get(name).into_iter().flatten().collect());
        LocationPlan {
            mode,
            kind,
            name: name.to_string(),
            index,
            details,
            selection: if is_global {
                Selection::OnePerRuleKey
            } else {
                Selection::FirstMatch
            },
            rules,
            other_property,
        }
    };
    let mut plans = Vec::new();
    let global = artifact.global_mbox.as_str();
    for (mode, mboxes, page_load) in [
        (
            Mode::Execute,
            request.execute.as_ref().and_then(|e| e.mboxes.as_ref()),
            request.execute.as_ref().and_then(|e| e.page_load.as_ref()),
        ),
        (
            Mode::Prefetch,
            request.prefetch.as_ref().and_then(|p| p.mboxes.as_ref()),
            request.prefetch.as_ref().and_then(|p| p.page_load.as_ref()),
        ),
    ] {
        for m in mboxes.into_iter().flatten() {
            plans.push(mbox(
                mode,
                ItemKind::Mbox,
                m.name.as_deref().unwrap_or(""),
                m.index,
                &m.details,
            ));
        }
        if mode == Mode::Prefetch {
            let views = request.prefetch.as_ref().and_then(|p| p.views.as_ref());
            for v in views.into_iter().flatten() {
                let name = v.name.as_deref().filter(|n| !n.is_empty());
                let all: Vec<&Rule> = match name {
                    Some(n) => artifact.views.get(n).into_iter().flatten().collect(),
                    None => artifact.views.values().flatten().collect(),
                };
                let (rules, other_property) = split(all);
                plans.push(LocationPlan {
                    mode,
                    kind: ItemKind::View,
                    name: name.unwrap_or_default().to_string(),
                    index: None,
                    details: &v.details,
                    selection: Selection::OnePerRuleKey,
                    rules,
                    other_property,
                });
            }
        }
        if let Some(details) = page_load {
            plans.push(mbox(mode, ItemKind::PageLoad, global, None, details));
        }
    }
    plans
}

/// Walks `rules` as the engine does, calling `holds` for every rule it reaches; returns the
/// positions of the winners.
pub fn winners(
    rules: &[&Rule],
    selection: Selection,
    mut holds: impl FnMut(usize, &Rule) -> bool,
) -> Vec<usize> {
    let mut won: Vec<usize> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if selection == Selection::OnePerRuleKey
            && won.iter().any(|&w| rules[w].rule_key == rule.rule_key)
        {
            continue;
        }
        if holds(i, rule) {
            won.push(i);
            if selection == Selection::FirstMatch {
                break;
            }
        }
    }
    won
}
