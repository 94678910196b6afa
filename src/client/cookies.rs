//! The `mbox` cookie (session + PC) and the `mboxEdgeCluster` location-hint cookie, as the
//! SDKs build and read them.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

/// Seconds a session cookie lives: 31 minutes.
pub const SESSION_TTL_SECS: i64 = 1860;
/// Seconds the PC (tntId) cookie lives: 732 days.
pub const PC_TTL_SECS: i64 = 63_244_800;
/// Seconds the edge cluster cookie lives.
pub const EDGE_CLUSTER_TTL_SECS: i64 = 1860;
/// The name of the Target cookie.
pub const TARGET_COOKIE: &str = "mbox";
/// The name of the location hint cookie.
pub const LOCATION_HINT_COOKIE: &str = "mboxEdgeCluster";

/// JavaScript's encodeURIComponent set: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A cookie as the SDKs return it: name, value, maxAge in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub max_age: i64,
}

/// What the `mbox` cookie says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetCookieValues {
    pub session_id: Option<String>,
    pub tnt_id: Option<String>,
}

/// Builds the `mbox` cookie for a session and tntId at `now_secs`.
pub fn target_cookie(session_id: &str, tnt_id: Option<&str>, now_secs: i64) -> Cookie {
    let mut entries = vec![(
        String::from("session"),
        session_id.to_string(),
        now_secs + SESSION_TTL_SECS,
    )];
    if let Some(tnt) = tnt_id {
        entries.push(("PC".into(), tnt.to_string(), now_secs + PC_TTL_SECS));
    }
    let max_expiry = entries.iter().map(|(_, _, e)| *e).max().unwrap_or(now_secs);
    let value = entries
        .iter()
        .map(|(n, v, e)| {
            format!(
                "{}#{}#{e}",
                utf8_percent_encode(n, URI_COMPONENT),
                utf8_percent_encode(v, URI_COMPONENT)
            )
        })
        .collect::<Vec<_>>()
        .join("|");
    Cookie {
        name: TARGET_COOKIE.into(),
        value,
        max_age: max_expiry - now_secs,
    }
}

/// Reads the `mbox` cookie value: entries with at least three parts and an unexpired expiry.
pub fn parse_target_cookie(value: &str, now_secs: i64) -> TargetCookieValues {
    let mut out = TargetCookieValues::default();
    for entry in value.split('|') {
        let parts: Vec<&str> = entry.split('#').collect();
        if parts.len() < 3 {
            continue;
        }
        let Ok(expires) = parts[2].trim().parse::<i64>() else {
            continue;
        };
        if expires <= now_secs {
            continue;
        }
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        match decode(parts[0]).as_str() {
            "session" => out.session_id = Some(decode(parts[1])),
            "PC" => out.tnt_id = Some(decode(parts[1])),
            _ => {}
        }
    }
    out
}

/// Whether `hint` has the only form Target's edge clusters take: digits (`28`). Anything else
/// would go into a host name unchecked (`@2130706433:18082/` names another host and port).
pub fn is_location_hint(hint: &str) -> bool {
    !hint.is_empty() && hint.bytes().all(|b| b.is_ascii_digit())
}

/// The location hint (edge cluster) in a tntId `x.N_M`, if it has one of digits.
pub fn hint_from_tnt_id(tnt_id: &str) -> Option<String> {
    let parts: Vec<&str> = tnt_id.split('.').collect();
    if parts.len() != 2 {
        return None;
    }
    let hint: Vec<&str> = parts[1].split('_').collect();
    (hint.len() == 2 && is_location_hint(hint[0])).then(|| hint[0].to_string())
}

/// The location hint in an edge host `mboxedgeN.tt.omtrdc.net` (exactly four labels, N digits).
pub fn hint_from_edge_host(edge_host: &str) -> Option<String> {
    let parts: Vec<&str> = edge_host.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let n = parts[0].trim_start_matches("mboxedge");
    is_location_hint(n).then(|| n.to_string())
}

/// The `mboxEdgeCluster` cookie for a response's tntId or edgeHost.
pub fn location_hint_cookie(tnt_id: Option<&str>, edge_host: Option<&str>) -> Option<Cookie> {
    let hint = tnt_id
        .and_then(hint_from_tnt_id)
        .or_else(|| edge_host.and_then(hint_from_edge_host))?;
    Some(Cookie {
        name: LOCATION_HINT_COOKIE.into(),
        value: hint,
        max_age: EDGE_CLUSTER_TTL_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_mbox_cookie_like_the_sdks() {
        let c = target_cookie("abc123", Some("tnt.28_0"), 1_000);
        assert_eq!(
            c.value,
            format!(
                "session#abc123#{}|PC#tnt.28_0#{}",
                1_000 + 1860,
                1_000 + 63_244_800
            )
        );
        assert_eq!(c.max_age, 63_244_800);
        assert_eq!(c.name, "mbox");
        assert_eq!(target_cookie("a b", None, 0).value, "session#a%20b#1860");
    }

    #[test]
    fn reads_the_mbox_cookie_and_drops_expired_or_short_entries() {
        let v = parse_target_cookie("session#s1#2000|PC#t%2E1#500|junk#x|PC2#y#z", 1_000);
        assert_eq!(v.session_id.as_deref(), Some("s1"));
        assert_eq!(v.tnt_id, None, "expired PC entry is ignored");
        let v = parse_target_cookie("session#s1#2000|PC#t.28_0#3000", 1_000);
        assert_eq!(v.tnt_id.as_deref(), Some("t.28_0"));
    }

    #[test]
    fn location_hints_follow_the_sdk_rules() {
        assert_eq!(hint_from_tnt_id("abc.28_0").as_deref(), Some("28"));
        assert_eq!(hint_from_tnt_id("abc"), None);
        assert_eq!(hint_from_tnt_id("a.b.28_0"), None);
        assert_eq!(hint_from_tnt_id("abc._0"), None);
        assert_eq!(hint_from_tnt_id("abc.28"), None);
        assert_eq!(
            hint_from_edge_host("mboxedge21.tt.omtrdc.net").as_deref(),
            Some("21")
        );
        assert_eq!(
            hint_from_edge_host("127.0.0.1").as_deref(),
            Some("127"),
            "why an emulator must not send one"
        );
        assert_eq!(hint_from_edge_host("localhost"), None);
        assert_eq!(hint_from_tnt_id("x.@2130706433:18082/_0"), None);
        assert_eq!(hint_from_tnt_id("x.28a_0"), None);
        assert_eq!(hint_from_edge_host("mboxedge@127:9/x.tt.omtrdc.net"), None);
        assert_eq!(hint_from_edge_host("mboxedge.tt.omtrdc.net"), None);
        let c = location_hint_cookie(Some("abc.35_0"), None).unwrap();
        assert_eq!(
            (c.name.as_str(), c.value.as_str(), c.max_age),
            ("mboxEdgeCluster", "35", 1860)
        );
    }
}
