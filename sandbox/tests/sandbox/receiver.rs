//! Helpers for the callback and control tests: a merchant's callback
//! receiver (a tiny axum server following a script), an unauthenticated
//! client for `/_sandbox/…`, and the callback checks a merchant makes, by
//! hand with `aws-lc-rs`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use wxpay_sandbox::{CallbackAttempt, Sandbox};

use crate::common::{Answer, verify_signature};

/// What the receiver does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Answer this status (204 and 200 mean "received").
    Status(u16),
    /// Answer 204 only after this long (past the sandbox's timeout).
    Hang(Duration),
}

/// One callback as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("ASCII header")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("callback body is JSON")
    }

    /// `TIMESTAMP\nNONCE\nBODY\n`, what the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        [
            self.header("wechatpay-timestamp").as_bytes(),
            b"\n",
            self.header("wechatpay-nonce").as_bytes(),
            b"\n",
            &self.body,
            b"\n",
        ]
        .concat()
    }

    /// Verifies the signature with an SPKI PEM.
    pub fn verify(&self, public_key_pem: &str) -> Result<(), String> {
        verify_signature(
            public_key_pem,
            &self.signed_message(),
            self.header("wechatpay-signature"),
        )
    }

    /// Verifies the signature with a certificate's public key.
    pub fn verify_with_certificate(&self, certificate_pem: &str) -> Result<(), String> {
        let pem = pem::parse(certificate_pem).expect("certificate PEM");
        let (_, certificate) =
            x509_parser::parse_x509_certificate(pem.contents()).expect("X.509 certificate");
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, certificate.public_key().raw)
            .expect("RSA key");
        let signature = BASE64
            .decode(self.header("wechatpay-signature"))
            .map_err(|e| e.to_string())?;
        key.verify_sig(&self.signed_message(), &signature)
            .map_err(|_| "signature does not verify".to_owned())
    }
}

/// A merchant's callback endpoint on loopback, at `url`.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Follows `script` request by request, then answers 204.
    pub async fn start(script: Vec<Behaviour>) -> Receiver {
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (queue, log) = (script.clone(), received.clone());
        let app = axum::Router::new().route(
            "/notify",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (queue, log) = (queue.clone(), log.clone());
                async move {
                    log.lock().unwrap().push(Received {
                        at: Instant::now(),
                        headers,
                        body,
                    });
                    let next = queue.lock().unwrap().pop_front();
                    let status = match next {
                        None => 204,
                        Some(Behaviour::Status(status)) => status,
                        Some(Behaviour::Hang(delay)) => {
                            tokio::time::sleep(delay).await;
                            204
                        }
                    };
                    let status = StatusCode::from_u16(status).expect("status");
                    if status.is_success() {
                        status.into_response()
                    } else {
                        let body = r#"{"code":"FAIL","message":"scripted failure"}"#;
                        let response: Response = (status, body).into_response();
                        response
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/notify", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url,
            received,
            task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `within`) until `count` callbacks arrived.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} callbacks arrived within {within:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A URL where nothing listens (a port that was just free).
pub fn closed_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    format!("http://127.0.0.1:{port}/notify")
}

/// Decrypts a callback's `resource` with the APIv3 key, as a merchant does.
pub fn decrypt(apiv3_key: &str, resource: &Value) -> Vec<u8> {
    let field = |name: &str| resource[name].as_str().expect(name);
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, apiv3_key.as_bytes()).expect("key"));
    let nonce: [u8; 12] = field("nonce").as_bytes().try_into().expect("12-byte nonce");
    let mut in_out = BASE64.decode(field("ciphertext")).expect("base64");
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(field("associated_data").as_bytes()),
            &mut in_out,
        )
        .expect("decrypts and authenticates with the APIv3 key");
    plain.to_vec()
}

/// A plain (unsigned, unauthenticated) request to the control endpoint.
pub async fn control(sandbox: &Sandbox, method: &str, path: &str, body: Option<&str>) -> Answer {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, format!("{}{path}", sandbox.base_url()));
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.expect("sandbox reachable");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// Asks the sandbox to deliver `resource` to `url`; returns the
/// notification id.
pub async fn notify(sandbox: &Sandbox, url: &str, resource: &Value) -> String {
    let body = serde_json::json!({
        "event_type": "TRANSACTION.SUCCESS",
        "notify_url": url,
        "resource": resource,
    });
    let answer = control(sandbox, "POST", "/_sandbox/notify", Some(&body.to_string())).await;
    assert_eq!(
        answer.status,
        202,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()["id"].as_str().expect("id").to_owned()
}

/// Waits (up to `within`) until the log holds an attempt at `id` that
/// ended it (delivered or gave up); returns the attempts at `id`.
pub async fn wait_for_end(sandbox: &Sandbox, id: &str, within: Duration) -> Vec<CallbackAttempt> {
    let deadline = Instant::now() + within;
    loop {
        let attempts: Vec<CallbackAttempt> = sandbox
            .callback_attempts()
            .into_iter()
            .filter(|attempt| attempt.notification_id == id)
            .collect();
        let ended = attempts.iter().any(|attempt| {
            !matches!(
                attempt.outcome,
                wxpay_sandbox::CallbackOutcome::Retrying { .. }
            )
        });
        if ended {
            return attempts;
        }
        assert!(
            Instant::now() < deadline,
            "delivery of {id} did not end within {within:?}: {attempts:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
