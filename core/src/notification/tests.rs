//! Unit tests of the parts that need no RSA key; whole callbacks, signed
//! and encrypted, are exercised in the workspace's `tests/integration/notifications.rs`.

use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

use super::envelope::Envelope;
use super::error::{redacted_reason, shorten};
use super::replay::ReplayLink;
use super::*;
use crate::verification::VerifyError;

const API_V3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

fn decoder() -> NotificationDecoder {
    NotificationDecoder::new(Verifier::new(), ApiV3Key::new(API_V3_KEY).unwrap())
}

#[test]
fn event_types_round_trip_and_keep_unknown_values() {
    for (text, event) in [
        ("TRANSACTION.SUCCESS", EventType::TransactionSuccess),
        ("REFUND.SUCCESS", EventType::RefundSuccess),
        ("REFUND.ABNORMAL", EventType::RefundAbnormal),
        ("REFUND.CLOSED", EventType::RefundClosed),
        ("COUPON.SEND", EventType::CouponSend),
        ("COUPON.USE", EventType::CouponUse),
        (
            "MCHTRANSFER.BILL.FINISHED",
            EventType::MchTransferBillFinished,
        ),
        ("PROFITSHARING.SUCCESS", EventType::ProfitSharingSuccess),
    ] {
        let parsed: EventType = serde_json::from_str(&format!("\"{text}\"")).unwrap();
        assert!(
            matches!(&parsed, e if std::mem::discriminant(e) == std::mem::discriminant(&event))
        );
        assert_eq!(parsed.as_str(), text);
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            format!("\"{text}\"")
        );
    }
    let other = EventType::from("PAYSCORE.USER_PAID");
    assert!(matches!(&other, EventType::Other(s) if s == "PAYSCORE.USER_PAID"));
    assert_eq!(other.to_string(), "PAYSCORE.USER_PAID");
    // Equality and hashing go by the text, whichever way a value was built.
    assert_eq!(
        EventType::Other("REFUND.CLOSED".into()),
        EventType::RefundClosed
    );
    assert_eq!(EventType::RefundClosed, "REFUND.CLOSED");
    let set: std::collections::HashSet<EventType> =
        [EventType::Other("COUPON.USE".into()), EventType::CouponUse].into();
    assert_eq!(set.len(), 1);
    assert!(EventType::RefundAbnormal.is_refund());
    assert!(EventType::CouponSend.is_coupon());
    assert!(!EventType::TransactionSuccess.is_refund());
}

#[test]
fn replies_have_the_documented_shape() {
    let ok = NotificationReply::success();
    assert!(ok.is_success());
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let response = ok.into_http();
    assert!(response.body().is_empty());
    assert!(response.headers().get(http::header::CONTENT_TYPE).is_none());

    let fail = NotificationReply::failure("say \"why\"\n");
    assert!(!fail.is_success());
    assert_eq!(fail.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let response: http::Response<Vec<u8>> = fail.into();
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "application/json"
    );
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"code": "FAIL", "message": "say \"why\"\n"})
    );

    // A "failure" must never read as success.
    for status in [StatusCode::OK, StatusCode::NO_CONTENT, StatusCode::FOUND] {
        let reply = NotificationReply::failure_with_status(status, "x");
        assert_eq!(reply.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let reply = NotificationReply::failure_with_status(StatusCode::BAD_REQUEST, "x");
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

    // Messages are cut to 64 characters, on character boundaries.
    let long = "验".repeat(100);
    let reply = NotificationReply::failure(long);
    assert_eq!(reply.message().unwrap().chars().count(), 64);
}

#[test]
fn every_error_maps_to_a_failure_reply() {
    let json_error = serde_json::from_str::<u8>("x").unwrap_err();
    let errors = [
        NotificationError::Signature(VerifyError::Probe),
        NotificationError::Signature(VerifyError::MissingHeader {
            name: "Wechatpay-Signature",
        }),
        NotificationError::Envelope {
            path: ".".into(),
            source: json_error,
        },
        NotificationError::UnsupportedAlgorithm {
            found: "SM4".into(),
        },
        NotificationError::Decrypt {
            source: crate::CryptoError::BadNonce { len: 3 },
        },
        NotificationError::Resource {
            event_type: EventType::TransactionSuccess,
            target: "T",
            path: "amount".into(),
            reason: "r".into(),
        },
    ];
    let statuses: Vec<u16> = errors.iter().map(|e| e.reply().status().as_u16()).collect();
    assert_eq!(statuses, [401, 401, 400, 400, 500, 500]);
    for error in &errors {
        let reply = error.reply();
        assert!(!reply.is_success());
        let body: serde_json::Value = serde_json::from_slice(&reply.body()).unwrap();
        assert_eq!(body["code"], "FAIL");
        assert!(!body["message"].as_str().unwrap().is_empty());
        assert!(!error.to_string().is_empty());
    }
    assert!(errors[0].is_signature());
    assert_eq!(errors[0].verify_error(), Some(&VerifyError::Probe));
    assert_eq!(errors[2].verify_error(), None);
}

#[test]
fn json_errors_never_quote_the_plaintext() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        count: u8,
        kind: Kind,
        name: String,
    }
    #[derive(Debug, Deserialize)]
    enum Kind {
        A,
    }
    let secret = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
    for (json, expect) in [
        (
            format!(r#"{{"count":"{secret}"}}"#),
            "invalid type: string (value withheld), expected u8",
        ),
        (
            format!(r#"{{"count":1,"kind":"{secret}"}}"#),
            "unknown variant (value withheld), expected `A`",
        ),
        (
            r#"{"count":1000}"#.to_owned(),
            "invalid value: integer (value withheld), expected u8",
        ),
        (
            r#"{"count":1,"kind":"A"}"#.to_owned(),
            "missing field `name`",
        ),
        (format!(r#"{{"count":1,"name":{secret}}}"#), "not JSON"),
        (
            format!(r#"{{"count":1,"kind":"A","name":"{secret}"}}x"#),
            "not JSON: trailing characters",
        ),
    ] {
        let error = serde_json::from_str::<Shape>(&json).unwrap_err();
        let reason = redacted_reason(&error);
        assert!(
            reason.contains(expect),
            "{json}: {reason:?} should contain {expect:?}"
        );
        assert!(!reason.contains(secret), "{json}: {reason:?} leaks");
        assert!(!reason.contains("oUpF8"), "{json}: {reason:?} leaks");
    }
}

#[test]
fn resource_errors_name_the_path_and_type() {
    let value = serde_json::json!({"amount": {"total": "one hundred"}});
    let notification = Notification {
        id: "EV-1".into(),
        create_time: "2018-06-08T10:34:56+08:00".into(),
        event_type: EventType::TransactionSuccess,
        resource_type: "encrypt-resource".into(),
        summary: String::new(),
        original_type: "transaction".into(),
        associated_data: "transaction".into(),
        request_id: None,
        resource: value,
        replay: ReplayLink::default(),
    };
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Amount {
        total: i64,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Order {
        amount: Amount,
    }
    let error = notification.clone().into_typed::<Order>().unwrap_err();
    match &error {
        NotificationError::Resource {
            path,
            target,
            reason,
            ..
        } => {
            assert_eq!(path, "amount.total");
            assert!(target.ends_with("Order"), "{target}");
            assert!(!reason.contains("one hundred"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.to_string().contains("one hundred"));
    assert_eq!(error.reply().status(), StatusCode::INTERNAL_SERVER_ERROR);

    let mapped = notification.map_resource(|value| value["amount"].clone());
    assert_eq!(mapped.resource, serde_json::json!({"total": "one hundred"}));
}

#[test]
fn envelopes_are_read_strictly_where_it_matters() {
    let good = br#"{"id":"EV-1","create_time":"t","event_type":"X.Y","resource":{"algorithm":"A","nonce":"n","ciphertext":"c"}}"#;
    let envelope = Envelope::parse(good).unwrap();
    assert_eq!(envelope.summary, "");
    assert_eq!(envelope.resource.associated_data, "");
    let nulls = br#"{"id":"EV-1","create_time":"t","event_type":"X.Y","summary":null,"resource_type":null,"resource":{"algorithm":"A","nonce":"n","ciphertext":"c","associated_data":null,"original_type":null}}"#;
    assert!(Envelope::parse(nulls).is_ok());

    for (body, path) in [
        (&br#"{"id":"EV-1","create_time":"t","event_type":"X.Y","resource":{"algorithm":"A","ciphertext":"c"}}"#[..], "resource"),
        (br#"{"id":1}"#, "id"),
        (br#"[]"#, "."),
        (br#""#, "."),
        (&good[..good.len() - 1], "."),
    ] {
        match Envelope::parse(body) {
            Err(NotificationError::Envelope { path: found, .. }) => {
                assert_eq!(found, path, "{}", String::from_utf8_lossy(body));
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("{} parsed", String::from_utf8_lossy(body)),
        }
    }
    let mut trailing = good.to_vec();
    trailing.extend_from_slice(b" {}");
    assert!(matches!(
        Envelope::parse(&trailing),
        Err(NotificationError::Envelope { .. })
    ));
}

#[test]
fn signatures_are_checked_first() {
    let decoder = decoder();
    let body = br#"{"id":"EV-1"}"#;
    let error = decoder
        .decode_at::<serde_json::Value>(&HeaderMap::new(), body, 1_700_000_000)
        .unwrap_err();
    assert!(matches!(
        error,
        NotificationError::Signature(VerifyError::MissingHeader { .. })
    ));
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-timestamp", "1700000000"),
        ("wechatpay-nonce", "n"),
        ("wechatpay-signature", "WECHATPAY/SIGNTEST/abc"),
        ("wechatpay-serial", "PUB_KEY_ID_X"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    let error = decoder
        .decode_at::<serde_json::Value>(&headers, body, 1_700_000_000)
        .unwrap_err();
    assert!(matches!(
        error,
        NotificationError::Signature(VerifyError::UnknownSerial { .. })
    ));
    assert_eq!(error.reply().status(), StatusCode::UNAUTHORIZED);
    let request = http::Request::builder()
        .method("POST")
        .body(body.to_vec())
        .unwrap();
    assert!(
        decoder
            .decode_request::<serde_json::Value, _>(&request)
            .unwrap_err()
            .is_signature()
    );
}

#[test]
fn debug_shows_no_key() {
    let text = format!("{:?}", decoder());
    assert!(!text.contains(API_V3_KEY), "{text}");
    assert!(text.contains("redacted"), "{text}");
}

#[test]
fn shorten_cuts_on_characters() {
    assert_eq!(shorten("abc", 5), "abc");
    assert_eq!(shorten("abcdef", 3), "abc…");
    assert_eq!(shorten("算法算法", 2), "算法…");
}

#[test]
fn a_body_over_the_limit_is_refused_before_anything_else() {
    let decoder = decoder();
    assert_eq!(decoder.max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
    let small = decoder.clone().with_max_body_bytes(10);
    assert_eq!(small.max_body_bytes(), 10);
    // No signature headers at all: the size is what is reported.
    let error = small
        .decode::<serde_json::Value>(&HeaderMap::new(), b"01234567890")
        .unwrap_err();
    assert!(
        matches!(
            error,
            NotificationError::BodyTooLarge {
                limit: 10,
                length: 11
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error.reply().message(), Some("body too large"));
    assert!(error.to_string().contains("with_max_body_bytes"), "{error}");
    // At the limit, the signature check comes next.
    let error = small
        .decode::<serde_json::Value>(&HeaderMap::new(), b"0123456789")
        .unwrap_err();
    assert!(error.is_signature(), "{error:?}");
    // The default decoder is unchanged, and has a replay cache of its own.
    assert_eq!(decoder.max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
    assert!(decoder.replay_cache().is_some());
    assert!(decoder.without_replay_cache().replay_cache().is_none());
}
