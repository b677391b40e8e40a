//! `GET /_sandbox/orders/{out_trade_no}`: one order as a cashier would
//! show it, with buttons that pay it, let it expire or close it (through
//! the control calls), a Native order's `code_url` as a QR code, and the
//! callback attempts about it.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use qrcode::QrCode;
use qrcode::render::svg;

use super::{badge, encode, error_page, escape, fields, page, time, yuan};
use crate::callbacks::CallbackAttempt;
use crate::handlers::payments::{
    Order, TradeState, TradeType, by_out_trade_no, order_not_found, path_segment,
};
use crate::state::AppState;

/// The order page, or an error page (404 for an unknown order).
async fn page_of(app: &AppState, out_trade_no: &str) -> Response {
    let (mchid, number) = (app.0.credentials.mchid.clone(), out_trade_no.to_owned());
    let order = match app
        .store()
        .transaction(move |db| by_out_trade_no(db, &mchid, &number))
        .await
        .and_then(|order| {
            order.ok_or_else(|| order_not_found(&format!("out_trade_no {out_trade_no:?}")))
        }) {
        Ok(order) => order,
        Err(error) => return error_page(error.status, &error.code, &error.message),
    };
    let attempts: Vec<CallbackAttempt> = app
        .0
        .callbacks
        .attempts()
        .into_iter()
        .filter(|attempt| attempt.out_trade_no.as_deref() == Some(out_trade_no))
        .collect();
    let body = render(&order, &attempts);
    // The button script, only when there are buttons.
    let buttons = order.trade_state == TradeState::NotPay;
    page(
        StatusCode::OK,
        &format!("Order {}", order.out_trade_no),
        &body,
        buttons,
    )
}

/// The handler.
pub(crate) async fn show(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    match path_segment(path, "out_trade_no") {
        Ok(out_trade_no) => page_of(&app, &out_trade_no).await,
        Err(error) => error_page(error.status, &error.code, &error.message),
    }
}

/// The page's body.
fn render(order: &Order, attempts: &[CallbackAttempt]) -> String {
    let optional = |value: Option<&str>| match value {
        Some(value) => format!("<code>{}</code>", escape(value)),
        None => "<span class=\"empty\">none</span>".to_owned(),
    };
    let mut rows = vec![
        ("description", escape(order.text("description"))),
        (
            "amount",
            format!("<span class=\"amount\">{}</span>", yuan(order.total())),
        ),
        ("out_trade_no", optional(Some(&order.out_trade_no))),
        ("trade_type", escape(order.trade_type.as_str())),
        ("trade_state", badge(order.trade_state.as_str())),
        ("mchid", optional(Some(&order.mchid))),
        ("appid", optional(Some(order.text("appid")))),
        ("prepay_id", optional(order.prepay_id.as_deref())),
        ("transaction_id", optional(order.transaction_id.as_deref())),
        (
            "success_time",
            optional(order.success_time.map(time).as_deref()),
        ),
        ("payer openid", optional(order.payer_openid.as_deref())),
        ("notify_url", optional(Some(order.text("notify_url")))),
    ];
    if order.refunded > 0 {
        rows.push(("refunded", yuan(order.refunded)));
    }
    if !order.text("time_expire").is_empty() {
        rows.push(("time_expire", optional(Some(order.text("time_expire")))));
    }
    let mut html = format!(
        "<h1>Order <code>{}</code></h1>{}",
        escape(&order.out_trade_no),
        fields(&rows)
    );
    html.push_str(&payer_side(order));
    html.push_str(&actions(order));
    html.push_str(&attempts_table(attempts));
    html
}

/// How the payer reaches the order: the QR code of a Native order, the
/// `h5_url` of an H5 order, the `prepay_id` of the others.
fn payer_side(order: &Order) -> String {
    let answer = |name: &str| {
        order
            .answer
            .get(name)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match order.trade_type {
        TradeType::Native => {
            let code_url = answer("code_url");
            format!(
                "<h2>code_url</h2><div class=\"qr\">{}</div><p><code>{}</code></p>",
                qr_svg(&code_url),
                escape(&code_url)
            )
        }
        TradeType::H5 => {
            let h5_url = answer("h5_url");
            format!(
                "<h2>h5_url</h2><p><a href=\"{0}\">{0}</a></p>",
                escape(&h5_url)
            )
        }
        TradeType::Micropay => "<h2>Micropay</h2><p class=\"note\">Placed through APIv2 \
             <code>/pay/micropay</code> with the payer's auth_code.</p>"
            .to_owned(),
        TradeType::Jsapi | TradeType::App => format!(
            "<h2>Invocation</h2><p class=\"note\">The payer's page or app pays it with \
             <code>package=prepay_id={}</code>: see <code>POST /_sandbox/request-payment{}</code>.</p>",
            escape(order.prepay_id.as_deref().unwrap_or_default()),
            if order.trade_type == TradeType::App {
                "/app"
            } else {
                ""
            }
        ),
    }
}

/// `text` as a QR code in inline SVG (without the XML declaration), or a
/// note when it cannot be encoded.
pub(crate) fn qr_svg(text: &str) -> String {
    match QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let image = code
                .render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            match image.find("<svg") {
                Some(start) => image[start..].to_owned(),
                None => image,
            }
        }
        Err(error) => format!(
            "<p class=\"error\">cannot draw a QR code: {}</p>",
            escape(&error.to_string())
        ),
    }
}

/// The buttons: pay, let expire, close (for a `NOTPAY` order).
fn actions(order: &Order) -> String {
    if order.trade_state != TradeState::NotPay {
        return "<p class=\"note\">The order is no longer NOTPAY: nothing to do here.</p>\
                <p id=\"result\" role=\"status\"></p>"
            .to_owned();
    }
    let base = format!(
        "/_sandbox/transactions/out-trade-no/{}",
        encode(&order.out_trade_no)
    );
    let base = escape(&base);
    format!(
        "<div class=\"actions\">\
         <button class=\"primary\" id=\"pay\" data-post=\"{base}/pay\">Pay {}</button>\
         <button id=\"expire\" data-post=\"{base}/expire\">Let it expire</button>\
         <button id=\"close\" data-post=\"{base}/close\">Close</button>\
         </div><p id=\"result\" role=\"status\"></p>",
        yuan(order.total())
    )
}

/// The callback attempts about the order, oldest first.
fn attempts_table(attempts: &[CallbackAttempt]) -> String {
    let mut html = String::from("<h2>Callbacks</h2>");
    if attempts.is_empty() {
        html.push_str("<p class=\"empty\">No callback attempt yet.</p>");
        return html;
    }
    html.push_str(
        "<table><tr><th>time</th><th>event</th><th>attempt</th><th>notify_url</th>\
         <th>answer</th><th>outcome</th></tr>",
    );
    for attempt in attempts {
        html.push_str(&super::dashboard::attempt_row(attempt, false));
    }
    html.push_str("</table>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_inline_svg() {
        let svg = qr_svg("weixin://wxpay/bizpayurl?pr=abc1234");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
        assert!(!svg.contains("<?xml"));
    }
}
