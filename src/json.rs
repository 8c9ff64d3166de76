//! JSON read strictly: an object that names a key twice is an error, at
//! any depth, never "the last one wins" (`serde_json::Value` keeps the last
//! silently, so `{"principal": A, "principal": B}` would be asked as B).

/// The version of every JSON document rolegrid writes (`check`, `validate`,
/// `coverage`, `matrix`, problems); bumped on incompatible changes.
pub const DOCUMENT_VERSION: u32 = 2;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON value whose objects name each key once. Deserialize it (or a
/// `Vec` of it) in place of [`serde_json::Value`].
#[derive(Debug, Clone, PartialEq)]
pub struct Strict(pub Value);

/// Parses `text` as one JSON value, refusing duplicate keys.
///
/// ```
/// assert!(rolegrid::json::from_str(r#"{"a": 1, "b": {"a": 2}}"#).is_ok());
/// let error = rolegrid::json::from_str(r#"{"a": 1, "a": 2}"#).unwrap_err();
/// assert!(error.to_string().contains("the key `a` appears twice"));
/// ```
pub fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Strict>(text).map(|strict| strict.0)
}

/// Parses `text` as a JSON array, refusing duplicate keys in its items.
pub fn array_from_str(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::from_str::<Vec<Strict>>(text)
        .map(|items| items.into_iter().map(|item| item.0).collect())
}

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match object.entry(key) {
                serde_json::map::Entry::Occupied(named) => {
                    return Err(de::Error::custom(format_args!(
                        "the key `{}` appears twice in one object",
                        named.key()
                    )));
                }
                serde_json::map::Entry::Vacant(slot) => {
                    let Strict(value) = map.next_value()?;
                    slot.insert(value);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_read_as_serde_json_reads_them() {
        let text = r#"{"a": [1, -2, 3.5, "x", true, null, {"b": {}}], "c": 18446744073709551615}"#;
        assert_eq!(
            from_str(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn a_key_named_twice_is_an_error_at_any_depth() {
        for text in [
            r#"{"principal": "a", "principal": "b"}"#,
            r#"{"context": {"x": 1, "x": 2}}"#,
            r#"[{"a": [{"k": 1, "k": 1}]}]"#,
        ] {
            let error = from_str(text).unwrap_err().to_string();
            assert!(error.contains("appears twice"), "{text}: {error}");
            assert!(error.contains("column"), "{text}: {error}");
        }
        assert!(array_from_str(r#"[{"uid": 1}, {"uid": 2, "uid": 3}]"#).is_err());
    }
}
