//! Error answers: a 4xx/5xx status, headers and body through the client's
//! error-answer reading (`Error::Api`), and any body's decoding failure
//! through `DecodeProblem`. The answer is always an `Error::Api` keeping
//! status, body and `Request-ID` as received; `code`, `message` and
//! `detail` are the body's when it is WeChat Pay's error JSON, else an
//! empty code and the body's text (at most 512 characters); it is
//! `authenticated` exactly when the fixture key signed it (never for
//! fuzzer-written signature headers); `Retry-After` in seconds is read
//! exactly; and a decoding failure's message never repeats a run of five
//! or more digits (a phone number, an id) found in the body.
//! Input: mode byte, two status bytes, then body, Request-ID, Retry-After,
//! timestamp, nonce, signature, serial, separated by 0xFF.
#![no_main]

use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wxpay_core::notification::resources::Transaction;
use wxpay_core::{DateTime, DecodeProblem, Error};
use wxpay_fuzz::{NOW, fixtures, signed_headers, split};

const NAMES: [&str; 4] = [
    "wechatpay-timestamp",
    "wechatpay-nonce",
    "wechatpay-signature",
    "wechatpay-serial",
];

/// The runs of at least five ASCII digits in `text`.
fn digit_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 5)
        .collect()
}

/// A decoding failure of `body` as `T` must not quote what the body held.
fn decode_problem<T: serde::de::DeserializeOwned>(body: &[u8]) {
    let Err(error) = serde_json::from_slice::<T>(body) else {
        return;
    };
    let problem = DecodeProblem::of(&error);
    let message = problem.message();
    if message.starts_with("invalid length ") {
        return;
    }
    let body = String::from_utf8_lossy(body);
    for run in digit_runs(message) {
        assert!(
            !body.contains(run),
            "the decoding problem {message:?} quotes {run:?} from the body"
        );
    }
    assert_eq!(problem.to_string(), message);
}

fuzz_target!(|data: &[u8]| {
    let [mode, s1, s2, rest @ ..] = data else {
        return;
    };
    let parts = split(rest, 7);
    let body = parts[0];

    // Bodies that fail to decode as typed answers.
    decode_problem::<Transaction>(body);
    decode_problem::<DateTime>(body);
    decode_problem::<Vec<i64>>(body);

    // Any status that is not a success: 100..=199, 300..=599.
    let mut code = 100 + u16::from_be_bytes([*s1, *s2]) % 400;
    if (200..300).contains(&code) {
        code += 300;
    }
    let status = StatusCode::from_u16(code).expect("a valid status");

    let signed = mode & 3;
    let mut headers = match signed {
        // Validly signed by the fixture key.
        1 => signed_headers(body),
        // Signed, then the body changed.
        2 => {
            let mut other = body.to_vec();
            other.push(b' ');
            signed_headers(&other)
        }
        // The fuzzer's headers.
        _ => {
            let mut headers = HeaderMap::new();
            for (name, value) in NAMES.iter().zip(&parts[3..]) {
                if let Ok(value) = HeaderValue::from_bytes(value) {
                    headers.insert(*name, value);
                }
            }
            headers
        }
    };
    let request_id = HeaderValue::from_bytes(parts[1]).ok();
    if let Some(value) = &request_id {
        headers.insert("request-id", value.clone());
    }
    let retry_after = std::str::from_utf8(parts[2]).ok();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert("retry-after", value);
    }

    let error = wxpay_core::__fuzz::api_error(status, headers, body, &fixtures().verifier, NOW);
    let text = error.to_string();
    let Error::Api(api) = error else {
        panic!("an error answer became {error:?}");
    };
    assert_eq!(api.status, code);
    assert_eq!(&api.body[..], body);
    assert_eq!(api.attempts, 1);
    assert_eq!(
        api.request_id.as_deref(),
        request_id.as_ref().and_then(|v| v.to_str().ok())
    );
    assert_eq!(
        api.authenticated,
        signed == 1,
        "authenticated: {}",
        api.authenticated
    );
    assert_eq!(
        api.is_retryable(),
        matches!(code, 429 | 500 | 502 | 503 | 504)
    );

    // code, message, detail: the body's, or the text fallback.
    let fallback: String = String::from_utf8_lossy(body).chars().take(512).collect();
    // serde skips ignored values without checking all of them (the UTF-8
    // of strings, the range of numbers), so the model reads the body with
    // invalid bytes replaced, and only where it can.
    let json = serde_json::from_str::<Value>(&String::from_utf8_lossy(body));
    if api.code.is_empty() && api.message == fallback && api.detail.is_none() {
        // The text fallback (or JSON that says just that).
    } else if let Ok(json) = json {
        let (code_field, message_field, detail_field) = match &json {
            Value::Object(map) => (map.get("code"), map.get("message"), map.get("detail")),
            // serde's derive also reads a struct from an array, in order.
            Value::Array(items) => (items.first(), items.get(1), items.get(2)),
            other => panic!("fields read from {other}"),
        };
        assert_eq!(
            api.code,
            code_field.and_then(Value::as_str).unwrap_or_default()
        );
        assert_eq!(
            api.message,
            message_field.and_then(Value::as_str).unwrap_or_default()
        );
        assert_eq!(api.detail.as_ref(), detail_field.filter(|d| !d.is_null()));
    }
    assert_eq!(
        api.field(),
        api.detail
            .as_ref()
            .and_then(|d| d.get("field"))
            .and_then(Value::as_str)
    );

    if let Some(value) = retry_after
        && HeaderValue::from_str(value).is_ok()
    {
        let trimmed = value.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let expected = trimmed
                .parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs);
            assert_eq!(api.retry_after, Some(expected), "Retry-After {value:?}");
        }
    } else {
        assert_eq!(api.retry_after, None);
    }

    assert!(text.contains(&format!("HTTP {code}")), "{text}");
    if !api.authenticated {
        assert!(text.contains("[error body not authenticated"), "{text}");
    }
});
