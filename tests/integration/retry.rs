//! Retries, backoff, `Retry-After` and failover against loopback servers
//! with canned answers. What the client logs about them: `tests/integration/logs.rs`.
//!
//! Every test is bounded: canned servers answer from a finite queue (then
//! `418`, which is never retried), policies use short waits, and no timing
//! assertion has an upper bound tighter than several seconds.

use crate::support;

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use support::{
    CANNED_SERIAL as SERIAL, Canned, CannedServer, canned_builder, keys, refused_base_url,
};
use wxpay::api::v3::marketing::favor::stocks::_stock_id_::start::Post as StartStock;
use wxpay::retry::Jitter;
use wxpay::{
    CallOptions, Client, Endpoint, Error, Idempotency, RetryPolicy, VerifyError, VerifyingKey,
};

const STARTED: &str = r#"{"start_time":"2015-05-20T13:29:35.120+08:00","stock_id":"98065001"}"#;
const SYSTEM_ERROR: &str = r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#;

/// Retries quickly: tests about *whether* a retry happens, not when.
fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_base_delay(Duration::from_millis(10))
}

fn start() -> StartStock {
    StartStock {
        stock_id: "98065001".into(),
        stock_creator_mchid: "1900009191".into(),
    }
}

fn received(server: &CannedServer) -> usize {
    server.received.lock().unwrap().len()
}

/// The `key="value"` fields of an `Authorization` header.
fn authorization_field<'a>(headers: &'a HeaderMap, key: &str) -> &'a str {
    let value = headers["authorization"].to_str().unwrap();
    let start = value.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
    let rest = &value[start..];
    &rest[..rest.find('"').unwrap()]
}

#[tokio::test]
async fn server_error_then_success_is_retried_with_a_new_signature_over_the_same_bytes() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::signed(200, STARTED, &keys.signer, SERIAL),
    ])
    .await;
    // A wait over one second, so that the two timestamps must differ.
    let policy = RetryPolicy::default()
        .with_base_delay(Duration::from_millis(1100))
        .with_jitter(Jitter::None);
    let client = canned_builder(&keys, &server.base_url)
        .retry(policy)
        .build()
        .unwrap();
    let began = Instant::now();
    let started = client.send(start()).await.expect("the retry succeeds");
    assert_eq!(started.stock_id, "98065001");
    assert!(began.elapsed() >= Duration::from_millis(1100));

    let received = server.received.lock().unwrap();
    assert_eq!(received.len(), 2);
    let (first, second) = (&received[0], &received[1]);
    assert_eq!(first.0, "/v3/marketing/favor/stocks/98065001/start");
    assert_eq!(first.0, second.0, "same target");
    assert_eq!(first.2, second.2, "same body bytes");
    assert_eq!(&first.2[..], br#"{"stock_creator_mchid":"1900009191"}"#);
    assert_ne!(
        authorization_field(&first.1, "nonce_str"),
        authorization_field(&second.1, "nonce_str")
    );
    let timestamp = |headers| {
        authorization_field(headers, "timestamp")
            .parse::<i64>()
            .unwrap()
    };
    assert!(timestamp(&first.1) < timestamp(&second.1));
    // Each attempt carries a valid signature of its own.
    let merchant_public = VerifyingKey::from_public_key_pem(&keys.public_pem).unwrap();
    for (uri, headers, body) in [first, second] {
        let message = format!(
            "POST\n{uri}\n{}\n{}\n{}\n",
            authorization_field(headers, "timestamp"),
            authorization_field(headers, "nonce_str"),
            std::str::from_utf8(body).unwrap()
        );
        merchant_public
            .verify_sha256(
                message.as_bytes(),
                authorization_field(headers, "signature"),
            )
            .expect("each attempt is signed over what it sent");
    }
}

#[tokio::test]
async fn rate_limited_answer_waits_for_retry_after() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(429, r#"{"code":"FREQUENCY_LIMITED","message":"频率超限"}"#)
            .with_header("Retry-After", "1"),
        Canned::signed(200, STARTED, &keys.signer, SERIAL),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(RetryPolicy::default())
        .build()
        .unwrap();
    let began = Instant::now();
    client.send(start()).await.expect("the retry succeeds");
    let waited = began.elapsed();
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    assert_eq!(received(&server), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_policy_ends_the_call_with_the_wait_asked_for() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(
            429,
            r#"{"code":"RATELIMIT_EXCEEDED","message":"slow down"}"#,
        )
        .with_header("Retry-After", "60"),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(RetryPolicy::default())
        .build()
        .unwrap();
    let err = client.send(start()).await.unwrap_err();
    let api = err.as_api().expect("the 429 itself");
    assert_eq!(api.status.as_u16(), 429);
    assert_eq!(api.retry_after, Some(Duration::from_secs(60)));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(received(&server), 1);
}

#[tokio::test]
async fn client_errors_forged_answers_and_decode_failures_are_not_retried() {
    let keys = keys().await;
    let param_error = r#"{"code":"PARAM_ERROR","message":"参数错误"}"#;
    let server = CannedServer::start(vec![
        Canned::signed(400, param_error, &keys.signer, SERIAL),
        Canned::unsigned(401, r#"{"code":"SIGN_ERROR","message":"签名错误"}"#),
        Canned::unsigned(404, r#"{"code":"RESOURCE_NOT_EXISTS","message":"x"}"#),
        Canned::unsigned(501, r#"{"code":"NOT_IMPLEMENTED","message":"x"}"#),
        Canned::unsigned(200, STARTED),
        Canned::signed(200, r#"{"start_time":5}"#, &keys.signer, SERIAL),
        // What a retry would get: never reached.
        Canned::signed(200, STARTED, &keys.signer, SERIAL),
        Canned::signed(200, STARTED, &keys.signer, SERIAL),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(3))
        .build()
        .unwrap();

    for (n, status) in [400, 401, 404, 501].into_iter().enumerate() {
        let err = client.send(start()).await.unwrap_err();
        let api = err.as_api().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(api.status.as_u16(), status);
        assert_eq!(err.attempts(), Some(1));
        assert!(!err.to_string().contains("attempts were made"), "{err}");
        assert_eq!(received(&server), n + 1, "HTTP {status} was retried");
    }

    let err = client.send(start()).await.unwrap_err();
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
    assert_eq!(received(&server), 5, "a forged answer was retried");

    let err = client.send(start()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(received(&server), 6, "a decode failure was retried");
}

#[tokio::test]
async fn exhausted_retries_return_the_last_error_with_the_attempt_count() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::unsigned(502, "<html>bad gateway</html>"),
        Canned::unsigned(504, "<html>gateway timeout</html>"),
        Canned::unsigned(
            503,
            r#"{"code":"SERVICE_UNAVAILABLE","message":"the last one"}"#,
        ),
        Canned::signed(200, STARTED, &keys.signer, SERIAL),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(4))
        .build()
        .unwrap();
    let err = client.send(start()).await.unwrap_err();
    let api = err.as_api().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(
        (api.status.as_u16(), api.code.as_str(), api.message.as_str()),
        (503, "SERVICE_UNAVAILABLE", "the last one")
    );
    assert_eq!(api.attempts, 4);
    assert_eq!(err.attempts(), Some(4));
    assert!(err.to_string().contains("4 attempts were made"), "{err}");
    assert_eq!(received(&server), 4);

    // Network failures too: the last transport error, with its count.
    let client = canned_builder(&keys, &refused_base_url())
        .retry(quick(3))
        .build()
        .unwrap();
    let err = client.send(start()).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("3 attempts were made"), "{text}");
    // The rendered path stays out of the message.
    assert!(!text.contains("98065001"), "{text}");
}

#[tokio::test]
async fn the_time_budget_stops_retries() {
    let keys = keys().await;
    let server = CannedServer::start(
        (0..10)
            .map(|_| Canned::unsigned(500, SYSTEM_ERROR))
            .collect(),
    )
    .await;
    // Waits of 1 s then 2 s; the second would end past 1.5 s. (The first
    // attempt may take up to half a second on a busy machine and the call
    // still makes its second.)
    let policy = RetryPolicy::default()
        .with_max_attempts(10)
        .with_base_delay(Duration::from_millis(1000))
        .with_jitter(Jitter::None)
        .with_max_elapsed(Duration::from_millis(1500));
    let client = canned_builder(&keys, &server.base_url)
        .retry(policy)
        .build()
        .unwrap();
    let began = Instant::now();
    let err = client.send(start()).await.unwrap_err();
    assert_eq!(err.attempts(), Some(2), "{err}");
    assert_eq!(received(&server), 2);
    assert!(began.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_call_can_override_the_client_policy() {
    let keys = keys().await;
    let server = CannedServer::start(
        (0..5)
            .map(|_| Canned::unsigned(500, SYSTEM_ERROR))
            .collect(),
    )
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(3))
        .build()
        .unwrap();

    let once = CallOptions::new().retry(RetryPolicy::none());
    let err = client.send_with(start(), &once).await.unwrap_err();
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(received(&server), 1);

    // The same client, without the override, retries.
    let err = client.send(start()).await.unwrap_err();
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(received(&server), 4);

    // A prepared request is retried too, by the call's policy.
    let request = client.prepare(&start()).unwrap();
    let twice = CallOptions::new().retry(quick(2));
    let err = client
        .send_prepared_with::<serde_json::Value>(request, &twice)
        .await
        .unwrap_err();
    // One 500 was left; the retry got the server's 418, never retried.
    assert_eq!(
        err.as_api().map(|api| api.status.as_u16()),
        Some(418),
        "{err}"
    );
    assert_eq!(err.attempts(), Some(2));
    assert_eq!(received(&server), 6);
}

#[tokio::test]
async fn defaults_retry_and_fail_over_only_against_wechat_pay() {
    let keys = keys().await;
    let production = Client::builder()
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &keys.private_pem)
        .wechatpay_public_key_pem(SERIAL, &keys.public_pem);
    let client = production.build().unwrap();
    assert_eq!(client.retry_policy(), &RetryPolicy::default());
    assert_eq!(client.retry_policy().max_attempts(), 3);
    assert_eq!(
        client.backup_base_url(),
        Some("https://api2.mch.weixin.qq.com")
    );

    let production = Client::builder()
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &keys.private_pem)
        .wechatpay_public_key_pem(SERIAL, &keys.public_pem)
        .without_backup_base_url()
        .retry(RetryPolicy::none());
    let client = production.build().unwrap();
    assert_eq!(client.backup_base_url(), None);
    assert!(!client.retry_policy().retries());

    let local = canned_builder(&keys, "http://127.0.0.1:9").build().unwrap();
    assert_eq!(local.retry_policy(), &RetryPolicy::none());
    assert_eq!(local.backup_base_url(), None);
    let debug = format!("{local:?}");
    assert!(debug.contains("retry"), "{debug}");

    let err = canned_builder(&keys, "http://127.0.0.1:9")
        .backup_base_url("http://127.0.0.1:10/prefix")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("backup base URL `http://127.0.0.1:10/prefix`"),
        "{err}"
    );
}

#[tokio::test]
async fn connect_refused_on_the_primary_fails_over_to_the_backup() {
    let keys = keys().await;
    let backup =
        CannedServer::start(vec![Canned::signed(200, STARTED, &keys.signer, SERIAL)]).await;
    let client = canned_builder(&keys, &refused_base_url())
        .backup_base_url(&backup.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    let started = client.send(start()).await.expect("the backup answers");
    assert_eq!(started.stock_id, "98065001");
    let received = backup.received.lock().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, "/v3/marketing/favor/stocks/98065001/start");
    assert_eq!(
        &received[0].2[..],
        br#"{"stock_creator_mchid":"1900009191"}"#
    );
}

#[tokio::test]
async fn http_statuses_do_not_fail_over() {
    let keys = keys().await;
    let primary = CannedServer::start(vec![
        Canned::unsigned(503, SYSTEM_ERROR),
        Canned::signed(200, STARTED, &keys.signer, SERIAL),
    ])
    .await;
    let backup = CannedServer::start(vec![]).await;
    let client = canned_builder(&keys, &primary.base_url)
        .backup_base_url(&backup.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    client
        .send(start())
        .await
        .expect("the primary's retry works");
    assert_eq!(received(&primary), 2);
    assert_eq!(received(&backup), 0);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let keys = keys().await;
    let server = CannedServer::start_with_delays(vec![
        (
            Duration::from_secs(3),
            Canned::signed(200, STARTED, &keys.signer, SERIAL),
        ),
        (
            Duration::ZERO,
            Canned::signed(200, STARTED, &keys.signer, SERIAL),
        ),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .timeout(Duration::from_millis(300))
        .retry(quick(3))
        .build()
        .unwrap();
    let started = client
        .send(start())
        .await
        .expect("the second attempt answers");
    assert_eq!(started.stock_id, "98065001");
    assert_eq!(received(&server), 2);

    // A per-call timeout, without retries: the timeout error itself.
    let server = CannedServer::start_with_delays(vec![(
        Duration::from_secs(3),
        Canned::signed(200, STARTED, &keys.signer, SERIAL),
    )])
    .await;
    let client = canned_builder(&keys, &server.base_url).build().unwrap();
    let options = CallOptions::new().timeout(Duration::from_millis(200));
    let err = client.send_with(start(), &options).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, attempts: 1, .. } if after == Duration::from_millis(200)),
        "{err:?}"
    );
}

/// A write with no idempotency key: a repeat would act twice.
#[wxpay::endpoint(POST, "/v3/test/notes", response = serde_json::Value)]
struct AddNote {
    text: String,
}

/// The same write carrying its operation's number.
#[wxpay::endpoint(POST, "/v3/test/notes", response = serde_json::Value)]
struct AddNumberedNote {
    #[wxpay(idempotency_key)]
    out_request_no: String,
    text: String,
}

/// A write whose repeat finds the work done.
#[wxpay::endpoint(POST, "/v3/test/notes/<note_id>/close", response = serde_json::Value, idempotent)]
struct CloseNote {
    note_id: String,
}

const NOTE: &str = r#"{"note_id":"1"}"#;

fn note() -> AddNote {
    AddNote {
        text: "hello".into(),
    }
}

#[test]
fn endpoints_declare_whether_they_may_be_sent_again() {
    assert_eq!(AddNote::IDEMPOTENCY, Idempotency::NotIdempotent);
    assert_eq!(
        AddNumberedNote::IDEMPOTENCY,
        Idempotency::Keyed("out_request_no")
    );
    assert_eq!(CloseNote::IDEMPOTENCY, Idempotency::Natural);
    // The catalogue's: starting a stock is natural, and the catalogue row
    // says what the type says.
    assert_eq!(StartStock::IDEMPOTENCY, Idempotency::Natural);
    let row = wxpay::api::CATALOGUE
        .iter()
        .find(|row| row.template == "/v3/refund/domestic/refunds")
        .unwrap();
    assert_eq!(row.idempotency, Idempotency::Keyed("out_refund_no"));
    #[cfg(all(feature = "pay", feature = "refund"))]
    {
        use wxpay::api::v3::pay::transactions::out_trade_no::_out_trade_no_::close::Post as Close;
        use wxpay::api::v3::refund::domestic::refunds::Post as Refund;
        assert_eq!(Refund::IDEMPOTENCY, row.idempotency);
        assert_eq!(Close::IDEMPOTENCY, Idempotency::Natural);
    }
}

#[tokio::test]
async fn a_write_without_a_key_is_not_sent_again_after_it_may_have_arrived() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::signed(200, NOTE, &keys.signer, SERIAL),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    let err = client.send(note()).await.unwrap_err();
    assert_eq!(
        err.as_api().map(|api| api.status.as_u16()),
        Some(500),
        "{err}"
    );
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(received(&server), 1, "sent once");

    // The same body with its number is sent again and succeeds.
    let numbered = AddNumberedNote {
        out_request_no: "N1".into(),
        text: "hello".into(),
    };
    let server = CannedServer::start(vec![
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::signed(200, NOTE, &keys.signer, SERIAL),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    client.send(&numbered).await.expect("the retry succeeds");
    assert_eq!(received(&server), 2);

    // And so is a naturally idempotent write.
    let server = CannedServer::start(vec![
        Canned::unsigned(503, SYSTEM_ERROR),
        Canned::signed(200, NOTE, &keys.signer, SERIAL),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    let close = CloseNote {
        note_id: "1".into(),
    };
    client.send(&close).await.expect("the retry succeeds");
    assert_eq!(received(&server), 2);
}

#[tokio::test]
async fn a_write_without_a_key_is_not_sent_again_after_a_timeout() {
    let keys = keys().await;
    let server = CannedServer::start_with_delays(vec![
        (
            Duration::from_secs(3),
            Canned::signed(200, NOTE, &keys.signer, SERIAL),
        ),
        (
            Duration::ZERO,
            Canned::signed(200, NOTE, &keys.signer, SERIAL),
        ),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .timeout(Duration::from_millis(300))
        .retry(quick(3))
        .build()
        .unwrap();
    let err = client.send(note()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 1, .. }), "{err:?}");
    assert_eq!(
        received(&server),
        1,
        "the server may have acted: not resent"
    );
}

#[tokio::test]
async fn a_write_without_a_key_is_sent_again_when_it_never_left() {
    let keys = keys().await;
    let backup = CannedServer::start(vec![Canned::signed(200, NOTE, &keys.signer, SERIAL)]).await;
    let client = canned_builder(&keys, &refused_base_url())
        .backup_base_url(&backup.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    client
        .send(note())
        .await
        .expect("a refused connection proves the request never left: the backup gets it");
    assert_eq!(received(&backup), 1);
    assert_eq!(
        &backup.received.lock().unwrap()[0].2[..],
        br#"{"text":"hello"}"#
    );

    // Refused everywhere: every attempt is made, and the error says so.
    let client = canned_builder(&keys, &refused_base_url())
        .retry(quick(3))
        .build()
        .unwrap();
    let err = client.send(note()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.attempts(), Some(3));
}

#[tokio::test]
async fn a_call_can_say_what_its_request_is() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::signed(200, NOTE, &keys.signer, SERIAL),
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::signed(200, NOTE, &keys.signer, SERIAL),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    // The caller knows this write carries a number: retried.
    let keyed = CallOptions::new().idempotency(Idempotency::Keyed("text"));
    client.send_with(note(), &keyed).await.expect("retried");
    assert_eq!(received(&server), 2);
    // A keyed write the caller wants sent at most once: not retried.
    let numbered = AddNumberedNote {
        out_request_no: "N1".into(),
        text: "hello".into(),
    };
    let once = CallOptions::new().idempotency(Idempotency::NotIdempotent);
    let err = client.send_with(&numbered, &once).await.unwrap_err();
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(received(&server), 3);
}

#[tokio::test]
async fn raw_requests_retry_by_their_method_unless_told_otherwise() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::signed(200, NOTE, &keys.signer, SERIAL),
        Canned::unsigned(500, SYSTEM_ERROR),
        Canned::signed(200, NOTE, &keys.signer, SERIAL),
        Canned::unsigned(500, SYSTEM_ERROR),
    ])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .retry(quick(3))
        .build()
        .unwrap();
    let options = CallOptions::new();
    // A GET is retried.
    let get = client
        .prepare_raw(wxpay::Method::Get, "/v3/test/notes/1", None)
        .unwrap();
    assert_eq!(get.idempotency(), Idempotency::Natural);
    let answer = client.send_raw_with(get, &options).await.expect("retried");
    assert_eq!(&answer.body[..], NOTE.as_bytes());
    assert_eq!(received(&server), 2);
    // A POST that says it carries its number is retried.
    let body = br#"{"out_request_no":"N2"}"#.to_vec();
    let post = client
        .prepare_raw(
            wxpay::Method::Post,
            "/v3/test/notes",
            Some(body.clone().into()),
        )
        .unwrap()
        .with_idempotency(Idempotency::Keyed("out_request_no"));
    client.send_raw_with(post, &options).await.expect("retried");
    assert_eq!(received(&server), 4);
    // A plain POST is not.
    let post = client
        .prepare_raw(wxpay::Method::Post, "/v3/test/notes", Some(body.into()))
        .unwrap();
    assert_eq!(post.idempotency(), Idempotency::NotIdempotent);
    let err = client.send_raw_with(post, &options).await.unwrap_err();
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(received(&server), 5);
}
