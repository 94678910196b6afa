//! Deciding a DeliveryRequest on device, as Adobe's SDKs do: rule selection, response
//! post-processing (tokens, macros, traces) and the display notifications of execute.

use super::allocation::{allocation_visitor_id, VisitorAllocations};
use super::artifact::{Artifact, Rule};
use super::context::{mbox_context, page_context, RequestContext, RuleVariables};
use super::jsonlogic::{to_js_string, Memo};
use super::qa::QaTests;
use super::trace::{RequestTracer, TraceFrame};

mod telemetry;
use crate::delivery::*;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How one decision is made (everything that is not in the request).
#[derive(Debug, Clone)]
pub struct DecideOptions {
    /// Client code (defaults to the artifact's).
    pub client: String,
    /// The clock, in milliseconds since the epoch.
    pub now_ms: i64,
    pub session_id: Option<String>,
    /// A geo lookup result; it fills what the request's `context.geo` lacks.
    pub geo: Option<Geo>,
    /// Send SDK telemetry with the auto-notifications (the SDKs' default).
    pub telemetry: bool,
    /// Keep the metrics of prefetched mboxes and pageLoad as Target's edge does (the SDKs drop them).
    pub prefetch_mbox_metrics: bool,
    /// Activity QA, as Target's edge applies `qaMode` (the SDKs decide without it).
    pub qa: Option<super::qa::QaPlan>,
    /// Answer as Target's edge does (string response tokens, no `activity.decisioningMethod`)
    /// rather than as the SDKs do.
    pub edge: bool,
    /// More response tokens for every option (the visitor's `profile.*`, on the edge).
    pub extra_tokens: Map<String, Value>,
}

impl DecideOptions {
    /// Options for `client` at `now_ms` as the SDKs decide on device: no session, no geo, no
    /// telemetry, no prefetch metrics, no QA, SDK-shaped answers, no extra tokens. Callers set
    /// what differs with `DecideOptions { field, ..DecideOptions::sdk(client, now_ms) }`.
    pub fn sdk(client: impl Into<String>, now_ms: i64) -> DecideOptions {
        DecideOptions {
            client: client.into(),
            now_ms,
            session_id: None,
            geo: None,
            telemetry: false,
            prefetch_mbox_metrics: false,
            qa: None,
            edge: false,
            extra_tokens: Map::new(),
        }
    }
}

/// The result of one decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub response: DeliveryResponse,
    /// The notification request an SDK would send by itself (execute displays, telemetry).
    pub notification_request: Option<DeliveryRequest>,
    pub remote_mboxes: Vec<String>,
    pub remote_views: Vec<String>,
    /// Every rule that matched, in response order.
    pub matched: Vec<Matched>,
}

/// A rule that matched: which location it answered and for which activity and experience.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    pub mode: Mode,
    pub kind: ItemKind,
    /// The mbox or view name (the global mbox for pageLoad).
    pub name: Option<String>,
    pub index: Option<i64>,
    pub activity_id: serde_json::Value,
    pub experience_id: serde_json::Value,
}

/// The on-device decisioning engine over one artifact.
pub struct Engine {
    artifact: Arc<Artifact>,
    artifact_trace: Value,
    /// The SDK sends one telemetry entry for the artifact load with its first notification.
    artifact_telemetry: Mutex<Option<TelemetryEntry>>,
}

impl Engine {
    /// An engine over `artifact`; `location` names where it came from (for traces).
    pub fn new(artifact: Arc<Artifact>, location: &str, loaded_at_ms: i64, load_ms: f64) -> Engine {
        let mut trace = Map::new();
        trace.insert("artifactLocation".into(), json!(location));
        trace.insert("pollingInterval".into(), json!(0));
        trace.insert("pollingHalted".into(), json!(true));
        trace.insert("artifactVersion".into(), json!(artifact.version));
        trace.insert("artifactRetrievalCount".into(), json!(1));
        trace.insert("artifactLastRetrieved".into(), json!(iso8601(loaded_at_ms)));
        trace.extend(artifact.meta.clone());
        let artifact_entry = TelemetryEntry {
            request_id: Some(crate::ids::uuid_string()),
            timestamp: Some(loaded_at_ms),
            execution: serde_json::Number::from_f64(load_ms),
            ..Default::default()
        };
        Engine {
            artifact,
            artifact_trace: Value::Object(trace),
            artifact_telemetry: Mutex::new(Some(artifact_entry)),
        }
    }

    /// The artifact this engine decides with, shared.
    pub fn shared_artifact(&self) -> Arc<Artifact> {
        self.artifact.clone()
    }

    /// The artifact this engine decides with.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// Decides `request`.
    pub fn decide(&self, request: &DeliveryRequest, options: &DecideOptions) -> Decision {
        let started = Instant::now();
        let artifact = &*self.artifact;
        let geo = resolve_geo(request, options.geo.as_ref());
        let context = RequestContext::new(request, options.now_ms, geo.as_ref());
        let visitor =
            allocation_visitor_id(request.id.as_ref()).unwrap_or_else(crate::ids::uuid_string);
        let property_token = request.property.as_ref().and_then(|p| p.token.clone());
        let frame = request.trace.as_ref().map(|_| TraceFrame {
            client_code: options.client.clone(),
            artifact: self.artifact_trace.clone(),
            profile: trace_profile(request.id.as_ref()),
            session_id: options.session_id.clone(),
        });
        let response_tokens = {
            let mut tokens = geo_response_tokens(artifact, &context.geo, options.edge);
            tokens.extend(options.extra_tokens.clone());
            tokens
        };
        let mut decider = Decider {
            artifact,
            options,
            context: &context,
            property_token: property_token.as_deref(),
            only_on_device_token: !options.edge
                && response_tokens == super::artifact::on_device_token(),
            response_tokens,
            notifications: Vec::new(),
            seen_display_keys: HashSet::new(),
            matched: Vec::new(),
            allocations: vec![None; artifact.activity_count],
            hasher: VisitorAllocations::new(&options.client, &visitor, "0"),
        };
        let execute = request
            .execute
            .as_ref()
            .map(|e| decider.execute(e, frame.as_ref()));
        let prefetch = request
            .prefetch
            .as_ref()
            .map(|p| decider.prefetch(p, frame.as_ref()));
        let notifications = std::mem::take(&mut decider.notifications);
        let matched = std::mem::take(&mut decider.matched);
        let (remote_mboxes, remote_views) = remote_dependencies(artifact, request);
        let remote = !remote_mboxes.is_empty() || !remote_views.is_empty();
        let mut response = DeliveryResponse {
            status: Some(if remote { 206 } else { 200 }),
            request_id: request.request_id.clone(),
            id: Some(request.id.clone().unwrap_or_default()),
            client: Some(options.client.clone()),
            execute,
            prefetch,
            ..Default::default()
        };
        if remote {
            response
                .extra
                .insert("remoteMboxes".into(), json!(remote_mboxes));
            response
                .extra
                .insert("remoteViews".into(), json!(remote_views));
        }
        let telemetry = options
            .telemetry
            .then(|| self.telemetry_entries(request, started));
        let notification_request =
            (!notifications.is_empty() || telemetry.is_some()).then(|| DeliveryRequest {
                id: request.id.clone(),
                context: request.context.clone(),
                experience_cloud: request.experience_cloud.clone(),
                notifications: (!notifications.is_empty()).then_some(notifications),
                telemetry: telemetry.map(|entries| Telemetry {
                    entries: Some(entries),
                    ..Default::default()
                }),
                ..Default::default()
            });
        Decision {
            response,
            notification_request,
            remote_mboxes,
            remote_views,
            matched,
        }
    }
}

use crate::clock::iso8601;

/// The request's `context.geo`, completed by a geo lookup result.
pub(crate) fn resolve_geo(request: &DeliveryRequest, lookup: Option<&Geo>) -> Option<Geo> {
    let from_request = request.context.as_ref().and_then(|c| c.geo.clone());
    match (from_request, lookup) {
        (None, None) => None,
        (Some(g), None) => Some(g),
        (None, Some(l)) => Some(l.clone()),
        (Some(mut g), Some(l)) => {
            g.country_code = g.country_code.or_else(|| l.country_code.clone());
            g.state_code = g.state_code.or_else(|| l.state_code.clone());
            g.city = g.city.or_else(|| l.city.clone());
            g.latitude = g.latitude.or_else(|| l.latitude.clone());
            g.longitude = g.longitude.or_else(|| l.longitude.clone());
            Some(g)
        }
    }
}

fn trace_profile(id: Option<&VisitorId>) -> Value {
    let mut visitor = id
        .and_then(|i| serde_json::to_value(i).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    if let Some(tnt) = id.and_then(|i| i.tnt_id.as_deref()) {
        let mut parts = tnt.split('.');
        visitor.insert("tntId".into(), json!(parts.next().unwrap_or_default()));
        if let Some(location) = parts.next() {
            visitor.insert("profileLocation".into(), json!(location));
        }
    }
    json!({ "visitorId": visitor })
}

fn geo_response_tokens(artifact: &Artifact, geo: &Value, edge: bool) -> Map<String, Value> {
    let mut tokens = Map::new();
    if !edge {
        tokens.extend(super::artifact::on_device_token());
    }
    for (token, field) in [
        ("geo.city", "city"),
        ("geo.country", "country"),
        ("geo.state", "region"),
        ("geo.latitude", "latitude"),
        ("geo.longitude", "longitude"),
    ] {
        if artifact.response_tokens.iter().any(|t| t == token) {
            if let Some(v) = geo.get(field) {
                tokens.insert(token.into(), v.clone());
            }
        }
    }
    if edge {
        tokens = super::artifact::edge_tokens(&tokens);
    }
    tokens
}

fn remote_dependencies(
    artifact: &Artifact,
    request: &DeliveryRequest,
) -> (Vec<String>, Vec<String>) {
    let mut requested_mboxes: Vec<&str> = Vec::new();
    for list in [
        request.execute.as_ref().and_then(|e| e.mboxes.as_ref()),
        request.prefetch.as_ref().and_then(|p| p.mboxes.as_ref()),
    ]
    .into_iter()
    .flatten()
    {
        for m in list {
            if let Some(name) = m.name.as_deref() {
                if !requested_mboxes.contains(&name) {
                    requested_mboxes.push(name);
                }
            }
        }
    }
    let views = request.prefetch.as_ref().and_then(|p| p.views.as_ref());
    let requested_views: Vec<&str> = views
        .into_iter()
        .flatten()
        .filter_map(|v| v.name.as_deref())
        .filter(|n| !n.is_empty())
        .collect();
    let mut remote_mboxes: Vec<String> = Vec::new();
    let add = |list: &mut Vec<String>, name: &str| {
        if !list.iter().any(|n| n == name) {
            list.push(name.to_string());
        }
    };
    for name in &artifact.remote_mboxes {
        if requested_mboxes.contains(&name.as_str()) {
            add(&mut remote_mboxes, name);
        }
    }
    for name in &requested_mboxes {
        if !artifact.local_mboxes.iter().any(|l| l == name) {
            add(&mut remote_mboxes, name);
        }
    }
    let mut remote_views: Vec<String> = Vec::new();
    if views.is_some_and(|v| !v.is_empty()) && requested_views.is_empty() {
        remote_views = artifact.remote_views.clone();
    } else {
        for name in &artifact.remote_views {
            if requested_views.contains(&name.as_str()) {
                add(&mut remote_views, name);
            }
        }
        for name in &requested_views {
            if !artifact.local_views.iter().any(|l| l == name) {
                add(&mut remote_views, name);
            }
        }
    }
    (remote_mboxes, remote_views)
}

/// A matched rule's answer while it is post-processed.
#[derive(Default)]
struct Outcome {
    name: Option<String>,
    index: Option<i64>,
    options: Vec<TargetOption>,
    metrics: Vec<Metric>,
    trace: Option<Value>,
}

/// What is being decided: its JSON (for traces and macros), parameters and own page.
struct Place<'a> {
    kind: ItemKind,
    name: Option<&'a str>,
    index: Option<i64>,
    source: Source<'a>,
    /// The request object as JSON, made only when a trace or a macro needs it.
    json: std::cell::OnceCell<Value>,
    mbox: Value,
    page: Option<Arc<Value>>,
    /// The shared sub-conditions already tested here.
    memo: Memo,
}

/// The request object a location was asked for in.
#[derive(Clone, Copy)]
enum Source<'a> {
    Mbox(&'a MboxRequest),
    View(&'a ViewRequest),
    PageLoad(&'a RequestDetails, &'a str),
}

impl super::macros::MacroSource for Place<'_> {
    fn json(&self) -> &Value {
        Place::json(self)
    }

    fn name(&self) -> Option<&str> {
        self.name
    }
}

impl<'a> Place<'a> {
    fn new(
        artifact: &Artifact,
        kind: ItemKind,
        name: Option<&'a str>,
        index: Option<i64>,
        source: Source<'a>,
    ) -> Self {
        let details = match source {
            Source::Mbox(m) => &m.details,
            Source::View(v) => &v.details,
            Source::PageLoad(d, _) => d,
        };
        Place {
            kind,
            name,
            index,
            source,
            json: std::cell::OnceCell::new(),
            mbox: mbox_context(details.parameters.as_ref()),
            page: details.address.as_ref().map(|a| page_context(Some(a))),
            memo: Memo::new(artifact.shared_conditions),
        }
    }

    fn json(&self) -> &Value {
        self.json.get_or_init(|| match self.source {
            Source::Mbox(m) => serde_json::to_value(m).unwrap_or_default(),
            Source::View(v) => serde_json::to_value(v).unwrap_or_default(),
            Source::PageLoad(d, global) => {
                let mut json = serde_json::to_value(d).unwrap_or_default();
                if let Some(map) = json.as_object_mut() {
                    map.insert("name".into(), json!(global));
                }
                json
            }
        })
    }
}

struct Decider<'a> {
    artifact: &'a Artifact,
    options: &'a DecideOptions,
    context: &'a RequestContext,
    property_token: Option<&'a str>,
    response_tokens: Map<String, Value>,
    /// Whether `response_tokens` is the on-device token alone (the rules have those prepared).
    only_on_device_token: bool,
    notifications: Vec<Notification>,
    seen_display_keys: HashSet<String>,
    matched: Vec<Matched>,
    allocations: Vec<Option<f64>>,
    hasher: VisitorAllocations,
}

impl<'a> Decider<'a> {
    fn execute(&mut self, request: &ExecuteRequest, frame: Option<&TraceFrame>) -> ExecuteResponse {
        let mut tracer = frame.map(|f| RequestTracer::new(f, self.artifact.environment()));
        let mode = Mode::Execute;
        ExecuteResponse {
            mboxes: request.mboxes.as_ref().map(|list| {
                list.iter()
                    .flat_map(|m| self.mbox(mode, m, &mut tracer))
                    .collect()
            }),
            page_load: request
                .page_load
                .as_ref()
                .map(|p| self.page_load(mode, p, &mut tracer)),
            ..Default::default()
        }
    }

    fn prefetch(
        &mut self,
        request: &PrefetchRequest,
        frame: Option<&TraceFrame>,
    ) -> PrefetchResponse {
        let mut tracer = frame.map(|f| RequestTracer::new(f, self.artifact.environment()));
        let mode = Mode::Prefetch;
        PrefetchResponse {
            mboxes: request.mboxes.as_ref().map(|list| {
                list.iter()
                    .flat_map(|m| self.mbox(mode, m, &mut tracer))
                    .collect()
            }),
            views: request.views.as_ref().map(|list| {
                list.iter()
                    .flat_map(|v| self.view(v, &mut tracer))
                    .collect()
            }),
            page_load: request
                .page_load
                .as_ref()
                .map(|p| self.page_load(mode, p, &mut tracer)),
            ..Default::default()
        }
    }

    fn rules_for(&self, list: Option<&'a Vec<Rule>>) -> impl Iterator<Item = &'a Rule> + 'a {
        let token = self.property_token;
        list.into_iter().flatten().filter(move |rule| {
            let tokens = rule.property_tokens.as_deref().unwrap_or(&[]);
            match token {
                None => tokens.is_empty(),
                Some(t) => tokens.is_empty() || tokens.iter().any(|x| x == t),
            }
        })
    }

    fn mbox(
        &mut self,
        mode: Mode,
        request: &MboxRequest,
        tracer: &mut Option<RequestTracer>,
    ) -> Vec<MboxResponse> {
        let name = request.name.as_deref().unwrap_or("");
        let location = Place::new(
            self.artifact,
            ItemKind::Mbox,
            Some(name),
            request.index,
            Source::Mbox(request),
        );
        let is_global = name == self.artifact.global_mbox;
        let outcomes = self.decide_mbox(mode, name, &location, is_global, tracer);
        if outcomes.is_empty() && !is_global {
            return vec![MboxResponse {
                name: Some(name.to_string()),
                index: request.index,
                trace: tracer.as_ref().map(|t| t.result()),
                ..Default::default()
            }];
        }
        outcomes
            .into_iter()
            .map(|o| MboxResponse {
                index: o.index,
                name: o.name,
                options: Some(o.options),
                metrics: (!o.metrics.is_empty()).then_some(o.metrics),
                trace: o.trace,
                ..Default::default()
            })
            .collect()
    }

    fn decide_mbox(
        &mut self,
        mode: Mode,
        name: &str,
        location: &Place,
        is_global: bool,
        tracer: &mut Option<RequestTracer>,
    ) -> Vec<Outcome> {
        if let Some(t) = tracer.as_mut() {
            t.trace_request(
                mode.as_str(),
                "mbox",
                location.json(),
                self.page_of(location),
            );
        }
        // A mbox other than the global one answers with its first matching rule.
        let mut outcomes = Vec::with_capacity(if is_global { 4 } else { 1 });
        // Few rules match per request: a list beats hashing every rule key (the global mbox's
        // only: another mbox stops at its first match).
        let mut matched_keys: Vec<u32> = Vec::new();
        for rule in self.rules_for(self.artifact.mboxes.get(name)) {
            if is_global && matched_keys.contains(&rule.key_index) {
                continue;
            }
            if self.applies(rule, location, tracer) {
                outcomes.push(self.outcome(mode, rule, location, tracer));
                if !is_global {
                    break;
                }
                matched_keys.push(rule.key_index);
            }
        }
        outcomes
    }

    fn page_load(
        &mut self,
        mode: Mode,
        details: &RequestDetails,
        tracer: &mut Option<RequestTracer>,
    ) -> PageLoadResponse {
        let global = self.artifact.global_mbox.clone();
        let location = Place::new(
            self.artifact,
            ItemKind::PageLoad,
            Some(&global),
            None,
            Source::PageLoad(details, &global),
        );
        let outcomes = self.decide_mbox(mode, &global, &location, true, tracer);
        let trace = outcomes.iter().rev().find_map(|o| o.trace.clone());
        let mut metrics: Vec<Metric> = Vec::new();
        let mut options = Vec::new();
        for o in outcomes {
            options.extend(o.options);
            for m in o.metrics {
                // One metric per eventToken; a later one replaces an earlier one in place.
                match metrics.iter_mut().find(|x| x.event_token == m.event_token) {
                    Some(existing) => *existing = m,
                    None => metrics.push(m),
                }
            }
        }
        PageLoadResponse {
            options: Some(options),
            metrics: (!metrics.is_empty()).then_some(metrics),
            trace,
            ..Default::default()
        }
    }

    fn view(
        &mut self,
        request: &ViewRequest,
        tracer: &mut Option<RequestTracer>,
    ) -> Vec<ViewResponse> {
        let name = request.name.as_deref().filter(|n| !n.is_empty());
        let location = Place::new(
            self.artifact,
            ItemKind::View,
            name,
            None,
            Source::View(request),
        );
        if let Some(t) = tracer.as_mut() {
            t.trace_request("prefetch", "view", location.json(), self.page_of(&location));
        }
        let rules: Vec<&Rule> = match name {
            Some(n) => self.rules_for(self.artifact.views.get(n)).collect(),
            None => {
                let all: Vec<&'a Rule> = self.artifact.views.values().flatten().collect();
                let token = self.property_token;
                all.into_iter()
                    .filter(|rule| {
                        let tokens = rule.property_tokens.as_deref().unwrap_or(&[]);
                        tokens.is_empty() || token.is_some_and(|t| tokens.iter().any(|x| x == t))
                    })
                    .collect()
            }
        };
        let mut merged: indexmap::IndexMap<String, Outcome> = indexmap::IndexMap::new();
        let mut matched_keys: Vec<u32> = Vec::new();
        for rule in rules {
            if matched_keys.contains(&rule.key_index) {
                continue;
            }
            if self.applies(rule, &location, tracer) {
                let outcome = self.outcome(Mode::Prefetch, rule, &location, tracer);
                matched_keys.push(rule.key_index);
                let key = outcome.name.clone().unwrap_or_default();
                match merged.get_mut(&key) {
                    Some(existing) => {
                        existing.options.extend(outcome.options);
                        existing.metrics.extend(outcome.metrics);
                    }
                    None => {
                        merged.insert(key, outcome);
                    }
                }
            }
        }
        merged
            .into_values()
            .map(|o| ViewResponse {
                name: o.name,
                options: Some(o.options),
                // Views keep their metrics list, empty or not, as the SDKs return it.
                metrics: Some(o.metrics),
                trace: o.trace,
                ..Default::default()
            })
            .collect()
    }

    fn page_of<'l>(&'l self, location: &'l Place) -> &'l Value {
        location.page.as_deref().unwrap_or(&self.context.page)
    }

    /// The visitor's allocation in a rule's activity, hashed once per activity and request.
    fn allocation(&mut self, rule: &Rule) -> f64 {
        if let Some(a) = self.allocations.get(rule.activity_index).copied().flatten() {
            return a;
        }
        let a = self.hasher.of(&rule.activity_id_units);
        if let Some(slot) = self.allocations.get_mut(rule.activity_index) {
            *slot = Some(a);
        }
        a
    }

    /// Whether `rule` answers at `location` (under QA, for the visitor's allocation, for the
    /// audience); traced. Most rules of a request do not: only those that do build an answer.
    /// Inlined into its two loops: a call per rule cost more than most rules' test.
    #[inline(always)]
    fn applies(
        &mut self,
        rule: &Rule,
        location: &Place,
        tracer: &mut Option<RequestTracer>,
    ) -> bool {
        let qa = match &self.options.qa {
            Some(plan) => {
                let experience = rule
                    .meta
                    .get("experience.id")
                    .map(to_js_string)
                    .unwrap_or_default();
                match plan.tests(rule, &experience) {
                    Some(tests) => tests,
                    None => return false,
                }
            }
            None => QaTests {
                allocation: true,
                audience: true,
            },
        };
        // Traces show the allocation whether or not the condition reads it.
        let allocation = if !qa.allocation {
            // A forced experience: any allocation inside its range.
            forced_allocation(rule)
        } else if rule.uses_allocation || tracer.is_some() {
            self.allocation(rule)
        } else {
            f64::NAN
        };
        let vars = RuleVariables {
            context: self.context,
            page: location.page.as_deref(),
            mbox: &location.mbox,
            allocation,
            memo: &location.memo,
        };
        let satisfied = (!qa.allocation
            || rule
                .allocation_range
                .is_none_or(|range| range.contains(allocation)))
            && (!qa.audience || rule.condition.matches(&vars));
        if let Some(t) = tracer.as_mut() {
            t.trace_rule(rule, || vars.to_json(), satisfied);
        }
        satisfied
    }

    /// The answer of a rule that [`applies`](Self::applies).
    #[inline(never)]
    fn outcome(
        &mut self,
        mode: Mode,
        rule: &Rule,
        location: &Place,
        tracer: &mut Option<RequestTracer>,
    ) -> Outcome {
        let consequence = &rule.consequence;
        self.matched.push(Matched {
            mode,
            kind: location.kind,
            name: consequence
                .name
                .clone()
                .or_else(|| location.name.map(str::to_string)),
            index: location.index,
            activity_id: rule.meta_ids.0.clone(),
            experience_id: rule.meta_ids.1.clone(),
        });
        let mut outcome = Outcome {
            name: consequence.name.clone(),
            index: location.index,
            options: consequence.options.clone(),
            metrics: Vec::new(),
            trace: None,
        };
        match mode {
            Mode::Execute => {
                self.add_display_notification(rule, &outcome, tracer);
                outcome
                    .options
                    .retain(|o| o.option_type.is_some() || o.content.is_some());
                for option in &mut outcome.options {
                    option.event_token = None;
                }
                outcome.metrics = consequence
                    .metrics
                    .iter()
                    .filter(|m| m.metric_type.as_deref() == Some("click"))
                    .cloned()
                    .collect();
            }
            Mode::Prefetch => {
                for (i, option) in outcome.options.iter_mut().enumerate() {
                    if option.event_token.is_none() {
                        if let Some(m) = consequence
                            .metrics
                            .get(i)
                            .filter(|m| m.metric_type.as_deref() == Some("display"))
                        {
                            option.event_token = m.event_token.clone();
                        }
                    }
                }
                if location.kind == ItemKind::View || self.options.prefetch_mbox_metrics {
                    outcome.metrics = consequence.metrics.clone();
                }
            }
        }
        let own = if self.options.edge {
            &rule.edge_response_tokens
        } else {
            &rule.response_tokens
        };
        let tokens = if self.response_tokens.is_empty() {
            own.clone()
        } else if self.only_on_device_token {
            rule.on_device_response_tokens.clone()
        } else {
            let mut merged = (**own).clone();
            merged.extend(
                self.response_tokens
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            Prepared::new(merged)
        };
        for option in &mut outcome.options {
            option.response_tokens = Some(tokens.clone());
            if rule.options_have_macros {
                super::macros::replace_macros(option, rule, location);
            }
        }
        if let Some(t) = tracer.as_ref() {
            outcome.trace = Some(t.result());
        }
        if location.kind == ItemKind::PageLoad {
            outcome.index = None;
            outcome.name = None;
        }
        outcome
    }

    fn add_display_notification(
        &mut self,
        rule: &Rule,
        outcome: &Outcome,
        tracer: &mut Option<RequestTracer>,
    ) {
        let name = outcome.name.clone().unwrap_or_default();
        let tokens: Vec<String> = outcome
            .options
            .iter()
            .filter_map(|o| o.event_token.clone())
            .filter(|token| self.seen_display_keys.insert(format!("{name}-{token}")))
            .collect();
        if tokens.is_empty() {
            return;
        }
        let notification = Notification {
            id: Some(crate::ids::uuid_string()),
            impression_id: Some(crate::ids::uuid_string()),
            timestamp: Some(self.options.now_ms),
            notification_type: Some("display".into()),
            mbox: Some(NotificationMbox {
                name: Some(name),
                ..Default::default()
            }),
            tokens: Some(tokens),
            ..Default::default()
        };
        if let Some(t) = tracer.as_mut() {
            t.trace_notification(
                rule,
                serde_json::to_value(&notification).unwrap_or_default(),
            );
        }
        self.notifications.push(notification);
    }
}

/// Substitutes `${campaign.id}`, `${mbox.name}`, … in html and actions content.
/// An allocation inside a rule's range (the lowest, to 0.01), for an experience QA forces.
fn forced_allocation(rule: &Rule) -> f64 {
    match &rule.allocation_range {
        Some(range) => (0..10_000)
            .map(|i| f64::from(i) / 100.0)
            .find(|a| range.contains(*a))
            .unwrap_or(0.0),
        None => 0.0,
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    static ENGINE: std::sync::LazyLock<Engine> = std::sync::LazyLock::new(|| {
        let bytes = std::fs::read(format!(
            "{}/../shared/fixtures/artifacts/targettesting-production-rules.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("production artifact");
        Engine::new(
            Arc::new(Artifact::from_json(&bytes).expect("loads")),
            "test",
            0,
            0.0,
        )
    });

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("name".to_string()),
                        Just("index".to_string()),
                        Just("parameters".to_string()),
                        ".{0,8}".prop_map(|s| s)
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Whatever a request holds, deciding it never panics.
        #[test]
        fn evaluation_never_panics(
            mbox in prop_oneof![Just("mbox-params".to_string()), Just("target-global-mbox".to_string()), ".{0,10}"],
            params in prop::collection::btree_map(".{0,10}", ".{0,10}", 0..5),
            url in ".{0,40}",
            ua in ".{0,60}",
            extra in arbitrary_json(),
            now in any::<i64>(),
        ) {
            let engine = &*ENGINE;
            let request: DeliveryRequest = serde_json::from_value(json!({
                "id": {"tntId": "t.1_0"},
                "context": {"channel": "web", "userAgent": ua, "address": {"url": url, "referringUrl": url}},
                "trace": {},
                "execute": {"mboxes": [{"name": mbox, "index": 1, "parameters": params}], "pageLoad": {"parameters": {}}},
                "prefetch": {"mboxes": [{"name": mbox, "index": 1, "address": {"url": url}}], "views": [{}], "pageLoad": {}},
                "extra": extra,
            })).expect("request");
            let options = DecideOptions { client: "c".into(), now_ms: now / 2, session_id: None, geo: None, telemetry: true, prefetch_mbox_metrics: false, qa: None, edge: false, extra_tokens: Map::new() };
            let _ = engine.decide(&request, &options);
        }
    }
}
