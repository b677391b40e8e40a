//! Business errors: PARAM_ERROR pointers, NO_AUTH, RESOURCE_NOT_EXISTS,
//! state errors and unknown routes, all signed.

use serde_json::{Value, json};

use crate::common::{Merchant, sandbox, stock_body};

const CREATE: &str = "/v3/marketing/favor/coupon-stocks";

/// Posts a create body changed by `edit` and returns the PARAM_ERROR detail.
async fn create_param_error(merchant: &Merchant, edit: impl FnOnce(&mut Value)) -> Value {
    let mut body = stock_body(merchant.mchid(), "param-error");
    edit(&mut body);
    let answer = merchant.post(CREATE, &body).await;
    let json = answer.assert_error(&merchant.credentials, 400, "PARAM_ERROR");
    json["detail"].clone()
}

fn remove(body: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("parent object")
        .remove(key);
}

#[tokio::test]
async fn missing_required_fields_are_named_by_json_pointer() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    for pointer in [
        "/stock_name",
        "/available_begin_time",
        "/available_end_time",
        "/stock_use_rule",
        "/stock_use_rule/max_coupons",
        "/stock_use_rule/max_amount",
        "/stock_use_rule/max_coupons_per_user",
        "/stock_use_rule/natural_person_limit",
        "/stock_use_rule/prevent_api_abuse",
        "/no_cash",
        "/stock_type",
        "/belong_merchant",
        "/coupon_use_rule",
        "/coupon_use_rule/coupon_available_time",
        "/coupon_use_rule/fixed_normal_coupon",
        "/coupon_use_rule/fixed_normal_coupon/coupon_amount",
        "/coupon_use_rule/fixed_normal_coupon/transaction_minimum",
        "/out_request_no",
    ] {
        let detail = create_param_error(&merchant, |body| remove(body, pointer)).await;
        assert_eq!(detail["field"], pointer, "{detail}");
        assert_eq!(detail["location"], "body", "{detail}");
        assert!(
            detail["issue"]
                .as_str()
                .expect("issue")
                .contains("required"),
            "{detail}"
        );
    }
    // null counts as missing.
    let detail = create_param_error(&merchant, |body| body["no_cash"] = Value::Null).await;
    assert_eq!(detail["field"], "/no_cash");
}

#[tokio::test]
async fn wrong_values_are_named_by_json_pointer() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let cases: [(&str, Value, &str); 9] = [
        (
            "/no_cash",
            json!("false"),
            "expected a boolean, found a string",
        ),
        (
            "/stock_use_rule/max_coupons",
            json!("100"),
            "expected an integer, found a string",
        ),
        (
            "/stock_use_rule/max_amount",
            json!(1.5),
            "expected an integer",
        ),
        ("/stock_use_rule/max_coupons", json!(0), "at least 1"),
        ("/stock_type", json!("CASH"), "must be one of"),
        (
            "/available_begin_time",
            json!("2030-01-01 00:00:00"),
            "RFC 3339",
        ),
        (
            "/coupon_use_rule/goods_tag/0",
            json!("x".repeat(129)),
            "longer than 128",
        ),
        (
            "/pattern_info/background_color",
            json!("Red"),
            "must be one of",
        ),
        (
            "/coupon_use_rule/coupon_available_time/fix_available_time/available_week_day/1",
            json!(7),
            "must be one of",
        ),
    ];
    for (pointer, value, issue) in cases {
        let detail = create_param_error(&merchant, |body| {
            *body.pointer_mut(pointer).expect("pointer exists") = value.clone();
        })
        .await;
        assert_eq!(detail["field"], pointer, "{detail}");
        assert_eq!(detail["value"], value, "{detail}");
        assert_eq!(detail["location"], "body");
        assert!(
            detail["issue"].as_str().expect("issue").contains(issue),
            "{detail}"
        );
    }

    let detail = create_param_error(&merchant, |body| {
        body["available_end_time"] = json!("2029-01-01T00:00:00+08:00");
    })
    .await;
    assert_eq!(detail["field"], "/available_end_time");

    for bad_body in ["", "{", "[1]", "\"text\""] {
        let auth = merchant.auth_parts("POST", CREATE, bad_body).header();
        let answer = merchant
            .send_raw(
                "POST",
                CREATE,
                bad_body,
                Some(&auth),
                Some("application/json"),
            )
            .await;
        let json = answer.assert_error(&merchant.credentials, 400, "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], "", "{json}");
    }
}

#[tokio::test]
async fn content_type_must_be_json_when_given() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let body = stock_body(merchant.mchid(), "content-type").to_string();
    let auth = merchant.auth_parts("POST", CREATE, &body).header();
    let answer = merchant
        .send_raw("POST", CREATE, &body, Some(&auth), Some("text/plain"))
        .await;
    let json = answer.assert_error(&merchant.credentials, 400, "INVALID_REQUEST");
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains("Content-Type")
    );
    // Missing is fine; parameters are fine.
    for content_type in [None, Some("application/json; charset=utf-8")] {
        let auth = merchant.auth_parts("POST", CREATE, &body).header();
        let answer = merchant
            .send_raw("POST", CREATE, &body, Some(&auth), content_type)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.message());
    }
}

#[tokio::test]
async fn another_merchant_gets_no_auth() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();

    let mut body = stock_body(merchant.mchid(), "no-auth");
    body["belong_merchant"] = json!("1900000001");
    let json = merchant
        .post(CREATE, &body)
        .await
        .assert_error(credentials, 403, "NO_AUTH");
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains("belong_merchant")
    );

    let stock_id = merchant.create_stock("no-auth-stock").await;
    for action in ["start", "pause", "restart"] {
        let answer = merchant
            .post(
                &format!("/v3/marketing/favor/stocks/{stock_id}/{action}"),
                &json!({"stock_creator_mchid": "1900000001"}),
            )
            .await;
        answer.assert_error(credentials, 403, "NO_AUTH");
    }
    merchant
        .get(&format!(
            "/v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid=1900000001"
        ))
        .await
        .assert_error(credentials, 403, "NO_AUTH");
    merchant
        .get("/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=1900000001")
        .await
        .assert_error(credentials, 403, "NO_AUTH");
}

#[tokio::test]
async fn unknown_stocks_do_not_exist() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    for action in ["start", "pause", "restart"] {
        merchant
            .act("12345", action)
            .await
            .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
    }
    merchant
        .get(&format!(
            "/v3/marketing/favor/stocks/12345?stock_creator_mchid={}",
            merchant.mchid()
        ))
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
}

#[tokio::test]
async fn state_changes_the_status_forbids() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let stock_id = merchant.create_stock("states").await;

    let expect_invalid = |answer: crate::common::Answer, needle: &str| {
        let json = answer.assert_error(credentials, 400, "INVALID_REQUEST");
        let message = json["message"].as_str().expect("message").to_owned();
        assert!(message.contains(needle), "{message}");
    };
    expect_invalid(
        merchant.act(&stock_id, "pause").await,
        "only a running stock can be paused",
    );
    expect_invalid(
        merchant.act(&stock_id, "restart").await,
        "only a paused stock can be restarted",
    );
    assert_eq!(merchant.act(&stock_id, "start").await.status, 200);
    expect_invalid(
        merchant.act(&stock_id, "start").await,
        "only an unactivated stock can be started",
    );
    expect_invalid(
        merchant.act(&stock_id, "restart").await,
        "its status is running",
    );
    assert_eq!(merchant.act(&stock_id, "pause").await.status, 200);
    expect_invalid(
        merchant.act(&stock_id, "pause").await,
        "its status is paused",
    );
    expect_invalid(
        merchant.act(&stock_id, "start").await,
        "its status is paused",
    );

    // The action body is checked too.
    let answer = merchant
        .post(
            &format!("/v3/marketing/favor/stocks/{stock_id}/restart"),
            &json!({}),
        )
        .await;
    let json = answer.assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/stock_creator_mchid");
}

#[tokio::test]
async fn query_parameters_are_checked() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let mchid = merchant.mchid().to_owned();
    let cases = [
        (format!("limit=10&stock_creator_mchid={mchid}"), "/offset"),
        (format!("offset=0&stock_creator_mchid={mchid}"), "/limit"),
        ("offset=0&limit=10".to_owned(), "/stock_creator_mchid"),
        (
            format!("offset=0&limit=11&stock_creator_mchid={mchid}"),
            "/limit",
        ),
        (
            format!("offset=0&limit=0&stock_creator_mchid={mchid}"),
            "/limit",
        ),
        (
            format!("offset=-1&limit=5&stock_creator_mchid={mchid}"),
            "/offset",
        ),
        (
            format!("offset=0&limit=five&stock_creator_mchid={mchid}"),
            "/limit",
        ),
        (
            format!("offset=0&limit=5&stock_creator_mchid={mchid}&status=done"),
            "/status",
        ),
        (
            format!("offset=0&limit=5&stock_creator_mchid={mchid}&create_start_time=today"),
            "/create_start_time",
        ),
        (
            format!("offset=0&offset=1&limit=5&stock_creator_mchid={mchid}"),
            "/offset",
        ),
    ];
    for (query, field) in cases {
        let answer = merchant
            .get(&format!("/v3/marketing/favor/stocks?{query}"))
            .await;
        let json = answer.assert_error(credentials, 400, "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], field, "{query}: {json}");
        assert_eq!(json["detail"]["location"], "query", "{query}: {json}");
    }
    let stock_id = merchant.create_stock("query-params").await;
    let json = merchant
        .get(&format!("/v3/marketing/favor/stocks/{stock_id}"))
        .await
        .assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/stock_creator_mchid");
    assert_eq!(json["detail"]["location"], "query");
}

#[tokio::test]
async fn unknown_routes_are_not_found_and_signed() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    // Paths that are no operation of the spec (any operation of the spec
    // is answered, see spec_ops.rs; another method on one is a 405).
    for (method, target) in [
        (
            "GET",
            "/v3/combine-transactions/out-trade-no/P20150806125346/nowhere",
        ),
        ("POST", "/v3/marketing/favor/nowhere"),
        ("GET", "/v3/marketing/favor/coupon-stocks/98065001/nowhere"),
        ("DELETE", "/v3/nowhere/98065001"),
    ] {
        let answer = merchant.send(method, target, "").await;
        let json = answer.assert_error(credentials, 404, "NOT_FOUND");
        assert!(
            json["message"].as_str().expect("message").contains(method),
            "{json}"
        );
    }
    // An empty stock id is a missing path parameter, not another route.
    let answer = merchant
        .post(
            "/v3/marketing/favor/stocks//start",
            &json!({"stock_creator_mchid": merchant.mchid()}),
        )
        .await;
    let json = answer.assert_error(credentials, 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/stock_id");
    assert_eq!(json["detail"]["location"], "path");
    // No signature check before the route is known.
    let answer = merchant.send_raw("GET", "/nowhere", "", None, None).await;
    answer.assert_error(credentials, 404, "NOT_FOUND");
}
