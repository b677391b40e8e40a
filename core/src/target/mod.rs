//! Rendering a request target: the path with its parameters encoded as
//! single segments, then the query string.
//!
//! The rendered string is what is signed and what is sent; nothing decodes
//! or re-encodes it afterwards.

mod query;

pub(crate) use query::scalar_text;
pub use query::{QueryList, comma_separated};

use std::fmt::{self, Write as _};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

/// Everything outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is
/// percent-encoded, `/` included, so a value can never leave its segment.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A request target under construction: path, then an optional query string.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Target {
    buf: String,
    has_query: bool,
}

impl Target {
    /// An empty target.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends literal path text from an endpoint's template (for example
    /// `/v3/marketing/favor/stocks/`). It is trusted and not encoded.
    ///
    /// # Panics
    /// In debug builds, when called after the query string has started.
    pub fn push_literal(&mut self, literal: &str) {
        debug_assert!(!self.has_query, "path text pushed after the query");
        self.buf.push_str(literal);
    }

    /// Appends the value of the path parameter `name` as exactly one
    /// percent-encoded segment.
    ///
    /// An empty value is an error: it would silently address another path.
    pub fn push_segment<V: fmt::Display + ?Sized>(
        &mut self,
        name: &'static str,
        value: &V,
    ) -> Result<(), BuildError> {
        let start = self.buf.len();
        // Display straight into the buffer, then encode in place if needed:
        // most identifiers are plain ASCII and need no second allocation.
        write!(self.buf, "{value}").map_err(|_| BuildError::Display { name })?;
        if self.buf.len() == start {
            return Err(BuildError::EmptyPathParameter { name });
        }
        let raw = &self.buf[start..];
        if raw == "." || raw == ".." {
            // URL parsers resolve dot segments (encoded or not), which
            // would move the request to another path.
            self.buf.truncate(start);
            return Err(BuildError::DotSegment { name });
        }
        if raw.bytes().all(is_unreserved) {
            return Ok(());
        }
        let encoded = utf8_percent_encode(raw, COMPONENT).to_string();
        self.buf.truncate(start);
        self.buf.push_str(&encoded);
        Ok(())
    }

    /// Appends the fields of `params` (a struct or map whose values are
    /// strings, numbers, booleans or `None`) as `key=value` pairs, in their
    /// serialization order. `None` fields are left out. Keys and values are
    /// percent-encoded.
    pub fn push_query<T: Serialize + ?Sized>(&mut self, params: &T) -> Result<(), BuildError> {
        query::append(self, params)
    }

    /// Appends one `key=value` pair, percent-encoding both.
    pub fn push_query_pair(&mut self, key: &str, value: &str) {
        self.buf.push(if self.has_query { '&' } else { '?' });
        self.has_query = true;
        self.buf
            .extend(utf8_percent_encode(key, COMPONENT).map(|s| s as &str));
        self.buf.push('=');
        self.buf
            .extend(utf8_percent_encode(value, COMPONENT).map(|s| s as &str));
    }

    /// The target rendered so far.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// The rendered target.
    pub fn into_string(self) -> String {
        self.buf
    }
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Target").field(&self.buf).finish()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.buf)
    }
}

/// A request could not be built from the endpoint's fields.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A path parameter was empty.
    #[error(
        "path parameter `{name}` is empty; an empty segment would address a different operation, so set `{name}` to a non-empty value"
    )]
    EmptyPathParameter {
        /// The placeholder's name.
        name: &'static str,
    },
    /// A path parameter was `.` or `..`, which URL handling would resolve
    /// to another path.
    #[error(
        "path parameter `{name}` is `.` or `..`, which would address a different path; such a value cannot be an identifier"
    )]
    DotSegment {
        /// The placeholder's name.
        name: &'static str,
    },
    /// The rendered target would not survive URL handling unchanged, so the
    /// signature would not cover what is sent.
    #[error(
        "the request target `{target}` changes when joined to the base URL (it becomes `{sent}`); it must not be sent"
    )]
    TargetAltered {
        /// The rendered target.
        target: String,
        /// What URL handling made of it.
        sent: String,
    },
    /// A caller-chosen signature nonce is not plain text.
    #[error("the nonce must be plain ASCII letters and digits (32 of them, as WeChat Pay expects)")]
    InvalidNonce,
    /// A path parameter's `Display` implementation failed.
    #[error(
        "path parameter `{name}` could not be formatted: its Display implementation returned an error"
    )]
    Display {
        /// The placeholder's name.
        name: &'static str,
    },
    /// A query parameter had a value that has no query-string form.
    #[error("query parameter `{name}` cannot be sent in a query string: {reason}")]
    Query {
        /// The parameter's name as serialized (empty when the whole value was rejected).
        name: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The body could not be serialized to JSON.
    #[error(
        "the request body could not be serialized to JSON (check the Serialize implementations of the endpoint's field types)"
    )]
    Body(#[source] serde_json::Error),
    /// The operation is served by a host the client was not built for
    /// ([`ClientBuilder::home_host`](crate::ClientBuilder::home_host)).
    #[error(
        "the operation is served by {host}, but this client is built for {home} only (ClientBuilder::home_host); call it with a client built for {host}"
    )]
    HostNotServed {
        /// The operation's host.
        host: crate::Host,
        /// The one host the client calls.
        home: crate::Host,
    },
    /// The file of a media upload breaks the endpoint's limits (size,
    /// type, name); nothing was sent.
    #[error("the file cannot be uploaded")]
    Media(#[from] crate::media::MediaError),
}

impl BuildError {
    pub(crate) fn body(error: serde_json::Error) -> Self {
        BuildError::Body(error)
    }
}
