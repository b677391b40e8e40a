//! Sensitive request fields: encrypted with RSA-OAEP under WeChat Pay's
//! key while the body is serialized.
//!
//! `#[wxpay(encrypt)]` on an endpoint field, or
//! `#[serde(serialize_with = "wxpay::encryption::encrypt")]` on a field of
//! a nested type, routes the value through [`encrypt`]. [`Client::prepare`]
//! serializes the body inside a scope that knows the key to encrypt with
//! (the WeChat Pay public key, or the newest valid platform certificate),
//! and when any field was encrypted the request carries
//! `Wechatpay-Serial` naming that key.
//!
//! Serializing such a field outside that scope fails with a clear error
//! rather than sending the value in clear text.
//!
//! [`Client::prepare`]: crate::Client::prepare

use std::cell::RefCell;

use serde::Serializer;
use serde::ser::Error as _;

use crate::keys::VerifyingKey;

/// A value that can be encrypted as a sensitive field: text, or optional
/// text.
pub trait Sensitive {
    /// The clear text, or `None` to serialize nothing (`null`).
    fn clear_text(&self) -> Option<&str>;
}

impl Sensitive for str {
    fn clear_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Sensitive for String {
    fn clear_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: Sensitive> Sensitive for Option<T> {
    fn clear_text(&self) -> Option<&str> {
        self.as_ref().and_then(Sensitive::clear_text)
    }
}

impl<T: Sensitive + ?Sized> Sensitive for &T {
    fn clear_text(&self) -> Option<&str> {
        (**self).clear_text()
    }
}

/// The key sensitive fields are encrypted with, and its serial.
#[derive(Clone, Debug)]
pub struct Encryptor {
    serial: String,
    key: VerifyingKey,
}

impl Encryptor {
    /// Encrypts under `key`, announced as `serial` (`PUB_KEY_ID_…` or a
    /// platform certificate serial).
    pub fn new(serial: impl Into<String>, key: VerifyingKey) -> Self {
        Encryptor {
            serial: serial.into(),
            key,
        }
    }

    /// The serial the request must announce in `Wechatpay-Serial`.
    pub fn serial(&self) -> &str {
        &self.serial
    }
}

struct Scope {
    encryptor: Option<Encryptor>,
    used: bool,
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

/// Runs `serialize` (which must not await: serialization is synchronous)
/// with `encryptor` available to [`encrypt`]. Returns its result and
/// whether any field was encrypted.
pub(crate) fn scoped<R>(encryptor: Option<Encryptor>, serialize: impl FnOnce() -> R) -> (R, bool) {
    struct Reset(Option<Scope>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            SCOPE.with(|scope| *scope.borrow_mut() = previous);
        }
    }
    let previous = SCOPE.with(|scope| {
        scope.borrow_mut().replace(Scope {
            encryptor,
            used: false,
        })
    });
    let reset = Reset(previous);
    let result = serialize();
    let used = SCOPE.with(|scope| scope.borrow().as_ref().is_some_and(|s| s.used));
    drop(reset);
    (result, used)
}

/// A `serialize_with` function: writes the base64 RSA-OAEP ciphertext of
/// the value instead of the value. `None` is written as `null` (skip it
/// with `skip_serializing_if` if the field must be absent).
pub fn encrypt<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
where
    T: Sensitive + ?Sized,
    S: Serializer,
{
    let Some(clear) = value.clear_text() else {
        return serializer.serialize_none();
    };
    let ciphertext = SCOPE.with(|scope| {
        let mut scope = scope.borrow_mut();
        let Some(scope) = scope.as_mut() else {
            return Err(
                "a field marked for encryption was serialized outside Client::prepare/send; \
                 sensitive fields are only encrypted when the client builds the request"
                    .to_owned(),
            );
        };
        let Some(encryptor) = &scope.encryptor else {
            return Err(
                "a sensitive field needs WeChat Pay's key to be encrypted, but the client has \
                 none: configure a WeChat Pay public key or a platform certificate"
                    .to_owned(),
            );
        };
        let ciphertext = encryptor
            .key
            .encrypt_oaep(clear.as_bytes())
            .map_err(|error| format!("a sensitive field could not be encrypted: {error}"))?;
        scope.used = true;
        Ok(ciphertext)
    });
    match ciphertext {
        Ok(ciphertext) => serializer.serialize_str(&ciphertext),
        Err(message) => Err(S::Error::custom(message)),
    }
}
