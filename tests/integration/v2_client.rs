//! `V2Client` end to end against a canned server: what goes on the wire
//! (XML, merchant id, `nonce_str`, `sign_type` only where the operation
//! takes one, a signature that verifies), and what comes back (a signed
//! answer decoded, a forged one refused, WeChat Pay's refusals as typed
//! errors, the client certificate required before anything is sent).

use crate::support;

use support::{Canned, CannedServer};
use wxpay::v2::{Fields, SignType, V2Client, V2Error, V2Key, sign, verify};
use wxpay::{Error, Host};

const MCHID: &str = "1900000109";
const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

#[derive(Debug, serde::Deserialize)]
struct Queried {
    trade_state: String,
    total_fee: i64,
}

#[wxpay::endpoint(POST, "/pay/orderquery", v2, sign = either, merchant = "mch_id", response = Queried)]
struct OrderQuery {
    appid: String,
    #[wxpay(idempotency_key)]
    out_trade_no: String,
}

#[wxpay::endpoint(POST, "/pay/closeorder", v2, merchant = "mch_id", idempotent)]
struct CloseOrder {
    appid: String,
    out_trade_no: String,
}

#[wxpay::endpoint(POST, "/secapi/pay/refund", v2, sign = either, client_cert, merchant = "mch_id")]
struct Refund {
    appid: String,
    out_trade_no: String,
    out_refund_no: String,
    total_fee: i64,
    refund_fee: i64,
}

#[wxpay::endpoint(
    POST,
    "/mmpaymkttransfers/gethbinfo",
    v2,
    client_cert,
    merchant = "mch_id",
    unsigned_answer
)]
struct RedPackInfo {
    appid: String,
    mch_billno: String,
}

#[wxpay::endpoint(GET, "/papay/entrustweb", v2, merchant = "mch_id")]
struct EntrustWeb {
    appid: String,
    plan_id: String,
}

#[wxpay::endpoint(POST, "/secsvc/getrealnameinfo", v2, sign = hmac_sha256, host = Fraud)]
struct RealName {
    mch_id: String,
}

fn key() -> V2Key {
    V2Key::new(KEY).unwrap()
}

fn client(base_url: &str) -> V2Client {
    V2Client::builder()
        .mchid(MCHID)
        .key(KEY)
        .base_url(base_url)
        .build()
        .unwrap()
}

/// An answer with `fields` plus `return_code`/`result_code` SUCCESS,
/// signed with `sign_type` (or not at all).
fn answer(pairs: &[(&str, &str)], sign_type: Option<SignType>) -> String {
    let mut fields: Fields = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    fields.insert("return_code", "SUCCESS");
    fields.insert("return_msg", "OK");
    fields.insert("result_code", "SUCCESS");
    fields.insert("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
    if let Some(sign_type) = sign_type {
        let signature = sign(&fields, &key(), sign_type);
        fields.insert("sign", signature);
    }
    fields.to_xml()
}

fn received_fields(server: &CannedServer, index: usize) -> Fields {
    let received = server.received.lock().unwrap();
    Fields::from_xml(&received[index].2).expect("the request is APIv2 XML")
}

#[tokio::test]
async fn a_request_is_signed_xml_and_a_signed_answer_decodes() {
    let server = CannedServer::start(vec![Canned::unsigned(
        200,
        &answer(
            &[("trade_state", "SUCCESS"), ("total_fee", "888")],
            Some(SignType::HmacSha256),
        ),
    )])
    .await;
    let client = client(&server.base_url);
    let queried = client
        .send(OrderQuery {
            appid: "wx8888888888888888".into(),
            out_trade_no: "1217752501201407033233368018".into(),
        })
        .await
        .expect("a signed answer decodes");
    assert_eq!(queried.trade_state, "SUCCESS");
    assert_eq!(queried.total_fee, 888);

    let sent = received_fields(&server, 0);
    assert_eq!(sent.get("mch_id"), Some(MCHID));
    assert_eq!(sent.get("appid"), Some("wx8888888888888888"));
    assert_eq!(sent.get("sign_type"), Some("HMAC-SHA256"));
    assert_eq!(sent.get("nonce_str").map(str::len), Some(32));
    verify(&sent, &key(), SignType::HmacSha256).expect("the request's signature verifies");
    let received = server.received.lock().unwrap();
    assert_eq!(received[0].0, "/pay/orderquery");
    assert_eq!(
        received[0].1.get("content-type").unwrap(),
        "text/xml; charset=utf-8"
    );
}

#[tokio::test]
async fn an_md5_only_operation_sends_no_sign_type() {
    let server = CannedServer::start(vec![Canned::unsigned(
        200,
        &answer(&[], Some(SignType::Md5)),
    )])
    .await;
    let client = V2Client::builder()
        .mchid(MCHID)
        .key(KEY)
        .base_url(&server.base_url)
        .sign_type(SignType::HmacSha256)
        .build()
        .unwrap();
    let answer = client
        .send(CloseOrder {
            appid: "wx8888888888888888".into(),
            out_trade_no: "1217752501201407033233368018".into(),
        })
        .await
        .expect("an MD5-signed answer of an MD5-only operation");
    assert_eq!(answer.get("result_code"), Some("SUCCESS"));
    let sent = received_fields(&server, 0);
    assert_eq!(sent.get("sign_type"), None);
    verify(&sent, &key(), SignType::Md5).expect("signed with MD5");
}

#[tokio::test]
async fn forged_and_unsigned_answers_are_refused() {
    let genuine = answer(
        &[("trade_state", "SUCCESS"), ("total_fee", "888")],
        Some(SignType::HmacSha256),
    );
    let forged = genuine.replace("888", "1");
    let unsigned = answer(&[("trade_state", "SUCCESS"), ("total_fee", "888")], None);
    let other_key = {
        let mut fields = Fields::from_xml(unsigned.as_bytes()).unwrap();
        let other = V2Key::new("00000000000000000000000000000000").unwrap();
        let signature = sign(&fields, &other, SignType::HmacSha256);
        fields.insert("sign", signature);
        fields.to_xml()
    };
    let server = CannedServer::start(vec![
        Canned::unsigned(200, &forged),
        Canned::unsigned(200, &unsigned),
        Canned::unsigned(200, &other_key),
    ])
    .await;
    let client = client(&server.base_url);
    for expected in ["forged", "unsigned", "other key"] {
        let error = client
            .send(OrderQuery {
                appid: "wx8888888888888888".into(),
                out_trade_no: "1217752501201407033233368018".into(),
            })
            .await
            .expect_err(expected);
        match (&error, expected) {
            (
                Error::V2 {
                    source: V2Error::Unsigned,
                    ..
                },
                "unsigned",
            )
            | (
                Error::V2 {
                    source: V2Error::BadSignature,
                    ..
                },
                "forged" | "other key",
            ) => {}
            other => panic!("{expected}: {other:?}"),
        }
        assert!(
            error.to_string().contains("POST /pay/orderquery"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn refusals_and_failures_are_typed_errors() {
    let refused = "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名错误]]></return_msg></xml>";
    let failed = answer(
        &[
            ("err_code", "ORDERNOTEXIST"),
            ("err_code_des", "此交易订单号不存在"),
        ],
        Some(SignType::HmacSha256),
    )
    .replace(
        "<result_code>SUCCESS</result_code>",
        "<result_code>FAIL</result_code>",
    );
    // Re-sign after the edit, as WeChat Pay would have signed it.
    let failed = {
        let mut fields = Fields::from_xml(failed.as_bytes()).unwrap();
        fields.remove("sign");
        let signature = sign(&fields, &key(), SignType::HmacSha256);
        fields.insert("sign", signature);
        fields.to_xml()
    };
    let server = CannedServer::start(vec![
        Canned::unsigned(200, refused),
        Canned::unsigned(200, &failed),
        Canned::unsigned(502, "bad gateway"),
    ])
    .await;
    let client = client(&server.base_url);
    let query = || OrderQuery {
        appid: "wx8888888888888888".into(),
        out_trade_no: "1217752501201407033233368018".into(),
    };
    let error = client.send(query()).await.unwrap_err();
    assert!(
        matches!(&error, Error::V2 { source: V2Error::Return { return_msg }, .. } if return_msg == "签名错误"),
        "{error:?}"
    );
    let error = client.send(query()).await.unwrap_err();
    match &error {
        Error::V2 { source, .. } => assert_eq!(source.err_code(), Some("ORDERNOTEXIST")),
        other => panic!("{other:?}"),
    }
    let error = client.send(query()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::V2 {
                source: V2Error::Status {
                    status: wxpay::http::StatusCode::BAD_GATEWAY
                },
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_client_certificate_operation_is_refused_unsent_without_one() {
    let server = CannedServer::start(vec![]).await;
    let client = client(&server.base_url);
    assert!(!client.has_client_certificate());
    let error = client
        .send(Refund {
            appid: "wx8888888888888888".into(),
            out_trade_no: "1217752501201407033233368018".into(),
            out_refund_no: "R1217752501201407033233368018".into(),
            total_fee: 888,
            refund_fee: 888,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::V2 {
                source: V2Error::ClientCertificateRequired {
                    path: "/secapi/pay/refund"
                },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.report().to_string().contains("apiclient_cert.p12"),
        "{error}"
    );
    assert!(server.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_client_with_a_certificate_sends_and_accepts_an_unsigned_answer_where_declared() {
    let server = CannedServer::start(vec![Canned::unsigned(
        200,
        &answer(&[("mch_billno", "B1"), ("status", "RECEIVED")], None),
    )])
    .await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let client = V2Client::builder()
        .mchid(MCHID)
        .key(KEY)
        .base_url(&server.base_url)
        .client_certificate_pkcs12_file(fixtures.join("v2_apiclient_cert_legacy.p12"), MCHID)
        .build()
        .unwrap();
    assert!(client.has_client_certificate());
    let info = client
        .send(RedPackInfo {
            appid: "wx8888888888888888".into(),
            mch_billno: "B1".into(),
        })
        .await
        .expect("an unsigned answer of an operation that does not sign its answers");
    assert_eq!(info.get("status"), Some("RECEIVED"));
    verify(&received_fields(&server, 0), &key(), SignType::Md5).unwrap();
}

#[tokio::test]
async fn a_get_operation_signs_its_query_string() {
    let client = client("http://127.0.0.1:9");
    let request = client
        .prepare(&EntrustWeb {
            appid: "wx8888888888888888".into(),
            plan_id: "12535".into(),
        })
        .unwrap();
    assert!(request.body().is_none());
    let url = reqwest::Url::parse(request.url()).unwrap();
    assert_eq!(url.path(), "/papay/entrustweb");
    let fields: Fields = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(fields.get("mch_id"), Some(MCHID));
    assert_eq!(fields.get("plan_id"), Some("12535"));
    verify(&fields, &key(), SignType::Md5).expect("the query string is signed");
}

#[tokio::test]
async fn operations_on_other_hosts_go_there() {
    let client = V2Client::builder().mchid(MCHID).key(KEY).build().unwrap();
    let request = client
        .prepare(&RealName {
            mch_id: MCHID.into(),
        })
        .unwrap();
    assert!(
        request
            .url()
            .starts_with("https://fraud.mch.weixin.qq.com/secsvc/getrealnameinfo"),
        "{}",
        request.url()
    );
    assert_eq!(request.sign_type(), SignType::HmacSha256);
    assert_eq!(
        client.host_url(Host::HongKong),
        Some("https://apihk.mch.weixin.qq.com")
    );
}

#[test]
fn settings_are_checked_together_and_secrets_stay_out_of_debug() {
    let error = V2Client::builder()
        .mchid("19000001x9")
        .key("short")
        .client_certificate_pkcs12_file("/nonexistent/apiclient_cert.p12", MCHID)
        .build()
        .unwrap_err();
    let message = error.to_string();
    for expected in ["digits only", "APIv2 key", "apiclient_cert.p12"] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
    assert!(!message.contains("short"), "{message}");
    let client = V2Client::builder().mchid(MCHID).key(KEY).build().unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains(KEY), "{debug}");
}

#[test]
fn a_plain_http_base_url_elsewhere_is_one_problem() {
    let error = V2Client::builder()
        .mchid(MCHID)
        .key(KEY)
        .base_url("http://example.com")
        .build()
        .unwrap_err();
    let message = error.to_string();
    assert_eq!(message.matches("plain http").count(), 1, "{message}");
    assert!(
        message.contains("base URL `http://example.com`"),
        "{message}"
    );
    V2Client::builder()
        .mchid(MCHID)
        .key(KEY)
        .base_url("http://example.com")
        .allow_insecure_http(true)
        .build()
        .expect("a test rig may allow it");
}
