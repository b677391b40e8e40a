//! Platform certificates downloaded from `GET /v3/certificates`.
//!
//! Each certificate arrives AES-256-GCM-encrypted under the APIv3 key. The
//! first download is trusted through that tag; the answer's own signature
//! must then verify with one of the certificates it delivered (or one
//! already known). Certificates outside their validity are dropped.

use serde::Deserialize;

use crate::crypto::CryptoBackend;
use crate::keys::{ApiV3Key, CryptoError, KeyError, PlatformCertificate};

/// The path of the certificate download operation.
pub const CERTIFICATES_PATH: &str = "/v3/certificates";

/// Why a certificate download could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// Certificate mode needs the APIv3 key.
    #[error(
        "downloading platform certificates needs the APIv3 key: call .apiv3_key(\"<32 characters>\") on the client builder"
    )]
    NoApiV3Key,
    /// The answer is not the expected JSON.
    #[error("the certificate list is not the expected JSON")]
    Malformed(#[source] serde_json::Error),
    /// A certificate uses an algorithm this client does not know.
    #[error("certificate `{serial}` is encrypted with `{algorithm}`, expected AEAD_AES_256_GCM")]
    UnsupportedAlgorithm {
        /// The certificate's serial as announced.
        serial: String,
        /// The announced algorithm.
        algorithm: String,
    },
    /// A certificate could not be decrypted.
    #[error(
        "certificate `{serial}` could not be decrypted (check that the APIv3 key is the one set on the merchant platform)"
    )]
    Decrypt {
        /// The certificate's serial as announced.
        serial: String,
        /// The AES-GCM failure.
        #[source]
        source: CryptoError,
    },
    /// A decrypted certificate could not be read.
    #[error("certificate `{serial}` could not be read")]
    Certificate {
        /// The certificate's serial as announced.
        serial: String,
        /// Why it could not be read.
        #[source]
        source: KeyError,
    },
    /// The certificate inside does not carry the serial it was listed under.
    #[error(
        "a certificate listed as `{listed}` carries the serial `{actual}`; the list is not trustworthy"
    )]
    SerialMismatch {
        /// The serial in the list.
        listed: String,
        /// The serial inside the certificate.
        actual: String,
    },
    /// The list holds no certificate valid now.
    #[error("the certificate list holds no certificate valid now")]
    NoneValid,
}

#[derive(Deserialize)]
struct Listing {
    data: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    serial_no: String,
    encrypt_certificate: Encrypted,
}

#[derive(Deserialize)]
struct Encrypted {
    algorithm: String,
    nonce: String,
    #[serde(default)]
    associated_data: String,
    ciphertext: String,
}

/// Decrypts and reads every certificate of a `GET /v3/certificates` answer,
/// keeping those valid at `now`.
pub fn decode_certificates(
    body: &[u8],
    key: &ApiV3Key,
    backend: CryptoBackend,
    now: i64,
) -> Result<Vec<PlatformCertificate>, CertificateError> {
    let listing: Listing = serde_json::from_slice(body).map_err(CertificateError::Malformed)?;
    let mut certificates = Vec::with_capacity(listing.data.len());
    for entry in listing.data {
        let Entry {
            serial_no: serial,
            encrypt_certificate: sealed,
        } = entry;
        if sealed.algorithm != "AEAD_AES_256_GCM" {
            return Err(CertificateError::UnsupportedAlgorithm {
                serial,
                algorithm: sealed.algorithm,
            });
        }
        let pem = key
            .decrypt(&sealed.nonce, &sealed.associated_data, &sealed.ciphertext)
            .map_err(|source| CertificateError::Decrypt {
                serial: serial.clone(),
                source,
            })?;
        let pem = String::from_utf8_lossy(&pem);
        let certificate = PlatformCertificate::from_pem_with(&pem, backend).map_err(|source| {
            CertificateError::Certificate {
                serial: serial.clone(),
                source,
            }
        })?;
        if !certificate.serial().eq_ignore_ascii_case(&serial) {
            return Err(CertificateError::SerialMismatch {
                listed: serial,
                actual: certificate.serial().to_owned(),
            });
        }
        if certificate.is_valid_at(now) {
            certificates.push(certificate);
        }
    }
    if certificates.is_empty() {
        return Err(CertificateError::NoneValid);
    }
    Ok(certificates)
}
