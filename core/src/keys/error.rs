//! The errors of loading keys and of using them.

use std::path::PathBuf;

/// A key, certificate or APIv3 key could not be loaded.
///
/// Messages say what was expected and what to check; they never quote key
/// material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not valid PEM: no `-----BEGIN …-----` line, a missing
    /// `-----END …-----` line, or a body that is not base64.
    #[error("the {what} is not valid PEM text (expected a {expected} block): {reason}")]
    NotPem {
        /// What was being loaded, e.g. "merchant private key".
        what: &'static str,
        /// The PEM label(s) accepted.
        expected: &'static str,
        /// What is wrong with the text.
        reason: String,
    },
    /// The PEM block holds something else than what was asked for.
    #[error("the {what} must be a {expected} PEM block, but the block found is `{found}`{hint}")]
    UnexpectedPemLabel {
        /// What was being loaded.
        what: &'static str,
        /// The label of the block found (`-----BEGIN <found>-----`).
        found: String,
        /// The PEM label(s) accepted.
        expected: &'static str,
        /// Advice for this particular mix-up (may be empty).
        hint: &'static str,
    },
    /// The key is not an RSA key.
    #[error(
        "the {what} is not an RSA key (its algorithm is {algorithm}); WeChat Pay APIv3 signs with RSA-2048 (`WECHATPAY2-SHA256-RSA2048`)"
    )]
    NotRsa {
        /// What was being loaded.
        what: &'static str,
        /// The algorithm found: a name when known, else its OID.
        algorithm: String,
    },
    /// The RSA key is shorter than 2048 bits.
    #[error(
        "the {what} is a {bits}-bit RSA key; WeChat Pay uses 2048-bit keys and keys under 2048 bits are refused"
    )]
    KeyTooSmall {
        /// What was being loaded.
        what: &'static str,
        /// The modulus length found.
        bits: usize,
    },
    /// The key is framed correctly but its contents were rejected.
    #[error("invalid {what}: {reason}")]
    InvalidKey {
        /// What was being loaded.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A key file could not be read.
    #[error("cannot read the {what} from `{}`", path.display())]
    Io {
        /// What was being loaded.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// A key file was read but its contents were rejected.
    #[error("in `{}`: {error}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with its contents.
        error: Box<KeyError>,
    },
    /// The APIv3 key is not 32 bytes long.
    #[error(
        "the APIv3 key must be exactly 32 bytes (the 32 characters set in the merchant platform under Account Center > API Security), found {found} bytes; check for a missing character, surrounding whitespace or quotes, or a v2 API key given instead"
    )]
    ApiV3KeyLength {
        /// The length found, in bytes.
        found: usize,
    },
    /// The X.509 certificate could not be parsed.
    #[error("invalid platform certificate: {reason}")]
    Certificate {
        /// Why it was rejected.
        reason: String,
    },
}

/// A cryptographic operation with a loaded key failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// An input that must be base64 is not.
    #[error("the {what} is not valid base64 (standard alphabet with `=` padding)")]
    BadBase64 {
        /// Which input, e.g. "AEAD ciphertext".
        what: &'static str,
    },
    /// The AEAD nonce is not 12 bytes.
    #[error(
        "the AEAD nonce must be 12 bytes (the `nonce` field next to the ciphertext), found {len} bytes"
    )]
    BadNonce {
        /// The length found, in bytes.
        len: usize,
    },
    /// The ciphertext is too short to be genuine.
    #[error("the {what} is {len} bytes long, shorter than the minimum of {min}: it was truncated")]
    Truncated {
        /// Which input.
        what: &'static str,
        /// The length found after base64 decoding.
        len: usize,
        /// The shortest possible genuine length.
        min: usize,
    },
    /// Decryption failed: wrong key, or data altered.
    #[error("{algorithm} decryption failed: {check}")]
    Decrypt {
        /// `AEAD_AES_256_GCM` or `RSA-OAEP`.
        algorithm: &'static str,
        /// Which key to check, and what else may be wrong.
        check: &'static str,
    },
    /// Signing failed.
    #[error("RSA signing failed ({reason}); check the merchant private key")]
    Sign {
        /// The backend's reason.
        reason: String,
    },
    /// Encryption failed.
    #[error("{algorithm} encryption failed: {reason}")]
    Encrypt {
        /// `AEAD_AES_256_GCM` or `RSA-OAEP`.
        algorithm: &'static str,
        /// Why.
        reason: String,
    },
}

/// A WeChat Pay signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A deliberately invalid probe signature (it starts with
    /// `WECHATPAY/SIGNTEST/`). WeChat Pay sends these to check that
    /// signatures are verified; reject the message (a callback answers
    /// 4xx/5xx) and WeChat Pay resends it with a real signature.
    #[error(
        "signature probe: the signature starts with `WECHATPAY/SIGNTEST/`, a deliberately invalid signature WeChat Pay sends to test verification; reject the message and WeChat Pay will resend it with a real signature"
    )]
    Probe,
    /// The signature is not base64, or not as long as the key's modulus.
    #[error(
        "malformed signature: not base64, or not as long as the key's modulus; check that the `Wechatpay-Signature` header is passed unchanged"
    )]
    Malformed,
    /// The signature does not match the message under this key.
    #[error(
        "signature mismatch: the message was altered, or it was signed by another key; check that the key matches the `Wechatpay-Serial` header and that the body is verified as the raw bytes received"
    )]
    Mismatch,
}
