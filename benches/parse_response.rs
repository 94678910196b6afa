//! Parsing a 1 MB prefetch response into the wire model as the client reads it
//! (`DeliveryResponse::from_json`) and building the SDK views (§4), against serde_json
//! reading the same bytes into a `Value`. Reported as throughput (MB/s); the target (#19) is
//! `parse_1MB_and_build_views` at least twice `parse_1MB_as_value`.
//!
//! Criterion measures the functions one after another, so this machine's drift between their
//! windows enters the ratio of its figures. After them, the ratio is also measured interleaved:
//! rounds of a block of each, in alternating order, and the median of the rounds' ratios.

use criterion::{criterion_group, Criterion, Throughput};
use mboxscope::client::views;
use mboxscope::delivery::DeliveryResponse;
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

/// The same allocator as the binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A real-shaped prefetch response of about `size` bytes: mboxes with html and json options,
/// response tokens, click metrics and A4T payloads, views with actions, a pageLoad.
fn prefetch_response(size: usize) -> Vec<u8> {
    let mut mboxes = Vec::new();
    let mut i = 0;
    loop {
        let option = if i % 2 == 0 {
            json!({"type": "html", "content": format!("<div class=\"hero\" id=\"m{i}\"><h1>Spring sale {i}</h1><p>{}</p><a id=\"cta\" href=\"/sale\">Shop</a></div>", "Free shipping on every order over fifty dollars. ".repeat(4)),
                "eventToken": "XoXF6byz+xl/hHDOMv31BWqipfsIHvVzTQxHolz2IpSCnQ9Y9OaLL2gsdrWQTvE54PwSz67rmXWmSnkXpSSS2Q==",
                "responseTokens": {"activity.id": 312345 + i, "activity.name": "Spring hero", "experience.id": 1, "experience.name": "Experience B", "offer.id": 880101, "option.id": 3, "activity.decisioningMethod": "server-side"}})
        } else {
            json!({"type": "json", "content": {"layout": "grid", "items": [{"sku": "SH-100", "title": "Trail runner", "price": 119.0}, {"sku": "SH-200", "title": "City loafer", "price": 89.5}]},
                "eventToken": "avr5zuTFMrtFi7QuWrscBpNWHtnQtQrJfmRrQugEa2qCnQ9Y9OaLL2gsdrWQTvE54PwSz67rmXWmSnkXpSSS2Q==",
                "responseTokens": {"activity.id": 312350, "experience.id": 2, "experience.name": "Shoes"}})
        };
        mboxes.push(json!({"index": i + 1, "name": format!("mbox-{i}"), "state": "J+W1Fq18hxliDDJonTPfV0S+mzxapAO3d14M43EsM9f12ab",
            "options": [option],
            "metrics": [{"type": "click", "selector": "#cta", "eventToken": "6Tx9Vm1vMuTR4Y1rFfDPbZ8=", "analytics": {"payload": {"pe": "tnt", "tnta": "312345:1:0|32767"}}}],
            "analytics": {"payload": {"pe": "tnt", "tnta": format!("{}:1:0|2", 312345 + i)}}}));
        i += 1;
        if i % 50 == 0 && serde_json::to_vec(&mboxes).unwrap().len() > size {
            break;
        }
    }
    let body = json!({"status": 200, "requestId": "d5875232-4fc5-4405-b2f2-c8cf97ee5e34", "client": "demo", "id": {"tntId": "123.35_0"},
        "edgeHost": "mboxedge35.tt.omtrdc.net",
        "prefetch": {"mboxes": mboxes,
            "views": [{"name": "home", "options": [{"type": "actions", "content": [{"type": "setHtml", "selector": "#banner", "cssSelector": "#banner", "content": "Free returns"}], "eventToken": "1zIHw4w+hPht4NV5MyssK4usK1YQ35VnRXpXdevZO4L+"}]}],
            "pageLoad": {"options": [{"type": "json", "content": {"a": 1}, "eventToken": "XoXF6byz"}], "state": "s"}}});
    serde_json::to_vec(&body).unwrap()
}

/// What `parse_1MB_and_build_views` measures: the client's parse and the views the TUI shows.
fn parse_and_build_views(body: &[u8]) -> impl Sized {
    let response = DeliveryResponse::from_json(body).expect("valid response");
    let analytics = views::analytics_details(&response);
    let traces = views::traces(&response);
    let tokens = views::response_tokens(&response);
    let meta = views::meta(&response);
    let counts = (analytics.len(), traces.len(), tokens.len(), meta);
    (counts, response)
}

/// What `parse_1MB_as_value` measures.
fn parse_as_value(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("valid")
}

/// Seconds `runs` calls of `f` take (each result dropped inside the timing, as criterion does).
fn time_block<T>(runs: u32, f: impl Fn() -> T) -> f64 {
    let start = Instant::now();
    for _ in 0..runs {
        black_box(f());
    }
    start.elapsed().as_secs_f64()
}

/// The throughput ratio of the two, measured interleaved: `ROUNDS` rounds of a block of each
/// (which goes first alternates), the median of the rounds' ratios printed with their range.
fn interleaved_ratio(body: &[u8]) {
    const ROUNDS: usize = 21;
    // About 50 ms per block on this kind of machine.
    let runs = (0.05 / time_block(3, || parse_as_value(body)) * 3.0).clamp(1.0, 200.0) as u32;
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            let (views, value) = if round % 2 == 0 {
                let views = time_block(runs, || parse_and_build_views(body));
                (views, time_block(runs, || parse_as_value(body)))
            } else {
                let value = time_block(runs, || parse_as_value(body));
                (time_block(runs, || parse_and_build_views(body)), value)
            };
            value / views
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "prefetch_response: parse_1MB_and_build_views / parse_1MB_as_value throughput, \
         interleaved: {:.2}x (median of {ROUNDS} rounds of {runs} parses each; range {:.2}-{:.2}x; target: at least 2x)",
        ratios[ROUNDS / 2],
        ratios[0],
        ratios[ROUNDS - 1]
    );
}

fn bench(c: &mut Criterion) {
    let body = prefetch_response(1024 * 1024);
    let mut group = c.benchmark_group("prefetch_response");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse_1MB_and_build_views", |b| {
        b.iter(|| parse_and_build_views(&body))
    });
    group.bench_function("parse_1MB_only", |b| {
        b.iter(|| DeliveryResponse::from_json(&body).expect("valid"))
    });
    group.bench_function("parse_1MB_as_value", |b| b.iter(|| parse_as_value(&body)));
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    let args: Vec<String> = std::env::args().collect();
    let measuring = args.iter().any(|a| a == "--bench")
        && !args.iter().any(|a| a == "--list" || a == "--profile-time");
    if measuring {
        interleaved_ratio(&prefetch_response(1024 * 1024));
    }
    Criterion::default().configure_from_args().final_summary();
}
