//! `GET /_sandbox/`: the sandbox at a glance: orders (linking to their
//! pages), transfer bills (with buttons that play the payee), profit
//! sharing, stocks, refunds and callback attempts, newest first, as plain
//! tables.

use std::time::UNIX_EPOCH;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rusqlite::Connection;
use serde_json::Value;

use super::{badge, error_page, escape, order_path, page, time, yuan};
use crate::callbacks::CallbackAttempt;
use crate::errors::ApiError;
use crate::handlers::payments::{self, Order};
use crate::state::AppState;

/// Each table shows at most this many rows, newest first.
const ROWS: u32 = 200;

/// A stock as the dashboard lists it.
struct StockRow {
    stock_id: String,
    name: String,
    status: String,
    create_time: i64,
    distributed: i64,
}

/// A refund as the dashboard lists it.
struct RefundRow {
    out_refund_no: String,
    refund_id: String,
    out_trade_no: String,
    refund: i64,
    status: String,
    create_time: i64,
}

/// A merchant transfer bill as the dashboard lists it.
struct BillRow {
    out_bill_no: String,
    transfer_bill_no: String,
    amount: i64,
    state: String,
    fail_reason: Option<String>,
    update_time: i64,
}

/// A profit-sharing (or unfreeze) order as the dashboard lists it.
struct SharingRow {
    out_order_no: String,
    transaction_id: String,
    kind: String,
    state: String,
    /// How many receivers, and how much they got in all.
    receivers: (usize, i64),
    finish_time: i64,
}

/// The handler.
pub(crate) async fn show(State(app): State<AppState>) -> Response {
    let mchid = app.0.credentials.mchid.clone();
    let owner = mchid.clone();
    let tables = app
        .store()
        .transaction(move |db| {
            Ok((
                stocks(db)?,
                payments::newest(db, &owner, ROWS)?,
                refunds(db, &owner)?,
                bills(db, &owner)?,
                sharings(db, &owner)?,
            ))
        })
        .await;
    let (stocks, orders, refunds, bills, sharings) = match tables {
        Ok(tables) => tables,
        Err(error) => return error_page(error.status, &error.code, &error.message),
    };
    let mut attempts = app.0.callbacks.attempts();
    attempts.reverse();
    attempts.truncate(ROWS as usize);

    let mut html = format!(
        "<h1>wxpay sandbox</h1><p class=\"note\">Merchant <code>{}</code> · {} · newest \
         first, at most {ROWS} rows each · control routes under <code>/_sandbox/</code>, \
         payer script <a href=\"/_sandbox/jsapi.js\"><code>/_sandbox/jsapi.js</code></a></p>",
        escape(&mchid),
        escape(&app.0.base_url),
    );
    html.push_str(&orders_table(&orders));
    html.push_str(&bills_table(&bills));
    html.push_str(&sharings_table(&sharings));
    html.push_str(&stocks_table(&stocks));
    html.push_str(&refunds_table(&refunds));
    html.push_str("<h2>Callback attempts</h2>");
    if attempts.is_empty() {
        html.push_str("<p class=\"empty\">None yet.</p>");
    } else {
        html.push_str(
            "<table><tr><th>time</th><th>event</th><th>attempt</th><th>order</th>\
             <th>notify_url</th><th>answer</th><th>outcome</th></tr>",
        );
        for attempt in &attempts {
            html.push_str(&attempt_row(attempt, true));
        }
        html.push_str("</table>");
    }
    html.push_str(&routes_list());
    page(StatusCode::OK, "Dashboard", &html, true)
}

/// The sandbox's own routes under `/_sandbox/`, with what each does.
const ROUTES: &[(&str, &str)] = &[
    ("GET /_sandbox/", "this dashboard"),
    (
        "GET /_sandbox/orders/{out_trade_no}",
        "an order's page: QR code, buttons, callbacks",
    ),
    (
        "GET, POST /_sandbox/h5/checkmweb?prepay_id=…[&redirect_url=…]",
        "the page an H5 order's h5_url opens",
    ),
    (
        "GET /_sandbox/jsapi.js",
        "the stand-in for WeChat's payment bridge (WeixinJSBridge, wx.requestPayment)",
    ),
    (
        "POST /_sandbox/request-payment",
        "pay from JSAPI or mini-program invocation parameters",
    ),
    (
        "POST /_sandbox/request-payment/app",
        "pay from the APP SDK's PayReq parameters",
    ),
    (
        "GET /_sandbox/prepay/{prepay_id}",
        "what the payment sheet shows",
    ),
    (
        "POST /_sandbox/transactions/out-trade-no/{out_trade_no}/pay",
        "pay an order outright",
    ),
    (
        "POST /_sandbox/transactions/out-trade-no/{out_trade_no}/expire",
        "let a NOTPAY order expire (CLOSED)",
    ),
    (
        "POST /_sandbox/transactions/out-trade-no/{out_trade_no}/close",
        "close an order",
    ),
    ("GET, PUT /_sandbox/faults", "the faults in force"),
    ("POST /_sandbox/rotate", "rotate the platform certificate"),
    (
        "GET /_sandbox/callbacks",
        "the callback delivery log (JSON)",
    ),
    ("POST /_sandbox/notify", "send any callback"),
    (
        "POST /_sandbox/transfer-bills/{transfer_bill_no}/confirm",
        "the payee confirms a waiting transfer bill (SUCCESS)",
    ),
    (
        "POST /_sandbox/transfer-bills/{transfer_bill_no}/expire, …/fail",
        "a waiting transfer bill ends FAIL",
    ),
    (
        "POST /_sandbox/request-merchant-transfer",
        "confirm from wx.requestMerchantTransfer's parameters",
    ),
    (
        "GET /_sandbox/transfer-bills/package/{package}",
        "what the transfer confirmation sheet shows",
    ),
];

fn routes_list() -> String {
    let mut html = String::from("<h2>Sandbox routes</h2><table>");
    for (route, what) in ROUTES {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            escape(route),
            escape(what)
        ));
    }
    html.push_str("</table>");
    html
}

fn stocks(db: &Connection) -> Result<Vec<StockRow>, ApiError> {
    let mut statement = db.prepare(
        "SELECT stock_id, request, status, create_time, distributed_coupons FROM stocks \
         ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = statement
        .query_map([ROWS], |row| {
            let request: String = row.get(1)?;
            let name = serde_json::from_str::<Value>(&request)
                .ok()
                .and_then(|request| {
                    request
                        .get("stock_name")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            Ok(StockRow {
                stock_id: row.get(0)?,
                name,
                status: row.get(2)?,
                create_time: row.get(3)?,
                distributed: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn refunds(db: &Connection, mchid: &str) -> Result<Vec<RefundRow>, ApiError> {
    let mut statement = db.prepare(
        "SELECT out_refund_no, refund_id, out_trade_no, refund, status, create_time \
         FROM refunds WHERE mchid = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = statement
        .query_map(rusqlite::params![mchid, ROWS], |row| {
            Ok(RefundRow {
                out_refund_no: row.get(0)?,
                refund_id: row.get(1)?,
                out_trade_no: row.get(2)?,
                refund: row.get(3)?,
                status: row.get(4)?,
                create_time: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn bills(db: &Connection, mchid: &str) -> Result<Vec<BillRow>, ApiError> {
    let mut statement = db.prepare(
        "SELECT out_bill_no, transfer_bill_no, transfer_amount, state, fail_reason, update_time \
         FROM transfer_bills WHERE mchid = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = statement
        .query_map(rusqlite::params![mchid, ROWS], |row| {
            Ok(BillRow {
                out_bill_no: row.get(0)?,
                transfer_bill_no: row.get(1)?,
                amount: row.get(2)?,
                state: row.get(3)?,
                fail_reason: row.get(4)?,
                update_time: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn sharings(db: &Connection, mchid: &str) -> Result<Vec<SharingRow>, ApiError> {
    let mut statement = db.prepare(
        "SELECT out_order_no, transaction_id, kind, state, receivers, finish_time \
         FROM profitsharing_orders WHERE mchid = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = statement
        .query_map(rusqlite::params![mchid, ROWS], |row| {
            let receivers: String = row.get(4)?;
            let receivers = serde_json::from_str::<Vec<Value>>(&receivers).unwrap_or_default();
            let total = receivers
                .iter()
                .filter_map(|receiver| receiver.get("amount").and_then(Value::as_i64))
                .sum();
            Ok(SharingRow {
                out_order_no: row.get(0)?,
                transaction_id: row.get(1)?,
                kind: row.get(2)?,
                state: row.get(3)?,
                receivers: (receivers.len(), total),
                finish_time: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A link to the order page of `out_trade_no`.
fn order_link(out_trade_no: &str) -> String {
    format!(
        "<a href=\"{}\"><code>{}</code></a>",
        escape(&order_path(out_trade_no)),
        escape(out_trade_no)
    )
}

fn orders_table(orders: &[Order]) -> String {
    let mut html = String::from("<h2>Orders</h2>");
    if orders.is_empty() {
        html.push_str("<p class=\"empty\">None yet.</p>");
        return html;
    }
    html.push_str(
        "<table><tr><th>out_trade_no</th><th>description</th><th>amount</th>\
         <th>trade_type</th><th>trade_state</th><th>transaction_id</th></tr>",
    );
    for order in orders {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            order_link(&order.out_trade_no),
            escape(order.text("description")),
            yuan(order.total()),
            escape(order.trade_type.as_str()),
            badge(order.trade_state.as_str()),
            escape(order.transaction_id.as_deref().unwrap_or_default()),
        ));
    }
    html.push_str("</table>");
    html
}

fn bills_table(bills: &[BillRow]) -> String {
    let mut html = String::from("<h2>Transfer bills</h2>");
    if bills.is_empty() {
        html.push_str("<p class=\"empty\">None yet.</p>");
        return html;
    }
    html.push_str(
        "<table><tr><th>out_bill_no</th><th>transfer_bill_no</th><th>amount</th>\
         <th>state</th><th>updated</th><th>the payee</th></tr>",
    );
    for bill in bills {
        let base = format!(
            "/_sandbox/transfer-bills/{}",
            escape(&bill.transfer_bill_no)
        );
        let actions = if bill.state == "WAIT_USER_CONFIRM" {
            format!(
                "<button class=\"primary\" data-post=\"{base}/confirm\">Confirm</button> \
                 <button data-post=\"{base}/expire\">Let it expire</button>"
            )
        } else {
            escape(bill.fail_reason.as_deref().unwrap_or_default())
        };
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{actions}</td></tr>",
            escape(&bill.out_bill_no),
            escape(&bill.transfer_bill_no),
            yuan(bill.amount),
            badge(&bill.state),
            escape(&time(bill.update_time)),
        ));
    }
    html.push_str("</table><p id=\"result\" role=\"status\"></p>");
    html
}

fn sharings_table(sharings: &[SharingRow]) -> String {
    let mut html = String::from("<h2>Profit sharing</h2>");
    if sharings.is_empty() {
        html.push_str("<p class=\"empty\">None yet.</p>");
        return html;
    }
    html.push_str(
        "<table><tr><th>out_order_no</th><th>transaction_id</th><th>kind</th><th>state</th>\
         <th>receivers</th><th>finished</th></tr>",
    );
    for sharing in sharings {
        let (count, total) = sharing.receivers;
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td>{count}, {}</td><td>{}</td></tr>",
            escape(&sharing.out_order_no),
            escape(&sharing.transaction_id),
            escape(&sharing.kind),
            badge(&sharing.state),
            yuan(total),
            escape(&time(sharing.finish_time)),
        ));
    }
    html.push_str("</table>");
    html
}

fn stocks_table(stocks: &[StockRow]) -> String {
    let mut html = String::from("<h2>Coupon stocks</h2>");
    if stocks.is_empty() {
        html.push_str("<p class=\"empty\">None yet.</p>");
        return html;
    }
    html.push_str(
        "<table><tr><th>stock_id</th><th>stock_name</th><th>status</th>\
         <th>create_time</th><th>coupons sent</th></tr>",
    );
    for stock in stocks {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&stock.stock_id),
            escape(&stock.name),
            badge(&stock.status),
            escape(&time(stock.create_time)),
            stock.distributed,
        ));
    }
    html.push_str("</table>");
    html
}

fn refunds_table(refunds: &[RefundRow]) -> String {
    let mut html = String::from("<h2>Refunds</h2>");
    if refunds.is_empty() {
        html.push_str("<p class=\"empty\">None yet.</p>");
        return html;
    }
    html.push_str(
        "<table><tr><th>out_refund_no</th><th>refund_id</th><th>order</th><th>refund</th>\
         <th>status</th><th>create_time</th></tr>",
    );
    for refund in refunds {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            escape(&refund.out_refund_no),
            escape(&refund.refund_id),
            order_link(&refund.out_trade_no),
            yuan(refund.refund),
            badge(&refund.status),
            escape(&time(refund.create_time)),
        ));
    }
    html.push_str("</table>");
    html
}

/// One callback attempt as a table row; with `order`, a column linking
/// to the order it is about.
pub(crate) fn attempt_row(attempt: &CallbackAttempt, order: bool) -> String {
    let seconds = attempt
        .started_at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    let answer = match (&attempt.status, &attempt.error) {
        (Some(status), _) => format!(
            "{status} {}",
            escape(attempt.answer.as_deref().unwrap_or_default())
        ),
        (None, Some(error)) => format!("<span class=\"error\">{}</span>", escape(error)),
        (None, None) => String::new(),
    };
    let order = if order {
        let link = attempt
            .out_trade_no
            .as_deref()
            .map(order_link)
            .unwrap_or_default();
        format!("<td>{link}</td>")
    } else {
        String::new()
    };
    format!(
        "<tr><td>{}</td><td>{}<br><code>{}</code></td><td>{}</td>{order}<td><code>{}</code></td>\
         <td>{answer}</td><td>{}</td></tr>",
        escape(&time(seconds)),
        escape(&attempt.event_type),
        escape(&attempt.notification_id),
        attempt.attempt,
        escape(&attempt.notify_url),
        badge(attempt.outcome.as_str()),
    )
}
