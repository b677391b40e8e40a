//! Shared helpers of the integration tests.
#![allow(dead_code, missing_docs)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use wxpay::{Client, ClientBuilder, CryptoBackend, MerchantKey};
use wxpay_sandbox::Sandbox;

/// `../shared/vectors`, or `None` after saying loudly that the caller skips.
pub fn vectors(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors");
    if dir.join("golden.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: {} not found; the known-answer vectors were NOT checked",
            dir.display()
        );
        None
    }
}

pub fn read(dir: &std::path::Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("read {file}: {e}"))
}

/// The sandbox's merchant and nothing more: base URL, merchant id and
/// signing key, no WeChat Pay key and no APIv3 key.
pub fn merchant_builder(sandbox: &Sandbox) -> ClientBuilder {
    let credentials = sandbox.credentials();
    Client::builder()
        .base_url(sandbox.base_url())
        .mchid(&credentials.mchid)
        .merchant_key_pem(
            &credentials.merchant_serial,
            &credentials.merchant_private_key_pem,
        )
}

/// The sandbox's merchant in public-key mode: it verifies with the
/// sandbox's WeChat Pay public key.
pub fn sandbox_builder(sandbox: &Sandbox) -> ClientBuilder {
    let credentials = sandbox.credentials();
    merchant_builder(sandbox).wechatpay_public_key_pem(
        &credentials.public_key_id,
        &credentials.platform_public_key_pem,
    )
}

/// The sandbox's merchant in certificate mode: it knows no WeChat Pay key
/// and must download the certificates with its APIv3 key.
pub fn certificate_builder(sandbox: &Sandbox) -> ClientBuilder {
    merchant_builder(sandbox)
        .apiv3_key(&sandbox.credentials().apiv3_key)
        .download_platform_certificates()
}

/// A client for the sandbox's merchant, on the given backend.
pub fn sandbox_client_with(sandbox: &Sandbox, backend: CryptoBackend) -> Client {
    sandbox_builder(sandbox)
        .crypto_backend(backend)
        .build()
        .expect("sandbox credentials make a valid client")
}

pub fn sandbox_client(sandbox: &Sandbox) -> Client {
    sandbox_client_with(sandbox, CryptoBackend::default())
}

/// The WeChat Pay public key id that [`canned_builder`]'s client trusts and
/// that canned answers are signed under.
pub const CANNED_SERIAL: &str = "PUB_KEY_ID_0100000000000000000000000001";

/// A client of a [`CannedServer`] at `base_url`: it signs with `keys` as
/// the merchant and verifies answers with the same pair's public half as
/// WeChat Pay's key ([`CANNED_SERIAL`]).
pub fn canned_builder(keys: &Keys, base_url: &str) -> ClientBuilder {
    Client::builder()
        .base_url(base_url)
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF0123456789", &keys.private_pem)
        .wechatpay_public_key_pem(CANNED_SERIAL, &keys.public_pem)
}

/// A key pair borrowed from a sandbox's generated merchant credentials: a
/// test can sign with the private half as the merchant, or as WeChat Pay
/// with the public half configured as WeChat Pay's key.
pub struct Keys {
    pub signer: MerchantKey,
    pub private_pem: String,
    pub public_pem: String,
}

pub async fn keys() -> Keys {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let credentials = sandbox.credentials().clone();
    sandbox.shutdown().await;
    Keys {
        signer: MerchantKey::from_pem(&credentials.merchant_private_key_pem).unwrap(),
        private_pem: credentials.merchant_private_key_pem,
        public_pem: credentials.merchant_public_key_pem,
    }
}

/// One canned answer of a [`CannedServer`].
#[derive(Clone)]
pub struct Canned {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Canned {
    /// An answer signed with `key` under `serial`, at the current time.
    pub fn signed(status: u16, body: &str, key: &MerchantKey, serial: &str) -> Canned {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let nonce = "cannednoncecannednoncecannednonc";
        let message = format!("{timestamp}\n{nonce}\n{body}\n");
        let signature = key.sign_sha256(message.as_bytes()).unwrap();
        Canned {
            status,
            body: body.as_bytes().to_vec(),
            headers: vec![
                ("Wechatpay-Timestamp".into(), timestamp),
                ("Wechatpay-Nonce".into(), nonce.into()),
                ("Wechatpay-Signature".into(), signature),
                ("Wechatpay-Serial".into(), serial.into()),
                (
                    "Wechatpay-Signature-Type".into(),
                    "WECHATPAY2-SHA256-RSA2048".into(),
                ),
                ("Request-ID".into(), "canned-request-id".into()),
            ],
        }
    }

    pub fn unsigned(status: u16, body: &str) -> Canned {
        Canned {
            status,
            body: body.as_bytes().to_vec(),
            headers: vec![("Request-ID".into(), "canned-request-id".into())],
        }
    }

    /// The same answer with one more header (outside what is signed).
    pub fn with_header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A loopback base URL where nothing listens: a port that was just free,
/// so connecting is refused.
pub fn refused_base_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// A loopback HTTP server that answers each request with the next canned
/// answer, and records what it received.
pub struct CannedServer {
    pub base_url: String,
    pub received: Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CannedServer {
    pub async fn start(answers: Vec<Canned>) -> CannedServer {
        let answers = answers.into_iter().map(|a| (Duration::ZERO, a)).collect();
        CannedServer::start_with_delays(answers).await
    }

    /// [`CannedServer::start`] where each answer is sent only after its
    /// delay (to let a client time out); the request is recorded at once.
    pub async fn start_with_delays(answers: Vec<(Duration, Canned)>) -> CannedServer {
        let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (queue, log) = (answers.clone(), received.clone());
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let (queue, log) = (queue.clone(), log.clone());
                async move {
                    log.lock().unwrap().push((uri.to_string(), headers, body));
                    let next = queue.lock().unwrap().pop_front();
                    let Some((delay, canned)) = next else {
                        return (StatusCode::IM_A_TEAPOT, "no canned answer left").into_response();
                    };
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    let mut response = Response::new(axum::body::Body::from(canned.body));
                    *response.status_mut() = StatusCode::from_u16(canned.status).unwrap();
                    for (name, value) in canned.headers {
                        response.headers_mut().insert(
                            HeaderName::try_from(name).unwrap(),
                            HeaderValue::try_from(value).unwrap(),
                        );
                    }
                    response
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CannedServer {
            base_url,
            received,
            task,
        }
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A fresh, empty scratch folder for one test: `wxpay-<name>-<pid>` in the
/// system's temporary folder, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxpay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names of the entries of `dir`, sorted.
pub fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
