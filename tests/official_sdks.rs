//! Adobe's official SDKs (Python target-python-sdk 1.1.0, Node @adobe/target-nodejs-sdk 2.4.3)
//! against the emulator, unchanged. Their environments are made once under
//! `MBOXSCOPE_SDK_DIR` (default `target/sdk-env`) from PyPI and npm; `.ci/run` makes them first.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON_PACKAGES: &[&str] = &[
    "target-python-sdk==1.1.0",
    "urllib3",
    "six",
    "certifi",
    "requests",
    "python-dateutil",
    "pytz",
    "tzlocal==2.1",
    "ua-parser==0.10.0",
    "user-agents==2.2.0",
    "json_logic_qubit==0.9.1",
    "tld==0.12.5",
];

fn sdk_dir() -> PathBuf {
    std::env::var_os("MBOXSCOPE_SDK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/sdk-env"))
}

fn check(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Python of a venv with the Python SDK, made if missing.
fn python() -> PathBuf {
    let venv = sdk_dir().join("python");
    let python = venv.join("bin/python");
    let marker = venv.join(".installed");
    if !marker.exists() {
        check(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        check(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet"])
                .args(PYTHON_PACKAGES),
            "pip install the Python SDK",
        );
        std::fs::write(&marker, "").unwrap();
    }
    python
}

/// node_modules with the Node SDK, made if missing.
fn node_modules() -> PathBuf {
    let dir = sdk_dir().join("node");
    let modules = dir.join("node_modules");
    if !modules
        .join("@adobe/target-nodejs-sdk/package.json")
        .exists()
    {
        std::fs::create_dir_all(&dir).unwrap();
        if !dir.join("package.json").exists() {
            std::fs::write(
                dir.join("package.json"),
                "{\"name\":\"mboxscope-sdk-tests\",\"private\":true}",
            )
            .unwrap();
        }
        check(
            Command::new("npm").current_dir(&dir).args([
                "install",
                "--no-audit",
                "--no-fund",
                "--silent",
                "@adobe/target-nodejs-sdk@2.4.3",
            ]),
            "npm install the Node SDK",
        );
    }
    modules
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(name)
}

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
