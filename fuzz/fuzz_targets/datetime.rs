//! `DateTime` parsing: text the fuzzer wrote through `FromStr` and serde.
//! Refused text is an `InvalidDateTime` holding that text. Accepted text
//! is kept verbatim (parse → format → parse gives an equal value, and so
//! does a JSON round trip); its civil fields are the digits written (a
//! leap second reads as :59); re-formatted canonically from its parts
//! (instant, nanoseconds, offset) it parses to the same instant; and where
//! the `time` crate also reads it as RFC 3339, both agree on the instant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wxpay_core::{DateTime, InvalidDateTime};

fn number(text: &str, at: usize, len: usize) -> u32 {
    text[at..at + len]
        .parse()
        .expect("digits the parser accepted")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let at = match text.parse::<DateTime>() {
        Ok(at) => at,
        Err(InvalidDateTime(refused)) => {
            assert_eq!(refused, text);
            assert!(serde_json::from_value::<DateTime>(serde_json::Value::from(text)).is_err());
            return;
        }
    };

    // Kept verbatim; parse → format → parse.
    assert_eq!(at.as_str(), text);
    let formatted = at.to_string();
    assert_eq!(formatted, text);
    assert_eq!(formatted.parse::<DateTime>().as_ref(), Ok(&at));
    let json = serde_json::to_string(&at).expect("serializes");
    assert_eq!(
        serde_json::from_str::<DateTime>(&json).ok().as_ref(),
        Some(&at)
    );

    // The civil fields are the ones written.
    let (year, month, day, hour, minute, second) = at.civil();
    assert_eq!(year as u32, number(text, 0, 4));
    assert_eq!(month, number(text, 5, 2));
    assert_eq!(day, number(text, 8, 2));
    assert_eq!(hour, number(text, 11, 2));
    assert_eq!(minute, number(text, 14, 2));
    let written_second = if text.as_bytes()[16] == b':' {
        number(text, 17, 2)
    } else {
        0
    };
    assert_eq!(second, written_second.min(59));
    assert!(at.nanosecond() < 1_000_000_000);
    assert!(at.offset_minutes().abs() < 24 * 60);

    // Canonical text from the parts parses to the same instant.
    let offset = at.offset_minutes();
    let canonical = format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:09}{}{:02}:{:02}",
        at.nanosecond(),
        if offset < 0 { '-' } else { '+' },
        offset.abs() / 60,
        offset.abs() % 60
    );
    let again: DateTime = canonical.parse().expect("canonical text parses");
    assert_eq!(again.unix_timestamp(), at.unix_timestamp(), "{canonical}");
    assert_eq!(again.nanosecond(), at.nanosecond());
    assert_eq!(again.offset_minutes(), offset);
    assert_eq!(again.civil(), at.civil());

    // Another RFC 3339 reader agrees on the instant (leap seconds aside).
    if written_second < 60
        && let Ok(other) = OffsetDateTime::parse(text, &Rfc3339)
    {
        assert_eq!(other.unix_timestamp(), at.unix_timestamp(), "{text}");
        assert_eq!(other.nanosecond(), at.nanosecond(), "{text}");
        assert_eq!(i32::from(other.offset().whole_minutes()), offset);
    }
});
