//! `_fields.timestamp`: an ISO-8601 instant with an offset, as microseconds since the epoch (UTC).
//!
//! Python's `datetime.fromisoformat` takes many forms; the one accepted here is the usual
//! `YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|±HH:MM)` (a space for the `T` too, as the adapter replaces
//! it). Every other form is declined.

use crate::json::{Decline, Scalar, R};
use crate::text::py_strip;

/// The UTC range of Python's `datetime`: 0001-01-01 up to (not including) 10000-01-01.
const MIN_MICROS: i64 = -62_135_596_800 * 1_000_000;
const END_MICROS: i64 = 253_402_300_800 * 1_000_000;

fn digits(b: &[u8], at: usize, n: usize) -> R<i64> {
    let part = b.get(at..at + n).ok_or(Decline)?;
    let mut v = 0i64;
    for &c in part {
        if !c.is_ascii_digit() {
            return Err(Decline);
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Ok(v)
}

fn byte(b: &[u8], at: usize, want: u8) -> R<()> {
    if b.get(at) == Some(&want) {
        Ok(())
    } else {
        Err(Decline)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse(text: &str) -> R<i64> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    byte(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    byte(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    byte(b, 10, b'T')?;
    let hour = digits(b, 11, 2)?;
    byte(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    byte(b, 16, b':')?;
    let second = digits(b, 17, 2)?;
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(Decline);
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(Decline);
    }
    let mut at = 19;
    let mut micros = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while at < b.len() && b[at].is_ascii_digit() {
            at += 1;
        }
        let n = at - start;
        if n == 0 || n > 6 {
            return Err(Decline);
        }
        micros = digits(b, start, n)? * 10i64.pow((6 - n) as u32);
    }
    let offset_minutes = match b.get(at) {
        Some(b'Z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if at + 6 == b.len() => {
            let hours = digits(b, at + 1, 2)?;
            byte(b, at + 3, b':')?;
            let minutes = digits(b, at + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return Err(Decline);
            }
            let total = hours * 60 + minutes;
            if sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return Err(Decline),
    };
    let local_seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = (local_seconds - offset_minutes * 60) * 1_000_000 + micros;
    if !(MIN_MICROS..END_MICROS).contains(&utc) {
        return Err(Decline); // outside years 1-9999 in UTC: a rejection
    }
    Ok(utc)
}

/// `_fields.timestamp`: required.
pub fn timestamp(value: Option<&Scalar<'_>>) -> R<i64> {
    let Some(Scalar::Str(s)) = value else {
        return Err(Decline);
    };
    if !s.is_ascii() {
        return Err(Decline);
    }
    let stripped = py_strip(s);
    match stripped.find(' ') {
        Some(at) => parse(&format!("{}T{}", &stripped[..at], &stripped[at + 1..])),
        None => parse(stripped),
    }
}

/// `_fields.opt_timestamp`: absent, null or a blank string is None.
pub fn opt_timestamp(value: Option<&Scalar<'_>>) -> R<Option<i64>> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) if py_strip(s).is_empty() => Ok(None),
        _ => timestamp(value).map(Some),
    }
}

/// `schemas.base.utc_millis` and Avro `timestamp-millis`: milliseconds, rounded down.
pub fn millis(micros: i64) -> i64 {
    micros.div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn ts(s: &str) -> R<i64> {
        timestamp(Some(&Scalar::Str(Cow::Borrowed(s))))
    }

    #[test]
    fn instants() {
        assert_eq!(ts("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(ts("2008-01-10T11:00:00-05:00"), Ok(1_199_980_800_000_000));
        assert_eq!(
            ts(" 2008-01-10 16:00:00.5+00:00\n"),
            Ok(1_199_980_800_500_000)
        );
        assert_eq!(ts("1969-12-31T23:59:59.999999Z"), Ok(-1));
        assert_eq!(millis(-1), -1);
        assert!(ts("2024-02-29T00:00:00Z").is_ok());
        for bad in [
            "2023-02-29T00:00:00Z",
            "2008-01-10T24:00:00Z",
            "2008-01-10T11:00:00",
            "2008-01-10T11:00:00.1234567Z",
            "2008-01-10T11:00:00+0500",
            "2008-01-10T11:00Z",
            "0001-01-01T00:00:00+00:01",
            "2008-01-10T11:00:00z",
            "2008-01-10T11:00:00.Z",
        ] {
            assert_eq!(ts(bad), Err(Decline), "{bad}");
        }
    }
}
