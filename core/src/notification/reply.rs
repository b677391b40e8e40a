//! The merchant's answer to a callback.

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;

/// The longest `message` WeChat Pay's reply format allows, in characters.
const MAX_MESSAGE_CHARS: usize = 64;

/// The answer to a callback.
///
/// [`NotificationReply::success`] (`204`, empty body) tells WeChat Pay the
/// event was received; answer it only once the event is safely recorded.
/// Any failure (a 4xx/5xx status with `{"code":"FAIL","message":"…"}`)
/// makes WeChat Pay send the callback again later (after 15 s, 15 s, 30 s,
/// 3 min, … for about a day). Either must be sent within 5 seconds.
///
/// Convert it with [`NotificationReply::into_http`] (or `From`) for any
/// framework built on the `http` crate; with the `axum` feature it is an
/// `IntoResponse` too.
///
/// ```
/// use wxpay_core::notification::NotificationReply;
///
/// let ok = NotificationReply::success().into_http();
/// assert_eq!(ok.status(), 204);
/// assert!(ok.body().is_empty());
///
/// let busy = NotificationReply::failure("database unavailable").into_http();
/// assert_eq!(busy.status(), 500);
/// assert_eq!(busy.body(), br#"{"code":"FAIL","message":"database unavailable"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationReply {
    status: StatusCode,
    message: Option<String>,
}

#[derive(Serialize)]
struct FailBody<'a> {
    code: &'static str,
    message: &'a str,
}

impl NotificationReply {
    /// `204 No Content`: the event was received and recorded.
    pub fn success() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            message: None,
        }
    }

    /// `500` with `{"code":"FAIL","message":message}`: WeChat Pay will send
    /// the callback again. The message is for WeChat Pay's records: keep it
    /// short and free of secrets (it is cut to 64 characters).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::failure_with_status(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// A failure with another status, such as `400` or `401`. A status that
    /// is not 4xx or 5xx would read as success to WeChat Pay, so it is
    /// replaced by `500`.
    pub fn failure_with_status(status: StatusCode, message: impl Into<String>) -> Self {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        let mut message = message.into();
        if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
            message.truncate(cut);
        }
        Self {
            status,
            message: Some(message),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether this reply acknowledges the callback.
    pub fn is_success(&self) -> bool {
        self.message.is_none()
    }

    /// The failure message, `None` for a success.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The body: empty for a success, the `FAIL` JSON for a failure.
    pub fn body(&self) -> Vec<u8> {
        let Some(message) = &self.message else {
            return Vec::new();
        };
        let body = FailBody {
            code: "FAIL",
            message,
        };
        // Serializing two strings cannot fail; keep a valid body regardless.
        serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"code":"FAIL","message":""}"#.to_vec())
    }

    /// The reply as an [`http::Response`], with `Content-Type:
    /// application/json` on failures.
    pub fn into_http(self) -> Response<Vec<u8>> {
        let body = self.body();
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        if self.message.is_some() {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        response
    }
}

impl From<NotificationReply> for Response<Vec<u8>> {
    fn from(reply: NotificationReply) -> Self {
        reply.into_http()
    }
}
