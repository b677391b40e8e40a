//! Checking a request's `Authorization` header the way WeChat Pay does:
//! parse `WECHATPAY2-SHA256-RSA2048 k="v",…`, compare the merchant's
//! identity, the clock, and verify RSASSA-PKCS1-v1_5/SHA-256 over
//! `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n` with the merchant public key.
//!
//! Every failure becomes a 401 `SIGN_ERROR` whose message says what
//! differed, so that a client author can fix the request without guessing.

use aws_lc_rs::signature::ParsedPublicKey;
use axum::http::HeaderValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::errors::ApiError;

/// The only scheme WeChat Pay APIv3 accepts.
pub(crate) const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// How far a request's timestamp may be from the server's clock, either way.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The merchant a request was authenticated as; handlers find it in the
/// request extensions.
#[derive(Debug, Clone)]
pub(crate) struct AuthenticatedMerchant {
    pub(crate) mchid: String,
}

/// What the server expects of every request.
pub(crate) struct Expected<'a> {
    pub(crate) mchid: &'a str,
    pub(crate) serial_no: &'a str,
    pub(crate) merchant_key: &'a ParsedPublicKey,
}

/// The request as it arrived: nothing decoded or re-encoded.
pub(crate) struct ReceivedRequest<'a> {
    pub(crate) method: &'a str,
    /// Path and query exactly as sent on the request line.
    pub(crate) target: &'a str,
    pub(crate) body: &'a [u8],
    pub(crate) authorization: Option<&'a HeaderValue>,
}

/// The five fields of the `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthorizationFields {
    pub(crate) mchid: String,
    pub(crate) nonce_str: String,
    pub(crate) signature: String,
    pub(crate) timestamp: String,
    pub(crate) serial_no: String,
}

const FIELD_NAMES: [&str; 5] = ["mchid", "nonce_str", "signature", "timestamp", "serial_no"];

/// Checks a request; `now` is the server's Unix time.
pub(crate) fn verify(
    expected: &Expected<'_>,
    request: &ReceivedRequest<'_>,
    now: i64,
) -> Result<AuthenticatedMerchant, ApiError> {
    let header = request.authorization.ok_or_else(|| {
        ApiError::sign_error(format!(
            "missing Authorization header; sign the request with the {SCHEME} scheme"
        ))
    })?;
    let header = header.to_str().map_err(|_| {
        ApiError::sign_error("Authorization header is not visible ASCII".to_owned())
    })?;
    let fields = parse_authorization(header).map_err(ApiError::sign_error)?;

    if fields.mchid != expected.mchid {
        return Err(ApiError::sign_error(format!(
            "mchid mismatch: the Authorization header says {:?}, this sandbox's merchant is {:?}",
            fields.mchid, expected.mchid
        )));
    }
    if fields.serial_no != expected.serial_no {
        let hint = if fields.serial_no.eq_ignore_ascii_case(expected.serial_no) {
            " (they differ only in letter case; serials are upper-case hex)"
        } else {
            ""
        };
        return Err(ApiError::sign_error(format!(
            "serial_no mismatch: expected {:?}, got {:?}{hint}",
            expected.serial_no, fields.serial_no
        )));
    }
    check_timestamp(&fields.timestamp, now)?;
    if fields.nonce_str.is_empty() {
        return Err(ApiError::sign_error("nonce_str is empty".to_owned()));
    }

    let message = signing_message(request, &fields);
    let signature = BASE64
        .decode(fields.signature.as_bytes())
        .map_err(|e| ApiError::sign_error(format!("signature is not valid base64 ({e})")))?;
    if expected
        .merchant_key
        .verify_sig(&message, &signature)
        .is_err()
    {
        return Err(ApiError::sign_error(format!(
            "signature does not verify with the merchant public key (serial_no {}) over the \
             message \"{}\"",
            expected.serial_no,
            show_message(&message)
        )));
    }
    Ok(AuthenticatedMerchant {
        mchid: fields.mchid,
    })
}

/// `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n` over the bytes received.
fn signing_message(request: &ReceivedRequest<'_>, fields: &AuthorizationFields) -> Vec<u8> {
    let mut message =
        Vec::with_capacity(request.method.len() + request.target.len() + request.body.len() + 80);
    for line in [
        request.method.as_bytes(),
        request.target.as_bytes(),
        fields.timestamp.as_bytes(),
        fields.nonce_str.as_bytes(),
        request.body,
    ] {
        message.extend_from_slice(line);
        message.push(b'\n');
    }
    message
}

/// Shows a signing message on one line: `\` as `\\`, line feeds as `\n`,
/// carriage returns as `\r`, so it can be compared with the client's.
pub(crate) fn show_message(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => shown.push_str("\\\\"),
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            c => shown.push(c),
        }
    }
    shown
}

fn check_timestamp(timestamp: &str, now: i64) -> Result<(), ApiError> {
    let digits_only = !timestamp.is_empty() && timestamp.bytes().all(|b| b.is_ascii_digit());
    let seconds = digits_only
        .then(|| timestamp.parse::<i64>().ok())
        .flatten()
        .ok_or_else(|| {
            ApiError::sign_error(format!(
                "timestamp {timestamp:?} is not a number of Unix seconds"
            ))
        })?;
    let skew = i128::from(seconds) - i128::from(now);
    if skew.abs() > i128::from(MAX_CLOCK_SKEW_SECS) {
        let direction = if skew > 0 { "ahead of" } else { "behind" };
        let hint = if seconds >= 100_000_000_000 {
            " (it looks like milliseconds; send seconds)"
        } else {
            ""
        };
        return Err(ApiError::sign_error(format!(
            "timestamp {seconds} is {} s {direction} the server time {now} (at most \
             {MAX_CLOCK_SKEW_SECS} s allowed){hint}",
            skew.unsigned_abs()
        )));
    }
    Ok(())
}

/// Parses `WECHATPAY2-SHA256-RSA2048 k="v",k="v",…`. Field order is free,
/// whitespace around `,` and `=` is tolerated, unknown fields are ignored;
/// a duplicate or missing field, or anything malformed, is an error whose
/// text says what was wrong.
pub(crate) fn parse_authorization(header: &str) -> Result<AuthorizationFields, String> {
    let header = header.trim_start();
    let (scheme, params) = match header.find([' ', '\t']) {
        Some(at) => (&header[..at], &header[at..]),
        None => (header, ""),
    };
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(format!(
            "unknown Authorization scheme {scheme:?}; expected {SCHEME}"
        ));
    }

    let mut values: [Option<String>; 5] = Default::default();
    let mut unknown: Vec<String> = Vec::new();
    let mut rest = params;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=').ok_or_else(|| {
            format!("malformed Authorization: expected key=\"value\" at {rest:?}")
        })?;
        let key = rest[..eq].trim_end_matches([' ', '\t']);
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "malformed Authorization: bad field name {key:?} (expected key=\"value\" pairs \
                 separated by commas)"
            ));
        }
        rest = rest[eq + 1..].trim_start_matches([' ', '\t']);
        let quoted = rest.strip_prefix('"').ok_or_else(|| {
            format!("malformed Authorization: the value of {key} must be in double quotes")
        })?;
        let close = quoted.find('"').ok_or_else(|| {
            format!("malformed Authorization: the value of {key} has no closing quote")
        })?;
        let value = &quoted[..close];
        rest = quoted[close + 1..].trim_start_matches([' ', '\t']);

        match FIELD_NAMES.iter().position(|name| *name == key) {
            Some(index) => {
                if values[index].is_some() {
                    return Err(format!("duplicate field {key} in Authorization"));
                }
                values[index] = Some(value.to_owned());
            }
            None => unknown.push(key.to_owned()),
        }

        if rest.is_empty() {
            break;
        }
        rest = rest.strip_prefix(',').ok_or_else(|| {
            format!(
                "malformed Authorization: expected ',' after the value of {key}, found {rest:?}"
            )
        })?;
    }

    let [mchid, nonce_str, signature, timestamp, serial_no] = values;
    let missing = |name: &str| {
        let mut message = format!("Authorization lacks the field {name}");
        if !unknown.is_empty() {
            message.push_str(&format!(" (unknown fields given: {})", unknown.join(", ")));
        }
        message
    };
    Ok(AuthorizationFields {
        mchid: mchid.ok_or_else(|| missing("mchid"))?,
        nonce_str: nonce_str.ok_or_else(|| missing("nonce_str"))?,
        signature: signature.ok_or_else(|| missing("signature"))?,
        timestamp: timestamp.ok_or_else(|| missing("timestamp"))?,
        serial_no: serial_no.ok_or_else(|| missing("serial_no"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"N\",\
                        signature=\"S\",timestamp=\"1554208460\",serial_no=\"ABC\"";

    #[test]
    fn parses_fields_in_any_order() {
        let fields = parse_authorization(GOOD).expect("valid");
        assert_eq!(fields.mchid, "1900009191");
        assert_eq!(fields.serial_no, "ABC");
        let shuffled = "WECHATPAY2-SHA256-RSA2048 serial_no=\"ABC\", timestamp=\"1554208460\",\
                        signature=\"S\",nonce_str=\"N\",mchid=\"1900009191\"";
        assert_eq!(parse_authorization(shuffled).expect("valid"), fields);
    }

    #[test]
    fn reports_what_is_wrong() {
        let cases = [
            ("Bearer abc", "unknown Authorization scheme \"Bearer\""),
            ("WECHATPAY2-SHA256-RSA2048", "lacks the field mchid"),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",mchid=\"2\"",
                "duplicate field mchid",
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=1",
                "value of mchid must be in double quotes",
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=\"1",
                "value of mchid has no closing quote",
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=\"1\" nonce_str=\"2\"",
                "expected ',' after the value of mchid",
            ),
            (
                "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",nonce=\"2\"",
                "lacks the field nonce_str (unknown fields given: nonce)",
            ),
        ];
        for (header, expected) in cases {
            let error = parse_authorization(header).expect_err(header);
            assert!(error.contains(expected), "{header}: {error}");
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let pieces = [
            "WECHATPAY2-SHA256-RSA2048",
            " ",
            "=",
            "\"",
            ",",
            "mchid",
            "x",
            "\t",
            "==",
            "\"\"",
            "serial_no",
            "é",
            "",
            ",,",
        ];
        // Every sequence of up to four pieces.
        let n = pieces.len();
        for a in 0..n {
            for b in 0..n {
                for c in 0..n {
                    for d in 0..n {
                        let header = [pieces[a], pieces[b], pieces[c], pieces[d]].concat();
                        let _ = parse_authorization(&header);
                    }
                }
            }
        }
    }

    #[test]
    fn timestamp_errors_say_how_far() {
        let error = check_timestamp("1000", 2000).expect_err("too old");
        assert!(error.message.contains("1000 s behind"), "{}", error.message);
        let error = check_timestamp("2400", 2000).expect_err("too new");
        assert!(
            error.message.contains("400 s ahead of"),
            "{}",
            error.message
        );
        assert!(check_timestamp("2300", 2000).is_ok());
        assert!(check_timestamp("1700", 2000).is_ok());
        let error = check_timestamp("-5", 2000).expect_err("sign");
        assert!(error.message.contains("not a number"));
        let error = check_timestamp("99999999999999999999999", 2000).expect_err("overflow");
        assert!(error.message.contains("not a number"));
        let error = check_timestamp("1700000000000", 1_700_000_000).expect_err("millis");
        assert!(error.message.contains("milliseconds"));
    }

    #[test]
    fn messages_are_shown_on_one_line() {
        assert_eq!(show_message(b"GET\n/a\\b\r\n"), "GET\\n/a\\\\b\\r\\n");
    }
}
