//! Hardening of the client side: `decide --jsonl` on bytes that are not UTF-8, redirects,
//! location hints from the server, concurrent `profile save` and symlinked config files.

mod common;

use common::*;
use std::io::Write;
use std::process::Stdio;

#[test]
fn decide_jsonl_answers_a_line_that_is_not_utf8_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = mboxscope(dir.path())
        .args(["decide", "--artifact", &production_artifact(), "--jsonl"])
        .args(["--now", "1613761200000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let request = |id: &str| {
        format!(
            r#"{{"requestId":"{id}","context":{{"channel":"web"}},"prefetch":{{"mboxes":[{{"name":"mbox-params","index":1}}]}}}}"#
        )
        .into_bytes()
    };
    let mut input = Vec::new();
    input.extend(request("first"));
    input.extend(b"\n\xff\xfe garbage \xc3\n");
    input.extend(b"{\"requestId\":\"bad \xe9t\xe9\",\"context\":{\"channel\":\"web\"}}\n");
    input.extend(request("last"));
    input.push(b'\n');
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["response"]["requestId"], "first");
    for bad in &lines[1..3] {
        assert!(
            bad["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("not a DeliveryRequest")),
            "{bad}"
        );
    }
    assert_eq!(lines[3]["response"]["requestId"], "last");
}

/// A server on 127.0.0.1 answering every request with `status`, `headers` and `body`.
fn answering_server(status: u16, headers: &str, body: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let reply = format!(
        "HTTP/1.1 {status} X\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            read_request(&mut stream);
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    url
}

/// Reads one request's head and body.
fn read_request(stream: &mut std::net::TcpStream) {
    use std::io::{BufRead, Read};
    let mut reader = std::io::BufReader::new(stream);
    let mut length = 0;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let _ = reader.read_exact(&mut vec![0; length]);
}

/// A listener that never answers: whether anything connected to it.
struct Elsewhere(std::net::TcpListener);

impl Elsewhere {
    fn new() -> Elsewhere {
        Elsewhere(std::net::TcpListener::bind("127.0.0.1:0").unwrap())
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    fn was_contacted(&self) -> bool {
        self.0.set_nonblocking(true).unwrap();
        self.0.accept().is_ok()
    }
}

#[test]
fn redirects_are_not_followed_and_name_their_location() {
    for status in [301, 302, 303, 307, 308] {
        let elsewhere = Elsewhere::new();
        let location = format!("http://127.0.0.1:{}/rest/v1/delivery", elsewhere.port());
        let server = answering_server(status, &format!("Location: {location}\r\n"), "");
        let dir = tempfile::tempdir().unwrap();
        let out = run(mboxscope(dir.path())
            .args(["prefetch", "--server", &server, "--mbox", "home-hero"])
            .args(["--trace-token", "secret-trace", "--property-token", "p-1"]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{status}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.contains(&status.to_string()) && stderr.contains(&location),
            "{status}: {stderr}"
        );
        assert!(out.stdout.is_empty());
        assert!(!elsewhere.was_contacted(), "{status} was followed");
    }
}

#[tokio::test]
async fn a_location_hint_that_is_not_digits_never_becomes_a_host() {
    use mboxscope::client::{ClientSettings, Server, TargetClient, Visitor};
    use mboxscope::delivery::DeliveryRequest;
    let elsewhere = Elsewhere::new();
    let port = elsewhere.port();
    for body in [
        format!(r#"{{"status":200,"id":{{"tntId":"x.@2130706433:{port}/_0"}}}}"#),
        format!(
            r#"{{"status":200,"id":{{"tntId":"x"}},"edgeHost":"@2130706433:{port}/x.tt.omtrdc.net"}}"#
        ),
    ] {
        let server = answering_server(200, "", &body);
        let domain = server.trim_start_matches("http://").to_string();
        let mut settings = ClientSettings::new(Server::Domain(domain.clone()));
        settings.secure = false;
        let client = TargetClient::new(settings).unwrap();
        let mut visitor = Visitor::fresh();
        for _ in 0..2 {
            let answer = client
                .send(DeliveryRequest::default(), &visitor)
                .await
                .unwrap();
            visitor.learn(&answer);
            assert!(
                answer.request_url.contains(&domain),
                "{}",
                answer.request_url
            );
            assert_eq!(answer.target_location_hint_cookie, None, "{body}");
        }
        assert_eq!(visitor.location_hint, None);
        assert_eq!(client.base_url(visitor.location_hint.as_deref()), server);
    }
    assert!(!elsewhere.was_contacted());
}

#[test]
fn concurrent_profile_saves_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let saves: Vec<_> = (0..16)
        .map(|i| {
            mboxscope(dir.path())
                .args([
                    "profile",
                    "save",
                    &format!("p{i}"),
                    "--client",
                    &format!("c{i}"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for save in saves {
        let out = save.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(mboxscope(dir.path()).args(["profile", "list"]));
    let listed = String::from_utf8_lossy(&out.stdout);
    for i in 0..16 {
        assert!(
            listed.lines().any(|l| l == format!("p{i}\tc{i}")),
            "p{i} lost: {listed}"
        );
    }
}

#[cfg(unix)]
#[test]
fn profile_save_writes_through_a_symlinked_config_and_keeps_it_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let dotfiles = dir.path().join("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    std::fs::write(
        dotfiles.join("config.toml"),
        "[profiles.old]\nclient_code = \"o\"\n",
    )
    .unwrap();
    let link = dir.path().join("config.toml");
    std::os::unix::fs::symlink("dotfiles/config.toml", &link).unwrap();
    let out = run(mboxscope(dir.path()).args(["profile", "save", "new", "--client", "n"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_symlink(), "the symlink was replaced");
    let real = dotfiles.join("config.toml");
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(
        text.contains("client_code = \"o\"") && text.contains("client_code = \"n\""),
        "{text}"
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(&dotfiles)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
