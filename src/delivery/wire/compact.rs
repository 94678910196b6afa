//! [`WriteJson`]: wire objects written as compact JSON straight into a byte buffer, byte for
//! byte what `serde_json::to_writer` writes for them, without serde's per-key escaping: a wire
//! struct writes its field names as literals escaped at compile time, strings without escapes
//! are copied as they are, and prepared parts write their stored JSON.

use serde_json::{Map, Number, Value};

/// A value that writes itself as compact JSON, exactly as `serde_json::to_writer` would.
pub trait WriteJson {
    /// Appends the value's compact JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

/// The compact JSON of `value`, as `serde_json::to_vec` writes it (prepared parts as stored).
pub fn to_vec<T: WriteJson + ?Sized>(value: &T, capacity: usize) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(capacity);
    value.write_json(&mut out)?;
    Ok(out)
}

/// Ends an object or list whose members were each written with a `,` after them: the last
/// `,` becomes the closing bracket (or the bracket follows the opening one).
pub fn close(out: &mut Vec<u8>, bracket: u8) {
    match out.last_mut() {
        Some(last) if *last == b',' => *last = bracket,
        _ => out.push(bracket),
    }
}

/// Whether serde_json writes `bytes` unescaped: no control character, `"` or `\`. Checked in
/// blocks the compiler vectorizes.
fn needs_no_escape(bytes: &[u8]) -> bool {
    bytes.chunks(32).all(|block| {
        block.iter().fold(true, |plain, &b| {
            plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
        })
    })
}

impl WriteJson for str {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        if needs_no_escape(self.as_bytes()) {
            out.reserve(self.len() + 2);
            out.push(b'"');
            out.extend_from_slice(self.as_bytes());
            out.push(b'"');
            Ok(())
        } else {
            serde_json::to_writer(out, self)
        }
    }
}

impl WriteJson for String {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        self.as_str().write_json(out)
    }
}

impl WriteJson for i64 {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(itoa::Buffer::new().format(*self).as_bytes());
        Ok(())
    }
}

impl WriteJson for bool {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
        Ok(())
    }
}

/// Free-form values are rare in hot answers: serde_json writes them.
macro_rules! written_by_serde_json {
    ($($ty:ty),*) => {
        $(impl WriteJson for $ty {
            fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
                serde_json::to_writer(out, self)
            }
        })*
    };
}

written_by_serde_json!(Value, Number, Map<String, Value>);

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.push(b'[');
        for item in self {
            item.write_json(out)?;
            out.push(b',');
        }
        close(out, b']');
        Ok(())
    }
}

/// Writes the entries of unknown fields (`"key":value,` each).
pub fn write_extra(extra: &Map<String, Value>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    for (key, value) in extra {
        key.write_json(out)?;
        out.push(b':');
        value.write_json(out)?;
        out.push(b',');
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written<T: WriteJson + serde::Serialize + ?Sized>(value: &T) -> (String, String) {
        let ours = to_vec(value, 0).expect("written");
        let theirs = serde_json::to_vec(value).expect("written");
        (
            String::from_utf8(ours).expect("UTF-8"),
            String::from_utf8(theirs).expect("UTF-8"),
        )
    }

    #[test]
    fn strings_at_every_edge_of_the_escape_check_are_written_as_serde_json_writes_them() {
        let mut texts: Vec<String> = (0u32..0x100)
            .filter_map(char::from_u32)
            .map(|c| c.to_string())
            .collect();
        for at in [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 69, 70] {
            for special in ['"', '\\', '\n', '\u{1f}', '\u{7f}', 'é', '\u{2028}'] {
                let mut text = "a".repeat(70);
                text.insert(at, special);
                texts.push(text);
            }
        }
        texts.push(String::new());
        for text in &texts {
            let (ours, theirs) = written(text.as_str());
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    #[test]
    fn numbers_lists_and_free_values_are_written_as_serde_json_writes_them() {
        for n in [0, -1, 7, i64::MIN, i64::MAX] {
            let (ours, theirs) = written(&n);
            assert_eq!(ours, theirs);
        }
        let lists = [vec![], vec![1_i64], vec![1, -2, 3]];
        for list in &lists {
            let (ours, theirs) = written(list);
            assert_eq!(ours, theirs);
        }
        let value = serde_json::json!({"b": [1, 2.5, null, true, "x\"y"], "a": {}, "c": []});
        let (ours, theirs) = written(&value);
        assert_eq!(ours, theirs);
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(text in any::<String>()) {
            let (ours, theirs) = written(text.as_str());
            prop_assert_eq!(ours, theirs);
        }
    }
}
