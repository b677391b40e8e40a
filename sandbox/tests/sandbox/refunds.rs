//! Refunds: applying, the amount and state rules, idempotency on
//! `out_refund_no`, querying.

use serde_json::{Value, json};

use crate::common::{Merchant, is_beijing_rfc3339, sandbox};
use crate::payments::{pay, place, query};

pub fn refund_body(out_trade_no: &str, out_refund_no: &str, refund: i64, total: i64) -> Value {
    json!({
        "out_trade_no": out_trade_no,
        "out_refund_no": out_refund_no,
        "reason": "商品已售完",
        "notify_url": "https://weixin.qq.com/refund",
        "funds_account": "AVAILABLE",
        "amount": {"refund": refund, "total": total, "currency": "CNY"}
    })
}

async fn query_refund(merchant: &Merchant, out_refund_no: &str) -> crate::common::Answer {
    merchant
        .get(&format!("/v3/refund/domestic/refunds/{out_refund_no}"))
        .await
}

#[tokio::test]
async fn a_paid_order_is_refunded_in_parts() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    place(&merchant, "refund-flow-1", 100).await;
    let paid = pay(&merchant, "refund-flow-1", "").await;

    let applied = merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("refund-flow-1", "refund-1", 30, 100),
        )
        .await;
    assert_eq!(
        applied.status,
        200,
        "{}",
        String::from_utf8_lossy(&applied.body)
    );
    applied.assert_verified(credentials);
    let applied = applied.json();
    for field in [
        "refund_id",
        "out_refund_no",
        "transaction_id",
        "out_trade_no",
        "channel",
        "user_received_account",
        "create_time",
        "status",
        "amount",
    ] {
        assert!(
            applied.get(field).is_some(),
            "{field} missing from {applied}"
        );
    }
    assert_eq!(applied["status"], "PROCESSING");
    assert_eq!(applied["transaction_id"], paid["transaction_id"]);
    assert_eq!(applied["out_trade_no"], "refund-flow-1");
    assert_eq!(applied["amount"]["refund"], 30);
    assert_eq!(applied["amount"]["total"], 100);
    assert_eq!(applied["amount"]["payer_refund"], 30);
    assert_eq!(applied["amount"]["currency"], "CNY");
    let refund_id = applied["refund_id"].as_str().expect("refund_id");
    assert_eq!(refund_id.len(), 29, "{refund_id}");
    assert!(is_beijing_rfc3339(
        applied["create_time"].as_str().expect("time")
    ));

    // It has succeeded by the time anyone asks.
    let queried = query_refund(&merchant, "refund-1").await;
    assert_eq!(queried.status, 200);
    queried.assert_verified(credentials);
    let queried = queried.json();
    assert_eq!(queried["status"], "SUCCESS");
    assert_eq!(queried["refund_id"], applied["refund_id"]);
    assert!(is_beijing_rfc3339(
        queried["success_time"].as_str().expect("success_time")
    ));
    let order = query(&merchant, "refund-flow-1").await;
    assert_eq!(order["trade_state"], "REFUND");
    assert_eq!(order["trade_state_desc"], "转入退款");

    // By transaction_id too, up to the total and not beyond.
    let by_id = json!({
        "transaction_id": paid["transaction_id"],
        "out_refund_no": "refund-2",
        "amount": {"refund": 70, "total": 100, "currency": "CNY"}
    });
    let answer = merchant.post("/v3/refund/domestic/refunds", &by_id).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let json = merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("refund-flow-1", "refund-3", 1, 100),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains("0 of 100 left"),
        "{json}"
    );
}

#[tokio::test]
async fn refunds_follow_the_order_s_rules() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    place(&merchant, "refund-rules-1", 100).await;
    // Not paid yet.
    merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("refund-rules-1", "rr-1", 10, 100),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    pay(&merchant, "refund-rules-1", "").await;
    // The total must be the order's.
    merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("refund-rules-1", "rr-2", 10, 99),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    // More than was paid.
    merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("refund-rules-1", "rr-3", 101, 100),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    // Unknown orders and refunds.
    merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("no-such-order", "rr-4", 1, 100),
        )
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    query_refund(&merchant, "rr-404")
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    // Nothing of the refused ones was kept.
    for no in ["rr-1", "rr-2", "rr-3", "rr-4"] {
        assert_eq!(query_refund(&merchant, no).await.status, 404, "{no}");
    }
    assert_eq!(
        query(&merchant, "refund-rules-1").await["trade_state"],
        "SUCCESS"
    );
}

#[tokio::test]
async fn out_refund_no_is_idempotent() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    place(&merchant, "refund-idem-1", 100).await;
    pay(&merchant, "refund-idem-1", "").await;
    let body = refund_body("refund-idem-1", "ri-1", 60, 100);
    let first = merchant
        .post("/v3/refund/domestic/refunds", &body)
        .await
        .json();
    // Again: the same refund (now SUCCESS), not a second 60.
    let again = merchant.post("/v3/refund/domestic/refunds", &body).await;
    assert_eq!(again.status, 200);
    let again = again.json();
    assert_eq!(again["refund_id"], first["refund_id"]);
    assert_eq!(again["status"], "SUCCESS");
    // 40 are left, so a second refund of 60 under another number fails.
    merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("refund-idem-1", "ri-2", 60, 100),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    // The same number with another amount is refused.
    merchant
        .post(
            "/v3/refund/domestic/refunds",
            &refund_body("refund-idem-1", "ri-1", 10, 100),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
}

#[tokio::test]
async fn refund_fields_are_checked() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let valid = refund_body("refund-check-1", "rc-1", 1, 100);
    let mut cases = Vec::new();
    let mut edit = |field: &str, value: Option<Value>, pointer: &'static str| {
        let mut body = valid.clone();
        match value {
            Some(value) => body[field] = value,
            None => {
                body.as_object_mut().expect("object").remove(field);
            }
        }
        cases.push((body, pointer));
    };
    edit("out_refund_no", None, "/out_refund_no");
    edit("out_refund_no", Some(json!("a b")), "/out_refund_no");
    edit("out_trade_no", None, "/transaction_id");
    edit("amount", None, "/amount");
    edit(
        "amount",
        Some(json!({"total": 100, "currency": "CNY"})),
        "/amount/refund",
    );
    edit(
        "amount",
        Some(json!({"refund": 1, "currency": "CNY"})),
        "/amount/total",
    );
    edit(
        "amount",
        Some(json!({"refund": 1, "total": 100})),
        "/amount/currency",
    );
    edit(
        "amount",
        Some(json!({"refund": 0, "total": 100, "currency": "CNY"})),
        "/amount/refund",
    );
    edit("notify_url", Some(json!("refund.example")), "/notify_url");
    edit("funds_account", Some(json!("ELSEWHERE")), "/funds_account");
    for (body, pointer) in cases {
        let json = merchant
            .post("/v3/refund/domestic/refunds", &body)
            .await
            .assert_error(credentials, 400, "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], pointer, "{body}: {json}");
    }
}
