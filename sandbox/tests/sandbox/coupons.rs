//! Coupons: sending from a running stock within its limits, idempotency on
//! `out_request_no`, querying a coupon, the callback URL.

use serde_json::{Value, json};

use crate::common::{Merchant, is_beijing_rfc3339, sandbox, stock_body};

/// Creates and starts a stock with these limits; returns its id.
pub async fn running_stock(
    merchant: &Merchant,
    out_request_no: &str,
    max_coupons: u64,
    per_user: u64,
) -> String {
    let mut body = stock_body(merchant.mchid(), out_request_no);
    body["stock_use_rule"]["max_coupons"] = json!(max_coupons);
    body["stock_use_rule"]["max_coupons_per_user"] = json!(per_user);
    let answer = merchant
        .post("/v3/marketing/favor/coupon-stocks", &body)
        .await;
    assert_eq!(answer.status, 200);
    let stock_id = answer.json()["stock_id"].as_str().expect("id").to_owned();
    assert_eq!(merchant.act(&stock_id, "start").await.status, 200);
    stock_id
}

pub fn send_body(merchant: &Merchant, stock_id: &str, out_request_no: &str) -> Value {
    json!({
        "stock_id": stock_id,
        "out_request_no": out_request_no,
        "appid": "wx233544546545989",
        "stock_creator_mchid": merchant.mchid()
    })
}

pub async fn send(
    merchant: &Merchant,
    openid: &str,
    stock_id: &str,
    out_request_no: &str,
) -> crate::common::Answer {
    merchant
        .post(
            &format!("/v3/marketing/favor/users/{openid}/coupons"),
            &send_body(merchant, stock_id, out_request_no),
        )
        .await
}

pub async fn query_coupon(
    merchant: &Merchant,
    openid: &str,
    coupon_id: &str,
) -> crate::common::Answer {
    merchant
        .get(&format!(
            "/v3/marketing/favor/users/{openid}/coupons/{coupon_id}?appid=wx233544546545989"
        ))
        .await
}

async fn distributed(merchant: &Merchant, stock_id: &str) -> Value {
    merchant
        .get(&format!(
            "/v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid={}",
            merchant.mchid()
        ))
        .await
        .json()["distributed_coupons"]
        .clone()
}

#[tokio::test]
async fn a_coupon_is_sent_and_queried() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let stock_id = running_stock(&merchant, "coupon-flow", 10, 2).await;

    let sent = send(&merchant, "o-user-1", &stock_id, "send-1").await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    sent.assert_verified(credentials);
    let coupon_id = sent.json()["coupon_id"]
        .as_str()
        .expect("coupon_id")
        .to_owned();
    assert!(coupon_id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(distributed(&merchant, &stock_id).await, 1);

    let coupon = query_coupon(&merchant, "o-user-1", &coupon_id).await;
    assert_eq!(coupon.status, 200);
    coupon.assert_verified(credentials);
    let coupon = coupon.json();
    assert_eq!(coupon["coupon_id"], coupon_id.as_str());
    assert_eq!(coupon["stock_id"], stock_id.as_str());
    assert_eq!(coupon["stock_creator_mchid"], merchant.mchid());
    assert_eq!(coupon["coupon_name"], "微信支付代金券批次");
    assert_eq!(coupon["status"], "SENDED");
    assert_eq!(coupon["description"], "微信支付营销");
    assert_eq!(coupon["coupon_type"], "NORMAL");
    assert_eq!(coupon["no_cash"], false);
    assert_eq!(coupon["singleitem"], false);
    assert_eq!(coupon["available_begin_time"], "2030-01-01T00:00:00+08:00");
    assert_eq!(coupon["available_end_time"], "2030-01-31T23:59:59+08:00");
    assert_eq!(
        coupon["normal_coupon_information"],
        json!({"coupon_amount": 100, "transaction_minimum": 100})
    );
    assert!(is_beijing_rfc3339(
        coupon["create_time"].as_str().expect("time")
    ));

    // Another user, another appid: not found.
    query_coupon(&merchant, "o-user-2", &coupon_id)
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    merchant
        .get(&format!(
            "/v3/marketing/favor/users/o-user-1/coupons/{coupon_id}?appid=wx-other"
        ))
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    let json = merchant
        .get(&format!(
            "/v3/marketing/favor/users/o-user-1/coupons/{coupon_id}"
        ))
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/appid");
}

#[tokio::test]
async fn sends_respect_the_stock_s_state_and_limits() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    // Not started yet.
    let stock_id = merchant.create_stock("coupon-unactivated").await;
    send(&merchant, "o-1", &stock_id, "limits-0")
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    // Paused.
    let stock_id = running_stock(&merchant, "coupon-limits", 3, 2).await;
    assert_eq!(merchant.act(&stock_id, "pause").await.status, 200);
    let json = send(&merchant, "o-1", &stock_id, "limits-1")
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains("paused"),
        "{json}"
    );
    assert_eq!(merchant.act(&stock_id, "restart").await.status, 200);

    // Two per user.
    assert_eq!(
        send(&merchant, "o-1", &stock_id, "limits-2").await.status,
        200
    );
    assert_eq!(
        send(&merchant, "o-1", &stock_id, "limits-3").await.status,
        200
    );
    send(&merchant, "o-1", &stock_id, "limits-4")
        .await
        .assert_error(credentials, 403, "RULE_LIMIT");
    // Three in all.
    assert_eq!(
        send(&merchant, "o-2", &stock_id, "limits-5").await.status,
        200
    );
    send(&merchant, "o-3", &stock_id, "limits-6")
        .await
        .assert_error(credentials, 403, "NOT_ENOUGH");
    assert_eq!(distributed(&merchant, &stock_id).await, 3);

    // Unknown stock, another creator.
    send(&merchant, "o-1", "12345", "limits-7")
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    let mut body = send_body(&merchant, &stock_id, "limits-8");
    body["stock_creator_mchid"] = json!("1234567890");
    merchant
        .post("/v3/marketing/favor/users/o-1/coupons", &body)
        .await
        .assert_error(credentials, 403, "NO_AUTH");
    // Required fields.
    for field in ["stock_id", "out_request_no", "appid", "stock_creator_mchid"] {
        let mut body = send_body(&merchant, &stock_id, "limits-9");
        body.as_object_mut().expect("object").remove(field);
        let json = merchant
            .post("/v3/marketing/favor/users/o-1/coupons", &body)
            .await
            .assert_error(credentials, 400, "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], format!("/{field}"));
    }
}

#[tokio::test]
async fn out_request_no_is_idempotent() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let stock_id = running_stock(&merchant, "coupon-idem", 10, 1).await;
    let first = send(&merchant, "o-1", &stock_id, "idem-1").await.json();
    let again = send(&merchant, "o-1", &stock_id, "idem-1").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json(), first);
    assert_eq!(distributed(&merchant, &stock_id).await, 1);
    // The same number for another user is refused.
    send(&merchant, "o-2", &stock_id, "idem-1")
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn the_callback_url_is_set_and_read() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let mchid = merchant.mchid().to_owned();
    merchant
        .get(&format!("/v3/marketing/favor/callbacks?mchid={mchid}"))
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    let set = merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": mchid, "notify_url": "https://merchant.example/coupons"}),
        )
        .await;
    assert_eq!(set.status, 200);
    set.assert_verified(credentials);
    let set = set.json();
    assert_eq!(set["notify_url"], "https://merchant.example/coupons");
    assert!(is_beijing_rfc3339(
        set["update_time"].as_str().expect("update_time")
    ));
    let read = merchant
        .get(&format!("/v3/marketing/favor/callbacks?mchid={mchid}"))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.json(),
        json!({"mchid": mchid, "notify_url": "https://merchant.example/coupons"})
    );
    merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": "1234567890", "notify_url": "https://merchant.example/"}),
        )
        .await
        .assert_error(credentials, 403, "NO_AUTH");
    let json = merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": mchid, "notify_url": "not a url"}),
        )
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/notify_url");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_never_exceed_max_coupons() {
    let sandbox = sandbox().await;
    let merchant = std::sync::Arc::new(Merchant::new(&sandbox));
    let stock_id = running_stock(&merchant, "coupon-concurrent", 10, 1).await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let merchant = merchant.clone();
        let stock_id = stock_id.clone();
        tasks.push(tokio::spawn(async move {
            let answer = send(&merchant, &format!("o-{i}"), &stock_id, &format!("c-{i}")).await;
            (answer.status, answer.json())
        }));
    }
    let mut sent = Vec::new();
    for task in tasks {
        let (status, json) = task.await.expect("task");
        match status {
            200 => sent.push(json["coupon_id"].as_str().expect("id").to_owned()),
            403 => assert_eq!(json["code"], "NOT_ENOUGH", "{json}"),
            other => panic!("unexpected {other}: {json}"),
        }
    }
    assert_eq!(sent.len(), 10);
    let unique: std::collections::BTreeSet<_> = sent.iter().collect();
    assert_eq!(unique.len(), 10);
    assert_eq!(distributed(&merchant, &stock_id).await, 10);
}
