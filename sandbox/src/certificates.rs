//! Platform certificates: issuing an X.509 certificate for a platform key,
//! reading one given in a [`SandboxConfig`], and
//! encrypting them (and callback resources) with the APIv3 key. The
//! `GET /v3/certificates` endpoint that hands them out is
//! `handlers::certificates`: this module sits below the shared state
//! (`state` holds the served certificates), so it serves no request.
//!
//! A certificate is self-signed by the key it certifies (the sandbox plays
//! no certificate authority): clients trust it because it arrives
//! encrypted under the APIv3 key, as the protocol's bootstrap rule says.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore as _;
use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, KeyUsagePurpose, SerialNumber};
use serde::Serialize;
use time::OffsetDateTime;

use crate::clock;
use crate::config::{SandboxConfig, SandboxError};
use crate::random::random_alphanumeric;
use crate::signing::sign_message;

/// Where the certificates are served.
pub(crate) const CERTIFICATES_PATH: &str = "/v3/certificates";

/// `associated_data` of every encrypted certificate.
pub(crate) const ASSOCIATED_DATA: &str = "certificate";

/// Length of a generated serial number, in bytes (RFC 5280's maximum).
const SERIAL_BYTES: usize = 20;

/// Default validity of a generated certificate: from a day ago…
const DEFAULT_BACKDATE_SECS: i64 = 86_400;
/// …to this many years from now.
const DEFAULT_LIFETIME_YEARS: i32 = 5;

/// Subject (and issuer) of generated certificates. Deliberately not
/// Tenpay's name: these certificates come from a simulator.
const SUBJECT_ORGANIZATION: &str = "wxpay-sandbox";
const SUBJECT_COMMON_NAME: &str = "wxpay-sandbox platform certificate";

/// One platform certificate the sandbox serves, with the key it certifies.
pub(crate) struct PlatformCertificate {
    /// The serial as WeChat Pay shows it: upper-case hex of the
    /// serialNumber integer, leading zeros kept.
    pub(crate) serial: String,
    /// The certificate as PEM (`CERTIFICATE`, LF line endings).
    pub(crate) pem: String,
    /// `notBefore`, Unix seconds.
    pub(crate) not_before: i64,
    /// `notAfter`, Unix seconds.
    pub(crate) not_after: i64,
    /// The private half of the certified key: signs certificate-mode
    /// answers.
    pub(crate) key: Arc<RsaKeyPair>,
}

/// `notBefore` and `notAfter` of the certificates the sandbox issues, in
/// Unix seconds; `None` means "a day ago to five years from now", computed
/// at each issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValidityPolicy(Option<(i64, i64)>);

impl ValidityPolicy {
    /// Reads [`SandboxConfig::platform_certificate_validity`].
    pub(crate) fn from_config(config: &SandboxConfig) -> Result<Self, SandboxError> {
        let Some((not_before, not_after)) = config.platform_certificate_validity else {
            return Ok(ValidityPolicy(None));
        };
        let invalid = |reason: String| SandboxError::InvalidConfig {
            what: "platform_certificate_validity",
            reason,
        };
        let (not_before, not_after) = (unix_seconds(not_before), unix_seconds(not_after));
        if not_before >= not_after {
            return Err(invalid(format!(
                "not before ({}) must be earlier than not after ({})",
                clock::format_rfc3339(not_before),
                clock::format_rfc3339(not_after)
            )));
        }
        for (name, seconds) in [("not before", not_before), ("not after", not_after)] {
            let year = OffsetDateTime::from_unix_timestamp(seconds)
                .map(OffsetDateTime::year)
                .unwrap_or(0);
            // Outside these years X.509 cannot write the time (RFC 5280
            // allows GeneralizedTime with four-digit years only).
            if !(1..=9999).contains(&year) {
                return Err(invalid(format!("{name} is outside the years 1 to 9999")));
            }
        }
        Ok(ValidityPolicy(Some((not_before, not_after))))
    }

    /// The validity of a certificate issued at `now` (Unix seconds).
    fn at(self, now: i64) -> (i64, i64) {
        self.0.unwrap_or_else(|| {
            let not_after = OffsetDateTime::from_unix_timestamp(now)
                .ok()
                .and_then(|now| years_later(now, DEFAULT_LIFETIME_YEARS))
                .map_or(now, OffsetDateTime::unix_timestamp);
            (now.saturating_sub(DEFAULT_BACKDATE_SECS), not_after)
        })
    }
}

/// `time` plus whole years; 29 February becomes 28 February in a year
/// without it.
fn years_later(time: OffsetDateTime, years: i32) -> Option<OffsetDateTime> {
    let year = time.year().checked_add(years)?;
    time.replace_year(year)
        .or_else(|_| time.replace_day(28).and_then(|t| t.replace_year(year)))
        .ok()
}

/// Seconds since the Unix epoch (negative before it), saturating.
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Issues a self-signed certificate for `key` with a fresh random serial.
/// Fails only when the crypto library does.
pub(crate) fn issue(
    key: Arc<RsaKeyPair>,
    validity: ValidityPolicy,
) -> Result<PlatformCertificate, SandboxError> {
    let failed = |step: &str, reason: String| SandboxError::Certificate {
        reason: format!("{step}: {reason}"),
    };
    let (not_before, not_after) = validity.at(clock::unix_now());
    let time = |seconds: i64| {
        OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|e| failed("certificate validity", e.to_string()))
    };

    let pkcs8: Pkcs8V1Der<'static> = key
        .as_der()
        .map_err(|e| failed("exporting the key", e.to_string()))?;
    let signer = rcgen::KeyPair::try_from(pkcs8.as_ref())
        .map_err(|e| failed("loading the key into rcgen", e.to_string()))?;
    if signer.algorithm() != &rcgen::PKCS_RSA_SHA256 {
        return Err(failed(
            "loading the key into rcgen",
            "not read as an RSA key".to_owned(),
        ));
    }

    let serial = random_serial();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CountryName, "CN");
    subject.push(DnType::OrganizationName, SUBJECT_ORGANIZATION);
    subject.push(DnType::CommonName, SUBJECT_COMMON_NAME);

    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = time(not_before)?;
    params.not_after = time(not_after)?;
    params.distinguished_name = subject;
    params.is_ca = IsCa::ExplicitNoCa;
    // Signing answers, and encrypting sensitive fields (RSA-OAEP).
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let certificate = params
        .self_signed(&signer)
        .map_err(|e| failed("signing the certificate", e.to_string()))?;

    Ok(PlatformCertificate {
        serial: upper_hex(&serial),
        pem: encode_pem("CERTIFICATE", certificate.der()),
        not_before,
        not_after,
        key,
    })
}

/// 20 random bytes whose integer is positive and has no leading zero byte
/// (first byte 0x01..=0x7F), so that DER writes exactly these 20 bytes and
/// the serial is always 40 hex characters, however a client formats it.
fn random_serial() -> [u8; SERIAL_BYTES] {
    let mut bytes = [0u8; SERIAL_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    serial_from(bytes)
}

/// `bytes` made a serial: the first byte brought into 0x01..=0x7F, the
/// others kept.
fn serial_from(mut bytes: [u8; SERIAL_BYTES]) -> [u8; SERIAL_BYTES] {
    bytes[0] = 1 + bytes[0] % 0x7F;
    bytes
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Reads a certificate given in [`SandboxConfig::platform_certificate_pem`]
/// and checks that it certifies `key`.
pub(crate) fn from_pem(
    text: &str,
    key: Arc<RsaKeyPair>,
) -> Result<PlatformCertificate, SandboxError> {
    let invalid = |reason: String| SandboxError::InvalidKey {
        what: "platform_certificate_pem",
        reason,
    };
    let pem = pem::parse(text).map_err(|e| invalid(format!("not a PEM document: {e}")))?;
    if pem.tag() != "CERTIFICATE" {
        return Err(invalid(format!(
            "expected a CERTIFICATE PEM, found {}",
            pem.tag()
        )));
    }
    let (_, certificate) = x509_parser::parse_x509_certificate(pem.contents())
        .map_err(|e| invalid(format!("not an X.509 certificate: {e}")))?;

    // The serial as the integer's hex: drop DER's sign byte only.
    let raw = certificate.raw_serial();
    let serial = match raw {
        [0, rest @ ..] if !rest.is_empty() => upper_hex(rest),
        _ => upper_hex(raw),
    };
    let validity = certificate.validity();

    // The certificate must hold the public half of `key`: sign a probe
    // with the key and verify it with the certificate's public key.
    let public_key =
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, certificate.public_key().raw)
            .map_err(|e| invalid(format!("its public key is not a usable RSA key: {e}")))?;
    let probe = b"wxpay-sandbox: does this certificate hold the platform key?";
    let matches = sign_message(&key, probe)
        .and_then(|signature| BASE64.decode(signature).ok())
        .is_some_and(|signature| public_key.verify_sig(probe, &signature).is_ok());
    if !matches {
        return Err(invalid(
            "it does not certify platform_private_key_pem (the public keys differ)".to_owned(),
        ));
    }

    Ok(PlatformCertificate {
        serial,
        pem: encode_pem("CERTIFICATE", pem.contents()),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        key,
    })
}

/// A resource encrypted as WeChat Pay sends them: AES-256-GCM under the
/// APIv3 key, a 12-character nonce, the tag appended to the ciphertext.
#[derive(Debug, Serialize)]
pub(crate) struct EncryptedResource {
    pub(crate) algorithm: &'static str,
    pub(crate) nonce: String,
    pub(crate) associated_data: String,
    pub(crate) ciphertext: String,
}

/// Encrypts `plaintext` under `apiv3_key` (32 bytes) with a fresh nonce of
/// 12 characters from `[0-9A-Za-z]`; `None` if the key has another length.
pub(crate) fn encrypt(
    apiv3_key: &str,
    associated_data: &str,
    plaintext: &[u8],
) -> Option<EncryptedResource> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, apiv3_key.as_bytes()).ok()?);
    let nonce = random_alphanumeric(&mut rand::rng(), 12);
    let nonce_bytes: [u8; 12] = nonce.as_bytes().try_into().ok()?;
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::from(associated_data.as_bytes()),
        &mut in_out,
    )
    .ok()?;
    Some(EncryptedResource {
        algorithm: "AEAD_AES_256_GCM",
        nonce,
        associated_data: associated_data.to_owned(),
        ciphertext: BASE64.encode(in_out),
    })
}

/// `der` as a PEM block labelled `tag`, with LF line endings.
pub(crate) fn encode_pem(tag: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(tag, der), config)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rsa::KeySize;

    use super::*;

    fn key() -> Arc<RsaKeyPair> {
        Arc::new(RsaKeyPair::generate(KeySize::Rsa2048).expect("keygen"))
    }

    #[test]
    fn issued_certificates_read_back_with_their_serial_and_validity() {
        let key = key();
        let policy = ValidityPolicy(Some((1_700_000_000, 1_900_000_000)));
        let issued = issue(Arc::clone(&key), policy).expect("issue");
        assert_eq!(issued.serial.len(), 40);
        assert!(
            issued
                .serial
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert!(issued.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        let read = from_pem(&issued.pem, Arc::clone(&key)).expect("reads back");
        assert_eq!(read.serial, issued.serial);
        assert_eq!(
            (read.not_before, read.not_after),
            (1_700_000_000, 1_900_000_000)
        );
        assert_eq!(read.pem, issued.pem);

        // Another key is refused.
        match from_pem(&issued.pem, self::key()) {
            Err(SandboxError::InvalidKey { what, reason }) => {
                assert_eq!(what, "platform_certificate_pem");
                assert!(reason.contains("does not certify"), "{reason}");
            }
            other => panic!("unexpected {:?}", other.map(|c| c.serial)),
        }
    }

    #[test]
    fn default_validity_is_a_day_back_to_five_years_on() {
        // 2024-02-29T12:00:00Z: five years on has no 29 February.
        let now = 1_709_208_000;
        let (not_before, not_after) = ValidityPolicy(None).at(now);
        assert_eq!(not_before, now - 86_400);
        assert_eq!(
            clock::format_rfc3339(not_after),
            "2029-02-28T20:00:00+08:00"
        );
    }

    proptest::proptest! {
        /// Whatever random bytes come, the serial's integer is positive and
        /// has no leading zero byte, so DER writes exactly its 20 bytes
        /// (no sign byte added, none dropped); the other bytes are kept.
        #[test]
        fn serials_never_need_a_sign_byte_or_lose_a_leading_zero(
            bytes in proptest::prelude::any::<[u8; SERIAL_BYTES]>(),
        ) {
            let serial = serial_from(bytes);
            proptest::prop_assert!((0x01..=0x7F).contains(&serial[0]), "{serial:02X?}");
            proptest::prop_assert_eq!(&serial[1..], &bytes[1..]);
        }
    }

    #[test]
    fn encryption_round_trips() {
        let apiv3_key = "0123456789abcdefghijklmnopqrstuv";
        let sealed = encrypt(apiv3_key, "certificate", b"hello").expect("encrypts");
        assert_eq!(sealed.nonce.len(), 12);
        assert!(sealed.nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
        let mut bytes = BASE64.decode(&sealed.ciphertext).expect("base64");
        assert_eq!(bytes.len(), 5 + 16);
        let key =
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, apiv3_key.as_bytes()).expect("key"));
        let nonce: [u8; 12] = sealed.nonce.as_bytes().try_into().expect("12 bytes");
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(b"certificate"),
                &mut bytes,
            )
            .expect("opens");
        assert_eq!(plain, b"hello");
        assert!(encrypt("short", "certificate", b"hello").is_none());
    }
}
