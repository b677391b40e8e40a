//! Signing requests: the five-line message and the `Authorization` header.
//!
//! ```text
//! METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n
//! ```
//! signed with RSASSA-PKCS1-v1_5 / SHA-256 under the merchant key.

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::endpoint::Method;
use crate::keys::{CryptoError, MerchantKey};

/// The authorization scheme of WeChat Pay APIv3.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// The exact bytes a request signature covers.
///
/// `target` is the path and query exactly as sent (no host); `body` the
/// exact body bytes (empty when there is no body, as for GET).
pub fn signing_message(
    method: Method,
    target: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let method = method.as_str();
    let timestamp = timestamp.to_string();
    let mut message = Vec::with_capacity(
        method.len() + target.len() + timestamp.len() + nonce.len() + body.len() + 5,
    );
    for line in [
        method.as_bytes(),
        target.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        message.extend_from_slice(line);
        message.push(b'\n');
    }
    message
}

/// A fresh request nonce: 32 random characters from `[0-9A-Za-z]`.
pub fn new_nonce() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Signs requests for one merchant: its mchid, its certificate serial and
/// its private key.
#[derive(Clone)]
pub struct RequestSigner {
    mchid: String,
    serial_no: String,
    key: MerchantKey,
}

impl RequestSigner {
    /// A signer for the merchant `mchid` whose API certificate has the
    /// serial `serial_no` and the private key `key`.
    pub fn new(mchid: impl Into<String>, serial_no: impl Into<String>, key: MerchantKey) -> Self {
        RequestSigner {
            mchid: mchid.into(),
            serial_no: serial_no.into(),
            key,
        }
    }

    /// The merchant id.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The merchant certificate serial.
    pub fn serial_no(&self) -> &str {
        &self.serial_no
    }

    /// The merchant private key.
    pub(crate) fn key(&self) -> &MerchantKey {
        &self.key
    }

    /// Signs one request and returns the `Authorization` header value.
    pub fn authorization(
        &self,
        method: Method,
        target: &str,
        body: &[u8],
        timestamp: i64,
        nonce: &str,
    ) -> Result<String, CryptoError> {
        let message = signing_message(method, target, timestamp, nonce, body);
        let signature = self.key.sign_sha256(&message)?;
        Ok(format!(
            "{SCHEME} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.serial_no
        ))
    }
}

impl std::fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSigner")
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("key", &self.key)
            .finish()
    }
}

/// The current Unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_five_terminated_lines() {
        let message = signing_message(Method::Get, "/v3/certificates", 1554208460, "N", b"");
        assert_eq!(message, b"GET\n/v3/certificates\n1554208460\nN\n\n");
    }

    #[test]
    fn nonce_is_32_alphanumerics_and_fresh() {
        let a = new_nonce();
        let b = new_nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
