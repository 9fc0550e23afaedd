//! The JSON a result is read from, as a borrowed tree: strings point into the input unless they had escapes, and
//! objects are lists of entries (a result has a handful of keys: no hashing). A plugin's output is parsed into it
//! with a few allocations, where a `serde_json::Value` takes one or two per key and value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// With serde_json's `arbitrary_precision` feature (enabled by this crate, for plugin configurations), a number
/// reaches a visitor as a one-entry map from this key to the number's text, which is how `serde_json::Value` reads
/// numbers too.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

#[derive(Debug, PartialEq)]
pub(super) enum Json<'a> {
    Null,
    Bool(bool),
    /// The number as written.
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// In document order; see [`Json::get`] for repeated keys.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses with serde_json, so syntax errors read exactly as serde_json words them. Valid UTF-8 (all plugin
    /// output in practice) is checked once as a whole, not string by string as when parsing bytes; other input is
    /// parsed as bytes, for serde_json's error at the offending string.
    pub(super) fn parse(bytes: &'a [u8]) -> serde_json::Result<Json<'a>> {
        match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(bytes),
        }
    }

    /// A view of an already-parsed value (a cached result).
    pub(super) fn of_value(value: &'a Value) -> Json<'a> {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(Cow::Owned(n.to_string())),
            Value::String(s) => Json::String(Cow::Borrowed(s)),
            Value::Array(items) => Json::Array(items.iter().map(Json::of_value).collect()),
            Value::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::of_value(v)))
                    .collect(),
            ),
        }
    }

    /// An integer number that fits i64, as serde_json's `Number::as_i64` reads one.
    pub(super) fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(text) => text.parse().ok(),
            _ => None,
        }
    }
}

/// The value of `key` in an object's entries: the last one when the key repeats, as with Go's decoder and
/// `serde_json::Value`.
pub(super) fn lookup<'o, 'a>(
    entries: &'o [(Cow<'a, str>, Json<'a>)],
    key: &str,
) -> Option<&'o Json<'a>> {
    entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    // Numbers arrive through visit_map (see NUMBER_TOKEN); these serve deserializers without that feature.
    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(Cow::Owned(n.to_string())))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(Cow::Owned(n.to_string())))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        Ok(Json::Number(Cow::Owned(n.to_string())))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json<'de>, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let Some(Text(first)) = map.next_key()? else {
            return Ok(Json::Object(Vec::new()));
        };
        if first == NUMBER_TOKEN {
            let Text(number) = map.next_value()?;
            return Ok(Json::Number(number));
        }
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).clamp(4, 64));
        entries.push((first, map.next_value()?));
        while let Some((Text(key), value)) = map.next_entry()? {
            entries.push((key, value));
        }
        Ok(Json::Object(entries))
    }
}

/// A string borrowed from the input where it can be.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'de>, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree says what `serde_json::Value` says of the same text, numbers in serde_json's spelling.
    #[test]
    fn parses_as_serde_json_value_does() {
        let text =
            r#"{"a":[1,-2.5e3,18446744073709551616,true,null,"x\"y",{}],"b":{"c":"d"},"e":""}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let tree = Json::parse(text.as_bytes()).unwrap();
        assert_eq!(tree, Json::of_value(&value));
        let Json::Object(entries) = &tree else {
            panic!("{tree:?}")
        };
        let Some(Json::Array(items)) = lookup(entries, "a") else {
            panic!("{tree:?}")
        };
        assert_eq!(
            (items[0].as_i64(), items[1].as_i64(), items[2].as_i64()),
            (Some(1), None, None)
        );
        assert_eq!(items[5], Json::String(Cow::Owned("x\"y".into())));
        match lookup(entries, "b") {
            Some(Json::Object(inner)) => {
                assert!(matches!(inner[0].1, Json::String(Cow::Borrowed("d"))))
            }
            other => panic!("{other:?}"),
        }
    }

    /// A repeated key's last value counts, as in `serde_json::Value` and Go.
    #[test]
    fn the_last_of_repeated_keys_counts() {
        let text = r#"{"a":1,"b":2,"a":{"x":3}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let Json::Object(entries) = Json::parse(text.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(lookup(&entries, "a"), Some(&Json::of_value(&value["a"])));
        assert_eq!(lookup(&entries, "b").and_then(Json::as_i64), Some(2));
        assert_eq!(lookup(&entries, "c"), None);
    }

    #[test]
    fn syntax_errors_are_serde_json_s() {
        for text in ["{", "{\"a\":}", "[1,]", "{} x", "\"\\u12\""] {
            let ours = Json::parse(text.as_bytes()).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(text).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
