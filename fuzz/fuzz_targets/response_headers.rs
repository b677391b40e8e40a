//! Response header parsing: the five signature headers through
//! `SignatureHeaders::from_headers` and `Verifier::verify` (whose answer
//! must never be Ok for a signature the fuzzer wrote), and `Retry-After`.
//! Input: up to seven parts separated by 0xFF: timestamp, nonce,
//! signature, serial, signature type, body, Retry-After. The first byte is
//! a mask of which headers are present.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use wxpay_core::__fuzz::parse_retry_after;
use wxpay_core::verification::SignatureHeaders;
use wxpay_fuzz::{NOW, fixtures, split};

const NAMES: [&str; 5] = [
    "wechatpay-timestamp",
    "wechatpay-nonce",
    "wechatpay-signature",
    "wechatpay-serial",
    "wechatpay-signature-type",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mask, rest)) = data.split_first() else {
        return;
    };
    let parts = split(rest, 7);
    let mut headers = HeaderMap::new();
    for (index, (name, value)) in NAMES.iter().zip(&parts).enumerate() {
        if mask & (1 << index) != 0 {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.append(*name, value);
        }
    }
    let _ = SignatureHeaders::from_headers(&headers);
    let _ = SignatureHeaders::any_present(&headers);
    let result = fixtures().verifier.verify(&headers, parts[5], NOW);
    assert!(
        result.is_err(),
        "a signature the fixture key never made was accepted"
    );

    if let Ok(value) = std::str::from_utf8(parts[6]) {
        let now = UNIX_EPOCH + Duration::from_secs(NOW as u64);
        if let Some(wait) = parse_retry_after(value, now) {
            // Digits only: exactly that many seconds (or "indefinitely").
            let trimmed = value.trim();
            if trimmed.bytes().all(|b| b.is_ascii_digit()) {
                match trimmed.parse::<u64>() {
                    Ok(secs) => assert_eq!(wait, Duration::from_secs(secs)),
                    Err(_) => assert_eq!(wait, Duration::MAX),
                }
            }
        }
    }
});
