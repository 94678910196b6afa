//! Random ids (uuid v4) from the thread's random generator: no system call per id, which
//! matters when the emulator makes several per request.

/// A new random (version 4) uuid.
fn uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

/// A new random uuid as text, hyphenated and lowercase (what `to_string` writes), written
/// without the formatting machinery.
pub fn uuid_string() -> String {
    let mut text = uuid::Uuid::encode_buffer();
    uuid().hyphenated().encode_lower(&mut text).to_owned()
}

/// A new random uuid as 32 lowercase hex digits, without hyphens.
pub fn uuid_simple() -> String {
    let mut text = uuid::Uuid::encode_buffer();
    uuid().simple().encode_lower(&mut text).to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_version_4_and_differ() {
        let (a, b) = (super::uuid(), super::uuid());
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 4);
    }

    #[test]
    fn texts_are_what_the_formatter_writes() {
        let text = super::uuid_string();
        let parsed = uuid::Uuid::parse_str(&text).expect("a uuid");
        assert_eq!(parsed.to_string(), text);
        assert_eq!(parsed.get_version_num(), 4);
        let simple = super::uuid_simple();
        let parsed = uuid::Uuid::parse_str(&simple).expect("a uuid");
        assert_eq!(parsed.simple().to_string(), simple);
    }
}
