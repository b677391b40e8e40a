//! [`V2Client`]: one merchant's APIv2 credentials (the APIv2 key and, for
//! secapi and fund operations, the API client certificate) and the
//! sign → send → check → decode pipeline of APIv2, with the same retry
//! rules as APIv3 calls.
//!
//! APIv2 has a client of its own because its credentials are not APIv3's:
//! a merchant whose integration predates APIv3 has an APIv2 key and no
//! APIv3 merchant key, and a merchant using both builds both clients.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use reqwest::Url;
use tracing::Instrument;
use tracing::field::Empty;
use zeroize::Zeroizing;

use super::{ClientIdentity, Fields, SignType, Signing, V2Endpoint, V2Error, V2Key, decode_answer};
use crate::client::{CallOptions, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT};
use crate::endpoint::{Idempotency, Method};
use crate::error::{ConfigError, Error, Operation};
use crate::host::Host;
use crate::retry::{Attempts, RetryPolicy};
use crate::routes::{self, Backup, RouteSettings, Routes};
use crate::target::BuildError;

/// A WeChat Pay APIv2 client for one merchant.
///
/// Cheap to clone (an `Arc` inside) and safe to share across tasks.
///
/// ```no_run
/// # async fn run() -> Result<(), wxpay_core::Error> {
/// use wxpay_core::v2::V2Client;
///
/// let client = V2Client::builder()
///     .mchid("1900009191")
///     .key_file("apiv2_key.txt")
///     // Needed only by secapi and fund operations (refunds, red packets, …).
///     .client_certificate_pkcs12_file("apiclient_cert.p12", "1900009191")
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct V2Client {
    inner: Arc<Inner>,
}

struct Inner {
    mchid: String,
    key: V2Key,
    preferred: SignType,
    /// Requests without the client certificate.
    http: reqwest::Client,
    /// Requests with it, when one was configured.
    http_with_identity: Option<reqwest::Client>,
    /// Every host's URL, the home host and the backup URL.
    routes: Routes,
    timeout: Duration,
    retry: RetryPolicy,
    max_response_bytes: u64,
}

/// The operation template of raw APIv2 requests in errors and traces (the
/// path itself may carry nothing personal, but it is not a constant).
pub const RAW_V2_TEMPLATE: &str = "{v2 path}";

/// How an operation known only at run time is signed and sent (see
/// [`V2Client::prepare_raw`]): what [`V2Endpoint`]'s constants say for a
/// declared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawV2Settings {
    /// Which sign types the operation accepts.
    pub signing: Signing,
    /// Whether it needs the API client certificate.
    pub client_cert: bool,
    /// The member the client fills with its merchant id, if any.
    pub merchant_field: Option<&'static str>,
    /// Whether WeChat Pay signs its answer.
    pub signed_answer: bool,
    /// The host that serves it.
    pub host: Host,
    /// Whether it may be sent again after it may have arrived.
    pub idempotency: Idempotency,
}

impl Default for RawV2Settings {
    /// MD5 only, no certificate, `mch_id` filled in, a signed answer, the
    /// API host, not idempotent: the most common shape, and the cautious
    /// one.
    fn default() -> Self {
        RawV2Settings {
            signing: Signing::Md5Only,
            client_cert: false,
            merchant_field: Some("mch_id"),
            signed_answer: true,
            host: Host::Api,
            idempotency: Idempotency::NotIdempotent,
        }
    }
}

/// A signed APIv2 request, ready to send (see [`V2Client::prepare`]).
#[derive(Clone)]
pub struct V2Request {
    operation: Operation,
    url: Url,
    /// The XML body (`POST`), or `None` when the signed fields travel in
    /// the query string (`GET`).
    body: Option<bytes::Bytes>,
    sign_type: SignType,
    host: Host,
    client_cert: bool,
    signed_answer: bool,
    idempotency: Idempotency,
}

impl V2Request {
    /// The operation it is for.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The URL it goes to (for `GET`, with the signed query string).
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The XML body, exactly as signed (`None` for `GET`).
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// The sign type it was signed with; the answer is checked with it.
    pub fn sign_type(&self) -> SignType {
        self.sign_type
    }
}

impl fmt::Debug for V2Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body and query carry order numbers and possibly personal
        // data: only their sizes are shown.
        f.debug_struct("V2Request")
            .field("operation", &self.operation)
            .field("host", &self.host)
            .field("body_bytes", &self.body.as_ref().map(bytes::Bytes::len))
            .field("sign_type", &self.sign_type)
            .field("client_cert", &self.client_cert)
            .finish_non_exhaustive()
    }
}

impl V2Client {
    /// Starts configuring a client.
    pub fn builder() -> V2ClientBuilder {
        V2ClientBuilder::default()
    }

    /// The merchant id this client signs for.
    pub fn mchid(&self) -> &str {
        &self.inner.mchid
    }

    /// The sign type used where an operation accepts either.
    pub fn preferred_sign_type(&self) -> SignType {
        self.inner.preferred
    }

    /// Whether an API client certificate is configured (secapi and fund
    /// operations need one).
    pub fn has_client_certificate(&self) -> bool {
        self.inner.http_with_identity.is_some()
    }

    /// Where operations served by `host` go; `None` when the client was
    /// built for another host only.
    pub fn host_url(&self, host: Host) -> Option<&str> {
        self.route(host).ok().map(routes::display)
    }

    fn route(&self, host: Host) -> Result<&Url, BuildError> {
        self.inner.routes.route(host)
    }

    /// Builds and signs the request for `endpoint` without sending it.
    ///
    /// # Errors
    /// [`Error::Build`] when the fields cannot be serialized or the
    /// operation's host is not served; [`Error::V2`] with
    /// [`V2Error::ClientCertificateRequired`] when the operation needs the
    /// API client certificate and none is configured.
    pub fn prepare<E: V2Endpoint>(&self, endpoint: &E) -> Result<V2Request, Error> {
        let operation = Operation {
            method: E::METHOD,
            template: E::PATH,
        };
        let settings = RawV2Settings {
            signing: E::SIGNING,
            client_cert: E::CLIENT_CERT,
            merchant_field: E::MERCHANT_FIELD,
            signed_answer: E::SIGNED_ANSWER,
            host: E::HOST,
            idempotency: E::IDEMPOTENCY,
        };
        self.check_certificate(operation, &settings)?;
        let fields = endpoint
            .fields()
            .map_err(|source| Error::Build { operation, source })?;
        self.sign_parts(operation, E::PATH, fields, &settings)
    }

    /// Builds and signs a request for an operation known only at run time
    /// (the `wxpay v2` command): `path` such as `/pay/orderquery`, the
    /// operation's own `fields`, and how it is signed and sent.
    ///
    /// # Errors
    /// As [`V2Client::prepare`]; also [`Error::Build`] when `path` is not
    /// a plain path (it must start with `/` and hold no query or fragment).
    pub fn prepare_raw(
        &self,
        method: Method,
        path: &str,
        fields: Fields,
        settings: &RawV2Settings,
    ) -> Result<V2Request, Error> {
        let operation = Operation {
            method,
            template: RAW_V2_TEMPLATE,
        };
        self.check_certificate(operation, settings)?;
        self.sign_parts(operation, path, fields, settings)
    }

    /// Refuses, before anything is built, an operation that needs the
    /// client certificate when none is configured.
    fn check_certificate(
        &self,
        operation: Operation,
        settings: &RawV2Settings,
    ) -> Result<(), Error> {
        if settings.client_cert && self.inner.http_with_identity.is_none() {
            return Err(Error::V2 {
                operation,
                source: V2Error::ClientCertificateRequired {
                    path: operation.template,
                },
            });
        }
        Ok(())
    }

    fn sign_parts(
        &self,
        operation: Operation,
        path: &str,
        fields: Fields,
        settings: &RawV2Settings,
    ) -> Result<V2Request, Error> {
        let build = |source| Error::Build { operation, source };
        let base = self.route(settings.host).map_err(build)?;
        let merchant = settings
            .merchant_field
            .map(|name| (name, self.inner.mchid.as_str()));
        let mut url = base.clone();
        url.set_path(path);
        if !path.starts_with('/') || url.path() != path || path.contains(['?', '#']) {
            return Err(build(BuildError::TargetAltered {
                target: path.to_owned(),
                sent: url.path().to_owned(),
            }));
        }
        let (fields, sign_type) = super::sign::complete_and_sign(
            fields,
            merchant,
            &self.inner.key,
            settings.signing,
            self.inner.preferred,
        );
        let body = match operation.method {
            // A signed link: the fields travel in the query string.
            Method::Get => {
                url.query_pairs_mut().extend_pairs(fields.iter());
                None
            }
            _ => Some(bytes::Bytes::from(fields.to_xml())),
        };
        Ok(V2Request {
            operation,
            url,
            body,
            sign_type,
            host: settings.host,
            client_cert: settings.client_cert,
            signed_answer: settings.signed_answer,
            idempotency: settings.idempotency,
        })
    }

    /// Signs, sends, checks and decodes one APIv2 call, retrying transient
    /// failures under the client's [`RetryPolicy`] as far as the
    /// operation's [`Idempotency`] allows.
    ///
    /// # Errors
    /// [`Error::V2`] when WeChat Pay refused the request (`return_code`
    /// `FAIL`), the operation failed (`result_code` `FAIL`, with its
    /// `err_code`), or the answer's signature is missing or wrong;
    /// [`Error::Transport`] / [`Error::Timeout`] when no answer came.
    pub async fn send<E: V2Endpoint>(&self, endpoint: E) -> Result<E::Response, Error> {
        self.send_with(endpoint, &CallOptions::default()).await
    }

    /// [`V2Client::send`] with per-call overrides.
    pub async fn send_with<E: V2Endpoint>(
        &self,
        endpoint: E,
        options: &CallOptions,
    ) -> Result<E::Response, Error> {
        let request = self.prepare(&endpoint)?;
        let span = tracing::info_span!(
            "wxpay.v2.call",
            method = request.operation.method.as_str(),
            path = request.operation.template,
            attempts = Empty,
        );
        let body = self
            .send_prepared(&request, options, &span)
            .instrument(span.clone())
            .await?;
        decode_answer::<E::Response>(
            &body,
            &self.inner.key,
            request.sign_type,
            request.signed_answer,
        )
        .map_err(|source| Error::V2 {
            operation: request.operation,
            source,
        })
    }

    /// Sends a request from [`V2Client::prepare_raw`] and returns the
    /// answer's checked fields: [`V2Client::send_prepared_fields`].
    pub async fn send_raw(
        &self,
        request: &V2Request,
        options: &CallOptions,
    ) -> Result<Fields, Error> {
        self.send_prepared_fields(request, options).await
    }

    /// Sends a prepared request and returns the answer's checked fields
    /// (`return_code`, the signature where the operation signs its answers,
    /// and `result_code`), without decoding them into a type.
    pub async fn send_prepared_fields(
        &self,
        request: &V2Request,
        options: &CallOptions,
    ) -> Result<Fields, Error> {
        let span = tracing::info_span!(
            "wxpay.v2.call",
            method = request.operation.method.as_str(),
            path = request.operation.template,
            attempts = Empty,
        );
        let body = self
            .send_prepared(request, options, &span)
            .instrument(span.clone())
            .await?;
        super::answer_fields(
            &body,
            &self.inner.key,
            request.sign_type,
            request.signed_answer,
        )
        .map_err(|source| Error::V2 {
            operation: request.operation,
            source,
        })
    }

    /// The attempts of one request; the body of the first answer.
    async fn send_prepared(
        &self,
        request: &V2Request,
        options: &CallOptions,
        span: &tracing::Span,
    ) -> Result<bytes::Bytes, Error> {
        let policy = options.retry_override().unwrap_or(&self.inner.retry);
        let timeout = options.timeout_override().unwrap_or(self.inner.timeout);
        let idempotency = options
            .idempotency_override()
            .unwrap_or(request.idempotency);
        let backup = self.inner.routes.backup_for(request.host);
        let mut attempts = Attempts::start(policy, backup, idempotency);
        loop {
            span.record("attempts", attempts.number());
            let mut url = request.url.clone();
            if let Some(base) = attempts.base() {
                // Same path and query on the backup host.
                let _ = url.set_host(base.host_str());
                let _ = url.set_scheme(base.scheme());
                let _ = url.set_port(base.port());
            }
            match self.transmit(request, url, timeout).await {
                Ok(body) => return Ok(body),
                Err(error) => attempts.after_failure(error).await?,
            }
        }
    }

    async fn transmit(
        &self,
        request: &V2Request,
        url: Url,
        timeout: Duration,
    ) -> Result<bytes::Bytes, Error> {
        let operation = request.operation;
        let http = match (request.client_cert, &self.inner.http_with_identity) {
            (true, Some(http)) => http,
            (true, None) => {
                return Err(Error::V2 {
                    operation,
                    source: V2Error::ClientCertificateRequired {
                        path: operation.template,
                    },
                });
            }
            (false, _) => &self.inner.http,
        };
        let mut http_request = reqwest::Request::new(operation.method.into(), url);
        *http_request.timeout_mut() = Some(timeout);
        if let Some(body) = &request.body {
            http_request.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            *http_request.body_mut() = Some(reqwest::Body::from(body.clone()));
        }
        let answer = crate::client::send::exchange(
            http,
            http_request,
            operation,
            timeout,
            self.inner.max_response_bytes,
        )
        .await?;
        if !answer.status.is_success() {
            // APIv2 answers errors with 200 and `return_code` FAIL; another
            // status comes from something in front of WeChat Pay.
            return Err(Error::V2 {
                operation,
                source: V2Error::Status {
                    status: answer.status,
                },
            });
        }
        Ok(answer.body)
    }
}

impl fmt::Debug for V2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2Client")
            .field("mchid", &self.inner.mchid)
            .field("key", &self.inner.key)
            .field("preferred_sign_type", &self.inner.preferred)
            .field("client_certificate", &self.has_client_certificate())
            .field("home_host", &self.inner.routes.home_host())
            .finish_non_exhaustive()
    }
}

/// Where the API client certificate comes from.
enum IdentitySource {
    Loaded(ClientIdentity),
    Pkcs12File(PathBuf, Zeroizing<String>),
    PemFiles(PathBuf, PathBuf),
}

/// Configures a [`V2Client`]; [`V2ClientBuilder::build`] checks every
/// setting and lists every problem at once.
#[derive(Default)]
pub struct V2ClientBuilder {
    mchid: Option<String>,
    key: Option<Zeroizing<String>>,
    key_file: Option<PathBuf>,
    preferred: Option<SignType>,
    identity: Option<IdentitySource>,
    root_certificates: Vec<Vec<u8>>,
    base_url: Option<String>,
    host_urls: Vec<(Host, String)>,
    home_host: Option<Host>,
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    user_agent: Option<String>,
    max_response_bytes: Option<u64>,
    allow_insecure_http: bool,
}

impl V2ClientBuilder {
    /// The merchant id (digits).
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = Some(mchid.into());
        self
    }

    /// The APIv2 key (32 characters, set on the merchant platform under
    /// Account Center > API Security; not the APIv3 key).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(Zeroizing::new(key.into()));
        self
    }

    /// [`V2ClientBuilder::key`] read from a file (surrounding whitespace
    /// is ignored).
    pub fn key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.key_file = Some(path.into());
        self
    }

    /// The sign type used where an operation accepts either (default
    /// HMAC-SHA256). Operations that accept one type use it whatever this
    /// says.
    pub fn sign_type(mut self, sign_type: SignType) -> Self {
        self.preferred = Some(sign_type);
        self
    }

    /// The API client certificate, already loaded.
    pub fn client_identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(IdentitySource::Loaded(identity));
        self
    }

    /// The API client certificate from `apiclient_cert.p12`; WeChat Pay
    /// sets its password to the merchant id.
    pub fn client_certificate_pkcs12_file(
        mut self,
        path: impl Into<PathBuf>,
        password: impl Into<String>,
    ) -> Self {
        self.identity = Some(IdentitySource::Pkcs12File(
            path.into(),
            Zeroizing::new(password.into()),
        ));
        self
    }

    /// The API client certificate from `apiclient_cert.pem` and
    /// `apiclient_key.pem`.
    pub fn client_certificate_pem_files(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.identity = Some(IdentitySource::PemFiles(certificate.into(), key.into()));
        self
    }

    /// Trusts this CA certificate (PEM) for TLS besides the system's, **for
    /// test rigs** such as the local sandbox's APIv2 TLS port.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Where requests go (default `https://api.mch.weixin.qq.com`), with
    /// the same rules as [`ClientBuilder::base_url`](crate::ClientBuilder::base_url):
    /// a base URL elsewhere than WeChat Pay takes every host's operations.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Where operations served by `host` go (see
    /// [`ClientBuilder::host_url`](crate::ClientBuilder::host_url)).
    pub fn host_url(mut self, host: Host, url: impl Into<String>) -> Self {
        self.host_urls.push((host, url.into()));
        self
    }

    /// Builds the client for one host only (see
    /// [`ClientBuilder::home_host`](crate::ClientBuilder::home_host)).
    pub fn home_host(mut self, host: Host) -> Self {
        self.home_host = Some(host);
        self
    }

    /// The timeout of one attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How calls are retried (default: [`RetryPolicy::default`] against
    /// WeChat Pay, [`RetryPolicy::none`] elsewhere).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The `User-Agent` header (default `wxpay-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The most bytes of an answer the client reads (default 8 MiB).
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Allows plain `http://` to hosts other than this machine, for test
    /// rigs only (see
    /// [`ClientBuilder::allow_insecure_http`](crate::ClientBuilder::allow_insecure_http)).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Checks every setting, loads the key and the certificate, and builds
    /// the client.
    pub fn build(self) -> Result<V2Client, Error> {
        let mut problems = Vec::new();
        let mchid = match self.mchid {
            Some(mchid) if !mchid.is_empty() && mchid.bytes().all(|b| b.is_ascii_digit()) => mchid,
            Some(_) => {
                problems.push("mchid is not a merchant id: it must be digits only".to_owned());
                String::new()
            }
            None => {
                problems.push("mchid is not set: call .mchid(\"<your merchant id>\")".to_owned());
                String::new()
            }
        };
        let key_text = match (self.key, &self.key_file) {
            (Some(key), None) => Some(key),
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(text) => Some(Zeroizing::new(text.trim().to_owned())),
                Err(error) => {
                    problems.push(format!(
                        "APIv2 key file {}: {}",
                        path.display(),
                        crate::error::Report::new(&error)
                    ));
                    None
                }
            },
            (Some(_), Some(_)) => {
                problems
                    .push("the APIv2 key is given twice (.key and .key_file): keep one".to_owned());
                None
            }
            (None, None) => {
                problems.push(
                    "the APIv2 key is not set: call .key_file(<path>) or .key(\"<32 characters>\")"
                        .to_owned(),
                );
                None
            }
        };
        let key = key_text.and_then(|text| match V2Key::new(text.as_str()) {
            Ok(key) => Some(key),
            Err(error) => {
                problems.push(format!("APIv2 key: {}", crate::error::Report::new(&error)));
                None
            }
        });
        let identity = match self.identity {
            None => None,
            Some(IdentitySource::Loaded(identity)) => Some(identity),
            Some(IdentitySource::Pkcs12File(path, password)) => match std::fs::read(&path) {
                Ok(der) => match ClientIdentity::from_pkcs12(&der, &password) {
                    Ok(identity) => Some(identity),
                    Err(error) => {
                        problems.push(format!(
                            "API client certificate {}: {error}",
                            path.display()
                        ));
                        None
                    }
                },
                Err(error) => {
                    problems.push(format!(
                        "API client certificate {}: {error}",
                        path.display()
                    ));
                    None
                }
            },
            Some(IdentitySource::PemFiles(certificate, key)) => {
                match (
                    std::fs::read(&certificate),
                    std::fs::read(&key).map(Zeroizing::new),
                ) {
                    (Ok(certificate_pem), Ok(key_pem)) => {
                        match ClientIdentity::from_pem(&certificate_pem, &key_pem) {
                            Ok(identity) => Some(identity),
                            Err(error) => {
                                problems.push(format!(
                                    "API client certificate: {}",
                                    crate::error::Report::new(&error)
                                ));
                                None
                            }
                        }
                    }
                    (Err(error), _) => {
                        problems.push(format!(
                            "API client certificate {}: {error}",
                            certificate.display()
                        ));
                        None
                    }
                    (_, Err(error)) => {
                        problems.push(format!(
                            "API client key {}: {}",
                            key.display(),
                            crate::error::Report::new(&error)
                        ));
                        None
                    }
                }
            }
        };

        // APIv2 fails over to the backup domain as APIv3 does, by default.
        let routes = Routes::resolve(
            &RouteSettings {
                base_url: self.base_url.as_deref(),
                host_urls: &self.host_urls,
                home_host: self.home_host,
                backup: &Backup::Default,
                allow_insecure_http: self.allow_insecure_http,
            },
            &mut problems,
        );
        let retry = self.retry.unwrap_or_else(|| {
            if routes.as_ref().is_some_and(Routes::on_wechatpay) {
                RetryPolicy::default()
            } else {
                RetryPolicy::none()
            }
        });
        let max_response_bytes = self
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        if max_response_bytes == 0 {
            problems.push("the answer size limit must be at least 1 byte".to_owned());
        }
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| format!("wxpay-rust/{}", env!("CARGO_PKG_VERSION")));
        let user_agent = match HeaderValue::try_from(user_agent) {
            Ok(value) => Some(value),
            Err(_) => {
                problems.push("the user agent is not valid header text".to_owned());
                None
            }
        };
        let mut roots = Vec::new();
        for pem in &self.root_certificates {
            match reqwest::Certificate::from_pem(pem) {
                Ok(certificate) => roots.push(certificate),
                Err(error) => problems.push(format!(
                    "root certificate: {}",
                    crate::error::Report::new(&error)
                )),
            }
        }

        let (Some(key), Some(user_agent), Some(routes), true) =
            (key, user_agent, routes, problems.is_empty())
        else {
            return Err(ConfigError::Invalid(problems).into());
        };
        let http_client = |identity: Option<&ClientIdentity>| -> Result<reqwest::Client, Error> {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                ACCEPT,
                HeaderValue::from_static("application/xml, text/xml"),
            );
            headers.insert(USER_AGENT, user_agent.clone());
            let mut builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .default_headers(headers);
            for root in &roots {
                builder = builder.add_root_certificate(root.clone());
            }
            if let Some(identity) = identity {
                let identity = identity.reqwest_identity().map_err(|error| {
                    ConfigError::Invalid(vec![format!("API client certificate: {error}")])
                })?;
                builder = builder.identity(identity);
            }
            builder
                .build()
                .map_err(|error| ConfigError::Http(error).into())
        };
        let http = http_client(None)?;
        let http_with_identity = match &identity {
            Some(identity) => Some(http_client(Some(identity))?),
            None => None,
        };
        Ok(V2Client {
            inner: Arc::new(Inner {
                mchid,
                key,
                preferred: self.preferred.unwrap_or(SignType::HmacSha256),
                http,
                http_with_identity,
                routes,
                timeout,
                retry,
                max_response_bytes,
            }),
        })
    }
}

impl fmt::Debug for V2ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2ClientBuilder")
            .field("mchid", &self.mchid)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("key_file", &self.key_file)
            .field("client_certificate", &self.identity.is_some())
            .field("base_url", &self.base_url)
            .field("host_urls", &self.host_urls)
            .field("home_host", &self.home_host)
            .finish_non_exhaustive()
    }
}
