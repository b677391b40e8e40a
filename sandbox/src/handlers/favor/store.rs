//! The coupon stocks a sandbox knows, their life cycle, and how they are
//! shown. Kept in the `stocks` table of the [`crate::store::Store`]; every
//! function works inside one of its transactions.
//!
//! Life cycle: created `unactivated`; `start` makes it `running`; `pause`
//! takes a running stock to `paused`; `restart` takes a paused stock back to
//! `running`. Any other move is a 400 `INVALID_REQUEST`.

use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock;
use crate::errors::ApiError;
use crate::store::next_id;

/// The first stock id handed out; later ones count up from it (the spec's
/// example id is `98065001`).
const FIRST_STOCK_ID: u64 = 98_065_001;

/// `FavorStockStatus`, the states this sandbox reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StockStatus {
    Unactivated,
    Running,
    Paused,
}

impl StockStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StockStatus::Unactivated => "unactivated",
            StockStatus::Running => "running",
            StockStatus::Paused => "paused",
        }
    }

    fn parse(text: &str) -> Result<StockStatus, ApiError> {
        match text {
            "unactivated" => Ok(StockStatus::Unactivated),
            "running" => Ok(StockStatus::Running),
            "paused" => Ok(StockStatus::Paused),
            other => Err(ApiError::system_error(format!(
                "the state database holds an unknown stock status {other:?}"
            ))),
        }
    }
}

/// A state change requested through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Start,
    Pause,
    Restart,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Pause => "pause",
            Action::Restart => "restart",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Action::Start => "started",
            Action::Pause => "paused",
            Action::Restart => "restarted",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Action::Start => "start_time",
            Action::Pause => "pause_time",
            Action::Restart => "restart_time",
        }
    }

    /// The state an action needs, with its article, and the state it leads to.
    fn transition(self) -> (StockStatus, &'static str, StockStatus) {
        match self {
            Action::Start => (StockStatus::Unactivated, "an", StockStatus::Running),
            Action::Pause => (StockStatus::Running, "a", StockStatus::Paused),
            Action::Restart => (StockStatus::Paused, "a", StockStatus::Running),
        }
    }
}

/// One coupon stock.
#[derive(Debug, Clone)]
pub(crate) struct Stock {
    pub(crate) stock_id: String,
    pub(crate) creator_mchid: String,
    pub(crate) status: StockStatus,
    /// Unix seconds.
    pub(crate) create_time: i64,
    pub(crate) start_time: Option<i64>,
    /// Coupons sent from it so far.
    pub(crate) distributed_coupons: u64,
    /// The validated create request, as sent.
    pub(crate) request: Map<String, Value>,
}

impl Stock {
    /// `stock_use_rule.<name>` as a count (the create schema made it an
    /// integer of at least 1).
    pub(crate) fn use_rule(&self, name: &str) -> u64 {
        self.request
            .get("stock_use_rule")
            .and_then(|rule| rule.get(name))
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX)
    }
}

/// The filters of the list endpoint.
#[derive(Debug)]
pub(crate) struct ListFilter<'a> {
    pub(crate) creator_mchid: &'a str,
    pub(crate) status: Option<&'a str>,
    /// Inclusive bounds on `create_time`, nanoseconds since the epoch.
    pub(crate) created_from: Option<i128>,
    pub(crate) created_to: Option<i128>,
    /// Page number, from 0.
    pub(crate) page: u64,
    /// Page size.
    pub(crate) limit: u64,
}

const COLUMNS: &str =
    "stock_id, creator_mchid, status, create_time, start_time, distributed_coupons, request";

/// A row of `SELECT {COLUMNS}`, its JSON still text.
type RawStock = (Stock, String, String);

fn raw_stock(row: &Row<'_>) -> rusqlite::Result<RawStock> {
    let distributed: i64 = row.get(5)?;
    Ok((
        Stock {
            stock_id: row.get(0)?,
            creator_mchid: row.get(1)?,
            status: StockStatus::Unactivated,
            create_time: row.get(3)?,
            start_time: row.get(4)?,
            distributed_coupons: u64::try_from(distributed).unwrap_or(0),
            request: Map::new(),
        },
        row.get(2)?,
        row.get(6)?,
    ))
}

fn finish((mut stock, status, request): RawStock) -> Result<Stock, ApiError> {
    stock.status = StockStatus::parse(&status)?;
    stock.request = serde_json::from_str(&request)?;
    Ok(stock)
}

/// Creates a stock from a validated request, or returns the stock already
/// created under the same (`creator`, `out_request_no`).
pub(crate) fn create(
    db: &Connection,
    creator_mchid: &str,
    out_request_no: &str,
    request: Map<String, Value>,
    now: i64,
) -> Result<Stock, ApiError> {
    let existing: Option<String> = db
        .query_row(
            "SELECT stock_id FROM stocks WHERE creator_mchid = ?1 AND out_request_no = ?2",
            params![creator_mchid, out_request_no],
            |row| row.get(0),
        )
        .optional()?;
    let stock_id = match existing {
        Some(stock_id) => stock_id,
        None => {
            let stock_id = next_id(db, "stock_id", FIRST_STOCK_ID)?.to_string();
            db.execute(
                "INSERT INTO stocks (stock_id, creator_mchid, out_request_no, status, \
                 create_time, request) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    stock_id,
                    creator_mchid,
                    out_request_no,
                    StockStatus::Unactivated.as_str(),
                    now,
                    Value::Object(request).to_string()
                ],
            )?;
            stock_id
        }
    };
    get(db, &stock_id)?.ok_or_else(|| stock_not_found(&stock_id))
}

/// The stock with this id, if any.
pub(crate) fn get(db: &Connection, stock_id: &str) -> Result<Option<Stock>, ApiError> {
    db.query_row(
        &format!("SELECT {COLUMNS} FROM stocks WHERE stock_id = ?1"),
        params![stock_id],
        raw_stock,
    )
    .optional()?
    .map(finish)
    .transpose()
}

/// Applies `action` to a stock on behalf of `creator_mchid`; returns the
/// time of the change (Unix seconds).
pub(crate) fn apply(
    db: &Connection,
    stock_id: &str,
    creator_mchid: &str,
    action: Action,
    now: i64,
) -> Result<i64, ApiError> {
    let stock = get(db, stock_id)?.ok_or_else(|| stock_not_found(stock_id))?;
    if stock.creator_mchid != creator_mchid {
        return Err(not_the_creator(&stock, creator_mchid));
    }
    let (needed, article, next) = action.transition();
    if stock.status != needed {
        return Err(ApiError::invalid_request(format!(
            "cannot {} stock {stock_id}: its status is {}, and only {article} {} stock can \
             be {}",
            action.verb(),
            stock.status.as_str(),
            needed.as_str(),
            action.past(),
        )));
    }
    db.execute(
        &format!(
            "UPDATE stocks SET status = ?1, {} = ?2 WHERE stock_id = ?3",
            action.column()
        ),
        params![next.as_str(), now, stock_id],
    )?;
    Ok(now)
}

/// Counts one more coupon sent from the stock.
pub(crate) fn count_coupon(db: &Connection, stock_id: &str) -> Result<(), ApiError> {
    db.execute(
        "UPDATE stocks SET distributed_coupons = distributed_coupons + 1 WHERE stock_id = ?1",
        params![stock_id],
    )?;
    Ok(())
}

/// The stocks matching `filter` (all pages), and the requested page.
pub(crate) fn list(
    db: &Connection,
    filter: &ListFilter<'_>,
) -> Result<(usize, Vec<Stock>), ApiError> {
    let mut statement = db.prepare(&format!(
        "SELECT {COLUMNS} FROM stocks WHERE creator_mchid = ?1 ORDER BY seq"
    ))?;
    let rows = statement.query_map(params![filter.creator_mchid], raw_stock)?;
    let mut matching = Vec::new();
    for row in rows {
        let stock = finish(row?)?;
        let created = clock::secs_to_nanos(stock.create_time);
        if filter
            .status
            .is_none_or(|status| stock.status.as_str() == status)
            && filter.created_from.is_none_or(|from| created >= from)
            && filter.created_to.is_none_or(|to| created <= to)
        {
            matching.push(stock);
        }
    }
    let total = matching.len();
    let skip = filter
        .page
        .checked_mul(filter.limit)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let take = usize::try_from(filter.limit).unwrap_or(usize::MAX);
    let page = matching.into_iter().skip(skip).take(take).collect();
    Ok((total, page))
}

/// 404 `RESOURCE_NOT_EXISTS` for an unknown stock id.
pub(crate) fn stock_not_found(stock_id: &str) -> ApiError {
    ApiError::resource_not_exists(format!("stock {stock_id:?} does not exist"))
}

/// 403 `NO_AUTH` when a merchant names a stock it did not create.
pub(crate) fn not_the_creator(stock: &Stock, creator_mchid: &str) -> ApiError {
    ApiError::no_auth(format!(
        "stock {} was created by merchant {}, not {creator_mchid}",
        stock.stock_id, stock.creator_mchid
    ))
}

/// A stock as the query and list endpoints show it: `StockBase`,
/// `StockOwner`, `description` and `distributed_coupons`.
#[derive(Debug, Serialize)]
pub(crate) struct StockView<'a> {
    stock_id: &'a str,
    stock_creator_mchid: &'a str,
    stock_name: &'a Value,
    status: &'static str,
    description: &'a Value,
    create_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time: Option<String>,
    stock_use_rule: &'a Value,
    available_begin_time: &'a Value,
    available_end_time: &'a Value,
    distributed_coupons: u64,
    no_cash: &'a Value,
    singleitem: bool,
    stock_type: &'a Value,
}

static EMPTY: Value = Value::String(String::new());

impl<'a> StockView<'a> {
    pub(crate) fn new(stock: &'a Stock) -> Self {
        let field = |name: &str| stock.request.get(name).unwrap_or(&Value::Null);
        let description = stock
            .request
            .get("pattern_info")
            .and_then(|p| p.get("description"))
            .filter(|d| d.is_string())
            .unwrap_or(&EMPTY);
        let singleitem = stock
            .request
            .get("coupon_use_rule")
            .and_then(|r| r.get("available_items"))
            .and_then(Value::as_array)
            .is_some_and(|items| !items.is_empty());
        StockView {
            stock_id: &stock.stock_id,
            stock_creator_mchid: &stock.creator_mchid,
            stock_name: field("stock_name"),
            status: stock.status.as_str(),
            description,
            create_time: clock::format_rfc3339(stock.create_time),
            start_time: stock.start_time.map(clock::format_rfc3339),
            stock_use_rule: field("stock_use_rule"),
            available_begin_time: field("available_begin_time"),
            available_end_time: field("available_end_time"),
            distributed_coupons: stock.distributed_coupons,
            no_cash: field("no_cash"),
            singleitem,
            stock_type: field("stock_type"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store_with(n: usize) -> Store {
        let store = Store::open(None).expect("store");
        store
            .transaction_blocking(move |db| {
                for i in 0..n {
                    create(db, "1900", &format!("req-{i}"), Map::new(), 1000 + i as i64)?;
                }
                Ok(())
            })
            .expect("created");
        store
    }

    #[test]
    fn out_request_no_is_idempotent() {
        let store = Store::open(None).expect("store");
        store
            .transaction_blocking(move |db| {
                let first = create(db, "1900", "a", Map::new(), 1)?.stock_id;
                let again = create(db, "1900", "a", Map::new(), 2)?;
                assert_eq!(again.stock_id, first);
                assert_eq!(again.create_time, 1);
                assert_ne!(create(db, "1900", "b", Map::new(), 3)?.stock_id, first);
                Ok(())
            })
            .expect("ok");
    }

    #[test]
    fn life_cycle() {
        let store = store_with(1);
        let id = "98065001";
        let apply = |mchid: &str, action, now| {
            let mchid = mchid.to_owned();
            store.transaction_blocking(move |db| apply(db, id, &mchid, action, now))
        };
        let error = apply("1900", Action::Pause, 5).expect_err("unactivated");
        assert_eq!(error.code, "INVALID_REQUEST");
        assert!(
            error.message.contains("only a running stock can be paused"),
            "{}",
            error.message
        );
        assert!(apply("1900", Action::Restart, 5).is_err());
        assert_eq!(apply("1900", Action::Start, 5).ok(), Some(5));
        let error = apply("1900", Action::Start, 6).expect_err("running");
        assert!(
            error
                .message
                .contains("only an unactivated stock can be started")
        );
        assert!(apply("1900", Action::Restart, 6).is_err());
        assert!(apply("1900", Action::Pause, 7).is_ok());
        assert!(apply("1900", Action::Pause, 7).is_err());
        assert!(apply("1900", Action::Restart, 8).is_ok());
        let stock = store
            .transaction_blocking(move |db| get(db, id))
            .expect("get");
        assert_eq!(stock.map(|s| s.status), Some(StockStatus::Running));
        let unknown =
            store.transaction_blocking(move |db| super::apply(db, "1", "1900", Action::Start, 9));
        assert_eq!(unknown.expect_err("unknown").code, "RESOURCE_NOT_EXISTS");
        assert_eq!(
            apply("1901", Action::Pause, 9).expect_err("other").code,
            "NO_AUTH"
        );
    }

    #[test]
    fn pages_are_numbered_from_zero() {
        let store = store_with(5);
        let ids = |page, limit| {
            let filter = ListFilter {
                creator_mchid: "1900",
                status: None,
                created_from: None,
                created_to: None,
                page,
                limit,
            };
            let (total, page) = store
                .transaction_blocking(move |db| list(db, &filter))
                .expect("list");
            (
                total,
                page.iter().map(|s| s.stock_id.clone()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(ids(0, 2), (5, vec!["98065001".into(), "98065002".into()]));
        assert_eq!(ids(2, 2), (5, vec!["98065005".into()]));
        assert_eq!(ids(3, 2), (5, vec![]));
        assert_eq!(ids(u64::MAX, 10), (5, vec![]));
    }
}
