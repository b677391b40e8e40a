//! Sensitive request fields (a payee's or receiver's name, …): WeChat Pay
//! takes them encrypted with RSA-OAEP (SHA-1, MGF1-SHA-1, no label) under
//! the platform key the request's `Wechatpay-Serial` names, in base64.
//! Every handler that takes one decrypts it here.

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::errors::{ApiError, Location};
use crate::signing::HEADER_SERIAL;
use crate::state::AppState;

/// The plain text of the encrypted field at `pointer` in the body.
///
/// A missing `Wechatpay-Serial`, one that names no key of the sandbox (the
/// platform public key id, or the serial of a certificate it serves), and
/// a value that is not base64, does not decrypt under that key or is not
/// UTF-8 are each a 400 `PARAM_ERROR` at `pointer` that says what to do.
pub(crate) fn decrypt(
    app: &AppState,
    headers: &HeaderMap,
    ciphertext: &str,
    pointer: &str,
) -> Result<String, ApiError> {
    let refuse = |issue: String| ApiError::param_error(Location::Body, pointer, None, issue);
    let serial = headers
        .get(HEADER_SERIAL)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if serial.is_empty() {
        return Err(refuse(
            "is encrypted, so the request must name the key it used in the Wechatpay-Serial \
             header (the platform public key id or a platform certificate serial)"
                .to_owned(),
        ));
    }
    let pair = if serial == app.0.credentials.public_key_id {
        std::sync::Arc::clone(&app.0.keys.platform_key)
    } else if let Some(certificate) = app
        .certificates_newest_first()
        .into_iter()
        .find(|certificate| certificate.serial == serial)
    {
        std::sync::Arc::clone(&certificate.key)
    } else {
        return Err(refuse(format!(
            "Wechatpay-Serial {serial:?} names no key of this sandbox: use the public key id {} \
             or the serial of a certificate from GET /v3/certificates",
            app.0.credentials.public_key_id
        )));
    };
    let der: Pkcs8V1Der<'static> = pair
        .as_der()
        .map_err(|_| ApiError::system_error("the sandbox cannot export its platform key"))?;
    let key = PrivateDecryptingKey::from_pkcs8(der.as_ref())
        .map_err(|_| ApiError::system_error("the sandbox cannot read its platform key"))?;
    let oaep = OaepPrivateDecryptingKey::new(key)
        .map_err(|_| ApiError::system_error("the sandbox cannot use its platform key"))?;
    let how = "encrypt it with RSA-OAEP (SHA-1, MGF1-SHA-1) under the key Wechatpay-Serial \
               names and send the ciphertext in base64";
    let bytes = BASE64
        .decode(ciphertext.trim())
        .map_err(|_| refuse(format!("is not base64: {how}")))?;
    let mut output = vec![0u8; oaep.min_output_size()];
    let plain = oaep
        .decrypt(&OAEP_SHA1_MGF1SHA1, &bytes, &mut output, None)
        .map_err(|_| refuse(format!("does not decrypt: {how}")))?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| refuse("decrypts to bytes that are not UTF-8".to_owned()))
}
