//! Callback parsing and verification: `NotificationDecoder::decode_at` on
//! (0) headers and body written by the fuzzer, which must never be
//! accepted; (1) a fuzzer-written body validly signed, to reach the
//! envelope parser, where any changed byte must then fail the signature;
//! (2) a fuzzer-written resource encrypted and signed as WeChat Pay does,
//! to reach decryption and the typed resource decoders.
#![no_main]

use std::sync::OnceLock;

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use wxpay_core::NotificationDecoder;
use wxpay_core::notification::NotificationError;
use wxpay_core::notification::resources::Transaction;
use wxpay_fuzz::{NOW, fixtures, signed_headers, split};

const NAMES: [&str; 5] = [
    "wechatpay-timestamp",
    "wechatpay-nonce",
    "wechatpay-signature",
    "wechatpay-serial",
    "wechatpay-signature-type",
];

fn decoder() -> &'static NotificationDecoder {
    static DECODER: OnceLock<NotificationDecoder> = OnceLock::new();
    DECODER.get_or_init(|| {
        let f = fixtures();
        NotificationDecoder::new(f.verifier.clone(), f.apiv3.clone())
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let decoder = decoder();
    match mode % 3 {
        0 => {
            let parts = split(rest, 6);
            let mut headers = HeaderMap::new();
            for (name, value) in NAMES.iter().zip(&parts) {
                if let Ok(value) = HeaderValue::from_bytes(value) {
                    headers.insert(*name, value);
                }
            }
            let result = decoder.decode_at::<Value>(&headers, parts[5], NOW);
            assert!(
                matches!(result, Err(NotificationError::Signature(_))),
                "a callback the fixture key did not sign got past the signature check: {result:?}"
            );
        }
        1 => {
            let headers = signed_headers(rest);
            let _ = decoder.decode_at::<Value>(&headers, rest, NOW);
            let _ = decoder.decode_at::<Transaction>(&headers, rest, NOW);
            if !rest.is_empty() {
                let mut altered = rest.to_vec();
                let at = usize::from(mode) % altered.len();
                altered[at] ^= 0x01;
                let result = decoder.decode_at::<Value>(&headers, &altered, NOW);
                assert!(
                    matches!(result, Err(NotificationError::Signature(_))),
                    "an altered body was accepted: {result:?}"
                );
            }
        }
        _ => {
            let parts = split(rest, 3);
            let event_type = String::from_utf8_lossy(parts[0]);
            let associated_data = String::from_utf8_lossy(parts[1]);
            let nonce = "fuzznonce123";
            let ciphertext = fixtures()
                .apiv3
                .encrypt(nonce, &associated_data, parts[2])
                .expect("encryption works");
            let body = json!({
                "id": "EV-2018022511223320873",
                "create_time": "2015-05-20T13:29:35+08:00",
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": ciphertext,
                    "associated_data": associated_data,
                    "nonce": nonce,
                }
            })
            .to_string();
            let headers = signed_headers(body.as_bytes());
            let value = decoder.decode_at::<Value>(&headers, body.as_bytes(), NOW);
            // Whatever the resource holds, a JSON resource decodes as a Value.
            if serde_json::from_slice::<Value>(parts[2]).is_ok() {
                assert!(value.is_ok(), "a valid callback was refused: {value:?}");
            }
            let _ = decoder.decode_at::<Transaction>(&headers, body.as_bytes(), NOW);
        }
    }
});
