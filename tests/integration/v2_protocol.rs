//! APIv2 protocol: signatures checked against known answers computed by the
//! Node library wechatpay-axios-plugin (`interop/v2-vectors.js` writes
//! `tests/vectors/v2_sign.json`), answers and notifications forged and
//! refused, the refund notification's AES-256-ECB, and the merchant's API
//! client certificate from PKCS#12 (legacy and modern encryption) and PEM.
//!
//! The client certificate fixtures under `tests/fixtures/` are a throwaway
//! key and self-signed certificate of our own, made once for these tests:
//!
//! ```text
//! openssl req -x509 -newkey rsa:2048 -nodes -keyout v2_apiclient_key.pem -out v2_apiclient_cert.pem \
//!     -days 36500 -subj "/C=CN/O=wxpay tests/OU=1900000109/CN=wxpay test merchant 1900000109"
//! openssl pkcs12 -export -legacy -inkey v2_apiclient_key.pem -in v2_apiclient_cert.pem \
//!     -passout pass:1900000109 -name "Tenpay Certificate" -out v2_apiclient_cert_legacy.p12
//! openssl pkcs12 -export -inkey v2_apiclient_key.pem -in v2_apiclient_cert.pem \
//!     -passout pass:1900000109 -out v2_apiclient_cert_modern.p12
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;
use wxpay::v2::notification::{
    decode_payment, decode_refund, encrypt_refund_info, payment_fields, refund_fields, reply_fail,
    reply_success,
};
use wxpay::v2::{
    ClientIdentity, DecryptError, Fields, IdentityError, SignType, Signing, V2Error, V2Key,
    answer_fields, decode_answer, sign, sign_request, verify,
};

const MCHID: &str = "1900000109";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn vectors() -> Value {
    let text = std::fs::read_to_string(root().join("tests/vectors/v2_sign.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn key() -> V2Key {
    V2Key::new(vectors()["key"].as_str().unwrap()).unwrap()
}

fn fields_of(case: &Value) -> Fields {
    case["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect()
}

/// A signed answer with `fields`, as WeChat Pay would send it.
fn signed_answer(mut fields: Fields, sign_type: SignType) -> String {
    fields.insert("sign", sign(&fields, &key(), sign_type));
    fields.to_xml()
}

#[test]
fn both_sign_types_match_the_node_library() {
    let vectors = vectors();
    let key = key();
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let fields = fields_of(case);
        let name = case["name"].as_str().unwrap();
        assert_eq!(
            sign(&fields, &key, SignType::Md5),
            case["md5"].as_str().unwrap(),
            "MD5: {name}"
        );
        assert_eq!(
            sign(&fields, &key, SignType::HmacSha256),
            case["hmac_sha256"].as_str().unwrap(),
            "HMAC-SHA256: {name}"
        );
        // The XML written and read back signs the same.
        let back = Fields::from_xml(fields.to_xml().as_bytes()).unwrap();
        assert_eq!(back, fields, "XML round trip: {name}");
        assert_eq!(
            sign(&back, &key, SignType::HmacSha256),
            case["hmac_sha256"].as_str().unwrap()
        );
    }
}

#[test]
fn a_signed_request_verifies_and_carries_what_the_operation_takes() {
    let key = key();
    let mut fields = Fields::new();
    fields.insert("appid", "wx2421b1c4370ec43b");
    fields.insert("out_trade_no", "20150806125346");
    fields.insert("body", "腾讯充值中心-QQ会员充值");
    for (signing, preferred, sign_type, has_sign_type) in [
        (
            Signing::Either,
            SignType::HmacSha256,
            SignType::HmacSha256,
            true,
        ),
        (Signing::Either, SignType::Md5, SignType::Md5, true),
        (
            Signing::HmacSha256Only,
            SignType::Md5,
            SignType::HmacSha256,
            true,
        ),
        (Signing::Md5Only, SignType::HmacSha256, SignType::Md5, false),
    ] {
        let request = sign_request(
            fields.clone(),
            Some(("mch_id", MCHID)),
            &key,
            signing,
            preferred,
        );
        assert_eq!(request.sign_type, sign_type);
        let sent = Fields::from_xml(&request.body).unwrap();
        assert_eq!(sent.get("mch_id"), Some(MCHID));
        assert_eq!(sent.get("body"), Some("腾讯充值中心-QQ会员充值"));
        assert_eq!(sent.contains("sign_type"), has_sign_type);
        assert_eq!(sent.get("nonce_str").map(str::len), Some(32));
        verify(&sent, &key, sign_type).unwrap();
    }
}

#[derive(Debug, Deserialize)]
struct RefundAnswer {
    out_refund_no: String,
    refund_id: String,
    refund_fee: u64,
    detail: String,
    coupon_refund_fee: Option<u64>,
}

fn refund_answer_case() -> Fields {
    fields_of(&vectors()["cases"][2])
}

#[test]
fn a_genuine_answer_decodes_with_unknown_fields_kept() {
    let body = signed_answer(refund_answer_case(), SignType::HmacSha256);
    let answer: RefundAnswer =
        decode_answer(body.as_bytes(), &key(), SignType::HmacSha256, true).unwrap();
    assert_eq!(answer.out_refund_no, "1415701182");
    assert_eq!(answer.refund_id, "2008450740201411110000174436");
    assert_eq!(answer.refund_fee, 1);
    assert_eq!(answer.detail, r#"<goods> & "quotes" ]]> end"#);
    assert_eq!(answer.coupon_refund_fee, None);

    let raw = answer_fields(body.as_bytes(), &key(), SignType::HmacSha256, true).unwrap();
    assert_eq!(
        raw.get("transaction_id"),
        Some("1008450740201411110005820873")
    );
    let raw: Fields = decode_answer(body.as_bytes(), &key(), SignType::HmacSha256, true).unwrap();
    assert!(raw.contains("nonce_str"));

    // An operation whose answers are not signed takes them as they are.
    let unsigned = refund_answer_case().to_xml();
    let answer: RefundAnswer =
        decode_answer(unsigned.as_bytes(), &key(), SignType::Md5, false).unwrap();
    assert_eq!(answer.refund_fee, 1);
}

#[test]
fn forged_answers_are_refused() {
    let key = key();
    let body = signed_answer(refund_answer_case(), SignType::HmacSha256);

    // A tampered field.
    let tampered = body.replace("<refund_fee>1</refund_fee>", "<refund_fee>100</refund_fee>");
    assert_ne!(tampered, body);
    assert!(matches!(
        answer_fields(tampered.as_bytes(), &key, SignType::HmacSha256, true),
        Err(V2Error::BadSignature)
    ));

    // A field added.
    let added = body.replace("</xml>", "<coupon_refund_fee>5</coupon_refund_fee></xml>");
    assert!(matches!(
        answer_fields(added.as_bytes(), &key, SignType::HmacSha256, true),
        Err(V2Error::BadSignature)
    ));

    // A wrong sign, and the right sign for the other sign type.
    let mut fields = refund_answer_case();
    fields.insert("sign", "0".repeat(64));
    assert!(matches!(
        answer_fields(fields.to_xml().as_bytes(), &key, SignType::HmacSha256, true),
        Err(V2Error::BadSignature)
    ));
    assert!(matches!(
        answer_fields(body.as_bytes(), &key, SignType::Md5, true),
        Err(V2Error::BadSignature)
    ));

    // Another key.
    let other = V2Key::new("0".repeat(32)).unwrap();
    let error = answer_fields(body.as_bytes(), &other, SignType::HmacSha256, true).unwrap_err();
    assert!(matches!(error, V2Error::BadSignature));
    assert!(error.to_string().contains("APIv2 key"));

    // No sign at all where the operation signs its answers.
    let unsigned = refund_answer_case().to_xml();
    assert!(matches!(
        answer_fields(unsigned.as_bytes(), &key, SignType::HmacSha256, true),
        Err(V2Error::Unsigned)
    ));
    let mut empty = refund_answer_case();
    empty.insert("sign", "");
    assert!(matches!(
        answer_fields(empty.to_xml().as_bytes(), &key, SignType::HmacSha256, true),
        Err(V2Error::Unsigned)
    ));
}

#[test]
fn return_and_result_failures_are_typed() {
    let key = key();
    let fail = "<xml><return_code><![CDATA[FAIL]]></return_code>\
                <return_msg><![CDATA[签名错误]]></return_msg></xml>";
    match answer_fields(fail.as_bytes(), &key, SignType::Md5, true) {
        Err(error @ V2Error::Return { .. }) => {
            assert!(error.to_string().contains("签名错误"), "{error}");
            assert_eq!(error.err_code(), None);
        }
        other => panic!("expected a return_code failure, got {other:?}"),
    }

    let mut fields = Fields::new();
    fields.insert("return_code", "SUCCESS");
    fields.insert("return_msg", "OK");
    fields.insert("result_code", "FAIL");
    fields.insert("err_code", "NOTENOUGH");
    fields.insert("err_code_des", "余额不足");
    fields.insert("nonce_str", "NfsMFbUFpdbEhPXP");
    let body = signed_answer(fields, SignType::Md5);
    let error =
        decode_answer::<RefundAnswer>(body.as_bytes(), &key, SignType::Md5, true).unwrap_err();
    match &error {
        V2Error::Business {
            err_code,
            err_code_des,
        } => {
            assert_eq!(err_code, "NOTENOUGH");
            assert_eq!(err_code_des, "余额不足");
        }
        other => panic!("expected a business failure, got {other:?}"),
    }
    assert_eq!(error.err_code(), Some("NOTENOUGH"));
}

#[test]
fn a_decoding_failure_names_the_field_not_the_value() {
    let mut fields = refund_answer_case();
    fields.insert("refund_fee", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    let body = signed_answer(fields, SignType::HmacSha256);
    let error = decode_answer::<RefundAnswer>(body.as_bytes(), &key(), SignType::HmacSha256, true)
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, V2Error::Decode(_)));
    assert!(message.contains("refund_fee"), "{message}");
    assert!(!message.contains("oUpF8u"), "{message}");
}

#[derive(Debug, Deserialize)]
struct PaymentNotification {
    result_code: String,
    out_trade_no: String,
    total_fee: u32,
    openid: String,
    attach: Option<String>,
}

fn payment_notification(sign_type: Option<SignType>) -> Fields {
    let mut fields: Fields = [
        ("return_code", "SUCCESS"),
        ("appid", "wx2421b1c4370ec43b"),
        ("mch_id", MCHID),
        ("nonce_str", "5d2b6c2a8db53831f7eda20af46e531c"),
        ("result_code", "SUCCESS"),
        ("openid", "oUpF8uMEb4qRXf22hE3X68TekukE"),
        ("out_trade_no", "1409811653"),
        ("total_fee", "1"),
        ("attach", "支付测试 <&>"),
        ("time_end", "20140903131540"),
    ]
    .into_iter()
    .collect();
    if let Some(sign_type) = sign_type {
        fields.insert("sign_type", sign_type.as_str());
    }
    fields.insert(
        "sign",
        sign(&fields, &key(), sign_type.unwrap_or(SignType::Md5)),
    );
    fields
}

#[test]
fn payment_notifications_verify_then_decode() {
    let key = key();
    for sign_type in [None, Some(SignType::Md5), Some(SignType::HmacSha256)] {
        let body = payment_notification(sign_type).to_xml();
        let decoded: PaymentNotification = decode_payment(body.as_bytes(), &key).unwrap();
        assert_eq!(decoded.result_code, "SUCCESS");
        assert_eq!(decoded.out_trade_no, "1409811653");
        assert_eq!(decoded.total_fee, 1);
        assert_eq!(decoded.openid, "oUpF8uMEb4qRXf22hE3X68TekukE");
        assert_eq!(decoded.attach.as_deref(), Some("支付测试 <&>"));
    }

    // Tampered, unsigned, or announcing an unknown sign type.
    let mut tampered = payment_notification(Some(SignType::HmacSha256));
    tampered.insert("total_fee", "10000");
    assert!(matches!(
        payment_fields(tampered.to_xml().as_bytes(), &key),
        Err(V2Error::BadSignature)
    ));
    // Claiming the other sign type does not help a forger.
    let mut switched = payment_notification(Some(SignType::HmacSha256));
    switched.insert("sign_type", "MD5");
    assert!(matches!(
        payment_fields(switched.to_xml().as_bytes(), &key),
        Err(V2Error::BadSignature)
    ));
    let mut unsigned = payment_notification(None);
    unsigned.remove("sign");
    assert!(matches!(
        payment_fields(unsigned.to_xml().as_bytes(), &key),
        Err(V2Error::Unsigned)
    ));
    let mut unknown = payment_notification(None);
    unknown.insert("sign_type", "SHA1");
    assert!(matches!(
        payment_fields(unknown.to_xml().as_bytes(), &key),
        Err(V2Error::SignType(_))
    ));
    // A body that is not XML is an error, not a panic.
    assert!(matches!(
        payment_fields(b"{\"json\":true}", &key),
        Err(V2Error::Xml(_))
    ));
}

#[derive(Debug, Deserialize)]
struct RefundNotification {
    appid: String,
    mch_id: String,
    out_refund_no: String,
    refund_id: String,
    refund_fee: u64,
    refund_status: String,
    refund_recv_accout: String,
    success_time: Option<String>,
}

fn refund_notification(req_info: &str) -> String {
    let mut fields = Fields::new();
    fields.insert("return_code", "SUCCESS");
    fields.insert("appid", "wx2421b1c4370ec43b");
    fields.insert("mch_id", MCHID);
    fields.insert("nonce_str", "TeqClE3i0mvn3DrK");
    fields.insert("req_info", req_info);
    fields.to_xml()
}

#[test]
fn a_refund_notification_decrypts_and_decodes() {
    let vectors = vectors();
    let key = key();
    let refund = &vectors["refund"];
    let body = refund_notification(refund["req_info"].as_str().unwrap());
    let decoded: RefundNotification = decode_refund(body.as_bytes(), &key).unwrap();
    assert_eq!(decoded.appid, "wx2421b1c4370ec43b");
    assert_eq!(decoded.mch_id, MCHID);
    assert_eq!(decoded.out_refund_no, "131811191610442717309");
    assert_eq!(decoded.refund_id, "50000408942018111907145868882");
    assert_eq!(decoded.refund_fee, 3960);
    assert_eq!(decoded.refund_status, "SUCCESS");
    assert_eq!(decoded.refund_recv_accout, "支付用户零钱");
    assert_eq!(decoded.success_time.as_deref(), Some("2018-11-19 16:24:13"));

    // Our encryption is the Node library's, byte for byte (ECB is
    // deterministic).
    let plain = refund["plain"].as_str().unwrap();
    assert_eq!(
        encrypt_refund_info(plain.as_bytes(), &key),
        refund["req_info"].as_str().unwrap()
    );
    let fields = refund_fields(
        refund_notification(&encrypt_refund_info(plain.as_bytes(), &key)).as_bytes(),
        &key,
    )
    .unwrap();
    assert_eq!(
        fields.get("transaction_id"),
        Some("4200000215201811190261405420")
    );
}

#[test]
fn a_tampered_refund_notification_is_an_error_not_a_panic() {
    let key = key();
    let req_info = vectors()["refund"]["req_info"].as_str().unwrap().to_owned();

    // Flip bits of the last block (the padding), of the first block, and cut it.
    let mut bytes = base64_decode(&req_info);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    let flipped_last = base64_encode(&bytes);
    let mut bytes = base64_decode(&req_info);
    bytes[0] ^= 0x01;
    let flipped_first = base64_encode(&bytes);
    let bytes = base64_decode(&req_info);
    let cut = base64_encode(&bytes[..bytes.len() - 3]);
    let other_key = V2Key::new("f".repeat(32)).unwrap();

    for (what, body, key) in [
        ("padding altered", refund_notification(&flipped_last), &key),
        (
            "first block altered",
            refund_notification(&flipped_first),
            &key,
        ),
        ("cut", refund_notification(&cut), &key),
        ("not base64", refund_notification("%%%not base64%%%"), &key),
        ("empty", refund_notification(""), &key),
        ("wrong key", refund_notification(&req_info), &other_key),
    ] {
        let result = refund_fields(body.as_bytes(), key);
        assert!(result.is_err(), "{what}: accepted");
    }
    assert!(matches!(
        refund_fields(refund_notification(&cut).as_bytes(), &key),
        Err(V2Error::Decrypt(DecryptError::BadLength { .. }))
    ));
    assert!(matches!(
        refund_fields(refund_notification("").as_bytes(), &key),
        Err(V2Error::Decrypt(DecryptError::MissingReqInfo))
    ));

    // return_code FAIL is reported before anything is decrypted.
    let fail = "<xml><return_code>FAIL</return_code><return_msg>busy</return_msg></xml>";
    assert!(matches!(
        refund_fields(fail.as_bytes(), &key),
        Err(V2Error::Return { .. })
    ));
}

#[test]
fn replies_are_the_documented_xml() {
    assert_eq!(
        reply_success(),
        "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
    );
    let fail = reply_fail("数据库 <busy> ]]> & retry");
    let fields = Fields::from_xml(fail.as_bytes()).unwrap();
    assert_eq!(fields.get("return_code"), Some("FAIL"));
    assert_eq!(fields.get("return_msg"), Some("数据库 <busy> ]]> & retry"));
    assert_eq!(fields.len(), 2);
}

#[test]
fn xml_round_trips_cdata_chinese_and_cdata_ends() {
    let mut fields = Fields::new();
    fields.insert("body", "腾讯充值中心-QQ会员充值");
    fields.insert("attach", "]]>");
    fields.insert("detail", "a]]>b<![CDATA[c]]>]]]]>");
    fields.insert(
        "scene_info",
        r#"{"h5_info":{"type":"Wap","wap_url":"https://a.b/?x=1&y=2"}}"#,
    );
    fields.insert("empty", "");
    let xml = fields.to_xml();
    assert_eq!(Fields::from_xml(xml.as_bytes()).unwrap(), fields);
    // And as WeChat Pay writes it, everything in CDATA.
    let wechat = "<xml><body><![CDATA[腾讯充值中心-QQ会员充值]]></body><attach><![CDATA[]]]]><![CDATA[>]]></attach><empty><![CDATA[]]></empty></xml>";
    let read = Fields::from_xml(wechat.as_bytes()).unwrap();
    assert_eq!(read.get("body"), Some("腾讯充值中心-QQ会员充值"));
    assert_eq!(read.get("attach"), Some("]]>"));
    assert_eq!(read.get("empty"), Some(""));
}

#[test]
fn secrets_stay_out_of_debug() {
    let key = key();
    let debug = format!("{key:?}");
    assert!(
        !debug.contains(vectors()["key"].as_str().unwrap()),
        "{debug}"
    );
    assert!(debug.contains("redacted"), "{debug}");

    let identity = legacy_identity();
    let debug = format!("{identity:?}");
    assert!(!debug.contains("PRIVATE"), "{debug}");
    assert!(!debug.contains("MII"), "{debug}");
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures").join(name)).unwrap()
}

fn legacy_identity() -> ClientIdentity {
    ClientIdentity::from_pkcs12(&fixture("v2_apiclient_cert_legacy.p12"), MCHID).unwrap()
}

#[test]
fn a_pkcs12_identity_loads_with_the_right_password_only() {
    for name in [
        "v2_apiclient_cert_legacy.p12",
        "v2_apiclient_cert_modern.p12",
    ] {
        let der = fixture(name);
        let identity = ClientIdentity::from_pkcs12(&der, MCHID)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(
            identity
                .certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        assert!(!identity.serial().is_empty());
        identity.reqwest_identity().unwrap();

        let error = ClientIdentity::from_pkcs12(&der, "wrong").unwrap_err();
        assert!(
            matches!(error, V2Error::Identity(IdentityError::WrongPassword)),
            "{name}: {error:?}"
        );
        assert!(error.to_string().contains("password"), "{error}");
    }
    let error = ClientIdentity::from_pkcs12(b"not a p12 file", MCHID).unwrap_err();
    assert!(
        matches!(error, V2Error::Identity(IdentityError::NotPkcs12 { .. })),
        "{error:?}"
    );
    let pem = fixture("v2_apiclient_cert.pem");
    let error = ClientIdentity::from_pkcs12(&pem, MCHID).unwrap_err();
    assert!(matches!(
        error,
        V2Error::Identity(IdentityError::NotPkcs12 { .. })
    ));
}

#[test]
fn a_pem_identity_is_the_same_certificate_as_the_pkcs12() {
    let cert = fixture("v2_apiclient_cert.pem");
    let key = fixture("v2_apiclient_key.pem");
    let pem = ClientIdentity::from_pem(&cert, &key).unwrap();
    let p12 = legacy_identity();
    assert_eq!(pem.serial(), p12.serial());
    assert_eq!(pem.certificate_pem(), p12.certificate_pem());

    let error = ClientIdentity::from_pem(&key, &key).unwrap_err();
    assert!(matches!(
        error,
        V2Error::Identity(IdentityError::Pem {
            what: "certificate",
            ..
        })
    ));
    let error = ClientIdentity::from_pem(&cert, &cert).unwrap_err();
    assert!(matches!(
        error,
        V2Error::Identity(IdentityError::Pem {
            what: "private key",
            ..
        })
    ));
}

#[test]
fn client_certificate_required_says_how_to_configure_it() {
    let error = V2Error::ClientCertificateRequired {
        path: "/secapi/pay/refund",
    };
    let message = error.to_string();
    assert!(message.contains("/secapi/pay/refund"));
    assert!(message.contains("apiclient_cert.p12"));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
