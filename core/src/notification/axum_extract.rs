//! The axum extractor (feature `axum`).

use std::ops::{Deref, DerefMut};
use std::pin::Pin;

use axum::body::HttpBody;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_LENGTH;
use serde::de::DeserializeOwned;

use super::{Notification, NotificationDecoder, NotificationError, NotificationReply};
use crate::verification::VerifyError;

/// An axum extractor for a verified, decrypted callback whose resource is
/// `T`.
///
/// The [`NotificationDecoder`] comes from the router's state
/// (`NotificationDecoder: FromRef<S>`: the state is the decoder itself, or a
/// struct with a `FromRef` impl for it). The body is read whole, up to the
/// decoder's own limit ([`NotificationDecoder::max_body_bytes`], 1 MiB by
/// default; axum's `DefaultBodyLimit` does not apply): a larger
/// `Content-Length` is refused unread, and a body that goes past the limit
/// is not read further. Then it is checked as received.
///
/// When the callback is rejected, the handler is not called and the answer
/// is the failure reply of [`NotificationError::reply`], with the reason
/// logged through `tracing`. To handle rejections yourself, extract
/// `Result<WechatpayNotification<T>, NotificationRejection>`.
///
/// **Duplicates.** When the decoder has a [`ReplayCache`](super::ReplayCache)
/// (it has one of its own by default), a verified callback whose
/// notification id was recorded as handled within the cache's window is
/// answered with the success reply without calling the handler
/// ([`NotificationRejection::Duplicate`]). An id is recorded when the
/// handler answers with [`Notification::acknowledge`] (not with a bare
/// [`NotificationReply::success`]): only a handler that succeeded records
/// anything, so WeChat Pay's resend after a failure reaches the handler
/// again.
///
/// ```no_run
/// use axum::Router;
/// use axum::routing::post;
/// use wxpay_core::notification::resources::Transaction;
/// use wxpay_core::notification::{NotificationDecoder, NotificationReply, WechatpayNotification};
///
/// async fn paid(WechatpayNotification(notification): WechatpayNotification<Transaction>) -> NotificationReply {
///     println!("order {} paid", notification.resource.out_trade_no);
///     // Recorded as handled: a duplicate gets success without coming here.
///     notification.acknowledge()
/// }
///
/// # fn app(decoder: NotificationDecoder) -> Router {
/// Router::new()
///     .route("/notify/transaction", post(paid))
///     .with_state(decoder)
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct WechatpayNotification<T>(pub Notification<T>);

impl<T> WechatpayNotification<T> {
    /// The notification.
    pub fn into_inner(self) -> Notification<T> {
        self.0
    }
}

impl<T> Deref for WechatpayNotification<T> {
    type Target = Notification<T>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T> DerefMut for WechatpayNotification<T> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Why [`WechatpayNotification`] rejected a request. As a response, it is
/// the failure reply for WeChat Pay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationRejection {
    /// The body was read but the callback was not accepted.
    #[error(transparent)]
    Notification(#[from] NotificationError),
    /// The body could not be read (too large for the body limit, or the
    /// connection failed). No longer produced by the extractor, which
    /// reads the body itself ([`NotificationRejection::Read`],
    /// [`NotificationError::BodyTooLarge`]); kept for code that matches it.
    #[error(
        "the callback body could not be read (if it is too large, raise the route's DefaultBodyLimit)"
    )]
    Body(#[source] BytesRejection),
    /// The body could not be read: the connection failed while it arrived.
    #[error("the callback body could not be read")]
    Read(#[source] axum::Error),
    /// The callback verified, but its notification id was already
    /// recorded as handled ([`Notification::acknowledge`]): it is answered
    /// with the success reply without calling the handler.
    #[error(
        "notification {id} was already handled: answered with success without calling the handler again"
    )]
    Duplicate {
        /// The notification's id.
        id: String,
    },
}

impl NotificationRejection {
    /// The answer for WeChat Pay: a failure, except for a
    /// [`Duplicate`](NotificationRejection::Duplicate), which is answered
    /// with success so that WeChat Pay stops sending it.
    pub fn reply(&self) -> NotificationReply {
        match self {
            NotificationRejection::Notification(error) => error.reply(),
            NotificationRejection::Body(rejection) => {
                NotificationReply::failure_with_status(rejection.status(), "unreadable body")
            }
            NotificationRejection::Read(_) => NotificationReply::failure_with_status(
                http::StatusCode::BAD_REQUEST,
                "unreadable body",
            ),
            NotificationRejection::Duplicate { .. } => NotificationReply::success(),
        }
    }

    /// The [`NotificationError`], when the body could be read and the
    /// callback was refused.
    pub fn notification_error(&self) -> Option<&NotificationError> {
        match self {
            NotificationRejection::Notification(error) => Some(error),
            _ => None,
        }
    }

    /// Whether this is an already handled callback answered with success.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, NotificationRejection::Duplicate { .. })
    }
}

impl<S, T> FromRequest<S> for WechatpayNotification<T>
where
    S: Send + Sync,
    NotificationDecoder: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = NotificationRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let decoder = NotificationDecoder::from_ref(state);
        let (parts, body) = request.into_parts();
        let body = read_bounded(&parts.headers, body, decoder.max_body_bytes())
            .await
            .map_err(log)?;
        let notification = decoder
            .decode_refreshing(&parts.headers, &body)
            .await
            .map_err(|error| log(NotificationRejection::Notification(error)))?;
        // Only now, the signature verified: an unverified callback never
        // reaches the cache.
        if let Some(cache) = decoder.replay_cache()
            && cache.is_handled(&notification.id)
        {
            return Err(log(NotificationRejection::Duplicate {
                id: notification.id,
            }));
        }
        Ok(WechatpayNotification(notification))
    }
}

/// Reads the body, refusing a `Content-Length` over `limit` before reading
/// and stopping at the first piece that goes past it.
async fn read_bounded(
    headers: &http::HeaderMap,
    mut body: axum::body::Body,
    limit: usize,
) -> Result<Vec<u8>, NotificationRejection> {
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    let too_large = |length: u64| {
        NotificationRejection::Notification(NotificationError::BodyTooLarge {
            limit: limit_u64,
            length,
        })
    };
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if let Some(length) = announced
        && length > limit_u64
    {
        return Err(too_large(length));
    }
    let mut read = Vec::with_capacity(announced.map_or(0, |length| {
        usize::try_from(length).unwrap_or(limit).min(limit)
    }));
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(NotificationRejection::Read)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let length = read.len().saturating_add(data.len());
        if length > limit {
            return Err(too_large(u64::try_from(length).unwrap_or(u64::MAX)));
        }
        read.extend_from_slice(&data);
    }
    Ok(read)
}

/// Says why a callback was rejected: probes are routine, the rest is worth
/// a look.
fn log(rejection: NotificationRejection) -> NotificationRejection {
    let probe = matches!(
        rejection
            .notification_error()
            .and_then(NotificationError::verify_error),
        Some(VerifyError::Probe)
    );
    if let NotificationRejection::Duplicate { id } = &rejection {
        tracing::info!(
            notification_id = %id,
            "WeChat Pay callback already handled: answered with success, handler not called"
        );
    } else if probe {
        tracing::info!(error = %rejection, "WeChat Pay signature probe answered with a failure");
    } else {
        tracing::warn!(error = %rejection, "WeChat Pay callback rejected");
    }
    rejection
}

impl IntoResponse for NotificationReply {
    fn into_response(self) -> Response {
        self.into_http().map(axum::body::Body::from).into_response()
    }
}

impl IntoResponse for NotificationRejection {
    fn into_response(self) -> Response {
        self.reply().into_response()
    }
}

impl IntoResponse for NotificationError {
    fn into_response(self) -> Response {
        self.reply().into_response()
    }
}
