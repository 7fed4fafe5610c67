//! Avro binary encoding, byte for byte what fastavro (and `bus/avro_fast.py`) write.

use crate::money::Money;

pub fn long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z > 0x7f {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

pub fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    long(out, b.len() as i64);
    out.extend_from_slice(b);
}

pub fn string(out: &mut Vec<u8>, s: &str) {
    bytes(out, s.as_bytes());
}

pub fn boolean(out: &mut Vec<u8>, b: bool) {
    out.push(b as u8);
}

/// The branch of a `["null", X]` union: 0 for null, 1 (zigzag 2) for the value.
pub fn null(out: &mut Vec<u8>) {
    out.push(0);
}

pub fn some(out: &mut Vec<u8>) {
    out.push(2);
}

pub fn opt_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => null(out),
        Some(s) => {
            some(out);
            string(out, s);
        }
    }
}

pub fn opt_long(out: &mut Vec<u8>, n: Option<i64>) {
    match n {
        None => null(out),
        Some(n) => {
            some(out);
            long(out, n);
        }
    }
}

/// An enum symbol by its index.
pub fn symbol(out: &mut Vec<u8>, index: i64) {
    long(out, index);
}

/// The block count that opens a non-empty array or map (fastavro writes one block).
pub fn block(out: &mut Vec<u8>, count: usize) {
    if count > 0 {
        long(out, count as i64);
    }
}

/// The zero count that closes an array or a map.
pub fn end(out: &mut Vec<u8>) {
    out.push(0);
}

/// A `bytes`/`decimal` value from its unscaled integer: big-endian two's complement in
/// `(bit_length(|n|) + 8) // 8` bytes (fastavro's length, not always the shortest).
pub fn decimal(out: &mut Vec<u8>, unscaled: i128) {
    let bits = 128 - unscaled.unsigned_abs().leading_zeros() as usize;
    let size = (bits + 8) / 8;
    let all = unscaled.to_be_bytes();
    bytes(out, &all[16 - size..]);
}

/// `Money`: its amount (decimal(20, 4)) and its currency code.
pub fn money(out: &mut Vec<u8>, m: &Money) {
    decimal(out, m.units);
    bytes(out, &m.code);
}

pub fn opt_money(out: &mut Vec<u8>, m: Option<&Money>) {
    match m {
        None => null(out),
        Some(m) => {
            some(out);
            money(out, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(n: i128) -> Vec<u8> {
        let mut out = Vec::new();
        decimal(&mut out, n);
        out
    }

    #[test]
    fn decimals_as_fastavro() {
        assert_eq!(dec(0), vec![2, 0]);
        assert_eq!(dec(127), vec![2, 127]);
        assert_eq!(dec(128), vec![4, 0, 128]);
        assert_eq!(dec(-128), vec![4, 0xff, 0x80]);
        assert_eq!(dec(-1), vec![2, 0xff]);
        assert_eq!(dec(1_990_000), vec![6, 0x1e, 0x5d, 0x70]);
    }

    #[test]
    fn longs_zigzag() {
        let mut out = Vec::new();
        long(&mut out, -1);
        long(&mut out, 64);
        assert_eq!(out, vec![1, 0x80, 0x01]);
    }
}
