//! The merchant's RSA private key.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::encoding::{MERCHANT_KEY, RsaDer, inspect_private, read_pem};
use super::{CryptoError, KeyError, MIN_RSA_BITS, from_base64, in_file, read_text_file, to_base64};
use crate::crypto::{CryptoBackend, PrivateKeyDer, RsaPrivate};

/// The merchant's RSA private key (`apiclient_key.pem`): signs requests and
/// decrypts the sensitive fields WeChat Pay encrypts for the merchant.
///
/// Parsed once when loaded; cloning shares it. `Debug` shows only the
/// backend and the key size.
#[derive(Clone)]
pub struct MerchantKey {
    key: Arc<dyn RsaPrivate>,
    backend: CryptoBackend,
}

impl MerchantKey {
    /// Loads a PEM private key, PKCS#8 (`-----BEGIN PRIVATE KEY-----`, as
    /// WeChat Pay's certificate tool writes it) or PKCS#1
    /// (`-----BEGIN RSA PRIVATE KEY-----`), with the default backend.
    ///
    /// Other PEM blocks around the key (a certificate, say) are skipped.
    ///
    /// # Errors
    /// [`KeyError`] when the text is not PEM, holds no private key, holds a
    /// key that is not RSA or is shorter than 2048 bits, or the key is
    /// invalid.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(pem, CryptoBackend::default())
    }

    /// [`MerchantKey::from_pem`] with the given backend.
    ///
    /// # Errors
    /// As [`MerchantKey::from_pem`].
    pub fn from_pem_with(pem: &str, backend: CryptoBackend) -> Result<Self, KeyError> {
        let what = MERCHANT_KEY.what;
        let block = read_pem(pem, MERCHANT_KEY)?;
        let (format, bits) =
            inspect_private(&block.der).map_err(|problem| problem.into_key_error(what))?;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::KeyTooSmall { what, bits });
        }
        let der = match format {
            RsaDer::Pkcs1Private => PrivateKeyDer::Pkcs1(&block.der),
            _ => PrivateKeyDer::Pkcs8(&block.der),
        };
        let key = backend
            .backend()
            .rsa_private_key(der)
            .map_err(|error| KeyError::InvalidKey {
                what,
                reason: error.to_string(),
            })?;
        Ok(Self { key, backend })
    }

    /// Loads a PEM private key file (see [`MerchantKey::from_pem`]) with the
    /// default backend.
    ///
    /// # Errors
    /// [`KeyError::Io`] when the file cannot be read, [`KeyError::File`]
    /// around the errors of [`MerchantKey::from_pem`]. Both name the path,
    /// never the contents.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        Self::from_pem_file_with(path, CryptoBackend::default())
    }

    /// [`MerchantKey::from_pem_file`] with the given backend.
    ///
    /// # Errors
    /// As [`MerchantKey::from_pem_file`].
    pub fn from_pem_file_with(
        path: impl AsRef<Path>,
        backend: CryptoBackend,
    ) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = read_text_file(path, MERCHANT_KEY.what)?;
        Self::from_pem_with(&text, backend).map_err(|error| in_file(path, error))
    }

    /// The backend this key was loaded with.
    pub fn backend(&self) -> CryptoBackend {
        self.backend
    }

    /// The modulus length in bits (2048 for WeChat Pay merchant keys).
    pub fn bits(&self) -> usize {
        self.key.bits()
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 / SHA-256 and returns the
    /// signature in base64: the `signature` of the `Authorization` header.
    /// Deterministic: the same message always gives the same signature.
    ///
    /// # Errors
    /// [`CryptoError::Sign`] if the backend fails (not expected with a key
    /// that loaded).
    pub fn sign_sha256(&self, message: &[u8]) -> Result<String, CryptoError> {
        let signature = self
            .key
            .sign_pkcs1_sha256(message)
            .map_err(|error| CryptoError::Sign {
                reason: error.to_string(),
            })?;
        Ok(to_base64(&signature))
    }

    /// Decrypts a base64 RSA-OAEP ciphertext (SHA-1, MGF1-SHA-1, empty
    /// label): a sensitive field WeChat Pay encrypted under this key's
    /// certificate. The plaintext is wiped when dropped.
    ///
    /// # Errors
    /// [`CryptoError::BadBase64`] when the input is not base64;
    /// [`CryptoError::Decrypt`] when it was not encrypted for this key, or
    /// was altered.
    pub fn decrypt_oaep(&self, ciphertext_base64: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let ciphertext = from_base64(ciphertext_base64).ok_or(CryptoError::BadBase64 {
            what: "RSA-OAEP ciphertext",
        })?;
        let decrypt_error = CryptoError::Decrypt {
            algorithm: "RSA-OAEP",
            check: "the data was not encrypted for this private key, or it was altered; check that this is the merchant private key of the certificate (serial) the data was encrypted for",
        };
        if ciphertext.len() != self.key.bits().div_ceil(8) {
            return Err(decrypt_error);
        }
        self.key
            .decrypt_oaep_sha1(&ciphertext)
            .map_err(|_| decrypt_error)
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantKey")
            .field("backend", &self.backend)
            .field("bits", &self.key.bits())
            .finish()
    }
}
