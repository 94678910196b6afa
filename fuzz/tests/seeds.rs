//! Every committed seed (and every crash found so far, kept as a seed) through its target's
//! function: the fuzz targets' regression tests, run without libFuzzer.

use std::path::PathBuf;

/// Runs `target` over every file in `seeds/<name>/`.
fn run_seeds(name: &str, target: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(name);
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable seed directory").path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    for seed in seeds {
        let bytes = std::fs::read(&seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
        eprintln!("{}", seed.display());
        target(&bytes);
    }
}

#[test]
fn delivery_response_seeds() {
    run_seeds("delivery_response", mboxscope_fuzz::delivery_response);
}

#[test]
fn emulator_delivery_seeds() {
    run_seeds("emulator_delivery", mboxscope_fuzz::emulator_delivery);
}

#[test]
fn artifact_load_seeds() {
    run_seeds("artifact_load", mboxscope_fuzz::artifact_load);
}

#[test]
fn jsonlogic_seeds() {
    run_seeds("jsonlogic", mboxscope_fuzz::jsonlogic);
}
