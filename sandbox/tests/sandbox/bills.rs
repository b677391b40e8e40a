//! Bills: apply, then download the file the answer points at.

use std::io::Read as _;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use wxpay_sandbox::Faults;

use crate::common::{Answer, Merchant, sandbox};

fn sha1_hex(bytes: &[u8]) -> String {
    digest(&SHA1_FOR_LEGACY_USE_ONLY, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies at `target`, checks the signed answer and returns
/// `(hash_value, path and query of download_url)`.
async fn apply(merchant: &Merchant, target: &str) -> (String, String) {
    let answer = merchant.get(target).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(&merchant.credentials);
    let json = answer.json();
    assert_eq!(json["hash_type"], "SHA1");
    let url = json["download_url"].as_str().unwrap();
    let download = url
        .strip_prefix(&merchant.base_url)
        .unwrap_or_else(|| panic!("{url} is not on the sandbox"))
        .to_owned();
    (json["hash_value"].as_str().unwrap().to_owned(), download)
}

fn gunzip(answer: &Answer) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&answer.body[..])
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn a_gzip_trade_bill_downloads_unsigned_and_matches_its_hash() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let (hash, download) = apply(
        &merchant,
        "/v3/bill/tradebill?bill_date=2019-06-11&bill_type=ALL&tar_type=GZIP",
    )
    .await;
    assert!(
        download.starts_with("/v3/billdownload/file?token="),
        "{download}"
    );
    assert!(download.ends_with("&tartype=gzip"), "{download}");

    let answer = merchant.get(&download).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/x-gzip"));
    assert!(answer.header("wechatpay-signature").is_none());
    assert!(answer.header("request-id").is_some());
    let bill = gunzip(&answer);
    assert_eq!(sha1_hex(&bill), hash);
    let text = String::from_utf8(bill).unwrap();
    assert!(text.starts_with("交易时间,公众账号ID,商户号,"), "{text}");
    assert!(text.contains(&format!("`{},", merchant.mchid())), "{text}");
    assert!(text.contains("\r\n总交易单数,"), "{text}");

    // Unsigned requests are refused like anywhere else.
    let unsigned = merchant.send_raw("GET", &download, "", None, None).await;
    unsigned.assert_error(sandbox.credentials(), 401, "SIGN_ERROR");
}

#[tokio::test]
async fn plain_bills_and_fund_flow_bills() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let (hash, download) = apply(&merchant, "/v3/bill/tradebill?bill_date=2019-06-11").await;
    assert!(!download.contains("tartype"), "{download}");
    let answer = merchant.get(&download).await;
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(sha1_hex(&answer.body), hash);

    let (hash, download) = apply(
        &merchant,
        "/v3/bill/fundflowbill?bill_date=2019-06-11&account_type=BASIC&tar_type=GZIP",
    )
    .await;
    let bill = gunzip(&merchant.get(&download).await);
    assert_eq!(sha1_hex(&bill), hash);
    assert!(String::from_utf8(bill).unwrap().starts_with("记账时间,"));
}

#[tokio::test]
async fn corrupt_bill_serves_a_file_that_does_not_match_its_hash() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let (hash, download) = apply(
        &merchant,
        "/v3/bill/tradebill?bill_date=2019-06-11&tar_type=GZIP",
    )
    .await;
    sandbox.set_faults(Faults {
        corrupt_bill: true,
        ..Faults::default()
    });
    let bill = gunzip(&merchant.get(&download).await);
    assert_ne!(sha1_hex(&bill), hash);
    sandbox.set_faults(Faults::default());
    let bill = gunzip(&merchant.get(&download).await);
    assert_eq!(sha1_hex(&bill), hash);
}

#[tokio::test]
async fn bad_parameters_and_unknown_tokens_are_errors() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    for (target, field) in [
        ("/v3/bill/tradebill", "/bill_date"),
        ("/v3/bill/tradebill?bill_date=2019-13-01", "/bill_date"),
        (
            "/v3/bill/tradebill?bill_date=2019-06-11&bill_type=SOME",
            "/bill_type",
        ),
        (
            "/v3/bill/tradebill?bill_date=2019-06-11&tar_type=ZIP",
            "/tar_type",
        ),
        (
            "/v3/bill/fundflowbill?bill_date=2019-06-11&account_type=X",
            "/account_type",
        ),
        ("/v3/billdownload/file", "/token"),
    ] {
        let json = merchant
            .get(target)
            .await
            .assert_error(credentials, 400, "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], field, "{target}: {json}");
    }
    merchant
        .get("/v3/bill/tradebill?bill_date=2019-06-11&bill_type=SUCCESS")
        .await
        .assert_error(credentials, 400, "INVALID_REQUEST");
    merchant
        .get("/v3/billdownload/file?token=nope")
        .await
        .assert_error(credentials, 404, "RESOURCE_NOT_EXISTS");
}
