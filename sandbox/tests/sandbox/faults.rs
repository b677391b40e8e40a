//! Each fault breaks responses in exactly the advertised way.

use wxpay_sandbox::Faults;

use crate::common::{Merchant, now, sandbox, verify_signature};

fn list_target(merchant: &Merchant) -> String {
    format!(
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid={}",
        merchant.mchid()
    )
}

const SIGNATURE_HEADERS: [&str; 5] = [
    "wechatpay-timestamp",
    "wechatpay-nonce",
    "wechatpay-signature",
    "wechatpay-serial",
    "wechatpay-signature-type",
];

#[tokio::test]
async fn unsigned_responses_drop_the_signature_of_successes_only() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    sandbox.set_faults(Faults {
        unsigned_responses: true,
        ..Faults::default()
    });

    let answer = merchant.get(&list_target(&merchant)).await;
    assert_eq!(answer.status, 200);
    for header in SIGNATURE_HEADERS {
        assert!(answer.header(header).is_none(), "{header} present");
    }
    assert!(answer.header("request-id").is_some());

    let error = merchant.get("/v3/nowhere").await;
    error.assert_error(sandbox.credentials(), 404, "NOT_FOUND");

    sandbox.set_faults(Faults::default());
    merchant
        .get(&list_target(&merchant))
        .await
        .assert_verified(sandbox.credentials());
}

#[tokio::test]
async fn signtest_probe_sends_an_invalid_probe_signature() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    sandbox.set_faults(Faults {
        signtest_probe: true,
        ..Faults::default()
    });
    let answer = merchant.get(&list_target(&merchant)).await;
    assert_eq!(answer.status, 200);
    let signature = answer.header("wechatpay-signature").expect("signature");
    assert!(signature.starts_with("WECHATPAY/SIGNTEST/"), "{signature}");
    assert!(answer.verify(sandbox.credentials()).is_err());
    assert_eq!(
        answer.header("wechatpay-serial"),
        Some(sandbox.credentials().public_key_id.as_str())
    );
}

#[tokio::test]
async fn clock_offset_shifts_the_signed_timestamp() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    sandbox.set_faults(Faults {
        clock_offset_secs: -3600,
        ..Faults::default()
    });
    // Requests are still checked against the real clock: this one passes.
    let answer = merchant.get(&list_target(&merchant)).await;
    assert_eq!(answer.status, 200);
    let timestamp: i64 = answer
        .header("wechatpay-timestamp")
        .expect("timestamp")
        .parse()
        .expect("number");
    assert!((timestamp - (now() - 3600)).abs() <= 5, "{timestamp}");
    // The signature covers the shifted timestamp; only the freshness check fails.
    let error = answer.verify(sandbox.credentials()).expect_err("stale");
    assert!(error.contains("too far"), "{error}");
    let message = [
        answer.header("wechatpay-timestamp").expect("ts").as_bytes(),
        b"\n",
        answer.header("wechatpay-nonce").expect("nonce").as_bytes(),
        b"\n",
        &answer.body,
        b"\n",
    ]
    .concat();
    verify_signature(
        &sandbox.credentials().platform_public_key_pem,
        &message,
        answer.header("wechatpay-signature").expect("signature"),
    )
    .expect("signature over the shifted timestamp");
}

#[tokio::test]
async fn tamper_body_breaks_the_signature_but_not_the_json() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let stock_id = merchant.create_stock("tamper").await;
    let target = format!(
        "/v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid={}",
        merchant.mchid()
    );
    let honest = merchant.get(&target).await;
    sandbox.set_faults(Faults {
        tamper_body: true,
        ..Faults::default()
    });
    let tampered = merchant.get(&target).await;
    assert_eq!(tampered.status, 200);
    let error = tampered
        .verify(sandbox.credentials())
        .expect_err("tampered");
    assert!(error.contains("does not verify"), "{error}");
    let _ = tampered.json();
    assert_eq!(tampered.body.len(), honest.body.len());
    let differing = honest
        .body
        .iter()
        .zip(&tampered.body)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 1);
}

#[tokio::test]
async fn wrong_serial_announces_an_unknown_key() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    sandbox.set_faults(Faults {
        wrong_serial: true,
        ..Faults::default()
    });
    let answer = merchant.get(&list_target(&merchant)).await;
    let serial = answer.header("wechatpay-serial").expect("serial");
    assert_ne!(serial, sandbox.credentials().public_key_id);
    assert!(serial.starts_with("PUB_KEY_ID_"));
    let error = answer
        .verify(sandbox.credentials())
        .expect_err("unknown serial");
    assert!(error.contains("unknown serial"), "{error}");
}

#[tokio::test]
async fn status_override_answers_everything_with_the_error() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let credentials = sandbox.credentials();
    sandbox.set_faults(Faults {
        status_override: Some((500, "SYSTEM_ERROR".into(), "系统繁忙，请稍后重试".into())),
        ..Faults::default()
    });
    let answer = merchant.get(&list_target(&merchant)).await;
    let json = answer.assert_error(credentials, 500, "SYSTEM_ERROR");
    assert_eq!(json["message"], "系统繁忙，请稍后重试");
    // Even an unsigned request to an unknown route.
    let answer = merchant.send_raw("GET", "/nowhere", "", None, None).await;
    answer.assert_error(credentials, 500, "SYSTEM_ERROR");

    sandbox.set_faults(Faults {
        status_override: Some((429, "FREQUENCY_LIMITED".into(), "slow down".into())),
        ..Faults::default()
    });
    merchant
        .get(&list_target(&merchant))
        .await
        .assert_error(credentials, 429, "FREQUENCY_LIMITED");

    sandbox.set_faults(Faults {
        status_override: Some((42, "ODD".into(), "not a status".into())),
        ..Faults::default()
    });
    merchant
        .get(&list_target(&merchant))
        .await
        .assert_error(credentials, 500, "ODD");

    sandbox.set_faults(Faults::default());
    assert_eq!(merchant.get(&list_target(&merchant)).await.status, 200);
}
