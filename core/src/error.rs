//! Everything a call can fail with.
//!
//! Each variant says which operation failed (its method and path template,
//! never the rendered path) and what to check. WeChat Pay's `Request-ID` is
//! kept wherever the server sent one: quote it when asking WeChat Pay support.
//!
//! An error's `Display` says what failed at its own level and does not
//! repeat its cause, which [`std::error::Error::source`] gives: error
//! reporters (`anyhow`, `eyre`, `tracing`) print the chain without saying
//! anything twice. To print the whole chain on one line yourself, use
//! [`Report`] (or [`Error::report`]).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::endpoint::Method;
use crate::keys::CryptoError;
use crate::target::BuildError;
use crate::verification::VerifyError;

/// Which operation a call was for: its method and path template
/// (`POST /v3/marketing/favor/stocks/{stock_id}/start`).
///
/// The rendered path is deliberately not kept: it may carry order numbers
/// or personal data that do not belong in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The HTTP method.
    pub method: Method,
    /// The path template with `{name}` placeholders.
    pub template: &'static str,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.template)
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client could not be built from the given settings.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The request could not be built from the endpoint's fields.
    #[error("{operation}: could not build the request")]
    Build {
        /// The operation.
        operation: Operation,
        /// What was wrong.
        #[source]
        source: BuildError,
    },

    /// The request could not be signed with the merchant key.
    #[error("{operation}: could not sign the request")]
    Sign {
        /// The operation.
        operation: Operation,
        /// What the crypto backend reported.
        #[source]
        source: CryptoError,
    },

    /// The request did not reach WeChat Pay, or the answer did not arrive
    /// (connection refused, DNS, TLS, connection reset).
    #[error(
        "{operation}: transport error (check the network path to the base URL and the base URL itself){}",
        attempts_suffix(*attempts)
    )]
    Transport {
        /// The operation.
        operation: Operation,
        /// The HTTP client's error (without the URL, which may carry
        /// identifiers).
        #[source]
        source: reqwest::Error,
        /// How many attempts the call made, this failed one included
        /// (see [`crate::retry`]).
        attempts: u32,
    },

    /// No complete answer arrived within the client's timeout.
    #[error(
        "{operation}: no answer within {after:?}; the operation may still have taken effect, so query its state before retrying (reuse the same out_* number){}",
        attempts_suffix(*attempts)
    )]
    Timeout {
        /// The operation.
        operation: Operation,
        /// The timeout that ran out (on the last attempt).
        after: Duration,
        /// How many attempts the call made, this failed one included
        /// (see [`crate::retry`]).
        attempts: u32,
    },

    /// A successful-looking answer did not carry a valid WeChat Pay
    /// signature. Its body was not used: treat it as forged.
    #[error(
        "{operation}: HTTP {} answer rejected{}",
        status.as_u16(),
        request_id_suffix(request_id.as_deref())
    )]
    Verification {
        /// The operation.
        operation: Operation,
        /// The HTTP status of the rejected answer.
        status: StatusCode,
        /// The `Request-ID` header, if any (it is not authenticated either).
        request_id: Option<String>,
        /// Which check failed.
        #[source]
        source: VerifyError,
    },

    /// WeChat Pay answered with an error status (4xx or 5xx).
    #[error("{operation}: {0}", operation = .0.operation)]
    Api(Box<ApiError>),

    /// Platform certificates could not be downloaded or read.
    #[error("platform certificates could not be used")]
    Certificates(#[source] crate::certificates::CertificateError),

    /// The payer's invocation parameters for an order could not be made
    /// (see [`crate::payer`]).
    #[error("{operation}: could not make the payer's parameters")]
    PayParams {
        /// The order's operation.
        operation: Operation,
        /// What was wrong.
        #[source]
        source: crate::payer::PayParamsError,
    },

    /// A verified answer did not match the endpoint's response type.
    #[error(
        "{operation}: HTTP {} answer could not be decoded at `{path}` (the response type does not match what WeChat Pay sent){}",
        status.as_u16(),
        request_id_suffix(request_id.as_deref())
    )]
    Decode {
        /// The operation.
        operation: Operation,
        /// The HTTP status.
        status: StatusCode,
        /// The `Request-ID` header, if any.
        request_id: Option<String>,
        /// The JSON path at which decoding failed (`.` for the whole document).
        path: String,
        /// What did not fit, and what was expected, without the value.
        #[source]
        source: DecodeProblem,
        /// The raw body, for a bug report: it may hold personal data, so
        /// neither this error's `Display` nor its `Debug` shows it.
        body: RawBody,
    },

    /// An answer was larger than the client's limit
    /// ([`ClientBuilder::max_response_bytes`], default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 8 MiB): its `Content-Length`
    /// announced more, or its body went past the limit while it arrived.
    /// Reading stopped there (nothing beyond the limit was held in memory),
    /// the connection was dropped, and the call was not retried.
    ///
    /// [`ClientBuilder::max_response_bytes`]: crate::ClientBuilder::max_response_bytes
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]: crate::client::DEFAULT_MAX_RESPONSE_BYTES
    #[error(
        "{operation}: the HTTP {} answer {}; it was not read further and not retried{}; if the server is trusted and its answers are really this large, raise the limit with ClientBuilder::max_response_bytes",
        status.as_u16(),
        too_large_text(*announced, *limit),
        request_id_suffix(request_id.as_deref())
    )]
    ResponseTooLarge {
        /// The operation.
        operation: Operation,
        /// The HTTP status of the answer.
        status: StatusCode,
        /// The `Request-ID` header, if any (not authenticated).
        request_id: Option<String>,
        /// The limit in bytes.
        limit: u64,
        /// The size its `Content-Length` announced, when that is what gave
        /// it away; `None` when the body went past the limit as it arrived.
        announced: Option<u64>,
    },

    /// A file download (a bill) arrived but failed its integrity check or
    /// could not be decompressed or stored; none of it was handed out.
    #[error(
        "{operation}: the download could not be used{}",
        request_id_suffix(request_id.as_deref())
    )]
    Download {
        /// The operation (`GET {download_url}`).
        operation: Operation,
        /// The `Request-ID` header of the download, if any.
        request_id: Option<String>,
        /// What went wrong.
        #[source]
        source: crate::bill::DownloadError,
    },

    /// An APIv2 call failed: WeChat Pay refused the request (`return_code`
    /// `FAIL`), the operation failed (`result_code` `FAIL`, see
    /// [`V2Error::err_code`](crate::v2::V2Error::err_code)), the answer's
    /// signature did not check out, or the call needs the API client
    /// certificate.
    #[error("{operation}: the APIv2 call failed")]
    V2 {
        /// The operation.
        operation: Operation,
        /// What went wrong.
        #[source]
        source: crate::v2_error::V2Error,
    },
}

impl Error {
    /// The operation the failed call was for, when there was one.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::Config(_) => None,
            Error::Certificates(_) => Some(Operation {
                method: crate::endpoint::Method::Get,
                template: crate::certificates::CERTIFICATES_PATH,
            }),
            Error::Build { operation, .. }
            | Error::Sign { operation, .. }
            | Error::PayParams { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Verification { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Download { operation, .. }
            | Error::V2 { operation, .. }
            | Error::ResponseTooLarge { operation, .. } => Some(*operation),
            Error::Api(api) => Some(api.operation),
        }
    }

    /// WeChat Pay's `Request-ID` for the failed call, when an answer arrived.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Verification { request_id, .. }
            | Error::Decode { request_id, .. }
            | Error::Download { request_id, .. }
            | Error::ResponseTooLarge { request_id, .. } => request_id.as_deref(),
            Error::Api(api) => api.request_id.as_deref(),
            _ => None,
        }
    }

    /// The API error, when WeChat Pay answered with an error status.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// How many attempts the call made before it failed with this error,
    /// the last one included, for the errors a [`RetryPolicy`] may retry:
    /// [`Error::Transport`], [`Error::Timeout`] and [`Error::Api`].
    ///
    /// `None` for the others, which are never retried (a
    /// [`Error::Verification`] or [`Error::Decode`] may still end a call
    /// whose earlier attempts failed transiently: the `wxpay.call` tracing
    /// span records every attempt).
    ///
    /// [`RetryPolicy`]: crate::retry::RetryPolicy
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::Transport { attempts, .. } | Error::Timeout { attempts, .. } => Some(*attempts),
            Error::Api(api) => Some(api.attempts),
            _ => None,
        }
    }

    /// Records how many attempts the call made (the retry loop's job).
    pub(crate) fn set_attempts(&mut self, count: u32) {
        match self {
            Error::Transport { attempts, .. } | Error::Timeout { attempts, .. } => {
                *attempts = count
            }
            Error::Api(api) => api.attempts = count,
            _ => {}
        }
    }
}

impl Error {
    /// This error and every cause under it, on one line, for a log line
    /// or a terminal: see [`Report`].
    ///
    /// ```
    /// # fn show(error: &wxpay_core::Error) {
    /// eprintln!("{}", error.report());
    /// # }
    /// ```
    pub fn report(&self) -> Report<'_> {
        Report::new(self)
    }
}

/// An error followed by each of its causes ([`std::error::Error::source`]),
/// separated by `: `, as one line: `top: cause: cause…`.
///
/// The errors of this crate say in their `Display` what failed at their own
/// level and leave the cause to `source()`, so that reporters which walk the
/// chain (`anyhow`, `eyre`, `tracing`) print each message once. Where only
/// `{error}` would be printed, print `Report::new(&error)` (or
/// [`Error::report`]) instead to keep the causes.
///
/// ```
/// use wxpay_core::error::Report;
///
/// #[derive(Debug)]
/// struct Cause;
/// impl std::fmt::Display for Cause {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("connection refused")
///     }
/// }
/// impl std::error::Error for Cause {}
///
/// #[derive(Debug)]
/// struct Top(Cause);
/// impl std::fmt::Display for Top {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("POST /v3/pay/transactions/jsapi: transport error")
///     }
/// }
/// impl std::error::Error for Top {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let error = Top(Cause);
/// assert_eq!(error.to_string(), "POST /v3/pay/transactions/jsapi: transport error");
/// assert_eq!(
///     Report::new(&error).to_string(),
///     "POST /v3/pay/transactions/jsapi: transport error: connection refused"
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Report<'a>(&'a (dyn std::error::Error + 'static));

impl<'a> Report<'a> {
    /// The report of `error` and its causes.
    pub fn new(error: &'a (dyn std::error::Error + 'static)) -> Self {
        Report(error)
    }

    /// The error at the top of the chain.
    pub fn error(&self) -> &'a (dyn std::error::Error + 'static) {
        self.0
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

/// `; N attempts were made` after a retried call's message.
fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!("; {attempts} attempts were made")
    } else {
        String::new()
    }
}

/// What gave an over-limit answer away, for [`Error::ResponseTooLarge`].
fn too_large_text(announced: Option<u64>, limit: u64) -> String {
    match announced {
        Some(length) => format!(
            "announced {length} bytes in its Content-Length, more than the client's limit of {limit} bytes"
        ),
        None => format!("went past the client's limit of {limit} bytes while it arrived"),
    }
}

fn request_id_suffix(request_id: Option<&str>) -> String {
    match request_id {
        Some(id) => format!(" (Request-ID {id})"),
        None => String::new(),
    }
}

/// Why an answer did not decode, as serde said it with every value taken
/// out: what was found (its kind: a string, an integer, …) and what was
/// expected, the line and column, never the text that was there, which
/// may be a phone number or a name.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeProblem(Box<Problem>);

/// [`DecodeProblem`]'s parts, boxed: an [`Error`] stays small.
#[derive(Clone, PartialEq, Eq)]
struct Problem {
    message: String,
    line: usize,
    column: usize,
}

impl DecodeProblem {
    /// The problem of a serde_json error, its values removed.
    pub fn of(error: &serde_json::Error) -> Self {
        DecodeProblem(Box::new(Problem {
            message: without_values(&error.to_string()),
            line: error.line(),
            column: error.column(),
        }))
    }

    /// serde's message without the values: `invalid type: string …,
    /// expected i64`, `missing field `payer_total``.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The line (from 1) where decoding stopped; 0 when unknown.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The column (from 1) where decoding stopped; 0 when unknown.
    pub fn column(&self) -> usize {
        self.0.column
    }
}

impl fmt::Display for DecodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for DecodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeProblem")
            .field("message", &self.0.message)
            .field("line", &self.0.line)
            .field("column", &self.0.column)
            .finish()
    }
}

impl std::error::Error for DecodeProblem {}

/// A serde message with the values it quotes taken out. serde writes what
/// it found as `string "…"`, `integer `…``, `unknown variant `…``, …:
/// values are what follows `invalid type:`, `invalid value:` and
/// `unknown variant`, quoted or not; names of fields (`missing field `x``,
/// `unknown field `x``) and the `expected …` part are the type's, not the
/// answer's, and stay. The line and column suffix is dropped (kept apart).
fn without_values(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    // The last `, expected`: a value quoted before it may hold the words.
    let (found, expected) = match message.rsplit_once(", expected ") {
        Some((found, expected)) => (found, Some(expected)),
        None => (message, None),
    };
    let found = if let Some(rest) = found
        .strip_prefix("invalid type: ")
        .or_else(|| found.strip_prefix("invalid value: "))
    {
        let prefix = &found[..found.len() - rest.len()];
        // Keep the kind (`string`, `integer`, `map`, …), drop the value.
        let kind = rest.split([' ', '`', '"']).next().unwrap_or_default();
        format!("{prefix}{kind} …")
    } else if found.starts_with("unknown variant ") {
        "unknown variant …".to_owned()
    } else if found.starts_with("missing field ")
        || found.starts_with("unknown field ")
        || found.starts_with("duplicate field ")
        || found.starts_with("invalid length ")
    {
        found.to_owned()
    } else {
        // Syntax errors and anything else: keep only the words, no quoted
        // text, of the whole message (a custom message may quote a value
        // holding `, expected`).
        let mut kept = String::new();
        let mut quote = None;
        let mut escaped = false;
        for c in message.chars() {
            match quote {
                // A `"…"` value is Debug-escaped: `\"` does not end it.
                Some('"') if escaped => escaped = false,
                Some('"') if c == '\\' => escaped = true,
                Some(end) if c == end => {
                    quote = None;
                    kept.push('…');
                }
                Some(_) => {}
                None if c == '`' || c == '"' => quote = Some(c),
                None => kept.push(c),
            }
        }
        return kept;
    };
    match expected {
        Some(expected) => format!("{found}, expected {expected}"),
        None => found,
    }
}

/// The raw body of an answer, kept for bug reports. Its `Debug` shows only
/// the length, since it may hold personal data; read it with
/// [`RawBody::as_bytes`] (or as a `&[u8]`) where that is fine.
#[derive(Clone, PartialEq, Eq)]
pub struct RawBody(pub(crate) Bytes);

impl RawBody {
    /// The bytes as received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for RawBody {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawBody(<{} bytes>)", self.0.len())
    }
}

/// An error answer from WeChat Pay: `{"code", "message", "detail"}` with its
/// HTTP status.
///
/// Its `Display` and `Debug` leave out what may echo the request's
/// personal data: `detail.value` (WeChat Pay quotes the offending value
/// there) shows as `…` and the raw body as its length. The fields keep
/// everything, for a program to read.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation that failed.
    pub operation: Operation,
    /// The HTTP status (logic should key on this first).
    pub status: StatusCode,
    /// WeChat Pay's error code, such as `PARAM_ERROR` or `SIGN_ERROR`
    /// (empty when the body carried none).
    pub code: String,
    /// WeChat Pay's human-readable message (usually Chinese).
    pub message: String,
    /// The optional `detail` object (`field`, `value`, `issue`, `location`).
    pub detail: Option<serde_json::Value>,
    /// The `Request-ID` header, if any.
    pub request_id: Option<String>,
    /// Whether the error answer carried a signature that verified. Error
    /// answers may legitimately be unsigned; an unauthenticated body could
    /// have been written by anyone on the path.
    pub authenticated: bool,
    /// The raw body as received.
    pub body: Bytes,
    /// How many attempts the call made, this answer's included (more than
    /// 1 when a [`RetryPolicy`](crate::retry::RetryPolicy) retried it).
    pub attempts: u32,
    /// The wait the answer's `Retry-After` header asked for (seconds or an
    /// HTTP date, measured from when the answer arrived), if it had one.
    /// Like the body, it is not authenticated.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// [`ApiError::code`] as a type to match on ([`ErrorCode::Other`](crate::ErrorCode::Other) for
    /// codes it does not name).
    pub fn error_code(&self) -> crate::ErrorCode {
        crate::ErrorCode::from(self.code.as_str())
    }

    /// Whether retrying the same request later may succeed (429, 500, 502,
    /// 503, 504): the statuses the client retries itself.
    pub fn is_retryable(&self) -> bool {
        is_retryable_status(self.status)
    }

    /// The JSON pointer of the offending field, from `detail.field`.
    pub fn field(&self) -> Option<&str> {
        self.detail.as_ref()?.get("field")?.as_str()
    }
}

/// `detail` as it may be shown: every `value` member (at any depth) is
/// `…`, since WeChat Pay quotes the offending request value there.
fn shown_detail(detail: &serde_json::Value) -> serde_json::Value {
    match detail {
        serde_json::Value::Object(members) => members
            .iter()
            .map(|(name, member)| {
                let shown = if name == "value" {
                    serde_json::Value::from("…")
                } else {
                    shown_detail(member)
                };
                (name.clone(), shown)
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        serde_json::Value::Array(items) => items.iter().map(shown_detail).collect(),
        other => other.clone(),
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("detail", &self.detail.as_ref().map(shown_detail))
            .field("request_id", &self.request_id)
            .field("authenticated", &self.authenticated)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("attempts", &self.attempts)
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status.as_u16())?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(detail) = &self.detail {
            write!(f, " (detail: {})", shown_detail(detail))?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (Request-ID {id})")?;
        }
        if !self.authenticated {
            f.write_str(" [error body not authenticated by a WeChat Pay signature]")?;
        }
        f.write_str(&attempts_suffix(self.attempts))?;
        if let Some(hint) = hint(self.status, &self.code) {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

fn hint(status: StatusCode, code: &str) -> Option<&'static str> {
    Some(match (status.as_u16(), code) {
        (401, _) | (_, "SIGN_ERROR") => {
            "check the mchid, the merchant certificate serial and that the private key belongs to that certificate"
        }
        (400, _) => "check the request fields against the operation's documentation",
        (403, _) => "check that this merchant has the permission or product this operation needs",
        (404, _) => "check the identifiers in the path and query",
        (429, _) => "too many requests: retry later with backoff",
        (500..=599, _) => "WeChat Pay had a problem: retry later with the same parameters",
        _ => return None,
    })
}

/// A client setting that is missing or invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// One or more settings are missing or wrong; every problem is listed.
    #[error("the client is not configured correctly: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// The HTTP client could not be created.
    #[error("the HTTP client could not be created")]
    Http(#[source] reqwest::Error),
}

/// The statuses a later identical request may get past: 429 and the
/// transient 5xx (not 501 Not Implemented or 505, which will not change).
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    const OPERATION: Operation = Operation {
        method: Method::Post,
        template: "/v3/x",
    };

    #[test]
    fn a_build_failure_leaves_its_cause_to_source_and_the_report() {
        let error = Error::Build {
            operation: OPERATION,
            source: BuildError::Query {
                name: "limit".to_owned(),
                reason: "a map has no query-string form".to_owned(),
            },
        };
        let cause = "query parameter `limit` cannot be sent in a query string: a map has no query-string form";
        assert_eq!(error.to_string(), "POST /v3/x: could not build the request");
        let source = error.source().expect("a source");
        assert_eq!(source.to_string(), cause);
        assert!(source.downcast_ref::<BuildError>().is_some(), "{source:?}");
        assert_eq!(
            error.report().to_string(),
            format!("POST /v3/x: could not build the request: {cause}")
        );
        assert_eq!(Report::new(&error).to_string(), error.report().to_string());
    }

    #[test]
    fn a_decode_failure_leaves_its_problem_to_source_and_the_report() {
        let json = serde_json::from_str::<u32>(r#""13800000000""#).expect_err("not a u32");
        let problem = DecodeProblem::of(&json);
        let error = Error::Decode {
            operation: OPERATION,
            status: StatusCode::OK,
            request_id: Some("REQ-1".to_owned()),
            path: "amount.total".to_owned(),
            source: problem.clone(),
            body: RawBody(Bytes::from_static(br#""13800000000""#)),
        };
        let shown = error.to_string();
        assert!(!shown.contains(problem.message()), "{shown}");
        assert!(shown.contains("HTTP 200 answer"), "{shown}");
        assert!(shown.contains("(Request-ID REQ-1)"), "{shown}");
        let source = error.source().expect("a source");
        assert_eq!(source.downcast_ref::<DecodeProblem>(), Some(&problem));
        let report = error.report().to_string();
        assert_eq!(report, format!("{shown}: {}", problem.message()));
        assert!(
            report.ends_with("invalid type: string …, expected u32"),
            "{report}"
        );
        assert!(!report.contains("13800000000"), "{report}");
    }

    #[test]
    fn an_api_error_shows_its_status_as_a_number() {
        let api = ApiError {
            operation: OPERATION,
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "FREQUENCY_LIMITED".to_owned(),
            message: String::new(),
            detail: None,
            request_id: None,
            authenticated: true,
            body: Bytes::new(),
            attempts: 1,
            retry_after: None,
        };
        assert!(api.is_retryable());
        assert!(api.source().is_none());
        assert!(
            api.to_string()
                .starts_with("HTTP 429 FREQUENCY_LIMITED; too many requests"),
            "{api}"
        );
        let error = Error::Api(Box::new(api));
        assert_eq!(error.report().to_string(), error.to_string());
        assert!(!is_retryable_status(StatusCode::NOT_IMPLEMENTED));
    }
}
