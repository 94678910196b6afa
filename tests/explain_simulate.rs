//! Acceptance of issue #15: `decide --explain` and `simulate`, through the real binary.

mod common;

use mboxscope::clock::days_from_civil;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

fn suites_dir() -> PathBuf {
    common::fixtures().join("target-sdk-testing")
}

fn demo_artifact() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo/rules.json")
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(common::bin())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(bytes)
            .expect("request written");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("the binary ends")
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `mockDate` (JavaScript month, 0-based) as milliseconds since the epoch.
fn mock_now(mock: &Value) -> i64 {
    let field = |k: &str| mock.get(k).and_then(Value::as_i64).unwrap_or(0);
    let days = days_from_civil(field("year"), field("month") + 1, {
        mock.get("date").and_then(Value::as_i64).unwrap_or(1)
    });
    ((days * 24 + field("hours")) * 60 + field("minutes")) * 60_000 + field("seconds") * 1000
}

/// `mockGeo` (the geo service's headers) as a `--geo` lookup result.
fn mock_geo(mock: &Value) -> Value {
    let text = |k: &str| mock.get(k).cloned().unwrap_or(Value::Null);
    let number = |k: &str| match mock.get(k) {
        Some(Value::String(s)) => s.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    json!({"countryCode": text("x-geo-country-code"), "stateCode": text("x-geo-region-code"),
        "city": text("x-geo-city"), "latitude": number("x-geo-latitude"),
        "longitude": number("x-geo-longitude")})
}

/// A rule of the artifact JSON, by location, rule key and experience id.
fn artifact_rule<'a>(
    artifact: &'a Value,
    kind: &str,
    names: &[&str],
    key: &str,
    experience: &str,
) -> Option<&'a Value> {
    let section = if kind == "view" { "views" } else { "mboxes" };
    let rules = &artifact["rules"][section];
    let lists: Vec<&Value> = if names.is_empty() {
        rules.as_object()?.values().collect()
    } else {
        names.iter().filter_map(|n| rules.get(*n)).collect()
    };
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .find(|r| js(&r["ruleKey"]) == key && js(&r["meta"]["experience.id"]) == experience)
}

fn js(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether `rule` can have produced the expected option: its eventToken, its response
/// tokens' activity and experience, or its content (campaign macros match anything).
fn produces(rule: &Value, expected: &Value) -> bool {
    let options = rule["consequence"]["options"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(token) = expected["eventToken"]
        .as_str()
        .filter(|t| !t.starts_with("expect"))
    {
        return options.iter().any(|o| o["eventToken"] == token);
    }
    let tokens = &expected["responseTokens"];
    if tokens.get("experience.id").is_some() {
        return js(&tokens["experience.id"]) == js(&rule["meta"]["experience.id"])
            && js(&tokens["activity.id"]) == js(&rule["meta"]["activity.id"]);
    }
    let want = expected["content"].to_string();
    options.iter().any(|o| {
        let pattern = regex::escape(&o["content"].to_string());
        let pattern = regex::Regex::new(r"\\\$\\\{[^}]*\\\}")
            .expect("macro pattern")
            .replace_all(&pattern, ".*")
            .into_owned();
        regex::Regex::new(&format!("^{pattern}$")).is_ok_and(|re| re.is_match(&want))
    })
}

/// The winners of the explanation location answering `expected` (an output entry).
fn winners_for<'a>(
    explanation: &'a Value,
    mode: &str,
    kind: &str,
    expected: &Value,
) -> Vec<&'a Value> {
    let locations = explanation["locations"].as_array().expect("locations");
    // A trace-only entry names its mbox in the trace.
    let request = &expected["trace"]["request"];
    let traced = if kind == "view" {
        &request["view"]
    } else {
        &request["mbox"]
    };
    let index = expected.get("index").or_else(|| traced.get("index"));
    let name = expected.get("name").unwrap_or(&traced["name"]);
    locations
        .iter()
        .filter(|l| l["mode"] == mode && l["kind"] == kind)
        .filter(|l| match kind {
            "mbox" => match index {
                Some(index) => &l["index"] == index,
                None => &l["name"] == name,
            },
            "view" => l["name"] == "" || &l["name"] == name,
            _ => true,
        })
        .flat_map(|l| l["rules"].as_array().expect("rules"))
        .filter(|r| r["verdict"]["outcome"] == "won")
        .collect()
}

/// Checks one case's explanation against what its expected output implies; returns how
/// many locations it checked.
fn check_case(case_name: &str, case: &Value, artifact: &Value, explanation: &Value) -> usize {
    let mut checked = 0;
    let output = case.get("output").filter(|o| !o.is_null());
    for mode in ["execute", "prefetch"] {
        let Some(section) = output.and_then(|o| o.get(mode)) else {
            continue;
        };
        let mut entries: Vec<(&str, &Value)> = Vec::new();
        for (key, kind) in [("mboxes", "mbox"), ("views", "view")] {
            for entry in section
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                entries.push((kind, entry));
            }
        }
        if let Some(page_load) = section.get("pageLoad") {
            entries.push(("pageLoad", page_load));
        }
        for (kind, entry) in entries {
            let names: Vec<&str> = match kind {
                "pageLoad" => vec![artifact["globalMbox"]
                    .as_str()
                    .unwrap_or("target-global-mbox")],
                _ => entry["name"].as_str().into_iter().collect(),
            };
            let won: Vec<&Value> = winners_for(explanation, mode, kind, entry)
                .into_iter()
                .filter(|w| {
                    kind != "view"
                        || artifact_rule(
                            artifact,
                            kind,
                            &names,
                            &js(&w["rule_key"]),
                            &js(&w["experience_id"]),
                        )
                        .is_some()
                })
                .collect();
            let won_pairs: Vec<(String, String)> = won
                .iter()
                .map(|w| (js(&w["activity_id"]), js(&w["experience_id"])))
                .collect();
            let context = format!(
                "{case_name} {mode} {kind} {}: winners {won_pairs:?}",
                entry["name"]
            );
            if let Some(options) = entry.get("options").and_then(Value::as_array) {
                let rules: Vec<&Value> = won
                    .iter()
                    .map(|w| {
                        artifact_rule(
                            artifact,
                            kind,
                            &names,
                            &js(&w["rule_key"]),
                            &js(&w["experience_id"]),
                        )
                        .unwrap_or_else(|| panic!("{context}: winner not in the artifact"))
                    })
                    .collect();
                for option in options {
                    assert!(
                        rules.iter().any(|r| produces(r, option)),
                        "{context}: no winner produces {option}"
                    );
                }
                // Execute drops options with neither type nor content: such a winner shows nothing.
                let visible = |rule: &&&Value| {
                    mode == "prefetch"
                        || rule["consequence"]["options"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|o| o.get("type").is_some() || o.get("content").is_some())
                };
                for rule in rules.iter().filter(visible) {
                    assert!(
                        options.iter().any(|o| produces(rule, o)),
                        "{context}: winner {} produced nothing expected",
                        rule["meta"]
                    );
                }
            } else if let Some(campaigns) = entry["trace"]["campaigns"].as_array() {
                let mut want: Vec<(String, String)> = campaigns
                    .iter()
                    .map(|c| (js(&c["id"]), js(&c["branchId"])))
                    .collect();
                let mut got = won_pairs.clone();
                want.sort();
                got.sort();
                got.dedup();
                assert_eq!(got, want, "{context}: the trace's campaigns");
            } else {
                assert!(
                    won.is_empty(),
                    "{context}: expected no option, so no winner"
                );
            }
            checked += 1;
        }
    }
    // Execute's display notifications carry the winners' eventTokens, per mbox.
    if let Some(notifications) = case["notificationOutput"]["request"]["notifications"].as_array() {
        for n in notifications {
            let name = n["mbox"]["name"].as_str().unwrap_or_default();
            let tokens: Vec<&Value> = n["tokens"].as_array().into_iter().flatten().collect();
            let kind = if name == artifact["globalMbox"] {
                "pageLoad"
            } else {
                "mbox"
            };
            let won = winners_for(explanation, "execute", kind, &json!({"name": name}));
            let rules: Vec<&Value> = won
                .iter()
                .filter_map(|w| {
                    artifact_rule(
                        artifact,
                        "mbox",
                        &[name],
                        &js(&w["rule_key"]),
                        &js(&w["experience_id"]),
                    )
                })
                .collect();
            assert_eq!(
                rules.len(),
                won.len(),
                "{case_name}: winners of {name} not in the artifact"
            );
            for token in &tokens {
                assert!(
                    rules.iter().any(|r| r["consequence"]["options"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|o| &&o["eventToken"] == token)),
                    "{case_name}: notified token {token} of {name} comes from no winner"
                );
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn explain_names_the_winning_rule_every_suite_case_implies() {
    let dir = suites_dir();
    let mut suites: Vec<PathBuf> = std::fs::read_dir(dir.join("models"))
        .expect("suites")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    suites.sort();
    let (mut cases, mut checked) = (0, 0);
    for path in suites {
        let suite: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("suite")).expect("json");
        for (name, case) in suite["test"].as_object().expect("cases") {
            let artifact_name = case
                .get("artifact")
                .or_else(|| suite.get("artifact"))
                .and_then(Value::as_str)
                .expect("artifact");
            let artifact_path = dir.join("artifacts").join(format!("{artifact_name}.json"));
            let artifact: Value =
                serde_json::from_slice(&std::fs::read(&artifact_path).expect("artifact"))
                    .expect("json");
            let mut conf = suite["conf"].as_object().cloned().unwrap_or_default();
            conf.extend(case["conf"].as_object().cloned().unwrap_or_default());
            let client = conf
                .get("client")
                .and_then(Value::as_str)
                .unwrap_or("someClientId");
            let request = serde_json::to_vec(&case["input"]["request"]).expect("request");
            let now = case
                .get("mockDate")
                .map(mock_now)
                .unwrap_or(1_600_000_000_000)
                .to_string();
            let mut args = vec![
                "decide",
                "--client",
                client,
                "--explain",
                "--json",
                "--now",
                &now,
                "--artifact",
                artifact_path.to_str().expect("path"),
            ];
            let geo = case.get("mockGeo").map(|g| mock_geo(g).to_string());
            if let Some(geo) = &geo {
                args.extend(["--geo", geo]);
            }
            let explanation: Value =
                serde_json::from_str(&stdout_of(&run(&args, Some(&request)))).expect("JSON");
            let label = format!(
                "{} {name}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            checked += check_case(&label, case, &artifact, &explanation);
            cases += 1;
        }
    }
    assert!(cases >= 50, "only {cases} cases ran");
    assert!(checked >= 55, "only {checked} locations were checked");
}

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";

#[test]
fn a_firefox_visitor_on_sale_is_explained_by_the_browser_and_the_url_conditions() {
    let request = json!({"id": {"tntId": "visitor-1"}, "context": {"channel": "web",
        "userAgent": FIREFOX, "address": {"url": "https://shop.example/sale?campaign=spring"}},
        "prefetch": {"mboxes": [{"name": "product-recs", "index": 1}], "pageLoad": {}}});
    let bytes = serde_json::to_vec(&request).expect("request");
    let artifact = demo_artifact();
    let artifact = artifact.to_str().expect("path");
    let args = [
        "decide",
        "--artifact",
        artifact,
        "--explain",
        "--now",
        "1700000000000",
    ];
    let text = stdout_of(&run(&args, Some(&bytes)));
    let line_with = |needles: &[&str]| {
        text.lines()
            .find(|l| needles.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{text}"))
            .to_string()
    };
    assert!(line_with(&["held", "browser", "user.browserType = \"firefox\""]).contains("firefox"));
    line_with(&[
        "held",
        "page URL",
        "/sale",
        "page.url_lc = \"https://shop.example/sale",
    ]);
    line_with(&["Firefox visitors", "WON"]);
    line_with(&["Sale page", "WON"]);
    line_with(&["Shoes", "not reached: experience 0 Sale page won first"]);
    let json_args = [&args[..], &["--json"]].concat();
    let explanation: Value =
        serde_json::from_str(&stdout_of(&run(&json_args, Some(&bytes)))).expect("JSON");
    let recs = &explanation["locations"][0];
    assert_eq!(recs["name"], "product-recs");
    assert_eq!(recs["rules"][0]["conditions"][0]["category"], "page");
    assert_eq!(recs["rules"][0]["verdict"]["outcome"], "won");
    let banner = &explanation["locations"][1]["rules"][1];
    assert_eq!(banner["conditions"][0]["category"], "browser");
    assert_eq!(banner["conditions"][0]["reads"][0]["value"], "firefox");
    assert_eq!(banner["verdict"]["outcome"], "won");
}

fn simulate_json(args: &[&str]) -> Value {
    let mut all = vec!["simulate", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&stdout_of(&run(&all, None))).expect("simulate prints JSON")
}

fn activity<'a>(simulation: &'a Value, id: &str) -> &'a Value {
    simulation["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("activity {id} in {simulation}"))
}

#[test]
fn the_demo_hero_splits_fifty_fifty_over_100000_visitors() {
    let simulation = simulate_json(&["--mbox", "home-hero"]);
    assert_eq!(simulation["visitors"], 100_000);
    let hero = activity(&simulation, "312345");
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(hero),
        ["experiences", "flagged", "id", "name", "p_value"]
    );
    let experiences = hero["experiences"].as_array().expect("experiences");
    assert_eq!(experiences.len(), 2);
    let mut visitors = 0;
    for e in experiences {
        assert_eq!(
            keys(e),
            [
                "configured_share",
                "expected_share",
                "id",
                "name",
                "share",
                "visitors"
            ]
        );
        let share = e["share"].as_f64().expect("share");
        assert!((49.0..=51.0).contains(&share), "share {share} in {hero}");
        let configured = e["configured_share"].as_f64().expect("configured");
        assert!((configured - 50.0).abs() < 0.02, "{configured}");
        visitors += e["visitors"].as_u64().expect("visitors");
    }
    assert_eq!(visitors, 100_000);
    let p = hero["p_value"].as_f64().expect("p-value");
    assert!(p > 0.001, "p = {p}");
    assert_eq!(hero["flagged"], false);
}

#[test]
fn a_hero_altered_to_70_30_is_flagged_against_an_intended_50_50() {
    let mut artifact: Value =
        serde_json::from_slice(&std::fs::read(demo_artifact()).expect("demo")).expect("json");
    let hero = artifact["rules"]["mboxes"]["home-hero"]
        .as_array_mut()
        .expect("hero rules");
    hero[0]["condition"] =
        json!({"and": [{"<=": [0, {"var": "allocation"}]}, {">=": [70, {"var": "allocation"}]}]});
    hero[1]["condition"] =
        json!({"and": [{"<": [70, {"var": "allocation"}]}, {">=": [100, {"var": "allocation"}]}]});
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rules-70-30.json");
    std::fs::write(&path, serde_json::to_vec(&artifact).expect("json")).expect("written");
    let path = path.to_str().expect("path");
    let common = [
        "--artifact",
        path,
        "--mbox",
        "home-hero",
        "--visitors",
        "20000",
    ];
    let expected = simulate_json(&[&common[..], &["--expect", "312345=50/50"]].concat());
    let hero = activity(&expected, "312345");
    assert_eq!(hero["flagged"], true, "{hero}");
    assert!(hero["p_value"].as_f64().expect("p") < 0.001);
    assert_eq!(hero["experiences"][0]["expected_share"], 50.0);
    let share = hero["experiences"][0]["share"].as_f64().expect("share");
    assert!((69.0..=71.0).contains(&share), "{share}");
    // Against its own (altered) configuration the split is what the rules say.
    let configured = activity(&simulate_json(&common), "312345").clone();
    assert_eq!(configured["flagged"], false, "{configured}");
    assert!(
        (configured["experiences"][0]["configured_share"]
            .as_f64()
            .expect("c")
            - 70.0)
            .abs()
            < 0.02
    );
    // The text names the verdict.
    let text = stdout_of(&run(
        &[
            &["simulate"][..],
            &common[..],
            &["--expect", "312345=50/50"],
        ]
        .concat(),
        None,
    ));
    assert!(text.contains("FLAGGED"), "{text}");
}

fn library_options(client: &str) -> mboxscope::decisioning::DecideOptions {
    mboxscope::decisioning::DecideOptions::sdk(client, 1_700_000_000_000)
}

const CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36";

#[test]
fn simulate_decides_every_visitor_as_the_engine_does() {
    use mboxscope::decisioning::jsonlogic::to_js_string;
    use mboxscope::decisioning::{Artifact, Engine};
    use mboxscope::delivery::{DeliveryRequest, VisitorId};
    use std::collections::{BTreeMap, BTreeSet};
    let production = common::fixtures().join("artifacts/targettesting-production-rules.json");
    let cases = [
        (
            demo_artifact(),
            json!({"context": {"channel": "web", "userAgent": FIREFOX,
                "address": {"url": "https://shop.example/sale"}},
                "prefetch": {"mboxes": [{"name": "home-hero", "index": 1},
                    {"name": "product-recs", "index": 2, "parameters": {"category": "bags"}}],
                    "views": [{}], "pageLoad": {}}}),
        ),
        (
            production,
            json!({"context": {"channel": "web", "userAgent": CHROME,
                "address": {"url": "http://local-target-test/home?bar=true"}},
                "prefetch": {"mboxes": [{"name": "mbox-browsers", "index": 1},
                    {"name": "mbox-params", "index": 2, "parameters": {"foo": "bar"}},
                    {"name": "target-global-mbox", "index": 3}]}}),
        ),
    ];
    for (path, request) in cases {
        let artifact =
            Artifact::from_json(&std::fs::read(&path).expect("artifact")).expect("loads");
        let options = library_options(artifact.client_code().expect("client"));
        let request: DeliveryRequest = serde_json::from_value(request).expect("request");
        let visitors = 3_000;
        let simulation = mboxscope::simulate::split_for(&artifact, &request, &options, visitors)
            .expect("simulates");
        let engine = Engine::new(std::sync::Arc::new(artifact), "test", 0, 0.0);
        let mut want: BTreeMap<(String, String), u64> = BTreeMap::new();
        for i in 0..visitors {
            let mut one = request.clone();
            one.id = Some(VisitorId {
                tnt_id: Some(format!("sim-{i}")),
                ..Default::default()
            });
            let decided: BTreeSet<(String, String)> = engine
                .decide(&one, &options)
                .matched
                .iter()
                .map(|m| (to_js_string(&m.activity_id), to_js_string(&m.experience_id)))
                .collect();
            for key in decided {
                *want.entry(key).or_default() += 1;
            }
        }
        let got: BTreeMap<(String, String), u64> = simulation
            .activities
            .iter()
            .flat_map(|a| {
                a.experiences
                    .iter()
                    .filter(|e| e.visitors > 0)
                    .map(|e| ((a.id.clone(), e.id.clone()), e.visitors))
            })
            .collect();
        assert!(want.len() >= 3, "{want:?}");
        assert_eq!(got, want, "{}", path.display());
    }
}

#[test]
fn the_counting_what_if_counts_as_the_counting_model_does() {
    use mboxscope::decisioning::Artifact;
    use mboxscope::simulate::{simulate, CountingRates, Mix, Spec};
    let artifact =
        Artifact::from_json(&std::fs::read(demo_artifact()).expect("demo")).expect("loads");
    let request: mboxscope::delivery::DeliveryRequest =
        serde_json::from_value(json!({"context": {"channel": "web", "userAgent": FIREFOX},
        "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}))
        .expect("request");
    let run = |rates: CountingRates, mix: Mix| {
        let spec = Spec {
            visitors: 4_000,
            request: request.clone(),
            options: library_options("mboxscopedemo"),
            mix,
            seed: 7,
            expect: Vec::new(),
            counting: Some(rates),
        };
        let simulation = simulate(&artifact, &spec).expect("simulates");
        let visitors: Vec<u64> = simulation.activities[0]
            .experiences
            .iter()
            .map(|e| e.visitors)
            .collect();
        (visitors, simulation.counting.expect("counts"))
    };
    // Every call executed and its content notified as well: Target counts it twice.
    let (visitors, counts) = run(
        CountingRates {
            notify: 1.0,
            execute: 1.0,
        },
        Mix::default(),
    );
    assert_eq!(counts.len(), 2);
    for (c, v) in counts.iter().zip(&visitors) {
        assert_eq!(
            (c.impressions, c.visits, c.visitors),
            (2 * v, *v, *v),
            "{c:?}"
        );
    }
    // Prefetch only, half the pages notify: about half the visitors are counted, once.
    let (visitors, counts) = run(
        CountingRates {
            notify: 0.5,
            execute: 0.0,
        },
        Mix::default(),
    );
    for (c, v) in counts.iter().zip(&visitors) {
        assert_eq!(c.impressions, c.visitors);
        let ratio = c.visitors as f64 / *v as f64;
        assert!((0.4..0.6).contains(&ratio), "{ratio}");
    }
    // Bots count nothing.
    let mut bots = Mix::default();
    bots.add_user_agent("Googlebot/2.1 (+http://www.google.com/bot.html)")
        .expect("mix");
    let (_, counts) = run(
        CountingRates {
            notify: 1.0,
            execute: 1.0,
        },
        bots,
    );
    assert!(counts.is_empty(), "{counts:?}");
}

#[test]
fn bad_simulate_and_explain_input_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mix = dir.path().join("mix.toml");
    std::fs::write(&mix, "[[hours]]\nday = 8\nhour = 1\n").expect("mix");
    let mix = mix.to_str().expect("path");
    let cases: [(&[&str], &str); 6] = [
        (&["simulate"], "nothing to simulate"),
        (
            &["simulate", "--mbox", "home-hero", "--expect", "312345"],
            "ACTIVITY=SHARE",
        ),
        (
            &["simulate", "--mbox", "home-hero", "--expect", "999=50/50"],
            "activity 999",
        ),
        (
            &[
                "simulate",
                "--mbox",
                "home-hero",
                "--expect",
                "312345=1/1/1",
            ],
            "2 experiences, 3 shares",
        ),
        (&["simulate", "--mbox", "home-hero", "--mix", mix], "day 8"),
        (
            &["simulate", "--mbox", "home-hero", "--notify-rate", "1.5"],
            "--notify-rate must be between 0 and 1",
        ),
    ];
    for (args, needle) in cases {
        let output = run(&[args, &["--visitors", "100"]].concat(), None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    }
    let artifact = demo_artifact();
    let output = run(
        &[
            "decide",
            "--artifact",
            artifact.to_str().expect("path"),
            "--explain",
        ],
        Some(b"{not json"),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a DeliveryRequest"), "{stderr}");
}
