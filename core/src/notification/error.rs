//! Why a callback was rejected.

use http::StatusCode;
use serde::de::DeserializeOwned;

use super::RESOURCE_ALGORITHM;
use super::event::EventType;
use super::reply::NotificationReply;
use crate::keys::CryptoError;
use crate::verification::VerifyError;

/// Why a callback could not be accepted: one variant per step of
/// [`NotificationDecoder::decode`](super::NotificationDecoder::decode).
///
/// Messages say what to check. They never contain the APIv3 key nor any
/// decrypted value: for [`NotificationError::Resource`], only the JSON path,
/// the kind of value found and the type expected are kept.
/// [`NotificationError::reply`] gives the failure answer for WeChat Pay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationError {
    /// The signature headers are missing or wrong, or the signature does not
    /// verify over the body as received. Which one is in the
    /// [`VerifyError`]: [`VerifyError::MissingHeader`],
    /// [`VerifyError::Stale`], [`VerifyError::UnknownSerial`],
    /// [`VerifyError::Probe`], [`VerifyError::Mismatch`], …
    #[error("callback rejected, its signature does not hold ({hint})", hint = signature_hint(.0))]
    Signature(#[source] VerifyError),

    /// The body verified but is not a notification envelope (`id`,
    /// `create_time`, `event_type`, `resource` with `algorithm`, `nonce` and
    /// `ciphertext`).
    #[error(
        "the callback body is not a WeChat Pay notification (at `{path}`; check that this URL only receives WeChat Pay callbacks)"
    )]
    Envelope {
        /// The JSON path at which reading failed (`.` for the whole body).
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// The resource is encrypted with another algorithm than
    /// `AEAD_AES_256_GCM`.
    #[error(
        "the callback resource is encrypted with `{found}`, but only {RESOURCE_ALGORITHM} is supported; check whether this merchant account uses another encryption scheme (such as SM4 for national-cryptography accounts)"
    )]
    UnsupportedAlgorithm {
        /// The algorithm announced (at most 64 characters of it).
        found: String,
    },

    /// The resource could not be decrypted: the APIv3 key is wrong, or the
    /// resource fields are malformed.
    #[error("{}", decrypt_message(source))]
    Decrypt {
        /// What the AES-GCM layer reported.
        #[source]
        source: CryptoError,
    },

    /// The decrypted resource does not fit the type the handler asked for.
    #[error(
        "the {event_type} resource does not fit `{target}` at `{path}`: {reason}; check that this URL receives only the events that type describes, or decode into serde_json::Value to see what arrived"
    )]
    Resource {
        /// The notification's `event_type`.
        event_type: EventType,
        /// The Rust type that was expected.
        target: &'static str,
        /// The JSON path at which decoding failed (`.` for the whole resource).
        path: String,
        /// What did not fit, without the offending value.
        reason: String,
    },

    /// The body is larger than the decoder's limit
    /// ([`NotificationDecoder::with_max_body_bytes`](super::NotificationDecoder::with_max_body_bytes));
    /// it was refused before anything in it was read.
    #[error(
        "the callback body is {length} bytes or more, over the limit of {limit} bytes, and was refused unread; WeChat Pay's callbacks are a few KB, so check what is posting to this URL (or raise NotificationDecoder::with_max_body_bytes)"
    )]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// The body's size, or as much of it as was read before the limit
        /// (or its announced `Content-Length`).
        length: u64,
    },
}

impl NotificationError {
    /// The [`VerifyError`], when the signature was the problem.
    pub fn verify_error(&self) -> Option<&VerifyError> {
        match self {
            NotificationError::Signature(error) => Some(error),
            _ => None,
        }
    }

    /// Whether the callback was rejected by the signature check, before
    /// anything in it was read.
    pub fn is_signature(&self) -> bool {
        matches!(self, NotificationError::Signature(_))
    }

    /// The HTTP status of [`NotificationError::reply`]:
    ///
    /// | error | status | why |
    /// |---|---|---|
    /// | `Signature` | 401 | the sender is not authenticated (probes included) |
    /// | `Envelope`, `UnsupportedAlgorithm` | 400 | the callback itself cannot be used |
    /// | `Decrypt`, `Resource` | 500 | this side's configuration or types need fixing; the resent callback will then succeed |
    /// | `BodyTooLarge` | 413 | no WeChat Pay callback is that large |
    ///
    /// WeChat Pay sends the callback again after any of them.
    pub fn status(&self) -> StatusCode {
        match self {
            NotificationError::Signature(_) => StatusCode::UNAUTHORIZED,
            NotificationError::Envelope { .. } | NotificationError::UnsupportedAlgorithm { .. } => {
                StatusCode::BAD_REQUEST
            }
            NotificationError::Decrypt { .. } | NotificationError::Resource { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            NotificationError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// The failure answer for WeChat Pay: [`NotificationError::status`] and a
    /// short `{"code":"FAIL","message":…}` (the full message stays in your
    /// logs; the reply only names the failed step).
    pub fn reply(&self) -> NotificationReply {
        let message = match self {
            NotificationError::Signature(VerifyError::Probe) => "signature probe rejected",
            NotificationError::Signature(_) => "signature verification failed",
            NotificationError::Envelope { .. } => "malformed notification body",
            NotificationError::UnsupportedAlgorithm { .. } => "unsupported resource algorithm",
            NotificationError::Decrypt { .. } => "resource decryption failed",
            NotificationError::Resource { .. } => "resource not understood",
            NotificationError::BodyTooLarge { .. } => "body too large",
        };
        NotificationReply::failure_with_status(self.status(), message)
    }
}

fn signature_hint(error: &VerifyError) -> &'static str {
    match error {
        VerifyError::MissingHeader { .. } | VerifyError::InvalidHeader { .. } => {
            "WeChat Pay signs every callback: check that a proxy in front of this server passes the Wechatpay-* headers through, or the request did not come from WeChat Pay"
        }
        VerifyError::Stale { .. } | VerifyError::BadTimestamp { .. } => {
            "answer with a failure; WeChat Pay resends the callback with a fresh timestamp"
        }
        VerifyError::CertificateNotValid { .. } => {
            "download the current platform certificates (GET /v3/certificates) and verify with those"
        }
        VerifyError::UnknownSerial { .. } => {
            "platform certificates rotate, so a new serial usually means new certificates to download"
        }
        VerifyError::Probe => {
            "this is expected now and then: answer with a failure and WeChat Pay resends the callback with a real signature"
        }
        VerifyError::Mismatch { .. } | VerifyError::Malformed => {
            "verify the body exactly as received: no JSON parsing, re-encoding or trimming before the check"
        }
        VerifyError::UnsupportedSignatureType { .. } => {
            "only RSA-signed (WECHATPAY2-SHA256-RSA2048) callbacks can be verified here"
        }
        VerifyError::DuplicateHeader { .. } => {
            "a proxy in front of this server may add Wechatpay-* headers: pass WeChat Pay's through unchanged and add none"
        }
        // Variants added to `VerifyError` later get a general hint instead of
        // breaking the build.
        #[allow(unreachable_patterns)]
        _ => "check the WeChat Pay keys configured for verification",
    }
}

fn decrypt_message(error: &CryptoError) -> String {
    match error {
        CryptoError::Decrypt { .. } => format!(
            "the callback resource could not be decrypted ({RESOURCE_ALGORITHM} tag mismatch). Its signature verified, so it arrived as WeChat Pay sent it: check that the APIv3 key configured here is the one currently set in the merchant platform (Account Center > API Security; it may have been reset), and that this callback is for this merchant"
        ),
        _ => "the callback resource is malformed and cannot be decrypted (report the notification id to WeChat Pay)"
            .to_owned(),
    }
}

/// At most `max` characters of `text`, for echoing untrusted text.
pub(super) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Decodes the decrypted plaintext into `T`.
pub(super) fn decode_resource<T: DeserializeOwned>(
    plaintext: &[u8],
    event_type: &EventType,
) -> Result<T, NotificationError> {
    let mut deserializer = serde_json::Deserializer::from_slice(plaintext);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| (json_path(error.path()), error.into_inner()))
        .and_then(|value| {
            deserializer
                .end()
                .map_err(|error| (".".to_owned(), error))?;
            Ok(value)
        })
        .map_err(|(path, error)| resource_error::<T>(event_type, path, &error))
}

/// Decodes an untyped resource into `T`.
pub(super) fn decode_value<T: DeserializeOwned>(
    value: serde_json::Value,
    event_type: &EventType,
) -> Result<T, NotificationError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = json_path(error.path());
        resource_error::<T>(event_type, path, &error.into_inner())
    })
}

/// The path of a decoding failure; `.` when it is the whole document or
/// unknown (serde_path_to_error writes `?` when a syntax error cut it short).
pub(super) fn json_path(path: &serde_path_to_error::Path) -> String {
    match path.to_string() {
        unknown if unknown == "?" => ".".to_owned(),
        known => known,
    }
}

fn resource_error<T>(
    event_type: &EventType,
    path: String,
    error: &serde_json::Error,
) -> NotificationError {
    NotificationError::Resource {
        event_type: event_type.clone(),
        target: std::any::type_name::<T>(),
        path,
        reason: redacted_reason(error),
    }
}

/// What a JSON error says, minus any value taken from the document: the
/// decrypted resource holds personal data (open ids, names) that must not
/// reach logs through an error message.
pub(super) fn redacted_reason(error: &serde_json::Error) -> String {
    use serde_json::error::Category;

    let text = error.to_string();
    // serde_json appends " at line L column C" when it knows the position.
    let (text, position) = match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => (
            &text[..at],
            format!(" (line {}, column {})", error.line(), error.column()),
        ),
        _ => (text.as_str(), String::new()),
    };
    let reason = match error.classify() {
        // serde_json's own wording for these quotes nothing from the input.
        Category::Syntax | Category::Eof => format!("the plaintext is not JSON: {text}"),
        Category::Io => "the plaintext could not be read".to_owned(),
        Category::Data => data_reason(text),
    };
    format!("{reason}{position}")
}

/// The kinds of value serde names in "invalid type" messages.
const VALUE_KINDS: [&str; 17] = [
    "boolean",
    "integer",
    "floating point",
    "character",
    "string",
    "byte array",
    "unit value",
    "Option value",
    "newtype struct",
    "sequence",
    "map",
    "enum",
    "unit variant",
    "newtype variant",
    "tuple variant",
    "struct variant",
    "null",
];

/// Rewrites serde's data-error messages so that they keep the kind of value
/// found and what was expected, but not the value itself.
fn data_reason(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "unknown variant "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // The expectation comes last and is written by the type.
            let (found, expected) = match rest.rfind(", expected ") {
                Some(at) => (&rest[..at], &rest[at + 2..]),
                None => (rest, "expected another value"),
            };
            let kind = found.split(['"', '`']).next().unwrap_or_default().trim();
            let kind = if VALUE_KINDS.contains(&kind) {
                format!("{kind} ")
            } else {
                String::new()
            };
            return format!("{prefix}{kind}(value withheld), {expected}");
        }
    }
    // Field names and lengths come from the type, not from the document.
    if [
        "missing field `",
        "unknown field `",
        "duplicate field `",
        "invalid length ",
    ]
    .iter()
    .any(|safe| message.starts_with(safe))
    {
        return message.to_owned();
    }
    "the value does not fit the type (details withheld, as they could quote personal data)"
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::error::Report;

    #[test]
    fn a_rejected_callback_leaves_the_verify_error_to_source() {
        let error = NotificationError::Signature(VerifyError::Probe);
        let cause = VerifyError::Probe.to_string();
        assert!(!error.to_string().contains(&cause), "{error}");
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some(cause.as_str())
        );
        assert_eq!(Report::new(&error).to_string(), format!("{error}: {cause}"));
    }
}
