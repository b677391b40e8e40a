//! Merchant transfers (商家转账) over HTTP: create, the payee's side, the
//! queries, the cancel, the refusals, and the `MCHTRANSFER.BILL.FINISHED`
//! callback.

use std::time::Duration;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{
    KeyPair, OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use wxpay_sandbox::Sandbox;

use crate::common::{Answer, Merchant, sandbox};
use crate::payer::run_in_node;
use crate::receiver::{Received, Receiver, control, decrypt};

const ARRIVAL: Duration = Duration::from_secs(10);
const CREATE: &str = "/v3/fund-app/mch-transfer/transfer-bills";

fn bill_body(out_bill_no: &str, notify_url: &str) -> Value {
    json!({
        "appid": "wxf636efh567hg4356",
        "out_bill_no": out_bill_no,
        "transfer_scene_id": "1000",
        "openid": "o-MYE42l80oelYMDE34nYD456Xoy",
        "transfer_amount": 400,
        "transfer_remark": "新会员开通有礼",
        "notify_url": notify_url,
        "user_recv_perception": "现金奖励",
        "transfer_scene_report_infos": [
            {"info_type": "活动名称", "info_content": "新会员有礼"},
            {"info_type": "奖励说明", "info_content": "注册会员抽奖一等奖"}
        ]
    })
}

async fn create(merchant: &Merchant, body: &Value) -> Value {
    let answer = merchant.post(CREATE, body).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(&merchant.credentials);
    answer.json()
}

async fn query(merchant: &Merchant, path: &str) -> Answer {
    merchant
        .get(&format!("/v3/fund-app/mch-transfer/transfer-bills/{path}"))
        .await
}

/// Opens a transfer callback: signed by the platform key, the envelope
/// WeChat Pay sends, the decrypted resource.
fn open(callback: &Received, sandbox: &Sandbox) -> Value {
    let credentials = sandbox.credentials();
    callback
        .verify(&credentials.platform_public_key_pem)
        .expect("signed by the platform key");
    let body = callback.json();
    assert_eq!(body["event_type"], "MCHTRANSFER.BILL.FINISHED", "{body}");
    assert_eq!(body["summary"], "商家转账单据终态通知", "{body}");
    assert_eq!(body["resource"]["original_type"], "mch_payment", "{body}");
    serde_json::from_slice(&decrypt(&credentials.apiv3_key, &body["resource"]))
        .expect("the resource is JSON")
}

#[tokio::test]
async fn a_bill_waits_for_its_payee_who_confirms_through_the_page_parameters() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let receiver = Receiver::start(vec![]).await;
    let body = bill_body("plfk2020042013", &receiver.url);

    let created = create(&merchant, &body).await;
    assert_eq!(created["out_bill_no"], "plfk2020042013");
    assert_eq!(created["state"], "WAIT_USER_CONFIRM");
    let transfer_bill_no = created["transfer_bill_no"].as_str().expect("no").to_owned();
    assert_eq!(transfer_bill_no.len(), 40, "{created}");
    let package = created["package_info"]
        .as_str()
        .expect("package")
        .to_owned();

    // The same bill again: the same answer, no second bill.
    assert_eq!(create(&merchant, &body).await, created);
    // The same number with other parameters: refused.
    let mut other = body.clone();
    other["transfer_amount"] = json!(500);
    merchant
        .post(CREATE, &other)
        .await
        .assert_error(&merchant.credentials, 400, "INVALID_REQUEST");

    // Both queries show the waiting bill.
    let by_out = query(&merchant, "out-bill-no/plfk2020042013").await;
    by_out.assert_verified(&merchant.credentials);
    let by_out = by_out.json();
    assert_eq!(by_out["state"], "WAIT_USER_CONFIRM");
    assert_eq!(by_out["mch_id"], merchant.mchid());
    assert_eq!(by_out["transfer_amount"], 400);
    assert_eq!(by_out["openid"], "o-MYE42l80oelYMDE34nYD456Xoy");
    let by_no = query(&merchant, &format!("transfer-bill-no/{transfer_bill_no}")).await;
    assert_eq!(by_no.json(), by_out);
    assert!(receiver.received().is_empty(), "no callback before the end");

    // The page's parameters, checked before anything changes.
    let params = |mch: &str, app: &str, pkg: &str| {
        json!({"mchId": mch, "appId": app, "package": pkg, "openId": "o-MYE42l80oelYMDE34nYD456Xoy"})
            .to_string()
    };
    let mchid = merchant.mchid().to_owned();
    let refused = [
        (params("1", "wxf636efh567hg4356", &package), 400, "APPID_MCHID_NOT_MATCH"),
        (params(&mchid, "wx0", &package), 400, "APPID_MCHID_NOT_MATCH"),
        (params(&mchid, "wxf636efh567hg4356", "bm90LWEtcGFja2FnZQ=="), 404, "NOT_FOUND"),
        (
            json!({"mchId": mchid, "appId": "wxf636efh567hg4356", "package": package, "openId": "o-other"})
                .to_string(),
            400,
            "INVALID_REQUEST",
        ),
        (json!({"mchId": mchid, "package": package}).to_string(), 400, "PARAM_ERROR"),
        (
            json!({"mchId": mchid, "appId": "wxf636efh567hg4356", "package": package, "paySign": "x"})
                .to_string(),
            400,
            "PARAM_ERROR",
        ),
    ];
    for (params, status, code) in refused {
        let answer = control(
            &sandbox,
            "POST",
            "/_sandbox/request-merchant-transfer",
            Some(&params),
        )
        .await;
        assert_eq!(
            answer.status,
            status,
            "{params}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.json()["code"], code, "{params}");
        assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    }
    assert_eq!(
        query(&merchant, "out-bill-no/plfk2020042013").await.json()["state"],
        "WAIT_USER_CONFIRM"
    );

    // The sheet's info, and the preflight.
    let info = control(
        &sandbox,
        "GET",
        &format!("/_sandbox/transfer-bills/package/{}", urlencode(&package)),
        None,
    )
    .await;
    assert_eq!(info.status, 200, "{}", String::from_utf8_lossy(&info.body));
    assert_eq!(info.json()["transfer_amount"], 400);
    let preflight = control(
        &sandbox,
        "OPTIONS",
        "/_sandbox/request-merchant-transfer",
        None,
    )
    .await;
    assert_eq!(preflight.status, 204);

    let confirmed = control(
        &sandbox,
        "POST",
        "/_sandbox/request-merchant-transfer",
        Some(&params(&mchid, "wxf636efh567hg4356", &package)),
    )
    .await;
    assert_eq!(
        confirmed.status,
        200,
        "{}",
        String::from_utf8_lossy(&confirmed.body)
    );
    assert_eq!(confirmed.json()["state"], "SUCCESS");

    let received = receiver.wait_for(1, ARRIVAL).await;
    let resource = open(&received[0], &sandbox);
    let queried = query(&merchant, "out-bill-no/plfk2020042013").await.json();
    assert_eq!(queried["state"], "SUCCESS");
    for field in [
        "out_bill_no",
        "transfer_bill_no",
        "state",
        "mch_id",
        "transfer_amount",
        "openid",
        "create_time",
        "update_time",
    ] {
        assert_eq!(
            resource[field], queried[field],
            "{field}: {resource} vs {queried}"
        );
    }
    assert!(resource.get("fail_reason").is_none());

    // Confirmed once: again is refused, and so is a cancel.
    let again = control(
        &sandbox,
        "POST",
        "/_sandbox/request-merchant-transfer",
        Some(&params(&mchid, "wxf636efh567hg4356", &package)),
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["code"], "INVALID_REQUEST");
    merchant
        .post(
            "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/plfk2020042013/cancel",
            &json!({}),
        )
        .await
        .assert_error(&merchant.credentials, 400, "INVALID_REQUEST");
    // The create again now answers the final state, without a package.
    let after = create(&merchant, &body).await;
    assert_eq!(after["state"], "SUCCESS");
    assert!(after.get("package_info").is_none());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 1, "one callback");
    sandbox.shutdown().await;
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn cancel_expire_and_fail_end_a_bill_with_their_callbacks() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let receiver = Receiver::start(vec![]).await;

    create(&merchant, &bill_body("cancel00001", &receiver.url)).await;
    let cancelled = merchant
        .post(
            "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/cancel00001/cancel",
            &json!({}),
        )
        .await;
    cancelled.assert_verified(&merchant.credentials);
    assert_eq!(cancelled.json()["state"], "CANCELING");
    let received = receiver.wait_for(1, ARRIVAL).await;
    assert_eq!(open(&received[0], &sandbox)["state"], "CANCELLED");
    assert_eq!(
        query(&merchant, "out-bill-no/cancel00001").await.json()["state"],
        "CANCELLED"
    );

    let expiring = create(&merchant, &bill_body("expire00001", &receiver.url)).await;
    let no = expiring["transfer_bill_no"].as_str().expect("no");
    let expired = control(
        &sandbox,
        "POST",
        &format!("/_sandbox/transfer-bills/{no}/expire"),
        None,
    )
    .await;
    assert_eq!(
        expired.status,
        200,
        "{}",
        String::from_utf8_lossy(&expired.body)
    );
    let received = receiver.wait_for(2, ARRIVAL).await;
    let resource = open(&received[1], &sandbox);
    assert_eq!(resource["state"], "FAIL");
    assert_eq!(resource["fail_reason"], "OVERDUE_CLOSE");

    let failing = create(&merchant, &bill_body("fail0000001", &receiver.url)).await;
    let no = failing["transfer_bill_no"].as_str().expect("no");
    let failed = control(
        &sandbox,
        "POST",
        &format!("/_sandbox/transfer-bills/{no}/fail"),
        Some(r#"{"fail_reason":"TRANSFER_RISK"}"#),
    )
    .await;
    assert_eq!(failed.json()["fail_reason"], "TRANSFER_RISK");
    let received = receiver.wait_for(3, ARRIVAL).await;
    assert_eq!(open(&received[2], &sandbox)["fail_reason"], "TRANSFER_RISK");
    let confirm = control(
        &sandbox,
        "POST",
        &format!("/_sandbox/transfer-bills/{no}/confirm"),
        None,
    )
    .await;
    assert_eq!(confirm.status, 400);
    let unknown = control(
        &sandbox,
        "POST",
        "/_sandbox/transfer-bills/1330/confirm",
        None,
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["code"], "NOT_FOUND");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn refusals_name_the_field_and_change_nothing() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = &merchant.credentials;
    for (change, field) in [
        (json!({"out_bill_no": "ab"}), "/out_bill_no"),
        (json!({"out_bill_no": "has_underscore"}), "/out_bill_no"),
        (json!({"transfer_amount": 9}), "/transfer_amount"),
        (json!({"transfer_amount": 200000}), "/user_name"),
        (json!({"transfer_scene_id": "9999"}), "/transfer_scene_id"),
        (
            json!({"transfer_scene_report_infos": null}),
            "/transfer_scene_report_infos",
        ),
        (json!({"notify_url": "ftp://x"}), "/notify_url"),
        (json!({"user_name": "bm90IGVuY3J5cHRlZA=="}), "/user_name"),
    ] {
        let mut body = bill_body("refused0001", "https://merchant.example/n");
        for (key, value) in change.as_object().expect("object") {
            body[key] = value.clone();
        }
        let error =
            merchant
                .post(CREATE, &body)
                .await
                .assert_error(credentials, 400, "PARAM_ERROR");
        assert_eq!(error["detail"]["field"], field, "{error}");
    }
    query(&merchant, "out-bill-no/refused0001")
        .await
        .assert_error(credentials, 404, "NOT_FOUND");
    query(&merchant, "transfer-bill-no/1330000000")
        .await
        .assert_error(credentials, 404, "NOT_FOUND");
    merchant
        .post(
            "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/refused0001/cancel",
            &json!({}),
        )
        .await
        .assert_error(credentials, 404, "NOT_FOUND");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_encrypted_user_name_is_read_with_the_named_key_and_returned_for_the_merchant() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let platform = pem::parse(&credentials.platform_public_key_pem).expect("pem");
    let key = OaepPublicEncryptingKey::new(
        PublicEncryptingKey::from_der(platform.contents()).expect("public key"),
    )
    .expect("oaep");
    let mut out = vec![0u8; key.ciphertext_size()];
    let ciphertext = BASE64.encode(
        key.encrypt(&OAEP_SHA1_MGF1SHA1, "张三".as_bytes(), &mut out, None)
            .expect("encrypts"),
    );
    let mut body = bill_body("named000001", "https://merchant.example/n");
    body["user_name"] = json!(ciphertext);
    body["transfer_amount"] = json!(300_000);
    let text = body.to_string();

    // Without Wechatpay-Serial: refused.
    merchant
        .post(CREATE, &body)
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    let send = |serial: &'static str| {
        let authorization = merchant.auth_parts("POST", CREATE, &text).header();
        let url = format!("{}{CREATE}", sandbox.base_url());
        let text = text.clone();
        async move {
            let response = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client")
                .post(url)
                .header("Authorization", authorization)
                .header("Content-Type", "application/json")
                .header("Wechatpay-Serial", serial)
                .body(text)
                .send()
                .await
                .expect("sandbox reachable");
            (
                response.status().as_u16(),
                response.text().await.expect("body"),
            )
        }
    };
    let (status, answer) = send("PUB_KEY_ID_UNKNOWN").await;
    assert_eq!(status, 400, "{answer}");
    let serial: &'static str = Box::leak(credentials.public_key_id.clone().into_boxed_str());
    let (status, answer) = send(serial).await;
    assert_eq!(status, 200, "{answer}");

    let queried = query(&merchant, "out-bill-no/named000001").await.json();
    let encrypted = BASE64
        .decode(queried["user_name"].as_str().expect("user_name"))
        .expect("base64");
    let merchant_key = pem::parse(&credentials.merchant_private_key_pem).expect("pem");
    let pair = KeyPair::from_pkcs8(merchant_key.contents()).expect("key");
    let der = pair.as_der().expect("der");
    let private = OaepPrivateDecryptingKey::new(
        PrivateDecryptingKey::from_pkcs8(der.as_ref()).expect("decrypting key"),
    )
    .expect("oaep");
    let mut plain = vec![0u8; private.min_output_size()];
    let name = private
        .decrypt(&OAEP_SHA1_MGF1SHA1, &encrypted, &mut plain, None)
        .expect("decrypts with the merchant key");
    assert_eq!(name, "张三".as_bytes());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn jsapi_js_confirms_cancels_and_reports_refused_transfers() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let notify_url = crate::receiver::closed_url();
    let params = |created: &Value| {
        json!({
            "mchId": merchant.mchid(),
            "appId": "wxf636efh567hg4356",
            "package": created["package_info"],
            "openId": "o-MYE42l80oelYMDE34nYD456Xoy",
        })
    };

    // Confirm through WeixinJSBridge.
    let created = create(&merchant, &bill_body("jsbridge001", &notify_url)).await;
    let Some(seen) = run_in_node(&sandbox, &params(&created), "transfer-bridge", "pay").await
    else {
        return;
    };
    assert_eq!(seen["ready"], true, "{seen}");
    assert_eq!(seen["amount"], "¥4.00", "{seen}");
    assert_eq!(seen["description"], "现金奖励", "{seen}");
    assert_eq!(seen["result"], "收款成功 Received", "{seen}");
    assert_eq!(
        seen["callback"],
        json!({"err_msg": "requestMerchantTransfer:ok"}),
        "{seen}"
    );
    assert_eq!(seen["sheetClosed"], true, "{seen}");
    assert_eq!(
        query(&merchant, "out-bill-no/jsbridge001").await.json()["state"],
        "SUCCESS"
    );

    // Cancel through wx.requestMerchantTransfer: nothing is sent.
    let created = create(&merchant, &bill_body("jswxcancel1", &notify_url)).await;
    let seen = run_in_node(&sandbox, &params(&created), "transfer-wx", "cancel")
        .await
        .expect("node ran before");
    let failed = json!({"errMsg": "requestMerchantTransfer:fail cancel"});
    assert_eq!(seen["calls"], json!([["fail", failed]]), "{seen}");
    assert_eq!(seen["callback"], failed, "{seen}");
    assert_eq!(
        query(&merchant, "out-bill-no/jswxcancel1").await.json()["state"],
        "WAIT_USER_CONFIRM"
    );

    // A wrong appId: the sandbox refuses, the page hears why.
    let mut wrong = params(&created);
    wrong["appId"] = json!("wx0000000000000000");
    let seen = run_in_node(&sandbox, &wrong, "transfer-bridge", "pay")
        .await
        .expect("node ran before");
    assert_eq!(
        seen["callback"]["err_msg"], "requestMerchantTransfer:fail",
        "{seen}"
    );
    assert!(
        seen["callback"]["err_desc"]
            .as_str()
            .is_some_and(|m| m.contains("appId")),
        "{seen}"
    );
    assert_eq!(
        query(&merchant, "out-bill-no/jswxcancel1").await.json()["state"],
        "WAIT_USER_CONFIRM"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_restart_on_the_same_folder_keeps_bills_and_numbers_them_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = crate::persistence::start_on(dir.path(), None).await;
    let credentials = first.credentials().clone();
    let merchant = Merchant::new(&first);
    let waiting = create(&merchant, &bill_body("persistBill1", "https://m.example/n")).await;
    let cancelled = create(&merchant, &bill_body("persistBill2", "https://m.example/n")).await;
    let cancel = merchant
        .post(
            "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/persistBill2/cancel",
            &json!({}),
        )
        .await;
    assert_eq!(
        cancel.status,
        200,
        "{}",
        String::from_utf8_lossy(&cancel.body)
    );
    first.shutdown().await;

    let second = crate::persistence::start_on(dir.path(), Some(&credentials)).await;
    let merchant = Merchant::new(&second);
    let found = query(&merchant, "out-bill-no/persistBill1").await;
    assert_eq!(found.status, 200);
    let found = found.json();
    assert_eq!(found["transfer_bill_no"], waiting["transfer_bill_no"]);
    assert_eq!(found["state"], "WAIT_USER_CONFIRM");
    let by_number = query(
        &merchant,
        &format!(
            "transfer-bill-no/{}",
            cancelled["transfer_bill_no"].as_str().expect("a number")
        ),
    )
    .await
    .json();
    assert_eq!(by_number["state"], "CANCELLED", "{by_number}");
    // The same create again answers the same bill and package; a new one
    // gets a number never given before.
    let again = create(&merchant, &bill_body("persistBill1", "https://m.example/n")).await;
    assert_eq!(again["package_info"], waiting["package_info"]);
    let third = create(&merchant, &bill_body("persistBill3", "https://m.example/n")).await;
    for earlier in [&waiting, &cancelled] {
        assert_ne!(third["transfer_bill_no"], earlier["transfer_bill_no"]);
        assert_ne!(third["package_info"], earlier["package_info"]);
    }
    second.shutdown().await;
}

#[tokio::test]
async fn the_dashboard_lists_bills_and_its_button_confirms_a_waiting_one() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let bill = create(
        &merchant,
        &bill_body("dashboardBill1", "https://m.example/n"),
    )
    .await;
    let number = bill["transfer_bill_no"]
        .as_str()
        .expect("a number")
        .to_owned();

    let page = control(&sandbox, "GET", "/_sandbox/", None).await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body).expect("UTF-8");
    assert!(html.contains("Transfer bills") && html.contains("dashboardBill1"));
    let button = format!("data-post=\"/_sandbox/transfer-bills/{number}/confirm\"");
    assert!(html.contains(&button), "{html}");
    assert!(html.contains("¥4.00"), "{html}");

    // What the button posts confirms the bill; the page then has no button.
    let confirmed = control(
        &sandbox,
        "POST",
        &format!("/_sandbox/transfer-bills/{number}/confirm"),
        None,
    )
    .await;
    assert_eq!(confirmed.status, 200);
    let html =
        String::from_utf8(control(&sandbox, "GET", "/_sandbox/", None).await.body).expect("UTF-8");
    assert!(!html.contains(&button), "{html}");
    assert!(html.contains("SUCCESS"), "{html}");
    sandbox.shutdown().await;
}
