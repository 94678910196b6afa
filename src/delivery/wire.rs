//! `wire_struct!`: wire objects whose fields are all optional and whose unknown fields are
//! kept in `extra`, with hand-rolled serde impls.
//!
//! serde's `#[serde(flatten)]` would keep unknown fields too, but it buffers every object into
//! an intermediate tree first, which more than halves parsing speed; responses can be megabytes.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

pub mod compact;
pub use compact::WriteJson;

/// Reads a wire object from a body as `serde_json::from_slice` does, with its UTF-8 checked
/// once for the whole body rather than string by string (and kept part by kept part); a body
/// that is not UTF-8 gets `from_slice`'s own error.
pub fn from_json<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// A wire object that reads its fields into a value in place: a request is kilobytes of
/// mostly empty fields, which returning it by value through serde's layers copies each time.
pub trait ReadFields: Default {
    /// Reads the fields the JSON object has into `place` (a default value: fields the object
    /// lacks are left as they are), as `Deserialize` reads them, with the same errors.
    fn deserialize_into<'de, D: Deserializer<'de>>(
        deserializer: D,
        place: &mut Self,
    ) -> Result<(), D::Error>;
}

/// Reads a wire object from a body into `place` (a default value) as [`from_json`] reads it:
/// the same object, the same errors.
pub fn from_json_into<T: ReadFields>(body: &[u8], place: &mut T) -> serde_json::Result<()> {
    match std::str::from_utf8(body) {
        Ok(text) => {
            let mut json = serde_json::Deserializer::from_str(text);
            T::deserialize_into(&mut json, place)?;
            json.end()
        }
        Err(_) => {
            let mut json = serde_json::Deserializer::from_slice(body);
            T::deserialize_into(&mut json, place)?;
            json.end()
        }
    }
}

/// How a wire struct's field value is read into its slot: wire structs, and lists of them,
/// in place (a request's nested objects are kilobytes, which reading by value moves through
/// serde's layers several times); anything else by its `Deserialize`. Either way the slot
/// ends as `Option<Self>`'s `Deserialize` would make it, with the same errors.
pub trait ReadField: Sized {
    /// Reads the next value of `map` into `slot`.
    fn read_field<'de, A: MapAccess<'de>>(
        map: &mut A,
        slot: &mut Option<Self>,
    ) -> Result<(), A::Error>;
}

/// An element of a list field: wire structs are read in place at the list's end.
pub trait ReadElement: Sized {
    /// Reads the next element of `seq` onto the end of `list`; `false` when there is none.
    fn read_element<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        list: &mut Vec<Self>,
    ) -> Result<bool, A::Error>;
}

/// `ReadField` and `ReadElement` of types read by their `Deserialize`.
macro_rules! read_by_deserialize {
    ($($ty:ty),* $(,)?) => {$(
        impl ReadField for $ty {
            fn read_field<'de, A: MapAccess<'de>>(
                map: &mut A,
                slot: &mut Option<Self>,
            ) -> Result<(), A::Error> {
                *slot = map.next_value()?;
                Ok(())
            }
        }
        impl ReadElement for $ty {
            fn read_element<'de, A: SeqAccess<'de>>(
                seq: &mut A,
                list: &mut Vec<Self>,
            ) -> Result<bool, A::Error> {
                Ok(match seq.next_element()? {
                    Some(element) => {
                        list.push(element);
                        true
                    }
                    None => false,
                })
            }
        }
    )*};
}

read_by_deserialize!(
    String,
    i64,
    bool,
    serde_json::Number,
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>,
    super::Prepared<serde_json::Value>,
    super::Prepared<serde_json::Map<String, serde_json::Value>>,
);

/// A list is read element by element into the slot's list, as `Vec`'s `Deserialize` reads it.
impl<T: ReadElement> ReadField for Vec<T> {
    fn read_field<'de, A: MapAccess<'de>>(
        map: &mut A,
        slot: &mut Option<Self>,
    ) -> Result<(), A::Error> {
        map.next_value_seed(OptionInPlace(slot))
    }
}

/// A value read into a default value already in its place: a wire struct field by field, a
/// list element by element.
pub trait FillInPlace: Default {
    /// Reads the next value of `deserializer` into `place`.
    fn fill<'de, D: Deserializer<'de>>(deserializer: D, place: &mut Self) -> Result<(), D::Error>;
}

impl<T: ReadFields> FillInPlace for T {
    fn fill<'de, D: Deserializer<'de>>(deserializer: D, place: &mut Self) -> Result<(), D::Error> {
        T::deserialize_into(deserializer, place)
    }
}

impl<T: ReadElement> FillInPlace for Vec<T> {
    fn fill<'de, D: Deserializer<'de>>(deserializer: D, place: &mut Self) -> Result<(), D::Error> {
        deserializer.deserialize_seq(Elements(place))
    }
}

/// The elements of a list, each read onto the end of it.
struct Elements<'l, T>(&'l mut Vec<T>);

impl<'de, T: ReadElement> Visitor<'de> for Elements<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while T::read_element(&mut seq, self.0)? {}
        Ok(())
    }
}

/// Reads `null` as `None`, and anything else into a default value put `Some` in the slot.
pub struct OptionInPlace<'s, T>(pub &'s mut Option<T>);

impl<'de, T: FillInPlace> DeserializeSeed<'de> for OptionInPlace<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T: FillInPlace> Visitor<'de> for OptionInPlace<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let place = self.0.insert(T::default());
        T::fill(deserializer, place)
    }
}

/// One element of a list of wire structs, read into a default value pushed onto the list.
pub struct PushInPlace<'l, T>(pub &'l mut Vec<T>);

impl<'de, T: ReadFields> DeserializeSeed<'de> for PushInPlace<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.push(T::default());
        let place = self.0.last_mut().expect("an element was pushed just above");
        T::deserialize_into(deserializer, place)
    }
}

/// A map key that borrows from the input when it can.
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Defines a wire struct: `"wireName" => pub field: Type,` per field (each an `Option`).
/// Unknown fields land in `extra`; or, with a last `..details: Type` line, the struct
/// embeds that wire struct flattened (its fields beside the struct's own, unknown fields in
/// its `extra`), as `#[serde(flatten)]` would without buffering the object.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[doc = $doc:literal])* $wire:literal => pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: Option<$ty>, )*
            /// Fields this model does not know, kept for a lossless round trip.
            pub extra: $crate::delivery::Extra,
        }

        $crate::delivery::wire::wire_impls!(
            $name { $( $wire => $field, )* }
            others read |this, key, map| {
                this.extra.insert(key.into_owned(), map.next_value()?);
                Ok(())
            };
            others written |this, map| {
                for (key, value) in &this.extra {
                    map.serialize_entry(key, value)?;
                }
                Ok(())
            };
            others compact |this, out| $crate::delivery::wire::compact::write_extra(&this.extra, out);
        );
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[doc = $doc:literal])* $wire:literal => pub $field:ident : $ty:ty, )*
            ..$details:ident : $details_ty:ty
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: Option<$ty>, )*
            /// The embedded wire struct, flattened on the wire; unknown fields are in its `extra`.
            pub $details: $details_ty,
        }

        $crate::delivery::wire::wire_impls!(
            $name { $( $wire => $field, )* }
            others read |this, key, map| this.$details.read_field(key, map);
            others written |this, map| this.$details.write_fields(map);
            others compact |this, out| this.$details.write_json_fields(out);
        );
    };
}

/// A wire struct's field reader and writer and its serde impls, given what becomes of the
/// fields it does not name (kept in `extra`, or handed to an embedded wire struct).
macro_rules! wire_impls {
    (
        $name:ident { $( $wire:literal => $field:ident, )* }
        others read |$this:ident, $key:ident, $map:ident| $read_other:expr;
        others written |$wthis:ident, $wmap:ident| $write_other:expr;
        others compact |$cthis:ident, $out:ident| $compact_other:expr;
    ) => {
        impl $name {
            /// Reads the value of field `key` (one it does not name as `others read` says).
            pub(crate) fn read_field<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                $key: std::borrow::Cow<'de, str>,
                $map: &mut A,
            ) -> Result<(), A::Error> {
                match $key.as_ref() {
                    $( $wire => $crate::delivery::wire::ReadField::read_field($map, &mut self.$field)?, )*
                    _ => {
                        let $this = self;
                        return $read_other;
                    }
                }
                Ok(())
            }

            /// Writes the fields that are set, then the others.
            pub(crate) fn write_fields<M: serde::ser::SerializeMap>(
                &self,
                $wmap: &mut M,
            ) -> Result<(), M::Error> {
                $( if let Some(value) = &self.$field { $wmap.serialize_entry($wire, value)?; } )*
                let $wthis = self;
                $write_other
            }

            /// Writes the fields that are set as compact JSON, then the others: `"name":value,`
            /// each, names escaped at compile time.
            pub(crate) fn write_json_fields(&self, $out: &mut Vec<u8>) -> serde_json::Result<()> {
                use $crate::delivery::wire::WriteJson;
                $(
                    if let Some(value) = &self.$field {
                        $out.extend_from_slice(concat!("\"", $wire, "\":").as_bytes());
                        value.write_json($out)?;
                        $out.push(b',');
                    }
                )*
                let $cthis = self;
                $compact_other
            }
        }

        /// Written as `serde_json::to_writer` writes it, prepared parts as stored.
        impl $crate::delivery::wire::WriteJson for $name {
            fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
                out.push(b'{');
                self.write_json_fields(out)?;
                $crate::delivery::wire::compact::close(out, b'}');
                Ok(())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                self.write_fields(&mut map)?;
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut out = $name::default();
                <$name as $crate::delivery::wire::ReadFields>::deserialize_into(
                    deserializer,
                    &mut out,
                )?;
                Ok(out)
            }
        }

        impl $crate::delivery::wire::ReadField for $name {
            fn read_field<'de, A: serde::de::MapAccess<'de>>(
                map: &mut A,
                slot: &mut Option<Self>,
            ) -> Result<(), A::Error> {
                map.next_value_seed($crate::delivery::wire::OptionInPlace(slot))
            }
        }

        impl $crate::delivery::wire::ReadElement for $name {
            fn read_element<'de, A: serde::de::SeqAccess<'de>>(
                seq: &mut A,
                list: &mut Vec<Self>,
            ) -> Result<bool, A::Error> {
                Ok(seq.next_element_seed($crate::delivery::wire::PushInPlace(list))?.is_some())
            }
        }

        impl $crate::delivery::wire::ReadFields for $name {
            fn deserialize_into<'de, D: serde::Deserializer<'de>>(
                deserializer: D,
                place: &mut Self,
            ) -> Result<(), D::Error> {
                struct IntoVisitor<'p>(&'p mut $name);
                impl<'de> serde::de::Visitor<'de> for IntoVisitor<'_> {
                    type Value = ();
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<(), A::Error> {
                        while let Some($crate::delivery::wire::Key(key)) = map.next_key()? {
                            self.0.read_field(key, &mut map)?;
                        }
                        Ok(())
                    }
                }
                deserializer.deserialize_map(IntoVisitor(place))
            }
        }
    };
}

pub(crate) use wire_impls;
pub(crate) use wire_struct;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::DeliveryRequest;

    #[test]
    fn fields_and_lists_read_in_place_are_what_reading_by_value_made() {
        // Lossless: what is read writes back as the JSON value it came from; a repeated key's
        // last object replaces the first whole, in fields and in lists.
        for body in [
            r#"{"context":{"channel":"web","geo":{"city":"x"}},"context":{"userAgent":"u"}}"#,
            r#"{"prefetch":{"mboxes":[{"name":"a","index":1,"parameters":{"k":"v"}},
                {"name":"b","order":{"id":"o","purchasedProductIds":["p"]}}],"mboxes":[{"name":"c"}]}}"#,
            r#"{"execute":{"mboxes":[]},"notifications":[{"id":"n","tokens":["t1","t2"],
                "mbox":{"name":"m"},"x":[{"y":1}]}]}"#,
            r#"{"qaMode":{"evaluateAsTrueAudienceIds":[1,2],"previewIndexes":[{"activityIndex":1},{}]}}"#,
        ] {
            let request: DeliveryRequest = serde_json::from_str(body).unwrap();
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(serde_json::to_value(&request).unwrap(), value, "{body}");
        }
        let nulls = r#"{"context":{"channel":"web"},"context":null,"prefetch":{"mboxes":[{}],"mboxes":null}}"#;
        let request: DeliveryRequest = serde_json::from_str(nulls).unwrap();
        assert_eq!(request.context, None);
        assert_eq!(request.prefetch.map(|p| p.mboxes), Some(None));
        for (body, error) in [
            (
                r#"{"prefetch":{"mboxes":5}}"#,
                "invalid type: integer `5`, expected a sequence at line 1 column 23",
            ),
            (
                r#"{"prefetch":{"mboxes":[{},5]}}"#,
                "invalid type: integer `5`, expected a MboxRequest object at line 1 column 27",
            ),
            (
                r#"{"context":[]}"#,
                "invalid type: sequence, expected a Context object at line 1 column 11",
            ),
            (
                r#"{"qaMode":{"evaluateAsTrueAudienceIds":[1,"2"]}}"#,
                "invalid type: string \"2\", expected i64 at line 1 column 45",
            ),
            (
                r#"{"prefetch":{"mboxes":[{"name":1}]}}"#,
                "invalid type: integer `1`, expected a string at line 1 column 32",
            ),
        ] {
            let read = serde_json::from_str::<DeliveryRequest>(body).map_err(|e| e.to_string());
            assert_eq!(read, Err(error.to_string()), "{body}");
        }
    }

    #[test]
    fn a_request_read_in_place_is_the_request_from_slice_reads_with_the_same_errors() {
        let bodies: [&[u8]; 9] = [
            br#"{"id":{"tntId":"t"},"context":{"channel":"web","address":{"url":"http://a/"}},
                "prefetch":{"mboxes":[{"name":"m","index":1,"parameters":{"a":"b"},"x":[1]}]},"y":2}"#,
            br#"{"context":{"channel":"web"},"context":{"userAgent":"u"}}"#,
            b"{}",
            b"[]",
            b"{\"id\": 5}",
            b"{\"id\":{}} x",
            b"{\"requestId\":\"caf\xe9\"}",
            b"{\"requestId\":\"a\"",
            b"",
        ];
        for body in bodies {
            let mut in_place = DeliveryRequest::default();
            let ours = from_json_into(body, &mut in_place)
                .map(|()| in_place)
                .map_err(|e| e.to_string());
            let slice = serde_json::from_slice::<DeliveryRequest>(body).map_err(|e| e.to_string());
            assert_eq!(ours, slice, "{}", String::from_utf8_lossy(body));
        }
    }
}
