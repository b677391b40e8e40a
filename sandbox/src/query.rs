//! Query strings as WeChat Pay clients send them: `k=v` pairs joined by
//! `&`, each key and value percent-encoded once (RFC 3986). `+` is a plus
//! sign, not a space: these are not HTML form submissions.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::clock;
use crate::errors::{ApiError, Location};
use crate::validation::missing;

/// The decoded parameters of one request, in the order sent.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes a raw query (what follows `?`). A key given twice, or a key
    /// or value that does not decode to UTF-8, is a `PARAM_ERROR`.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            let key = decode(key).ok_or_else(|| {
                ApiError::param_error(
                    Location::Query,
                    format!("/{key}"),
                    None,
                    "the parameter name is not percent-encoded UTF-8",
                )
            })?;
            let decoded = decode(value).ok_or_else(|| {
                ApiError::param_error(
                    Location::Query,
                    format!("/{key}"),
                    Some(Value::from(value)),
                    "not percent-encoded UTF-8",
                )
            })?;
            if pairs.iter().any(|(k, _)| *k == key) {
                return Err(ApiError::param_error(
                    Location::Query,
                    format!("/{key}"),
                    Some(Value::from(decoded)),
                    "given more than once",
                ));
            }
            pairs.push((key, decoded));
        }
        Ok(Query { pairs })
    }

    /// The value of `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of a required parameter.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| missing(Location::Query, &format!("/{name}")))
    }

    /// A required non-negative integer within `min..=max`.
    pub(crate) fn required_integer(&self, name: &str, min: u64, max: u64) -> Result<u64, ApiError> {
        let text = self.required(name)?;
        let invalid = |issue: String| {
            ApiError::param_error(
                Location::Query,
                format!("/{name}"),
                Some(Value::from(text)),
                issue,
            )
        };
        let number = text
            .parse::<u64>()
            .map_err(|_| invalid("expected a non-negative integer".to_owned()))?;
        if number < min || number > max {
            return Err(invalid(format!("must be between {min} and {max}")));
        }
        Ok(number)
    }

    /// An optional RFC 3339 date-time, as nanoseconds since the epoch.
    pub(crate) fn optional_datetime(&self, name: &str) -> Result<Option<i128>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        clock::parse_rfc3339_nanos(text).map(Some).ok_or_else(|| {
            ApiError::param_error(
                Location::Query,
                format!("/{name}"),
                Some(Value::from(text)),
                "not an RFC 3339 date-time such as 2026-11-27T10:34:56+08:00 (encode '+' as %2B)",
            )
        })
    }
}

fn decode(text: &str) -> Option<String> {
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_and_keeps_plus() {
        let query = Query::parse(Some("a=1%2B2&b=x+y&c=%2541&d")).expect("valid");
        assert_eq!(query.get("a"), Some("1+2"));
        assert_eq!(query.get("b"), Some("x+y"));
        assert_eq!(query.get("c"), Some("%41"));
        assert_eq!(query.get("d"), Some(""));
        assert_eq!(query.get("e"), None);
    }

    #[test]
    fn rejects_duplicates_and_bad_utf8() {
        let error = Query::parse(Some("a=1&a=2")).expect_err("duplicate");
        assert_eq!(error.detail.expect("detail").field, "/a");
        assert!(Query::parse(Some("a=%FF")).is_err());
    }

    #[test]
    fn integers_are_range_checked() {
        let query = Query::parse(Some("limit=11&offset=-1&x=abc")).expect("valid");
        assert!(query.required_integer("limit", 1, 10).is_err());
        assert!(query.required_integer("offset", 0, u64::MAX).is_err());
        assert!(query.required_integer("x", 0, 1).is_err());
        let error = query
            .required_integer("missing", 0, 1)
            .expect_err("missing");
        let detail = error.detail.expect("detail");
        assert_eq!(detail.field, "/missing");
        assert_eq!(detail.location, Location::Query);
    }
}
