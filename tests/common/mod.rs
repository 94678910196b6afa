//! Helpers for integration tests: the real binary, a real emulator process, a scripted HTTP
//! server, all on 127.0.0.1.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub mod proxy;
pub mod sdk;
pub mod tmux;
pub mod tui;

/// The mboxscope binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mboxscope"))
}

/// The shared fixtures directory.
pub fn fixtures() -> PathBuf {
    std::env::var_os("MBOXSCOPE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"))
}

/// The demo page's locations as prefetch flags: two mboxes (one with a parameter), a view and
/// the page load.
pub const DEMO_PAGE: [&str; 7] = [
    "--mbox",
    "home-hero",
    "--mbox",
    "product-recs:category=shoes",
    "--view",
    "home",
    "--page-load",
];

/// A command for the binary with a private data dir and config file.
pub fn mboxscope(data: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env("MBOXSCOPE_DATA_DIR", data.join("data"))
        .env("MBOXSCOPE_CONFIG", data.join("config.toml"))
        .env_remove("MBOXSCOPE_PROFILE")
        .stdin(Stdio::null());
    cmd
}

/// Sends `signal` (`"INT"`, `"TERM"`…) to process `pid`, as `kill -SIGNAL PID` does.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}: {status}");
}

/// Runs a command and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

/// `mboxscope serve` running in the background; killed on drop.
pub struct Emulator {
    pub child: Child,
    pub url: String,
}

impl Emulator {
    /// Starts `mboxscope serve --quiet` with extra flags and waits for its URL.
    pub fn start(extra: &[&str]) -> Emulator {
        let mut child = Command::new(bin())
            .arg("serve")
            .arg("--quiet")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("first line");
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "unexpected first line {url:?}"
        );
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Emulator { child, url }
    }

    /// GET a path, parsed as JSON.
    pub fn get(&self, path: &str) -> serde_json::Value {
        http("GET", &format!("{}{path}", self.url), None).1
    }

    /// POST a path.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        http("POST", &format!("{}{path}", self.url), Some(body))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal blocking HTTP/1.1 call (one request per connection).
pub fn http(method: &str, url: &str, body: Option<&serde_json::Value>) -> (u16, serde_json::Value) {
    let (status, bytes) = http_raw(
        method,
        url,
        body.map(|b| serde_json::to_vec(b).unwrap()).as_deref(),
    );
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// A minimal blocking HTTP/1.1 call returning the raw body.
pub fn http_raw(method: &str, url: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.unwrap_or(b"");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a full response");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut payload = response[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        payload = dechunk(&payload);
    }
    (status, payload)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
    out
}

/// What a scripted server answers.
#[derive(Clone)]
pub enum Script {
    /// Status and body, then close.
    Reply(u16, Vec<u8>),
    /// Wait this long, then answer 200 {}.
    Stall(Duration),
    /// 200 with a JSON body of this many bytes.
    Huge(usize),
}

/// A one-purpose HTTP server on 127.0.0.1 for client error tests; returns its base URL.
pub fn scripted_server(script: Script) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let script = script.clone();
            std::thread::spawn(move || serve_one(stream, script));
        }
    });
    url
}

/// Reads one HTTP request from `stream`: its body (`None` when the connection closed first).
pub fn read_request(stream: &TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    Some(body)
}

/// Answers `status` with a JSON `body`, then closes.
pub fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) {
    let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(body);
}

fn serve_one(mut stream: TcpStream, script: Script) {
    if read_request(&stream).is_none() {
        return;
    }
    match script {
        Script::Reply(status, body) => respond(&mut stream, status, &body),
        Script::Stall(wait) => {
            std::thread::sleep(wait);
            respond(&mut stream, 200, b"{}");
        }
        Script::Huge(size) => {
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n");
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < size {
                let n = chunk.len().min(size - sent);
                if stream.write_all(&chunk[..n]).is_err() {
                    return;
                }
                sent += n;
            }
        }
    }
}

/// The JSON printed on stdout.
pub fn stdout_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The production-size artifact of the fixtures.
pub fn production_artifact() -> String {
    fixtures()
        .join("artifacts/targettesting-production-rules.json")
        .display()
        .to_string()
}
