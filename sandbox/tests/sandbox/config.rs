//! Starting, configuring and stopping sandboxes.

use std::path::PathBuf;

use wxpay_sandbox::{Sandbox, SandboxConfig, SandboxError};

use crate::common::{Merchant, test_keys};

#[tokio::test]
async fn start_generates_fresh_credentials() {
    let a = Sandbox::start().await.expect("start");
    let b = Sandbox::start().await.expect("start");
    assert_ne!(a.credentials().mchid, b.credentials().mchid);
    assert_ne!(
        a.credentials().platform_public_key_pem,
        b.credentials().platform_public_key_pem
    );
    assert!(a.base_url().starts_with("http://127.0.0.1:"));
    // Generated credentials work end to end.
    let merchant = Merchant::new(&a);
    let stock_id = merchant.create_stock("fresh").await;
    assert_eq!(merchant.act(&stock_id, "start").await.status, 200);
    let shown = format!("{a:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(!shown.contains(&a.credentials().apiv3_key), "{shown}");
}

#[tokio::test]
async fn configured_values_are_used() {
    let keys = test_keys();
    let sandbox = Sandbox::start_with(SandboxConfig {
        mchid: Some("1900009191".into()),
        merchant_serial: Some("5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into()),
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        public_key_id: Some("PUB_KEY_ID_0114232134912410000000000000".into()),
        ..SandboxConfig::default()
    })
    .await
    .expect("start");
    let credentials = sandbox.credentials();
    assert_eq!(credentials.mchid, "1900009191");
    assert_eq!(
        credentials.merchant_serial,
        "5F1C72E2A8931B72A2E13AF8DEE92471EB397115"
    );
    assert_eq!(
        credentials.public_key_id,
        "PUB_KEY_ID_0114232134912410000000000000"
    );
    assert_eq!(
        credentials.merchant_private_key_pem,
        keys.merchant_private_key_pem
    );
    let merchant = Merchant::new(&sandbox);
    let answer = merchant
        .get("/v3/marketing/favor/stocks?offset=0&limit=1&stock_creator_mchid=1900009191")
        .await;
    assert_eq!(answer.status, 200);
    answer.assert_verified(credentials);
}

#[tokio::test]
async fn a_public_key_alone_verifies_requests() {
    // Take the public half from a sandbox that knows the private key.
    let full = crate::common::sandbox().await;
    let public_pem = full.credentials().merchant_public_key_pem.clone();
    let sandbox = Sandbox::start_with(SandboxConfig {
        merchant_public_key_pem: Some(public_pem.clone()),
        ..SandboxConfig::default()
    })
    .await
    .expect("start");
    assert_eq!(sandbox.credentials().merchant_private_key_pem, "");
    assert_eq!(sandbox.credentials().merchant_public_key_pem, public_pem);
    // Sign with the private key we know the public half of.
    let mut merchant = Merchant::new(&sandbox);
    merchant.credentials.merchant_private_key_pem = test_keys().merchant_private_key_pem.clone();
    let answer = merchant
        .get(&format!(
            "/v3/marketing/favor/stocks?offset=0&limit=1&stock_creator_mchid={}",
            merchant.mchid()
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.message());
}

/// The shared test vectors (keys from the official Java SDK's tests), when
/// this checkout has them beside it.
fn vectors() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    dir.join("keys/platform_public_key.pem")
        .exists()
        .then_some(dir)
}

#[tokio::test]
async fn official_test_keys_work_and_responses_verify_with_the_published_public_key() {
    let Some(dir) = vectors() else {
        eprintln!("shared/vectors not found; skipping");
        return;
    };
    let read =
        |name: &str| std::fs::read_to_string(dir.join("keys").join(name)).expect("vector key");
    let sandbox = Sandbox::start_with(SandboxConfig {
        mchid: Some("1900009191".into()),
        merchant_serial: Some("5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into()),
        merchant_private_key_pem: Some(read("merchant_private_key.pem")),
        platform_private_key_pem: Some(read("platform_private_key.pem")),
        public_key_id: Some("PUB_KEY_ID_0114232134912410000000000000".into()),
        ..SandboxConfig::default()
    })
    .await
    .expect("start");
    let mut merchant = Merchant::new(&sandbox);
    // Verify with the published public key, not with what the sandbox says.
    merchant.credentials.platform_public_key_pem = read("platform_public_key.pem");
    let stock_id = merchant.create_stock("vectors").await;
    let answer = merchant.act(&stock_id, "start").await;
    assert_eq!(answer.status, 200);
    answer.assert_verified(&merchant.credentials);
}

#[tokio::test]
async fn bad_configuration_is_reported() {
    let error = Sandbox::start_with(SandboxConfig {
        platform_private_key_pem: Some(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
        ),
        ..SandboxConfig::default()
    })
    .await
    .expect_err("not a key");
    assert!(
        matches!(
            error,
            SandboxError::InvalidKey {
                what: "platform_private_key_pem",
                ..
            }
        ),
        "{error}"
    );

    let taken = Sandbox::start().await.expect("start");
    let addr = taken
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let error = Sandbox::start_with(SandboxConfig {
        addr: Some(addr),
        ..SandboxConfig::default()
    })
    .await
    .expect_err("port taken");
    assert!(matches!(error, SandboxError::Bind { .. }), "{error}");
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let sandbox = crate::common::sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let url = format!("{}/v3/nowhere", sandbox.base_url());
    assert_eq!(merchant.get("/v3/nowhere").await.status, 404);
    sandbox.shutdown().await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    assert!(client.get(&url).send().await.is_err());

    let sandbox = crate::common::sandbox().await;
    let url = format!("{}/v3/nowhere", sandbox.base_url());
    drop(sandbox);
    // The server stops in the background; give it a moment.
    let mut stopped = false;
    for _ in 0..50 {
        if client.get(&url).send().await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(stopped);
}

#[tokio::test]
async fn a_configured_apiv3_key_is_used_and_a_malformed_one_refused() {
    let key = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
    let sandbox = wxpay_sandbox::Sandbox::start_with(wxpay_sandbox::SandboxConfig {
        apiv3_key: Some(key.to_owned()),
        ..wxpay_sandbox::SandboxConfig::default()
    })
    .await
    .expect("a 32-character key is accepted");
    assert_eq!(sandbox.credentials().apiv3_key, key);
    sandbox.shutdown().await;

    let err = wxpay_sandbox::Sandbox::start_with(wxpay_sandbox::SandboxConfig {
        apiv3_key: Some("short".to_owned()),
        ..wxpay_sandbox::SandboxConfig::default()
    })
    .await
    .expect_err("a 5-byte key is refused");
    assert!(err.to_string().contains("apiv3_key"), "{err}");
}
