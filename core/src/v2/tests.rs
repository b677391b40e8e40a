//! Unit tests of the APIv2 protocol (the known-answer vectors from the Node
//! library are checked in `tests/integration/v2_protocol.rs`).

use serde::{Deserialize, Serialize};

use super::*;

fn key() -> V2Key {
    V2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap()
}

#[test]
fn sign_matches_the_documented_example() {
    let fields: Fields = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        sign(&fields, &key(), SignType::Md5),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
    assert_eq!(
        sign(&fields, &key(), SignType::HmacSha256),
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );
}

#[test]
fn sign_type_parses_and_prints() {
    assert_eq!("MD5".parse::<SignType>().unwrap(), SignType::Md5);
    assert_eq!(
        "HMAC-SHA256".parse::<SignType>().unwrap(),
        SignType::HmacSha256
    );
    let error = "SHA1".parse::<SignType>().unwrap_err();
    assert!(error.to_string().contains("`SHA1`"), "{error}");
    assert_eq!(SignType::HmacSha256.to_string(), "HMAC-SHA256");
    assert_eq!(Signing::Md5Only.choose(SignType::HmacSha256), SignType::Md5);
    assert_eq!(
        Signing::HmacSha256Only.choose(SignType::Md5),
        SignType::HmacSha256
    );
    assert_eq!(
        Signing::Either.choose(SignType::HmacSha256),
        SignType::HmacSha256
    );
    assert!(!Signing::Md5Only.sends_sign_type());
    assert!(Signing::Either.sends_sign_type());
    assert!(Signing::HmacSha256Only.sends_sign_type());
}

#[test]
fn key_is_checked_and_redacted() {
    assert_eq!(
        V2Key::new("short").unwrap_err(),
        V2KeyError::Length { found: 5 }
    );
    assert_eq!(
        V2Key::new("密".repeat(11)).unwrap_err(),
        V2KeyError::NotAscii
    );
    let debug = format!("{:?}", key());
    assert!(!debug.contains("192006250b"), "{debug}");
    // The refund AES key: the lower-case hex MD5 of the APIv2 key.
    assert_eq!(
        &key().refund_aes_key()[..],
        b"d96eb16afdd491fa1e705096edbc2205".as_slice()
    );
}

#[test]
fn sign_request_adds_merchant_nonce_sign_type_and_sign() {
    let mut fields = Fields::new();
    fields.insert("out_trade_no", "T1");
    fields.insert("sign_type", "MD5");
    let request = sign_request(
        fields.clone(),
        Some(("mch_id", "1900000109")),
        &key(),
        Signing::Either,
        SignType::HmacSha256,
    );
    assert_eq!(request.sign_type, SignType::HmacSha256);
    let sent = Fields::from_xml(&request.body).unwrap();
    assert_eq!(sent.get("mch_id"), Some("1900000109"));
    assert_eq!(sent.get("sign_type"), Some("HMAC-SHA256"));
    let nonce = sent.get("nonce_str").unwrap();
    assert_eq!(nonce.len(), 32);
    assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric()));
    verify(&sent, &key(), SignType::HmacSha256).unwrap();

    // MD5-only operations have no sign_type field at all.
    let request = sign_request(fields, None, &key(), Signing::Md5Only, SignType::HmacSha256);
    let sent = Fields::from_xml(&request.body).unwrap();
    assert_eq!(request.sign_type, SignType::Md5);
    assert!(!sent.contains("sign_type"));
    assert!(!sent.contains("mch_id"));
    verify(&sent, &key(), SignType::Md5).unwrap();
}

#[derive(Serialize)]
struct Request<'a> {
    body: &'a str,
    total_fee: u64,
    profit_sharing: bool,
    attach: Option<&'a str>,
    detail: Detail,
    #[serde(rename = "trade_type")]
    kind: Kind,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Detail {
    goods: Vec<u32>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "UPPERCASE")]
enum Kind {
    Jsapi,
    Native,
}

#[test]
fn from_serialize_writes_text_values() {
    let fields = Fields::from_serialize(&Request {
        body: "腾讯充值",
        total_fee: 101,
        profit_sharing: true,
        attach: None,
        detail: Detail { goods: vec![1, 2] },
        kind: Kind::Jsapi,
    })
    .unwrap();
    assert_eq!(fields.get("body"), Some("腾讯充值"));
    assert_eq!(fields.get("total_fee"), Some("101"));
    assert_eq!(fields.get("profit_sharing"), Some("true"));
    assert_eq!(fields.get("attach"), None);
    assert_eq!(fields.get("detail"), Some(r#"{"goods":[1,2]}"#));
    assert_eq!(fields.get("trade_type"), Some("JSAPI"));

    assert!(Fields::from_serialize(&[1, 2]).is_err());
    let mut bad = std::collections::BTreeMap::new();
    bad.insert("a b", "x");
    assert!(Fields::from_serialize(&bad).is_err());
}

#[derive(Deserialize, Debug, PartialEq)]
struct Answer {
    total_fee: u64,
    cash_fee: Option<i32>,
    coupon_fee: Option<u32>,
    is_subscribe: bool,
    attach: Option<String>,
    detail: Option<Detail>,
    trade_type: Kind,
}

#[test]
fn decode_parses_on_demand() {
    let fields: Fields = [
        ("total_fee", "101"),
        ("cash_fee", "-3"),
        ("is_subscribe", "Y"),
        ("attach", ""),
        ("detail", r#"{"goods":[3]}"#),
        ("trade_type", "NATIVE"),
        ("unknown", "kept"),
    ]
    .into_iter()
    .collect();
    let answer: Answer = fields.decode().unwrap();
    assert_eq!(
        answer,
        Answer {
            total_fee: 101,
            cash_fee: Some(-3),
            coupon_fee: None,
            is_subscribe: true,
            attach: Some(String::new()),
            detail: Some(Detail { goods: vec![3] }),
            trade_type: Kind::Native,
        }
    );
    let raw: Fields = fields.decode().unwrap();
    assert_eq!(raw, fields);

    let mut wrong = fields.clone();
    wrong.insert("total_fee", "secret-personal-text");
    let error = wrong.decode::<Answer>().unwrap_err();
    assert_eq!(error.field(), Some("total_fee"));
    assert!(!error.to_string().contains("secret-personal"), "{error}");

    let mut missing = fields.clone();
    missing.remove("total_fee");
    let error = missing.decode::<Answer>().unwrap_err();
    assert!(error.to_string().contains("total_fee"), "{error}");

    let mut variant = fields;
    variant.insert("trade_type", "personal-variant");
    let error = variant.decode::<Answer>().unwrap_err();
    assert!(!error.to_string().contains("personal-variant"), "{error}");
}

#[test]
fn xml_round_trip_with_markup_cdata_and_chinese() {
    let mut fields = Fields::new();
    fields.insert("body", "腾讯充值中心-QQ会员充值");
    fields.insert("detail", "<a>&b]]>c]]]>\"'");
    fields.insert("cr", "line1\r\nline2 & <x>");
    fields.insert("empty", "");
    fields.insert("spaces", "  padded  ");
    let xml = fields.to_xml();
    assert!(xml.contains("<![CDATA["), "{xml}");
    let back = Fields::from_xml(xml.as_bytes()).unwrap();
    assert_eq!(back, fields);
}

#[test]
fn from_xml_reads_wechat_answers() {
    let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<xml>
   <return_code><![CDATA[SUCCESS]]></return_code>
   <return_msg><![CDATA[OK]]></return_msg>
   <appid>wx2421b1c4370ec43b</appid>
   <empty/>
   <blank></blank>
   <mixed>a &amp; b &#x4E2D; <![CDATA[<c>]]></mixed>
   <nested><inner a="1">x &amp; y</inner></nested>
   <!-- a comment -->
</xml>"#;
    let fields = Fields::from_xml(body).unwrap();
    assert_eq!(fields.get("return_code"), Some("SUCCESS"));
    assert_eq!(fields.get("appid"), Some("wx2421b1c4370ec43b"));
    assert_eq!(fields.get("empty"), Some(""));
    assert_eq!(fields.get("blank"), Some(""));
    assert_eq!(fields.get("mixed"), Some("a & b 中 <c>"));
    assert_eq!(
        fields.get("nested"),
        Some(r#"<inner a="1">x &amp; y</inner>"#)
    );
    assert_eq!(fields.len(), 7);
}

#[test]
fn from_xml_refuses_what_is_not_a_flat_document() {
    let cases: &[&[u8]] = &[
        b"",
        b"   ",
        b"not xml",
        b"<xml><a>1</a>",
        b"<xml><a>1</b></xml>",
        b"<xml><a>1</a><a>2</a></xml>",
        b"<xml>text<a>1</a></xml>",
        b"<xml><a>1</a></xml><xml/>",
        b"<!DOCTYPE x [<!ENTITY e \"boom\">]><xml><a>&e;</a></xml>",
        b"<xml><a>&e;</a></xml>",
        b"<xml><a>\xff</a></xml>",
    ];
    for case in cases {
        assert!(
            Fields::from_xml(case).is_err(),
            "accepted {:?}",
            String::from_utf8_lossy(case)
        );
    }
    let big = vec![b' '; xml::MAX_BODY + 1];
    assert!(matches!(
        Fields::from_xml(&big),
        Err(XmlError::TooLarge { .. })
    ));
}

#[test]
fn fields_debug_shows_names_only() {
    let mut fields = Fields::new();
    fields.insert("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    let debug = format!("{fields:?}");
    assert!(debug.contains("openid"));
    assert!(!debug.contains("oUpF8u"), "{debug}");
}

#[test]
fn answers_are_checked_in_order() {
    let key = key();
    let fail = b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[\xe7\xad\xbe\xe5\x90\x8d\xe9\x94\x99\xe8\xaf\xaf]]></return_msg></xml>";
    match answer_fields(fail, &key, SignType::Md5, true) {
        Err(V2Error::Return { return_msg }) => assert_eq!(return_msg, "签名错误"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        answer_fields(b"<xml><a>1</a></xml>", &key, SignType::Md5, true),
        Err(V2Error::NoReturnCode)
    ));

    let mut fields = Fields::new();
    fields.insert("return_code", "SUCCESS");
    fields.insert("result_code", "FAIL");
    fields.insert("err_code", "ORDERPAID");
    fields.insert("err_code_des", "该订单已支付");
    fields.insert("sign", sign(&fields, &key, SignType::HmacSha256));
    let body = fields.to_xml();
    let error = answer_fields(body.as_bytes(), &key, SignType::HmacSha256, true).unwrap_err();
    assert_eq!(error.err_code(), Some("ORDERPAID"));
    assert!(error.to_string().contains("该订单已支付"));
    // Checked with the other sign type, the signature is what fails first.
    assert!(matches!(
        answer_fields(body.as_bytes(), &key, SignType::Md5, true),
        Err(V2Error::BadSignature)
    ));
}

#[test]
fn a_field_name_that_is_not_an_xml_name_is_refused() {
    // Found by fuzzing: `rod]xm` was read, then written back as `rod_xm`,
    // so what was signed and what would be checked were different fields.
    for body in [
        "<xml><rod]xm>1</rod]xm></xml>",
        "<xml><rod]xm/></xml>",
        "<xml><1a>1</1a></xml>",
    ] {
        let error = Fields::from_xml(body.as_bytes()).expect_err(body);
        assert!(
            error.to_string().contains("plain XML name"),
            "{body}: {error}"
        );
    }
    let fields = Fields::from_xml(b"<xml><a_b-c.d>1</a_b-c.d></xml>").unwrap();
    assert_eq!(fields.get("a_b-c.d"), Some("1"));
}
