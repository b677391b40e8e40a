//! What a sandbox is started with ([`SandboxConfig`]) and why it may fail
//! to start ([`SandboxError`]).
//!
//! Both are public (the crate root re-exports them) and sit at the bottom
//! of the module graph: the key, certificate, store and fault modules
//! read the configuration and answer with `SandboxError`, and the crate
//! root and the server are built on those, so this module imports no
//! other module of the crate.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Options for [`Sandbox::start_with`]. Everything left `None` is
/// generated fresh; supply keys to make runs deterministic or to reuse
/// test vectors.
///
/// [`Sandbox::start_with`]: crate::Sandbox::start_with
#[derive(Default, Clone)]
pub struct SandboxConfig {
    /// Where to listen; default `127.0.0.1:0` (a free port).
    pub addr: Option<SocketAddr>,
    /// The merchant id requests must carry.
    pub mchid: Option<String>,
    /// The merchant certificate serial requests must carry.
    pub merchant_serial: Option<String>,
    /// The merchant public key (SPKI or PKCS#1 PEM) to verify requests
    /// with. When given, [`Credentials::merchant_private_key_pem`] is
    /// whatever `merchant_private_key_pem` holds (possibly empty).
    ///
    /// [`Credentials::merchant_private_key_pem`]: crate::Credentials::merchant_private_key_pem
    pub merchant_public_key_pem: Option<String>,
    /// The merchant private key (PKCS#8 or PKCS#1 PEM). Without
    /// `merchant_public_key_pem`, the sandbox verifies with its public half.
    pub merchant_private_key_pem: Option<String>,
    /// The key the sandbox signs responses with (PKCS#8 or PKCS#1 PEM): in
    /// public-key mode always, in certificate mode until the first
    /// [`Sandbox::rotate_platform_certificate`](crate::Sandbox::rotate_platform_certificate).
    pub platform_private_key_pem: Option<String>,
    /// The platform certificate (PEM) to serve for `platform_private_key_pem`
    /// instead of a generated one. It must certify that key (it need not be
    /// valid now, nor be signed by anyone in particular), and
    /// `platform_private_key_pem` must be set.
    pub platform_certificate_pem: Option<String>,
    /// `(not before, not after)` of the platform certificates the sandbox
    /// generates, at start and at each rotation, to test expired or
    /// not-yet-valid certificates; default: from a day before to five
    /// years after the moment each is made. Times are written with
    /// one-second precision.
    pub platform_certificate_validity: Option<(SystemTime, SystemTime)>,
    /// The id responses announce in `Wechatpay-Serial` in public-key mode.
    pub public_key_id: Option<String>,
    /// The APIv3 key (exactly 32 printable ASCII characters) that
    /// certificates and callbacks are encrypted with; random when `None`.
    pub apiv3_key: Option<String>,
    /// Sign in platform certificate mode the answers to requests that name
    /// no key in `Wechatpay-Serial` (or one the sandbox does not know).
    /// Default `false`: such answers are signed in public-key mode.
    /// Callbacks follow the same setting: signed with the newest
    /// certificate's key in certificate mode, else with the platform key.
    pub certificate_mode: bool,
    /// A folder for the sandbox's state (stocks, coupons, orders, refunds,
    /// callback URLs, bill download tokens): kept in
    /// `DIR/sandbox.sqlite3`, created when missing, so that a sandbox
    /// started again on the same folder (with the same merchant id) finds
    /// everything a previous one acknowledged, and counts ids on from
    /// where it stopped. `None` (the default): in memory, gone with the
    /// sandbox. See [Persistence](crate#persistence).
    pub state_dir: Option<PathBuf>,
    /// The waits between callback delivery attempts, each counted from
    /// the end of the failed attempt; one attempt more than waits is made.
    /// `None`: WeChat Pay's schedule, [`CALLBACK_RETRY_DELAYS`] (15 s up to
    /// 6 h). To compress time, divide it, e.g. 60 times faster:
    /// `CALLBACK_RETRY_DELAYS.iter().map(|d| *d / 60).collect()`; an empty
    /// list means a single attempt.
    ///
    /// [`CALLBACK_RETRY_DELAYS`]: crate::CALLBACK_RETRY_DELAYS
    pub callback_retry_delays: Option<Vec<Duration>>,
    /// How long a merchant has to answer a callback attempt before it
    /// counts as failed; `None`: [`CALLBACK_TIMEOUT`] (5 s, as WeChat
    /// Pay).
    ///
    /// [`CALLBACK_TIMEOUT`]: crate::CALLBACK_TIMEOUT
    pub callback_timeout: Option<Duration>,
    /// The APIv2 key (exactly 32 characters of `[0-9A-Za-z]`); random
    /// when `None`. See [APIv2](crate#apiv2).
    pub apiv2_key: Option<String>,
    /// Where the APIv2 TLS listener listens; default: the IP of `addr`
    /// and a free port.
    pub v2_tls_addr: Option<SocketAddr>,
    /// Do not start the APIv2 TLS listener
    /// ([`Sandbox::v2_tls_url`](crate::Sandbox::v2_tls_url) is then `None`).
    pub disable_v2_tls: bool,
    /// The CA and the merchant's API client certificate of an earlier
    /// sandbox ([`Credentials::tls_identities`](crate::Credentials::tls_identities)),
    /// so that clients that trust that CA and hold that certificate keep
    /// working; checked at start (the CA certifies its key, the client
    /// certificate was issued by it to [`SandboxConfig::mchid`] and
    /// certifies its key, both valid now). `None`: new ones.
    pub tls_identities: Option<TlsIdentities>,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |key: &Option<String>| key.as_ref().map(|_| "<redacted>");
        f.debug_struct("SandboxConfig")
            .field("addr", &self.addr)
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_public_key_pem", &self.merchant_public_key_pem)
            .field(
                "merchant_private_key_pem",
                &redacted(&self.merchant_private_key_pem),
            )
            .field(
                "platform_private_key_pem",
                &redacted(&self.platform_private_key_pem),
            )
            .field("platform_certificate_pem", &self.platform_certificate_pem)
            .field(
                "platform_certificate_validity",
                &self.platform_certificate_validity,
            )
            .field("public_key_id", &self.public_key_id)
            .field("certificate_mode", &self.certificate_mode)
            .field("state_dir", &self.state_dir)
            .field("callback_retry_delays", &self.callback_retry_delays)
            .field("callback_timeout", &self.callback_timeout)
            .field("apiv2_key", &redacted(&self.apiv2_key))
            .field("v2_tls_addr", &self.v2_tls_addr)
            .field("disable_v2_tls", &self.disable_v2_tls)
            .field("tls_identities", &self.tls_identities)
            .finish()
    }
}

/// The APIv2 TLS identities a sandbox keeps across starts: its CA and the
/// merchant's API client certificate, each with its key (PEM), as an
/// earlier sandbox's [`Credentials::tls_identities`](crate::Credentials::tls_identities) gave them. The TLS
/// listener's own certificate is issued afresh under the CA at each start.
#[derive(Clone)]
pub struct TlsIdentities {
    /// The CA's certificate ([`Credentials::tls_ca_pem`](crate::Credentials::tls_ca_pem)).
    pub ca_certificate_pem: String,
    /// The CA's private key ([`Credentials::tls_ca_key_pem`](crate::Credentials::tls_ca_key_pem), PKCS#8).
    pub ca_key_pem: String,
    /// The merchant's API client certificate, issued by the CA to the
    /// merchant id ([`Credentials::client_certificate_pem`](crate::Credentials::client_certificate_pem)).
    pub client_certificate_pem: String,
    /// Its private key ([`Credentials::client_key_pem`](crate::Credentials::client_key_pem), PKCS#8).
    pub client_key_pem: String,
}

impl fmt::Debug for TlsIdentities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentities")
            .field("ca_certificate_pem", &self.ca_certificate_pem)
            .field("ca_key_pem", &"<redacted>")
            .field("client_certificate_pem", &self.client_certificate_pem)
            .field("client_key_pem", &"<redacted>")
            .finish()
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// Generating an RSA key failed.
    #[error("RSA key generation failed")]
    KeyGeneration,
    /// A key or certificate given in [`SandboxConfig`] could not be used.
    #[error("{what} is not usable: {reason}")]
    InvalidKey {
        /// The [`SandboxConfig`] field that holds the key or certificate.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Another [`SandboxConfig`] value could not be used.
    #[error("{what} is not usable: {reason}")]
    InvalidConfig {
        /// The [`SandboxConfig`] field.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The state database could not be opened or set up (see
    /// [`SandboxConfig::state_dir`]).
    #[error("cannot use the state database: {reason}")]
    State {
        /// What failed, naming the file.
        reason: String,
    },
    /// A [`Faults`](crate::Faults) value could not be used (a share outside `0.0..=1.0`,
    /// say).
    #[error("faults: {field} is not usable: {reason}")]
    InvalidFaults {
        /// The [`Faults`](crate::Faults) field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Making the platform certificate failed (the crypto library refused).
    #[error("cannot make the platform certificate: {reason}")]
    Certificate {
        /// What failed.
        reason: String,
    },
}
