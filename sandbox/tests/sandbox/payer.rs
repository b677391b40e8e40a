//! The payer's half of a payment: `POST /_sandbox/request-payment` (JSAPI
//! and mini-program parameters), `…/app` (the APP SDK's `PayReq`), the
//! prepay info for the payment sheet and its CORS, the cashier pages, the
//! H5 page behind `h5_url`, `jsapi.js`, and the expire/close control calls.
//! Invocation parameters are signed here by hand with the test merchant
//! key (aws-lc-rs), independently of the sandbox and of `wxpay-core`.

use std::time::Duration;

use serde_json::{Value, json};
use wxpay_sandbox::Sandbox;

use crate::common::{Answer, Merchant, now, sandbox, sign};
use crate::payments::{jsapi_order, pay, query};
use crate::receiver::{Receiver, control, decrypt};

const APPID: &str = "wxd678efh567hg6787";
const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";

/// Places an order through `/v3/pay/transactions/{endpoint}` with
/// `notify_url`; returns the create answer.
async fn place(
    merchant: &Merchant,
    endpoint: &str,
    out_trade_no: &str,
    notify_url: &str,
    description: &str,
    total: i64,
) -> Value {
    let mut body = jsapi_order(merchant.mchid(), out_trade_no, total);
    body["notify_url"] = json!(notify_url);
    body["description"] = json!(description);
    if endpoint != "jsapi" {
        body.as_object_mut().expect("object").remove("payer");
    }
    if endpoint == "h5" {
        body["scene_info"] =
            json!({"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}});
    }
    let answer = merchant
        .post(&format!("/v3/pay/transactions/{endpoint}"), &body)
        .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

/// Places a JSAPI (or `endpoint`) order; returns its `prepay_id`.
async fn prepay(
    merchant: &Merchant,
    endpoint: &str,
    out_trade_no: &str,
    notify_url: &str,
) -> String {
    place(
        merchant,
        endpoint,
        out_trade_no,
        notify_url,
        "沙箱商品",
        123,
    )
    .await["prepay_id"]
        .as_str()
        .expect("prepay_id")
        .to_owned()
}

/// `wx.requestPayment` / `getBrandWCPayRequest` parameters for
/// `prepay_id`, signed over `appid` (the `appId` field holds it too).
fn jsapi_params(merchant: &Merchant, prepay_id: &str, appid: &str) -> Value {
    let time_stamp = now().to_string();
    let package = format!("prepay_id={prepay_id}");
    let message = format!("{appid}\n{time_stamp}\n{NONCE}\n{package}\n");
    json!({
        "appId": appid,
        "timeStamp": time_stamp,
        "nonceStr": NONCE,
        "package": package,
        "signType": "RSA",
        "paySign": sign(&merchant.credentials.merchant_private_key_pem, message.as_bytes()),
    })
}

/// The APP SDK's `PayReq` for `prepay_id`.
fn app_params(merchant: &Merchant, prepay_id: &str, appid: &str, partnerid: &str) -> Value {
    let timestamp = now().to_string();
    let message = format!("{appid}\n{timestamp}\n{NONCE}\n{prepay_id}\n");
    json!({
        "appid": appid,
        "partnerid": partnerid,
        "prepayid": prepay_id,
        "package": "Sign=WXPay",
        "noncestr": NONCE,
        "timestamp": timestamp,
        "sign": sign(&merchant.credentials.merchant_private_key_pem, message.as_bytes()),
    })
}

async fn request_payment(sandbox: &Sandbox, route: &str, params: &Value) -> Answer {
    control(sandbox, "POST", route, Some(&params.to_string())).await
}

/// Asserts an unsigned 4xx answer of the payer routes: status, code, and
/// `detail.field` when given.
#[track_caller]
fn assert_refused(answer: &Answer, status: u16, code: &str, field: Option<&str>) -> Value {
    let json = answer.json();
    assert_eq!(answer.status, status, "{json}");
    assert_eq!(json["code"], code, "{json}");
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{json}"
    );
    if let Some(field) = field {
        assert_eq!(json["detail"]["field"], field, "{json}");
    }
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    json
}

/// Asserts that nothing was paid or sent: the order is still `state` and
/// no callback was attempted.
async fn assert_untouched(sandbox: &Sandbox, merchant: &Merchant, out_trade_no: &str, state: &str) {
    assert_eq!(query(merchant, out_trade_no).await["trade_state"], state);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        sandbox.callback_attempts().is_empty(),
        "{:?}",
        sandbox.callback_attempts()
    );
}

fn without(value: &Value, name: &str) -> Value {
    let mut value = value.clone();
    value.as_object_mut().expect("object").remove(name);
    value
}

fn with(value: &Value, name: &str, field: Value) -> Value {
    let mut value = value.clone();
    value[name] = field;
    value
}

#[tokio::test]
async fn jsapi_parameters_pay_the_order_and_send_the_callback() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let receiver = Receiver::start(vec![]).await;
    let prepay_id = prepay(&merchant, "jsapi", "payer-jsapi-1", &receiver.url).await;

    let params = jsapi_params(&merchant, &prepay_id, APPID);
    let answer = request_payment(&sandbox, "/_sandbox/request-payment", &params).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let transaction = answer.json();
    assert_eq!(transaction["trade_state"], "SUCCESS");
    assert_eq!(transaction["out_trade_no"], "payer-jsapi-1");
    assert_eq!(transaction["trade_type"], "JSAPI");
    assert_eq!(transaction["amount"]["payer_total"], 123);
    assert_eq!(query(&merchant, "payer-jsapi-1").await, transaction);

    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    let callback = received[0].json();
    assert_eq!(callback["event_type"], "TRANSACTION.SUCCESS");
    let resource: Value = serde_json::from_slice(&decrypt(
        &merchant.credentials.apiv3_key,
        &callback["resource"],
    ))
    .expect("resource JSON");
    assert_eq!(resource, transaction);
    let attempts = sandbox.callback_attempts();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].out_trade_no.as_deref(), Some("payer-jsapi-1"));

    // The same parameters again: the order is paid.
    let again = request_payment(&sandbox, "/_sandbox/request-payment", &params).await;
    assert_refused(&again, 400, "ORDERPAID", None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn every_refusal_names_its_check_and_changes_nothing() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let notify_url = crate::receiver::closed_url();
    let prepay_id = prepay(&merchant, "jsapi", "payer-refuse-1", &notify_url).await;
    let good = jsapi_params(&merchant, &prepay_id, APPID);
    let route = "/_sandbox/request-payment";

    // The body's shape.
    let cases = [
        (without(&good, "nonceStr"), "/nonceStr"),
        (without(&good, "paySign"), "/paySign"),
        (with(&good, "timeStamp", json!(1_700_000_000)), "/timeStamp"),
        (with(&good, "timeStamp", json!("17e8")), "/timeStamp"),
        (with(&good, "nonceStr", json!("x".repeat(33))), "/nonceStr"),
        (with(&good, "extra", json!("x")), "/extra"),
        (with(&good, "signType", json!("HMAC-SHA256")), "/signType"),
        (with(&good, "signType", json!("MD5")), "/signType"),
        (with(&good, "package", json!(prepay_id.clone())), "/package"),
        (with(&good, "package", json!("prepay_id=")), "/package"),
        // An empty field is refused as such, not as a signature mismatch.
        (with(&good, "paySign", json!("")), "/paySign"),
        (with(&good, "appId", json!("")), "/appId"),
    ];
    for (params, field) in cases {
        let answer = request_payment(&sandbox, route, &params).await;
        assert_refused(&answer, 400, "PARAM_ERROR", Some(field));
    }
    let answer = control(&sandbox, "POST", route, Some("not json")).await;
    assert_refused(&answer, 400, "PARAM_ERROR", None);
    let answer = control(&sandbox, "POST", route, Some("[]")).await;
    assert_refused(&answer, 400, "PARAM_ERROR", None);

    // An unknown prepay_id, signed correctly.
    let unknown = jsapi_params(&merchant, "wx20261206000000aaaaaaaaaaaaaaaaaaaa", APPID);
    let answer = request_payment(&sandbox, route, &unknown).await;
    assert_refused(&answer, 404, "ORDER_NOT_EXIST", None);

    // A forged paySign: signed over another nonce.
    let forged = with(
        &good,
        "paySign",
        jsapi_params(&merchant, &prepay_id, APPID)["paySign"].clone(),
    );
    let forged = with(&forged, "nonceStr", json!("another-nonce"));
    let answer = request_payment(&sandbox, route, &forged).await;
    let json = assert_refused(&answer, 401, "SIGN_ERROR", Some("/paySign"));
    let checked = format!(
        "{APPID}\\n{}\\nanother-nonce\\nprepay_id={prepay_id}\\n",
        good["timeStamp"].as_str().expect("timeStamp")
    );
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains(&checked),
        "{json}"
    );
    let answer = request_payment(&sandbox, route, &with(&good, "paySign", json!("%%%"))).await;
    assert_refused(&answer, 401, "SIGN_ERROR", Some("/paySign"));
    // Signed by another key altogether.
    let other_key =
        aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("keygen");
    let other_pem = {
        use aws_lc_rs::encoding::AsDer as _;
        let der = other_key.as_der().expect("pkcs8");
        pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref()))
    };
    let message = format!(
        "{APPID}\n{}\n{NONCE}\nprepay_id={prepay_id}\n",
        good["timeStamp"].as_str().expect("timeStamp")
    );
    let answer = request_payment(
        &sandbox,
        route,
        &with(
            &good,
            "paySign",
            json!(sign(&other_pem, message.as_bytes())),
        ),
    )
    .await;
    assert_refused(&answer, 401, "SIGN_ERROR", Some("/paySign"));

    // Another appId, signed correctly over it.
    let other_app = jsapi_params(&merchant, &prepay_id, "wx0000000000000000");
    let answer = request_payment(&sandbox, route, &other_app).await;
    assert_refused(&answer, 400, "APPID_MCHID_NOT_MATCH", Some("/appId"));

    // An APP order through the JSAPI route.
    let app_prepay = prepay(&merchant, "app", "payer-refuse-app", &notify_url).await;
    let answer = request_payment(
        &sandbox,
        route,
        &jsapi_params(&merchant, &app_prepay, APPID),
    )
    .await;
    let json = assert_refused(&answer, 400, "INVALID_REQUEST", None);
    assert!(
        json["message"].as_str().expect("message").contains("APP"),
        "{json}"
    );
    assert_untouched(&sandbox, &merchant, "payer-refuse-app", "NOTPAY").await;

    assert_untouched(&sandbox, &merchant, "payer-refuse-1", "NOTPAY").await;

    // A closed order.
    let closed = control(
        &sandbox,
        "POST",
        "/_sandbox/transactions/out-trade-no/payer-refuse-1/close",
        None,
    )
    .await;
    assert_eq!(closed.status, 200);
    let answer = request_payment(&sandbox, route, &good).await;
    assert_refused(&answer, 400, "ORDER_CLOSED", None);
    assert_untouched(&sandbox, &merchant, "payer-refuse-1", "CLOSED").await;
}

#[tokio::test]
async fn the_mini_program_form_carries_no_app_id() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let notify_url = crate::receiver::closed_url();
    let prepay_id = prepay(&merchant, "jsapi", "payer-mini-1", &notify_url).await;
    let route = "/_sandbox/request-payment";

    // Signed over another appid, sent without appId: the sandbox checks
    // the order's appid.
    let wrong = without(
        &jsapi_params(&merchant, &prepay_id, "wx0000000000000000"),
        "appId",
    );
    let answer = request_payment(&sandbox, route, &wrong).await;
    let json = assert_refused(&answer, 401, "SIGN_ERROR", Some("/paySign"));
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains(&format!("\"{APPID}\\n")),
        "{json}"
    );
    assert_eq!(
        query(&merchant, "payer-mini-1").await["trade_state"],
        "NOTPAY"
    );

    let params = without(&jsapi_params(&merchant, &prepay_id, APPID), "appId");
    let answer = request_payment(&sandbox, route, &params).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json()["trade_state"], "SUCCESS");
}

#[tokio::test]
async fn app_parameters_pay_an_app_order() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let mchid = merchant.mchid().to_owned();
    let notify_url = crate::receiver::closed_url();
    let prepay_id = prepay(&merchant, "app", "payer-app-1", &notify_url).await;
    let jsapi_prepay = prepay(&merchant, "jsapi", "payer-app-jsapi", &notify_url).await;
    let route = "/_sandbox/request-payment/app";
    let good = app_params(&merchant, &prepay_id, APPID, &mchid);

    let cases = [
        (without(&good, "sign"), 400, "PARAM_ERROR", Some("/sign")),
        (
            without(&good, "partnerid"),
            400,
            "PARAM_ERROR",
            Some("/partnerid"),
        ),
        (
            with(&good, "package", json!(format!("prepay_id={prepay_id}"))),
            400,
            "PARAM_ERROR",
            Some("/package"),
        ),
        (
            with(&good, "appId", json!(APPID)),
            400,
            "PARAM_ERROR",
            Some("/appId"),
        ),
        (
            with(&good, "timestamp", json!("soon")),
            400,
            "PARAM_ERROR",
            Some("/timestamp"),
        ),
        (
            with(&good, "partnerid", json!("")),
            400,
            "PARAM_ERROR",
            Some("/partnerid"),
        ),
        (
            app_params(&merchant, "wx-unknown", APPID, &mchid),
            404,
            "ORDER_NOT_EXIST",
            None,
        ),
        (
            with(&good, "noncestr", json!("forged")),
            401,
            "SIGN_ERROR",
            Some("/sign"),
        ),
        (
            app_params(&merchant, &prepay_id, "wx0000000000000000", &mchid),
            400,
            "APPID_MCHID_NOT_MATCH",
            Some("/appid"),
        ),
        (
            app_params(&merchant, &prepay_id, APPID, "1900000000"),
            400,
            "APPID_MCHID_NOT_MATCH",
            Some("/partnerid"),
        ),
        (
            app_params(&merchant, &jsapi_prepay, APPID, &mchid),
            400,
            "INVALID_REQUEST",
            None,
        ),
    ];
    for (params, status, code, field) in cases {
        let answer = request_payment(&sandbox, route, &params).await;
        assert_refused(&answer, status, code, field);
    }
    assert_untouched(&sandbox, &merchant, "payer-app-1", "NOTPAY").await;
    assert_untouched(&sandbox, &merchant, "payer-app-jsapi", "NOTPAY").await;

    let answer = request_payment(&sandbox, route, &good).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let transaction = answer.json();
    assert_eq!(transaction["trade_state"], "SUCCESS");
    assert_eq!(transaction["trade_type"], "APP");
    assert_eq!(query(&merchant, "payer-app-1").await, transaction);
    let again = request_payment(&sandbox, route, &good).await;
    assert_refused(&again, 400, "ORDERPAID", None);
}

#[tokio::test]
async fn the_payer_routes_answer_other_origins() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let prepay_id = prepay(
        &merchant,
        "jsapi",
        "payer-cors-1",
        "https://merchant.example/n",
    )
    .await;
    let prepay_path = format!("/_sandbox/prepay/{prepay_id}");
    for path in [
        "/_sandbox/request-payment",
        "/_sandbox/request-payment/app",
        prepay_path.as_str(),
    ] {
        let answer = control(&sandbox, "OPTIONS", path, None).await;
        assert_eq!(answer.status, 204, "{path}");
        assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
        let methods = answer
            .header("access-control-allow-methods")
            .expect("methods");
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let headers = answer
            .header("access-control-allow-headers")
            .expect("headers");
        assert!(headers.eq_ignore_ascii_case("content-type"), "{headers}");
    }

    let answer = control(&sandbox, "GET", &prepay_path, None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let info = answer.json();
    assert_eq!(info["prepay_id"], prepay_id.as_str());
    assert_eq!(info["out_trade_no"], "payer-cors-1");
    assert_eq!(info["appid"], APPID);
    assert_eq!(info["mchid"], merchant.mchid());
    assert_eq!(info["description"], "沙箱商品");
    assert_eq!(info["total"], 123);
    assert_eq!(info["trade_type"], "JSAPI");
    assert_eq!(info["trade_state"], "NOTPAY");
    assert_eq!(info["order_url"], "/_sandbox/orders/payer-cors-1");

    let answer = control(&sandbox, "GET", "/_sandbox/prepay/wx-unknown", None).await;
    assert_refused(&answer, 404, "ORDER_NOT_EXIST", None);
}

#[tokio::test]
async fn pages_show_the_escaped_order_data() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let description = "<b>&\"杯子'</b>";
    let escaped = "&lt;b&gt;&amp;&quot;杯子&#39;&lt;/b&gt;";
    let native = place(
        &merchant,
        "native",
        "page-native-1",
        "https://merchant.example/n",
        description,
        1234,
    )
    .await;
    let code_url = native["code_url"].as_str().expect("code_url");

    let answer = control(&sandbox, "GET", "/_sandbox/orders/page-native-1", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8(answer.body.clone()).expect("UTF-8");
    assert!(html.contains(escaped), "{html}");
    assert!(!html.contains(description), "{html}");
    assert!(html.contains("¥12.34"), "{html}");
    assert!(html.contains("<svg"), "{html}");
    assert!(html.contains(code_url), "{html}");
    assert!(html.contains("NATIVE") && html.contains("NOTPAY"), "{html}");
    for action in ["pay", "expire", "close"] {
        assert!(
            html.contains(&format!(
                "data-post=\"/_sandbox/transactions/out-trade-no/page-native-1/{action}\""
            )),
            "{html}"
        );
    }
    // No external assets.
    assert!(
        !html.contains("src=\"http") && !html.contains("<link"),
        "{html}"
    );

    // Paid through its button's control call, the page shows the
    // transaction and the callback attempt.
    let paid = pay(&merchant, "page-native-1", "").await;
    let transaction_id = paid["transaction_id"].as_str().expect("transaction_id");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sandbox.callback_attempts().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no callback attempt");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let html = control(&sandbox, "GET", "/_sandbox/orders/page-native-1", None)
        .await
        .body;
    let html = String::from_utf8(html).expect("UTF-8");
    assert!(html.contains(transaction_id), "{html}");
    assert!(html.contains("SUCCESS"), "{html}");
    assert!(html.contains("TRANSACTION.SUCCESS"), "{html}");
    assert!(!html.contains("data-post=\""), "{html}");

    // An out_trade_no that needs encoding in links.
    place(
        &merchant,
        "jsapi",
        "page|jsapi*2",
        "https://merchant.example/n",
        "plain",
        1,
    )
    .await;
    let answer = control(&sandbox, "GET", "/_sandbox/orders/page%7Cjsapi%2A2", None).await;
    assert_eq!(answer.status, 200);

    let stock_id = merchant.create_stock("page-stock-1").await;
    let refund = merchant
        .post(
            "/v3/refund/domestic/refunds",
            &crate::refunds::refund_body("page-native-1", "page-refund-1", 34, 1234),
        )
        .await;
    assert_eq!(
        refund.status,
        200,
        "{}",
        String::from_utf8_lossy(&refund.body)
    );

    let answer = control(&sandbox, "GET", "/_sandbox/", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8(answer.body).expect("UTF-8");
    assert!(html.contains(escaped), "{html}");
    assert!(
        html.contains("href=\"/_sandbox/orders/page-native-1\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"/_sandbox/orders/page%7Cjsapi%2A2\""),
        "{html}"
    );
    assert!(html.contains("TRANSACTION.SUCCESS"), "{html}");
    assert!(html.contains(&stock_id), "{html}");
    assert!(
        html.contains("page-refund-1") && html.contains("¥0.34"),
        "{html}"
    );
    assert!(
        html.contains("POST /_sandbox/request-payment/app"),
        "{html}"
    );
    for heading in [
        "Orders",
        "Transfer bills",
        "Profit sharing",
        "Coupon stocks",
        "Refunds",
        "Callback attempts",
        "Sandbox routes",
    ] {
        assert!(html.contains(heading), "{heading}");
    }

    let answer = control(&sandbox, "GET", "/_sandbox/orders/no-such-order", None).await;
    assert_eq!(answer.status, 404);
    let html = String::from_utf8(answer.body).expect("UTF-8");
    assert!(html.contains("ORDER_NOT_EXIST"), "{html}");
}

/// A client that does not follow redirects.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn the_h5_page_pays_and_follows_redirect_url() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let notify_url = crate::receiver::closed_url();
    let h5 = place(&merchant, "h5", "page-h5-1", &notify_url, "H5 <商品>", 500).await;
    let h5_url = h5["h5_url"].as_str().expect("h5_url").to_owned();
    assert!(
        h5_url.starts_with(&format!(
            "{}/_sandbox/h5/checkmweb?prepay_id=wx",
            sandbox.base_url()
        )),
        "{h5_url}"
    );
    let back = "https://merchant.example/return?order=page-h5-1&x=y";
    let opened = format!(
        "{h5_url}&redirect_url={}",
        "https%3A%2F%2Fmerchant.example%2Freturn%3Forder%3Dpage-h5-1%26x%3Dy"
    );
    let client = no_redirects();

    let page = client.get(&opened).send().await.expect("reachable");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(html.contains("H5 &lt;商品&gt;"), "{html}");
    assert!(html.contains("¥5.00"), "{html}");
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(
        html.contains("redirect_url=https%3A%2F%2Fmerchant.example"),
        "{html}"
    );

    let paid = client.post(&opened).send().await.expect("reachable");
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers().get("location").and_then(|v| v.to_str().ok()),
        Some(back)
    );
    let order = query(&merchant, "page-h5-1").await;
    assert_eq!(order["trade_state"], "SUCCESS");
    assert_eq!(order["trade_type"], "MWEB");

    // Paid already: an error page, no second payment.
    let again = client.post(&opened).send().await.expect("reachable");
    assert_eq!(again.status(), 400);
    assert_eq!(query(&merchant, "page-h5-1").await, order);

    // Without redirect_url the result is shown.
    let h5 = place(&merchant, "h5", "page-h5-2", &notify_url, "H5", 1).await;
    let h5_url = h5["h5_url"].as_str().expect("h5_url").to_owned();
    let bad = client
        .get(format!("{h5_url}&redirect_url=javascript%3Aalert(1)"))
        .send()
        .await
        .expect("reachable");
    assert_eq!(bad.status(), 400);
    let shown = client.post(&h5_url).send().await.expect("reachable");
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.expect("body");
    let order = query(&merchant, "page-h5-2").await;
    assert_eq!(order["trade_state"], "SUCCESS");
    assert!(
        html.contains(order["transaction_id"].as_str().expect("id")),
        "{html}"
    );

    // Unknown prepay_id, or not an H5 order.
    let unknown = client
        .get(format!(
            "{}/_sandbox/h5/checkmweb?prepay_id=wx-unknown",
            sandbox.base_url()
        ))
        .send()
        .await
        .expect("reachable");
    assert_eq!(unknown.status(), 404);
    let jsapi_prepay = prepay(&merchant, "jsapi", "page-h5-jsapi", &notify_url).await;
    let wrong = client
        .post(format!(
            "{}/_sandbox/h5/checkmweb?prepay_id={jsapi_prepay}",
            sandbox.base_url()
        ))
        .send()
        .await
        .expect("reachable");
    assert_eq!(wrong.status(), 400);
    assert_eq!(
        query(&merchant, "page-h5-jsapi").await["trade_state"],
        "NOTPAY"
    );
}

#[tokio::test]
async fn jsapi_js_is_served_as_javascript() {
    let sandbox = sandbox().await;
    let answer = control(&sandbox, "GET", "/_sandbox/jsapi.js", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let script = String::from_utf8(answer.body).expect("UTF-8");
    for needle in [
        "window.WeixinJSBridge",
        "getBrandWCPayRequest",
        "get_brand_wcpay_request:",
        "requestPayment:ok",
        "requestPayment:fail ",
        "wxpay-sandbox-pay",
        "wxpay-sandbox-cancel",
        "wxpay-sandbox-result",
        "WeixinJSBridgeReady",
        "/_sandbox/request-payment",
        "/_sandbox/prepay/",
        "document.currentScript",
    ] {
        assert!(script.contains(needle), "{needle}");
    }
}

#[tokio::test]
async fn orders_expire_and_close_through_control_calls() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let notify_url = "https://merchant.example/n";
    prepay(&merchant, "jsapi", "expire-1", notify_url).await;
    prepay(&merchant, "jsapi", "expire-2", notify_url).await;
    let call = |out_trade_no: &str, action: &str| {
        format!("/_sandbox/transactions/out-trade-no/{out_trade_no}/{action}")
    };

    let expired = control(&sandbox, "POST", &call("expire-1", "expire"), None).await;
    assert_eq!(expired.status, 200);
    assert_eq!(expired.json()["trade_state"], "CLOSED");
    assert_eq!(query(&merchant, "expire-1").await, expired.json());
    let again = control(&sandbox, "POST", &call("expire-1", "expire"), None).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["code"], "INVALID_REQUEST");
    let closed = control(&sandbox, "POST", &call("expire-1", "close"), None).await;
    assert_eq!(closed.status, 200);
    assert_eq!(closed.json()["trade_state"], "CLOSED");

    pay(&merchant, "expire-2", "").await;
    let close_paid = control(&sandbox, "POST", &call("expire-2", "close"), None).await;
    assert_eq!(close_paid.status, 400);
    assert_eq!(close_paid.json()["code"], "ORDERPAID");
    let expire_paid = control(&sandbox, "POST", &call("expire-2", "expire"), None).await;
    assert_eq!(expire_paid.status, 400);
    assert_eq!(expire_paid.json()["code"], "INVALID_REQUEST");
    assert_eq!(query(&merchant, "expire-2").await["trade_state"], "SUCCESS");

    for action in ["expire", "close"] {
        let unknown = control(&sandbox, "POST", &call("no-such-order", action), None).await;
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.json()["code"], "ORDER_NOT_EXIST");
    }

    let html = control(&sandbox, "GET", "/_sandbox/orders/expire-1", None).await;
    let html = String::from_utf8(html.body).expect("UTF-8");
    assert!(
        html.contains("CLOSED") && !html.contains("data-post=\""),
        "{html}"
    );
}

#[tokio::test]
async fn prepay_ids_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = crate::persistence::start_on(dir.path(), None).await;
    let credentials = first.credentials().clone();
    let merchant = Merchant::new(&first);
    let prepay_id = prepay(
        &merchant,
        "jsapi",
        "restart-1",
        "https://merchant.example/n",
    )
    .await;
    first.shutdown().await;

    let second = crate::persistence::start_on(dir.path(), Some(&credentials)).await;
    let merchant = Merchant::new(&second);
    let answer = request_payment(
        &second,
        "/_sandbox/request-payment",
        &jsapi_params(&merchant, &prepay_id, APPID),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json()["out_trade_no"], "restart-1");
}

/// Runs `jsapi_harness.js` in Node on the served `jsapi.js`: what the
/// merchant's page saw, or `None` when Node is not installed. `api` and
/// `button` are the harness's (payments and, in `transfers`, merchant
/// transfers).
pub async fn run_in_node(
    sandbox: &Sandbox,
    params: &Value,
    api: &str,
    button: &str,
) -> Option<Value> {
    let script = control(sandbox, "GET", "/_sandbox/jsapi.js", None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("jsapi.js");
    std::fs::write(&file, &script.body).expect("write jsapi.js");
    let harness = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sandbox/jsapi_harness.js"
    );
    let mut command = std::process::Command::new("node");
    command
        .arg(harness)
        .arg(&file)
        .arg(sandbox.base_url())
        .arg(params.to_string())
        .arg(api)
        .arg(button);
    // Off the runtime's thread: the sandbox answers node meanwhile.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("node task");
    let output = match output {
        Ok(output) => output,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: no `node` on PATH to run jsapi.js");
            return None;
        }
        Err(error) => panic!("cannot run node: {error}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}")))
}

#[tokio::test]
async fn jsapi_js_pays_cancels_and_reports_refusals() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let notify_url = crate::receiver::closed_url();

    // Pay through WeixinJSBridge.
    let prepay_id = prepay(&merchant, "jsapi", "js-pay-1", &notify_url).await;
    let params = jsapi_params(&merchant, &prepay_id, APPID);
    let Some(seen) = run_in_node(&sandbox, &params, "bridge", "pay").await else {
        return;
    };
    assert_eq!(seen["ready"], true, "{seen}");
    assert_eq!(seen["origin"], sandbox.base_url(), "{seen}");
    assert_eq!(seen["amount"], "¥1.23", "{seen}");
    assert_eq!(seen["description"], "沙箱商品", "{seen}");
    assert_eq!(
        seen["callback"],
        json!({"err_msg": "get_brand_wcpay_request:ok"}),
        "{seen}"
    );
    assert_eq!(seen["sheetClosed"], true, "{seen}");
    assert_eq!(query(&merchant, "js-pay-1").await["trade_state"], "SUCCESS");

    // Cancel: nothing sent, still NOTPAY.
    let prepay_id = prepay(&merchant, "jsapi", "js-cancel-1", &notify_url).await;
    let params = jsapi_params(&merchant, &prepay_id, APPID);
    let seen = run_in_node(&sandbox, &params, "bridge", "cancel")
        .await
        .expect("node");
    assert_eq!(
        seen["callback"],
        json!({"err_msg": "get_brand_wcpay_request:cancel"}),
        "{seen}"
    );
    assert_eq!(
        query(&merchant, "js-cancel-1").await["trade_state"],
        "NOTPAY"
    );

    // A forged paySign: fail, with the sandbox's message.
    let forged = with(&params, "nonceStr", json!("forged"));
    let seen = run_in_node(&sandbox, &forged, "bridge", "pay")
        .await
        .expect("node");
    assert_eq!(
        seen["callback"]["err_msg"], "get_brand_wcpay_request:fail",
        "{seen}"
    );
    assert!(
        seen["callback"]["err_desc"]
            .as_str()
            .is_some_and(|desc| desc.contains("paySign does not verify")),
        "{seen}"
    );
    assert_eq!(
        query(&merchant, "js-cancel-1").await["trade_state"],
        "NOTPAY"
    );

    // wx.requestPayment without appId (the mini-program form): success,
    // then complete; cancel is a fail.
    let seen = run_in_node(&sandbox, &without(&params, "appId"), "wx", "cancel")
        .await
        .expect("node");
    assert_eq!(
        seen["calls"],
        json!([["fail", {"errMsg": "requestPayment:fail cancel"}]]),
        "{seen}"
    );
    assert_eq!(
        seen["callback"],
        json!({"errMsg": "requestPayment:fail cancel"})
    );
    let seen = run_in_node(&sandbox, &without(&params, "appId"), "wx", "pay")
        .await
        .expect("node");
    assert_eq!(
        seen["calls"],
        json!([["success", {"errMsg": "requestPayment:ok"}]]),
        "{seen}"
    );
    assert_eq!(seen["callback"], json!({"errMsg": "requestPayment:ok"}));
    assert_eq!(
        query(&merchant, "js-cancel-1").await["trade_state"],
        "SUCCESS"
    );
    let seen = run_in_node(&sandbox, &without(&params, "appId"), "wx", "pay")
        .await
        .expect("node");
    let fail = seen["calls"][0][1]["errMsg"].as_str().unwrap_or_default();
    assert!(fail.starts_with("requestPayment:fail 订单已支付"), "{seen}");
}
