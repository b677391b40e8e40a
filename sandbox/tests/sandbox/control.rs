//! The control endpoint: faults over HTTP, rotation, and its immunity to
//! faults.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wxpay_sandbox::{Faults, Sandbox, SandboxConfig};

use crate::common::{Merchant, sandbox, test_keys};
use crate::receiver::control;

fn list_target(merchant: &Merchant) -> String {
    format!(
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={}",
        merchant.mchid()
    )
}

#[tokio::test]
async fn faults_round_trip_through_get_and_put() {
    let sandbox = sandbox().await;
    let answer = control(&sandbox, "GET", "/_sandbox/faults", None).await;
    assert_eq!(answer.status, 200);
    let defaults = answer.json();
    assert_eq!(defaults["share_500"], 0.0);
    assert_eq!(defaults["status_override"], Value::Null);
    assert_eq!(defaults["latency_ms"], 0);
    assert!(answer.header("wechatpay-signature").is_none());

    let wanted = json!({
        "share_429": 0.25,
        "share_500": 0.5,
        "signtest_share": 0.1,
        "unsigned_share": 0.2,
        "latency_ms": 5,
        "clock_offset_secs": -10,
        "status_override": {"status": 503, "code": "BUSY", "message": "later"},
    });
    let answer = control(
        &sandbox,
        "PUT",
        "/_sandbox/faults",
        Some(&wanted.to_string()),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let read = control(&sandbox, "GET", "/_sandbox/faults", None)
        .await
        .json();
    for (field, value) in wanted.as_object().expect("object") {
        assert_eq!(&read[field], value, "{field}");
    }
    assert_eq!(read["tamper_body"], false);
    assert_eq!(
        sandbox.faults(),
        Faults {
            share_429: 0.25,
            share_500: 0.5,
            signtest_share: 0.1,
            unsigned_share: 0.2,
            latency_ms: 5,
            clock_offset_secs: -10,
            status_override: Some((503, "BUSY".into(), "later".into())),
            ..Faults::default()
        }
    );

    // A PUT replaces everything: missing fields return to their default.
    let answer = control(&sandbox, "PUT", "/_sandbox/faults", Some("{}")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(sandbox.faults(), Faults::default());
}

#[tokio::test]
async fn bad_fault_json_is_refused_naming_the_field() {
    let sandbox = sandbox().await;
    sandbox.set_faults(Faults {
        tamper_body: true,
        ..Faults::default()
    });
    for (body, field) in [
        (r#"{"share_5OO":0.5}"#, "/share_5OO"),
        (r#"{"share_500":"half"}"#, "/share_500"),
        (r#"{"share_429":1.5}"#, "/share_429"),
        (r#"{"signtest_share":-0.5}"#, "/signtest_share"),
        (r#"{"latency_ms":-1}"#, "/latency_ms"),
        (
            r#"{"status_override":{"status":500,"cod":"X"}}"#,
            "/status_override/cod",
        ),
        ("not json", ""),
    ] {
        let answer = control(&sandbox, "PUT", "/_sandbox/faults", Some(body)).await;
        assert_eq!(answer.status, 400, "{body}");
        let json = answer.json();
        assert_eq!(json["code"], "PARAM_ERROR", "{body}");
        assert_eq!(json["detail"]["field"], field, "{body}: {json}");
        if !field.is_empty() {
            let name = field.rsplit('/').next().expect("name");
            assert!(
                json["message"].as_str().is_some_and(|m| m.contains(name)),
                "{body}: {json}"
            );
        }
    }
    // Nothing changed.
    assert_eq!(
        sandbox.faults(),
        Faults {
            tamper_body: true,
            ..Faults::default()
        }
    );
    let invalid = Faults {
        share_500: f64::NAN,
        ..Faults::default()
    };
    assert!(sandbox.try_set_faults(invalid).is_err());
}

#[tokio::test]
async fn control_routes_are_not_affected_by_faults() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let faults = json!({
        "status_override": {"status": 500, "code": "SYSTEM_ERROR", "message": "down"},
        "share_500": 1.0,
        "share_429": 1.0,
        "latency_ms": 1500,
        "tamper_body": true,
    });
    let answer = control(
        &sandbox,
        "PUT",
        "/_sandbox/faults",
        Some(&faults.to_string()),
    )
    .await;
    assert_eq!(answer.status, 200);
    // The API suffers them…
    let started = Instant::now();
    let api = merchant.get(&list_target(&merchant)).await;
    assert_eq!(api.status, 500);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    // …the control endpoint does not: no latency, no signature, no error.
    let started = Instant::now();
    let answer = control(&sandbox, "GET", "/_sandbox/faults", None).await;
    assert!(started.elapsed() < Duration::from_millis(1000));
    assert_eq!(answer.status, 200);
    assert!(answer.header("wechatpay-signature").is_none());
    assert_eq!(answer.json()["share_500"], 1.0);
    let answer = control(&sandbox, "GET", "/_sandbox/callbacks", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"attempts": []}));
    // …so the faults can always be switched off.
    let answer = control(&sandbox, "PUT", "/_sandbox/faults", Some("{}")).await;
    assert_eq!(answer.status, 200);
    let api = merchant.get(&list_target(&merchant)).await;
    assert_eq!(api.status, 200);
    api.assert_verified(sandbox.credentials());

    // An unknown control route is a plain 404.
    let answer = control(&sandbox, "GET", "/_sandbox/nothing", None).await;
    assert_eq!(answer.status, 404);
    assert!(answer.message().contains("/_sandbox/faults"));
}

#[tokio::test]
async fn rotation_through_the_control_endpoint_changes_the_serial() {
    let keys = test_keys();
    let sandbox = Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let merchant = Merchant::new(&sandbox);
    let before = merchant.get(&list_target(&merchant)).await;
    assert_eq!(
        before.header("wechatpay-serial"),
        Some(sandbox.credentials().platform_certificate_serial.as_str())
    );

    let answer = control(&sandbox, "POST", "/_sandbox/rotate", None).await;
    assert_eq!(answer.status, 200);
    assert!(!String::from_utf8_lossy(&answer.body).contains("PRIVATE KEY"));
    let rotated = answer.json();
    let serial = rotated["serial"].as_str().expect("serial");
    assert_eq!(serial.len(), 40);
    assert_ne!(serial, sandbox.credentials().platform_certificate_serial);
    assert!(
        rotated["certificate_pem"]
            .as_str()
            .is_some_and(|pem| pem.starts_with("-----BEGIN CERTIFICATE-----"))
    );

    let after = merchant.get(&list_target(&merchant)).await;
    assert_eq!(after.header("wechatpay-serial"), Some(serial));
    assert_eq!(sandbox.platform_certificates()[0].0, serial);
    sandbox.shutdown().await;
}
