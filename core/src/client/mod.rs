//! The client: one merchant's credentials, a connection pool, and the
//! sign → send → verify → decode pipeline, with retries and failover
//! (see [`crate::retry`]).
//!
//! - `mod.rs`: [`Client`], preparing requests, [`CallOptions`];
//! - `builder.rs`: [`ClientBuilder`], which checks every setting;
//! - `send.rs`: the send loop (attempts, waits, failover, tracing) and
//!   answer handling;
//! - `certificates.rs`: the live key store and certificate mode (download,
//!   bootstrap, background and unknown-serial refresh);
//! - `download.rs`: bill downloads (verbatim URL, gunzip, SHA-1 check);
//! - `raw.rs`: requests whose method and target are known only at run time;
//! - `payer.rs`: the payer's invocation parameters, and orders placed and
//!   signed for in one call.

pub(crate) mod builder;
mod certificates;
pub(crate) mod download;
mod payer;
pub mod raw;
pub(crate) mod send;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::Url;
use serde::de::DeserializeOwned;

pub use builder::ClientBuilder;
pub use certificates::{
    CERTIFICATE_RETRY_AFTER_FAILURE, DEFAULT_CERTIFICATE_REFRESH, MIN_UNKNOWN_SERIAL_REFRESH,
};

use crate::encryption;
use crate::endpoint::{Endpoint, Idempotency};
use crate::error::{Error, Operation};
use crate::host::Host;
use crate::keys::{ApiV3Key, CryptoError};
use crate::request::PreparedRequest;
use crate::retry::RetryPolicy;
use crate::routes::{self, Routes};
use crate::signing::{RequestSigner, new_nonce, unix_now};
use crate::target::{BuildError, Target};
use crate::verification::Verifier;

pub use crate::routes::{BACKUP_BASE_URL, PRODUCTION_BASE_URL};

/// The default timeout of one attempt, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default limit on the size of an answer's body (8 MiB): see
/// [`ClientBuilder::max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 8 * 1024 * 1024;

const WECHATPAY_SERIAL: HeaderName = HeaderName::from_static("wechatpay-serial");

/// A WeChat Pay APIv3 client for one merchant.
///
/// Cheap to clone (an `Arc` inside) and safe to share across tasks. Two
/// clients built for two merchants share nothing but, optionally, the
/// HTTP connection pool given to [`ClientBuilder::http_client`].
///
/// ```no_run
/// # async fn run() -> Result<(), wxpay_core::Error> {
/// use wxpay_core::Client;
///
/// let client = Client::builder()
///     .mchid("1900009191")
///     .merchant_key_file("5F1C72E2A8931B72A2E13AF8DEE92471EB397115", "apiclient_key.pem")
///     .wechatpay_public_key_file("PUB_KEY_ID_0114232134912410000000000000", "pub_key.pem")
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Every host's URL, the home host and the backup URL (see
    /// [`ClientBuilder::host_url`], [`ClientBuilder::home_host`] and
    /// [`ClientBuilder::backup_base_url`]).
    routes: Routes,
    signer: RequestSigner,
    /// WeChat Pay's keys (public keys, platform certificates), swapped whole
    /// when certificates are downloaded.
    keys: certificates::KeyStore,
    /// The timeout of one attempt.
    timeout: Duration,
    /// The policy of calls that do not override it.
    retry: RetryPolicy,
    apiv3_key: Option<ApiV3Key>,
    /// The most bytes of an answer's body that are read (see
    /// [`ClientBuilder::max_response_bytes`]).
    max_response_bytes: u64,
    /// The limits bill downloads stay within (see
    /// [`ClientBuilder::bill_limits`]).
    bill_limits: crate::bill::BillLimits,
    /// Whether plain `http://` to hosts other than loopback is allowed
    /// (see [`ClientBuilder::allow_insecure_http`]).
    allow_insecure_http: bool,
    /// Headers every request carries: `Accept`, `User-Agent`, and the
    /// `Wechatpay-Serial` of the public key in public-key mode.
    common_headers: HeaderMap,
}

/// Settings of one call that override the client's.
///
/// ```no_run
/// # async fn run(client: wxpay_core::Client, endpoint: impl wxpay_core::Endpoint) -> Result<(), wxpay_core::Error> {
/// use wxpay_core::{CallOptions, RetryPolicy};
///
/// // Send this one request exactly once, whatever the client's policy.
/// let once = CallOptions::new().retry(RetryPolicy::none());
/// client.send_with(endpoint, &once).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    idempotency: Option<Idempotency>,
}

impl CallOptions {
    /// No overrides: the client's settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The retry policy this call overrides the client's with, if any.
    pub(crate) fn retry_override(&self) -> Option<&RetryPolicy> {
        self.retry.as_ref()
    }

    /// The per-attempt timeout this call overrides the client's with.
    pub(crate) fn timeout_override(&self) -> Option<Duration> {
        self.timeout
    }

    /// The idempotency this call overrides the endpoint's with.
    pub(crate) fn idempotency_override(&self) -> Option<Idempotency> {
        self.idempotency
    }

    /// Retries this call under `policy` instead of the client's
    /// ([`ClientBuilder::retry`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Bounds each attempt of this call by `timeout` instead of the
    /// client's ([`ClientBuilder::timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries this call as `idempotency` says instead of as its endpoint
    /// declares ([`Endpoint::IDEMPOTENCY`]): for instance
    /// [`Idempotency::NotIdempotent`] to send a keyed write again only when
    /// the first attempt provably never left, or a key for a hand-written
    /// endpoint that has one but does not declare it.
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = Some(idempotency);
        self
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The merchant id this client signs for.
    pub fn mchid(&self) -> &str {
        self.inner.signer.mchid()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        routes::display(self.inner.routes.base_url())
    }

    /// Where operations served by `host` go (see
    /// [`ClientBuilder::host_url`]); `None` when the client was built for
    /// another host only ([`ClientBuilder::home_host`]).
    pub fn host_url(&self, host: Host) -> Option<&str> {
        self.route(host).ok().map(routes::display)
    }

    /// The one host this client calls, if it was built for one (see
    /// [`ClientBuilder::home_host`]).
    pub fn home_host(&self) -> Option<Host> {
        self.inner.routes.home_host()
    }

    /// The URL requests to `host` go to, or why there is none.
    pub(crate) fn route(&self, host: Host) -> Result<&Url, BuildError> {
        self.inner.routes.route(host)
    }

    /// Where attempts of a request to `host` fail over to, if anywhere.
    pub(crate) fn backup_for(&self, host: Host) -> Option<&Url> {
        self.inner.routes.backup_for(host)
    }

    /// The base URL attempts fail over to after a network failure, if any
    /// (see [`ClientBuilder::backup_base_url`]).
    pub fn backup_base_url(&self) -> Option<&str> {
        self.inner.routes.backup_url().map(routes::display)
    }

    /// The retry policy of calls that do not override it (see
    /// [`ClientBuilder::retry`]).
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The most bytes of an answer's body this client reads (see
    /// [`ClientBuilder::max_response_bytes`]).
    pub fn max_response_bytes(&self) -> u64 {
        self.inner.max_response_bytes
    }

    /// The keys WeChat Pay's signatures are checked against, as of now (in
    /// certificate mode, downloads replace them).
    pub fn verifier(&self) -> Arc<Verifier> {
        self.inner.keys.snapshot()
    }

    /// The APIv3 key, when one was configured (needed for callbacks and
    /// platform certificate downloads).
    pub fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.apiv3_key.as_ref()
    }

    /// Decrypts a sensitive field of an answer (base64 RSA-OAEP under the
    /// merchant's key, as WeChat Pay encrypts names and numbers it returns).
    ///
    /// # Errors
    /// [`CryptoError`] when the text is not base64 or was not encrypted for
    /// this merchant's key.
    pub fn decrypt_sensitive(
        &self,
        ciphertext_base64: &str,
    ) -> Result<zeroize::Zeroizing<String>, CryptoError> {
        let clear = self.inner.signer.key().decrypt_oaep(ciphertext_base64)?;
        String::from_utf8(clear.to_vec())
            .map(zeroize::Zeroizing::new)
            .map_err(|_| CryptoError::Decrypt {
                algorithm: "RSA-OAEP",
                check: "the decrypted field is not UTF-8 text",
            })
    }

    /// Builds and signs the request for `endpoint` without sending it.
    pub fn prepare<E: Endpoint>(&self, endpoint: &E) -> Result<PreparedRequest, Error> {
        self.prepare_at(endpoint, unix_now(), new_nonce())
    }

    /// [`Client::prepare`] with a fixed timestamp and nonce, for tests and
    /// for reproducing a signature.
    pub fn prepare_at<E: Endpoint>(
        &self,
        endpoint: &E,
        timestamp: i64,
        nonce: String,
    ) -> Result<PreparedRequest, Error> {
        self.prepare_on(endpoint, E::HOST, timestamp, nonce)
    }

    /// [`Client::prepare_at`] for `host` instead of the endpoint's own (the
    /// certificate download goes to the client's home host).
    pub(crate) fn prepare_on<E: Endpoint>(
        &self,
        endpoint: &E,
        host: Host,
        timestamp: i64,
        nonce: String,
    ) -> Result<PreparedRequest, Error> {
        let operation = Operation {
            method: E::METHOD,
            template: E::PATH_TEMPLATE,
        };
        let build = |source| Error::Build { operation, source };
        if nonce.is_empty() || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(build(BuildError::InvalidNonce));
        }

        let mut target = Target::new();
        endpoint.render_target(&mut target).map_err(build)?;
        let target = target.into_string();
        // Sensitive fields are encrypted while the body is serialized; the
        // key used is then announced in `Wechatpay-Serial`.
        let encryptor = self.inner.keys.snapshot().encryptor(timestamp);
        let announced = encryptor.as_ref().map(|e| e.serial().to_owned());
        let (body, encrypted) = encryption::scoped(encryptor, || endpoint.body());
        let body = body.map_err(build)?;
        let url = join(self.route(host).map_err(build)?, &target).map_err(build)?;

        let mut headers = self.inner.common_headers.clone();
        if let Some(content_type) = body.content_type_header() {
            headers.insert(CONTENT_TYPE, content_type);
        }
        if (encrypted || E::WECHATPAY_SERIAL)
            && let Some(serial) = announced
        {
            let serial =
                HeaderValue::try_from(serial).map_err(|_| build(BuildError::InvalidNonce))?;
            headers.insert(WECHATPAY_SERIAL, serial);
        }
        let mut request = PreparedRequest {
            operation,
            target,
            url,
            headers,
            body,
            timestamp,
            nonce,
            idempotency: E::IDEMPOTENCY,
            host,
        };
        request.authorize(&self.inner.signer)?;
        Ok(request)
    }

    /// Signs, sends, verifies and decodes one call, retrying transient
    /// failures under the client's [`RetryPolicy`].
    ///
    /// A 2xx answer must carry a valid WeChat Pay signature (otherwise
    /// [`Error::Verification`]); 4xx/5xx answers become [`Error::Api`].
    /// An answer larger than [`ClientBuilder::max_response_bytes`] (8 MiB by
    /// default) is not read further: [`Error::ResponseTooLarge`], not
    /// retried.
    /// When retries run out, the last attempt's error is returned and
    /// [`Error::attempts`] says how many were made.
    pub async fn send<E: Endpoint>(&self, endpoint: E) -> Result<E::Response, Error> {
        self.send_with(endpoint, &CallOptions::default()).await
    }

    /// [`Client::send`] with this call's own settings, such as another
    /// retry policy.
    pub async fn send_with<E: Endpoint>(
        &self,
        endpoint: E,
        options: &CallOptions,
    ) -> Result<E::Response, Error> {
        self.ensure_certificates().await?;
        let request = self.prepare(&endpoint)?;
        self.send_prepared_with(request, options).await
    }

    /// Sends a request built by [`Client::prepare`] and decodes the answer
    /// as `R`. The first attempt carries the request's own signature;
    /// retries are signed again with a fresh timestamp and nonce.
    pub async fn send_prepared<R: DeserializeOwned>(
        &self,
        request: PreparedRequest,
    ) -> Result<R, Error> {
        self.send_prepared_with(request, &CallOptions::default())
            .await
    }

    /// [`Client::send_prepared`] with this call's own settings.
    pub async fn send_prepared_with<R: DeserializeOwned>(
        &self,
        request: PreparedRequest,
        options: &CallOptions,
    ) -> Result<R, Error> {
        self.call(request, options).await
    }
}

/// Joins `target` to `base` and checks that URL handling leaves it exactly
/// as it will be signed.
fn join(base: &Url, target: &str) -> Result<Url, BuildError> {
    let mut url = base.clone();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    url.set_path(path);
    url.set_query(query);
    let sent = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    if sent != target {
        return Err(BuildError::TargetAltered {
            target: target.to_owned(),
            sent,
        });
    }
    Ok(url)
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.inner.signer.mchid())
            .field("merchant_serial", &self.inner.signer.serial_no())
            .field("base_url", &self.base_url())
            .field("backup_base_url", &self.backup_base_url())
            .field("home_host", &self.home_host())
            .field("verifier", &self.inner.keys.snapshot())
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field("bill_limits", &self.inner.bill_limits)
            .field("allow_insecure_http", &self.inner.allow_insecure_http)
            .finish_non_exhaustive()
    }
}
