//! `GET /v3/certificates`: the served platform certificates, encrypted
//! with the APIv3 key. The certificates themselves (issuing, reading,
//! encrypting) are [`crate::certificates`], below the shared state.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router, response::IntoResponse, response::Response};
use serde::Serialize;

use crate::certificates::{ASSOCIATED_DATA, CERTIFICATES_PATH, EncryptedResource, encrypt};
use crate::clock;
use crate::errors::ApiError;
use crate::state::AppState;

/// Answer of `GET /v3/certificates`.
#[derive(Serialize)]
struct CertificateList {
    data: Vec<CertificateEntry>,
}

#[derive(Serialize)]
struct CertificateEntry {
    serial_no: String,
    effective_time: String,
    expire_time: String,
    encrypt_certificate: EncryptedResource,
}

/// The routes of this module.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(CERTIFICATES_PATH, get(list_certificates))
}

/// `GET /v3/certificates`: every served certificate, newest first, each
/// encrypted with a fresh nonce. Query parameters are ignored.
async fn list_certificates(State(app): State<AppState>) -> Response {
    let apiv3_key = &app.0.credentials.apiv3_key;
    let mut data = Vec::new();
    for certificate in app.certificates_newest_first() {
        let Some(encrypted) = encrypt(apiv3_key, ASSOCIATED_DATA, certificate.pem.as_bytes())
        else {
            tracing::error!("encrypting a platform certificate failed");
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SYSTEM_ERROR",
                "the sandbox could not encrypt its certificates",
            )
            .into_response();
        };
        data.push(CertificateEntry {
            serial_no: certificate.serial.clone(),
            effective_time: clock::format_rfc3339(certificate.not_before),
            expire_time: clock::format_rfc3339(certificate.not_after),
            encrypt_certificate: encrypted,
        });
    }
    Json(CertificateList { data }).into_response()
}
