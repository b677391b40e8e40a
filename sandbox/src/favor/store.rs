//! The coupon stocks a sandbox knows, their life cycle, and how they are
//! shown. Kept in memory behind the server's mutex; every method is
//! synchronous so the lock is never held across an `.await`.
//!
//! Life cycle: created `unactivated`; `start` makes it `running`; `pause`
//! takes a running stock to `paused`; `restart` takes a paused stock back to
//! `running`. Any other move is a 400 `INVALID_REQUEST`.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock;
use crate::errors::ApiError;

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
    pub(crate) pause_time: Option<i64>,
    pub(crate) restart_time: Option<i64>,
    /// The validated create request, as sent.
    request: Map<String, Value>,
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

/// All stocks, in creation order.
#[derive(Debug, Default)]
pub(crate) struct StockStore {
    stocks: Vec<Stock>,
    by_id: HashMap<String, usize>,
    by_out_request_no: HashMap<(String, String), usize>,
}

impl StockStore {
    /// Creates a stock from a validated request, or returns the stock
    /// already created under the same (`creator`, `out_request_no`).
    pub(crate) fn create(
        &mut self,
        creator_mchid: &str,
        out_request_no: &str,
        request: Map<String, Value>,
        now: i64,
    ) -> &Stock {
        let key = (creator_mchid.to_owned(), out_request_no.to_owned());
        let index = match self.by_out_request_no.get(&key) {
            Some(index) => *index,
            None => {
                let index = self.stocks.len();
                let stock_id = (FIRST_STOCK_ID + index as u64).to_string();
                self.stocks.push(Stock {
                    stock_id: stock_id.clone(),
                    creator_mchid: creator_mchid.to_owned(),
                    status: StockStatus::Unactivated,
                    create_time: now,
                    start_time: None,
                    pause_time: None,
                    restart_time: None,
                    request,
                });
                self.by_id.insert(stock_id, index);
                self.by_out_request_no.insert(key, index);
                index
            }
        };
        &self.stocks[index]
    }

    pub(crate) fn get(&self, stock_id: &str) -> Option<&Stock> {
        self.by_id.get(stock_id).map(|index| &self.stocks[*index])
    }

    /// Applies `action` to a stock on behalf of `creator_mchid`; returns the
    /// time of the change (Unix seconds).
    pub(crate) fn apply(
        &mut self,
        stock_id: &str,
        creator_mchid: &str,
        action: Action,
        now: i64,
    ) -> Result<i64, ApiError> {
        let index = *self
            .by_id
            .get(stock_id)
            .ok_or_else(|| stock_not_found(stock_id))?;
        let stock = &mut self.stocks[index];
        if stock.creator_mchid != creator_mchid {
            return Err(not_the_creator(stock, creator_mchid));
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
        stock.status = next;
        match action {
            Action::Start => stock.start_time = Some(now),
            Action::Pause => stock.pause_time = Some(now),
            Action::Restart => stock.restart_time = Some(now),
        }
        Ok(now)
    }

    /// The stocks matching `filter` (all pages), and the requested page.
    pub(crate) fn list(&self, filter: &ListFilter<'_>) -> (usize, Vec<&Stock>) {
        let matching: Vec<&Stock> = self
            .stocks
            .iter()
            .filter(|s| s.creator_mchid == filter.creator_mchid)
            .filter(|s| {
                filter
                    .status
                    .is_none_or(|status| s.status.as_str() == status)
            })
            .filter(|s| {
                let created = clock::secs_to_nanos(s.create_time);
                filter.created_from.is_none_or(|from| created >= from)
                    && filter.created_to.is_none_or(|to| created <= to)
            })
            .collect();
        let total = matching.len();
        let skip = filter
            .page
            .checked_mul(filter.limit)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        let take = usize::try_from(filter.limit).unwrap_or(usize::MAX);
        let page = matching.into_iter().skip(skip).take(take).collect();
        (total, page)
    }
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
            distributed_coupons: 0,
            no_cash: field("no_cash"),
            singleitem,
            stock_type: field("stock_type"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(n: usize) -> StockStore {
        let mut store = StockStore::default();
        for i in 0..n {
            store.create("1900", &format!("req-{i}"), Map::new(), 1000 + i as i64);
        }
        store
    }

    #[test]
    fn out_request_no_is_idempotent() {
        let mut store = StockStore::default();
        let first = store.create("1900", "a", Map::new(), 1).stock_id.clone();
        let again = store.create("1900", "a", Map::new(), 2);
        assert_eq!(again.stock_id, first);
        assert_eq!(again.create_time, 1);
        assert_ne!(store.create("1900", "b", Map::new(), 3).stock_id, first);
    }

    #[test]
    fn life_cycle() {
        let mut store = store_with(1);
        let id = "98065001";
        let error = store
            .apply(id, "1900", Action::Pause, 5)
            .expect_err("unactivated");
        assert_eq!(error.code, "INVALID_REQUEST");
        assert!(
            error.message.contains("only a running stock can be paused"),
            "{}",
            error.message
        );
        assert!(store.apply(id, "1900", Action::Restart, 5).is_err());
        assert_eq!(store.apply(id, "1900", Action::Start, 5).ok(), Some(5));
        let error = store
            .apply(id, "1900", Action::Start, 6)
            .expect_err("running");
        assert!(
            error
                .message
                .contains("only an unactivated stock can be started")
        );
        assert!(store.apply(id, "1900", Action::Restart, 6).is_err());
        assert!(store.apply(id, "1900", Action::Pause, 7).is_ok());
        assert!(store.apply(id, "1900", Action::Pause, 7).is_err());
        assert!(store.apply(id, "1900", Action::Restart, 8).is_ok());
        assert_eq!(store.get(id).map(|s| s.status), Some(StockStatus::Running));
        assert_eq!(
            store
                .apply("1", "1900", Action::Start, 9)
                .expect_err("unknown")
                .code,
            "RESOURCE_NOT_EXISTS"
        );
        assert_eq!(
            store
                .apply(id, "1901", Action::Pause, 9)
                .expect_err("other")
                .code,
            "NO_AUTH"
        );
    }

    #[test]
    fn pages_are_numbered_from_zero() {
        let store = store_with(5);
        let filter = |page, limit| ListFilter {
            creator_mchid: "1900",
            status: None,
            created_from: None,
            created_to: None,
            page,
            limit,
        };
        let ids = |(total, page): (usize, Vec<&Stock>)| {
            (
                total,
                page.iter().map(|s| s.stock_id.clone()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            ids(store.list(&filter(0, 2))),
            (5, vec!["98065001".into(), "98065002".into()])
        );
        assert_eq!(ids(store.list(&filter(2, 2))), (5, vec!["98065005".into()]));
        assert_eq!(ids(store.list(&filter(3, 2))), (5, vec![]));
        assert_eq!(ids(store.list(&filter(u64::MAX, 10))), (5, vec![]));
    }
}
