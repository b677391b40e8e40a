//! [`ClientBuilder`]: every setting of a [`Client`], checked together.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::{ACCEPT, HeaderValue, USER_AGENT};
use zeroize::Zeroizing;

use super::certificates::{DEFAULT_CERTIFICATE_REFRESH, KeyStore};
use super::{Client, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Inner, WECHATPAY_SERIAL};
use crate::bill::BillLimits;
use crate::crypto::CryptoBackend;
use crate::error::{ConfigError, Error};
use crate::host::Host;
use crate::keys::{ApiV3Key, MerchantKey, PlatformCertificate, VerifyingKey};
use crate::retry::RetryPolicy;
use crate::routes::{Backup, RouteSettings, Routes};
use crate::signing::RequestSigner;
use crate::verification::Verifier;

/// Where a key comes from, loaded when the client is built so that every
/// problem is reported together.
#[derive(Clone)]
enum Source<K> {
    Loaded(K),
    /// PEM text handed to the builder: wiped on drop, also when the
    /// builder is dropped without `build()`.
    Pem(Zeroizing<String>),
    File(PathBuf),
}

impl<K> Source<K> {
    /// Loads the key, reading the file first where there is one. The error
    /// text names the file, never its contents.
    fn load<E: fmt::Display>(self, parse: impl FnOnce(&str) -> Result<K, E>) -> Result<K, String> {
        match self {
            Source::Loaded(key) => Ok(key),
            Source::Pem(pem) => parse(&pem).map_err(|error| error.to_string()),
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
    /// URLs given for single hosts, in the order given.
    host_urls: Vec<(Host, String)>,
    home_host: Option<Host>,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    backend: Option<CryptoBackend>,
    http: Option<reqwest::Client>,
    retry: Option<RetryPolicy>,
    backup: Backup,
    apiv3_key: Option<Zeroizing<String>>,
    /// Certificate mode's refresh interval; `None`: no downloads.
    certificate_refresh: Option<Duration>,
    /// The limit on an answer's body; `None`: [`DEFAULT_MAX_RESPONSE_BYTES`].
    max_response_bytes: Option<u64>,
    bill_limits: Option<BillLimits>,
    /// Plain `http://` to hosts other than loopback allowed.
    allow_insecure_http: bool,
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
        self.merchant = Some((serial.into(), Source::Pem(Zeroizing::new(pem.into()))));
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
        self.public_keys
            .push((id.into(), Source::Pem(Zeroizing::new(pem.into()))));
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
        self.certificates
            .push(Source::Pem(Zeroizing::new(pem.into())));
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

    /// Where requests go (default [`PRODUCTION_BASE_URL`](super::PRODUCTION_BASE_URL)): scheme, host and
    /// port only, such as a sandbox's `http://127.0.0.1:8080`.
    ///
    /// `https://` anywhere; plain `http://` only to this machine (a
    /// loopback address, `127.0.0.0/8` or `::1`, or `localhost`) unless
    /// [`ClientBuilder::allow_insecure_http`] says otherwise:
    /// [`ClientBuilder::build`] refuses it.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Where operations served by `host` go, instead of the host's
    /// production URL ([`Host::production_url`]): scheme, host and port
    /// only, checked like [`ClientBuilder::base_url`].
    ///
    /// Without it, a host's operations go to its production URL, except
    /// when [`ClientBuilder::base_url`] names somewhere other than WeChat
    /// Pay (a sandbox, a test server, a proxy): then every host's
    /// operations go to that base URL, so that a client pointed at a
    /// sandbox never reaches production through a Hong Kong operation.
    ///
    /// ```
    /// use wxpay_core::{Client, Host};
    ///
    /// let builder = Client::builder()
    ///     .base_url("http://127.0.0.1:8080")
    ///     .host_url(Host::HongKong, "http://127.0.0.1:8081");
    /// # let _ = builder;
    /// ```
    pub fn host_url(mut self, host: Host, url: impl Into<String>) -> Self {
        self.host_urls.push((host, url.into()));
        self
    }

    /// Builds the client for one host only, as a Hong Kong merchant's
    /// client is built for [`Host::HongKong`]: its certificate downloads go
    /// there, and an operation served by another host is refused before
    /// anything is sent ([`BuildError::HostNotServed`](crate::BuildError::HostNotServed)).
    pub fn home_host(mut self, host: Host) -> Self {
        self.home_host = Some(host);
        self
    }

    /// The timeout of one attempt (default [`DEFAULT_TIMEOUT`]); a retried
    /// call may take longer in all (see [`RetryPolicy::max_elapsed`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How calls are retried, unless a call says otherwise
    /// ([`CallOptions::retry`](crate::CallOptions::retry)); see
    /// [`crate::retry`] for what is retried.
    ///
    /// Default: [`RetryPolicy::default`] (3 attempts) when the base URL is
    /// WeChat Pay's ([`PRODUCTION_BASE_URL`](super::PRODUCTION_BASE_URL) or [`BACKUP_BASE_URL`](super::BACKUP_BASE_URL)), and
    /// [`RetryPolicy::none`] for any other base URL (a sandbox, a test
    /// server, a proxy), so that a scripted server sees exactly the requests
    /// a test makes. Set a policy to retry against those too.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Where the next attempt goes after a network failure (connection
    /// refused, reset, timeout; never an HTTP status): scheme, host and port
    /// only, like the base URL. A further network failure there switches
    /// back to the base URL. Only retries fail over, so this needs a policy
    /// that retries.
    ///
    /// Default: [`BACKUP_BASE_URL`](super::BACKUP_BASE_URL) when the base URL is
    /// [`PRODUCTION_BASE_URL`](super::PRODUCTION_BASE_URL), none otherwise.
    pub fn backup_base_url(mut self, backup_base_url: impl Into<String>) -> Self {
        self.backup = Backup::Url(backup_base_url.into());
        self
    }

    /// Certificate mode: download the platform certificates from
    /// `GET /v3/certificates` (needs [`ClientBuilder::apiv3_key`]), before
    /// the first call that needs them, every 12 hours after that (see
    /// [`ClientBuilder::certificate_refresh_interval`]), and once when an
    /// answer names a serial the client does not know yet. Works alongside
    /// a WeChat Pay public key (migration between the two modes).
    pub fn download_platform_certificates(mut self) -> Self {
        self.certificate_refresh
            .get_or_insert(DEFAULT_CERTIFICATE_REFRESH);
        self
    }

    /// How often certificate mode downloads the certificates again
    /// (default [`DEFAULT_CERTIFICATE_REFRESH`], 12 hours). Turns certificate
    /// mode on.
    pub fn certificate_refresh_interval(mut self, interval: Duration) -> Self {
        self.certificate_refresh = Some(interval);
        self
    }

    /// The most bytes of an answer's body the client reads (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 8 MiB): JSON answers and error
    /// answers alike (bill downloads stream and are not bound by it).
    ///
    /// An answer whose `Content-Length` announces more is refused before a
    /// byte of its body is read, and one that goes past the limit as it
    /// arrives is cut off there; both are
    /// [`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge), never
    /// retried. WeChat Pay's answers are far smaller; raise this only for
    /// a trusted server whose answers really are larger. Must be at least
    /// 1.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// The limits every bill download of this client stays within
    /// (default [`BillLimits::default`]: 1 GiB of bill and of body, gzip
    /// expanding at most 100:1 once 1 MiB has come out). A download past
    /// one stops there with
    /// [`DownloadError::LimitExceeded`](crate::bill::DownloadError::LimitExceeded);
    /// [`Client::download_bill_with_limits`](crate::Client::download_bill_with_limits)
    /// overrides them for one download.
    pub fn bill_limits(mut self, limits: BillLimits) -> Self {
        self.bill_limits = Some(limits);
        self
    }

    /// Allows plain `http://` to hosts other than this machine, **for test
    /// rigs only** (a sandbox in another container, a recording proxy).
    /// Default `false`.
    ///
    /// Without it, [`ClientBuilder::build`] refuses an `http://` base URL
    /// or backup base URL whose host is not loopback (`127.0.0.0/8`, `::1`,
    /// `localhost`), and a bill download refuses such a `download_url`
    /// ([`DownloadError::InvalidUrl`](crate::bill::DownloadError::InvalidUrl)):
    /// over plain http, requests, answers and bills can be read and
    /// changed by anyone on the path.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Never fail over: every attempt goes to the base URL.
    pub fn without_backup_base_url(mut self) -> Self {
        self.backup = Backup::Disabled;
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

    /// What [`ClientBuilder::build`] would refuse in where this builder
    /// sends requests (the base URL, each host's URL, the backup base URL),
    /// every problem at once; empty when they are all fine. Nothing is
    /// loaded or built, so a configuration check (such as `wxpay doctor`)
    /// can report them next to its own without keys at hand.
    ///
    /// ```
    /// use wxpay_core::Client;
    ///
    /// assert!(Client::builder().base_url("http://127.0.0.1:8080").route_problems().is_empty());
    /// let problems = Client::builder().base_url("http://example.com").route_problems();
    /// assert!(problems[0].contains("plain http"), "{problems:?}");
    /// ```
    pub fn route_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        Routes::resolve(&self.route_settings(), &mut problems);
        problems
    }

    /// The builder's routing settings, as [`Routes::resolve`] takes them.
    fn route_settings(&self) -> RouteSettings<'_> {
        RouteSettings {
            base_url: self.base_url.as_deref(),
            host_urls: &self.host_urls,
            home_host: self.home_host,
            backup: &self.backup,
            allow_insecure_http: self.allow_insecure_http,
        }
    }

    /// Checks every setting, loads the keys and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let backend = self.backend.unwrap_or_default();
        let mut problems = Vec::new();
        // Routed before any setting moves out of `self`; the problems are
        // reported in their place below.
        let mut route_problems = Vec::new();
        let routes = Routes::resolve(&self.route_settings(), &mut route_problems);

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
        if self.certificate_refresh.is_some() && self.apiv3_key.is_none() {
            problems.push(
                "certificate mode downloads certificates encrypted under the APIv3 key: call .apiv3_key(\"<32 characters>\")".to_owned(),
            );
        }
        if self
            .certificate_refresh
            .is_some_and(|interval| interval < Duration::from_secs(60))
        {
            problems.push("the certificate refresh interval must be at least a minute".to_owned());
        }
        if verifier.is_empty() && self.certificate_refresh.is_none() && problems.is_empty() {
            problems.push(
                "no key to verify WeChat Pay's signatures: call .wechatpay_public_key_file(\"PUB_KEY_ID_…\", <path>), .platform_certificate_file(<path>) or .download_platform_certificates()".to_owned(),
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

        problems.append(&mut route_problems);
        let max_response_bytes = self
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        if max_response_bytes == 0 {
            problems.push(
                "the answer size limit is 0 bytes, so no answer with a body could be read: give .max_response_bytes(…) at least 1 (default 8 MiB)".to_owned(),
            );
        }

        let retry = self.retry.unwrap_or_else(|| {
            if routes.as_ref().is_some_and(Routes::on_wechatpay) {
                RetryPolicy::default()
            } else {
                RetryPolicy::none()
            }
        });

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

        let (Some((serial, key)), Some(routes), true) = (merchant, routes, problems.is_empty())
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
                routes,
                signer: RequestSigner::new(mchid, serial, key),
                keys: KeyStore::new(verifier, self.certificate_refresh),
                timeout,
                retry,
                apiv3_key,
                max_response_bytes,
                bill_limits: self.bill_limits.unwrap_or_default(),
                allow_insecure_http: self.allow_insecure_http,
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
            .field("host_urls", &self.host_urls)
            .field("home_host", &self.home_host)
            .field("backup", &self.backup)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("bill_limits", &self.bill_limits)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish_non_exhaustive()
    }
}
