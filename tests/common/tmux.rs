//! Driving the real binary in tmux: start, type, read the screen, wait for it.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session running a command, killed on drop.
pub struct Tmux {
    pub name: String,
}

impl Tmux {
    /// A session tmux already runs, under `name`.
    pub fn adopt(name: String) -> Tmux {
        Tmux { name }
    }

    /// A new 120x40 session running `command` in `sh`.
    pub fn start(label: &str, command: &str) -> Tmux {
        let name = format!("mboxscope-{label}-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", "120", "-y", "40"])
            .args(["sh", "-c", command])
            .status()
            .expect("tmux runs");
        assert!(status.success());
        Tmux { name }
    }

    pub fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// tmux's view of the pane's modes: alternate screen, mouse reporting, cursor.
    pub fn modes(&self) -> String {
        let out = Command::new("tmux")
            .args([
                "display",
                "-p",
                "-t",
                &self.name,
                "alternate=#{alternate_on} mouse=#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}#{mouse_sgr_flag} cursor=#{cursor_flag}",
            ])
            .output()
            .expect("tmux display");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn keys(&self, keys: &str) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, keys])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    pub fn wait_for(&self, what: impl Fn(&str) -> bool, label: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.capture();
            if what(&screen) {
                return screen;
            }
            if started.elapsed() > Duration::from_secs(20) {
                panic!("waited for {label}; the screen is:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}
