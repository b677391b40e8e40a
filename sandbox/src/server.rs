//! The HTTP side: the router, and the two layers every API request passes
//! through.
//!
//! This module is the top of the request path: it imports the handlers
//! ([`crate::handlers`]) to merge their routes, and the shared state
//! ([`crate::state`]) they run on; none of them imports it back.
//!
//! ```text
//! request ─▶ /_sandbox/… ─▶ control endpoint, payer routes, pages (no layers)
//!         └▶ respond (faults, Request-ID, signature) ─▶ router
//!                                   matched route ─▶ authenticate ─▶ handler
//!                                   no route      ─▶ spec::fallback
//!                 operation of the spec ─▶ authenticate ─▶ checked, answered from the spec
//!                 known path, other method ─▶ 405 METHOD_NOT_ALLOWED
//!                 unknown path ─▶ 404 NOT_FOUND
//! ```
//!
//! Unknown routes are answered without a signature check, so that a wrong
//! path is reported as such even when the signature is also wrong.

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};

use crate::clock;
use crate::errors::ApiError;
use crate::faults::Injected;
use crate::handlers::{
    self, bill, certificates, control, favor, media, pages, payer, payments, profitsharing,
    refunds, transfers, v2,
};
use crate::signing;
use crate::spec;
use crate::state::AppState;

/// The whole application: the simulated API behind its two layers, and
/// the control endpoint (`/_sandbox/…`) beside them, neither
/// authenticated nor signed nor subject to faults.
pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(favor::routes())
        .merge(certificates::routes())
        .merge(media::routes())
        .merge(bill::routes())
        .merge(payments::routes())
        .merge(refunds::routes())
        .merge(profitsharing::routes())
        .merge(transfers::routes())
        .route_layer(from_fn_with_state(state.clone(), authenticate))
        // Any other operation of the spec, authenticated there.
        .fallback(spec::fallback)
        .method_not_allowed_fallback(spec::fallback)
        .layer(from_fn_with_state(state.clone(), respond));
    // Unsigned, unauthenticated, never faulted: outside both layers.
    Router::new()
        .merge(control::routes())
        .merge(payments::control_routes())
        .merge(payer::routes())
        .merge(transfers::control_routes())
        .merge(pages::routes())
        // APIv2: XML, signed with the APIv2 key; no APIv3 layers.
        .merge(v2::routes())
        .merge(api)
        .with_state(state)
}

/// Verifies the request's signature over the exact bytes received, then
/// hands the handler the same body and the
/// [`AuthenticatedMerchant`](crate::auth::AuthenticatedMerchant).
///
/// A `multipart/form-data` request (a media upload) is signed over its
/// `meta` part instead: its body is parsed first, and the handler also
/// receives the parsed [`media::Upload`].
async fn authenticate(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match handlers::verify_request(&app, request).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}

/// Answers a request: applies `status_override`, runs the router, then
/// adds `Request-ID` and the signature headers (as the faults dictate).
async fn respond(State(app): State<AppState>, request: Request, next: Next) -> Response {
    // One snapshot per request, so a concurrent `set_faults` never yields
    // a half-applied mix; its shares are drawn once, here.
    let (faults, injected) = app.faults().roll(&mut rand::rng());
    if !faults.latency().is_zero() {
        tokio::time::sleep(faults.latency()).await;
    }
    let request_id = app.next_request_id();
    let method = request.method().clone();
    let target = request.uri().to_string();
    // Files are not signed by WeChat Pay (their hash is announced instead).
    let file_download = request.uri().path() == bill::DOWNLOAD_PATH;
    let mode = app.signing_mode(
        request.uri().path(),
        request.headers().get(signing::HEADER_SERIAL),
    );

    let response = match (&faults.status_override, injected) {
        (Some((status, code, message)), _) => {
            let status = StatusCode::from_u16(*status)
                .ok()
                .filter(|s| (200..600).contains(&s.as_u16()))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ApiError::new(status, code, message.clone()).into_response()
        }
        (None, Some(Injected::TooManyRequests)) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "FREQUENCY_LIMITED",
            "频率超限 (injected by the wxpay sandbox: Faults::share_429)",
        )
        .into_response(),
        (None, Some(Injected::SystemError)) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误 (injected by the wxpay sandbox: Faults::share_500)",
        )
        .into_response(),
        (None, None) => next.run(request).await,
    };

    let (mut parts, body) = response.into_parts();
    let body: Bytes = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not collect the response body");
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
            Bytes::from_static(
                br#"{"code":"SYSTEM_ERROR","message":"the sandbox failed to build its answer"}"#,
            )
        }
    };
    parts.headers.remove(CONTENT_LENGTH);
    signing::insert(&mut parts.headers, signing::HEADER_REQUEST_ID, &request_id);
    let file_download = file_download || parts.extensions.get::<spec::UnsignedFile>().is_some();
    let body = if file_download && parts.status.is_success() {
        body
    } else {
        app.signing_key(mode).signer().sign(
            parts.status,
            &mut parts.headers,
            body,
            &faults,
            clock::unix_now(),
        )
    };
    tracing::debug!(%method, %target, status = parts.status.as_u16(), %request_id, "answered");
    Response::from_parts(parts, Body::from(body))
}
