//! `user.*`: browser type, version and platform, classified as Adobe's SDKs do.

use crate::delivery::ClientHints;
use regex::Regex;
use std::sync::LazyLock;

struct Matcher {
    name: &'static str,
    regex: Regex,
    version_group: usize,
    /// The version when the regex has no version group match.
    fallback_version: Option<&'static str>,
}

/// `\w` is ASCII in JavaScript, as in the SDKs' ua-parser: spelled out, it also spares
/// compiling Unicode word classes under `(?i)` (most of a short-lived process's start-up).
fn matcher(name: &'static str, pattern: &str, version_group: usize) -> Matcher {
    Matcher {
        name,
        regex: Regex::new(&pattern.replace(r"\w", "[0-9A-Za-z_]")).expect("static regex"),
        version_group,
        fallback_version: None,
    }
}

static BROWSERS: LazyLock<Vec<Matcher>> = LazyLock::new(|| {
    vec![
        matcher("Edge", r"(?i)(edge|edgios|edga|edg)/((\d+)?[\w.]+)", 2),
        matcher(
            "Mobile Safari",
            r"(?i)version/([\w.]+).+?mobile/\w+\s(safari)",
            1,
        ),
        matcher(
            "Safari",
            r"(?i)version/([\w.]+).+?(mobile\s?safari|safari)",
            1,
        ),
        matcher("Chrome", r"(?i)(chrome)/v?([\w.]+)", 2),
        matcher("Firefox", r"(?i)(firefox)/([\w.-]+)$", 2),
        matcher("IE", r"(?i)(?:ms|\()(ie)\s([\w.]+)", 2),
        Matcher {
            fallback_version: Some("11"),
            ..matcher("IE", r"(?i)(trident).+rv[:\s]([\w.]+).+like\sgecko", 2)
        },
    ]
});

static CLIENT_HINT_BROWSERS: LazyLock<Vec<Matcher>> = LazyLock::new(|| {
    vec![
        matcher("Chrome", r#"(?i)Chrome";v="([0-9.]+)""#, 1),
        matcher("Edge", r#"(?i)Edge";v="([0-9.]+)""#, 1),
        matcher("Safari", r#"(?i)Safari";v="([0-9.]+)""#, 1),
        matcher("Firefox", r#"(?i)Firefox";v="([0-9.]+)""#, 1),
    ]
});

static PLATFORMS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("iOS", r"iPhone|iPad|iPod"),
        ("Android", r"Android [0-9.]+;"),
        ("Linux", r" Linux "),
        ("Unix", r"FreeBSD|OpenBSD|CrOS"),
        ("Windows", r"[( ]Windows "),
        ("Mac OS", r"Macintosh;"),
    ]
    .into_iter()
    .map(|(name, pattern)| (name, Regex::new(pattern).expect("static regex")))
    .collect()
});

/// A browser name and major version (-1 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct BrowserInfo {
    pub name: String,
    pub version: i64,
}

const UNKNOWN: &str = "unknown";

fn classify(matchers: &[Matcher], text: &str) -> BrowserInfo {
    for m in matchers {
        if let Some(caps) = m.regex.captures(text) {
            let version = caps
                .get(m.version_group)
                .map(|g| g.as_str())
                .or(m.fallback_version)
                .unwrap_or("-1");
            return BrowserInfo {
                name: m.name.to_string(),
                version: major_version(version),
            };
        }
    }
    BrowserInfo {
        name: UNKNOWN.into(),
        version: -1,
    }
}

/// JavaScript's `parseInt(version.split(".")[0], 10)`; -1 when there is no number.
fn major_version(version: &str) -> i64 {
    let first = version.split('.').next().unwrap_or("");
    let trimmed = first.trim_start();
    let (sign, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<i64>().map(|v| sign * v).unwrap_or(-1)
}

/// The browser from the user agent, completed by the client hints' brand list.
pub fn browser(user_agent: &str, hints: Option<&ClientHints>) -> BrowserInfo {
    let from_ua = classify(&BROWSERS, user_agent);
    let brands = hints
        .and_then(|h| {
            h.browser_u_a_with_full_version
                .as_deref()
                .or(h.browser_u_a_with_major_version.as_deref())
        })
        .unwrap_or("");
    let from_hints = classify(&CLIENT_HINT_BROWSERS, brands);
    BrowserInfo {
        name: if from_hints.name != UNKNOWN {
            from_hints.name
        } else {
            from_ua.name
        },
        version: if from_hints.version >= 0 {
            from_hints.version
        } else {
            from_ua.version
        },
    }
}

/// The platform: the client hints' platform when given, else from the user agent, mapped to
/// Target's names (windows, mac, linux; others as classified).
pub fn platform(user_agent: &str, hints: Option<&ClientHints>) -> String {
    let raw = match hints.and_then(|h| h.platform.clone()) {
        Some(p) => p,
        None => PLATFORMS
            .iter()
            .find(|(_, re)| re.is_match(user_agent))
            .map(|(name, _)| name.to_string())
            .unwrap_or_else(|| UNKNOWN.into()),
    };
    match raw.as_str() {
        "Windows" => "windows".into(),
        "Macintosh" | "Mac OS" | "macOS" => "mac".into(),
        "Linux" => "linux".into(),
        _ => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36";

    #[test]
    fn classifies_common_browsers() {
        assert_eq!(
            browser(CHROME_MAC, None),
            BrowserInfo {
                name: "Chrome".into(),
                version: 80
            }
        );
        let ff =
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:73.0) Gecko/20100101 Firefox/73.0";
        assert_eq!(
            browser(ff, None),
            BrowserInfo {
                name: "Firefox".into(),
                version: 73
            }
        );
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.5 Safari/605.1.15";
        assert_eq!(browser(safari, None).name, "Safari");
        let ie = "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko";
        assert_eq!(
            browser(ie, None),
            BrowserInfo {
                name: "IE".into(),
                version: 11
            }
        );
        assert_eq!(
            browser("curl/8", None),
            BrowserInfo {
                name: "unknown".into(),
                version: -1
            }
        );
        assert_eq!(platform(CHROME_MAC, None), "mac");
        assert_eq!(
            platform("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", None),
            "windows"
        );
    }

    #[test]
    fn client_hints_win() {
        let hints = ClientHints {
            browser_u_a_with_major_version: Some(
                r#""Chromium";v="99", "Google Chrome";v="99""#.into(),
            ),
            platform: Some("Linux".into()),
            ..Default::default()
        };
        assert_eq!(
            browser("", Some(&hints)),
            BrowserInfo {
                name: "Chrome".into(),
                version: 99
            }
        );
        assert_eq!(platform("", Some(&hints)), "linux");
    }
}
