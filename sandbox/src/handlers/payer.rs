//! The payer's half of a payment: what WeChat does when a merchant's page
//! or app hands it the invocation parameters of a prepaid order.
//!
//! `POST /_sandbox/request-payment` takes the JSAPI and mini-program
//! parameters (`wx.requestPayment`, `WeixinJSBridge.invoke(
//! 'getBrandWCPayRequest', …)`), `POST /_sandbox/request-payment/app` the
//! APP SDK's `PayReq`. Each checks the parameters as WeChat would, in a
//! fixed order (shape, `package`, the order, the signature with the
//! merchant's registered public key, the appid and merchant, the trade
//! type and state), and only then pays the order through
//! [`payments::pay`], exactly as the control call does. A refusal changes
//! nothing.
//!
//! `GET /_sandbox/prepay/{prepay_id}` tells the payment sheet of
//! `/_sandbox/jsapi.js` what it is about to pay. These three routes answer
//! cross-origin requests (`Access-Control-Allow-Origin: *`, preflight
//! included), since the merchant's page lives on another origin than the
//! sandbox.
//!
//! The signature check is the sandbox's own (aws-lc-rs, as
//! [`crate::auth`] does for requests), independent of `wxpay-core`.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use crate::auth::show_message;
use crate::clock;
use crate::errors::{ApiError, ErrorDetail, Location};
use crate::handlers::payments::{
    self, Order, PayOptions, TradeState, TradeType, by_prepay_id, order_not_found, order_paid,
    path_segment,
};
use crate::state::AppState;
use crate::validation::missing;

/// The JSAPI (and mini-program) route.
pub(crate) const JSAPI_PATH: &str = "/_sandbox/request-payment";
/// The APP route.
pub(crate) const APP_PATH: &str = "/_sandbox/request-payment/app";

/// The longest `nonceStr`/`noncestr` WeChat takes.
const MAX_NONCE_LEN: usize = 32;

/// The routes of this module, all answering cross-origin requests.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(JSAPI_PATH, post(request_payment).options(preflight))
        .route(APP_PATH, post(request_payment_app).options(preflight))
        .route(
            "/_sandbox/prepay/{prepay_id}",
            get(prepay_info).options(preflight),
        )
        .layer(map_response(allow_any_origin))
}

/// Adds `Access-Control-Allow-Origin: *` to every answer of [`routes`] (and
/// of the payee's routes in `transfers`): pages on other origins call them.
pub(crate) async fn allow_any_origin(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// The CORS preflight (`OPTIONS`): 204, any origin may `GET` or `POST`
/// with a JSON `Content-Type`.
pub(crate) async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (
                ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            ),
            (
                ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Content-Type"),
            ),
            (ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600")),
        ],
    )
        .into_response()
}

/// An error about one body field: `detail.field` is `/name`.
fn field_error(
    status: StatusCode,
    code: &str,
    name: &str,
    value: Option<&str>,
    message: String,
) -> ApiError {
    let mut error = ApiError::new(status, code, message.clone());
    error.detail = Some(Box::new(ErrorDetail {
        field: format!("/{name}"),
        value: value.map(Value::from),
        issue: message,
        location: Location::Body,
    }));
    error
}

/// A `PARAM_ERROR` about the body field `name`.
fn param_error(name: &str, value: &str, issue: impl Into<String>) -> ApiError {
    ApiError::param_error(
        Location::Body,
        format!("/{name}"),
        Some(Value::from(value)),
        issue,
    )
}

/// The parameters of one invocation (`wx.requestPayment`, the APP SDK's
/// `PayReq`, `wx.requestMerchantTransfer`): every declared field that was
/// given, each a string that is not empty.
pub(crate) struct Params(Map<String, Value>);

impl Params {
    /// Reads `body` as a JSON object of string fields: `fields` lists
    /// `(name, required)` in the order they are checked. A body that is
    /// not a JSON object, a missing required field, a field that is not a
    /// string or is the empty string, or a field not declared, is a 400
    /// `PARAM_ERROR` naming it.
    ///
    /// The empty string is refused for every field: none of these
    /// parameters (ids, timestamps, nonces, packages, signatures) has an
    /// empty value, so an empty one is a mistake in the caller's page,
    /// reported as such rather than as a signature or merchant mismatch
    /// found later.
    pub(crate) fn read(body: &[u8], fields: &[(&str, bool)]) -> Result<Params, ApiError> {
        let names = || {
            fields
                .iter()
                .map(|(name, required)| {
                    if *required {
                        (*name).to_owned()
                    } else {
                        format!("{name} (optional)")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let value: Value = serde_json::from_slice(body).map_err(|error| {
            ApiError::param_error(
                Location::Body,
                "",
                None,
                format!("the body is not JSON: {error}"),
            )
        })?;
        let Value::Object(object) = value else {
            return Err(ApiError::param_error(
                Location::Body,
                "",
                None,
                format!(
                    "the body must be a JSON object of the invocation parameters: {}",
                    names()
                ),
            ));
        };
        for (name, required) in fields {
            match object.get(*name) {
                None if *required => return Err(missing(Location::Body, &format!("/{name}"))),
                None => {}
                Some(Value::String(text)) if !text.is_empty() => {}
                Some(other) => {
                    return Err(ApiError::param_error(
                        Location::Body,
                        format!("/{name}"),
                        Some(other.clone()),
                        "must be a string that is not empty",
                    ));
                }
            }
        }
        if let Some(extra) = object
            .keys()
            .find(|key| !fields.iter().any(|(name, _)| name == key))
        {
            return Err(ApiError::param_error(
                Location::Body,
                crate::errors::pointer_push("", extra),
                object.get(extra).cloned(),
                format!(
                    "unknown field (the parameters are {}; names are case-sensitive)",
                    names()
                ),
            ));
        }
        Ok(Params(object))
    }

    /// The field `name`, or `None` when it was not given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// A required field (present: [`Params::read`] checked it).
    pub(crate) fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// `PARAM_ERROR` unless `name` is Unix seconds in decimal digits.
    fn check_timestamp(&self, name: &str) -> Result<(), ApiError> {
        let value = self.text(name);
        if !value.is_empty() && value.len() <= 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(param_error(
                name,
                value,
                "must be Unix seconds as a string of digits, e.g. \"1414561699\"",
            ))
        }
    }

    /// `PARAM_ERROR` unless `name` holds 1 to 32 characters.
    fn check_nonce(&self, name: &str) -> Result<(), ApiError> {
        let value = self.text(name);
        let count = value.chars().count();
        if (1..=MAX_NONCE_LEN).contains(&count) {
            Ok(())
        } else {
            Err(param_error(
                name,
                value,
                format!("must hold 1 to {MAX_NONCE_LEN} characters, not {count}"),
            ))
        }
    }
}

/// The sandbox merchant's order whose `prepay_id` this is; 404
/// `ORDER_NOT_EXIST` otherwise.
async fn order_for(app: &AppState, prepay_id: &str) -> Result<Order, ApiError> {
    let (mchid, id) = (app.0.credentials.mchid.clone(), prepay_id.to_owned());
    app.store()
        .transaction(move |db| by_prepay_id(db, &mchid, &id))
        .await?
        .ok_or_else(|| order_not_found(&format!("prepay_id {prepay_id:?} (it was never issued)")))
}

/// 401 `SIGN_ERROR` unless `signature` (the field `name`) is base64 of an
/// RSASSA-PKCS1-v1_5/SHA-256 signature of `message` by the merchant's
/// registered key. The message quotes the signed text checked.
fn verify(app: &AppState, name: &str, signature: &str, message: &str) -> Result<(), ApiError> {
    let shown = show_message(message.as_bytes());
    let decoded = BASE64.decode(signature.as_bytes()).map_err(|error| {
        field_error(
            StatusCode::UNAUTHORIZED,
            "SIGN_ERROR",
            name,
            Some(signature),
            format!("{name} is not valid base64 ({error}); it signs the message \"{shown}\""),
        )
    })?;
    app.0
        .keys
        .merchant_key
        .verify_sig(message.as_bytes(), &decoded)
        .map_err(|_| {
            field_error(
                StatusCode::UNAUTHORIZED,
                "SIGN_ERROR",
                name,
                Some(signature),
                format!(
                    "签名错误: {name} does not verify with the merchant public key (serial_no \
                     {}) as SHA256withRSA over the message \"{shown}\"",
                    app.0.credentials.merchant_serial
                ),
            )
        })
}

/// 400 `APPID_MCHID_NOT_MATCH` unless the field `name` is `expected`.
fn check_match(name: &str, given: &str, expected: &str, what: &str) -> Result<(), ApiError> {
    if given == expected {
        Ok(())
    } else {
        Err(field_error(
            StatusCode::BAD_REQUEST,
            "APPID_MCHID_NOT_MATCH",
            name,
            Some(given),
            format!("{name} {given:?} is not the order's {what} {expected:?}"),
        ))
    }
}

/// 400 unless the order was placed as `trade_type` and is `NOTPAY`:
/// `INVALID_REQUEST` for another trade type, `ORDERPAID` for a paid order,
/// `ORDER_CLOSED` for a closed one.
fn check_payable(order: &Order, trade_type: TradeType, route: &str) -> Result<(), ApiError> {
    if order.trade_type != trade_type {
        let hint = match order.trade_type {
            TradeType::Jsapi => format!("use POST {JSAPI_PATH}"),
            TradeType::App => format!("use POST {APP_PATH}"),
            TradeType::H5 => "open its h5_url".to_owned(),
            TradeType::Native => "scan its code_url (the order page pays it)".to_owned(),
            TradeType::Micropay => "a micropay order is paid by its auth_code, or by POST \
                 /_sandbox/transactions/out-trade-no/{out_trade_no}/pay"
                .to_owned(),
        };
        return Err(ApiError::invalid_request(format!(
            "order {} is a {} order, not a {} one: {route} cannot pay it ({hint})",
            order.out_trade_no,
            order.trade_type.as_str(),
            trade_type.as_str()
        )));
    }
    match order.trade_state {
        TradeState::NotPay => Ok(()),
        TradeState::Success | TradeState::Refund => Err(order_paid(&order.out_trade_no)),
        TradeState::Closed => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "ORDER_CLOSED",
            format!("订单已关闭: order {} is closed", order.out_trade_no),
        )),
    }
}

/// Pays a checked order as the control call does; answers the
/// transaction.
async fn pay(app: &AppState, order: &Order) -> Result<Json<Value>, ApiError> {
    let view = payments::pay(
        app.store(),
        &app.0.events,
        &order.mchid,
        &order.out_trade_no,
        PayOptions::default(),
        clock::unix_now(),
    )
    .await?;
    tracing::debug!(out_trade_no = %order.out_trade_no, "paid through the payer's side");
    Ok(Json(view))
}

/// The JSAPI parameters, in the order they are checked; `appId` may be
/// left out (the mini-program call has none).
const JSAPI_FIELDS: &[(&str, bool)] = &[
    ("appId", false),
    ("timeStamp", true),
    ("nonceStr", true),
    ("package", true),
    ("signType", true),
    ("paySign", true),
];

/// The APP SDK's `PayReq`, as the server-side docs name its fields.
const APP_FIELDS: &[(&str, bool)] = &[
    ("appid", true),
    ("partnerid", true),
    ("prepayid", true),
    ("package", true),
    ("noncestr", true),
    ("timestamp", true),
    ("sign", true),
];

/// `POST /_sandbox/request-payment`: checks JSAPI or mini-program
/// invocation parameters, then pays the order; answers the transaction.
async fn request_payment(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let params = Params::read(&body, JSAPI_FIELDS)?;
    params.check_timestamp("timeStamp")?;
    params.check_nonce("nonceStr")?;
    let sign_type = params.text("signType");
    if sign_type != "RSA" {
        return Err(param_error(
            "signType",
            sign_type,
            "must be RSA (APIv3 invocations are signed SHA256withRSA; MD5 and HMAC-SHA256 \
             belong to APIv2)",
        ));
    }
    let package = params.text("package");
    let prepay_id = package
        .strip_prefix("prepay_id=")
        .filter(|id| !id.is_empty() && !id.contains(['&', '=']))
        .ok_or_else(|| {
            param_error(
                "package",
                package,
                "must be \"prepay_id=<prepay_id>\" with the prepay_id the order's create call \
                 answered",
            )
        })?;
    let order = order_for(&app, prepay_id).await?;
    // The mini-program call carries no appId, but its appid is signed all
    // the same: the order's.
    let app_id = params.get("appId").unwrap_or(order.text("appid"));
    let message = format!(
        "{app_id}\n{}\n{}\n{package}\n",
        params.text("timeStamp"),
        params.text("nonceStr")
    );
    verify(&app, "paySign", params.text("paySign"), &message)?;
    if let Some(given) = params.get("appId") {
        check_match("appId", given, order.text("appid"), "appid")?;
    }
    check_payable(&order, TradeType::Jsapi, JSAPI_PATH)?;
    pay(&app, &order).await
}

/// `POST /_sandbox/request-payment/app`: checks the APP SDK's `PayReq`,
/// then pays the order; answers the transaction.
async fn request_payment_app(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let params = Params::read(&body, APP_FIELDS)?;
    params.check_timestamp("timestamp")?;
    params.check_nonce("noncestr")?;
    let package = params.text("package");
    if package != "Sign=WXPay" {
        return Err(param_error(
            "package",
            package,
            "must be \"Sign=WXPay\" (the APP SDK's packageValue)",
        ));
    }
    let prepay_id = params.text("prepayid");
    if prepay_id.is_empty() {
        return Err(param_error(
            "prepayid",
            prepay_id,
            "must be the prepay_id the order's create call answered",
        ));
    }
    let order = order_for(&app, prepay_id).await?;
    let message = format!(
        "{}\n{}\n{}\n{prepay_id}\n",
        params.text("appid"),
        params.text("timestamp"),
        params.text("noncestr")
    );
    verify(&app, "sign", params.text("sign"), &message)?;
    check_match("appid", params.text("appid"), order.text("appid"), "appid")?;
    check_match("partnerid", params.text("partnerid"), &order.mchid, "mchid")?;
    check_payable(&order, TradeType::App, APP_PATH)?;
    pay(&app, &order).await
}

/// `GET /_sandbox/prepay/{prepay_id}`: what the payment sheet shows.
async fn prepay_info(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let prepay_id = path_segment(path, "prepay_id")?;
    let order = order_for(&app, &prepay_id).await?;
    Ok(Json(json!({
        "prepay_id": prepay_id,
        "out_trade_no": order.out_trade_no,
        "appid": order.text("appid"),
        "mchid": order.mchid,
        "description": order.text("description"),
        "total": order.total(),
        "currency": "CNY",
        "trade_type": order.trade_type.as_str(),
        "trade_state": order.trade_state.as_str(),
        "order_url": crate::handlers::pages::order_path(&order.out_trade_no),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[(&str, bool)] = &[("a", true), ("b", false)];

    /// The field a refusal names, and its message.
    fn refusal(body: &str) -> (String, String) {
        match Params::read(body.as_bytes(), FIELDS) {
            Ok(_) => panic!("{body} was accepted"),
            Err(error) => (
                error.detail.map(|detail| detail.field).unwrap_or_default(),
                error.message,
            ),
        }
    }

    #[test]
    fn params_are_declared_non_empty_strings() {
        let params = Params::read(br#"{"a":"x"}"#, FIELDS).expect("only the required one");
        assert_eq!((params.text("a"), params.get("b")), ("x", None));
        let params = Params::read(br#"{"a":"x","b":"y"}"#, FIELDS).expect("both");
        assert_eq!(params.get("b"), Some("y"));

        assert_eq!(refusal(r#"{"b":"y"}"#).0, "/a");
        assert_eq!(refusal(r#"{"a":""}"#).0, "/a");
        assert_eq!(refusal(r#"{"a":"x","b":""}"#).0, "/b");
        assert_eq!(refusal(r#"{"a":1}"#).0, "/a");
        assert_eq!(refusal(r#"{"a":"x","b":null}"#).0, "/b");
        let (field, message) = refusal(r#"{"a":"x","A":"y"}"#);
        assert_eq!(field, "/A");
        assert!(message.contains("a, b (optional)"), "{message}");
        assert!(refusal("[]").1.contains("JSON object"));
        assert!(refusal("{").1.contains("not JSON"));
    }
}
