//! Money as exact integers: amounts in ten-thousandths (Avro decimal(20, 4)), rates in 10^-10
//! (decimal(20, 10)). The rules are `_plain.py`'s and `_common.py`'s; no float anywhere.

use crate::json::{Decline, Scalar, R};

/// A currency code, `[A-Z]{3}`.
pub type Code = [u8; 3];

/// `Money`: an amount at scale 4 in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub units: i128,
    pub code: Code,
}

/// `_plain.money`'s bound on a computed amount: |amount| < 10^16, i.e. 10^20 units at scale 4.
const COMPUTED_LIMIT: i128 = 100_000_000_000_000_000_000;

/// `_fields.PLAIN_AMOUNT` (`-?[0-9]{1,14}(?:\.[0-9]{0,4})?`), in units of 10^-4.
pub fn plain_amount(text: &str) -> Option<i128> {
    let b = text.as_bytes();
    let negative = b.first() == Some(&b'-');
    let mut i = negative as usize;
    let mut units: i64 = 0; // at most 18 digits: fits
    let whole_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        units = units * 10 + (b[i] - b'0') as i64;
        i += 1;
    }
    let whole = i - whole_start;
    if whole == 0 || whole > 14 {
        return None;
    }
    let mut places = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            units = units * 10 + (b[i] - b'0') as i64;
            i += 1;
            places += 1;
        }
    }
    if i != b.len() || places > 4 {
        return None;
    }
    for _ in places..4 {
        units *= 10;
    }
    Some(if negative { -units } else { units } as i128)
}

/// A code of exactly three ASCII capitals (what `_fields.currency` accepts unchanged).
pub fn code(text: &str) -> Option<Code> {
    match text.as_bytes() {
        &[a, b, c]
            if a.is_ascii_uppercase() && b.is_ascii_uppercase() && c.is_ascii_uppercase() =>
        {
            Some([a, b, c])
        }
        _ => None,
    }
}

/// `_fields.currency` for strings that are already a code; other forms are declined.
pub fn currency(value: Option<&Scalar<'_>>) -> R<Code> {
    match value {
        Some(Scalar::Str(s)) => code(s).ok_or(Decline),
        _ => Err(Decline),
    }
}

/// `_fields.amount` for plain amount strings; numbers and other forms are declined.
pub fn amount(value: Option<&Scalar<'_>>) -> R<i128> {
    match value {
        Some(Scalar::Str(s)) => plain_amount(s).ok_or(Decline),
        _ => Err(Decline),
    }
}

/// `_plain.money`: a computed amount is `Money` inside decimal(20, 4); beyond it the model
/// rejects the order, so the payload is declined.
pub fn computed(units: i128, code: Code) -> R<Money> {
    if -COMPUTED_LIMIT < units && units < COMPUTED_LIMIT {
        Ok(Money { units, code })
    } else {
        Err(Decline)
    }
}

/// A JSON number literal as (negative, significant digits without leading zeros, exponent):
/// the value is `digits * 10^exponent`. Declines beyond 36 significant digits or a large exponent.
fn decompose(literal: &str) -> R<(bool, u128, i64, u32)> {
    let (negative, rest) = match literal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, literal),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (
            &rest[..at],
            rest[at + 1..].parse::<i64>().map_err(|_| Decline)?,
        ),
        None => (rest, 0),
    };
    if !(-1000..=1000).contains(&exponent) {
        return Err(Decline);
    }
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: u128 = 0;
    let mut count: u32 = 0;
    for c in whole.bytes().chain(fraction.bytes()) {
        if digits == 0 && c == b'0' {
            continue; // leading zeros carry no digits
        }
        if count >= 36 {
            return Err(Decline);
        }
        digits = digits * 10 + (c - b'0') as u128;
        count += 1;
    }
    Ok((negative, digits, exponent - fraction.len() as i64, count))
}

/// `_fields.rate` for JSON numbers: within 0..100, rounded half-even to 10 places, in 10^-10
/// units. Strings and values outside the range are declined.
pub fn rate(value: &Scalar<'_>) -> R<i128> {
    let literal = match value {
        Scalar::Int(text) | Scalar::Float(text) => *text,
        _ => return Err(Decline),
    };
    let (negative, digits, exponent, count) = decompose(literal)?;
    if digits == 0 {
        return Ok(0);
    }
    if negative {
        return Err(Decline); // below 0: a rejection
    }
    // value = digits * 10^exponent with `count` digits: at least 10^(count - 1 + exponent).
    let magnitude = count as i64 + exponent; // value < 10^magnitude
    if magnitude > 3 {
        return Err(Decline);
    }
    if magnitude == 3 && digits != 10u128.pow(count - 1) {
        return Err(Decline); // in [100, 1000) and not exactly 100
    }
    let shift = exponent + 10; // to units of 10^-10
    if shift >= 0 {
        return Ok((digits * 10u128.pow(shift as u32)) as i128);
    }
    let cut = (-shift) as u32;
    if cut > count {
        return Ok(0); // below half a unit
    }
    let divisor = 10u128.pow(cut);
    let (quotient, remainder) = (digits / divisor, digits % divisor);
    let half = divisor / 2;
    let rounded = if remainder > half || (remainder == half && quotient % 2 == 1) {
        quotient + 1
    } else {
        quotient
    };
    Ok(rounded as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_amounts() {
        assert_eq!(plain_amount("199.00"), Some(1_990_000));
        assert_eq!(plain_amount("-0.5"), Some(-5000));
        assert_eq!(plain_amount("1."), Some(10_000));
        assert_eq!(
            plain_amount("99999999999999.9999"),
            Some(999_999_999_999_999_999)
        );
        for bad in [
            "",
            "-",
            ".5",
            "1.23456",
            "100000000000000",
            "+1",
            " 1",
            "1e3",
            "١",
        ] {
            assert_eq!(plain_amount(bad), None, "{bad}");
        }
    }

    #[test]
    fn rates_round_half_even() {
        let r = |s: &str| rate(&Scalar::Float(s));
        assert_eq!(r("0.06"), Ok(600_000_000));
        assert_eq!(r("6e-2"), Ok(600_000_000));
        assert_eq!(r("0.00000000005"), Ok(0));
        assert_eq!(r("0.00000000015"), Ok(2));
        assert_eq!(r("0.000000000250"), Ok(2));
        assert_eq!(r("0.0000000002500001"), Ok(3));
        assert_eq!(r("100.0"), Ok(1_000_000_000_000));
        assert_eq!(r("-0.0"), Ok(0));
        assert_eq!(r("100.0000000001"), Err(Decline));
        assert_eq!(r("-0.01"), Err(Decline));
        assert_eq!(r("1e400"), Err(Decline));
        assert_eq!(rate(&Scalar::Int("0")), Ok(0));
    }
}
