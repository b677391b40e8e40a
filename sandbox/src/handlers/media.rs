//! The media upload endpoints: `multipart/form-data` with a `meta` part
//! (`{"filename","sha256"}`) and a `file` part.
//!
//! The multipart body is parsed before the signature check, because the
//! signature covers the `meta` part's bytes rather than the body (see
//! [`crate::server`]); handlers receive the parsed [`Upload`].

use aws_lc_rs::digest::{SHA256, digest};
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use crate::errors::{ApiError, Location};
use crate::random::random_alphanumeric;
use crate::state::AppState;

/// Upload bodies larger than this are refused (a 5 MiB video and its
/// headers fit).
pub(crate) const MAX_UPLOAD_BODY: usize = 8 * 1024 * 1024;

/// A parsed upload body.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    /// The `meta` part's bytes: what the request signature covers.
    pub(crate) meta: Bytes,
    /// The `file` part, if there was one.
    pub(crate) file: Option<FilePart>,
}

/// The `file` part.
#[derive(Debug, Clone)]
pub(crate) struct FilePart {
    pub(crate) filename: Option<String>,
    pub(crate) bytes: Bytes,
}

/// What one upload endpoint accepts and answers.
#[derive(Clone, Copy)]
struct Limits {
    max_bytes: usize,
    extensions: &'static [&'static str],
    /// Answer `media_url` instead of `media_id`.
    answers_url: bool,
}

const IMAGE: Limits = Limits {
    max_bytes: 2 * 1024 * 1024,
    extensions: &["jpg", "jpeg", "png", "bmp"],
    answers_url: false,
};

const VIDEO: Limits = Limits {
    max_bytes: 5 * 1024 * 1024,
    extensions: &[
        "avi", "wmv", "mpeg", "mp4", "mov", "mkv", "flv", "f4v", "m4v", "rmvb",
    ],
    answers_url: false,
};

/// The routes of this module.
pub(crate) fn routes() -> Router<AppState> {
    let route = |limits: Limits| {
        post(move |upload: Option<Extension<Upload>>| async move {
            upload_file(upload.map(|Extension(upload)| upload), limits)
        })
    };
    Router::new()
        .route("/v3/merchant/media/upload", route(IMAGE))
        .route("/v3/merchant/media/video_upload", route(VIDEO))
        .route(
            "/v3/marketing/favor/media/image-upload",
            route(Limits {
                answers_url: true,
                ..IMAGE
            }),
        )
        .route("/v3/merchant-service/images/upload", route(IMAGE))
}

/// Whether the request says it carries `multipart/form-data`.
pub(crate) fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| {
            media_type
                .trim()
                .eq_ignore_ascii_case("multipart/form-data")
        })
}

/// Parses a multipart upload body into its `meta` and `file` parts.
/// Malformed bodies, a missing or repeated `meta`, a repeated `file` are
/// `PARAM_ERROR`s; other parts are ignored.
pub(crate) async fn parse(headers: &HeaderMap, body: Bytes) -> Result<Upload, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|error| {
        ApiError::invalid_request(format!(
            "Content-Type {content_type:?} has no usable multipart boundary: {error}"
        ))
    })?;
    let body_error = |error: multer::Error| {
        ApiError::param_error(
            Location::Body,
            "",
            None,
            format!("the multipart body is malformed: {error}"),
        )
    };
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut meta = None;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(body_error)? {
        let name = field.name().map(str::to_owned);
        let filename = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(body_error)?;
        let repeated = |part: &str| {
            ApiError::param_error(
                Location::Body,
                format!("/{part}"),
                None,
                format!("the `{part}` part is given more than once"),
            )
        };
        match name.as_deref() {
            Some("meta") if meta.is_some() => return Err(repeated("meta")),
            Some("meta") => meta = Some(bytes),
            Some("file") if file.is_some() => return Err(repeated("file")),
            Some("file") => file = Some(FilePart { filename, bytes }),
            _ => {}
        }
    }
    let meta = meta.ok_or_else(|| {
        ApiError::param_error(
            Location::Body,
            "/meta",
            None,
            "the multipart body has no `meta` part (the JSON {\"filename\",\"sha256\"} that is signed)",
        )
    })?;
    Ok(Upload { meta, file })
}

/// One upload: checks `meta` against the file and the endpoint's limits,
/// answers a fresh id (or URL).
fn upload_file(upload: Option<Upload>, limits: Limits) -> Result<Json<Value>, ApiError> {
    let upload = upload.ok_or_else(|| {
        ApiError::invalid_request(
            "this endpoint takes multipart/form-data with a `meta` and a `file` part",
        )
    })?;
    let meta: Value = serde_json::from_slice(&upload.meta).map_err(|error| {
        ApiError::param_error(
            Location::Body,
            "/meta",
            None,
            format!("the meta part is not JSON: {error}"),
        )
    })?;
    let text = |name: &str| {
        meta.get(name).and_then(Value::as_str).ok_or_else(|| {
            ApiError::param_error(
                Location::Body,
                format!("/meta/{name}"),
                meta.get(name).cloned(),
                "required string is missing",
            )
        })
    };
    let filename = text("filename")?;
    let sha256 = text("sha256")?;
    let file = upload.file.ok_or_else(|| {
        ApiError::param_error(
            Location::Body,
            "/file",
            None,
            "the multipart body has no `file` part",
        )
    })?;

    let param = |field: &str, value: Option<Value>, issue: String| {
        ApiError::param_error(Location::Body, field, value, issue)
    };
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(param(
            "/meta/sha256",
            Some(Value::from(sha256)),
            "must be the SHA-256 of the file in 64 lower-case hex digits".to_owned(),
        ));
    }
    let actual = hex(digest(&SHA256, &file.bytes).as_ref());
    if actual != sha256 {
        return Err(param(
            "/meta/sha256",
            Some(Value::from(sha256)),
            format!("does not match the file part, whose SHA-256 is {actual}"),
        ));
    }
    if file.filename.as_deref() != Some(filename) {
        return Err(param(
            "/file",
            file.filename.clone().map(Value::from),
            format!("the file part's filename differs from meta.filename {filename:?}"),
        ));
    }
    let extension = filename
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    if !limits.extensions.contains(&extension.as_str()) {
        return Err(param(
            "/meta/filename",
            Some(Value::from(filename)),
            format!(
                "the file type is not accepted here; accepted: {}",
                limits.extensions.join(", ")
            ),
        ));
    }
    if file.bytes.is_empty() || file.bytes.len() > limits.max_bytes {
        return Err(param(
            "/file",
            None,
            format!(
                "the file is {} bytes; accepted: 1 to {} bytes",
                file.bytes.len(),
                limits.max_bytes
            ),
        ));
    }

    let id = random_alphanumeric(&mut rand::rng(), 64);
    Ok(Json(if limits.answers_url {
        json!({ "media_url": format!("https://wxpay-sandbox.invalid/media/{id}.{extension}") })
    } else {
        json!({ "media_id": id })
    }))
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
