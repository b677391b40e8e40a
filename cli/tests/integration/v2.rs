//! `wxpay v2 METHOD PATH --data JSON` against the sandbox's APIv2: an
//! order placed and queried over plain HTTP, a refund sent over the TLS
//! listener with the client certificate, refused without it (before
//! anything is sent), and a wrong APIv2 key reported as WeChat Pay's
//! refusal.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use wxpay_sandbox::Sandbox;

use support::{run_async, sandbox_vars, write, write_secret, wxpay};

/// The sandbox's APIv3 settings plus its APIv2 key, client certificate
/// and CA, as `wxpay sandbox --state` writes them to `sandbox.env`.
fn v2_vars(sandbox: &Sandbox, dir: &Path) -> BTreeMap<String, String> {
    let credentials = sandbox.credentials();
    let mut vars = sandbox_vars(sandbox, dir);
    vars.insert(
        "WXPAY_V2_KEY_FILE".into(),
        write_secret(dir, "apiv2_key.txt", &credentials.apiv2_key),
    );
    vars.insert(
        "WXPAY_V2_CA_FILE".into(),
        write(dir, "sandbox_ca.pem", &credentials.tls_ca_pem),
    );
    vars
}

fn order(out_trade_no: &str) -> String {
    format!(
        r#"{{"appid":"wxd678efh567hg6787","body":"wxpay cli","out_trade_no":"{out_trade_no}","total_fee":100,"spbill_create_ip":"127.0.0.1","notify_url":"http://127.0.0.1:9/notify","trade_type":"NATIVE","product_id":"P1"}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_placed_queried_and_refunded_with_the_certificate() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = v2_vars(&sandbox, dir.path());

    let placed = run_async(wxpay(
        &[
            "v2",
            "POST",
            "/pay/unifiedorder",
            "--sign-type",
            "HMAC-SHA256",
            "-d",
            &order("CLI-V2-1"),
        ],
        &vars,
    ))
    .await;
    placed.expect_code(0);
    let answer: serde_json::Value = serde_json::from_str(&placed.stdout).expect("JSON");
    assert_eq!(answer["result_code"], "SUCCESS", "{}", placed.stdout);
    assert!(
        answer["code_url"]
            .as_str()
            .is_some_and(|url| url.starts_with("weixin://")),
        "{}",
        placed.stdout
    );

    let queried = run_async(wxpay(
        &[
            "v2",
            "POST",
            "/pay/orderquery",
            "-d",
            r#"{"appid":"wxd678efh567hg6787","out_trade_no":"CLI-V2-1"}"#,
        ],
        &vars,
    ))
    .await;
    queried.expect_code(0);
    let answer: serde_json::Value = serde_json::from_str(&queried.stdout).expect("JSON");
    assert_eq!(answer["trade_state"], "NOTPAY", "{}", queried.stdout);

    // Without a client certificate: refused by the command, nothing sent.
    let refund = r#"{"appid":"wxd678efh567hg6787","out_trade_no":"CLI-V2-1","out_refund_no":"CLI-R-1","total_fee":100,"refund_fee":100}"#;
    let refused = run_async(wxpay(
        &["v2", "POST", "/secapi/pay/refund", "-d", refund],
        &vars,
    ))
    .await;
    refused.expect_code(2);
    assert!(
        refused
            .stderr
            .contains("needs the merchant's API client certificate"),
        "{}",
        refused.stderr
    );

    // With it, over the TLS listener: the order is not paid, so WeChat
    // Pay's business refusal comes back (exit 3), which proves the
    // certificate was accepted and the request read.
    vars.insert("WXPAY_V2_CLIENT_CERT_FILE".into(), {
        let path = dir.path().join("apiclient_cert.p12");
        std::fs::write(&path, &sandbox.credentials().client_pkcs12).unwrap();
        path.display().to_string()
    });
    vars.insert(
        "WXPAY_V2_BASE_URL".into(),
        sandbox.v2_tls_url().expect("the TLS listener").to_owned(),
    );
    let refunded = run_async(wxpay(
        &["v2", "POST", "/secapi/pay/refund", "-d", refund],
        &vars,
    ))
    .await;
    refunded.expect_code(3);
    assert!(
        refunded.stderr.contains("POST /secapi/pay/refund")
            || refunded.stderr.contains("{v2 path}"),
        "{}",
        refunded.stderr
    );
    assert!(
        !refunded.stderr.contains("certificate"),
        "the certificate was accepted: {}",
        refunded.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_reported_as_the_servers_refusal() {
    let sandbox = Sandbox::start().await.expect("sandbox");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut vars = v2_vars(&sandbox, dir.path());
    vars.insert(
        "WXPAY_V2_KEY_FILE".into(),
        write_secret(
            dir.path(),
            "wrong_key.txt",
            "00000000000000000000000000000000",
        ),
    );
    let done = run_async(wxpay(
        &[
            "v2",
            "POST",
            "/pay/orderquery",
            "-d",
            r#"{"appid":"wx1","out_trade_no":"X"}"#,
        ],
        &vars,
    ))
    .await;
    done.expect_code(3);
    assert!(done.stderr.contains("return_code FAIL"), "{}", done.stderr);
    assert!(done.stderr.contains("签名错误"), "{}", done.stderr);
    assert!(done.stdout.is_empty(), "{}", done.stdout);
}

#[test]
fn usage_mistakes_are_named() {
    let vars = BTreeMap::new();
    let done = support::run(wxpay(&["v2", "PUT", "/pay/orderquery"], &vars));
    done.expect_code(2);
    assert!(done.stderr.contains("POST"), "{}", done.stderr);
    let done = support::run(wxpay(&["v2", "POST", "/v3/pay/transactions/jsapi"], &vars));
    done.expect_code(2);
    assert!(done.stderr.contains("wxpay request"), "{}", done.stderr);
    let done = support::run(wxpay(
        &[
            "v2",
            "POST",
            "/pay/orderquery",
            "--mchid",
            "1900000109",
            "-d",
            "[1]",
        ],
        &vars,
    ));
    done.expect_code(2);
    assert!(done.stderr.contains("JSON object"), "{}", done.stderr);
}
