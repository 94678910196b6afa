//! Snapshots of the Why and Split views, rendered into a ratatui TestBackend buffer.

use mboxscope::decisioning::explain::explain;
use mboxscope::decisioning::{Artifact, DecideOptions, Engine};
use mboxscope::delivery::DeliveryRequest;
use mboxscope::tui::split::SplitView;
use mboxscope::tui::why::WhyView;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::{json, Value};
use std::sync::Arc;

fn demo() -> Artifact {
    Artifact::from_json(mboxscope::emulator::DEMO_ARTIFACT).expect("the demo artifact loads")
}

fn options() -> DecideOptions {
    // 2023-11-14T22:13Z, a Tuesday evening.
    DecideOptions::sdk("mboxscopedemo", 1_700_000_000_000)
}

fn firefox_on_sale() -> DeliveryRequest {
    serde_json::from_value(json!({"id": {"tntId": "visitor-1"}, "trace": {},
        "context": {"channel": "web",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "address": {"url": "https://shop.example/sale"}},
        "prefetch": {"mboxes": [{"name": "product-recs", "index": 1, "parameters": {"category": "Shoes"}}]}}))
    .expect("request")
}

fn render(width: u16, height: u16, draw: impl FnOnce(&mut ratatui::Frame)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal.draw(draw).expect("draws");
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let row: String = (0..width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            row.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The server's trace of the first prefetched mbox, as the engine writes it.
fn server_trace(request: &DeliveryRequest) -> Value {
    let engine = Engine::new(Arc::new(demo()), "test", 0, 0.0);
    let response = engine.decide(request, &options()).response;
    let response = serde_json::to_value(response).expect("json");
    response["prefetch"]["mboxes"][0]["trace"].clone()
}

#[test]
fn why_view_of_a_firefox_visitor_on_sale() {
    let request = firefox_on_sale();
    let explanation = explain(&demo(), &request, &options());
    let location = &explanation.locations[0];
    let screen = render(110, 22, |f| {
        f.render_widget(
            WhyView {
                location,
                trace: None,
                color: false,
            },
            f.area(),
        )
    });
    insta::assert_snapshot!("why_firefox_sale_110x22", screen);
}

#[test]
fn why_view_beside_an_agreeing_and_a_disagreeing_trace() {
    let request = firefox_on_sale();
    let explanation = explain(&demo(), &request, &options());
    let location = &explanation.locations[0];
    let trace = server_trace(&request);
    let agreeing = render(140, 24, |f| {
        f.render_widget(
            WhyView {
                location,
                trace: Some(&trace),
                color: false,
            },
            f.area(),
        )
    });
    assert!(!agreeing.contains("DISAGREES"), "{agreeing}");
    insta::assert_snapshot!("why_with_trace_140x24", agreeing);
    // The server says experience 1 (Shoes) where the local rules say 0 (Sale page).
    let mut other = trace.clone();
    other["campaigns"][0]["branchId"] = json!(1);
    let disagreeing = render(140, 24, |f| {
        f.render_widget(
            WhyView {
                location,
                trace: Some(&other),
                color: false,
            },
            f.area(),
        )
    });
    assert!(disagreeing.contains("DISAGREES"), "{disagreeing}");
    insta::assert_snapshot!("why_with_disagreeing_trace_140x24", disagreeing);
}

fn hero_split(artifact: &Artifact, expect: Option<&str>) -> (mboxscope::simulate::Simulation, u64) {
    let request: DeliveryRequest = serde_json::from_value(
        json!({"context": {"channel": "web"}, "prefetch": {"mboxes": [{"name": "home-hero", "index": 1}]}}),
    )
    .expect("request");
    let visitors = 20_000;
    let spec = mboxscope::simulate::Spec {
        visitors,
        request,
        options: options(),
        mix: Default::default(),
        seed: 0,
        expect: expect
            .map(|e| e.parse().expect("expectation"))
            .into_iter()
            .collect(),
        counting: None,
    };
    (
        mboxscope::simulate::simulate(artifact, &spec).expect("simulates"),
        visitors,
    )
}

#[test]
fn split_view_of_the_demo_hero() {
    let (simulation, visitors) = hero_split(&demo(), None);
    let screen = render(80, 10, |f| {
        f.render_widget(
            SplitView {
                activity: &simulation.activities[0],
                visitors,
                color: false,
            },
            f.area(),
        )
    });
    assert!(screen.contains("consistent"), "{screen}");
    insta::assert_snapshot!("split_demo_hero_80x10", screen);
}

#[test]
fn split_view_of_a_70_30_hero_against_an_intended_50_50() {
    let mut raw: Value = serde_json::from_slice(mboxscope::emulator::DEMO_ARTIFACT).expect("json");
    let hero = raw["rules"]["mboxes"]["home-hero"]
        .as_array_mut()
        .expect("rules");
    hero[0]["condition"] =
        json!({"and": [{"<=": [0, {"var": "allocation"}]}, {">=": [70, {"var": "allocation"}]}]});
    hero[1]["condition"] =
        json!({"and": [{"<": [70, {"var": "allocation"}]}, {">=": [100, {"var": "allocation"}]}]});
    let artifact = Artifact::from_json(&serde_json::to_vec(&raw).expect("json")).expect("loads");
    let (simulation, visitors) = hero_split(&artifact, Some("312345=50/50"));
    let screen = render(80, 12, |f| {
        f.render_widget(
            SplitView {
                activity: &simulation.activities[0],
                visitors,
                color: false,
            },
            f.area(),
        )
    });
    assert!(screen.contains("FLAGGED"), "{screen}");
    insta::assert_snapshot!("split_altered_hero_80x12", screen);
}

#[tokio::test]
async fn the_why_view_can_get_its_rules_from_a_serve_over_loopback() {
    use mboxscope::decisioning::explain::source::fetch_serve_rules;
    use mboxscope::emulator::http::{spawn, Faults, Server};
    let emulator =
        mboxscope::emulator::Emulator::new(mboxscope::emulator::DEMO_ARTIFACT, None, "demo")
            .expect("emulator");
    let server = Arc::new(Server {
        emulator: Arc::new(emulator),
        faults: Faults::default(),
        log: false,
    });
    let (base, handle) = spawn(server, "127.0.0.1:0".parse().expect("loopback"))
        .await
        .expect("listens");
    let timeout = std::time::Duration::from_secs(10);
    let fetched = fetch_serve_rules(&base, timeout).await.expect("rules");
    let request = firefox_on_sale();
    let local = explain(&demo(), &request, &options());
    let remote = explain(&fetched, &request, &options());
    assert_eq!(remote.locations[0].winners, local.locations[0].winners);
    assert_eq!(fetched.mboxes.len(), demo().mboxes.len());
    // A wrong path is a clear error, not a panic.
    let missing = fetch_serve_rules(&format!("{base}/nowhere"), timeout).await;
    let message = missing.expect_err("404").to_string();
    assert!(message.contains("HTTP 404"), "{message}");
    handle.abort();
}
