//! The payer's half: JSAPI / mini-program and APP invocation parameters,
//! checked against known answers made with OpenSSL from the shared test key
//! (on every compiled backend), verified with an RSA implementation that is
//! not wxpay's (aws-lc-rs called directly), and signed for orders placed
//! against the sandbox in one call.

use crate::support;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use wxpay::payer::{self, AppPayParams, JsapiPayParams, PayParamsError};
use wxpay::{CryptoBackend, MerchantKey};

const APPID: &str = "wxd678efh567hg6787";
const PREPAY_ID: &str = "wx201410272009395522657a690389285100";
const TIMESTAMP: i64 = 1_554_208_460;
const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

/// `openssl dgst -sha256 -sign merchant_private_key.pem | base64` of
/// `wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\nprepay_id=wx201410272009395522657a690389285100\n`.
const JSAPI_PAY_SIGN: &str = "EcIemVzIjG3tCsI/4ZwaCJoBSStpY0BNu5KMsDoirrwZW35bAQ+KqG2qezNqz6PLaYwDaFFd8sbt9Rj/ApLvdafRIRk/I7vjmkLKKfOx8pJtxBk3GNqq8TD5e34fd8lBhneMq9OmF6zuejYJU8O8jmRVoTf+LfmvrAiZWfNE7Ovrwm83XU1FGBoVnRuY8nSGRu3eALl5RQQIZGTk9tjIUrcKDI1qvZP2JLpcaL2+jvRkcpsBKwf+uDGTZht2cgAtu4zjhc7LJsBqAhPZ5wja9u7a5ne8rhSSth8VdmFagwAm0kGY/9enYL5fjGZfaXjwTN0BqR8fKbJOPnSGQTPLiQ==";

/// The same for the APP message
/// `wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\nwx201410272009395522657a690389285100\n`.
const APP_SIGN: &str = "FeCMSeZTgmZ3dYJFQKYktlIFV9F36jQyYG73q1sqo/ecJ6Qu9aRy5ClbxfOeiq1Qo9EZxQRJ2z3Kfmr0C/5AQfG7gv240IInUhOQDlq14EGMBiGotIxzWmVY2Zmhs3V65UGoumiG7u4UztiS5pF6IxgOdHTzPEaFjx99Vg2QXZpRMjB5NdKFEffWIxFic3FceJ4sTE93uMI5AdLf915LC7K0dvFIZEpuCF/Ka6cy0esLMUJgfArnQQHMEH5LRhPZBSgUclNBCD4mjubXqtQhaURDQFa9cWCMQNuXmPqCS9pWsvy+kh8fSKGGBigU+ZzMobyPTxlfjbx83r512Ewvqw==";

/// Checks `signature` over `message` with aws-lc-rs directly, from the
/// SubjectPublicKeyInfo PEM of the merchant's key.
fn verify_independently(public_key_pem: &str, message: &str, signature: &str) -> bool {
    let der: String = public_key_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(der).expect("PEM body is base64");
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).expect("an RSA public key");
    let signature = STANDARD.decode(signature).expect("signature is base64");
    key.verify_sig(message.as_bytes(), &signature).is_ok()
}

#[test]
fn jsapi_and_app_parameters_match_openssl_on_every_backend() {
    let Some(vectors) = support::vectors("jsapi_and_app_parameters_match_openssl_on_every_backend")
    else {
        return;
    };
    let pem = support::read(&vectors, "keys/merchant_private_key.pem");
    for &backend in CryptoBackend::available() {
        let key = MerchantKey::from_pem_with(&pem, backend).expect("the test key loads");
        let jsapi = payer::sign_jsapi(&key, APPID, PREPAY_ID, TIMESTAMP, NONCE).expect("signs");
        let expected = JsapiPayParams {
            app_id: APPID.into(),
            time_stamp: "1554208460".into(),
            nonce_str: NONCE.into(),
            package: format!("prepay_id={PREPAY_ID}"),
            sign_type: "RSA".into(),
            pay_sign: JSAPI_PAY_SIGN.into(),
        };
        assert_eq!(jsapi, expected, "{backend:?}");

        let app =
            payer::sign_app(&key, APPID, "1900009191", PREPAY_ID, TIMESTAMP, NONCE).expect("signs");
        let expected = AppPayParams {
            appid: APPID.into(),
            partnerid: "1900009191".into(),
            prepayid: PREPAY_ID.into(),
            package: "Sign=WXPay".into(),
            noncestr: NONCE.into(),
            timestamp: "1554208460".into(),
            sign: APP_SIGN.into(),
        };
        assert_eq!(app, expected, "{backend:?}");
    }
}

#[tokio::test]
async fn a_client_signs_what_an_independent_verifier_accepts() {
    let sandbox = wxpay_sandbox::Sandbox::start().await.expect("sandbox");
    let public_key = sandbox.credentials().merchant_public_key_pem.clone();
    for &backend in CryptoBackend::available() {
        let client = support::sandbox_client_with(&sandbox, backend);
        let jsapi = client.jsapi_pay_params(APPID, PREPAY_ID).expect("signs");
        assert_eq!(jsapi.sign_type, "RSA");
        assert_eq!(jsapi.prepay_id(), Some(PREPAY_ID));
        assert_eq!(jsapi.nonce_str.len(), 32);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let stamped: u64 = jsapi.time_stamp.parse().expect("seconds");
        assert!(stamped.abs_diff(now) < 60, "timeStamp {stamped} is now");
        let message = format!(
            "{}\n{}\n{}\n{}\n",
            jsapi.app_id, jsapi.time_stamp, jsapi.nonce_str, jsapi.package
        );
        assert!(
            verify_independently(&public_key, &message, &jsapi.pay_sign),
            "{backend:?}: paySign verifies"
        );
        let tampered = message.replace(PREPAY_ID, "wx201410272009395522657a690389285101");
        assert!(!verify_independently(
            &public_key,
            &tampered,
            &jsapi.pay_sign
        ));

        let app = client.app_pay_params(APPID, PREPAY_ID).expect("signs");
        assert_eq!(app.partnerid, client.mchid());
        assert_eq!(app.package, "Sign=WXPay");
        let message = format!(
            "{}\n{}\n{}\n{}\n",
            app.appid, app.timestamp, app.noncestr, app.prepayid
        );
        assert!(
            verify_independently(&public_key, &message, &app.sign),
            "{backend:?}: sign verifies"
        );
        let partner = client
            .app_pay_params_for(APPID, "1900000109", PREPAY_ID)
            .expect("signs");
        assert_eq!(partner.partnerid, "1900000109");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn values_that_would_change_the_signed_text_are_refused() {
    let sandbox = wxpay_sandbox::Sandbox::start().await.expect("sandbox");
    let client = support::sandbox_client(&sandbox);
    let cases: [(&str, &str, &str); 4] = [
        ("", PREPAY_ID, "appId"),
        ("wxd678efh567hg6787\nprepay_id=other", PREPAY_ID, "appId"),
        (APPID, "", "prepay_id"),
        (APPID, "wx1\nwx2", "prepay_id"),
    ];
    for (appid, prepay_id, named) in cases {
        let error = client
            .jsapi_pay_params(appid, prepay_id)
            .expect_err("refused");
        match &error {
            PayParamsError::InvalidField { field, .. } => assert_eq!(*field, named),
            other => panic!("unexpected {other:?}"),
        }
        assert!(error.to_string().starts_with(named), "{error}");
    }
    let error = client
        .app_pay_params_for(APPID, "1900\n", PREPAY_ID)
        .expect_err("refused");
    assert!(error.to_string().contains("partnerid"), "{error}");
    sandbox.shutdown().await;
}

#[cfg(feature = "pay")]
mod catalogue {
    use super::*;
    use serde_json::json;
    use wxpay::api::types::Amount;
    use wxpay::api::v3::pay::partner::transactions as partner;
    use wxpay::api::v3::pay::transactions as direct;
    use wxpay::payer::{AppPrepay, JsapiPrepay};

    const NOTIFY_URL: &str = "https://www.weixin.qq.com/wxpay/pay.php";

    fn jsapi_order(mchid: &str, out_trade_no: &str, appid: &str) -> direct::jsapi::Post {
        direct::jsapi::Post::new(
            appid,
            mchid,
            "Image形象店-深圳腾大-QQ公仔",
            out_trade_no,
            Amount::new(100).with_currency("CNY"),
            NOTIFY_URL,
            direct::jsapi::PostPayer::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
        )
    }

    #[tokio::test]
    async fn one_call_places_the_order_and_signs_its_parameters() {
        let sandbox = wxpay_sandbox::Sandbox::start().await.expect("sandbox");
        let client = support::sandbox_client(&sandbox);
        let mchid = client.mchid().to_owned();
        let params = client
            .prepay_jsapi(jsapi_order(&mchid, "payer-0001", APPID))
            .await
            .expect("placed and signed");
        let prepay_id = params.prepay_id().expect("package names the prepay_id");
        assert!(prepay_id.starts_with("wx"), "{prepay_id}");
        assert_eq!(params.app_id, APPID);
        assert!(verify_independently(
            &sandbox.credentials().merchant_public_key_pem,
            &params.signing_message(),
            &params.pay_sign
        ));
        let json = serde_json::to_value(&params).expect("JSON");
        let mut keys: Vec<&str> = json
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "appId",
                "nonceStr",
                "package",
                "paySign",
                "signType",
                "timeStamp"
            ]
        );

        // Placing the same order again answers the same prepay_id.
        let again = client
            .prepay_jsapi(jsapi_order(&mchid, "payer-0001", APPID))
            .await
            .expect("placed again");
        assert_eq!(again.prepay_id(), Some(prepay_id));

        let app = direct::app::Post::new(
            APPID,
            &mchid,
            "app order",
            "payer-0002",
            Amount::new(1),
            NOTIFY_URL,
        );
        let params = client.prepay_app(app).await.expect("placed and signed");
        assert_eq!(params.partnerid, mchid);
        assert!(params.prepayid.starts_with("wx"));
        assert!(verify_independently(
            &sandbox.credentials().merchant_public_key_pem,
            &params.signing_message(),
            &params.sign
        ));
        sandbox.shutdown().await;
    }

    /// The order query, answered as JSON: the catalogue's answer type wants
    /// `amount.payer_total`, which the spec marks required but an unpaid
    /// order does not have.
    #[wxpay::endpoint(GET, "/v3/pay/transactions/out-trade-no/<out_trade_no>", response = serde_json::Value)]
    struct QueryOrder {
        out_trade_no: String,
        mchid: String,
    }

    /// The payer's side as the sandbox plays it: the parameters wxpay
    /// signed pay the order when handed to `/_sandbox/request-payment`, as
    /// a page would hand them to `wx.requestPayment`; a changed parameter
    /// does not.
    #[tokio::test]
    async fn the_sandbox_pays_an_order_with_the_parameters_wxpay_signed() {
        let sandbox = wxpay_sandbox::Sandbox::start().await.expect("sandbox");
        let client = support::sandbox_client(&sandbox);
        let mchid = client.mchid().to_owned();
        let http = reqwest::Client::new();
        let pay = |params: serde_json::Value| {
            http.post(format!("{}/_sandbox/request-payment", sandbox.base_url()))
                .header("content-type", "application/json")
                .body(params.to_string())
                .send()
        };
        let state = |out_trade_no: &'static str| {
            let client = client.clone();
            let mchid = mchid.clone();
            async move {
                let query = QueryOrder {
                    out_trade_no: out_trade_no.into(),
                    mchid,
                };
                let order = client.send(query).await.expect("queried");
                order["trade_state"].as_str().map(str::to_owned)
            }
        };

        let params = client
            .prepay_jsapi(jsapi_order(&mchid, "payer-0004", APPID))
            .await
            .expect("placed and signed");
        let mut forged = serde_json::to_value(&params).expect("JSON");
        forged["timeStamp"] = json!((TIMESTAMP + 1).to_string());
        let refused = pay(forged).await.expect("answered");
        assert_eq!(refused.status(), 401);
        assert_eq!(state("payer-0004").await.as_deref(), Some("NOTPAY"));

        let paid = pay(serde_json::to_value(&params).expect("JSON"))
            .await
            .expect("answered");
        assert_eq!(paid.status(), 200);
        let transaction: serde_json::Value =
            serde_json::from_slice(&paid.bytes().await.expect("body")).expect("JSON");
        assert_eq!(transaction["out_trade_no"], "payer-0004");
        assert_eq!(transaction["trade_state"], "SUCCESS");
        assert_eq!(state("payer-0004").await.as_deref(), Some("SUCCESS"));
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn an_order_whose_appid_cannot_be_signed_is_not_placed() {
        let sandbox = wxpay_sandbox::Sandbox::start().await.expect("sandbox");
        let client = support::sandbox_client(&sandbox);
        let mchid = client.mchid().to_owned();
        let error = client
            .prepay_jsapi(jsapi_order(&mchid, "payer-0003", "wx\nforged"))
            .await
            .expect_err("refused");
        assert!(
            matches!(
                error,
                wxpay::Error::PayParams {
                    source: PayParamsError::InvalidField { field: "appId", .. },
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error.report().to_string().starts_with(
                "POST /v3/pay/transactions/jsapi: could not make the payer's parameters: appId"
            ),
            "{error}"
        );
        // Nothing was placed: the order number is still free.
        let query = wxpay::api::v3::pay::transactions::out_trade_no::_out_trade_no_::Get {
            out_trade_no: "payer-0003".into(),
            mchid: mchid.clone(),
        };
        let error = client.send(query).await.expect_err("no such order");
        assert_eq!(error.as_api().map(|api| api.status.as_u16()), Some(404));
        sandbox.shutdown().await;
    }

    #[test]
    fn partner_orders_name_the_sub_app_and_the_sub_merchant() {
        let (sp_appid, sp_mchid, sub_mchid) = ("wx8888888888888888", "1230000109", "1900000109");
        let notify = "https://example.com/n";
        let jsapi = partner::jsapi::Post::new(
            sp_appid,
            sp_mchid,
            sub_mchid,
            "d",
            "p-1",
            Amount::new(1),
            notify,
            partner::jsapi::PostPayer::new("o1"),
        );
        assert_eq!(jsapi.payer_appid(), "wx8888888888888888");
        let jsapi = jsapi.with_sub_appid("wxd678efh567hg6787");
        assert_eq!(jsapi.payer_appid(), "wxd678efh567hg6787");
        let app = partner::app::Post::new(
            sp_appid,
            sp_mchid,
            sub_mchid,
            "d",
            "p-1",
            Amount::new(1),
            notify,
        )
        .with_sub_appid("wxd678efh567hg6787");
        assert_eq!(app.payer_appid(), "wxd678efh567hg6787");
        assert_eq!(app.partner_id(), "1900000109");
        let direct_app =
            direct::app::Post::new(APPID, "1900009191", "d", "p-2", Amount::new(1), notify);
        assert_eq!(direct_app.partner_id(), "1900009191");
    }
}
