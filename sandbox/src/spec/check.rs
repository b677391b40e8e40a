//! Checking a request against the table: JSON types, required fields,
//! string enums, lengths and formats, integer bounds and enums. The first
//! problem is a 400 `PARAM_ERROR` whose `detail.field` is its JSON
//! pointer.
//!
//! The spec's own example of a field is always accepted, even where it
//! breaks the field's declared constraints (the spec has such examples):
//! a client that sends what the spec shows is not refused.

use serde_json::Value;
use time::Date;
use time::macros::format_description;

use super::{Format, Node, Table};
use crate::clock;
use crate::errors::{ApiError, Location, pointer_push};
use crate::validation::{Found, missing};

/// Checks a body `value` (found at `pointer`) against the node `at`.
pub(crate) fn value(
    table: &Table,
    (index, node): (usize, &Node),
    value: &Value,
    pointer: &str,
) -> Result<(), ApiError> {
    let found = Found { value, pointer };
    let wrong_type = |expected: &str| found.wrong_type(expected);
    let invalid = |issue: String| found.invalid(issue);
    match node {
        Node::Any | Node::File => Ok(()),
        Node::Object {
            properties,
            required,
        } => {
            let object = value.as_object().ok_or_else(|| wrong_type("an object"))?;
            for (name, child) in properties {
                let field_pointer = pointer_push(pointer, name);
                match object.get(name) {
                    None | Some(Value::Null) if required.contains(name) => {
                        return Err(missing(Location::Body, &field_pointer));
                    }
                    None | Some(Value::Null) => {}
                    Some(item) => {
                        self::value(table, table.child(*child, index), item, &field_pointer)?;
                    }
                }
            }
            Ok(())
        }
        Node::Array { items, max_items } => {
            let array = value.as_array().ok_or_else(|| wrong_type("an array"))?;
            if let Some(max) = max_items.filter(|max| array.len() > *max) {
                return Err(invalid(format!("expected at most {max} items")));
            }
            let items = table.child(*items, index);
            for (at, item) in array.iter().enumerate() {
                self::value(table, items, item, &pointer_push(pointer, &at.to_string()))?;
            }
            Ok(())
        }
        Node::String { .. } => {
            let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            string(node, text).map_err(invalid)
        }
        Node::Integer { .. } => {
            let number = integer(value).ok_or_else(|| wrong_type("an integer"))?;
            whole(node, number).map_err(invalid)
        }
        Node::Number { .. } => value
            .as_number()
            .map(|_| ())
            .ok_or_else(|| wrong_type("a number")),
        Node::Boolean { .. } => value
            .as_bool()
            .map(|_| ())
            .ok_or_else(|| wrong_type("a boolean")),
    }
}

/// Checks a path or query parameter's decoded text against the node at
/// `schema`; answers it as JSON (a number for an integer), to be echoed.
pub(crate) fn text(
    table: &Table,
    schema: usize,
    text: &str,
    location: Location,
    pointer: &str,
) -> Result<Value, ApiError> {
    let (index, node) = table.root(schema);
    scalar_text(table, index, node, text)
        .map_err(|issue| ApiError::param_error(location, pointer, Some(Value::from(text)), issue))
}

fn scalar_text(table: &Table, index: usize, node: &Node, text: &str) -> Result<Value, String> {
    match node {
        Node::String { .. } => string(node, text).map(|()| Value::from(text)),
        Node::Integer { .. } => {
            let number: i128 = text.parse().map_err(|_| "expected an integer".to_owned())?;
            whole(node, number)?;
            Ok(i64::try_from(number).map_or_else(|_| Value::from(text), Value::from))
        }
        Node::Number { .. } => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "expected a number".to_owned()),
        Node::Boolean { .. } => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("expected true or false".to_owned()),
        },
        // A list is sent comma-separated.
        Node::Array { items, .. } => {
            let (item_index, item) = table.child(*items, index);
            text.split(',')
                .map(|part| scalar_text(table, item_index, item, part))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Node::Object { .. } | Node::Any | Node::File => Ok(Value::from(text)),
    }
}

/// A string's enum, length and format.
fn string(node: &Node, text: &str) -> Result<(), String> {
    let Node::String {
        allowed,
        min_length,
        max_length,
        format,
        example,
    } = node
    else {
        return Ok(());
    };
    if example.as_deref() == Some(text) || *format == Some(Format::Encrypted) {
        return Ok(());
    }
    if let Some(allowed) = allowed
        && !allowed.iter().any(|a| a == text)
    {
        return Err(format!("expected one of {}", allowed.join(", ")));
    }
    let len = text.chars().count();
    if let Some(min) = min_length.filter(|min| len < *min) {
        return Err(format!("expected at least {min} characters, found {len}"));
    }
    if let Some(max) = max_length.filter(|max| len > *max) {
        return Err(format!("expected at most {max} characters, found {len}"));
    }
    match format {
        Some(Format::DateTime) if clock::parse_rfc3339_nanos(text).is_none() => {
            Err("expected an RFC 3339 date-time such as 2026-11-27T10:34:56+08:00".to_owned())
        }
        Some(Format::Date)
            if Date::parse(text, format_description!("[year]-[month]-[day]")).is_err() =>
        {
            Err("expected a date such as 2026-11-27".to_owned())
        }
        Some(Format::Url) if !(text.starts_with("https://") || text.starts_with("http://")) => {
            Err("expected an http:// or https:// URL".to_owned())
        }
        _ => Ok(()),
    }
}

/// An integer's enum and bounds.
fn whole(node: &Node, number: i128) -> Result<(), String> {
    let Node::Integer {
        allowed,
        minimum,
        maximum,
        example,
    } = node
    else {
        return Ok(());
    };
    if example.is_some_and(|e| i128::from(e) == number) {
        return Ok(());
    }
    if let Some(allowed) = allowed
        && !allowed.iter().any(|a| i128::from(*a) == number)
    {
        let allowed: Vec<String> = allowed.iter().map(i64::to_string).collect();
        return Err(format!("expected one of {}", allowed.join(", ")));
    }
    if let Some(min) = minimum.filter(|min| number < i128::from(*min)) {
        return Err(format!("expected at least {min}"));
    }
    if let Some(max) = maximum.filter(|max| number > i128::from(*max)) {
        return Err(format!("expected at most {max}"));
    }
    Ok(())
}

/// An integer JSON number, whether it fits `i64` or only `u64`.
fn integer(value: &Value) -> Option<i128> {
    let number = value.as_number()?;
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

/// Whether `value` fits the node (for echoing a request value into an
/// answer).
pub(super) fn fits(table: &Table, node: (usize, &Node), candidate: &Value) -> bool {
    value(table, node, candidate, "").is_ok()
}
