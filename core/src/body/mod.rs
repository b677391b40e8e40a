//! The body of a request, exactly as it is signed and sent: empty, a JSON
//! document, or a media upload's `multipart/form-data` payload.
//!
//! Request building is layered so that no module imports one that imports
//! it back: [`crate::media`] checks files; [`crate::target`] renders the
//! request target and holds [`BuildError`]; this module builds the body
//! (with the multipart writer in `multipart`); [`crate::endpoint`] puts
//! them together. [`Body`] is re-exported as `wxpay_core::endpoint::Body`
//! and `wxpay_core::Body`, [`Multipart`] and [`UploadForm`] as
//! `wxpay_core::media::{Multipart, UploadForm}`.

mod multipart;

pub use multipart::{Multipart, UploadForm};

use std::fmt;

use bytes::Bytes;

use crate::media::{MediaFile, MediaLimits};
use crate::target::BuildError;

/// The body of a request, exactly as it is signed and sent.
///
/// For [`Body::Empty`] and [`Body::Json`] the bytes signed and the bytes
/// sent are the same; a [`Body::Multipart`] upload signs its meta JSON
/// ([`Body::as_bytes`]) and sends the multipart payload
/// ([`Body::wire_bytes`]).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// No body (GET, and DELETE usually). The signing message carries an
    /// empty line.
    Empty,
    /// A JSON document, already serialized: these bytes are signed and sent.
    Json(Bytes),
    /// A `multipart/form-data` media upload (see [`crate::media`]): the
    /// meta JSON is signed, the payload around it is sent.
    Multipart(Multipart),
}

impl Body {
    /// Serializes `value` to JSON once; the resulting bytes are what is
    /// signed and sent.
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, BuildError> {
        serde_json::to_vec(value)
            .map(|bytes| Body::Json(Bytes::from(bytes)))
            .map_err(BuildError::body)
    }

    /// The bytes that are signed (empty for [`Body::Empty`]): the JSON
    /// document, or an upload's meta JSON. Except for uploads, they are
    /// also the bytes sent.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Json(bytes) => bytes,
            Body::Multipart(multipart) => multipart.meta(),
        }
    }

    /// The bytes that are sent: [`Body::as_bytes`], except for an upload,
    /// whose multipart payload is sent.
    pub fn wire_bytes(&self) -> &[u8] {
        match self {
            Body::Multipart(multipart) => multipart.payload(),
            other => other.as_bytes(),
        }
    }

    /// What goes on the wire, shared rather than copied (`None` for
    /// [`Body::Empty`]).
    pub(crate) fn wire_payload(&self) -> Option<Bytes> {
        match self {
            Body::Empty => None,
            Body::Json(bytes) => Some(bytes.clone()),
            Body::Multipart(multipart) => Some(multipart.payload().clone()),
        }
    }

    /// The `Content-Type` this body is sent with, if any (for an upload,
    /// `multipart/form-data; boundary=…`).
    pub fn content_type(&self) -> Option<&str> {
        match self {
            Body::Empty => None,
            Body::Json(_) => Some("application/json"),
            Body::Multipart(multipart) => Some(multipart.content_type()),
        }
    }

    /// [`Body::content_type`] as a header value.
    pub(crate) fn content_type_header(&self) -> Option<http::HeaderValue> {
        match self {
            Body::Empty => None,
            Body::Json(_) => Some(http::HeaderValue::from_static("application/json")),
            Body::Multipart(multipart) => Some(multipart.content_type_header()),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Body::Empty"),
            Body::Json(bytes) => f
                .debug_tuple("Body::Json")
                .field(&String::from_utf8_lossy(bytes))
                .finish(),
            Body::Multipart(multipart) => {
                f.debug_tuple("Body::Multipart").field(multipart).finish()
            }
        }
    }
}

impl Body {
    /// A `multipart/form-data` upload of `file`, checked against `limits`
    /// first: the meta JSON is what is signed ([`Body::as_bytes`]), the
    /// payload built around it is what is sent ([`Body::wire_bytes`]).
    ///
    /// # Errors
    /// [`BuildError::Media`](crate::BuildError::Media) when the file breaks
    /// a limit; nothing is sent then.
    pub fn multipart(file: &MediaFile, limits: &MediaLimits) -> Result<Body, BuildError> {
        Ok(Body::Multipart(Multipart::new(file, limits)?))
    }

    /// [`Body::multipart`] for an upload of another form (file part name,
    /// meta, further fields; see [`UploadForm`]).
    ///
    /// # Errors
    /// [`BuildError::Media`](crate::BuildError::Media) when the file breaks
    /// a limit or a part name cannot be sent; nothing is sent then.
    pub fn multipart_with(
        file: &MediaFile,
        limits: &MediaLimits,
        form: &UploadForm,
    ) -> Result<Body, BuildError> {
        Ok(Body::Multipart(Multipart::with_form(file, limits, form)?))
    }
}
