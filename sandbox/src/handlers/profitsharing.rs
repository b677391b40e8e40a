//! Profit sharing ("分账") of a direct merchant (and, with `sub_mchid`, of
//! a service provider acting for a sub-merchant): receivers, sharing
//! orders, returns ("回退"), unfreezing and the unsplit amount.
//!
//! * `POST /v3/profitsharing/receivers/add` and `…/delete` keep the
//!   receivers of a merchant (per `sub_mchid` and appid; a
//!   `MERCHANT_ID` receiver counts for every appid). `name` arrives
//!   encrypted with the platform key named by `Wechatpay-Serial`
//!   (RSA-OAEP, SHA-1) and is decrypted to check it.
//! * `POST /v3/profitsharing/orders` moves money out of a paid
//!   transaction's unsplit amount: the transaction must be the merchant's,
//!   paid, and placed with `settle_info.profit_sharing = true`; every
//!   receiver must have been added (the merchant itself excepted); the
//!   sum may not exceed the unsplit amount (403 `NOT_ENOUGH`), and what
//!   the receivers other than the merchant itself get in all may not
//!   exceed [`MAX_RATIO_PERCENT`] % of the order total. The order
//!   succeeds at once: answered `PROCESSING` with receivers `PENDING`,
//!   queried `FINISHED` with receivers `SUCCESS`, and one
//!   `PROFITSHARING.SUCCESS` callback per receiver is queued.
//!   `unfreeze_unsplit: true` also unfreezes what is left: the
//!   transaction's profit sharing is finished, its unsplit amount 0.
//! * `POST /v3/profitsharing/orders/unfreeze` does the same without
//!   sharing anything.
//! * `POST /v3/profitsharing/return-orders` returns money a
//!   `MERCHANT_ID` receiver got from one order, at most what it got less
//!   what it returned before; `PROFITSHARING.RETURN` is queued.
//!
//! The callbacks go to the `notify_url` of the paid order: WeChat Pay
//! sends them to the URL configured on the merchant platform, which the
//! sandbox has no equivalent of.
//!
//! The same `out_order_no` (or `out_return_no`) with the same body answers
//! the stored order as it is now; with another body it is a 400
//! `INVALID_REQUEST`. Encrypted names are left out of that comparison,
//! since every encryption of a name differs.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::{Map, Value, json};

use crate::auth::AuthenticatedMerchant;
use crate::clock;
use crate::errors::{ApiError, Location};
use crate::events::{Event, EventSink};
use crate::handlers::payments::{self, Order, path_segment};
use crate::handlers::sensitive;
use crate::query::Query;
use crate::state::AppState;
use crate::store::{Store, next_id};
use crate::validation::json_object;
use crate::validation::{Field, Kind};

/// The routes of this module.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/profitsharing/receivers/add", post(add_receiver))
        .route("/v3/profitsharing/receivers/delete", post(delete_receiver))
        .route("/v3/profitsharing/orders", post(create_order_handler))
        .route("/v3/profitsharing/orders/unfreeze", post(unfreeze_handler))
        .route("/v3/profitsharing/orders/{out_order_no}", get(query_order))
        .route(
            "/v3/profitsharing/return-orders",
            post(create_return_handler),
        )
        .route(
            "/v3/profitsharing/return-orders/{out_return_no}",
            get(query_return),
        )
        .route(
            "/v3/profitsharing/transactions/{transaction_id}/amounts",
            get(query_amounts),
        )
}

/// The largest share of an order's total, in percent, that receivers
/// other than the merchant itself may get: WeChat Pay's default maximum
/// ratio for an ordinary merchant.
pub(crate) const MAX_RATIO_PERCENT: i64 = 30;

/// At most this many sharing requests per transaction, and this many
/// receivers per request (WeChat Pay's documented limits).
const MAX_ORDERS_PER_TRANSACTION: i64 = 50;
const MAX_RECEIVERS: usize = 50;

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

const RECEIVER_TYPES: Kind =
    Kind::OneOf(&["MERCHANT_ID", "PERSONAL_OPENID", "PERSONAL_SUB_OPENID"]);

const MERCHANT_ID: &str = "MERCHANT_ID";

/// The `original_type` of profit-sharing callbacks.
pub(crate) const ORIGINAL_TYPE: &str = "profitsharing";
/// A receiver was paid: event type and WeChat Pay's summary.
pub(crate) const SHARED: (&str, &str) = ("PROFITSHARING.SUCCESS", "分账成功");
/// A receiver's share was returned: event type and summary.
pub(crate) const RETURNED: (&str, &str) = ("PROFITSHARING.RETURN", "分账回退");
const PERSONAL_SUB_OPENID: &str = "PERSONAL_SUB_OPENID";

/// Body of `POST /v3/profitsharing/receivers/add`.
static ADD: Kind = Kind::Object(&[
    Field::optional("sub_mchid", string(1, 32)),
    Field::required("appid", string(1, 32)),
    Field::optional("sub_appid", string(1, 32)),
    Field::required("type", RECEIVER_TYPES),
    Field::required("account", string(1, 64)),
    Field::optional("name", string(1, 1024)),
    Field::required(
        "relation_type",
        Kind::OneOf(&[
            "SERVICE_PROVIDER",
            "STORE",
            "STAFF",
            "STORE_OWNER",
            "PARTNER",
            "HEADQUARTER",
            "BRAND",
            "DISTRIBUTOR",
            "USER",
            "SUPPLIER",
            "CUSTOM",
        ]),
    ),
    Field::optional("custom_relation", string(1, 10)),
]);

/// Body of `POST /v3/profitsharing/receivers/delete`.
static DELETE: Kind = Kind::Object(&[
    Field::optional("sub_mchid", string(1, 32)),
    Field::required("appid", string(1, 32)),
    Field::optional("sub_appid", string(1, 32)),
    Field::required("type", RECEIVER_TYPES),
    Field::required("account", string(1, 64)),
]);

/// One receiver of `POST /v3/profitsharing/orders`.
static ORDER_RECEIVER: Kind = Kind::Object(&[
    Field::required("type", RECEIVER_TYPES),
    Field::required("account", string(1, 64)),
    Field::optional("name", string(1, 1024)),
    Field::required("amount", POSITIVE),
    Field::required("description", string(1, 80)),
]);

/// Body of `POST /v3/profitsharing/orders`.
static CREATE: Kind = Kind::Object(&[
    Field::optional("sub_mchid", string(1, 32)),
    Field::optional("appid", string(1, 32)),
    Field::optional("sub_appid", string(1, 32)),
    Field::required("transaction_id", string(1, 32)),
    Field::required("out_order_no", string(1, 64)),
    Field::required(
        "receivers",
        Kind::Array {
            items: &ORDER_RECEIVER,
            max_items: Some(MAX_RECEIVERS),
        },
    ),
    Field::required("unfreeze_unsplit", Kind::Boolean),
]);

/// Body of `POST /v3/profitsharing/orders/unfreeze`.
static UNFREEZE: Kind = Kind::Object(&[
    Field::optional("sub_mchid", string(1, 32)),
    Field::required("transaction_id", string(1, 32)),
    Field::required("out_order_no", string(1, 64)),
    Field::required("description", string(1, 80)),
]);

/// Body of `POST /v3/profitsharing/return-orders`.
static RETURN: Kind = Kind::Object(&[
    Field::optional("sub_mchid", string(1, 32)),
    Field::optional("order_id", string(1, 64)),
    Field::optional("out_order_no", string(1, 64)),
    Field::required("out_return_no", string(1, 64)),
    Field::required("return_mchid", string(1, 32)),
    Field::required("amount", POSITIVE),
    Field::required("description", string(1, 80)),
]);

/// `kind` of a stored sharing order.
const SHARE: &str = "SHARE";
const UNFREEZE_KIND: &str = "UNFREEZE";

/// A text field of a validated request.
fn text<'a>(request: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    request.get(name).and_then(Value::as_str)
}

/// `PARAM_ERROR` unless `value` is made of the characters WeChat Pay
/// allows in `out_order_no` and `out_return_no`: `[0-9A-Za-z_*|@-]`.
fn check_out_no(value: &str, pointer: &str) -> Result<(), ApiError> {
    if value
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || b"_-|*@".contains(&byte))
    {
        Ok(())
    } else {
        Err(ApiError::param_error(
            Location::Body,
            pointer,
            Some(Value::from(value)),
            "may only hold the characters 0-9, A-Z, a-z, _, -, |, * and @",
        ))
    }
}

// ---------------------------------------------------------------------
// Encrypted names
// ---------------------------------------------------------------------

// ---------------------------------------------------------------------
// Receivers
// ---------------------------------------------------------------------

/// The appid a receiver is kept under: `sub_appid` for a
/// `PERSONAL_SUB_OPENID` (required then), else `appid`.
fn receiver_appid(request: &Map<String, Value>, kind: &str) -> Result<String, ApiError> {
    if kind == PERSONAL_SUB_OPENID {
        return text(request, "sub_appid").map(str::to_owned).ok_or_else(|| {
            ApiError::param_error(
                Location::Body,
                "/sub_appid",
                None,
                "required when type is PERSONAL_SUB_OPENID: the sub-merchant appid the openid belongs to",
            )
        });
    }
    Ok(text(request, "appid").unwrap_or_default().to_owned())
}

/// Adds (or updates) a receiver from a validated request whose `name`, if
/// any, was decrypted to `name`.
async fn add(
    store: &Store,
    mchid: &str,
    request: &Map<String, Value>,
    name: Option<String>,
    now: i64,
) -> Result<Value, ApiError> {
    let kind = text(request, "type").unwrap_or_default();
    let account = text(request, "account").unwrap_or_default();
    let relation_type = text(request, "relation_type").unwrap_or_default();
    let custom_relation = text(request, "custom_relation");
    if relation_type == "CUSTOM" && custom_relation.is_none() {
        return Err(ApiError::param_error(
            Location::Body,
            "/custom_relation",
            None,
            "required when relation_type is CUSTOM",
        ));
    }
    if kind == MERCHANT_ID && name.is_none() {
        return Err(ApiError::param_error(
            Location::Body,
            "/name",
            None,
            "required when type is MERCHANT_ID: the merchant's full name, encrypted with the \
             platform public key",
        ));
    }
    let appid = receiver_appid(request, kind)?;
    let sub_mchid = text(request, "sub_mchid").unwrap_or_default();
    let row = (
        [
            mchid,
            sub_mchid,
            appid.as_str(),
            kind,
            account,
            relation_type,
        ]
        .map(str::to_owned),
        custom_relation.map(str::to_owned),
    );
    store
        .transaction(move |db| {
            let ([mchid, sub_mchid, appid, kind, account, relation_type], custom_relation) = row;
            db.execute(
                "INSERT INTO profitsharing_receivers (mchid, sub_mchid, appid, type, account, \
                 name, relation_type, custom_relation, create_time) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (mchid, sub_mchid, appid, type, account) DO UPDATE SET \
                 name = excluded.name, relation_type = excluded.relation_type, \
                 custom_relation = excluded.custom_relation",
                params![
                    mchid,
                    sub_mchid,
                    appid,
                    kind,
                    account,
                    name,
                    relation_type,
                    custom_relation,
                    now
                ],
            )?;
            Ok(())
        })
        .await?;
    let mut answer = Map::new();
    if !sub_mchid.is_empty() {
        answer.insert("sub_mchid".to_owned(), Value::from(sub_mchid));
    }
    answer.insert("type".to_owned(), Value::from(kind));
    answer.insert("account".to_owned(), Value::from(account));
    answer.insert("relation_type".to_owned(), Value::from(relation_type));
    if let Some(custom) = custom_relation {
        answer.insert("custom_relation".to_owned(), Value::from(custom));
    }
    Ok(Value::Object(answer))
}

/// Deletes a receiver; deleting one that is not there is accepted (the
/// outcome is the same: it is not a receiver).
async fn delete(
    store: &Store,
    mchid: &str,
    request: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let kind = text(request, "type").unwrap_or_default();
    let account = text(request, "account").unwrap_or_default();
    let appid = receiver_appid(request, kind)?;
    let sub_mchid = text(request, "sub_mchid").unwrap_or_default();
    let key = [mchid, sub_mchid, appid.as_str(), kind, account].map(str::to_owned);
    store
        .transaction(move |db| {
            db.execute(
                "DELETE FROM profitsharing_receivers WHERE mchid = ?1 AND sub_mchid = ?2 AND \
                 appid = ?3 AND type = ?4 AND account = ?5",
                params![key[0], key[1], key[2], key[3], key[4]],
            )?;
            Ok(())
        })
        .await?;
    let mut answer = Map::new();
    if !sub_mchid.is_empty() {
        answer.insert("sub_mchid".to_owned(), Value::from(sub_mchid));
    }
    answer.insert("type".to_owned(), Value::from(kind));
    answer.insert("account".to_owned(), Value::from(account));
    Ok(Value::Object(answer))
}

/// Whether the receiver `kind`/`account` was added by `mchid` (for
/// `sub_mchid`) under `appid`; a `MERCHANT_ID` counts under any appid.
fn receiver_added(
    db: &Connection,
    mchid: &str,
    sub_mchid: &str,
    appid: &str,
    kind: &str,
    account: &str,
) -> Result<bool, ApiError> {
    Ok(db
        .prepare(
            "SELECT 1 FROM profitsharing_receivers WHERE mchid = ?1 AND sub_mchid = ?2 AND \
             type = ?3 AND account = ?4 AND (?3 = 'MERCHANT_ID' OR appid = ?5)",
        )?
        .exists(params![mchid, sub_mchid, kind, account, appid])?)
}

// ---------------------------------------------------------------------
// Sharing orders
// ---------------------------------------------------------------------

/// A sharing order (or an unfreeze order) as stored. Every stored order
/// has finished: the sandbox processes them at once.
#[derive(Debug, Clone)]
struct SharingOrder {
    out_order_no: String,
    order_id: String,
    transaction_id: String,
    /// `SHARE` or `UNFREEZE`.
    kind: String,
    /// The validated request, encrypted names left out.
    request: Map<String, Value>,
    /// `{"type","account","amount","description","detail_id"}` each, and
    /// `"unfreeze": true` on the entry that unfroze the rest to the
    /// merchant itself.
    receivers: Vec<Value>,
    state: String,
    create_time: i64,
    finish_time: i64,
}

impl SharingOrder {
    fn sub_mchid(&self) -> Option<&str> {
        text(&self.request, "sub_mchid")
    }

    /// The order as the create (`processing`) and query endpoints show it.
    fn view(&self, processing: bool) -> Value {
        let receivers: Vec<Value> = self
            .receivers
            .iter()
            .map(|receiver| {
                json!({
                    "amount": receiver.get("amount").cloned().unwrap_or(Value::from(0)),
                    "description": receiver.get("description").cloned().unwrap_or_default(),
                    "type": receiver.get("type").cloned().unwrap_or_default(),
                    "account": receiver.get("account").cloned().unwrap_or_default(),
                    "result": if processing { "PENDING" } else { "SUCCESS" },
                    "detail_id": receiver.get("detail_id").cloned().unwrap_or_default(),
                    "create_time": clock::format_rfc3339(self.create_time),
                    "finish_time": clock::format_rfc3339(self.finish_time),
                })
            })
            .collect();
        let mut view = Map::new();
        if let Some(sub_mchid) = self.sub_mchid() {
            view.insert("sub_mchid".to_owned(), Value::from(sub_mchid));
        }
        view.insert(
            "transaction_id".to_owned(),
            Value::from(self.transaction_id.as_str()),
        );
        view.insert(
            "out_order_no".to_owned(),
            Value::from(self.out_order_no.as_str()),
        );
        view.insert("order_id".to_owned(), Value::from(self.order_id.as_str()));
        let state = if processing {
            "PROCESSING"
        } else {
            self.state.as_str()
        };
        view.insert("state".to_owned(), Value::from(state));
        view.insert("receivers".to_owned(), Value::Array(receivers));
        Value::Object(view)
    }

    /// The answer of the unfreeze endpoint: without `receivers`, whose
    /// shape the spec gets wrong for this operation (it requires
    /// `fail_reason` on every one).
    fn unfreeze_view(&self, processing: bool) -> Value {
        let mut view = self.view(processing);
        if let Some(object) = view.as_object_mut() {
            object.remove("receivers");
        }
        view
    }
}

const ORDER_COLUMNS: &str = "out_order_no, order_id, transaction_id, kind, request, receivers, \
                             state, create_time, finish_time";

fn raw_sharing_order(row: &Row<'_>) -> rusqlite::Result<(SharingOrder, String, String)> {
    Ok((
        SharingOrder {
            out_order_no: row.get(0)?,
            order_id: row.get(1)?,
            transaction_id: row.get(2)?,
            kind: row.get(3)?,
            request: Map::new(),
            receivers: Vec::new(),
            state: row.get(6)?,
            create_time: row.get(7)?,
            finish_time: row.get(8)?,
        },
        row.get(4)?,
        row.get(5)?,
    ))
}

fn finish_sharing_order(
    (mut order, request, receivers): (SharingOrder, String, String),
) -> Result<SharingOrder, ApiError> {
    order.request = serde_json::from_str(&request)?;
    order.receivers = serde_json::from_str(&receivers)?;
    Ok(order)
}

/// The sharing order of `mchid` found by `column` (`out_order_no` or
/// `order_id`), if any.
fn sharing_order_by(
    db: &Connection,
    mchid: &str,
    column: &str,
    value: &str,
) -> Result<Option<SharingOrder>, ApiError> {
    let column = if column == "order_id" {
        "order_id"
    } else {
        "out_order_no"
    };
    db.query_row(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM profitsharing_orders WHERE mchid = ?1 AND {column} = ?2"
        ),
        params![mchid, value],
        raw_sharing_order,
    )
    .optional()?
    .map(finish_sharing_order)
    .transpose()
}

/// What the sharing orders of one transaction add up to.
#[derive(Debug, Default, Clone, Copy)]
struct Split {
    /// Moved out of the unsplit amount, to anyone.
    moved: i64,
    /// Shared with receivers other than the merchant itself (what the
    /// ratio limits).
    shared: i64,
    /// The rest was unfrozen: nothing more can be shared.
    finished: bool,
    /// How many sharing requests the transaction had.
    orders: i64,
}

/// The [`Split`] of `transaction_id`.
fn split_of(db: &Connection, mchid: &str, transaction_id: &str) -> Result<Split, ApiError> {
    let mut statement = db.prepare(
        "SELECT kind, request, receivers FROM profitsharing_orders \
         WHERE mchid = ?1 AND transaction_id = ?2",
    )?;
    let rows = statement
        .query_map(params![mchid, transaction_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut split = Split::default();
    for (kind, request, receivers) in rows {
        let request: Map<String, Value> = serde_json::from_str(&request)?;
        let receivers: Vec<Value> = serde_json::from_str(&receivers)?;
        split.orders += 1;
        if kind == UNFREEZE_KIND
            || request
                .get("unfreeze_unsplit")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        {
            split.finished = true;
        }
        let sharer = text(&request, "sub_mchid").unwrap_or(mchid).to_owned();
        for receiver in &receivers {
            let amount = receiver.get("amount").and_then(Value::as_i64).unwrap_or(0);
            split.moved += amount;
            let to_self = receiver.get("unfreeze").and_then(Value::as_bool) == Some(true)
                || is_self(receiver, &sharer);
            if !to_self {
                split.shared += amount;
            }
        }
    }
    Ok(split)
}

/// Whether a receiver is the sharing merchant itself.
fn is_self(receiver: &Value, sharer: &str) -> bool {
    receiver.get("type").and_then(Value::as_str) == Some(MERCHANT_ID)
        && receiver.get("account").and_then(Value::as_str) == Some(sharer)
}

/// The unsplit amount of a paid transaction: the total less refunds and
/// what was shared or unfrozen; 0 once finished.
fn unsplit(order: &Order, split: &Split) -> i64 {
    if split.finished {
        0
    } else {
        (order.total() - order.refunded - split.moved).max(0)
    }
}

/// The paid, profit-sharing transaction `transaction_id` of `mchid`, or
/// the refusal WeChat Pay gives.
fn shareable_transaction(
    db: &Connection,
    mchid: &str,
    transaction_id: &str,
) -> Result<Order, ApiError> {
    let order = payments::by_transaction_id(db, mchid, transaction_id)?.ok_or_else(|| {
        payments::order_not_found(&format!(
            "transaction_id {transaction_id:?} of merchant {mchid}"
        ))
    })?;
    if !order.trade_state.is_paid() {
        return Err(ApiError::invalid_request(format!(
            "订单未支付: transaction {transaction_id} (order {}) is {}; only a paid order can be \
             shared",
            order.out_trade_no,
            order.trade_state.as_str()
        )));
    }
    let profit_sharing = order
        .request
        .get("settle_info")
        .and_then(|settle| settle.get("profit_sharing"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !profit_sharing {
        return Err(ApiError::invalid_request(format!(
            "非分账订单: order {} was placed without settle_info.profit_sharing = true, so its \
             money cannot be shared; place orders to share with that flag",
            order.out_trade_no
        )));
    }
    Ok(order)
}

/// A fresh `order_id` (28 digits).
fn new_order_id(db: &Connection, now: i64) -> Result<String, ApiError> {
    let sequence = next_id(db, "profitsharing_order_id", 1)?;
    Ok(format!("3008{}{sequence:016}", payments::date_digits(now)))
}

/// A fresh `detail_id` (23 digits).
fn new_detail_id(db: &Connection, now: i64) -> Result<String, ApiError> {
    let sequence = next_id(db, "profitsharing_detail_id", 1)?;
    Ok(format!("3601{}{sequence:011}", payments::date_digits(now)))
}

fn insert_sharing_order(
    db: &Connection,
    mchid: &str,
    order: &SharingOrder,
) -> Result<(), ApiError> {
    db.execute(
        "INSERT INTO profitsharing_orders (mchid, out_order_no, order_id, transaction_id, kind, \
         request, receivers, state, create_time, finish_time) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            mchid,
            order.out_order_no,
            order.order_id,
            order.transaction_id,
            order.kind,
            Value::Object(order.request.clone()).to_string(),
            Value::Array(order.receivers.clone()).to_string(),
            order.state,
            order.create_time,
            order.finish_time,
        ],
    )?;
    Ok(())
}

/// The existing order `out_order_no`, if the same request (and kind)
/// made it; `INVALID_REQUEST` if another one did.
fn replay(
    db: &Connection,
    mchid: &str,
    out_order_no: &str,
    kind: &str,
    request: &Map<String, Value>,
) -> Result<Option<SharingOrder>, ApiError> {
    match sharing_order_by(db, mchid, "out_order_no", out_order_no)? {
        None => Ok(None),
        Some(existing) if existing.kind == kind && existing.request == *request => {
            Ok(Some(existing))
        }
        Some(_) => Err(ApiError::invalid_request(format!(
            "out_order_no {out_order_no} was used before with other parameters; use a new \
             out_order_no for another sharing or unfreeze request"
        ))),
    }
}

/// A `PROFITSHARING.SUCCESS` or `PROFITSHARING.RETURN` resource.
fn notification(
    mchid: &str,
    sub_mchid: Option<&str>,
    transaction_id: &str,
    (order_id, out_order_no): (&str, &str),
    receiver: Value,
    time: i64,
) -> Value {
    let mut resource = Map::new();
    resource.insert("mchid".to_owned(), Value::from(mchid));
    if let Some(sub_mchid) = sub_mchid {
        resource.insert("sp_mchid".to_owned(), Value::from(mchid));
        resource.insert("sub_mchid".to_owned(), Value::from(sub_mchid));
    }
    resource.insert("transaction_id".to_owned(), Value::from(transaction_id));
    resource.insert("order_id".to_owned(), Value::from(order_id));
    resource.insert("out_order_no".to_owned(), Value::from(out_order_no));
    resource.insert("receiver".to_owned(), receiver);
    resource.insert(
        "success_time".to_owned(),
        Value::from(clock::format_rfc3339(time)),
    );
    Value::Object(resource)
}

/// Creates a sharing order from a validated request of `mchid` whose
/// encrypted names were checked and left out; returns the answer
/// (`PROCESSING`, receivers `PENDING`), or for a replay the order as it
/// is now.
pub(crate) async fn create_order(
    store: &Store,
    events: &EventSink,
    mchid: &str,
    request: Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let out_order_no = text(&request, "out_order_no")
        .unwrap_or_default()
        .to_owned();
    let transaction_id = text(&request, "transaction_id")
        .unwrap_or_default()
        .to_owned();
    let sub_mchid = text(&request, "sub_mchid").map(str::to_owned);
    let sharer = sub_mchid.clone().unwrap_or_else(|| mchid.to_owned());
    let asked: Vec<Value> = request
        .get("receivers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if asked.is_empty() {
        return Err(ApiError::param_error(
            Location::Body,
            "/receivers",
            None,
            "name at least one receiver",
        ));
    }
    for (index, receiver) in asked.iter().enumerate() {
        let key = (receiver.get("type"), receiver.get("account"));
        if asked[..index]
            .iter()
            .any(|earlier| (earlier.get("type"), earlier.get("account")) == key)
        {
            return Err(ApiError::param_error(
                Location::Body,
                format!("/receivers/{index}"),
                None,
                "this receiver is named twice; give each receiver once with the sum of its amounts",
            ));
        }
    }
    let unfreeze_unsplit = request
        .get("unfreeze_unsplit")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mchid = mchid.to_owned();
    let (answer, events_due, notify_url) = store
        .transaction(move |db| {
        let mchid = mchid.as_str();
        if let Some(existing) = replay(db, mchid, &out_order_no, SHARE, &request)? {
            return Ok((existing.view(false), Vec::new(), String::new()));
        }
        let order = shareable_transaction(db, mchid, &transaction_id)?;
        let split = split_of(db, mchid, &transaction_id)?;
        if split.finished {
            return Err(ApiError::invalid_request(format!(
                "分账已完结: the unsplit amount of transaction {transaction_id} was unfrozen \
                 already; nothing more can be shared"
            )));
        }
        if split.orders >= MAX_ORDERS_PER_TRANSACTION {
            return Err(ApiError::invalid_request(format!(
                "transaction {transaction_id} had {MAX_ORDERS_PER_TRANSACTION} sharing requests, \
                 the most WeChat Pay accepts for one transaction"
            )));
        }
        let appid = text(&request, "appid").unwrap_or_else(|| order.text("appid"));
        let mut total = 0i64;
        let mut to_others = 0i64;
        for (index, receiver) in asked.iter().enumerate() {
            let kind = receiver
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let account = receiver
                .get("account")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let amount = receiver.get("amount").and_then(Value::as_i64).unwrap_or(0);
            total = total.saturating_add(amount);
            if is_self(receiver, &sharer) {
                continue;
            }
            to_others = to_others.saturating_add(amount);
            let receiver_appid = if kind == PERSONAL_SUB_OPENID {
                text(&request, "sub_appid").ok_or_else(|| {
                    ApiError::param_error(
                        Location::Body,
                        "/sub_appid",
                        None,
                        "required when a receiver's type is PERSONAL_SUB_OPENID",
                    )
                })?
            } else {
                appid
            };
            if !receiver_added(
                db,
                mchid,
                sub_mchid.as_deref().unwrap_or_default(),
                receiver_appid,
                kind,
                account,
            )? {
                return Err(ApiError::invalid_request(format!(
                    "分账接收方不存在: receivers/{index} ({kind} {account}) was not added for \
                     appid {receiver_appid}; add it with POST /v3/profitsharing/receivers/add first"
                )));
            }
        }
        let left = unsplit(&order, &split);
        if total > left {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "NOT_ENOUGH",
                format!(
                    "分账金额不足: the receivers add up to {total} fen but transaction \
                     {transaction_id} has {left} fen left to share"
                ),
            ));
        }
        let limit = order.total().saturating_mul(MAX_RATIO_PERCENT) / 100;
        if split.shared.saturating_add(to_others) > limit {
            return Err(ApiError::invalid_request(format!(
                "分账金额超出最大分账比例: receivers may get at most {MAX_RATIO_PERCENT}% of the \
                 order total {} ({limit} fen); {} fen were shared before and {to_others} fen \
                 are asked now",
                order.total(),
                split.shared
            )));
        }
        let mut receivers = Vec::with_capacity(asked.len() + 1);
        for receiver in &asked {
            receivers.push(json!({
                "type": receiver.get("type").cloned().unwrap_or_default(),
                "account": receiver.get("account").cloned().unwrap_or_default(),
                "amount": receiver.get("amount").cloned().unwrap_or(Value::from(0)),
                "description": receiver.get("description").cloned().unwrap_or_default(),
                "detail_id": new_detail_id(db, now)?,
            }));
        }
        let rest = left - total;
        if unfreeze_unsplit && rest > 0 {
            receivers.push(json!({
                "type": MERCHANT_ID,
                "account": sharer,
                "amount": rest,
                "description": "解冻给分账方",
                "detail_id": new_detail_id(db, now)?,
                "unfreeze": true,
            }));
        }
        let sharing = SharingOrder {
            out_order_no: out_order_no.clone(),
            order_id: new_order_id(db, now)?,
            transaction_id: transaction_id.clone(),
            kind: SHARE.to_owned(),
            request: request.clone(),
            receivers,
            state: "FINISHED".to_owned(),
            create_time: now,
            finish_time: now,
        };
        insert_sharing_order(db, mchid, &sharing)?;
        let due: Vec<Value> = sharing
            .receivers
            .iter()
            .filter(|receiver| receiver.get("unfreeze").is_none())
            .map(|receiver| {
                notification(
                    mchid,
                    sub_mchid.as_deref(),
                    &transaction_id,
                    (&sharing.order_id, &sharing.out_order_no),
                    json!({
                        "type": receiver.get("type").cloned().unwrap_or_default(),
                        "account": receiver.get("account").cloned().unwrap_or_default(),
                        "amount": receiver.get("amount").cloned().unwrap_or(Value::from(0)),
                        "description": receiver.get("description").cloned().unwrap_or_default(),
                    }),
                    now,
                )
            })
            .collect();
        Ok((sharing.view(true), due, order.notify_url()))
    })
        .await?;
    for resource in events_due {
        events.send(Event {
            event_type: SHARED.0,
            original_type: ORIGINAL_TYPE,
            summary: SHARED.1,
            notify_url: notify_url.clone(),
            resource,
            v2: None,
        });
    }
    Ok(answer)
}

/// Unfreezes what is left of a transaction's unsplit amount to the
/// merchant itself, from a validated request; the transaction's profit
/// sharing is finished from then on.
pub(crate) async fn unfreeze(
    store: &Store,
    mchid: &str,
    request: Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let out_order_no = text(&request, "out_order_no")
        .unwrap_or_default()
        .to_owned();
    let transaction_id = text(&request, "transaction_id")
        .unwrap_or_default()
        .to_owned();
    let sharer = text(&request, "sub_mchid").unwrap_or(mchid).to_owned();
    let mchid = mchid.to_owned();
    store
        .transaction(move |db| {
            let mchid = mchid.as_str();
            if let Some(existing) = replay(db, mchid, &out_order_no, UNFREEZE_KIND, &request)? {
                return Ok(existing.unfreeze_view(false));
            }
            let order = shareable_transaction(db, mchid, &transaction_id)?;
            let split = split_of(db, mchid, &transaction_id)?;
            if split.finished {
                return Err(ApiError::invalid_request(format!(
                    "分账已完结: the unsplit amount of transaction {transaction_id} was unfrozen \
                 already"
                )));
            }
            let rest = unsplit(&order, &split);
            let mut receivers = Vec::new();
            if rest > 0 {
                receivers.push(json!({
                    "type": MERCHANT_ID,
                    "account": sharer,
                    "amount": rest,
                    "description": text(&request, "description").unwrap_or("解冻给分账方"),
                    "detail_id": new_detail_id(db, now)?,
                    "unfreeze": true,
                }));
            }
            let sharing = SharingOrder {
                out_order_no: out_order_no.clone(),
                order_id: new_order_id(db, now)?,
                transaction_id: transaction_id.clone(),
                kind: UNFREEZE_KIND.to_owned(),
                request: request.clone(),
                receivers,
                state: "FINISHED".to_owned(),
                create_time: now,
                finish_time: now,
            };
            insert_sharing_order(db, mchid, &sharing)?;
            Ok(sharing.unfreeze_view(true))
        })
        .await
}

/// `{"transaction_id","unsplit_amount"}` of a paid profit-sharing
/// transaction.
async fn amounts(store: &Store, mchid: &str, transaction_id: &str) -> Result<Value, ApiError> {
    let (mchid, transaction_id) = (mchid.to_owned(), transaction_id.to_owned());
    store
        .transaction(move |db| {
            let (mchid, transaction_id) = (mchid.as_str(), transaction_id.as_str());
            let order = shareable_transaction(db, mchid, transaction_id)?;
            let split = split_of(db, mchid, transaction_id)?;
            Ok(json!({
                "transaction_id": transaction_id,
                "unsplit_amount": unsplit(&order, &split),
            }))
        })
        .await
}

// ---------------------------------------------------------------------
// Returns
// ---------------------------------------------------------------------

/// A return order as stored (it succeeded when stored).
#[derive(Debug, Clone)]
struct ReturnOrder {
    out_return_no: String,
    return_id: String,
    out_order_no: String,
    order_id: String,
    request: Map<String, Value>,
    return_mchid: String,
    amount: i64,
    create_time: i64,
    finish_time: i64,
}

impl ReturnOrder {
    fn view(&self, processing: bool) -> Value {
        let mut view = Map::new();
        if let Some(sub_mchid) = text(&self.request, "sub_mchid") {
            view.insert("sub_mchid".to_owned(), Value::from(sub_mchid));
        }
        let description = text(&self.request, "description").unwrap_or_default();
        for (name, value) in [
            ("order_id", Value::from(self.order_id.as_str())),
            ("out_order_no", Value::from(self.out_order_no.as_str())),
            ("out_return_no", Value::from(self.out_return_no.as_str())),
            ("return_id", Value::from(self.return_id.as_str())),
            ("return_mchid", Value::from(self.return_mchid.as_str())),
            ("amount", Value::from(self.amount)),
            ("description", Value::from(description)),
            (
                "result",
                Value::from(if processing { "PROCESSING" } else { "SUCCESS" }),
            ),
            (
                "create_time",
                Value::from(clock::format_rfc3339(self.create_time)),
            ),
            (
                "finish_time",
                Value::from(clock::format_rfc3339(self.finish_time)),
            ),
        ] {
            view.insert(name.to_owned(), value);
        }
        Value::Object(view)
    }
}

const RETURN_COLUMNS: &str = "out_return_no, return_id, out_order_no, order_id, request, \
                              return_mchid, amount, create_time, finish_time";

fn raw_return(row: &Row<'_>) -> rusqlite::Result<(ReturnOrder, String)> {
    Ok((
        ReturnOrder {
            out_return_no: row.get(0)?,
            return_id: row.get(1)?,
            out_order_no: row.get(2)?,
            order_id: row.get(3)?,
            request: Map::new(),
            return_mchid: row.get(5)?,
            amount: row.get(6)?,
            create_time: row.get(7)?,
            finish_time: row.get(8)?,
        },
        row.get(4)?,
    ))
}

fn return_by_out_return_no(
    db: &Connection,
    mchid: &str,
    out_return_no: &str,
) -> Result<Option<ReturnOrder>, ApiError> {
    match db
        .query_row(
            &format!(
                "SELECT {RETURN_COLUMNS} FROM profitsharing_returns \
                 WHERE mchid = ?1 AND out_return_no = ?2"
            ),
            params![mchid, out_return_no],
            raw_return,
        )
        .optional()?
    {
        None => Ok(None),
        Some((mut found, request)) => {
            found.request = serde_json::from_str(&request)?;
            Ok(Some(found))
        }
    }
}

/// Returns money a `MERCHANT_ID` receiver got from one sharing order, from
/// a validated request; answers `PROCESSING` (the return has succeeded
/// when anyone asks) and queues `PROFITSHARING.RETURN`.
pub(crate) async fn create_return(
    store: &Store,
    events: &EventSink,
    mchid: &str,
    request: Map<String, Value>,
    now: i64,
) -> Result<Value, ApiError> {
    let out_return_no = text(&request, "out_return_no")
        .unwrap_or_default()
        .to_owned();
    let return_mchid = text(&request, "return_mchid")
        .unwrap_or_default()
        .to_owned();
    let amount = request.get("amount").and_then(Value::as_i64).unwrap_or(0);
    let description = text(&request, "description").unwrap_or_default().to_owned();
    let mchid = mchid.to_owned();
    let (answer, due) = store
        .transaction(move |db| {
        let mchid = mchid.as_str();
        if let Some(existing) = return_by_out_return_no(db, mchid, &out_return_no)? {
            if existing.request != request {
                return Err(ApiError::invalid_request(format!(
                    "out_return_no {out_return_no} was used before with other parameters; use a \
                     new out_return_no"
                )));
            }
            return Ok((existing.view(false), None));
        }
        let sharing = match (text(&request, "order_id"), text(&request, "out_order_no")) {
            (Some(order_id), out_order_no) => {
                let found = sharing_order_by(db, mchid, "order_id", order_id)?;
                if let (Some(found), Some(out_order_no)) = (&found, out_order_no)
                    && found.out_order_no != out_order_no
                {
                    return Err(ApiError::invalid_request(format!(
                        "order_id {order_id} is sharing order {}, not out_order_no {out_order_no}",
                        found.out_order_no
                    )));
                }
                found
            }
            (None, Some(out_order_no)) => {
                sharing_order_by(db, mchid, "out_order_no", out_order_no)?
            }
            (None, None) => {
                return Err(ApiError::param_error(
                    Location::Body,
                    "/out_order_no",
                    None,
                    "either order_id or out_order_no is required",
                ));
            }
        }
        .ok_or_else(|| {
            ApiError::resource_not_exists(
                "分账单不存在: no sharing order with that order_id / out_order_no",
            )
        })?;
        let received: i64 = sharing
            .receivers
            .iter()
            .filter(|receiver| {
                receiver.get("unfreeze").is_none()
                    && receiver.get("type").and_then(Value::as_str) == Some(MERCHANT_ID)
                    && receiver.get("account").and_then(Value::as_str) == Some(&return_mchid)
            })
            .filter_map(|receiver| receiver.get("amount").and_then(Value::as_i64))
            .sum();
        if received == 0 {
            return Err(ApiError::invalid_request(format!(
                "return_mchid {return_mchid} got nothing from sharing order {} as a MERCHANT_ID \
                 receiver; only a merchant receiver of that order can return money",
                sharing.out_order_no
            )));
        }
        let returned: i64 = db.query_row(
            "SELECT COALESCE(SUM(amount), 0) FROM profitsharing_returns \
             WHERE mchid = ?1 AND order_id = ?2 AND return_mchid = ?3",
            params![mchid, sharing.order_id, return_mchid],
            |row| row.get(0),
        )?;
        let returnable = received - returned;
        if amount > returnable {
            return Err(ApiError::invalid_request(format!(
                "回退金额超过可回退金额: {amount} fen asked, but {return_mchid} got {received} fen \
                 from sharing order {} and returned {returned} fen already ({returnable} fen left)",
                sharing.out_order_no
            )));
        }
        let sequence = next_id(db, "profitsharing_return_id", 1)?;
        let stored = ReturnOrder {
            out_return_no: out_return_no.clone(),
            return_id: format!("3008{}9{sequence:015}", payments::date_digits(now)),
            out_order_no: sharing.out_order_no.clone(),
            order_id: sharing.order_id.clone(),
            request: request.clone(),
            return_mchid: return_mchid.clone(),
            amount,
            create_time: now,
            finish_time: now,
        };
        db.execute(
            "INSERT INTO profitsharing_returns (mchid, out_return_no, return_id, out_order_no, \
             order_id, request, return_mchid, amount, result, create_time, finish_time) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'SUCCESS', ?9, ?10)",
            params![
                mchid,
                stored.out_return_no,
                stored.return_id,
                stored.out_order_no,
                stored.order_id,
                Value::Object(request.clone()).to_string(),
                stored.return_mchid,
                stored.amount,
                stored.create_time,
                stored.finish_time,
            ],
        )?;
        let notify_url = payments::by_transaction_id(db, mchid, &sharing.transaction_id)?
            .map(|order| order.notify_url())
            .unwrap_or_default();
        let resource = notification(
            mchid,
            sharing.sub_mchid(),
            &sharing.transaction_id,
            (&stored.return_id, &stored.out_return_no),
            json!({
                "type": MERCHANT_ID,
                "account": return_mchid,
                "amount": amount,
                "description": description,
            }),
            now,
        );
        Ok((stored.view(true), Some((resource, notify_url))))
    })
        .await?;
    if let Some((resource, notify_url)) = due
        && !notify_url.is_empty()
    {
        events.send(Event {
            event_type: RETURNED.0,
            original_type: ORIGINAL_TYPE,
            summary: RETURNED.1,
            notify_url,
            resource,
            v2: None,
        });
    }
    Ok(answer)
}

// ---------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------

/// Decrypts the `name` of `object` (at `pointer`), if present.
fn decrypted_name(
    app: &AppState,
    headers: &HeaderMap,
    object: &Map<String, Value>,
    pointer: &str,
) -> Result<Option<String>, ApiError> {
    match object.get("name").and_then(Value::as_str) {
        None => Ok(None),
        Some(ciphertext) => {
            let name = sensitive::decrypt(app, headers, ciphertext, pointer)?;
            if name.trim().is_empty() {
                return Err(ApiError::param_error(
                    Location::Body,
                    pointer,
                    None,
                    "decrypts to an empty name",
                ));
            }
            Ok(Some(name))
        }
    }
}

/// `POST /v3/profitsharing/receivers/add`
async fn add_receiver(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, &body, &ADD)?;
    let name = decrypted_name(&app, &headers, &request, "/name")?;
    let answer = add(
        app.store(),
        &merchant.mchid,
        &request,
        name,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(answer))
}

/// `POST /v3/profitsharing/receivers/delete`
async fn delete_receiver(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, &body, &DELETE)?;
    Ok(Json(delete(app.store(), &merchant.mchid, &request).await?))
}

/// `POST /v3/profitsharing/orders`
async fn create_order_handler(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut request = json_object(&headers, &body, &CREATE)?;
    check_out_no(
        text(&request, "out_order_no").unwrap_or_default(),
        "/out_order_no",
    )?;
    // Check every encrypted name, then leave it out: each encryption of
    // a name differs, so a retry would not compare equal with it.
    if let Some(Value::Array(receivers)) = request.get_mut("receivers") {
        for (index, receiver) in receivers.iter_mut().enumerate() {
            if let Value::Object(receiver) = receiver {
                decrypted_name(
                    &app,
                    &headers,
                    receiver,
                    &format!("/receivers/{index}/name"),
                )?;
                receiver.remove("name");
            }
        }
    }
    let answer = create_order(
        app.store(),
        &app.0.events,
        &merchant.mchid,
        request,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(answer))
}

/// `POST /v3/profitsharing/orders/unfreeze`
async fn unfreeze_handler(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, &body, &UNFREEZE)?;
    check_out_no(
        text(&request, "out_order_no").unwrap_or_default(),
        "/out_order_no",
    )?;
    Ok(Json(
        unfreeze(app.store(), &merchant.mchid, request, clock::unix_now()).await?,
    ))
}

/// `GET /v3/profitsharing/orders/{out_order_no}?transaction_id=` (and an
/// optional `sub_mchid`).
async fn query_order(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let out_order_no = path_segment(path, "out_order_no")?;
    let query = Query::parse(raw_query.as_deref())?;
    let transaction_id = query.required("transaction_id")?.to_owned();
    let mchid = merchant.mchid.clone();
    let view = app
        .store()
        .transaction(move |db| {
            let found = sharing_order_by(db, &mchid, "out_order_no", &out_order_no)?
                .filter(|order| order.transaction_id == transaction_id)
                .ok_or_else(|| {
                    ApiError::resource_not_exists(format!(
                        "记录不存在: no sharing order {out_order_no:?} of transaction \
                     {transaction_id:?}"
                    ))
                })?;
            Ok(found.view(false))
        })
        .await?;
    Ok(Json(view))
}

/// `POST /v3/profitsharing/return-orders`
async fn create_return_handler(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, &body, &RETURN)?;
    check_out_no(
        text(&request, "out_return_no").unwrap_or_default(),
        "/out_return_no",
    )?;
    Ok(Json(
        create_return(
            app.store(),
            &app.0.events,
            &merchant.mchid,
            request,
            clock::unix_now(),
        )
        .await?,
    ))
}

/// `GET /v3/profitsharing/return-orders/{out_return_no}?out_order_no=`
/// (and an optional `sub_mchid`).
async fn query_return(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let out_return_no = path_segment(path, "out_return_no")?;
    let query = Query::parse(raw_query.as_deref())?;
    let out_order_no = query.required("out_order_no")?.to_owned();
    let mchid = merchant.mchid.clone();
    let view = app
        .store()
        .transaction(move |db| {
            let found = return_by_out_return_no(db, &mchid, &out_return_no)?
                .filter(|found| found.out_order_no == out_order_no)
                .ok_or_else(|| {
                    ApiError::resource_not_exists(format!(
                        "记录不存在: no return {out_return_no:?} of sharing order {out_order_no:?}"
                    ))
                })?;
            Ok(found.view(false))
        })
        .await?;
    Ok(Json(view))
}

/// `GET /v3/profitsharing/transactions/{transaction_id}/amounts`
async fn query_amounts(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let transaction_id = path_segment(path, "transaction_id")?;
    Ok(Json(
        amounts(app.store(), &merchant.mchid, &transaction_id).await?,
    ))
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

    /// A store with a paid order of 1000 fen (profit sharing on when
    /// `shareable`); returns it and the transaction id.
    async fn paid(shareable: bool) -> (Store, EventSink, String) {
        let store = Store::open(None).expect("store");
        let (events, _received) = EventSink::new();
        let order = object(json!({
            "appid": "wx1", "mchid": "1900", "description": "d", "out_trade_no": "order-1",
            "notify_url": "https://merchant.example/pay", "amount": {"total": 1000},
            "settle_info": {"profit_sharing": shareable}
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
        let transaction_id = paid["transaction_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (store, events, transaction_id)
    }

    fn share(transaction_id: &str, out_order_no: &str, amount: i64) -> Map<String, Value> {
        object(json!({
            "transaction_id": transaction_id, "out_order_no": out_order_no,
            "receivers": [{"type": "MERCHANT_ID", "account": "1901", "amount": amount,
                           "description": "d"}],
            "unfreeze_unsplit": false
        }))
    }

    async fn add_1901(store: &Store) {
        add(
            store,
            "1900",
            &object(
                json!({"appid": "wx1", "type": "MERCHANT_ID", "account": "1901",
                           "relation_type": "STORE"}),
            ),
            Some("商户".to_owned()),
            30,
        )
        .await
        .expect("added");
    }

    #[tokio::test]
    async fn sharing_respects_receivers_ratio_and_unfreezing() {
        let (store, _, transaction_id) = paid(true).await;
        let (events, mut received) = EventSink::new();
        let refused = create_order(
            &store,
            &events,
            "1900",
            share(&transaction_id, "s1", 100),
            40,
        )
        .await
        .expect_err("receiver not added");
        assert_eq!(refused.code, "INVALID_REQUEST");
        add_1901(&store).await;
        let over = create_order(
            &store,
            &events,
            "1900",
            share(&transaction_id, "s1", 301),
            40,
        )
        .await
        .expect_err("over 30%");
        assert_eq!(over.code, "INVALID_REQUEST");
        let answer = create_order(
            &store,
            &events,
            "1900",
            share(&transaction_id, "s1", 300),
            40,
        )
        .await
        .expect("shared");
        assert_eq!(answer["state"], "PROCESSING");
        assert_eq!(answer["receivers"][0]["result"], "PENDING");
        let event = received.try_recv().expect("an event");
        assert_eq!(event.event_type, "PROFITSHARING.SUCCESS");
        assert_eq!(event.notify_url, "https://merchant.example/pay");
        assert_eq!(event.resource["receiver"]["amount"], 300);
        let again = create_order(
            &store,
            &events,
            "1900",
            share(&transaction_id, "s1", 300),
            50,
        )
        .await
        .expect("replayed");
        assert_eq!(again["state"], "FINISHED");
        assert!(received.try_recv().is_err(), "a replay sends nothing");
        let left = amounts(&store, "1900", &transaction_id)
            .await
            .expect("amounts");
        assert_eq!(left["unsplit_amount"], 700);
        let unfrozen = unfreeze(
            &store,
            "1900",
            object(
                json!({"transaction_id": transaction_id, "out_order_no": "u1",
                          "description": "done"}),
            ),
            60,
        )
        .await
        .expect("unfrozen");
        assert_eq!(unfrozen["state"], "PROCESSING");
        assert_eq!(
            amounts(&store, "1900", &transaction_id)
                .await
                .expect("amounts")["unsplit_amount"],
            0
        );
    }

    #[tokio::test]
    async fn an_order_without_profit_sharing_is_refused() {
        let (store, events, transaction_id) = paid(false).await;
        add_1901(&store).await;
        let refused = create_order(
            &store,
            &events,
            "1900",
            share(&transaction_id, "s1", 10),
            40,
        )
        .await
        .expect_err("not shareable");
        assert_eq!(refused.code, "INVALID_REQUEST");
        assert!(
            refused.message.contains("profit_sharing"),
            "{}",
            refused.message
        );
    }
}
