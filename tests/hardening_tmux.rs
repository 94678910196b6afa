//! Hardening (issue #11) end to end: the real binary in tmux. A signal restores the terminal;
//! `e` leaves no copy of the request (tokens in clear) behind, whatever the editor does.

mod common;

use common::tmux::Tmux;
use common::*;
use std::path::Path;

/// The shell command that runs the TUI on the local emulator with a private data dir (`env`
/// first), writes its pid to `pid`, and says how it ended.
fn tui_command(dir: &Path, env: &str) -> String {
    format!(
        "sh -c 'echo $$ > \"{pid}\"; exec env {env} MBOXSCOPE_DATA_DIR=\"{data}\" MBOXSCOPE_CONFIG=\"{data}/config.toml\" \"{bin}\"'; echo EXIT=$?; sleep 30",
        pid = dir.join("pid").display(),
        data = dir.display(),
        bin = bin().display(),
    )
}

#[test]
fn every_stop_signal_restores_the_terminal() {
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("INT", 130), ("QUIT", 131)] {
        let dir = tempfile::tempdir().unwrap();
        let tmux = Tmux::start(&format!("sig{signal}"), &tui_command(dir.path(), ""));
        tmux.wait_for(|s| s.contains("200 prefetch"), "the start-up prefetch");
        let in_tui = tmux.modes();
        assert!(
            in_tui.starts_with("alternate=1 mouse=") && !in_tui.contains("mouse=0000"),
            "in the TUI: {in_tui}"
        );
        let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
        send_signal(pid.trim().parse().unwrap(), signal);
        let exited = format!("EXIT={code}");
        let screen = tmux.wait_for(|s| s.contains(&exited), "the TUI to end");
        assert!(
            screen.contains(&format!("stopped by SIG{signal}")),
            "{screen}"
        );
        assert_eq!(
            tmux.modes(),
            "alternate=0 mouse=0000 cursor=1",
            "after SIG{signal}"
        );
    }
}

#[test]
fn a_failing_editor_leaves_no_request_behind() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let log = dir.path().join("editor.log");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nstat -c '%a' \"$1\" > '{}'\nexit 1\n",
            log.display()
        ),
    )
    .unwrap();
    let env = format!(
        "-u VISUAL TMPDIR=\"{}\" EDITOR=\"sh {}\"",
        tmp.display(),
        editor.display()
    );
    let tmux = Tmux::start("edit", &tui_command(dir.path(), &env));
    tmux.wait_for(|s| s.contains("200 prefetch"), "the start-up prefetch");
    tmux.keys("e");
    tmux.wait_for(|s| s.contains(" editor: sh "), "the editor's failure");
    let mode = std::fs::read_to_string(&log).expect("the editor ran");
    assert_eq!(mode.trim(), "600", "the request file is private");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    tmux.keys("q");
    tmux.wait_for(|s| s.contains("EXIT=0"), "the TUI to end");
}
