//! End to end: the real binary in tmux against `mboxscope serve`: prefetch, display + send,
//! click + send, quit, and the shell is sane again.

mod common;

use common::tmux::Tmux;
use common::*;
use std::process::Command;

fn spring_hero(report: &serde_json::Value, field: &str) -> u64 {
    report["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == "Spring hero")
        .flat_map(|a| a["experiences"].as_array().unwrap().iter())
        .map(|e| e[field].as_u64().unwrap())
        .sum()
}

#[test]
fn prefetch_display_click_and_quit_in_a_real_terminal() {
    let emulator = Emulator::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let stty = dir.path().join("stty.txt");
    let name = format!("mboxscope-e2e-{}", std::process::id());
    let command = format!(
        "MBOXSCOPE_DATA_DIR='{data}' MBOXSCOPE_CONFIG='{data}/config.toml' '{bin}' --server {url} --client mboxscopedemo --mbox home-hero; stty -a > '{stty}'; echo SHELL-IS-BACK; sleep 30",
        data = dir.path().display(),
        bin = bin().display(),
        url = emulator.url,
        stty = stty.display(),
    );
    let status = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &name,
            "-x",
            "120",
            "-y",
            "40",
            "sh",
            "-c",
            &command,
        ])
        .status()
        .expect("tmux runs");
    assert!(status.success());
    let tmux = Tmux::adopt(name);

    // The start-up prefetch shows home-hero with its option and click metric.
    let screen = tmux.wait_for(
        |s| s.contains("● html") && s.contains("◆ click #cta"),
        "the prefetched option",
    );
    assert!(screen.contains("mbox home-hero"));
    assert!(screen.contains("200 prefetch"), "{screen}");

    // d, s: the option goes queued → acked, and the emulator counts one impression.
    tmux.keys("d");
    tmux.wait_for(|s| s.contains("queued"), "the queued badge");
    tmux.keys("s");
    tmux.wait_for(|s| s.contains("✓ acked"), "the acked badge");
    assert_eq!(spring_hero(&emulator.get("/report"), "impressions"), 1);

    // c on the #cta metric, s: one click.
    tmux.keys("j");
    tmux.keys("c");
    tmux.wait_for(|s| s.contains("1 queued"), "the queued click");
    tmux.keys("s");
    tmux.wait_for(|s| s.matches("✓ acked").count() >= 2, "the acked click");
    let report = emulator.get("/report");
    assert_eq!(spring_hero(&report, "clicks"), 1);
    assert_eq!(
        spring_hero(&report, "impressions"),
        1,
        "the click counted no impression"
    );

    // q: the TUI is gone and the terminal is back in cooked mode with echo.
    tmux.keys("q");
    let screen = tmux.wait_for(|s| s.contains("SHELL-IS-BACK"), "the shell");
    assert!(
        !screen.contains("Locations"),
        "the alternate screen was left:\n{screen}"
    );
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    assert!(
        modes.contains(" icanon") && modes.contains(" echo "),
        "terminal not restored: {modes}"
    );
}
