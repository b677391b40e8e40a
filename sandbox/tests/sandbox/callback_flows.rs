//! The flows and the callback delivery together: paying an order, refunding
//! it and sending a coupon each make exactly the callback the crate docs
//! promise, at the right URL, signed, encrypted, and holding what the
//! matching query answers; a merchant that fails first gets it on a later
//! attempt.

use std::time::Duration;

use serde_json::{Value, json};
use wxpay_sandbox::{CallbackAttempt, CallbackOutcome, Credentials, Sandbox, SandboxConfig};

use crate::common::{Merchant, SCHEME, now, test_keys};
use crate::coupons::{query_coupon, running_stock, send};
use crate::payments::{jsapi_order, pay, query};
use crate::receiver::{Behaviour, Received, Receiver, control, decrypt};

/// How long a callback may take to arrive on a loaded machine.
const ARRIVAL: Duration = Duration::from_secs(10);

async fn sandbox_with(config: SandboxConfig) -> Sandbox {
    let keys = test_keys();
    Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        ..config
    })
    .await
    .expect("sandbox starts")
}

/// Places a JSAPI order whose `notify_url` is `notify_url`.
async fn place_notifying(merchant: &Merchant, out_trade_no: &str, total: i64, notify_url: &str) {
    let mut body = jsapi_order(merchant.mchid(), out_trade_no, total);
    body["notify_url"] = json!(notify_url);
    let answer = merchant.post("/v3/pay/transactions/jsapi", &body).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(&merchant.credentials);
}

/// Applies for a refund of `refund` fen of an order of `total`, with the
/// refund's own `notify_url` when given; returns the apply answer.
async fn refund(
    merchant: &Merchant,
    out_trade_no: &str,
    out_refund_no: &str,
    (refund, total): (i64, i64),
    notify_url: Option<&str>,
) -> Value {
    let mut body = json!({
        "out_trade_no": out_trade_no,
        "out_refund_no": out_refund_no,
        "reason": "商品已售完",
        "amount": {"refund": refund, "total": total, "currency": "CNY"}
    });
    if let Some(url) = notify_url {
        body["notify_url"] = json!(url);
    }
    let answer = merchant.post("/v3/refund/domestic/refunds", &body).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(&merchant.credentials);
    answer.json()
}

async fn query_refund(merchant: &Merchant, out_refund_no: &str) -> Value {
    let answer = merchant
        .get(&format!("/v3/refund/domestic/refunds/{out_refund_no}"))
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

/// What a merchant checks before trusting a callback, in public-key mode:
/// the signature headers, the signature, the envelope; then the decrypted
/// resource.
#[track_caller]
fn open(
    callback: &Received,
    credentials: &Credentials,
    event_type: &str,
    original_type: &str,
) -> Value {
    assert_eq!(callback.header("content-type"), "application/json");
    // A required header of WeChat Pay's callbacks (webhooks.yaml), as of
    // its answers.
    assert!(!callback.header("request-id").is_empty());
    assert_eq!(callback.header("wechatpay-signature-type"), SCHEME);
    assert_eq!(
        callback.header("wechatpay-serial"),
        credentials.public_key_id
    );
    let timestamp: i64 = callback
        .header("wechatpay-timestamp")
        .parse()
        .expect("timestamp");
    assert!((timestamp - now()).abs() <= 300, "{timestamp}");
    callback
        .verify(&credentials.platform_public_key_pem)
        .expect("the callback is signed by the platform key");
    let body = callback.json();
    assert_eq!(body["event_type"], event_type, "{body}");
    assert_eq!(body["resource_type"], "encrypt-resource", "{body}");
    assert!(
        body["id"].as_str().is_some_and(|id| id.starts_with("EV-")),
        "{body}"
    );
    let resource = &body["resource"];
    assert_eq!(resource["algorithm"], "AEAD_AES_256_GCM", "{body}");
    assert_eq!(resource["original_type"], original_type, "{body}");
    assert_eq!(resource["associated_data"], original_type, "{body}");
    serde_json::from_slice(&decrypt(&credentials.apiv3_key, resource))
        .expect("the resource is JSON")
}

/// The attempts at delivering callbacks of `event_type`.
fn attempts_of(sandbox: &Sandbox, event_type: &str) -> Vec<CallbackAttempt> {
    sandbox
        .callback_attempts()
        .into_iter()
        .filter(|attempt| attempt.event_type == event_type)
        .collect()
}

/// Waits until the log holds `count` attempts of `event_type` that ended
/// (delivered or given up); returns all attempts of that type.
async fn wait_for_ended(sandbox: &Sandbox, event_type: &str, count: usize) -> Vec<CallbackAttempt> {
    let deadline = std::time::Instant::now() + ARRIVAL;
    loop {
        let attempts = attempts_of(sandbox, event_type);
        let ended = attempts
            .iter()
            .filter(|a| !matches!(a.outcome, CallbackOutcome::Retrying { .. }))
            .count();
        if ended >= count {
            return attempts;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{ended} of {count} {event_type} deliveries ended: {attempts:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn paying_an_order_calls_back_with_the_transaction_the_query_shows() {
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let receiver = Receiver::start(vec![]).await;

    place_notifying(&merchant, "cb-pay-1", 100, &receiver.url).await;
    let paid = pay(
        &merchant,
        "cb-pay-1",
        r#"{"bank_type":"CMC","payer_total":90}"#,
    )
    .await;

    let received = receiver.wait_for(1, ARRIVAL).await;
    let resource = open(
        &received[0],
        credentials,
        "TRANSACTION.SUCCESS",
        "transaction",
    );
    assert_eq!(received[0].json()["summary"], "支付成功");
    let queried = query(&merchant, "cb-pay-1").await;
    assert_eq!(resource, queried, "the callback holds the queried order");
    assert_eq!(resource, paid, "and what the control endpoint answered");
    assert_eq!(resource["trade_state"], "SUCCESS");
    assert_eq!(resource["amount"]["payer_total"], 90);
    assert_eq!(resource["bank_type"], "CMC");

    // Delivered once, to the order's notify_url; placing the order sent
    // nothing.
    let attempts = wait_for_ended(&sandbox, "TRANSACTION.SUCCESS", 1).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].notify_url, receiver.url);
    assert_eq!(attempts[0].notification_id, received[0].json()["id"]);
    assert_eq!(attempts[0].outcome, CallbackOutcome::Delivered);
    assert_eq!(attempts[0].status, Some(204));
    assert_eq!(sandbox.callback_attempts().len(), 1);
    assert_eq!(receiver.received().len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn refunds_call_back_at_their_own_url_or_else_the_order_s() {
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let (orders, refunds) = (Receiver::start(vec![]).await, Receiver::start(vec![]).await);

    place_notifying(&merchant, "cb-refund-1", 100, &orders.url).await;
    // The payer paid 90 of 100 (a coupon paid the rest): payer_refund is
    // the payer's share, which the callback must carry as the query does.
    let paid = pay(&merchant, "cb-refund-1", r#"{"payer_total":90}"#).await;
    orders.wait_for(1, ARRIVAL).await;

    // With its own notify_url: the callback goes there.
    let applied = refund(
        &merchant,
        "cb-refund-1",
        "cb-refund-1-a",
        (30, 100),
        Some(&refunds.url),
    )
    .await;
    assert_eq!(applied["status"], "PROCESSING");
    let received = refunds.wait_for(1, ARRIVAL).await;
    let first = open(&received[0], credentials, "REFUND.SUCCESS", "refund");
    assert_eq!(received[0].json()["summary"], "退款成功");
    let queried = query_refund(&merchant, "cb-refund-1-a").await;
    assert_refund_matches(&first, &queried, merchant.mchid());
    assert_eq!(first["transaction_id"], paid["transaction_id"]);
    assert_eq!(first["refund_id"], applied["refund_id"]);
    assert_eq!(first["amount"]["payer_refund"], 27);

    // The same refund again answers it again and calls back no more.
    refund(
        &merchant,
        "cb-refund-1",
        "cb-refund-1-a",
        (30, 100),
        Some(&refunds.url),
    )
    .await;

    // Without one: the order's notify_url.
    refund(&merchant, "cb-refund-1", "cb-refund-1-b", (70, 100), None).await;
    let received = orders.wait_for(2, ARRIVAL).await;
    let second = open(&received[1], credentials, "REFUND.SUCCESS", "refund");
    let queried = query_refund(&merchant, "cb-refund-1-b").await;
    assert_refund_matches(&second, &queried, merchant.mchid());
    assert_ne!(second["refund_id"], first["refund_id"]);

    let attempts = wait_for_ended(&sandbox, "REFUND.SUCCESS", 2).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].notify_url, refunds.url);
    assert_eq!(attempts[1].notify_url, orders.url);
    assert!(
        attempts
            .iter()
            .all(|a| a.outcome == CallbackOutcome::Delivered)
    );
    assert_eq!(refunds.received().len(), 1, "no second callback");
    assert_eq!(orders.received().len(), 2);
    sandbox.shutdown().await;
}

/// A `REFUND.SUCCESS` resource holds exactly the documented fields, each
/// as the refund query shows it.
#[track_caller]
fn assert_refund_matches(resource: &Value, queried: &Value, mchid: &str) {
    let mut keys: Vec<&str> = resource
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "amount",
            "mchid",
            "out_refund_no",
            "out_trade_no",
            "refund_id",
            "refund_status",
            "success_time",
            "transaction_id",
            "user_received_account",
        ],
        "{resource}"
    );
    assert_eq!(resource["mchid"], mchid);
    assert_eq!(resource["refund_status"], "SUCCESS");
    assert_eq!(resource["refund_status"], queried["status"]);
    for field in [
        "out_refund_no",
        "refund_id",
        "out_trade_no",
        "transaction_id",
        "success_time",
        "user_received_account",
    ] {
        assert!(resource[field].is_string(), "{field}: {resource}");
        assert_eq!(resource[field], queried[field], "{field}");
    }
    let amount = resource["amount"].as_object().expect("amount");
    assert_eq!(amount.len(), 4, "{resource}");
    for field in ["total", "refund", "payer_total", "payer_refund"] {
        assert!(amount[field].is_i64(), "amount.{field}: {resource}");
        assert_eq!(amount[field], queried["amount"][field], "amount.{field}");
    }
}

#[tokio::test]
async fn a_coupon_sent_calls_back_once_the_callback_url_is_set() {
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let receiver = Receiver::start(vec![]).await;
    let set = merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": merchant.mchid(), "notify_url": receiver.url}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", String::from_utf8_lossy(&set.body));

    let stock_id = running_stock(&merchant, "cb-coupon-stock", 10, 2).await;
    let sent = send(&merchant, "o-cb-user", &stock_id, "cb-coupon-1").await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    let coupon_id = sent.json()["coupon_id"]
        .as_str()
        .expect("coupon_id")
        .to_owned();

    let received = receiver.wait_for(1, ARRIVAL).await;
    let resource = open(&received[0], credentials, "COUPON.SEND", "coupon");
    assert!(
        received[0].json()["summary"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    let queried = query_coupon(&merchant, "o-cb-user", &coupon_id).await;
    assert_eq!(queried.status, 200);
    assert_eq!(resource, queried.json(), "the callback holds the coupon");
    assert_eq!(resource["coupon_id"], coupon_id.as_str());
    assert_eq!(resource["status"], "SENDED");

    // The same out_request_no again sends nothing, so calls back no more.
    let again = send(&merchant, "o-cb-user", &stock_id, "cb-coupon-1").await;
    assert_eq!(again.json()["coupon_id"], coupon_id.as_str());
    let attempts = wait_for_ended(&sandbox, "COUPON.SEND", 1).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].notify_url, receiver.url);
    assert_eq!(attempts[0].outcome, CallbackOutcome::Delivered);
    settle(&sandbox, &merchant, &receiver, "cb-coupon-barrier").await;
    assert_eq!(attempts_of(&sandbox, "COUPON.SEND").len(), 1);
    sandbox.shutdown().await;
}

/// Makes sure every event queued so far has been dispatched: pays an order
/// notifying `receiver` and waits for its callback (events are dispatched
/// in the order the flows send them), then a little longer for any
/// delivery dispatched before it to be logged.
async fn settle(sandbox: &Sandbox, merchant: &Merchant, receiver: &Receiver, out_trade_no: &str) {
    let before = receiver.received().len();
    place_notifying(merchant, out_trade_no, 1, &receiver.url).await;
    pay(merchant, out_trade_no, "").await;
    let received = receiver.wait_for(before + 1, ARRIVAL).await;
    assert_eq!(received[before].json()["event_type"], "TRANSACTION.SUCCESS");
    wait_for_ended(sandbox, "TRANSACTION.SUCCESS", 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn no_coupon_callback_without_a_callback_url_or_with_it_switched_off() {
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    let merchant = Merchant::new(&sandbox);
    let receiver = Receiver::start(vec![]).await;
    let stock_id = running_stock(&merchant, "cb-quiet-stock", 10, 2).await;

    // Never set.
    let sent = send(&merchant, "o-quiet", &stock_id, "cb-quiet-1").await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    // Set, but switched off.
    let set = merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": merchant.mchid(), "notify_url": receiver.url, "switch": false}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", String::from_utf8_lossy(&set.body));
    let sent = send(&merchant, "o-quiet", &stock_id, "cb-quiet-2").await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));

    settle(&sandbox, &merchant, &receiver, "cb-quiet-barrier").await;
    assert_eq!(attempts_of(&sandbox, "COUPON.SEND"), []);
    let events: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| r.json()["event_type"].clone())
        .collect();
    assert_eq!(events, [json!("TRANSACTION.SUCCESS")]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_merchant_that_fails_first_gets_the_payment_on_a_later_attempt() {
    let delays = vec![Duration::from_millis(100), Duration::from_millis(100)];
    let sandbox = sandbox_with(SandboxConfig {
        callback_retry_delays: Some(delays.clone()),
        ..SandboxConfig::default()
    })
    .await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let receiver = Receiver::start(vec![Behaviour::Status(500), Behaviour::Status(503)]).await;

    place_notifying(&merchant, "cb-retry-1", 100, &receiver.url).await;
    pay(&merchant, "cb-retry-1", "").await;

    let attempts = wait_for_ended(&sandbox, "TRANSACTION.SUCCESS", 1).await;
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.attempt, a.status, a.outcome))
            .collect::<Vec<_>>(),
        [
            (1, Some(500), CallbackOutcome::Retrying { after: delays[0] }),
            (2, Some(503), CallbackOutcome::Retrying { after: delays[1] }),
            (3, Some(204), CallbackOutcome::Delivered),
        ]
    );
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    let queried = query(&merchant, "cb-retry-1").await;
    for callback in &received {
        // Each attempt is the same notification, signed afresh, and
        // decrypts to the order as the query shows it.
        assert_eq!(callback.json()["id"], attempts[0].notification_id);
        let resource = open(callback, credentials, "TRANSACTION.SUCCESS", "transaction");
        assert_eq!(resource, queried);
    }
    let request_ids: std::collections::HashSet<&str> =
        received.iter().map(|r| r.header("request-id")).collect();
    assert_eq!(request_ids.len(), 3, "a fresh Request-ID per attempt");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_paid_at_once_each_call_back_their_own_transaction() {
    const ORDERS: usize = 12;
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    let merchant = std::sync::Arc::new(Merchant::new(&sandbox));
    let credentials = sandbox.credentials().clone();
    let receiver = Receiver::start(vec![]).await;
    for n in 0..ORDERS {
        place_notifying(
            &merchant,
            &format!("cb-many-{n}"),
            100 + n as i64,
            &receiver.url,
        )
        .await;
    }
    let payments: Vec<_> = (0..ORDERS)
        .map(|n| {
            let merchant = merchant.clone();
            tokio::spawn(async move { pay(&merchant, &format!("cb-many-{n}"), "").await })
        })
        .collect();
    for payment in payments {
        payment.await.expect("paid");
    }

    let received = receiver.wait_for(ORDERS, ARRIVAL).await;
    let mut seen = std::collections::BTreeSet::new();
    for callback in &received {
        let resource = open(callback, &credentials, "TRANSACTION.SUCCESS", "transaction");
        let out_trade_no = resource["out_trade_no"].as_str().expect("out_trade_no");
        assert_eq!(resource, query(&merchant, out_trade_no).await);
        assert!(
            seen.insert(out_trade_no.to_owned()),
            "twice: {out_trade_no}"
        );
    }
    assert_eq!(seen.len(), ORDERS);
    let ids: std::collections::HashSet<String> = received
        .iter()
        .map(|r| r.json()["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), ORDERS, "every notification has its own id");
    let attempts = wait_for_ended(&sandbox, "TRANSACTION.SUCCESS", ORDERS).await;
    assert_eq!(attempts.len(), ORDERS, "{attempts:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn after_a_restart_the_flows_still_call_back_where_they_were_told() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = test_keys();
    let config = SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        state_dir: Some(dir.path().to_owned()),
        ..SandboxConfig::default()
    };
    let first = Sandbox::start_with(config.clone())
        .await
        .expect("sandbox starts");
    let credentials = first.credentials().clone();
    let (orders, coupons) = (Receiver::start(vec![]).await, Receiver::start(vec![]).await);
    let merchant = Merchant::new(&first);
    place_notifying(&merchant, "cb-restart-1", 100, &orders.url).await;
    pay(&merchant, "cb-restart-1", "").await;
    orders.wait_for(1, ARRIVAL).await;
    let set = merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": merchant.mchid(), "notify_url": coupons.url}),
        )
        .await;
    assert_eq!(set.status, 200);
    let stock_id = running_stock(&merchant, "cb-restart-stock", 10, 1).await;
    first.shutdown().await;

    // The same identity on the same folder: the order's notify_url and the
    // coupon callback URL come from the state database.
    let second = Sandbox::start_with(SandboxConfig {
        mchid: Some(credentials.mchid.clone()),
        merchant_serial: Some(credentials.merchant_serial.clone()),
        public_key_id: Some(credentials.public_key_id.clone()),
        apiv3_key: Some(credentials.apiv3_key.clone()),
        ..config
    })
    .await
    .expect("sandbox starts again");
    assert_eq!(second.credentials().apiv3_key, credentials.apiv3_key);
    let merchant = Merchant::new(&second);
    refund(
        &merchant,
        "cb-restart-1",
        "cb-restart-1-a",
        (100, 100),
        None,
    )
    .await;
    let received = orders.wait_for(2, ARRIVAL).await;
    let resource = open(&received[1], &credentials, "REFUND.SUCCESS", "refund");
    let queried = query_refund(&merchant, "cb-restart-1-a").await;
    assert_refund_matches(&resource, &queried, merchant.mchid());

    let sent = send(&merchant, "o-restart", &stock_id, "cb-restart-coupon").await;
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    let received = coupons.wait_for(1, ARRIVAL).await;
    let resource = open(&received[0], &credentials, "COUPON.SEND", "coupon");
    assert_eq!(resource["coupon_id"], sent.json()["coupon_id"]);
    second.shutdown().await;
}

/// `POST /_sandbox/notify` stands in for the flows in merchants' tests, so
/// with only an event type it must produce the envelope the flow would.
#[tokio::test]
async fn the_control_endpoint_s_defaults_are_the_flows_envelopes() {
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    let merchant = Merchant::new(&sandbox);
    let flows = Receiver::start(vec![]).await;
    let stand_ins = Receiver::start(vec![]).await;

    place_notifying(&merchant, "cb-envelope-1", 100, &flows.url).await;
    pay(&merchant, "cb-envelope-1", "").await;
    flows.wait_for(1, ARRIVAL).await;
    refund(
        &merchant,
        "cb-envelope-1",
        "cb-envelope-1-a",
        (1, 100),
        None,
    )
    .await;
    flows.wait_for(2, ARRIVAL).await;
    let set = merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": merchant.mchid(), "notify_url": flows.url}),
        )
        .await;
    assert_eq!(set.status, 200);
    let stock_id = running_stock(&merchant, "cb-envelope-stock", 10, 1).await;
    assert_eq!(
        send(&merchant, "o-envelope", &stock_id, "cb-envelope-coupon")
            .await
            .status,
        200
    );
    let from_flows = flows.wait_for(3, ARRIVAL).await;

    for (n, callback) in from_flows.iter().enumerate() {
        let flow = callback.json();
        let body = json!({
            "event_type": flow["event_type"],
            "notify_url": stand_ins.url,
            "resource": {},
        });
        let answer = control(
            &sandbox,
            "POST",
            "/_sandbox/notify",
            Some(&body.to_string()),
        )
        .await;
        assert_eq!(answer.status, 202);
        let stand_in = stand_ins.wait_for(n + 1, ARRIVAL).await[n].json();
        for field in ["event_type", "summary", "resource_type"] {
            assert_eq!(
                stand_in[field], flow[field],
                "{field} of {}",
                flow["event_type"]
            );
        }
        for field in ["original_type", "associated_data", "algorithm"] {
            assert_eq!(
                stand_in["resource"][field], flow["resource"][field],
                "resource.{field} of {}",
                flow["event_type"]
            );
        }
    }
    sandbox.shutdown().await;
}
