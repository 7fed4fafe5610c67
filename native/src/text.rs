//! Python's string rules as the adapter applies them (`_fields.text`, `opt_text`, `str.strip`).

use std::borrow::Cow;

use crate::json::{Decline, Scalar, R};

/// `str.isspace()` in Python 3.11: bidirectional class WS, B or S, or category Zs.
pub fn py_isspace(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// `str.strip()` without arguments.
pub fn py_strip(s: &str) -> &str {
    // The usual case first: printable ASCII at both ends, nothing to strip.
    match s.as_bytes() {
        [first, .., last] if (0x21..0x7f).contains(first) && (0x21..0x7f).contains(last) => s,
        [only] if (0x21..0x7f).contains(only) => s,
        _ => s.trim_matches(py_isspace),
    }
}

/// `str(int)` of an integer literal: "-0" is "0"; longer than 18 digits declines.
pub fn int_text(literal: &str) -> R<Cow<'_, str>> {
    let digits = literal.strip_prefix('-').unwrap_or(literal);
    if digits.len() > 18 {
        return Err(Decline);
    }
    Ok(Cow::Borrowed(if digits == "0" { "0" } else { literal }))
}

/// The integer value of an integer literal of at most 18 digits.
pub fn int_value(literal: &str) -> R<i64> {
    let digits = literal.strip_prefix('-').unwrap_or(literal);
    if digits.len() > 18 {
        return Err(Decline);
    }
    literal.parse::<i64>().map_err(|_| Decline)
}

/// `_fields.text`: a string as sent, an integer as its digits; anything else is a rejection.
pub fn text<'a>(value: Option<&Scalar<'a>>) -> R<Cow<'a, str>> {
    match value {
        Some(Scalar::Str(s)) => Ok(s.clone()),
        Some(Scalar::Int(literal)) => int_text(literal),
        _ => Err(Decline),
    }
}

/// `_fields.opt_text`: absent, null or blank is None.
pub fn opt_text<'a>(value: Option<&Scalar<'a>>) -> R<Option<Cow<'a, str>>> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) => Ok(if py_strip(s).is_empty() {
            None
        } else {
            Some(s.clone())
        }),
        Some(Scalar::Int(literal)) => int_text(literal).map(Some),
        _ => Err(Decline),
    }
}

/// `opt_text(a) or opt_text(b)`: `b` is read only when `a` gives nothing.
pub fn or_text<'a>(
    first: Option<Cow<'a, str>>,
    second: impl FnOnce() -> R<Option<Cow<'a, str>>>,
) -> R<Option<Cow<'a, str>>> {
    match first {
        Some(text) => Ok(Some(text)),
        None => second(),
    }
}

/// `_fields.opt_boolean` for JSON booleans; its string forms ("true") are declined.
pub fn opt_boolean(value: Option<&Scalar<'_>>, default: bool) -> R<bool> {
    match value {
        None | Some(Scalar::Null) => Ok(default),
        Some(Scalar::Bool(b)) => Ok(*b),
        _ => Err(Decline),
    }
}

/// `_fields.quantity` for JSON integers within ±10^9; other forms are declined.
pub fn quantity(value: Option<&Scalar<'_>>) -> R<i64> {
    match value {
        Some(Scalar::Int(literal)) => {
            let n = int_value(literal)?;
            if (-1_000_000_000..=1_000_000_000).contains(&n) {
                Ok(n)
            } else {
                Err(Decline)
            }
        }
        _ => Err(Decline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_is_pythons() {
        assert_eq!(py_strip("\u{1f} a b\u{3000}\u{85}"), "a b");
        assert_eq!(py_strip("\u{200b}x"), "\u{200b}x"); // zero-width space is not whitespace in Python
    }

    #[test]
    fn ints_as_text() {
        assert_eq!(int_text("-0").unwrap(), "0");
        assert_eq!(int_text("-12").unwrap(), "-12");
        assert!(int_text("1234567890123456789").is_err());
    }
}
