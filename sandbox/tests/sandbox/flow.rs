//! The happy path: create, start, pause, restart, query, list.

use serde_json::json;

use crate::common::{Merchant, is_beijing_rfc3339, sandbox, stock_body};

#[tokio::test]
async fn a_stock_goes_through_its_life_cycle() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    let mchid = merchant.mchid().to_owned();

    let created = merchant
        .post(
            "/v3/marketing/favor/coupon-stocks",
            &stock_body(&mchid, "flow-1"),
        )
        .await;
    assert_eq!(created.status, 200);
    created.assert_verified(credentials);
    assert!(
        created
            .header("request-id")
            .is_some_and(|id| id.starts_with("08"))
    );
    let json = created.json();
    let stock_id = json["stock_id"].as_str().expect("stock_id").to_owned();
    assert!(
        is_beijing_rfc3339(json["create_time"].as_str().expect("create_time")),
        "{json}"
    );
    assert!(stock_id.bytes().all(|b| b.is_ascii_digit()));

    let query = format!("/v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid={mchid}");
    let stock = merchant.get(&query).await;
    assert_eq!(stock.status, 200);
    stock.assert_verified(credentials);
    let stock = stock.json();
    // Every required field of the query response schema, and the owner part.
    for field in [
        "stock_name",
        "available_begin_time",
        "available_end_time",
        "stock_use_rule",
        "no_cash",
        "stock_type",
        "description",
        "stock_id",
        "stock_creator_mchid",
        "status",
        "create_time",
        "distributed_coupons",
        "singleitem",
    ] {
        assert!(stock.get(field).is_some(), "{field} missing from {stock}");
    }
    assert_eq!(stock["status"], "unactivated");
    assert_eq!(stock["stock_id"], stock_id.as_str());
    assert_eq!(stock["stock_creator_mchid"], mchid.as_str());
    assert_eq!(stock["stock_name"], "微信支付代金券批次");
    assert_eq!(stock["description"], "微信支付营销");
    assert_eq!(stock["stock_use_rule"]["max_coupons"], 100);
    assert_eq!(stock["distributed_coupons"], 0);
    assert_eq!(stock["create_time"], json["create_time"]);
    assert!(stock.get("start_time").is_none());

    let started = merchant.act(&stock_id, "start").await;
    assert_eq!(started.status, 200);
    started.assert_verified(credentials);
    let started = started.json();
    assert_eq!(started["stock_id"], stock_id.as_str());
    assert!(is_beijing_rfc3339(
        started["start_time"].as_str().expect("start_time")
    ));
    let stock = merchant.get(&query).await.json();
    assert_eq!(stock["status"], "running");
    assert_eq!(stock["start_time"], started["start_time"]);

    let paused = merchant.act(&stock_id, "pause").await;
    assert_eq!(paused.status, 200);
    paused.assert_verified(credentials);
    assert!(is_beijing_rfc3339(
        paused.json()["pause_time"].as_str().expect("pause_time")
    ));
    assert_eq!(merchant.get(&query).await.json()["status"], "paused");

    let restarted = merchant.act(&stock_id, "restart").await;
    assert_eq!(restarted.status, 200);
    restarted.assert_verified(credentials);
    let restarted = restarted.json();
    assert_eq!(restarted["stock_id"], stock_id.as_str());
    assert!(is_beijing_rfc3339(
        restarted["restart_time"].as_str().expect("restart_time")
    ));
    assert_eq!(merchant.get(&query).await.json()["status"], "running");
}

#[tokio::test]
async fn out_request_no_is_idempotent() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let body = stock_body(merchant.mchid(), "same-request");
    let first = merchant
        .post("/v3/marketing/favor/coupon-stocks", &body)
        .await
        .json();
    let again = merchant
        .post("/v3/marketing/favor/coupon-stocks", &body)
        .await
        .json();
    assert_eq!(first, again);
    let other = merchant.create_stock("another-request").await;
    assert_ne!(first["stock_id"], other.as_str());
}

#[tokio::test]
async fn list_pages_and_filters() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let mchid = merchant.mchid().to_owned();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(merchant.create_stock(&format!("list-{i}")).await);
    }
    assert_eq!(merchant.act(&ids[1], "start").await.status, 200);
    assert_eq!(merchant.act(&ids[3], "start").await.status, 200);
    assert_eq!(merchant.act(&ids[3], "pause").await.status, 200);

    let list = |query: String| {
        let merchant = &merchant;
        async move {
            let answer = merchant
                .get(&format!("/v3/marketing/favor/stocks?{query}"))
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
    };
    let page_ids = |page: &serde_json::Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|s| s["stock_id"].as_str().expect("id").to_owned())
            .collect()
    };

    // `offset` is a page number.
    let page = list(format!("offset=0&limit=2&stock_creator_mchid={mchid}")).await;
    assert_eq!(page["total_count"], 5);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 0);
    assert_eq!(page_ids(&page), ids[0..2]);
    let page = list(format!("offset=2&limit=2&stock_creator_mchid={mchid}")).await;
    assert_eq!(page_ids(&page), ids[4..5]);
    let page = list(format!("offset=3&limit=2&stock_creator_mchid={mchid}")).await;
    assert_eq!(page["total_count"], 5);
    assert!(page_ids(&page).is_empty());

    let page = list(format!(
        "offset=0&limit=10&stock_creator_mchid={mchid}&status=running"
    ))
    .await;
    assert_eq!(page["total_count"], 1);
    assert_eq!(page_ids(&page), [ids[1].clone()]);
    assert_eq!(page["data"][0]["status"], "running");
    let page = list(format!(
        "stock_creator_mchid={mchid}&status=paused&limit=10&offset=0"
    ))
    .await;
    assert_eq!(page_ids(&page), [ids[3].clone()]);
    let page = list(format!(
        "offset=0&limit=10&stock_creator_mchid={mchid}&status=unactivated"
    ))
    .await;
    assert_eq!(page["total_count"], 3);

    // Time filters: everything was created within the last minute.
    let start = "2000-01-01T00%3A00%3A00%2B08%3A00";
    let page = list(format!(
        "offset=0&limit=10&stock_creator_mchid={mchid}&create_start_time={start}"
    ))
    .await;
    assert_eq!(page["total_count"], 5);
    let page = list(format!(
        "offset=0&limit=10&stock_creator_mchid={mchid}&create_end_time=2000-01-01T00:00:00%2B08:00"
    ))
    .await;
    assert_eq!(page["total_count"], 0);
    let page = list(format!(
        "offset=0&limit=10&stock_creator_mchid={mchid}&create_start_time=2100-01-01T00:00:00Z"
    ))
    .await;
    assert_eq!(page["total_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_safe() {
    let sandbox = sandbox().await;
    let merchant = std::sync::Arc::new(Merchant::new(&sandbox));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let merchant = merchant.clone();
        tasks.push(tokio::spawn(async move {
            // Half the requests share one out_request_no.
            let out_request_no = if i % 2 == 0 {
                format!("c-{i}")
            } else {
                "shared".to_owned()
            };
            merchant.create_stock(&out_request_no).await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("task"));
    }
    let shared: std::collections::BTreeSet<_> = ids.iter().skip(1).step_by(2).collect();
    assert_eq!(shared.len(), 1, "{ids:?}");
    let all: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(all.len(), 9, "{ids:?}");
    let page = merchant
        .get(&format!(
            "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={}",
            merchant.mchid()
        ))
        .await
        .json();
    assert_eq!(page["total_count"], 9);
}

#[tokio::test]
async fn path_segments_are_decoded_once() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let mchid = merchant.mchid().to_owned();
    // `%257C` decodes once to `%7C`, never to `|`.
    let answer = merchant
        .get(&format!(
            "/v3/marketing/favor/stocks/a%257Cb?stock_creator_mchid={mchid}"
        ))
        .await;
    let json = answer.assert_error(sandbox.credentials(), 404, "RESOURCE_NOT_EXISTS");
    assert!(
        json["message"]
            .as_str()
            .expect("message")
            .contains("\"a%7Cb\""),
        "{json}"
    );
    // An encoded id of an existing stock finds it.
    let stock_id = merchant.create_stock("encoded").await;
    let encoded: String = stock_id.bytes().map(|b| format!("%{b:02X}")).collect();
    let answer = merchant
        .get(&format!(
            "/v3/marketing/favor/stocks/{encoded}?stock_creator_mchid={mchid}"
        ))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["stock_id"], stock_id.as_str());
    // And so does a start through an encoded path.
    let answer = merchant
        .post(
            &format!("/v3/marketing/favor/stocks/{encoded}/start"),
            &json!({"stock_creator_mchid": mchid}),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["stock_id"], stock_id.as_str());
}
