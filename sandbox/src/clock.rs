//! Time as WeChat Pay shows it: Unix seconds in signatures, RFC 3339 with
//! the China Standard Time offset (`+08:00`) in bodies.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::{OffsetDateTime, UtcOffset};

/// WeChat Pay writes every time in China Standard Time.
const CHINA_STANDARD_TIME: UtcOffset = offset!(+8);

/// Seconds since the Unix epoch, from the system clock.
pub(crate) fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
        // A clock before 1970: report it as a negative number of seconds.
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Formats Unix seconds as e.g. `2026-11-27T10:34:56+08:00`.
pub(crate) fn format_rfc3339(unix: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+08:00");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(CHINA_STANDARD_TIME).format(format).ok())
        // Only reachable for absurd clocks; keep the answer well-formed JSON.
        .unwrap_or_else(|| unix.to_string())
}

/// Parses an RFC 3339 date-time (any offset, optional fraction) into
/// nanoseconds since the Unix epoch.
pub(crate) fn parse_rfc3339_nanos(text: &str) -> Option<i128> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

/// Unix seconds as nanoseconds, to compare with [`parse_rfc3339_nanos`].
pub(crate) fn secs_to_nanos(unix: i64) -> i128 {
    i128::from(unix) * 1_000_000_000
}

/// `yyyyMMddHHmmss` in China Standard Time.
pub(crate) fn compact_time(unix: i64) -> String {
    format_rfc3339(unix)
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect()
}

/// `yyyy-MM-dd HH:mm:ss` in China Standard Time.
pub(crate) fn spaced_time(unix: i64) -> String {
    format_rfc3339(unix)
        .chars()
        .take(19)
        .map(|c| if c == 'T' { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_china_standard_time() {
        // 2015-05-20T05:29:35Z
        assert_eq!(format_rfc3339(1_432_099_775), "2015-05-20T13:29:35+08:00");
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let a = parse_rfc3339_nanos("2015-05-20T13:29:35.120+08:00").expect("valid");
        let b = parse_rfc3339_nanos("2015-05-20T05:29:35.120Z").expect("valid");
        assert_eq!(a, b);
        assert_eq!(a, secs_to_nanos(1_432_099_775) + 120_000_000);
        assert!(parse_rfc3339_nanos("2015-05-20 13:29:35").is_none());
    }
}
