//! Callbacks delivered more than once, and callbacks too large: the
//! `ReplayCache` (by itself and through the axum extractor) and the
//! decoder's own body limit, over real HTTP.
//!
//! The "WeChat Pay" key pair is a sandbox-generated pair: its private half
//! signs the callbacks, its public half verifies them.

#![cfg(feature = "axum")]

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use wxpay::http::{HeaderMap, HeaderName, HeaderValue};
use wxpay::notification::resources::Transaction;
use wxpay::notification::{
    DEFAULT_MAX_BODY_BYTES, NotificationDecoder, NotificationError, NotificationRejection,
    NotificationReply, ReplayCache, WechatpayNotification,
};
use wxpay::verification::verification_message;
use wxpay::{ApiV3Key, MerchantKey, Verifier, VerifyingKey};

const SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000042";
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn decoder(keys: &support::Keys) -> NotificationDecoder {
    let mut verifier = Verifier::new();
    verifier.add_public_key(
        SERIAL,
        VerifyingKey::from_public_key_pem(&keys.public_pem).expect("public key"),
    );
    NotificationDecoder::new(verifier, ApiV3Key::new(APIV3).expect("APIv3 key"))
}

/// A signed callback: headers and body as WeChat Pay would send them.
#[derive(Clone)]
struct Callback {
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Callback {
    /// Notification `id` paying `out_trade_no`, signed at `timestamp` with
    /// `nonce`: WeChat Pay's resend of a notification keeps the id and the
    /// body's meaning, with a new timestamp and nonce.
    fn new(
        signer: &MerchantKey,
        id: &str,
        out_trade_no: &str,
        timestamp: i64,
        nonce: &str,
    ) -> Self {
        let resource = json!({
            "appid": "wxd678efh567hg6787",
            "mchid": "1230000109",
            "out_trade_no": out_trade_no,
            "transaction_id": "4200000001202401011234567890",
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "CMC",
            "attach": "",
            "success_time": "2024-01-01T10:00:00+08:00",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"}
        });
        let ciphertext = ApiV3Key::new(APIV3)
            .unwrap()
            .encrypt(
                "fdasflkja484",
                "transaction",
                &serde_json::to_vec(&resource).unwrap(),
            )
            .unwrap();
        let body = serde_json::to_vec(&json!({
            "id": id,
            "create_time": "2024-01-01T10:00:01+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": "transaction",
                "nonce": "fdasflkja484",
            }
        }))
        .unwrap();
        let timestamp = timestamp.to_string();
        let signature = signer
            .sign_sha256(&verification_message(&timestamp, nonce, &body))
            .unwrap();
        Callback {
            headers: vec![
                ("wechatpay-timestamp", timestamp),
                ("wechatpay-nonce", nonce.to_owned()),
                ("wechatpay-signature", signature),
                ("wechatpay-serial", SERIAL.to_owned()),
                (
                    "wechatpay-signature-type",
                    "WECHATPAY2-SHA256-RSA2048".to_owned(),
                ),
            ],
            body,
        }
    }

    fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// The same callback with its signature replaced (a forgery).
    fn forged(mut self) -> Self {
        for (name, value) in &mut self.headers {
            if *name == "wechatpay-signature" {
                let mut bytes = value.clone().into_bytes();
                bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
                *value = String::from_utf8(bytes).unwrap();
            }
        }
        self
    }
}

/// What a route's handler does with a callback.
#[derive(Clone, Copy)]
enum Answer {
    /// `notification.acknowledge()`: recorded as handled.
    Acknowledge,
    /// `NotificationReply::success()`: nothing recorded.
    PlainSuccess,
    /// Fails the first `n` calls (a database down), then acknowledges.
    FailFirst(usize),
}

#[derive(Clone)]
struct AppState {
    decoder: NotificationDecoder,
    calls: Arc<Mutex<Vec<String>>>,
    answer: Answer,
    failures: Arc<AtomicUsize>,
}

impl FromRef<AppState> for NotificationDecoder {
    fn from_ref(state: &AppState) -> Self {
        state.decoder.clone()
    }
}

async fn handler(
    State(state): State<AppState>,
    WechatpayNotification(notification): WechatpayNotification<Transaction>,
) -> NotificationReply {
    state.calls.lock().unwrap().push(notification.id.clone());
    match state.answer {
        Answer::Acknowledge => notification.acknowledge(),
        Answer::PlainSuccess => NotificationReply::success(),
        Answer::FailFirst(n) => {
            if state.failures.fetch_add(1, Ordering::SeqCst) < n {
                NotificationReply::failure("database unavailable")
            } else {
                notification.acknowledge()
            }
        }
    }
}

struct Server {
    base: String,
    calls: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

impl Server {
    async fn start(decoder: NotificationDecoder, answer: Answer) -> Server {
        let state = AppState {
            decoder,
            calls: Arc::default(),
            answer,
            failures: Arc::default(),
        };
        let calls = state.calls.clone();
        let app = Router::new()
            .route("/notify", post(handler))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server {
            base,
            calls,
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, callback: &Callback) -> (u16, Vec<u8>) {
        self.post_body(callback, callback.body.clone()).await
    }

    async fn post_body(&self, callback: &Callback, body: Vec<u8>) -> (u16, Vec<u8>) {
        let mut request = self
            .http
            .post(format!("{}/notify", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in &callback.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn the_same_callback_twice_reaches_the_handler_once() {
    let keys = support::keys().await;
    let decoder = decoder(&keys);
    let cache = decoder.replay_cache().expect("on by default").clone();
    let server = Server::start(decoder, Answer::Acknowledge).await;
    let at = now();
    let first = Callback::new(&keys.signer, "EV-1", "ORDER-1", at, "NONCE-1");

    let (status, body) = server.post(&first).await;
    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.calls(), ["EV-1"]);
    assert!(cache.is_handled("EV-1"));

    // The same signed callback again (a replay): success, handler not run.
    let (status, body) = server.post(&first).await;
    assert_eq!(status, 204);
    assert!(body.is_empty());
    assert_eq!(server.calls(), ["EV-1"]);

    // WeChat Pay's resend of the handled notification: new timestamp and
    // nonce, same id: success, handler not run.
    let resend = Callback::new(&keys.signer, "EV-1", "ORDER-1", at + 15, "NONCE-2");
    assert_eq!(server.post(&resend).await.0, 204);
    assert_eq!(server.calls(), ["EV-1"]);

    // Another notification, even with the first one's nonce: handled.
    let other = Callback::new(&keys.signer, "EV-2", "ORDER-2", at, "NONCE-1");
    assert_eq!(server.post(&other).await.0, 204);
    assert_eq!(server.calls(), ["EV-1", "EV-2"]);
}

#[tokio::test]
async fn a_resend_after_a_failure_reaches_the_handler_again() {
    let keys = support::keys().await;
    let server = Server::start(decoder(&keys), Answer::FailFirst(1)).await;
    let at = now();
    let first = Callback::new(&keys.signer, "EV-9", "ORDER-9", at, "NONCE-A");
    let (status, body) = server.post(&first).await;
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.calls(), ["EV-9"]);

    // WeChat Pay sends it again: the failed attempt recorded nothing.
    let resend = Callback::new(&keys.signer, "EV-9", "ORDER-9", at + 15, "NONCE-B");
    assert_eq!(server.post(&resend).await.0, 204);
    assert_eq!(server.calls(), ["EV-9", "EV-9"]);
    // Handled now: a further resend gets success without the handler.
    let again = Callback::new(&keys.signer, "EV-9", "ORDER-9", at + 30, "NONCE-C");
    assert_eq!(server.post(&again).await.0, 204);
    assert_eq!(server.calls(), ["EV-9", "EV-9"]);
}

#[tokio::test]
async fn forged_and_unacknowledged_callbacks_record_nothing() {
    let keys = support::keys().await;
    let decoder = decoder(&keys);
    let cache = decoder.replay_cache().unwrap().clone();

    // Forgeries never reach the cache, nor the handler.
    let server = Server::start(decoder.clone(), Answer::Acknowledge).await;
    let forged = Callback::new(&keys.signer, "EV-F", "ORDER-F", now(), "NONCE-F").forged();
    let (status, _) = server.post(&forged).await;
    assert_eq!(status, 401);
    assert!(server.calls().is_empty());
    assert!(cache.is_empty());

    // A bare NotificationReply::success() records nothing: the handler
    // sees every delivery (it must be idempotent then).
    let server = Server::start(decoder, Answer::PlainSuccess).await;
    let callback = Callback::new(&keys.signer, "EV-P", "ORDER-P", now(), "NONCE-P");
    assert_eq!(server.post(&callback).await.0, 204);
    assert_eq!(server.post(&callback).await.0, 204);
    assert_eq!(server.calls(), ["EV-P", "EV-P"]);
    assert!(cache.is_empty());
}

#[tokio::test]
async fn replay_protection_can_be_off_or_shared_between_routes() {
    let keys = support::keys().await;
    let callback = Callback::new(&keys.signer, "EV-S", "ORDER-S", now(), "NONCE-S");

    // Off: every verified delivery reaches the handler.
    let server = Server::start(decoder(&keys).without_replay_cache(), Answer::Acknowledge).await;
    assert_eq!(server.post(&callback).await.0, 204);
    assert_eq!(server.post(&callback).await.0, 204);
    assert_eq!(server.calls(), ["EV-S", "EV-S"]);

    // Shared: what one route handled, the other answers as a duplicate.
    let shared = ReplayCache::new(1000);
    let one = Server::start(
        decoder(&keys).with_replay_cache(shared.clone()),
        Answer::Acknowledge,
    )
    .await;
    let two = Server::start(
        decoder(&keys).with_replay_cache(shared.clone()),
        Answer::Acknowledge,
    )
    .await;
    assert_eq!(one.post(&callback).await.0, 204);
    assert_eq!(two.post(&callback).await.0, 204);
    assert_eq!(one.calls(), ["EV-S"]);
    assert!(two.calls().is_empty());
    assert_eq!(shared.len(), 1);

    // Separate decoders, separate caches: both handle it.
    let three = Server::start(decoder(&keys), Answer::Acknowledge).await;
    assert_eq!(three.post(&callback).await.0, 204);
    assert_eq!(three.calls(), ["EV-S"]);
}

#[tokio::test]
async fn capacity_evicts_the_oldest_and_the_window_expires_entries() {
    let keys = support::keys().await;
    // Room for two ids.
    let cache = ReplayCache::new(2);
    let server = Server::start(
        decoder(&keys).with_replay_cache(cache.clone()),
        Answer::Acknowledge,
    )
    .await;
    let at = now();
    for (id, nonce) in [("EV-A", "N-A"), ("EV-B", "N-B"), ("EV-C", "N-C")] {
        let callback = Callback::new(&keys.signer, id, "ORDER", at, nonce);
        assert_eq!(server.post(&callback).await.0, 204);
    }
    assert_eq!(cache.len(), 2);
    assert!(!cache.is_handled("EV-A"));
    // EV-A was evicted: a resend reaches the handler; EV-C was not.
    let resend_a = Callback::new(&keys.signer, "EV-A", "ORDER", at + 1, "N-A2");
    let resend_c = Callback::new(&keys.signer, "EV-C", "ORDER", at + 1, "N-C2");
    assert_eq!(server.post(&resend_a).await.0, 204);
    assert_eq!(server.post(&resend_c).await.0, 204);
    assert_eq!(server.calls(), ["EV-A", "EV-B", "EV-C", "EV-A"]);

    // Expiry, on an explicit clock: kept for the window, then dropped.
    let cache = ReplayCache::with_window(10, Duration::from_secs(300));
    assert_eq!(cache.window(), Duration::from_secs(300));
    assert_eq!(ReplayCache::default().window(), Duration::from_secs(300));
    cache.mark_handled_at("EV-T", 1_700_000_000);
    assert!(cache.is_handled_at("EV-T", 1_700_000_299));
    assert!(!cache.is_handled_at("EV-T", 1_700_000_300));
    assert!(cache.is_empty());
}

#[tokio::test]
async fn without_axum_the_cache_is_checked_and_marked_by_hand() {
    let keys = support::keys().await;
    let decoder = decoder(&keys);
    let cache = ReplayCache::default();
    let callback = Callback::new(&keys.signer, "EV-M", "ORDER-M", now(), "NONCE-M");
    let mut handled = 0;
    for _ in 0..3 {
        let notification = decoder
            .decode::<Transaction>(&callback.header_map(), &callback.body)
            .expect("a valid callback");
        if cache.is_handled(&notification.id) {
            continue;
        }
        handled += 1;
        cache.mark_handled(&notification.id);
    }
    assert_eq!(handled, 1);

    // `acknowledge` records in the decoder's own cache.
    let notification = decoder
        .decode::<Transaction>(&callback.header_map(), &callback.body)
        .unwrap();
    assert!(!decoder.replay_cache().unwrap().is_handled("EV-M"));
    assert!(notification.acknowledge().is_success());
    assert!(decoder.replay_cache().unwrap().is_handled("EV-M"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread() {
    let keys = support::keys().await;
    let callback = Callback::new(&keys.signer, "EV-L", "ORDER-L", now(), "NONCE-L");

    // Announced too large (Content-Length), with the default limit.
    let server = Server::start(decoder(&keys), Answer::Acknowledge).await;
    let (status, body) = server
        .post_body(&callback, vec![b' '; DEFAULT_MAX_BODY_BYTES + 1])
        .await;
    assert_eq!(status, 413);
    let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply, json!({"code": "FAIL", "message": "body too large"}));
    assert!(server.calls().is_empty());

    // Streamed without a length and never finished: the answer comes once
    // the limit is passed, without waiting for the rest.
    let host = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /notify HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let piece = vec![b' '; 64 * 1024];
    for _ in 0..(DEFAULT_MAX_BODY_BYTES / piece.len() + 2) {
        let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
        chunk.extend_from_slice(&piece);
        chunk.extend_from_slice(b"\r\n");
        if stream.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let mut answer = vec![0; 512];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered before the body ended")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(server.calls().is_empty());

    // A configured limit below a genuine callback's size refuses it; at
    // its size it passes.
    let size = callback.body.len();
    let server = Server::start(
        decoder(&keys).with_max_body_bytes(size - 1),
        Answer::Acknowledge,
    )
    .await;
    assert_eq!(server.post(&callback).await.0, 413);
    let server = Server::start(
        decoder(&keys).with_max_body_bytes(size),
        Answer::Acknowledge,
    )
    .await;
    assert_eq!(server.post(&callback).await.0, 204);

    // The same limit without axum.
    let error = decoder(&keys)
        .with_max_body_bytes(size - 1)
        .decode::<Transaction>(&callback.header_map(), &callback.body)
        .unwrap_err();
    assert!(
        matches!(error, NotificationError::BodyTooLarge { limit, length } if limit == size as u64 - 1 && length == size as u64),
        "{error:?}"
    );
}

#[test]
fn a_duplicate_rejection_replies_success() {
    let rejection = NotificationRejection::Duplicate { id: "EV-1".into() };
    assert!(rejection.is_duplicate());
    assert!(rejection.reply().is_success());
    assert!(rejection.notification_error().is_none());
    assert!(
        rejection.to_string().contains("already handled"),
        "{rejection}"
    );
}
