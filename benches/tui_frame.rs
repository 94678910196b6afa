//! Drawing one frame at 200x60 with a response of 5,000 mboxes × 2 options (target: under
//! 2 ms), and the peak memory of the TUI holding that response (target: under 80 MB).

use criterion::{criterion_group, criterion_main, Criterion};
use mboxscope::client::{cookies, TargetResponse, Visitor};
use mboxscope::delivery::{DeliveryResponse, RequestSpec};
use mboxscope::tui::app::{update, Action, App, TabId};
use mboxscope::tui::view::{draw, Theme};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn big_response() -> TargetResponse {
    // Written as text, as it would arrive: no intermediate JSON tree inflates the peak.
    let mut body =
        String::from(r#"{"status":200,"client":"demo","id":{"tntId":"t"},"prefetch":{"mboxes":["#);
    for i in 0..5000 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            concat!(
                r##"{{"index":{},"name":"mbox-{}","state":"J+W1Fq18hxliDDJonTPfV0S+mzxapAO3d14M43EsM9f","options":["##,
                r##"{{"type":"html","content":"<div class=\"hero\">Offer {}</div>","eventToken":"token-{}-a","##,
                r##""responseTokens":{{"activity.id":312345,"activity.name":"Spring hero","experience.id":1,"experience.name":"Experience B"}}}},"##,
                r##"{{"type":"json","content":{{"sku":"SKU-{}","price":19.5}},"eventToken":"token-{}-b","responseTokens":{{"activity.id":312350,"experience.name":"Shoes"}}}}],"##,
                r##""metrics":[{{"type":"click","selector":"#cta","eventToken":"click-{}"}}],"analytics":{{"payload":{{"pe":"tnt","tnta":"312345:1:0|2"}}}}}}"##
            ),
            i + 1, i, i, i, i, i, i
        ));
    }
    body.push_str("]}}");
    let body = body.into_bytes();
    let response: DeliveryResponse = serde_json::from_slice(&body).unwrap();
    TargetResponse {
        request: Default::default(),
        session_id: "s".into(),
        request_url: "http://127.0.0.1:1/rest/v1/delivery".into(),
        request_headers: Vec::new(),
        request_body: bytes::Bytes::from_static(b"{}"),
        status: 200,
        response_headers: Vec::new(),
        response_body: body.into(),
        duration: Duration::from_millis(4),
        started_at_ms: 0,
        response: response.into(),
        target_cookie: cookies::target_cookie("s", Some("t"), 0),
        target_location_hint_cookie: None,
    }
}

/// A memory figure of this process from /proc/self/status (`VmRSS`, `VmHWM`), in MB.
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn bench(c: &mut Criterion) {
    let response = big_response();
    let before = status_mb("VmRSS:");
    let mut app = App::new(
        "bench".into(),
        false,
        None,
        RequestSpec::default(),
        Visitor::fresh(),
    );
    update(&mut app, Action::Answered(Ok(Box::new(response))));
    println!("the TUI state for the response: {:.1} MB (resident, after building the test response: {before:.1} MB)", status_mb("VmRSS:") - before);
    app.selected = 7_500;
    println!(
        "rows: {}; peak memory with the response loaded: {:.1} MB (target: under 80 MB)",
        app.rows.len(),
        status_mb("VmHWM:")
    );
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let theme = Theme { color: true };
    for tab in [TabId::Request, TabId::Response] {
        app.tab = tab;
        c.bench_function(
            &format!("draw_200x60_5000_mboxes_tab{}", tab.index() + 1),
            |b| {
                b.iter(|| {
                    terminal.draw(|f| draw(f, &app, theme)).unwrap();
                })
            },
        );
    }
    println!("peak memory after drawing: {:.1} MB", status_mb("VmHWM:"));
}

criterion_group!(benches, bench);
criterion_main!(benches);
