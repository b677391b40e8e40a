//! wxpay's own client against the sandbox's fault knobs and control
//! endpoint: retries ride out injected 429/500 answers, forged-looking
//! answers are typed errors and never accepted, a rotation mid-run is
//! survived, latency meets the client's timeout; and a callback the
//! sandbox delivers decodes with `NotificationDecoder`.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use wxpay::api::v3::marketing::favor::stocks::Get as ListStocks;
use wxpay::notification::resources::Transaction;
use wxpay::retry::Jitter;
use wxpay::{
    ApiV3Key, Client, Error, EventType, NotificationDecoder, PlatformCertificate, RetryPolicy,
    Verifier, VerifyError, VerifyingKey,
};
use wxpay_sandbox::{CallbackOutcome, Faults, Sandbox, SandboxConfig};

fn list(mchid: &str) -> ListStocks {
    ListStocks {
        offset: 0,
        limit: 10,
        stock_creator_mchid: mchid.into(),
        create_start_time: None,
        create_end_time: None,
        status: None,
    }
}

/// Retries enabled explicitly: the client does not retry against a
/// non-WeChat Pay base URL by default.
fn patient() -> RetryPolicy {
    RetryPolicy::new()
        .with_max_attempts(12)
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(5))
        .with_max_elapsed(Duration::from_secs(20))
        .with_jitter(Jitter::None)
}

fn patient_client(sandbox: &Sandbox) -> Client {
    support::sandbox_builder(sandbox)
        .retry(patient())
        .build()
        .expect("client")
}

/// A plain request to the sandbox's control endpoint.
async fn control(
    sandbox: &Sandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client.request(method, format!("{}{path}", sandbox.base_url()));
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("control endpoint reachable");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    let body = response.bytes().await.expect("body");
    serde_json::from_slice(&body).expect("JSON answer")
}

#[tokio::test]
async fn retries_ride_out_injected_429_and_500_answers() {
    let sandbox = Sandbox::start().await.unwrap();
    let mchid = sandbox.credentials().mchid.clone();

    // Without a policy the client does not retry against a sandbox: the
    // first injected error ends the call.
    sandbox.set_faults(Faults {
        share_500: 1.0,
        ..Faults::default()
    });
    let err = support::sandbox_client(&sandbox)
        .send(list(&mchid))
        .await
        .unwrap_err();
    let api = err.as_api().expect("an API error");
    assert_eq!(
        (api.status.as_u16(), api.code.as_str()),
        (500, "SYSTEM_ERROR")
    );
    assert!(api.authenticated, "injected errors are signed: {err}");
    assert_eq!(err.attempts(), Some(1));

    // With one, every attempt fails at a share of 1.0…
    let client = patient_client(&sandbox);
    let err = client.send(list(&mchid)).await.unwrap_err();
    assert_eq!(err.attempts(), Some(12), "{err}");

    // …and at 0.3 each call gets through (0.3¹² ≈ 5e-7 per call).
    for (share_429, share_500) in [(0.3, 0.0), (0.0, 0.3), (0.15, 0.15)] {
        sandbox.set_faults(Faults {
            share_429,
            share_500,
            ..Faults::default()
        });
        for _ in 0..20 {
            client
                .send(list(&mchid))
                .await
                .expect("retries ride out the injected errors");
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn probe_and_unsigned_answers_are_typed_errors_never_accepted() {
    let sandbox = Sandbox::start().await.unwrap();
    let mchid = sandbox.credentials().mchid.clone();
    // Even with retries on: a forged-looking answer is not retried.
    let client = patient_client(&sandbox);

    sandbox.set_faults(Faults {
        signtest_share: 1.0,
        ..Faults::default()
    });
    let err = client.send(list(&mchid)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Verification {
                source: VerifyError::Probe,
                ..
            }
        ),
        "{err:?}"
    );
    sandbox.set_faults(Faults {
        unsigned_share: 1.0,
        ..Faults::default()
    });
    let err = client.send(list(&mchid)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Verification {
                source: VerifyError::MissingHeader { .. },
                ..
            }
        ),
        "{err:?}"
    );

    // Mixed: every call either verifies or fails with exactly these errors.
    sandbox.set_faults(Faults {
        signtest_share: 0.3,
        unsigned_share: 0.3,
        ..Faults::default()
    });
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..60 {
        match client.send(list(&mchid)).await {
            Ok(_) => accepted += 1,
            Err(Error::Verification {
                source: VerifyError::Probe | VerifyError::MissingHeader { .. },
                ..
            }) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(accepted > 0 && refused > 0, "{accepted} / {refused}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_rotation_through_the_control_endpoint_is_survived_in_certificate_mode() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials = sandbox.credentials();
    let client = support::certificate_builder(&sandbox).build().unwrap();
    let mchid = credentials.mchid.clone();
    client.send(list(&mchid)).await.expect("bootstrap");

    // Calls in flight while the certificate rotates.
    let mut calls = Vec::new();
    for _ in 0..4 {
        let (client, mchid) = (client.clone(), mchid.clone());
        calls.push(tokio::spawn(async move {
            for _ in 0..5 {
                client.send(list(&mchid)).await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok::<_, Error>(())
        }));
    }
    let rotated = control(&sandbox, reqwest::Method::POST, "/_sandbox/rotate", None).await;
    let serial = rotated["serial"].as_str().expect("serial").to_owned();
    for call in calls {
        call.await
            .unwrap()
            .expect("calls around the rotation verify");
    }
    for _ in 0..5 {
        client
            .send(list(&mchid))
            .await
            .expect("calls keep verifying after the rotation");
    }
    let serials: Vec<String> = client
        .verifier()
        .serials()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(serials.contains(&serial), "{serials:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn latency_beyond_the_client_timeout_is_a_timeout_error() {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials();
    let client = support::sandbox_builder(&sandbox)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mchid = credentials.mchid.clone();
    // Set through the control endpoint, as a tool outside the test would.
    control(
        &sandbox,
        reqwest::Method::PUT,
        "/_sandbox/faults",
        Some(json!({"latency_ms": 1500})),
    )
    .await;
    let err = client.send(list(&mchid)).await.unwrap_err();
    match err {
        Error::Timeout {
            after, attempts, ..
        } => {
            assert_eq!(after, Duration::from_millis(300));
            assert_eq!(attempts, 1);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // Within the timeout, the slow answer is fine.
    sandbox.set_faults(Faults {
        latency_ms: 50,
        ..Faults::default()
    });
    client.send(list(&mchid)).await.expect("slow but in time");
    sandbox.shutdown().await;
}

/// A merchant's callback route: decodes with `decoder`, records the
/// outcome, answers what the decoder says.
async fn receive_callbacks(
    decoder: NotificationDecoder,
) -> (
    String,
    Arc<Mutex<Vec<Result<wxpay::Notification<Transaction>, String>>>>,
) {
    let decoded = Arc::new(Mutex::new(Vec::new()));
    let log = decoded.clone();
    let decoder = Arc::new(decoder);
    let app = axum::Router::new().route(
        "/notify/transaction",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (decoder, log) = (decoder.clone(), log.clone());
            async move {
                let result = decoder.decode::<Transaction>(&headers, &body);
                let reply = match &result {
                    Ok(_) => wxpay::NotificationReply::success(),
                    Err(error) => error.reply(),
                };
                log.lock()
                    .unwrap()
                    .push(result.map_err(|error| wxpay::Report::new(&error).to_string()));
                reply
                    .into_http()
                    .map(axum::body::Body::from)
                    .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/notify/transaction",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, decoded)
}

fn paid(out_trade_no: &str, mchid: &str) -> Value {
    json!({
        "appid": "wxd678efh567hg6787",
        "mchid": mchid,
        "out_trade_no": out_trade_no,
        "transaction_id": "4200000000202611270000000001",
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": "2026-11-27T10:34:56+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"}
    })
}

async fn wait_decoded(
    decoded: &Mutex<Vec<Result<wxpay::Notification<Transaction>, String>>>,
) -> Result<wxpay::Notification<Transaction>, String> {
    for _ in 0..500 {
        if let Some(first) = decoded.lock().unwrap().first() {
            return first.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no callback arrived within 5 s");
}

#[tokio::test]
async fn notification_decoder_reads_what_the_sandbox_delivers() {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials();
    let mut verifier = Verifier::new();
    verifier.add_public_key(
        &credentials.public_key_id,
        VerifyingKey::from_public_key_pem(&credentials.platform_public_key_pem).unwrap(),
    );
    let decoder =
        NotificationDecoder::new(verifier, ApiV3Key::new(&credentials.apiv3_key).unwrap());
    let (url, decoded) = receive_callbacks(decoder).await;

    let answer = control(
        &sandbox,
        reqwest::Method::POST,
        "/_sandbox/notify",
        Some(json!({
            "event_type": "TRANSACTION.SUCCESS",
            "notify_url": url,
            "resource": paid("order-e2e-1", &credentials.mchid),
        })),
    )
    .await;
    let id = answer["id"].as_str().expect("id").to_owned();

    let notification = wait_decoded(&decoded)
        .await
        .expect("the decoder accepts it");
    assert_eq!(notification.id, id);
    assert_eq!(notification.event_type, EventType::TransactionSuccess);
    assert_eq!(notification.resource_type, "encrypt-resource");
    assert_eq!(notification.summary, "支付成功");
    assert_eq!(notification.original_type, "transaction");
    assert_eq!(notification.resource.out_trade_no, "order-e2e-1");
    assert_eq!(notification.resource.amount.total, 100);
    assert!(notification.resource.is_success());

    // The decoder's 204 counts as delivered.
    for _ in 0..200 {
        let attempts = sandbox.callback_attempts();
        if let Some(attempt) = attempts.iter().find(|a| a.notification_id == id) {
            assert_eq!(attempt.outcome, CallbackOutcome::Delivered, "{attempt:?}");
            assert_eq!(attempt.status, Some(204));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn notification_decoder_reads_certificate_mode_callbacks_and_refuses_a_wrong_key() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        certificate_mode: true,
        callback_retry_delays: Some(vec![Duration::from_millis(50)]),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials = sandbox.credentials();
    let mut verifier = Verifier::new();
    verifier.add_certificate(
        &PlatformCertificate::from_pem(&credentials.platform_certificate_pem).unwrap(),
    );
    let decoder =
        NotificationDecoder::new(verifier, ApiV3Key::new(&credentials.apiv3_key).unwrap());
    let (url, decoded) = receive_callbacks(decoder).await;
    control(
        &sandbox,
        reqwest::Method::POST,
        "/_sandbox/notify",
        Some(json!({
            "event_type": "TRANSACTION.SUCCESS",
            "notify_url": url,
            "resource": paid("order-e2e-2", &credentials.mchid),
        })),
    )
    .await;
    let notification = wait_decoded(&decoded)
        .await
        .expect("certificate mode decodes");
    assert_eq!(notification.resource.out_trade_no, "order-e2e-2");

    // A merchant with the wrong APIv3 key refuses it, and the sandbox
    // records the failure answer and retries.
    let mut verifier = Verifier::new();
    verifier.add_certificate(
        &PlatformCertificate::from_pem(&credentials.platform_certificate_pem).unwrap(),
    );
    let wrong = NotificationDecoder::new(
        verifier,
        ApiV3Key::new("0123456789abcdef0123456789abcdef").unwrap(),
    );
    let (url, refused) = receive_callbacks(wrong).await;
    let answer = control(
        &sandbox,
        reqwest::Method::POST,
        "/_sandbox/notify",
        Some(json!({
            "event_type": "TRANSACTION.SUCCESS",
            "notify_url": url,
            "resource": paid("order-e2e-3", &credentials.mchid),
        })),
    )
    .await;
    let id = answer["id"].as_str().unwrap().to_owned();
    wait_decoded(&refused).await.expect_err("wrong APIv3 key");
    for _ in 0..500 {
        let attempts: Vec<_> = sandbox
            .callback_attempts()
            .into_iter()
            .filter(|a| a.notification_id == id)
            .collect();
        if attempts.len() == 2 {
            assert!(attempts.iter().all(|a| a.status.is_some_and(|s| s >= 400)));
            assert_eq!(attempts[1].outcome, CallbackOutcome::GaveUp);
            sandbox.shutdown().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the refused callback was not retried and given up");
}

#[tokio::test]
async fn notification_decoder_refuses_a_probe_and_takes_the_resent_callback() {
    let sandbox = Sandbox::start_with(SandboxConfig {
        callback_retry_delays: Some(vec![Duration::from_millis(300)]),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials = sandbox.credentials();
    let mut verifier = Verifier::new();
    verifier.add_public_key(
        &credentials.public_key_id,
        VerifyingKey::from_public_key_pem(&credentials.platform_public_key_pem).unwrap(),
    );
    let decoder =
        NotificationDecoder::new(verifier, ApiV3Key::new(&credentials.apiv3_key).unwrap());
    let (url, decoded) = receive_callbacks(decoder).await;

    // The first attempt carries a WECHATPAY/SIGNTEST/ probe…
    sandbox.set_faults(Faults {
        callback_signtest_share: 1.0,
        ..Faults::default()
    });
    let answer = control(
        &sandbox,
        reqwest::Method::POST,
        "/_sandbox/notify",
        Some(json!({
            "event_type": "TRANSACTION.SUCCESS",
            "notify_url": url,
            "resource": paid("order-probe-1", &credentials.mchid),
        })),
    )
    .await;
    let id = answer["id"].as_str().unwrap().to_owned();
    let refused = wait_decoded(&decoded)
        .await
        .expect_err("a probe is refused");
    assert!(refused.to_lowercase().contains("probe"), "{refused}");
    // …the retry a real signature.
    sandbox.set_faults(Faults::default());
    for _ in 0..500 {
        let attempts: Vec<_> = sandbox
            .callback_attempts()
            .into_iter()
            .filter(|a| a.notification_id == id)
            .collect();
        if attempts.len() == 2 {
            assert!(attempts[0].status.is_some_and(|s| s >= 400), "{attempts:?}");
            assert_eq!(attempts[1].outcome, CallbackOutcome::Delivered);
            let second = decoded.lock().unwrap()[1].clone();
            let notification = second.expect("the resent callback decodes");
            assert_eq!(notification.id, id);
            assert_eq!(notification.resource.out_trade_no, "order-probe-1");
            sandbox.shutdown().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the probe was not followed by a real callback");
}
