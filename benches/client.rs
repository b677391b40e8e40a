//! The client's CPU-bound steps, one at a time, on every compiled crypto
//! backend: `cargo bench -p wxpay --features rust-crypto --bench client`.
//!
//! - `sign`: one RSA-2048 PKCS#1 v1.5 / SHA-256 signature of a typical
//!   request's signing message (base64 included);
//! - `verify`: checking an answer's signature from its headers
//!   ([`Verifier::verify`]);
//! - `request_build`: [`Client::prepare_raw`], a raw GET with its query
//!   (URL, headers, signing message, signature, `Authorization`);
//! - `response_decode`: what happens to a 2xx answer: verify, then decode
//!   the JSON into a typed stock;
//! - `callback_decrypt`: a coupon callback through [`NotificationDecoder`]:
//!   verify, AES-256-GCM decrypt, decode.
//!
//! Keys come from the sandbox's generator; no files, no network.
//! `perf/criterion_table.py` turns the results into the README's table.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde::Deserialize;
use serde_json::json;
use wxpay::http::{HeaderMap, HeaderName, HeaderValue};
use wxpay::notification::NotificationDecoder;
use wxpay::verification::verification_message;
use wxpay::{ApiV3Key, Client, CryptoBackend, MerchantKey, Method, Verifier, VerifyingKey};

const SERIAL: &str = "PUB_KEY_ID_0114232134912410000000000042";

/// A coupon stock as the query answers it (the fields a caller reads).
#[derive(Deserialize)]
#[allow(dead_code)]
struct Stock {
    stock_id: String,
    stock_creator_mchid: String,
    stock_name: String,
    status: String,
    create_time: String,
    description: String,
    available_begin_time: String,
    available_end_time: String,
    distributed_coupons: u64,
    no_cash: bool,
    singleitem: bool,
    stock_type: String,
}

fn stock_body() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "stock_id": "9836588",
        "stock_creator_mchid": "1900009191",
        "stock_name": "微信支付代金券批次",
        "status": "running",
        "create_time": "2030-01-01T10:00:00+08:00",
        "description": "微信支付营销",
        "stock_use_rule": {"max_coupons": 100, "max_amount": 10000, "max_coupons_per_user": 1,
                           "natural_person_limit": false, "prevent_api_abuse": false},
        "available_begin_time": "2030-01-01T00:00:00+08:00",
        "available_end_time": "2030-01-31T23:59:59+08:00",
        "distributed_coupons": 12,
        "no_cash": false,
        "start_time": "2030-01-01T10:00:05+08:00",
        "singleitem": false,
        "stock_type": "NORMAL",
        "cut_to_message": {"single_price_max": 100, "cut_to_price": 1}
    }))
    .expect("stock JSON")
}

/// Headers WeChat Pay would sign `body` with, at `now`, under `key`.
fn signed_headers(key: &MerchantKey, body: &[u8], now: i64) -> HeaderMap {
    let timestamp = now.to_string();
    let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
    let signature = key
        .sign_sha256(&verification_message(&timestamp, nonce, body))
        .expect("sign");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-timestamp", timestamp.as_str()),
        ("wechatpay-nonce", nonce),
        ("wechatpay-signature", signature.as_str()),
        ("wechatpay-serial", SERIAL),
        ("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("header"),
        );
    }
    headers
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn client_steps(c: &mut Criterion) {
    // The sandbox's merchant pair stands in for WeChat Pay's keys too.
    let credentials = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let sandbox = wxpay_sandbox::Sandbox::start().await.expect("sandbox");
            sandbox.credentials().clone()
        })
    })
    .join()
    .expect("key generation");
    let message = b"GET\n/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=1900009191\n1700000000\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n";
    let stock = stock_body();
    let now = now();

    for &backend in CryptoBackend::available() {
        let name = backend.name();
        let key = MerchantKey::from_pem_with(&credentials.merchant_private_key_pem, backend)
            .expect("merchant key");
        let mut verifier = Verifier::new();
        verifier.add_public_key(
            SERIAL,
            VerifyingKey::from_public_key_pem_with(&credentials.merchant_public_key_pem, backend)
                .expect("public key"),
        );
        let answer_headers = signed_headers(&key, &stock, now);

        c.benchmark_group("sign").bench_function(name, |b| {
            b.iter(|| key.sign_sha256(black_box(message)).expect("sign"))
        });

        c.benchmark_group("verify").bench_function(name, |b| {
            b.iter(|| {
                verifier
                    .verify(black_box(&answer_headers), black_box(&stock), now)
                    .expect("verifies")
            })
        });

        let client = Client::builder()
            .base_url("http://127.0.0.1:9")
            .mchid(&credentials.mchid)
            .merchant_key_pem(
                &credentials.merchant_serial,
                &credentials.merchant_private_key_pem,
            )
            .wechatpay_public_key_pem(SERIAL, &credentials.merchant_public_key_pem)
            .crypto_backend(backend)
            .build()
            .expect("client");
        c.benchmark_group("request_build").bench_function(name, |b| {
            b.iter(|| {
                client
                    .prepare_raw(
                        Method::Get,
                        black_box(
                            "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=1900009191",
                        ),
                        None,
                    )
                    .expect("builds")
            })
        });

        c.benchmark_group("response_decode")
            .bench_function(name, |b| {
                b.iter(|| {
                    verifier
                        .verify(black_box(&answer_headers), black_box(&stock), now)
                        .expect("verifies");
                    serde_json::from_slice::<Stock>(black_box(&stock)).expect("decodes")
                })
            });

        let apiv3 = ApiV3Key::new(&credentials.apiv3_key)
            .expect("APIv3 key")
            .with_backend(backend);
        let resource = serde_json::to_vec(&json!({
            "stock_creator_mchid": "9800064", "stock_id": "9865888", "coupon_id": "98674556",
            "coupon_name": "微信支付代金券", "description": "微信支付营销", "status": "SENDED",
            "create_time": "2019-12-20T13:29:35+08:00", "coupon_type": "NORMAL", "no_cash": false,
            "available_begin_time": "2019-12-20T13:29:35+08:00",
            "available_end_time": "2019-12-31T13:29:35+08:00", "singleitem": false,
            "normal_coupon_information": {"coupon_amount": 100, "transaction_minimum": 101}
        }))
        .expect("resource");
        let ciphertext = apiv3
            .encrypt("fdasflkja484", "coupon", &resource)
            .expect("encrypt");
        let callback = serde_json::to_vec(&json!({
            "id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
            "resource_type": "encrypt-resource", "event_type": "COUPON.SEND",
            "summary": "代金券发放", "resource": {"original_type": "coupon",
            "algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext,
            "associated_data": "coupon", "nonce": "fdasflkja484"}
        }))
        .expect("callback");
        let callback_headers = signed_headers(&key, &callback, now);
        let decoder = NotificationDecoder::new(verifier.clone(), apiv3);
        c.benchmark_group("callback_decrypt")
            .bench_function(name, |b| {
                b.iter(|| {
                    decoder
                        .decode_at::<serde_json::Value>(
                            black_box(&callback_headers),
                            black_box(&callback),
                            now,
                        )
                        .expect("decodes")
                })
            });
    }
}

criterion_group!(benches, client_steps);
criterion_main!(benches);
