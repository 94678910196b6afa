//! Counting truth: the ledger's expected counts equal what a real `mboxscope serve` counted,
//! over real HTTP, for random multi-visitor sessions (with and without faults), and the
//! six-visitor session of issue #10 through the binary.

mod common;

use common::*;
use mboxscope::client::{ClientSettings, Server, TargetClient, Visitor};
use mboxscope::counting::Report;
use mboxscope::delivery::{
    clicks_for, displays_for, DeliveryRequest, MboxSpec, Mode, RequestSpec, VisitorId,
};
use mboxscope::ledger::compare::compare;
use mboxscope::ledger::deliver::{deliver, RetryPolicy};
use mboxscope::ledger::{record, ImpressionId, Ledger, NewNotification};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

fn report(emulator: &Emulator) -> Report {
    serde_json::from_value(emulator.get("/report")).expect("a typed /report")
}

/// One random visitor's page views against one server, all through the ledger.
struct Driver<'a> {
    rng: &'a mut StdRng,
    client: TargetClient,
    ledger: Ledger,
    /// No impressionId-less notifications where faults make their outcome unknowable.
    faults: bool,
}

impl Driver<'_> {
    async fn call(
        &self,
        request: DeliveryRequest,
        visitor: &Visitor,
        mode: Mode,
    ) -> mboxscope::client::TargetResponse {
        // Lost answers are retried with the same request (an execute keeps its impressionId).
        for _ in 0..50 {
            match self.client.send(request.clone(), visitor).await {
                Ok(r) => return r,
                Err(e) if e.is_retryable() => continue,
                Err(e) => panic!("{mode:?} failed: {e}"),
            }
        }
        panic!("{mode:?}: no answer in 50 attempts");
    }

    async fn page_view(&mut self, visitor: &VisitorId, session: &str, ua: &str) {
        let mode = if self.rng.random_bool(0.25) {
            Mode::Execute
        } else {
            Mode::Prefetch
        };
        let mut mboxes = vec![MboxSpec {
            name: "home-hero".into(),
            parameters: Vec::new(),
        }];
        if self.rng.random_bool(0.6) {
            mboxes.push(MboxSpec {
                name: "product-recs".into(),
                parameters: if self.rng.random_bool(0.5) {
                    vec![("category".into(), "shoes".into())]
                } else {
                    Vec::new()
                },
            });
        }
        let spec = RequestSpec {
            mode,
            mboxes,
            page_load: self.rng.random_bool(0.3),
            visitor: visitor.clone(),
            analytics_logging: Some("client_side".into()),
            user_agent: Some(ua.into()),
            ..Default::default()
        };
        let mut request = spec.build(uuid());
        if mode == Mode::Execute {
            request.impression_id = Some(uuid());
        }
        let as_visitor = Visitor {
            session_id: session.into(),
            tnt_id: visitor.tnt_id.clone(),
            location_hint: None,
            last_call_ms: None,
        };
        let response = self.call(request, &as_visitor, mode).await;
        self.ledger
            .record(vec![record::response_event(
                mode,
                &response.request,
                &response.session_id,
                &response.response,
            )])
            .unwrap();
        if mode == Mode::Execute {
            return;
        }
        let who = response.response.id.clone().unwrap_or_default();
        // The notifications may go out in another session (a changed sessionId).
        let notify_session = if self.rng.random_bool(0.15) {
            uuid().replace('-', "")
        } else {
            response.session_id.clone()
        };
        let mut list = Vec::new();
        for n in displays_for(&response.response)
            .into_iter()
            .chain(clicks_for(&response.response))
        {
            if self.rng.random_bool(0.3) {
                continue; // prefetched, never notified
            }
            let impression = match self.rng.random_range(0..10) {
                0 if !self.faults => ImpressionId::Omitted,
                1 => ImpressionId::Given(format!("shared-{}", self.rng.random_range(0..3))),
                _ => ImpressionId::New,
            };
            list.push(NewNotification {
                context: response.request.context.clone(),
                response: response.request.request_id.clone(),
                impression,
                ..NewNotification::new(
                    n.kind,
                    who.clone(),
                    notify_session.clone(),
                    n.location,
                    n.tokens,
                )
            });
        }
        let again = self.rng.random_bool(0.1);
        self.ledger.queue_all(list.clone(), false).unwrap();
        // Repeats: the same notifications again (the ledger reuses them), or as a new
        // impression (`--again`).
        if self.rng.random_bool(0.2) {
            self.ledger.queue_all(list, again).unwrap();
        }
    }

    /// Sends everything pending until it is acknowledged or rejected.
    async fn flush(&mut self) {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        };
        for _ in 0..20 {
            if self.ledger.pending().is_empty() {
                return;
            }
            deliver(&mut self.ledger, &self.client, &[], &policy)
                .await
                .unwrap();
        }
        panic!(
            "{} notifications never acknowledged",
            self.ledger.pending().len()
        );
    }
}

fn uuid() -> String {
    mboxscope::ids::uuid_string()
}

async fn random_sessions(seed: u64, sessions: usize, fault_rate: &str) {
    let emulator = Emulator::start(&["--fault-rate", fault_rate]);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut settings = ClientSettings::new(Server::Url(emulator.url.clone()));
    settings.timeout = Duration::from_secs(5);
    let client = TargetClient::new(settings).unwrap();
    let ledger = Ledger::open(&dir.path().join("journal.jsonl")).unwrap();
    let faults = fault_rate != "0";
    let mut driver = Driver {
        rng: &mut rng,
        client,
        ledger,
        faults,
    };
    for _ in 0..sessions {
        let visitors = driver.rng.random_range(1..=3);
        for _ in 0..visitors {
            // tntId, or only an MCID (the emulator mints nothing for it), or a returning one.
            let visitor = match driver.rng.random_range(0..10) {
                0..=1 => VisitorId {
                    marketing_cloud_visitor_id: Some(format!(
                        "mcid-{}",
                        driver.rng.random_range(0..1000)
                    )),
                    ..Default::default()
                },
                2 => VisitorId {
                    tnt_id: Some("returning-visitor".into()),
                    ..Default::default()
                },
                _ => VisitorId {
                    tnt_id: Some(uuid()),
                    ..Default::default()
                },
            };
            let ua = if driver.rng.random_bool(0.1) {
                GOOGLEBOT
            } else {
                CHROME
            };
            let session = uuid().replace('-', "");
            for _ in 0..driver.rng.random_range(1..=3) {
                driver.page_view(&visitor, &session, ua).await;
            }
        }
        driver.flush().await;
    }
    let counted = report(&emulator);
    let expected = driver.ledger.expected_since(counted.since).unwrap();
    let comparison = compare(&expected, Ok(&counted));
    assert!(
        !comparison.rows.is_empty(),
        "seed {seed}: the sessions counted nothing"
    );
    assert_eq!(
        comparison.mismatches(),
        0,
        "seed {seed}, fault rate {fault_rate}: expected ≠ counted:\n{}",
        comparison.text(&[])
    );
    // The same holds when the journal is read again from disk.
    let reread = Ledger::open_read_only(driver.ledger.path()).unwrap();
    assert_eq!(
        compare(&reread.expected(), Ok(&counted)).mismatches(),
        0,
        "seed {seed}: from the journal on disk"
    );
    if faults {
        assert!(
            counted.notifications.duplicates > 0,
            "seed {seed}: faults should have made the ledger resend some notifications"
        );
    }
}

fn seed() -> u64 {
    std::env::var("MBOXSCOPE_COUNTING_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let s = rand::random::<u64>() % 1_000_000;
            eprintln!("counting property test seed {s} (MBOXSCOPE_COUNTING_SEED={s} repeats it)");
            s
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn expected_equals_counted_for_random_sessions() {
    random_sessions(seed(), 150, "0").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expected_equals_counted_for_random_sessions_under_faults() {
    random_sessions(seed().wrapping_add(1), 120, "0.3").await;
}

/// Issue #10's session: six visitors prefetch `home-hero` and `product-recs`; four are notified
/// with `notify --from`, one (Googlebot) too, one never.
#[test]
fn six_visitors_through_the_binary_expected_equals_counted() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let prefetch = |n: usize, ua: &str| {
        let out = run(mboxscope(dir.path())
            .args(["prefetch", "--server", &emulator.url, "--user-agent", ua])
            .args(["--mbox", "home-hero", "--mbox", "product-recs"]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let saved = dir.path().join(format!("visitor-{n}.json"));
        std::fs::write(&saved, &out.stdout).unwrap();
        let tnt = stdout_json(&out)["response"]["id"]["tntId"]
            .as_str()
            .unwrap()
            .to_string();
        (saved, tnt)
    };
    let visitors: Vec<(std::path::PathBuf, String)> =
        (1..=5).map(|n| prefetch(n, CHROME)).collect();
    let (bot_file, bot_tnt) = prefetch(6, GOOGLEBOT);
    let notify = |file: &std::path::Path| {
        let out = run(mboxscope(dir.path()).args([
            "notify",
            "--server",
            &emulator.url,
            "--from",
            file.to_str().unwrap(),
        ]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout_json(&out)
    };
    for (file, _) in &visitors[..4] {
        notify(file);
    }
    let before_bot = report(&emulator);
    let bot = notify(&bot_file);
    assert_eq!(
        bot["reply"]["request"]["context"]["userAgent"], GOOGLEBOT,
        "the bot's notification carries its user agent"
    );
    let after_bot = report(&emulator);
    assert_eq!(
        before_bot.activities, after_bot.activities,
        "the bot's notification counts nothing"
    );
    assert_eq!(
        after_bot.notifications.received, 10,
        "4 visitors and the bot, 2 each"
    );

    let out = run(mboxscope(dir.path()).args(["report", "--json", "--server", &emulator.url]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report_json = stdout_json(&out);
    let rows = report_json["comparison"]["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["expected"], row["counted"], "{row}");
    }
    let impressions: u64 = rows
        .iter()
        .map(|r| r["counted"]["impressions"].as_u64().unwrap())
        .sum();
    assert_eq!(impressions, 8, "4 visitors × 2 mboxes");
    let findings = report_json["findings"].as_array().unwrap();
    let of_rule = |rule: &str| -> Vec<&serde_json::Value> {
        findings.iter().filter(|f| f["rule"] == rule).collect()
    };
    let unnotified = of_rule("prefetched-not-notified");
    assert_eq!(unnotified.len(), 2, "{findings:#?}");
    for f in &unnotified {
        assert_eq!(f["visitor"], visitors[4].1.as_str(), "{f}");
        for key in ["location", "activity", "experience", "response", "at"] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    assert!(of_rule("token-notified-twice").is_empty(), "{findings:#?}");
    assert!(of_rule("bot-user-agent")
        .iter()
        .any(|f| f["visitor"] == bot_tnt.as_str()));
    // The text report says expected and counted side by side.
    let text = run(mboxscope(dir.path()).args(["report", "--server", &emulator.url]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("expected vs counted"), "{text}");
    assert!(text.contains("0 of "), "{text}");
}
