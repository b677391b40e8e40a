//! The runtime of [wxpay](https://docs.rs/wxpay): everything between an
//! endpoint declaration and WeChat Pay APIv3.
//!
//! Use it through the `wxpay` crate, which adds the `#[wxpay::endpoint]`
//! attribute and the catalogue of built-in endpoints.
//!
//! | module | what it does |
//! |---|---|
//! | [`endpoint`] | the open [`Endpoint`] trait every operation implements, and the request [`Body`] it builds |
//! | [`target`] | rendering the request target: one encoded segment per path parameter, then the query; the [`BuildError`] of building a request |
//! | [`signing`] | the five-line signing message and the `Authorization` header |
//! | [`verification`] | checking WeChat Pay's signatures on answers: headers, clock skew, serial, key |
//! | [`notification`] | callbacks: verify, decrypt and decode WeChat Pay's notifications, and the reply |
//! | [`keys`] | merchant private key, WeChat Pay public keys, platform certificates, the APIv3 key |
//! | [`encryption`] | sensitive request fields, RSA-OAEP-encrypted while the body is serialized |
//! | [`crypto`] | the RSA / AES-GCM backends behind one small internal trait |
//! | [`certificates`] | platform certificates from `GET /v3/certificates`: decrypt, bootstrap-verify |
//! | [`media`] | media uploads: the [`MediaFile`](media::MediaFile), upload limits and their checks, digests; the multipart body whose meta JSON is signed |
//! | `body` (internal) | the request [`Body`] and the hand-written multipart writer, re-exported as [`endpoint::Body`] and [`media::Multipart`] |
//! | [`bill`] | bill downloads (verbatim URL, gzip, SHA-1) and the bill CSV parser |
//! | [`payer`] | the payer's side: JSAPI, mini-program and APP invocation parameters signed with the merchant key |
//! | [`client`] | the [`Client`]: sign → send → verify → decode |
//! | [`request`] | a [`PreparedRequest`] to inspect before (or instead of) sending |
//! | [`retry`] | the [`RetryPolicy`]: what is retried, backoff, `Retry-After`, failover |
//! | [`error`] | [`Error`], which always says which operation failed and what to check |
//! | [`v2`] | APIv2: XML fields, `MD5` / `HMAC-SHA256` signatures, answers, notifications, the API client certificate |
//!
//! No module imports a module that imports it back (`tests/no_import_cycles.rs`
//! checks it; the one reviewed exception is [`Error::V2`] naming
//! [`v2::V2Error`]). Request building is layered: `media` (checks files) ←
//! `target` (the target and [`BuildError`]) ← `body` (the signed bytes) ←
//! `endpoint`.
//!
//! # Dependencies, and why each is here
//! - `aws-lc-rs` (feature `aws-lc`, default): RSA and AES-GCM. It is already
//!   in the tree through reqwest's rustls, is the fastest RSA signer
//!   available to Rust, and has RSA-OAEP.
//! - `rsa`, `aes-gcm` (feature `rust-crypto`): the same operations in pure
//!   Rust, for targets where a C toolchain is unwelcome; with `sha2` and
//!   `sha1` for their digests.
//! - `sha2` (always): the SHA-256 of an uploaded file, which its `meta`
//!   part carries; pure Rust, so uploads hash alike on either backend.
//! - `sha1` (always): the SHA-1 a downloaded bill is checked against,
//!   computed while the bill streams in.
//! - `flate2`: bills are downloaded gzip-compressed; they are decompressed
//!   chunk by chunk as they arrive (pure-Rust backend).
//! - `csv`: reading bills (quoted values, line ends, positions for errors).
//! - `reqwest` and `http`: the HTTP client and the shared header types.
//! - `serde`, `serde_json`, `serde_path_to_error`: request bodies and
//!   decoded answers, with the JSON path of any decoding failure.
//! - `percent-encoding`: RFC 3986 encoding of path segments and query values.
//! - `base64` and `x509-parser`: the encodings signatures, ciphertexts and
//!   certificates travel in.
//! - `pem-rfc7468`, `der`, `pkcs8`, `pkcs1`, `spki` (RustCrypto, already in
//!   the tree through `p12-keystore` and `rsa`): PEM keys and certificates
//!   (base64 decoded in constant time, into buffers wiped on drop) and the
//!   RSA key structures, read before a backend sees them so that both give
//!   the same errors. Only finding the block in a lenient text (other
//!   blocks around it, literal `\n`, one line) is our own.
//! - `mime_guess`: the `Content-Type` of an uploaded file from its
//!   extension; which extensions WeChat Pay accepts stays our rule.
//! - `time` (already in the tree through `x509-parser`): the calendar
//!   behind [`DateTime`] (month lengths, leap years, offsets, Unix time).
//! - `rand`: request nonces, retry jitter and multipart boundaries.
//! - `httpdate`: `Retry-After` given as an HTTP date (already in the tree
//!   through hyper).
//! - `axum` (feature `axum`, off by default): the callback extractor and
//!   `IntoResponse` for callback replies.
//! - `tokio` (`time`, `fs`, `io-util`): timeouts and waits; writing a
//!   downloaded bill to a file as it arrives; reading an upload from a path.
//! - `zeroize`: key material is wiped from memory when dropped.
//! - `md-5`, `hmac`, `aes` + `ecb`, `subtle`, `quick-xml`, `p12-keystore`:
//!   APIv2 ([`v2`]): its signatures, the refund notification's AES-256-ECB,
//!   XML bodies and the merchant's `apiclient_cert.p12`.
//! - `thiserror`: error types with messages; `bytes`: bodies shared without
//!   copying; `tracing`: structured diagnostics without secrets.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "aws-lc", feature = "rust-crypto")))]
compile_error!(
    "wxpay-core needs a crypto backend: enable the `aws-lc` feature (the default) or `rust-crypto`"
);

pub mod bill;
mod body;
pub mod certificates;
pub mod client;
pub mod crypto;
pub mod datetime;
pub mod encryption;
pub mod endpoint;
pub mod error;
pub mod error_code;
pub mod host;
pub mod keys;
pub mod media;
pub mod notification;
pub mod payer;
pub mod request;
pub mod retry;
mod routes;
pub mod signing;
pub mod target;
pub mod v2;
mod v2_error;
pub mod verification;

#[doc(hidden)]
pub mod __macro_support;

/// Internal parsers exposed to the fuzz targets in `fuzz/` (feature
/// `fuzzing`); not a public API, and not covered by semver.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    /// Reads a `Retry-After` header value relative to `now`.
    pub fn parse_retry_after(
        value: &str,
        now: std::time::SystemTime,
    ) -> Option<std::time::Duration> {
        crate::retry::parse_retry_after(value, now)
    }

    /// The bill download decoder (gzip sniffing, decompression, SHA-1),
    /// writing to memory.
    pub struct BillDecoder(crate::bill::stream::BillDecoder<Vec<u8>>);

    /// What [`BillDecoder::finish`] answers.
    #[derive(Debug)]
    pub struct DecodedBill {
        /// The bill bytes not drained before the end.
        pub rest: Vec<u8>,
        /// Lower-case hex SHA-1 of the whole decoded bill.
        pub sha1: String,
        /// The whole decoded size.
        pub len: u64,
        /// Whether the body was gzip.
        pub compressed: bool,
    }

    impl BillDecoder {
        /// A decoder at the start of a download.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            BillDecoder(crate::bill::stream::BillDecoder::new(Vec::new()))
        }

        /// Feeds the next downloaded chunk.
        pub fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
            self.0.push(chunk)
        }

        /// A decoder within `limits`.
        pub fn with_limits(limits: crate::bill::BillLimits) -> Self {
            BillDecoder(crate::bill::stream::BillDecoder::with_limits(
                Vec::new(),
                limits,
            ))
        }

        /// Feeds the next downloaded chunk (the error as the client
        /// reports it).
        pub fn try_push(&mut self, chunk: &[u8]) -> Result<(), crate::bill::DownloadError> {
            self.0.try_push(chunk)
        }

        /// Ends the download (the error as the client reports it).
        pub fn try_finish(self) -> Result<DecodedBill, crate::bill::DownloadError> {
            let decoded = self.0.try_finish()?;
            Ok(DecodedBill {
                rest: decoded.out,
                sha1: decoded.digest.hex().to_owned(),
                len: decoded.len,
                compressed: decoded.compressed,
            })
        }

        /// Takes what was decoded so far (nothing after a failure).
        pub fn drain(&mut self) -> Vec<u8> {
            self.0.output_mut().map(std::mem::take).unwrap_or_default()
        }

        /// Ends the download.
        pub fn finish(self) -> std::io::Result<DecodedBill> {
            let decoded = self.0.finish()?;
            Ok(DecodedBill {
                rest: decoded.out,
                sha1: decoded.digest.hex().to_owned(),
                len: decoded.len,
                compressed: decoded.compressed,
            })
        }
    }

    /// A bill `download_url` split as the client sends it: the URL reqwest
    /// is given and the request target signed, or why it is refused.
    pub fn verbatim_url(url: &str) -> Result<(reqwest::Url, String), crate::bill::DownloadError> {
        crate::client::download::verbatim_url(url)
    }

    /// The client's plain-http rule for a download URL.
    pub fn check_download_scheme(
        url: &reqwest::Url,
        allow_insecure_http: bool,
    ) -> Result<(), crate::bill::DownloadError> {
        crate::client::download::check_scheme(url, allow_insecure_http)
    }

    /// An error answer (`status` not 2xx) as the client reports it, its
    /// signature checked with `verifier` at `now`.
    pub fn api_error(
        status: http::StatusCode,
        headers: http::HeaderMap,
        body: &[u8],
        verifier: &crate::Verifier,
        now: i64,
    ) -> crate::Error {
        let answer = crate::client::send::Answer {
            status,
            headers,
            body: bytes::Bytes::copy_from_slice(body),
        };
        let operation = crate::Operation {
            method: crate::Method::Post,
            template: "/v3/fuzz/{id}",
        };
        answer.api_error(operation, verifier, now)
    }
}

pub use client::{CallOptions, Client, ClientBuilder};
pub use crypto::CryptoBackend;
pub use datetime::{DateTime, InvalidDateTime};
pub use endpoint::{Body, Endpoint, Idempotency, Method, NoContent};
pub use error::{ApiError, ConfigError, DecodeProblem, Error, Operation, RawBody, Report};
pub use error_code::ErrorCode;
/// The `http` crate, whose `HeaderMap`, `Request` and `Response` the
/// callback API takes and returns.
pub use host::Host;
pub use http;
pub use keys::{
    ApiV3Key, CryptoError, KeyError, MerchantKey, PlatformCertificate, SignatureError, VerifyingKey,
};
pub use notification::{
    EventType, Notification, NotificationDecoder, NotificationError, NotificationReply,
};
pub use request::PreparedRequest;
pub use retry::RetryPolicy;
pub use target::{BuildError, Target};
pub use verification::{Verifier, VerifyError};
