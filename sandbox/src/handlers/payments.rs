//! Payments ("基础支付"): placing JSAPI, APP, H5 and Native orders, querying
//! them by `transaction_id` or `out_trade_no`, closing them, and the
//! sandbox's own control endpoint that plays the payer.
//!
//! An order is created `NOTPAY`. `POST /_sandbox/transactions/out-trade-no/
//! {out_trade_no}/pay` (unsigned, see [`control_routes`]) makes it
//! `SUCCESS` and queues a `TRANSACTION.SUCCESS` callback; a close makes a
//! `NOTPAY` order `CLOSED`; a refund (see [`crate::handlers::refunds`]) makes a paid
//! one `REFUND`.
//!
//! Handlers parse and check; the flow functions ([`create`], [`pay`],
//! [`close`]) work on the [`Store`] and the [`EventSink`] only, so that the
//! crate's unit tests can watch the events they send.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rand::Rng as _;
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::{Map, Value, json};

use crate::auth::AuthenticatedMerchant;
use crate::clock;
use crate::errors::{ApiError, Location};
use crate::events::{Event, EventSink, V2Notice};
use crate::query::Query;
use crate::state::AppState;
use crate::store::{Store, next_id};
use crate::validation::json_object;
use crate::validation::{Field, Kind, STRING, missing};

/// The member of a stored order's or refund's request that marks it as
/// placed through APIv2 (see `handlers::v2`); it holds the APIv2 request
/// (without `nonce_str` and `sign`).
pub(crate) const V2_MARKER: &str = "v2";

/// `event_type` of APIv2 payment notifications in the delivery log.
pub(crate) const V2_PAYMENT_EVENT: &str = "V2.TRANSACTION.SUCCESS";

/// The openid a non-JSAPI order's payer gets when the control endpoint is
/// not told one (the spec's example openid).
const DEFAULT_OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

/// The routes of the payment API, relative to the server root.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/pay/transactions/jsapi", post(create_jsapi))
        .route("/v3/pay/transactions/app", post(create_app))
        .route("/v3/pay/transactions/h5", post(create_h5))
        .route("/v3/pay/transactions/native", post(create_native))
        .route(
            "/v3/pay/transactions/id/{transaction_id}",
            get(query_by_transaction_id),
        )
        .route(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}",
            get(query_by_out_trade_no),
        )
        .route(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}/close",
            post(close_order),
        )
}

/// The sandbox control routes of this module: unauthenticated, unsigned,
/// never subject to faults, under `/_sandbox/` (a prefix WeChat Pay never
/// uses). Meant for loopback use by tests and demos.
pub(crate) fn control_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_sandbox/transactions/out-trade-no/{out_trade_no}/pay",
            post(pay_order),
        )
        .route(
            "/_sandbox/transactions/out-trade-no/{out_trade_no}/expire",
            post(expire_order),
        )
        .route(
            "/_sandbox/transactions/out-trade-no/{out_trade_no}/close",
            post(close_order_control),
        )
}

/// How the order is to be paid: the endpoint it was placed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TradeType {
    Jsapi,
    App,
    H5,
    Native,
    /// An APIv2 `/pay/micropay` order (付款码支付).
    Micropay,
}

impl TradeType {
    /// `trade_type` as the query shows it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TradeType::Jsapi => "JSAPI",
            TradeType::App => "APP",
            TradeType::H5 => "MWEB",
            TradeType::Native => "NATIVE",
            TradeType::Micropay => "MICROPAY",
        }
    }

    fn parse(text: &str) -> Result<TradeType, ApiError> {
        match text {
            "JSAPI" => Ok(TradeType::Jsapi),
            "APP" => Ok(TradeType::App),
            "MWEB" => Ok(TradeType::H5),
            "NATIVE" => Ok(TradeType::Native),
            "MICROPAY" => Ok(TradeType::Micropay),
            other => Err(ApiError::system_error(format!(
                "the state database holds an unknown trade_type {other:?}"
            ))),
        }
    }

    fn schema(self) -> &'static Kind {
        match self {
            TradeType::Jsapi => &JSAPI_ORDER,
            TradeType::App | TradeType::Native | TradeType::Micropay => &ORDER,
            TradeType::H5 => &H5_ORDER,
        }
    }
}

/// `trade_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TradeState {
    NotPay,
    Success,
    Closed,
    Refund,
}

impl TradeState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TradeState::NotPay => "NOTPAY",
            TradeState::Success => "SUCCESS",
            TradeState::Closed => "CLOSED",
            TradeState::Refund => "REFUND",
        }
    }

    /// `trade_state_desc`, as WeChat Pay words it.
    fn description(self) -> &'static str {
        match self {
            TradeState::NotPay => "订单未支付",
            TradeState::Success => "支付成功",
            TradeState::Closed => "订单已关闭",
            TradeState::Refund => "转入退款",
        }
    }

    fn parse(text: &str) -> Result<TradeState, ApiError> {
        match text {
            "NOTPAY" => Ok(TradeState::NotPay),
            "SUCCESS" => Ok(TradeState::Success),
            "CLOSED" => Ok(TradeState::Closed),
            "REFUND" => Ok(TradeState::Refund),
            other => Err(ApiError::system_error(format!(
                "the state database holds an unknown trade_state {other:?}"
            ))),
        }
    }

    /// Paid, whether or not refunds followed.
    pub(crate) fn is_paid(self) -> bool {
        matches!(self, TradeState::Success | TradeState::Refund)
    }
}

const fn string(min: usize, max: usize) -> Kind {
    Kind::String {
        min_len: Some(min),
        max_len: Some(max),
    }
}

/// `Amount`: `total` in fen, at least 1; `currency` only `CNY`.
static AMOUNT: &[Field] = &[
    Field::required(
        "total",
        Kind::Integer {
            min: Some(1),
            max: None,
        },
    ),
    Field::optional("currency", Kind::OneOf(&["CNY"])),
];

/// `PayerDirection`.
static PAYER: &[Field] = &[Field::required("openid", string(1, 128))];

/// `SceneInfo`.
static SCENE_INFO: &[Field] = &[
    Field::optional("payer_client_ip", string(1, 45)),
    Field::optional("device_id", string(1, 32)),
    Field::optional("store_info", Kind::Any),
];

/// `H5Info`.
static H5_INFO: &[Field] = &[
    Field::required("type", string(1, 32)),
    Field::optional("app_name", string(1, 64)),
    Field::optional("app_url", string(1, 128)),
    Field::optional("bundle_id", string(1, 128)),
    Field::optional("package_name", string(1, 128)),
];

/// H5 orders' `scene_info`: the payer's IP and `h5_info` are required.
static H5_SCENE_INFO: &[Field] = &[
    Field::required("payer_client_ip", string(1, 45)),
    Field::optional("device_id", string(1, 32)),
    Field::optional("store_info", Kind::Any),
    Field::required("h5_info", Kind::Object(H5_INFO)),
];

/// The body of an order: `TransactionDirection`, `TransactionBase`, then
/// the endpoint's own `payer` and `scene_info` fields.
macro_rules! order_fields {
    ($payer:expr, $scene_info:expr) => {
        Kind::Object(&[
            Field::required("appid", string(1, 32)),
            Field::required("mchid", string(1, 32)),
            Field::required("description", string(1, 127)),
            Field::required("out_trade_no", string(6, 32)),
            Field::optional("time_expire", Kind::DateTime),
            Field::optional("attach", string(0, 128)),
            Field::required("notify_url", string(1, 256)),
            Field::optional("goods_tag", string(1, 32)),
            Field::optional("limit_pay", Kind::Any),
            Field::optional("support_fapiao", Kind::Boolean),
            Field::required("amount", Kind::Object(AMOUNT)),
            $payer,
            Field::optional("detail", Kind::Any),
            $scene_info,
            Field::optional("settle_info", Kind::Any),
        ])
    };
}

/// `POST /v3/pay/transactions/jsapi`.
static JSAPI_ORDER: Kind = order_fields!(
    Field::required("payer", Kind::Object(PAYER)),
    Field::optional("scene_info", Kind::Object(SCENE_INFO))
);
/// `POST /v3/pay/transactions/app` and `/native`.
static ORDER: Kind = order_fields!(
    Field::optional("payer", Kind::Any),
    Field::optional("scene_info", Kind::Object(SCENE_INFO))
);
/// `POST /v3/pay/transactions/h5`.
static H5_ORDER: Kind = order_fields!(
    Field::optional("payer", Kind::Any),
    Field::required("scene_info", Kind::Object(H5_SCENE_INFO))
);

/// The control endpoint's optional body.
static PAY_OPTIONS: Kind = Kind::Object(&[
    Field::optional(
        "payer_total",
        Kind::Integer {
            min: Some(0),
            max: None,
        },
    ),
    Field::optional("bank_type", string(1, 32)),
    Field::optional("openid", string(1, 128)),
]);

/// The characters of `out_trade_no` (and `out_refund_no`): `[0-9A-Za-z_*|-]`.
pub(crate) fn is_out_no_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"_-|*".contains(&byte)
}

/// `PARAM_ERROR` unless `value` (at `pointer`) is made of
/// [`is_out_no_char`] characters.
pub(crate) fn check_out_no(value: &str, pointer: &str) -> Result<(), ApiError> {
    if value.bytes().all(is_out_no_char) {
        Ok(())
    } else {
        Err(ApiError::param_error(
            Location::Body,
            pointer,
            Some(Value::from(value)),
            "may only hold the characters 0-9, A-Z, a-z, _, -, | and *",
        ))
    }
}

/// `PARAM_ERROR` unless `value` (at `pointer`) is an `http://` or
/// `https://` URL with a host.
///
/// WeChat Pay accepts only `https://`; the sandbox also takes `http://`,
/// so that a merchant's callback handler on loopback needs no TLS.
pub(crate) fn check_notify_url(value: &str, pointer: &str) -> Result<(), ApiError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    match host {
        Some(host) if !host.is_empty() && !value.contains(char::is_whitespace) => Ok(()),
        _ => Err(ApiError::param_error(
            Location::Body,
            pointer,
            Some(Value::from(value)),
            "must be an https:// URL with a host (the sandbox also accepts http://)",
        )),
    }
}

/// An order as stored.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) mchid: String,
    pub(crate) out_trade_no: String,
    pub(crate) trade_type: TradeType,
    /// The validated create request, as sent.
    pub(crate) request: Map<String, Value>,
    /// The answer the create request got (`prepay_id`, `h5_url` or
    /// `code_url`).
    pub(crate) answer: Value,
    pub(crate) trade_state: TradeState,
    pub(crate) transaction_id: Option<String>,
    /// Unix seconds.
    pub(crate) success_time: Option<i64>,
    pub(crate) payer_total: Option<i64>,
    pub(crate) bank_type: Option<String>,
    pub(crate) payer_openid: Option<String>,
    /// Refunded so far, in fen.
    pub(crate) refunded: i64,
    /// The `prepay_id` made for it (`None` for a Native order placed
    /// before the sandbox kept them).
    pub(crate) prepay_id: Option<String>,
}

impl Order {
    /// `amount.total`.
    pub(crate) fn total(&self) -> i64 {
        self.request
            .get("amount")
            .and_then(|amount| amount.get("total"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }

    /// The order's `notify_url`.
    pub(crate) fn notify_url(&self) -> String {
        self.text("notify_url").to_owned()
    }

    /// A text field of the create request (`appid`, `description`, …), or
    /// `""`.
    pub(crate) fn text(&self, name: &str) -> &str {
        self.request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The transaction as the query endpoints (and the
    /// `TRANSACTION.SUCCESS` callback) show it.
    pub(crate) fn view(&self) -> Value {
        let mut view = Map::new();
        let mut put = |name: &str, value: Value| {
            view.insert(name.to_owned(), value);
        };
        put("appid", Value::from(self.text("appid")));
        put("mchid", Value::from(self.mchid.as_str()));
        put("out_trade_no", Value::from(self.out_trade_no.as_str()));
        if let Some(id) = &self.transaction_id {
            put("transaction_id", Value::from(id.as_str()));
        }
        put("trade_type", Value::from(self.trade_type.as_str()));
        put("trade_state", Value::from(self.trade_state.as_str()));
        put(
            "trade_state_desc",
            Value::from(self.trade_state.description()),
        );
        if let Some(bank_type) = &self.bank_type {
            put("bank_type", Value::from(bank_type.as_str()));
        }
        put("attach", Value::from(self.text("attach")));
        if let Some(time) = self.success_time {
            put("success_time", Value::from(clock::format_rfc3339(time)));
        }
        if let Some(openid) = &self.payer_openid {
            put("payer", json!({ "openid": openid }));
        }
        let mut amount = Map::new();
        amount.insert("total".to_owned(), Value::from(self.total()));
        if let Some(payer_total) = self.payer_total {
            amount.insert("payer_total".to_owned(), Value::from(payer_total));
        }
        amount.insert("currency".to_owned(), Value::from("CNY"));
        amount.insert("payer_currency".to_owned(), Value::from("CNY"));
        put("amount", Value::Object(amount));
        if let Some(scene_info) = self.request.get("scene_info")
            && let Some(device_id) = scene_info.get("device_id")
        {
            put("scene_info", json!({ "device_id": device_id }));
        }
        if self.trade_state.is_paid() {
            put("promotion_detail", json!([]));
        }
        Value::Object(view)
    }
}

const COLUMNS: &str = "mchid, out_trade_no, trade_type, request, answer, trade_state, \
                       transaction_id, success_time, payer_total, bank_type, payer_openid, refunded, \
                       prepay_id";

/// A row of `SELECT {COLUMNS}`: the order, and its trade type, request,
/// answer and state still as text.
type RawOrder = (Order, [String; 4]);

fn raw_order(row: &Row<'_>) -> rusqlite::Result<RawOrder> {
    Ok((
        Order {
            mchid: row.get(0)?,
            out_trade_no: row.get(1)?,
            trade_type: TradeType::Jsapi,
            request: Map::new(),
            answer: Value::Null,
            trade_state: TradeState::NotPay,
            transaction_id: row.get(6)?,
            success_time: row.get(7)?,
            payer_total: row.get(8)?,
            bank_type: row.get(9)?,
            payer_openid: row.get(10)?,
            refunded: row.get(11)?,
            prepay_id: row.get(12)?,
        },
        [row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?],
    ))
}

fn finish((mut order, [trade_type, request, answer, state]): RawOrder) -> Result<Order, ApiError> {
    order.trade_type = TradeType::parse(&trade_type)?;
    order.request = serde_json::from_str(&request)?;
    order.answer = serde_json::from_str(&answer)?;
    order.trade_state = TradeState::parse(&state)?;
    Ok(order)
}

/// The order `out_trade_no` of `mchid`, if any.
pub(crate) fn by_out_trade_no(
    db: &Connection,
    mchid: &str,
    out_trade_no: &str,
) -> Result<Option<Order>, ApiError> {
    db.query_row(
        &format!("SELECT {COLUMNS} FROM orders WHERE mchid = ?1 AND out_trade_no = ?2"),
        params![mchid, out_trade_no],
        raw_order,
    )
    .optional()?
    .map(finish)
    .transpose()
}

/// The order of `mchid` whose `prepay_id` is `prepay_id`, if any.
pub(crate) fn by_prepay_id(
    db: &Connection,
    mchid: &str,
    prepay_id: &str,
) -> Result<Option<Order>, ApiError> {
    db.query_row(
        &format!("SELECT {COLUMNS} FROM orders WHERE mchid = ?1 AND prepay_id = ?2 LIMIT 1"),
        params![mchid, prepay_id],
        raw_order,
    )
    .optional()?
    .map(finish)
    .transpose()
}

/// Every order of `mchid`, newest first, at most `limit`.
pub(crate) fn newest(db: &Connection, mchid: &str, limit: u32) -> Result<Vec<Order>, ApiError> {
    let mut statement = db.prepare(&format!(
        "SELECT {COLUMNS} FROM orders WHERE mchid = ?1 ORDER BY seq DESC LIMIT ?2"
    ))?;
    let raw = statement
        .query_map(params![mchid, limit], raw_order)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter().map(finish).collect()
}

/// The order of `mchid` paid as `transaction_id`, if any.
pub(crate) fn by_transaction_id(
    db: &Connection,
    mchid: &str,
    transaction_id: &str,
) -> Result<Option<Order>, ApiError> {
    db.query_row(
        &format!("SELECT {COLUMNS} FROM orders WHERE mchid = ?1 AND transaction_id = ?2"),
        params![mchid, transaction_id],
        raw_order,
    )
    .optional()?
    .map(finish)
    .transpose()
}

/// 404 `ORDER_NOT_EXIST`.
pub(crate) fn order_not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ORDER_NOT_EXIST",
        format!("订单不存在: no order with {what}"),
    )
}

/// 400 `ORDERPAID`.
pub(crate) fn order_paid(out_trade_no: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "ORDERPAID",
        format!("订单已支付: order {out_trade_no} is paid"),
    )
}

/// Records a refund of `amount` fen against the order: `refunded` grows and
/// the order is `REFUND` from now on.
pub(crate) fn add_refund(db: &Connection, order: &Order, amount: i64) -> Result<(), ApiError> {
    db.execute(
        "UPDATE orders SET refunded = refunded + ?1, trade_state = ?2 \
         WHERE mchid = ?3 AND out_trade_no = ?4",
        params![
            amount,
            TradeState::Refund.as_str(),
            order.mchid,
            order.out_trade_no
        ],
    )?;
    Ok(())
}

/// `yyyymmdd` of a Unix time, in China Standard Time.
pub(crate) fn date_digits(unix: i64) -> String {
    clock::format_rfc3339(unix)
        .chars()
        .take(10)
        .filter(char::is_ascii_digit)
        .collect()
}

fn random_hex(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// A fresh `prepay_id`: `wx`, the time as `yyyymmddHHMMSS` (CST) and 20
/// random hex digits, like WeChat Pay's.
fn new_prepay_id(now: i64) -> String {
    let time: String = clock::format_rfc3339(now)
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect();
    format!("wx{time}{}", random_hex(20))
}

/// Where an H5 order's `h5_url` points, under the sandbox's base URL:
/// the payer's H5 page, which the `pages` handlers serve.
pub(crate) const H5_PATH: &str = "/_sandbox/h5/checkmweb";

/// What the create endpoint answers for a new order; an H5 order's
/// `h5_url` points at the sandbox's own payer page under `base_url`.
fn answer_for(trade_type: TradeType, prepay_id: &str, base_url: &str) -> Value {
    match trade_type {
        TradeType::Jsapi | TradeType::App => json!({ "prepay_id": prepay_id }),
        TradeType::H5 => json!({
            "h5_url": format!(
                "{base_url}{}?prepay_id={prepay_id}&package={}",
                H5_PATH,
                rand::rng().random_range(1_000_000_000u64..10_000_000_000)
            )
        }),
        TradeType::Native => {
            json!({ "code_url": format!("weixin://wxpay/bizpayurl?pr={}", random_hex(7)) })
        }
        TradeType::Micropay => json!({}),
    }
}

/// Places an order from a validated request of `mchid`, or answers again
/// for one placed before with the same body.
///
/// The same `out_trade_no` with a different body (or through another
/// endpoint) is a 403 `OUT_TRADE_NO_USED`; with the same body, a paid
/// order is a 400 `ORDERPAID` and a closed one a 400 `ORDER_CLOSED`.
/// `base_url` is where the sandbox listens (an H5 order's `h5_url` points
/// there).
pub(crate) async fn create(
    store: &Store,
    mchid: &str,
    trade_type: TradeType,
    request: Map<String, Value>,
    base_url: &str,
    now: i64,
) -> Result<Value, ApiError> {
    let out_trade_no = request
        .get("out_trade_no")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let (mchid, base_url) = (mchid.to_owned(), base_url.to_owned());
    store
        .transaction(move |db| {
            let (mchid, base_url) = (mchid.as_str(), base_url.as_str());
            if let Some(order) = by_out_trade_no(db, mchid, &out_trade_no)? {
                if order.trade_type != trade_type || order.request != request {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "OUT_TRADE_NO_USED",
                        format!(
                            "商户订单号重复: order {out_trade_no} was placed before with other \
                         parameters (a {} order); use a new out_trade_no",
                            order.trade_type.as_str()
                        ),
                    ));
                }
                return match order.trade_state {
                    TradeState::NotPay => Ok(order.answer),
                    TradeState::Closed => Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "ORDER_CLOSED",
                        format!("订单已关闭: order {out_trade_no} is closed"),
                    )),
                    TradeState::Success | TradeState::Refund => Err(order_paid(&out_trade_no)),
                };
            }
            let prepay_id = new_prepay_id(now);
            let answer = answer_for(trade_type, &prepay_id, base_url);
            let payer_openid = match trade_type {
                TradeType::Jsapi => request
                    .get("payer")
                    .and_then(|payer| payer.get("openid"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            };
            db.execute(
                "INSERT INTO orders (mchid, out_trade_no, trade_type, request, answer, \
             trade_state, create_time, payer_openid, prepay_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    mchid,
                    out_trade_no,
                    trade_type.as_str(),
                    Value::Object(request.clone()).to_string(),
                    answer.to_string(),
                    TradeState::NotPay.as_str(),
                    now,
                    payer_openid,
                    prepay_id,
                ],
            )?;
            Ok(answer)
        })
        .await
}

/// How the control endpoint pays an order.
#[derive(Debug, Default, Clone)]
pub(crate) struct PayOptions {
    /// What the payer paid (default: the order total).
    pub(crate) payer_total: Option<i64>,
    /// `bank_type` (default `OTHERS`).
    pub(crate) bank_type: Option<String>,
    /// The payer's openid (default: the JSAPI order's payer, else a fixed
    /// sandbox openid).
    pub(crate) openid: Option<String>,
}

/// Pays the `NOTPAY` order `out_trade_no` of `mchid`: `SUCCESS`, a new
/// 28-digit `transaction_id`, `success_time` now; queues
/// `TRANSACTION.SUCCESS` to the order's `notify_url`. Returns the
/// transaction as the query shows it.
pub(crate) async fn pay(
    store: &Store,
    events: &EventSink,
    mchid: &str,
    out_trade_no: &str,
    options: PayOptions,
    now: i64,
) -> Result<Value, ApiError> {
    let (mchid, out_trade_no) = (mchid.to_owned(), out_trade_no.to_owned());
    let order = store
        .transaction(move |db| {
            let (mchid, out_trade_no) = (mchid.as_str(), out_trade_no.as_str());
            let mut order = by_out_trade_no(db, mchid, out_trade_no)?
                .ok_or_else(|| order_not_found(&format!("out_trade_no {out_trade_no:?}")))?;
            if order.trade_state != TradeState::NotPay {
                return Err(ApiError::invalid_request(format!(
                    "order {out_trade_no} is {}; only a NOTPAY order can be paid",
                    order.trade_state.as_str()
                )));
            }
            let total = order.total();
            let payer_total = options.payer_total.unwrap_or(total);
            if payer_total > total {
                return Err(ApiError::param_error(
                    Location::Body,
                    "/payer_total",
                    Some(Value::from(payer_total)),
                    format!("must not exceed the order total {total}"),
                ));
            }
            let sequence = next_id(db, "transaction_id", 1)?;
            let transaction_id = format!("4200{}{sequence:016}", date_digits(now));
            order.trade_state = TradeState::Success;
            order.transaction_id = Some(transaction_id);
            order.success_time = Some(now);
            order.payer_total = Some(payer_total);
            order.bank_type = Some(options.bank_type.unwrap_or_else(|| "OTHERS".to_owned()));
            order.payer_openid = options
                .openid
                .or(order.payer_openid)
                .or_else(|| Some(DEFAULT_OPENID.to_owned()));
            db.execute(
                "UPDATE orders SET trade_state = ?1, transaction_id = ?2, success_time = ?3, \
             payer_total = ?4, bank_type = ?5, payer_openid = ?6 \
             WHERE mchid = ?7 AND out_trade_no = ?8",
                params![
                    order.trade_state.as_str(),
                    order.transaction_id,
                    order.success_time,
                    order.payer_total,
                    order.bank_type,
                    order.payer_openid,
                    order.mchid,
                    order.out_trade_no,
                ],
            )?;
            Ok(order)
        })
        .await?;
    let view = order.view();
    if order.request.contains_key(V2_MARKER) {
        // Placed through APIv2: the APIv2 notification, when the order has
        // a notify_url (a micropay order has none).
        let notify_url = order.notify_url();
        if !notify_url.is_empty() {
            events.send(Event {
                event_type: V2_PAYMENT_EVENT,
                original_type: "transaction",
                summary: "支付成功",
                notify_url,
                resource: order.v2_notice(),
                v2: Some(V2Notice::Payment),
            });
        }
    } else {
        events.send(Event {
            event_type: "TRANSACTION.SUCCESS",
            original_type: "transaction",
            summary: "支付成功",
            notify_url: order.notify_url(),
            resource: view.clone(),
            v2: None,
        });
    }
    Ok(view)
}

/// Closes the order `out_trade_no` of `mchid`: a `NOTPAY` order becomes
/// `CLOSED`; closing a closed order again is accepted; a paid one is a
/// 400 `ORDERPAID`.
pub(crate) async fn close(store: &Store, mchid: &str, out_trade_no: &str) -> Result<(), ApiError> {
    let (mchid, out_trade_no) = (mchid.to_owned(), out_trade_no.to_owned());
    store
        .transaction(move |db| {
            let (mchid, out_trade_no) = (mchid.as_str(), out_trade_no.as_str());
            let order = by_out_trade_no(db, mchid, out_trade_no)?
                .ok_or_else(|| order_not_found(&format!("out_trade_no {out_trade_no:?}")))?;
            match order.trade_state {
                TradeState::Success | TradeState::Refund => Err(order_paid(out_trade_no)),
                TradeState::Closed => Ok(()),
                TradeState::NotPay => {
                    db.execute(
                        "UPDATE orders SET trade_state = ?1 WHERE mchid = ?2 AND out_trade_no = ?3",
                        params![TradeState::Closed.as_str(), mchid, out_trade_no],
                    )?;
                    Ok(())
                }
            }
        })
        .await
}

/// Lets the `NOTPAY` order `out_trade_no` of `mchid` expire as passing its
/// `time_expire` would: it becomes `CLOSED`. Unlike [`close`], an order
/// that is not `NOTPAY` is a 400 `INVALID_REQUEST` (a paid order cannot
/// expire, a closed one has already ended). Returns the transaction.
pub(crate) async fn expire(
    store: &Store,
    mchid: &str,
    out_trade_no: &str,
) -> Result<Value, ApiError> {
    let (mchid, out_trade_no) = (mchid.to_owned(), out_trade_no.to_owned());
    store
        .transaction(move |db| {
            let (mchid, out_trade_no) = (mchid.as_str(), out_trade_no.as_str());
            let mut order = by_out_trade_no(db, mchid, out_trade_no)?
                .ok_or_else(|| order_not_found(&format!("out_trade_no {out_trade_no:?}")))?;
            if order.trade_state != TradeState::NotPay {
                return Err(ApiError::invalid_request(format!(
                    "order {out_trade_no} is {}; only a NOTPAY order can expire",
                    order.trade_state.as_str()
                )));
            }
            db.execute(
                "UPDATE orders SET trade_state = ?1 WHERE mchid = ?2 AND out_trade_no = ?3",
                params![TradeState::Closed.as_str(), mchid, out_trade_no],
            )?;
            order.trade_state = TradeState::Closed;
            Ok(order.view())
        })
        .await
}

/// `POST /v3/pay/transactions/jsapi`
async fn create_jsapi(
    app: State<AppState>,
    merchant: Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    create_order(app, merchant, &headers, &body, TradeType::Jsapi).await
}

/// `POST /v3/pay/transactions/app`
async fn create_app(
    app: State<AppState>,
    merchant: Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    create_order(app, merchant, &headers, &body, TradeType::App).await
}

/// `POST /v3/pay/transactions/h5`
async fn create_h5(
    app: State<AppState>,
    merchant: Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    create_order(app, merchant, &headers, &body, TradeType::H5).await
}

/// `POST /v3/pay/transactions/native`
async fn create_native(
    app: State<AppState>,
    merchant: Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    create_order(app, merchant, &headers, &body, TradeType::Native).await
}

/// The four create endpoints: check the body, then [`create`].
async fn create_order(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: &HeaderMap,
    body: &[u8],
    trade_type: TradeType,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(headers, body, trade_type.schema())?;
    let text = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    check_out_no(text("out_trade_no"), "/out_trade_no")?;
    check_notify_url(text("notify_url"), "/notify_url")?;
    ensure_merchant(text("mchid"), &merchant)?;
    let answer = create(
        app.store(),
        &merchant.mchid,
        trade_type,
        request,
        &app.0.base_url,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(answer))
}

/// 403 `NO_AUTH` unless `mchid` is the merchant that signed the request.
pub(crate) fn ensure_merchant(
    mchid: &str,
    merchant: &AuthenticatedMerchant,
) -> Result<(), ApiError> {
    if mchid == merchant.mchid {
        Ok(())
    } else {
        Err(ApiError::no_auth(format!(
            "mchid {mchid} is not the merchant that signed the request ({})",
            merchant.mchid
        )))
    }
}

/// A path segment, percent-decoded once; `PARAM_ERROR` when empty or
/// undecodable.
pub(crate) fn path_segment(
    path: Result<Path<String>, PathRejection>,
    name: &str,
) -> Result<String, ApiError> {
    let pointer = format!("/{name}");
    match path {
        Ok(Path(value)) if !value.is_empty() => Ok(value),
        Ok(_) => Err(missing(Location::Path, &pointer)),
        Err(rejection) => Err(ApiError::param_error(
            Location::Path,
            pointer,
            None,
            format!("cannot decode the path segment: {}", rejection.body_text()),
        )),
    }
}

/// The required `mchid` query parameter, which must be the signer.
fn query_mchid(raw_query: Option<&str>, merchant: &AuthenticatedMerchant) -> Result<(), ApiError> {
    let query = Query::parse(raw_query)?;
    ensure_merchant(query.required("mchid")?, merchant)
}

/// `GET /v3/pay/transactions/id/{transaction_id}?mchid=`
async fn query_by_transaction_id(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let transaction_id = path_segment(path, "transaction_id")?;
    query_mchid(raw_query.as_deref(), &merchant)?;
    let (mchid, id) = (merchant.mchid.clone(), transaction_id.clone());
    let order = app
        .store()
        .transaction(move |db| by_transaction_id(db, &mchid, &id))
        .await?
        .ok_or_else(|| order_not_found(&format!("transaction_id {transaction_id:?}")))?;
    Ok(Json(order.view()))
}

/// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`
async fn query_by_out_trade_no(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let out_trade_no = path_segment(path, "out_trade_no")?;
    query_mchid(raw_query.as_deref(), &merchant)?;
    let (mchid, number) = (merchant.mchid.clone(), out_trade_no.clone());
    let order = app
        .store()
        .transaction(move |db| by_out_trade_no(db, &mchid, &number))
        .await?
        .ok_or_else(|| order_not_found(&format!("out_trade_no {out_trade_no:?}")))?;
    Ok(Json(order.view()))
}

/// Body of the close endpoint.
static CLOSE: Kind = Kind::Object(&[Field::required("mchid", STRING)]);

/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close` → 204.
async fn close_order(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let out_trade_no = path_segment(path, "out_trade_no")?;
    let request = json_object(&headers, &body, &CLOSE)?;
    let mchid = request
        .get("mchid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    ensure_merchant(mchid, &merchant)?;
    close(app.store(), &merchant.mchid, &out_trade_no).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/pay`, body
/// optional: `{"payer_total","bank_type","openid"}`. Pays the order of the
/// sandbox's merchant as a WeChat user would; answers the transaction.
async fn pay_order(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let out_trade_no = path_segment(path, "out_trade_no")?;
    let options = if body.iter().all(u8::is_ascii_whitespace) {
        PayOptions::default()
    } else {
        let request = json_object(&headers, &body, &PAY_OPTIONS)?;
        PayOptions {
            payer_total: request.get("payer_total").and_then(Value::as_i64),
            bank_type: request
                .get("bank_type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            openid: request
                .get("openid")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    };
    let view = pay(
        app.store(),
        &app.0.events,
        &app.0.credentials.mchid,
        &out_trade_no,
        options,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(view))
}

/// `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/expire`, no
/// body: the `NOTPAY` order becomes `CLOSED` as if its `time_expire` had
/// passed; answers the transaction.
async fn expire_order(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let out_trade_no = path_segment(path, "out_trade_no")?;
    let view = expire(app.store(), &app.0.credentials.mchid, &out_trade_no).await?;
    Ok(Json(view))
}

/// `POST /_sandbox/transactions/out-trade-no/{out_trade_no}/close`, no
/// body: closes the order as the merchant's close call does (a closed
/// order again is accepted, a paid one is a 400 `ORDERPAID`); answers the
/// transaction.
async fn close_order_control(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let out_trade_no = path_segment(path, "out_trade_no")?;
    let mchid = app.0.credentials.mchid.clone();
    close(app.store(), &mchid, &out_trade_no).await?;
    let number = out_trade_no.clone();
    let order = app
        .store()
        .transaction(move |db| by_out_trade_no(db, &mchid, &number))
        .await?
        .ok_or_else(|| order_not_found(&format!("out_trade_no {out_trade_no:?}")))?;
    Ok(Json(order.view()))
}

/// What APIv2 says of orders placed through it (see `handlers::v2`).
impl Order {
    /// What APIv2 says of the order: its orderquery answer and its payment
    /// notification.
    pub(crate) fn v2_members(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut put = |name: &str, value: String| {
            if !value.is_empty() {
                out.insert(name.to_owned(), value);
            }
        };
        let state = match self.trade_state {
            TradeState::NotPay if self.trade_type == TradeType::Micropay => "USERPAYING",
            other => other.as_str(),
        };
        put("trade_state", state.to_owned());
        put(
            "trade_state_desc",
            match state {
                "USERPAYING" => "用户支付中",
                "SUCCESS" => "支付成功",
                "CLOSED" => "订单已关闭",
                "REFUND" => "转入退款",
                _ => "订单未支付",
            }
            .to_owned(),
        );
        put("appid", self.text("appid").to_owned());
        put("out_trade_no", self.out_trade_no.clone());
        put("total_fee", self.total().to_string());
        put("fee_type", "CNY".to_owned());
        put("attach", self.text("attach").to_owned());
        put("trade_type", self.trade_type.as_str().to_owned());
        if self.trade_state.is_paid() {
            put(
                "transaction_id",
                self.transaction_id.clone().unwrap_or_default(),
            );
            put("openid", self.payer_openid.clone().unwrap_or_default());
            put("is_subscribe", "N".to_owned());
            put("bank_type", self.bank_type.clone().unwrap_or_default());
            put(
                "cash_fee",
                self.payer_total.unwrap_or_else(|| self.total()).to_string(),
            );
            put(
                "time_end",
                self.success_time
                    .map(clock::compact_time)
                    .unwrap_or_default(),
            );
        }
        out
    }

    /// The members of the order's APIv2 payment notification (unsigned; signed
    /// at each delivery attempt).
    pub(crate) fn v2_notice(&self) -> Value {
        let mut members = self.v2_members();
        members.remove("trade_state");
        members.remove("trade_state_desc");
        members.insert("mch_id".into(), self.mchid.clone());
        if let Some(device) = self
            .request
            .get(V2_MARKER)
            .and_then(|v2| v2.get("device_info"))
            .and_then(Value::as_str)
        {
            members.insert("device_info".into(), device.to_owned());
        }
        Value::Object(
            members
                .into_iter()
                .map(|(name, value)| (name, Value::from(value)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(out_trade_no: &str, total: i64) -> Map<String, Value> {
        let value = json!({
            "appid": "wxd678efh567hg6787",
            "mchid": "1900",
            "description": "沙箱商品",
            "out_trade_no": out_trade_no,
            "notify_url": "http://127.0.0.1:9/notify",
            "amount": {"total": total},
            "payer": {"openid": "o-payer"}
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn paying_sends_the_transaction_as_queried() {
        let store = Store::open(None).expect("store");
        let (events, mut received) = EventSink::new();
        create(
            &store,
            "1900",
            TradeType::Jsapi,
            order("order-1", 100),
            "http://127.0.0.1:9",
            1_700_000_000,
        )
        .await
        .expect("created");
        let paid = pay(
            &store,
            &events,
            "1900",
            "order-1",
            PayOptions::default(),
            1_700_000_100,
        )
        .await
        .expect("paid");
        let event = received.try_recv().expect("an event");
        assert_eq!(event.event_type, "TRANSACTION.SUCCESS");
        assert_eq!(event.original_type, "transaction");
        assert_eq!(event.summary, "支付成功");
        assert_eq!(event.notify_url, "http://127.0.0.1:9/notify");
        let queried = store
            .transaction_blocking(|db| by_out_trade_no(db, "1900", "order-1"))
            .expect("query")
            .expect("order")
            .view();
        assert_eq!(event.resource, queried);
        assert_eq!(paid, queried);
        assert_eq!(queried["trade_state"], "SUCCESS");
        assert_eq!(queried["payer"]["openid"], "o-payer");
        assert_eq!(queried["amount"]["payer_total"], 100);
        let id = queried["transaction_id"].as_str().expect("id");
        assert_eq!(id.len(), 28, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_digit()));

        let again = pay(&store, &events, "1900", "order-1", PayOptions::default(), 1).await;
        assert_eq!(again.expect_err("paid").code, "INVALID_REQUEST");
        assert!(received.try_recv().is_err(), "no second event");
    }

    #[test]
    fn notify_urls_need_a_scheme_and_a_host() {
        assert!(check_notify_url("https://example.com/notify", "/n").is_ok());
        assert!(check_notify_url("http://127.0.0.1:8080", "/n").is_ok());
        assert!(check_notify_url("ftp://example.com", "/n").is_err());
        assert!(check_notify_url("https:///path", "/n").is_err());
        assert!(check_notify_url("example.com", "/n").is_err());
    }
}
