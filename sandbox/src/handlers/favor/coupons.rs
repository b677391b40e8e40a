//! Coupons ("代金券") sent from the stocks: sending one to a user, querying
//! it, and the merchant's coupon callback URL.
//!
//! A coupon can only be sent from a `running` stock, at most
//! `stock_use_rule.max_coupons` in all and `max_coupons_per_user` to one
//! openid; each one sent counts up the stock's `distributed_coupons`. When
//! the stock's creator has set a callback URL (`POST
//! /v3/marketing/favor/callbacks`, not switched off), sending queues a
//! `COUPON.SEND` callback whose resource is the coupon as queried.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Map, Value, json};

use super::ensure_signer;
use super::store::{self, Stock, StockStatus, StockView};
use crate::auth::AuthenticatedMerchant;
use crate::clock;
use crate::errors::{ApiError, Location};
use crate::events::{Event, EventSink};
use crate::handlers::payments::{check_notify_url, ensure_merchant};
use crate::query::Query;
use crate::state::AppState;
use crate::store::{Store, next_id};
use crate::validation::json_object;
use crate::validation::{Field, INTEGER, Kind, STRING, missing};

/// The first coupon id handed out (the spec's example id); later ones
/// count up from it.
const FIRST_COUPON_ID: u64 = 9_867_041;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v3/marketing/favor/users/{openid}/coupons",
            post(send_coupon),
        )
        .route(
            "/v3/marketing/favor/users/{openid}/coupons/{coupon_id}",
            get(query_coupon),
        )
        .route(
            "/v3/marketing/favor/callbacks",
            post(set_callback).get(query_callback),
        )
}

/// Body of the send endpoint (`openid` travels in the path).
static SEND: Kind = Kind::Object(&[
    Field::required("stock_id", STRING),
    Field::required("out_request_no", STRING),
    Field::required("appid", STRING),
    Field::required("stock_creator_mchid", STRING),
    Field::optional("coupon_value", INTEGER),
    Field::optional("coupon_minimum", INTEGER),
]);

/// Body of `POST /v3/marketing/favor/callbacks`.
static CALLBACK: Kind = Kind::Object(&[
    Field::required("mchid", STRING),
    Field::required("notify_url", STRING),
    Field::optional("switch", Kind::Boolean),
]);

/// A coupon as stored.
#[derive(Debug, Clone)]
pub(crate) struct Coupon {
    pub(crate) coupon_id: String,
    pub(crate) stock_id: String,
    pub(crate) openid: String,
    pub(crate) appid: String,
    /// Unix seconds.
    pub(crate) create_time: i64,
    /// The validated send request, as sent.
    pub(crate) request: Map<String, Value>,
}

/// The coupon as the query endpoint (and `COUPON.SEND`) shows it.
fn view(coupon: &Coupon, stock: &Stock) -> Result<Value, ApiError> {
    let shown = serde_json::to_value(StockView::new(stock))?;
    let fixed = stock
        .request
        .get("coupon_use_rule")
        .and_then(|rule| rule.get("fixed_normal_coupon"));
    let pick = |own: &str, of_stock: &str| {
        coupon
            .request
            .get(own)
            .or_else(|| fixed.and_then(|fixed| fixed.get(of_stock)))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut view = json!({
        "stock_creator_mchid": stock.creator_mchid,
        "stock_id": stock.stock_id,
        "coupon_id": coupon.coupon_id,
        "coupon_name": shown["stock_name"],
        "status": "SENDED",
        "description": shown["description"],
        "create_time": clock::format_rfc3339(coupon.create_time),
        "coupon_type": "NORMAL",
        "no_cash": shown["no_cash"],
        "available_begin_time": shown["available_begin_time"],
        "available_end_time": shown["available_end_time"],
        "singleitem": shown["singleitem"],
        "normal_coupon_information": {
            "coupon_amount": pick("coupon_value", "coupon_amount"),
            "transaction_minimum": pick("coupon_minimum", "transaction_minimum"),
        },
    });
    if let (Some(start), Some(object)) = (stock.start_time, view.as_object_mut()) {
        object.insert(
            "start_time".to_owned(),
            Value::from(clock::format_rfc3339(start)),
        );
    }
    Ok(view)
}

fn by_coupon_id(db: &Connection, coupon_id: &str) -> Result<Option<Coupon>, ApiError> {
    let raw = db
        .query_row(
            "SELECT coupon_id, stock_id, openid, appid, create_time, request FROM coupons \
             WHERE coupon_id = ?1",
            params![coupon_id],
            |row| {
                Ok((
                    Coupon {
                        coupon_id: row.get(0)?,
                        stock_id: row.get(1)?,
                        openid: row.get(2)?,
                        appid: row.get(3)?,
                        create_time: row.get(4)?,
                        request: Map::new(),
                    },
                    row.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?;
    match raw {
        None => Ok(None),
        Some((mut coupon, request)) => {
            coupon.request = serde_json::from_str(&request)?;
            Ok(Some(coupon))
        }
    }
}

fn stock_of(db: &Connection, stock_id: &str) -> Result<Stock, ApiError> {
    store::get(db, stock_id)?.ok_or_else(|| store::stock_not_found(stock_id))
}

/// The callback URL `mchid` set for coupon events, unless switched off.
fn callback_url(db: &Connection, mchid: &str) -> Result<Option<String>, ApiError> {
    Ok(db
        .query_row(
            "SELECT notify_url FROM coupon_callbacks WHERE mchid = ?1 AND enabled = 1",
            params![mchid],
            |row| row.get(0),
        )
        .optional()?)
}

/// Sends a coupon of a stock of `creator_mchid` to `openid` from a
/// validated request; returns its `coupon_id`. Idempotent on
/// (`creator_mchid`, `out_request_no`): the same request again returns the
/// same coupon and sends nothing more.
pub(crate) async fn send(
    store: &Store,
    events: &EventSink,
    creator_mchid: &str,
    openid: &str,
    request: Map<String, Value>,
    now: i64,
) -> Result<String, ApiError> {
    let text = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (stock_id, out_request_no, appid) =
        (text("stock_id"), text("out_request_no"), text("appid"));
    let (creator_mchid, openid) = (creator_mchid.to_owned(), openid.to_owned());
    let (coupon_id, event) = store
        .transaction(move |db| {
            let (creator_mchid, openid) = (creator_mchid.as_str(), openid.as_str());
            let existing: Option<(String, String, String)> = db
                .query_row(
                    "SELECT coupon_id, stock_id, openid FROM coupons \
                 WHERE creator_mchid = ?1 AND out_request_no = ?2",
                    params![creator_mchid, out_request_no],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?;
            if let Some((coupon_id, sent_stock, sent_openid)) = existing {
                if sent_stock != stock_id || sent_openid != openid {
                    return Err(ApiError::invalid_request(format!(
                        "out_request_no {out_request_no} already sent coupon {coupon_id} of stock \
                     {sent_stock} to another user or from another stock"
                    )));
                }
                return Ok((coupon_id, None));
            }
            let stock = stock_of(db, &stock_id)?;
            if stock.creator_mchid != creator_mchid {
                return Err(store::not_the_creator(&stock, creator_mchid));
            }
            if stock.status != StockStatus::Running {
                return Err(ApiError::invalid_request(format!(
                    "活动未开始或已结束: stock {stock_id} is {}; coupons are sent from running \
                 stocks only",
                    stock.status.as_str()
                )));
            }
            let max_coupons = stock.use_rule("max_coupons");
            if stock.distributed_coupons >= max_coupons {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "NOT_ENOUGH",
                    format!(
                        "批次预算不足: stock {stock_id} has sent all its {max_coupons} coupons \
                     (stock_use_rule.max_coupons)"
                    ),
                ));
            }
            let per_user = stock.use_rule("max_coupons_per_user");
            let received: i64 = db.query_row(
                "SELECT COUNT(*) FROM coupons WHERE stock_id = ?1 AND openid = ?2",
                params![stock_id, openid],
                |row| row.get(0),
            )?;
            if u64::try_from(received).unwrap_or(0) >= per_user {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "RULE_LIMIT",
                    format!(
                        "用户领取已达上限: user {openid} already has {received} coupon(s) of stock \
                     {stock_id} (stock_use_rule.max_coupons_per_user is {per_user})"
                    ),
                ));
            }
            let coupon = Coupon {
                coupon_id: next_id(db, "coupon_id", FIRST_COUPON_ID)?.to_string(),
                stock_id: stock_id.clone(),
                openid: openid.to_owned(),
                appid: appid.clone(),
                create_time: now,
                request: request.clone(),
            };
            db.execute(
                "INSERT INTO coupons (coupon_id, stock_id, creator_mchid, out_request_no, openid, \
             appid, create_time, request) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    coupon.coupon_id,
                    coupon.stock_id,
                    creator_mchid,
                    out_request_no,
                    coupon.openid,
                    coupon.appid,
                    coupon.create_time,
                    Value::Object(request.clone()).to_string(),
                ],
            )?;
            store::count_coupon(db, &stock_id)?;
            let event = match callback_url(db, creator_mchid)? {
                Some(url) => {
                    let stock = stock_of(db, &stock_id)?;
                    Some((view(&coupon, &stock)?, url))
                }
                None => None,
            };
            Ok((coupon.coupon_id, event))
        })
        .await?;
    if let Some((resource, notify_url)) = event {
        events.send(Event {
            event_type: "COUPON.SEND",
            original_type: "coupon",
            summary: "代金券发放通知",
            notify_url,
            resource,
            v2: None,
        });
    }
    Ok(coupon_id)
}

/// Sets `mchid`'s coupon callback URL (`enabled` false: switched off);
/// returns the update time.
pub(crate) async fn set_callback_url(
    store: &Store,
    mchid: &str,
    notify_url: &str,
    enabled: bool,
    now: i64,
) -> Result<i64, ApiError> {
    let (mchid, notify_url) = (mchid.to_owned(), notify_url.to_owned());
    store
        .transaction(move |db| {
            db.execute(
                "INSERT INTO coupon_callbacks (mchid, notify_url, enabled, update_time) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (mchid) DO UPDATE SET \
             notify_url = excluded.notify_url, enabled = excluded.enabled, \
             update_time = excluded.update_time",
                params![mchid, notify_url, enabled, now],
            )?;
            Ok(now)
        })
        .await
}

fn segment(value: Result<String, ()>, name: &str) -> Result<String, ApiError> {
    match value {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) => Err(missing(Location::Path, &format!("/{name}"))),
        Err(()) => Err(ApiError::param_error(
            Location::Path,
            format!("/{name}"),
            None,
            "cannot decode the path segment",
        )),
    }
}

/// `POST /v3/marketing/favor/users/{openid}/coupons` → `{"coupon_id"}`
async fn send_coupon(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let openid = segment(path.map(|Path(openid)| openid).map_err(|_| ()), "openid")?;
    let request = json_object(&headers, &body, &SEND)?;
    let creator = request
        .get("stock_creator_mchid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    ensure_signer(creator, &merchant)?;
    let coupon_id = send(
        app.store(),
        &app.0.events,
        &merchant.mchid,
        &openid,
        request,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(json!({ "coupon_id": coupon_id })))
}

/// `GET /v3/marketing/favor/users/{openid}/coupons/{coupon_id}?appid=`
async fn query_coupon(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (openid, coupon_id) = match path {
        Ok(Path((openid, coupon_id))) => (Ok(openid), Ok(coupon_id)),
        Err(_) => (Err(()), Err(())),
    };
    let openid = segment(openid, "openid")?;
    let coupon_id = segment(coupon_id, "coupon_id")?;
    let query = Query::parse(raw_query.as_deref())?;
    let appid = query.required("appid")?.to_owned();
    let mchid = merchant.mchid.clone();
    let view = app
        .store()
        .transaction(move |db| {
            let not_found = || {
                ApiError::resource_not_exists(format!(
                    "no coupon {coupon_id:?} of user {openid:?} under appid {appid:?}"
                ))
            };
            let coupon = by_coupon_id(db, &coupon_id)?.ok_or_else(not_found)?;
            if coupon.openid != openid || coupon.appid != appid {
                return Err(not_found());
            }
            let stock = stock_of(db, &coupon.stock_id)?;
            if stock.creator_mchid != mchid {
                return Err(store::not_the_creator(&stock, &mchid));
            }
            view(&coupon, &stock)
        })
        .await?;
    Ok(Json(view))
}

/// `POST /v3/marketing/favor/callbacks` → `{"update_time","notify_url"}`
async fn set_callback(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, &body, &CALLBACK)?;
    let text = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    ensure_merchant(text("mchid"), &merchant)?;
    let notify_url = text("notify_url");
    check_notify_url(notify_url, "/notify_url")?;
    let enabled = request
        .get("switch")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let time = set_callback_url(
        app.store(),
        &merchant.mchid,
        notify_url,
        enabled,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(json!({
        "update_time": clock::format_rfc3339(time),
        "notify_url": notify_url,
    })))
}

/// `GET /v3/marketing/favor/callbacks?mchid=` → `{"mchid","notify_url"}`
async fn query_callback(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw_query.as_deref())?;
    ensure_merchant(query.required("mchid")?, &merchant)?;
    let mchid = merchant.mchid.clone();
    let url: Option<String> = app
        .store()
        .transaction(move |db| {
            Ok(db
                .query_row(
                    "SELECT notify_url FROM coupon_callbacks WHERE mchid = ?1",
                    params![mchid],
                    |row| row.get(0),
                )
                .optional()?)
        })
        .await?;
    let url = url.ok_or_else(|| {
        ApiError::resource_not_exists("no coupon callback URL has been set for this merchant")
    })?;
    Ok(Json(json!({ "mchid": merchant.mchid, "notify_url": url })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::favor::store::Action;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[tokio::test]
    async fn sending_emits_coupon_send_when_a_callback_is_set() {
        let store = Store::open(None).expect("store");
        let (events, mut received) = EventSink::new();
        let stock_request = object(json!({
            "stock_name": "券", "no_cash": false, "stock_type": "NORMAL",
            "available_begin_time": "2030-01-01T00:00:00+08:00",
            "available_end_time": "2030-01-31T00:00:00+08:00",
            "stock_use_rule": {"max_coupons": 2, "max_coupons_per_user": 1},
            "coupon_use_rule": {"fixed_normal_coupon": {"coupon_amount": 100, "transaction_minimum": 200}}
        }));
        let stock_id = store
            .transaction_blocking(move |db| {
                let id = store::create(db, "1900", "s", stock_request, 1)?.stock_id;
                store::apply(db, &id, "1900", Action::Start, 2)?;
                Ok(id)
            })
            .expect("stock");
        let request = |no: &str| {
            object(json!({
                "stock_id": stock_id, "out_request_no": no, "appid": "wx1",
                "stock_creator_mchid": "1900"
            }))
        };
        let first = send(&store, &events, "1900", "o1", request("r1"), 3)
            .await
            .expect("sent");
        assert!(received.try_recv().is_err(), "no callback URL yet");
        set_callback_url(&store, "1900", "https://merchant.example/coupons", true, 4)
            .await
            .expect("set");
        let second = send(&store, &events, "1900", "o2", request("r2"), 5)
            .await
            .expect("sent");
        assert_ne!(first, second);
        let event = received.try_recv().expect("COUPON.SEND");
        assert_eq!(event.event_type, "COUPON.SEND");
        assert_eq!(event.original_type, "coupon");
        assert_eq!(event.notify_url, "https://merchant.example/coupons");
        assert_eq!(event.resource["coupon_id"], second.as_str());
        assert_eq!(event.resource["status"], "SENDED");
        assert_eq!(
            event.resource["normal_coupon_information"],
            json!({"coupon_amount": 100, "transaction_minimum": 200})
        );
        // Idempotent, and no second event.
        assert_eq!(
            send(&store, &events, "1900", "o2", request("r2"), 6)
                .await
                .ok(),
            Some(second)
        );
        assert!(received.try_recv().is_err());
        let error = send(&store, &events, "1900", "o3", request("r3"), 7)
            .await
            .expect_err("budget");
        assert_eq!(error.code, "NOT_ENOUGH");
    }
}
