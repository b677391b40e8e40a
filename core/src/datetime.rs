//! [`DateTime`]: an RFC 3339 timestamp that keeps WeChat Pay's text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

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
    /// The instant, in the text's own offset.
    at: OffsetDateTime,
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
        self.at.unix_timestamp()
    }

    /// The fraction of the second, in nanoseconds (digits past the ninth
    /// are kept in the text but not here).
    pub fn nanosecond(&self) -> u32 {
        self.at.nanosecond()
    }

    /// The UTC offset in minutes (`+08:00` is 480, `Z` is 0).
    pub fn offset_minutes(&self) -> i32 {
        i32::from(self.at.offset().whole_minutes())
    }

    /// The civil date and time as written (in the text's own offset):
    /// `(year, month, day, hour, minute, second)`.
    pub fn civil(&self) -> (i32, u32, u32, u32, u32, u32) {
        let at = self.at;
        (
            at.year(),
            u32::from(u8::from(at.month())),
            u32::from(at.day()),
            u32::from(at.hour()),
            u32::from(at.minute()),
            u32::from(at.second()),
        )
    }
}

fn digits(bytes: &[u8], at: usize, len: usize) -> Option<u32> {
    let slice = bytes.get(at..at + len)?;
    slice.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

impl FromStr for DateTime {
    type Err = InvalidDateTime;

    /// The fields are read here, not with `time`'s `Rfc3339` parser: WeChat
    /// Pay writes some times without seconds, which RFC 3339 (and so that
    /// parser) refuses, and the text must be kept verbatim anyway. What is
    /// read here is only the layout; dates, times and offsets are checked
    /// and counted by `time`.
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
        let offset_minutes: i32 = match b.get(at) {
            Some(b'Z' | b'z') if at + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if at + 6 == b.len() && b[at + 3] == b':' => {
                let h = digits(b, at + 1, 2).ok_or_else(invalid)?;
                let m = digits(b, at + 4, 2).ok_or_else(invalid)?;
                if h > 23 || m > 59 {
                    return Err(invalid());
                }
                let minutes = i32::try_from(h * 60 + m).map_err(|_| invalid())?;
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return Err(invalid()),
        };
        // The calendar (month lengths, leap years) and the arithmetic are
        // `time`'s. A leap second (`:60`) counts as `:59`, as before.
        let small = |value: u32| u8::try_from(value).map_err(|_| invalid());
        let date = Date::from_calendar_date(
            i32::try_from(year).map_err(|_| invalid())?,
            Month::try_from(small(month)?).map_err(|_| invalid())?,
            small(day)?,
        )
        .map_err(|_| invalid())?;
        let time = Time::from_hms_nano(small(hour)?, small(minute)?, small(second.min(59))?, nanos)
            .map_err(|_| invalid())?;
        let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).map_err(|_| invalid())?;
        Ok(DateTime {
            text: text.to_owned(),
            at: PrimitiveDateTime::new(date, time).assume_offset(offset),
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
            "2015-05-20T13:60:00Z",
            "2015-05-20T13:29:61Z",
            "2015-00-20T13:29:35Z",
            "2015-13-20T13:29:35Z",
            "2015-05-00T13:29:35Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2015-05-20T13:29:35+24:00",
            "2015-05-20T13:29:35+08:60",
            "2015-05-20T13:29:35+08:00 ",
        ] {
            assert!(text.parse::<DateTime>().is_err(), "{text}");
        }
    }

    #[test]
    fn calendar_edges() {
        let parse = |text: &str| text.parse::<DateTime>().unwrap();
        assert_eq!(parse("2024-02-29T00:00:00Z").civil().2, 29);
        assert_eq!(parse("2000-02-29T00:00:00Z").unix_timestamp(), 951_782_400);
        assert_eq!(parse("1969-12-31T23:59:59Z").unix_timestamp(), -1);
        let west = parse("2020-02-29T23:59:59-05:30");
        assert_eq!(west.offset_minutes(), -330);
        assert_eq!(west.civil(), (2020, 2, 29, 23, 59, 59));
        assert_eq!(west.unix_timestamp(), 1_583_040_599);
        // A leap second counts as :59, and the text is kept.
        let leap = parse("2016-12-31T23:59:60Z");
        assert_eq!(leap.civil().5, 59);
        assert_eq!(leap.as_str(), "2016-12-31T23:59:60Z");
        assert_eq!(
            parse("2019-06-11T00:00:00.1234567891Z").nanosecond(),
            123_456_789
        );
    }
}
