//! Go-compatible JSON decoding shared by plugin objects and lists: objects parsed with Go's
//! messages, and the type names Go's decoder and `%T` print.

use serde_json::error::Category;
use serde_json::{Map, Value};

pub(super) fn utf8_reason(e: std::str::Utf8Error) -> String {
    format!("invalid UTF-8 at byte {}", e.valid_up_to())
}

/// A JSON object; duplicate keys keep the last value (as Go). A truncated text reads as Go's
/// `unexpected end of JSON input`.
pub(super) fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(value) => expect_object(value),
        Err(e) if e.classify() == Category::Eof => Err("unexpected end of JSON input".into()),
        Err(e) => Err(e.to_string()),
    }
}

pub(super) fn expect_object(value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!(
            "expected a JSON object, found {}",
            json_kind(&other)
        )),
    }
}

/// The JSON kind as Go's decoder names it in type errors.
pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `%T` of a value decoded into `interface{}` (libcni's list messages use it).
pub(super) fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}
