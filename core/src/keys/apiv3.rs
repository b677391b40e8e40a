//! The APIv3 key.

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{CryptoError, KeyError, from_base64, to_base64};
use crate::crypto::{Aes256Gcm, CryptoBackend};

/// The length of the APIv3 key, in bytes.
const KEY_LEN: usize = 32;
/// The length of an AEAD nonce, in bytes.
const NONCE_LEN: usize = 12;
/// The length of a GCM tag, in bytes.
const TAG_LEN: usize = 16;

const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// The APIv3 key: 32 ASCII characters set in the merchant platform, used
/// raw as an AES-256-GCM key to decrypt callback resources and downloaded
/// platform certificates.
///
/// The key bytes are wiped when dropped; `Debug` shows only the backend.
#[derive(Clone)]
pub struct ApiV3Key {
    key: Zeroizing<[u8; KEY_LEN]>,
    cipher: Arc<dyn Aes256Gcm>,
    backend: CryptoBackend,
}

impl ApiV3Key {
    /// Takes the key as given (text or bytes), with the default backend.
    ///
    /// # Errors
    /// [`KeyError::ApiV3KeyLength`] when it is not exactly 32 bytes.
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let bytes = key.as_ref();
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return Err(KeyError::ApiV3KeyLength { found: bytes.len() });
        }
        key.copy_from_slice(bytes);
        let backend = CryptoBackend::default();
        let cipher = backend.backend().aes_256_gcm(&key);
        Ok(Self {
            key,
            cipher,
            backend,
        })
    }

    /// The same key, used through `backend`.
    #[must_use]
    pub fn with_backend(mut self, backend: CryptoBackend) -> Self {
        if backend != self.backend {
            self.cipher = backend.backend().aes_256_gcm(&self.key);
            self.backend = backend;
        }
        self
    }

    /// The backend this key is used through.
    pub fn backend(&self) -> CryptoBackend {
        self.backend
    }

    /// Decrypts an `AEAD_AES_256_GCM` resource: `nonce` (12 characters) and
    /// `associated_data` (may be empty) as they appear next to the base64
    /// `ciphertext` (the encrypted bytes followed by the 16-byte tag). The
    /// plaintext is wiped when dropped.
    ///
    /// # Errors
    /// [`CryptoError::BadNonce`], [`CryptoError::BadBase64`],
    /// [`CryptoError::Truncated`] for inputs of the wrong shape;
    /// [`CryptoError::Decrypt`] for a wrong APIv3 key or altered data.
    pub fn decrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        ciphertext_base64: &str,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let nonce = nonce_bytes(nonce)?;
        let ciphertext = from_base64(ciphertext_base64).ok_or(CryptoError::BadBase64 {
            what: "AEAD ciphertext",
        })?;
        if ciphertext.len() < TAG_LEN {
            return Err(CryptoError::Truncated {
                what: "AEAD ciphertext (with its 16-byte tag)",
                len: ciphertext.len(),
                min: TAG_LEN,
            });
        }
        self.cipher.open(&nonce, associated_data.as_bytes(), &ciphertext).map_err(|_| {
            CryptoError::Decrypt {
                algorithm: ALGORITHM,
                check: "the APIv3 key is wrong, or the ciphertext, nonce or associated_data was altered; check that the APIv3 key is the one set in the merchant platform (Account Center > API Security) and that nonce and associated_data are passed unchanged",
            }
        })
    }

    /// Encrypts `plaintext` as WeChat Pay does (for tests and simulators):
    /// returns base64 of the ciphertext followed by the 16-byte tag.
    /// Deterministic for a given key and nonce; never reuse a nonce for
    /// different plaintexts.
    ///
    /// # Errors
    /// [`CryptoError::BadNonce`] when the nonce is not 12 bytes;
    /// [`CryptoError::Encrypt`] if the backend fails.
    pub fn encrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        plaintext: &[u8],
    ) -> Result<String, CryptoError> {
        let nonce = nonce_bytes(nonce)?;
        let sealed = self
            .cipher
            .seal(&nonce, associated_data.as_bytes(), plaintext)
            .map_err(|error| CryptoError::Encrypt {
                algorithm: ALGORITHM,
                reason: error.to_string(),
            })?;
        Ok(to_base64(&sealed))
    }
}

fn nonce_bytes(nonce: &str) -> Result<[u8; NONCE_LEN], CryptoError> {
    <[u8; NONCE_LEN]>::try_from(nonce.as_bytes())
        .map_err(|_| CryptoError::BadNonce { len: nonce.len() })
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiV3Key")
            .field("key", &format_args!("<redacted>"))
            .field("backend", &self.backend)
            .finish()
    }
}
