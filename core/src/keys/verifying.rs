//! A WeChat Pay RSA public key.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::encoding::{PUBLIC_KEY, RsaDer, inspect_public, read_pem};
use super::{
    CryptoError, KeyError, MIN_RSA_BITS, SIGNATURE_PROBE_PREFIX, SignatureError, from_base64,
    in_file, read_text_file, to_base64,
};
use crate::crypto::{CryptoBackend, PublicKeyDer, RsaPublic};

/// A WeChat Pay RSA public key: checks WeChat Pay's signatures on answers
/// and callbacks, and encrypts sensitive request fields.
///
/// Load a "WeChat Pay public key" (`pub_key.pem`, id `PUB_KEY_ID_…`) with
/// [`VerifyingKey::from_public_key_pem`]; a platform certificate's key is
/// [`PlatformCertificate::verifying_key`](super::PlatformCertificate::verifying_key).
/// Parsed once when loaded; cloning shares it.
#[derive(Clone)]
pub struct VerifyingKey {
    key: Arc<dyn RsaPublic>,
    backend: CryptoBackend,
}

impl VerifyingKey {
    /// Loads a PEM public key, `-----BEGIN PUBLIC KEY-----`
    /// (SubjectPublicKeyInfo, as WeChat Pay delivers it) or
    /// `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1), with the default backend.
    ///
    /// # Errors
    /// [`KeyError`] when the text is not PEM, holds no public key, holds a
    /// key that is not RSA or is shorter than 2048 bits, or the key is
    /// invalid.
    pub fn from_public_key_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_public_key_pem_with(pem, CryptoBackend::default())
    }

    /// [`VerifyingKey::from_public_key_pem`] with the given backend.
    ///
    /// # Errors
    /// As [`VerifyingKey::from_public_key_pem`].
    pub fn from_public_key_pem_with(pem: &str, backend: CryptoBackend) -> Result<Self, KeyError> {
        let block = read_pem(pem, PUBLIC_KEY)?;
        Self::from_der(&block.der, backend, PUBLIC_KEY.what)
    }

    /// Loads a PEM public key file (see
    /// [`VerifyingKey::from_public_key_pem`]) with the default backend.
    ///
    /// # Errors
    /// [`KeyError::Io`] when the file cannot be read, [`KeyError::File`]
    /// around the errors of [`VerifyingKey::from_public_key_pem`].
    pub fn from_public_key_pem_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = read_text_file(path, PUBLIC_KEY.what)?;
        Self::from_public_key_pem(&text).map_err(|error| in_file(path, error))
    }

    /// Loads a DER SubjectPublicKeyInfo or PKCS#1 RSAPublicKey.
    pub(crate) fn from_der(
        der: &[u8],
        backend: CryptoBackend,
        what: &'static str,
    ) -> Result<Self, KeyError> {
        let (format, bits) = inspect_public(der).map_err(|problem| problem.into_key_error(what))?;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::KeyTooSmall { what, bits });
        }
        let der = match format {
            RsaDer::Pkcs1Public => PublicKeyDer::Pkcs1(der),
            _ => PublicKeyDer::Spki(der),
        };
        let key = backend
            .backend()
            .rsa_public_key(der)
            .map_err(|error| KeyError::InvalidKey {
                what,
                reason: error.to_string(),
            })?;
        Ok(Self { key, backend })
    }

    /// The backend this key was loaded with.
    pub fn backend(&self) -> CryptoBackend {
        self.backend
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.key.bits()
    }

    /// Checks a base64 RSASSA-PKCS1-v1_5 / SHA-256 signature over `message`
    /// (for an answer or callback, `TIMESTAMP\nNONCE\nBODY\n`).
    ///
    /// # Errors
    /// - [`SignatureError::Probe`] for WeChat Pay's deliberately invalid
    ///   `WECHATPAY/SIGNTEST/…` signatures;
    /// - [`SignatureError::Malformed`] when the signature is not base64 or
    ///   not as long as the modulus;
    /// - [`SignatureError::Mismatch`] when it does not match.
    pub fn verify_sha256(
        &self,
        message: &[u8],
        signature_base64: &str,
    ) -> Result<(), SignatureError> {
        if signature_base64.starts_with(SIGNATURE_PROBE_PREFIX) {
            return Err(SignatureError::Probe);
        }
        let signature = from_base64(signature_base64).ok_or(SignatureError::Malformed)?;
        if signature.len() != self.key.bits().div_ceil(8) {
            return Err(SignatureError::Malformed);
        }
        if self.key.verify_pkcs1_sha256(message, &signature) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }

    /// Encrypts a sensitive field with RSA-OAEP (SHA-1, MGF1-SHA-1, empty
    /// label) and returns it in base64. Randomized: every call gives a
    /// different ciphertext. The request must then carry
    /// `Wechatpay-Serial` naming this key.
    ///
    /// # Errors
    /// [`CryptoError::Encrypt`] when the plaintext is longer than the key
    /// allows (214 bytes for RSA-2048).
    pub fn encrypt_oaep(&self, plaintext: &[u8]) -> Result<String, CryptoError> {
        // OAEP with SHA-1 adds 2 * 20 + 2 bytes.
        let max = self.key.bits().div_ceil(8).saturating_sub(42);
        if plaintext.len() > max {
            return Err(CryptoError::Encrypt {
                algorithm: "RSA-OAEP",
                reason: format!(
                    "the plaintext is {} bytes, but a {}-bit key encrypts at most {max} bytes with OAEP/SHA-1",
                    plaintext.len(),
                    self.key.bits()
                ),
            });
        }
        let ciphertext =
            self.key
                .encrypt_oaep_sha1(plaintext)
                .map_err(|error| CryptoError::Encrypt {
                    algorithm: "RSA-OAEP",
                    reason: error.to_string(),
                })?;
        Ok(to_base64(&ciphertext))
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("backend", &self.backend)
            .field("bits", &self.key.bits())
            .finish()
    }
}
