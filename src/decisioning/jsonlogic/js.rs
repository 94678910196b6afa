//! JavaScript's coercions as json-logic-js applies them: numbers, truthiness, strings, loose and
//! strict equality, relational comparison.

use serde_json::{Number, Value};
use std::borrow::Cow;

pub(super) fn number(n: f64) -> Cow<'static, Value> {
    Cow::Owned(js_number(n))
}

/// A JavaScript number as JSON: integral values as integers, NaN and infinities as null.
pub fn js_number(n: f64) -> Value {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// json-logic-js truthiness: JavaScript's, except that an empty array is false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

/// JavaScript's `String(v)`.
pub fn to_js_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => js_number_string(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                if i.is_null() {
                    String::new()
                } else {
                    to_js_string(i)
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

fn js_number_string(n: &Number) -> String {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f.fract() == 0.0 && f.abs() < 1e21 {
            return format!("{}", f as i64);
        }
        return format!("{f}");
    }
    n.to_string()
}

/// JavaScript's `Number(v)`.
pub fn to_number(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => string_to_number(s),
        Value::Array(_) => string_to_number(&to_js_string(v)),
        Value::Object(_) => f64::NAN,
    }
}

fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16)
            .map(|v| v as f64)
            .unwrap_or(f64::NAN);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    // Rust accepts "inf"/"nan" spellings JavaScript does not.
    if t.chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// A primitive after JavaScript's ToPrimitive (arrays and objects become strings).
enum Primitive<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Str(Cow<'a, str>),
}

fn to_primitive(v: &Value) -> Primitive<'_> {
    match v {
        Value::Null => Primitive::Null,
        Value::Bool(b) => Primitive::Bool(*b),
        Value::Number(n) => Primitive::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Primitive::Str(Cow::Borrowed(s)),
        other => Primitive::Str(Cow::Owned(to_js_string(other))),
    }
}

/// JavaScript's `==`.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        // Two objects or arrays are equal only when they are the same object.
        (Value::Object(_) | Value::Array(_), Value::Object(_) | Value::Array(_)) => {
            std::ptr::eq(a, b)
        }
        _ => match (to_primitive(a), to_primitive(b)) {
            (Primitive::Str(x), Primitive::Str(y)) => x == y,
            (Primitive::Bool(x), Primitive::Bool(y)) => x == y,
            (x, y) => prim_number(&x) == prim_number(&y),
        },
    }
}

fn prim_number(p: &Primitive<'_>) -> f64 {
    match p {
        Primitive::Null => 0.0,
        Primitive::Bool(b) => f64::from(u8::from(*b)),
        Primitive::Number(n) => *n,
        Primitive::Str(s) => string_to_number(s),
    }
}

/// JavaScript's `===`.
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(_) | Value::Array(_), _) => std::ptr::eq(a, b),
        _ => a == b,
    }
}

pub(super) fn less_than(a: &Value, b: &Value) -> bool {
    if let (Value::Number(x), Value::Number(y)) = (a, b) {
        return x.as_f64() < y.as_f64();
    }
    match (to_primitive(a), to_primitive(b)) {
        (Primitive::Str(x), Primitive::Str(y)) => x.encode_utf16().lt(y.encode_utf16()),
        (x, y) => prim_number(&x) < prim_number(&y),
    }
}

pub(super) fn less_or_equal(a: &Value, b: &Value) -> bool {
    if let (Value::Number(x), Value::Number(y)) = (a, b) {
        return matches!((x.as_f64(), y.as_f64()), (Some(x), Some(y)) if x <= y);
    }
    match (to_primitive(a), to_primitive(b)) {
        (Primitive::Str(x), Primitive::Str(y)) => x.encode_utf16().le(y.encode_utf16()),
        (x, y) => {
            let (x, y) = (prim_number(&x), prim_number(&y));
            x <= y
        }
    }
}
