//! Masking the secrets of a request: trace token, QA token, property token, preview token.

use serde_json::Value;

const POINTERS: [&str; 4] = [
    "/trace/authorizationToken",
    "/qaMode/token",
    "/property/token",
    "/preview/token",
];

/// Secrets shorter than this show none of their characters.
const SHORT_SECRET_CHARS: usize = 16;

/// The QA link's parameter that carries the QA token.
const QA_TOKEN_PARAMETER: &str = "at_preview_token=";

/// A secret shown masked: nothing of a short one; of a longer one its length and its first
/// characters, one in eight at most and never more than four.
pub fn mask(secret: &str) -> String {
    let count = secret.chars().count();
    if count < SHORT_SECRET_CHARS {
        return "••••(masked)".into();
    }
    let head: String = secret.chars().take((count / 8).min(4)).collect();
    format!("{head}…({count} chars, masked)")
}

/// Masks the secrets of a request JSON in place (`request` of a HAR entry, the Request tab).
pub fn mask_in_place(request: &mut Value) {
    for pointer in POINTERS {
        if let Some(Value::String(s)) = request.pointer_mut(pointer) {
            *s = mask(s);
        }
    }
}

/// Masks the request's secrets in an SDK-style result (`prefetch` output, a session export).
pub fn mask_sdk_result(result: &mut Value) {
    if let Some(request) = result.get_mut("request") {
        mask_in_place(request);
    }
}

/// A QA link as typed or pasted, its `at_preview_token` value shown as dots.
pub fn mask_qa_link(link: &str) -> String {
    let mut out = String::with_capacity(link.len());
    let mut rest = link;
    while let Some(at) = rest.find(QA_TOKEN_PARAMETER) {
        let value_start = at + QA_TOKEN_PARAMETER.len();
        out.push_str(&rest[..value_start]);
        let value_len = rest[value_start..]
            .find(['&', '#'])
            .unwrap_or(rest.len() - value_start);
        let value = &rest[value_start..value_start + value_len];
        out.extend(std::iter::repeat_n('•', value.chars().count()));
        rest = &rest[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_secret() {
        let mut v = serde_json::json!({"trace": {"authorizationToken": "secret-trace-token-0123456789"}, "qaMode": {"token": "qa-token-123"}, "property": {"token": "prop"}});
        mask_in_place(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("secret-trace")
                && !text.contains("qa-token-123")
                && !text.contains("\"prop\""),
            "{text}"
        );
        assert!(text.contains("sec…(29 chars, masked)"), "{text}");
    }

    #[test]
    fn a_short_secret_shows_nothing_of_itself() {
        // Not even its length: every short secret masks to the same text.
        let masked: Vec<String> = ["Z", "XYZQ", "QA-TOKEN", "XQ9Z8W7V6U5T4S3"]
            .into_iter()
            .map(mask)
            .collect();
        assert!(masked.iter().all(|m| m == &masked[0]), "{masked:?}");
        assert!(!masked[0].contains(['Z', 'X', 'Q']), "{masked:?}");
    }

    #[test]
    fn a_long_secret_shows_at_most_an_eighth_of_itself() {
        for count in [16, 17, 31, 32, 40, 200] {
            let secret: String = ('a'..='z').cycle().take(count).collect();
            let masked = mask(&secret);
            let shown = masked.split('…').next().unwrap().chars().count();
            assert!(shown * 8 <= count && shown <= 4, "{count}: {masked}");
            assert!(masked.contains(&format!("{count} chars")));
        }
    }

    #[test]
    fn the_qa_token_is_dots_while_typed() {
        assert_eq!(
            mask_qa_link("https://x/?at_preview_token=SECRETQA&at_preview_index=1_1"),
            "https://x/?at_preview_token=••••••••&at_preview_index=1_1"
        );
        assert_eq!(
            mask_qa_link("https://x/?at_preview_token=SEC"),
            "https://x/?at_preview_token=•••"
        );
        assert_eq!(mask_qa_link("https://x/?at_prev"), "https://x/?at_prev");
        assert_eq!(
            mask_qa_link("?at_preview_token=ñé#at_preview_token=x"),
            "?at_preview_token=••#at_preview_token=•"
        );
    }
}
