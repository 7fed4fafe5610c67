//! `schemas.ids.canonical_id`: UUIDv5 of `json_list([system, account, entity, native id])`.

use sha1::{Digest, Sha1};

use crate::json::{Decline, R};
use crate::text::py_strip;

/// `schemas.ids.CANONICAL_NAMESPACE` (6f1c3f0e-5a7d-5b8e-9c61-3d2f4e8a1b90).
const NAMESPACE: [u8; 16] = [
    0x6f, 0x1c, 0x3f, 0x0e, 0x5a, 0x7d, 0x5b, 0x8e, 0x9c, 0x61, 0x3d, 0x2f, 0x4e, 0x8a, 0x1b, 0x90,
];

/// A string as `json.dumps(..., ensure_ascii=False)` writes it, quotes included.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `canonical_id(system, account, entity, native_id)` as its string form; a blank part (a
/// rejection in Python) or a system name that is not ASCII declines.
pub fn canonical(system: &str, account: &str, entity: &str, native_id: &str) -> R<String> {
    let system = py_strip(system);
    if !system.is_ascii() {
        return Err(Decline); // str.lower() beyond ASCII is not replicated
    }
    let system = system.to_ascii_lowercase();
    let parts = [
        system.as_str(),
        py_strip(account),
        entity,
        py_strip(native_id),
    ];
    if parts.iter().any(|part| part.is_empty()) {
        return Err(Decline);
    }
    let mut name = String::with_capacity(parts.iter().map(|p| p.len() + 3).sum::<usize>() + 2);
    name.push('[');
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            name.push(',');
        }
        push_json_string(&mut name, part);
    }
    name.push(']');
    let mut hasher = Sha1::new();
    hasher.update(NAMESPACE);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    Ok(hyphenated(&bytes))
}

fn hyphenated(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_are_pythons() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\n\u{1f}\u{7f}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u001f\u{7f}é\"");
    }

    #[test]
    fn blank_parts_decline() {
        assert_eq!(canonical("shopify", "shop", "order", " \t"), Err(Decline));
        assert!(canonical(" Shopify ", "shop", "order", "1").is_ok());
    }
}
