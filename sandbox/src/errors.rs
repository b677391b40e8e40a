//! The API error body WeChat Pay answers with:
//! `{"code":"…","message":"…","detail":{"field","value","issue","location"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// An error answer of the simulated API. Rendered as JSON and then signed
/// like every other response.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ApiError {
    #[serde(skip)]
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<Box<ErrorDetail>>,
}

/// `detail` of a `PARAM_ERROR`: which parameter, what was wrong with it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ErrorDetail {
    /// A JSON pointer (RFC 6901) to the parameter, e.g.
    /// `/stock_use_rule/max_coupons`; for query and path parameters
    /// `/name`.
    pub(crate) field: String,
    /// The offending value; absent when the parameter is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<Value>,
    pub(crate) issue: String,
    pub(crate) location: Location,
}

/// Where a request parameter lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Location {
    Body,
    Query,
    Path,
}

impl Location {
    fn as_str(self) -> &'static str {
        match self {
            Location::Body => "body",
            Location::Query => "query",
            Location::Path => "path",
        }
    }
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            detail: None,
        }
    }

    /// 401 `SIGN_ERROR`: the request's `Authorization` did not check out.
    pub(crate) fn sign_error(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "SIGN_ERROR", message)
    }

    /// 400 `PARAM_ERROR` naming the parameter.
    pub(crate) fn param_error(
        location: Location,
        field: impl Into<String>,
        value: Option<Value>,
        issue: impl Into<String>,
    ) -> Self {
        let field = field.into();
        let issue = issue.into();
        let shown = if field.is_empty() { "(root)" } else { &field };
        let message = format!("{} parameter {shown}: {issue}", location.as_str());
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "PARAM_ERROR".to_owned(),
            message,
            detail: Some(Box::new(ErrorDetail {
                field,
                value,
                issue,
                location,
            })),
        }
    }

    /// 400 `INVALID_REQUEST`: well-formed, but not allowed right now.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// 403 `NO_AUTH`: the merchant may not act on this resource.
    pub(crate) fn no_auth(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "NO_AUTH", message)
    }

    /// 404 `RESOURCE_NOT_EXISTS`: the route exists, the object does not.
    pub(crate) fn resource_not_exists(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", message)
    }

    /// 500 `SYSTEM_ERROR`: the sandbox itself failed (its database).
    pub(crate) fn system_error(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", message)
    }

    /// 404 `NOT_FOUND`: no such endpoint.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/`
/// as RFC 6901 requires.
pub(crate) fn pointer_push(pointer: &str, token: &str) -> String {
    let escaped = token.replace('~', "~0").replace('/', "~1");
    format!("{pointer}/{escaped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(pointer_push("", "a"), "/a");
        assert_eq!(pointer_push("/a", "b/c~d"), "/a/b~1c~0d");
    }

    #[test]
    fn param_error_body_has_the_documented_shape() {
        let e = ApiError::param_error(
            Location::Body,
            "/stock_use_rule/max_coupons",
            Some(Value::from("x")),
            "expected an integer, found a string",
        );
        let json = serde_json::to_value(&e).expect("serializable");
        assert_eq!(json["code"], "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], "/stock_use_rule/max_coupons");
        assert_eq!(json["detail"]["value"], "x");
        assert_eq!(json["detail"]["location"], "body");
        assert!(json.get("status").is_none());
    }
}
