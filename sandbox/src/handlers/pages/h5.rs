//! The page behind an H5 order's `h5_url`:
//! `GET /_sandbox/h5/checkmweb?prepay_id=…&package=…[&redirect_url=…]`
//! shows the order with a pay button; the button POSTs the same query
//! back, which pays the order and then follows `redirect_url` (303) when
//! the URL was opened with one, as WeChat does, or else shows the result.
//! `package` is accepted and ignored.

use axum::extract::{RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{encode, error_page, escape, fields, order_path, page, yuan};
use crate::clock;
use crate::errors::ApiError;
use crate::handlers::payments::{
    self, H5_PATH, Order, PayOptions, TradeState, TradeType, by_prepay_id,
};
use crate::query::Query;
use crate::state::AppState;

/// What the query names: the order, and where to go once paid.
struct Visit {
    order: Order,
    package: Option<String>,
    redirect_url: Option<String>,
}

/// Reads the query and finds the H5 order; an [`ApiError`] for the error
/// page otherwise.
async fn visit(app: &AppState, raw_query: Option<&str>) -> Result<Visit, ApiError> {
    let query = Query::parse(raw_query)?;
    let prepay_id = query.required("prepay_id")?;
    let redirect_url = query.get("redirect_url").map(str::to_owned);
    if let Some(url) = &redirect_url {
        match reqwest::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            _ => {
                return Err(ApiError::param_error(
                    crate::errors::Location::Query,
                    "/redirect_url",
                    Some(url.as_str().into()),
                    "must be a percent-encoded http:// or https:// URL",
                ));
            }
        }
    }
    let (mchid, id) = (app.0.credentials.mchid.clone(), prepay_id.to_owned());
    let order = app
        .store()
        .transaction(move |db| by_prepay_id(db, &mchid, &id))
        .await?
        .ok_or_else(|| payments::order_not_found(&format!("prepay_id {prepay_id:?}")))?;
    if order.trade_type != TradeType::H5 {
        return Err(ApiError::invalid_request(format!(
            "order {} is a {} order; this page pays H5 (MWEB) orders",
            order.out_trade_no,
            order.trade_type.as_str()
        )));
    }
    Ok(Visit {
        order,
        package: query.get("package").map(str::to_owned),
        redirect_url,
    })
}

/// The query that names this visit again (for the pay form).
fn query_of(visit: &Visit) -> String {
    let mut query = format!(
        "prepay_id={}",
        encode(visit.order.prepay_id.as_deref().unwrap_or_default())
    );
    if let Some(package) = &visit.package {
        query.push_str(&format!("&package={}", encode(package)));
    }
    if let Some(url) = &visit.redirect_url {
        query.push_str(&format!("&redirect_url={}", encode(url)));
    }
    query
}

/// The order's summary: merchant, description, amount, state.
fn summary(order: &Order) -> String {
    fields(&[
        ("商户 merchant", escape(&order.mchid)),
        ("商品 description", escape(order.text("description"))),
        ("out_trade_no", escape(&order.out_trade_no)),
        ("trade_state", super::badge(order.trade_state.as_str())),
    ])
}

/// `GET`: the order and, while it is `NOTPAY`, the pay button.
pub(crate) async fn show(State(app): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let visit = match visit(&app, raw.as_deref()).await {
        Ok(visit) => visit,
        Err(error) => return error_page(error.status, &error.code, &error.message),
    };
    let order = &visit.order;
    let action = if order.trade_state == TradeState::NotPay {
        format!(
            "<form method=\"post\" action=\"{}\"><button class=\"primary\" \
             id=\"wxpay-sandbox-pay\" type=\"submit\">确认支付 Pay {}</button></form>",
            escape(&format!("{H5_PATH}?{}", query_of(&visit))),
            yuan(order.total())
        )
    } else {
        "<p class=\"note\">This order can no longer be paid.</p>".to_owned()
    };
    let after = match &visit.redirect_url {
        Some(url) => format!(
            "<p class=\"note\">After paying: back to <code>{}</code></p>",
            escape(url)
        ),
        None => String::new(),
    };
    let body = format!(
        "<div class=\"card\"><h1>微信支付</h1><div class=\"amount\">{}</div>{}{action}{after}\
         <p class=\"note\"><a href=\"{}\">order page</a></p></div>",
        yuan(order.total()),
        summary(order),
        escape(&order_path(&order.out_trade_no)),
    );
    page(StatusCode::OK, "微信支付", &body, false)
}

/// `POST`: pays the order as the control call does, then 303 to
/// `redirect_url`, or a page with the result.
pub(crate) async fn pay(State(app): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let visit = match visit(&app, raw.as_deref()).await {
        Ok(visit) => visit,
        Err(error) => return error_page(error.status, &error.code, &error.message),
    };
    let paid = payments::pay(
        app.store(),
        &app.0.events,
        &visit.order.mchid,
        &visit.order.out_trade_no,
        PayOptions::default(),
        clock::unix_now(),
    )
    .await;
    let transaction = match paid {
        Ok(transaction) => transaction,
        Err(error) => return error_page(error.status, &error.code, &error.message),
    };
    if let Some(url) = &visit.redirect_url
        && let Ok(location) = HeaderValue::from_str(url)
    {
        return (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
    }
    let mut order = visit.order;
    order.trade_state = TradeState::Success;
    let transaction_id = transaction
        .get("transaction_id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let body = format!(
        "<div class=\"card\"><h1>支付成功</h1><div class=\"amount\">{}</div>{}\
         <p>transaction_id <code>{}</code></p><p class=\"note\"><a href=\"{}\">order page</a></p></div>",
        yuan(order.total()),
        summary(&order),
        escape(transaction_id),
        escape(&order_path(&order.out_trade_no)),
    );
    page(StatusCode::OK, "支付成功", &body, false)
}
