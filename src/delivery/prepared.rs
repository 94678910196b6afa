//! Shared, immutable parts of a response (an option's content, its response tokens) that can
//! carry their compact JSON, serialized once (per artifact load for the on-device engine) and
//! then written as bytes by [`to_writer_compact`].
//!
//! Everywhere else (pretty printing, `to_value`, other formats) a [`Prepared`] serializes its
//! value as usual: the stored bytes are compact serde_json output, right only for that writer.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A shared value, with its compact JSON when it was made by [`Prepared::serialized`].
pub struct Prepared<T>(Arc<Inner<T>>);

struct Inner<T> {
    value: T,
    /// Exactly what `serde_json::to_string(&value)` writes.
    json: Option<Box<RawValue>>,
}

impl<T> Prepared<T> {
    /// A shared value without stored JSON (it is serialized when written).
    pub fn new(value: T) -> Self {
        Prepared(Arc::new(Inner { value, json: None }))
    }

    /// Whether both share one value.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl<T: Serialize> Prepared<T> {
    /// A shared value with its compact JSON made now, to be written as bytes every time.
    pub fn serialized(value: T) -> Self {
        let json = serde_json::value::to_raw_value(&value).ok();
        Prepared(Arc::new(Inner { value, json }))
    }
}

impl<T: Clone> Prepared<T> {
    /// The value to change: a copy of its own when it is shared; stored JSON is dropped.
    pub fn make_mut(&mut self) -> &mut T {
        let inner = Arc::make_mut(&mut self.0);
        inner.json = None;
        &mut inner.value
    }
}

/// A copy to change: without the stored JSON, which would no longer be its own.
impl<T: Clone> Clone for Inner<T> {
    fn clone(&self) -> Self {
        Inner {
            value: self.value.clone(),
            json: None,
        }
    }
}

impl<T> Deref for Prepared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T> Clone for Prepared<T> {
    fn clone(&self) -> Self {
        Prepared(self.0.clone())
    }
}

impl<T: Default> Default for Prepared<T> {
    fn default() -> Self {
        Prepared::new(T::default())
    }
}

impl<T: PartialEq> PartialEq for Prepared<T> {
    fn eq(&self, other: &Self) -> bool {
        Prepared::ptr_eq(self, other) || self.0.value == other.0.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Prepared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

impl<T> From<T> for Prepared<T> {
    fn from(value: T) -> Self {
        Prepared::new(value)
    }
}

thread_local! {
    /// Whether this thread is inside [`to_writer_compact`].
    static WRITING_COMPACT: Cell<bool> = const { Cell::new(false) };
}

impl<T: Serialize> Serialize for Prepared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.json {
            Some(json) if WRITING_COMPACT.get() => json.serialize(serializer),
            _ => self.0.value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Prepared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Prepared::new)
    }
}

/// Restores the previous mode when the write ends, even by a panic.
struct CompactScope(bool);

impl Drop for CompactScope {
    fn drop(&mut self) {
        WRITING_COMPACT.set(self.0);
    }
}

/// Writes `value` as `serde_json::to_writer` does, byte for byte, with every [`Prepared`]
/// part that has stored JSON written as those bytes.
pub fn to_writer_compact<W: std::io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let _scope = CompactScope(WRITING_COMPACT.replace(true));
    serde_json::to_writer(writer, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn stored_json_is_written_only_by_the_compact_writer() {
        let value = json!({"b": [1, 2.5, "x\u{e9}\"\n"], "a": {"c": null}});
        let prepared = Prepared::serialized(value.clone());
        let mut compact = Vec::new();
        to_writer_compact(&mut compact, &prepared).unwrap();
        assert_eq!(compact, serde_json::to_vec(&value).unwrap());
        assert_eq!(
            serde_json::to_string_pretty(&prepared).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(serde_json::to_value(&prepared).unwrap(), value);
    }

    #[test]
    fn a_changed_value_is_written_as_changed() {
        let mut prepared = Prepared::serialized(json!("before"));
        let shared = prepared.clone();
        *prepared.make_mut() = json!("after");
        let mut written = Vec::new();
        to_writer_compact(&mut written, &prepared).unwrap();
        assert_eq!(written, br#""after""#);
        assert_eq!(*shared, json!("before"));
    }

    #[test]
    fn the_compact_mode_ends_with_the_write() {
        let prepared = Prepared::serialized(json!({"a": 1}));
        to_writer_compact(Vec::new(), &prepared).unwrap();
        let pretty = serde_json::to_string_pretty(&prepared).unwrap();
        assert_eq!(pretty, "{\n  \"a\": 1\n}");
        let _: Value = serde_json::from_str(&pretty).unwrap();
    }
}
