//! The cryptographic backends: RSA and AES-256-GCM behind one small internal
//! trait.
//!
//! Two implementations can be compiled in, chosen by cargo features:
//!
//! | feature | backend | crates |
//! |---|---|---|
//! | `aws-lc` (default) | `CryptoBackend::AwsLc` | `aws-lc-rs` |
//! | `rust-crypto` | `CryptoBackend::RustCrypto` | `rsa`, `sha1`, `sha2`, `aes-gcm` |
//!
//! With both features on, both are compiled and each key picks one at load
//! time (`MerchantKey::from_pem_with`, …); [`CryptoBackend::default`] is the
//! one used otherwise. Both produce byte-identical signatures and AES-GCM
//! ciphertexts (RSASSA-PKCS1-v1_5 and AES-GCM are deterministic).
//!
//! The backend code knows nothing of WeChat Pay: it signs, verifies, encrypts
//! and decrypts bytes. Base64, PEM, the signing message and every error a user
//! sees live in [`crate::keys`].

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

#[cfg(feature = "aws-lc")]
mod aws_lc;
#[cfg(feature = "rust-crypto")]
mod rust_crypto;

/// Which library performs the RSA and AES-GCM operations of a key.
///
/// Only the backends enabled by cargo features exist; list them with
/// [`CryptoBackend::available`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CryptoBackend {
    /// `aws-lc-rs` (AWS-LC, a BoringSSL descendant): the default and the
    /// fastest. Feature `aws-lc`.
    #[cfg(feature = "aws-lc")]
    AwsLc,
    /// The pure-Rust RustCrypto crates (`rsa`, `aes-gcm`). Feature
    /// `rust-crypto`.
    #[cfg(feature = "rust-crypto")]
    RustCrypto,
}

#[cfg(any(feature = "aws-lc", feature = "rust-crypto"))]
impl Default for CryptoBackend {
    /// `CryptoBackend::AwsLc` when compiled in, else
    /// `CryptoBackend::RustCrypto`.
    fn default() -> Self {
        #[cfg(feature = "aws-lc")]
        {
            Self::AwsLc
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            Self::RustCrypto
        }
    }
}

impl CryptoBackend {
    /// Every backend compiled into this build, the default first.
    pub fn available() -> &'static [CryptoBackend] {
        &[
            #[cfg(feature = "aws-lc")]
            Self::AwsLc,
            #[cfg(feature = "rust-crypto")]
            Self::RustCrypto,
        ]
    }

    /// A short human-readable name: `"aws-lc-rs"` or `"RustCrypto"`.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "aws-lc")]
            Self::AwsLc => "aws-lc-rs",
            #[cfg(feature = "rust-crypto")]
            Self::RustCrypto => "RustCrypto",
        }
    }

    /// The implementation behind this choice.
    pub(crate) fn backend(self) -> &'static dyn Backend {
        match self {
            #[cfg(feature = "aws-lc")]
            Self::AwsLc => &aws_lc::AwsLc,
            #[cfg(feature = "rust-crypto")]
            Self::RustCrypto => &rust_crypto::RustCrypto,
        }
    }
}

impl fmt::Display for CryptoBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An RSA private key in DER, as found inside a PEM block.
#[derive(Clone, Copy)]
pub(crate) enum PrivateKeyDer<'a> {
    /// `PrivateKeyInfo` (RFC 5208, PEM label `PRIVATE KEY`).
    Pkcs8(&'a [u8]),
    /// `RSAPrivateKey` (RFC 8017, PEM label `RSA PRIVATE KEY`).
    Pkcs1(&'a [u8]),
}

/// An RSA public key in DER, as found inside a PEM block.
#[derive(Clone, Copy)]
pub(crate) enum PublicKeyDer<'a> {
    /// `SubjectPublicKeyInfo` (RFC 5280, PEM label `PUBLIC KEY`).
    Spki(&'a [u8]),
    /// `RSAPublicKey` (RFC 8017, PEM label `RSA PUBLIC KEY`).
    Pkcs1(&'a [u8]),
}

/// A failure inside a backend. The text comes from the library and never
/// holds key material; [`crate::keys`] turns it into a user-facing error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackendError(pub(crate) String);

impl BackendError {
    pub(crate) fn new(reason: impl fmt::Display) -> Self {
        Self(reason.to_string())
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One cryptographic library. Keys are parsed once, here, into objects that
/// then sign, verify, encrypt and decrypt without parsing again.
pub(crate) trait Backend: Sync {
    /// Parses an RSA private key.
    fn rsa_private_key(&self, der: PrivateKeyDer<'_>) -> Result<Arc<dyn RsaPrivate>, BackendError>;
    /// Parses an RSA public key.
    fn rsa_public_key(&self, der: PublicKeyDer<'_>) -> Result<Arc<dyn RsaPublic>, BackendError>;
    /// Prepares an AES-256-GCM key (16-byte tags). Cannot fail: should the
    /// library refuse the key, every operation of the result reports why.
    fn aes_256_gcm(&self, key: &[u8; 32]) -> Arc<dyn Aes256Gcm>;
}

/// A parsed RSA private key.
pub(crate) trait RsaPrivate: Send + Sync {
    /// The modulus length in bits.
    fn bits(&self) -> usize;
    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (hashed here).
    fn sign_pkcs1_sha256(&self, message: &[u8]) -> Result<Vec<u8>, BackendError>;
    /// RSAES-OAEP with SHA-1, MGF1-SHA-1 and an empty label.
    fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, BackendError>;
}

/// A parsed RSA public key.
pub(crate) trait RsaPublic: Send + Sync {
    /// The modulus length in bits.
    fn bits(&self) -> usize;
    /// Whether `signature` is a valid RSASSA-PKCS1-v1_5 / SHA-256 signature
    /// of `message` (hashed here).
    fn verify_pkcs1_sha256(&self, message: &[u8], signature: &[u8]) -> bool;
    /// RSAES-OAEP with SHA-1, MGF1-SHA-1 and an empty label (randomized).
    fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, BackendError>;
}

/// A prepared AES-256-GCM key.
pub(crate) trait Aes256Gcm: Send + Sync {
    /// Authenticates and decrypts `ciphertext || tag16`.
    fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, BackendError>;
    /// Encrypts `plaintext` and appends the 16-byte tag.
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8])
    -> Result<Vec<u8>, BackendError>;
}

/// An AES-GCM key the library refused: every operation reports why.
pub(crate) struct RefusedAesKey(pub(crate) BackendError);

impl Aes256Gcm for RefusedAesKey {
    fn open(&self, _: &[u8; 12], _: &[u8], _: &[u8]) -> Result<Zeroizing<Vec<u8>>, BackendError> {
        Err(self.0.clone())
    }

    fn seal(&self, _: &[u8; 12], _: &[u8], _: &[u8]) -> Result<Vec<u8>, BackendError> {
        Err(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_first_available() {
        assert_eq!(
            CryptoBackend::available().first(),
            Some(&CryptoBackend::default())
        );
        for backend in CryptoBackend::available() {
            assert!(!backend.name().is_empty());
            assert_eq!(backend.to_string(), backend.name());
        }
    }

    #[cfg(all(feature = "aws-lc", feature = "rust-crypto"))]
    #[test]
    fn both_backends_listed() {
        assert_eq!(
            CryptoBackend::available(),
            &[CryptoBackend::AwsLc, CryptoBackend::RustCrypto]
        );
    }
}
