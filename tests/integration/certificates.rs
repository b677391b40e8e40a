//! Certificate mode against the sandbox: download and bootstrap, rotation
//! while calls are in flight, encryption under the newest certificate, and
//! the downloads that must be refused.

use crate::support;

use std::time::Duration;

use wxpay::api::v3::marketing::favor::stocks::_stock_id_::Get as QueryStock;
use wxpay::api::v3::marketing::favor::stocks::Get as ListStocks;
use wxpay::retry::Jitter;
use wxpay::{Client, Error, MerchantKey, RetryPolicy, VerifyError};
use wxpay_sandbox::{Faults, Sandbox, SandboxConfig};

async fn certificate_sandbox() -> Sandbox {
    Sandbox::start_with(SandboxConfig {
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

/// A client that knows no WeChat Pay key at all: it must learn the
/// certificates by downloading them.
fn certificate_client(sandbox: &Sandbox) -> Client {
    support::certificate_builder(sandbox)
        .build()
        .expect("certificate-mode client")
}

/// A retry policy of `attempts` attempts with waits of a millisecond or
/// two, at most `max_delay` (which also bounds the wait for a failed
/// download's back-off), without jitter.
fn quick_retries(attempts: u32, max_delay: Duration) -> RetryPolicy {
    RetryPolicy::new()
        .with_max_attempts(attempts)
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(max_delay)
        .with_jitter(Jitter::None)
}

/// Whether `err` refuses an answer for naming a serial the client does not
/// know.
fn is_unknown_serial(err: &Error) -> bool {
    matches!(
        err,
        Error::Verification {
            source: VerifyError::UnknownSerial { .. },
            ..
        }
    )
}

/// A certificate sandbox and a client that has made one call, and so has
/// downloaded the first certificate.
async fn bootstrapped() -> (Sandbox, Client) {
    let sandbox = certificate_sandbox().await;
    let client = certificate_client(&sandbox);
    client
        .send(list(&sandbox.credentials().mchid))
        .await
        .expect("the first call downloads and verifies");
    (sandbox, client)
}

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

#[tokio::test]
async fn first_call_downloads_and_verifies_with_the_certificate() {
    let sandbox = certificate_sandbox().await;
    let client = certificate_client(&sandbox);
    assert!(client.verifier().is_empty());
    let page = client
        .send(list(&sandbox.credentials().mchid))
        .await
        .expect("verified answer");
    assert_eq!(page.total_count, 0);
    assert_eq!(
        client.verifier().serials(),
        [sandbox.credentials().platform_certificate_serial.as_str()]
    );

    let serials = client
        .refresh_certificates()
        .await
        .expect("explicit refresh");
    assert_eq!(
        serials,
        [sandbox.credentials().platform_certificate_serial.clone()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_while_calls_are_in_flight() {
    let (sandbox, client) = bootstrapped().await;
    let mchid = sandbox.credentials().mchid.clone();

    let mut calls = Vec::new();
    for _ in 0..16 {
        let (client, mchid) = (client.clone(), mchid.clone());
        calls.push(tokio::spawn(async move {
            for _ in 0..4 {
                client.send(list(&mchid)).await?;
            }
            Ok::<_, Error>(())
        }));
    }
    let rotated = sandbox.rotate_platform_certificate().expect("rotation");
    for call in calls {
        call.await
            .unwrap()
            .expect("every call verifies, before and after the rotation");
    }
    // After the rotation the new serial is known (one download on the
    // first unknown serial), and calls keep verifying.
    client.send(list(&mchid)).await.expect("after rotation");
    let serials: Vec<String> = client
        .verifier()
        .serials()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(serials.contains(&rotated.serial), "{serials:?}");
}

#[tokio::test]
async fn sensitive_fields_use_the_newest_certificate() {
    #[wxpay::endpoint(POST, "/v3/marketing/favor/things")]
    struct Sensitive {
        #[wxpay(encrypt)]
        name: String,
    }
    let (sandbox, client) = bootstrapped().await;
    // Certificates are dated to the second: make the new one visibly newer.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rotated = sandbox.rotate_platform_certificate().unwrap();
    client.refresh_certificates().await.unwrap();

    let prepared = client
        .prepare(&Sensitive {
            name: "王五".into(),
        })
        .unwrap();
    assert_eq!(
        prepared.headers()["wechatpay-serial"],
        rotated.serial.as_str()
    );
    let body: serde_json::Value = serde_json::from_slice(prepared.body().as_bytes()).unwrap();
    let key = MerchantKey::from_pem(&rotated.private_key_pem).unwrap();
    let clear = key.decrypt_oaep(body["name"].as_str().unwrap()).unwrap();
    assert_eq!(&clear[..], "王五".as_bytes());
}

#[tokio::test]
async fn a_download_that_does_not_verify_is_refused() {
    let sandbox = certificate_sandbox().await;
    let client = certificate_client(&sandbox);
    // The download announces a serial that none of its certificates has.
    sandbox.set_faults(Faults {
        wrong_serial: true,
        ..Faults::default()
    });
    let err = client.refresh_certificates().await.unwrap_err();
    assert!(is_unknown_serial(&err), "{err:?}");
    assert!(client.verifier().is_empty(), "nothing was installed");

    // A tampered download fails too (its tag or its signature).
    sandbox.set_faults(Faults {
        tamper_body: true,
        ..Faults::default()
    });
    assert!(client.refresh_certificates().await.is_err());
    assert!(client.verifier().is_empty());
}

#[tokio::test]
async fn unknown_serials_trigger_at_most_one_download_a_minute() {
    let (sandbox, client) = bootstrapped().await;
    let mchid = sandbox.credentials().mchid.clone();

    // A forged serial right after a download: no new download, a clean error.
    sandbox.set_faults(Faults {
        wrong_serial: true,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let err = client
        .send(QueryStock {
            stock_id: "1".into(),
            stock_creator_mchid: mchid.clone(),
        })
        .await
        .unwrap_err();
    // QueryStock on an unknown id is a 404; with a forged serial its
    // signature is not authenticated, the error is still an API error.
    if let Some(api) = err.as_api() {
        assert!(!api.authenticated);
    }
    let err = client.send(list(&mchid)).await.unwrap_err();
    assert!(is_unknown_serial(&err), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn certificate_mode_needs_the_apiv3_key() {
    let sandbox = certificate_sandbox().await;
    let err = support::merchant_builder(&sandbox)
        .download_platform_certificates()
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("APIv3 key"), "{err}");
}

/// A callback as WeChat Pay sends it after a rotation: signed with the new
/// certificate's key, under its serial. Returns its headers and body.
fn callback_signed_by(
    sandbox: &Sandbox,
    rotated: &wxpay_sandbox::RotatedCertificate,
) -> (wxpay::http::HeaderMap, String) {
    use wxpay::ApiV3Key;
    let apiv3 = ApiV3Key::new(&sandbox.credentials().apiv3_key).unwrap();
    let ciphertext = apiv3
        .encrypt("0123456789ab", "transaction", br#"{"out_trade_no":"A1"}"#)
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
    let signer = MerchantKey::from_pem(&rotated.private_key_pem).unwrap();
    let signature = signer
        .sign_sha256(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes())
        .unwrap();
    let mut headers = wxpay::http::HeaderMap::new();
    headers.insert("wechatpay-timestamp", timestamp.parse().unwrap());
    headers.insert("wechatpay-nonce", nonce.parse().unwrap());
    headers.insert("wechatpay-signature", signature.parse().unwrap());
    headers.insert("wechatpay-serial", rotated.serial.parse().unwrap());
    (headers, body)
}

/// A certificate-mode client that has downloaded the first certificate,
/// its callback decoder, and then a rotation with a callback signed under
/// the new certificate.
struct AfterRotation {
    sandbox: Sandbox,
    client: Client,
    decoder: wxpay::NotificationDecoder,
    rotated: wxpay_sandbox::RotatedCertificate,
    headers: wxpay::http::HeaderMap,
    body: String,
}

async fn after_rotation() -> AfterRotation {
    let (sandbox, client) = bootstrapped().await;
    let decoder = wxpay::NotificationDecoder::from_client(&client).unwrap();
    let rotated = sandbox.rotate_platform_certificate().unwrap();
    let (headers, body) = callback_signed_by(&sandbox, &rotated);
    AfterRotation {
        sandbox,
        client,
        decoder,
        rotated,
        headers,
        body,
    }
}

#[tokio::test]
async fn a_callback_signed_by_a_new_certificate_is_accepted_after_one_download() {
    let after = after_rotation().await;
    let (decoder, headers, body) = (&after.decoder, &after.headers, &after.body);

    // The plain decoder does not download; the refreshing one does, once.
    assert!(
        decoder
            .decode::<serde_json::Value>(headers, body.as_bytes())
            .is_err()
    );
    let notification = decoder
        .decode_refreshing::<serde_json::Value>(headers, body.as_bytes())
        .await
        .expect("accepted after downloading the new certificate");
    assert_eq!(notification.resource["out_trade_no"], "A1");
}

/// One transient error on the download an unknown serial triggers must not
/// blind the client for [`wxpay::client::MIN_UNKNOWN_SERIAL_REFRESH`]: the
/// next download may start after [`CERTIFICATE_RETRY_AFTER_FAILURE`], not
/// before.
///
/// [`CERTIFICATE_RETRY_AFTER_FAILURE`]: wxpay::client::CERTIFICATE_RETRY_AFTER_FAILURE
#[tokio::test]
async fn a_failed_download_for_a_new_serial_is_tried_again_after_a_short_back_off() {
    use std::time::Instant;
    use wxpay::client::CERTIFICATE_RETRY_AFTER_FAILURE;
    let after = after_rotation().await;
    let (sandbox, client, rotated) = (&after.sandbox, &after.client, &after.rotated);
    let (decoder, headers, body) = (&after.decoder, &after.headers, &after.body);
    let knows_rotated = || {
        client
            .verifier()
            .serials()
            .contains(&rotated.serial.as_str())
    };

    // The download the new serial triggers meets a 500.
    sandbox.set_faults(Faults {
        status_override: Some((500, "SYSTEM_ERROR".into(), "injected".into())),
        ..Faults::default()
    });
    let failed_at = Instant::now();
    assert!(
        decoder
            .decode_refreshing::<serde_json::Value>(headers, body.as_bytes())
            .await
            .is_err()
    );
    assert!(!knows_rotated());

    // The service recovers at once, but within the back-off the client
    // does not ask again: the callback is still refused, nothing learned.
    sandbox.set_faults(Faults::default());
    let refused = decoder
        .decode_refreshing::<serde_json::Value>(headers, body.as_bytes())
        .await;
    if failed_at.elapsed() < CERTIFICATE_RETRY_AFTER_FAILURE {
        assert!(refused.is_err(), "downloaded again within the back-off");
        assert!(!knows_rotated());
    }

    // After the back-off (a second, far less than the minute between
    // successful downloads), the next unknown serial downloads again.
    tokio::time::sleep(
        CERTIFICATE_RETRY_AFTER_FAILURE.saturating_sub(failed_at.elapsed())
            + Duration::from_millis(100),
    )
    .await;
    let notification = decoder
        .decode_refreshing::<serde_json::Value>(headers, body.as_bytes())
        .await
        .expect("accepted once the back-off has passed");
    assert_eq!(notification.resource["out_trade_no"], "A1");
    assert!(knows_rotated());
}

#[tokio::test]
async fn a_certificate_download_is_retried_under_the_retry_policy() {
    let sandbox = certificate_sandbox().await;
    let client = support::certificate_builder(&sandbox)
        .retry(quick_retries(3, Duration::from_millis(5)))
        .build()
        .unwrap();
    sandbox.set_faults(Faults {
        status_override: Some((503, "SYSTEM_ERROR".into(), "injected".into())),
        ..Faults::default()
    });
    let err = client.refresh_certificates().await.unwrap_err();
    assert_eq!(
        err.as_api().map(|api| api.status.as_u16()),
        Some(503),
        "{err:?}"
    );
    assert_eq!(err.attempts(), Some(3), "{err}");

    // A download that does not verify is not tried again.
    sandbox.set_faults(Faults {
        wrong_serial: true,
        ..Faults::default()
    });
    let err = client.refresh_certificates().await.unwrap_err();
    assert!(
        matches!(err, Error::Verification { .. }) && err.attempts().is_none(),
        "{err:?}"
    );
    sandbox.set_faults(Faults::default());
    client
        .refresh_certificates()
        .await
        .expect("then it downloads");
}

#[tokio::test]
async fn a_certificate_download_fails_over_to_the_backup_host() {
    let sandbox = certificate_sandbox().await;
    // The primary host refuses connections; the sandbox is the backup.
    let client = support::certificate_builder(&sandbox)
        .base_url(support::refused_base_url())
        .backup_base_url(sandbox.base_url())
        .retry(quick_retries(2, Duration::from_millis(5)))
        .build()
        .unwrap();
    let serials = client
        .refresh_certificates()
        .await
        .expect("the second attempt goes to the backup host, which answers");
    assert_eq!(
        serials,
        [sandbox.credentials().platform_certificate_serial.clone()]
    );

    // Without retries there is no second attempt, so no failover.
    let client = support::certificate_builder(&sandbox)
        .base_url(support::refused_base_url())
        .backup_base_url(sandbox.base_url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.refresh_certificates().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

/// A call whose answer names the rotated serial while a failed download's
/// back-off holds: with a retry policy that allows waiting that long, the
/// call waits the back-off out and downloads, and its answer (in hand, not
/// sent for again) is accepted; with one that does not, it is refused.
#[tokio::test]
async fn a_call_with_retries_waits_out_a_failed_download_back_off() {
    use std::time::Instant;
    use wxpay::client::CERTIFICATE_RETRY_AFTER_FAILURE;
    for (max_delay, waits) in [
        (2 * CERTIFICATE_RETRY_AFTER_FAILURE, true),
        (CERTIFICATE_RETRY_AFTER_FAILURE / 10, false),
    ] {
        let sandbox = certificate_sandbox().await;
        let client = support::certificate_builder(&sandbox)
            .retry(quick_retries(2, max_delay))
            .build()
            .unwrap();
        let mchid = sandbox.credentials().mchid.clone();
        client.send(list(&mchid)).await.expect("bootstrap");
        let decoder = wxpay::NotificationDecoder::from_client(&client).unwrap();
        let rotated = sandbox.rotate_platform_certificate().unwrap();
        let (headers, body) = callback_signed_by(&sandbox, &rotated);

        // A callback signed with the new certificate triggers a download,
        // which fails (every attempt of it): the back-off starts.
        sandbox.set_faults(Faults {
            status_override: Some((500, "SYSTEM_ERROR".into(), "injected".into())),
            ..Faults::default()
        });
        // The back-off starts between these two instants.
        let before_failure = Instant::now();
        assert!(
            decoder
                .decode_refreshing::<serde_json::Value>(&headers, body.as_bytes())
                .await
                .is_err()
        );
        let failed_at = Instant::now();
        sandbox.set_faults(Faults::default());

        // The sandbox now answers with the new certificate.
        let result = client.send(list(&mchid)).await;
        // Measured from before the failure, so that when it holds, the
        // whole call surely ran within the back-off, however slow the
        // machine.
        let within_back_off = before_failure.elapsed() < CERTIFICATE_RETRY_AFTER_FAILURE;
        let knows_rotated = client
            .verifier()
            .serials()
            .contains(&rotated.serial.as_str());
        if waits {
            let page = result.expect("the call waited out the back-off");
            assert_eq!(page.total_count, 0);
            assert!(knows_rotated);
            // It got its answer at once (a few milliseconds) but could
            // only check it once the back-off, which started just before
            // `failed_at`, ended. The slack allows for a slow machine
            // between the failure and `failed_at`.
            assert!(
                failed_at.elapsed() + Duration::from_millis(300) >= CERTIFICATE_RETRY_AFTER_FAILURE,
                "the call did not wait for the back-off: {:?}",
                failed_at.elapsed()
            );
        } else if within_back_off {
            let err = result.unwrap_err();
            assert!(is_unknown_serial(&err), "{err:?}");
            assert!(!knows_rotated);
        }
    }
}
