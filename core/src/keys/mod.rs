//! Key material: the merchant private key, WeChat Pay's public keys and
//! platform certificates, and the APIv3 key.
//!
//! | type | what it is | what it does |
//! |---|---|---|
//! | [`MerchantKey`] | the merchant's RSA private key (`apiclient_key.pem`) | signs requests; decrypts sensitive fields in answers |
//! | [`VerifyingKey`] | a WeChat Pay RSA public key (`PUB_KEY_ID_…`, or a certificate's) | checks WeChat Pay's signatures; encrypts sensitive fields |
//! | [`PlatformCertificate`] | a WeChat Pay platform certificate (X.509) | a [`VerifyingKey`] with a serial and a validity period |
//! | [`ApiV3Key`] | the 32-byte APIv3 key | decrypts callback resources and downloaded certificates (AES-256-GCM) |
//!
//! Keys are parsed once, when loaded, by the [`CryptoBackend`] chosen then
//! (the default one unless a `*_with` constructor names another). Every type
//! is cheap to clone and can be shared between threads. Their `Debug` output
//! never shows key material, and the buffers that held PEM text, DER or the
//! APIv3 key are wiped when dropped.
//!
//! ```no_run
//! use wxpay_core::keys::{ApiV3Key, MerchantKey, VerifyingKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let merchant = MerchantKey::from_pem_file("apiclient_key.pem")?;
//! let signature = merchant.sign_sha256(b"GET\n/v3/certificates\n1554208460\nNONCE\n\n")?;
//!
//! let wechatpay = VerifyingKey::from_public_key_pem(&std::fs::read_to_string("pub_key.pem")?)?;
//! let encrypted_name = wechatpay.encrypt_oaep("张三".as_bytes())?;
//!
//! let api_v3_key = ApiV3Key::new("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")?;
//! # let _ = (signature, encrypted_name, api_v3_key);
//! # Ok(())
//! # }
//! ```
//!
//! [`CryptoBackend`]: crate::crypto::CryptoBackend

mod apiv3;
mod certificate;
mod encoding;
mod error;
mod merchant;
mod verifying;

pub use apiv3::ApiV3Key;
pub use certificate::PlatformCertificate;
pub use error::{CryptoError, KeyError, SignatureError};
pub use merchant::MerchantKey;
pub use verifying::VerifyingKey;

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// The shortest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

/// The prefix of WeChat Pay's deliberately invalid probe signatures.
const SIGNATURE_PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Reads a key file as text into a buffer wiped on drop. The error names the
/// path, never the contents.
fn read_text_file(path: &Path, what: &'static str) -> Result<Zeroizing<String>, KeyError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Io {
        what,
        path: path.to_owned(),
        source,
    })?);
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_owned())),
        Err(_) => Err(KeyError::File {
            path: path.to_owned(),
            error: Box::new(KeyError::NotPem {
                what,
                expected: "PEM",
                reason: "the file is not text (a DER or PKCS#12 file?); convert it to PEM"
                    .to_owned(),
            }),
        }),
    }
}

/// Adds the path to an error about a file's contents.
fn in_file(path: &Path, error: KeyError) -> KeyError {
    KeyError::File {
        path: path.to_owned(),
        error: Box::new(error),
    }
}

/// Base64 (standard alphabet, padded), as WeChat Pay writes it.
fn to_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes base64 (standard alphabet, padded).
fn from_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests;
