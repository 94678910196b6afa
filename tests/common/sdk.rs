//! Adobe's official SDKs for the tests that run them: a Python venv and node_modules made once
//! under `MBOXSCOPE_SDK_DIR` (default `target/sdk-env`) from PyPI and npm (`.ci/run` makes them
//! first), and the scripts in `tests/sdk/`.

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

/// Where the SDK environments are made.
pub fn sdk_dir() -> PathBuf {
    std::env::var_os("MBOXSCOPE_SDK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/sdk-env"))
}

/// Runs `cmd`; panics with its output when it fails.
pub fn check(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Python of a venv with the Python SDK, made if missing.
pub fn python() -> PathBuf {
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
pub fn node_modules() -> PathBuf {
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

/// A script of `tests/sdk/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(name)
}
