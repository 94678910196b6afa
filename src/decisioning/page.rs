//! `page.*` and `referring.*`: an address split the way Adobe's SDKs split it, with the
//! registrable domain and public suffix taken from the Public Suffix List.

use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// RFC 3986, appendix B: scheme, authority, path, query, fragment.
static URI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?")
        .expect("static regex")
});

/// The parts of an address that rules can test.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UrlParts {
    pub url: String,
    pub path: String,
    pub query: String,
    pub fragment: String,
    pub subdomain: String,
    pub domain: String,
    pub top_level_domain: String,
}

/// Splits `url`. The domain is the registrable domain (`hooli.com`), the top-level domain the
/// public suffix (`us-east-1.elasticbeanstalk.com`), a leading `www` is not a subdomain; a host
/// with no known suffix (`local-target-test`) is the domain, with no subdomain or suffix.
pub fn parse_url(url: &str) -> UrlParts {
    let caps = URI.captures(url);
    let group = |i: usize| {
        caps.as_ref()
            .and_then(|c| c.get(i))
            .map(|m| m.as_str())
            .unwrap_or("")
    };
    let authority = group(2);
    let mut parts = UrlParts {
        url: url.to_string(),
        path: group(3).to_string(),
        query: group(4).to_string(),
        fragment: group(5).to_string(),
        ..Default::default()
    };
    let host_port = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = strip_port(host_port)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match registrable(&host) {
        Some((domain, suffix)) => {
            let sub = host
                .strip_suffix(domain.as_str())
                .unwrap_or("")
                .trim_end_matches('.');
            let sub = match sub.strip_prefix("www") {
                Some(rest) if rest.is_empty() || rest.starts_with('.') => {
                    rest.trim_start_matches('.')
                }
                _ => sub,
            };
            parts.subdomain = sub.to_string();
            parts.domain = domain;
            parts.top_level_domain = suffix;
        }
        None => parts.domain = host_port.to_string(),
    }
    parts
}

fn strip_port(host_port: &str) -> &str {
    if host_port.starts_with('[') {
        return host_port
            .split_once(']')
            .map(|(h, _)| &h[1..])
            .unwrap_or(host_port);
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => host_port,
    }
}

/// The registrable domain and its known public suffix, if the host has both.
fn registrable(host: &str) -> Option<(String, String)> {
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let suffix = psl::suffix(host.as_bytes())?;
    if !suffix.is_known() {
        return None;
    }
    let domain = psl::domain(host.as_bytes())?;
    Some((
        String::from_utf8_lossy(domain.as_bytes()).into_owned(),
        String::from_utf8_lossy(suffix.as_bytes()).into_owned(),
    ))
}

/// The JSON context object for `page` or `referring`, with `_lc` lowercase copies.
pub fn url_context(url: &str) -> Value {
    let p = parse_url(url);
    let fields = [
        ("url", p.url),
        ("path", p.path),
        ("query", p.query),
        ("fragment", p.fragment),
        ("subdomain", p.subdomain),
        ("domain", p.domain),
        ("topLevelDomain", p.top_level_domain),
    ];
    let mut map = Map::with_capacity(fields.len() * 2);
    for (name, value) in &fields {
        map.insert((*name).to_string(), Value::String(value.clone()));
    }
    for (name, value) in fields {
        map.insert(format!("{name}_lc"), Value::String(value.to_lowercase()));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_hosts_by_public_suffix() {
        let p = parse_url("https://pied.piper.decentralized.test.hooli.com/?implementation=psl");
        assert_eq!(
            (
                p.subdomain.as_str(),
                p.domain.as_str(),
                p.top_level_domain.as_str()
            ),
            ("pied.piper.decentralized.test", "hooli.com", "com")
        );
        assert_eq!(
            (p.path.as_str(), p.query.as_str()),
            ("/", "implementation=psl")
        );
        let p = parse_url("https://test.wayne-enterprises.us-east-1.elasticbeanstalk.com");
        assert_eq!(p.top_level_domain, "us-east-1.elasticbeanstalk.com");
        assert_eq!(p.domain, "wayne-enterprises.us-east-1.elasticbeanstalk.com");
        assert_eq!(p.subdomain, "test");
        assert_eq!(p.path, "");
        let p = parse_url("http://www.shop.example.co.uk:8080/a/b?x=1#frag");
        assert_eq!(
            (
                p.subdomain.as_str(),
                p.domain.as_str(),
                p.top_level_domain.as_str()
            ),
            ("shop", "example.co.uk", "co.uk")
        );
        assert_eq!((p.path.as_str(), p.fragment.as_str()), ("/a/b", "frag"));
        assert_eq!(parse_url("https://www.adobe.com/").subdomain, "");
    }

    #[test]
    fn hosts_without_known_suffix_are_the_domain() {
        let p = parse_url("http://local-target-test/");
        assert_eq!(
            (
                p.subdomain.as_str(),
                p.domain.as_str(),
                p.top_level_domain.as_str()
            ),
            ("", "local-target-test", "")
        );
        let p = parse_url("");
        assert_eq!(p, UrlParts::default());
        assert_eq!(
            parse_url("http://127.0.0.1:8080/x").domain,
            "127.0.0.1:8080"
        );
    }
}
