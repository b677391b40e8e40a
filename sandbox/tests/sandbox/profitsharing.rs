//! Profit sharing (分账): receivers with encrypted names, sharing a paid
//! transaction, the limits (unsplit amount, 30 % ratio, receivers added,
//! the profit-sharing flag), idempotency on `out_order_no`, returns,
//! unfreezing, the unsplit amount, and the `PROFITSHARING.SUCCESS` and
//! `PROFITSHARING.RETURN` callbacks.

use std::time::Duration;

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use wxpay_sandbox::Credentials;

use crate::common::{Answer, Merchant, SCHEME, is_beijing_rfc3339, now, sandbox};
use crate::payments::{jsapi_order, pay};
use crate::receiver::{Received, Receiver, decrypt};

/// How long a callback may take to arrive on a loaded machine.
const ARRIVAL: Duration = Duration::from_secs(10);

const RECEIVER_MCHID: &str = "1900000110";

/// Encrypts a sensitive field with the platform public key (RSA-OAEP,
/// SHA-1), as a merchant does.
fn encrypt(public_key_pem: &str, plain: &str) -> String {
    let pem = pem::parse(public_key_pem).expect("public key PEM");
    let key = OaepPublicEncryptingKey::new(
        PublicEncryptingKey::from_der(pem.contents()).expect("RSA public key"),
    )
    .expect("OAEP key");
    let mut output = vec![0u8; key.ciphertext_size()];
    let ciphertext = key
        .encrypt(&OAEP_SHA1_MGF1SHA1, plain.as_bytes(), &mut output, None)
        .expect("encrypts");
    BASE64.encode(ciphertext)
}

/// A signed POST carrying `Wechatpay-Serial` when given.
async fn post_serial(
    merchant: &Merchant,
    target: &str,
    body: &Value,
    serial: Option<&str>,
) -> Answer {
    let body = body.to_string();
    let authorization = merchant.auth_parts("POST", target, &body).header();
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}{target}", merchant.base_url))
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .body(body);
    if let Some(serial) = serial {
        request = request.header("Wechatpay-Serial", serial);
    }
    let response = request.send().await.expect("sandbox reachable");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

#[track_caller]
fn ok(answer: &Answer, credentials: &Credentials) -> Value {
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(credentials);
    answer.json()
}

/// Asserts that `value` has every field in `fields` (the required members
/// of the generated response type).
#[track_caller]
fn has_all(value: &Value, fields: &[&str]) {
    for field in fields {
        assert!(
            value.get(*field).is_some_and(|v| !v.is_null()),
            "{field} missing from {value}"
        );
    }
}

const ORDER_FIELDS: &[&str] = &["transaction_id", "out_order_no", "order_id", "state"];
const ORDER_RECEIVER_FIELDS: &[&str] = &[
    "amount",
    "description",
    "type",
    "account",
    "result",
    "create_time",
    "finish_time",
];
const RETURN_FIELDS: &[&str] = &[
    "order_id",
    "out_order_no",
    "out_return_no",
    "return_id",
    "return_mchid",
    "amount",
    "description",
    "result",
    "create_time",
    "finish_time",
];

/// Places a JSAPI order of `total` fen (with `settle_info.profit_sharing`
/// as `shareable` says) notifying `notify_url`, pays it, and returns its
/// transaction id.
async fn paid_order(
    merchant: &Merchant,
    out_trade_no: &str,
    total: i64,
    shareable: bool,
    notify_url: &str,
) -> String {
    let mut body = jsapi_order(merchant.mchid(), out_trade_no, total);
    body["notify_url"] = json!(notify_url);
    body["settle_info"] = json!({"profit_sharing": shareable});
    ok(
        &merchant.post("/v3/pay/transactions/jsapi", &body).await,
        &merchant.credentials,
    );
    let paid = pay(merchant, out_trade_no, "").await;
    paid["transaction_id"]
        .as_str()
        .expect("transaction_id")
        .to_owned()
}

/// Adds the merchant receiver [`RECEIVER_MCHID`] with an encrypted name.
async fn add_merchant_receiver(merchant: &Merchant) -> Answer {
    let credentials = &merchant.credentials;
    post_serial(
        merchant,
        "/v3/profitsharing/receivers/add",
        &json!({
            "appid": "wxd678efh567hg6787",
            "type": "MERCHANT_ID",
            "account": RECEIVER_MCHID,
            "name": encrypt(&credentials.platform_public_key_pem, "深圳腾大分店"),
            "relation_type": "STORE"
        }),
        Some(&credentials.public_key_id),
    )
    .await
}

fn sharing(transaction_id: &str, out_order_no: &str, amount: i64, unfreeze: bool) -> Value {
    json!({
        "appid": "wxd678efh567hg6787",
        "transaction_id": transaction_id,
        "out_order_no": out_order_no,
        "receivers": [{
            "type": "MERCHANT_ID",
            "account": RECEIVER_MCHID,
            "amount": amount,
            "description": "分给门店"
        }],
        "unfreeze_unsplit": unfreeze
    })
}

async fn unsplit(merchant: &Merchant, transaction_id: &str) -> i64 {
    let answer = merchant
        .get(&format!(
            "/v3/profitsharing/transactions/{transaction_id}/amounts"
        ))
        .await;
    let amounts = ok(&answer, &merchant.credentials);
    has_all(&amounts, &["transaction_id", "unsplit_amount"]);
    assert_eq!(amounts["transaction_id"], transaction_id);
    amounts["unsplit_amount"].as_i64().expect("unsplit_amount")
}

/// Checks a profit-sharing callback as a merchant must and returns its
/// decrypted resource.
#[track_caller]
fn open(callback: &Received, credentials: &Credentials, event_type: &str) -> Value {
    assert_eq!(callback.header("wechatpay-signature-type"), SCHEME);
    assert_eq!(
        callback.header("wechatpay-serial"),
        credentials.public_key_id
    );
    let timestamp: i64 = callback
        .header("wechatpay-timestamp")
        .parse()
        .expect("timestamp");
    assert!((timestamp - now()).abs() <= 300);
    callback
        .verify(&credentials.platform_public_key_pem)
        .expect("the callback is signed by the platform key");
    let body = callback.json();
    assert_eq!(body["event_type"], event_type, "{body}");
    assert_eq!(body["resource_type"], "encrypt-resource", "{body}");
    assert_eq!(body["resource"]["original_type"], "profitsharing", "{body}");
    serde_json::from_slice(&decrypt(&credentials.apiv3_key, &body["resource"]))
        .expect("the resource is JSON")
}

#[tokio::test]
async fn a_paid_order_is_shared_returned_and_unfrozen_with_callbacks() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let receiver = Receiver::start(vec![]).await;
    let transaction_id = paid_order(&merchant, "ps-flow-1", 1000, true, &receiver.url).await;
    // The payment's own callback.
    receiver.wait_for(1, ARRIVAL).await;
    assert_eq!(unsplit(&merchant, &transaction_id).await, 1000);

    let added = ok(&add_merchant_receiver(&merchant).await, credentials);
    has_all(&added, &["type", "account", "relation_type"]);
    assert_eq!(added["account"], RECEIVER_MCHID);
    assert_eq!(added["relation_type"], "STORE");

    // Share 250 of 1000 (the limit is 30 %: 300).
    let body = sharing(&transaction_id, "P-flow-1", 250, false);
    let created = ok(
        &merchant.post("/v3/profitsharing/orders", &body).await,
        credentials,
    );
    has_all(&created, ORDER_FIELDS);
    assert_eq!(created["state"], "PROCESSING");
    assert_eq!(created["transaction_id"], transaction_id.as_str());
    assert_eq!(created["out_order_no"], "P-flow-1");
    let order_id = created["order_id"].as_str().expect("order_id").to_owned();
    assert_eq!(order_id.len(), 28, "{order_id}");
    let receivers = created["receivers"].as_array().expect("receivers");
    assert_eq!(receivers.len(), 1);
    has_all(&receivers[0], ORDER_RECEIVER_FIELDS);
    assert_eq!(receivers[0]["result"], "PENDING");
    assert_eq!(receivers[0]["amount"], 250);
    assert!(is_beijing_rfc3339(
        receivers[0]["create_time"].as_str().expect("time")
    ));

    let target = format!("/v3/profitsharing/orders/P-flow-1?transaction_id={transaction_id}");
    let queried = ok(&merchant.get(&target).await, credentials);
    has_all(&queried, ORDER_FIELDS);
    assert_eq!(queried["state"], "FINISHED");
    assert_eq!(queried["order_id"], order_id.as_str());
    has_all(&queried["receivers"][0], ORDER_RECEIVER_FIELDS);
    assert_eq!(queried["receivers"][0]["result"], "SUCCESS");
    assert_eq!(unsplit(&merchant, &transaction_id).await, 750);

    // One PROFITSHARING.SUCCESS for the receiver, to the order's notify_url.
    let received = receiver.wait_for(2, ARRIVAL).await;
    let resource = open(&received[1], credentials, "PROFITSHARING.SUCCESS");
    assert_eq!(resource["mchid"], merchant.mchid());
    assert_eq!(resource["transaction_id"], transaction_id.as_str());
    assert_eq!(resource["order_id"], order_id.as_str());
    assert_eq!(resource["out_order_no"], "P-flow-1");
    assert_eq!(
        resource["receiver"],
        json!({"type": "MERCHANT_ID", "account": RECEIVER_MCHID, "amount": 250,
               "description": "分给门店"})
    );
    assert!(is_beijing_rfc3339(
        resource["success_time"].as_str().expect("success_time")
    ));

    // The same out_order_no and body: the same order, nothing moves again;
    // another body: refused.
    let again = ok(
        &merchant.post("/v3/profitsharing/orders", &body).await,
        credentials,
    );
    assert_eq!(again["order_id"], order_id.as_str());
    assert_eq!(unsplit(&merchant, &transaction_id).await, 750);
    merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&transaction_id, "P-flow-1", 10, false),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");

    // Return 100 of the 250.
    let return_body = json!({
        "out_order_no": "P-flow-1", "out_return_no": "R-flow-1",
        "return_mchid": RECEIVER_MCHID, "amount": 100, "description": "用户退款"
    });
    let returned = ok(
        &merchant
            .post("/v3/profitsharing/return-orders", &return_body)
            .await,
        credentials,
    );
    has_all(&returned, RETURN_FIELDS);
    assert_eq!(returned["result"], "PROCESSING");
    assert_eq!(returned["order_id"], order_id.as_str());
    let queried = ok(
        &merchant
            .get("/v3/profitsharing/return-orders/R-flow-1?out_order_no=P-flow-1")
            .await,
        credentials,
    );
    has_all(&queried, RETURN_FIELDS);
    assert_eq!(queried["result"], "SUCCESS");
    assert_eq!(queried["return_id"], returned["return_id"]);
    let received = receiver.wait_for(3, ARRIVAL).await;
    let resource = open(&received[2], credentials, "PROFITSHARING.RETURN");
    assert_eq!(resource["order_id"], returned["return_id"]);
    assert_eq!(resource["out_order_no"], "R-flow-1");
    assert_eq!(resource["receiver"]["amount"], 100);
    assert_eq!(resource["receiver"]["account"], RECEIVER_MCHID);

    // Not more than the receiver got: 150 are left to return.
    merchant
        .post(
            "/v3/profitsharing/return-orders",
            &json!({
                "out_order_no": "P-flow-1", "out_return_no": "R-flow-2",
                "return_mchid": RECEIVER_MCHID, "amount": 151, "description": "用户退款"
            }),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    merchant
        .get("/v3/profitsharing/return-orders/R-flow-2?out_order_no=P-flow-1")
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");

    // Unfreeze the rest: nothing more to share.
    let unfrozen = ok(
        &merchant
            .post(
                "/v3/profitsharing/orders/unfreeze",
                &json!({"transaction_id": transaction_id, "out_order_no": "U-flow-1",
                        "description": "解冻全部剩余资金"}),
            )
            .await,
        credentials,
    );
    has_all(&unfrozen, ORDER_FIELDS);
    assert_eq!(unfrozen["state"], "PROCESSING");
    assert_eq!(unsplit(&merchant, &transaction_id).await, 0);
    let queried = ok(
        &merchant
            .get(&format!(
                "/v3/profitsharing/orders/U-flow-1?transaction_id={transaction_id}"
            ))
            .await,
        credentials,
    );
    assert_eq!(queried["state"], "FINISHED");
    assert_eq!(queried["receivers"][0]["amount"], 750);
    assert_eq!(queried["receivers"][0]["account"], merchant.mchid());
    merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&transaction_id, "P-flow-2", 10, false),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    assert_eq!(receiver.received().len(), 3, "no other callback");
    // The dashboard lists the sharing and the unfreeze.
    let page = crate::receiver::control(&sandbox, "GET", "/_sandbox/", None).await;
    let html = String::from_utf8(page.body).expect("UTF-8");
    assert!(
        html.contains("P-flow-1") && html.contains("U-flow-1"),
        "{html}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn unfreeze_unsplit_finishes_the_transaction() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let transaction_id = paid_order(
        &merchant,
        "ps-once-1",
        200,
        true,
        "https://merchant.example/notify",
    )
    .await;
    ok(&add_merchant_receiver(&merchant).await, credentials);
    let created = ok(
        &merchant
            .post(
                "/v3/profitsharing/orders",
                &sharing(&transaction_id, "P-once-1", 60, true),
            )
            .await,
        credentials,
    );
    assert_eq!(created["state"], "PROCESSING");
    assert_eq!(unsplit(&merchant, &transaction_id).await, 0);
    let queried = ok(
        &merchant
            .get(&format!(
                "/v3/profitsharing/orders/P-once-1?transaction_id={transaction_id}"
            ))
            .await,
        credentials,
    );
    let receivers = queried["receivers"].as_array().expect("receivers");
    assert_eq!(receivers.len(), 2, "{queried}");
    assert_eq!(receivers[1]["amount"], 140);
    assert_eq!(receivers[1]["account"], merchant.mchid());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn refusals_name_the_problem_and_change_nothing() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let notify = "https://merchant.example/notify";
    let transaction_id = paid_order(&merchant, "ps-refuse-1", 1000, true, notify).await;

    // The receiver was not added yet.
    let refused = merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&transaction_id, "P-refuse-1", 100, false),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("receivers/add")),
        "{refused}"
    );

    // Adding needs the name (encrypted), Wechatpay-Serial, a known key.
    let add = |name: Option<String>| {
        let mut body = json!({
            "appid": "wxd678efh567hg6787", "type": "MERCHANT_ID",
            "account": RECEIVER_MCHID, "relation_type": "STORE"
        });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        body
    };
    let error = post_serial(
        &merchant,
        "/v3/profitsharing/receivers/add",
        &add(None),
        Some(&credentials.public_key_id),
    )
    .await
    .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(error["detail"]["field"], "/name");
    let name = encrypt(&credentials.platform_public_key_pem, "深圳腾大分店");
    post_serial(
        &merchant,
        "/v3/profitsharing/receivers/add",
        &add(Some(name.clone())),
        None,
    )
    .await
    .assert_error(credentials, 400, "PARAM_ERROR");
    post_serial(
        &merchant,
        "/v3/profitsharing/receivers/add",
        &add(Some(name)),
        Some("PUB_KEY_ID_0000000000000000000000000000"),
    )
    .await
    .assert_error(credentials, 400, "PARAM_ERROR");
    let error = post_serial(
        &merchant,
        "/v3/profitsharing/receivers/add",
        &add(Some(BASE64.encode(b"not encrypted"))),
        Some(&credentials.public_key_id),
    )
    .await
    .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(error["detail"]["field"], "/name");
    ok(&add_merchant_receiver(&merchant).await, credentials);

    // More than 30 % of the total to receivers.
    let error = merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&transaction_id, "P-refuse-1", 301, false),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("30%")),
        "{error}"
    );
    // More than is unsplit (the merchant itself may receive beyond 30 %).
    let mut too_much = sharing(&transaction_id, "P-refuse-1", 100, false);
    too_much["receivers"]
        .as_array_mut()
        .expect("receivers")
        .push(json!({"type": "MERCHANT_ID", "account": merchant.mchid(),
                     "amount": 901, "description": "自己"}));
    merchant
        .post("/v3/profitsharing/orders", &too_much)
        .await
        .assert_error(credentials, 403, "NOT_ENOUGH");
    // A bad out_order_no, a missing field.
    merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&transaction_id, "P refuse", 1, false),
        )
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    let mut missing = sharing(&transaction_id, "P-refuse-1", 1, false);
    missing
        .as_object_mut()
        .expect("object")
        .remove("unfreeze_unsplit");
    merchant
        .post("/v3/profitsharing/orders", &missing)
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    // An unknown transaction, an unpaid one, one placed without the flag.
    merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing("4200000000000000000000000000", "P-refuse-1", 1, false),
        )
        .await
        .assert_error(credentials, 404, "ORDER_NOT_EXIST");
    let plain = paid_order(&merchant, "ps-refuse-2", 1000, false, notify).await;
    let error = merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&plain, "P-refuse-1", 1, false),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("profit_sharing")),
        "{error}"
    );
    merchant
        .get(&format!("/v3/profitsharing/transactions/{plain}/amounts"))
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    // Queries of what does not exist.
    merchant
        .get(&format!(
            "/v3/profitsharing/orders/P-refuse-1?transaction_id={transaction_id}"
        ))
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    merchant
        .get("/v3/profitsharing/orders/P-refuse-1")
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    merchant
        .post(
            "/v3/profitsharing/return-orders",
            &json!({"out_order_no": "P-none", "out_return_no": "R-none",
                    "return_mchid": RECEIVER_MCHID, "amount": 1, "description": "d"}),
        )
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");

    // Nothing moved.
    assert_eq!(unsplit(&merchant, &transaction_id).await, 1000);

    // A deleted receiver cannot be shared with.
    let deleted = ok(
        &merchant
            .post(
                "/v3/profitsharing/receivers/delete",
                &json!({"appid": "wxd678efh567hg6787", "type": "MERCHANT_ID",
                        "account": RECEIVER_MCHID}),
            )
            .await,
        credentials,
    );
    has_all(&deleted, &["type", "account"]);
    merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&transaction_id, "P-refuse-1", 100, false),
        )
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    assert_eq!(unsplit(&merchant, &transaction_id).await, 1000);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn personal_receivers_and_sub_merchants_are_kept_apart() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let transaction_id = paid_order(
        &merchant,
        "ps-personal-1",
        1000,
        true,
        "https://merchant.example/notify",
    )
    .await;
    let openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

    // A personal receiver (name optional) added for a sub-merchant only.
    let added = ok(
        &merchant
            .post(
                "/v3/profitsharing/receivers/add",
                &json!({"sub_mchid": "1900000109", "appid": "wxd678efh567hg6787",
                        "type": "PERSONAL_OPENID", "account": openid,
                        "relation_type": "CUSTOM", "custom_relation": "代理商"}),
            )
            .await,
        credentials,
    );
    assert_eq!(added["sub_mchid"], "1900000109");
    assert_eq!(added["custom_relation"], "代理商");
    let personal = |sub_mchid: Option<&str>, out_order_no: &str| {
        let mut body = json!({
            "transaction_id": transaction_id, "out_order_no": out_order_no,
            "receivers": [{"type": "PERSONAL_OPENID", "account": openid, "amount": 100,
                           "description": "佣金"}],
            "unfreeze_unsplit": false
        });
        if let Some(sub_mchid) = sub_mchid {
            body["sub_mchid"] = json!(sub_mchid);
        }
        body
    };
    // Not a receiver of the merchant itself.
    merchant
        .post("/v3/profitsharing/orders", &personal(None, "P-personal-1"))
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    // For the sub-merchant it is (under the transaction's appid).
    let created = ok(
        &merchant
            .post(
                "/v3/profitsharing/orders",
                &personal(Some("1900000109"), "P-personal-1"),
            )
            .await,
        credentials,
    );
    assert_eq!(created["sub_mchid"], "1900000109");
    assert_eq!(created["receivers"][0]["type"], "PERSONAL_OPENID");
    assert_eq!(unsplit(&merchant, &transaction_id).await, 900);
    // CUSTOM without custom_relation is refused.
    let error = merchant
        .post(
            "/v3/profitsharing/receivers/add",
            &json!({"appid": "wxd678efh567hg6787", "type": "PERSONAL_OPENID",
                    "account": openid, "relation_type": "CUSTOM"}),
        )
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(error["detail"]["field"], "/custom_relation");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_restart_on_the_same_folder_keeps_receivers_orders_and_returns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = crate::persistence::start_on(dir.path(), None).await;
    let credentials = first.credentials().clone();
    let merchant = Merchant::new(&first);
    let transaction_id = paid_order(
        &merchant,
        "ps-persist-1",
        1000,
        true,
        "https://merchant.example/notify",
    )
    .await;
    ok(&add_merchant_receiver(&merchant).await, &credentials);
    let created = ok(
        &merchant
            .post(
                "/v3/profitsharing/orders",
                &sharing(&transaction_id, "P-persist-1", 200, false),
            )
            .await,
        &credentials,
    );
    ok(
        &merchant
            .post(
                "/v3/profitsharing/return-orders",
                &json!({"out_order_no": "P-persist-1", "out_return_no": "R-persist-1",
                        "return_mchid": RECEIVER_MCHID, "amount": 50, "description": "退"}),
            )
            .await,
        &credentials,
    );
    first.shutdown().await;

    let second = crate::persistence::start_on(dir.path(), Some(&credentials)).await;
    let merchant = Merchant::new(&second);
    let credentials = second.credentials().clone();
    let queried = ok(
        &merchant
            .get(&format!(
                "/v3/profitsharing/orders/P-persist-1?transaction_id={transaction_id}"
            ))
            .await,
        &credentials,
    );
    assert_eq!(queried["order_id"], created["order_id"]);
    assert_eq!(queried["state"], "FINISHED");
    assert_eq!(unsplit(&merchant, &transaction_id).await, 800);
    let returned = ok(
        &merchant
            .get("/v3/profitsharing/return-orders/R-persist-1?out_order_no=P-persist-1")
            .await,
        &credentials,
    );
    assert_eq!(returned["amount"], 50);
    // The receiver is still there, and ids count on.
    let again = ok(
        &merchant
            .post(
                "/v3/profitsharing/orders",
                &sharing(&transaction_id, "P-persist-2", 100, false),
            )
            .await,
        &credentials,
    );
    assert_ne!(again["order_id"], created["order_id"]);
    // 300 of the 30 % are now shared: one more fen is refused.
    merchant
        .post(
            "/v3/profitsharing/orders",
            &sharing(&transaction_id, "P-persist-3", 1, false),
        )
        .await
        .assert_error(&credentials, 400, "INVALID_REQUEST");
    second.shutdown().await;
}
