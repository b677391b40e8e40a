//! [`DateTime`]: an RFC 3339 timestamp that keeps WeChat Pay's text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An RFC 3339 date-time as WeChat Pay writes it
/// (`2015-05-20T13:29:35.120+08:00`), validated, and kept as the original
/// text so that a round trip sends back exactly what was received: the
/// `+08:00` offset and the sub-second digits included.
///
/// ```
/// use wxpay_core::DateTime;
///
/// let at: DateTime = "2015-05-20T13:29:35.120+08:00".parse()?;
/// assert_eq!(at.as_str(), "2015-05-20T13:29:35.120+08:00");
/// assert_eq!(at.offset_minutes(), 480);
/// assert_eq!(at.unix_timestamp(), 1_432_099_775);
/// assert_eq!(at.nanosecond(), 120_000_000);
/// assert!("2015-05-20 13:29:35".parse::<DateTime>().is_err());
/// // Some WeChat Pay answers leave the seconds out; kept as written.
/// assert_eq!("2025-07-24T00:00+08:00".parse::<DateTime>()?.civil().5, 0);
/// # Ok::<(), wxpay_core::InvalidDateTime>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DateTime {
    text: String,
    unix: i64,
    nanos: u32,
    offset_minutes: i32,
}

/// Text that is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 date-time (like 2015-05-20T13:29:35+08:00): {0:?}")]
pub struct InvalidDateTime(pub String);

impl DateTime {
    /// The text, exactly as received or parsed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_timestamp(&self) -> i64 {
        self.unix
    }

    /// The fraction of the second, in nanoseconds (digits past the ninth
    /// are kept in the text but not here).
    pub fn nanosecond(&self) -> u32 {
        self.nanos
    }

    /// The UTC offset in minutes (`+08:00` is 480, `Z` is 0).
    pub fn offset_minutes(&self) -> i32 {
        self.offset_minutes
    }

    /// The civil date and time as written (in the text's own offset):
    /// `(year, month, day, hour, minute, second)`.
    pub fn civil(&self) -> (i32, u32, u32, u32, u32, u32) {
        let local = self.unix + i64::from(self.offset_minutes) * 60;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (
            y,
            m,
            d,
            (secs / 3600) as u32,
            (secs / 60 % 60) as u32,
            (secs % 60) as u32,
        )
    }
}

fn digits(bytes: &[u8], at: usize, len: usize) -> Option<u32> {
    let slice = bytes.get(at..at + len)?;
    slice.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl FromStr for DateTime {
    type Err = InvalidDateTime;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidDateTime(text.to_owned());
        let b = text.as_bytes();
        let year = digits(b, 0, 4).ok_or_else(invalid)?;
        let month = digits(b, 5, 2).ok_or_else(invalid)?;
        let day = digits(b, 8, 2).ok_or_else(invalid)?;
        let hour = digits(b, 11, 2).ok_or_else(invalid)?;
        let minute = digits(b, 14, 2).ok_or_else(invalid)?;
        // WeChat Pay writes a few times without seconds
        // (`2025-07-24T00:00+08:00`); they are read as `:00` and kept as
        // written.
        let (second, mut at) = match b.get(16) {
            Some(b':') => (digits(b, 17, 2).ok_or_else(invalid)?, 19),
            _ => (0, 16),
        };
        if b.get(4) != Some(&b'-')
            || b.get(7) != Some(&b'-')
            || !matches!(b.get(10), Some(b'T' | b't'))
            || b.get(13) != Some(&b':')
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(invalid());
        }
        let mut nanos = 0u32;
        if at == 19 && b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                if at - start < 9 {
                    nanos = nanos * 10 + u32::from(b[at] - b'0');
                }
                at += 1;
            }
            let count = at - start;
            if count == 0 {
                return Err(invalid());
            }
            for _ in count..9 {
                nanos *= 10;
            }
        }
        let offset_minutes = match b.get(at) {
            Some(b'Z' | b'z') if at + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if at + 6 == b.len() && b[at + 3] == b':' => {
                let h = digits(b, at + 1, 2).ok_or_else(invalid)?;
                let m = digits(b, at + 4, 2).ok_or_else(invalid)?;
                if h > 23 || m > 59 {
                    return Err(invalid());
                }
                let minutes = (h * 60 + m) as i32;
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return Err(invalid()),
        };
        let local = days_from_civil(i64::from(year), month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second.min(59));
        Ok(DateTime {
            text: text.to_owned(),
            unix: local - i64::from(offset_minutes) * 60,
            nanos,
            offset_minutes,
        })
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateTime({:?})", self.text)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::DateTime;

    #[test]
    fn round_trips_keep_the_text() {
        for text in [
            "2015-05-20T13:29:35.120+08:00",
            "2015-05-20T13:29:35+08:00",
            "2019-06-11T00:00:00.000000001Z",
            "2020-02-29T23:59:59-05:30",
            "2025-07-24T00:00+08:00",
        ] {
            let at: DateTime = text.parse().unwrap();
            let json = serde_json::to_string(&at).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            let back: DateTime = serde_json::from_str(&json).unwrap();
            assert_eq!(back.as_str(), text);
            assert_eq!(back, at);
        }
    }

    #[test]
    fn instants_and_parts() {
        let at: DateTime = "2015-05-20T13:29:35.120+08:00".parse().unwrap();
        let utc: DateTime = "2015-05-20T05:29:35.12Z".parse().unwrap();
        assert_eq!(at.unix_timestamp(), utc.unix_timestamp());
        assert_eq!(at.nanosecond(), utc.nanosecond());
        assert_eq!(at.civil(), (2015, 5, 20, 13, 29, 35));
        assert_eq!(utc.offset_minutes(), 0);
        let epoch: DateTime = "1970-01-01T08:00:00+08:00".parse().unwrap();
        assert_eq!(epoch.unix_timestamp(), 0);
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for text in [
            "",
            "2015-05-20",
            "2015-05-20 13:29:35+08:00",
            "2015-05-20T13:29:35",
            "2015-02-30T13:29:35+08:00",
            "2015-05-20T13:29:35.+08:00",
            "2015-05-20T13:29:35+0800",
            "2015-05-20T24:00:00Z",
        ] {
            assert!(text.parse::<DateTime>().is_err(), "{text}");
        }
    }
}
