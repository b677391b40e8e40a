//! The `multipart/form-data` body of a media upload: [`Multipart`] and the
//! [`UploadForm`] it is built in.
//!
//! The writer below is hand-written rather than taken from a multipart
//! crate on purpose: the request signature covers the `meta` JSON, so the
//! bytes of the `meta` part must be exactly the bytes that were signed, and
//! the whole payload (boundary, part headers, CRLFs) must be built once and
//! resent unchanged on a retry. A general-purpose multipart encoder would
//! choose its own boundary, headers and framing, stream the parts, and give
//! no such byte-for-byte guarantee.
//!
//! The file itself is checked by [`crate::media`] ([`MediaLimits::check`])
//! before anything is written.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderValue;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::media::{MediaError, MediaFile, MediaLimits};

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
                    filename: file.filename(),
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
            .chain(std::iter::once(&file.content()[..]));
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
    let filename = escape_quoted(file.filename());
    let fields: usize = form
        .fields
        .iter()
        .map(|(name, value)| name.len() + value.len() + boundary.len() + 64)
        .sum();
    let mut out = BytesMut::with_capacity(
        file.content().len() + meta.len() + fields + 4 * boundary.len() + 256,
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
    out.put_slice(file.content());
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
