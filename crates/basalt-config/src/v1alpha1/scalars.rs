//! Small value types shared by the model: string maps and file modes.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A `map[string]string` as Talos has it (`extraArgs`, `sysctls`, `nodeLabels` …).
///
/// Like Go's YAML decoder, scalar values of any type are accepted and kept as their text
/// (`v: 2` → `"2"`, `enabled: true` → `"true"`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct StringMap(pub BTreeMap<String, String>);

impl StringMap {
    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Accepts any scalar as a string.
struct ScalarText;

impl<'de> de::DeserializeSeed<'de> for ScalarText {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(ScalarTextVisitor)
    }
}

struct ScalarTextVisitor;

impl Visitor<'_> for ScalarTextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string (or a number/boolean, kept as text)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

struct StringMapVisitor;

impl<'de> Visitor<'de> for StringMapVisitor {
    type Value = StringMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings")
    }

    fn visit_unit<E: de::Error>(self) -> Result<StringMap, E> {
        Ok(StringMap::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StringMap, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key_seed(ScalarText)? {
            let value = map.next_value_seed(ScalarText)?;
            out.insert(key, value);
        }
        Ok(StringMap(out))
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StringMapVisitor)
    }
}

/// Unix file permissions (`permissions: 0o644`, `0644` or `420`), saved as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct FileMode(pub u32);

struct FileModeVisitor;

impl Visitor<'_> for FileModeVisitor {
    type Value = FileMode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("file permissions such as 0o644")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<FileMode, E> {
        u32::try_from(v)
            .ok()
            .filter(|m| *m <= 0o7777)
            .map(FileMode)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<FileMode, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<FileMode, E> {
        match crate::decode::parse_int(v).and_then(|i| u64::try_from(i).ok()) {
            Some(u) => self.visit_u64(u),
            None => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FileModeVisitor)
    }
}
