//! WeChat Pay APIv2: XML bodies signed with the merchant's APIv2 key.
//!
//! APIv2 is the older protocol that a few operations still need (red
//! packets, payments to a wallet, some profit-sharing and fund operations,
//! the legacy pay and refund calls). It shares nothing with APIv3 on the
//! wire: requests and answers are flat XML documents
//! (`<xml><name>value</name>…</xml>`), and both are signed by a digest over
//! their own fields keyed with the 32-character APIv2 key ([`V2Key`]).
//!
//! The protocol, and [`V2Client`], which sends it:
//!
//! | item | what it does |
//! |---|---|
//! | [`Fields`] | the flat field map: from a `Serialize` struct, to and from XML, decoded into a `Deserialize` type |
//! | [`sign`], [`verify`] | the `MD5` / `HMAC-SHA256` signature over sorted `k=v` pairs and `&key=…` |
//! | [`sign_request`] | a request body: merchant id, `nonce_str`, `sign_type`, `sign`, as XML |
//! | [`answer_fields`], [`decode_answer`] | an answer: `return_code`, signature, `result_code`, then the typed value |
//! | [`notification`] | payment and refund notifications (the refund's `req_info` is AES-256-ECB) and the replies |
//! | [`ClientIdentity`] | the merchant's API client certificate (`apiclient_cert.p12` or PEM) that secapi and fund operations need |
//! | [`V2Endpoint`] | the contract one APIv2 operation implements |
//! | [`V2Client`] | one merchant's APIv2 key and client certificate, and the sign → send → check → decode pipeline |
//!
//! ```
//! use wxpay_core::v2::{self, Fields, SignType, Signing, V2Key};
//!
//! let key = V2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap();
//! let mut fields = Fields::new();
//! fields.insert("appid", "wxd930ea5d5a258f4f");
//! fields.insert("mch_id", "10000100");
//! fields.insert("device_info", "1000");
//! fields.insert("body", "test");
//! fields.insert("nonce_str", "ibuaiVcKdpRxkhJA");
//! assert_eq!(v2::sign(&fields, &key, SignType::Md5), "9A0A8659F005D6984697E2CA0A9CF3B7");
//!
//! let request = v2::sign_request(fields, None, &key, Signing::Md5Only, SignType::HmacSha256);
//! assert_eq!(request.sign_type, SignType::Md5);
//! assert!(request.body.starts_with(b"<xml>"));
//! ```

mod answer;
mod client;
mod de;
mod fields;
mod identity;
mod key;
pub mod notification;
mod sign;
mod xml;

#[cfg(test)]
mod tests;

pub use crate::v2_error::{
    DecodeError, DecryptError, IdentityError, ParseSignTypeError, V2Error, XmlError,
};
pub use answer::{answer_fields, decode_answer};
pub use client::{RAW_V2_TEMPLATE, RawV2Settings, V2Client, V2ClientBuilder, V2Request};
pub use fields::Fields;
pub use identity::ClientIdentity;
pub use key::{V2Key, V2KeyError};
pub use sign::{SignType, SignedRequest, Signing, sign, sign_request, verify};

use serde::de::DeserializeOwned;

use crate::Host;
use crate::endpoint::{Idempotency, Method};
use crate::target::BuildError;

/// One WeChat Pay APIv2 operation: where it is sent, how it is signed, and
/// what it answers.
///
/// `#[wxpay::endpoint]` implements it for APIv2 declarations; any type may
/// implement it by hand. The runtime renders [`V2Endpoint::fields`] once,
/// adds the merchant id, `nonce_str`, `sign_type` and `sign`
/// ([`sign_request`]) and sends that XML unchanged.
pub trait V2Endpoint {
    /// The HTTP method (APIv2 operations are `POST`).
    const METHOD: Method;
    /// The path, such as `/pay/unifiedorder` or
    /// `/mmpaymkttransfers/sendredpack` (APIv2 paths have no parameters).
    const PATH: &'static str;
    /// The host that serves the operation.
    const HOST: Host = Host::Api;
    /// Which sign types the operation accepts.
    const SIGNING: Signing;
    /// Whether the operation needs the merchant's API client certificate
    /// (secapi and fund operations); see [`ClientIdentity`].
    const CLIENT_CERT: bool = false;
    /// The wire name of the merchant id field (`mch_id`, `mchid`,
    /// `combine_mch_id`, …) the runtime fills in when the fields leave it
    /// out; `None` when the operation has none or the fields carry it.
    const MERCHANT_FIELD: Option<&'static str> = None;
    /// Whether a successful answer carries a `sign` that must be verified.
    const SIGNED_ANSWER: bool = true;
    /// Whether the request may be sent again after it may have arrived
    /// (see [`Idempotency`]).
    const IDEMPOTENCY: Idempotency = Idempotency::NotIdempotent;
    /// What a successful answer decodes into ([`Fields`] keeps them all).
    type Response: DeserializeOwned;

    /// The operation's own fields (without `nonce_str`, `sign_type` and
    /// `sign`, which signing adds).
    fn fields(&self) -> Result<Fields, BuildError>;
}

/// A borrowed endpoint is the same request.
impl<E: V2Endpoint + ?Sized> V2Endpoint for &E {
    const METHOD: Method = E::METHOD;
    const PATH: &'static str = E::PATH;
    const HOST: Host = E::HOST;
    const SIGNING: Signing = E::SIGNING;
    const CLIENT_CERT: bool = E::CLIENT_CERT;
    const MERCHANT_FIELD: Option<&'static str> = E::MERCHANT_FIELD;
    const SIGNED_ANSWER: bool = E::SIGNED_ANSWER;
    const IDEMPOTENCY: Idempotency = E::IDEMPOTENCY;
    type Response = E::Response;

    fn fields(&self) -> Result<Fields, BuildError> {
        (**self).fields()
    }
}
