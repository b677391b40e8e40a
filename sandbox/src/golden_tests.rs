//! Known-answer checks against `shared/vectors/golden.json` (computed with
//! the official Node SDK's library): the sandbox must accept the vectors'
//! request signatures and reproduce their response signatures byte for
//! byte. Skipped when the vectors are not beside this checkout.

use std::path::PathBuf;

use axum::http::HeaderValue;
use serde_json::Value;

use crate::auth::{self, Expected, ReceivedRequest};
use crate::config::SandboxConfig;
use crate::credentials;
use crate::signing::sign_message;

fn vectors() -> Option<(PathBuf, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
    let text = std::fs::read_to_string(dir.join("golden.json")).ok()?;
    Some((
        dir,
        serde_json::from_str(&text).expect("golden.json is JSON"),
    ))
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing"))
}

#[test]
fn golden_requests_verify_and_golden_responses_are_reproduced() {
    let Some((dir, golden)) = vectors() else {
        eprintln!("shared/vectors not found; skipping");
        return;
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("vector key");
    let merchant = &golden["merchant"];
    let config = SandboxConfig {
        mchid: Some(text(merchant, "mchid").to_owned()),
        merchant_serial: Some(text(merchant, "serial").to_owned()),
        merchant_private_key_pem: Some(read(text(merchant, "key"))),
        platform_private_key_pem: Some(read(text(&golden, "platform_key"))),
        ..SandboxConfig::default()
    };
    let (credentials, keys) = credentials::build(&config).expect("vector keys load");
    let expected = Expected {
        mchid: &credentials.mchid,
        serial_no: &credentials.merchant_serial,
        merchant_key: &keys.merchant_key,
    };

    let requests = golden["requests"].as_array().expect("requests");
    assert!(!requests.is_empty());
    for request in requests {
        let authorization =
            HeaderValue::from_str(text(request, "authorization")).expect("header value");
        let timestamp: i64 = text(request, "timestamp").parse().expect("timestamp");
        let received = ReceivedRequest {
            method: text(request, "method"),
            target: text(request, "uri"),
            body: text(request, "body").as_bytes(),
            authorization: Some(&authorization),
        };
        if let Err(error) = auth::verify(&expected, &received, timestamp) {
            panic!("{}: {}", text(request, "uri"), error.message);
        }
        // The same request a day later is refused for its age, not its signature.
        let error = auth::verify(&expected, &received, timestamp + 86_400).expect_err("stale");
        assert!(
            error.message.contains("86400 s behind"),
            "{}",
            error.message
        );
    }

    let responses = golden["responses"].as_array().expect("responses");
    assert!(!responses.is_empty());
    for response in responses {
        let message = text(response, "message");
        let expected_message = format!(
            "{}\n{}\n{}\n",
            text(response, "timestamp"),
            text(response, "nonce"),
            text(response, "body")
        );
        assert_eq!(message, expected_message);
        let signature = sign_message(&keys.platform_key, message.as_bytes()).expect("signs");
        assert_eq!(signature, text(response, "signature"));
    }
}
