//! The HTTP side: the shared state, the router, and the two layers every
//! API request passes through.
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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use rand::Rng as _;

use crate::auth::{self, Expected, ReceivedRequest};
use crate::bill;
use crate::callbacks::Deliveries;
use crate::certificates::{self, CERTIFICATES_PATH, PlatformCertificate};
use crate::clock;
use crate::control;
use crate::credentials::ServerKeys;
use crate::errors::ApiError;
use crate::events::EventSink;
use crate::faults::Injected;
use crate::favor;
use crate::media;
use crate::profitsharing;
use crate::signing::{self, ResponseSigner};
use crate::spec;
use crate::store::Store;
use crate::transfers;
use crate::{Credentials, Faults};
use crate::{pages, payer, payments, refunds};

/// Request bodies larger than this are refused (the coupon endpoints take
/// a few hundred bytes).
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) credentials: Credentials,
    pub(crate) keys: Arc<ServerKeys>,
    /// The platform certificates served, oldest first; the last one signs
    /// certificate-mode answers. Never empty.
    pub(crate) certificates: RwLock<Vec<Arc<PlatformCertificate>>>,
    /// Sign in certificate mode when a request names no key.
    pub(crate) certificate_mode: bool,
    pub(crate) faults: Mutex<Faults>,
    /// Stocks, coupons, orders, refunds, bill download tokens: see
    /// [`crate::store`].
    pub(crate) store: Store,
    /// `http://127.0.0.1:PORT`: where download URLs point.
    pub(crate) base_url: String,
    pub(crate) requests_served: AtomicU64,
    /// Callback delivery: settings, the queue of `/_sandbox/notify`, the
    /// log.
    pub(crate) callbacks: Deliveries,
    /// Callbacks to deliver (payments, refunds, coupons).
    pub(crate) events: EventSink,
    /// APIv2 red packets sent (in memory).
    pub(crate) redpacks: crate::v2::RedPacks,
}

/// How an answer is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigningMode {
    /// With the platform key, announcing the public key id.
    PublicKey,
    /// With the newest certificate's key, announcing its serial.
    Certificate,
}

/// The key one [`SigningMode`] signs with: the platform key, which the
/// sandbox always holds, or the newest certificate, held by its own `Arc`
/// since a rotation may replace it meanwhile.
pub(crate) enum SigningKey<'a> {
    /// The platform key, announcing the public key id.
    PublicKey(&'a Shared),
    /// The newest certificate's key, announcing its serial.
    Certificate(Arc<PlatformCertificate>),
}

impl SigningKey<'_> {
    /// A signer for one answer or callback.
    pub(crate) fn signer(&self) -> ResponseSigner<'_> {
        match self {
            SigningKey::PublicKey(shared) => ResponseSigner {
                key: &shared.keys.platform_key,
                serial: &shared.credentials.public_key_id,
            },
            SigningKey::Certificate(certificate) => ResponseSigner {
                key: &certificate.key,
                serial: &certificate.serial,
            },
        }
    }
}

/// The axum state: a handle on [`Shared`].
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Shared>);

impl AppState {
    /// The state database.
    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    pub(crate) fn faults(&self) -> Faults {
        self.0
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        *self.0.faults.lock().unwrap_or_else(PoisonError::into_inner) = faults;
    }

    /// The certificates served, newest first.
    pub(crate) fn certificates_newest_first(&self) -> Vec<Arc<PlatformCertificate>> {
        let certificates = self
            .0
            .certificates
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        certificates.iter().rev().cloned().collect()
    }

    /// The newest certificate: it signs certificate-mode answers.
    pub(crate) fn newest_certificate(&self) -> Arc<PlatformCertificate> {
        let certificates = self
            .0
            .certificates
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        // Never empty: the first certificate is made before the server
        // starts and none is ever removed.
        certificates
            .last()
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.0.keys.certificate))
    }

    /// Starts serving `certificate`; it signs certificate-mode answers from
    /// now on.
    pub(crate) fn add_certificate(&self, certificate: PlatformCertificate) {
        self.0
            .certificates
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(certificate));
    }

    /// How to sign the answer to a request for `path` whose
    /// `Wechatpay-Serial` header is `requested`: `/v3/certificates` always
    /// in certificate mode; otherwise as the header names (the public key
    /// id, or any served certificate's serial); otherwise (no header, an
    /// unknown value) as configured.
    /// The key that signs in `mode`.
    pub(crate) fn signing_key(&self, mode: SigningMode) -> SigningKey<'_> {
        match mode {
            SigningMode::PublicKey => SigningKey::PublicKey(&self.0),
            SigningMode::Certificate => SigningKey::Certificate(self.newest_certificate()),
        }
    }

    fn signing_mode(&self, path: &str, requested: Option<&HeaderValue>) -> SigningMode {
        if path == CERTIFICATES_PATH {
            return SigningMode::Certificate;
        }
        let requested = requested.and_then(|value| value.to_str().ok());
        match requested {
            Some(serial) if serial == self.0.credentials.public_key_id => SigningMode::PublicKey,
            Some(serial) if self.serves_certificate(serial) => SigningMode::Certificate,
            _ if self.0.certificate_mode => SigningMode::Certificate,
            _ => SigningMode::PublicKey,
        }
    }

    fn serves_certificate(&self, serial: &str) -> bool {
        self.0
            .certificates
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|certificate| certificate.serial == serial)
    }

    /// A fresh `Request-ID`: `08`, the time, randomness and a counter, in
    /// upper-case hex (40 characters).
    pub(crate) fn next_request_id(&self) -> String {
        let count = self.0.requests_served.fetch_add(1, Ordering::Relaxed);
        let random: u64 = rand::rng().random();
        let now = clock::unix_now() as u64;
        format!(
            "08{:010X}{random:016X}{:012X}",
            now & 0xFF_FFFF_FFFF,
            count & 0xFFFF_FFFF_FFFF
        )
    }
}

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
        .merge(crate::v2::routes())
        .merge(api)
        .with_state(state)
}

/// Verifies the request's signature over the exact bytes received, then
/// hands the handler the same body and the [`auth::AuthenticatedMerchant`].
///
/// A `multipart/form-data` request (a media upload) is signed over its
/// `meta` part instead: its body is parsed first, and the handler also
/// receives the parsed [`media::Upload`].
async fn authenticate(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match verify_request(&app, request).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}

/// [`authenticate`]'s check, for the routes it does not wrap (the
/// operations answered from the spec, see [`crate::spec`]): the request
/// to hand on (same body, the merchant and any upload in its extensions),
/// or the error answer.
pub(crate) async fn verify_request(app: &AppState, request: Request) -> Result<Request, Response> {
    let (mut parts, body) = request.into_parts();
    let multipart = media::is_multipart(&parts.headers);
    let limit = if multipart {
        media::MAX_UPLOAD_BODY
    } else {
        MAX_REQUEST_BODY
    };
    let body = match to_bytes(body, limit).await {
        Ok(body) => body,
        Err(error) => {
            return Err(ApiError::invalid_request(format!(
                "cannot read the request body (at most {limit} bytes): {error}"
            ))
            .into_response());
        }
    };
    let signed = if multipart {
        match media::parse(&parts.headers, body.clone()).await {
            Ok(upload) => {
                let meta = upload.meta.clone();
                parts.extensions.insert(upload);
                meta
            }
            Err(error) => return Err(error.into_response()),
        }
    } else {
        body.clone()
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    let credentials = &app.0.credentials;
    let expected = Expected {
        mchid: &credentials.mchid,
        serial_no: &credentials.merchant_serial,
        merchant_key: &app.0.keys.merchant_key,
    };
    let received = ReceivedRequest {
        method: parts.method.as_str(),
        target,
        body: &signed,
        authorization: parts.headers.get(AUTHORIZATION),
    };
    match auth::verify(&expected, &received, clock::unix_now()) {
        Ok(merchant) => {
            parts.extensions.insert(merchant);
            Ok(Request::from_parts(parts, Body::from(body)))
        }
        Err(error) => {
            tracing::info!(target = %target, reason = %error.message, "request signature rejected");
            Err(error.into_response())
        }
    }
}

/// 404 `NOT_FOUND` for a path that is neither a route of the sandbox
/// nor an operation of the spec ([`crate::spec::fallback`] decides).
pub(crate) fn no_such_endpoint(method: &Method, path: &str) -> ApiError {
    ApiError::not_found(format!(
        "no such endpoint: {method} {path} (this sandbox answers every WeChat Pay APIv3 \
         operation of the OpenAPI spec, and its own routes under /_sandbox/: GET /_sandbox/ \
         lists them)"
    ))
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
