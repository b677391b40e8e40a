//! `SandboxConfig::state_dir`: a sandbox started again on the same folder
//! finds everything the previous one acknowledged, with the same ids and
//! states, and counts ids on without reusing any.

use std::path::Path;

use serde_json::json;
use wxpay_sandbox::{Credentials, Sandbox, SandboxConfig};

use crate::common::{Merchant, test_keys};
use crate::coupons::{query_coupon, running_stock, send};
use crate::payments::{pay, place, query};

/// A sandbox on `dir`, with the identity of `previous` when given.
pub async fn start_on(dir: &Path, previous: Option<&Credentials>) -> Sandbox {
    let keys = test_keys();
    let mut config = SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        state_dir: Some(dir.to_owned()),
        ..SandboxConfig::default()
    };
    if let Some(previous) = previous {
        config.mchid = Some(previous.mchid.clone());
        config.merchant_serial = Some(previous.merchant_serial.clone());
        config.public_key_id = Some(previous.public_key_id.clone());
        config.apiv3_key = Some(previous.apiv3_key.clone());
    }
    Sandbox::start_with(config).await.expect("sandbox starts")
}

#[tokio::test]
async fn a_restart_on_the_same_folder_keeps_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = start_on(dir.path(), None).await;
    let credentials = first.credentials().clone();
    let merchant = Merchant::new(&first);
    let mchid = merchant.mchid().to_owned();

    let unactivated = merchant.create_stock("persist-stock-1").await;
    let running = running_stock(&merchant, "persist-stock-2", 5, 1).await;
    let coupon = send(&merchant, "o-persist", &running, "persist-coupon-1")
        .await
        .json()["coupon_id"]
        .as_str()
        .expect("coupon_id")
        .to_owned();
    let callback = merchant
        .post(
            "/v3/marketing/favor/callbacks",
            &json!({"mchid": mchid, "notify_url": "https://merchant.example/coupons"}),
        )
        .await;
    assert_eq!(callback.status, 200);
    let prepay_unpaid = place(&merchant, "persist-order-1", 100).await;
    place(&merchant, "persist-order-2", 200).await;
    let paid = pay(&merchant, "persist-order-2", "").await;
    let refund = merchant
        .post(
            "/v3/refund/domestic/refunds",
            &json!({
                "out_trade_no": "persist-order-2",
                "out_refund_no": "persist-refund-1",
                "amount": {"refund": 50, "total": 200, "currency": "CNY"}
            }),
        )
        .await;
    assert_eq!(refund.status, 200);
    let refund = refund.json();
    let stock_before =
        |id: &str| format!("/v3/marketing/favor/stocks/{id}?stock_creator_mchid={mchid}");
    let stocks_before = (
        merchant.get(&stock_before(&unactivated)).await.json(),
        merchant.get(&stock_before(&running)).await.json(),
    );
    let orders_before = (
        query(&merchant, "persist-order-1").await,
        query(&merchant, "persist-order-2").await,
    );
    let coupon_before = query_coupon(&merchant, "o-persist", &coupon).await.json();
    first.shutdown().await;

    let second = start_on(dir.path(), Some(&credentials)).await;
    let merchant = Merchant::new(&second);
    assert_eq!(
        merchant.get(&stock_before(&unactivated)).await.json(),
        stocks_before.0
    );
    assert_eq!(
        merchant.get(&stock_before(&running)).await.json(),
        stocks_before.1
    );
    assert_eq!(stocks_before.1["distributed_coupons"], 1);
    assert_eq!(query(&merchant, "persist-order-1").await, orders_before.0);
    let order = query(&merchant, "persist-order-2").await;
    assert_eq!(order, orders_before.1);
    assert_eq!(order["trade_state"], "REFUND");
    assert_eq!(order["transaction_id"], paid["transaction_id"]);
    assert_eq!(
        query_coupon(&merchant, "o-persist", &coupon).await.json(),
        coupon_before
    );
    let refund_after = merchant
        .get("/v3/refund/domestic/refunds/persist-refund-1")
        .await
        .json();
    assert_eq!(refund_after["refund_id"], refund["refund_id"]);
    assert_eq!(refund_after["status"], "SUCCESS");
    assert_eq!(
        merchant
            .get(&format!("/v3/marketing/favor/callbacks?mchid={mchid}"))
            .await
            .json()["notify_url"],
        "https://merchant.example/coupons"
    );

    // Idempotency survives: the same order body answers the same prepay_id,
    // the same stock request the same stock, the same send the same coupon.
    assert_eq!(
        place(&merchant, "persist-order-1", 100).await,
        prepay_unpaid
    );
    assert_eq!(merchant.create_stock("persist-stock-1").await, unactivated);
    let again = send(&merchant, "o-persist", &running, "persist-coupon-1")
        .await
        .json();
    assert_eq!(again["coupon_id"], coupon.as_str());
    // The per-user limit counts the coupon sent before the restart.
    assert_eq!(
        send(&merchant, "o-persist", &running, "persist-coupon-2")
            .await
            .status,
        403
    );

    // Ids count on: none is reused.
    let new_stock = merchant.create_stock("persist-stock-3").await;
    let numeric = |id: &str| id.parse::<u64>().expect("numeric id");
    assert!(
        numeric(&new_stock) > numeric(&running),
        "{new_stock} after {running}"
    );
    let new_coupon = send(&merchant, "o-other", &running, "persist-coupon-3")
        .await
        .json()["coupon_id"]
        .as_str()
        .expect("coupon_id")
        .to_owned();
    assert!(numeric(&new_coupon) > numeric(&coupon));
    let new_paid = pay(&merchant, "persist-order-1", "").await;
    assert_ne!(new_paid["transaction_id"], paid["transaction_id"]);
    second.shutdown().await;
    assert!(dir.path().join("sandbox.sqlite3").is_file());
}

#[tokio::test]
async fn without_a_state_dir_nothing_is_kept() {
    let first = crate::common::sandbox().await;
    let merchant = Merchant::new(&first);
    let stock = merchant.create_stock("memory-1").await;
    let credentials = first.credentials().clone();
    first.shutdown().await;
    let keys = test_keys();
    let second = Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        mchid: Some(credentials.mchid.clone()),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let merchant = Merchant::new(&second);
    let answer = merchant
        .get(&format!(
            "/v3/marketing/favor/stocks/{stock}?stock_creator_mchid={}",
            credentials.mchid
        ))
        .await;
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn an_unusable_state_dir_is_a_config_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let keys = test_keys();
    let error = Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        state_dir: Some(file),
        ..SandboxConfig::default()
    })
    .await
    .expect_err("a file is no folder");
    assert!(
        matches!(error, wxpay_sandbox::SandboxError::State { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("a-file"), "{error}");
}

/// The database work runs on the sandbox's database thread, never on the
/// runtime's workers: while another process holds the state file's write
/// lock, a request that needs the database waits for it, and the sandbox
/// still answers a request that does not. The test runs on a
/// current-thread runtime (as `#[tokio::test]` does, and as an embedder's
/// tests do), where a handler blocking its only worker would stop the
/// whole server until SQLite's busy timeout.
#[tokio::test(flavor = "current_thread")]
async fn a_held_database_does_not_stop_other_requests() {
    use std::time::{Duration, Instant};

    use crate::receiver::control;

    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = start_on(dir.path(), None).await;
    let merchant = Merchant::new(&sandbox);
    place(&merchant, "held-order-1", 100).await;

    // Another connection takes the write lock, as another process could.
    let holder = rusqlite::Connection::open(dir.path().join("sandbox.sqlite3")).expect("open");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the write lock");
    let released = std::cell::Cell::new(None::<Instant>);

    let needs_database = async {
        let answer = query(&merchant, "held-order-1").await;
        (answer, Instant::now())
    };
    let needs_none = async {
        // Let the query reach the database thread and wait on the lock.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        let answer = tokio::time::timeout(
            Duration::from_secs(3),
            control(&sandbox, "GET", "/_sandbox/faults", None),
        )
        .await
        .expect("answered while the database is held");
        let waited = asked.elapsed();
        holder.execute_batch("COMMIT").expect("release the lock");
        released.set(Some(Instant::now()));
        (answer, waited)
    };
    let ((order, answered_at), (faults, waited)) = tokio::join!(needs_database, needs_none);

    assert_eq!(
        faults.status,
        200,
        "{}",
        String::from_utf8_lossy(&faults.body)
    );
    assert!(waited < Duration::from_secs(2), "waited {waited:?}");
    assert_eq!(order["out_trade_no"], "held-order-1");
    let released = released.get().expect("released");
    assert!(
        answered_at >= released,
        "the query was answered before the lock was released"
    );
}
