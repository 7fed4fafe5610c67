"""Card data never enters the bus: PANs and CVVs are masked before any ingress write.

A PAN here is 13-19 digits (single spaces or dashes allowed between them) that starts like a card
network's number (3-6, or Mir/Mastercard 2200-2204/2221-2720) and passes the Luhn check; all digits
but the last four become ``X``. A CVV is a 3-4 digit value under a CVV-like key (JSON key, XML
element, ``key=value``).

Bodies with nothing to redact come back as the very same bytes object. JSON stays valid JSON: it is
scanned token by token, so digits inside strings are masked in place, and a bare numeric PAN becomes
a masked string. Values under identifier keys (``id``, ``*_id``, ``*Id``, ``*Reference``) are left
alone: long numeric ids (Shopify, Adyen pspReference) pass Luhn one time in ten and are not card data.
``X`` is the mask because it is neither a JSON, XML, CSV nor X12 delimiter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

__all__ = ["Redacted", "luhn_valid", "redact", "redact_text"]

_MASK = b"X"
_PAN_IN_TEXT = re.compile(rb"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])")
# A string (group 1) with the colon that makes it a key (group 2), or a number.
_JSON_TOKEN = re.compile(rb'("(?:[^"\\]|\\.)*")([ \t\r\n]*:)?|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')
_WHITESPACE = b" \t\r\n"
_CVV_KEYS = frozenset(
    {
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "csc",
        "cvn",
        "securitycode",
        "cardsecuritycode",
        "cardverificationvalue",
        "cardverificationcode",
    }
)


# Prefilters for the JSON scan, each a superset of what it stands for (bodies match neither -> no
# token-by-token scan): the start of every PAN candidate, and every key that normalises to a CVV key
# (its lower-cased ASCII letters and digits in a row; U+0130 lower-cases to an "i", no other
# non-ASCII character lower-cases to an ASCII letter or digit). The names are the CVV keys without
# those that contain another (cvv2 contains cvv).
_PAN_START = re.compile(rb"[2-6](?:[ -]?[0-9]){12}")
_NOT_ASCII_ALNUM = bytes(c for c in range(256) if not (0x30 <= c <= 0x39 or 0x61 <= c <= 0x7A))
_CVV_CORES = tuple(
    name.encode() for name in sorted(_CVV_KEYS) if not any(o != name and o in name for o in _CVV_KEYS)
)


def _may_have_cvv_key(body: bytes) -> bool:
    squeezed = body.replace(b"\xc4\xb0", b"i").lower().translate(None, _NOT_ASCII_ALNUM)
    return any(core in squeezed for core in _CVV_CORES)


_CVV_NAMES = rb"cvv2?|cvc2?|csc|cvn|security_?code|card_?security_?code|card_?verification_?(?:value|code)"
_CVV_XML = re.compile(rb"(?i)(<(?:" + _CVV_NAMES + rb")\b[^>]*>\s*)[0-9]{3,4}(\s*</)")
_CVV_KEY_VALUE = re.compile(rb"(?i)(\b(?:" + _CVV_NAMES + rb")\]?\s*[\"']?\s*[:=]\s*[\"']?)[0-9]{3,4}\b")


@dataclass(frozen=True, slots=True)
class Redacted:
    body: bytes
    count: int


def luhn_valid(digits: bytes) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = char - 48
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _network_prefix(digits: bytes) -> bool:
    # MII 3-6 cover the card networks; in the 2-series only Mir (2200-2204) and Mastercard
    # (2221-2720) issue cards, which keeps YYYYMMDDhhmmss timestamps (20xx...) out.
    if digits[:1] != b"2":
        return digits[:1] in (b"3", b"4", b"5", b"6")
    head = int(digits[:4])
    return 2200 <= head <= 2204 or 2221 <= head <= 2720


def _pan_digits(candidate: bytes) -> bytes | None:
    digits = bytes(ch for ch in candidate if 48 <= ch <= 57)
    if 13 <= len(digits) <= 19 and _network_prefix(digits) and luhn_valid(digits):
        return digits
    return None


def _mask(candidate: bytes) -> bytes:
    """Mask every digit but the last four, keeping separators."""
    keep = 4
    out = bytearray(candidate)
    for index in range(len(out) - 1, -1, -1):
        if 48 <= out[index] <= 57:
            if keep > 0:
                keep -= 1
            else:
                out[index] = _MASK[0]
    return bytes(out)


def _mask_pans(text: bytes) -> tuple[bytes, int]:
    count = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal count
        if _pan_digits(match.group(0)) is None:
            return match.group(0)
        count += 1
        return _mask(match.group(0))

    return _PAN_IN_TEXT.sub(replace, text), count


def redact_text(body: bytes) -> Redacted:
    """XML, CSV, X12, form-encoded or plain text."""
    masked, count = _mask_pans(body)
    masked, cvv_xml = _CVV_XML.subn(rb"\1XXX\2", masked)
    masked, cvv_kv = _CVV_KEY_VALUE.subn(rb"\1XXX", masked)
    total = count + cvv_xml + cvv_kv
    return Redacted(body if total == 0 else masked, total)


class _Key(Enum):
    CVV = 1
    IDENTIFIER = 2
    OTHER = 3


@lru_cache(maxsize=4096)  # webhooks of one provider repeat the same few hundred keys
def _key_kind(raw: bytes) -> _Key:
    key = raw[1:-1].decode("utf-8", "replace")
    if "".join(ch for ch in key.lower() if ch.isalnum()) in _CVV_KEYS:
        return _Key.CVV
    lowered = key.lower()
    if lowered == "id" or lowered.endswith(("_id", "_ids", "reference")) or key.endswith(("Id", "Ids", "ID")):
        return _Key.IDENTIFIER
    return _Key.OTHER


def _redact_json(body: bytes) -> Redacted:
    # Without a PAN-shaped digit run anywhere in the body only CVV keys can need masking (every
    # token's digits are body digits with the same neighbours), and without one of those, nothing.
    pans_possible = _PAN_START.search(body) is not None
    if not pans_possible and not _may_have_cvv_key(body):
        return Redacted(body, 0)
    pieces: list[bytes] = []
    cursor = 0
    count = 0
    key = _Key.OTHER
    key_end = -1
    for match in _JSON_TOKEN.finditer(body):
        if match.group(2) is not None:
            key, key_end = _key_kind(match.group(1)), match.end()
            continue
        if key is _Key.OTHER and not pans_possible:
            continue
        # A value belongs to the key only when nothing but whitespace separates them.
        owned = key_end >= 0 and not body[key_end : match.start()].strip(_WHITESPACE)
        owner = key if owned else _Key.OTHER
        if owner is not _Key.CVV and not pans_possible:
            continue
        token = match.group(0)
        replacement: bytes | None = None
        if owner is _Key.CVV:
            replacement = b'"XXX"'
        elif owner is _Key.IDENTIFIER:
            replacement = None
        elif token[0] == 0x22:
            masked, found = _mask_pans(token)
            if found:
                count += found - 1
                replacement = masked
        elif (
            token.lstrip(b"-").isdigit()
            and _pan_digits(token.lstrip(b"-")) is not None
            and token[0] in b"23456"
        ):
            replacement = b'"' + _mask(token) + b'"'
        if replacement is not None:
            count += 1
            pieces.append(body[cursor : match.start()])
            pieces.append(replacement)
            cursor = match.end()
    if count == 0:
        return Redacted(body, 0)
    pieces.append(body[cursor:])
    return Redacted(b"".join(pieces), count)


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    if content_type is not None and "json" in content_type.lower():
        return True
    return body.lstrip(_WHITESPACE)[:1] in (b"{", b"[")


def redact(body: bytes, content_type: str | None = None) -> Redacted:
    """Mask card data in a payload of any format; ``count`` says how many values were masked."""
    if _looks_like_json(body, content_type):
        return _redact_json(body)
    return redact_text(body)
