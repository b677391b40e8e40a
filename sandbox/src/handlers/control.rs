//! The control endpoint, `/_sandbox/…`: what a test or a developer uses
//! to steer the sandbox over HTTP (faults, certificate rotation, callbacks).
//!
//! These routes are not part of WeChat Pay's API. They are merged into the
//! router outside the signature check and the `respond` layer: no
//! `Authorization`, no faults (so a fault can always be switched off), no
//! signature; answers are plain JSON, errors `{"code","message","detail"?}`
//! like the API's. Meant for loopback.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::callbacks::{CallbackAttempt, CallbackOutcome, Notification};
use crate::errors::{ApiError, Location};
use crate::handlers::{profitsharing, transfers};
use crate::state::AppState;
use crate::{Faults, SandboxError, clock};

/// The routes of the control endpoint.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/rotate", post(rotate))
        .route("/_sandbox/callbacks", get(list_callbacks))
        .route("/_sandbox/notify", post(notify))
        .route("/_sandbox/{*rest}", any(unknown))
}

/// Reads a JSON body into `T`; a 400 `PARAM_ERROR` naming the field (a
/// JSON pointer) otherwise.
fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.inner().to_string();
        // An unknown field is reported before its key joins the path.
        let unknown = inner
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned());
        let mut pointer = String::new();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Map { key } => {
                    pointer = crate::errors::pointer_push(&pointer, key);
                }
                serde_path_to_error::Segment::Seq { index } => {
                    pointer = crate::errors::pointer_push(&pointer, &index.to_string());
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        if let Some(name) = unknown
            && !pointer.ends_with(&format!("/{name}"))
        {
            pointer = crate::errors::pointer_push(&pointer, &name);
        }
        ApiError::param_error(Location::Body, pointer, None, inner)
    })?;
    deserializer.end().map_err(|error| {
        ApiError::param_error(
            Location::Body,
            "",
            None,
            format!("not one JSON value: {error}"),
        )
    })?;
    Ok(value)
}

/// `GET /_sandbox/faults`: the faults in force.
async fn get_faults(State(app): State<AppState>) -> Json<Faults> {
    Json(app.faults())
}

/// `PUT /_sandbox/faults`: replaces the faults (missing fields take their
/// default) and answers them.
async fn put_faults(State(app): State<AppState>, body: Bytes) -> Response {
    let faults: Faults = match read_json(&body) {
        Ok(faults) => faults,
        Err(error) => return error.into_response(),
    };
    if let Err(SandboxError::InvalidFaults { field, reason }) = faults.validate() {
        let value = serde_json::to_value(&faults)
            .ok()
            .and_then(|all| all.get(field).cloned());
        return ApiError::param_error(Location::Body, format!("/{field}"), value, reason)
            .into_response();
    }
    app.set_faults(faults.clone());
    tracing::info!(?faults, "faults set through the control endpoint");
    Json(faults).into_response()
}

/// `POST /_sandbox/rotate`: a new platform certificate; answers its serial
/// and PEM (never the key).
async fn rotate(State(app): State<AppState>) -> Response {
    let rotated =
        tokio::task::spawn_blocking(move || crate::state::rotate_platform_certificate(&app)).await;
    match rotated {
        Ok(Ok(rotated)) => Json(json!({
            "serial": rotated.serial,
            "certificate_pem": rotated.certificate_pem,
        }))
        .into_response(),
        Ok(Err(error)) => system_error(format!("rotation failed: {error}")),
        Err(_) => system_error("rotation failed: the key generation task stopped".to_owned()),
    }
}

fn system_error(message: String) -> Response {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", message).into_response()
}

/// `GET /_sandbox/callbacks`: the delivery log, oldest first.
async fn list_callbacks(State(app): State<AppState>) -> Json<Value> {
    let attempts: Vec<Value> = app
        .0
        .callbacks
        .attempts()
        .iter()
        .map(attempt_json)
        .collect();
    Json(json!({ "attempts": attempts }))
}

/// One delivery log entry as `GET /_sandbox/callbacks` shows it.
pub(crate) fn attempt_json(attempt: &CallbackAttempt) -> Value {
    let unix_ms = attempt
        .started_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let retry_after_ms = match attempt.outcome {
        CallbackOutcome::Retrying { after } => Some(millis(after)),
        CallbackOutcome::Delivered | CallbackOutcome::GaveUp => None,
    };
    json!({
        "notification_id": attempt.notification_id,
        "event_type": attempt.event_type,
        "notify_url": attempt.notify_url,
        "out_trade_no": attempt.out_trade_no,
        "attempt": attempt.attempt,
        "time": rfc3339_millis(attempt.started_at),
        "unix_ms": unix_ms,
        "duration_ms": millis(attempt.duration),
        "status": attempt.status,
        "error": attempt.error,
        "answer": attempt.answer,
        "outcome": attempt.outcome.as_str(),
        "retry_after_ms": retry_after_ms,
    })
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `2026-11-27T10:34:56.789+08:00`.
fn rfc3339_millis(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let whole = clock::format_rfc3339(seconds);
    match whole.strip_suffix("+08:00") {
        Some(start) => format!("{start}.{:03}+08:00", since.subsec_millis()),
        None => whole,
    }
}

/// The body of `POST /_sandbox/notify`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyRequest {
    event_type: String,
    original_type: Option<String>,
    summary: Option<String>,
    notify_url: String,
    resource: Value,
}

/// `POST /_sandbox/notify`: queues an arbitrary callback; answers 202 with
/// its id.
async fn notify(State(app): State<AppState>, body: Bytes) -> Response {
    let request: NotifyRequest = match read_json(&body) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let invalid = |field: &str, value: &str, issue: String| {
        ApiError::param_error(Location::Body, field, Some(Value::from(value)), issue)
            .into_response()
    };
    if request.event_type.trim().is_empty() {
        return invalid(
            "/event_type",
            &request.event_type,
            "must not be empty".into(),
        );
    }
    match reqwest::Url::parse(&request.notify_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {}
        Ok(url) => {
            return invalid(
                "/notify_url",
                &request.notify_url,
                format!("must be an http or https URL, not {}", url.scheme()),
            );
        }
        Err(error) => {
            return invalid(
                "/notify_url",
                &request.notify_url,
                format!("not a URL: {error}"),
            );
        }
    }
    let original_type = request
        .original_type
        .unwrap_or_else(|| default_original_type(&request.event_type));
    let summary = request
        .summary
        .unwrap_or_else(|| default_summary(&request.event_type));
    let notification = Notification::new(
        request.event_type,
        original_type,
        summary,
        request.notify_url,
        request.resource,
    );
    let answer = json!({
        "id": notification.id,
        "event_type": notification.event_type,
        "original_type": notification.original_type,
        "notify_url": notification.notify_url,
    });
    app.0.callbacks.submit(notification);
    (StatusCode::ACCEPTED, Json(answer)).into_response()
}

/// What the flows send for their events (merchant transfers, profit
/// sharing); otherwise the event type's first part in lower case
/// (`transaction` for `TRANSACTION.*`, `refund`, `coupon`).
fn default_original_type(event_type: &str) -> String {
    if event_type == transfers::EVENT_TYPE {
        return transfers::ORIGINAL_TYPE.to_owned();
    }
    let first = event_type.split('.').next().unwrap_or(event_type);
    first.to_ascii_lowercase()
}

/// WeChat Pay's summary for the common events; the event type otherwise.
fn default_summary(event_type: &str) -> String {
    match event_type {
        "TRANSACTION.SUCCESS" => "支付成功",
        "REFUND.SUCCESS" => "退款成功",
        "REFUND.ABNORMAL" => "退款异常",
        "REFUND.CLOSED" => "退款关闭",
        "COUPON.SEND" => "代金券发放通知",
        "COUPON.USE" => "代金券核销",
        other if other == transfers::EVENT_TYPE => transfers::SUMMARY,
        other if other == profitsharing::SHARED.0 => profitsharing::SHARED.1,
        other if other == profitsharing::RETURNED.0 => profitsharing::RETURNED.1,
        other => other,
    }
    .to_owned()
}

/// Any other `/_sandbox/…` path: 404 with the list of control routes.
async fn unknown(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no such control route: {method} {} (the control endpoint serves GET/PUT \
         /_sandbox/faults, POST /_sandbox/rotate, GET /_sandbox/callbacks, POST \
         /_sandbox/notify, POST /_sandbox/transactions/out-trade-no/{{out_trade_no}}/pay, \
         …/expire and …/close, POST /_sandbox/request-payment, POST \
         /_sandbox/request-payment/app, GET /_sandbox/prepay/{{prepay_id}}, POST \
         /_sandbox/transfer-bills/{{transfer_bill_no}}/confirm, …/expire and …/fail, POST \
         /_sandbox/request-merchant-transfer, GET \
         /_sandbox/transfer-bills/package/{{package}}, and the pages GET \
         /_sandbox/ (the dashboard), GET /_sandbox/orders/{{out_trade_no}}, GET \
         /_sandbox/h5/checkmweb, GET /_sandbox/jsapi.js)",
        uri.path()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_fault_json_names_the_field() {
        let error = read_json::<Faults>(br#"{"share_500":"x"}"#).expect_err("type");
        let detail = error.detail.expect("detail");
        assert_eq!(detail.field, "/share_500");
        let error = read_json::<Faults>(br#"{"latency":5}"#).expect_err("unknown");
        let detail = error.detail.expect("detail");
        assert_eq!(detail.field, "/latency");
        assert!(detail.issue.contains("unknown field"), "{}", detail.issue);
        let error =
            read_json::<Faults>(br#"{"status_override":{"status":500}}"#).expect_err("missing");
        assert!(error.message.contains("code"), "{}", error.message);
        assert!(read_json::<Faults>(b"{} {}").is_err());
    }

    #[test]
    fn defaults_follow_the_event_type() {
        assert_eq!(default_original_type("TRANSACTION.SUCCESS"), "transaction");
        assert_eq!(
            default_original_type("MCHTRANSFER.BILL.FINISHED"),
            "mch_payment"
        );
        assert_eq!(
            default_original_type("PROFITSHARING.RETURN"),
            "profitsharing"
        );
        assert_eq!(
            default_summary("MCHTRANSFER.BILL.FINISHED"),
            "商家转账单据终态通知"
        );
        assert_eq!(default_summary("PROFITSHARING.SUCCESS"), "分账成功");
        assert_eq!(default_summary("REFUND.SUCCESS"), "退款成功");
        assert_eq!(default_summary("X.Y"), "X.Y");
    }

    #[test]
    fn other_modules_can_add_control_routes_beside_the_catch_all() {
        // The payment flow adds its own `/_sandbox/…` route the same way.
        let extra: Router<AppState> = Router::new().route(
            "/_sandbox/transactions/out-trade-no/{out_trade_no}/pay",
            post(|| async {}),
        );
        let _merged: Router<AppState> = routes().merge(extra);
    }

    #[test]
    fn times_carry_milliseconds() {
        let time = UNIX_EPOCH + Duration::from_millis(1_432_099_775_120);
        assert_eq!(rfc3339_millis(time), "2015-05-20T13:29:35.120+08:00");
    }
}
