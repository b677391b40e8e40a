//! The `aws-lc-rs` backend.

use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use zeroize::Zeroizing;

use super::{
    Aes256Gcm, Backend, BackendError, PrivateKeyDer, PublicKeyDer, RefusedAesKey, RsaPrivate,
    RsaPublic,
};

/// The `aws-lc-rs` implementation of [`Backend`].
pub(crate) struct AwsLc;

impl Backend for AwsLc {
    fn rsa_private_key(&self, der: PrivateKeyDer<'_>) -> Result<Arc<dyn RsaPrivate>, BackendError> {
        let signing = match der {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der),
        }
        .map_err(BackendError::new)?;
        // The decrypting key only reads PKCS#8: take it from the key pair
        // itself, whatever the input format was. The buffer is zeroized on drop.
        let pkcs8 = signing.as_der().map_err(BackendError::new)?;
        let private =
            PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).map_err(BackendError::new)?;
        let bits = private.key_size_bits();
        let decrypting = OaepPrivateDecryptingKey::new(private).map_err(BackendError::new)?;
        Ok(Arc::new(AwsLcPrivate {
            signing,
            decrypting,
            bits,
            rng: SystemRandom::new(),
        }))
    }

    fn rsa_public_key(&self, der: PublicKeyDer<'_>) -> Result<Arc<dyn RsaPublic>, BackendError> {
        // `ParsedPublicKey` reads both SubjectPublicKeyInfo and RSAPublicKey.
        let bytes = match der {
            PublicKeyDer::Spki(der) | PublicKeyDer::Pkcs1(der) => der,
        };
        let verifying =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, bytes).map_err(BackendError::new)?;
        let spki = verifying.as_der().map_err(BackendError::new)?;
        let public = PublicEncryptingKey::from_der(spki.as_ref()).map_err(BackendError::new)?;
        let bits = public.key_size_bits();
        let encrypting = OaepPublicEncryptingKey::new(public).map_err(BackendError::new)?;
        Ok(Arc::new(AwsLcPublic {
            verifying,
            encrypting,
            bits,
        }))
    }

    fn aes_256_gcm(&self, key: &[u8; 32]) -> Arc<dyn Aes256Gcm> {
        match UnboundKey::new(&AES_256_GCM, key) {
            Ok(key) => Arc::new(AwsLcAesGcm(LessSafeKey::new(key))),
            Err(error) => Arc::new(RefusedAesKey(BackendError::new(error))),
        }
    }
}

struct AwsLcPrivate {
    signing: RsaKeyPair,
    decrypting: OaepPrivateDecryptingKey,
    bits: usize,
    rng: SystemRandom,
}

impl RsaPrivate for AwsLcPrivate {
    fn bits(&self) -> usize {
        self.bits
    }

    fn sign_pkcs1_sha256(&self, message: &[u8]) -> Result<Vec<u8>, BackendError> {
        let mut signature = vec![0; self.signing.public_modulus_len()];
        self.signing
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
            .map_err(BackendError::new)?;
        Ok(signature)
    }

    fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, BackendError> {
        let mut plaintext = Zeroizing::new(vec![0; self.decrypting.min_output_size()]);
        let len = self
            .decrypting
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut plaintext, None)
            .map_err(BackendError::new)?
            .len();
        plaintext.truncate(len);
        Ok(plaintext)
    }
}

struct AwsLcPublic {
    verifying: ParsedPublicKey,
    encrypting: OaepPublicEncryptingKey,
    bits: usize,
}

impl RsaPublic for AwsLcPublic {
    fn bits(&self) -> usize {
        self.bits
    }

    fn verify_pkcs1_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifying.verify_sig(message, signature).is_ok()
    }

    fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, BackendError> {
        let mut ciphertext = vec![0; self.encrypting.ciphertext_size()];
        let len = self
            .encrypting
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut ciphertext, None)
            .map_err(BackendError::new)?
            .len();
        ciphertext.truncate(len);
        Ok(ciphertext)
    }
}

struct AwsLcAesGcm(LessSafeKey);

impl Aes256Gcm for AwsLcAesGcm {
    fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, BackendError> {
        let mut buffer = Zeroizing::new(ciphertext_and_tag.to_vec());
        let len = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                &mut buffer,
            )
            .map_err(BackendError::new)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }

    fn seal(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, BackendError> {
        let mut buffer = Vec::with_capacity(plaintext.len() + AES_256_GCM.tag_len());
        buffer.extend_from_slice(plaintext);
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                &mut buffer,
            )
            .map_err(BackendError::new)?;
        Ok(buffer)
    }
}
