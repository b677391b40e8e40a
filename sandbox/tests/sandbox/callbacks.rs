//! Callback delivery: the body, its encryption and signature, retries on
//! a (compressed) schedule, giving up, the delivery log.

use std::time::Duration;

use serde_json::{Value, json};
use wxpay_sandbox::{CallbackOutcome, Sandbox, SandboxConfig};

use crate::common::{SCHEME, now, test_keys};
use crate::receiver::{Behaviour, Receiver, closed_url, control, decrypt, notify, wait_for_end};

async fn sandbox_with(config: SandboxConfig) -> Sandbox {
    let keys = test_keys();
    Sandbox::start_with(SandboxConfig {
        merchant_private_key_pem: Some(keys.merchant_private_key_pem.clone()),
        platform_private_key_pem: Some(keys.platform_private_key_pem.clone()),
        ..config
    })
    .await
    .expect("sandbox starts")
}

fn transaction(out_trade_no: &str) -> Value {
    json!({
        "mchid": "1900000001",
        "appid": "wxd678efh567hg6787",
        "out_trade_no": out_trade_no,
        "transaction_id": "4200000000000000000000000001",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-11-27T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"}
    })
}

fn is_alphanumeric_12(nonce: &str) -> bool {
    nonce.len() == 12 && nonce.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[tokio::test]
async fn a_callback_arrives_signed_and_encrypted_in_public_key_mode() {
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    let credentials = sandbox.credentials();
    let receiver = Receiver::start(vec![]).await;
    let resource = transaction("callback-1");
    let id = notify(&sandbox, &receiver.url, &resource).await;

    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    let callback = &received[0];
    assert_eq!(callback.header("content-type"), "application/json");
    assert_eq!(callback.header("wechatpay-signature-type"), SCHEME);
    assert_eq!(
        callback.header("wechatpay-serial"),
        credentials.public_key_id
    );
    let timestamp: i64 = callback
        .header("wechatpay-timestamp")
        .parse()
        .expect("number");
    assert!((timestamp - now()).abs() <= 5);
    callback
        .verify(&credentials.platform_public_key_pem)
        .expect("signed by the platform key over TIMESTAMP\\nNONCE\\nBODY\\n");

    let body = callback.json();
    assert_eq!(body["id"], id);
    assert!(id.starts_with("EV-"), "{id}");
    assert!(
        body["create_time"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00") && t.len() == 25),
        "{body}"
    );
    assert_eq!(body["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(body["resource_type"], "encrypt-resource");
    assert_eq!(body["summary"], "支付成功");
    let encrypted = &body["resource"];
    assert_eq!(encrypted["algorithm"], "AEAD_AES_256_GCM");
    assert_eq!(encrypted["original_type"], "transaction");
    assert_eq!(encrypted["associated_data"], "transaction");
    assert!(is_alphanumeric_12(
        encrypted["nonce"].as_str().expect("nonce")
    ));
    let clear = decrypt(&credentials.apiv3_key, encrypted);
    assert_eq!(
        serde_json::from_slice::<Value>(&clear).expect("JSON"),
        resource
    );

    let attempts = wait_for_end(&sandbox, &id, Duration::from_secs(5)).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    let attempt = &attempts[0];
    assert_eq!(attempt.attempt, 1);
    assert_eq!(attempt.status, Some(204));
    assert_eq!(attempt.outcome, CallbackOutcome::Delivered);
    assert_eq!(attempt.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(attempt.notify_url, receiver.url);
    assert!(attempt.error.is_none());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn certificate_mode_callbacks_carry_the_newest_certificate() {
    let sandbox = sandbox_with(SandboxConfig {
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await;
    let credentials = sandbox.credentials().clone();
    let receiver = Receiver::start(vec![]).await;

    notify(&sandbox, &receiver.url, &transaction("cert-1")).await;
    let first = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        first[0].header("wechatpay-serial"),
        credentials.platform_certificate_serial
    );
    first[0]
        .verify_with_certificate(&credentials.platform_certificate_pem)
        .expect("signed with the certificate's key");

    // Rotate through the control endpoint: the next callback is signed
    // with the new certificate's key and names its serial.
    let rotated = control(&sandbox, "POST", "/_sandbox/rotate", None).await;
    assert_eq!(rotated.status, 200);
    let rotated = rotated.json();
    let serial = rotated["serial"].as_str().expect("serial").to_owned();
    let certificate_pem = rotated["certificate_pem"].as_str().expect("pem");
    notify(&sandbox, &receiver.url, &transaction("cert-2")).await;
    let second = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(second[1].header("wechatpay-serial"), serial);
    second[1]
        .verify_with_certificate(certificate_pem)
        .expect("signed with the new certificate's key");
    assert!(
        second[1]
            .verify_with_certificate(&credentials.platform_certificate_pem)
            .is_err()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_failing_receiver_gets_it_on_the_third_attempt() {
    let delays = vec![Duration::from_millis(200), Duration::from_millis(400)];
    let timeout = Duration::from_millis(300);
    let sandbox = sandbox_with(SandboxConfig {
        callback_retry_delays: Some(delays.clone()),
        callback_timeout: Some(timeout),
        ..SandboxConfig::default()
    })
    .await;
    // A 500, then an answer that comes too late, then success.
    let receiver = Receiver::start(vec![
        Behaviour::Status(500),
        Behaviour::Hang(Duration::from_secs(2)),
    ])
    .await;
    let id = notify(&sandbox, &receiver.url, &transaction("retry-1")).await;
    let attempts = wait_for_end(&sandbox, &id, Duration::from_secs(15)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 3, "{attempts:?}");
    assert_eq!(attempts.len(), 3, "{attempts:?}");

    assert_eq!(attempts[0].status, Some(500));
    assert_eq!(
        attempts[0].outcome,
        CallbackOutcome::Retrying { after: delays[0] }
    );
    assert!(
        attempts[0]
            .answer
            .as_deref()
            .is_some_and(|a| a.contains("FAIL")),
        "{:?}",
        attempts[0]
    );
    assert_eq!(attempts[1].status, None);
    let error = attempts[1].error.as_deref().expect("an error");
    assert!(error.contains("timed out"), "{error}");
    assert!(attempts[1].duration >= timeout);
    assert_eq!(
        attempts[1].outcome,
        CallbackOutcome::Retrying { after: delays[1] }
    );
    assert_eq!(attempts[2].status, Some(204));
    assert_eq!(attempts[2].outcome, CallbackOutcome::Delivered);
    assert_eq!(
        attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );

    // Spacing follows the schedule: each wait counts from the end of the
    // failed attempt (the second one lasted the whole timeout).
    let gap1 = received[1].at - received[0].at;
    let gap2 = received[2].at - received[1].at;
    assert!(gap1 >= delays[0], "{gap1:?}");
    assert!(gap1 < delays[0] + Duration::from_secs(2), "{gap1:?}");
    assert!(gap2 >= delays[1] + timeout, "{gap2:?}");
    assert!(
        gap2 < delays[1] + timeout + Duration::from_secs(2),
        "{gap2:?}"
    );
    for attempt in &attempts[1..] {
        let previous = &attempts[attempt.attempt as usize - 2];
        let waited = attempt
            .started_at
            .duration_since(previous.started_at + previous.duration)
            .expect("later");
        assert!(
            waited + Duration::from_millis(5) >= delays[attempt.attempt as usize - 2],
            "{waited:?}"
        );
    }

    // The same notification every time, signed afresh.
    let bodies: Vec<Value> = received.iter().map(|r| r.json()).collect();
    assert!(bodies.iter().all(|b| b["id"] == id));
    assert_eq!(bodies[0], bodies[2]);
    assert_ne!(
        received[0].header("wechatpay-nonce"),
        received[2].header("wechatpay-nonce")
    );
    for callback in &received {
        callback
            .verify(&sandbox.credentials().platform_public_key_pem)
            .expect("every attempt is signed");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_closed_port_is_given_up_after_the_schedule() {
    let delays = vec![Duration::from_millis(50), Duration::from_millis(100)];
    let sandbox = sandbox_with(SandboxConfig {
        callback_retry_delays: Some(delays.clone()),
        ..SandboxConfig::default()
    })
    .await;
    let url = closed_url();
    let id = notify(&sandbox, &url, &transaction("closed-1")).await;
    let attempts = wait_for_end(&sandbox, &id, Duration::from_secs(10)).await;
    assert_eq!(attempts.len(), delays.len() + 1, "{attempts:?}");
    for attempt in &attempts {
        assert_eq!(attempt.status, None);
        assert!(attempt.error.is_some(), "{attempt:?}");
        assert_eq!(attempt.notify_url, url);
    }
    assert_eq!(
        attempts[0].outcome,
        CallbackOutcome::Retrying { after: delays[0] }
    );
    assert_eq!(attempts[2].outcome, CallbackOutcome::GaveUp);

    // The log over HTTP says the same.
    let log = control(&sandbox, "GET", "/_sandbox/callbacks", None).await;
    assert_eq!(log.status, 200);
    let entries: Vec<Value> = log.json()["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter(|entry| entry["notification_id"] == id)
        .cloned()
        .collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["outcome"], "retrying");
    assert_eq!(entries[0]["retry_after_ms"], 50);
    assert_eq!(entries[2]["outcome"], "gave_up");
    assert_eq!(entries[2]["attempt"], 3);
    assert!(entries[2]["status"].is_null());
    assert!(entries[2]["error"].is_string());
    assert!(
        entries[2]["time"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00")),
        "{}",
        entries[2]
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_pending_deliveries() {
    let sandbox = sandbox_with(SandboxConfig {
        callback_retry_delays: Some(vec![Duration::from_millis(300)]),
        ..SandboxConfig::default()
    })
    .await;
    let receiver = Receiver::start(vec![Behaviour::Status(503)]).await;
    notify(&sandbox, &receiver.url, &transaction("stop-1")).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    sandbox.shutdown().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 1, "no retry after shutdown");
}

#[tokio::test]
async fn notify_checks_its_body() {
    let sandbox = sandbox_with(SandboxConfig::default()).await;
    for (body, field) in [
        (r#"{"event_type":"X.Y","resource":{}}"#, "notify_url"),
        (
            r#"{"event_type":"X.Y","notify_url":"ftp://x/","resource":{}}"#,
            "/notify_url",
        ),
        (
            r#"{"event_type":"","notify_url":"http://127.0.0.1:1/","resource":{}}"#,
            "/event_type",
        ),
        (
            r#"{"event_type":"X.Y","notify_url":"http://127.0.0.1:1/","resource":{},"extra":1}"#,
            "/extra",
        ),
    ] {
        let answer = control(&sandbox, "POST", "/_sandbox/notify", Some(body)).await;
        assert_eq!(answer.status, 400, "{body}");
        let json = answer.json();
        assert_eq!(json["code"], "PARAM_ERROR");
        let shown = format!("{}{}", json["detail"]["field"], json["message"]);
        assert!(shown.contains(field), "{body}: {json}");
    }
    // original_type and summary may be given.
    let receiver = Receiver::start(vec![]).await;
    let body = json!({
        "event_type": "COUPON.USE",
        "original_type": "coupon",
        "summary": "custom",
        "notify_url": receiver.url,
        "resource": {"coupon_id": "1"},
    });
    let answer = control(
        &sandbox,
        "POST",
        "/_sandbox/notify",
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(answer.status, 202);
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    let callback = received[0].json();
    assert_eq!(callback["summary"], "custom");
    assert_eq!(callback["resource"]["associated_data"], "coupon");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn callback_probes_are_sent_as_the_share_says_and_retried() {
    let sandbox = sandbox_with(SandboxConfig {
        callback_retry_delays: Some(vec![Duration::from_millis(30), Duration::from_millis(30)]),
        ..SandboxConfig::default()
    })
    .await;
    let credentials = sandbox.credentials().clone();
    sandbox.set_faults(wxpay_sandbox::Faults {
        callback_signtest_share: 1.0,
        ..wxpay_sandbox::Faults::default()
    });
    // A careful merchant refuses every probe.
    let receiver = Receiver::start(vec![Behaviour::Status(401); 3]).await;
    let id = notify(&sandbox, &receiver.url, &transaction("probe-1")).await;
    let attempts = wait_for_end(&sandbox, &id, Duration::from_secs(10)).await;
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert_eq!(attempts[2].outcome, CallbackOutcome::GaveUp);
    for callback in receiver.received() {
        assert!(
            callback
                .header("wechatpay-signature")
                .starts_with("WECHATPAY/SIGNTEST/")
        );
        assert_eq!(
            callback.header("wechatpay-serial"),
            credentials.public_key_id
        );
        assert!(
            callback
                .verify(&credentials.platform_public_key_pem)
                .is_err()
        );
        // The body is the real notification all the same.
        assert_eq!(callback.json()["id"], id);
    }

    // Share 0: real signatures again.
    sandbox.set_faults(wxpay_sandbox::Faults::default());
    let receiver = Receiver::start(vec![]).await;
    notify(&sandbox, &receiver.url, &transaction("probe-2")).await;
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    received[0]
        .verify(&credentials.platform_public_key_pem)
        .expect("signed");
    sandbox.shutdown().await;
}
