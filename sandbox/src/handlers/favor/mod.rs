//! The coupon-stock ("代金券批次") endpoints under `/v3/marketing/favor`:
//! create, start, pause, restart, query one, list; and, in [`coupons`],
//! sending coupons to users, querying them and the coupon callback URL.
//!
//! Handlers run after the request's signature was verified (see
//! [`crate::server`]); they parse and check their input, then work on the
//! stocks in the state database (see [`crate::store`]) through `store`.

mod coupons;
mod schema;
mod store;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth::AuthenticatedMerchant;
use crate::clock;
use crate::errors::{ApiError, Location};
use crate::query::Query;
use crate::state::AppState;
use crate::validation::{self, Kind, json_object, missing};
use store::{Action, ListFilter, StockView};

/// The routes of this module, relative to the server root.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/marketing/favor/coupon-stocks", post(create_stock))
        .route("/v3/marketing/favor/stocks", get(list_stocks))
        .route("/v3/marketing/favor/stocks/{stock_id}", get(query_stock))
        .route(
            "/v3/marketing/favor/stocks/{stock_id}/start",
            post(start_stock),
        )
        .route(
            "/v3/marketing/favor/stocks/{stock_id}/pause",
            post(pause_stock),
        )
        .route(
            "/v3/marketing/favor/stocks/{stock_id}/restart",
            post(restart_stock),
        )
        .merge(coupons::routes())
}

/// Answer of the create endpoint.
#[derive(Serialize)]
struct CreatedStock {
    stock_id: String,
    create_time: String,
}

/// `POST /v3/marketing/favor/coupon-stocks`
async fn create_stock(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CreatedStock>, ApiError> {
    let request = json_object(&headers, &body, &schema::CREATE_STOCK)?;
    let text = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };

    // `FixedNormalCoupon` is what a NORMAL stock is made of.
    if text("stock_type") == "NORMAL" {
        let coupon = request
            .get("coupon_use_rule")
            .and_then(|rule| rule.get("fixed_normal_coupon"))
            .filter(|coupon| !coupon.is_null());
        if coupon.is_none() {
            return Err(ApiError::param_error(
                Location::Body,
                "/coupon_use_rule/fixed_normal_coupon",
                None,
                "required field is missing (stock_type is NORMAL)",
            ));
        }
    }
    let begin = clock::parse_rfc3339_nanos(text("available_begin_time"));
    let end = clock::parse_rfc3339_nanos(text("available_end_time"));
    if let (Some(begin), Some(end)) = (begin, end)
        && end <= begin
    {
        return Err(ApiError::param_error(
            Location::Body,
            "/available_end_time",
            request.get("available_end_time").cloned(),
            "must be later than available_begin_time",
        ));
    }
    for field in ["belong_merchant", "stock_creator_mchid"] {
        if let Some(mchid) = request.get(field).and_then(Value::as_str)
            && mchid != merchant.mchid
        {
            return Err(ApiError::no_auth(format!(
                "{field} {mchid} is not the merchant that signed the request ({})",
                merchant.mchid
            )));
        }
    }

    let out_request_no = text("out_request_no").to_owned();
    let now = clock::unix_now();
    let mchid = merchant.mchid.clone();
    let stock = app
        .store()
        .transaction(move |db| store::create(db, &mchid, &out_request_no, request, now))
        .await?;
    Ok(Json(CreatedStock {
        stock_id: stock.stock_id.clone(),
        create_time: clock::format_rfc3339(stock.create_time),
    }))
}

/// `POST /v3/marketing/favor/stocks/{stock_id}/start`
async fn start_stock(
    app: State<AppState>,
    merchant: Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_state(
        app,
        merchant,
        path,
        &headers,
        &body,
        Action::Start,
        "start_time",
    )
    .await
}

/// `POST /v3/marketing/favor/stocks/{stock_id}/pause`
async fn pause_stock(
    app: State<AppState>,
    merchant: Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_state(
        app,
        merchant,
        path,
        &headers,
        &body,
        Action::Pause,
        "pause_time",
    )
    .await
}

/// `POST /v3/marketing/favor/stocks/{stock_id}/restart`
async fn restart_stock(
    app: State<AppState>,
    merchant: Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_state(
        app,
        merchant,
        path,
        &headers,
        &body,
        Action::Restart,
        "restart_time",
    )
    .await
}

/// Start, pause and restart: `{"stock_creator_mchid"}` in, `{"stock_id",
/// "<time_field>"}` out.
async fn change_state(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: &[u8],
    action: Action,
    time_field: &str,
) -> Result<Response, ApiError> {
    let stock_id = stock_id(path)?;
    let request = json_object(headers, body, &schema::STOCK_ACTION)?;
    let creator = request
        .get("stock_creator_mchid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    ensure_signer(creator, &merchant)?;
    let now = clock::unix_now();
    let (id, creator) = (stock_id.clone(), creator.to_owned());
    let time = app
        .store()
        .transaction(move |db| store::apply(db, &id, &creator, action, now))
        .await?;
    let mut answer = Map::new();
    answer.insert("stock_id".to_owned(), Value::from(stock_id));
    answer.insert(
        time_field.to_owned(),
        Value::from(clock::format_rfc3339(time)),
    );
    Ok(Json(answer).into_response())
}

/// `GET /v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid=`
async fn query_stock(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let stock_id = stock_id(path)?;
    let query = Query::parse(raw_query.as_deref())?;
    let creator = query.required("stock_creator_mchid")?;
    ensure_signer(creator, &merchant)?;
    let id = stock_id.clone();
    let stock = app
        .store()
        .transaction(move |db| store::get(db, &id))
        .await?
        .ok_or_else(|| store::stock_not_found(&stock_id))?;
    if stock.creator_mchid != creator {
        return Err(store::not_the_creator(&stock, creator));
    }
    Ok(Json(StockView::new(&stock)).into_response())
}

/// Answer of the list endpoint.
#[derive(Serialize)]
struct StockPage<'a> {
    total_count: usize,
    limit: u64,
    offset: u64,
    data: Vec<StockView<'a>>,
}

/// The list endpoint's largest page.
const MAX_PAGE_SIZE: u64 = 10;

/// `GET /v3/marketing/favor/stocks?offset=&limit=&stock_creator_mchid=&…`
///
/// `offset` is a page number (the spec's "分页页码"), from 0: the answer
/// holds stocks `offset * limit ..` in creation order.
async fn list_stocks(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    RawQuery(raw_query): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw_query.as_deref())?;
    let offset = query.required_integer("offset", 0, u64::MAX)?;
    let limit = query.required_integer("limit", 1, MAX_PAGE_SIZE)?;
    let creator = query.required("stock_creator_mchid")?;
    let status = query.get("status");
    if let Some(status) = status {
        validation::check(
            &Value::from(status),
            &Kind::OneOf(schema::STOCK_STATUSES),
            "/status",
        )
        .map_err(in_query)?;
    }
    let created_from = query.optional_datetime("create_start_time")?;
    let created_to = query.optional_datetime("create_end_time")?;
    ensure_signer(creator, &merchant)?;

    let (creator, status) = (creator.to_owned(), status.map(str::to_owned));
    let (total_count, page) = app
        .store()
        .transaction(move |db| {
            let filter = ListFilter {
                creator_mchid: &creator,
                status: status.as_deref(),
                created_from,
                created_to,
                page: offset,
                limit,
            };
            store::list(db, &filter)
        })
        .await?;
    let page = StockPage {
        total_count,
        limit,
        offset,
        data: page.iter().map(StockView::new).collect(),
    };
    Ok(Json(page).into_response())
}

/// A body check's `PARAM_ERROR`, relocated to the query string.
pub(crate) fn in_query(mut error: ApiError) -> ApiError {
    if let Some(detail) = error.detail.as_mut() {
        detail.location = Location::Query;
        error.message = format!("query parameter {}: {}", detail.field, detail.issue);
    }
    error
}

/// The `{stock_id}` path segment, percent-decoded once.
fn stock_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    match path {
        Ok(Path(stock_id)) if !stock_id.is_empty() => Ok(stock_id),
        Ok(_) => Err(missing(Location::Path, "/stock_id")),
        Err(rejection) => Err(ApiError::param_error(
            Location::Path,
            "/stock_id",
            None,
            format!("cannot decode the path segment: {}", rejection.body_text()),
        )),
    }
}

/// 403 `NO_AUTH` unless `mchid` is the merchant that signed the request.
pub(crate) fn ensure_signer(mchid: &str, merchant: &AuthenticatedMerchant) -> Result<(), ApiError> {
    if mchid == merchant.mchid {
        Ok(())
    } else {
        Err(ApiError::no_auth(format!(
            "stock_creator_mchid {mchid} is not the merchant that signed the request ({})",
            merchant.mchid
        )))
    }
}
