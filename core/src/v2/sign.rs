//! APIv2 signatures: `MD5` or `HMAC-SHA256` over the sorted fields.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use hmac::{Hmac, KeyInit as _, Mac as _};
use md5::{Digest as _, Md5};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::{Fields, V2Key};
use crate::v2_error::{ParseSignTypeError, V2Error};

/// The name of the signature field.
pub(crate) const SIGN: &str = "sign";
/// The name of the field that announces the sign type.
pub(crate) const SIGN_TYPE: &str = "sign_type";
/// The name of the nonce field.
const NONCE_STR: &str = "nonce_str";

/// How an APIv2 message is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignType {
    /// `MD5`: the upper-case hex MD5 of the signing string. What a message
    /// without a `sign_type` field is signed with.
    Md5,
    /// `HMAC-SHA256`: the upper-case hex HMAC-SHA256 of the signing string,
    /// keyed with the APIv2 key.
    HmacSha256,
}

impl SignType {
    /// The name as the `sign_type` field carries it: `MD5` or `HMAC-SHA256`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignType {
    type Err = ParseSignTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "MD5" => Ok(SignType::Md5),
            "HMAC-SHA256" => Ok(SignType::HmacSha256),
            other => Err(ParseSignTypeError {
                // A sign type is a short code; keep the message short too.
                found: other.chars().take(32).collect(),
            }),
        }
    }
}

/// The sign types an APIv2 operation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signing {
    /// `MD5` only; the operation has no `sign_type` field (red packets,
    /// payments to a wallet, …).
    Md5Only,
    /// `HMAC-SHA256` only, announced in `sign_type` (profit sharing, …).
    HmacSha256Only,
    /// Either, announced in `sign_type` (the pay and refund operations).
    Either,
}

impl Signing {
    /// The sign type a request is signed with: the only one the operation
    /// accepts, or `preferred` when it accepts both.
    pub const fn choose(self, preferred: SignType) -> SignType {
        match self {
            Signing::Md5Only => SignType::Md5,
            Signing::HmacSha256Only => SignType::HmacSha256,
            Signing::Either => preferred,
        }
    }

    /// Whether the request carries a `sign_type` field: not for
    /// [`Signing::Md5Only`] operations, whose schema has none.
    pub const fn sends_sign_type(self) -> bool {
        !matches!(self, Signing::Md5Only)
    }
}

/// The signature of `fields` with `key`: every field but `sign` and the
/// empty ones, sorted by name (byte order), joined as `k=v&k=v`, followed by
/// `&key=<APIv2 key>`; its MD5 or HMAC-SHA256 (keyed with the APIv2 key) in
/// upper-case hex.
pub fn sign(fields: &Fields, key: &V2Key, sign_type: SignType) -> String {
    let message = signing_string(fields, key);
    match sign_type {
        SignType::Md5 => hex::encode_upper(Md5::digest(message.as_bytes())),
        SignType::HmacSha256 => {
            // HMAC accepts keys of any length; the fallback is unreachable
            // but keeps this function free of panics.
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_str().as_bytes()) else {
                return String::new();
            };
            mac.update(message.as_bytes());
            hex::encode_upper(mac.finalize().into_bytes())
        }
    }
}

/// Checks the `sign` field of `fields` against the signature computed with
/// `key` and `sign_type`, in constant time.
///
/// # Errors
/// [`V2Error::Unsigned`] when there is no `sign` (or it is empty),
/// [`V2Error::BadSignature`] when it does not match.
pub fn verify(fields: &Fields, key: &V2Key, sign_type: SignType) -> Result<(), V2Error> {
    let given = match fields.get(SIGN) {
        Some(given) if !given.is_empty() => given,
        _ => return Err(V2Error::Unsigned),
    };
    let expected = sign(fields, key, sign_type);
    let given = given.to_ascii_uppercase();
    if expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(V2Error::BadSignature)
    }
}

/// A request body ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The XML document, exactly as signed.
    pub body: Bytes,
    /// The sign type it was signed with (the answer is verified with it).
    pub sign_type: SignType,
}

/// Completes and signs a request: adds the merchant field (`merchant` is
/// its wire name and value, such as `("mch_id", "1900000109")`) unless the
/// fields have it, a fresh 32-character `nonce_str` unless the fields have
/// one, `sign_type` when the operation takes it (and removes it when it
/// does not), and `sign`; then writes the XML.
pub fn sign_request(
    fields: Fields,
    merchant: Option<(&str, &str)>,
    key: &V2Key,
    signing: Signing,
    preferred: SignType,
) -> SignedRequest {
    let (fields, sign_type) = complete_and_sign(fields, merchant, key, signing, preferred);
    SignedRequest {
        body: Bytes::from(fields.to_xml()),
        sign_type,
    }
}

/// [`sign_request`]'s fields before they are written: completed and
/// signed, with the sign type used. A `GET` request sends them as its
/// query string.
pub(crate) fn complete_and_sign(
    mut fields: Fields,
    merchant: Option<(&str, &str)>,
    key: &V2Key,
    signing: Signing,
    preferred: SignType,
) -> (Fields, SignType) {
    if let Some((name, value)) = merchant
        && fields.get(name).is_none_or(str::is_empty)
    {
        fields.insert(name, value);
    }
    if fields.get(NONCE_STR).is_none_or(str::is_empty) {
        fields.insert(NONCE_STR, crate::signing::new_nonce());
    }
    let sign_type = signing.choose(preferred);
    if signing.sends_sign_type() {
        fields.insert(SIGN_TYPE, sign_type.as_str());
    } else {
        fields.remove(SIGN_TYPE);
    }
    fields.remove(SIGN);
    let signature = sign(&fields, key, sign_type);
    fields.insert(SIGN, signature);
    (fields, sign_type)
}

/// `k=v&…&key=<APIv2 key>`, wiped when dropped.
fn signing_string(fields: &Fields, key: &V2Key) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for (name, value) in fields.iter() {
        if name == SIGN || value.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out.push_str("&key=");
    out.push_str(key.as_str());
    out
}
