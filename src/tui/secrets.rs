//! Masking the secrets of a request: trace token, QA token, property token, preview token.

use serde_json::Value;

const POINTERS: [&str; 4] = [
    "/trace/authorizationToken",
    "/qaMode/token",
    "/property/token",
    "/preview/token",
];

/// A secret shown masked: its first four characters and its length.
pub fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!(
        "{head}…({} chars, masked; R reveals)",
        secret.chars().count()
    )
}

/// A copy of a request JSON with its secrets masked.
pub fn masked_request(request: &Value) -> Value {
    let mut copy = request.clone();
    for pointer in POINTERS {
        if let Some(Value::String(s)) = copy.pointer_mut(pointer) {
            *s = mask(s);
        }
    }
    copy
}

/// Masks every secret of a request JSON in place, wherever it is nested (`request` of a HAR entry).
pub fn mask_in_place(value: &mut Value) {
    *value = masked_request(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_secret() {
        let v = serde_json::json!({"trace": {"authorizationToken": "secret-trace"}, "qaMode": {"token": "qa-token-123"}, "property": {"token": "prop"}});
        let m = masked_request(&v);
        let text = m.to_string();
        assert!(
            !text.contains("secret-trace")
                && !text.contains("qa-token-123")
                && !text.contains("\"prop\""),
            "{text}"
        );
        assert!(text.contains("secr…(12 chars"));
    }
}
