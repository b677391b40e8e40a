//! Media uploads: images and videos sent as `multipart/form-data`.
//!
//! An upload request carries two parts: `meta`, the JSON document
//! `{"filename":"a.jpg","sha256":"<lower-case hex SHA-256 of the file>"}`,
//! and `file`, the file itself. **The signature covers the meta JSON, not
//! the multipart body**, so a [`Body::Multipart`] keeps both: the meta
//! bytes (signed, [`Body::as_bytes`]) and the whole payload built once
//! around them (sent, [`Body::wire_bytes`]). A retried upload resends the
//! very same payload, boundary included.
//!
//! A few uploads take another form (another meta, another name for the
//! file part, further text fields): [`UploadForm`] describes it and
//! [`Body::multipart_with`] builds it.
//!
//! Declare an upload endpoint with the attribute's `multipart` option and
//! exactly one field of type [`MediaFile`]; the limits of the upload
//! ([`MediaLimits`]: size, allowed extensions) are checked when the
//! request is built, before anything is sent:
//!
//! ```
//! use wxpay_core::media::{MediaFile, MediaLimits};
//! use wxpay_core::{Body, BuildError};
//!
//! # fn main() -> Result<(), BuildError> {
//! let photo = MediaFile::new("shop.png", b"\x89PNG...".to_vec());
//! let body = Body::multipart(&photo, &MediaLimits::IMAGE)?;
//! let meta = std::str::from_utf8(body.as_bytes()).unwrap();
//! assert!(meta.starts_with(r#"{"filename":"shop.png","sha256":""#));
//! assert!(body.content_type().unwrap().starts_with("multipart/form-data; boundary="));
//!
//! let too_big = MediaFile::new("huge.jpg", vec![0u8; 3 * 1024 * 1024]);
//! assert!(Body::multipart(&too_big, &MediaLimits::IMAGE).is_err());
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::path::Path;

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderValue;
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use sm3::Sm3;

use crate::endpoint::Body;

/// One file to upload: its name (the extension says its type), its bytes
/// and, optionally, an explicit `Content-Type` for the file part.
///
/// `Debug` shows the name, size and type, never the content.
#[derive(Clone, PartialEq, Eq)]
pub struct MediaFile {
    filename: String,
    content: Bytes,
    content_type: Option<String>,
}

impl MediaFile {
    /// A file named `filename` (such as `"shop.jpg"`) holding `content`.
    /// The name's extension decides the part's `Content-Type` unless
    /// [`MediaFile::with_content_type`] sets one.
    pub fn new(filename: impl Into<String>, content: impl Into<Bytes>) -> Self {
        MediaFile {
            filename: filename.into(),
            content: content.into(),
            content_type: None,
        }
    }

    /// Reads the file at `path`; its name is the path's last component.
    ///
    /// This reads with blocking I/O: in async code prefer
    /// [`MediaFile::from_path_async`]. Upload limits are checked later,
    /// when the request is built.
    ///
    /// # Errors
    /// The file cannot be read, or its name is not UTF-8.
    pub fn from_path(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let filename = file_name(path)?;
        let content = std::fs::read(path)?;
        Ok(MediaFile::new(filename, content))
    }

    /// [`MediaFile::from_path`] reading through tokio's non-blocking file
    /// API.
    ///
    /// # Errors
    /// The file cannot be read, or its name is not UTF-8.
    pub async fn from_path_async(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let filename = file_name(path)?;
        let content = tokio::fs::read(path).await?;
        Ok(MediaFile::new(filename, content))
    }

    /// Sends the file part with this `Content-Type` instead of the one
    /// guessed from the extension.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The file name, as sent in `meta` and in the file part.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The file's bytes.
    pub fn content(&self) -> &Bytes {
        &self.content
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.content.len()
    }

    /// Whether the file is empty (WeChat Pay refuses empty uploads).
    pub fn is_empty(&self) -> bool {
        self.content.is_empty()
    }

    /// The extension of the file name (after the last `.`), if it has one.
    pub fn extension(&self) -> Option<&str> {
        match self.filename.rsplit_once('.') {
            Some((stem, extension)) if !stem.is_empty() && !extension.is_empty() => Some(extension),
            _ => None,
        }
    }

    /// The `Content-Type` of the file part: the one set with
    /// [`MediaFile::with_content_type`], else the usual type of the
    /// extension (`image/jpeg`, `video/mp4`, …), else
    /// `application/octet-stream`.
    pub fn content_type(&self) -> &str {
        match &self.content_type {
            Some(content_type) => content_type,
            None => self
                .extension()
                .map_or("application/octet-stream", content_type_of),
        }
    }

    /// The lower-case hex SHA-256 of the content, as `meta` carries it.
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.content))
    }

    /// The lower-case hex SM3 (GB/T 32905-2016, the Chinese national hash)
    /// of the content, for uploads whose meta asks for an SM3 digest
    /// instead of SHA-256 (some fapiao and taxi-invoice uploads): put it
    /// in the meta with [`UploadForm::meta`].
    ///
    /// ```
    /// use wxpay_core::media::{MediaFile, MediaLimits, Multipart, UploadForm};
    ///
    /// // The meta of a fapiao file upload.
    /// #[derive(serde::Serialize)]
    /// struct FapiaoFileMeta<'a> {
    ///     file_type: &'a str,
    ///     digest_alogrithm: &'a str, // sic: the API spells it so
    ///     digest: String,
    /// }
    ///
    /// # fn main() -> Result<(), wxpay_core::media::MediaError> {
    /// let file = MediaFile::new("fapiao.pdf", b"abc".to_vec());
    /// assert_eq!(
    ///     file.sm3_hex(),
    ///     "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    /// );
    /// let meta = FapiaoFileMeta {
    ///     file_type: "PDF",
    ///     digest_alogrithm: "SM3",
    ///     digest: file.sm3_hex(),
    /// };
    /// let form = UploadForm::new().meta(&meta)?;
    /// let limits = MediaLimits::new("fapiao", 2 * 1024 * 1024, &["pdf"]);
    /// let upload = Multipart::with_form(&file, &limits, &form)?;
    /// assert!(upload.meta().ends_with(br#""digest":"66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"}"#));
    /// # Ok(()) }
    /// ```
    pub fn sm3_hex(&self) -> String {
        hex::encode(Sm3::digest(&self.content))
    }
}

impl fmt::Debug for MediaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaFile")
            .field("filename", &self.filename)
            .field("len", &self.content.len())
            .field("content_type", &self.content_type())
            .finish()
    }
}

/// The last component of `path`, as UTF-8.
fn file_name(path: &Path) -> io::Result<String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "`{}` has no UTF-8 file name to upload under; use MediaFile::new with a name",
                    path.display()
                ),
            )
        })
}

/// The usual `Content-Type` of a file extension (case-insensitive).
fn content_type_of(extension: &str) -> &'static str {
    match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "bmp" => "image/bmp",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        "avi" => "video/x-msvideo",
        "wmv" => "video/x-ms-wmv",
        "mpeg" => "video/mpeg",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "mkv" => "video/x-matroska",
        "flv" => "video/x-flv",
        "f4v" => "video/x-f4v",
        "m4v" => "video/x-m4v",
        "rmvb" => "application/vnd.rn-realmedia-vbr",
        _ => "application/octet-stream",
    }
}

/// What an upload endpoint accepts: a maximum size and the allowed file
/// extensions. Checked when the request is built, so a file WeChat Pay
/// would refuse is never sent.
///
/// [`MediaLimits::IMAGE`] and [`MediaLimits::VIDEO`] are WeChat Pay's
/// documented limits; [`MediaLimits::new`] makes others (a `const`, so it
/// can be named in `#[wxpay::endpoint(…, multipart = path::TO_CONST)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    kind: &'static str,
    max_bytes: u64,
    extensions: &'static [&'static str],
}

impl MediaLimits {
    /// Images: at most 2 MiB, `jpg`, `jpeg`, `png` or `bmp`.
    pub const IMAGE: MediaLimits =
        MediaLimits::new("image", 2 * 1024 * 1024, &["jpg", "jpeg", "png", "bmp"]);

    /// Videos: at most 5 MiB, `avi`, `wmv`, `mpeg`, `mp4`, `mov`, `mkv`,
    /// `flv`, `f4v`, `m4v` or `rmvb`.
    pub const VIDEO: MediaLimits = MediaLimits::new(
        "video",
        5 * 1024 * 1024,
        &[
            "avi", "wmv", "mpeg", "mp4", "mov", "mkv", "flv", "f4v", "m4v", "rmvb",
        ],
    );

    /// Limits for uploads of `kind` (a word for messages, such as
    /// `"image"`): at most `max_bytes` bytes, with one of `extensions`
    /// (lower case, without the dot; compared case-insensitively).
    pub const fn new(
        kind: &'static str,
        max_bytes: u64,
        extensions: &'static [&'static str],
    ) -> Self {
        MediaLimits {
            kind,
            max_bytes,
            extensions,
        }
    }

    /// The kind of upload, for messages (`"image"`, `"video"`).
    pub const fn kind(&self) -> &'static str {
        self.kind
    }

    /// The largest accepted file, in bytes.
    pub const fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The accepted extensions.
    pub const fn extensions(&self) -> &'static [&'static str] {
        self.extensions
    }

    /// Checks `file` against these limits and the rules every upload
    /// follows (a non-empty file, a plain file name with an extension).
    ///
    /// # Errors
    /// The first rule `file` breaks.
    pub fn check(&self, file: &MediaFile) -> Result<(), MediaError> {
        let filename = &file.filename;
        if filename.is_empty() {
            return Err(MediaError::InvalidFilename {
                filename: filename.clone(),
                reason: "it is empty",
            });
        }
        if filename.chars().any(char::is_control) {
            return Err(MediaError::InvalidFilename {
                filename: filename.clone(),
                reason: "it holds control characters (line breaks, tabs, …)",
            });
        }
        let Some(extension) = file.extension() else {
            return Err(MediaError::MissingExtension {
                filename: filename.clone(),
                allowed: self.extensions,
            });
        };
        if !self
            .extensions
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(extension))
        {
            return Err(MediaError::UnsupportedType {
                filename: filename.clone(),
                extension: extension.to_owned(),
                kind: self.kind,
                allowed: self.extensions,
            });
        }
        if file.content.is_empty() {
            return Err(MediaError::Empty {
                filename: filename.clone(),
            });
        }
        let size = u64::try_from(file.content.len()).unwrap_or(u64::MAX);
        if size > self.max_bytes {
            return Err(MediaError::TooLarge {
                filename: filename.clone(),
                size,
                max: self.max_bytes,
                kind: self.kind,
            });
        }
        if let Some(content_type) = &file.content_type
            && (content_type.is_empty()
                || !content_type.bytes().all(|b| (b' '..=b'~').contains(&b)))
        {
            return Err(MediaError::InvalidContentType {
                content_type: content_type.clone(),
            });
        }
        Ok(())
    }
}

/// A file that cannot be uploaded: found when the request is built,
/// before anything is sent (see [`BuildError::Media`]).
///
/// [`BuildError::Media`]: crate::BuildError::Media
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The file has no bytes.
    #[error("`{filename}` is empty; WeChat Pay refuses empty files")]
    Empty {
        /// The file name.
        filename: String,
    },
    /// The file is larger than the endpoint accepts.
    #[error(
        "`{filename}` is {size} bytes, over the {max}-byte ({mib}) limit of {kind} uploads; compress or resize it",
        mib = show_mib(*max)
    )]
    TooLarge {
        /// The file name.
        filename: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        max: u64,
        /// The kind of upload (`"image"`, `"video"`).
        kind: &'static str,
    },
    /// The file's extension is not one the endpoint accepts.
    #[error(
        "`{filename}`: `.{extension}` files cannot be sent as {kind} uploads; accepted: {}",
        allowed.join(", ")
    )]
    UnsupportedType {
        /// The file name.
        filename: String,
        /// Its extension.
        extension: String,
        /// The kind of upload (`"image"`, `"video"`).
        kind: &'static str,
        /// The accepted extensions.
        allowed: &'static [&'static str],
    },
    /// The file name has no extension, from which WeChat Pay tells the
    /// file's type.
    #[error(
        "`{filename}` has no extension, and WeChat Pay tells a file's type by it; name it like `photo.{}` (accepted: {})",
        allowed.first().copied().unwrap_or("jpg"),
        allowed.join(", ")
    )]
    MissingExtension {
        /// The file name.
        filename: String,
        /// The accepted extensions.
        allowed: &'static [&'static str],
    },
    /// The file name cannot be sent.
    #[error("the file name {filename:?} cannot be sent: {reason}")]
    InvalidFilename {
        /// The file name.
        filename: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The explicit `Content-Type` is not valid header text.
    #[error(
        "the content type {content_type:?} is not valid header text; use a MIME type such as `image/jpeg`"
    )]
    InvalidContentType {
        /// The content type given.
        content_type: String,
    },
    /// A form part's name cannot be written in its `Content-Disposition`.
    #[error(
        "the form part name {name:?} cannot be sent: {reason}; use the name the operation documents, such as `file`"
    )]
    InvalidPartName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `meta` document could not be written as JSON.
    #[error("the upload's `meta` cannot be written as JSON: {reason}")]
    InvalidMeta {
        /// serde_json's message.
        reason: String,
    },
    /// A text field of the form has no single text value.
    #[error(
        "the form field `{name}` cannot be sent as a text part: {reason}; give it a string, number, boolean or unit enum type"
    )]
    InvalidField {
        /// The field's name.
        name: String,
        /// What is wrong with its value.
        reason: String,
    },
}

/// `2 MiB`, `1.5 MiB`, or `1000 bytes` when not a round number of
/// tenths of a MiB.
fn show_mib(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    match bytes.checked_mul(10) {
        Some(tenths) if bytes >= MIB && tenths.is_multiple_of(MIB) => {
            let tenths = tenths / MIB;
            if tenths.is_multiple_of(10) {
                format!("{} MiB", tenths / 10)
            } else {
                format!("{}.{} MiB", tenths / 10, tenths % 10)
            }
        }
        _ => format!("{bytes} bytes"),
    }
}

/// A `multipart/form-data` upload body: the meta JSON that is signed, and
/// the whole payload (meta part and file part) that is sent, built once.
///
/// `Debug` shows the meta JSON and the payload's size, not its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Multipart {
    meta: Bytes,
    payload: Bytes,
    content_type: HeaderValue,
    boundary: String,
}

/// `{"filename":…,"sha256":…}`, in this order.
#[derive(serde::Serialize)]
struct Meta<'a> {
    filename: &'a str,
    sha256: &'a str,
}

/// The form of an upload whose parts are not the standard two: the name
/// of the file part, the `meta` document, and further text fields.
///
/// Most WeChat Pay uploads take a part `file` and a part `meta` holding
/// `{"filename","sha256"}`, which [`Multipart::new`] builds. A few take
/// another meta (`{"file_name","file_digest"}`, a bank type, …), name the
/// file part otherwise (`submission_file`), or add text fields
/// (`item_id`): describe those here and build with
/// [`Multipart::with_form`].
///
/// ```
/// use wxpay_core::media::{MediaFile, MediaLimits, Multipart, UploadForm};
///
/// #[derive(serde::Serialize)]
/// struct SubmissionMeta<'a> {
///     file_name: &'a str,
///     file_digest: String,
/// }
///
/// # fn main() -> Result<(), wxpay_core::media::MediaError> {
/// let file = MediaFile::new("licence.png", b"\x89PNG...".to_vec());
/// let meta = SubmissionMeta { file_name: file.filename(), file_digest: file.sha256_hex() };
/// let form = UploadForm::new()
///     .file_part("submission_file")
///     .meta(&meta)?
///     .field("item_id", "56");
/// let upload = Multipart::with_form(&file, &MediaLimits::IMAGE, &form)?;
/// assert!(upload.meta().starts_with(br#"{"file_name":"licence.png""#));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadForm {
    file_part: String,
    meta: Option<Bytes>,
    fields: Vec<(String, String)>,
}

impl Default for UploadForm {
    fn default() -> Self {
        UploadForm::new()
    }
}

impl UploadForm {
    /// The standard form: the file part is `file`, `meta` is
    /// `{"filename","sha256"}` of the file, no other field.
    pub fn new() -> Self {
        UploadForm {
            file_part: "file".to_owned(),
            meta: None,
            fields: Vec::new(),
        }
    }

    /// Names the file part `name` instead of `file`.
    #[must_use]
    pub fn file_part(mut self, name: impl Into<String>) -> Self {
        self.file_part = name.into();
        self
    }

    /// Sends `meta`, serialized to JSON, as the `meta` part: the bytes the
    /// request signature covers. Digests it carries are the caller's to
    /// fill in ([`MediaFile::sha256_hex`]).
    ///
    /// # Errors
    /// [`MediaError::InvalidMeta`] when `meta` cannot be serialized.
    pub fn meta<T: serde::Serialize + ?Sized>(mut self, meta: &T) -> Result<Self, MediaError> {
        let json = serde_json::to_vec(meta).map_err(|error| MediaError::InvalidMeta {
            reason: error.to_string(),
        })?;
        self.meta = Some(Bytes::from(json));
        Ok(self)
    }

    /// Adds a text field `name` holding `value`, sent after `meta`.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// Adds a text field `name` holding `value` written as a query
    /// parameter would be: a string as it is, a number or boolean in its
    /// usual text, a unit enum variant by its serialized name. `None` (or
    /// `()`) adds nothing, so an optional field is left out when unset.
    ///
    /// ```
    /// use wxpay_core::media::UploadForm;
    ///
    /// # fn main() -> Result<(), wxpay_core::media::MediaError> {
    /// let form = UploadForm::new()
    ///     .value("item_id", &56)?
    ///     .value("remark", &None::<String>)?;
    /// assert_eq!(form, UploadForm::new().field("item_id", "56"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`MediaError::InvalidField`] when `value` is structured (a struct, a
    /// list, a map, an enum variant with data): a text part holds one
    /// value.
    pub fn value<T: serde::Serialize + ?Sized>(
        self,
        name: impl Into<String>,
        value: &T,
    ) -> Result<Self, MediaError> {
        let name = name.into();
        match crate::target::scalar_text(value) {
            Ok(Some(text)) => Ok(self.field(name, text)),
            Ok(None) => Ok(self),
            Err(reason) => Err(MediaError::InvalidField { name, reason }),
        }
    }

    /// The names of every part, checked: not empty, no `"`, no control
    /// characters, none twice.
    fn check_names(&self) -> Result<(), MediaError> {
        let names = std::iter::once(self.file_part.as_str())
            .chain(std::iter::once("meta"))
            .chain(self.fields.iter().map(|(name, _)| name.as_str()));
        let mut seen = std::collections::BTreeSet::new();
        for name in names {
            let reason = if name.is_empty() {
                Some("it is empty")
            } else if name.contains('"') {
                Some("it holds a `\"`")
            } else if name.chars().any(char::is_control) {
                Some("it holds control characters (line breaks, tabs, …)")
            } else if !seen.insert(name) {
                Some("two parts would have this name")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(MediaError::InvalidPartName {
                    name: name.to_owned(),
                    reason,
                });
            }
        }
        Ok(())
    }
}

impl Multipart {
    /// Checks `file` against `limits`, then builds the meta JSON
    /// (`{"filename","sha256"}`) and the payload (parts `meta` and `file`)
    /// around a fresh random boundary.
    ///
    /// # Errors
    /// The file breaks one of the limits (nothing is built then).
    pub fn new(file: &MediaFile, limits: &MediaLimits) -> Result<Self, MediaError> {
        Multipart::with_form(file, limits, &UploadForm::new())
    }

    /// [`Multipart::new`] for an upload of another form: the file part's
    /// name, the meta and the further fields come from `form`.
    ///
    /// # Errors
    /// The file breaks one of the limits, or a part name cannot be sent
    /// (empty, with a `"` or a control character, or twice).
    pub fn with_form(
        file: &MediaFile,
        limits: &MediaLimits,
        form: &UploadForm,
    ) -> Result<Self, MediaError> {
        limits.check(file)?;
        form.check_names()?;
        let meta = match &form.meta {
            Some(meta) => meta.clone(),
            None => {
                let sha256 = file.sha256_hex();
                let meta = serde_json::to_vec(&Meta {
                    filename: &file.filename,
                    sha256: &sha256,
                })
                .map_err(|error| MediaError::InvalidMeta {
                    reason: error.to_string(),
                })?;
                Bytes::from(meta)
            }
        };
        let texts = std::iter::once(&meta[..])
            .chain(form.fields.iter().map(|(_, value)| value.as_bytes()))
            .chain(std::iter::once(&file.content[..]));
        let boundary = boundary_for(texts);
        let content_type = HeaderValue::try_from(format!(
            "multipart/form-data; boundary={boundary}"
        ))
        .map_err(|_| MediaError::InvalidContentType {
            content_type: boundary.clone(),
        })?;
        let payload = payload(&boundary, &meta, form, file);
        Ok(Multipart {
            meta,
            payload,
            content_type,
            boundary,
        })
    }

    /// The meta JSON: what the request signature covers.
    pub fn meta(&self) -> &Bytes {
        &self.meta
    }

    /// The complete `multipart/form-data` payload: what is sent.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// `multipart/form-data; boundary=…`, the request's `Content-Type`.
    pub fn content_type(&self) -> &str {
        self.content_type.to_str().unwrap_or("multipart/form-data")
    }

    /// The boundary between the parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    pub(crate) fn content_type_header(&self) -> HeaderValue {
        self.content_type.clone()
    }
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("meta", &String::from_utf8_lossy(&self.meta))
            .field("boundary", &self.boundary())
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// A random boundary that occurs in none of `parts` (30 random characters
/// make a collision absurdly unlikely; the check makes it impossible).
fn boundary_for<'a>(parts: impl Iterator<Item = &'a [u8]> + Clone) -> String {
    loop {
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(30)
            .map(char::from)
            .collect();
        let boundary = format!("wxpay-{random}");
        let needle = format!("--{boundary}");
        if !parts.clone().any(|part| {
            part.windows(needle.len())
                .any(|window| window == needle.as_bytes())
        }) {
            return boundary;
        }
    }
}

/// The parts: `meta`, the form's text fields, then the file; CRLF line
/// ends, closing delimiter.
fn payload(boundary: &str, meta: &[u8], form: &UploadForm, file: &MediaFile) -> Bytes {
    let filename = escape_quoted(&file.filename);
    let fields: usize = form
        .fields
        .iter()
        .map(|(name, value)| name.len() + value.len() + boundary.len() + 64)
        .sum();
    let mut out = BytesMut::with_capacity(
        file.content.len() + meta.len() + fields + 4 * boundary.len() + 256,
    );
    open_part(&mut out, boundary, "meta", true);
    out.put_slice(b"\r\nContent-Type: application/json\r\n\r\n");
    out.put_slice(meta);
    for (name, value) in &form.fields {
        open_part(&mut out, boundary, name, false);
        out.put_slice(b"\r\n\r\n");
        out.put_slice(value.as_bytes());
    }
    open_part(&mut out, boundary, &form.file_part, false);
    out.put_slice(b"; filename=\"");
    out.put_slice(filename.as_bytes());
    out.put_slice(b"\"\r\nContent-Type: ");
    out.put_slice(file.content_type().as_bytes());
    out.put_slice(b"\r\n\r\n");
    out.put_slice(&file.content);
    out.put_slice(b"\r\n--");
    out.put_slice(boundary.as_bytes());
    out.put_slice(b"--\r\n");
    out.freeze()
}

/// Starts a part: its delimiter (after the line break that ends the part
/// before, unless it is the first) and `Content-Disposition: form-data;
/// name="…"`, left open for the part's further parameters and headers.
fn open_part(out: &mut BytesMut, boundary: &str, name: &str, first: bool) {
    if !first {
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"--");
    out.put_slice(boundary.as_bytes());
    out.put_slice(b"\r\nContent-Disposition: form-data; name=\"");
    out.put_slice(name.as_bytes());
    out.put_slice(b"\"");
}

/// A file name inside `filename="…"`: `"` becomes `%22` (as browsers
/// write it); control characters were refused before.
fn escape_quoted(filename: &str) -> String {
    filename.replace('"', "%22")
}

impl Body {
    /// A `multipart/form-data` upload of `file`, checked against `limits`
    /// first: the meta JSON is what is signed ([`Body::as_bytes`]), the
    /// payload built around it is what is sent ([`Body::wire_bytes`]).
    ///
    /// # Errors
    /// [`BuildError::Media`](crate::BuildError::Media) when the file breaks
    /// a limit; nothing is sent then.
    pub fn multipart(
        file: &MediaFile,
        limits: &MediaLimits,
    ) -> Result<Body, crate::target::BuildError> {
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
    ) -> Result<Body, crate::target::BuildError> {
        Ok(Body::Multipart(Multipart::with_form(file, limits, form)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpg(len: usize) -> MediaFile {
        MediaFile::new("a.jpg", vec![7u8; len])
    }

    /// Known answers from GB/T 32905-2016 appendix A.
    #[test]
    fn sm3_hex_is_the_known_answer() {
        let abc = MediaFile::new("a.pdf", b"abc".to_vec());
        assert_eq!(
            abc.sm3_hex(),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        let abcd16 = MediaFile::new("a.pdf", b"abcd".repeat(16));
        assert_eq!(
            abcd16.sm3_hex(),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        // Not SHA-256 by another name.
        assert_ne!(abc.sm3_hex(), abc.sha256_hex());
    }

    #[test]
    fn meta_is_the_exact_json_and_sha256_is_lower_hex() {
        let file = MediaFile::new("a.jpg", b"abc".to_vec());
        let multipart = Multipart::new(&file, &MediaLimits::IMAGE).unwrap();
        assert_eq!(
            &multipart.meta()[..],
            br#"{"filename":"a.jpg","sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#
        );
    }

    #[test]
    fn payload_has_both_parts_and_the_closing_delimiter() {
        let file = MediaFile::new("say \"hi\".PNG", b"\x89PNG".to_vec());
        let multipart = Multipart::new(&file, &MediaLimits::IMAGE).unwrap();
        let boundary = multipart.boundary().to_owned();
        assert!(
            boundary.starts_with("wxpay-") && boundary.len() == 36,
            "{boundary}"
        );
        assert_eq!(
            multipart.content_type(),
            format!("multipart/form-data; boundary={boundary}")
        );
        let text = String::from_utf8_lossy(multipart.payload()).into_owned();
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"say %22hi%22.PNG\"\r\nContent-Type: image/png\r\n\r\n\u{fffd}PNG\r\n\
             --{boundary}--\r\n",
            String::from_utf8_lossy(multipart.meta())
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn another_form_sends_its_meta_fields_and_file_part_name() {
        let file = MediaFile::new("licence.png", b"\x89PNG".to_vec());
        let form = UploadForm::new()
            .file_part("submission_file")
            .meta(&serde_json::json!({"file_name": "licence.png", "file_digest": "ab"}))
            .unwrap()
            .field("item_id", "56")
            .field("manage_record_id", "R-1");
        let multipart = Multipart::with_form(&file, &MediaLimits::IMAGE, &form).unwrap();
        // The meta given is what is signed, byte for byte.
        assert_eq!(
            &multipart.meta()[..],
            br#"{"file_digest":"ab","file_name":"licence.png"}"#
        );
        let boundary = multipart.boundary().to_owned();
        let text = String::from_utf8_lossy(multipart.payload()).into_owned();
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"item_id\"\r\n\r\n56\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"manage_record_id\"\r\n\r\nR-1\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"submission_file\"; filename=\"licence.png\"\r\nContent-Type: image/png\r\n\r\n\u{fffd}PNG\r\n\
             --{boundary}--\r\n",
            String::from_utf8_lossy(multipart.meta())
        );
        assert_eq!(text, expected);
        // The standard form is what `new` builds.
        assert_eq!(
            Multipart::with_form(&file, &MediaLimits::IMAGE, &UploadForm::new())
                .unwrap()
                .meta(),
            Multipart::new(&file, &MediaLimits::IMAGE).unwrap().meta()
        );
    }

    #[test]
    fn part_names_that_cannot_be_sent_are_refused() {
        let file = MediaFile::new("a.png", b"x".to_vec());
        let refused =
            |form: UploadForm| match Multipart::with_form(&file, &MediaLimits::IMAGE, &form) {
                Err(MediaError::InvalidPartName { name, reason }) => (name, reason),
                other => panic!("{other:?}"),
            };
        assert_eq!(refused(UploadForm::new().file_part("")).1, "it is empty");
        assert_eq!(refused(UploadForm::new().field("a\"b", "1")).0, "a\"b");
        assert_eq!(
            refused(UploadForm::new().field("a\r\nX: y", "1")).0,
            "a\r\nX: y"
        );
        let (name, reason) = refused(UploadForm::new().field("meta", "1"));
        assert_eq!(
            (name.as_str(), reason),
            ("meta", "two parts would have this name")
        );
        let error = MediaError::InvalidPartName {
            name: "x\"".into(),
            reason: "it holds a `\"`",
        };
        assert!(
            error
                .to_string()
                .contains("use the name the operation documents")
        );
    }

    #[test]
    fn the_boundary_avoids_every_part() {
        // A field value cannot end the part early: whatever the value, the
        // boundary chosen does not occur in it.
        let file = MediaFile::new("a.png", b"x".to_vec());
        let form = UploadForm::new().field("note", "--wxpay-");
        let multipart = Multipart::with_form(&file, &MediaLimits::IMAGE, &form).unwrap();
        let needle = format!("--{}", multipart.boundary());
        let text = String::from_utf8_lossy(multipart.payload()).into_owned();
        // One delimiter before each part (meta, note, file) and the closing one.
        assert_eq!(text.matches(&needle).count(), 4);
    }

    #[test]
    fn limits_are_checked_in_a_useful_order() {
        let image = MediaLimits::IMAGE;
        assert_eq!(image.check(&jpg(2 * 1024 * 1024)), Ok(()));
        let error = image.check(&jpg(2 * 1024 * 1024 + 1)).unwrap_err();
        assert!(matches!(error, MediaError::TooLarge { max: 2_097_152, .. }));
        assert!(
            error.to_string().contains("(2 MiB) limit of image uploads"),
            "{error}"
        );
        let error = image.check(&jpg(0)).unwrap_err();
        assert!(matches!(error, MediaError::Empty { .. }), "{error}");
        let error = image.check(&MediaFile::new("a.gif", vec![1])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`a.gif`: `.gif` files cannot be sent as image uploads; accepted: jpg, jpeg, png, bmp"
        );
        for name in ["photo", ".jpg", "photo."] {
            let error = image.check(&MediaFile::new(name, vec![1])).unwrap_err();
            assert!(
                matches!(error, MediaError::MissingExtension { .. }),
                "{name}: {error}"
            );
        }
        let error = image.check(&MediaFile::new("", vec![1])).unwrap_err();
        assert!(matches!(error, MediaError::InvalidFilename { .. }));
        let error = image
            .check(&MediaFile::new("a\n.jpg", vec![1]))
            .unwrap_err();
        assert!(matches!(error, MediaError::InvalidFilename { .. }));
        let error = image
            .check(&MediaFile::new("a.jpg", vec![1]).with_content_type("image/jpeg\r\nX: y"))
            .unwrap_err();
        assert!(matches!(error, MediaError::InvalidContentType { .. }));
        assert_eq!(image.check(&MediaFile::new("A.JPEG", vec![1])), Ok(()));

        let video = MediaLimits::VIDEO;
        assert_eq!(
            video.check(&MediaFile::new("a.mp4", vec![0; 5 * 1024 * 1024])),
            Ok(())
        );
        assert!(video.check(&MediaFile::new("a.jpg", vec![1])).is_err());
        assert!(
            video
                .check(&MediaFile::new("a.rmvb", vec![0; 5 * 1024 * 1024 + 1]))
                .is_err()
        );
    }

    #[test]
    fn content_types_follow_the_extension_unless_set() {
        assert_eq!(MediaFile::new("a.JPG", vec![]).content_type(), "image/jpeg");
        assert_eq!(
            MediaFile::new("a.mov", vec![]).content_type(),
            "video/quicktime"
        );
        assert_eq!(
            MediaFile::new("a", vec![]).content_type(),
            "application/octet-stream"
        );
        assert_eq!(
            MediaFile::new("a.jpg", vec![])
                .with_content_type("image/pjpeg")
                .content_type(),
            "image/pjpeg"
        );
    }

    #[test]
    fn the_boundary_never_occurs_in_the_file() {
        let file = MediaFile::new("a.jpg", b"--wxpay-".repeat(1000));
        let multipart = Multipart::new(&file, &MediaLimits::IMAGE).unwrap();
        let needle = format!("--{}", multipart.boundary());
        let occurrences = multipart
            .payload()
            .windows(needle.len())
            .filter(|w| *w == needle.as_bytes())
            .count();
        assert_eq!(occurrences, 3);
    }

    #[test]
    fn debug_hides_the_content() {
        let file = MediaFile::new("a.jpg", b"secret".to_vec());
        let shown = format!("{file:?}");
        assert!(
            !shown.contains("secret") && shown.contains("len: 6"),
            "{shown}"
        );
    }

    #[test]
    fn sizes_are_shown_readably() {
        assert_eq!(show_mib(2 * 1024 * 1024), "2 MiB");
        assert_eq!(show_mib(1024 * 1024 * 15 / 10), "1.5 MiB");
        assert_eq!(show_mib(1000), "1000 bytes");
    }
}
