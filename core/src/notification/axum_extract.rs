//! The axum extractor (feature `axum`).

use std::ops::{Deref, DerefMut};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::{Notification, NotificationDecoder, NotificationError, NotificationReply};
use crate::verification::VerifyError;

/// An axum extractor for a verified, decrypted callback whose resource is
/// `T`.
///
/// The [`NotificationDecoder`] comes from the router's state
/// (`NotificationDecoder: FromRef<S>`: the state is the decoder itself, or a
/// struct with a `FromRef` impl for it). The body is read whole (within
/// axum's body limit) and checked as received.
///
/// When the callback is rejected, the handler is not called and the answer
/// is the failure reply of [`NotificationError::reply`], with the reason
/// logged through `tracing`. To handle rejections yourself, extract
/// `Result<WechatpayNotification<T>, NotificationRejection>`.
///
/// ```no_run
/// use axum::Router;
/// use axum::routing::post;
/// use wxpay_core::notification::resources::Transaction;
/// use wxpay_core::notification::{NotificationDecoder, NotificationReply, WechatpayNotification};
///
/// async fn paid(WechatpayNotification(notification): WechatpayNotification<Transaction>) -> NotificationReply {
///     println!("order {} paid", notification.resource.out_trade_no);
///     NotificationReply::success()
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
    /// connection failed).
    #[error(
        "the callback body could not be read: {0}; if it is too large, raise the route's DefaultBodyLimit"
    )]
    Body(#[source] BytesRejection),
}

impl NotificationRejection {
    /// The failure answer for WeChat Pay.
    pub fn reply(&self) -> NotificationReply {
        match self {
            NotificationRejection::Notification(error) => error.reply(),
            NotificationRejection::Body(rejection) => {
                NotificationReply::failure_with_status(rejection.status(), "unreadable body")
            }
        }
    }

    /// The [`NotificationError`], when the body could be read.
    pub fn notification_error(&self) -> Option<&NotificationError> {
        match self {
            NotificationRejection::Notification(error) => Some(error),
            NotificationRejection::Body(_) => None,
        }
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
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| log(NotificationRejection::Body(rejection)))?;
        decoder
            .decode_refreshing(&headers, &body)
            .await
            .map(WechatpayNotification)
            .map_err(|error| log(NotificationRejection::Notification(error)))
    }
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
    if probe {
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
