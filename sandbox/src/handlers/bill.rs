//! The bill endpoints: applying for a trade or fund flow bill, and the
//! download those answers point at.
//!
//! Bills are synthetic: each is generated from its date and the merchant
//! (the same request gives the same bill), in WeChat Pay's CSV layout.
//! `GET /v3/billdownload/file` is the one answer the sandbox does not sign,
//! as WeChat Pay does not sign files.

use std::fmt::Write as _;
use std::io::Write as _;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use flate2::Compression;
use flate2::write::GzEncoder;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Value, json};
use time::Date;
use time::macros::format_description;

use crate::auth::AuthenticatedMerchant;
use crate::clock;
use crate::errors::{ApiError, Location};
use crate::handlers::media::hex;
use crate::query::Query;
use crate::random::random_alphanumeric;
use crate::state::AppState;

/// Where bills are downloaded.
pub(crate) const DOWNLOAD_PATH: &str = "/v3/billdownload/file";

/// How long a download URL works, as WeChat Pay's do.
const URL_LIFETIME_SECS: i64 = 300;

/// The routes of this module.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/bill/tradebill", get(trade_bill))
        .route("/v3/bill/fundflowbill", get(fund_flow_bill))
        .route(DOWNLOAD_PATH, get(download))
}

/// `GET /v3/bill/tradebill?bill_date=&bill_type=&tar_type=`
async fn trade_bill(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref())?;
    let date = bill_date(&query)?;
    match query.get("bill_type").unwrap_or("ALL") {
        "ALL" => {}
        "SUCCESS" | "REFUND" | "RECHARGE_REFUND" | "ALL_SPECIAL" | "SUC_SPECIAL"
        | "REF_SPECIAL" => {
            return Err(ApiError::invalid_request(
                "the sandbox generates trade bills of type ALL only",
            ));
        }
        other => return Err(not_in_enum("bill_type", other)),
    }
    let gzip = tar_type(&query)?;
    let text = trade_bill_csv(date, &merchant.mchid);
    Ok(Json(issue(&app, text, gzip, &merchant.mchid).await?))
}

/// `GET /v3/bill/fundflowbill?bill_date=&account_type=&tar_type=`
async fn fund_flow_bill(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref())?;
    let date = bill_date(&query)?;
    let account = query.get("account_type").unwrap_or("BASIC");
    if !matches!(account, "BASIC" | "OPERATION" | "FEES") {
        return Err(not_in_enum("account_type", account));
    }
    let gzip = tar_type(&query)?;
    let text = fund_flow_csv(date, account);
    Ok(Json(issue(&app, text, gzip, &merchant.mchid).await?))
}

/// `GET /v3/billdownload/file?token=`: the bill, not signed; gzip when
/// applied for with `tar_type=GZIP`.
async fn download(
    State(app): State<AppState>,
    Extension(merchant): Extension<AuthenticatedMerchant>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref())?;
    let token = query.required("token")?.to_owned();
    let now = clock::unix_now();
    let issued: Option<(String, bool, String)> = app
        .store()
        .transaction(move |db| {
            forget_expired(db, now)?;
            Ok(db
                .query_row(
                    "SELECT text, gzip, mchid FROM bills WHERE token = ?1",
                    params![token],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?)
        })
        .await?;
    let (text, gzip, mchid) = issued.ok_or_else(|| {
        ApiError::resource_not_exists(
            "no bill for this token: it was never issued or has expired (download URLs live 5 minutes)",
        )
    })?;
    if mchid != merchant.mchid {
        return Err(ApiError::no_auth(
            "this bill was issued to another merchant",
        ));
    }
    let mut bytes = Bytes::from(text.into_bytes());
    if app.faults().corrupt_bill {
        bytes = crate::signing::tamper(&bytes);
    }
    if gzip {
        bytes = Bytes::from(compress(&bytes));
        Ok(([(CONTENT_TYPE, "application/x-gzip")], bytes).into_response())
    } else {
        Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], bytes).into_response())
    }
}

/// Forgets the download tokens older than [`URL_LIFETIME_SECS`].
fn forget_expired(db: &Connection, now: i64) -> Result<(), ApiError> {
    db.execute(
        "DELETE FROM bills WHERE issued_at < ?1",
        params![now - URL_LIFETIME_SECS],
    )?;
    Ok(())
}

/// Stores `text` behind a fresh token and answers its hash and URL.
async fn issue(app: &AppState, text: String, gzip: bool, mchid: &str) -> Result<Value, ApiError> {
    let hash = hex(digest(&SHA1_FOR_LEGACY_USE_ONLY, text.as_bytes()).as_ref());
    let token = random_alphanumeric(&mut rand::rng(), 48);
    let download_url = format!(
        "{}{DOWNLOAD_PATH}?token={token}{}",
        app.0.base_url,
        if gzip { "&tartype=gzip" } else { "" }
    );
    let now = clock::unix_now();
    let mchid = mchid.to_owned();
    app.store()
        .transaction(move |db| {
            forget_expired(db, now)?;
            db.execute(
                "INSERT INTO bills (token, text, gzip, mchid, issued_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token, text, gzip, mchid, now],
            )?;
            Ok(())
        })
        .await?;
    Ok(json!({ "hash_type": "SHA1", "hash_value": hash, "download_url": download_url }))
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// The required `bill_date`, a `YYYY-MM-DD` calendar date.
fn bill_date(query: &Query) -> Result<Date, ApiError> {
    let text = query.required("bill_date")?;
    Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
        ApiError::param_error(
            Location::Query,
            "/bill_date",
            Some(Value::from(text)),
            "must be a date written YYYY-MM-DD",
        )
    })
}

/// `tar_type`: absent, or `GZIP`.
fn tar_type(query: &Query) -> Result<bool, ApiError> {
    match query.get("tar_type") {
        None => Ok(false),
        Some("GZIP") => Ok(true),
        Some(other) => Err(not_in_enum("tar_type", other)),
    }
}

fn not_in_enum(name: &str, value: &str) -> ApiError {
    ApiError::param_error(
        Location::Query,
        format!("/{name}"),
        Some(Value::from(value)),
        "not one of the allowed values",
    )
}

/// `12345` fen as `123.45`.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// A fee in 1e-5 yuan as `0.60000`.
fn fee(units: i64) -> String {
    format!("{}.{:05}", units / 100_000, units % 100_000)
}

/// `date` as the bills write it in ids (`YYYYMMDD`) and in times
/// (`YYYY-MM-DD`).
fn day_and_iso(date: Date) -> (String, String) {
    let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
    (
        format!("{year:04}{month:02}{day:02}"),
        format!("{year:04}-{month:02}-{day:02}"),
    )
}

/// The trade bill (type ALL) of `date`: three payments and a refund of the
/// second, then the summary. CRLF line ends, as WeChat Pay writes them.
pub(crate) fn trade_bill_csv(date: Date, mchid: &str) -> String {
    let (day, iso) = day_and_iso(date);
    let seed = i64::from(date.day()) + i64::from(u8::from(date.month()));
    let mut csv = String::from(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n",
    );
    let (mut settlement, mut refunded, mut fees, mut ordered) = (0i64, 0i64, 0i64, 0i64);
    let mut rows = 0;
    for n in 1..=3i64 {
        let amount = seed * 100 + n * 37;
        let fee_units = amount * 6;
        settlement += amount;
        ordered += amount;
        fees += fee_units;
        rows += 1;
        let _ = write!(
            csv,
            "`{iso} {:02}:{:02}:07,`wxd678efh567hg6787,`{mchid},`0,`,`4200000{day}{n:010},`sandbox{day}{n:04},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`{},`0.00,`0,`0,`0.00,`0.00,`,`,`沙箱商品{n},`attach-{n},`{},`0.60%,`{},`0.00,`\r\n",
            8 + n,
            n * 7,
            yuan(amount),
            fee(fee_units),
            yuan(amount),
        );
    }
    // A refund of the second payment.
    let refund = seed * 100 + 2 * 37;
    refunded += refund;
    rows += 1;
    let _ = write!(
        csv,
        "`{iso} 15:30:00,`wxd678efh567hg6787,`{mchid},`0,`,`4200000{day}{:010},`sandbox{day}{:04},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5030000{day}{:010},`refund{day}0001,`{},`0.00,`ORIGINAL,`SUCCESS,`沙箱商品2,`attach-2,`0.00000,`0.60%,`0.00,`{},`\r\n",
        2,
        2,
        1,
        yuan(refund),
        yuan(refund),
    );
    let _ = write!(
        csv,
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n`{rows},`{},`{},`0.00,`{},`{},`{}\r\n",
        yuan(settlement),
        yuan(refunded),
        fee(fees),
        yuan(ordered),
        yuan(refunded),
    );
    csv
}

/// The fund flow bill of `date` for `account`: two entries and the summary.
pub(crate) fn fund_flow_csv(date: Date, account: &str) -> String {
    let (day, iso) = day_and_iso(date);
    let income = 10_000 + i64::from(date.day());
    let expense = 37;
    format!(
        "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\r\n\
         `{iso} 04:21:23,`4200000{day}0000000001,`1900009231{day}0000000001,`交易,`交易,`收入,`{},`{},`system,`{account},`sandbox{day}0001\r\n\
         `{iso} 15:30:00,`5030000{day}0000000001,`1900009231{day}0000000002,`退款,`退款,`支出,`{},`{},`system,`{account},`refund{day}0001\r\n\
         资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n\
         `2,`1,`{},`1,`{}\r\n",
        yuan(income),
        yuan(income),
        yuan(expense),
        yuan(income - expense),
        yuan(income),
        yuan(expense),
    )
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn amounts_are_written_like_bills() {
        assert_eq!(yuan(12_345), "123.45");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(fee(60_000), "0.60000");
        assert_eq!(fee(222), "0.00222");
    }

    #[test]
    fn trade_bills_are_deterministic_and_shaped_like_wechat_pay_s() {
        let bill = trade_bill_csv(date!(2019 - 06 - 11), "1900009191");
        assert_eq!(bill, trade_bill_csv(date!(2019 - 06 - 11), "1900009191"));
        let lines: Vec<&str> = bill.split("\r\n").collect();
        assert_eq!(lines.len(), 8, "{bill}");
        assert!(lines[0].starts_with("交易时间,公众账号ID,商户号,"));
        for row in &lines[1..5] {
            assert_eq!(row.split(',').count(), 27, "{row}");
            assert!(row.split(',').all(|value| value.starts_with('`')), "{row}");
        }
        assert!(lines[1].starts_with("`2019-06-11 09:07:07,"));
        assert!(lines[5].starts_with("总交易单数,"));
        // 17.37 + 17.74 + 18.11 yuan; the refund is 17.74.
        assert_eq!(lines[6], "`4,`53.22,`17.74,`0.00,`0.31932,`53.22,`17.74");
        assert_eq!(lines[7], "");
    }

    #[test]
    fn fund_flow_bills_have_their_own_columns() {
        let bill = fund_flow_csv(date!(2019 - 06 - 11), "BASIC");
        let lines: Vec<&str> = bill.split("\r\n").collect();
        assert!(lines[0].starts_with("记账时间,"));
        assert_eq!(lines[1].split(',').count(), 11);
        assert_eq!(lines[4], "`2,`1,`100.11,`1,`0.37");
    }
}
