//! Merchant transfers (商家转账) end to end against the sandbox, through
//! the typed catalogue: create a bill (with an encrypted `user_name`) and
//! get the payee's `wx.requestMerchantTransfer` parameters in one call,
//! confirm as the payee would, query the bill by both numbers, and decode
//! the `MCHTRANSFER.BILL.FINISHED` callback with wxpay's decoder.

#![cfg(feature = "fund-app")]

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use wxpay::api::v3::fund_app::mch_transfer::transfer_bills::{
    Post as CreateTransferBill, PostResponseState, PostTransferSceneId,
    PostTransferSceneReportInfos, out_bill_no::_out_bill_no_::Get as QueryByOutBillNo,
    out_bill_no::_out_bill_no_::GetResponseState,
    out_bill_no::_out_bill_no_::cancel::Post as Cancel,
    transfer_bill_no::_transfer_bill_no_::Get as QueryByTransferBillNo,
};
use wxpay::notification::resources::MchTransferBillNotification;
use wxpay::payer::PayParamsError;
use wxpay::{Client, EventType, MerchantKey, NotificationDecoder};
use wxpay_sandbox::Sandbox;

const APPID: &str = "wxf636efh567hg4356";
const OPENID: &str = "o-MYE42l80oelYMDE34nYD456Xoy";
const ARRIVAL: Duration = Duration::from_secs(10);

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A callback receiver that keeps what arrives and answers 204.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/notify/transfer",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/notify/transfer",
        listener.local_addr().expect("address")
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, received)
}

async fn wait_for(received: &Received, count: usize) -> Vec<(HeaderMap, Bytes)> {
    let deadline = Instant::now() + ARRIVAL;
    loop {
        let log = received.lock().unwrap().clone();
        if log.len() >= count {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} callbacks",
            log.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn client(sandbox: &Sandbox) -> Client {
    support::sandbox_builder(sandbox)
        .apiv3_key(&sandbox.credentials().apiv3_key)
        .build()
        .expect("sandbox credentials make a valid client")
}

fn bill(out_bill_no: &str, notify_url: &str, user_name: Option<&str>) -> CreateTransferBill {
    CreateTransferBill {
        appid: APPID.into(),
        out_bill_no: out_bill_no.into(),
        openid: OPENID.into(),
        user_name: user_name.map(str::to_owned),
        transfer_amount: 300_000,
        transfer_remark: "2025年4月报销".into(),
        notify_url: Some(notify_url.into()),
        user_recv_perception: Some("报销款".into()),
        transfer_scene_id: PostTransferSceneId::V1000,
        transfer_scene_report_infos: vec![PostTransferSceneReportInfos {
            info_type: "活动名称".into(),
            info_content: "新会员有礼".into(),
        }],
        user_recv_style: None,
    }
}

#[tokio::test]
async fn create_confirm_query_and_decode_the_callback() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = client(&sandbox);
    let (notify_url, received) = receiver().await;

    let created = client
        .create_transfer_bill(bill("plfk2020042013", &notify_url, Some("张三")))
        .await
        .expect("created");
    assert_eq!(created.answer.state, PostResponseState::WaitUserConfirm);
    let params = created.params.expect("a waiting bill has parameters");
    assert_eq!(params.mch_id, client.mchid());
    assert_eq!(params.app_id, APPID);
    assert_eq!(params.open_id.as_deref(), Some(OPENID));
    assert_eq!(Some(&params.package), created.answer.package_info.as_ref());

    // The payee confirms with exactly what the page would pass.
    let confirmed = reqwest::Client::new()
        .post(format!(
            "{}/_sandbox/request-merchant-transfer",
            sandbox.base_url()
        ))
        .header("content-type", "application/json")
        .body(serde_json::to_string(&params).expect("serializes"))
        .send()
        .await
        .expect("sandbox reachable");
    assert_eq!(confirmed.status(), 200);

    let by_out = client
        .send(QueryByOutBillNo {
            out_bill_no: "plfk2020042013".into(),
        })
        .await
        .expect("query by out_bill_no");
    assert_eq!(by_out.state, GetResponseState::Success);
    assert_eq!(by_out.transfer_amount, 300_000);
    assert_eq!(by_out.mch_id, client.mchid());
    let name = by_out.user_name.as_deref().expect("the name, encrypted");
    let key = MerchantKey::from_pem(&sandbox.credentials().merchant_private_key_pem)
        .expect("merchant key");
    assert_eq!(
        key.decrypt_oaep(name).expect("decrypts").as_slice(),
        "张三".as_bytes()
    );
    let by_no = client
        .send(QueryByTransferBillNo {
            transfer_bill_no: created.answer.transfer_bill_no.clone(),
        })
        .await
        .expect("query by transfer_bill_no");
    assert_eq!(by_no.out_bill_no, "plfk2020042013");
    assert_eq!(by_no.update_time, by_out.update_time);

    let callbacks = wait_for(&received, 1).await;
    let decoder = NotificationDecoder::from_client(&client).expect("the client has the APIv3 key");
    let (headers, body) = &callbacks[0];
    let notification = decoder
        .decode::<MchTransferBillNotification>(headers, body)
        .expect("a verified callback");
    assert_eq!(notification.event_type, EventType::MchTransferBillFinished);
    assert_eq!(notification.original_type, "mch_payment");
    let resource = notification.resource;
    assert!(resource.is_success());
    assert_eq!(resource.out_bill_no, "plfk2020042013");
    assert_eq!(resource.transfer_bill_no, created.answer.transfer_bill_no);
    assert_eq!(resource.transfer_amount, 300_000);
    assert_eq!(resource.openid, OPENID);
    assert_eq!(resource.mch_id, client.mchid());

    // A confirmed bill can no longer be cancelled.
    let error = client
        .send(Cancel {
            out_bill_no: "plfk2020042013".into(),
        })
        .await
        .expect_err("final");
    assert!(error.to_string().contains("INVALID_REQUEST"), "{error}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_bill_calls_back_and_bad_values_are_refused_before_sending() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let client = client(&sandbox);
    let (notify_url, received) = receiver().await;

    let mut small = bill("cancel00001", &notify_url, None);
    small.transfer_amount = 100;
    let created = client.create_transfer_bill(small).await.expect("created");
    let package = created.params.expect("parameters").package;
    let by_hand = client
        .merchant_transfer_params(APPID, &package)
        .expect("parameters by hand");
    assert_eq!(by_hand.open_id, None);
    let cancelled = client
        .send(Cancel {
            out_bill_no: "cancel00001".into(),
        })
        .await
        .expect("cancelled");
    assert_eq!(cancelled.transfer_bill_no, created.answer.transfer_bill_no);
    let callbacks = wait_for(&received, 1).await;
    let decoder = NotificationDecoder::from_client(&client).expect("decoder");
    let notification = decoder
        .decode::<MchTransferBillNotification>(&callbacks[0].0, &callbacks[0].1)
        .expect("a verified callback");
    assert_eq!(notification.resource.state, "CANCELLED");

    let mut forged = bill("forged00001", &notify_url, None);
    forged.openid = "o-1\nopenId=other".into();
    let error = client
        .create_transfer_bill(forged)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            &error,
            wxpay::Error::PayParams {
                source: PayParamsError::InvalidField {
                    field: "openId",
                    ..
                },
                ..
            }
        ),
        "{error}"
    );
    let missing = client
        .send(QueryByOutBillNo {
            out_bill_no: "forged00001".into(),
        })
        .await
        .expect_err("never created");
    assert!(missing.to_string().contains("NOT_FOUND"), "{missing}");
    sandbox.shutdown().await;
}
