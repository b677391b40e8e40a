//! A WeChat Pay platform certificate.

use std::fmt;
use std::sync::Arc;

use super::encoding::{CERTIFICATE, encode_pem, read_pem};
use super::{KeyError, VerifyingKey};
use crate::crypto::CryptoBackend;

/// A WeChat Pay platform certificate (X.509): the public key that signs
/// answers and callbacks in certificate mode, with its serial and validity.
///
/// Cloning shares it. No chain or signature check is made here: a
/// certificate is trusted through the way it was obtained (the AES-GCM tag
/// of `GET /v3/certificates` under the APIv3 key, or a file the merchant
/// put in place).
#[derive(Clone)]
pub struct PlatformCertificate {
    inner: Arc<Inner>,
}

struct Inner {
    serial: String,
    not_before: i64,
    not_after: i64,
    key: VerifyingKey,
    pem: String,
}

impl PlatformCertificate {
    /// Loads a PEM certificate (`-----BEGIN CERTIFICATE-----`) with the
    /// default backend. With several blocks, the first certificate is used.
    ///
    /// # Errors
    /// [`KeyError`] when the text is not PEM or holds no certificate,
    /// [`KeyError::Certificate`] when the certificate cannot be parsed, and
    /// the key errors when its public key is not a usable RSA key.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(pem, CryptoBackend::default())
    }

    /// [`PlatformCertificate::from_pem`] with the given backend (the one of
    /// its [`VerifyingKey`]).
    ///
    /// # Errors
    /// As [`PlatformCertificate::from_pem`].
    pub fn from_pem_with(pem: &str, backend: CryptoBackend) -> Result<Self, KeyError> {
        let block = read_pem(pem, CERTIFICATE)?;
        let (_, certificate) =
            x509_parser::parse_x509_certificate(&block.der).map_err(|error| {
                KeyError::Certificate {
                    reason: error.to_string(),
                }
            })?;
        let pem = encode_pem("CERTIFICATE", &block.der).map_err(|error| KeyError::Certificate {
            reason: format!("cannot encode it as PEM again ({error})"),
        })?;
        let validity = certificate.validity();
        let key = VerifyingKey::from_der(
            certificate.public_key().raw,
            backend,
            "public key of the platform certificate",
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                serial: serial_hex(certificate.raw_serial()),
                not_before: validity.not_before.timestamp(),
                not_after: validity.not_after.timestamp(),
                key,
                pem,
            }),
        })
    }

    /// The serial number in upper-case hex, two digits per byte, leading
    /// zeros kept: the form WeChat Pay announces in `Wechatpay-Serial`
    /// (e.g. `5157F09EFDC096DE15EBE81A47057A7232F1B8E1`).
    pub fn serial(&self) -> &str {
        &self.inner.serial
    }

    /// The start of the validity period, in Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.inner.not_before
    }

    /// The end of the validity period, in Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.inner.not_after
    }

    /// Whether `unix_seconds` falls within the validity period (both ends
    /// included).
    pub fn is_valid_at(&self, unix_seconds: i64) -> bool {
        (self.inner.not_before..=self.inner.not_after).contains(&unix_seconds)
    }

    /// The certificate's public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.inner.key
    }

    /// The certificate in PEM (the first certificate block of the input,
    /// re-encoded with `\n` line ends).
    pub fn pem(&self) -> &str {
        &self.inner.pem
    }
}

impl fmt::Debug for PlatformCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformCertificate")
            .field("serial", &self.inner.serial)
            .field("not_before", &self.inner.not_before)
            .field("not_after", &self.inner.not_after)
            .field("key", &self.inner.key)
            .finish()
    }
}

/// The serial's DER integer bytes as upper-case hex. A leading 0x00 byte
/// that DER adds only to keep the integer positive is dropped; a leading
/// zero digit of the first significant byte is kept.
fn serial_hex(raw: &[u8]) -> String {
    let significant = match raw {
        [0, rest @ ..] if rest.first().is_some_and(|&b| b >= 0x80) => rest,
        _ => raw,
    };
    hex::encode_upper(significant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_keeps_leading_zero_digits() {
        assert_eq!(serial_hex(&[0x0A, 0xBC]), "0ABC");
        assert_eq!(serial_hex(&[0x00, 0x9F, 0x01]), "9F01");
        assert_eq!(serial_hex(&[0x5F, 0x1C]), "5F1C");
        assert_eq!(serial_hex(&[0x00]), "00");
    }

    #[test]
    fn certificate_errors() {
        assert!(matches!(
            PlatformCertificate::from_pem(""),
            Err(KeyError::NotPem { .. })
        ));
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            PlatformCertificate::from_pem(garbage),
            Err(KeyError::Certificate { .. })
        ));
        let public = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        match PlatformCertificate::from_pem(public) {
            Err(error @ KeyError::UnexpectedPemLabel { .. }) => {
                assert!(
                    error
                        .to_string()
                        .contains("VerifyingKey::from_public_key_pem")
                );
            }
            other => panic!("expected UnexpectedPemLabel, got {other:?}"),
        }
    }
}
