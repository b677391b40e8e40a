//! APIv2 notifications: payment results (signed XML), refund results
//! (`req_info` encrypted with AES-256-ECB), and the XML replies.
//!
//! Answer every notification with [`reply_success`] once it is safely
//! recorded, or [`reply_fail`] to have WeChat Pay send it again later. A
//! payment whose `result_code` is `FAIL` is still a notification to record
//! and acknowledge, so it decodes like any other.

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecb::cipher::block_padding::Pkcs7;
use ecb::cipher::{BlockModeDecrypt as _, BlockModeEncrypt as _, KeyInit as _};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::answer::check_return_code;
use super::sign::SIGN_TYPE;
use super::xml::MAX_BODY;
use super::{DecryptError, Fields, SignType, V2Error, V2Key, verify};

/// The AES block size, in bytes.
const BLOCK: usize = 16;

/// Reads and verifies a payment result notification, answering all its
/// fields: `return_code` must be `SUCCESS`, and the `sign` must match with
/// the sign type the `sign_type` field names (`MD5` when there is none).
///
/// # Errors
/// [`V2Error::Xml`], [`V2Error::Return`], [`V2Error::SignType`],
/// [`V2Error::Unsigned`], [`V2Error::BadSignature`].
pub fn payment_fields(body: &[u8], key: &V2Key) -> Result<Fields, V2Error> {
    let fields = Fields::from_xml(body)?;
    check_return_code(&fields)?;
    let sign_type = match fields.get(SIGN_TYPE) {
        Some(name) if !name.is_empty() => name.parse()?,
        _ => SignType::Md5,
    };
    verify(&fields, key, sign_type)?;
    Ok(fields)
}

/// [`payment_fields`], then the fields decoded as `T`.
///
/// # Errors
/// Those of [`payment_fields`], and [`V2Error::Decode`].
pub fn decode_payment<T: DeserializeOwned>(body: &[u8], key: &V2Key) -> Result<T, V2Error> {
    Ok(payment_fields(body, key)?.decode()?)
}

/// Reads a refund result notification and decrypts its `req_info`,
/// answering the refund's fields, with the outer `appid`, `mch_id`,
/// `sub_appid`, `sub_mch_id` and `nonce_str` added where the decrypted
/// fields lack them. The notification has no `sign`: decrypting with the
/// key derived from the APIv2 key is what authenticates it.
///
/// # Errors
/// [`V2Error::Xml`] (outer or decrypted document), [`V2Error::Return`],
/// [`V2Error::Decrypt`].
pub fn refund_fields(body: &[u8], key: &V2Key) -> Result<Fields, V2Error> {
    let outer = Fields::from_xml(body)?;
    check_return_code(&outer)?;
    let req_info = outer
        .get("req_info")
        .filter(|info| !info.is_empty())
        .ok_or(DecryptError::MissingReqInfo)?;
    let plain = decrypt_refund_info(req_info, key)?;
    let mut fields = Fields::from_xml(&plain)?;
    for name in ["appid", "mch_id", "sub_appid", "sub_mch_id", "nonce_str"] {
        if let Some(value) = outer.get(name)
            && !fields.contains(name)
        {
            fields.insert(name, value);
        }
    }
    Ok(fields)
}

/// [`refund_fields`], then the fields decoded as `T`.
///
/// # Errors
/// Those of [`refund_fields`], and [`V2Error::Decode`].
pub fn decode_refund<T: DeserializeOwned>(body: &[u8], key: &V2Key) -> Result<T, V2Error> {
    Ok(refund_fields(body, key)?.decode()?)
}

/// Decrypts a refund notification's `req_info`: base64, then AES-256-ECB
/// with PKCS#7 padding under the lower-case hex MD5 of the APIv2 key. The
/// plaintext (a `<root>…</root>` document) is wiped when dropped.
///
/// # Errors
/// [`DecryptError`] for bad base64, a length that is not whole blocks, or
/// a wrong key or altered ciphertext (the padding does not check).
pub fn decrypt_refund_info(
    req_info: &str,
    key: &V2Key,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let req_info = req_info.trim();
    if req_info.len() > MAX_BODY.div_ceil(3) * 4 {
        return Err(DecryptError::BadLength {
            len: req_info.len() / 4 * 3,
        });
    }
    let ciphertext = STANDARD
        .decode(req_info)
        .map_err(|_| DecryptError::BadBase64)?;
    if ciphertext.is_empty() || ciphertext.len() % BLOCK != 0 {
        return Err(DecryptError::BadLength {
            len: ciphertext.len(),
        });
    }
    let aes_key = key.refund_aes_key();
    let cipher = ecb::Decryptor::<Aes256>::new_from_slice(&aes_key[..])
        .map_err(|_| DecryptError::WrongKeyOrAltered)?;
    cipher
        .decrypt_padded_vec::<Pkcs7>(&ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| DecryptError::WrongKeyOrAltered)
}

/// Encrypts `plain_xml` as WeChat Pay does for a refund notification's
/// `req_info` (for the sandbox and tests): AES-256-ECB with PKCS#7 padding
/// under the lower-case hex MD5 of the APIv2 key, then base64.
pub fn encrypt_refund_info(plain_xml: &[u8], key: &V2Key) -> String {
    let aes_key = key.refund_aes_key();
    // A 32-byte slice is always a valid AES-256 key.
    let Ok(cipher) = ecb::Encryptor::<Aes256>::new_from_slice(&aes_key[..]) else {
        return String::new();
    };
    STANDARD.encode(cipher.encrypt_padded_vec::<Pkcs7>(plain_xml))
}

/// The reply that acknowledges a notification:
/// `<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>`.
pub fn reply_success() -> String {
    "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
        .to_owned()
}

/// The reply that refuses a notification, so WeChat Pay sends it again
/// later: `return_code` `FAIL` with `msg` (always written as CDATA, a
/// `]]>` in it split safely; keep it short and free of secrets).
pub fn reply_fail(msg: &str) -> String {
    let mut out = String::from("<xml><return_code><![CDATA[FAIL]]></return_code><return_msg>");
    if msg.contains('\r') {
        super::xml::push_value(&mut out, msg);
    } else {
        out.push_str("<![CDATA[");
        out.push_str(&msg.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]>");
    }
    out.push_str("</return_msg></xml>");
    out
}
