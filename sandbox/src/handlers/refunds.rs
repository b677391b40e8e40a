//! Refunds ("退款"): `POST /v3/refund/domestic/refunds` and
//! `GET /v3/refund/domestic/refunds/{out_refund_no}`.
//!
//! A refund succeeds as soon as it is stored: the apply answers it
//! `PROCESSING` (as WeChat Pay's apply does), every later query shows it
//! `SUCCESS` with its `success_time`, the order is `REFUND` from then on,
//! and a `REFUND.SUCCESS` callback is queued to the refund's `notify_url`
//! (or, without one, the order's).

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::{Map, Value, json};

use crate::auth::AuthenticatedMerchant;
use crate::clock;
use crate::errors::{ApiError, Location};
use crate::events::{Event, EventSink, V2Notice};
use crate::handlers::payments::{self, Order, check_notify_url, check_out_no, path_segment};
use crate::state::AppState;
use crate::store::{Store, next_id};
use crate::validation::json_object;
use crate::validation::{Field, Kind, STRING};

/// `event_type` of APIv2 refund notifications in the delivery log.
pub(crate) const V2_REFUND_EVENT: &str = "V2.REFUND.SUCCESS";

/// The routes of this module.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/refund/domestic/refunds", post(apply_for_refund))
        .route(
            "/v3/refund/domestic/refunds/{out_refund_no}",
            get(query_refund),
        )
}

const fn string(min: usize, max: usize) -> Kind {
    Kind::String {
        min_len: Some(min),
        max_len: Some(max),
    }
}

const POSITIVE: Kind = Kind::Integer {
    min: Some(1),
    max: None,
};

/// `amount` of the apply.
static AMOUNT: &[Field] = &[
    Field::required("refund", POSITIVE),
    Field::optional("from", Kind::Any),
    Field::required("total", POSITIVE),
    Field::required("currency", Kind::OneOf(&["CNY"])),
];

/// Body of `POST /v3/refund/domestic/refunds`, in the spec's order.
static APPLY: Kind = Kind::Object(&[
    Field::optional("sub_mchid", STRING),
    Field::optional("transaction_id", string(1, 32)),
    Field::optional("out_trade_no", string(6, 32)),
    Field::required("out_refund_no", string(1, 64)),
    Field::optional("reason", string(0, 80)),
    Field::optional("notify_url", string(1, 256)),
    Field::optional("funds_account", Kind::OneOf(&["AVAILABLE", "UNSETTLED"])),
    Field::required("amount", Kind::Object(AMOUNT)),
    Field::optional("goods_detail", Kind::Any),
]);

/// `status` of a refund as the sandbox keeps it.
const SUCCESS: &str = "SUCCESS";

/// A refund as stored.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub(crate) out_refund_no: String,
    pub(crate) refund_id: String,
    pub(crate) out_trade_no: String,
    /// The validated apply, as sent.
    pub(crate) request: Map<String, Value>,
    pub(crate) refund: i64,
    pub(crate) status: String,
    /// Unix seconds.
    pub(crate) create_time: i64,
    pub(crate) success_time: Option<i64>,
}

impl Refund {
    /// `payer_refund`: the payer's share of the refund when coupons paid
    /// part of the order (`payer_total < total`), rounded down.
    fn payer_refund(&self, order: &Order) -> i64 {
        let total = order.total().max(1);
        let payer_total = order.payer_total.unwrap_or(total);
        self.refund.saturating_mul(payer_total) / total
    }

    /// The refund as the apply and query endpoints show it.
    fn view(&self, order: &Order) -> Value {
        let payer_refund = self.payer_refund(order);
        let mut view = json!({
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "transaction_id": order.transaction_id.clone().unwrap_or_default(),
            "out_trade_no": self.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": clock::format_rfc3339(self.create_time),
            "status": self.status,
            "funds_account": self.request.get("funds_account").and_then(Value::as_str).unwrap_or("AVAILABLE"),
            "amount": {
                "total": order.total(),
                "refund": self.refund,
                "payer_total": order.payer_total.unwrap_or_else(|| order.total()),
                "payer_refund": payer_refund,
                "settlement_refund": self.refund,
                "settlement_total": order.total(),
                "discount_refund": self.refund - payer_refund,
                "currency": "CNY",
                "refund_fee": 0
            },
            "promotion_detail": []
        });
        if let (Some(time), Some(object)) = (self.success_time, view.as_object_mut()) {
            object.insert(
                "success_time".to_owned(),
                Value::from(clock::format_rfc3339(time)),
            );
        }
        view
    }

    /// The resource of the `REFUND.SUCCESS` callback.
    fn notification(&self, order: &Order) -> Value {
        json!({
            "mchid": order.mchid,
            "out_trade_no": self.out_trade_no,
            "transaction_id": order.transaction_id.clone().unwrap_or_default(),
            "out_refund_no": self.out_refund_no,
            "refund_id": self.refund_id,
            "refund_status": self.status,
            "success_time": self.success_time.map(clock::format_rfc3339),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": order.total(),
                "refund": self.refund,
                "payer_total": order.payer_total.unwrap_or_else(|| order.total()),
                "payer_refund": self.payer_refund(order)
            }
        })
    }
}

const COLUMNS: &str =
    "out_refund_no, refund_id, out_trade_no, request, refund, status, create_time, success_time";

fn raw_refund(row: &Row<'_>) -> rusqlite::Result<(Refund, String)> {
    Ok((
        Refund {
            out_refund_no: row.get(0)?,
            refund_id: row.get(1)?,
            out_trade_no: row.get(2)?,
            request: Map::new(),
            refund: row.get(4)?,
            status: row.get(5)?,
            create_time: row.get(6)?,
            success_time: row.get(7)?,
        },
        row.get(3)?,
    ))
}

/// The refund `out_refund_no` of `mchid`, if any.
pub(crate) fn by_out_refund_no(
    db: &Connection,
    mchid: &str,
    out_refund_no: &str,
) -> Result<Option<Refund>, ApiError> {
    let raw = db
        .query_row(
            &format!("SELECT {COLUMNS} FROM refunds WHERE mchid = ?1 AND out_refund_no = ?2"),
            params![mchid, out_refund_no],
            raw_refund,
        )
        .optional()?;
    match raw {
        None => Ok(None),
        Some((mut refund, request)) => {
            refund.request = serde_json::from_str(&request)?;
            Ok(Some(refund))
        }
    }
}

/// Every refund of the order `out_trade_no` of `mchid`, oldest first.
pub(crate) fn of_order(
    db: &Connection,
    mchid: &str,
    out_trade_no: &str,
) -> Result<Vec<Refund>, ApiError> {
    let mut statement = db.prepare(&format!(
        "SELECT {COLUMNS} FROM refunds WHERE mchid = ?1 AND out_trade_no = ?2 ORDER BY seq"
    ))?;
    let raw = statement
        .query_map(params![mchid, out_trade_no], raw_refund)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter()
        .map(|(mut refund, request)| {
            refund.request = serde_json::from_str(&request)?;
            Ok(refund)
        })
        .collect()
}

/// The order `refund_id` of `mchid` was made for, if any.
pub(crate) fn out_trade_no_of_refund_id(
    db: &Connection,
    mchid: &str,
    refund_id: &str,
) -> Result<Option<String>, ApiError> {
    Ok(db
        .query_row(
            "SELECT out_trade_no FROM refunds WHERE mchid = ?1 AND refund_id = ?2",
            params![mchid, refund_id],
            |row| row.get(0),
        )
        .optional()?)
}

/// The order a refund belongs to; a missing one is a database failure.
pub(crate) fn order_of(db: &Connection, mchid: &str, refund: &Refund) -> Result<Order, ApiError> {
    payments::by_out_trade_no(db, mchid, &refund.out_trade_no)?.ok_or_else(|| {
        ApiError::system_error(format!(
            "refund {} names order {}, which the state database lacks",
            refund.out_refund_no, refund.out_trade_no
        ))
    })
}

/// Applies for a refund from a validated request of `mchid`; returns the
/// refund as the apply answers it (`PROCESSING`).
///
/// The same `out_refund_no` again with the same body answers the stored
/// refund as it is now; with another body it is a 400 `INVALID_REQUEST`.
pub(crate) async fn apply(
    store: &Store,
    events: &EventSink,
    mchid: &str,
    request: Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let text = |name: &str| request.get(name).and_then(Value::as_str).map(str::to_owned);
    let amount = |name: &str| {
        request
            .get("amount")
            .and_then(|amount| amount.get(name))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let out_refund_no = text("out_refund_no").unwrap_or_default();
    let (refund_amount, total) = (amount("refund"), amount("total"));
    let mchid = mchid.to_owned();
    let outcome = store
        .transaction(move |db| {
        let mchid = mchid.as_str();
        let text = |name: &str| request.get(name).and_then(Value::as_str).map(str::to_owned);
        if let Some(refund) = by_out_refund_no(db, mchid, &out_refund_no)? {
            if refund.request != request {
                return Err(ApiError::invalid_request(format!(
                    "out_refund_no {out_refund_no} was used before with other parameters; use \
                     a new out_refund_no"
                )));
            }
            let order = order_of(db, mchid, &refund)?;
            return Ok((refund.view(&order), None));
        }
        let order = match (text("transaction_id"), text("out_trade_no")) {
            (Some(transaction_id), out_trade_no) => {
                let order = payments::by_transaction_id(db, mchid, &transaction_id)?
                    .ok_or_else(|| no_such_order(&format!("transaction_id {transaction_id:?}")))?;
                if out_trade_no.is_some_and(|no| no != order.out_trade_no) {
                    return Err(ApiError::invalid_request(format!(
                        "transaction_id {transaction_id} belongs to order {}, not to the \
                         out_trade_no given",
                        order.out_trade_no
                    )));
                }
                order
            }
            (None, Some(out_trade_no)) => payments::by_out_trade_no(db, mchid, &out_trade_no)?
                .ok_or_else(|| no_such_order(&format!("out_trade_no {out_trade_no:?}")))?,
            (None, None) => {
                return Err(ApiError::param_error(
                    Location::Body,
                    "/transaction_id",
                    None,
                    "either transaction_id or out_trade_no is required",
                ));
            }
        };
        if !order.trade_state.is_paid() {
            return Err(ApiError::invalid_request(format!(
                "order {} is {}: only a paid order can be refunded",
                order.out_trade_no,
                order.trade_state.as_str()
            )));
        }
        if total != order.total() {
            return Err(ApiError::invalid_request(format!(
                "amount.total {total} is not the order's total {}",
                order.total()
            )));
        }
        let refundable = order.total() - order.refunded;
        if refund_amount > refundable {
            return Err(ApiError::invalid_request(format!(
                "申请退款金额超过订单可退金额: {refund_amount} asked, {refundable} of {} left to refund",
                order.total()
            )));
        }
        let sequence = next_id(db, "refund_id", 1)?;
        let mut refund = Refund {
            out_refund_no: out_refund_no.clone(),
            refund_id: format!("5030{}{sequence:017}", payments::date_digits(now)),
            out_trade_no: order.out_trade_no.clone(),
            request: request.clone(),
            refund: refund_amount,
            status: "PROCESSING".to_owned(),
            create_time: now,
            success_time: None,
        };
        let answer = refund.view(&order);
        // The refund succeeds at once: stored SUCCESS, answered PROCESSING.
        refund.status = SUCCESS.to_owned();
        refund.success_time = Some(now);
        db.execute(
            "INSERT INTO refunds (mchid, out_refund_no, refund_id, out_trade_no, request, \
             refund, status, create_time, success_time) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                mchid,
                refund.out_refund_no,
                refund.refund_id,
                refund.out_trade_no,
                Value::Object(request.clone()).to_string(),
                refund.refund,
                refund.status,
                refund.create_time,
                refund.success_time,
            ],
        )?;
        payments::add_refund(db, &order, refund_amount)?;
        let event = if request.contains_key(payments::V2_MARKER) {
            // A refund applied for through APIv2: its notification goes
            // to its own notify_url only (none given, none sent).
            text("notify_url").map(|notify_url| Event {
                event_type: V2_REFUND_EVENT,
                original_type: "refund",
                summary: "退款成功",
                notify_url,
                resource: refund.v2_notice(&order),
                v2: Some(V2Notice::Refund),
            })
        } else {
            Some(Event {
                event_type: "REFUND.SUCCESS",
                original_type: "refund",
                summary: "退款成功",
                notify_url: text("notify_url").unwrap_or_else(|| order.notify_url()),
                resource: refund.notification(&order),
                v2: None,
            })
        };
        Ok((answer, event))
    })
        .await?;
    let (answer, event) = outcome;
    if let Some(event) = event {
        events.send(event);
    }
    Ok(answer)
}

/// 404 `RESOURCE_NOT_EXISTS` for a refund of an unknown order.
fn no_such_order(what: &str) -> ApiError {
    ApiError::resource_not_exists(format!("订单不存在: no order with {what}"))
}

/// `POST /v3/refund/domestic/refunds`
async fn apply_for_refund(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, &body, &APPLY)?;
    let text = |name: &str| request.get(name).and_then(Value::as_str);
    if let Some(out_trade_no) = text("out_trade_no") {
        check_out_no(out_trade_no, "/out_trade_no")?;
    }
    check_out_no(text("out_refund_no").unwrap_or_default(), "/out_refund_no")?;
    if let Some(notify_url) = text("notify_url") {
        check_notify_url(notify_url, "/notify_url")?;
    }
    let answer = apply(
        app.store(),
        &app.0.events,
        &merchant.mchid,
        request,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(answer))
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}` (`sub_mchid` in the
/// query is ignored).
async fn query_refund(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let out_refund_no = path_segment(path, "out_refund_no")?;
    let mchid = merchant.mchid.clone();
    let view = app
        .store()
        .transaction(move |db| {
            let refund = by_out_refund_no(db, &mchid, &out_refund_no)?.ok_or_else(|| {
                ApiError::resource_not_exists(format!("退款单不存在: no refund {out_refund_no:?}"))
            })?;
            let order = order_of(db, &mchid, &refund)?;
            Ok(refund.view(&order))
        })
        .await?;
    Ok(Json(view))
}

/// What APIv2 says of refunds applied for through it (see `handlers::v2`).
impl Refund {
    /// The members of the refund's APIv2 notification (the `<root>` that `req_info`
    /// encrypts, plus `appid` and `mch_id` for the outer document).
    pub(crate) fn v2_notice(&self, order: &Order) -> Value {
        let total = order.total();
        let success = self.success_time.unwrap_or(self.create_time);
        json!({
            "appid": order.text("appid"),
            "mch_id": order.mchid,
            "transaction_id": order.transaction_id.clone().unwrap_or_default(),
            "out_trade_no": order.out_trade_no,
            "refund_id": self.refund_id,
            "out_refund_no": self.out_refund_no,
            "total_fee": total.to_string(),
            "settlement_total_fee": total.to_string(),
            "refund_fee": self.refund.to_string(),
            "settlement_refund_fee": self.refund.to_string(),
            "refund_status": "SUCCESS",
            "success_time": clock::spaced_time(success),
            "refund_recv_accout": "支付用户的零钱",
            "refund_account": "REFUND_SOURCE_UNSETTLED_FUNDS",
            "refund_request_source": "API",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::payments::{PayOptions, TradeType};

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[tokio::test]
    async fn a_refund_sends_its_notification() {
        let store = Store::open(None).expect("store");
        let (events, mut received) = EventSink::new();
        let order = object(json!({
            "appid": "wx1", "mchid": "1900", "description": "d", "out_trade_no": "order-1",
            "notify_url": "https://merchant.example/pay", "amount": {"total": 100}
        }));
        payments::create(
            &store,
            "1900",
            TradeType::Native,
            order,
            "http://127.0.0.1:9",
            10,
        )
        .await
        .expect("order");
        let paid = payments::pay(
            &store,
            &events,
            "1900",
            "order-1",
            PayOptions::default(),
            20,
        )
        .await
        .expect("paid");
        let _ = received.try_recv();
        let request = object(json!({
            "out_trade_no": "order-1", "out_refund_no": "refund-1",
            "amount": {"refund": 30, "total": 100, "currency": "CNY"}
        }));
        let answer = apply(&store, &events, "1900", request, 30)
            .await
            .expect("refund");
        assert_eq!(answer["status"], "PROCESSING");
        let event = received.try_recv().expect("an event");
        assert_eq!(event.event_type, "REFUND.SUCCESS");
        assert_eq!(event.original_type, "refund");
        assert_eq!(event.summary, "退款成功");
        assert_eq!(event.notify_url, "https://merchant.example/pay");
        let resource = &event.resource;
        assert_eq!(resource["mchid"], "1900");
        assert_eq!(resource["out_trade_no"], "order-1");
        assert_eq!(resource["transaction_id"], paid["transaction_id"]);
        assert_eq!(resource["out_refund_no"], "refund-1");
        assert_eq!(resource["refund_id"], answer["refund_id"]);
        assert_eq!(resource["refund_status"], "SUCCESS");
        assert_eq!(resource["success_time"], clock::format_rfc3339(30).as_str());
        assert_eq!(
            resource["amount"],
            json!({"total": 100, "refund": 30, "payer_total": 100, "payer_refund": 30})
        );
    }
}
