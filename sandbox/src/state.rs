//! The state every request handler shares: [`AppState`], a handle on
//! [`Shared`] (credentials, keys, served certificates, faults, the store,
//! the callback queue and log, the event sink, the APIv2 red packets), and
//! how answers are signed with it ([`SigningMode`], [`SigningKey`]).
//!
//! It sits below the handlers and the server: the handlers in
//! [`crate::handlers`] take an `AppState`, and `server` builds the router
//! from the handlers on top of it. So this module imports only the
//! modules its state is made of (credentials, certificates, faults, store,
//! callbacks, events, signing, clock), never a handler or the server.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::http::HeaderValue;
use rand::Rng as _;

use crate::callbacks::Deliveries;
use crate::certificates::{self, CERTIFICATES_PATH, PlatformCertificate};
use crate::clock;
use crate::config::SandboxError;
use crate::credentials::{self, ServerKeys};
use crate::events::EventSink;
use crate::signing::ResponseSigner;
use crate::store::Store;
use crate::{Credentials, Faults};

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) credentials: Credentials,
    pub(crate) keys: Arc<ServerKeys>,
    /// The platform certificates served, oldest first; the last one signs
    /// certificate-mode answers. Never empty.
    pub(crate) certificates: RwLock<Vec<Arc<PlatformCertificate>>>,
    /// Sign in certificate mode when a request names no key.
    pub(crate) certificate_mode: bool,
    pub(crate) faults: Mutex<Faults>,
    /// Stocks, coupons, orders, refunds, bill download tokens: see
    /// [`crate::store`].
    pub(crate) store: Store,
    /// `http://127.0.0.1:PORT`: where download URLs point.
    pub(crate) base_url: String,
    pub(crate) requests_served: AtomicU64,
    /// Callback delivery: settings, the queue of `/_sandbox/notify`, the
    /// log.
    pub(crate) callbacks: Deliveries,
    /// Callbacks to deliver (payments, refunds, coupons).
    pub(crate) events: EventSink,
    /// APIv2 red packets sent (in memory).
    pub(crate) redpacks: RedPacks,
}

/// How an answer is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigningMode {
    /// With the platform key, announcing the public key id.
    PublicKey,
    /// With the newest certificate's key, announcing its serial.
    Certificate,
}

/// The key one [`SigningMode`] signs with: the platform key, which the
/// sandbox always holds, or the newest certificate, held by its own `Arc`
/// since a rotation may replace it meanwhile.
pub(crate) enum SigningKey<'a> {
    /// The platform key, announcing the public key id.
    PublicKey(&'a Shared),
    /// The newest certificate's key, announcing its serial.
    Certificate(Arc<PlatformCertificate>),
}

impl SigningKey<'_> {
    /// A signer for one answer or callback.
    pub(crate) fn signer(&self) -> ResponseSigner<'_> {
        match self {
            SigningKey::PublicKey(shared) => ResponseSigner {
                key: &shared.keys.platform_key,
                serial: &shared.credentials.public_key_id,
            },
            SigningKey::Certificate(certificate) => ResponseSigner {
                key: &certificate.key,
                serial: &certificate.serial,
            },
        }
    }
}

/// The axum state: a handle on [`Shared`].
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Shared>);

impl AppState {
    /// The state database.
    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    /// The faults in force (a snapshot).
    pub(crate) fn faults(&self) -> Faults {
        self.0
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the faults in force.
    pub(crate) fn set_faults(&self, faults: Faults) {
        *self.0.faults.lock().unwrap_or_else(PoisonError::into_inner) = faults;
    }

    /// The certificates served, newest first.
    pub(crate) fn certificates_newest_first(&self) -> Vec<Arc<PlatformCertificate>> {
        let certificates = self
            .0
            .certificates
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        certificates.iter().rev().cloned().collect()
    }

    /// The newest certificate: it signs certificate-mode answers.
    pub(crate) fn newest_certificate(&self) -> Arc<PlatformCertificate> {
        let certificates = self
            .0
            .certificates
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        // Never empty: the first certificate is made before the server
        // starts and none is ever removed.
        certificates
            .last()
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.0.keys.certificate))
    }

    /// Starts serving `certificate`; it signs certificate-mode answers from
    /// now on.
    pub(crate) fn add_certificate(&self, certificate: PlatformCertificate) {
        self.0
            .certificates
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(certificate));
    }

    /// The key that signs in `mode`.
    pub(crate) fn signing_key(&self, mode: SigningMode) -> SigningKey<'_> {
        match mode {
            SigningMode::PublicKey => SigningKey::PublicKey(&self.0),
            SigningMode::Certificate => SigningKey::Certificate(self.newest_certificate()),
        }
    }

    /// How to sign the answer to a request for `path` whose
    /// `Wechatpay-Serial` header is `requested`: `/v3/certificates` always
    /// in certificate mode; otherwise as the header names (the public key
    /// id, or any served certificate's serial); otherwise (no header, an
    /// unknown value) as configured.
    pub(crate) fn signing_mode(&self, path: &str, requested: Option<&HeaderValue>) -> SigningMode {
        if path == CERTIFICATES_PATH {
            return SigningMode::Certificate;
        }
        let requested = requested.and_then(|value| value.to_str().ok());
        match requested {
            Some(serial) if serial == self.0.credentials.public_key_id => SigningMode::PublicKey,
            Some(serial) if self.serves_certificate(serial) => SigningMode::Certificate,
            _ if self.0.certificate_mode => SigningMode::Certificate,
            _ => SigningMode::PublicKey,
        }
    }

    fn serves_certificate(&self, serial: &str) -> bool {
        self.0
            .certificates
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|certificate| certificate.serial == serial)
    }

    /// A fresh `Request-ID`: `08`, the time, randomness and a counter, in
    /// upper-case hex (40 characters).
    pub(crate) fn next_request_id(&self) -> String {
        let count = self.0.requests_served.fetch_add(1, Ordering::Relaxed);
        let random: u64 = rand::rng().random();
        let now = clock::unix_now() as u64;
        format!(
            "08{:010X}{random:016X}{:012X}",
            now & 0xFF_FFFF_FFFF,
            count & 0xFFFF_FFFF_FFFF
        )
    }
}

/// The APIv2 sendredpack log: `mch_billno` → (request fingerprint,
/// `send_listid`), kept in memory.
#[derive(Default)]
pub(crate) struct RedPacks(pub(crate) Mutex<HashMap<String, (String, String)>>);

/// A platform certificate made by
/// [`Sandbox::rotate_platform_certificate`](crate::Sandbox::rotate_platform_certificate).
///
/// `Debug` shows the private key as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotatedCertificate {
    /// Its serial: 40 upper-case hex characters.
    pub serial: String,
    /// The certificate (PEM, LF line endings).
    pub certificate_pem: String,
    /// The new platform private key it certifies (PKCS#8 PEM), for tests
    /// that act as WeChat Pay in certificate mode.
    pub private_key_pem: String,
}

impl fmt::Debug for RotatedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatedCertificate")
            .field("serial", &self.serial)
            .field("certificate_pem", &self.certificate_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// [`Sandbox::rotate_platform_certificate`](crate::Sandbox::rotate_platform_certificate),
/// also behind
/// `POST /_sandbox/rotate`. Blocks while the key is generated.
pub(crate) fn rotate_platform_certificate(
    state: &AppState,
) -> Result<RotatedCertificate, SandboxError> {
    let key = credentials::generate_key()?;
    let private_key_pem = credentials::private_key_pem(&key)?;
    let certificate = certificates::issue(Arc::new(key), state.0.keys.validity)?;
    let rotated = RotatedCertificate {
        serial: certificate.serial.clone(),
        certificate_pem: certificate.pem.clone(),
        private_key_pem,
    };
    state.add_certificate(certificate);
    tracing::debug!(serial = %rotated.serial, "platform certificate rotated");
    Ok(rotated)
}
