//! The errors of APIv2 ([`crate::v2`]): [`V2Error`] and the reader,
//! decoder, sign-type, decryption and client-certificate errors it holds.
//!
//! They sit here, beside the `error` module and below both it and `v2`,
//! because both need them: [`crate::Error::V2`] wraps a [`V2Error`], and
//! the APIv2 client in `v2` answers with [`crate::Error`]. Were they in
//! `v2`, `error` and `v2` would import each other. This module imports
//! neither; `v2` re-exports every type, so their public paths stay
//! `wxpay_core::v2::V2Error`, `wxpay_core::v2::XmlError`, ….

/// An APIv2 answer, notification or credential could not be used.
///
/// Messages never quote the APIv2 key, a signature or a field value that
/// may be personal data; `return_msg` and `err_code_des` are WeChat Pay's
/// own explanations and are quoted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum V2Error {
    /// The body is not a readable APIv2 XML document.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// WeChat Pay refused the request itself (`return_code` is `FAIL`):
    /// a wrong signature, a missing parameter, a wrong key, … The answer
    /// is not signed.
    #[error(
        "WeChat Pay refused the APIv2 request (return_code FAIL): {return_msg}; a signature error usually means the APIv2 key is wrong (it is not the APIv3 key)"
    )]
    Return {
        /// WeChat Pay's explanation.
        return_msg: String,
    },
    /// The answer's HTTP status is not 2xx. WeChat Pay answers APIv2
    /// errors with `200` and `return_code` `FAIL`, so another status comes
    /// from something in front of it (a proxy, a gateway, a wrong address).
    #[error(
        "the APIv2 answer has HTTP status {}, where WeChat Pay answers 200; check the base URL and any proxy in between",
        status.as_u16()
    )]
    Status {
        /// The HTTP status code.
        status: http::StatusCode,
    },
    /// The answer has no `return_code`, so it is not an APIv2 answer.
    #[error(
        "the answer has no return_code, so it is not an APIv2 answer; check that the request went to an APIv2 address"
    )]
    NoReturnCode,
    /// The request was taken but the operation failed (`result_code` is
    /// `FAIL`), with WeChat Pay's error code.
    #[error("the APIv2 operation failed: {err_code}: {err_code_des}")]
    Business {
        /// The error code, such as `ORDERPAID` or `NOTENOUGH`.
        err_code: String,
        /// WeChat Pay's description of it.
        err_code_des: String,
    },
    /// An answer or notification that must be signed has no `sign`.
    #[error(
        "the APIv2 message has no sign field although it must be signed; it is refused as it cannot be authenticated"
    )]
    Unsigned,
    /// The `sign` does not match the fields and the APIv2 key.
    #[error(
        "the APIv2 message's signature does not match: check that the APIv2 key is the one set in the merchant platform (Account Center > API Security); otherwise the message was altered or not sent by WeChat Pay"
    )]
    BadSignature,
    /// The message announces a sign type other than `MD5` and `HMAC-SHA256`.
    #[error(transparent)]
    SignType(#[from] ParseSignTypeError),
    /// The fields do not fit the answer type.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A refund notification's `req_info` could not be decrypted.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// The operation needs the merchant's API client certificate and none
    /// was configured.
    #[error(
        "the APIv2 operation {path} needs the merchant's API client certificate: configure it from apiclient_cert.p12 (its password is the mchid) or from apiclient_cert.pem and apiclient_key.pem, downloaded from the merchant platform (Account Center > API Security)"
    )]
    ClientCertificateRequired {
        /// The operation's path.
        path: &'static str,
    },
    /// The API client certificate could not be loaded.
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl V2Error {
    /// WeChat Pay's error code for a [`V2Error::Business`] failure.
    pub fn err_code(&self) -> Option<&str> {
        match self {
            V2Error::Business { err_code, .. } => Some(err_code),
            _ => None,
        }
    }
}

/// A refund notification's `req_info` could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// There is no `req_info` field.
    #[error("the refund notification has no req_info field to decrypt")]
    MissingReqInfo,
    /// `req_info` is not base64.
    #[error("the refund notification's req_info is not base64")]
    BadBase64,
    /// The ciphertext is not whole AES blocks.
    #[error(
        "the refund notification's req_info is {len} bytes, not a whole number of 16-byte AES blocks; it was cut or altered"
    )]
    BadLength {
        /// The ciphertext's length.
        len: usize,
    },
    /// The padding is wrong after decryption.
    #[error(
        "the refund notification's req_info does not decrypt: check that the APIv2 key is the one set in the merchant platform (Account Center > API Security); otherwise the notification was altered or not sent by WeChat Pay"
    )]
    WrongKeyOrAltered,
}

/// The merchant's API client certificate could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The PKCS#12 password is wrong.
    #[error(
        "the API client certificate file (apiclient_cert.p12) does not open with the password given; its password is the merchant id (mchid) unless it was exported with another"
    )]
    WrongPassword,
    /// The file is not PKCS#12.
    #[error(
        "the API client certificate file is not a PKCS#12 file ({reason}); give apiclient_cert.p12 as downloaded, or use the PEM files apiclient_cert.pem and apiclient_key.pem"
    )]
    NotPkcs12 {
        /// What the reader found.
        reason: String,
    },
    /// The file holds no private key with its certificate.
    #[error(
        "the PKCS#12 file holds no private key together with its certificate; export apiclient_cert.p12 again from the merchant platform"
    )]
    NoKeyPair,
    /// A PEM input holds no block of the kind expected.
    #[error(
        "the {what} PEM holds no `{label}` block; give apiclient_cert.pem as the certificate and apiclient_key.pem as the key"
    )]
    Pem {
        /// Which input: `certificate` or `private key`.
        what: &'static str,
        /// The block label looked for.
        label: &'static str,
    },
    /// The certificate cannot be read.
    #[error("the API client certificate cannot be read: {reason}")]
    Certificate {
        /// What was wrong.
        reason: String,
    },
    /// The HTTP client does not take the certificate and key.
    #[error("the HTTP client refused the API client certificate and key: {reason}")]
    Client {
        /// What the client said.
        reason: String,
    },
}

/// An APIv2 XML document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The body is larger than an APIv2 message can be.
    #[error(
        "the APIv2 XML body is {len} bytes, over the {max}-byte limit; it is not an APIv2 answer"
    )]
    TooLarge {
        /// The body's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body is empty or has no root element.
    #[error(
        "the body holds no XML document (expected `<xml>…</xml>`); check that the request went to an APIv2 address"
    )]
    Empty,
    /// The body is not UTF-8.
    #[error("the APIv2 XML body is not UTF-8 text")]
    NotUtf8,
    /// The document is not well-formed XML.
    #[error("the APIv2 XML body is malformed at byte {position}: {reason}")]
    Syntax {
        /// Where, in bytes from the start.
        position: u64,
        /// What the parser found.
        reason: String,
    },
    /// Something other than fields sits in the document: text directly in
    /// the root, a DTD, a second root, or an element left open.
    #[error("the APIv2 XML body is not a flat field list at byte {position}: {reason}")]
    Shape {
        /// Where, in bytes from the start.
        position: u64,
        /// What was found.
        reason: &'static str,
    },
    /// A field appears twice, which would make its value ambiguous.
    #[error("the APIv2 XML body holds the field `{name}` twice; it is refused as ambiguous")]
    DuplicateField {
        /// The field's name.
        name: String,
    },
}

/// The fields of an APIv2 message do not fit the type asked for.
///
/// The message names the field and what was expected, never the value
/// (which may be personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct DecodeError {
    /// The field to blame, filled in by the deserializer as it descends.
    pub(crate) field: Option<String>,
    /// What was wrong.
    pub(crate) reason: String,
}

impl DecodeError {
    /// The field that did not fit, when one is to blame (a missing field is
    /// named in the reason).
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// What was wrong.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    fn describe(&self) -> String {
        match &self.field {
            Some(field) => format!(
                "the APIv2 field `{field}` does not fit the answer type: {}; check the type of that member",
                self.reason
            ),
            None => format!(
                "the APIv2 fields do not fit the answer type: {}; check the answer type's members",
                self.reason
            ),
        }
    }
}

/// A `sign_type` other than `MD5` and `HMAC-SHA256`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown APIv2 sign type `{found}`: WeChat Pay APIv2 signs with `MD5` or `HMAC-SHA256` (upper case, as the `sign_type` field carries it)"
)]
pub struct ParseSignTypeError {
    /// The sign type found, cut to 32 characters.
    pub(crate) found: String,
}
