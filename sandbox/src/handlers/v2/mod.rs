//! APIv2 (XML, signed with the APIv2 key): the core payment flows over
//! the same store as APIv3. See [APIv2](crate#apiv2) for what is served.
//!
//! Every request goes through [`handle`]: the client certificate (for the
//! operations that need one), the XML, `mch_id`, `sign_type`, the
//! signature, then the operation. Orders and refunds are the APIv3 side's
//! (`payments`, `refunds`), kept with a [`MARKER`] member that holds the
//! APIv2 request, so that paying or refunding them sends the APIv2
//! notification instead of the APIv3 callback.

mod tls;
mod wire;

use std::sync::PoisonError;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rand::Rng as _;
use serde_json::{Map, Value, json};

use crate::clock;
use crate::errors::ApiError;
use crate::events::V2Notice;
use crate::handlers::payments::{self, Order, PayOptions, TradeState, TradeType};
use crate::handlers::refunds;
use crate::state::AppState;

pub(crate) use tls::{TlsListener, TlsPeer};
use wire::{Fields, SignType};

// What marks an order or refund as placed through APIv2, and what APIv2
// says of them, live with the orders and refunds (`payments`, `refunds`),
// which queue the notifications.
use payments::V2_MARKER as MARKER;

/// APIv2 request bodies larger than this are refused.
const MAX_BODY: usize = 64 * 1024;

/// The openid a micropay payer gets.
const MICROPAY_OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// The APIv2 operations served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Micropay,
    UnifiedOrder,
    OrderQuery,
    CloseOrder,
    RefundQuery,
    Refund,
    SendRedpack,
}

impl Operation {
    /// Whether the merchant's API client certificate is required.
    fn needs_certificate(self) -> bool {
        matches!(self, Operation::Refund | Operation::SendRedpack)
    }

    /// Whether a successful answer is signed.
    fn signed_answer(self) -> bool {
        self != Operation::SendRedpack
    }
}

/// The APIv2 routes (on both listeners; outside the APIv3 layers).
pub(crate) fn routes() -> Router<AppState> {
    let route = |operation: Operation| {
        post(move |state: State<AppState>, request: Request| handle(state, operation, request))
    };
    Router::new()
        .route("/pay/micropay", route(Operation::Micropay))
        .route("/pay/unifiedorder", route(Operation::UnifiedOrder))
        .route("/pay/orderquery", route(Operation::OrderQuery))
        .route("/pay/closeorder", route(Operation::CloseOrder))
        .route("/pay/refundquery", route(Operation::RefundQuery))
        .route("/secapi/pay/refund", route(Operation::Refund))
        .route(
            "/mmpaymkttransfers/sendredpack",
            route(Operation::SendRedpack),
        )
}

/// An XML answer (`200`, `text/xml`).
fn xml_response(xml: String) -> Response {
    let mut response = (StatusCode::OK, Body::from(xml)).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}

/// `return_code` `FAIL`: the request was not taken (unsigned).
fn fail(message: &str) -> Response {
    let mut fields = Fields::new();
    fields.insert("return_code".into(), "FAIL".into());
    fields.insert("return_msg".into(), message.into());
    xml_response(wire::to_xml("xml", &fields))
}

/// A business failure: `result_code` `FAIL` with `err_code`.
#[derive(Debug)]
struct Refused {
    code: String,
    description: String,
}

fn refused(code: &str, description: impl Into<String>) -> Refused {
    Refused {
        code: code.to_owned(),
        description: description.into(),
    }
}

/// An APIv3 flow's error as APIv2 names it.
impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        let code = match error.code.as_str() {
            "ORDER_NOT_EXIST" | "RESOURCE_NOT_EXISTS" => "ORDERNOTEXIST",
            "ORDER_CLOSED" => "ORDERCLOSED",
            "PARAM_ERROR" => "PARAM_ERROR",
            "SYSTEM_ERROR" => "SYSTEMERROR",
            other => other,
        };
        Refused {
            code: code.to_owned(),
            description: error.message,
        }
    }
}

/// A missing required business member: `PARAM_ERROR`.
fn required<'a>(fields: &'a Fields, name: &str) -> Result<&'a str, Refused> {
    match fields.get(name) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(refused("PARAM_ERROR", format!("缺少参数{name}"))),
    }
}

/// A member that must be an integer fen amount ≥ `min`.
fn amount(fields: &Fields, name: &str, min: i64) -> Result<i64, Refused> {
    let text = required(fields, name)?;
    match text.parse::<i64>() {
        Ok(value) if value >= min && text.bytes().all(|b| b.is_ascii_digit()) => Ok(value),
        _ => Err(refused(
            "PARAM_ERROR",
            format!("{name}参数格式错误: {text:?} is not an integer of at least {min} (fen)"),
        )),
    }
}

fn optional<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn nonce() -> String {
    crate::random::random_alphanumeric(&mut rand::rng(), 32)
}

/// One APIv2 request, start to end.
async fn handle(State(app): State<AppState>, operation: Operation, request: Request) -> Response {
    let peer = request.extensions().get::<ConnectInfo<TlsPeer>>().cloned();
    if operation.needs_certificate() {
        match &peer {
            None => {
                return fail(
                    "请使用双向证书 (mutual TLS): this operation needs the merchant's API client \
                     certificate; send it to the sandbox's TLS listener (Sandbox::v2_tls_url)",
                );
            }
            Some(ConnectInfo(TlsPeer {
                client_certificate: None,
                remote,
            })) => {
                tracing::info!(%remote, ?operation, "APIv2: no client certificate");
                return fail(
                    "未提供证书: no client certificate was presented; this operation needs the \
                     merchant's API client certificate (apiclient_cert)",
                );
            }
            Some(_) => {}
        }
    }
    let body = match to_bytes(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(_) => return fail(&format!("XML格式错误: the body is over {MAX_BODY} bytes")),
    };
    let fields = match wire::parse(&body) {
        Ok(fields) => fields,
        Err(reason) => return fail(&format!("XML格式错误: {reason}")),
    };
    let credentials = &app.0.credentials;
    match optional(&fields, "mch_id") {
        None => return fail("缺少参数mch_id"),
        Some(mch_id) if mch_id != credentials.mchid => {
            return fail(&format!(
                "mch_id参数错误: {mch_id} is not the sandbox's merchant ({})",
                credentials.mchid
            ));
        }
        Some(_) => {}
    }
    let sign_type = match (operation, optional(&fields, "sign_type")) {
        (_, None) => SignType::Md5,
        (Operation::SendRedpack, Some(_)) => {
            return fail("sign_type参数错误: sendredpack is signed with MD5 only");
        }
        (_, Some("MD5")) => SignType::Md5,
        (_, Some("HMAC-SHA256")) => SignType::HmacSha256,
        (_, Some(other)) => {
            return fail(&format!(
                "sign_type参数格式错误: {other:?} (MD5 or HMAC-SHA256)"
            ));
        }
    };
    if optional(&fields, "nonce_str").is_none() {
        return fail("缺少参数nonce_str");
    }
    if optional(&fields, "sign").is_none() {
        return fail("缺少参数sign");
    }
    if !wire::verify(&fields, &credentials.apiv2_key, sign_type) {
        tracing::info!(?operation, "APIv2 signature rejected");
        return fail("签名错误");
    }
    let outcome = match operation {
        Operation::UnifiedOrder => unified_order(&app, &fields).await,
        Operation::Micropay => micropay(&app, &fields).await,
        Operation::OrderQuery => order_query(&app, &fields).await,
        Operation::CloseOrder => close_order(&app, &fields).await,
        Operation::Refund => refund(&app, &fields).await,
        Operation::RefundQuery => refund_query(&app, &fields).await,
        Operation::SendRedpack => send_redpack(&app, &fields),
    };
    answer(&app, operation, &fields, sign_type, outcome)
}

/// The answer: `return_code` `SUCCESS`, the merchant's ids, a fresh
/// `nonce_str`, `result_code`, the members or `err_code`, signed.
fn answer(
    app: &AppState,
    operation: Operation,
    request: &Fields,
    sign_type: SignType,
    outcome: Result<Fields, Refused>,
) -> Response {
    let mut fields = Fields::new();
    let mut put = |name: &str, value: &str| {
        fields.insert(name.to_owned(), value.to_owned());
    };
    put("return_code", "SUCCESS");
    put("return_msg", "OK");
    put("mch_id", &app.0.credentials.mchid);
    for name in ["appid", "wxappid", "device_info", "sub_mch_id", "sub_appid"] {
        if let Some(value) = optional(request, name) {
            put(name, value);
        }
    }
    put("nonce_str", &nonce());
    match outcome {
        Ok(members) => {
            if operation == Operation::SendRedpack {
                put("return_msg", "发放成功");
            }
            put("result_code", "SUCCESS");
            fields.extend(members);
        }
        Err(refused) => {
            put("result_code", "FAIL");
            put("err_code", &refused.code);
            put("err_code_des", &refused.description);
        }
    }
    if operation.signed_answer() {
        let sign = wire::sign(&fields, &app.0.credentials.apiv2_key, sign_type);
        fields.insert("sign".to_owned(), sign);
    } else {
        fields.remove("nonce_str");
    }
    xml_response(wire::to_xml("xml", &fields))
}

/// The APIv2 request as stored under [`MARKER`]: every member but
/// `nonce_str`, `sign` and `sign_type`.
fn stored(fields: &Fields) -> Value {
    Value::Object(
        fields
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "nonce_str" | "sign" | "sign_type"))
            .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
            .collect(),
    )
}

/// The APIv3 order request an APIv2 order amounts to, with [`MARKER`].
fn order_request(
    app: &AppState,
    fields: &Fields,
    total: i64,
    notify_url: &str,
    trade_type: TradeType,
) -> Result<Map<String, Value>, Refused> {
    let appid = required(fields, "appid")?;
    let body = required(fields, "body")?;
    let out_trade_no = required(fields, "out_trade_no")?;
    if !(6..=32).contains(&out_trade_no.len()) {
        payments::check_out_no(out_trade_no, "/out_trade_no").map_err(Refused::from)?;
        return Err(refused(
            "PARAM_ERROR",
            "out_trade_no参数长度有误: 6 to 32 characters",
        ));
    }
    payments::check_out_no(out_trade_no, "/out_trade_no").map_err(Refused::from)?;
    let ip = required(fields, "spbill_create_ip")?;
    let mut request = Map::new();
    request.insert("appid".into(), Value::from(appid));
    request.insert(
        "mchid".into(),
        Value::from(app.0.credentials.mchid.as_str()),
    );
    request.insert("description".into(), Value::from(body));
    request.insert("out_trade_no".into(), Value::from(out_trade_no));
    request.insert("notify_url".into(), Value::from(notify_url));
    request.insert("amount".into(), json!({"total": total, "currency": "CNY"}));
    if let Some(attach) = optional(fields, "attach") {
        request.insert("attach".into(), Value::from(attach));
    }
    if let Some(openid) = optional(fields, "openid") {
        request.insert("payer".into(), json!({ "openid": openid }));
    }
    let mut scene = json!({ "payer_client_ip": ip });
    if let Some(device) = optional(fields, "device_info") {
        scene["device_id"] = Value::from(device);
    }
    if trade_type == TradeType::H5 {
        scene["h5_info"] = json!({"type": "Wap"});
    }
    request.insert("scene_info".into(), scene);
    request.insert(MARKER.into(), stored(fields));
    Ok(request)
}

/// The order `out_trade_no` (or `transaction_id`) names, or
/// `ORDERNOTEXIST`.
async fn find_order(app: &AppState, fields: &Fields) -> Result<Order, Refused> {
    let mchid = app.0.credentials.mchid.clone();
    let transaction_id = optional(fields, "transaction_id").map(str::to_owned);
    let out_trade_no = optional(fields, "out_trade_no").map(str::to_owned);
    if transaction_id.is_none() && out_trade_no.is_none() {
        return Err(refused(
            "PARAM_ERROR",
            "缺少参数: transaction_id or out_trade_no is required",
        ));
    }
    app.store()
        .transaction(move |db| match (&transaction_id, &out_trade_no) {
            (Some(id), _) => payments::by_transaction_id(db, &mchid, id),
            (None, Some(no)) => payments::by_out_trade_no(db, &mchid, no),
            (None, None) => Ok(None),
        })
        .await?
        .ok_or_else(|| refused("ORDERNOTEXIST", "订单不存在"))
}

/// `POST /pay/unifiedorder`.
async fn unified_order(app: &AppState, fields: &Fields) -> Result<Fields, Refused> {
    let trade_type = match required(fields, "trade_type")? {
        "JSAPI" => TradeType::Jsapi,
        "NATIVE" => TradeType::Native,
        "APP" => TradeType::App,
        "MWEB" => TradeType::H5,
        other => {
            return Err(refused(
                "PARAM_ERROR",
                format!("trade_type参数错误: {other:?} (JSAPI, NATIVE, APP or MWEB)"),
            ));
        }
    };
    if trade_type == TradeType::Jsapi {
        required(fields, "openid")?;
    }
    let total = amount(fields, "total_fee", 1)?;
    let notify_url = required(fields, "notify_url")?;
    payments::check_notify_url(notify_url, "/notify_url").map_err(Refused::from)?;
    let request = order_request(app, fields, total, notify_url, trade_type)?;
    let out_trade_no = required(fields, "out_trade_no")?.to_owned();
    let mchid = app.0.credentials.mchid.clone();
    let answer = payments::create(
        app.store(),
        &mchid,
        trade_type,
        request,
        &app.0.base_url,
        clock::unix_now(),
    )
    .await?;
    let order = app
        .store()
        .transaction(move |db| payments::by_out_trade_no(db, &mchid, &out_trade_no))
        .await?
        .ok_or_else(|| refused("SYSTEMERROR", "the order just placed is missing"))?;
    let mut out = Fields::new();
    out.insert("trade_type".into(), trade_type.as_str().into());
    out.insert(
        "prepay_id".into(),
        order.prepay_id.clone().unwrap_or_default(),
    );
    if let Some(code_url) = answer.get("code_url").and_then(Value::as_str) {
        out.insert("code_url".into(), code_url.into());
    }
    if let Some(h5_url) = answer.get("h5_url").and_then(Value::as_str) {
        out.insert("mweb_url".into(), h5_url.into());
    }
    Ok(out)
}

/// Whether `auth_code` is a payment code: 18 digits starting `10`–`15`.
fn is_auth_code(code: &str) -> bool {
    code.len() == 18
        && code.bytes().all(|b| b.is_ascii_digit())
        && matches!(&code[..2], "10" | "11" | "12" | "13" | "14" | "15")
}

/// `POST /pay/micropay`: pays at once, unless the `auth_code` ends in
/// `9999` (the payer must enter a password: `USERPAYING`).
async fn micropay(app: &AppState, fields: &Fields) -> Result<Fields, Refused> {
    let auth_code = required(fields, "auth_code")?;
    let total = amount(fields, "total_fee", 1)?;
    let request = order_request(app, fields, total, "", TradeType::Micropay)?;
    if !is_auth_code(auth_code) {
        return Err(refused(
            "AUTH_CODE_INVALID",
            "付款码无效: an auth_code is 18 digits starting with 10 to 15",
        ));
    }
    let out_trade_no = required(fields, "out_trade_no")?;
    let mchid = app.0.credentials.mchid.clone();
    payments::create(
        app.store(),
        &mchid,
        TradeType::Micropay,
        request,
        &app.0.base_url,
        clock::unix_now(),
    )
    .await?;
    if auth_code.ends_with("9999") {
        return Err(refused(
            "USERPAYING",
            "需要用户输入支付密码: the sandbox waits for the payer (pay the order through \
             /_sandbox/transactions/out-trade-no/{out_trade_no}/pay, then query it)",
        ));
    }
    let options = PayOptions {
        openid: Some(MICROPAY_OPENID.to_owned()),
        ..PayOptions::default()
    };
    payments::pay(
        app.store(),
        &app.0.events,
        &mchid,
        out_trade_no,
        options,
        clock::unix_now(),
    )
    .await?;
    let order = find_order(app, fields).await?;
    let mut out = order.v2_members();
    out.remove("trade_state");
    out.remove("trade_state_desc");
    Ok(out)
}

/// `POST /pay/orderquery`.
async fn order_query(app: &AppState, fields: &Fields) -> Result<Fields, Refused> {
    let order = find_order(app, fields).await?;
    Ok(order.v2_members())
}

/// `POST /pay/closeorder`.
async fn close_order(app: &AppState, fields: &Fields) -> Result<Fields, Refused> {
    required(fields, "out_trade_no")?;
    let order = find_order(app, fields).await?;
    match order.trade_state {
        TradeState::Closed => return Err(refused("ORDERCLOSED", "订单已关闭")),
        TradeState::Success | TradeState::Refund => {
            return Err(refused("ORDERPAID", "订单已支付，不能发起关单"));
        }
        TradeState::NotPay => {}
    }
    payments::close(app.store(), &order.mchid, &order.out_trade_no).await?;
    let mut out = Fields::new();
    out.insert("result_msg".into(), "OK".into());
    Ok(out)
}

/// `POST /secapi/pay/refund`.
async fn refund(app: &AppState, fields: &Fields) -> Result<Fields, Refused> {
    let out_refund_no = required(fields, "out_refund_no")?;
    payments::check_out_no(out_refund_no, "/out_refund_no").map_err(Refused::from)?;
    let total = amount(fields, "total_fee", 1)?;
    let refund_fee = amount(fields, "refund_fee", 1)?;
    let notify_url = optional(fields, "notify_url");
    if let Some(url) = notify_url {
        payments::check_notify_url(url, "/notify_url").map_err(Refused::from)?;
    }
    let order = find_order(app, fields).await?;
    let mchid = app.0.credentials.mchid.clone();
    let (db_mchid, number) = (mchid.clone(), out_refund_no.to_owned());
    let existing = app
        .store()
        .transaction(move |db| refunds::by_out_refund_no(db, &db_mchid, &number))
        .await?;
    if existing.is_none() {
        if !order.trade_state.is_paid() {
            return Err(refused(
                "TRADE_STATE_ERROR",
                format!(
                    "订单状态错误: order {} is {}",
                    order.out_trade_no,
                    order.trade_state.as_str()
                ),
            ));
        }
        if total != order.total() {
            return Err(refused(
                "PARAM_ERROR",
                format!(
                    "订单金额错误: total_fee {total} is not the order's {}",
                    order.total()
                ),
            ));
        }
        let left = order.total() - order.refunded;
        if refund_fee > left {
            return Err(refused(
                "REFUND_FEE_INVALID",
                format!("申请退款金额超过订单可退金额: {refund_fee} asked, {left} left"),
            ));
        }
    }
    let mut request = Map::new();
    if let Some(id) = optional(fields, "transaction_id") {
        request.insert("transaction_id".into(), Value::from(id));
    }
    request.insert(
        "out_trade_no".into(),
        Value::from(order.out_trade_no.as_str()),
    );
    request.insert("out_refund_no".into(), Value::from(out_refund_no));
    if let Some(reason) = optional(fields, "refund_desc") {
        request.insert("reason".into(), Value::from(reason));
    }
    if let Some(url) = notify_url {
        request.insert("notify_url".into(), Value::from(url));
    }
    request.insert(
        "amount".into(),
        json!({"refund": refund_fee, "total": total, "currency": "CNY"}),
    );
    request.insert(MARKER.into(), stored(fields));
    let view = refunds::apply(
        app.store(),
        &app.0.events,
        &mchid,
        request,
        clock::unix_now(),
    )
    .await?;
    let text = |name: &str| {
        view.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut out = Fields::new();
    out.insert("transaction_id".into(), text("transaction_id"));
    out.insert("out_trade_no".into(), text("out_trade_no"));
    out.insert("out_refund_no".into(), text("out_refund_no"));
    out.insert("refund_id".into(), text("refund_id"));
    out.insert("refund_channel".into(), String::new());
    out.insert("refund_fee".into(), refund_fee.to_string());
    out.insert("settlement_refund_fee".into(), refund_fee.to_string());
    out.insert("total_fee".into(), total.to_string());
    out.insert("settlement_total_fee".into(), total.to_string());
    out.insert("fee_type".into(), "CNY".into());
    let cash = order.payer_total.unwrap_or(total);
    out.insert("cash_fee".into(), cash.to_string());
    out.insert(
        "cash_refund_fee".into(),
        (refund_fee.saturating_mul(cash) / total.max(1)).to_string(),
    );
    out.retain(|_, value| !value.is_empty());
    Ok(out)
}

/// `POST /pay/refundquery`: by `refund_id`, `out_refund_no`,
/// `transaction_id` or `out_trade_no` (the first given, in that order).
async fn refund_query(app: &AppState, fields: &Fields) -> Result<Fields, Refused> {
    let mchid = app.0.credentials.mchid.clone();
    let refund_id = optional(fields, "refund_id").map(str::to_owned);
    let out_refund_no = optional(fields, "out_refund_no").map(str::to_owned);
    let transaction_id = optional(fields, "transaction_id").map(str::to_owned);
    let out_trade_no = optional(fields, "out_trade_no").map(str::to_owned);
    if refund_id.is_none()
        && out_refund_no.is_none()
        && transaction_id.is_none()
        && out_trade_no.is_none()
    {
        return Err(refused(
            "PARAM_ERROR",
            "缺少参数: refund_id, out_refund_no, transaction_id or out_trade_no is required",
        ));
    }
    let found = app
        .store()
        .transaction(move |db| {
            let mchid = mchid.as_str();
            let order = if let Some(id) = &refund_id {
                match refunds::out_trade_no_of_refund_id(db, mchid, id)? {
                    Some(no) => payments::by_out_trade_no(db, mchid, &no)?,
                    None => None,
                }
            } else if let Some(no) = &out_refund_no {
                match refunds::by_out_refund_no(db, mchid, no)? {
                    Some(refund) => Some(refunds::order_of(db, mchid, &refund)?),
                    None => None,
                }
            } else if let Some(id) = &transaction_id {
                payments::by_transaction_id(db, mchid, id)?
            } else if let Some(no) = &out_trade_no {
                payments::by_out_trade_no(db, mchid, no)?
            } else {
                None
            };
            let Some(order) = order else {
                return Ok(None);
            };
            let mut list = refunds::of_order(db, mchid, &order.out_trade_no)?;
            if let Some(id) = &refund_id {
                list.retain(|refund| &refund.refund_id == id);
            } else if let Some(no) = &out_refund_no {
                list.retain(|refund| &refund.out_refund_no == no);
            }
            Ok(Some((order, list)))
        })
        .await?;
    let (order, list) = match found {
        Some((order, list)) if !list.is_empty() => (order, list),
        _ => {
            return Err(refused(
                "REFUNDNOTEXIST",
                "退款订单查询失败: no such refund",
            ));
        }
    };
    let mut out = Fields::new();
    out.insert(
        "transaction_id".into(),
        order.transaction_id.clone().unwrap_or_default(),
    );
    out.insert("out_trade_no".into(), order.out_trade_no.clone());
    out.insert("total_fee".into(), order.total().to_string());
    out.insert("fee_type".into(), "CNY".into());
    out.insert(
        "cash_fee".into(),
        order
            .payer_total
            .unwrap_or_else(|| order.total())
            .to_string(),
    );
    out.insert("refund_count".into(), list.len().to_string());
    let refunded: i64 = list.iter().map(|refund| refund.refund).sum();
    out.insert("refund_fee".into(), refunded.to_string());
    for (n, refund) in list.iter().enumerate() {
        let mut put = |name: &str, value: String| {
            out.insert(format!("{name}_{n}"), value);
        };
        put("out_refund_no", refund.out_refund_no.clone());
        put("refund_id", refund.refund_id.clone());
        put("refund_channel", "ORIGINAL".to_owned());
        put("refund_fee", refund.refund.to_string());
        put("settlement_refund_fee", refund.refund.to_string());
        put("refund_status", refund.status.clone());
        put("refund_account", "REFUND_SOURCE_UNSETTLED_FUNDS".to_owned());
        put("refund_recv_accout", "支付用户的零钱".to_owned());
        if let Some(time) = refund.success_time {
            put("refund_success_time", clock::spaced_time(time));
        }
    }
    Ok(out)
}

/// `POST /mmpaymkttransfers/sendredpack` (普通红包): 1–200 yuan to one
/// payee; the same `mch_billno` again answers the same `send_listid`
/// (with other members, `PARAM_ERROR`). Kept in memory only.
fn send_redpack(app: &AppState, fields: &Fields) -> Result<Fields, Refused> {
    let mch_billno = required(fields, "mch_billno")?;
    for name in [
        "wxappid",
        "send_name",
        "re_openid",
        "wishing",
        "client_ip",
        "act_name",
        "remark",
    ] {
        required(fields, name)?;
    }
    let total = amount(fields, "total_amount", 1)?;
    if required(fields, "total_num")? != "1" {
        return Err(refused(
            "PARAM_ERROR",
            "total_num参数错误: 普通红包 total_num is 1",
        ));
    }
    if !(100..=20_000).contains(&total) {
        return Err(refused(
            "MONEY_LIMIT",
            "红包金额发放限制: total_amount is 100 to 20000 fen",
        ));
    }
    let fingerprint = stored(fields).to_string();
    let send_listid = {
        let mut sent = app
            .0
            .redpacks
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match sent.get(mch_billno) {
            Some((known, id)) if *known == fingerprint => id.clone(),
            Some(_) => {
                return Err(refused(
                    "PARAM_ERROR",
                    "该红包已经发放过，不能使用不同参数重复发放 (mch_billno used with other members)",
                ));
            }
            None => {
                let id = format!(
                    "1000041701{}{:018}",
                    clock::compact_time(clock::unix_now())
                        .get(..8)
                        .unwrap_or_default(),
                    rand::rng().random_range(0..1_000_000_000_000_000_000u64)
                );
                sent.insert(mch_billno.to_owned(), (fingerprint, id.clone()));
                id
            }
        }
    };
    let mut out = Fields::new();
    for name in ["mch_billno", "wxappid", "re_openid"] {
        out.insert(name.into(), fields.get(name).cloned().unwrap_or_default());
    }
    out.insert("total_amount".into(), total.to_string());
    out.insert("send_listid".into(), send_listid);
    out.insert("err_code".into(), "SUCCESS".into());
    out.insert("err_code_des".into(), "发放成功".into());
    Ok(out)
}

/// A notification's XML body: the payment's members signed with MD5, or
/// the refund's outer document with `req_info`. `None` if encryption
/// fails.
pub(crate) fn notification_body(
    app: &AppState,
    kind: V2Notice,
    resource: &Value,
) -> Option<String> {
    let members: Fields = resource
        .as_object()?
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect();
    let key = &app.0.credentials.apiv2_key;
    let mut fields = Fields::new();
    fields.insert("return_code".into(), "SUCCESS".into());
    fields.insert("nonce_str".into(), nonce());
    match kind {
        V2Notice::Payment => {
            fields.insert("result_code".into(), "SUCCESS".into());
            fields.extend(members);
            let sign = wire::sign(&fields, key, SignType::Md5);
            fields.insert("sign".into(), sign);
        }
        V2Notice::Refund => {
            let mut root = members;
            for name in ["appid", "mch_id"] {
                if let Some(value) = root.remove(name) {
                    fields.insert(name.into(), value);
                }
            }
            let plain = wire::to_xml("root", &root);
            fields.insert(
                "req_info".into(),
                wire::encrypt_req_info(plain.as_bytes(), key)?,
            );
        }
    }
    Some(wire::to_xml("xml", &fields))
}

/// POSTs an APIv2 notification (`text/xml`, no signature headers).
pub(crate) async fn post_notification(
    client: &reqwest::Client,
    url: reqwest::Url,
    body: axum::body::Bytes,
) -> Result<crate::callbacks::Answered, String> {
    let response = client
        .post(url)
        .header(CONTENT_TYPE, "text/xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .map_err(|error| crate::callbacks::error_chain(&error))?;
    let status = response.status().as_u16();
    let answer = response
        .bytes()
        .await
        .ok()
        .and_then(|bytes| crate::callbacks::excerpt(&bytes));
    Ok(crate::callbacks::Answered { status, answer })
}

/// Whether a merchant's reply acknowledges an APIv2 notification:
/// `return_code` `SUCCESS` in an XML document.
pub(crate) fn is_success_reply(reply: &str) -> bool {
    wire::parse(reply.as_bytes())
        .ok()
        .is_some_and(|fields| fields.get("return_code").map(String::as_str) == Some("SUCCESS"))
}
