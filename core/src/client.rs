//! The client: one merchant's credentials, a connection pool, and the
//! sign → send → verify → decode pipeline.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http::{HeaderMap, StatusCode};
use reqwest::Url;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::crypto::CryptoBackend;
use crate::endpoint::{Body, Endpoint};
use crate::error::{ApiError, ConfigError, Error, Operation};
use crate::keys::{ApiV3Key, MerchantKey, PlatformCertificate, VerifyingKey};
use crate::request::PreparedRequest;
use crate::signing::{RequestSigner, new_nonce, unix_now};
use crate::target::{BuildError, Target};
use crate::verification::{SignatureHeaders, Verifier, header};

/// WeChat Pay's production API host.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// The default timeout of one call, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
    base_url: Url,
    signer: RequestSigner,
    verifier: Verifier,
    timeout: Duration,
    apiv3_key: Option<ApiV3Key>,
    /// Headers every request carries: `Accept`, `User-Agent`, and the
    /// `Wechatpay-Serial` of the public key in public-key mode.
    common_headers: HeaderMap,
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
        self.inner.base_url.as_str().trim_end_matches('/')
    }

    /// The keys WeChat Pay's signatures are checked against.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The APIv3 key, when one was configured (needed for callbacks and
    /// platform certificate downloads).
    pub fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.apiv3_key.as_ref()
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
        let body = endpoint.body().map_err(build)?;
        let url = self.url_for(&target).map_err(build)?;

        let authorization = self
            .inner
            .signer
            .authorization(E::METHOD, &target, body.as_bytes(), timestamp, &nonce)
            .map_err(|source| Error::Sign { operation, source })?;
        let mut headers = self.inner.common_headers.clone();
        // Every part is checked or produced as ASCII above, so this only
        // fails on a bug; report it rather than panic.
        let authorization =
            HeaderValue::try_from(authorization).map_err(|_| build(BuildError::InvalidNonce))?;
        headers.insert(AUTHORIZATION, authorization);
        if let Some(content_type) = body.content_type() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        Ok(PreparedRequest {
            operation,
            target,
            url,
            headers,
            body,
            timestamp,
            nonce,
        })
    }

    /// Joins `target` to the base URL and checks that URL handling leaves it
    /// exactly as it will be signed.
    fn url_for(&self, target: &str) -> Result<Url, BuildError> {
        let mut url = self.inner.base_url.clone();
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

    /// Signs, sends, verifies and decodes one call.
    ///
    /// A 2xx answer must carry a valid WeChat Pay signature (otherwise
    /// [`Error::Verification`]); 4xx/5xx answers become [`Error::Api`].
    pub async fn send<E: Endpoint>(&self, endpoint: E) -> Result<E::Response, Error> {
        let request = self.prepare(&endpoint)?;
        self.send_prepared(request).await
    }

    /// Sends a request built by [`Client::prepare`] and decodes the answer
    /// as `R`.
    pub async fn send_prepared<R: DeserializeOwned>(
        &self,
        request: PreparedRequest,
    ) -> Result<R, Error> {
        let operation = request.operation;
        let answer = self.transmit(request).await?;
        answer.into_result(operation, &self.inner.verifier, unix_now())
    }

    async fn transmit(&self, request: PreparedRequest) -> Result<Answer, Error> {
        let operation = request.operation;
        let transport = |source: reqwest::Error| {
            if source.is_timeout() {
                Error::Timeout {
                    operation,
                    after: self.inner.timeout,
                }
            } else {
                Error::Transport { operation, source }
            }
        };
        let mut http_request = reqwest::Request::new(operation.method.into(), request.url);
        *http_request.headers_mut() = request.headers;
        *http_request.timeout_mut() = Some(self.inner.timeout);
        if let Body::Json(bytes) = request.body {
            *http_request.body_mut() = Some(reqwest::Body::from(bytes));
        }
        let response = self
            .inner
            .http
            .execute(http_request)
            .await
            .map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// An answer as received, before any check.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn request_id(&self) -> Option<String> {
        self.headers
            .get(header::REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    fn into_result<R: DeserializeOwned>(
        self,
        operation: Operation,
        verifier: &Verifier,
        now: i64,
    ) -> Result<R, Error> {
        let status = self.status.as_u16();
        if !self.status.is_success() {
            return Err(self.into_api_error(operation, verifier, now));
        }
        verifier
            .verify(&self.headers, &self.body, now)
            .map_err(|source| Error::Verification {
                operation,
                status,
                request_id: self.request_id(),
                source,
            })?;
        let json: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let decoded = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| (error.path().to_string(), error.into_inner()))
            .and_then(|value| {
                deserializer
                    .end()
                    .map_err(|error| (".".to_owned(), error))?;
                Ok(value)
            });
        decoded.map_err(|(path, source)| Error::Decode {
            operation,
            status,
            request_id: self.request_id(),
            path,
            source,
            body: self.body.clone(),
        })
    }

    fn into_api_error(self, operation: Operation, verifier: &Verifier, now: i64) -> Error {
        #[derive(serde::Deserialize)]
        struct Shape {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default)]
            detail: Option<serde_json::Value>,
        }
        let authenticated = SignatureHeaders::any_present(&self.headers)
            && verifier.verify(&self.headers, &self.body, now).is_ok();
        let shape = serde_json::from_slice::<Shape>(&self.body).unwrap_or_else(|_| Shape {
            code: String::new(),
            message: String::from_utf8_lossy(&self.body)
                .chars()
                .take(512)
                .collect(),
            detail: None,
        });
        Error::Api(Box::new(ApiError {
            operation,
            status: self.status.as_u16(),
            code: shape.code,
            message: shape.message,
            detail: shape.detail.filter(|d| !d.is_null()),
            request_id: self.request_id(),
            authenticated,
            body: self.body,
        }))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("mchid", &self.inner.signer.mchid())
            .field("merchant_serial", &self.inner.signer.serial_no())
            .field("base_url", &self.base_url())
            .field("verifier", &self.inner.verifier)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Where a key comes from, loaded when the client is built so that every
/// problem is reported together.
#[derive(Clone)]
enum Source<K> {
    Loaded(K),
    Pem(String),
    File(PathBuf),
}

impl<K> Source<K> {
    /// Loads the key, reading the file first where there is one. The error
    /// text names the file, never its contents.
    fn load<E: fmt::Display>(self, parse: impl FnOnce(&str) -> Result<K, E>) -> Result<K, String> {
        match self {
            Source::Loaded(key) => Ok(key),
            Source::Pem(pem) => {
                let pem = Zeroizing::new(pem);
                parse(&pem).map_err(|error| error.to_string())
            }
            Source::File(path) => {
                let pem = std::fs::read_to_string(&path)
                    .map(Zeroizing::new)
                    .map_err(|error| {
                        format!(
                            "cannot read `{}`: {error}; check the path and its permissions",
                            path.display()
                        )
                    })?;
                parse(&pem).map_err(|error| format!("`{}`: {error}", path.display()))
            }
        }
    }
}

/// Configures a [`Client`]. Every setting is checked by
/// [`ClientBuilder::build`], which lists every problem at once.
#[derive(Default)]
pub struct ClientBuilder {
    mchid: Option<String>,
    merchant: Option<(String, Source<MerchantKey>)>,
    public_keys: Vec<(String, Source<VerifyingKey>)>,
    certificates: Vec<Source<PlatformCertificate>>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    backend: Option<CryptoBackend>,
    http: Option<reqwest::Client>,
    apiv3_key: Option<Zeroizing<String>>,
}

impl ClientBuilder {
    /// The merchant id (digits).
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = Some(mchid.into());
        self
    }

    /// The merchant API certificate's serial and its private key.
    pub fn merchant_key(mut self, serial: impl Into<String>, key: MerchantKey) -> Self {
        self.merchant = Some((serial.into(), Source::Loaded(key)));
        self
    }

    /// The merchant API certificate's serial and its private key as PEM
    /// text (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
    pub fn merchant_key_pem(mut self, serial: impl Into<String>, pem: impl Into<String>) -> Self {
        self.merchant = Some((serial.into(), Source::Pem(pem.into())));
        self
    }

    /// The merchant API certificate's serial and the path of its private
    /// key file (`apiclient_key.pem`).
    pub fn merchant_key_file(
        mut self,
        serial: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        self.merchant = Some((serial.into(), Source::File(path.into())));
        self
    }

    /// A WeChat Pay public key and its id (`PUB_KEY_ID_…`). In public-key
    /// mode every request also carries `Wechatpay-Serial: <id>`.
    pub fn wechatpay_public_key(mut self, id: impl Into<String>, key: VerifyingKey) -> Self {
        self.public_keys.push((id.into(), Source::Loaded(key)));
        self
    }

    /// [`ClientBuilder::wechatpay_public_key`] from PEM text (`PUBLIC KEY`).
    pub fn wechatpay_public_key_pem(
        mut self,
        id: impl Into<String>,
        pem: impl Into<String>,
    ) -> Self {
        self.public_keys.push((id.into(), Source::Pem(pem.into())));
        self
    }

    /// [`ClientBuilder::wechatpay_public_key`] from a PEM file (`pub_key.pem`).
    pub fn wechatpay_public_key_file(
        mut self,
        id: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        self.public_keys
            .push((id.into(), Source::File(path.into())));
        self
    }

    /// A platform certificate (certificate mode); its serial is read from it.
    pub fn platform_certificate(mut self, certificate: PlatformCertificate) -> Self {
        self.certificates.push(Source::Loaded(certificate));
        self
    }

    /// [`ClientBuilder::platform_certificate`] from PEM text.
    pub fn platform_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.certificates.push(Source::Pem(pem.into()));
        self
    }

    /// [`ClientBuilder::platform_certificate`] from a PEM file.
    pub fn platform_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.certificates.push(Source::File(path.into()));
        self
    }

    /// The APIv3 key (32 characters, set on the merchant platform): it
    /// decrypts callbacks and downloaded platform certificates.
    pub fn apiv3_key(mut self, key: impl Into<String>) -> Self {
        self.apiv3_key = Some(Zeroizing::new(key.into()));
        self
    }

    /// Where requests go (default [`PRODUCTION_BASE_URL`]): scheme, host and
    /// port only, such as a sandbox's `http://127.0.0.1:8080`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The timeout of one call (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (default `wxpay-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The crypto backend keys given as PEM text or files are loaded with
    /// (default [`CryptoBackend::default`]).
    pub fn crypto_backend(mut self, backend: CryptoBackend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Uses this HTTP client (to share a connection pool or set proxies).
    /// It should not follow redirects: a redirected answer is not the one
    /// that was signed for.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Checks every setting, loads the keys and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let backend = self.backend.unwrap_or_default();
        let mut problems = Vec::new();

        let mchid = match self.mchid {
            Some(mchid) if !mchid.is_empty() && mchid.bytes().all(|b| b.is_ascii_digit()) => mchid,
            Some(mchid) => {
                problems.push(format!(
                    "mchid `{mchid}` is not a merchant id: it must be digits only"
                ));
                String::new()
            }
            None => {
                problems.push("mchid is not set: call .mchid(\"<your merchant id>\")".to_owned());
                String::new()
            }
        };

        let merchant = match self.merchant {
            None => {
                problems.push(
                    "the merchant key is not set: call .merchant_key_file(<certificate serial>, <path of apiclient_key.pem>)".to_owned(),
                );
                None
            }
            Some((serial, source)) => {
                if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
                    problems.push(format!(
                        "merchant certificate serial `{serial}` is not hexadecimal: copy it from the merchant platform's API certificate page"
                    ));
                }
                let key = source.load(|pem| MerchantKey::from_pem_with(pem, backend));
                match key {
                    Ok(key) => Some((serial, key)),
                    Err(error) => {
                        problems.push(format!("merchant private key: {error}"));
                        None
                    }
                }
            }
        };

        let mut verifier = Verifier::new();
        let mut public_key_id = None;
        for (id, source) in self.public_keys {
            if !id.starts_with("PUB_KEY_ID_") {
                problems.push(format!(
                    "WeChat Pay public key id `{id}` does not start with PUB_KEY_ID_: copy the id shown next to the key on the merchant platform"
                ));
            }
            let key = source.load(|pem| VerifyingKey::from_public_key_pem_with(pem, backend));
            match key {
                Ok(key) => {
                    public_key_id.get_or_insert_with(|| id.clone());
                    verifier.add_public_key(id, key);
                }
                Err(error) => problems.push(format!("WeChat Pay public key `{id}`: {error}")),
            }
        }
        for source in self.certificates {
            let certificate = source.load(|pem| PlatformCertificate::from_pem_with(pem, backend));
            match certificate {
                Ok(certificate) => verifier.add_certificate(&certificate),
                Err(error) => problems.push(format!("platform certificate: {error}")),
            }
        }
        if verifier.is_empty() && problems.is_empty() {
            problems.push(
                "no key to verify WeChat Pay's signatures: call .wechatpay_public_key_file(\"PUB_KEY_ID_…\", <path>) or .platform_certificate_file(<path>)".to_owned(),
            );
        }

        let apiv3_key = match self
            .apiv3_key
            .as_deref()
            .map(|key| ApiV3Key::new(key.as_bytes()))
        {
            None => None,
            Some(Ok(key)) => Some(key.with_backend(backend)),
            Some(Err(error)) => {
                problems.push(format!("APIv3 key: {error}"));
                None
            }
        };

        let base_url = self.base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL);
        let base_url = match Url::parse(base_url) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.path() == "/"
                    && url.query().is_none()
                    && url.fragment().is_none() =>
            {
                Some(url)
            }
            Ok(_) => {
                problems.push(format!(
                    "base URL `{base_url}` must be scheme, host and port only (like https://api.mch.weixin.qq.com): a path prefix would not be covered by the signature"
                ));
                None
            }
            Err(error) => {
                problems.push(format!("base URL `{base_url}` is not a URL: {error}"));
                None
            }
        };

        let user_agent = self
            .user_agent
            .unwrap_or_else(|| format!("wxpay-rust/{}", env!("CARGO_PKG_VERSION")));
        let mut common_headers = HeaderMap::new();
        common_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        match HeaderValue::try_from(user_agent.as_str()) {
            Ok(value) => {
                common_headers.insert(USER_AGENT, value);
            }
            Err(_) => problems.push(format!(
                "user agent `{user_agent}` is not valid header text"
            )),
        }
        if let Some(id) = &public_key_id {
            match HeaderValue::try_from(id.as_str()) {
                Ok(value) => {
                    common_headers.insert(WECHATPAY_SERIAL, value);
                }
                Err(_) => problems.push(format!("public key id `{id}` is not valid header text")),
            }
        }

        let (Some((serial, key)), Some(base_url), true) = (merchant, base_url, problems.is_empty())
        else {
            return Err(ConfigError::Invalid(problems).into());
        };

        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .build()
                .map_err(ConfigError::Http)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                signer: RequestSigner::new(mchid, serial, key),
                verifier,
                timeout,
                apiv3_key,
                common_headers,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("mchid", &self.mchid)
            .field(
                "merchant_serial",
                &self.merchant.as_ref().map(|(serial, _)| serial),
            )
            .field(
                "public_key_ids",
                &self
                    .public_keys
                    .iter()
                    .map(|(id, _)| id)
                    .collect::<Vec<_>>(),
            )
            .field("certificates", &self.certificates.len())
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}
