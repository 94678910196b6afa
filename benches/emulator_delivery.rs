//! The emulator's own work for one request, without HTTP: parse the DeliveryRequest, validate,
//! decide three prefetched mboxes on the production-size artifact (one is the global mbox with
//! its many rules), add state and A4T, count, and serialize the answer. `emulator_vs_nginx.sh`
//! measures the same request over real HTTP; this bench shows where the user-space part goes.

use criterion::{criterion_group, criterion_main, Criterion};
use mboxscope::emulator::Emulator;
use std::collections::HashMap;

/// The same allocator as the binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REQUEST: &[u8] = br#"{"id":{"tntId":"bench-visitor"},"context":{"channel":"web","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36","address":{"url":"http://local-target-test/home"}},
 "prefetch":{"mboxes":[{"name":"mbox-browsers","index":1},{"name":"mbox-params","index":2,"parameters":{"foo":"bar"}},{"name":"target-global-mbox","index":3}]}}"#;

fn delivery(c: &mut Criterion) {
    let artifact = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/artifacts/targettesting-production-rules.json"
    ))
    .expect("the production artifact in ../shared/fixtures");
    let emulator = Emulator::new(&artifact, None, "bench").expect("artifact loads");
    let query: HashMap<String, String> = [("client", "targettesting"), ("sessionId", "bench")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let reply = emulator.delivery(&query, REQUEST);
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    c.bench_function(
        "emulator delivery: prefetch 3 mboxes, production artifact",
        |b| b.iter(|| emulator.delivery(&query, REQUEST)),
    );
}

criterion_group!(benches, delivery);
criterion_main!(benches);
