//! A small, declarative checker for JSON request bodies: the shapes of the
//! spec's schemas written as Rust constants, checked in declaration order,
//! the first problem reported as a `PARAM_ERROR` whose `detail.field` is the
//! JSON pointer of the offending value.
//!
//! `null` counts as absent (clients that serialize `None` as `null` are
//! treated like clients that leave the field out); unknown fields are
//! ignored, as the real API does for most endpoints.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use crate::clock;
use crate::errors::{ApiError, Location, pointer_push};

/// The expected shape of one JSON value.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A string, with optional bounds on its length in characters.
    String {
        min_len: Option<usize>,
        max_len: Option<usize>,
    },
    /// A string holding an RFC 3339 date-time.
    DateTime,
    /// An integer (no fraction), with optional inclusive bounds.
    Integer { min: Option<i64>, max: Option<i64> },
    /// `true` or `false`.
    Boolean,
    /// One of a fixed set of strings.
    OneOf(&'static [&'static str]),
    /// One of a fixed set of integers.
    IntegerOneOf(&'static [i64]),
    /// An array whose items all have one shape.
    Array {
        items: &'static Kind,
        max_items: Option<usize>,
    },
    /// An object with the listed fields.
    Object(&'static [Field]),
    /// Anything at all.
    Any,
}

/// A field of an object.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) required: bool,
    pub(crate) kind: Kind,
}

/// Shorthands that keep schema tables readable.
pub(crate) const STRING: Kind = Kind::String {
    min_len: None,
    max_len: None,
};
pub(crate) const INTEGER: Kind = Kind::Integer {
    min: None,
    max: None,
};

impl Field {
    pub(crate) const fn required(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            required: true,
            kind,
        }
    }

    pub(crate) const fn optional(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            required: false,
            kind,
        }
    }
}

/// A body value at `pointer` that breaks a rule: the two ways of saying so,
/// shared by the hand-written schemas and the spec's.
#[derive(Clone, Copy)]
pub(crate) struct Found<'a> {
    /// The value as sent.
    pub(crate) value: &'a Value,
    /// Its JSON pointer in the body.
    pub(crate) pointer: &'a str,
}

impl Found<'_> {
    /// 400 `PARAM_ERROR`: the value is not of the `expected` JSON type.
    pub(crate) fn wrong_type(self, expected: &str) -> ApiError {
        self.invalid(format!(
            "expected {expected}, found {}",
            describe(self.value)
        ))
    }

    /// 400 `PARAM_ERROR`: the value is of the right type but breaks a rule
    /// (`issue` says which).
    pub(crate) fn invalid(self, issue: String) -> ApiError {
        ApiError::param_error(
            Location::Body,
            self.pointer,
            Some(self.value.clone()),
            issue,
        )
    }
}
/// Checks `value` (found at `pointer`) against `kind`.
pub(crate) fn check(value: &Value, kind: &Kind, pointer: &str) -> Result<(), ApiError> {
    let found = Found { value, pointer };
    let wrong_type = |expected: &str| found.wrong_type(expected);
    let invalid = |issue: String| found.invalid(issue);
    match kind {
        Kind::Any => Ok(()),
        Kind::String { min_len, max_len } => {
            let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            let len = text.chars().count();
            if let Some(min) = min_len.filter(|min| len < *min) {
                return Err(invalid(format!("shorter than {min} characters")));
            }
            if let Some(max) = max_len.filter(|max| len > *max) {
                return Err(invalid(format!("longer than {max} characters")));
            }
            Ok(())
        }
        Kind::DateTime => {
            let text = value
                .as_str()
                .ok_or_else(|| wrong_type("an RFC 3339 date-time string"))?;
            match clock::parse_rfc3339_nanos(text) {
                Some(_) => Ok(()),
                None => Err(invalid(
                    "not an RFC 3339 date-time such as 2026-11-27T10:34:56+08:00".to_owned(),
                )),
            }
        }
        Kind::Integer { min, max } => {
            let number = integer(value).ok_or_else(|| wrong_type("an integer"))?;
            check_range(number, *min, *max).map_err(invalid)
        }
        Kind::Boolean => value
            .as_bool()
            .map(|_| ())
            .ok_or_else(|| wrong_type("a boolean")),
        Kind::OneOf(allowed) => {
            let text = value.as_str().ok_or_else(|| wrong_type("a string"))?;
            if allowed.contains(&text) {
                Ok(())
            } else {
                Err(invalid(format!("must be one of {}", allowed.join(", "))))
            }
        }
        Kind::IntegerOneOf(allowed) => {
            let number = integer(value).ok_or_else(|| wrong_type("an integer"))?;
            if i64::try_from(number).is_ok_and(|n| allowed.contains(&n)) {
                Ok(())
            } else {
                let allowed: Vec<String> = allowed.iter().map(i64::to_string).collect();
                Err(invalid(format!("must be one of {}", allowed.join(", "))))
            }
        }
        Kind::Array { items, max_items } => {
            let array = value.as_array().ok_or_else(|| wrong_type("an array"))?;
            if let Some(max) = max_items.filter(|max| array.len() > *max) {
                return Err(invalid(format!("more than {max} items")));
            }
            for (index, item) in array.iter().enumerate() {
                check(item, items, &pointer_push(pointer, &index.to_string()))?;
            }
            Ok(())
        }
        Kind::Object(fields) => {
            let object = value.as_object().ok_or_else(|| wrong_type("an object"))?;
            for field in *fields {
                let field_pointer = pointer_push(pointer, field.name);
                match object.get(field.name) {
                    None | Some(Value::Null) if field.required => {
                        return Err(missing(Location::Body, &field_pointer));
                    }
                    None | Some(Value::Null) => {}
                    Some(value) => check(value, &field.kind, &field_pointer)?,
                }
            }
            Ok(())
        }
    }
}

/// The `PARAM_ERROR` for a required parameter that was not given.
pub(crate) fn missing(location: Location, pointer: &str) -> ApiError {
    ApiError::param_error(location, pointer, None, "required field is missing")
}

/// An integer JSON number, whether it fits `i64` or only `u64`.
fn integer(value: &Value) -> Option<i128> {
    let number = value.as_number()?;
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

fn check_range(number: i128, min: Option<i64>, max: Option<i64>) -> Result<(), String> {
    if let Some(min) = min.filter(|min| number < i128::from(*min)) {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = max.filter(|max| number > i128::from(*max)) {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

/// "a string", "an integer", … for error messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number with a fraction",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The body of a POST as a JSON object checked against `schema`.
///
/// A `Content-Type` other than `application/json` is a 400
/// `INVALID_REQUEST`; a missing one is accepted.
pub(crate) fn json_object(
    headers: &HeaderMap,
    body: &[u8],
    schema: &Kind,
) -> Result<Map<String, Value>, ApiError> {
    if let Some(content_type) = headers.get(CONTENT_TYPE) {
        let media_type = content_type
            .to_str()
            .ok()
            .and_then(|value| value.split(';').next())
            .map(str::trim)
            .unwrap_or_default();
        if !media_type.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::invalid_request(format!(
                "Content-Type must be application/json, got {:?}",
                String::from_utf8_lossy(content_type.as_bytes())
            )));
        }
    }
    if body.is_empty() {
        return Err(ApiError::param_error(
            Location::Body,
            "",
            None,
            "the request body is empty; expected a JSON object",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::param_error(
            Location::Body,
            "",
            None,
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    check(&value, schema, "")?;
    match value {
        Value::Object(object) => Ok(object),
        other => Err(ApiError::param_error(
            Location::Body,
            "",
            Some(other),
            "expected a JSON object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    static INNER: &[Field] = &[
        Field::required(
            "count",
            Kind::Integer {
                min: Some(1),
                max: Some(10),
            },
        ),
        Field::optional(
            "tags",
            Kind::Array {
                items: &Kind::String {
                    min_len: None,
                    max_len: Some(3),
                },
                max_items: Some(2),
            },
        ),
    ];
    static OUTER: &[Field] = &[
        Field::required("name", STRING),
        Field::required("inner", Kind::Object(INNER)),
        Field::optional("when", Kind::DateTime),
    ];

    fn field_of(value: Value) -> (String, String) {
        let error = check(&value, &Kind::Object(OUTER), "").expect_err("invalid");
        let detail = error.detail.expect("detail");
        (detail.field, detail.issue)
    }

    #[test]
    fn accepts_a_valid_value() {
        let value = json!({"name": "n", "inner": {"count": 3, "tags": ["a"]}, "extra": 1});
        assert!(check(&value, &Kind::Object(OUTER), "").is_ok());
    }

    #[test]
    fn points_at_the_first_problem() {
        let (field, issue) = field_of(json!({"inner": {}}));
        assert_eq!(
            (field.as_str(), issue.as_str()),
            ("/name", "required field is missing")
        );
        let (field, _) = field_of(json!({"name": "n", "inner": {}}));
        assert_eq!(field, "/inner/count");
        let (field, issue) = field_of(json!({"name": "n", "inner": {"count": "3"}}));
        assert_eq!(field, "/inner/count");
        assert_eq!(issue, "expected an integer, found a string");
        let (_, issue) = field_of(json!({"name": "n", "inner": {"count": 1.5}}));
        assert_eq!(issue, "expected an integer, found a number with a fraction");
        let (_, issue) = field_of(json!({"name": "n", "inner": {"count": 11}}));
        assert_eq!(issue, "must be at most 10");
        let (field, _) =
            field_of(json!({"name": "n", "inner": {"count": 1, "tags": ["a", "long"]}}));
        assert_eq!(field, "/inner/tags/1");
        let (field, _) = field_of(json!({"name": "n", "inner": {"count": 1}, "when": "yesterday"}));
        assert_eq!(field, "/when");
        let (field, _) = field_of(json!({"name": null, "inner": {"count": 1}}));
        assert_eq!(field, "/name");
    }
}
