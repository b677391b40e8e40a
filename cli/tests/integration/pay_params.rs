//! `wxpay pay-params`: the payer's invocation parameters from the shell,
//! byte for byte against known answers made with OpenSSL from the shared
//! test key, with exactly the keys the front ends take.

use crate::support;

use std::collections::BTreeMap;

use serde_json::Value;

use support::{run, wxpay};

const APPID: &str = "wxd678efh567hg6787";
const PREPAY_ID: &str = "wx201410272009395522657a690389285100";
const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

/// `openssl dgst -sha256 -sign merchant_private_key.pem | base64` of the
/// JSAPI message for the values above at 1554208460 (see tests/payer.rs of
/// the wxpay crate).
const JSAPI_PAY_SIGN: &str = "EcIemVzIjG3tCsI/4ZwaCJoBSStpY0BNu5KMsDoirrwZW35bAQ+KqG2qezNqz6PLaYwDaFFd8sbt9Rj/ApLvdafRIRk/I7vjmkLKKfOx8pJtxBk3GNqq8TD5e34fd8lBhneMq9OmF6zuejYJU8O8jmRVoTf+LfmvrAiZWfNE7Ovrwm83XU1FGBoVnRuY8nSGRu3eALl5RQQIZGTk9tjIUrcKDI1qvZP2JLpcaL2+jvRkcpsBKwf+uDGTZht2cgAtu4zjhc7LJsBqAhPZ5wja9u7a5ne8rhSSth8VdmFagwAm0kGY/9enYL5fjGZfaXjwTN0BqR8fKbJOPnSGQTPLiQ==";

/// The same for the APP message.
const APP_SIGN: &str = "FeCMSeZTgmZ3dYJFQKYktlIFV9F36jQyYG73q1sqo/ecJ6Qu9aRy5ClbxfOeiq1Qo9EZxQRJ2z3Kfmr0C/5AQfG7gv240IInUhOQDlq14EGMBiGotIxzWmVY2Zmhs3V65UGoumiG7u4UztiS5pF6IxgOdHTzPEaFjx99Vg2QXZpRMjB5NdKFEffWIxFic3FceJ4sTE93uMI5AdLf915LC7K0dvFIZEpuCF/Ka6cy0esLMUJgfArnQQHMEH5LRhPZBSgUclNBCD4mjubXqtQhaURDQFa9cWCMQNuXmPqCS9pWsvy+kh8fSKGGBigU+ZzMobyPTxlfjbx83r512Ewvqw==";

/// The keys of the printed object in the order printed (a parsed `Value`
/// would sort them).
fn keys_of(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("  \""))
        .filter_map(|rest| rest.split_once("\":"))
        .map(|(key, _)| key.to_owned())
        .collect()
}

#[test]
fn jsapi_and_app_parameters_are_printed_with_their_exact_keys() {
    let Some(dir) = support::vectors("jsapi_and_app_parameters_are_printed_with_their_exact_keys")
    else {
        return;
    };
    let key_file = dir.join("keys/merchant_private_key.pem");
    let vars = BTreeMap::from([
        ("WXPAY_MCHID".to_owned(), "1900009191".to_owned()),
        (
            "WXPAY_PRIVATE_KEY_FILE".to_owned(),
            key_file.display().to_string(),
        ),
    ]);
    let fixed = ["--timestamp", "1554208460", "--nonce", NONCE];
    let mut args = vec![
        "pay-params",
        "jsapi",
        "--appid",
        APPID,
        "--prepay-id",
        PREPAY_ID,
    ];
    args.extend(fixed);
    let jsapi = run(wxpay(&args, &vars));
    jsapi.expect_code(0);
    let json: Value = serde_json::from_str(&jsapi.stdout).expect("JSON");
    assert_eq!(
        keys_of(&jsapi.stdout),
        [
            "appId",
            "timeStamp",
            "nonceStr",
            "package",
            "signType",
            "paySign"
        ]
    );
    assert_eq!(json["appId"], APPID);
    assert_eq!(json["timeStamp"], "1554208460");
    assert_eq!(json["package"], format!("prepay_id={PREPAY_ID}"));
    assert_eq!(json["signType"], "RSA");
    assert_eq!(json["paySign"], JSAPI_PAY_SIGN);

    let mut args = vec![
        "pay-params",
        "app",
        "--appid",
        APPID,
        "--prepay-id",
        PREPAY_ID,
    ];
    args.extend(fixed);
    let app = run(wxpay(&args, &vars));
    app.expect_code(0);
    let json: Value = serde_json::from_str(&app.stdout).expect("JSON");
    assert_eq!(
        keys_of(&app.stdout),
        [
            "appid",
            "partnerid",
            "prepayid",
            "package",
            "noncestr",
            "timestamp",
            "sign"
        ]
    );
    assert_eq!(json["partnerid"], "1900009191");
    assert_eq!(json["package"], "Sign=WXPay");
    assert_eq!(json["sign"], APP_SIGN);

    // Without --timestamp/--nonce: now and a fresh nonce, still signed.
    let fresh = run(wxpay(
        &[
            "pay-params",
            "jsapi",
            "--appid",
            APPID,
            "--prepay-id",
            PREPAY_ID,
        ],
        &vars,
    ));
    fresh.expect_code(0);
    let json: Value = serde_json::from_str(&fresh.stdout).expect("JSON");
    assert_eq!(json["nonceStr"].as_str().map(str::len), Some(32));
    assert_ne!(json["paySign"], JSAPI_PAY_SIGN);
}

#[tokio::test]
async fn bad_values_and_missing_settings_are_named() {
    let none = BTreeMap::new();
    let missing = run(wxpay(
        &[
            "pay-params",
            "app",
            "--appid",
            APPID,
            "--prepay-id",
            PREPAY_ID,
        ],
        &none,
    ));
    missing.expect_code(2);
    assert!(
        missing
            .stderr
            .contains("--private-key-file or WXPAY_PRIVATE_KEY_FILE"),
        "{}",
        missing.stderr
    );
    assert!(
        missing
            .stderr
            .contains("--mchid or --partnerid or WXPAY_MCHID"),
        "{}",
        missing.stderr
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let sandbox = wxpay_sandbox::Sandbox::start().await.expect("sandbox");
    let key_file = support::write(
        tmp.path(),
        "key.pem",
        &sandbox.credentials().merchant_private_key_pem,
    );
    let vars = BTreeMap::from([("WXPAY_PRIVATE_KEY_FILE".to_owned(), key_file)]);
    let forged = run(wxpay(
        &[
            "pay-params",
            "jsapi",
            "--appid",
            "wx1\nprepay_id=x",
            "--prepay-id",
            PREPAY_ID,
        ],
        &vars,
    ));
    forged.expect_code(2);
    assert!(
        forged.stderr.contains("--appid: appId holds"),
        "{}",
        forged.stderr
    );
    assert!(forged.stdout.is_empty());
    let partner = run(wxpay(
        &[
            "pay-params",
            "app",
            "--appid",
            APPID,
            "--prepay-id",
            PREPAY_ID,
            "--partnerid",
            "19x",
        ],
        &vars,
    ));
    partner.expect_code(2);
    assert!(partner.stderr.contains("--partnerid"), "{}", partner.stderr);
    sandbox.shutdown().await;
}
