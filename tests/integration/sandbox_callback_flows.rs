//! The SDK side of the sandbox's callback loop: wxpay's `Client` places,
//! queries and refunds orders and sends coupons (every answer verified by
//! the client), the test pays through the sandbox's control endpoint, and
//! a merchant server decodes the callbacks the sandbox then delivers into
//! the typed [`Transaction`], [`RefundNotification`] and
//! [`CouponNotification`], answering with a [`NotificationReply`].
//!
//! With the `axum` feature the merchant server uses the
//! `WechatpayNotification` extractor; without it, `NotificationDecoder` by
//! hand. Either way it runs on the crypto backend the features choose.
//!
//! The payment and refund endpoints are declared here with
//! `#[wxpay::endpoint]`, the coupon ones sent with `prepare_raw`, so that
//! the test depends on the macro and the client only.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wxpay::notification::resources::{CouponNotification, RefundNotification, Transaction};
use wxpay::{Client, EventType, Method, Notification, NotificationDecoder, NotificationReply};
use wxpay_sandbox::{CallbackOutcome, Sandbox, SandboxConfig};

const APPID: &str = "wxd678efh567hg6787";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
/// How long a callback may take to arrive on a loaded machine.
const ARRIVAL: Duration = Duration::from_secs(10);

// ------------------------------------------------------------ endpoints

/// `amount` of an order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderAmount {
    /// In fen.
    pub total: i64,
    /// `CNY`.
    pub currency: String,
}

/// `payer` of a JSAPI order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderPayer {
    /// The payer's openid.
    pub openid: String,
}

/// What placing a JSAPI order answers.
#[derive(Debug, Deserialize)]
pub struct Prepay {
    /// For the mini program or official account to pay with.
    pub prepay_id: String,
}

/// JSAPI下单.
#[wxpay::endpoint(POST, "/v3/pay/transactions/jsapi", response = Prepay)]
pub struct PlaceJsapiOrder {
    /// Body.
    pub appid: String,
    /// Body.
    pub mchid: String,
    /// Body.
    pub description: String,
    /// Body.
    pub out_trade_no: String,
    /// Body, left out when `None`.
    pub attach: Option<String>,
    /// Body.
    pub notify_url: String,
    /// Body.
    pub amount: OrderAmount,
    /// Body.
    pub payer: OrderPayer,
}

/// 商户订单号查询订单. The answer is kept as JSON: an unpaid order lacks
/// the fields a [`Transaction`] needs.
#[wxpay::endpoint(GET, "/v3/pay/transactions/out-trade-no/<out_trade_no>", response = Value)]
pub struct QueryOrder {
    /// Path.
    pub out_trade_no: String,
    /// Query.
    pub mchid: String,
}

/// `amount` of a refund request.
#[derive(Debug, Clone, Serialize)]
pub struct RefundRequestAmount {
    /// The amount to refund.
    pub refund: i64,
    /// The order's total.
    pub total: i64,
    /// `CNY`.
    pub currency: String,
}

/// A refund as the apply and the query answer it.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    /// WeChat Pay's refund number.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// The refunded payment.
    pub transaction_id: String,
    /// The refunded order.
    pub out_trade_no: String,
    /// Where the money went.
    pub user_received_account: String,
    /// `PROCESSING`, `SUCCESS`, ….
    pub status: String,
    /// Once it succeeded.
    pub success_time: Option<String>,
    /// The amounts.
    pub amount: RefundAnswerAmount,
}

/// The amounts of a [`Refund`].
#[derive(Debug, Clone, Deserialize)]
pub struct RefundAnswerAmount {
    /// The order's total.
    pub total: i64,
    /// Refunded.
    pub refund: i64,
    /// What the payer paid.
    pub payer_total: i64,
    /// What goes back to the payer.
    pub payer_refund: i64,
}

/// 退款申请.
#[wxpay::endpoint(POST, "/v3/refund/domestic/refunds", response = Refund)]
pub struct ApplyRefund {
    /// Body.
    pub out_trade_no: String,
    /// Body.
    pub out_refund_no: String,
    /// Body, left out when `None`.
    pub reason: Option<String>,
    /// Body, left out when `None`: then the order's `notify_url` is used.
    pub notify_url: Option<String>,
    /// Body.
    pub amount: RefundRequestAmount,
}

/// 查询单笔退款.
#[wxpay::endpoint(GET, "/v3/refund/domestic/refunds/<out_refund_no>", response = Refund)]
pub struct QueryRefund {
    /// Path.
    pub out_refund_no: String,
}

// ------------------------------------------------------------ the merchant

/// A client for the sandbox's merchant that can also decode callbacks.
fn client(sandbox: &Sandbox) -> Client {
    support::sandbox_builder(sandbox)
        .apiv3_key(&sandbox.credentials().apiv3_key)
        .build()
        .expect("sandbox credentials make a valid client")
}

/// The callbacks one route decoded, oldest first.
type Log<T> = Arc<Mutex<Vec<Notification<T>>>>;

/// One callback route: decodes into `T`, logs it, answers success, except
/// for the first `fail_first` callbacks, which it decodes and logs but
/// answers with a failure (a merchant whose database was down).
struct Route<T> {
    log: Log<T>,
    fail_first: Arc<AtomicUsize>,
}

// Not derived: that would ask for `T: Clone`.
impl<T> Clone for Route<T> {
    fn clone(&self) -> Self {
        Route {
            log: self.log.clone(),
            fail_first: self.fail_first.clone(),
        }
    }
}

impl<T> Route<T> {
    fn new(fail_first: usize) -> Self {
        Route {
            log: Arc::default(),
            fail_first: Arc::new(AtomicUsize::new(fail_first)),
        }
    }

    fn accept(&self, notification: Notification<T>) -> NotificationReply {
        self.log.lock().unwrap().push(notification);
        let failing = self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            NotificationReply::failure("busy, try again")
        } else {
            NotificationReply::success()
        }
    }

    /// Waits until `count` callbacks were decoded here; returns them.
    async fn wait_for(&self, count: usize) -> Vec<Notification<T>>
    where
        T: Clone,
    {
        let deadline = Instant::now() + ARRIVAL;
        loop {
            let log = self.log.lock().unwrap().clone();
            if log.len() >= count {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} callbacks decoded within {ARRIVAL:?}",
                log.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn len(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

/// With the extractor: a rejected callback never reaches the handler and
/// is answered with the rejection's failure reply.
#[cfg(feature = "axum")]
fn handler<T>(route: Route<T>) -> axum::routing::MethodRouter<NotificationDecoder>
where
    T: DeserializeOwned + Send + 'static,
{
    use wxpay::notification::WechatpayNotification;
    axum::routing::post(
        move |WechatpayNotification(notification): WechatpayNotification<T>| {
            let route = route.clone();
            async move { route.accept(notification) }
        },
    )
}

/// Without it: `NotificationDecoder` by hand over the raw headers and body,
/// with a certificate download for an unknown serial as the extractor does.
#[cfg(not(feature = "axum"))]
fn handler<T>(route: Route<T>) -> axum::routing::MethodRouter<NotificationDecoder>
where
    T: DeserializeOwned + Send + 'static,
{
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;
    axum::routing::post(
        move |State(decoder): State<NotificationDecoder>, headers: HeaderMap, body: Bytes| {
            let route = route.clone();
            async move {
                let reply = match decoder.decode_refreshing::<T>(&headers, &body).await {
                    Ok(notification) => route.accept(notification),
                    Err(error) => error.reply(),
                };
                reply
                    .into_http()
                    .map(axum::body::Body::from)
                    .into_response()
            }
        },
    )
}

/// The merchant's callback server: one route per resource type, and a
/// second refund route for refunds with their own `notify_url`.
struct Merchant {
    base: String,
    transactions: Route<Transaction>,
    refunds: Route<RefundNotification>,
    own_refunds: Route<RefundNotification>,
    coupons: Route<CouponNotification>,
    task: tokio::task::JoinHandle<()>,
}

impl Merchant {
    async fn start(client: &Client, fail_first_transactions: usize) -> Merchant {
        let decoder =
            NotificationDecoder::from_client(client).expect("the client has the APIv3 key");
        let transactions = Route::new(fail_first_transactions);
        let (refunds, own_refunds, coupons) = (Route::new(0), Route::new(0), Route::new(0));
        let app = axum::Router::new()
            .route("/notify/transaction", handler(transactions.clone()))
            .route("/notify/refund", handler(refunds.clone()))
            .route("/notify/refund/own", handler(own_refunds.clone()))
            .route("/notify/coupon", handler(coupons.clone()))
            .with_state(decoder);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Merchant {
            base,
            transactions,
            refunds,
            own_refunds,
            coupons,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Merchant {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ------------------------------------------------------------ helpers

async fn place(client: &Client, mchid: &str, out_trade_no: &str, total: i64, notify_url: &str) {
    let prepay = client
        .send(PlaceJsapiOrder {
            appid: APPID.into(),
            mchid: mchid.into(),
            description: "Image形象店-深圳腾大-QQ公仔".into(),
            out_trade_no: out_trade_no.into(),
            attach: Some("自定义数据".into()),
            notify_url: notify_url.into(),
            amount: OrderAmount {
                total,
                currency: "CNY".into(),
            },
            payer: OrderPayer {
                openid: OPENID.into(),
            },
        })
        .await
        .expect("the order is placed");
    assert!(prepay.prepay_id.starts_with("wx"), "{}", prepay.prepay_id);
}

async fn query(client: &Client, mchid: &str, out_trade_no: &str) -> Value {
    client
        .send(QueryOrder {
            out_trade_no: out_trade_no.into(),
            mchid: mchid.into(),
        })
        .await
        .expect("the order is queried")
}

/// Pays as the user would, through the sandbox's control endpoint.
async fn pay(sandbox: &Sandbox, out_trade_no: &str, body: Value) -> Value {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!(
            "{}/_sandbox/transactions/out-trade-no/{out_trade_no}/pay",
            sandbox.base_url()
        ))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the control endpoint answers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("JSON")
}

async fn refund(
    client: &Client,
    out_trade_no: &str,
    out_refund_no: &str,
    (refund, total): (i64, i64),
    notify_url: Option<String>,
) -> Refund {
    client
        .send(ApplyRefund {
            out_trade_no: out_trade_no.into(),
            out_refund_no: out_refund_no.into(),
            reason: Some("商品已售完".into()),
            notify_url,
            amount: RefundRequestAmount {
                refund,
                total,
                currency: "CNY".into(),
            },
        })
        .await
        .expect("the refund is applied for")
}

/// A raw request with a JSON body (or none), verified by the client.
async fn raw(client: &Client, method: Method, target: &str, body: Option<Value>) -> Value {
    let request = client
        .prepare_raw(method, target, body.map(|b| Bytes::from(b.to_string())))
        .expect("the request is built");
    let answer = client.send_raw(&request).await.expect("a verified answer");
    serde_json::from_slice(&answer.body).expect("JSON")
}

/// Waits until the sandbox's log shows `count` ended deliveries of
/// `event_type`; returns every attempt at that type.
async fn delivered(
    sandbox: &Sandbox,
    event_type: &str,
    count: usize,
) -> Vec<wxpay_sandbox::CallbackAttempt> {
    let deadline = Instant::now() + ARRIVAL;
    loop {
        let attempts: Vec<_> = sandbox
            .callback_attempts()
            .into_iter()
            .filter(|a| a.event_type == event_type)
            .collect();
        let ended = attempts
            .iter()
            .filter(|a| !matches!(a.outcome, CallbackOutcome::Retrying { .. }))
            .count();
        if ended >= count {
            return attempts;
        }
        assert!(
            Instant::now() < deadline,
            "{ended} of {count} {event_type} deliveries ended: {attempts:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ------------------------------------------------------------ tests

#[tokio::test]
async fn a_paid_order_calls_back_a_transaction_that_matches_the_query() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let mchid = sandbox.credentials().mchid.clone();
    let client = client(&sandbox);
    let merchant = Merchant::start(&client, 0).await;

    place(
        &client,
        &mchid,
        "sdk-cb-pay-1",
        100,
        &merchant.url("/notify/transaction"),
    )
    .await;
    let unpaid = query(&client, &mchid, "sdk-cb-pay-1").await;
    assert_eq!(unpaid["trade_state"], "NOTPAY");
    pay(
        &sandbox,
        "sdk-cb-pay-1",
        json!({"bank_type": "CMC", "payer_total": 90}),
    )
    .await;

    let decoded = merchant.transactions.wait_for(1).await;
    let notification = &decoded[0];
    assert_eq!(notification.event_type, EventType::TransactionSuccess);
    assert_eq!(notification.summary, "支付成功");
    assert_eq!(notification.original_type, "transaction");
    assert_eq!(notification.resource_type, "encrypt-resource");
    assert!(notification.id.starts_with("EV-"), "{}", notification.id);
    // WeChat Pay's callbacks carry a Request-ID like its answers (a
    // required header in the spec's webhooks.yaml).
    assert!(
        notification
            .request_id
            .as_deref()
            .is_some_and(|id| !id.is_empty()),
        "{notification:?}"
    );
    let paid = &notification.resource;
    assert_eq!(paid.out_trade_no, "sdk-cb-pay-1");
    assert!(paid.is_success());
    assert_eq!(paid.trade_state, "SUCCESS");
    assert_eq!(paid.trade_type, "JSAPI");
    assert_eq!(paid.transaction_id.len(), 28, "{}", paid.transaction_id);
    assert_eq!(paid.amount.total, 100);
    assert_eq!(paid.amount.payer_total, 90);
    assert_eq!(paid.amount.currency, "CNY");
    assert_eq!(paid.bank_type, "CMC");
    assert_eq!(paid.attach.as_deref(), Some("自定义数据"));
    assert_eq!(paid.payer.openid, OPENID);
    assert_eq!((paid.appid.as_str(), paid.mchid.as_str()), (APPID, &*mchid));

    // The query, verified by the client, says the same, to the field.
    let queried: Transaction = serde_json::from_value(query(&client, &mchid, "sdk-cb-pay-1").await)
        .expect("a paid order decodes as a Transaction");
    assert_eq!(&queried, paid);

    let attempts = delivered(&sandbox, "TRANSACTION.SUCCESS", 1).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].notification_id, notification.id);
    assert_eq!(attempts[0].status, Some(204), "NotificationReply::success");
    assert_eq!(attempts[0].outcome, CallbackOutcome::Delivered);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn refunds_call_back_a_refund_notification_at_the_right_url() {
    // One attempt per callback: see the payment callback below.
    let sandbox = Sandbox::start_with(SandboxConfig {
        callback_retry_delays: Some(Vec::new()),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let mchid = sandbox.credentials().mchid.clone();
    let client = client(&sandbox);
    let merchant = Merchant::start(&client, 0).await;

    // The refund route is the order's notify_url, so the payment callback
    // goes there too: it does not decode as a refund, and the route's
    // failure reply makes the sandbox give up on it (one attempt only).
    place(
        &client,
        &mchid,
        "sdk-cb-refund-1",
        100,
        &merchant.url("/notify/refund"),
    )
    .await;
    let paid = pay(&sandbox, "sdk-cb-refund-1", json!({"payer_total": 80})).await;
    let refused = delivered(&sandbox, "TRANSACTION.SUCCESS", 1).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].status, Some(500), "resource not understood");
    assert_eq!(refused[0].outcome, CallbackOutcome::GaveUp);
    assert_eq!(merchant.refunds.len(), 0);

    // Its own notify_url.
    let applied = refund(
        &client,
        "sdk-cb-refund-1",
        "sdk-cb-refund-1-a",
        (50, 100),
        Some(merchant.url("/notify/refund/own")),
    )
    .await;
    assert_eq!(applied.status, "PROCESSING");
    let own = merchant.own_refunds.wait_for(1).await;
    let notification = &own[0];
    assert_eq!(notification.event_type, EventType::RefundSuccess);
    assert!(notification.event_type.is_refund());
    assert_eq!(notification.summary, "退款成功");
    assert_eq!(notification.original_type, "refund");
    let queried = client
        .send(QueryRefund {
            out_refund_no: "sdk-cb-refund-1-a".into(),
        })
        .await
        .expect("the refund is queried");
    assert_matches(&notification.resource, &queried, &mchid);
    assert_eq!(notification.resource.refund_id, applied.refund_id);
    assert_eq!(notification.resource.transaction_id, paid["transaction_id"]);
    assert_eq!(notification.resource.amount.refund, 50);
    assert_eq!(notification.resource.amount.payer_total, 80);
    assert_eq!(notification.resource.amount.payer_refund, 40);

    // None of its own: the order's.
    refund(
        &client,
        "sdk-cb-refund-1",
        "sdk-cb-refund-1-b",
        (50, 100),
        None,
    )
    .await;
    let decoded = merchant.refunds.wait_for(1).await;
    let queried = client
        .send(QueryRefund {
            out_refund_no: "sdk-cb-refund-1-b".into(),
        })
        .await
        .expect("the refund is queried");
    assert_matches(&decoded[0].resource, &queried, &mchid);
    assert_eq!(decoded[0].event_type, EventType::RefundSuccess);

    let attempts = delivered(&sandbox, "REFUND.SUCCESS", 2).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].notify_url, merchant.url("/notify/refund/own"));
    assert_eq!(attempts[1].notify_url, merchant.url("/notify/refund"));
    assert!(
        attempts
            .iter()
            .all(|a| a.outcome == CallbackOutcome::Delivered)
    );
    assert_eq!(merchant.own_refunds.len(), 1);
    assert_eq!(merchant.refunds.len(), 1);
    sandbox.shutdown().await;
}

#[track_caller]
fn assert_matches(notified: &RefundNotification, queried: &Refund, mchid: &str) {
    assert!(notified.is_success(), "{notified:?}");
    assert_eq!(notified.refund_status, queried.status);
    assert_eq!(notified.mchid, mchid);
    assert_eq!(notified.out_refund_no, queried.out_refund_no);
    assert_eq!(notified.refund_id, queried.refund_id);
    assert_eq!(notified.out_trade_no, queried.out_trade_no);
    assert_eq!(notified.transaction_id, queried.transaction_id);
    assert!(notified.success_time.is_some(), "{notified:?}");
    assert_eq!(notified.success_time, queried.success_time);
    assert_eq!(
        notified.user_received_account.as_deref(),
        Some(queried.user_received_account.as_str())
    );
    let (n, q) = (&notified.amount, &queried.amount);
    assert_eq!(
        (n.total, n.refund, n.payer_total, n.payer_refund),
        (q.total, q.refund, q.payer_total, q.payer_refund)
    );
}

#[tokio::test]
async fn a_coupon_sent_calls_back_a_coupon_notification_that_matches_the_query() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let mchid = sandbox.credentials().mchid.clone();
    let client = client(&sandbox);
    let merchant = Merchant::start(&client, 0).await;

    raw(
        &client,
        Method::Post,
        "/v3/marketing/favor/callbacks",
        Some(json!({"mchid": mchid, "notify_url": merchant.url("/notify/coupon")})),
    )
    .await;
    let stock = raw(
        &client,
        Method::Post,
        "/v3/marketing/favor/coupon-stocks",
        Some(json!({
            "stock_name": "回调测试批次",
            "belong_merchant": mchid,
            "available_begin_time": "2030-01-01T00:00:00+08:00",
            "available_end_time": "2030-01-31T23:59:59+08:00",
            "stock_use_rule": {
                "max_coupons": 10, "max_amount": 1000, "max_coupons_per_user": 1,
                "natural_person_limit": false, "prevent_api_abuse": false
            },
            "pattern_info": {"description": "满1元减0.5元", "background_color": "Color020"},
            "coupon_use_rule": {
                "coupon_available_time": {},
                "fixed_normal_coupon": {"coupon_amount": 50, "transaction_minimum": 100},
                "available_merchants": [mchid]
            },
            "no_cash": false,
            "stock_type": "NORMAL",
            "out_request_no": "sdk-cb-stock-1"
        })),
    )
    .await;
    let stock_id = stock["stock_id"].as_str().expect("stock_id").to_owned();
    raw(
        &client,
        Method::Post,
        &format!("/v3/marketing/favor/stocks/{stock_id}/start"),
        Some(json!({"stock_creator_mchid": mchid})),
    )
    .await;
    let sent = raw(
        &client,
        Method::Post,
        &format!("/v3/marketing/favor/users/{OPENID}/coupons"),
        Some(json!({
            "stock_id": stock_id,
            "out_request_no": "sdk-cb-coupon-1",
            "appid": APPID,
            "stock_creator_mchid": mchid
        })),
    )
    .await;
    let coupon_id = sent["coupon_id"].as_str().expect("coupon_id").to_owned();

    let decoded = merchant.coupons.wait_for(1).await;
    let notification = &decoded[0];
    assert_eq!(notification.event_type, EventType::CouponSend);
    assert!(notification.event_type.is_coupon());
    assert_eq!(notification.original_type, "coupon");
    let coupon = &notification.resource;
    assert_eq!(coupon.coupon_id, coupon_id);
    assert_eq!(coupon.stock_id, stock_id);
    assert_eq!(coupon.stock_creator_mchid, mchid);
    assert_eq!(coupon.coupon_name, "回调测试批次");
    assert_eq!(coupon.status, "SENDED");
    assert_eq!(coupon.coupon_type, "NORMAL");
    let terms = coupon
        .normal_coupon_information
        .as_ref()
        .expect("normal_coupon_information");
    assert_eq!((terms.coupon_amount, terms.transaction_minimum), (50, 100));

    let queried: CouponNotification = serde_json::from_value(
        raw(
            &client,
            Method::Get,
            &format!("/v3/marketing/favor/users/{OPENID}/coupons/{coupon_id}?appid={APPID}"),
            None,
        )
        .await,
    )
    .expect("the queried coupon decodes as a CouponNotification");
    assert_eq!(&queried, coupon);

    let attempts = delivered(&sandbox, "COUPON.SEND", 1).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].notify_url, merchant.url("/notify/coupon"));
    assert_eq!(attempts[0].outcome, CallbackOutcome::Delivered);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_failure_reply_gets_the_payment_again_on_the_next_attempt() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        callback_retry_delays: Some(vec![Duration::from_millis(100)]),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let mchid = sandbox.credentials().mchid.clone();
    let client = client(&sandbox);
    let merchant = Merchant::start(&client, 1).await;

    place(
        &client,
        &mchid,
        "sdk-cb-retry-1",
        100,
        &merchant.url("/notify/transaction"),
    )
    .await;
    pay(&sandbox, "sdk-cb-retry-1", json!({})).await;

    let attempts = delivered(&sandbox, "TRANSACTION.SUCCESS", 1).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].status, Some(500), "NotificationReply::failure");
    assert!(
        attempts[0]
            .answer
            .as_deref()
            .is_some_and(|a| a.contains("FAIL")),
        "{attempts:?}"
    );
    assert_eq!(attempts[1].status, Some(204));
    assert_eq!(attempts[1].outcome, CallbackOutcome::Delivered);

    let decoded = merchant.transactions.wait_for(2).await;
    assert_eq!(decoded[0].id, decoded[1].id, "the same notification again");
    assert_eq!(decoded[0].resource, decoded[1].resource);
    assert_eq!(decoded[1].resource.out_trade_no, "sdk-cb-retry-1");
    let queried: Transaction =
        serde_json::from_value(query(&client, &mchid, "sdk-cb-retry-1").await)
            .expect("a paid order decodes as a Transaction");
    assert_eq!(queried, decoded[1].resource);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn every_trade_type_s_payment_decodes_as_a_transaction() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let mchid = sandbox.credentials().mchid.clone();
    let client = client(&sandbox);
    let merchant = Merchant::start(&client, 0).await;
    let cases = [
        ("app", "APP", json!({})),
        (
            "native",
            "NATIVE",
            json!({"scene_info": {"device_id": "013467007045764"}}),
        ),
        (
            "h5",
            "MWEB",
            json!({"scene_info": {"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}}}),
        ),
    ];
    for (endpoint, _, extra) in &cases {
        let mut body = json!({
            "appid": APPID,
            "mchid": mchid,
            "description": "trade types",
            "out_trade_no": format!("sdk-cb-type-{endpoint}"),
            "notify_url": merchant.url("/notify/transaction"),
            "amount": {"total": 1}
        });
        for (key, value) in extra.as_object().expect("object") {
            body[key] = value.clone();
        }
        raw(
            &client,
            Method::Post,
            &format!("/v3/pay/transactions/{endpoint}"),
            Some(body),
        )
        .await;
        pay(&sandbox, &format!("sdk-cb-type-{endpoint}"), json!({})).await;
    }

    let decoded = merchant.transactions.wait_for(cases.len()).await;
    for (endpoint, trade_type, _) in &cases {
        let out_trade_no = format!("sdk-cb-type-{endpoint}");
        let notification = decoded
            .iter()
            .find(|n| n.resource.out_trade_no == out_trade_no)
            .unwrap_or_else(|| panic!("no callback for {out_trade_no}"));
        assert_eq!(notification.resource.trade_type, *trade_type);
        assert!(!notification.resource.payer.openid.is_empty());
        let queried: Transaction =
            serde_json::from_value(query(&client, &mchid, &out_trade_no).await)
                .expect("a paid order decodes as a Transaction");
        assert_eq!(queried, notification.resource);
    }
    let native = decoded
        .iter()
        .find(|n| n.resource.trade_type == "NATIVE")
        .expect("the native payment");
    assert_eq!(
        native
            .resource
            .scene_info
            .as_ref()
            .and_then(|s| s.device_id.as_deref()),
        Some("013467007045764")
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn certificate_mode_callbacks_decode_across_a_rotation() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let credentials = sandbox.credentials().clone();
    let mchid = credentials.mchid.clone();
    let client = support::certificate_builder(&sandbox)
        .build()
        .expect("client");
    let merchant = Merchant::start(&client, 0).await;
    let url = merchant.url("/notify/transaction");

    // The first call downloads the certificate the callback is signed with.
    place(&client, &mchid, "sdk-cb-cert-1", 100, &url).await;
    place(&client, &mchid, "sdk-cb-cert-2", 100, &url).await;
    pay(&sandbox, "sdk-cb-cert-1", json!({})).await;
    let decoded = merchant.transactions.wait_for(1).await;
    assert_eq!(decoded[0].resource.out_trade_no, "sdk-cb-cert-1");

    // After a rotation the next callback names a serial the client has not
    // seen (it has made no call since): the decoder downloads the
    // certificates once and accepts it.
    let rotated = sandbox.rotate_platform_certificate().expect("rotation");
    assert!(
        !client
            .verifier()
            .serials()
            .contains(&rotated.serial.as_str())
    );
    pay(&sandbox, "sdk-cb-cert-2", json!({})).await;
    let decoded = merchant.transactions.wait_for(2).await;
    assert_eq!(decoded[1].resource.out_trade_no, "sdk-cb-cert-2");
    assert!(
        client
            .verifier()
            .serials()
            .contains(&rotated.serial.as_str()),
        "{:?}",
        client.verifier().serials()
    );
    let attempts = delivered(&sandbox, "TRANSACTION.SUCCESS", 2).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(
        attempts
            .iter()
            .all(|a| a.outcome == CallbackOutcome::Delivered)
    );
    sandbox.shutdown().await;
}
