//! Signing responses, in "WeChat Pay public key" mode or platform
//! certificate mode, and the [`Faults`] that deliberately break that
//! signing for client tests.
//!
//! A signed response carries `Wechatpay-Timestamp`, `Wechatpay-Nonce`,
//! `Wechatpay-Signature` (base64 RSASSA-PKCS1-v1_5/SHA-256 over
//! `TIMESTAMP\nNONCE\nBODY\n`), `Wechatpay-Serial` (the public key id, or
//! the certificate's serial) and `Wechatpay-Signature-Type`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore as _;

use crate::Faults;
use crate::random::random_alphanumeric;

/// `Wechatpay-Timestamp`: Unix seconds when the response was signed.
pub(crate) const HEADER_TIMESTAMP: &str = "wechatpay-timestamp";
/// `Wechatpay-Nonce`: 32 random characters.
pub(crate) const HEADER_NONCE: &str = "wechatpay-nonce";
/// `Wechatpay-Signature`: base64 signature over `TS\nNONCE\nBODY\n`.
pub(crate) const HEADER_SIGNATURE: &str = "wechatpay-signature";
/// `Wechatpay-Serial`: id of the key that signed (the public key id or a
/// certificate serial). Requests name the key they expect with it.
pub(crate) const HEADER_SERIAL: &str = "wechatpay-serial";
/// `Wechatpay-Signature-Type`: always `WECHATPAY2-SHA256-RSA2048`.
pub(crate) const HEADER_SIGNATURE_TYPE: &str = "wechatpay-signature-type";
/// `Request-ID`: unique per response, quoted in error reports.
pub(crate) const HEADER_REQUEST_ID: &str = "request-id";
/// Prefix of the deliberately invalid "signature probe" signatures.
pub(crate) const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// The key responses are signed with and the id they are announced under.
pub(crate) struct ResponseSigner<'a> {
    pub(crate) key: &'a RsaKeyPair,
    /// The public key id or the certificate serial.
    pub(crate) serial: &'a str,
}

impl ResponseSigner<'_> {
    /// Adds the signature headers for `body` to `headers`, as `faults`
    /// dictate, and returns the body to send (changed by
    /// [`Faults::tamper_body`]). `now` is the server's Unix time.
    pub(crate) fn sign(
        &self,
        status: StatusCode,
        headers: &mut HeaderMap,
        body: Bytes,
        faults: &Faults,
        now: i64,
    ) -> Bytes {
        if faults.unsigned_responses && status.is_success() {
            return body;
        }
        let mut rng = rand::rng();
        let timestamp = now.saturating_add(faults.clock_offset_secs).to_string();
        let nonce = random_alphanumeric(&mut rng, 32);
        let message = [
            timestamp.as_bytes(),
            b"\n",
            nonce.as_bytes(),
            b"\n",
            &body,
            b"\n",
        ]
        .concat();

        let signature = if faults.signtest_probe {
            let mut garbage = [0u8; 256];
            rng.fill_bytes(&mut garbage);
            format!("{SIGNTEST_PREFIX}{}", BASE64.encode(garbage))
        } else {
            match sign_message(self.key, &message) {
                Some(signature) => signature,
                None => {
                    // Not expected with a key that parsed; send the response
                    // unsigned rather than fail it, and say so.
                    tracing::error!("signing the response failed; sending it unsigned");
                    return body;
                }
            }
        };
        let serial = if faults.wrong_serial {
            unknown_serial(self.serial)
        } else {
            self.serial.to_owned()
        };

        let signature_type = HeaderValue::from_static(crate::auth::SCHEME);
        for (name, value) in [
            (HEADER_TIMESTAMP, timestamp),
            (HEADER_NONCE, nonce),
            (HEADER_SIGNATURE, signature),
            (HEADER_SERIAL, serial),
        ] {
            insert(headers, name, &value);
        }
        headers.insert(
            HeaderName::from_static(HEADER_SIGNATURE_TYPE),
            signature_type,
        );

        if faults.tamper_body {
            tamper(&body)
        } else {
            body
        }
    }
}

/// Base64 RSASSA-PKCS1-v1_5/SHA-256 signature of `message`.
pub(crate) fn sign_message(key: &RsaKeyPair, message: &[u8]) -> Option<String> {
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .ok()
    .map(|()| BASE64.encode(&signature))
}

/// Sets a header whose value the sandbox made itself; a value that is not a
/// valid header (only possible with a configured public key id holding
/// control characters) is logged and left out.
pub(crate) fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            headers.insert(HeaderName::from_static(name), value);
        }
        Err(_) => tracing::error!(header = name, "value is not a valid header value"),
    }
}

/// A key id the client cannot know: the real one with its last digit or
/// upper-case hex letter changed (`9`→`0`, `F`→`A`), so a certificate
/// serial stays upper-case hex of the same length; `X` is appended when it
/// ends in anything else.
pub(crate) fn unknown_serial(key_id: &str) -> String {
    let mut serial = key_id.to_owned();
    match serial.pop() {
        Some(last) if last.is_ascii_digit() || ('A'..='F').contains(&last) => {
            let next = match last {
                '9' => '0',
                'F' => 'A',
                other => char::from(other as u8 + 1),
            };
            serial.push(next);
        }
        Some(last) => {
            serial.push(last);
            serial.push('X');
        }
        None => serial.push('X'),
    }
    serial
}

/// The body with one byte changed: the last ASCII letter or digit moves to
/// its neighbour (`0`→`1`, `9`→`0`, `a`→`b`, `z`→`a`), so JSON stays JSON
/// and only a value changes. A body without one gets its last byte's
/// lowest bit flipped; an empty body becomes a single space.
pub(crate) fn tamper(body: &[u8]) -> Bytes {
    let mut bytes = body.to_vec();
    match bytes.iter().rposition(u8::is_ascii_alphanumeric) {
        Some(at) => {
            bytes[at] = match bytes[at] {
                b'9' => b'0',
                b'z' => b'a',
                b'Z' => b'A',
                other => other + 1,
            };
        }
        None => match bytes.last_mut() {
            Some(last) => *last ^= 1,
            None => bytes.push(b' '),
        },
    }
    Bytes::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tamper_changes_exactly_one_value_byte() {
        let body = br#"{"stock_id":"98065009"}"#;
        let tampered = tamper(body);
        assert_eq!(&tampered[..], br#"{"stock_id":"98065000"}"#);
        assert_eq!(&tamper(b"")[..], b" ");
        assert_eq!(&tamper(b"{}")[..], b"{|");
    }

    #[test]
    fn unknown_serial_differs() {
        let id = "PUB_KEY_ID_0114232134912410000000000009";
        assert_eq!(
            unknown_serial(id),
            "PUB_KEY_ID_0114232134912410000000000000"
        );
        assert_eq!(unknown_serial("abc"), "abcX");
        assert_eq!(
            unknown_serial("5F1C72E2A8931B72A2E13AF8DEE92471EB39711F"),
            "5F1C72E2A8931B72A2E13AF8DEE92471EB39711A"
        );
        assert_eq!(unknown_serial("0C"), "0D");
        assert_eq!(unknown_serial(""), "X");
    }
}
