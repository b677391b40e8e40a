//! The RustCrypto backend: `rsa`, `sha1`, `sha2` and `aes-gcm`.

use std::sync::Arc;

use aes_gcm::aead::{AeadInOut, KeyInit, Nonce};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};
use sha1::Sha1;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{
    Aes256Gcm, Backend, BackendError, PrivateKeyDer, PublicKeyDer, RefusedAesKey, RsaPrivate,
    RsaPublic,
};

/// The RustCrypto implementation of [`Backend`].
pub(crate) struct RustCrypto;

impl Backend for RustCrypto {
    fn rsa_private_key(&self, der: PrivateKeyDer<'_>) -> Result<Arc<dyn RsaPrivate>, BackendError> {
        let key = match der {
            PrivateKeyDer::Pkcs8(der) => PrivateKey::from_pkcs8_der(der).map_err(BackendError::new),
            PrivateKeyDer::Pkcs1(der) => PrivateKey::from_pkcs1_der(der).map_err(BackendError::new),
        }?;
        let bits = modulus_bits(&key);
        Ok(Arc::new(RustCryptoPrivate {
            signing: SigningKey::new(key),
            bits,
        }))
    }

    fn rsa_public_key(&self, der: PublicKeyDer<'_>) -> Result<Arc<dyn RsaPublic>, BackendError> {
        let key = match der {
            PublicKeyDer::Spki(der) => {
                PublicKey::from_public_key_der(der).map_err(BackendError::new)
            }
            PublicKeyDer::Pkcs1(der) => PublicKey::from_pkcs1_der(der).map_err(BackendError::new),
        }?;
        let bits = modulus_bits(&key);
        let size = key.size();
        Ok(Arc::new(RustCryptoPublic {
            verifying: VerifyingKey::new(key),
            bits,
            size,
        }))
    }

    fn aes_256_gcm(&self, key: &[u8; 32]) -> Arc<dyn Aes256Gcm> {
        match aes_gcm::Aes256Gcm::new_from_slice(key) {
            Ok(cipher) => Arc::new(RustCryptoAesGcm(cipher)),
            Err(error) => Arc::new(RefusedAesKey(BackendError::new(error))),
        }
    }
}

fn modulus_bits(key: &impl PublicKeyParts) -> usize {
    usize::try_from(key.n().bit_width()).unwrap_or(usize::MAX)
}

struct RustCryptoPrivate {
    signing: SigningKey<Sha256>,
    bits: usize,
}

impl RsaPrivate for RustCryptoPrivate {
    fn bits(&self) -> usize {
        self.bits
    }

    fn sign_pkcs1_sha256(&self, message: &[u8]) -> Result<Vec<u8>, BackendError> {
        let signature = self.signing.try_sign(message).map_err(BackendError::new)?;
        Ok(signature.to_vec())
    }

    fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, BackendError> {
        let key: &PrivateKey = self.signing.as_ref();
        key.oaep_decrypt::<Sha1>(ciphertext)
            .map(Zeroizing::new)
            .map_err(BackendError::new)
    }
}

struct RustCryptoPublic {
    verifying: VerifyingKey<Sha256>,
    bits: usize,
    /// The modulus length in bytes, the length of every valid signature.
    size: usize,
}

impl RsaPublic for RustCryptoPublic {
    fn bits(&self) -> usize {
        self.bits
    }

    fn verify_pkcs1_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        if signature.len() != self.size {
            return false;
        }
        match Signature::try_from(signature) {
            Ok(signature) => self.verifying.verify(message, &signature).is_ok(),
            Err(_) => false,
        }
    }

    fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, BackendError> {
        let key: &PublicKey = self.verifying.as_ref();
        key.oaep_encrypt::<Sha1>(plaintext)
            .map_err(BackendError::new)
    }
}

struct RustCryptoAesGcm(aes_gcm::Aes256Gcm);

impl Aes256Gcm for RustCryptoAesGcm {
    fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, BackendError> {
        let nonce = Nonce::<aes_gcm::Aes256Gcm>::from(*nonce);
        let mut buffer = Zeroizing::new(ciphertext_and_tag.to_vec());
        self.0
            .decrypt_in_place(&nonce, aad, &mut *buffer)
            .map_err(|_| BackendError::new("authentication failed"))?;
        Ok(buffer)
    }

    fn seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, BackendError> {
        let nonce = Nonce::<aes_gcm::Aes256Gcm>::from(*nonce);
        let mut buffer = Vec::with_capacity(plaintext.len() + 16);
        buffer.extend_from_slice(plaintext);
        self.0
            .encrypt_in_place(&nonce, aad, &mut buffer)
            .map_err(|_| BackendError::new("plaintext or associated data too long"))?;
        Ok(buffer)
    }
}
