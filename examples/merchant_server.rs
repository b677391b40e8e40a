//! A merchant's server: receives `TRANSACTION.SUCCESS` callbacks at
//! `POST /notify/transaction` (checks and decrypts them, prints the paid
//! order and answers `204 No Content`) and, when the merchant's API
//! credentials are set, serves a checkout page whose Pay button places a
//! JSAPI order and hands the signed parameters to WeChat's JS bridge.
//!
//! Against the sandbox (`wxpay sandbox --state /tmp/wxpay` writes every
//! variable below into `/tmp/wxpay/sandbox.env`):
//!
//! ```text
//! set -a; . /tmp/wxpay/sandbox.env; set +a
//! cargo run --example merchant_server --features axum
//! # open http://127.0.0.1:8090/checkout and press Pay
//! ```
//!
//! Against WeChat Pay:
//!
//! ```text
//! export WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_0114232134912410000000000000
//! export WXPAY_PUBLIC_KEY_FILE=/path/to/pub_key.pem        # the WeChat Pay public key
//! # or, for certificate mode (both may be set during a migration):
//! # export WXPAY_PLATFORM_CERT_FILE=/path/to/wechatpay_cert.pem
//! export WXPAY_APIV3_KEY=...                                # the 32-character APIv3 key
//! export WXPAY_NOTIFY_ADDR=0.0.0.0:8090                     # default 127.0.0.1:8090
//! # The checkout page (optional: without these only callbacks are served):
//! export WXPAY_MCHID=1900009191                             # the merchant id
//! export WXPAY_SERIAL=...                                   # the merchant API certificate's serial
//! export WXPAY_PRIVATE_KEY_FILE=/path/to/apiclient_key.pem  # its private key
//! export WXPAY_BASE_URL=https://api.mch.weixin.qq.com       # the default
//! export WXPAY_APPID=wx...                                  # the official account; default the sandbox's
//! export WXPAY_NOTIFY_URL=https://shop.example.com/notify/transaction  # default: this server's
//! export WXPAY_JSAPI_JS_URL=https://res.wx.qq.com/open/js/jweixin-1.6.0.js
//! cargo run --example merchant_server --features axum
//! ```
//!
//! WeChat Pay reaches the server at the `notify_url` given when the order
//! was placed (HTTPS, usually through a reverse proxy that must pass the
//! body and the `Wechatpay-*` headers through unchanged).
//!
//! A rejected callback (bad signature, signature probe, wrong APIv3 key, …)
//! is printed with its reason and answered with a failure, after which
//! WeChat Pay sends it again later.
//!
//! # The checkout page
//!
//! - `GET /checkout`: an item, its price and a Pay button. The page loads
//!   `WXPAY_JSAPI_JS_URL`, by default the sandbox's stand-in for WeChat,
//!   `{WXPAY_BASE_URL}/_sandbox/jsapi.js`, which shows a payment sheet in
//!   any browser. In production the page is opened inside WeChat, which
//!   provides `WeixinJSBridge` itself (or, through WeChat's JS-SDK,
//!   `wx.chooseWXPay`): point `WXPAY_JSAPI_JS_URL` at WeChat's JS-SDK or
//!   drop the script tag.
//! - `POST /checkout/orders`: places a JSAPI order
//!   ([`Client::prepay_jsapi`]) for the payer's `openid` (from the JSON
//!   body `{"openid": "…"}`, else a fixed demo openid) and answers
//!   `{"out_trade_no": "…", "params": {"appId", "timeStamp", "nonceStr",
//!   "package", "signType", "paySign"}}`. `?forge=1` is a **demo aid**: it
//!   corrupts `paySign`, so that WeChat refuses the payment and the page's
//!   failure path can be seen (the page passes it on from `/checkout?forge=1`).
//! - `GET /checkout/orders/{out_trade_no}`: `{"paid": false}` until a
//!   verified `TRANSACTION.SUCCESS` callback for the order arrived, then
//!   `{"paid": true, "transaction_id": "…", …}`. The bridge's "ok" is not
//!   proof of payment, so the page polls this before it says "Paid".
//!
//! Paid orders are kept in memory only: a real shop records them in its
//! database (idempotently) before answering the callback.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use wxpay::api::types::Amount;
use wxpay::api::v3::pay::transactions::jsapi::{Post as JsapiOrder, PostPayer};
use wxpay::notification::resources::Transaction;
use wxpay::notification::{
    EventType, NotificationDecoder, NotificationRejection, NotificationReply, WechatpayNotification,
};
use wxpay::payer::JsapiPayParams;
use wxpay::{ApiV3Key, Client, PlatformCertificate, Verifier, VerifyingKey};

const DEFAULT_ADDR: &str = "127.0.0.1:8090";
/// The sandbox's official account appid, used when `WXPAY_APPID` is unset.
const SANDBOX_APPID: &str = "wxd678efh567hg6787";
/// The payer when the page names none. A real page learns the payer's
/// openid through the official account's OAuth (`snsapi_base`).
const DEMO_OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
/// The item the checkout page sells.
const ITEM: &str = "Image形象店-深圳腾大-QQ公仔";
/// Its price in fen.
const PRICE_FEN: i64 = 1;

/// Everything the handlers share.
#[derive(Clone)]
struct AppState {
    decoder: NotificationDecoder,
    /// `None` when the merchant's API credentials are not set.
    checkout: Option<Arc<Checkout>>,
    /// Orders paid according to verified callbacks, by `out_trade_no`.
    paid: Arc<Mutex<HashMap<String, PaidOrder>>>,
}

impl FromRef<AppState> for NotificationDecoder {
    fn from_ref(state: &AppState) -> NotificationDecoder {
        state.decoder.clone()
    }
}

/// The checkout page's settings.
struct Checkout {
    client: Client,
    mchid: String,
    appid: String,
    /// Where WeChat Pay sends the callbacks of the orders placed here.
    notify_url: String,
    jsapi_js_url: String,
    /// Makes each `out_trade_no` unique within this process.
    counter: AtomicU64,
}

/// What the page learns about a paid order.
#[derive(Clone, Serialize)]
struct PaidOrder {
    transaction_id: String,
    total: i64,
    currency: String,
    success_time: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let config = configure()?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", config.addr))?;
    let local = listener
        .local_addr()
        .map_err(|error| format!("cannot read the listening address: {error}"))?;

    let checkout = match config.merchant {
        Some(merchant) => Some(Arc::new(merchant.into_checkout(local)?)),
        None => None,
    };
    let state = AppState {
        decoder: config.decoder,
        checkout: checkout.clone(),
        paid: Arc::default(),
    };
    let app = Router::new()
        .route("/notify/transaction", post(transaction))
        .route("/checkout", get(checkout_page))
        .route("/checkout/orders", post(place_order))
        .route("/checkout/orders/{out_trade_no}", get(order_status))
        .with_state(state);

    println!("listening for WeChat Pay callbacks on http://{local}/notify/transaction");
    match &checkout {
        Some(checkout) => println!(
            "checkout page on http://{}/checkout (orders of merchant {} notify {})",
            display_addr(local),
            checkout.mchid,
            checkout.notify_url
        ),
        None => println!(
            "no checkout page: set WXPAY_MCHID, WXPAY_SERIAL and WXPAY_PRIVATE_KEY_FILE (and WXPAY_BASE_URL for the sandbox) to serve one"
        ),
    }
    axum::serve(listener, app)
        .await
        .map_err(|error| format!("server failed: {error}"))
}

/// Handles one callback. Taking the `Result` lets the handler print why a
/// callback was rejected; `WechatpayNotification<Transaction>` alone would
/// answer the failure without calling the handler.
async fn transaction(
    State(state): State<AppState>,
    callback: Result<WechatpayNotification<Transaction>, NotificationRejection>,
) -> NotificationReply {
    let notification = match callback {
        Ok(WechatpayNotification(notification)) => notification,
        Err(rejection) => {
            let reply = rejection.reply();
            eprintln!(
                "answered {}: {}",
                reply.status(),
                wxpay::Report::new(&rejection)
            );
            return reply;
        }
    };
    if notification.event_type != EventType::TransactionSuccess {
        println!(
            "notification {}: {} ignored at this URL",
            notification.id, notification.event_type
        );
        return NotificationReply::success();
    }
    let order = &notification.resource;
    // A real server records the payment in its database here (idempotently:
    // WeChat Pay may deliver the same notification id more than once) and
    // answers a failure if that does not work out. This one keeps it in
    // memory for the checkout page.
    if let Ok(mut paid) = state.paid.lock() {
        paid.insert(
            order.out_trade_no.clone(),
            PaidOrder {
                transaction_id: order.transaction_id.clone(),
                total: order.amount.total,
                currency: order.amount.currency.clone(),
                success_time: order.success_time.clone(),
            },
        );
    }
    println!(
        "notification {}: order {} paid, {} {} (payer paid {} {}), WeChat Pay transaction {}, state {}, at {}",
        notification.id,
        order.out_trade_no,
        order.amount.total,
        order.amount.currency,
        order.amount.payer_total,
        order.amount.payer_currency,
        order.transaction_id,
        order.trade_state,
        order.success_time,
    );
    // Recorded: WeChat Pay's resends of this id are answered without
    // reaching this handler again.
    notification.acknowledge()
}

// ------------------------------------------------------------ checkout

/// `GET /checkout`.
async fn checkout_page(State(state): State<AppState>) -> Response {
    let Some(checkout) = state.checkout else {
        return no_checkout();
    };
    let page = CHECKOUT_HTML
        .replace("{{JSAPI_JS_URL}}", &html_escape(&checkout.jsapi_js_url))
        .replace("{{ITEM}}", &html_escape(ITEM))
        .replace(
            "{{PRICE}}",
            &format!("¥{}.{:02}", PRICE_FEN / 100, PRICE_FEN % 100),
        );
    ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

/// The body of `POST /checkout/orders`; every field optional.
#[derive(Default, Deserialize)]
struct OrderRequest {
    /// The payer's openid under the appid.
    openid: Option<String>,
}

/// The query of `POST /checkout/orders`.
#[derive(Deserialize)]
struct OrderQuery {
    /// Demo aid: corrupt `paySign` to see WeChat refuse the payment.
    forge: Option<String>,
}

#[derive(Serialize)]
struct OrderAnswer {
    out_trade_no: String,
    params: JsapiPayParams,
}

/// `POST /checkout/orders`.
async fn place_order(
    State(state): State<AppState>,
    Query(query): Query<OrderQuery>,
    body: Bytes,
) -> Response {
    let Some(checkout) = state.checkout else {
        return no_checkout();
    };
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        OrderRequest::default()
    } else {
        match serde_json::from_slice::<OrderRequest>(&body) {
            Ok(request) => request,
            Err(error) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    format!("the body is not {{\"openid\": \"…\"}}: {error}"),
                );
            }
        }
    };
    let openid = request
        .openid
        .filter(|openid| !openid.is_empty())
        .unwrap_or_else(|| DEMO_OPENID.to_owned());

    let out_trade_no = checkout.next_out_trade_no();
    let order = JsapiOrder {
        appid: checkout.appid.clone(),
        mchid: checkout.mchid.clone(),
        description: ITEM.to_owned(),
        attach: None,
        out_trade_no: out_trade_no.clone(),
        amount: Amount {
            total: PRICE_FEN,
            currency: Some("CNY".to_owned()),
        },
        time_expire: None,
        notify_url: checkout.notify_url.clone(),
        goods_tag: None,
        limit_pay: None,
        support_fapiao: None,
        detail: None,
        scene_info: None,
        payer: PostPayer {
            openid,
            identity: None,
        },
        settle_info: None,
        subsidy_info: None,
    };
    let mut params = match checkout.client.prepay_jsapi(order).await {
        Ok(params) => params,
        Err(error) => {
            eprintln!("order {out_trade_no} not placed: {}", error.report());
            return json_error(
                StatusCode::BAD_GATEWAY,
                format!("WeChat Pay did not take the order: {}", error.report()),
            );
        }
    };
    let forged = query
        .forge
        .is_some_and(|value| !matches!(value.as_str(), "" | "0" | "false"));
    if forged {
        params.pay_sign = forge(&params.pay_sign);
        println!("order {out_trade_no} placed, paySign FORGED (demo aid ?forge=1)");
    } else {
        println!("order {out_trade_no} placed, {} signed", params.package);
    }
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(OrderAnswer {
            out_trade_no,
            params,
        }),
    )
        .into_response()
}

/// `GET /checkout/orders/{out_trade_no}`: paid once its callback arrived.
async fn order_status(State(state): State<AppState>, Path(out_trade_no): Path<String>) -> Response {
    let paid = state
        .paid
        .lock()
        .ok()
        .and_then(|paid| paid.get(&out_trade_no).cloned());
    let body = match paid {
        Some(order) => serde_json::json!({
            "out_trade_no": out_trade_no,
            "paid": true,
            "transaction_id": order.transaction_id,
            "total": order.total,
            "currency": order.currency,
            "success_time": order.success_time,
        }),
        None => serde_json::json!({ "out_trade_no": out_trade_no, "paid": false }),
    };
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

impl Checkout {
    /// A fresh `out_trade_no`: `CO`, the time in nanoseconds and a counter
    /// (at most 32 characters of `[0-9A-Za-z]`).
    fn next_out_trade_no(&self) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let count = self.counter.fetch_add(1, Ordering::Relaxed) % 1000;
        format!("CO{nanos}{count:03}")
    }
}

/// A signature that no longer matches: the first character changed.
fn forge(signature: &str) -> String {
    let mut chars = signature.chars();
    let replacement = match chars.next() {
        Some('A') => 'B',
        _ => 'A',
    };
    std::iter::once(replacement).chain(chars).collect()
}

fn no_checkout() -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        "no checkout page: the server was started without WXPAY_MCHID, WXPAY_SERIAL and WXPAY_PRIVATE_KEY_FILE".to_owned(),
    )
}

fn json_error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The address to print and to put in URLs: a wildcard address becomes
/// the loopback one.
fn display_addr(addr: SocketAddr) -> SocketAddr {
    let mut shown = addr;
    if addr.ip().is_unspecified() {
        shown.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    shown
}

/// The checkout page. `{{…}}` are filled in (escaped) when served.
const CHECKOUT_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checkout</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "PingFang SC", sans-serif; background: #f2f2f2; color: #191919; }
  main { max-width: 420px; margin: 0 auto; padding: 24px 16px; }
  h1 { font-size: 20px; margin: 0 0 16px; }
  .card { background: #fff; border-radius: 8px; padding: 16px; display: flex; gap: 16px; align-items: center; }
  .thumb { width: 64px; height: 64px; border-radius: 6px; background: linear-gradient(135deg, #07c160, #10aeff); flex: none; }
  .name { flex: 1; }
  .price { font-size: 20px; font-weight: 600; }
  button#pay { display: block; width: 100%; margin-top: 24px; padding: 12px; border: 0; border-radius: 8px; background: #07c160; color: #fff; font-size: 17px; font-weight: 600; cursor: pointer; }
  button#pay:disabled { background: #9ed9b6; cursor: default; }
  #result { margin-top: 16px; min-height: 1.5em; text-align: center; }
  #result.paid { color: #07c160; font-weight: 600; }
  #result.failed { color: #fa5151; }
  footer { margin-top: 32px; font-size: 12px; color: #888; text-align: center; }
</style>
<!-- WeChat's JS bridge. In production the page runs inside WeChat, which
     provides WeixinJSBridge itself; here it is the sandbox's stand-in. -->
<script src="{{JSAPI_JS_URL}}"></script>
</head>
<body>
<main>
  <h1>Checkout</h1>
  <div class="card">
    <div class="thumb"></div>
    <div class="name">{{ITEM}}</div>
    <div class="price" id="price">{{PRICE}}</div>
  </div>
  <button id="pay" type="button">Pay with WeChat Pay</button>
  <div id="result" role="status"></div>
  <footer>wxpay example merchant</footer>
</main>
<script>
(function () {
  "use strict";
  var payButton = document.getElementById("pay");
  var result = document.getElementById("result");
  // Demo aid: /checkout?forge=1 asks the server to corrupt paySign.
  var forge = new URLSearchParams(location.search).get("forge");
  var ordersUrl = "/checkout/orders" + (forge ? "?forge=" + encodeURIComponent(forge) : "");

  function show(text, kind) {
    result.textContent = text;
    result.className = kind || "";
  }
  function done() { payButton.disabled = false; }

  // WeChat defines WeixinJSBridge on its own schedule: wait for it.
  function withBridge(use) {
    if (typeof WeixinJSBridge !== "undefined") { use(); return; }
    var waited = false;
    document.addEventListener("WeixinJSBridgeReady", function () {
      if (!waited) { waited = true; use(); }
    }, false);
    setTimeout(function () {
      if (!waited && typeof WeixinJSBridge !== "undefined") { waited = true; use(); return; }
      if (!waited) {
        waited = true;
        show("Failed: WeixinJSBridge is not available (open this page in WeChat)", "failed");
        done();
      }
    }, 5000);
  }

  // Only the server's word counts: it has the verified callback.
  function waitUntilPaid(outTradeNo) {
    var deadline = Date.now() + 60000;
    show("Confirming the payment…");
    (function poll() {
      fetch("/checkout/orders/" + encodeURIComponent(outTradeNo), { cache: "no-store" })
        .then(function (answer) { return answer.json(); })
        .then(function (order) {
          if (order.paid) {
            show("Paid: WeChat Pay transaction " + order.transaction_id, "paid");
          } else if (Date.now() > deadline) {
            show("Failed: no payment notification for order " + outTradeNo + " yet", "failed");
            done();
          } else {
            setTimeout(poll, 300);
          }
        })
        .catch(function () {
          if (Date.now() > deadline) { show("Failed: the shop does not answer", "failed"); done(); }
          else { setTimeout(poll, 1000); }
        });
    })();
  }

  payButton.addEventListener("click", function () {
    payButton.disabled = true;
    result.removeAttribute("data-out-trade-no");
    show("Placing the order…");
    fetch(ordersUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({})
    })
      .then(function (answer) {
        return answer.json().then(function (body) {
          if (!answer.ok) { throw new Error(body.error || ("HTTP " + answer.status)); }
          return body;
        });
      })
      .then(function (order) {
        result.setAttribute("data-out-trade-no", order.out_trade_no);
        show("Waiting for WeChat Pay…");
        withBridge(function () {
          WeixinJSBridge.invoke("getBrandWCPayRequest", order.params, function (answer) {
            var message = (answer && answer.err_msg) || "";
            if (message === "get_brand_wcpay_request:ok") {
              waitUntilPaid(order.out_trade_no);
            } else if (message === "get_brand_wcpay_request:cancel") {
              show("Cancelled", "failed");
              done();
            } else {
              show("Failed: " + ((answer && (answer.err_desc || answer.errMsg)) || message || "no answer"), "failed");
              done();
            }
          });
        });
      })
      .catch(function (error) {
        show("Failed: " + error.message, "failed");
        done();
      });
  });
})();
</script>
</body>
</html>
"#;

// ------------------------------------------------------------ configuration

/// What [`configure`] reads.
struct Config {
    decoder: NotificationDecoder,
    addr: SocketAddr,
    /// The checkout page's settings, when the merchant credentials are set.
    merchant: Option<Merchant>,
}

/// The merchant's API credentials and the checkout page's settings, read
/// from the environment; the client is built once the address is known.
struct Merchant {
    builder: wxpay::ClientBuilder,
    mchid: String,
    appid: String,
    base_url: Option<String>,
    notify_url: Option<String>,
    jsapi_js_url: Option<String>,
}

impl Merchant {
    fn into_checkout(self, local: SocketAddr) -> Result<Checkout, String> {
        let client = self.builder.build().map_err(|error| {
            format!(
                "the merchant credentials do not make a client: {}",
                error.report()
            )
        })?;
        let notify_url = self
            .notify_url
            .unwrap_or_else(|| format!("http://{}/notify/transaction", display_addr(local)));
        let jsapi_js_url = match (self.jsapi_js_url, &self.base_url) {
            (Some(url), _) => url,
            (None, Some(base)) => format!("{}/_sandbox/jsapi.js", base.trim_end_matches('/')),
            (None, None) => {
                return Err(
                    "WXPAY_JSAPI_JS_URL is not set: without WXPAY_BASE_URL (a sandbox) the checkout page needs WeChat's JS, or set it to an empty page and open the checkout inside WeChat".to_owned(),
                );
            }
        };
        Ok(Checkout {
            client,
            mchid: self.mchid,
            appid: self.appid,
            notify_url,
            jsapi_js_url,
            counter: AtomicU64::new(0),
        })
    }
}

/// Reads the keys and the address from the environment, listing every
/// problem at once.
fn configure() -> Result<Config, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let mut problems = Vec::new();
    let mut verifier = Verifier::new();

    let public_key = var("WXPAY_PUBLIC_KEY_ID").zip(var("WXPAY_PUBLIC_KEY_FILE"));
    match (var("WXPAY_PUBLIC_KEY_ID"), var("WXPAY_PUBLIC_KEY_FILE")) {
        (Some(id), Some(path)) => match VerifyingKey::from_public_key_pem_file(&path) {
            Ok(key) => verifier.add_public_key(id, key),
            Err(error) => problems.push(format!("WXPAY_PUBLIC_KEY_FILE: {error}")),
        },
        (Some(_), None) => problems.push(
            "WXPAY_PUBLIC_KEY_ID is set but WXPAY_PUBLIC_KEY_FILE is not: name the PEM file of that WeChat Pay public key".to_owned(),
        ),
        (None, Some(_)) => problems.push(
            "WXPAY_PUBLIC_KEY_FILE is set but WXPAY_PUBLIC_KEY_ID is not: give the key's id (PUB_KEY_ID_…), shown next to it in the merchant platform".to_owned(),
        ),
        (None, None) => {}
    }
    let certificate_file = var("WXPAY_PLATFORM_CERT_FILE");
    if let Some(path) = &certificate_file {
        let certificate = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {path}: {error}"))
            .and_then(|pem| PlatformCertificate::from_pem(&pem).map_err(|error| error.to_string()));
        match certificate {
            Ok(certificate) => verifier.add_certificate(&certificate),
            Err(error) => problems.push(format!("WXPAY_PLATFORM_CERT_FILE: {error}")),
        }
    }
    if verifier.is_empty() && problems.is_empty() {
        problems.push(
            "no key to check WeChat Pay's signatures: set WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY_FILE (WeChat Pay public key), or WXPAY_PLATFORM_CERT_FILE (platform certificate)".to_owned(),
        );
    }

    let key = match var("WXPAY_APIV3_KEY") {
        Some(key) => match ApiV3Key::new(key) {
            Ok(key) => Some(key),
            Err(error) => {
                problems.push(format!("WXPAY_APIV3_KEY: {error}"));
                None
            }
        },
        None => {
            problems.push(
                "WXPAY_APIV3_KEY is not set: callbacks are encrypted with the APIv3 key set in the merchant platform".to_owned(),
            );
            None
        }
    };

    let addr_text = var("WXPAY_NOTIFY_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    let addr = match addr_text.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            problems.push(format!(
                "WXPAY_NOTIFY_ADDR `{addr_text}` is not an address to listen on, such as {DEFAULT_ADDR}"
            ));
            None
        }
    };

    // The checkout page: all three merchant variables, or none of them.
    let credentials = [
        ("WXPAY_MCHID", var("WXPAY_MCHID")),
        ("WXPAY_SERIAL", var("WXPAY_SERIAL")),
        ("WXPAY_PRIVATE_KEY_FILE", var("WXPAY_PRIVATE_KEY_FILE")),
    ];
    let missing: Vec<&str> = credentials
        .iter()
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    let none_set = missing.len() == credentials.len();
    let merchant = match credentials {
        [
            (_, Some(mchid)),
            (_, Some(serial)),
            (_, Some(private_key_file)),
        ] => {
            let base_url = var("WXPAY_BASE_URL");
            let mut builder = Client::builder()
                .mchid(&mchid)
                .merchant_key_file(serial, private_key_file);
            if let Some(base_url) = &base_url {
                builder = builder.base_url(base_url);
            }
            if let Some((id, path)) = public_key {
                builder = builder.wechatpay_public_key_file(id, path);
            }
            if let Some(path) = certificate_file {
                builder = builder.platform_certificate_file(path);
            }
            Some(Merchant {
                builder,
                mchid,
                appid: var("WXPAY_APPID").unwrap_or_else(|| SANDBOX_APPID.to_owned()),
                base_url,
                notify_url: var("WXPAY_NOTIFY_URL"),
                jsapi_js_url: var("WXPAY_JSAPI_JS_URL"),
            })
        }
        _ if none_set => None,
        _ => {
            problems.push(format!(
                "{} not set: the checkout page needs WXPAY_MCHID, WXPAY_SERIAL and WXPAY_PRIVATE_KEY_FILE (or none of them, to receive callbacks only)",
                missing.join(", ")
            ));
            None
        }
    };

    match (key, addr) {
        (Some(key), Some(addr)) if problems.is_empty() => Ok(Config {
            decoder: NotificationDecoder::new(verifier, key),
            addr,
            merchant,
        }),
        _ => Err(problems.join("\n       ")),
    }
}
