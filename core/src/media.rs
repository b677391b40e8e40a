//! Media uploads: images and videos sent as `multipart/form-data`.
//!
//! An upload request carries two parts: `meta`, the JSON document
//! `{"filename":"a.jpg","sha256":"<lower-case hex SHA-256 of the file>"}`,
//! and `file`, the file itself. **The signature covers the meta JSON, not
//! the multipart body**, so a [`Body::Multipart`](crate::Body::Multipart)
//! keeps both: the meta bytes (signed,
//! [`Body::as_bytes`](crate::Body::as_bytes)) and the whole payload built
//! once around them (sent, [`Body::wire_bytes`](crate::Body::wire_bytes)).
//! A retried upload resends the very same payload, boundary included.
//!
//! A few uploads take another form (another meta, another name for the
//! file part, further text fields): [`UploadForm`] describes it and
//! [`Body::multipart_with`](crate::Body::multipart_with) builds it.
//!
//! This module only checks files: [`MediaFile`], [`MediaLimits`] and
//! [`MediaError`], the digests and the `Content-Type` of a file. The
//! request body an upload is sent in ([`Multipart`], [`UploadForm`]) is
//! built with the other request bodies and re-exported here; this module
//! imports nothing that imports it.
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

use bytes::Bytes;
use sha2::{Digest, Sha256};
use sm3::Sm3;

// The upload body and its form live with the other request bodies
// (`crate::body`, which imports this module); re-exported so that
// `wxpay_core::media::{Multipart, UploadForm}` keep working.
pub use crate::body::{Multipart, UploadForm};

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

/// The usual `Content-Type` of a file extension (case-insensitive), from
/// `mime_guess`'s table; it gives WeChat Pay's image and video types as
/// WeChat Pay names them (pinned by a test), so no override is needed.
/// Which extensions an upload accepts is [`MediaLimits`]'s rule, not this.
fn content_type_of(extension: &str) -> &'static str {
    mime_guess::from_ext(extension)
        .first_raw()
        .unwrap_or("application/octet-stream")
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
            MediaFile::new("a.wxpay-unknown", vec![]).content_type(),
            "application/octet-stream"
        );
        // Every extension WeChat Pay accepts, with the type it expects.
        let expected = [
            ("jpg", "image/jpeg"),
            ("jpeg", "image/jpeg"),
            ("png", "image/png"),
            ("bmp", "image/bmp"),
            ("gif", "image/gif"),
            ("pdf", "application/pdf"),
            ("avi", "video/x-msvideo"),
            ("wmv", "video/x-ms-wmv"),
            ("mpeg", "video/mpeg"),
            ("mp4", "video/mp4"),
            ("mov", "video/quicktime"),
            ("mkv", "video/x-matroska"),
            ("flv", "video/x-flv"),
            ("f4v", "video/x-f4v"),
            ("m4v", "video/x-m4v"),
            ("rmvb", "application/vnd.rn-realmedia-vbr"),
        ];
        for (extension, content_type) in expected {
            assert_eq!(content_type_of(extension), content_type, "{extension}");
        }
        for extension in MediaLimits::IMAGE
            .extensions()
            .iter()
            .chain(MediaLimits::VIDEO.extensions())
        {
            assert!(
                expected.iter().any(|(known, _)| known == extension),
                "{extension}"
            );
        }
        assert_eq!(
            MediaFile::new("a.jpg", vec![])
                .with_content_type("image/pjpeg")
                .content_type(),
            "image/pjpeg"
        );
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
