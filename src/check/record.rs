//! Recording a check from a session: the request that was sent (its locations, context, QA
//! link, visitor) and what came back (each option's activity, experience, offer and content)
//! as the expectations, written as a scenario file that `mboxscope check` runs.

use super::expect::{content_text, token_text};
use super::scenario::{CheckFields, ExpectFields, IdOrName, TargetSection};
use crate::delivery::{
    decided_items, DeliveryRequest, DeliveryResponse, Location, Parameters, QaMode, RequestDetails,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a session could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("a check needs a name")]
    NoName,
    #[error("nothing to record: the response has no option at any location")]
    NothingShown,
    #[error("cannot write the scenario as TOML: {0}")]
    Toml(#[from] toml::ser::Error),
}

#[derive(Serialize)]
struct RecordedFile<'a> {
    #[serde(skip_serializing_if = "is_default")]
    target: &'a TargetSection,
    check: Vec<CheckFields<ExpectFields>>,
}

fn is_default(t: &&TargetSection) -> bool {
    **t == TargetSection::default()
}

/// The longest `content_contains` a recording writes (characters).
const CONTENT_SNIPPET: usize = 60;

fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parameters(p: Option<&Parameters>) -> BTreeMap<String, String> {
    p.into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), text_of(v)))
        .collect()
}

/// A QA link that gives `qa` back when read (`at_preview_*` parameters).
fn qa_url(qa: &QaMode) -> String {
    let mut url = url::Url::parse("https://qa.mboxscope.invalid/").expect("a fixed URL parses");
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("at_preview_token", qa.token.as_deref().unwrap_or_default());
        for index in qa.preview_indexes.iter().flatten() {
            if let (Some(a), Some(e)) = (index.activity_index, index.experience_index) {
                query.append_pair("at_preview_index", &format!("{a}_{e}"));
            }
        }
        if let Some(only) = qa.listed_activities_only {
            query.append_pair("at_preview_listed_activities_only", &only.to_string());
        }
        let ids = |list: &Option<Vec<i64>>| {
            list.iter()
                .flatten()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("_")
        };
        if qa.evaluate_as_true_audience_ids.is_some() {
            let value = ids(&qa.evaluate_as_true_audience_ids);
            query.append_pair("at_preview_evaluate_as_true_audience_ids", &value);
        }
        if qa.evaluate_as_false_audience_ids.is_some() {
            let value = ids(&qa.evaluate_as_false_audience_ids);
            query.append_pair("at_preview_evaluate_as_false_audience_ids", &value);
        }
    }
    url.to_string()
}

fn id_or_name(id: Option<String>, name: Option<String>) -> Option<IdOrName> {
    match (id, name) {
        (_, Some(name)) => Some(IdOrName::Text(name)),
        (Some(id), None) => Some(match id.parse::<i64>() {
            Ok(n) => IdOrName::Id(n),
            Err(_) => IdOrName::Text(id),
        }),
        (None, None) => None,
    }
}

/// The start of a string content (its first line, up to [`CONTENT_SNIPPET`] characters);
/// none for JSON or actions, whose text is not what a person sees.
fn snippet(content: &str) -> Option<String> {
    let first = content.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(first.chars().take(CONTENT_SNIPPET).collect())
}

/// The expectations a response's options make: one per option of every location.
fn expectations(response: &DeliveryResponse) -> Vec<ExpectFields> {
    let mut out: Vec<ExpectFields> = Vec::new();
    for item in decided_items(response) {
        let location = match item.location(response) {
            Location::PageLoad { .. } => "pageLoad".to_string(),
            Location::Mbox { name, .. } => name,
            Location::View { name, .. } => format!("view {name}"),
            Location::Page => continue,
        };
        for option in item.parts(response).options.into_iter().flatten() {
            let token = |key: &str| token_text(option, key);
            let content = match option.content.as_deref() {
                Some(serde_json::Value::String(_)) => snippet(&content_text(option)),
                _ => None,
            };
            let expect = ExpectFields {
                location: location.clone(),
                activity: id_or_name(token("activity.id"), None),
                experience: id_or_name(token("experience.id"), token("experience.name")),
                content_contains: content,
                response_tokens: token("offer.name")
                    .map(|offer| BTreeMap::from([("offer.name".to_string(), offer)]))
                    .unwrap_or_default(),
            };
            let says_something = expect.activity.is_some()
                || expect.experience.is_some()
                || expect.content_contains.is_some()
                || !expect.response_tokens.is_empty();
            if says_something && !out.contains(&expect) {
                out.push(expect);
            }
        }
    }
    out
}

/// A scenario file (TOML text) with one check named `name`: the locations, context, QA link,
/// property token and visitor (tntId, so A/B allocations stay put) of `request`, and what
/// `response` showed as its expectations. `target` is written as `[target]` unless empty (the
/// built-in emulator).
pub fn record_check(
    name: &str,
    target: &TargetSection,
    request: &DeliveryRequest,
    response: &DeliveryResponse,
) -> Result<String, RecordError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(RecordError::NoName);
    }
    let expect = expectations(response);
    if expect.is_empty() {
        return Err(RecordError::NothingShown);
    }
    let (mboxes, views, page_load) = match (&request.prefetch, &request.execute) {
        (Some(p), _) => (p.mboxes.as_ref(), p.views.as_ref(), p.page_load.as_ref()),
        (None, Some(e)) => (e.mboxes.as_ref(), None, e.page_load.as_ref()),
        (None, None) => (None, None, None),
    };
    let mut mbox_parameters = BTreeMap::new();
    let mut profile_parameters = BTreeMap::new();
    let mut mbox_names = Vec::new();
    for m in mboxes.into_iter().flatten() {
        let Some(name) = m.name.clone() else { continue };
        let params = parameters(m.details.parameters.as_ref());
        if !params.is_empty() {
            mbox_parameters.insert(name.clone(), params);
        }
        profile_parameters.extend(parameters(m.details.profile_parameters.as_ref()));
        mbox_names.push(name);
    }
    let details: Option<&RequestDetails> = page_load;
    profile_parameters.extend(parameters(
        details.and_then(|d| d.profile_parameters.as_ref()),
    ));
    let mut view_names: Vec<String> = views
        .into_iter()
        .flatten()
        .filter_map(|v| v.name.clone())
        .collect();
    if views.is_some_and(|v| v.iter().any(|v| v.name.is_none())) {
        // Every view was asked for: the ones that came back.
        let shown = response.prefetch.as_ref().and_then(|p| p.views.as_ref());
        view_names.extend(shown.into_iter().flatten().filter_map(|v| v.name.clone()));
    }
    view_names.dedup();
    let context = request.context.as_ref();
    let tnt_id = response
        .id
        .as_ref()
        .and_then(|id| id.tnt_id.clone())
        .or_else(|| request.id.as_ref().and_then(|id| id.tnt_id.clone()));
    let check = CheckFields {
        name: name.to_string(),
        user_agent: context.and_then(|c| c.user_agent.clone()),
        page_url: context
            .and_then(|c| c.address.as_ref())
            .and_then(|a| a.url.clone()),
        mboxes: mbox_names,
        mbox_parameters,
        views: view_names,
        page_load: page_load.is_some(),
        profile_parameters,
        geo: context.and_then(|c| c.geo.clone()),
        qa_url: request.qa_mode.as_ref().map(qa_url),
        property_token: request.property.as_ref().and_then(|p| p.token.clone()),
        tnt_id,
        visitors: None,
        time: None,
        notify: false,
        click: false,
        expect,
    };
    let body = toml::to_string(&RecordedFile {
        target,
        check: vec![check],
    })?;
    Ok(format!(
        "# Recorded by mboxscope: run it with `mboxscope check FILE`.\n# The visitor (tnt_id) is fixed so A/B allocations stay put; edit the expectations freely.\n\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::run::{prepare, run_all, Verdict};
    use crate::client::{ClientSettings, Server, TargetClient, Visitor};
    use crate::delivery::{MboxSpec, RequestSpec};
    use crate::emulator::http::{spawn, Faults, Server as EmulatorServer};
    use crate::emulator::{Emulator, DEMO_ARTIFACT};
    use std::sync::Arc;

    const FIREFOX: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_recorded_exchange_passes_when_checked_right_after() {
        let emulator = Emulator::new(DEMO_ARTIFACT, None, "demo").unwrap();
        let code = emulator.client_code().to_string();
        let server = Arc::new(EmulatorServer {
            emulator: Arc::new(emulator),
            faults: Faults::default(),
            log: false,
        });
        let (base, task) = spawn(server, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let mut settings = ClientSettings::new(Server::Url(base.clone()));
        settings.client_code = Some(code);
        let client = TargetClient::new(settings).unwrap();
        let spec = RequestSpec {
            mboxes: vec![
                MboxSpec {
                    name: "home-hero".into(),
                    parameters: vec![],
                },
                "product-recs:category=bags".parse().unwrap(),
            ],
            views: vec!["checkout".into()],
            page_load: true,
            user_agent: Some(FIREFOX.into()),
            page_url: Some("https://shop.example/bags".into()),
            ..Default::default()
        };
        let exchange = client
            .send(spec.build("r1".into()), &Visitor::fresh())
            .await
            .unwrap();
        let text = record_check(
            "recorded on the Bags page",
            &TargetSection {
                server: Some(base.clone()),
                ..Default::default()
            },
            &exchange.request,
            &exchange.response,
        )
        .unwrap();
        assert!(text.contains("experience = \"Bags\""), "{text}");
        assert!(text.contains("experience = \"Firefox visitors\""), "{text}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("recorded.toml");
        std::fs::write(&file, &text).unwrap();
        let args = crate::target::TargetArgs {
            data_dir: Some(dir.path().join("data")),
            config: Some(dir.path().join("config.toml")),
            ..Default::default()
        };
        let checks = prepare(&args, &[file]).await.unwrap();
        let results = run_all(checks, 2, |_| {}).await;
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].verdict, Verdict::Passed, "{text}");
        task.abort();
    }

    #[test]
    fn the_written_file_reads_back_as_the_same_request() {
        let spec = RequestSpec {
            mboxes: vec!["product-recs:category=shoes".parse().unwrap()],
            views: vec!["home".into()],
            page_load: true,
            page_url: Some("https://shop.example/sale".into()),
            user_agent: Some(FIREFOX.into()),
            property_token: Some("prop-1".into()),
            qa_mode: Some(
                crate::delivery::qa_mode_from_url(
                    "https://q.example/?at_preview_token=tok&at_preview_index=1_2",
                )
                .unwrap(),
            ),
            ..Default::default()
        };
        let mut request = spec.build("r".into());
        let context = request.context.as_mut().unwrap();
        context.geo = Some(crate::delivery::Geo {
            city: Some("Basel".into()),
            country_code: Some("CH".into()),
            ..Default::default()
        });
        let prefetch = request.prefetch.as_mut().unwrap();
        prefetch.mboxes.as_mut().unwrap()[0]
            .details
            .profile_parameters =
            Some(serde_json::from_value(serde_json::json!({"tier": "gold"})).unwrap());
        let response: DeliveryResponse = serde_json::from_value(serde_json::json!({
            "id": {"tntId": "visitor-1"},
            "prefetch": {"views": [{"name": "home", "options": [{"type": "actions", "content": [],
                "responseTokens": {"activity.id": "312360", "experience.id": "1", "experience.name": "Reassurance"}}]}]}
        }))
        .unwrap();
        let text = record_check("back", &TargetSection::default(), &request, &response).unwrap();
        let scenario = crate::check::scenario::parse(std::path::Path::new("r.toml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let check = &scenario.checks[0];
        assert_eq!(check.tnt_id.as_deref(), Some("visitor-1"));
        let again = check.request(&RequestSpec::default());
        let (a, b) = (
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&request).unwrap(),
        );
        for pointer in [
            "/prefetch/mboxes",
            "/prefetch/views",
            "/prefetch/pageLoad",
            "/context/geo",
            "/context/userAgent",
            "/context/address",
            "/qaMode",
            "/property",
        ] {
            let expected = match pointer {
                // Profile parameters go with every mbox and the page load.
                "/prefetch/pageLoad" => serde_json::json!({"profileParameters": {"tier": "gold"}}),
                _ => b.pointer(pointer).cloned().unwrap(),
            };
            assert_eq!(a.pointer(pointer), Some(&expected), "{pointer}\n{text}");
        }
        assert_eq!(check.expectations.len(), 1);
        assert_eq!(
            check.expectations[0].place,
            crate::check::scenario::Place::View("home".into())
        );
    }

    #[test]
    fn qa_links_read_back_as_the_same_qa_mode() {
        let link = "https://x.example/?at_preview_token=mbxqa1.MzEyMzQ1&at_preview_index=1_2&at_preview_listed_activities_only=true&at_preview_evaluate_as_true_audience_ids=7001_7002";
        let qa = crate::delivery::qa_mode_from_url(link).unwrap();
        assert_eq!(crate::delivery::qa_mode_from_url(&qa_url(&qa)).unwrap(), qa);
    }

    #[test]
    fn an_empty_name_or_an_empty_response_is_refused() {
        let request = DeliveryRequest::default();
        let response = DeliveryResponse::default();
        let target = TargetSection::default();
        assert!(matches!(
            record_check(" ", &target, &request, &response),
            Err(RecordError::NoName)
        ));
        assert!(matches!(
            record_check("n", &target, &request, &response),
            Err(RecordError::NothingShown)
        ));
    }
}
