//! A serde `Deserializer` over [`Node`] with Go-YAML-like scalar rules.
//!
//! Plain scalars are resolved like YAML 1.2's core schema (null, bool, int, float, string),
//! but a field that wants a string gets the scalar's text whatever it resolves to
//! (`v: 2` → `"2"`), and a field that wants a bool also accepts `yes`/`no`/`on`/`off`,
//! as Go's `gopkg.in/yaml.v3` does when decoding Talos configs.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::scalar::{parse_int, resolve, Resolved};
use super::tree::{is_null_text, Node, NodeKind};

/// A deserialization error; unknown fields are kept structured for good messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeError {
    /// A mapping key the target struct does not have.
    UnknownField {
        field: String,
        expected: &'static [&'static str],
    },
    /// Any other problem, as serde words it.
    Message(String),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::UnknownField { field, .. } => write!(f, "unknown field {field:?}"),
            DeError::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::Message(msg.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::UnknownField {
            field: field.to_string(),
            expected,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::Message(format!("missing field {field:?}"))
    }
}

/// Deserializer for one node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeDe<'a>(pub &'a Node);

impl<'a> NodeDe<'a> {
    fn unexpected(&self) -> Unexpected<'a> {
        match &self.0.kind {
            NodeKind::Scalar { text, plain: false } => Unexpected::Str(text),
            NodeKind::Scalar { text, plain: true } => match resolve(text) {
                Resolved::Null => Unexpected::Unit,
                Resolved::Bool(b) => Unexpected::Bool(b),
                Resolved::Int(i) => match i64::try_from(i) {
                    Ok(v) if v < 0 => Unexpected::Signed(v),
                    _ => u64::try_from(i).map_or(Unexpected::Str(text), Unexpected::Unsigned),
                },
                Resolved::Float(f) => Unexpected::Float(f),
                Resolved::Str => Unexpected::Str(text),
            },
            NodeKind::Seq(_) => Unexpected::Seq,
            NodeKind::Map(_) => Unexpected::Map,
        }
    }

    fn plain_text(&self) -> Option<&'a str> {
        match &self.0.kind {
            NodeKind::Scalar { text, plain: true } => Some(text),
            _ => None,
        }
    }

    fn integer<'de, V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.plain_text().and_then(parse_int) {
            Some(i) => match (u64::try_from(i), i64::try_from(i)) {
                (Ok(u), _) => v.visit_u64(u),
                (_, Ok(s)) => v.visit_i64(s),
                _ => Err(de::Error::invalid_value(self.unexpected(), &v)),
            },
            None => Err(de::Error::invalid_type(self.unexpected(), &v)),
        }
    }
}

macro_rules! integers {
    ($($name:ident),*) => {
        $(fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            self.integer(v)
        })*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Scalar { text, plain: false } => v.visit_str(text),
            NodeKind::Scalar { text, plain: true } => match resolve(text) {
                Resolved::Null => v.visit_unit(),
                Resolved::Bool(b) => v.visit_bool(b),
                Resolved::Int(_) => self.integer(v),
                Resolved::Float(f) => v.visit_f64(f),
                Resolved::Str => v.visit_str(text),
            },
            NodeKind::Seq(items) => v.visit_seq(Seq(items.iter())),
            NodeKind::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.plain_text() {
            Some("true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON") => {
                v.visit_bool(true)
            }
            Some("false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF") => {
                v.visit_bool(false)
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &v)),
        }
    }

    integers!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128
    );

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.plain_text().map(resolve) {
            Some(Resolved::Float(f)) => v.visit_f64(f),
            Some(Resolved::Int(_)) => self.integer(v),
            _ => Err(de::Error::invalid_type(self.unexpected(), &v)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Scalar { text, plain } if *plain && is_null_text(text) => v.visit_str(""),
            NodeKind::Scalar { text, .. } => v.visit_str(text),
            _ => Err(de::Error::invalid_type(self.unexpected(), &v)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_any(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_any(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            v.visit_unit()
        } else {
            Err(de::Error::invalid_type(self.unexpected(), &v))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Seq(items) => v.visit_seq(Seq(items.iter())),
            _ if self.0.is_null() => v.visit_seq(Seq([].iter())),
            _ => Err(de::Error::invalid_type(self.unexpected(), &v)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
            _ if self.0.is_null() => v.visit_map(Map {
                entries: [].iter(),
                value: None,
            }),
            _ => Err(de::Error::invalid_type(self.unexpected(), &v)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Scalar { text, .. } => v.visit_enum(text.as_str().into_deserializer()),
            _ => Err(de::Error::invalid_type(self.unexpected(), &v)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }
}

struct Seq<'a>(std::slice::Iter<'a, Node>);

impl<'de> de::SeqAccess<'de> for Seq<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.0
            .next()
            .map(|n| seed.deserialize(NodeDe(n)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> de::MapAccess<'de> for Map<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        match self.value.take() {
            Some(v) => seed.deserialize(NodeDe(v)),
            None => Err(de::Error::custom("mapping value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
