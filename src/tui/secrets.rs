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

/// Masks the secrets of a request JSON in place (`request` of a HAR entry, the Request tab).
pub fn mask_in_place(request: &mut Value) {
    for pointer in POINTERS {
        if let Some(Value::String(s)) = request.pointer_mut(pointer) {
            *s = mask(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_secret() {
        let mut v = serde_json::json!({"trace": {"authorizationToken": "secret-trace"}, "qaMode": {"token": "qa-token-123"}, "property": {"token": "prop"}});
        mask_in_place(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("secret-trace")
                && !text.contains("qa-token-123")
                && !text.contains("\"prop\""),
            "{text}"
        );
        assert!(text.contains("secr…(12 chars"));
    }
}
