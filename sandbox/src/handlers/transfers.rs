//! Merchant transfers ("商家转账", the user-confirm mode of 2025):
//! `POST /v3/fund-app/mch-transfer/transfer-bills`, the two queries, the
//! cancel, and the payee's half under `/_sandbox/`.
//!
//! A new bill waits for its payee: it is `WAIT_USER_CONFIRM` with a
//! `package_info` the merchant's page hands to
//! `wx.requestMerchantTransfer`. The payee confirms (`POST
//! /_sandbox/request-merchant-transfer` with the page's parameters, or the
//! control call `…/confirm`), and the bill is `SUCCESS`; the control calls
//! `…/expire` and `…/fail` end it `FAIL`; the merchant's cancel ends it
//! `CANCELLED` (answered `CANCELING`, as WeChat Pay's cancel does, since
//! it only accepts the request). Each of these final states queues one
//! `MCHTRANSFER.BILL.FINISHED` callback (`original_type` `mch_payment`,
//! summary `商家转账单据终态通知`) to the bill's `notify_url`, when it has
//! one.
//!
//! `user_name` arrives encrypted (RSA-OAEP, SHA-1) under the key the
//! request's `Wechatpay-Serial` names (the platform public key id or a
//! served certificate's serial); the sandbox decrypts it with that key's
//! private half, keeps the name, and shows it in the queries encrypted
//! under the merchant's public key, as WeChat Pay returns sensitive fields.

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::map_response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::Rng as _;
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::{Map, Value, json};

use crate::auth::AuthenticatedMerchant;
use crate::clock;
use crate::errors::{ApiError, ErrorDetail, Location};
use crate::events::{Event, EventSink};
use crate::handlers::payer::{Params, allow_any_origin, preflight};
use crate::handlers::payments::{check_notify_url, date_digits, path_segment};
use crate::handlers::sensitive;
use crate::state::AppState;
use crate::store::{Store, next_id};
use crate::validation::json_object;
use crate::validation::{Field, Kind};

/// The payee's route, for `wx.requestMerchantTransfer`.
pub(crate) const REQUEST_PATH: &str = "/_sandbox/request-merchant-transfer";

/// The callback's event type, `original_type` and summary.
pub(crate) const EVENT_TYPE: &str = "MCHTRANSFER.BILL.FINISHED";
pub(crate) const ORIGINAL_TYPE: &str = "mch_payment";
pub(crate) const SUMMARY: &str = "商家转账单据终态通知";

/// The least amount a bill may carry, in fen (0.1 yuan).
const MIN_AMOUNT: i64 = 10;
/// From this amount (2,000 yuan) on, `user_name` is required.
const NAME_REQUIRED_FROM: i64 = 200_000;
/// `fail_reason` of a bill its payee left unconfirmed.
const OVERDUE_CLOSE: &str = "OVERDUE_CLOSE";

/// The API routes (signed, authenticated).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v3/fund-app/mch-transfer/transfer-bills",
            post(create_bill),
        )
        .route(
            "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}",
            get(query_by_out_bill_no),
        )
        .route(
            "/v3/fund-app/mch-transfer/transfer-bills/transfer-bill-no/{transfer_bill_no}",
            get(query_by_transfer_bill_no),
        )
        .route(
            "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{out_bill_no}/cancel",
            post(cancel_bill),
        )
}

/// The control routes and the payee's route (unsigned, unauthenticated);
/// the payee's route and the bill info answer cross-origin requests.
pub(crate) fn control_routes() -> Router<AppState> {
    let payee = Router::new()
        .route(
            REQUEST_PATH,
            post(request_merchant_transfer).options(preflight),
        )
        .route(
            "/_sandbox/transfer-bills/package/{package}",
            get(package_info).options(preflight),
        )
        .layer(map_response(allow_any_origin));
    Router::new()
        .route(
            "/_sandbox/transfer-bills/{transfer_bill_no}/confirm",
            post(confirm_control),
        )
        .route(
            "/_sandbox/transfer-bills/{transfer_bill_no}/expire",
            post(expire_control),
        )
        .route(
            "/_sandbox/transfer-bills/{transfer_bill_no}/fail",
            post(fail_control),
        )
        .merge(payee)
}

const fn string(min: usize, max: usize) -> Kind {
    Kind::String {
        min_len: Some(min),
        max_len: Some(max),
    }
}

static REPORT_INFO: Kind = Kind::Object(&[
    Field::required("info_type", string(1, 15)),
    Field::required("info_content", string(1, 32)),
]);

static RECV_STYLE: &[Field] = &[Field::required(
    "type",
    Kind::OneOf(&["CONFIRM_PAGE", "RED_PACKET"]),
)];

/// Body of the create, in the spec's order.
static CREATE: Kind = Kind::Object(&[
    Field::required("appid", string(1, 32)),
    Field::required("out_bill_no", string(5, 32)),
    Field::required(
        "transfer_scene_id",
        Kind::OneOf(&[
            "1000", "1002", "1004", "1005", "1009", "1010", "1011", "1013",
        ]),
    ),
    Field::required("openid", string(1, 64)),
    Field::optional("user_name", string(1, 1024)),
    Field::required(
        "transfer_amount",
        Kind::Integer {
            min: Some(MIN_AMOUNT),
            max: None,
        },
    ),
    Field::required("transfer_remark", string(1, 32)),
    Field::optional("notify_url", string(1, 256)),
    Field::optional("user_recv_perception", string(1, 32)),
    Field::required(
        "transfer_scene_report_infos",
        Kind::Array {
            items: &REPORT_INFO,
            max_items: Some(10),
        },
    ),
    Field::optional("user_recv_style", Kind::Object(RECV_STYLE)),
]);

/// The state of a bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BillState {
    WaitUserConfirm,
    Success,
    Fail,
    Cancelled,
}

impl BillState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BillState::WaitUserConfirm => "WAIT_USER_CONFIRM",
            BillState::Success => "SUCCESS",
            BillState::Fail => "FAIL",
            BillState::Cancelled => "CANCELLED",
        }
    }

    fn parse(text: &str) -> Result<BillState, ApiError> {
        Ok(match text {
            "WAIT_USER_CONFIRM" => BillState::WaitUserConfirm,
            "SUCCESS" => BillState::Success,
            "FAIL" => BillState::Fail,
            "CANCELLED" => BillState::Cancelled,
            other => {
                return Err(ApiError::system_error(format!(
                    "the state database holds a transfer bill in an unknown state {other:?}"
                )));
            }
        })
    }
}

/// A transfer bill as stored.
#[derive(Debug, Clone)]
pub(crate) struct Bill {
    pub(crate) mchid: String,
    pub(crate) out_bill_no: String,
    pub(crate) transfer_bill_no: String,
    pub(crate) appid: String,
    pub(crate) openid: String,
    /// The payee's name in clear, when the merchant gave one.
    pub(crate) user_name: Option<String>,
    pub(crate) transfer_amount: i64,
    pub(crate) transfer_remark: String,
    pub(crate) notify_url: Option<String>,
    /// The validated create body without `user_name` (its ciphertext
    /// differs on every retry).
    pub(crate) request: Map<String, Value>,
    pub(crate) package_info: String,
    pub(crate) state: BillState,
    pub(crate) fail_reason: Option<String>,
    pub(crate) create_time: i64,
    pub(crate) update_time: i64,
}

impl Bill {
    /// What the create answers.
    fn create_answer(&self) -> Value {
        let mut answer = json!({
            "out_bill_no": self.out_bill_no,
            "transfer_bill_no": self.transfer_bill_no,
            "create_time": clock::format_rfc3339(self.create_time),
            "state": self.state.as_str(),
        });
        if let Some(object) = answer.as_object_mut() {
            if self.state == BillState::WaitUserConfirm {
                object.insert(
                    "package_info".into(),
                    Value::from(self.package_info.clone()),
                );
            }
            if let Some(reason) = &self.fail_reason {
                object.insert("fail_reason".into(), Value::from(reason.clone()));
            }
        }
        answer
    }

    /// What the queries answer; `user_name` as given (encrypted by the
    /// caller), when there is one.
    fn view(&self, user_name: Option<String>) -> Value {
        let mut view = json!({
            "mch_id": self.mchid,
            "out_bill_no": self.out_bill_no,
            "transfer_bill_no": self.transfer_bill_no,
            "appid": self.appid,
            "state": self.state.as_str(),
            "transfer_amount": self.transfer_amount,
            "transfer_remark": self.transfer_remark,
            "openid": self.openid,
            "create_time": clock::format_rfc3339(self.create_time),
            "update_time": clock::format_rfc3339(self.update_time),
        });
        if let Some(object) = view.as_object_mut() {
            if let Some(reason) = &self.fail_reason {
                object.insert("fail_reason".into(), Value::from(reason.clone()));
            }
            if let Some(name) = user_name {
                object.insert("user_name".into(), Value::from(name));
            }
        }
        view
    }

    /// The resource of `MCHTRANSFER.BILL.FINISHED`.
    fn notification(&self) -> Value {
        let mut resource = json!({
            "out_bill_no": self.out_bill_no,
            "transfer_bill_no": self.transfer_bill_no,
            "state": self.state.as_str(),
            "mch_id": self.mchid,
            "transfer_amount": self.transfer_amount,
            "openid": self.openid,
            "create_time": clock::format_rfc3339(self.create_time),
            "update_time": clock::format_rfc3339(self.update_time),
        });
        if let (Some(reason), Some(object)) = (&self.fail_reason, resource.as_object_mut()) {
            object.insert("fail_reason".into(), Value::from(reason.clone()));
        }
        resource
    }

    /// The callback for a bill in a final state, if it has a `notify_url`.
    fn event(&self) -> Option<Event> {
        self.notify_url.as_ref().map(|notify_url| Event {
            event_type: EVENT_TYPE,
            original_type: ORIGINAL_TYPE,
            summary: SUMMARY,
            notify_url: notify_url.clone(),
            resource: self.notification(),
            v2: None,
        })
    }
}

const COLUMNS: &str = "mchid, out_bill_no, transfer_bill_no, appid, openid, user_name, \
     transfer_amount, transfer_remark, notify_url, request, package_info, state, fail_reason, \
     create_time, update_time";

fn raw_bill(row: &Row<'_>) -> rusqlite::Result<(Bill, String, String)> {
    Ok((
        Bill {
            mchid: row.get(0)?,
            out_bill_no: row.get(1)?,
            transfer_bill_no: row.get(2)?,
            appid: row.get(3)?,
            openid: row.get(4)?,
            user_name: row.get(5)?,
            transfer_amount: row.get(6)?,
            transfer_remark: row.get(7)?,
            notify_url: row.get(8)?,
            request: Map::new(),
            package_info: row.get(10)?,
            state: BillState::WaitUserConfirm,
            fail_reason: row.get(12)?,
            create_time: row.get(13)?,
            update_time: row.get(14)?,
        },
        row.get(9)?,
        row.get(11)?,
    ))
}

/// The bill matching `column = value` (and `mchid` when given).
fn find(
    db: &Connection,
    mchid: Option<&str>,
    column: &str,
    value: &str,
) -> Result<Option<Bill>, ApiError> {
    let raw = match mchid {
        Some(mchid) => db
            .query_row(
                &format!("SELECT {COLUMNS} FROM transfer_bills WHERE mchid = ?1 AND {column} = ?2"),
                params![mchid, value],
                raw_bill,
            )
            .optional()?,
        None => db
            .query_row(
                &format!("SELECT {COLUMNS} FROM transfer_bills WHERE {column} = ?1"),
                params![value],
                raw_bill,
            )
            .optional()?,
    };
    match raw {
        None => Ok(None),
        Some((mut bill, request, state)) => {
            bill.request = serde_json::from_str(&request)?;
            bill.state = BillState::parse(&state)?;
            Ok(Some(bill))
        }
    }
}

/// 404 `NOT_FOUND`, as WeChat Pay answers a query for an unknown bill.
fn bill_not_found(what: &str) -> ApiError {
    ApiError::not_found(format!("记录不存在: no transfer bill with {what}"))
}

fn by_out_bill_no(db: &Connection, mchid: &str, out_bill_no: &str) -> Result<Bill, ApiError> {
    find(db, Some(mchid), "out_bill_no", out_bill_no)?
        .ok_or_else(|| bill_not_found(&format!("out_bill_no {out_bill_no:?}")))
}

fn by_transfer_bill_no(
    db: &Connection,
    mchid: &str,
    transfer_bill_no: &str,
) -> Result<Bill, ApiError> {
    find(db, Some(mchid), "transfer_bill_no", transfer_bill_no)?
        .ok_or_else(|| bill_not_found(&format!("transfer_bill_no {transfer_bill_no:?}")))
}

/// Moves a bill to a final state now and stores it.
fn finish(
    db: &Connection,
    bill: &mut Bill,
    state: BillState,
    fail_reason: Option<String>,
    now: i64,
) -> Result<(), ApiError> {
    bill.state = state;
    bill.fail_reason = fail_reason;
    bill.update_time = now;
    db.execute(
        "UPDATE transfer_bills SET state = ?1, fail_reason = ?2, update_time = ?3 \
         WHERE transfer_bill_no = ?4",
        params![state.as_str(), bill.fail_reason, now, bill.transfer_bill_no],
    )?;
    Ok(())
}

/// `PARAM_ERROR` unless `out_bill_no` is 5 to 32 letters and digits.
fn check_out_bill_no(value: &str, location: Location) -> Result<(), ApiError> {
    if (5..=32).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ApiError::param_error(
            location,
            "/out_bill_no",
            Some(Value::from(value)),
            "must be 5 to 32 characters of 0-9, A-Z and a-z",
        ))
    }
}

/// A fresh `package_info`: opaque base64, unique.
fn new_package_info(transfer_bill_no: &str) -> String {
    let random: [u8; 24] = rand::rng().random();
    let mut bytes = Vec::with_capacity(64);
    bytes.extend_from_slice(b"WXPAYSANDBOX");
    bytes.extend_from_slice(transfer_bill_no.as_bytes());
    bytes.extend_from_slice(&random);
    BASE64.encode(bytes)
}

/// Creates a bill from a validated body of `mchid` (its `user_name`
/// already decrypted); the same `out_bill_no` again with the same
/// parameters answers the bill as it is now.
pub(crate) async fn create(
    store: &Store,
    mchid: &str,
    mut request: Map<String, Value>,
    user_name: Option<String>,
    now: i64,
) -> Result<Value, ApiError> {
    request.remove("user_name");
    let out_bill_no = request
        .get("out_bill_no")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mchid = mchid.to_owned();
    store
        .transaction(move |db| {
            let mchid = mchid.as_str();
            let text = |name: &str| {
                request
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            if let Some(bill) = find(db, Some(mchid), "out_bill_no", &out_bill_no)? {
                if bill.request != request || bill.user_name != user_name {
                    return Err(ApiError::invalid_request(format!(
                        "商户单号重复: out_bill_no {out_bill_no} was used before with other \
                     parameters; retry with exactly the same parameters, or use a new out_bill_no"
                    )));
                }
                return Ok(bill.create_answer());
            }
            let sequence = next_id(db, "transfer_bill_no", 1)?;
            let transfer_bill_no = format!("1330000{}{sequence:025}", date_digits(now));
            let bill = Bill {
                mchid: mchid.to_owned(),
                out_bill_no: out_bill_no.clone(),
                transfer_bill_no: transfer_bill_no.clone(),
                appid: text("appid"),
                openid: text("openid"),
                user_name: user_name.clone(),
                transfer_amount: request
                    .get("transfer_amount")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
                transfer_remark: text("transfer_remark"),
                notify_url: request
                    .get("notify_url")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                request: request.clone(),
                package_info: new_package_info(&transfer_bill_no),
                state: BillState::WaitUserConfirm,
                fail_reason: None,
                create_time: now,
                update_time: now,
            };
            db.execute(
                &format!(
                    "INSERT INTO transfer_bills ({COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    bill.mchid,
                    bill.out_bill_no,
                    bill.transfer_bill_no,
                    bill.appid,
                    bill.openid,
                    bill.user_name,
                    bill.transfer_amount,
                    bill.transfer_remark,
                    bill.notify_url,
                    Value::Object(request.clone()).to_string(),
                    bill.package_info,
                    bill.state.as_str(),
                    bill.fail_reason,
                    bill.create_time,
                    bill.update_time,
                ],
            )?;
            Ok(bill.create_answer())
        })
        .await
}

/// Confirms the bill as its payee: `WAIT_USER_CONFIRM` → `SUCCESS`, and
/// its callback. 400 `INVALID_REQUEST` in any other state.
pub(crate) async fn confirm(
    store: &Store,
    events: &EventSink,
    mchid: &str,
    transfer_bill_no: &str,
    now: i64,
) -> Result<Value, ApiError> {
    end(
        store,
        events,
        mchid,
        transfer_bill_no,
        now,
        BillState::Success,
        None,
    )
    .await
}

/// Ends a bill still waiting for its payee in `state` (with
/// `fail_reason`), queues its callback, answers the bill as queried.
async fn end(
    store: &Store,
    events: &EventSink,
    mchid: &str,
    transfer_bill_no: &str,
    now: i64,
    state: BillState,
    fail_reason: Option<String>,
) -> Result<Value, ApiError> {
    let (mchid, transfer_bill_no) = (mchid.to_owned(), transfer_bill_no.to_owned());
    let bill = store
        .transaction(move |db| {
            let mut bill = by_transfer_bill_no(db, &mchid, &transfer_bill_no)?;
            if bill.state != BillState::WaitUserConfirm {
                return Err(not_waiting(&bill));
            }
            finish(db, &mut bill, state, fail_reason, now)?;
            Ok(bill)
        })
        .await?;
    if let Some(event) = bill.event() {
        events.send(event);
    }
    Ok(bill.view(None))
}

/// 400 `INVALID_REQUEST` for a bill that no longer waits for its payee.
fn not_waiting(bill: &Bill) -> ApiError {
    ApiError::invalid_request(format!(
        "转账单状态不允许此操作: transfer bill {} (out_bill_no {}) is {}, not WAIT_USER_CONFIRM",
        bill.transfer_bill_no,
        bill.out_bill_no,
        bill.state.as_str()
    ))
}

/// Cancels a bill of `mchid` before its payee confirmed: answers
/// `CANCELING` (the request is accepted), stores `CANCELLED` and queues
/// the callback. A cancelled bill again answers `CANCELLED`; a bill in
/// another final state is a 400 `INVALID_REQUEST`.
pub(crate) async fn cancel(
    store: &Store,
    events: &EventSink,
    mchid: &str,
    out_bill_no: &str,
    now: i64,
) -> Result<Value, ApiError> {
    let (mchid, out_bill_no) = (mchid.to_owned(), out_bill_no.to_owned());
    let (answer, event) = store
        .transaction(move |db| {
            let mut bill = by_out_bill_no(db, &mchid, &out_bill_no)?;
            match bill.state {
                BillState::WaitUserConfirm => {
                    finish(db, &mut bill, BillState::Cancelled, None, now)?;
                    let answer = json!({
                        "out_bill_no": bill.out_bill_no,
                        "transfer_bill_no": bill.transfer_bill_no,
                        "state": "CANCELING",
                        "update_time": clock::format_rfc3339(now),
                    });
                    Ok((answer, bill.event()))
                }
                BillState::Cancelled => Ok((
                    json!({
                        "out_bill_no": bill.out_bill_no,
                        "transfer_bill_no": bill.transfer_bill_no,
                        "state": "CANCELLED",
                        "update_time": clock::format_rfc3339(bill.update_time),
                    }),
                    None,
                )),
                BillState::Success | BillState::Fail => Err(ApiError::invalid_request(format!(
                    "转账单已终态，不允许撤销: transfer bill {} is {}; only a bill waiting for its \
                 payee (WAIT_USER_CONFIRM) can be cancelled",
                    bill.out_bill_no,
                    bill.state.as_str()
                ))),
            }
        })
        .await?;
    if let Some(event) = event {
        events.send(event);
    }
    Ok(answer)
}

/// `user_name` encrypted for the merchant (RSA-OAEP/SHA-1 under its public
/// key, base64), as queries show it.
fn encrypt_for_merchant(app: &AppState, name: &str) -> Result<String, ApiError> {
    let failed = || ApiError::system_error("cannot encrypt user_name for the merchant");
    let pem = pem::parse(&app.0.credentials.merchant_public_key_pem).map_err(|_| failed())?;
    let key = PublicEncryptingKey::from_der(pem.contents()).map_err(|_| failed())?;
    let oaep = OaepPublicEncryptingKey::new(key).map_err(|_| failed())?;
    let mut out = vec![0u8; oaep.ciphertext_size()];
    let ciphertext = oaep
        .encrypt(&OAEP_SHA1_MGF1SHA1, name.as_bytes(), &mut out, None)
        .map_err(|_| failed())?;
    Ok(BASE64.encode(ciphertext))
}

/// A bill as the queries answer it.
fn query_view(app: &AppState, bill: &Bill) -> Result<Value, ApiError> {
    let name = match &bill.user_name {
        Some(name) => Some(encrypt_for_merchant(app, name)?),
        None => None,
    };
    Ok(bill.view(name))
}

/// `POST /v3/fund-app/mch-transfer/transfer-bills`
async fn create_bill(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = json_object(&headers, &body, &CREATE)?;
    let text = |name: &str| request.get(name).and_then(Value::as_str);
    check_out_bill_no(text("out_bill_no").unwrap_or_default(), Location::Body)?;
    if let Some(notify_url) = text("notify_url") {
        check_notify_url(notify_url, "/notify_url")?;
    }
    let amount = request
        .get("transfer_amount")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let user_name = match text("user_name") {
        Some(ciphertext) => Some(sensitive::decrypt(
            &app,
            &headers,
            ciphertext,
            "/user_name",
        )?),
        None if amount >= NAME_REQUIRED_FROM => {
            return Err(ApiError::param_error(
                Location::Body,
                "/user_name",
                None,
                format!(
                    "required when transfer_amount is {NAME_REQUIRED_FROM} fen (2,000 yuan) or \
                     more: the payee's real name, encrypted"
                ),
            ));
        }
        None => None,
    };
    let answer = create(
        app.store(),
        &merchant.mchid,
        request,
        user_name,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(answer))
}

/// `GET …/transfer-bills/out-bill-no/{out_bill_no}`
async fn query_by_out_bill_no(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let out_bill_no = path_segment(path, "out_bill_no")?;
    let mchid = merchant.mchid.clone();
    let bill = app
        .store()
        .transaction(move |db| by_out_bill_no(db, &mchid, &out_bill_no))
        .await?;
    Ok(Json(query_view(&app, &bill)?))
}

/// `GET …/transfer-bills/transfer-bill-no/{transfer_bill_no}`
async fn query_by_transfer_bill_no(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let transfer_bill_no = path_segment(path, "transfer_bill_no")?;
    let mchid = merchant.mchid.clone();
    let bill = app
        .store()
        .transaction(move |db| by_transfer_bill_no(db, &mchid, &transfer_bill_no))
        .await?;
    Ok(Json(query_view(&app, &bill)?))
}

/// `POST …/transfer-bills/out-bill-no/{out_bill_no}/cancel`
async fn cancel_bill(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let out_bill_no = path_segment(path, "out_bill_no")?;
    let answer = cancel(
        app.store(),
        &app.0.events,
        &merchant.mchid,
        &out_bill_no,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(answer))
}

/// `POST /_sandbox/transfer-bills/{transfer_bill_no}/confirm`: the payee
/// confirms; answers the bill, now `SUCCESS`.
async fn confirm_control(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let transfer_bill_no = path_segment(path, "transfer_bill_no")?;
    let mchid = &app.0.credentials.mchid;
    let view = confirm(
        app.store(),
        &app.0.events,
        mchid,
        &transfer_bill_no,
        clock::unix_now(),
    )
    .await?;
    Ok(Json(view))
}

/// `POST /_sandbox/transfer-bills/{transfer_bill_no}/expire`: the payee
/// never confirmed; the bill ends `FAIL` with `OVERDUE_CLOSE`.
async fn expire_control(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let transfer_bill_no = path_segment(path, "transfer_bill_no")?;
    let view = end(
        app.store(),
        &app.0.events,
        &app.0.credentials.mchid,
        &transfer_bill_no,
        clock::unix_now(),
        BillState::Fail,
        Some(OVERDUE_CLOSE.to_owned()),
    )
    .await?;
    Ok(Json(view))
}

static FAIL_BODY: Kind = Kind::Object(&[Field::optional("fail_reason", string(1, 64))]);

/// `POST /_sandbox/transfer-bills/{transfer_bill_no}/fail`: the transfer
/// fails (body optional: `{"fail_reason"}`, default `ACCOUNT_FROZEN`).
async fn fail_control(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let transfer_bill_no = path_segment(path, "transfer_bill_no")?;
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        json_object(&headers, &body, &FAIL_BODY)?
            .get("fail_reason")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let view = end(
        app.store(),
        &app.0.events,
        &app.0.credentials.mchid,
        &transfer_bill_no,
        clock::unix_now(),
        BillState::Fail,
        Some(reason.unwrap_or_else(|| "ACCOUNT_FROZEN".to_owned())),
    )
    .await?;
    Ok(Json(view))
}

/// An error about one field of the payee's parameters.
fn field_error(code: &str, name: &str, value: &str, message: String) -> ApiError {
    let mut error = ApiError::new(StatusCode::BAD_REQUEST, code, message.clone());
    error.detail = Some(Box::new(ErrorDetail {
        field: format!("/{name}"),
        value: Some(Value::from(value)),
        issue: message,
        location: Location::Body,
    }));
    error
}

/// The parameters of `wx.requestMerchantTransfer`, in the order checked
/// (read by [`Params::read`], as the payer's routes read theirs).
const PAYEE_FIELDS: &[(&str, bool)] = &[
    ("mchId", true),
    ("appId", true),
    ("package", true),
    ("openId", false),
];

/// `POST /_sandbox/request-merchant-transfer`: what WeChat does when a
/// page calls `wx.requestMerchantTransfer({mchId, appId, package,
/// openId?})` and the payee confirms. Checks, in order: the body's shape
/// (400 `PARAM_ERROR`); a bill of the sandbox's merchant has that
/// `package` (404 `NOT_FOUND`); `mchId` and `appId` are the bill's (400
/// `APPID_MCHID_NOT_MATCH`); `openId`, when given, is its payee (400
/// `INVALID_REQUEST`); the bill is `WAIT_USER_CONFIRM` (400
/// `INVALID_REQUEST`). Then confirms it as the control call does.
async fn request_merchant_transfer(
    State(app): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let params = Params::read(&body, PAYEE_FIELDS)?;
    let get = |name: &str| params.text(name);
    let package = get("package");
    let mchid = app.0.credentials.mchid.clone();
    let (owner, wanted) = (mchid.clone(), package.to_owned());
    let bill = app
        .store()
        .transaction(move |db| find(db, Some(&owner), "package_info", &wanted))
        .await?
        .ok_or_else(|| {
            bill_not_found(&format!(
                "package {package:?} (pass the package_info the create call answered, unchanged)"
            ))
        })?;
    if get("mchId") != bill.mchid {
        return Err(field_error(
            "APPID_MCHID_NOT_MATCH",
            "mchId",
            get("mchId"),
            format!(
                "mchId {:?} is not the bill's merchant {:?}",
                get("mchId"),
                bill.mchid
            ),
        ));
    }
    if get("appId") != bill.appid {
        return Err(field_error(
            "APPID_MCHID_NOT_MATCH",
            "appId",
            get("appId"),
            format!(
                "appId {:?} is not the bill's appid {:?}",
                get("appId"),
                bill.appid
            ),
        ));
    }
    if let Some(open_id) = params.get("openId")
        && open_id != bill.openid
    {
        return Err(field_error(
            "INVALID_REQUEST",
            "openId",
            open_id,
            format!(
                "openId {open_id:?} is not the bill's payee {:?}",
                bill.openid
            ),
        ));
    }
    if bill.state != BillState::WaitUserConfirm {
        return Err(not_waiting(&bill));
    }
    let view = confirm(
        app.store(),
        &app.0.events,
        &mchid,
        &bill.transfer_bill_no,
        clock::unix_now(),
    )
    .await?;
    tracing::debug!(out_bill_no = %bill.out_bill_no, "transfer confirmed by the payee's side");
    Ok(Json(view))
}

/// `GET /_sandbox/transfer-bills/package/{package}`: what the
/// confirmation sheet shows (404 `NOT_FOUND`).
async fn package_info(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let package = path_segment(path, "package")?;
    let mchid = app.0.credentials.mchid.clone();
    let wanted = package.clone();
    let bill = app
        .store()
        .transaction(move |db| find(db, Some(&mchid), "package_info", &wanted))
        .await?
        .ok_or_else(|| bill_not_found(&format!("package {package:?}")))?;
    Ok(Json(json!({
        "mch_id": bill.mchid,
        "appid": bill.appid,
        "out_bill_no": bill.out_bill_no,
        "transfer_bill_no": bill.transfer_bill_no,
        "transfer_amount": bill.transfer_amount,
        "transfer_remark": bill.transfer_remark,
        "user_recv_perception": bill.request.get("user_recv_perception").cloned().unwrap_or(Value::Null),
        "state": bill.state.as_str(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn request() -> Map<String, Value> {
        object(json!({
            "appid": "wx1", "out_bill_no": "bill00001", "transfer_scene_id": "1000",
            "openid": "o-1", "transfer_amount": 100, "transfer_remark": "r",
            "notify_url": "https://merchant.example/transfer",
            "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "x"}]
        }))
    }

    #[tokio::test]
    async fn a_bill_waits_then_succeeds_once_with_its_callback() {
        let store = Store::open(None).expect("store");
        let (events, mut received) = EventSink::new();
        let answer = create(&store, "1900", request(), None, 10)
            .await
            .expect("created");
        assert_eq!(answer["state"], "WAIT_USER_CONFIRM");
        let package = answer["package_info"].as_str().expect("package").to_owned();
        let again = create(&store, "1900", request(), None, 11)
            .await
            .expect("again");
        assert_eq!(again, answer);
        let mut other = request();
        other.insert("transfer_amount".into(), Value::from(101));
        let error = create(&store, "1900", other, None, 12)
            .await
            .expect_err("other body");
        assert_eq!(error.code, "INVALID_REQUEST");
        let no = answer["transfer_bill_no"].as_str().expect("no").to_owned();
        let view = confirm(&store, &events, "1900", &no, 20)
            .await
            .expect("confirmed");
        assert_eq!(view["state"], "SUCCESS");
        let event = received.try_recv().expect("an event");
        assert_eq!(event.event_type, EVENT_TYPE);
        assert_eq!(event.original_type, "mch_payment");
        assert_eq!(event.resource["state"], "SUCCESS");
        assert_eq!(event.resource["mch_id"], "1900");
        assert_eq!(event.resource["transfer_amount"], 100);
        let error = confirm(&store, &events, "1900", &no, 21)
            .await
            .expect_err("twice");
        assert_eq!(error.code, "INVALID_REQUEST");
        let error = cancel(&store, &events, "1900", "bill00001", 22)
            .await
            .expect_err("final");
        assert_eq!(error.code, "INVALID_REQUEST");
        assert!(received.try_recv().is_err());
        let after = create(&store, "1900", request(), None, 23)
            .await
            .expect("same again");
        assert_eq!(after["state"], "SUCCESS");
        assert!(after.get("package_info").is_none());
        assert!(!package.is_empty());
    }

    #[tokio::test]
    async fn a_cancel_answers_canceling_and_stores_cancelled() {
        let store = Store::open(None).expect("store");
        let (events, mut received) = EventSink::new();
        create(&store, "1900", request(), None, 10)
            .await
            .expect("created");
        let answer = cancel(&store, &events, "1900", "bill00001", 20)
            .await
            .expect("cancel");
        assert_eq!(answer["state"], "CANCELING");
        let event = received.try_recv().expect("an event");
        assert_eq!(event.resource["state"], "CANCELLED");
        let again = cancel(&store, &events, "1900", "bill00001", 21)
            .await
            .expect("again");
        assert_eq!(again["state"], "CANCELLED");
        assert!(received.try_recv().is_err());
        let error = cancel(&store, &events, "1900", "nosuchbill", 22)
            .await
            .expect_err("unknown");
        assert_eq!(error.code, "NOT_FOUND");
    }
}
