//! Request authentication end to end: a request (method, `/v3/…` target,
//! headers, body) through the sandbox's whole router in process (tower's
//! `oneshot` on a current-thread runtime): both layers, routing, body
//! limits, multipart parsing, the `Authorization` check over the body's
//! (or the `meta` part's) bytes, the handlers and the answer's signature.
//! (0) The fuzzer writes the `Authorization` header: never a 2xx. (1) The
//! target signs the request as a client does, at a fuzzer-chosen clock
//! skew: refused with 401 exactly when the skew is beyond five minutes
//! (or the request is not what it signed, e.g. URI handling changed the
//! target); the same request with one body byte flipped is a 401. Every
//! answer carries a `Request-ID` and, unless it is a successful file
//! download, a WeChat Pay signature that verifies with the sandbox's
//! platform key.
//! Input: mode byte, skew byte, then method, target, headers (`name:
//! value` lines), body, Authorization, separated by 0xFF; `{mchid}` in
//! the target or body stands for the sandbox's merchant id.
#![no_main]

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes, to_bytes};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;
use tower::ServiceExt as _;
use wxpay_core::verification::Verifier;
use wxpay_core::{MerchantKey, PlatformCertificate, VerifyingKey};
use wxpay_fuzz::split;
use wxpay_sandbox::__fuzz::{App, is_multipart, parse_multipart};

struct Harness {
    runtime: Runtime,
    app: App,
    signer: MerchantKey,
    verifier: Verifier,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let app = App::new().expect("an in-process sandbox");
        let credentials = app.credentials();
        let signer =
            MerchantKey::from_pem(&credentials.merchant_private_key_pem).expect("merchant key");
        let mut verifier = Verifier::new();
        verifier.add_public_key(
            credentials.public_key_id.clone(),
            VerifyingKey::from_public_key_pem(&credentials.platform_public_key_pem)
                .expect("platform key"),
        );
        verifier.add_certificate(
            &PlatformCertificate::from_pem(&credentials.platform_certificate_pem)
                .expect("platform certificate"),
        );
        Harness {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime"),
            app,
            signer,
            verifier,
        }
    })
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The status, headers and body of the answer to one request.
fn send(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> (u16, HeaderMap, Bytes) {
    let h = harness();
    let mut request = Request::new(Body::from(body.to_vec()));
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    h.runtime.block_on(async {
        let response = h.app.router().oneshot(request).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let body = to_bytes(body, usize::MAX).await.expect("an answer body");
        (parts.status.as_u16(), parts.headers, body)
    })
}

/// Every answer has a `Request-ID`; all but successful file downloads
/// are signed by the platform key.
fn check_answer(status: u16, headers: &HeaderMap, body: &[u8]) {
    assert!(
        headers.contains_key("request-id"),
        "{status}: no Request-ID"
    );
    let unsigned_file =
        (200..300).contains(&status) && !headers.contains_key("wechatpay-signature");
    if !unsigned_file && let Err(error) = harness().verifier.verify(headers, body, unix_now()) {
        panic!("a {status} answer does not verify: {error}");
    }
    if status >= 400 {
        let json: serde_json::Value =
            serde_json::from_slice(body).expect("an error answer is JSON");
        assert!(json["code"].is_string(), "{json}");
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, skew, rest @ ..] = data else {
        return;
    };
    let parts = split(rest, 6);
    let Ok(method) = Method::from_bytes(parts[0]) else {
        return;
    };
    // Only the simulated API: the control routes (`/_sandbox/…`) are
    // unauthenticated by design, and some are slow (key rotation).
    // `{mchid}` stands for the sandbox's merchant id, made at start-up.
    let mchid = harness().app.credentials().mchid.as_str();
    let mut target = String::from_utf8_lossy(parts[1]).replace("{mchid}", mchid);
    if !target.starts_with("/v3/") {
        target.insert_str(0, "/v3/");
    }
    let Ok(uri) = target.parse::<Uri>() else {
        return;
    };
    let mut headers = HeaderMap::new();
    for line in parts[2].split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_bytes(value.trim_ascii()),
        ) && name != http::header::AUTHORIZATION
        {
            headers.append(name, value);
        }
    }
    let body = String::from_utf8_lossy(parts[3]);
    let body = if body.contains("{mchid}") {
        body.replace("{mchid}", mchid).into_bytes()
    } else {
        parts[3].to_vec()
    };
    let body = &body[..];

    if mode & 1 == 0 {
        if let Ok(value) = HeaderValue::from_bytes(parts[4]) {
            headers.insert(http::header::AUTHORIZATION, value);
        }
        let (status, answer_headers, answer) = send(&method, &uri, &headers, body);
        assert!(
            !(200..300).contains(&status),
            "{method} {target}: a request the fuzzer signed got {status}"
        );
        check_answer(status, &answer_headers, &answer);
        return;
    }

    // Signed as a client signs: over the meta part for an upload.
    let signed: Vec<u8> = if is_multipart(&headers) {
        let upload = harness()
            .runtime
            .block_on(parse_multipart(&headers, Bytes::copy_from_slice(body)));
        match upload {
            Ok(upload) => upload.meta.to_vec(),
            Err(_) => body.to_vec(),
        }
    } else {
        body.to_vec()
    };
    // -128..=127 steps of 5 s: up to about ten minutes either way.
    let skew_secs = i64::from(*skew as i8) * 5;
    let timestamp = unix_now() + skew_secs;
    let nonce = "FUZZ0NONCE0123456789ABCDEFGHIJKL";
    let mut message = format!("{method}\n{target}\n{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(&signed);
    message.push(b'\n');
    let h = harness();
    let signature = h.signer.sign_sha256(&message).expect("signs");
    let credentials = h.app.credentials();
    let authorization = format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
        credentials.mchid, credentials.merchant_serial
    );
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&authorization).expect("ASCII"),
    );
    let (status, answer_headers, answer) = send(&method, &uri, &headers, body);
    check_answer(status, &answer_headers, &answer);

    // Refused before the signature: unknown path (404), wrong method
    // (405), an unreadable upload or body (400).
    let before_signature = matches!(status, 404 | 405)
        || (status == 400 && (is_multipart(&headers) || body.len() > 1024 * 1024));
    let verbatim = uri.path_and_query().map(|pq| pq.as_str()) == Some(target.as_str());
    if before_signature || !verbatim {
        return;
    }
    // The clock checks within a few seconds of the limit either way.
    if skew_secs.abs() <= 295 {
        assert_ne!(
            status, 401,
            "{method} {target} signed at skew {skew_secs}s: {answer:?}"
        );
    } else if skew_secs.abs() >= 305 {
        assert_eq!(status, 401, "{method} {target} signed at skew {skew_secs}s");
        return;
    }
    // The same request with one body byte changed is refused.
    if !is_multipart(&headers) && !body.is_empty() {
        let mut altered = body.to_vec();
        let at = usize::from(*mode >> 1) % altered.len();
        altered[at] ^= 0x01;
        let (status, answer_headers, answer) = send(&method, &uri, &headers, &altered);
        check_answer(status, &answer_headers, &answer);
        assert_eq!(
            status, 401,
            "{method} {target}: an altered body got {status}"
        );
    }
});
