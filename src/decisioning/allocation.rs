//! Traffic allocation: which 0.00–99.99 bucket a visitor falls in for an activity.

/// The id allocation hashes: the marketingCloudVisitorId, else the tntId without its
/// `.N_M` location hint, else the thirdPartyId (kept whole), else `None` (caller picks a uuid).
pub fn allocation_visitor_id(id: Option<&crate::delivery::VisitorId>) -> Option<String> {
    let id = id?;
    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    non_empty(&id.marketing_cloud_visitor_id)
        .or_else(|| {
            non_empty(&id.tnt_id).map(|t| t.split('.').next().unwrap_or_default().to_string())
        })
        .or_else(|| non_empty(&id.third_party_id))
}

/// MurmurHash3 x86_32 (seed 0) over the UTF-16LE code units of `text`, as a signed int32,
/// exactly as Guava's `hashUnencodedChars` and Adobe's SDKs compute it.
pub fn hash_unencoded_chars(text: &str) -> i32 {
    let mut bytes = Vec::with_capacity(text.len() * 2);
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    mur3::murmurhash3_x86_32(&bytes, 0) as i32
}

/// The allocation (0.00–99.99) of a visitor in an activity, with Target's salt "0".
pub fn compute_allocation(client: &str, activity_id: &str, visitor_id: &str) -> f64 {
    allocation_with_salt(client, activity_id, visitor_id, "0")
}

/// The allocation for an explicit salt.
pub fn allocation_with_salt(client: &str, activity_id: &str, visitor_id: &str, salt: &str) -> f64 {
    allocation_in(&mut Vec::new(), client, activity_id, visitor_id, salt)
}

/// The allocation, hashing in `buffer` (reused across calls to spare allocations).
pub fn allocation_in(
    buffer: &mut Vec<u8>,
    client: &str,
    activity_id: &str,
    visitor_id: &str,
    salt: &str,
) -> f64 {
    buffer.clear();
    for (i, part) in [client, activity_id, visitor_id, salt]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            push_utf16(buffer, ".");
        }
        push_utf16(buffer, part);
    }
    allocation_of(buffer)
}

/// The allocations of one visitor for one client and salt: only the activity id changes from
/// one activity to the next, so the rest is encoded once.
pub struct VisitorAllocations {
    /// `client.` then room for `activity.visitor.salt`, as UTF-16LE.
    buffer: Vec<u8>,
    /// How many bytes `client.` takes.
    prefix: usize,
    /// `.visitor.salt` as UTF-16LE.
    suffix: Vec<u8>,
}

impl VisitorAllocations {
    /// The allocations of `visitor_id` for `client` with `salt`.
    pub fn new(client: &str, visitor_id: &str, salt: &str) -> VisitorAllocations {
        let mut buffer = Vec::with_capacity(256);
        push_utf16(&mut buffer, client);
        push_utf16(&mut buffer, ".");
        let mut suffix = Vec::with_capacity(2 * (visitor_id.len() + salt.len() + 2));
        for part in [visitor_id, salt] {
            push_utf16(&mut suffix, ".");
            push_utf16(&mut suffix, part);
        }
        VisitorAllocations {
            prefix: buffer.len(),
            buffer,
            suffix,
        }
    }

    /// The allocation in the activity whose id is `activity_units` ([`utf16_units`]): what
    /// [`allocation_in`] computes.
    pub fn of(&mut self, activity_units: &[u8]) -> f64 {
        self.buffer.truncate(self.prefix);
        self.buffer.extend_from_slice(activity_units);
        self.buffer.extend_from_slice(&self.suffix);
        allocation_of(&self.buffer)
    }
}

/// `text` as UTF-16LE code units, as the allocation hashes it.
pub fn utf16_units(text: &str) -> Vec<u8> {
    let mut units = Vec::with_capacity(2 * text.len());
    push_utf16(&mut units, text);
    units
}

/// Appends `text` as UTF-16LE code units.
fn push_utf16(buffer: &mut Vec<u8>, text: &str) {
    if text.is_ascii() {
        buffer.reserve(2 * text.len());
        for byte in text.bytes() {
            buffer.extend_from_slice(&[byte, 0]);
        }
    } else {
        for unit in text.encode_utf16() {
            buffer.extend_from_slice(&unit.to_le_bytes());
        }
    }
}

/// The 0.00–99.99 bucket of UTF-16LE `units`.
fn allocation_of(units: &[u8]) -> f64 {
    let hash = mur3::murmurhash3_x86_32(units, 0) as i32;
    let bucket = (hash as i64).abs() % 10_000;
    ((bucket as f64 / 10_000.0) * 100.0 * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_vector_from_the_sdks() {
        assert_eq!(
            hash_unencoded_chars("someClientId.123456.tntId123.salty"),
            -1846592194
        );
    }

    #[test]
    fn allocation_vectors_from_the_sdks() {
        assert_eq!(
            allocation_with_salt("someClientId", "123456", "tntId123", "salty"),
            21.94
        );
        assert_eq!(
            allocation_with_salt("someClientId", "123456", "ecid123", "salty"),
            29.06
        );
        assert_eq!(
            allocation_with_salt("someClientId", "123456", "thirtPartyId123", "salty"),
            73.15
        );
    }

    #[test]
    fn visitor_allocations_match_the_sdk_vectors() {
        let mut allocations = VisitorAllocations::new("someClientId", "tntId123", "salty");
        assert_eq!(allocations.of(&utf16_units("123456")), 21.94);
        assert_eq!(allocations.of(&utf16_units("123456")), 21.94);
        assert_eq!(
            VisitorAllocations::new("someClientId", "thirtPartyId123", "salty")
                .of(&utf16_units("123456")),
            73.15
        );
    }

    #[test]
    fn visitor_id_precedence_and_hint_stripping() {
        let mut id = crate::delivery::VisitorId {
            tnt_id: Some("abc.28_0".into()),
            third_party_id: Some("tp.1_0".into()),
            ..Default::default()
        };
        assert_eq!(allocation_visitor_id(Some(&id)).as_deref(), Some("abc"));
        id.tnt_id = None;
        assert_eq!(allocation_visitor_id(Some(&id)).as_deref(), Some("tp.1_0"));
        id.marketing_cloud_visitor_id = Some("ecid".into());
        assert_eq!(allocation_visitor_id(Some(&id)).as_deref(), Some("ecid"));
        assert_eq!(allocation_visitor_id(None), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Encoding the client and visitor once gives the allocations of hashing all four parts.
        #[test]
        fn visitor_allocations_agree_with_allocation_in(
            client in "[a-z]{0,12}|.{0,8}",
            activities in prop::collection::vec("[0-9]{1,7}|.{0,6}", 1..5),
            visitor in "[a-f0-9.]{0,34}|.{0,12}",
            salt in "0|.{0,4}",
        ) {
            let mut allocations = VisitorAllocations::new(&client, &visitor, &salt);
            for activity in &activities {
                let expected = allocation_in(&mut Vec::new(), &client, activity, &visitor, &salt);
                prop_assert_eq!(allocations.of(&utf16_units(activity)), expected);
            }
        }

        #[test]
        fn allocation_is_always_within_bounds(client in ".{0,20}", activity in 0u64..10_000_000, visitor in ".{0,40}") {
            let a = compute_allocation(&client, &activity.to_string(), &visitor);
            prop_assert!((0.0..=99.99).contains(&a), "allocation {} out of range", a);
        }
    }
}
