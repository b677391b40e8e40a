//! The sandbox's query parsing (`k=v&…`, percent-decoded once, `+` kept)
//! against a model written here: it accepts exactly the queries whose
//! keys and values decode to UTF-8 with no key twice, and then reads every
//! pair back; a refusal is a 400 `PARAM_ERROR` in the query naming the
//! parameter; a canonical re-encoding of the pairs parses to the same
//! pairs; integers and date-times read through its accessors agree with
//! the text (and, for date-times, with `wxpay_core::DateTime` where both
//! accept it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use wxpay_sandbox::__fuzz::{Refusal, parse_query};

/// What the query should parse to: the pairs, or the field a refusal
/// names.
fn model(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in raw.split('&') {
        if piece.is_empty() {
            continue;
        }
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let Ok(decoded_key) = percent_decode_str(key).decode_utf8() else {
            return Err(format!("/{key}"));
        };
        let decoded_key = decoded_key.into_owned();
        let Ok(decoded_value) = percent_decode_str(value).decode_utf8() else {
            return Err(format!("/{decoded_key}"));
        };
        if pairs.iter().any(|(k, _)| *k == decoded_key) {
            return Err(format!("/{decoded_key}"));
        }
        pairs.push((decoded_key, decoded_value.into_owned()));
    }
    Ok(pairs)
}

fn assert_query_refusal(refusal: &Refusal, field: &str) {
    assert_eq!(refusal.status, 400, "{refusal:?}");
    assert_eq!(refusal.body["code"], "PARAM_ERROR", "{refusal:?}");
    assert_eq!(refusal.body["detail"]["location"], "query", "{refusal:?}");
    assert_eq!(refusal.body["detail"]["field"], field, "{refusal:?}");
}

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let parsed = parse_query(Some(&raw));
    match (parsed, model(&raw)) {
        (Ok(query), Ok(pairs)) => {
            for (key, value) in &pairs {
                assert_eq!(query.get(key), Some(value.as_str()), "{key:?}");
            }
            if !pairs.iter().any(|(k, _)| k == "\u{0}absent") {
                assert_eq!(query.get("\u{0}absent"), None);
            }

            // Canonical re-encoding reads back the same.
            let encoded: Vec<String> = pairs
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        utf8_percent_encode(k, NON_ALPHANUMERIC),
                        utf8_percent_encode(v, NON_ALPHANUMERIC)
                    )
                })
                .collect();
            let again = parse_query(Some(&encoded.join("&"))).expect("canonical query parses");
            for (key, value) in &pairs {
                assert_eq!(again.get(key), Some(value.as_str()));
            }

            for (key, value) in pairs.iter().take(4) {
                match query.required_integer(key, 1, 1000) {
                    Ok(n) => {
                        assert_eq!(value.parse::<u64>(), Ok(n));
                        assert!((1..=1000).contains(&n));
                    }
                    Err(refusal) => assert_query_refusal(&refusal, &format!("/{key}")),
                }
                match query.optional_datetime(key) {
                    Ok(Some(nanos)) => {
                        if let Ok(at) = value.parse::<wxpay_core::DateTime>() {
                            let core = i128::from(at.unix_timestamp()) * 1_000_000_000
                                + i128::from(at.nanosecond());
                            // A leap second: core reads :60 as :59.
                            if !value.contains(":60") {
                                assert_eq!(core, nanos, "{value:?}");
                            }
                        }
                    }
                    Ok(None) => panic!("{key:?} was given"),
                    Err(refusal) => assert_query_refusal(&refusal, &format!("/{key}")),
                }
            }
        }
        (Err(refusal), Err(field)) => assert_query_refusal(&refusal, &field),
        (Ok(query), Err(field)) => panic!("accepted, though {field} is wrong: {query:?}"),
        (Err(refusal), Ok(pairs)) => panic!("refused {pairs:?}: {refusal:?}"),
    }
    assert!(parse_query(None).is_ok());
});
