//! The request handlers: one module per group of endpoints (payments,
//! refunds, coupons, transfers, bills, media, the payer, the pages, the
//! control endpoint, APIv2, …), each with its `routes()`, and
//! [`verify_request`], the signature check every APIv3 request passes.
//!
//! The handlers sit between the shared state and the router: they take
//! [`AppState`] (from `state`, below) and the utility modules (errors,
//! validation, query, store, events, signing, …), and `server` (above)
//! merges their routes into the router. No handler imports `server`.

pub(crate) mod bill;
pub(crate) mod certificates;
pub(crate) mod control;
pub(crate) mod favor;
pub(crate) mod media;
pub(crate) mod pages;
pub(crate) mod payer;
pub(crate) mod payments;
pub(crate) mod profitsharing;
pub(crate) mod refunds;
pub(crate) mod sensitive;
pub(crate) mod transfers;
pub(crate) mod v2;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use axum::response::{IntoResponse, Response};

use crate::auth::{self, Expected, ReceivedRequest};
use crate::clock;
use crate::errors::ApiError;
use crate::state::AppState;

/// Request bodies larger than this are refused (the coupon endpoints take
/// a few hundred bytes).
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// The signature check of every APIv3 request: `server`'s authenticating
/// layer runs it before each route, and [`crate::spec`] runs it for the
/// routes that layer does not wrap (the
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
