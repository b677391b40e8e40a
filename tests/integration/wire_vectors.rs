//! The golden requests, declared with the macro and prepared by the client:
//! target, body, signing message and signature must match byte for byte.

use crate::support;

use serde::Serialize;
use wxpay::api::v3::marketing::favor::stocks::_stock_id_::start::Post as StartStock;
use wxpay::api::v3::marketing::favor::stocks::Get as ListStocks;
use wxpay::{Client, CryptoBackend, Endpoint};

#[wxpay::endpoint(GET, "/v3/pay/transactions/out-trade-no/<out_trade_no>")]
struct QueryByOutTradeNo {
    out_trade_no: String,
    mchid: String,
}

#[derive(Serialize)]
struct Amount {
    total: u64,
    currency: String,
}

#[derive(Serialize)]
struct Payer {
    openid: String,
}

#[wxpay::endpoint(POST, "/v3/pay/transactions/jsapi")]
struct JsapiPrepay {
    appid: String,
    mchid: String,
    description: String,
    out_trade_no: String,
    notify_url: String,
    amount: Amount,
    payer: Payer,
}

#[wxpay::endpoint(DELETE, "/v3/marketing/busifavor/stocks/<stock_id>/items")]
struct DeleteItems {
    stock_id: String,
    x: String,
}

#[wxpay::endpoint(POST, "/v3/merchant/media/upload")]
struct UploadMeta {
    filename: String,
    sha256: String,
}

fn client(dir: &std::path::Path, backend: CryptoBackend) -> Client {
    Client::builder()
        .mchid("1900009191")
        .merchant_key_pem(
            "5F1C72E2A8931B72A2E13AF8DEE92471EB397115",
            support::read(dir, "keys/merchant_private_key.pem"),
        )
        .wechatpay_public_key_pem(
            "PUB_KEY_ID_0114232134912410000000000000",
            support::read(dir, "keys/platform_public_key.pem"),
        )
        .crypto_backend(backend)
        .build()
        .expect("vector keys make a valid client")
}

fn check<E: Endpoint>(client: &Client, case: &serde_json::Value, endpoint: E) {
    let field = |name: &str| {
        case[name]
            .as_str()
            .unwrap_or_else(|| panic!("case lacks {name}"))
    };
    let timestamp: i64 = field("timestamp").parse().unwrap();
    let prepared = client
        .prepare_at(&endpoint, timestamp, field("nonce").to_owned())
        .expect("golden request builds");
    let what = format!("{} {}", field("method"), field("uri"));
    assert_eq!(prepared.method().as_str(), field("method"), "{what}");
    assert_eq!(prepared.target(), field("uri"), "{what}: target");
    assert_eq!(
        prepared.body().as_bytes(),
        field("body").as_bytes(),
        "{what}: body"
    );
    assert_eq!(
        prepared.signing_message(),
        field("message").as_bytes(),
        "{what}: message"
    );
    let authorization = prepared.headers()["authorization"].to_str().unwrap();
    assert_eq!(
        authorization_fields(authorization),
        authorization_fields(field("authorization")),
        "{what}: Authorization"
    );
    assert_eq!(
        prepared.headers()["wechatpay-serial"],
        "PUB_KEY_ID_0114232134912410000000000000"
    );
}

/// The header's scheme and its fields, sorted (field order is free).
fn authorization_fields(header: &str) -> (String, Vec<String>) {
    let (scheme, fields) = header.split_once(' ').expect("scheme and fields");
    let mut fields: Vec<String> = fields.split(',').map(str::to_owned).collect();
    fields.sort();
    (scheme.to_owned(), fields)
}

#[test]
fn golden_requests_are_reproduced_byte_for_byte() {
    let Some(dir) = support::vectors("golden_requests_are_reproduced_byte_for_byte") else {
        return;
    };
    let golden: serde_json::Value =
        serde_json::from_str(&support::read(&dir, "golden.json")).unwrap();
    let cases = golden["requests"].as_array().expect("requests[]");
    assert_eq!(cases.len(), 6, "the vector file changed: review this test");
    for &backend in CryptoBackend::available() {
        let client = client(&dir, backend);
        check(
            &client,
            &cases[0],
            StartStock {
                stock_id: "98065001".into(),
                stock_creator_mchid: "1900009191".into(),
            },
        );
        check(
            &client,
            &cases[1],
            QueryByOutTradeNo {
                out_trade_no: "1217752501201407033233368018".into(),
                mchid: "1900009191".into(),
            },
        );
        check(
            &client,
            &cases[2],
            ListStocks {
                offset: 0,
                limit: 10,
                stock_creator_mchid: "1900009191".into(),
                create_start_time: None,
                create_end_time: None,
                status: Some("running".into()),
            },
        );
        check(
            &client,
            &cases[3],
            JsapiPrepay {
                appid: "wxd678efh567hg6787".into(),
                mchid: "1900009191".into(),
                description: "Image形象店-深圳腾大-QQ公仔".into(),
                out_trade_no: "1217752501201407033233368018".into(),
                notify_url: "https://www.weixin.qq.com/wxpay/pay.php".into(),
                amount: Amount {
                    total: 100,
                    currency: "CNY".into(),
                },
                payer: Payer {
                    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
                },
            },
        );
        check(
            &client,
            &cases[4],
            DeleteItems {
                stock_id: "1212".into(),
                x: "/".into(),
            },
        );
        check(
            &client,
            &cases[5],
            UploadMeta {
                filename: "filea.jpg".into(),
                sha256: "hjkahkjsjkfsjk78687dhjahdajhk".into(),
            },
        );
    }
}
