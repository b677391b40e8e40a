//! Trust that follows WeChat Pay: a certificate download replaces the
//! certificates of the previous one (configured keys stay), and a callback
//! naming an unknown serial never queues behind a download in flight nor
//! starts one for a serial no certificate could have.
//!
//! WeChat Pay is played by a canned server; the sandbox only makes the
//! certificates (each rotation is a fresh key and certificate).

use crate::support;

use std::time::{Duration, Instant};

use support::{Canned, CannedServer};
use wxpay::http::HeaderMap;
use wxpay::{ApiV3Key, Client, MerchantKey, NotificationDecoder, NotificationError, VerifyError};
use wxpay_sandbox::{Credentials, RotatedCertificate, Sandbox};

/// The sandbox's merchant credentials and three fresh platform
/// certificates with their private keys.
async fn certificates() -> (Credentials, [RotatedCertificate; 3]) {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let made = [
        sandbox.rotate_platform_certificate().unwrap(),
        sandbox.rotate_platform_certificate().unwrap(),
        sandbox.rotate_platform_certificate().unwrap(),
    ];
    let credentials = sandbox.credentials().clone();
    sandbox.shutdown().await;
    (credentials, made)
}

/// A `GET /v3/certificates` answer listing `listed`, signed by `signer`.
fn listing(
    credentials: &Credentials,
    listed: &[&RotatedCertificate],
    signer: &RotatedCertificate,
) -> Canned {
    let apiv3 = ApiV3Key::new(&credentials.apiv3_key).unwrap();
    let data: Vec<serde_json::Value> = listed
        .iter()
        .map(|certificate| {
            let nonce = "certnonce012";
            let ciphertext = apiv3
                .encrypt(nonce, "certificate", certificate.certificate_pem.as_bytes())
                .unwrap();
            serde_json::json!({
                "serial_no": certificate.serial,
                "effective_time": "2020-01-01T00:00:00+08:00",
                "expire_time": "2040-01-01T00:00:00+08:00",
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                    "associated_data": "certificate", "ciphertext": ciphertext
                }
            })
        })
        .collect();
    let body = serde_json::json!({ "data": data }).to_string();
    let key = MerchantKey::from_pem(&signer.private_key_pem).unwrap();
    Canned::signed(200, &body, &key, &signer.serial)
}

/// A certificate-mode client of `base_url` for the sandbox's merchant,
/// configured with the sandbox's public key and with `configured` as a
/// certificate given to the builder.
fn client(credentials: &Credentials, base_url: &str, configured: &RotatedCertificate) -> Client {
    Client::builder()
        .base_url(base_url)
        .mchid(&credentials.mchid)
        .merchant_key_pem(
            &credentials.merchant_serial,
            &credentials.merchant_private_key_pem,
        )
        .wechatpay_public_key_pem(
            &credentials.public_key_id,
            &credentials.platform_public_key_pem,
        )
        .platform_certificate_pem(configured.certificate_pem.clone())
        .apiv3_key(&credentials.apiv3_key)
        .download_platform_certificates()
        .retry(wxpay::RetryPolicy::new().with_max_attempts(1))
        .build()
        .expect("certificate-mode client")
}

/// A callback signed with `key` under `serial`, as WeChat Pay sends one.
fn callback(credentials: &Credentials, key_pem: &str, serial: &str) -> (HeaderMap, String) {
    let apiv3 = ApiV3Key::new(&credentials.apiv3_key).unwrap();
    let ciphertext = apiv3
        .encrypt("0123456789ab", "transaction", br#"{"out_trade_no":"T1"}"#)
        .unwrap();
    let body = serde_json::json!({
        "id": "EV-1", "create_time": "2026-11-27T10:00:00+08:00", "event_type": "TRANSACTION.SUCCESS",
        "resource_type": "encrypt-resource", "summary": "支付成功",
        "resource": {"algorithm": "AEAD_AES_256_GCM", "original_type": "transaction",
                     "ciphertext": ciphertext, "associated_data": "transaction", "nonce": "0123456789ab"}
    })
    .to_string();
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let nonce = "callbacknoncecallbacknoncecallba";
    let signature = MerchantKey::from_pem(key_pem)
        .unwrap()
        .sign_sha256(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes())
        .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("wechatpay-timestamp", timestamp.parse().unwrap());
    headers.insert("wechatpay-nonce", nonce.parse().unwrap());
    headers.insert("wechatpay-signature", signature.parse().unwrap());
    headers.insert("wechatpay-serial", serial.parse().unwrap());
    (headers, body)
}

fn is_unknown_serial(
    result: &Result<wxpay::Notification<serde_json::Value>, NotificationError>,
) -> bool {
    matches!(
        result,
        Err(NotificationError::Signature(
            VerifyError::UnknownSerial { .. }
        ))
    )
}

#[tokio::test]
async fn a_certificate_no_longer_listed_stops_verifying_at_the_next_download() {
    let (credentials, [a, b, configured]) = certificates().await;
    let server = CannedServer::start(vec![
        listing(&credentials, &[&a, &b], &a),
        listing(&credentials, &[&b], &b),
    ])
    .await;
    let client = client(&credentials, &server.base_url, &configured);
    let decoder = NotificationDecoder::from_client(&client).unwrap();
    let (signed_by_a, body) = callback(&credentials, &a.private_key_pem, &a.serial);

    let serials = client.refresh_certificates().await.expect("first download");
    assert!(serials.contains(&a.serial) && serials.contains(&b.serial));
    decoder
        .decode::<serde_json::Value>(&signed_by_a, body.as_bytes())
        .expect("A is trusted while WeChat Pay lists it");

    // WeChat Pay withdrew A: the next download lists only B.
    let serials = client
        .refresh_certificates()
        .await
        .expect("second download");
    assert!(!serials.contains(&a.serial), "{serials:?}");
    let mut expected = vec![
        b.serial.clone(),
        configured.serial.clone(),
        credentials.public_key_id.clone(),
    ];
    expected.sort();
    assert_eq!(
        serials, expected,
        "configured keys stay, B replaces A and B"
    );
    let verifier = client.verifier();
    assert!(verifier.key(&a.serial).is_none());
    assert!(verifier.key(&configured.serial).is_some());
    assert!(verifier.key(&credentials.public_key_id).is_some());

    // An answer signed by A's key now names an unknown serial.
    let result = decoder.decode::<serde_json::Value>(&signed_by_a, body.as_bytes());
    assert!(is_unknown_serial(&result), "{result:?}");

    // Configured keys still verify.
    let (signed_by_configured, body) = callback(
        &credentials,
        &configured.private_key_pem,
        &configured.serial,
    );
    decoder
        .decode::<serde_json::Value>(&signed_by_configured, body.as_bytes())
        .expect("a configured certificate is kept across downloads");
    assert_eq!(server.received.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_callback_with_an_unknown_serial_does_not_queue_behind_a_download() {
    let (credentials, [a, b, configured]) = certificates().await;
    // The download in flight answers after three seconds.
    let server = CannedServer::start_with_delays(vec![(
        Duration::from_secs(3),
        listing(&credentials, &[&a, &b], &a),
    )])
    .await;
    let client = client(&credentials, &server.base_url, &configured);
    let decoder = NotificationDecoder::from_client(&client).unwrap();
    let (headers, body) = callback(&credentials, &b.private_key_pem, &b.serial);

    let downloading = tokio::spawn({
        let client = client.clone();
        async move { client.refresh_certificates().await }
    });
    // Wait until the download has reached the server.
    while server.received.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = Instant::now();
    let result = decoder
        .decode_refreshing::<serde_json::Value>(&headers, body.as_bytes())
        .await;
    let waited = started.elapsed();
    assert!(is_unknown_serial(&result), "{result:?}");
    assert!(
        waited < Duration::from_secs(1),
        "the callback waited {waited:?} for the download in flight"
    );
    let Err(error) = result else { unreachable!() };
    assert!(error.reply().status().is_client_error() || error.reply().status().is_server_error());

    downloading
        .await
        .unwrap()
        .expect("the download itself succeeds");
    // WeChat Pay's resend then verifies with the downloaded certificate.
    decoder
        .decode_refreshing::<serde_json::Value>(&headers, body.as_bytes())
        .await
        .expect("the resent callback is accepted");
    assert_eq!(server.received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_public_key_id_never_triggers_a_certificate_download() {
    let (credentials, [a, _, configured]) = certificates().await;
    let server = CannedServer::start(vec![listing(&credentials, &[&a], &a)]).await;
    let client = client(&credentials, &server.base_url, &configured);
    let decoder = NotificationDecoder::from_client(&client).unwrap();
    let (headers, body) = callback(
        &credentials,
        &a.private_key_pem,
        "PUB_KEY_ID_0114232134912410000000000099",
    );

    let result = decoder
        .decode_refreshing::<serde_json::Value>(&headers, body.as_bytes())
        .await;
    assert!(is_unknown_serial(&result), "{result:?}");
    assert!(
        server.received.lock().unwrap().is_empty(),
        "no certificate can bring a PUB_KEY_ID_ key: nothing is downloaded"
    );
}
