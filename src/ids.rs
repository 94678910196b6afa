//! Random ids (uuid v4) from the thread's random generator: no system call per id, which
//! matters when the emulator makes several per request.

/// A new random (version 4) uuid.
pub fn uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_version_4_and_differ() {
        let (a, b) = (super::uuid(), super::uuid());
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 4);
    }
}
