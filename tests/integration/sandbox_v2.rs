//! APIv2 end to end against the sandbox with `wxpay::v2::V2Client`:
//! unifiedorder → paid by the sandbox's payer → the signed XML payment
//! notification → orderquery → a refund over mutual TLS → the encrypted
//! refund notification → refundquery; the client certificate required on
//! both sides; a wrong signature refused; micropay, closeorder and
//! sendredpack.

use crate::support;

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use tokio::sync::mpsc;
use wxpay::Error;
use wxpay::v2::notification::{decode_payment, decode_refund, reply_success};
use wxpay::v2::{Fields, SignType, V2Client, V2Error, V2Key, sign};
use wxpay_sandbox::Sandbox;

#[derive(Debug, serde::Deserialize)]
struct Prepaid {
    trade_type: String,
    prepay_id: String,
    code_url: Option<String>,
}

#[wxpay::endpoint(POST, "/pay/unifiedorder", v2, sign = either, merchant = "mch_id", response = Prepaid)]
struct UnifiedOrder {
    appid: String,
    body: String,
    out_trade_no: String,
    total_fee: i64,
    spbill_create_ip: String,
    notify_url: String,
    trade_type: String,
    product_id: String,
}

#[derive(Debug, serde::Deserialize)]
struct Queried {
    trade_state: String,
    total_fee: i64,
    transaction_id: Option<String>,
}

#[wxpay::endpoint(POST, "/pay/orderquery", v2, sign = either, merchant = "mch_id", response = Queried)]
struct OrderQuery {
    appid: String,
    out_trade_no: String,
}

#[wxpay::endpoint(POST, "/pay/closeorder", v2, sign = either, merchant = "mch_id")]
struct CloseOrder {
    appid: String,
    out_trade_no: String,
}

#[derive(Debug, serde::Deserialize)]
struct Micropaid {
    transaction_id: String,
    total_fee: i64,
    trade_type: String,
}

#[wxpay::endpoint(POST, "/pay/micropay", v2, sign = either, merchant = "mch_id", response = Micropaid)]
struct Micropay {
    appid: String,
    body: String,
    out_trade_no: String,
    total_fee: i64,
    spbill_create_ip: String,
    auth_code: String,
}

#[derive(Debug, serde::Deserialize)]
struct Refunded {
    refund_id: String,
    refund_fee: i64,
    out_refund_no: String,
}

#[wxpay::endpoint(POST, "/secapi/pay/refund", v2, sign = either, client_cert, merchant = "mch_id", response = Refunded)]
struct Refund {
    appid: String,
    out_trade_no: String,
    out_refund_no: String,
    total_fee: i64,
    refund_fee: i64,
    notify_url: String,
}

#[derive(Debug, serde::Deserialize)]
struct RefundsQueried {
    refund_count: i64,
    refund_status_0: String,
    refund_fee_0: i64,
    out_refund_no_0: String,
}

#[wxpay::endpoint(POST, "/pay/refundquery", v2, sign = either, merchant = "mch_id", response = RefundsQueried)]
struct RefundQuery {
    appid: String,
    out_trade_no: String,
}

#[derive(Debug, serde::Deserialize)]
struct RedPackSent {
    send_listid: String,
    total_amount: i64,
}

#[wxpay::endpoint(
    POST,
    "/mmpaymkttransfers/sendredpack",
    v2,
    client_cert,
    merchant = "mch_id",
    unsigned_answer,
    response = RedPackSent
)]
struct SendRedPack {
    mch_billno: String,
    wxappid: String,
    send_name: String,
    re_openid: String,
    total_amount: i64,
    total_num: i64,
    wishing: String,
    client_ip: String,
    act_name: String,
    remark: String,
}

#[derive(Debug, serde::Deserialize)]
struct PaymentNotice {
    out_trade_no: String,
    transaction_id: String,
    total_fee: i64,
    result_code: String,
    trade_type: String,
}

#[derive(Debug, serde::Deserialize)]
struct RefundNotice {
    out_trade_no: String,
    out_refund_no: String,
    refund_id: String,
    refund_fee: i64,
    refund_status: String,
}

const APPID: &str = "wx8888888888888888";

/// A merchant's notification endpoint: every body POSTed to it, answered
/// with the APIv2 SUCCESS reply.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(String, Bytes)>) {
    let (sender, received) = mpsc::unbounded_channel();
    let route = |kind: &'static str| {
        let sender = sender.clone();
        post(move |body: Bytes| {
            let sender = sender.clone();
            async move {
                let _ = sender.send((kind.to_owned(), body));
                reply_success()
            }
        })
    };
    let app = axum::Router::new()
        .route("/notify/pay", route("pay"))
        .route("/notify/refund", route("refund"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn next(received: &mut mpsc::UnboundedReceiver<(String, Bytes)>, kind: &str) -> Bytes {
    let (got, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a notification within 10 s")
        .expect("the receiver runs");
    assert_eq!(got, kind);
    body
}

/// The sandbox's credentials as files, as a merchant keeps them.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn write(sandbox: &Sandbox) -> Files {
        let credentials = sandbox.credentials();
        let dir = std::env::temp_dir().join(format!(
            "wxpay-sandbox-v2-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("apiclient_cert.pem"),
            &credentials.client_certificate_pem,
        )
        .unwrap();
        std::fs::write(dir.join("apiclient_key.pem"), &credentials.client_key_pem).unwrap();
        std::fs::write(dir.join("apiclient_cert.p12"), &credentials.client_pkcs12).unwrap();
        Files { dir }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

fn plain_client(sandbox: &Sandbox, sign_type: SignType) -> V2Client {
    let credentials = sandbox.credentials();
    V2Client::builder()
        .mchid(&credentials.mchid)
        .key(&credentials.apiv2_key)
        .sign_type(sign_type)
        .base_url(sandbox.base_url())
        .build()
        .unwrap()
}

fn tls_client(sandbox: &Sandbox, files: &Files, pkcs12: bool) -> V2Client {
    let credentials = sandbox.credentials();
    let builder = V2Client::builder()
        .mchid(&credentials.mchid)
        .key(&credentials.apiv2_key)
        .base_url(sandbox.v2_tls_url().expect("the TLS listener runs"))
        .root_certificate_pem(credentials.tls_ca_pem.as_bytes().to_vec());
    let builder = if pkcs12 {
        builder.client_certificate_pkcs12_file(
            files.dir.join("apiclient_cert.p12"),
            &credentials.mchid,
        )
    } else {
        builder.client_certificate_pem_files(
            files.dir.join("apiclient_cert.pem"),
            files.dir.join("apiclient_key.pem"),
        )
    };
    builder.build().unwrap()
}

fn err_code(error: &Error) -> Option<&str> {
    match error {
        Error::V2 { source, .. } => source.err_code(),
        _ => None,
    }
}

#[tokio::test]
async fn an_order_is_placed_paid_notified_queried_refunded_and_notified() {
    let sandbox = Sandbox::start().await.unwrap();
    let key = V2Key::new(&sandbox.credentials().apiv2_key).unwrap();
    let (notify, mut received) = receiver().await;
    let client = plain_client(&sandbox, SignType::HmacSha256);
    let out_trade_no = "v2-flow-0001".to_owned();

    let prepaid = client
        .send(UnifiedOrder {
            appid: APPID.into(),
            body: "沙箱商品".into(),
            out_trade_no: out_trade_no.clone(),
            total_fee: 888,
            spbill_create_ip: "127.0.0.1".into(),
            notify_url: format!("{notify}/notify/pay"),
            trade_type: "NATIVE".into(),
            product_id: "p1".into(),
        })
        .await
        .unwrap();
    assert_eq!(prepaid.trade_type, "NATIVE");
    assert!(prepaid.prepay_id.starts_with("wx"), "{prepaid:?}");
    assert!(prepaid.code_url.unwrap().starts_with("weixin://"));

    let queried = client
        .send(OrderQuery {
            appid: APPID.into(),
            out_trade_no: out_trade_no.clone(),
        })
        .await
        .unwrap();
    assert_eq!(queried.trade_state, "NOTPAY");

    // The sandbox's payer pays it, as for an APIv3 order (same store).
    let paid = reqwest::Client::new()
        .post(format!(
            "{}/_sandbox/transactions/out-trade-no/{out_trade_no}/pay",
            sandbox.base_url()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let paid: serde_json::Value = serde_json::from_slice(&paid).unwrap();
    assert_eq!(paid["trade_state"], "SUCCESS");
    assert_eq!(paid["amount"]["total"], 888);

    let body = next(&mut received, "pay").await;
    let notice: PaymentNotice = decode_payment(&body, &key).unwrap();
    assert_eq!(notice.out_trade_no, out_trade_no);
    assert_eq!(notice.total_fee, 888);
    assert_eq!(notice.result_code, "SUCCESS");
    assert_eq!(notice.trade_type, "NATIVE");
    assert_eq!(notice.transaction_id, paid["transaction_id"]);

    let queried = client
        .send(OrderQuery {
            appid: APPID.into(),
            out_trade_no: out_trade_no.clone(),
        })
        .await
        .unwrap();
    assert_eq!(queried.trade_state, "SUCCESS");
    assert_eq!(queried.total_fee, 888);
    assert_eq!(
        queried.transaction_id.as_deref(),
        paid["transaction_id"].as_str()
    );

    // The APIv3 side sees the same order (a raw, verified request: the
    // test needs no catalogue feature).
    let v3 = support::sandbox_client(&sandbox);
    let target = format!(
        "/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}",
        sandbox.credentials().mchid
    );
    let request = v3.prepare_raw(wxpay::Method::Get, &target, None).unwrap();
    let answer = v3.send_raw(&request).await.unwrap();
    assert_eq!(answer.status, 200);
    let order: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(order["trade_state"], "SUCCESS");
    assert_eq!(order["amount"]["total"], 888);
    assert_eq!(order["trade_type"], "NATIVE");

    // The refund goes over mutual TLS with the client certificate.
    let files = Files::write(&sandbox);
    let refund = |out_refund_no: &str, refund_fee| Refund {
        appid: APPID.into(),
        out_trade_no: out_trade_no.clone(),
        out_refund_no: out_refund_no.into(),
        total_fee: 888,
        refund_fee,
        notify_url: format!("{notify}/notify/refund"),
    };
    let tls = tls_client(&sandbox, &files, false);
    let refunded = tls.send(refund("v2-refund-1", 300)).await.unwrap();
    assert_eq!(refunded.refund_fee, 300);
    assert_eq!(refunded.out_refund_no, "v2-refund-1");

    let body = next(&mut received, "refund").await;
    let notice: RefundNotice = decode_refund(&body, &key).unwrap();
    assert_eq!(notice.out_trade_no, out_trade_no);
    assert_eq!(notice.out_refund_no, "v2-refund-1");
    assert_eq!(notice.refund_id, refunded.refund_id);
    assert_eq!(notice.refund_fee, 300);
    assert_eq!(notice.refund_status, "SUCCESS");

    let queried = client
        .send(RefundQuery {
            appid: APPID.into(),
            out_trade_no: out_trade_no.clone(),
        })
        .await
        .unwrap();
    assert_eq!(queried.refund_count, 1);
    assert_eq!(queried.refund_status_0, "SUCCESS");
    assert_eq!(queried.refund_fee_0, 300);
    assert_eq!(queried.out_refund_no_0, "v2-refund-1");

    // More than is left: a signed business refusal. The PKCS#12 archive
    // works as well as the PEM files.
    let tls_p12 = tls_client(&sandbox, &files, true);
    let error = tls_p12.send(refund("v2-refund-2", 600)).await.unwrap_err();
    assert_eq!(err_code(&error), Some("REFUND_FEE_INVALID"), "{error:?}");
    let refunded = tls_p12.send(refund("v2-refund-2", 588)).await.unwrap();
    assert_eq!(refunded.refund_fee, 588);
    let _ = next(&mut received, "refund").await;

    let queried = client
        .send(OrderQuery {
            appid: APPID.into(),
            out_trade_no: out_trade_no.clone(),
        })
        .await
        .unwrap();
    assert_eq!(queried.trade_state, "REFUND");

    // Every notification was acknowledged at the first attempt.
    let attempts = sandbox.callback_attempts();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(
        attempts
            .iter()
            .all(|a| a.status == Some(200) && a.attempt == 1),
        "{attempts:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_client_certificate_is_required_on_both_sides() {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials();
    let refund = Refund {
        appid: APPID.into(),
        out_trade_no: "v2-nocert-01".into(),
        out_refund_no: "v2-nocert-r1".into(),
        total_fee: 1,
        refund_fee: 1,
        notify_url: "http://127.0.0.1:9/notify".into(),
    };
    // The client refuses before sending.
    let client = V2Client::builder()
        .mchid(&credentials.mchid)
        .key(&credentials.apiv2_key)
        .base_url(sandbox.v2_tls_url().unwrap())
        .root_certificate_pem(credentials.tls_ca_pem.as_bytes().to_vec())
        .build()
        .unwrap();
    let error = client.send(refund).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::V2 {
                source: V2Error::ClientCertificateRequired { .. },
                ..
            }
        ),
        "{error:?}"
    );

    // The sandbox refuses a signed request without a certificate, over
    // TLS and over plain HTTP.
    let mut fields = Fields::new();
    for (name, value) in [
        ("appid", APPID),
        ("mch_id", credentials.mchid.as_str()),
        ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
        ("out_trade_no", "v2-nocert-01"),
        ("out_refund_no", "v2-nocert-r1"),
        ("total_fee", "1"),
        ("refund_fee", "1"),
    ] {
        fields.insert(name, value);
    }
    let key = V2Key::new(&credentials.apiv2_key).unwrap();
    let signature = sign(&fields, &key, SignType::Md5);
    fields.insert("sign", signature);
    let raw = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(credentials.tls_ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    for base in [sandbox.v2_tls_url().unwrap(), sandbox.base_url()] {
        let answer = raw
            .post(format!("{base}/secapi/pay/refund"))
            .body(fields.to_xml())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let answer = Fields::from_xml(&answer).unwrap();
        assert_eq!(answer.get("return_code"), Some("FAIL"), "{answer:?}");
        assert!(
            answer.get("return_msg").unwrap().contains("证书"),
            "{answer:?}"
        );
        assert!(answer.get("sign").is_none());
    }

    // A wrong signature: return_code FAIL 签名错误, unsigned.
    let mut forged = fields.clone();
    forged.insert("sign", "0".repeat(32));
    let answer = raw
        .post(format!("{}/pay/orderquery", sandbox.base_url()))
        .body(forged.to_xml())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let answer = Fields::from_xml(&answer).unwrap();
    assert_eq!(answer.get("return_code"), Some("FAIL"));
    assert_eq!(answer.get("return_msg"), Some("签名错误"));
    // The client sees it as a refusal, with a wrong key.
    let wrong = V2Client::builder()
        .mchid(&credentials.mchid)
        .key("0123456789abcdef0123456789abcdef")
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let error = wrong
        .send(OrderQuery {
            appid: APPID.into(),
            out_trade_no: "v2-nocert-01".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::V2 { source: V2Error::Return { return_msg }, .. } if return_msg == "签名错误"),
        "{error:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn micropay_closeorder_and_sendredpack() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = plain_client(&sandbox, SignType::Md5);
    let micropay = |out_trade_no: &str, auth_code: &str| Micropay {
        appid: APPID.into(),
        body: "付款码".into(),
        out_trade_no: out_trade_no.into(),
        total_fee: 100,
        spbill_create_ip: "127.0.0.1".into(),
        auth_code: auth_code.into(),
    };
    let paid = client
        .send(micropay("v2-micro-01", "134567890123456789"))
        .await
        .unwrap();
    assert_eq!(paid.total_fee, 100);
    assert_eq!(paid.trade_type, "MICROPAY");
    assert_eq!(paid.transaction_id.len(), 28);

    // An auth_code ending in 9999: the payer still has to enter a password.
    let error = client
        .send(micropay("v2-micro-02", "134567890123459999"))
        .await
        .unwrap_err();
    assert_eq!(err_code(&error), Some("USERPAYING"), "{error:?}");
    let queried = client
        .send(OrderQuery {
            appid: APPID.into(),
            out_trade_no: "v2-micro-02".into(),
        })
        .await
        .unwrap();
    assert_eq!(queried.trade_state, "USERPAYING");
    let error = client
        .send(micropay("v2-micro-03", "99"))
        .await
        .unwrap_err();
    assert_eq!(err_code(&error), Some("AUTH_CODE_INVALID"), "{error:?}");

    // closeorder: an unpaid order closes; a paid one cannot; an unknown
    // one does not exist.
    client
        .send(UnifiedOrder {
            appid: APPID.into(),
            body: "关单".into(),
            out_trade_no: "v2-close-01".into(),
            total_fee: 5,
            spbill_create_ip: "127.0.0.1".into(),
            notify_url: "http://127.0.0.1:9/notify".into(),
            trade_type: "NATIVE".into(),
            product_id: "p".into(),
        })
        .await
        .unwrap();
    let close = |out_trade_no: &str| CloseOrder {
        appid: APPID.into(),
        out_trade_no: out_trade_no.into(),
    };
    client.send(close("v2-close-01")).await.unwrap();
    let queried = client
        .send(OrderQuery {
            appid: APPID.into(),
            out_trade_no: "v2-close-01".into(),
        })
        .await
        .unwrap();
    assert_eq!(queried.trade_state, "CLOSED");
    let error = client.send(close("v2-close-01")).await.unwrap_err();
    assert_eq!(err_code(&error), Some("ORDERCLOSED"), "{error:?}");
    let error = client.send(close("v2-micro-01")).await.unwrap_err();
    assert_eq!(err_code(&error), Some("ORDERPAID"), "{error:?}");
    let error = client.send(close("v2-nothing-01")).await.unwrap_err();
    assert_eq!(err_code(&error), Some("ORDERNOTEXIST"), "{error:?}");

    // sendredpack, over mutual TLS; the answer is unsigned.
    let files = Files::write(&sandbox);
    let tls = tls_client(&sandbox, &files, false);
    let redpack = |total_amount| SendRedPack {
        mch_billno: format!("{}20261206000001", sandbox.credentials().mchid),
        wxappid: APPID.into(),
        send_name: "沙箱".into(),
        re_openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
        total_amount,
        total_num: 1,
        wishing: "恭喜发财".into(),
        client_ip: "127.0.0.1".into(),
        act_name: "测试".into(),
        remark: "无".into(),
    };
    let sent = tls.send(redpack(100)).await.unwrap();
    assert_eq!(sent.total_amount, 100);
    let again = tls.send(redpack(100)).await.unwrap();
    assert_eq!(again.send_listid, sent.send_listid);
    let error = tls.send(redpack(200)).await.unwrap_err();
    assert_eq!(err_code(&error), Some("PARAM_ERROR"), "{error:?}");
    // The TLS listener also serves the rest of APIv2.
    let queried = tls
        .send(OrderQuery {
            appid: APPID.into(),
            out_trade_no: "v2-micro-01".into(),
        })
        .await
        .unwrap();
    assert_eq!(queried.trade_state, "SUCCESS");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_unacknowledged_notification_is_sent_again_and_members_are_checked() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let sandbox = Sandbox::start_with(wxpay_sandbox::SandboxConfig {
        callback_retry_delays: Some(vec![Duration::from_millis(50); 3]),
        ..wxpay_sandbox::SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials = sandbox.credentials();
    let key = V2Key::new(&credentials.apiv2_key).unwrap();

    // The merchant first answers FAIL, then (with 200 but no XML) still
    // not SUCCESS, then SUCCESS.
    let calls = Arc::new(AtomicUsize::new(0));
    let (sender, mut received) = mpsc::unbounded_channel::<Bytes>();
    let counter = Arc::clone(&calls);
    let app = axum::Router::new().route(
        "/notify",
        post(move |body: Bytes| {
            let counter = Arc::clone(&counter);
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                match counter.fetch_add(1, Ordering::SeqCst) {
                    0 => wxpay::v2::notification::reply_fail("busy"),
                    1 => "ok".to_owned(),
                    _ => reply_success(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = plain_client(&sandbox, SignType::Md5);
    client
        .send(UnifiedOrder {
            appid: APPID.into(),
            body: "重试".into(),
            out_trade_no: "v2-retry-01".into(),
            total_fee: 3,
            spbill_create_ip: "127.0.0.1".into(),
            notify_url: notify,
            trade_type: "NATIVE".into(),
            product_id: "p".into(),
        })
        .await
        .unwrap();
    let paid = reqwest::Client::new()
        .post(format!(
            "{}/_sandbox/transactions/out-trade-no/v2-retry-01/pay",
            sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    for _ in 0..3 {
        let body = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .expect("an attempt")
            .expect("the receiver runs");
        let notice: PaymentNotice = decode_payment(&body, &key).unwrap();
        assert_eq!(notice.out_trade_no, "v2-retry-01");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts = sandbox.callback_attempts();
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["retrying", "retrying", "delivered"],
        "{attempts:?}"
    );
    assert!(
        attempts
            .iter()
            .all(|a| a.event_type == "V2.TRANSACTION.SUCCESS")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // A missing business member: result_code FAIL, PARAM_ERROR, signed.
    let mut fields = Fields::new();
    for (name, value) in [
        ("appid", APPID),
        ("mch_id", credentials.mchid.as_str()),
        ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
        ("out_trade_no", "v2-param-01"),
        ("total_fee", "1"),
        ("spbill_create_ip", "127.0.0.1"),
        ("notify_url", "http://127.0.0.1:9/n"),
        ("trade_type", "NATIVE"),
        ("sign_type", "HMAC-SHA256"),
    ] {
        fields.insert(name, value);
    }
    let signature = sign(&fields, &key, SignType::HmacSha256);
    fields.insert("sign", signature);
    let post_raw = |path: &str, body: String| {
        let url = format!("{}{path}", sandbox.base_url());
        async move {
            let answer = reqwest::Client::new()
                .post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            Fields::from_xml(&answer).unwrap()
        }
    };
    let answer = post_raw("/pay/unifiedorder", fields.to_xml()).await;
    assert_eq!(answer.get("return_code"), Some("SUCCESS"), "{answer:?}");
    assert_eq!(answer.get("result_code"), Some("FAIL"));
    assert_eq!(answer.get("err_code"), Some("PARAM_ERROR"));
    assert_eq!(answer.get("err_code_des"), Some("缺少参数body"));
    wxpay::v2::verify(&answer, &key, SignType::HmacSha256).expect("a signed refusal");

    // Another merchant, an unknown sign type, not XML: return_code FAIL.
    let mut other = fields.clone();
    other.insert("mch_id", "1900000000");
    let answer = post_raw("/pay/unifiedorder", other.to_xml()).await;
    assert_eq!(answer.get("return_code"), Some("FAIL"));
    assert!(answer.get("return_msg").unwrap().starts_with("mch_id"));
    let mut other = fields.clone();
    other.insert("sign_type", "SHA1");
    let answer = post_raw("/pay/unifiedorder", other.to_xml()).await;
    assert_eq!(answer.get("return_code"), Some("FAIL"));
    assert!(answer.get("return_msg").unwrap().starts_with("sign_type"));
    let answer = post_raw("/pay/orderquery", "{\"json\":true}".to_owned()).await;
    assert_eq!(answer.get("return_code"), Some("FAIL"));
    assert!(answer.get("return_msg").unwrap().starts_with("XML格式错误"));
    sandbox.shutdown().await;
}
