//! A local WeChat Pay APIv3 simulator for tests and examples.
//!
//! [`Sandbox::start`] runs a real HTTP server on loopback that behaves like
//! WeChat Pay for the coupon-stock ("代金券批次") endpoints: it checks every
//! request's signature exactly as the real service does and signs every
//! answer in "WeChat Pay public key" mode. It is an independent
//! implementation of the server side (it does not use `wxpay-core`), so a
//! bug in the client is not mirrored here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wxpay_sandbox::SandboxError> {
//! let sandbox = wxpay_sandbox::Sandbox::start().await?;
//! let credentials = sandbox.credentials();
//! // Point a client at sandbox.base_url() with these credentials …
//! # let _ = credentials;
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! | method and path | answer |
//! |---|---|
//! | `POST /v3/marketing/favor/coupon-stocks` | `{"stock_id","create_time"}`; the stock is `unactivated` |
//! | `POST /v3/marketing/favor/stocks/{stock_id}/start` | `{"stock_id","start_time"}`; `unactivated` → `running` |
//! | `POST /v3/marketing/favor/stocks/{stock_id}/pause` | `{"stock_id","pause_time"}`; `running` → `paused` |
//! | `POST /v3/marketing/favor/stocks/{stock_id}/restart` | `{"stock_id","restart_time"}`; `paused` → `running` |
//! | `GET /v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid=` | the stock |
//! | `GET /v3/marketing/favor/stocks?offset=&limit=&stock_creator_mchid=` (+ `status`, `create_start_time`, `create_end_time`) | `{"total_count","limit","offset","data"}` |
//!
//! * Stock ids count up from `98065001`. Times are RFC 3339 in China
//!   Standard Time, e.g. `2026-11-27T10:34:56+08:00`.
//! * Creating twice with the same `out_request_no` returns the first
//!   stock (same `stock_id` and `create_time`), whatever the second body.
//! * The list's `offset` is a **page number** from 0 (the spec calls it
//!   "分页页码"): the answer holds the matching stocks
//!   `offset*limit .. offset*limit+limit` in creation order; `limit` is
//!   1 to 10. `create_start_time`/`create_end_time` bound `create_time`
//!   inclusively.
//! * Path segments are percent-decoded once; query values too, with `+`
//!   kept as a plus sign (send `%2B` or `+`, both mean `+`).
//!
//! # Requests
//!
//! Every request to a known endpoint needs
//! `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`
//! (fields in any order), signed with the merchant key over
//! `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n`, where `TARGET` is the path
//! and query exactly as sent and `BODY` the exact body bytes. The timestamp
//! must be within 300 s of the server's real clock. POST bodies must be
//! JSON; a `Content-Type` other than `application/json` is refused, a
//! missing one accepted.
//!
//! # Responses
//!
//! Every response, success or error, carries `Request-ID` and is signed:
//! `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Signature` (base64
//! RSASSA-PKCS1-v1_5/SHA-256 over `TIMESTAMP\nNONCE\nBODY\n` with the
//! platform key), `Wechatpay-Serial` (the public key id) and
//! `Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048`. [`Faults`] break
//! this on purpose.
//!
//! # Errors
//!
//! Errors are `{"code","message","detail"?}`; `detail` (for `PARAM_ERROR`)
//! is `{"field": JSON pointer, "value"?, "issue", "location": "body"|"query"|"path"}`.
//!
//! | status | code | when |
//! |---|---|---|
//! | 400 | `PARAM_ERROR` | a body/query/path parameter is missing, of the wrong type, out of range, not in its enum, not RFC 3339; body not JSON; `available_end_time` not after `available_begin_time`; a NORMAL stock without `coupon_use_rule.fixed_normal_coupon` |
//! | 400 | `INVALID_REQUEST` | a state change the stock's status does not allow (start a running stock, pause an unactivated or paused one, restart a running one, …); a `Content-Type` that is not JSON; an unreadable or over-1-MiB body |
//! | 401 | `SIGN_ERROR` | the `Authorization` header is missing, of another scheme, malformed, lacks or repeats a field; `mchid` or `serial_no` differ from the credentials; the timestamp is not a number or more than 300 s off (the message says by how much); the signature is not base64 or does not verify (the message quotes the signing message the server used, `\n` shown as `\\n`) |
//! | 403 | `NO_AUTH` | `belong_merchant`, `stock_creator_mchid` (body or query) is not the merchant that signed the request, or not the stock's creator |
//! | 404 | `RESOURCE_NOT_EXISTS` | no stock with that id |
//! | 404 | `NOT_FOUND` | no such endpoint (checked before the signature) |
//!
//! # Dependencies
//!
//! * `aws-lc-rs`: RSA-2048 key generation, RSASSA-PKCS1-v1_5/SHA-256
//!   signing and verification.
//! * `axum` (with `tokio`): the HTTP server.
//! * `base64`: signatures travel base64-encoded.
//! * `pem`: keys are handed out and taken in as PEM.
//! * `percent-encoding`: decoding query strings exactly once.
//! * `rand`: ids, nonces, serials, the APIv3 key.
//! * `serde`, `serde_json`: request and response bodies.
//! * `thiserror`: [`SandboxError`].
//! * `time`: RFC 3339 times with the `+08:00` offset, and parsing the
//!   RFC 3339 times clients send.
//! * `tracing`: a debug line per answer, an info line per rejected
//!   signature.
//!
//! For tests only, `reqwest` plays the client: the end-to-end tests in
//! `tests/sandbox/` sign requests and verify answers by hand with
//! `aws-lc-rs`, independently of `wxpay-core`.

mod auth;
mod clock;
mod credentials;
mod errors;
mod favor;
#[cfg(test)]
mod golden_tests;
mod query;
mod server;
mod signing;
mod validation;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use credentials::Credentials;
use server::{AppState, Shared};

/// How long [`Sandbox::shutdown`] waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running sandbox server. Dropping it stops the server (requests in
/// flight are finished in the background); [`Sandbox::shutdown`] also waits
/// for that.
pub struct Sandbox {
    base_url: String,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Options for [`Sandbox::start_with`]. Everything left `None` is generated
/// fresh; supply keys to make runs deterministic or to reuse test vectors.
#[derive(Default, Clone)]
pub struct SandboxConfig {
    /// Where to listen; default `127.0.0.1:0` (a free port).
    pub addr: Option<SocketAddr>,
    /// The merchant id requests must carry.
    pub mchid: Option<String>,
    /// The merchant certificate serial requests must carry.
    pub merchant_serial: Option<String>,
    /// The merchant public key (SPKI or PKCS#1 PEM) to verify requests
    /// with. When given, [`Credentials::merchant_private_key_pem`] is
    /// whatever `merchant_private_key_pem` holds (possibly empty).
    pub merchant_public_key_pem: Option<String>,
    /// The merchant private key (PKCS#8 or PKCS#1 PEM). Without
    /// `merchant_public_key_pem`, the sandbox verifies with its public half.
    pub merchant_private_key_pem: Option<String>,
    /// The key the sandbox signs responses with (PKCS#8 or PKCS#1 PEM).
    pub platform_private_key_pem: Option<String>,
    /// The id responses announce in `Wechatpay-Serial`.
    pub public_key_id: Option<String>,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |key: &Option<String>| key.as_ref().map(|_| "<redacted>");
        f.debug_struct("SandboxConfig")
            .field("addr", &self.addr)
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_public_key_pem", &self.merchant_public_key_pem)
            .field(
                "merchant_private_key_pem",
                &redacted(&self.merchant_private_key_pem),
            )
            .field(
                "platform_private_key_pem",
                &redacted(&self.platform_private_key_pem),
            )
            .field("public_key_id", &self.public_key_id)
            .finish()
    }
}

/// Deliberate misbehaviour, to test how a client copes. Set with
/// [`Sandbox::set_faults`]; the default is a well-behaved server.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Answer 2xx responses without any `Wechatpay-*` signature header
    /// (errors stay signed; `Request-ID` is always sent).
    pub unsigned_responses: bool,
    /// Send `Wechatpay-Signature: WECHATPAY/SIGNTEST/<base64 garbage>`, the
    /// deliberately invalid probe WeChat Pay sometimes sends.
    pub signtest_probe: bool,
    /// Shift `Wechatpay-Timestamp` by this many seconds (the signature
    /// covers the shifted value). Requests are still checked against the
    /// real clock.
    pub clock_offset_secs: i64,
    /// Sign the body, then send it with one byte changed (the last ASCII
    /// letter or digit, so JSON stays JSON; an empty body becomes `" "`).
    pub tamper_body: bool,
    /// Announce a `Wechatpay-Serial` the client cannot know (the public key
    /// id with its last digit changed); the signature itself is valid.
    pub wrong_serial: bool,
    /// Answer every request, before any check and whatever the route, with
    /// this status and `{"code","message"}` (signed like any answer). A
    /// status outside 200..=599 is sent as 500.
    pub status_override: Option<(u16, String, String)>,
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// Generating an RSA key failed.
    #[error("RSA key generation failed")]
    KeyGeneration,
    /// A key given in [`SandboxConfig`] could not be used.
    #[error("{what} is not usable: {reason}")]
    InvalidKey {
        /// The [`SandboxConfig`] field that holds the key.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1` (a free port) with freshly generated
    /// credentials.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts a sandbox with the given options.
    pub async fn start_with(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let addr = config
            .addr
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        // RSA key generation takes a while; keep it off the async threads.
        let (credentials, keys) = tokio::task::spawn_blocking(move || credentials::build(&config))
            .await
            .map_err(|_| SandboxError::KeyGeneration)??;

        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;

        let state = AppState(Arc::new(Shared {
            credentials,
            keys,
            faults: Mutex::new(Faults::default()),
            stocks: Mutex::new(favor::StockStore::default()),
            requests_served: AtomicU64::new(0),
        }));
        let app = server::router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                // Either an explicit stop or the Sandbox being dropped.
                let _ = stopped.await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "sandbox server failed");
            }
        });
        tracing::debug!(%local, "sandbox listening");

        Ok(Sandbox {
            base_url: format!("http://{local}"),
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The credentials a client needs.
    pub fn credentials(&self) -> &Credentials {
        &self.state.0.credentials
    }

    /// Replaces the active faults; requests that arrive from now on see
    /// them.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// Stops the server and waits (up to 5 s) for requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .field("credentials", self.credentials())
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>(_: &T) {}

    #[test]
    fn handles_and_futures_can_cross_threads() {
        let config = SandboxConfig::default();
        assert_send_sync(&config);
        assert_send_sync(&Faults::default());
        // Not awaited: only the type matters.
        let start = Sandbox::start_with(config);
        fn assert_send<T: Send>(_: &T) {}
        assert_send(&start);
        fn sandbox_is_send_sync<T: Send + Sync>() {}
        sandbox_is_send_sync::<Sandbox>();
        sandbox_is_send_sync::<Credentials>();
        sandbox_is_send_sync::<SandboxError>();
    }
}
