//! Adobe's official SDKs (Python target-python-sdk 1.1.0, Node @adobe/target-nodejs-sdk 2.4.3)
//! against the emulator, unchanged. Their environments are made once under
//! `MBOXSCOPE_SDK_DIR` (default `target/sdk-env`) from PyPI and npm; `.ci/run` makes them first.

mod common;

use common::sdk::*;
use common::*;
use serde_json::Value;
use std::process::Command;

fn run_json(cmd: &mut Command) -> Value {
    let out = cmd.output().expect("the SDK script runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// (impressions, visits, visitors) of the experience named `experience` of activity `activity`.
fn counts(report: &Value, activity: &str, experience: &str) -> (u64, u64, u64) {
    let e = report["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == activity)
        .flat_map(|a| a["experiences"].as_array().unwrap().iter())
        .find(|e| e["name"] == experience)
        .unwrap_or_else(|| panic!("no {activity} / {experience} in {report}"));
    (
        e["impressions"].as_u64().unwrap(),
        e["visits"].as_u64().unwrap(),
        e["visitors"].as_u64().unwrap(),
    )
}

fn hero_impressions(report: &Value) -> u64 {
    counts(report, "Spring hero", "Experience A").0
        + counts(report, "Spring hero", "Experience B").0
}

#[test]
fn python_sdk_prefetch_notify_and_execute() {
    let python = python();
    let emulator = Emulator::start(&[]);
    let seen = run_json(
        Command::new(python)
            .arg(script("python_sdk.py"))
            .arg(&emulator.url),
    );
    assert_eq!(
        seen["sent"], seen["acked"],
        "every notification acknowledged: {seen}"
    );
    assert_eq!(seen["sent"].as_array().unwrap().len(), 2);
    assert!(
        seen["location_hint_cookie"].is_null(),
        "no location hint, so the SDK stays on loopback"
    );
    assert_eq!(
        seen["execute_tnt_id"], seen["tnt_id"],
        "the second call reused the SDK's cookie"
    );
    let report = emulator.get("/report");
    assert_eq!(
        hero_impressions(&report),
        2,
        "one display notification and one execute: {report}"
    );
    assert_eq!(
        counts(&report, "Product recommendations", "Shoes"),
        (1, 1, 1)
    );
    assert_eq!(report["notifications"]["accepted"], 2);
    assert_eq!(report["notifications"]["rejected"], 0);
}

#[test]
fn node_sdk_server_side_and_on_device_agree_with_the_emulator() {
    let modules = node_modules();
    let emulator = Emulator::start(&[]);
    let seen = run_json(
        Command::new("node")
            .env("NODE_PATH", &modules)
            .arg(script("node_sdk.js"))
            .arg(&emulator.url),
    );
    assert_eq!(seen["sent"], seen["acked"], "{seen}");
    assert!(seen["locationHintCookie"].is_null());
    assert_eq!(seen["executeTntId"], seen["tntId"]);
    assert_eq!(seen["executeOptions"], 1);
    let comparisons = seen["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 20);
    for c in comparisons {
        assert_eq!(c["method"], "on-device");
        assert!(
            c["same"].as_bool().unwrap(),
            "on device and the emulator differ for {}: {} vs {}",
            c["visitor"],
            c["local"],
            c["remote"]
        );
    }
    let report = emulator.get("/report");
    // The on-device prefetches count nothing; the notification and the execute count one each.
    assert_eq!(hero_impressions(&report), 2, "{report}");
    assert_eq!(counts(&report, "Product recommendations", "Bags").0, 1);
    assert_eq!(report["notifications"]["accepted"], 2);
}
