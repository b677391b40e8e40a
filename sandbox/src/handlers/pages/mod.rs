//! The pages a person looks at: the dashboard, an order's cashier page,
//! the H5 payer page behind `h5_url`, and `jsapi.js`, the stand-in for
//! WeChat's payment bridge that a merchant's page includes.
//!
//! Everything is served by the sandbox itself with no external assets
//! (the style sheet and scripts are inlined, QR codes are inline SVG), so
//! the pages work offline. Every value put into HTML goes through
//! [`escape`]; ids in URLs through [`encode`]. Like the control endpoint,
//! these routes are unauthenticated and unsigned.

mod dashboard;
mod h5;
mod order;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::clock;
use crate::handlers::payments::H5_PATH;
use crate::state::AppState;

/// The pages' style sheet, inlined in each.
const STYLE: &str = include_str!("style.css");

/// The order page's button script, inlined.
const ACTIONS_JS: &str = include_str!("actions.js");

/// `GET /_sandbox/jsapi.js`.
const JSAPI_JS: &str = include_str!("jsapi.js");

/// The routes of the pages.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_sandbox", get(dashboard::show))
        .route("/_sandbox/", get(dashboard::show))
        .route("/_sandbox/orders/{out_trade_no}", get(order::show))
        .route(H5_PATH, get(h5::show).post(h5::pay))
        .route("/_sandbox/jsapi.js", get(jsapi_js))
}

/// `GET /_sandbox/jsapi.js`: the payment bridge, as JavaScript.
async fn jsapi_js() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        JSAPI_JS,
    )
        .into_response()
}

/// `text` with `&`, `<`, `>`, `"` and `'` as character references: safe
/// in element content and in quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// What [`encode`] leaves as it is: RFC 3986's unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` percent-encoded as one path segment or query value.
pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// The order page of `out_trade_no`, as a path.
pub(crate) fn order_path(out_trade_no: &str) -> String {
    format!("/_sandbox/orders/{}", encode(out_trade_no))
}

/// An amount in fen as yuan: `¥1.00`.
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
}

/// A Unix time as RFC 3339 in China Standard Time.
pub(crate) fn time(unix: i64) -> String {
    clock::format_rfc3339(unix)
}

/// A whole page: `title` (escaped here) and `body` (HTML, escaped by the
/// caller), with the style sheet and, when `script`, the button script.
pub(crate) fn page(status: StatusCode, title: &str, body: &str, script: bool) -> Response {
    let script = if script {
        format!("<script>{ACTIONS_JS}</script>")
    } else {
        String::new()
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · wxpay sandbox</title><style>{STYLE}</style></head><body>\
         <nav><a href=\"/_sandbox/\">wxpay sandbox</a></nav>{body}{script}</body></html>\n",
        escape(title)
    );
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response()
}

/// A page saying what went wrong: `code` and `message` of an API error.
pub(crate) fn error_page(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\"><code>{}</code> {}</p>",
        status.as_u16(),
        escape(code),
        escape(message)
    );
    page(status, code, &body, false)
}

/// A two-column table of `(name, HTML value)` rows.
pub(crate) fn fields(rows: &[(&str, String)]) -> String {
    let mut html = String::from("<table class=\"fields\">");
    for (name, value) in rows {
        html.push_str(&format!(
            "<tr><th>{}</th><td>{value}</td></tr>",
            escape(name)
        ));
    }
    html.push_str("</table>");
    html
}

/// A state (`NOTPAY`, `delivered`, …) as a badge.
pub(crate) fn badge(state: &str) -> String {
    let state = escape(state);
    format!("<span class=\"state state-{state}\">{state}</span>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("沙箱"), "沙箱");
    }

    #[test]
    fn ids_are_percent_encoded() {
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode("a/b?c&d e|*"), "a%2Fb%3Fc%26d%20e%7C%2A");
        assert_eq!(order_path("x|1"), "/_sandbox/orders/x%7C1");
    }

    #[test]
    fn amounts_are_shown_in_yuan() {
        assert_eq!(yuan(1), "¥0.01");
        assert_eq!(yuan(100), "¥1.00");
        assert_eq!(yuan(123_456), "¥1234.56");
        assert_eq!(yuan(-5), "-¥0.05");
    }
}
