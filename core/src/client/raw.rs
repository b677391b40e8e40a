//! Raw requests: a method and a request target chosen at run time, signed,
//! sent and verified like a declared endpoint's.
//!
//! [`Endpoint`](crate::Endpoint) carries its method and path template as
//! associated constants, so a method read from a command line or a config
//! file cannot be expressed through it, and [`Client::send`] hands back
//! the decoded body only. [`Client::prepare_raw`] builds and signs a
//! request from a method, a target string and optional JSON bytes;
//! [`Client::send_raw`] sends it (or any [`PreparedRequest`]) once and
//! returns the verified answer whole: status, headers (`Request-ID`
//! included) and body bytes; [`Client::send_raw_with`] does the same under
//! a retry policy, retrying as the request's
//! [`Idempotency`] allows.
//!
//! ```no_run
//! # async fn run(client: wxpay_core::Client) -> Result<(), wxpay_core::Error> {
//! use wxpay_core::Method;
//!
//! let request = client.prepare_raw(Method::Get, "/v3/certificates", None)?;
//! let answer = client.send_raw(&request).await?;
//! println!("{} {:?}", answer.status, answer.request_id());
//! # Ok(()) }
//! ```

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};

use std::time::Duration;

use reqwest::Url;

use super::send::request_url;
use super::{CallOptions, Client, join};
use crate::endpoint::{Body, Idempotency, Method};
use crate::error::{Error, Operation};
use crate::request::PreparedRequest;
use crate::retry::Attempts;
use crate::signing::{new_nonce, unix_now};
use crate::target::BuildError;
use crate::verification::{VerifyError, header};

/// The path template raw requests report in errors and in
/// [`PreparedRequest::operation`]: the rendered target is never quoted
/// there (see [`Operation`]), and a raw request has no template of its own.
pub const RAW_TEMPLATE: &str = "{target}";

/// A verified answer to a raw request: a 2xx whose WeChat Pay signature
/// checked out, exactly as it arrived.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawAnswer {
    /// The HTTP status (always 2xx: other statuses are [`Error::Api`]).
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body bytes the signature covers (empty for a 204).
    pub body: Bytes,
}

impl RawAnswer {
    /// The `Request-ID` header, when the answer carried one.
    pub fn request_id(&self) -> Option<&str> {
        self.headers
            .get(header::REQUEST_ID)
            .and_then(|value| value.to_str().ok())
    }
}

impl Client {
    /// Builds and signs a request for `method` and `target` without sending
    /// it.
    ///
    /// `target` is the path and query exactly as they are to be signed and
    /// sent (`/v3/marketing/favor/stocks?offset=0&limit=10`): nothing
    /// encodes it here, so encode query values beforehand
    /// ([`Target::push_query_pair`](crate::Target::push_query_pair) does it
    /// as declared endpoints do). `body`, when given, is sent and signed
    /// byte for byte as `application/json`, whatever the method (WeChat
    /// Pay's GET operations take none, and most DELETE operations); it is
    /// not checked.
    ///
    /// # Errors
    /// [`Error::Build`] with [`BuildError::TargetAltered`] when the target
    /// would not reach the server as written (it does not start with `/`,
    /// holds characters URL handling escapes, a fragment, …);
    /// [`Error::Sign`] when the merchant key cannot sign.
    pub fn prepare_raw(
        &self,
        method: Method,
        target: &str,
        body: Option<Bytes>,
    ) -> Result<PreparedRequest, Error> {
        self.prepare_raw_at(method, target, body, unix_now(), new_nonce())
    }

    /// [`Client::prepare_raw`] with a fixed timestamp and nonce, for tests
    /// and for reproducing a signature.
    ///
    /// # Errors
    /// As [`Client::prepare_raw`], and [`BuildError::InvalidNonce`] when
    /// the nonce is not ASCII letters and digits.
    pub fn prepare_raw_at(
        &self,
        method: Method,
        target: &str,
        body: Option<Bytes>,
        timestamp: i64,
        nonce: String,
    ) -> Result<PreparedRequest, Error> {
        let operation = Operation {
            method,
            template: RAW_TEMPLATE,
        };
        let build = |source| Error::Build { operation, source };
        if nonce.is_empty() || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(build(BuildError::InvalidNonce));
        }
        let url = join(self.inner.routes.base_url(), target).map_err(build)?;
        let mut headers = self.inner.common_headers.clone();
        let body = match body {
            Some(bytes) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Body::Json(bytes)
            }
            None => Body::Empty,
        };
        let mut request = PreparedRequest {
            operation,
            target: target.to_owned(),
            url,
            headers,
            body,
            timestamp,
            nonce,
            idempotency: Idempotency::of_method(method),
            host: crate::Host::Api,
        };
        request.authorize(&self.inner.signer)?;
        Ok(request)
    }

    /// Sends `request` once (no retry, no failover: the caller sees exactly
    /// what happened) and returns the answer when it is a 2xx with a valid
    /// WeChat Pay signature.
    ///
    /// The checks are [`Client::send`]'s: in certificate mode the
    /// certificates are downloaded first when none is known yet, and once
    /// more when the answer names an unknown serial. Any
    /// [`PreparedRequest`] can be sent this way, a declared endpoint's from
    /// [`Client::prepare`] included, to see its answer's headers.
    ///
    /// # Errors
    /// [`Error::Api`] for a 4xx/5xx answer (its signature, when present, is
    /// checked and reported in [`ApiError::authenticated`]);
    /// [`Error::Verification`] for a 2xx without a valid signature (its
    /// body is not returned); [`Error::Transport`] / [`Error::Timeout`]
    /// when no answer arrived; [`Error::ResponseTooLarge`] when the answer
    /// is larger than [`ClientBuilder::max_response_bytes`] (8 MiB by
    /// default); [`Error::Certificates`] when a needed certificate download
    /// failed.
    ///
    /// [`ClientBuilder::max_response_bytes`]: crate::ClientBuilder::max_response_bytes
    ///
    /// [`ApiError::authenticated`]: crate::ApiError::authenticated
    pub async fn send_raw(&self, request: &PreparedRequest) -> Result<RawAnswer, Error> {
        self.ensure_certificates().await?;
        self.raw_attempt(request, None, self.inner.timeout).await
    }

    /// [`Client::send_raw`] under a retry policy: the client's, or the one
    /// in `options`. Which failures are retried follows the request's
    /// [`PreparedRequest::idempotency`] (or the one in `options`), exactly
    /// as for [`Client::send`]: a raw request's is its method's, so a
    /// `POST` is sent again only when the first attempt provably never
    /// left, unless the caller says it carries its operation's number
    /// ([`PreparedRequest::with_idempotency`]). Retries are signed again
    /// and fail over to the backup host like [`Client::send`]'s.
    ///
    /// # Errors
    /// As [`Client::send_raw`], from the last attempt; [`Error::attempts`]
    /// says how many were made.
    pub async fn send_raw_with(
        &self,
        request: PreparedRequest,
        options: &CallOptions,
    ) -> Result<RawAnswer, Error> {
        self.ensure_certificates().await?;
        let policy = options.retry.as_ref().unwrap_or(&self.inner.retry);
        let timeout = options.timeout.unwrap_or(self.inner.timeout);
        let idempotency = options.idempotency.unwrap_or(request.idempotency);
        let mut attempts = Attempts::start(policy, self.backup_for(request.host), idempotency);
        let mut request = request;
        loop {
            match self.raw_attempt(&request, attempts.base(), timeout).await {
                Ok(answer) => return Ok(answer),
                Err(error) => attempts.after_failure(error).await?,
            }
            request = request.resigned(&self.inner.signer, unix_now(), new_nonce())?;
        }
    }

    /// One raw attempt: send to `base` (the request's own URL when `None`),
    /// then check the status and the signature.
    async fn raw_attempt(
        &self,
        request: &PreparedRequest,
        base: Option<&Url>,
        timeout: Duration,
    ) -> Result<RawAnswer, Error> {
        let operation = request.operation;
        let url = request_url(request, base)?;
        let answer = self.transmit(request, url, timeout).await?;
        let request_id = answer.request_id();
        tracing::debug!(
            method = operation.method.as_str(),
            status = answer.status.as_u16(),
            request_id = request_id.as_deref().unwrap_or_default(),
            "raw answer"
        );
        let now = unix_now();
        if !answer.status.is_success() {
            return Err(answer.api_error(operation, &self.inner.keys.snapshot(), now));
        }
        let reject = |source| Error::Verification {
            operation,
            status: answer.status,
            request_id: request_id.clone(),
            source,
        };
        match self
            .inner
            .keys
            .snapshot()
            .verify(&answer.headers, &answer.body, now)
        {
            Ok(()) => {}
            Err(VerifyError::UnknownSerial { serial, .. })
                if self.refresh_for_unknown_serial(&serial, None).await =>
            {
                self.inner
                    .keys
                    .snapshot()
                    .verify(&answer.headers, &answer.body, unix_now())
                    .map_err(reject)?;
            }
            Err(source) => return Err(reject(source)),
        }
        Ok(RawAnswer {
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::path::PathBuf;

    use super::*;
    use crate::endpoint::Endpoint;
    use crate::keys::MerchantKey;
    use crate::target::Target;
    use crate::verification::verification_message;

    const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";

    /// The merchant's private key and the "WeChat Pay" key pair, as PEM.
    struct Keys {
        merchant_private: String,
        platform_private: String,
        platform_public: String,
    }

    fn vectors() -> Option<PathBuf> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors");
        dir.join("golden.json").is_file().then_some(dir)
    }

    fn read(dir: &std::path::Path, name: &str) -> String {
        std::fs::read_to_string(dir.join("keys").join(name))
            .unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// The vectors' keys when present, else keys generated here (aws-lc),
    /// else `None` after saying loudly that the test is skipped.
    fn keys(test: &str) -> Option<Keys> {
        if let Some(dir) = vectors() {
            return Some(Keys {
                merchant_private: read(&dir, "merchant_private_key.pem"),
                platform_private: read(&dir, "platform_private_key.pem"),
                platform_public: read(&dir, "platform_public_key.pem"),
            });
        }
        generated(test)
    }

    #[cfg(feature = "aws-lc")]
    fn generated(_test: &str) -> Option<Keys> {
        use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
        use aws_lc_rs::rsa::{KeyPair, KeySize};
        use aws_lc_rs::signature::KeyPair as _;
        use base64::Engine as _;
        fn pem(label: &str, der: &[u8]) -> String {
            let text = base64::engine::general_purpose::STANDARD.encode(der);
            let mut out = format!("-----BEGIN {label}-----\n");
            for line in text.as_bytes().chunks(64) {
                out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
                out.push('\n');
            }
            out.push_str(&format!("-----END {label}-----\n"));
            out
        }
        let pair = || KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let merchant = pair();
        let platform = pair();
        let spki: PublicKeyX509Der<'static> = platform.public_key().as_der().expect("SPKI");
        Some(Keys {
            merchant_private: pem("PRIVATE KEY", merchant.as_der().expect("PKCS#8").as_ref()),
            platform_private: pem("PRIVATE KEY", platform.as_der().expect("PKCS#8").as_ref()),
            platform_public: pem("PUBLIC KEY", spki.as_ref()),
        })
    }

    #[cfg(not(feature = "aws-lc"))]
    fn generated(test: &str) -> Option<Keys> {
        eprintln!("SKIPPED {test}: ../shared/vectors not found and no aws-lc to make keys");
        None
    }

    fn client(keys: &Keys, base_url: &str) -> Client {
        Client::builder()
            .mchid("1900009191")
            .merchant_key_pem(
                "5F1C72E2A8931B72A2E13AF8DEE92471EB397115",
                keys.merchant_private.as_str(),
            )
            .wechatpay_public_key_pem(PUBLIC_KEY_ID, keys.platform_public.as_str())
            .base_url(base_url)
            .build()
            .expect("client")
    }

    #[test]
    fn reproduces_the_golden_request_signature() {
        let Some(dir) = vectors() else {
            eprintln!(
                "SKIPPED reproduces_the_golden_request_signature: ../shared/vectors not found; the golden signature was NOT checked"
            );
            return;
        };
        let golden: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("golden.json")).expect("read golden.json"),
        )
        .expect("golden.json is JSON");
        let case = &golden["requests"][0];
        let text = |name: &str| case[name].as_str().expect(name).to_owned();
        let keys = keys("reproduces_the_golden_request_signature").expect("vectors hold keys");
        let client = client(&keys, "http://127.0.0.1:1");
        let method = match text("method").as_str() {
            "POST" => Method::Post,
            "GET" => Method::Get,
            other => panic!("case 0 uses {other}"),
        };
        let body = text("body");
        let request = client
            .prepare_raw_at(
                method,
                &text("uri"),
                (!body.is_empty()).then(|| Bytes::from(body)),
                text("timestamp").parse().expect("timestamp"),
                text("nonce"),
            )
            .expect("prepared");
        assert_eq!(request.signing_message(), text("message").into_bytes());
        let authorization = request.headers()["authorization"].to_str().expect("ASCII");
        assert!(
            authorization.contains(&format!("signature=\"{}\"", text("signature"))),
            "{authorization}"
        );
    }

    /// A hand-written endpoint, to compare with the same request made raw.
    struct Start;

    impl Endpoint for Start {
        const METHOD: Method = Method::Post;
        const PATH_TEMPLATE: &'static str = "/v3/marketing/favor/stocks/{stock_id}/start";
        type Response = serde_json::Value;

        fn render_target(&self, out: &mut Target) -> Result<(), BuildError> {
            out.push_literal("/v3/marketing/favor/stocks/");
            out.push_segment("stock_id", "98 065")?;
            out.push_literal("/start");
            out.push_query_pair("a", "b|c");
            Ok(())
        }

        fn body(&self) -> Result<Body, BuildError> {
            Body::json(&serde_json::json!({"stock_creator_mchid": "1900009191"}))
        }
    }

    #[test]
    fn a_raw_request_is_the_declared_one_byte_for_byte() {
        let Some(keys) = keys("a_raw_request_is_the_declared_one_byte_for_byte") else {
            return;
        };
        let client = client(&keys, "http://127.0.0.1:1");
        let nonce = "0123456789abcdefABCDEF0123456789";
        let typed = client
            .prepare_at(&Start, 1_700_000_000, nonce.to_owned())
            .expect("typed");
        let raw = client
            .prepare_raw_at(
                Method::Post,
                typed.target(),
                Some(Bytes::copy_from_slice(typed.body().as_bytes())),
                1_700_000_000,
                nonce.to_owned(),
            )
            .expect("raw");
        assert_eq!(
            raw.target(),
            "/v3/marketing/favor/stocks/98%20065/start?a=b%7Cc"
        );
        assert_eq!(raw.url(), typed.url());
        assert_eq!(raw.headers(), typed.headers());
        assert_eq!(raw.body(), typed.body());
        assert_eq!(raw.signing_message(), typed.signing_message());
        assert_eq!(raw.operation().template, RAW_TEMPLATE);

        let get = client
            .prepare_raw_at(Method::Get, "/v3/certificates", None, 1, nonce.to_owned())
            .expect("GET");
        assert_eq!(get.body(), &Body::Empty);
        assert!(get.headers().get(CONTENT_TYPE).is_none());
        assert_eq!(
            get.signing_message(),
            format!("GET\n/v3/certificates\n1\n{nonce}\n\n").into_bytes()
        );
    }

    #[test]
    fn targets_that_would_change_on_the_way_are_refused() {
        let Some(keys) = keys("targets_that_would_change_on_the_way_are_refused") else {
            return;
        };
        let client = client(&keys, "http://127.0.0.1:1");
        for target in [
            "",
            "v3/certificates",
            "/v3/a b",
            "/v3/x#y",
            "/v3/é",
            "/v3/a/../b",
        ] {
            let error = client
                .prepare_raw(Method::Get, target, None)
                .expect_err(target);
            assert!(
                matches!(
                    error,
                    Error::Build {
                        source: BuildError::TargetAltered { .. },
                        ..
                    }
                ),
                "{target:?}: {error}"
            );
            assert!(error.to_string().starts_with("GET {target}: "), "{error}");
        }
        let error = client
            .prepare_raw_at(Method::Get, "/v3/certificates", None, 1, "a b".to_owned())
            .expect_err("nonce");
        assert!(matches!(
            error,
            Error::Build {
                source: BuildError::InvalidNonce,
                ..
            }
        ));
    }

    /// Serves one connection with `answer(request bytes)` on a thread;
    /// returns the base URL and the request as received.
    fn serve_once(
        answer: impl FnOnce(&[u8]) -> Vec<u8> + Send + 'static,
    ) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut received = Vec::new();
            let mut buffer = [0; 4096];
            // Headers, then as many body bytes as Content-Length says.
            loop {
                let read = stream.read(&mut buffer).expect("read");
                received.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&received).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if received.len() >= end + 4 + length || read == 0 {
                        break;
                    }
                } else if read == 0 {
                    break;
                }
            }
            let response = answer(&received);
            stream.write_all(&response).expect("write");
            received
        });
        (base, handle)
    }

    fn response(status: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(body);
        out.into_bytes()
    }

    fn signed(keys: &Keys, body: &str) -> Vec<(&'static str, String)> {
        let timestamp = unix_now().to_string();
        let nonce = "nonceOfTheAnswer";
        let signer = MerchantKey::from_pem(&keys.platform_private).expect("platform key");
        let signature = signer
            .sign_sha256(&verification_message(&timestamp, nonce, body.as_bytes()))
            .expect("sign");
        vec![
            ("Wechatpay-Timestamp", timestamp),
            ("Wechatpay-Nonce", nonce.to_owned()),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", PUBLIC_KEY_ID.to_owned()),
            (
                "Wechatpay-Signature-Type",
                "WECHATPAY2-SHA256-RSA2048".to_owned(),
            ),
            ("Request-ID", "REQ-1".to_owned()),
        ]
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_signed_answer_comes_back_whole_and_the_request_went_out_as_signed() {
        let Some(keys) = keys("a_signed_answer_comes_back_whole") else {
            return;
        };
        let body = r#"{"stock_id":"98065001"}"#;
        let headers = signed(&keys, body);
        let (base, server) = serve_once(move |_| response("200 OK", &headers, body));
        let client = client(&keys, &base);
        let sent = br#"{"x": 1}"#;
        let request = client
            .prepare_raw(
                Method::Post,
                "/v3/anything?q=1",
                Some(Bytes::from_static(sent)),
            )
            .expect("prepared");
        let answer = runtime()
            .block_on(client.send_raw(&request))
            .expect("answer");
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, body.as_bytes());
        assert_eq!(answer.request_id(), Some("REQ-1"));

        let received = String::from_utf8(server.join().expect("server")).expect("UTF-8");
        assert!(
            received.starts_with("POST /v3/anything?q=1 HTTP/1.1\r\n"),
            "{received}"
        );
        assert!(received.ends_with("\r\n\r\n{\"x\": 1}"), "{received}");
        let lower = received.to_ascii_lowercase();
        assert!(
            lower.contains("content-type: application/json\r\n"),
            "{received}"
        );
        assert!(lower.contains(&format!(
            "wechatpay-serial: {}\r\n",
            PUBLIC_KEY_ID.to_ascii_lowercase()
        )));
        let authorization = request.headers()["authorization"].to_str().expect("ASCII");
        assert!(received.contains(authorization), "{received}");
    }

    #[test]
    fn an_unsigned_success_is_rejected_and_an_error_status_is_an_api_error() {
        let Some(keys) = keys("an_unsigned_success_is_rejected") else {
            return;
        };
        let (base, server) = serve_once(|_| {
            response(
                "200 OK",
                &[("Request-ID", "REQ-2".to_owned())],
                r#"{"forged":true}"#,
            )
        });
        let client = client(&keys, &base);
        let request = client
            .prepare_raw(Method::Get, "/v3/x", None)
            .expect("prepared");
        let error = runtime()
            .block_on(client.send_raw(&request))
            .expect_err("unsigned");
        assert!(
            matches!(
                &error,
                Error::Verification {
                    status: http::StatusCode::OK,
                    source: VerifyError::MissingHeader { .. },
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(error.request_id(), Some("REQ-2"));
        server.join().expect("server");

        let body = r#"{"code":"PARAM_ERROR","message":"bad","detail":{"field":"/x"}}"#;
        let headers = signed(&keys, body);
        let (base, server) = serve_once(move |_| response("400 Bad Request", &headers, body));
        let client = super::tests::client(&keys, &base);
        let request = client
            .prepare_raw(Method::Get, "/v3/x", None)
            .expect("prepared");
        let error = runtime()
            .block_on(client.send_raw(&request))
            .expect_err("400");
        let api = error.as_api().expect("an API error");
        assert_eq!(
            (api.status, api.code.as_str(), api.message.as_str()),
            (http::StatusCode::BAD_REQUEST, "PARAM_ERROR", "bad")
        );
        assert_eq!(api.detail, Some(serde_json::json!({"field": "/x"})));
        assert!(api.authenticated);
        server.join().expect("server");
    }
}
