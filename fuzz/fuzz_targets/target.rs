//! Path and query rendering: a path parameter value becomes exactly one
//! segment that percent-decodes back to the value (or the typed error for
//! the values the design refuses), query pairs decode back to key and
//! value, and the rendered target survives URL handling unchanged
//! (`Client::prepare_raw_at` never answers `TargetAltered` for it).
//! Input: segment value, query key, query value, JSON query object,
//! separated by 0xFF.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use wxpay_core::{BuildError, Client, Error, Method, Target};
use wxpay_fuzz::{NOW, SERIAL, fixtures, split};

const PREFIX: &str = "/v3/things/";

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let f = fixtures();
        Client::builder()
            .base_url("https://api.mch.weixin.qq.com")
            .mchid("1900009191")
            .merchant_key_pem("5157F09EFDC096DE15EBE81A47057A7232F1B8E1", &f.private_pem)
            .wechatpay_public_key_pem(SERIAL, &f.public_pem)
            .build()
            .expect("fixture client")
    })
}

fn decode(text: &str) -> String {
    percent_decode_str(text)
        .decode_utf8()
        .expect("rendered text decodes to UTF-8")
        .into_owned()
}

fuzz_target!(|data: &[u8]| {
    let parts = split(data, 4);
    let value = String::from_utf8_lossy(parts[0]);
    let mut target = Target::new();
    target.push_literal(PREFIX);
    match target.push_segment("id", &*value) {
        Ok(()) => {
            assert!(!value.is_empty() && value != "." && value != "..");
            let segment = &target.as_str()[PREFIX.len()..];
            assert!(
                segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                "{segment:?} holds a character that is not unreserved"
            );
            assert_eq!(decode(segment), value);
        }
        Err(BuildError::EmptyPathParameter { name: "id" }) => assert!(value.is_empty()),
        Err(BuildError::DotSegment { name: "id" }) => assert!(value == "." || value == ".."),
        Err(other) => panic!("unexpected error for {value:?}: {other}"),
    }
    if target.as_str() == PREFIX {
        target.push_literal("x");
    }
    target.push_literal("/detail");
    let path_end = target.as_str().len();

    let key = String::from_utf8_lossy(parts[1]);
    let query_value = String::from_utf8_lossy(parts[2]);
    target.push_query_pair(&key, &query_value);
    let pair = &target.as_str()[path_end + 1..];
    let (k, v) = pair.split_once('=').expect("a pair has '='");
    assert_eq!(decode(k), key);
    assert_eq!(decode(v), query_value);

    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(parts[3]) {
        let _ = target.push_query(&json);
    }

    let rendered = target.as_str();
    match client().prepare_raw_at(Method::Get, rendered, None, NOW, "N0NCE".to_owned()) {
        Ok(request) => assert_eq!(request.target(), rendered),
        Err(Error::Build {
            source: BuildError::TargetAltered { target, sent },
            ..
        }) => panic!("a rendered target is altered by URL handling: {target:?} -> {sent:?}"),
        Err(other) => panic!("{rendered:?}: {other}"),
    }
});
