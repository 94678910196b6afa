//! `mboxscope proxy` as a process for the tests: its URL, its feed, its stderr.

use super::{http, mboxscope};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

/// `mboxscope proxy` running in the background with its stderr kept; killed on drop.
pub struct Proxy {
    pub child: Child,
    pub url: String,
    stderr: Arc<Mutex<String>>,
}

impl Proxy {
    /// Starts it with its data in `data`, forwarding to `upstream` (else to its built-in
    /// emulator), for the demo client.
    pub fn start(data: &Path, upstream: Option<&str>) -> Proxy {
        let mut command = mboxscope(data);
        command.args(["proxy", "--client", "mboxscopedemo"]);
        if let Some(upstream) = upstream {
            command.args(["--upstream", upstream]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("proxy starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut url = String::new();
        out.read_line(&mut url).expect("first line");
        let url = url.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "first line {url:?}");
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let kept = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                kept.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Proxy { child, url, stderr }
    }

    /// The feed's exchanges, waiting (long polls, a bounded number) until there are `n`.
    pub fn exchanges(&self, n: usize) -> Vec<Value> {
        let mut seen: Vec<Value> = Vec::new();
        for _ in 0..20 {
            let after = seen.last().map_or(0, |x| x["seq"].as_u64().unwrap());
            let (status, got) = http(
                "GET",
                &format!(
                    "{}/mboxscope/exchanges?after={after}&wait_ms=5000",
                    self.url
                ),
                None,
            );
            assert_eq!(status, 200, "{got}");
            seen.extend(got.as_array().unwrap().iter().cloned());
            if seen.len() >= n {
                return seen;
            }
        }
        panic!("only {} of {n} exchanges in the feed", seen.len());
    }

    /// Its stderr once it says `needle` (the line is in the pipe before the feed shows the
    /// exchange; the reader thread may still be on its way), or as it is after a while.
    pub fn stderr_saying(&self, needle: &str) -> String {
        for _ in 0..200 {
            let said = self.stderr.lock().unwrap().clone();
            if said.contains(needle) {
                return said;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
