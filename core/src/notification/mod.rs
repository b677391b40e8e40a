//! Callbacks (notifications): WeChat Pay's signed, encrypted POSTs to the
//! merchant's `notify_url`, and the merchant's answer.
//!
//! A callback is checked and opened in four steps, each with its own
//! [`NotificationError`] variant:
//!
//! 1. the signature headers are checked over the **raw** body, exactly like
//!    an answer's ([`Verifier::verify`]: the ±300 s clock window, the
//!    `Wechatpay-Serial` key, `WECHATPAY/SIGNTEST/` probes, missing headers);
//! 2. the body is read as the notification envelope (`id`, `event_type`,
//!    `resource`, …);
//! 3. `resource.ciphertext` is decrypted with the APIv3 key
//!    (`AEAD_AES_256_GCM`, with the `nonce` and `associated_data` next to it);
//! 4. the plaintext is decoded into the resource type the handler asked
//!    for: one of the typed [`resources`], or [`serde_json::Value`].
//!
//! The handler then answers with a [`NotificationReply`]: `204 No Content`
//! once the event is safely recorded, a failure (`{"code":"FAIL",…}` with a
//! 4xx/5xx status) otherwise, after which WeChat Pay sends the callback
//! again later. [`NotificationError::reply`] picks the failure for each error.
//!
//! [`NotificationDecoder`] does not depend on any web framework: hand it the
//! headers and the body bytes, or an [`http::Request`]. With the `axum`
//! feature, `WechatpayNotification` is an axum extractor doing the same.
//!
//! Two guards come before any of that: a body over the decoder's limit
//! ([`DEFAULT_MAX_BODY_BYTES`], 1 MiB; WeChat Pay's callbacks are a few KB)
//! is refused unread ([`NotificationError::BodyTooLarge`]), and a
//! [`ReplayCache`] remembers the notifications already handled, so that a
//! callback delivered again gets the success reply without being handled
//! twice (the extractor does this by itself; see
//! [`Notification::acknowledge`]).
//!
//! ```no_run
//! use wxpay_core::notification::resources::Transaction;
//! use wxpay_core::notification::{NotificationDecoder, NotificationReply};
//! use wxpay_core::{ApiV3Key, Verifier, VerifyingKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut verifier = Verifier::new();
//! verifier.add_public_key(
//!     "PUB_KEY_ID_0114232134912410000000000000",
//!     VerifyingKey::from_public_key_pem_file("pub_key.pem")?,
//! );
//! let decoder = NotificationDecoder::new(verifier, ApiV3Key::new(std::env::var("WXPAY_APIV3_KEY")?)?);
//!
//! # let (headers, body) = (http::HeaderMap::new(), Vec::<u8>::new());
//! // `headers` and `body` as received, the body untouched by any JSON layer.
//! let reply = match decoder.decode::<Transaction>(&headers, &body) {
//!     Ok(notification) => {
//!         println!("order {} paid", notification.resource.out_trade_no);
//!         NotificationReply::success()
//!     }
//!     Err(error) => {
//!         eprintln!("callback rejected: {error}");
//!         error.reply()
//!     }
//! };
//! let response: http::Response<Vec<u8>> = reply.into_http();
//! # let _ = response;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "axum")]
mod axum_extract;
mod envelope;
mod error;
mod event;
mod replay;
mod reply;
pub mod resources;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use http::HeaderMap;
use serde::de::DeserializeOwned;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::axum_extract::{NotificationRejection, WechatpayNotification};
pub use self::error::NotificationError;
pub use self::event::EventType;
pub use self::replay::ReplayCache;
pub use self::reply::NotificationReply;

use self::replay::ReplayLink;

use crate::keys::ApiV3Key;
use crate::signing::unix_now;
use crate::verification::{Verifier, header};
use crate::{Client, ConfigError};

/// The only resource encryption WeChat Pay uses for callbacks.
pub const RESOURCE_ALGORITHM: &str = "AEAD_AES_256_GCM";

/// The default limit on a callback's body (1 MiB): see
/// [`NotificationDecoder::with_max_body_bytes`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Checks, decrypts and decodes WeChat Pay callbacks for one merchant.
///
/// It holds the keys WeChat Pay signs with (a [`Verifier`]) and the APIv3
/// key the resources are encrypted with, the body size limit
/// ([`DEFAULT_MAX_BODY_BYTES`] unless
/// [`with_max_body_bytes`](NotificationDecoder::with_max_body_bytes)), and
/// a [`ReplayCache`] of its own (unless
/// [`with_replay_cache`](NotificationDecoder::with_replay_cache) or
/// [`without_replay_cache`](NotificationDecoder::without_replay_cache)).
/// Cheap to clone (an `Arc` inside; clones share the replay cache) and safe
/// to share between tasks; `Debug` shows the key serials only.
#[derive(Clone)]
pub struct NotificationDecoder {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    keys: Keys,
    key: ApiV3Key,
    max_body_bytes: usize,
    replay: Option<ReplayCache>,
}

/// Where the signature keys come from.
#[derive(Clone)]
enum Keys {
    /// A fixed set.
    Fixed(Arc<Verifier>),
    /// A client's live set: certificate downloads show up here, and an
    /// unknown serial may trigger one.
    Client(Client),
}

impl NotificationDecoder {
    /// A decoder checking signatures with `verifier` and decrypting with
    /// `key`.
    pub fn new(verifier: Verifier, key: ApiV3Key) -> Self {
        Self {
            inner: Arc::new(Inner {
                keys: Keys::Fixed(Arc::new(verifier)),
                key,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                replay: Some(ReplayCache::default()),
            }),
        }
    }

    /// A decoder with the keys of `client`: its WeChat Pay public keys or
    /// platform certificates (as they are when each callback arrives, so
    /// certificate downloads are seen), and its APIv3 key.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when the client was built without an APIv3
    /// key ([`ClientBuilder::apiv3_key`](crate::ClientBuilder::apiv3_key)).
    pub fn from_client(client: &Client) -> Result<Self, ConfigError> {
        let key = client.apiv3_key().ok_or_else(|| {
            ConfigError::Invalid(vec![
                "callbacks cannot be decrypted without the APIv3 key: build the client with .apiv3_key(<the 32 characters set in the merchant platform under Account Center > API Security>)".to_owned(),
            ])
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                keys: Keys::Client(client.clone()),
                key: key.clone(),
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                replay: Some(ReplayCache::default()),
            }),
        })
    }

    /// The same decoder with a body limit of `limit` bytes (default
    /// [`DEFAULT_MAX_BODY_BYTES`], 1 MiB): a larger body is refused with
    /// [`NotificationError::BodyTooLarge`] before anything in it is read,
    /// and the axum extractor stops reading it at the limit. WeChat Pay's
    /// callbacks are a few KB.
    pub fn with_max_body_bytes(self, limit: usize) -> Self {
        self.change(|inner| inner.max_body_bytes = limit)
    }

    /// The most bytes of body a callback may have.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The same decoder recording handled notifications in `cache`: give
    /// several decoders (several routes, or several servers in one process)
    /// the same cache to share what they handled.
    pub fn with_replay_cache(self, cache: ReplayCache) -> Self {
        self.change(|inner| inner.replay = Some(cache))
    }

    /// The same decoder without replay protection: the extractor hands
    /// every verified callback to the handler, duplicates included.
    pub fn without_replay_cache(self) -> Self {
        self.change(|inner| inner.replay = None)
    }

    /// The replay cache, unless it was turned off.
    pub fn replay_cache(&self) -> Option<&ReplayCache> {
        self.inner.replay.as_ref()
    }

    fn change(self, f: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        f(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The keys signatures are checked against, as of now.
    pub fn verifier(&self) -> Arc<Verifier> {
        match &self.inner.keys {
            Keys::Fixed(verifier) => verifier.clone(),
            Keys::Client(client) => client.verifier(),
        }
    }

    /// [`NotificationDecoder::decode`], and when the callback names a
    /// serial the keys lack and the decoder comes from a client in
    /// certificate mode, one certificate download first (shared with the
    /// client's calls and rate-limited like them). What the axum extractor
    /// uses.
    ///
    /// The callback never queues behind a download: when one is already in
    /// flight, or the serial is not of the certificate form (hexadecimal;
    /// a `PUB_KEY_ID_…` is not, and no download could bring it), the
    /// [`VerifyError::UnknownSerial`](crate::VerifyError::UnknownSerial)
    /// comes back at once, whose [failure reply](NotificationError::reply)
    /// makes WeChat Pay send the callback again later.
    ///
    /// # Errors
    /// As [`NotificationDecoder::decode`].
    pub async fn decode_refreshing<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification<T>, NotificationError> {
        // Only the error is kept across the download: `T` need not be `Send`.
        let error = match self.decode(headers, body) {
            Err(error) => error,
            ok => return ok,
        };
        if let (
            NotificationError::Signature(crate::VerifyError::UnknownSerial { serial, .. }),
            Keys::Client(client),
        ) = (&error, &self.inner.keys)
            && client.refresh_for_unknown_callback_serial(serial).await
        {
            return self.decode(headers, body);
        }
        Err(error)
    }

    /// Checks, decrypts and decodes one callback: `headers` and `body`
    /// exactly as received (the signature covers the raw bytes, so the body
    /// must not have gone through a JSON parser first).
    ///
    /// A body over [`NotificationDecoder::max_body_bytes`] is refused first
    /// ([`NotificationError::BodyTooLarge`]). This does not consult the
    /// replay cache (the axum extractor does; see [`ReplayCache`]), but the
    /// notification it returns is linked to it, for
    /// [`Notification::acknowledge`].
    ///
    /// # Errors
    /// A [`NotificationError`] saying which step failed and what to check;
    /// [`NotificationError::reply`] turns it into the answer for WeChat Pay.
    pub fn decode<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification<T>, NotificationError> {
        self.decode_at(headers, body, unix_now())
    }

    /// [`NotificationDecoder::decode`] with `now` (Unix seconds) as the
    /// local clock, for tests and for replaying a recorded callback.
    ///
    /// # Errors
    /// As [`NotificationDecoder::decode`].
    pub fn decode_at<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Notification<T>, NotificationError> {
        let limit = self.inner.max_body_bytes;
        if body.len() > limit {
            return Err(NotificationError::BodyTooLarge {
                limit: u64::try_from(limit).unwrap_or(u64::MAX),
                length: u64::try_from(body.len()).unwrap_or(u64::MAX),
            });
        }
        self.verifier()
            .verify(headers, body, now)
            .map_err(NotificationError::Signature)?;
        let envelope = envelope::Envelope::parse(body)?;
        let resource = &envelope.resource;
        if resource.algorithm != RESOURCE_ALGORITHM {
            return Err(NotificationError::UnsupportedAlgorithm {
                found: error::shorten(&resource.algorithm, 64),
            });
        }
        let plaintext = self
            .inner
            .key
            .decrypt(
                &resource.nonce,
                &resource.associated_data,
                &resource.ciphertext,
            )
            .map_err(|source| NotificationError::Decrypt { source })?;
        let decoded = error::decode_resource::<T>(&plaintext, &envelope.event_type)?;
        Ok(Notification {
            id: envelope.id,
            create_time: envelope.create_time,
            event_type: envelope.event_type,
            resource_type: envelope.resource_type,
            summary: envelope.summary,
            original_type: envelope.resource.original_type,
            associated_data: envelope.resource.associated_data,
            request_id: headers
                .get(header::REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            resource: decoded,
            replay: ReplayLink(self.inner.replay.clone()),
        })
    }

    /// [`NotificationDecoder::decode`] over an [`http::Request`] whose body
    /// is already in memory (`Vec<u8>`, `Bytes`, `String`, …).
    ///
    /// # Errors
    /// As [`NotificationDecoder::decode`].
    pub fn decode_request<T: DeserializeOwned, B: AsRef<[u8]>>(
        &self,
        request: &http::Request<B>,
    ) -> Result<Notification<T>, NotificationError> {
        self.decode(request.headers(), request.body().as_ref())
    }
}

impl fmt::Debug for NotificationDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationDecoder")
            .field("verifier", &self.verifier())
            .field("key", &self.inner.key)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("replay", &self.inner.replay)
            .finish()
    }
}

/// A verified, decrypted callback: the envelope's fields and the decoded
/// resource.
///
/// `T` is the resource type: one of [`resources`], a type of your own, or
/// [`serde_json::Value`] to take whatever arrived (then
/// [`Notification::into_typed`] once the event type is known).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification<T> {
    /// The notification's id (`EV-…`); WeChat Pay resends a failed callback
    /// with the same id, so it is a natural key to ignore duplicates with.
    pub id: String,
    /// When WeChat Pay created the notification (RFC 3339, as sent).
    pub create_time: String,
    /// What happened: `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, ….
    pub event_type: EventType,
    /// The resource's type as announced (`encrypt-resource`); empty when absent.
    pub resource_type: String,
    /// WeChat Pay's one-line summary (`支付成功`); empty when absent.
    pub summary: String,
    /// The original type of the resource (`transaction`, `refund`,
    /// `coupon`, …); empty when absent.
    pub original_type: String,
    /// The associated data the resource was encrypted with (it is
    /// authenticated, not secret); empty when absent.
    pub associated_data: String,
    /// The `Request-ID` header, when the callback carried one.
    pub request_id: Option<String>,
    /// The decrypted resource.
    pub resource: T,
    /// The replay cache of the decoder it came through.
    replay: ReplayLink,
}

impl<T> Notification<T> {
    /// The success reply, after recording this notification's id as
    /// handled in the [`ReplayCache`] of the decoder it came through (when
    /// that has one): answer with it once the event is safely recorded.
    /// Until the cache's window has passed, the axum extractor then answers
    /// a callback with the same id (WeChat Pay's resend, or a replay) with
    /// success without calling the handler.
    ///
    /// A handler that answers [`NotificationReply::success`] instead
    /// records nothing: its callbacks always reach it, duplicates included.
    /// On failure answer [`NotificationReply::failure`]: nothing is
    /// recorded, and WeChat Pay's resend reaches the handler again.
    pub fn acknowledge(&self) -> NotificationReply {
        if let Some(cache) = &self.replay.0 {
            cache.mark_handled(&self.id);
        }
        NotificationReply::success()
    }

    /// The same notification with its resource transformed by `f`.
    pub fn map_resource<U>(self, f: impl FnOnce(T) -> U) -> Notification<U> {
        Notification {
            id: self.id,
            create_time: self.create_time,
            event_type: self.event_type,
            resource_type: self.resource_type,
            summary: self.summary,
            original_type: self.original_type,
            associated_data: self.associated_data,
            request_id: self.request_id,
            resource: f(self.resource),
            replay: self.replay,
        }
    }
}

impl Notification<serde_json::Value> {
    /// Decodes an untyped resource into `T`, for handlers that look at
    /// [`Notification::event_type`] before choosing a type.
    ///
    /// # Errors
    /// [`NotificationError::Resource`], with the JSON path that did not fit.
    pub fn into_typed<T: DeserializeOwned>(self) -> Result<Notification<T>, NotificationError> {
        let Notification {
            id,
            create_time,
            event_type,
            resource_type,
            summary,
            original_type,
            associated_data,
            request_id,
            resource,
            replay,
        } = self;
        let resource = error::decode_value::<T>(resource, &event_type)?;
        Ok(Notification {
            id,
            create_time,
            event_type,
            resource_type,
            summary,
            original_type,
            associated_data,
            request_id,
            resource,
            replay,
        })
    }
}
