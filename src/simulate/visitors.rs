//! The simulated population: every visitor's context drawn from the mix, its locations
//! decided by walking the rules as the engine does ([`plan`]), and the tallies summed across
//! cores.

use super::mix::Picker;
use super::{ActivitySplit, AudienceShare, ExperienceSplit, SimulateError, Spec};
use crate::decisioning::allocation::allocation_in;
use crate::decisioning::artifact::{Artifact, Rule};
use crate::decisioning::context::{
    geo_context, mbox_context, page_context, shared_url_context, time_of, RequestContext,
    RuleVariables,
};
use crate::decisioning::explain::plan::{self, LocationPlan};
use crate::decisioning::explain::Span;
use crate::decisioning::jsonlogic::{to_js_string, Memo};
use crate::delivery::{Context, DeliveryRequest, Geo, Parameters};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use rayon::prelude::*;
use serde_json::Value;
use std::fmt::Write;
use std::sync::Arc;

/// Milliseconds in an hour and a week.
const HOUR_MS: i64 = 3_600_000;
const WEEK_MS: i64 = 7 * 24 * HOUR_MS;
/// The Monday 00:00 UTC nearest before the epoch (1969-12-29).
const MONDAY_BEFORE_EPOCH_MS: i64 = -3 * 24 * HOUR_MS;

/// One experience of one activity, as a tally slot.
struct Experience {
    activity: usize,
    id: String,
    name: String,
    /// The allocation range of its rules (the widest), `None` when a rule has none.
    range: Option<Span>,
}

struct Activity {
    id: String,
    name: String,
    experiences: Vec<usize>,
}

struct Audience {
    activity_id: String,
    ids: Vec<Value>,
    experiences: Vec<String>,
}

/// One location, ready for every visitor.
struct Location<'a> {
    plan: LocationPlan<'a>,
    /// The mbox context per parameter choice of the mix (one when the mix has none).
    mbox: Vec<Value>,
    page: Option<Arc<Value>>,
    experience_of: Vec<usize>,
    audience_of: Vec<usize>,
}

/// Everything drawn per visitor, prepared once.
pub(super) struct Population<'a> {
    artifact: &'a Artifact,
    client: String,
    seed: u64,
    locations: Vec<Location<'a>>,
    experiences: Vec<Experience>,
    activities: Vec<Activity>,
    audiences: Vec<Audience>,
    users: Vec<Arc<Value>>,
    user_agents: Vec<Option<String>>,
    pages: Vec<Arc<Value>>,
    referring: Arc<Value>,
    geos: Vec<Value>,
    /// (now_ms, current_time, current_day) per hour choice.
    times: Vec<(i64, Value, Value)>,
    pick_user: Picker,
    pick_page: Picker,
    pick_geo: Picker,
    pick_parameters: Picker,
    pick_time: Picker,
}

/// The sums of a run.
pub(super) struct Tally {
    pub experience_visitors: Vec<u64>,
    pub audience_visitors: Vec<u64>,
    /// Per visitor: its user agent choice and the experiences it got (only when kept).
    pub decisions: Vec<(usize, Vec<usize>)>,
}

/// A worker's running sums and scratch space.
struct Worker {
    experience_visitors: Vec<u64>,
    audience_visitors: Vec<u64>,
    allocations: Vec<f64>,
    reached: Vec<usize>,
    qualified: Vec<bool>,
    hash: Vec<u8>,
    passed: Vec<bool>,
    visitor: String,
    decisions: Vec<(usize, Vec<usize>)>,
}

impl<'a> Population<'a> {
    pub fn new(artifact: &'a Artifact, spec: &'a Spec) -> Result<Population<'a>, SimulateError> {
        let plans = plan::plan(artifact, &spec.request);
        if plans.is_empty() {
            return Err(SimulateError::NoLocations);
        }
        let mix = &spec.mix;
        let mut experiences: Vec<Experience> = Vec::new();
        let mut activities: Vec<Activity> = Vec::new();
        let mut audiences: Vec<Audience> = Vec::new();
        let parameter_sets: Vec<Option<&indexmap::IndexMap<String, String>>> =
            if mix.mbox_parameters.is_empty() {
                vec![None]
            } else {
                mix.mbox_parameters
                    .iter()
                    .map(|p| Some(&p.value.parameters))
                    .collect()
            };
        let mut locations = Vec::new();
        for plan in plans {
            let experience_of = plan
                .rules
                .iter()
                .map(|rule| slot_of(rule, &mut experiences, &mut activities))
                .collect();
            let audience_of = plan
                .rules
                .iter()
                .map(|rule| audience_of(rule, &mut audiences))
                .collect();
            let mbox = parameter_sets
                .iter()
                .map(|extra| {
                    let mut parameters: Parameters =
                        plan.details.parameters.clone().unwrap_or_default();
                    for (k, v) in extra.iter().flat_map(|m| m.iter()) {
                        parameters.insert(k.clone(), Value::String(v.clone()));
                    }
                    mbox_context(Some(&parameters))
                })
                .collect();
            let page = plan.details.address.as_ref().map(|a| page_context(Some(a)));
            locations.push(Location {
                plan,
                mbox,
                page,
                experience_of,
                audience_of,
            });
        }
        let fixed = RequestContext::new(
            &spec.request,
            spec.options.now_ms,
            crate::decisioning::engine::resolve_geo(&spec.request, spec.options.geo.as_ref())
                .as_ref(),
        );
        let template = spec.request.context.clone().unwrap_or_default();
        let user_agents: Vec<Option<String>> = if mix.user_agents.is_empty() {
            vec![template.user_agent.clone()]
        } else {
            mix.user_agents
                .iter()
                .map(|u| Some(u.value.value.clone()))
                .collect()
        };
        let users = user_agents
            .iter()
            .map(|ua| {
                let probe = DeliveryRequest {
                    context: Some(Context {
                        user_agent: ua.clone(),
                        client_hints: template.client_hints.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                RequestContext::new(&probe, 0, None).user
            })
            .collect();
        let pages = if mix.page_urls.is_empty() {
            vec![fixed.page.clone()]
        } else {
            mix.page_urls
                .iter()
                .map(|p| shared_url_context(&p.value.value))
                .collect()
        };
        let geos = if mix.geos.is_empty() {
            vec![fixed.geo.clone()]
        } else {
            mix.geos
                .iter()
                .map(|g| {
                    geo_context(Some(&Geo {
                        country_code: g.value.country.clone(),
                        state_code: g.value.region.clone(),
                        city: g.value.city.clone(),
                        ..Default::default()
                    }))
                })
                .collect()
        };
        let week_start = spec.options.now_ms
            - (spec.options.now_ms - MONDAY_BEFORE_EPOCH_MS).rem_euclid(WEEK_MS);
        let moments: Vec<i64> = if mix.hours.is_empty() {
            vec![spec.options.now_ms]
        } else {
            mix.hours
                .iter()
                .map(|h| {
                    week_start
                        + (i64::from(h.value.day) - 1) * 24 * HOUR_MS
                        + i64::from(h.value.hour) * HOUR_MS
                })
                .collect()
        };
        let times = moments
            .into_iter()
            .map(|now| {
                let (time, day) = time_of(now);
                (now, Value::String(time), Value::from(day))
            })
            .collect();
        Ok(Population {
            artifact,
            client: spec.options.client.clone(),
            seed: spec.seed,
            locations,
            experiences,
            activities,
            audiences,
            users,
            user_agents,
            pages,
            referring: fixed.referring.clone(),
            geos,
            times,
            pick_user: Picker::new("user agents", &mix.user_agents)?,
            pick_page: Picker::new("page URLs", &mix.page_urls)?,
            pick_geo: Picker::new("geos", &mix.geos)?,
            pick_parameters: Picker::new("mbox parameters", &mix.mbox_parameters)?,
            pick_time: Picker::new("hours", &mix.hours)?,
        })
    }

    /// Decides `visitors` visitors across every core; keeps each visitor's decisions when
    /// `keep` (for the counting what-if).
    pub fn run(&self, visitors: u64, keep: bool) -> Tally {
        let worker = || Worker {
            experience_visitors: vec![0; self.experiences.len()],
            audience_visitors: vec![0; self.audiences.len()],
            allocations: vec![f64::NAN; self.artifact.activity_count],
            reached: Vec::new(),
            qualified: vec![false; self.audiences.len()],
            hash: Vec::with_capacity(128),
            passed: Vec::new(),
            visitor: String::new(),
            decisions: Vec::new(),
        };
        // A count beyond the address space could not be kept in memory anyway.
        let visitors = usize::try_from(visitors).unwrap_or(usize::MAX);
        (0..visitors)
            .into_par_iter()
            .with_min_len(4096)
            .fold(worker, |mut w, i| {
                let user = self.visit(i as u64, &mut w);
                if keep {
                    let reached = w.reached.clone();
                    w.decisions.push((user, reached));
                }
                w
            })
            .map(|w| Tally {
                experience_visitors: w.experience_visitors,
                audience_visitors: w.audience_visitors,
                decisions: w.decisions,
            })
            .reduce(
                || Tally {
                    experience_visitors: vec![0; self.experiences.len()],
                    audience_visitors: vec![0; self.audiences.len()],
                    decisions: Vec::new(),
                },
                |mut a, b| {
                    add(&mut a.experience_visitors, &b.experience_visitors);
                    add(&mut a.audience_visitors, &b.audience_visitors);
                    a.decisions.extend(b.decisions);
                    a
                },
            )
    }

    /// Decides visitor `i`: its experiences are left in `w.reached` and added to the sums.
    /// Returns its user agent choice.
    fn visit(&self, i: u64, w: &mut Worker) -> usize {
        let mut rng = SmallRng::seed_from_u64(self.seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let user = self.pick_user.pick(&mut rng).unwrap_or(0);
        let page = self.pick_page.pick(&mut rng).unwrap_or(0);
        let geo = self.pick_geo.pick(&mut rng).unwrap_or(0);
        let parameters = self.pick_parameters.pick(&mut rng).unwrap_or(0);
        let (now_ms, current_time, current_day) =
            &self.times[self.pick_time.pick(&mut rng).unwrap_or(0)];
        let context = RequestContext {
            now_ms: *now_ms,
            current_time: current_time.clone(),
            current_day: current_day.clone(),
            user: self.users[user].clone(),
            page: self.pages[page].clone(),
            referring: self.referring.clone(),
            geo: self.geos[geo].clone(),
        };
        w.visitor.clear();
        let _ = write!(w.visitor, "sim-{i}");
        w.allocations.fill(f64::NAN);
        w.qualified.fill(false);
        w.reached.clear();
        for location in &self.locations {
            let memo = Memo::new(self.artifact.shared_conditions);
            let mbox = &location.mbox[parameters.min(location.mbox.len() - 1)];
            w.passed.clear();
            for (r, rule) in location.plan.rules.iter().enumerate() {
                let allocation = if rule.uses_allocation {
                    let slot = &mut w.allocations[rule.activity_index];
                    if slot.is_nan() {
                        *slot = allocation_in(
                            &mut w.hash,
                            &self.client,
                            &rule.activity_id,
                            &w.visitor,
                            "0",
                        );
                    }
                    *slot
                } else {
                    f64::NAN
                };
                let variables = RuleVariables {
                    context: &context,
                    page: location.page.as_deref(),
                    mbox,
                    allocation,
                    memo: &memo,
                };
                let audience = rule.condition.matches(&variables);
                if audience {
                    w.qualified[location.audience_of[r]] = true;
                }
                w.passed.push(
                    audience
                        && rule
                            .allocation_range
                            .is_none_or(|range| range.contains(allocation)),
                );
            }
            let passed = &w.passed;
            for r in plan::winners(&location.plan.rules, location.plan.selection, |r, _| {
                passed[r]
            }) {
                let slot = location.experience_of[r];
                if !w.reached.contains(&slot) {
                    w.reached.push(slot);
                }
            }
        }
        for &slot in &w.reached {
            w.experience_visitors[slot] += 1;
        }
        for (count, qualified) in w.audience_visitors.iter_mut().zip(&w.qualified) {
            *count += u64::from(*qualified);
        }
        user
    }

    /// Every activity's split, from the visitors per experience.
    pub fn splits(&self, experience_visitors: &[u64]) -> Vec<ActivitySplit> {
        self.activities
            .iter()
            .map(|activity| {
                let total: u64 = activity
                    .experiences
                    .iter()
                    .map(|&e| experience_visitors[e])
                    .sum();
                let ranges: Option<Vec<Span>> = activity
                    .experiences
                    .iter()
                    .map(|&e| self.experiences[e].range)
                    .collect();
                let configured_total: f64 = ranges.iter().flatten().map(|r| r.share).sum();
                let experiences = activity
                    .experiences
                    .iter()
                    .enumerate()
                    .map(|(k, &e)| {
                        let experience = &self.experiences[e];
                        ExperienceSplit {
                            id: experience.id.clone(),
                            name: experience.name.clone(),
                            visitors: experience_visitors[e],
                            share: percent(experience_visitors[e] as f64, total as f64),
                            configured_share: ranges
                                .as_ref()
                                .filter(|_| configured_total > 0.0)
                                .map(|r| percent(r[k].share, configured_total)),
                            expected_share: None,
                            range: experience.range,
                        }
                    })
                    .collect();
                ActivitySplit {
                    id: activity.id.clone(),
                    name: activity.name.clone(),
                    experiences,
                    p_value: None,
                    flagged: false,
                }
            })
            .collect()
    }

    /// Every audience's share of all `visitors`.
    pub fn audiences(&self, audience_visitors: &[u64], visitors: u64) -> Vec<AudienceShare> {
        self.audiences
            .iter()
            .zip(audience_visitors)
            .map(|(a, &count)| AudienceShare {
                activity_id: a.activity_id.clone(),
                audience_ids: a.ids.clone(),
                experiences: a.experiences.clone(),
                visitors: count,
                share: percent(count as f64, visitors as f64),
            })
            .collect()
    }

    /// The activity and experience of a tally slot, as the counting model names them.
    pub fn decision(&self, slot: usize) -> crate::counting::Decision {
        let experience = &self.experiences[slot];
        crate::counting::Decision {
            activity: self.activities[experience.activity].id.clone(),
            experience: experience.id.clone(),
        }
    }

    /// The user agent of a user agent choice.
    pub fn user_agent(&self, choice: usize) -> Option<&str> {
        self.user_agents.get(choice).and_then(|u| u.as_deref())
    }
}

fn add(into: &mut [u64], from: &[u64]) {
    into.iter_mut().zip(from).for_each(|(x, y)| *x += y);
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        part / whole * 100.0
    } else {
        0.0
    }
}

fn slot_of(
    rule: &Rule,
    experiences: &mut Vec<Experience>,
    activities: &mut Vec<Activity>,
) -> usize {
    let text = |k: &str| rule.meta.get(k).map(to_js_string).unwrap_or_default();
    let activity = match activities.iter().position(|a| a.id == rule.activity_id) {
        Some(a) => a,
        None => {
            activities.push(Activity {
                id: rule.activity_id.clone(),
                name: text("activity.name"),
                experiences: Vec::new(),
            });
            activities.len() - 1
        }
    };
    let id = text("experience.id");
    let range = rule.allocation_range.as_ref().and_then(Span::of);
    if let Some(&slot) = activities[activity]
        .experiences
        .iter()
        .find(|&&s| experiences[s].id == id)
    {
        let e = &mut experiences[slot];
        e.range = match (e.range, range) {
            (Some(a), Some(b)) if b.share > a.share => Some(b),
            (Some(a), Some(_)) => Some(a),
            _ => None,
        };
        return slot;
    }
    experiences.push(Experience {
        activity,
        id,
        name: text("experience.name"),
        range,
    });
    activities[activity].experiences.push(experiences.len() - 1);
    experiences.len() - 1
}

fn audience_of(rule: &Rule, audiences: &mut Vec<Audience>) -> usize {
    let ids: Vec<Value> = rule
        .meta
        .get("audience.ids")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let experience = rule
        .meta
        .get("experience.name")
        .or_else(|| rule.meta.get("experience.id"))
        .map(to_js_string)
        .unwrap_or_default();
    let slot = match audiences
        .iter()
        .position(|a| a.activity_id == rule.activity_id && a.ids == ids)
    {
        Some(slot) => slot,
        None => {
            audiences.push(Audience {
                activity_id: rule.activity_id.clone(),
                ids,
                experiences: Vec::new(),
            });
            audiences.len() - 1
        }
    };
    if !audiences[slot].experiences.contains(&experience) {
        audiences[slot].experiences.push(experience);
    }
    slot
}
