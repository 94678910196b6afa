//! Shared, immutable parts of a response (an option's content, its response tokens).
//!
//! A part can carry its compact JSON, serialized once (per artifact load for the on-device
//! engine) and then written as bytes by [`to_writer_compact`]; everywhere else (pretty
//! printing, `to_value`, other formats) it serializes its value as usual: the stored bytes are
//! compact serde_json output, right only for that writer.
//!
//! An option's content and response tokens read from JSON are kept as that JSON, checked to
//! parse, and parsed when first asked for: most readers (the SDK views, the ledger) never
//! look at content, and few at more than one token.

use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock, OnceLock};

/// A shared value, with its compact JSON when it was made by [`Prepared::serialized`], or
/// the JSON it was read from until it is first asked for.
pub struct Prepared<T>(Arc<Inner<T>>);

struct Inner<T> {
    /// The value; unset until first asked for when it was read from JSON.
    value: OnceLock<T>,
    /// The JSON it was read from, checked to parse into a `T`.
    source: Option<Box<RawValue>>,
    /// Exactly what `serde_json::to_string(&value)` writes.
    json: Option<Box<RawValue>>,
}

impl<T> Prepared<T> {
    /// A shared value without stored JSON (it is serialized when written).
    pub fn new(value: T) -> Self {
        Prepared::from_inner(OnceLock::from(value), None, None)
    }

    fn from_inner(
        value: OnceLock<T>,
        source: Option<Box<RawValue>>,
        json: Option<Box<RawValue>>,
    ) -> Self {
        Prepared(Arc::new(Inner {
            value,
            source,
            json,
        }))
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
        Prepared::from_inner(OnceLock::from(value), None, json)
    }
}

impl<T: DeserializeOwned + Default> Inner<T> {
    /// The value, parsed from the JSON it was read from on first access.
    fn value(&self) -> &T {
        self.value.get_or_init(|| match &self.source {
            Some(source) => parse_checked(source),
            None => T::default(),
        })
    }
}

/// `source` as a `T`; it was checked to parse when it was read.
fn parse_checked<T: DeserializeOwned + Default>(source: &RawValue) -> T {
    let parsed = serde_json::from_str(source.get());
    debug_assert!(
        parsed.is_ok(),
        "checked JSON failed to parse: {}",
        source.get()
    );
    parsed.unwrap_or_default()
}

impl<T: DeserializeOwned + Default + Clone> Prepared<T> {
    /// The value to change: a copy of its own when it is shared; stored JSON is dropped.
    pub fn make_mut(&mut self) -> &mut T {
        let inner = Arc::make_mut(&mut self.0);
        inner.value();
        inner.source = None;
        inner.json = None;
        inner
            .value
            .get_mut()
            .expect("the value was parsed just above")
    }
}

/// A copy to change: the value alone, without JSON that would no longer be its own.
impl<T: DeserializeOwned + Default + Clone> Clone for Inner<T> {
    fn clone(&self) -> Self {
        Inner {
            value: OnceLock::from(self.value().clone()),
            source: None,
            json: None,
        }
    }
}

impl<T: DeserializeOwned + Default> Deref for Prepared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.value()
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

/// Equal when shared, read from the same JSON text, or equal as values.
impl<T: DeserializeOwned + Default + PartialEq> PartialEq for Prepared<T> {
    fn eq(&self, other: &Self) -> bool {
        if Prepared::ptr_eq(self, other) {
            return true;
        }
        match (&self.0.source, &other.0.source) {
            (Some(a), Some(b)) if a.get() == b.get() => true,
            _ => **self == **other,
        }
    }
}

impl<T: DeserializeOwned + Default + fmt::Debug> fmt::Debug for Prepared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
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

impl<T: Serialize + DeserializeOwned + Default> Serialize for Prepared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.json {
            Some(json) if WRITING_COMPACT.get() => json.serialize(serializer),
            _ => self.0.value().serialize(serializer),
        }
    }
}

/// Writes the stored JSON, else the value as serde_json writes it.
impl<T: Serialize + DeserializeOwned + Default> crate::delivery::wire::WriteJson for Prepared<T> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match &self.0.json {
            Some(json) => {
                out.extend_from_slice(json.get().as_bytes());
                Ok(())
            }
            None => serde_json::to_writer(out, self.0.value()),
        }
    }
}

/// Content is kept as the JSON it was read from, checked now to parse as a [`Value`] (so
/// bad input fails here, as it did when it was parsed at once), and parsed when first used.
impl<'de> Deserialize<'de> for Prepared<Value> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read_lazily(deserializer, false)
    }
}

/// Response tokens likewise, checked now to be an object (most readers look at one token,
/// with [`Prepared::field`], or none).
impl<'de> Deserialize<'de> for Prepared<Map<String, Value>> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read_lazily(deserializer, true)
    }
}

/// Reads a part as its JSON text, checked to parse into a `T` (an object when `object`).
fn read_lazily<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    deserializer: D,
    object: bool,
) -> Result<Prepared<T>, D::Error> {
    let source = Box::<RawValue>::deserialize(deserializer)?;
    let checked = if object && !source.get().starts_with('{') {
        Checked::ParseNow
    } else {
        check_value(&source).map_err(error_in::<D>)?
    };
    match checked {
        Checked::Parses => Ok(Prepared::from_inner(OnceLock::new(), Some(source), None)),
        Checked::ParseNow => serde_json::from_str(source.get())
            .map(Prepared::new)
            .map_err(error_in::<D>),
    }
}

impl Prepared<Map<String, Value>> {
    /// The value of `key`; when the map is not parsed yet, only that value is parsed.
    pub fn field(&self, key: &str) -> Option<Value> {
        let [value] = self.fields([key]);
        value
    }

    /// The values of `keys`; when the map is not parsed yet, one pass over its text parses
    /// only those values.
    pub fn fields<const N: usize>(&self, keys: [&str; N]) -> [Option<Value>; N] {
        match (self.0.value.get(), &self.0.source) {
            (None, Some(source)) => {
                let mut json = serde_json::Deserializer::from_str(source.get());
                json.deserialize_map(FieldsVisitor(keys))
                    .unwrap_or_else(|_| std::array::from_fn(|_| None))
            }
            _ => keys.map(|key| self.get(key).cloned()),
        }
    }

    /// Whether `key` holds the string `value`; a map not parsed yet whose text has no escape
    /// and not the value's text (where it would be, unescaped) is answered without parsing.
    pub fn field_is(&self, key: &str, value: &str) -> bool {
        if let (None, Some(source)) = (self.0.value.get(), &self.0.source) {
            let text = source.get();
            let bytes = text.as_bytes();
            if memchr::memchr(b'\\', bytes).is_none() && !text.contains(value) {
                return false;
            }
        }
        self.field(key).as_ref().and_then(Value::as_str) == Some(value)
    }
}

/// Finds some fields of a JSON object, ignoring the others (the last of equal keys wins, as
/// in a [`Map`]).
struct FieldsVisitor<'k, const N: usize>([&'k str; N]);

impl<'de, const N: usize> Visitor<'de> for FieldsVisitor<'_, N> {
    type Value = [Option<Value>; N];

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = std::array::from_fn(|_| None);
        while let Some(crate::delivery::wire::Key(key)) = map.next_key()? {
            match self.0.iter().position(|wanted| *wanted == key) {
                Some(i) => found[i] = Some(map.next_value()?),
                None => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// A nested parse's error as the outer deserializer's, without the nested line and column.
fn error_in<'de, D: Deserializer<'de>>(e: serde_json::Error) -> D::Error {
    let text = e.to_string();
    let at = format!(" at line {} column {}", e.line(), e.column());
    de::Error::custom(text.strip_suffix(&at).unwrap_or(&text))
}

/// What checking a JSON text found.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Checked {
    /// It parses into a [`Value`].
    Parses,
    /// It has an object whose first key is serde_json's private raw-value marker, which
    /// `Value` reads in its own way: parse it now to keep exactly that.
    ParseNow,
}

/// The key serde_json's `Value` treats as a raw-value marker when it comes first.
const RAW_VALUE_MARKER: &str = "$serde_json::private::RawValue";

/// Whether `source` (valid JSON syntax, as a [`RawValue`] is) parses into a [`Value`]: its
/// numbers in range, its `\u` escapes whole characters, its nesting within serde_json's limit.
fn check_value(source: &RawValue) -> serde_json::Result<Checked> {
    let text = source.get();
    if surely_parses(text) {
        return Ok(Checked::Parses);
    }
    serde_json::from_str::<CheckedValue>(text).map(|c| c.0)
}

/// serde_json's nesting limit: a value nested this deep fails to parse.
const NESTING_LIMIT: usize = 128;

/// Whether `text`, valid JSON syntax, has none of what alone can make it fail to parse into
/// a [`Value`]: a `\u` escape (maybe half a character) and, outside a lone string (whose
/// syntax was checked when it was read), an exponent (a digit then `e`), a run of 309 digits
/// (beyond `f64`), [`NESTING_LIMIT`] opening brackets, or the raw-value marker. `false` means
/// only that it needs the full check (strings may hold these bytes).
fn surely_parses(text: &str) -> bool {
    let bytes = text.as_bytes();
    static UNICODE_ESCAPE: LazyLock<memchr::memmem::Finder> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));
    if UNICODE_ESCAPE.find(bytes).is_some() {
        return false;
    }
    if bytes.first() == Some(&b'"') {
        return true;
    }
    let exponent = digit_then_e(bytes);
    let marker = memchr::memchr_iter(b'$', bytes).any(|i| text[i..].starts_with(RAW_VALUE_MARKER));
    // A run of 309 digits needs 309 bytes; opening 128 brackets needs as many closing ones.
    let long_number = bytes.len() >= 309
        && bytes
            .split(|byte| !byte.is_ascii_digit())
            .any(|run| run.len() >= 309);
    let deep = bytes.len() >= 2 * NESTING_LIMIT
        && bytes.iter().filter(|&&b| b == b'[' || b == b'{').count() >= NESTING_LIMIT;
    !(exponent || marker || long_number || deep)
}

/// Whether a digit is followed by `e` or `E` somewhere in `bytes`: one pass without branches
/// per block of bytes, which the compiler vectorizes (a search for `e` stops at every letter
/// of the many words that hold one).
fn digit_then_e(bytes: &[u8]) -> bool {
    const BLOCK: usize = 32;
    let is_digit = |byte: u8| byte.wrapping_sub(b'0') < 10;
    let is_e = |byte: u8| byte | 0x20 == b'e';
    let firsts = &bytes[..bytes.len().saturating_sub(1)];
    let seconds = bytes.get(1..).unwrap_or_default();
    firsts
        .chunks(BLOCK)
        .zip(seconds.chunks(BLOCK))
        .any(|(first, second)| {
            first
                .iter()
                .zip(second)
                .fold(false, |found, (&a, &b)| found | (is_digit(a) & is_e(b)))
        })
}

/// Parsed like a [`Value`] is (`deserialize_any`), building nothing.
struct CheckedValue(Checked);

impl<'de> Deserialize<'de> for CheckedValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckVisitor).map(CheckedValue)
    }
}

/// The worse of two findings.
fn worse(a: Checked, b: Checked) -> Checked {
    if a == Checked::ParseNow {
        a
    } else {
        b
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked::Parses)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked::Parses)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked::Parses)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked::Parses)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked::Parses)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked::Parses)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        let mut found = Checked::Parses;
        while let Some(CheckedValue(item)) = seq.next_element()? {
            found = worse(found, item);
        }
        Ok(found)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut found = Checked::Parses;
        let mut first = true;
        while let Some(crate::delivery::wire::Key(key)) = map.next_key()? {
            if first && key == RAW_VALUE_MARKER {
                found = Checked::ParseNow;
            }
            first = false;
            let CheckedValue(value) = map.next_value()?;
            found = worse(found, value);
        }
        Ok(found)
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

    /// An option's content as `Prepared` reads it from a response's JSON text.
    fn read_content(content: &str) -> serde_json::Result<Prepared<Value>> {
        serde_json::from_str(content)
    }

    #[test]
    fn content_read_from_json_is_parsed_when_first_asked_for() {
        let content = read_content(r#"{"a": [1, 2.5]}"#).unwrap();
        assert!(
            content.0.value.get().is_none(),
            "parsed before it was asked for"
        );
        assert_eq!(*content, json!({"a": [1, 2.5]}));
        assert!(content.0.value.get().is_some());
    }

    #[test]
    fn lazily_read_content_looks_like_the_value_everywhere() {
        let text = "{ \"b\" : [1, 2.50, -0, 4.5e300, 18446744073709551615, \"x\\u00e9\\\"\\n\\/\"],\n \"a\": {\"c\": null, \"c\": true} }";
        let value: Value = serde_json::from_str(text).unwrap();
        let eager = Prepared::new(value.clone());
        let lazy = || read_content(text).unwrap();
        assert_eq!(format!("{:?}", lazy()), format!("{value:?}"));
        assert_eq!(format!("{:#?}", lazy()), format!("{value:#?}"));
        assert_eq!(
            serde_json::to_string_pretty(&lazy()).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&lazy()).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
        let mut compact = Vec::new();
        to_writer_compact(&mut compact, &lazy()).unwrap();
        assert_eq!(compact, serde_json::to_vec(&value).unwrap());
        assert_eq!(serde_json::to_value(lazy()).unwrap(), value);
        assert_eq!(lazy(), eager);
        assert_eq!(eager, lazy());
        assert_ne!(lazy(), Prepared::new(json!({"b": []})));
    }

    #[test]
    fn the_same_json_text_is_equal_without_parsing() {
        let (a, b) = (
            read_content("[1, 2]").unwrap(),
            read_content("[1, 2]").unwrap(),
        );
        assert_eq!(a, b);
        assert!(a.0.value.get().is_none() && b.0.value.get().is_none());
        assert_eq!(a, read_content("[1,2]").unwrap(), "the same value");
        assert_ne!(a, read_content("[2, 1]").unwrap());
    }

    #[test]
    fn content_that_is_no_value_fails_to_parse_as_it_did() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let long = format!("1{}", "0".repeat(400));
        for bad in [
            "1e400",
            "-1e400",
            "[1, 1e999]",
            r#""\ud800""#,
            r#"{"a": "\udc00x"}"#,
            &deep,
            &long,
            "[2E400]",
            "[1,]",
            "{\"a\" 1}",
            "\"\u{1}\"",
        ] {
            assert!(
                serde_json::from_str::<Value>(bad).is_err(),
                "{bad} parses as a Value"
            );
            let option = format!(r#"{{"type": "json", "content": {bad}}}"#);
            let read = serde_json::from_str::<crate::delivery::TargetOption>(&option);
            assert!(read.is_err(), "{bad} was read: {read:?}");
        }
    }

    #[test]
    fn an_error_in_content_is_placed_in_the_whole_text() {
        let option = r#"{"type": "json",
            "content": {"a": 1e400}}"#;
        let error = serde_json::from_str::<crate::delivery::TargetOption>(option).unwrap_err();
        // At the end of the content (its own line and column are in the content's text).
        assert_eq!(error.to_string(), "number out of range at line 2 column 36");
    }

    #[test]
    fn response_tokens_that_are_not_an_object_fail_to_parse() {
        for bad in ["\"x\"", "[1]", "1", "{\"a\": 1e400}"] {
            let option = format!(r#"{{"responseTokens": {bad}}}"#);
            let read = serde_json::from_str::<crate::delivery::TargetOption>(&option);
            assert!(read.is_err(), "{bad} was read: {read:?}");
        }
    }

    #[test]
    fn a_first_key_that_value_reads_specially_reads_the_same() {
        for text in [
            r#"{"$serde_json::private::RawValue": "[1, 2]"}"#,
            r#"[{"$serde_json::private::RawValue": "3"}]"#,
            r#"{"b": {"$serde_json::private::RawValue": "{\"x\": 1}"}}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(*read_content(text).unwrap(), value, "{text}");
        }
        let not_first = r#"{"a": 1, "$serde_json::private::RawValue": "2"}"#;
        let value: Value = serde_json::from_str(not_first).unwrap();
        assert_eq!(*read_content(not_first).unwrap(), value);
    }

    #[test]
    fn lazily_read_content_changes_as_its_own_copy() {
        let mut content = read_content(r#""<b>${x}</b>""#).unwrap();
        let shared = content.clone();
        *content.make_mut() = json!("<b>1</b>");
        assert_eq!(*content, json!("<b>1</b>"));
        assert_eq!(*shared, json!("<b>${x}</b>"));
        assert_eq!(serde_json::to_string(&content).unwrap(), r#""<b>1</b>""#);
    }

    #[test]
    fn content_parses_exactly_when_a_value_does_at_every_edge_of_the_quick_check() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let digits = |n: usize| format!("[1{}]", "0".repeat(n - 1));
        let texts = [
            nested(126),
            nested(127),
            nested(128),
            format!("[{}]", vec!["{}"; 200].join(",")),
            digits(308),
            digits(309),
            digits(400),
            r#""12e5 \\u and $serde_json:: in text""#.to_string(),
            r#"["\u00e9", "\ud83d\ude00", 1.5e3, 2E-3]"#.to_string(),
            r#"{"price": "$119", "s": "${mbox.name}"}"#.to_string(),
        ];
        for text in &texts {
            let value = serde_json::from_str::<Value>(text);
            let content = read_content(text);
            assert_eq!(content.is_ok(), value.is_ok(), "{text}");
            if let (Ok(content), Ok(value)) = (content, value) {
                assert_eq!(*content, value);
            }
        }
        assert!(surely_parses(r#"{"a": [1, 2.5, "x"], "b": "$5 off"}"#));
        for needs_check in [r#"[1e5]"#, r#""\u0041""#, &nested(128), &digits(309)] {
            assert!(!surely_parses(needs_check), "{needs_check}");
        }
    }

    #[test]
    fn a_digit_then_e_is_found_at_every_place_of_a_text() {
        let filler = r#"{"experience.name": "Experience B", "offer.id": 880101, "x": "$"}"#;
        for len in 0..=filler.len() {
            let text = &filler[..len];
            assert!(!digit_then_e(text.as_bytes()), "{text}");
            for pair in ["1e", "9E", "0e"] {
                let with = format!("{text}{pair}{text}");
                assert!(digit_then_e(with.as_bytes()), "{with}");
            }
            for pair in ["/e", ":E", "1f"] {
                let without = format!("{text}{pair}{text}");
                assert!(!digit_then_e(without.as_bytes()), "{without}");
            }
        }
        assert!(!digit_then_e(b"") && !digit_then_e(b"1") && !digit_then_e(b"e"));
    }

    /// Response tokens as `Prepared` reads them from a response's JSON text.
    fn read_tokens(tokens: &str) -> Prepared<Map<String, Value>> {
        serde_json::from_str(tokens).unwrap()
    }

    #[test]
    fn one_token_is_read_without_parsing_the_others() {
        let text = r#"{"b": 2, "a": "on-device", "c": {"d": [1]}, "a": "server-side"}"#;
        let tokens = read_tokens(text);
        assert_eq!(
            tokens.field("a"),
            Some(json!("server-side")),
            "the last one, as in a Map"
        );
        assert_eq!(tokens.field("c"), Some(json!({"d": [1]})));
        assert_eq!(tokens.field("x"), None);
        assert!(tokens.field_is("a", "server-side"));
        assert!(!tokens.field_is("a", "on-device"));
        assert!(!tokens.field_is("b", "2"));
        assert!(tokens.0.value.get().is_none(), "parsed to read one token");
        let map: Map<String, Value> = serde_json::from_str(text).unwrap();
        assert_eq!(*tokens, map);
        assert_eq!(tokens.field("a"), Some(json!("server-side")), "once parsed");
        let escaped = read_tokens(r#"{"activity.decisioningMethod": "on\u002ddevice"}"#);
        assert!(escaped.field_is("activity.decisioningMethod", "on-device"));
    }

    #[test]
    fn several_tokens_are_read_in_one_pass_as_from_the_parsed_map() {
        let text = r#"{"b": 2, "a": "x", "c": {"d": [1]}, "a": "y"}"#;
        let tokens = read_tokens(text);
        let wanted = ["a", "x", "c", "b"];
        let read = tokens.fields(wanted);
        assert!(tokens.0.value.get().is_none(), "parsed to read some tokens");
        assert_eq!(
            read,
            [
                Some(json!("y")),
                None,
                Some(json!({"d": [1]})),
                Some(json!(2))
            ]
        );
        let _ = &*tokens;
        assert_eq!(tokens.fields(wanted), read, "once parsed");
    }
}
