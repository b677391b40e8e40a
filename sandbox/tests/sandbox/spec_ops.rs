//! Operations without a hand-written handler, answered from the spec's
//! table: authenticated, checked, answered with values that fit the
//! response schema, signed.

use serde_json::{Value, json};

use wxpay_sandbox::Faults;

use crate::common::{Merchant, is_beijing_rfc3339, sandbox};

const RETURN_ORDERS: &str = "/v3/ecommerce/profitsharing/returnorders";

fn return_order() -> Value {
    json!({
        "sub_mchid": "1900000109",
        "order_id": "3008450740201411110007820472",
        "out_return_no": "R20190516001",
        "return_mchid": "86693852",
        "amount": 10,
        "description": "分账回退",
    })
}

#[tokio::test]
async fn a_get_is_answered_from_the_spec_with_echoed_values() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let answer = merchant
        .get(&format!(
            "{RETURN_ORDERS}?sub_mchid=1900000109&out_return_no=R%2Dsandbox%2D1"
        ))
        .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(sandbox.credentials());
    let json = answer.json();
    // Echoed from the query (percent-decoded).
    assert_eq!(json["sub_mchid"], "1900000109");
    assert_eq!(json["out_return_no"], "R-sandbox-1");
    // Every required field, in its type.
    for field in ["order_id", "out_order_no", "return_mchid", "return_no"] {
        assert!(json[field].is_string(), "{field}: {json}");
    }
    assert!(json["amount"].is_i64(), "{json}");
    assert!(
        ["PROCESSING", "SUCCESS", "FAIL"].contains(&json["result"].as_str().unwrap_or("")),
        "{json}"
    );
    // Date-times are now, in China Standard Time.
    let finish = json["finish_time"].as_str().expect("finish_time");
    assert!(is_beijing_rfc3339(finish), "{finish}");
    assert!(answer.header("request-id").is_some());
}

#[tokio::test]
async fn a_post_is_answered_with_the_request_values_and_fresh_ids() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let first = merchant.post(RETURN_ORDERS, &return_order()).await;
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    first.assert_verified(sandbox.credentials());
    let first = first.json();
    assert_eq!(first["sub_mchid"], "1900000109");
    assert_eq!(first["order_id"], "3008450740201411110007820472");
    assert_eq!(first["out_return_no"], "R20190516001");
    assert_eq!(first["return_mchid"], "86693852");
    assert_eq!(first["amount"], 10);
    // Not in the request: a made-up id, never the same twice.
    let second = merchant.post(RETURN_ORDERS, &return_order()).await.json();
    let (a, b) = (&first["return_no"], &second["return_no"]);
    assert!(a.is_string() && b.is_string(), "{first} {second}");
    assert_ne!(a, b);
}

#[tokio::test]
async fn request_bodies_are_checked_against_the_schema() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();

    let mut body = return_order();
    body.as_object_mut().expect("object").remove("description");
    let json =
        merchant
            .post(RETURN_ORDERS, &body)
            .await
            .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/description", "{json}");
    assert_eq!(json["detail"]["location"], "body");

    let mut body = return_order();
    body["amount"] = json!("10");
    let json =
        merchant
            .post(RETURN_ORDERS, &body)
            .await
            .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/amount", "{json}");
    assert!(
        json["message"].as_str().unwrap_or("").contains("integer"),
        "{json}"
    );

    // A string enum, in an array.
    let body = json!({
        "appid": "wx8888888888888888",
        "transaction_id": "4208450740201411110007820472",
        "out_order_no": "P20150806125346",
        "receivers": [{"type": "SOMEONE", "account": "86693852", "amount": 888, "description": "分给商户A"}],
        "unfreeze_unsplit": true,
    });
    let json = merchant
        .post("/v3/profitsharing/orders", &body)
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/receivers/0/type", "{json}");
    assert!(
        json["message"]
            .as_str()
            .unwrap_or("")
            .contains("MERCHANT_ID"),
        "{json}"
    );

    // Not JSON at all.
    let json = merchant
        .send("POST", RETURN_ORDERS, "{")
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "", "{json}");
}

#[tokio::test]
async fn query_parameters_are_checked() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let json = merchant
        .get(&format!("{RETURN_ORDERS}?sub_mchid=1900000109"))
        .await
        .assert_error(sandbox.credentials(), 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/out_return_no", "{json}");
    assert_eq!(json["detail"]["location"], "query");
}

#[tokio::test]
async fn wrong_methods_unknown_paths_and_bad_signatures() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();

    let answer = merchant.send("DELETE", RETURN_ORDERS, "").await;
    let json = answer.assert_error(credentials, 405, "METHOD_NOT_ALLOWED");
    assert!(json["message"].as_str().unwrap_or("").contains("DELETE"));
    let allow = answer.header("allow").expect("Allow");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");

    merchant
        .get("/v3/no/such/operation")
        .await
        .assert_error(credentials, 404, "NOT_FOUND");

    // A bad signature is refused before the body is looked at.
    let auth = merchant.auth_parts("POST", RETURN_ORDERS, "{\"other\":1}");
    let answer = merchant
        .send_raw(
            "POST",
            RETURN_ORDERS,
            "{}",
            Some(&auth.header()),
            Some("application/json"),
        )
        .await;
    answer.assert_error(credentials, 401, "SIGN_ERROR");
}

#[tokio::test]
async fn operations_without_content_answer_204() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let answer = merchant
        .post(
            "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018/close",
            &json!({"sp_mchid": "1230000109", "sub_mchid": "1900000109"}),
        )
        .await;
    assert_eq!(
        answer.status,
        204,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(answer.body.is_empty());
    answer.assert_verified(sandbox.credentials());
}

#[tokio::test]
async fn downloads_are_files_and_unsigned() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let answer = merchant
        .get("/v3/transferdownload/signfile?token=abc")
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/pdf"));
    assert!(answer.body.starts_with(b"%PDF"));
    assert!(answer.header("wechatpay-signature").is_none());
    assert!(answer.header("request-id").is_some());
}

#[tokio::test]
async fn faults_and_signing_modes_apply_to_spec_answers() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let target = format!("{RETURN_ORDERS}?sub_mchid=1900000109&out_return_no=R1");

    sandbox.set_faults(Faults {
        status_override: Some((503, "SYSTEM_ERROR".into(), "down".into())),
        ..Faults::default()
    });
    merchant
        .get(&target)
        .await
        .assert_error(credentials, 503, "SYSTEM_ERROR");

    sandbox.set_faults(Faults {
        unsigned_responses: true,
        ..Faults::default()
    });
    let answer = merchant.get(&target).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("wechatpay-signature").is_none());

    sandbox.set_faults(Faults::default());
    let serial = credentials.platform_certificate_serial.as_str();
    let answer = merchant.get_expecting(&target, Some(serial)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("wechatpay-serial"), Some(serial));
}
