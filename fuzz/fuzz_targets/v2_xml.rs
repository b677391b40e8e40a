//! APIv2 messages: any body through the XML reader, the answer check
//! (`return_code`, signature, `result_code`) and the payment and refund
//! notification readers. Nothing panics; a document that reads writes
//! back to the same fields; an answer or a payment notification that is
//! accepted verifies under the key with the sign type it was checked with;
//! a decrypted refund's `req_info` came from a message whose outer
//! `return_code` was `SUCCESS`; and no error message quotes the key.
//! Input: mode byte (bit 0: HMAC-SHA256 rather than MD5, bit 1: the
//! operation signs its answers), then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxpay_core::v2::notification::{payment_fields, refund_fields};
use wxpay_core::v2::{Fields, SignType, V2Key, answer_fields, verify};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fuzz_target!(|data: &[u8]| {
    let [mode, body @ ..] = data else {
        return;
    };
    let Ok(key) = V2Key::new(KEY) else {
        return;
    };
    let sign_type = if mode & 1 == 1 {
        SignType::HmacSha256
    } else {
        SignType::Md5
    };
    let signed = mode & 2 == 2;

    if let Ok(fields) = Fields::from_xml(body) {
        let again = Fields::from_xml(fields.to_xml().as_bytes())
            .expect("what the writer wrote reads back");
        assert_eq!(again, fields, "the XML round trip changed the fields");
    }

    match answer_fields(body, &key, sign_type, signed) {
        Ok(fields) => {
            assert_eq!(fields.get("return_code"), Some("SUCCESS"));
            if signed {
                verify(&fields, &key, sign_type).expect("an accepted answer verifies");
            }
        }
        Err(error) => assert!(!error.to_string().contains(KEY), "{error}"),
    }

    match payment_fields(body, &key) {
        Ok(fields) => {
            let announced = match fields.get("sign_type") {
                Some("HMAC-SHA256") => SignType::HmacSha256,
                _ => SignType::Md5,
            };
            verify(&fields, &key, announced).expect("an accepted notification verifies");
        }
        Err(error) => assert!(!error.to_string().contains(KEY), "{error}"),
    }

    match refund_fields(body, &key) {
        Ok(_) => {
            let outer = Fields::from_xml(body).expect("an accepted refund notification reads");
            assert_eq!(outer.get("return_code"), Some("SUCCESS"));
            assert!(outer.get("req_info").is_some_and(|info| !info.is_empty()));
        }
        Err(error) => assert!(!error.to_string().contains(KEY), "{error}"),
    }
});
