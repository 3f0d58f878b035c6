//! Building YAML values tersely.

use serde_norway::Value;

/// A string.
pub(super) fn s(text: impl AsRef<str>) -> Value {
    Value::String(text.as_ref().to_owned())
}

/// A sequence of strings.
pub(super) fn list(items: impl IntoIterator<Item = String>) -> Value {
    Value::Sequence(items.into_iter().map(Value::String).collect())
}

/// A mapping in the given order.
pub(super) fn map<'a>(entries: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Mapping(entries.into_iter().map(|(k, v)| (s(k), v)).collect())
}
