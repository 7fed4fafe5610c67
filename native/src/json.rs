//! A strict JSON reader over text already checked to be UTF-8.
//!
//! Standard JSON only (RFC 8259): what it refuses (NaN, lone surrogate escapes, control characters
//! in strings, nesting deeper than [`MAX_DEPTH`], number literals longer than [`MAX_NUMBER`]) is
//! declined, and the Python path decides. Numbers stay their source text, so nothing is rounded.
//! Containers the caller does not read are validated and skipped without building anything.
//!
//! Written by hand, not with serde_json (measured with 1.0.154: structs derived over borrowed text,
//! `IgnoredAny` for the keys not read, `RawValue` for number text), because:
//! - what a struct does not declare, serde_json skips without Python's checks: the skip nests
//!   without limit (Python's decoders refuse about 1000 levels anywhere in the body: a rejection),
//!   and it does not decode `\u` escapes, so a lone surrogate passes (msgspec refuses it, then
//!   Python's `json` accepts it). Declining those takes a second pass over the body or a skipper
//!   of our own, which is most of this reader; its own depth limit is fixed at 128;
//! - a number's source text needs a `RawValue` per value (with `arbitrary_precision` a number
//!   reaches `deserialize_any` as a map, not told apart from an object), and a derived struct also
//!   accepts an array (fields by position), so each declared object needs a wrapper;
//! - it is slower: the benchmark's 7-line order (23,719 bytes) into `wire`'s structs took
//!   18.6-19.2 µs with serde_json (without the checks above) against 12.9-13.4 µs here, and the
//!   validating skip alone 10.9-11.1 µs against 9.7-10.0 µs (the whole call is about 17 µs).

use std::borrow::Cow;

/// The payload is not one this module reproduces exactly: the Python adapter handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decline;

pub type R<T> = Result<T, Decline>;

/// Deeper nesting is declined (Python's decoders accept more, and reject deeper still).
pub const MAX_DEPTH: u32 = 64;
/// Longer number literals are declined (Python refuses integers beyond 4300 digits).
pub const MAX_NUMBER: usize = 400;

/// A value read where the Python adapter takes ``Any``: scalars as read, containers skipped.
#[derive(Debug, Clone)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    /// An integer literal (no fraction, no exponent): msgspec makes it an ``int``.
    Int(&'a str),
    /// A literal with a fraction or an exponent: a ``Decimal`` in Python.
    Float(&'a str),
    Str(Cow<'a, str>),
    Object,
    Array,
}

impl Scalar<'_> {
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
}

pub struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `word` that are `"`, `\` or below 0x20 (high bit set); the lowest one is exact.
#[inline(always)]
fn special_bytes(word: u64) -> u64 {
    let quote = word ^ (ONES * b'"' as u64);
    let backslash = word ^ (ONES * b'\\' as u64);
    let has_quote = quote.wrapping_sub(ONES) & !quote;
    let has_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let has_control = word.wrapping_sub(ONES * 0x20) & !word;
    (has_quote | has_backslash | has_control) & HIGHS
}

/// `scan` eight bytes at a time (any target).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scan_words(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let word = u64::from_le_bytes([
            b[i],
            b[i + 1],
            b[i + 2],
            b[i + 3],
            b[i + 4],
            b[i + 5],
            b[i + 6],
            b[i + 7],
        ]);
        let found = special_bytes(word);
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    scan_bytes(b, i)
}

#[inline(always)]
fn scan_bytes(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// `scan` sixteen bytes at a time (SSE2 is part of every x86-64 CPU).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn scan_sse2(b: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is baseline on x86-64; every load reads 16 bytes inside `b` (checked).
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let control = _mm_set1_epi8(0x1f);
        while i + 16 <= b.len() {
            let chunk = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
            let hits = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(chunk, quote),
                    _mm_cmpeq_epi8(chunk, backslash),
                ),
                _mm_cmpeq_epi8(_mm_min_epu8(chunk, control), chunk), // chunk <= 0x1f
            );
            let mask = _mm_movemask_epi8(hits) as u32;
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    scan_bytes(b, i)
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
        }
    }

    #[inline(always)]
    fn ws(&mut self) {
        let b = self.bytes;
        let mut p = self.pos;
        while p < b.len() && b[p] <= b' ' && matches!(b[p], b' ' | b'\n' | b'\r' | b'\t') {
            p += 1;
        }
        self.pos = p;
    }

    /// The next byte after whitespace (not consumed).
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.pos).copied()
    }

    /// Only whitespace is left.
    pub fn finish(&mut self) -> R<()> {
        self.ws();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(Decline)
        }
    }

    #[inline]
    fn expect(&mut self, byte: u8) -> R<()> {
        self.ws();
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Decline)
        }
    }

    /// The index of the first `"`, `\` or control byte at or after `i` (or the end).
    #[inline(always)]
    fn scan(&self, i: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            scan_sse2(self.bytes, i)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            scan_words(self.bytes, i)
        }
    }

    fn hex4(&mut self) -> R<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(Decline)?;
        let mut value = 0u32;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(Decline),
            };
            value = value << 4 | v as u32;
        }
        self.pos += 4;
        Ok(value)
    }

    /// One escape after its backslash (`self.pos` at the letter); a lone surrogate declines.
    fn escape(&mut self) -> R<char> {
        let c = *self.bytes.get(self.pos).ok_or(Decline)?;
        self.pos += 1;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) {
                    if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                        return Err(Decline);
                    }
                    self.pos += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(Decline);
                    }
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                        .ok_or(Decline)?
                } else {
                    char::from_u32(high).ok_or(Decline)? // a lone low surrogate is no char
                }
            }
            _ => return Err(Decline),
        })
    }

    /// A string (`self.pos` at its opening quote): borrowed unless it has escapes.
    fn string_here(&mut self) -> R<Cow<'a, str>> {
        let start = self.pos + 1;
        let mut i = self.scan(start);
        match self.bytes.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(&self.text[start..i]));
            }
            Some(b'\\') => {}
            _ => return Err(Decline),
        }
        let mut owned = String::with_capacity(i - start + 16);
        owned.push_str(&self.text[start..i]);
        loop {
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => {
                    self.pos = i + 1;
                    owned.push(self.escape()?);
                    let from = self.pos;
                    i = self.scan(from);
                    owned.push_str(&self.text[from..i]);
                }
                _ => return Err(Decline),
            }
        }
    }

    fn skip_string_here(&mut self) -> R<()> {
        let mut i = self.scan(self.pos + 1);
        loop {
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos = i + 1;
                    self.escape()?;
                    i = self.scan(self.pos);
                }
                _ => return Err(Decline),
            }
        }
    }

    /// A number literal (`self.pos` at its first byte): its text, and whether it has a fraction or
    /// an exponent.
    fn number_here(&mut self) -> R<(&'a str, bool)> {
        let b = self.bytes;
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => return Err(Decline),
        }
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                return Err(Decline);
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            float = true;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                return Err(Decline);
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            float = true;
        }
        if i - start > MAX_NUMBER {
            return Err(Decline);
        }
        self.pos = i;
        Ok((&self.text[start..i], float))
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Decline)
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(Decline)
        } else {
            Ok(())
        }
    }

    /// Each member of the object at the cursor: `visit` gets the (unescaped) key and must consume
    /// the value (every reading function here skips the whitespace before it). Returns whether the
    /// object had any member.
    pub fn object(&mut self, mut visit: impl FnMut(&mut Self, Cow<'a, str>) -> R<()>) -> R<bool> {
        self.expect(b'{')?;
        self.enter()?;
        let mut any = false;
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(Decline);
                }
                let key = self.string_here()?;
                self.expect(b':')?;
                visit(self, key)?;
                any = true;
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Decline),
                }
            }
        }
        self.depth -= 1;
        Ok(any)
    }

    /// Each element of the array at the cursor; `visit` must consume it (whitespace included).
    pub fn array(&mut self, mut visit: impl FnMut(&mut Self) -> R<()>) -> R<()> {
        self.expect(b'[')?;
        self.enter()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                visit(self)?;
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Decline),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Validates and skips any value: one loop over the nesting (a bit per level: object or
    /// array), keys validated but not unescaped.
    pub fn skip(&mut self) -> R<()> {
        let b = self.bytes;
        let mut stack: u64 = 0; // bit set: an object; clear: an array (innermost lowest)
        let mut depth: u32 = 0;
        'value: loop {
            self.ws();
            match *b.get(self.pos).ok_or(Decline)? {
                b'"' => self.skip_string_here()?,
                open @ (b'{' | b'[') => {
                    self.pos += 1;
                    depth += 1;
                    if self.depth + depth > MAX_DEPTH {
                        return Err(Decline);
                    }
                    let object = open == b'{';
                    stack = stack << 1 | object as u64;
                    self.ws();
                    let close = if object { b'}' } else { b']' };
                    if b.get(self.pos) == Some(&close) {
                        self.pos += 1;
                        depth -= 1;
                        stack >>= 1;
                    } else {
                        if object {
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => {
                    self.number_here()?;
                }
            }
            // After a value: a separator, or the end of one or more containers.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                self.ws();
                let object = stack & 1 == 1;
                match b.get(self.pos) {
                    Some(b',') => {
                        self.pos += 1;
                        if object {
                            self.skip_key()?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(Decline),
                }
                self.pos += 1;
                depth -= 1;
                stack >>= 1;
            }
        }
    }

    /// A key and its colon, validated.
    #[inline]
    fn skip_key(&mut self) -> R<()> {
        if self.peek() != Some(b'"') {
            return Err(Decline);
        }
        self.skip_string_here()?;
        self.expect(b':')
    }

    /// Any value: scalars as read, containers validated and skipped.
    pub fn scalar(&mut self) -> R<Scalar<'a>> {
        Ok(match self.peek().ok_or(Decline)? {
            b'"' => Scalar::Str(self.string_here()?),
            b'{' => {
                self.skip()?;
                Scalar::Object
            }
            b'[' => {
                self.skip()?;
                Scalar::Array
            }
            b't' => {
                self.literal(b"true")?;
                Scalar::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Scalar::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Scalar::Null
            }
            _ => {
                let (text, float) = self.number_here()?;
                if float {
                    Scalar::Float(text)
                } else {
                    Scalar::Int(text)
                }
            }
        })
    }

    /// `null` at the cursor: consumed, true; anything else: untouched, false.
    pub fn null(&mut self) -> R<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> R<String> {
        let mut r = Reader::new(text);
        let s = r.scalar()?;
        r.finish()?;
        Ok(format!("{s:?}"))
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(read(r#""abc""#).unwrap(), r#"Str("abc")"#);
        assert_eq!(
            read(r#""a\u00e9\n\ud83d\ude00""#).unwrap(),
            "Str(\"aé\\n😀\")"
        );
        assert!(read(r#""\ud800""#).is_err());
        assert!(read(r#""\udc00x""#).is_err());
        assert!(read("\"a\u{1}\"").is_err());
        assert!(read(r#""\x""#).is_err());
        assert!(read(r#""abc"#).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(read("-0").unwrap(), r#"Int("-0")"#);
        assert_eq!(read("1.5e3").unwrap(), r#"Float("1.5e3")"#);
        for bad in ["01", "1.", ".5", "-", "1e", "NaN", "+1", "1e+"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn containers_and_depth() {
        assert_eq!(
            read(r#"{"a": [1, {"b": null}], "c": {}}"#).unwrap(),
            "Object"
        );
        assert!(read(r#"{"a": 1,}"#).is_err());
        assert!(read("[1 2]").is_err());
        let deep = "[".repeat(65) + &"]".repeat(65);
        assert!(read(&deep).is_err());
        let ok = "[".repeat(64) + &"]".repeat(64);
        assert!(read(&ok).is_ok());
    }

    #[test]
    fn special_bytes_finds_the_first() {
        let r = Reader::new("abcdefgh\"ijklmnop");
        assert_eq!(r.scan(0), 8);
        assert_eq!(scan_words(b"abcdefghijklmnop\\", 0), 16);
        let long = "abcdefghijklmnopqrstuvwxyz0123456789\u{7f}\u{80}é\n";
        assert_eq!(Reader::new(long).scan(0), long.len() - 1);
        assert_eq!(scan_words(long.as_bytes(), 0), long.len() - 1);
        let r = Reader::new("ab\u{1f}defgh\"ij");
        assert_eq!(r.scan(0), 2);
        let r = Reader::new("é日本語abcdefgh\\");
        assert_eq!(r.scan(0), "é日本語abcdefgh".len());
    }
}
