//! Verifying WeChat Pay's signatures on responses (and, later, callbacks).
//!
//! The message is `TIMESTAMP\nNONCE\nBODY\n` over the raw body bytes; the
//! key is chosen by the `Wechatpay-Serial` header among the configured
//! WeChat Pay public keys (`PUB_KEY_ID_…`) and platform certificates.

use std::collections::HashMap;
use std::fmt;

use http::HeaderMap;

use crate::encryption::Encryptor;
use crate::keys::{PlatformCertificate, SignatureError, VerifyingKey};

/// The signature scheme WeChat Pay announces in `Wechatpay-Signature-Type`.
pub const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";

/// How far a signature timestamp may be from the local clock, either way.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// Header names, lower-case (header lookups are case-insensitive).
pub mod header {
    /// Unix seconds at which WeChat Pay signed the answer.
    pub const TIMESTAMP: &str = "wechatpay-timestamp";
    /// The random nonce of the signature.
    pub const NONCE: &str = "wechatpay-nonce";
    /// The base64 signature.
    pub const SIGNATURE: &str = "wechatpay-signature";
    /// The serial of the key that signed (`PUB_KEY_ID_…` or a certificate serial).
    pub const SERIAL: &str = "wechatpay-serial";
    /// The signature scheme.
    pub const SIGNATURE_TYPE: &str = "wechatpay-signature-type";
    /// WeChat Pay's id of the request, to quote to its support.
    pub const REQUEST_ID: &str = "request-id";
}

/// The keys WeChat Pay's signatures are checked against, by serial: WeChat
/// Pay public keys (`PUB_KEY_ID_…`) and platform certificates.
///
/// A certificate is only used while it is valid: an answer signed under an
/// expired (or not yet valid) certificate is rejected.
#[derive(Clone, Default)]
pub struct Verifier {
    keys: HashMap<String, VerifyingKey>,
    /// Public key ids, in the order they were added.
    public_key_ids: Vec<String>,
    certificates: HashMap<String, PlatformCertificate>,
}

/// Why a signature did not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A signature header is missing.
    #[error(
        "the `{name}` header is missing, so the answer is not signed; a successful answer without a signature must be treated as forged"
    )]
    MissingHeader {
        /// The header's name.
        name: &'static str,
    },
    /// The announced certificate is outside its validity period.
    #[error(
        "the platform certificate `{serial}` is not valid at this time (valid from {not_before} to {not_after}, Unix seconds); download the current certificates, or check this machine's clock"
    )]
    CertificateNotValid {
        /// The certificate's serial.
        serial: String,
        /// Start of validity, Unix seconds.
        not_before: i64,
        /// End of validity, Unix seconds.
        not_after: i64,
    },
    /// A signature header came more than once: which of the values was
    /// signed cannot be told, and a proxy or an attacker may have added
    /// one.
    #[error(
        "the `{name}` header is present more than once; an answer or callback carries each signature header once, so this one was altered on the way"
    )]
    DuplicateHeader {
        /// The header's name.
        name: &'static str,
    },
    /// A signature header is not valid text.
    #[error("the `{name}` header is not valid ASCII text")]
    InvalidHeader {
        /// The header's name.
        name: &'static str,
    },
    /// The signature scheme is not the one this client verifies.
    #[error("`Wechatpay-Signature-Type` is `{found}`, expected `{SIGNATURE_TYPE}`")]
    UnsupportedSignatureType {
        /// The scheme announced.
        found: String,
    },
    /// The timestamp is not a number of seconds.
    #[error("`Wechatpay-Timestamp` is `{found}`, which is not a Unix time in seconds")]
    BadTimestamp {
        /// The header value.
        found: String,
    },
    /// The timestamp is too far from the local clock.
    #[error(
        "the signature timestamp is {skew} s {direction} the local clock (at most {MAX_CLOCK_SKEW_SECS} s allowed); a replayed answer, or check this machine's clock (NTP)",
        direction = if *.skew_ahead { "ahead of" } else { "behind" }
    )]
    Stale {
        /// How many seconds away (saturating).
        skew: u64,
        /// Whether the timestamp is in the future.
        skew_ahead: bool,
    },
    /// No configured key has the announced serial.
    #[error(
        "`Wechatpay-Serial` is `{serial}`, but the client only knows {known}; configure the WeChat Pay public key (PUB_KEY_ID_…) or platform certificate with that serial"
    )]
    UnknownSerial {
        /// The announced serial.
        serial: String,
        /// The configured serials, comma-separated.
        known: String,
    },
    /// The signature is a deliberate `WECHATPAY/SIGNTEST/` probe.
    #[error(
        "the signature is a WECHATPAY/SIGNTEST/ probe, which is invalid by design; WeChat Pay sends these to check that signatures are verified"
    )]
    Probe,
    /// The signature is not base64 of the right length.
    #[error("`Wechatpay-Signature` is not a base64 RSA signature")]
    Malformed,
    /// The signature does not match the message.
    #[error(
        "the signature does not verify with the key `{serial}`: the answer was altered on the way, or the key configured under that serial is not WeChat Pay's"
    )]
    Mismatch {
        /// The serial of the key used.
        serial: String,
    },
}

/// The five signature headers of an answer or a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureHeaders<'a> {
    /// `Wechatpay-Timestamp`.
    pub timestamp: &'a str,
    /// `Wechatpay-Nonce`.
    pub nonce: &'a str,
    /// `Wechatpay-Signature`.
    pub signature: &'a str,
    /// `Wechatpay-Serial`.
    pub serial: &'a str,
    /// `Wechatpay-Signature-Type`, when present.
    pub signature_type: Option<&'a str>,
}

impl<'a> SignatureHeaders<'a> {
    /// Reads the headers; a missing one, or one present more than once
    /// ([`VerifyError::DuplicateHeader`]), is an error.
    pub fn from_headers(headers: &'a HeaderMap) -> Result<Self, VerifyError> {
        Ok(SignatureHeaders {
            timestamp: required(headers, header::TIMESTAMP, "Wechatpay-Timestamp")?,
            nonce: required(headers, header::NONCE, "Wechatpay-Nonce")?,
            signature: required(headers, header::SIGNATURE, "Wechatpay-Signature")?,
            serial: required(headers, header::SERIAL, "Wechatpay-Serial")?,
            signature_type: optional(headers, header::SIGNATURE_TYPE, "Wechatpay-Signature-Type")?,
        })
    }

    /// Whether any signature header is present at all.
    pub fn any_present(headers: &HeaderMap) -> bool {
        [
            header::TIMESTAMP,
            header::NONCE,
            header::SIGNATURE,
            header::SERIAL,
        ]
        .iter()
        .any(|name| headers.contains_key(*name))
    }
}

fn required<'a>(
    headers: &'a HeaderMap,
    key: &'static str,
    name: &'static str,
) -> Result<&'a str, VerifyError> {
    optional(headers, key, name)?.ok_or(VerifyError::MissingHeader { name })
}

fn optional<'a>(
    headers: &'a HeaderMap,
    key: &'static str,
    name: &'static str,
) -> Result<Option<&'a str>, VerifyError> {
    let mut values = headers.get_all(key).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(VerifyError::DuplicateHeader { name });
    }
    first
        .map(|value| {
            value
                .to_str()
                .map_err(|_| VerifyError::InvalidHeader { name })
        })
        .transpose()
}

impl Verifier {
    /// A verifier that knows no key yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a WeChat Pay public key under its id (`PUB_KEY_ID_…`).
    pub fn add_public_key(&mut self, id: impl Into<String>, key: VerifyingKey) {
        let id = id.into();
        if !self.public_key_ids.contains(&id) {
            self.public_key_ids.push(id.clone());
        }
        self.keys.insert(id, key);
    }

    /// Adds a platform certificate under its serial.
    pub fn add_certificate(&mut self, certificate: &PlatformCertificate) {
        self.keys.insert(
            certificate.serial().to_owned(),
            certificate.verifying_key().clone(),
        );
        self.certificates
            .insert(certificate.serial().to_owned(), certificate.clone());
    }

    /// Removes the certificates that are no longer valid at `now`.
    pub fn drop_expired_certificates(&mut self, now: i64) {
        let expired: Vec<String> = self
            .certificates
            .values()
            .filter(|certificate| certificate.not_after() < now)
            .map(|certificate| certificate.serial().to_owned())
            .collect();
        for serial in expired {
            self.certificates.remove(&serial);
            self.keys.remove(&serial);
        }
    }

    /// The platform certificates.
    pub fn certificates(&self) -> impl Iterator<Item = &PlatformCertificate> {
        self.certificates.values()
    }

    /// The key sensitive request fields are encrypted with at `now`: the
    /// first WeChat Pay public key, otherwise the newest valid platform
    /// certificate (the latest start of validity). `None` when there is
    /// neither.
    pub fn encryptor(&self, now: i64) -> Option<Encryptor> {
        if let Some(id) = self.public_key_ids.first()
            && let Some(key) = self.keys.get(id)
        {
            return Some(Encryptor::new(id.clone(), key.clone()));
        }
        self.certificates
            .values()
            .filter(|certificate| certificate.is_valid_at(now))
            .max_by_key(|certificate| {
                (
                    certificate.not_before(),
                    certificate.not_after(),
                    certificate.serial(),
                )
            })
            .map(|certificate| {
                Encryptor::new(certificate.serial(), certificate.verifying_key().clone())
            })
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The serials of the configured keys, sorted.
    pub fn serials(&self) -> Vec<&str> {
        let mut serials: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        serials.sort_unstable();
        serials
    }

    /// The key configured under `serial`.
    pub fn key(&self, serial: &str) -> Option<&VerifyingKey> {
        self.keys.get(serial)
    }

    /// Checks the signature headers of an answer or callback against its raw
    /// body, with `now` as the local Unix time.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), VerifyError> {
        self.verify_parts(&SignatureHeaders::from_headers(headers)?, body, now)
    }

    /// [`Verifier::verify`] over headers already read.
    pub fn verify_parts(
        &self,
        parts: &SignatureHeaders<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        if let Some(found) = parts.signature_type
            && found != SIGNATURE_TYPE
        {
            return Err(VerifyError::UnsupportedSignatureType {
                found: found.to_owned(),
            });
        }
        check_timestamp(parts.timestamp, now)?;
        let key = self
            .keys
            .get(parts.serial)
            .ok_or_else(|| VerifyError::UnknownSerial {
                serial: parts.serial.to_owned(),
                known: if self.keys.is_empty() {
                    "no key at all".to_owned()
                } else {
                    self.serials().join(", ")
                },
            })?;
        if let Some(certificate) = self.certificates.get(parts.serial)
            && !certificate.is_valid_at(now)
        {
            return Err(VerifyError::CertificateNotValid {
                serial: parts.serial.to_owned(),
                not_before: certificate.not_before(),
                not_after: certificate.not_after(),
            });
        }
        let message = verification_message(parts.timestamp, parts.nonce, body);
        key.verify_sha256(&message, parts.signature)
            .map_err(|error| match error {
                SignatureError::Probe => VerifyError::Probe,
                SignatureError::Malformed => VerifyError::Malformed,
                _ => VerifyError::Mismatch {
                    serial: parts.serial.to_owned(),
                },
            })
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("serials", &self.serials())
            .finish()
    }
}

/// The exact bytes a response or callback signature covers.
pub fn verification_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for line in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        message.extend_from_slice(line);
        message.push(b'\n');
    }
    message
}

/// Parses a signature timestamp (overflow-safe) and checks it against `now`.
fn check_timestamp(timestamp: &str, now: i64) -> Result<(), VerifyError> {
    let bad = || VerifyError::BadTimestamp {
        found: timestamp.chars().take(32).collect(),
    };
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let signed_at: i64 = timestamp.parse().map_err(|_| bad())?;
    let skew = signed_at.abs_diff(now);
    if skew > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(VerifyError::Stale {
            skew,
            skew_ahead: signed_at > now,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn timestamps_are_checked_both_ways_and_overflow_safely() {
        let now = 1_700_000_000;
        assert_eq!(check_timestamp("1700000000", now), Ok(()));
        assert_eq!(check_timestamp("1700000300", now), Ok(()));
        assert_eq!(check_timestamp("1699999700", now), Ok(()));
        assert_eq!(
            check_timestamp("1700000301", now),
            Err(VerifyError::Stale {
                skew: 301,
                skew_ahead: true
            })
        );
        assert_eq!(
            check_timestamp("1699999699", now),
            Err(VerifyError::Stale {
                skew: 301,
                skew_ahead: false
            })
        );
        for bad in [
            "",
            "-1",
            "+5",
            "1e9",
            " 1700000000",
            "17000000000000000000000000",
            "１",
        ] {
            assert!(
                matches!(
                    check_timestamp(bad, now),
                    Err(VerifyError::BadTimestamp { .. })
                ),
                "{bad:?} must be rejected"
            );
        }
        // Milliseconds are a different unit, not a small skew.
        assert!(matches!(
            check_timestamp("1700000000000", now),
            Err(VerifyError::Stale { .. })
        ));
    }

    #[test]
    fn missing_headers_are_named() {
        let headers = HeaderMap::new();
        assert_eq!(
            SignatureHeaders::from_headers(&headers),
            Err(VerifyError::MissingHeader {
                name: "Wechatpay-Timestamp"
            })
        );
        assert!(!SignatureHeaders::any_present(&headers));
    }

    #[test]
    fn a_signature_header_sent_twice_is_refused_by_name() {
        let names = [
            (header::TIMESTAMP, "Wechatpay-Timestamp"),
            (header::NONCE, "Wechatpay-Nonce"),
            (header::SIGNATURE, "Wechatpay-Signature"),
            (header::SERIAL, "Wechatpay-Serial"),
            (header::SIGNATURE_TYPE, "Wechatpay-Signature-Type"),
        ];
        for (doubled, name) in names {
            let mut headers = HeaderMap::new();
            for (key, _) in names {
                headers.insert(key, HeaderValue::from_static("1700000000"));
            }
            headers.append(doubled, HeaderValue::from_static("1700000000"));
            assert_eq!(
                SignatureHeaders::from_headers(&headers),
                Err(VerifyError::DuplicateHeader { name }),
                "{name}"
            );
            // The same value twice is refused too: nothing is guessed.
            assert_eq!(
                Verifier::new().verify(&headers, b"", 1_700_000_000),
                Err(VerifyError::DuplicateHeader { name })
            );
        }
    }

    #[test]
    fn unknown_serial_lists_known_ones() {
        let mut headers = HeaderMap::new();
        headers.insert(header::TIMESTAMP, "1700000000".parse().unwrap());
        headers.insert(header::NONCE, "n".parse().unwrap());
        headers.insert(header::SIGNATURE, "c2ln".parse().unwrap());
        headers.insert(header::SERIAL, "PUB_KEY_ID_X".parse().unwrap());
        let err = Verifier::new()
            .verify(&headers, b"", 1_700_000_000)
            .unwrap_err();
        assert!(
            matches!(err, VerifyError::UnknownSerial { ref serial, .. } if serial == "PUB_KEY_ID_X")
        );
        assert!(err.to_string().contains("no key at all"));
    }
}
