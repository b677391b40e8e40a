//! Orders: placing them through the four endpoints, the required-field
//! checks, idempotency on `out_trade_no`, paying through the control
//! endpoint, querying and closing.

use serde_json::{Value, json};

use crate::common::{Merchant, is_beijing_rfc3339, sandbox};

/// A valid JSAPI order body.
pub fn jsapi_order(mchid: &str, out_trade_no: &str, total: i64) -> Value {
    json!({
        "appid": "wxd678efh567hg6787",
        "mchid": mchid,
        "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": out_trade_no,
        "attach": "自定义数据",
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "amount": {"total": total, "currency": "CNY"},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    })
}

/// Places a JSAPI order; returns its `prepay_id`.
pub async fn place(merchant: &Merchant, out_trade_no: &str, total: i64) -> String {
    let answer = merchant
        .post(
            "/v3/pay/transactions/jsapi",
            &jsapi_order(merchant.mchid(), out_trade_no, total),
        )
        .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(&merchant.credentials);
    answer.json()["prepay_id"]
        .as_str()
        .expect("prepay_id")
        .to_owned()
}

/// Pays an order through the control endpoint; returns the transaction.
pub async fn pay(merchant: &Merchant, out_trade_no: &str, body: &str) -> Value {
    let answer = pay_answer(merchant, out_trade_no, body).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

pub async fn pay_answer(
    merchant: &Merchant,
    out_trade_no: &str,
    body: &str,
) -> crate::common::Answer {
    merchant
        .send_raw(
            "POST",
            &format!("/_sandbox/transactions/out-trade-no/{out_trade_no}/pay"),
            body,
            None,
            Some("application/json"),
        )
        .await
}

/// The order as `GET …/out-trade-no/{out_trade_no}?mchid=` shows it.
pub async fn query(merchant: &Merchant, out_trade_no: &str) -> Value {
    let answer = merchant
        .get(&format!(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}",
            merchant.mchid()
        ))
        .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(&merchant.credentials);
    answer.json()
}

#[tokio::test]
async fn an_order_is_placed_paid_and_queried() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let mchid = merchant.mchid().to_owned();

    let prepay_id = place(&merchant, "pay-flow-1", 100).await;
    assert!(
        prepay_id.starts_with("wx") && prepay_id.len() == 36,
        "{prepay_id}"
    );

    let order = query(&merchant, "pay-flow-1").await;
    assert_eq!(order["trade_state"], "NOTPAY");
    assert_eq!(order["trade_state_desc"], "订单未支付");
    assert_eq!(order["trade_type"], "JSAPI");
    assert_eq!(order["appid"], "wxd678efh567hg6787");
    assert_eq!(order["mchid"], mchid.as_str());
    assert_eq!(order["attach"], "自定义数据");
    assert_eq!(order["amount"]["total"], 100);
    assert_eq!(order["amount"]["currency"], "CNY");
    assert!(order.get("transaction_id").is_none(), "{order}");
    assert!(order.get("success_time").is_none(), "{order}");

    let paid = pay(
        &merchant,
        "pay-flow-1",
        r#"{"bank_type":"CMC","payer_total":90}"#,
    )
    .await;
    let transaction_id = paid["transaction_id"]
        .as_str()
        .expect("transaction_id")
        .to_owned();
    assert_eq!(transaction_id.len(), 28);
    assert!(transaction_id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(paid["trade_state_desc"], "支付成功");
    assert_eq!(paid["bank_type"], "CMC");
    assert_eq!(paid["amount"]["payer_total"], 90);
    assert_eq!(paid["amount"]["payer_currency"], "CNY");
    assert_eq!(paid["payer"]["openid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    assert!(is_beijing_rfc3339(
        paid["success_time"].as_str().expect("success_time")
    ));

    // Both queries show what the control endpoint answered.
    assert_eq!(query(&merchant, "pay-flow-1").await, paid);
    let by_id = merchant
        .get(&format!(
            "/v3/pay/transactions/id/{transaction_id}?mchid={mchid}"
        ))
        .await;
    assert_eq!(by_id.status, 200);
    by_id.assert_verified(credentials);
    assert_eq!(by_id.json(), paid);

    // Paying twice is refused.
    let again = pay_answer(&merchant, "pay-flow-1", "").await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["code"], "INVALID_REQUEST");
    assert!(again.message().contains("only a NOTPAY order"), "{again:?}");
    // The control endpoint is not signed (and needs no signature).
    assert!(again.header("wechatpay-signature").is_none());
}

#[tokio::test]
async fn every_trade_type_answers_its_own_field() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let mchid = merchant.mchid().to_owned();
    let mut body = jsapi_order(&mchid, "type-app", 1);
    body.as_object_mut().expect("object").remove("payer");
    let answer = merchant.post("/v3/pay/transactions/app", &body).await;
    assert_eq!(answer.status, 200);
    assert!(answer.json()["prepay_id"].is_string());

    body["out_trade_no"] = json!("type-native");
    let answer = merchant.post("/v3/pay/transactions/native", &body).await;
    assert_eq!(answer.status, 200);
    let code_url = answer.json()["code_url"]
        .as_str()
        .expect("code_url")
        .to_owned();
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );

    body["out_trade_no"] = json!("type-h5");
    body["scene_info"] = json!({"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}});
    let answer = merchant.post("/v3/pay/transactions/h5", &body).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let h5_url = answer.json()["h5_url"].as_str().expect("h5_url").to_owned();
    assert!(
        h5_url.starts_with(&format!(
            "{}/_sandbox/h5/checkmweb?prepay_id=wx",
            sandbox.base_url()
        )),
        "{h5_url}"
    );
    assert!(h5_url.contains("&package="), "{h5_url}");

    for (out_trade_no, trade_type) in [
        ("type-app", "APP"),
        ("type-native", "NATIVE"),
        ("type-h5", "MWEB"),
    ] {
        assert_eq!(
            query(&merchant, out_trade_no).await["trade_type"],
            trade_type
        );
        let paid = pay(&merchant, out_trade_no, "").await;
        assert_eq!(paid["trade_state"], "SUCCESS");
        assert!(paid["payer"]["openid"].is_string(), "{paid}");
    }
}

#[tokio::test]
async fn required_fields_are_named_by_json_pointer() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let mchid = merchant.mchid().to_owned();
    let valid = jsapi_order(&mchid, "checks-1", 100);
    let h5 = {
        let mut body = valid.clone();
        body["scene_info"] =
            json!({"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}});
        body
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("jsapi", without(&valid, &["appid"]), "/appid"),
        ("jsapi", without(&valid, &["mchid"]), "/mchid"),
        ("jsapi", without(&valid, &["description"]), "/description"),
        ("jsapi", without(&valid, &["out_trade_no"]), "/out_trade_no"),
        (
            "jsapi",
            with(&valid, "out_trade_no", json!("short")),
            "/out_trade_no",
        ),
        (
            "jsapi",
            with(&valid, "out_trade_no", json!("a".repeat(33))),
            "/out_trade_no",
        ),
        (
            "jsapi",
            with(&valid, "out_trade_no", json!("has space")),
            "/out_trade_no",
        ),
        ("jsapi", without(&valid, &["notify_url"]), "/notify_url"),
        (
            "jsapi",
            with(&valid, "notify_url", json!("notify.example")),
            "/notify_url",
        ),
        ("jsapi", without(&valid, &["amount"]), "/amount"),
        (
            "jsapi",
            with(&valid, "amount", json!({"currency": "CNY"})),
            "/amount/total",
        ),
        (
            "jsapi",
            with(&valid, "amount", json!({"total": 0})),
            "/amount/total",
        ),
        (
            "jsapi",
            with(&valid, "amount", json!({"total": 1.5})),
            "/amount/total",
        ),
        (
            "jsapi",
            with(&valid, "amount", json!({"total": 1, "currency": "USD"})),
            "/amount/currency",
        ),
        ("jsapi", without(&valid, &["payer"]), "/payer"),
        ("jsapi", with(&valid, "payer", json!({})), "/payer/openid"),
        ("h5", without(&h5, &["scene_info"]), "/scene_info"),
        (
            "h5",
            with(&h5, "scene_info", json!({"h5_info": {"type": "Wap"}})),
            "/scene_info/payer_client_ip",
        ),
        (
            "h5",
            with(&h5, "scene_info", json!({"payer_client_ip": "1.2.3.4"})),
            "/scene_info/h5_info",
        ),
        (
            "h5",
            with(
                &h5,
                "scene_info",
                json!({"payer_client_ip": "1.2.3.4", "h5_info": {}}),
            ),
            "/scene_info/h5_info/type",
        ),
    ];
    for (endpoint, body, field) in cases {
        let answer = merchant
            .post(&format!("/v3/pay/transactions/{endpoint}"), &body)
            .await;
        let json = answer.assert_error(credentials, 400, "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], field, "{body}: {json}");
        assert_eq!(json["detail"]["location"], "body", "{json}");
    }
    // The mchid in the body must be the signer.
    let answer = merchant
        .post(
            "/v3/pay/transactions/jsapi",
            &with(&valid, "mchid", json!("1234567890")),
        )
        .await;
    answer.assert_error(credentials, 403, "NO_AUTH");
    // http:// is accepted for local callback handlers.
    let local = with(&valid, "notify_url", json!("http://127.0.0.1:8080/notify"));
    assert_eq!(
        merchant
            .post("/v3/pay/transactions/jsapi", &local)
            .await
            .status,
        200
    );
}

fn without(body: &Value, fields: &[&str]) -> Value {
    let mut body = body.clone();
    for field in fields {
        body.as_object_mut().expect("object").remove(*field);
    }
    body
}

fn with(body: &Value, field: &str, value: Value) -> Value {
    let mut body = body.clone();
    body[field] = value;
    body
}

#[tokio::test]
async fn out_trade_no_is_idempotent_for_the_same_body_only() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let body = jsapi_order(merchant.mchid(), "idem-1", 100);
    let first = merchant
        .post("/v3/pay/transactions/jsapi", &body)
        .await
        .json();
    let again = merchant.post("/v3/pay/transactions/jsapi", &body).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), first);
    let changed = with(&body, "description", json!("另一件商品"));
    merchant
        .post("/v3/pay/transactions/jsapi", &changed)
        .await
        .assert_error(credentials, 403, "OUT_TRADE_NO_USED");
    // Through another endpoint it is another order too.
    merchant
        .post("/v3/pay/transactions/app", &body)
        .await
        .assert_error(credentials, 403, "OUT_TRADE_NO_USED");
    // Once paid, the same body is refused as paid.
    pay(&merchant, "idem-1", "").await;
    merchant
        .post("/v3/pay/transactions/jsapi", &body)
        .await
        .assert_error(credentials, 400, "ORDERPAID");
}

#[tokio::test]
async fn orders_close_unless_paid() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let mchid = merchant.mchid().to_owned();
    let close = |out_trade_no: &str| {
        let target = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        let merchant = &merchant;
        let body = json!({ "mchid": mchid });
        async move { merchant.post(&target, &body).await }
    };

    place(&merchant, "close-1", 100).await;
    let closed = close("close-1").await;
    assert_eq!(closed.status, 204);
    assert!(closed.body.is_empty());
    closed.assert_verified(credentials);
    let order = query(&merchant, "close-1").await;
    assert_eq!(order["trade_state"], "CLOSED");
    assert_eq!(order["trade_state_desc"], "订单已关闭");
    // Closing again is fine; paying a closed order is not.
    assert_eq!(close("close-1").await.status, 204);
    assert_eq!(pay_answer(&merchant, "close-1", "").await.status, 400);
    merchant
        .post(
            "/v3/pay/transactions/jsapi",
            &jsapi_order(&mchid, "close-1", 100),
        )
        .await
        .assert_error(credentials, 400, "ORDER_CLOSED");

    place(&merchant, "close-2", 100).await;
    pay(&merchant, "close-2", "").await;
    close("close-2")
        .await
        .assert_error(credentials, 400, "ORDERPAID");
    assert_eq!(query(&merchant, "close-2").await["trade_state"], "SUCCESS");

    close("close-404")
        .await
        .assert_error(credentials, 404, "ORDER_NOT_EXIST");
    let json = merchant
        .post(
            "/v3/pay/transactions/out-trade-no/close-2/close",
            &json!({}),
        )
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/mchid");
}

#[tokio::test]
async fn unknown_orders_do_not_exist() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let mchid = merchant.mchid().to_owned();
    merchant
        .get(&format!(
            "/v3/pay/transactions/out-trade-no/nope-123?mchid={mchid}"
        ))
        .await
        .assert_error(credentials, 404, "ORDER_NOT_EXIST");
    merchant
        .get(&format!(
            "/v3/pay/transactions/id/4200000000000000000000000000?mchid={mchid}"
        ))
        .await
        .assert_error(credentials, 404, "ORDER_NOT_EXIST");
    let json = merchant
        .get("/v3/pay/transactions/out-trade-no/nope-123")
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/mchid");
    assert_eq!(json["detail"]["location"], "query");
    merchant
        .get("/v3/pay/transactions/out-trade-no/nope-123?mchid=1234567890")
        .await
        .assert_error(credentials, 403, "NO_AUTH");
    let answer = pay_answer(&merchant, "nope-123", "").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["code"], "ORDER_NOT_EXIST");
    let answer = pay_answer(&merchant, "nope-123", "[1]").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["code"], "PARAM_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_orders_are_all_kept_once() {
    let sandbox = sandbox().await;
    let merchant = std::sync::Arc::new(Merchant::new(&sandbox));
    let mut tasks = Vec::new();
    for i in 0..32 {
        let merchant = merchant.clone();
        tasks.push(tokio::spawn(async move {
            // Every fourth request repeats one order.
            let out_trade_no = if i % 4 == 0 {
                "concurrent-shared".to_owned()
            } else {
                format!("concurrent-{i:02}")
            };
            let body = jsapi_order(merchant.mchid(), &out_trade_no, 100);
            let answer = merchant.post("/v3/pay/transactions/jsapi", &body).await;
            assert_eq!(
                answer.status,
                200,
                "{}",
                String::from_utf8_lossy(&answer.body)
            );
            (
                out_trade_no,
                answer.json()["prepay_id"].as_str().expect("id").to_owned(),
            )
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    let shared: std::collections::BTreeSet<_> = answers
        .iter()
        .filter(|(no, _)| no == "concurrent-shared")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(shared.len(), 1, "one order, one prepay_id: {shared:?}");
    let ids: std::collections::BTreeSet<_> = answers.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 25);
    for (out_trade_no, _) in &answers {
        assert_eq!(
            query(&merchant, out_trade_no).await["trade_state"],
            "NOTPAY"
        );
    }
}

#[tokio::test]
async fn the_control_endpoint_sees_no_faults() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    place(&merchant, "faults-1", 100).await;
    sandbox.set_faults(wxpay_sandbox::Faults {
        status_override: Some((503, "SERVICE_UNAVAILABLE".into(), "down".into())),
        ..wxpay_sandbox::Faults::default()
    });
    let answer = merchant
        .get(&format!(
            "/v3/pay/transactions/out-trade-no/faults-1?mchid={}",
            merchant.mchid()
        ))
        .await;
    assert_eq!(answer.status, 503);
    let paid = pay_answer(&merchant, "faults-1", "").await;
    assert_eq!(paid.status, 200, "{}", String::from_utf8_lossy(&paid.body));
    assert!(paid.header("request-id").is_none());
    assert_eq!(paid.json()["trade_state"], "SUCCESS");
    sandbox.set_faults(wxpay_sandbox::Faults::default());
    assert_eq!(query(&merchant, "faults-1").await["trade_state"], "SUCCESS");
}
