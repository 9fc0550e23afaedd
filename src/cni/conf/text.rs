//! The text of a network configuration list, shared by the list and by every cache entry made from it.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A list's text. Clones share it, and its JSON string form (a cache file's `config`: a network list is all quotes,
/// so escaping it was most of the cost of writing a cache entry) is encoded once, on first use.
#[derive(Clone)]
pub struct ListText(Arc<Shared>);

struct Shared {
    text: Box<str>,
    /// `text` quoted and escaped; None only if encoding it failed, which a str cannot.
    literal: OnceLock<Option<Box<RawValue>>>,
}

impl ListText {
    pub fn new(text: impl Into<Box<str>>) -> ListText {
        ListText(Arc::new(Shared {
            text: text.into(),
            literal: OnceLock::new(),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    fn literal(&self) -> Option<&RawValue> {
        self.0
            .literal
            .get_or_init(|| serde_json::value::to_raw_value(self.as_str()).ok())
            .as_deref()
    }
}

impl Deref for ListText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Default for ListText {
    fn default() -> ListText {
        ListText::new("")
    }
}

impl From<String> for ListText {
    fn from(text: String) -> ListText {
        ListText::new(text)
    }
}

impl From<&str> for ListText {
    fn from(text: &str) -> ListText {
        ListText::new(text)
    }
}

impl PartialEq for ListText {
    fn eq(&self, other: &ListText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ListText {}

impl PartialEq<&str> for ListText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for ListText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// As a JSON string, from the encoding made once.
impl Serialize for ListText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.literal() {
            Some(literal) => literal.serialize(serializer),
            None => serializer.serialize_str(self.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_json_string_of_its_text() {
        let text = "{\"name\":\"n\",\"plugins\":[{\"type\":\"a\\\\b\"}]}\n\u{1}é";
        let shared = ListText::new(text);
        for _ in 0..2 {
            // The second encoding comes from the stored literal.
            assert_eq!(
                serde_json::to_string(&shared).unwrap(),
                serde_json::to_string(text).unwrap()
            );
        }
        let pretty = serde_json::to_string_pretty(&serde_json::json!({ "config": text })).unwrap();
        let mut ours = Vec::new();
        let mut serializer = serde_json::Serializer::pretty(&mut ours);
        let mut map = serde::ser::Serializer::serialize_map(&mut serializer, None).unwrap();
        serde::ser::SerializeMap::serialize_entry(&mut map, "config", &shared).unwrap();
        serde::ser::SerializeMap::end(map).unwrap();
        assert_eq!(String::from_utf8(ours).unwrap(), pretty);
    }

    #[test]
    fn clones_share_the_text() {
        let text = ListText::from("{}".to_string());
        let clone = text.clone();
        assert!(std::ptr::eq(text.as_str(), clone.as_str()));
        assert_eq!(clone, "{}");
    }
}
