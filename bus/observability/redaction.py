"""A structlog processor that keeps secrets, card numbers and personal data out of the logs.

What it removes from every event dict (recursively through dicts, lists and tuples):

- values under secret-like keys (``password``, ``secret``, ``token``, ``authorization``,
  ``api_key``, ``hmac``, ``credential``, ``private_key``, ``cookie``, ``signature``, and
  librdkafka's ``sasl.password`` / ``ssl.key.password``), whatever their type;
- ``SecretStr`` / ``SecretBytes`` values under any key;
- values under the configured PII field names (exact key match, case- and separator-insensitive);
- inside any string (the event message, exception tracebacks, values): card numbers, i.e. 13-19
  digits with optional single spaces or dashes between them that start like a card network's number
  (3-6, Mir 2200-2204, Mastercard 2221-2720) and pass the Luhn check; ``key=value`` / ``key: value``
  pairs with a secret-like key; and the password of URLs with user info (``scheme://user:pw@host``).

The card-number rule is the gateway's (``services/gateway/redaction.py``), mirrored here because
services and the runtime share no code but ``bus/`` and ``schemas/``. Unlike the gateway, logs mask
the whole number: nothing in a log line needs the last four digits.

Put the processor after ``format_exc_info`` (so tracebacks are scrubbed) and before the renderer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from pydantic import SecretBytes, SecretStr

__all__ = [
    "DEFAULT_PII_FIELDS",
    "REDACTED",
    "Redactor",
    "contains_card_number",
    "find_card_numbers",
    "luhn_valid",
    "pii_field_names",
    "redact_text",
]

REDACTED = "[REDACTED]"

_SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "authorization",
    "apikey",
    "api_key",
    "hmac",
    "credential",
    "private_key",
    "privatekey",
    "cookie",
    "signature",
    "jaas",
)

# Personal data under these keys is masked even when no schema says so.
DEFAULT_PII_FIELDS = frozenset(
    {
        "email",
        "phone",
        "phone_number",
        "first_name",
        "last_name",
        "full_name",
        "address",
        "address1",
        "address2",
        "street",
        "postal_code",
        "zip",
        "date_of_birth",
        "birth_date",
        "ip_address",
        "tax_id",
    }
)

_CARD_CANDIDATE = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])")
_SECRET_PAIR = re.compile(
    r"(?i)(\b[\w.-]*(?:password|passwd|secret|token|api[_-]?key|authorization|hmac|credential)[\w.-]*"
    r"[\"']?\s*[:=]\s*[\"']?)(?:Bearer\s+|Basic\s+)?[^\s\"',;&}]+"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+(@)")
_MAX_DEPTH = 12


def _normal_key(key: object) -> str:
    return str(key).lower().replace("-", "_").replace(".", "_").replace(" ", "_")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _network_prefix(digits: str) -> bool:
    # MII 3-6 are the card networks; in the 2-series only Mir (2200-2204) and Mastercard
    # (2221-2720) issue cards, which keeps YYYYMMDDhhmmss timestamps (20xx...) out.
    if digits[0] != "2":
        return digits[0] in "3456"
    head = int(digits[:4])
    return 2200 <= head <= 2204 or 2221 <= head <= 2720


def _card_digits(candidate: str) -> str | None:
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if 13 <= len(digits) <= 19 and _network_prefix(digits) and luhn_valid(digits):
        return digits
    return None


def find_card_numbers(text: str) -> list[str]:
    """Every card number in ``text`` (digits only)."""
    found = (_card_digits(match.group(0)) for match in _CARD_CANDIDATE.finditer(text))
    return [digits for digits in found if digits is not None]


def contains_card_number(text: str) -> bool:
    return bool(find_card_numbers(text))


def redact_text(text: str) -> str:
    """``text`` with card numbers, secret ``key=value`` pairs and URL passwords masked."""

    def card(match: re.Match[str]) -> str:
        return REDACTED if _card_digits(match.group(0)) is not None else match.group(0)

    masked = _CARD_CANDIDATE.sub(card, text)
    masked = _SECRET_PAIR.sub(lambda m: m.group(1) + REDACTED, masked)
    return _URL_USERINFO.sub(lambda m: m.group(1) + REDACTED + m.group(2), masked)


def pii_field_names(avro_schemas: Iterable[Mapping[str, Any]], tag: str = "PII") -> frozenset[str]:
    """Names of the fields tagged ``tag`` in Avro schemas (``"tags": [...]`` on a field), nested too."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, Mapping):
            if "name" in node and "type" in node and tag in (node.get("tags") or ()):
                names.add(_normal_key(node["name"]))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    for schema in avro_schemas:
        visit(schema)
    return frozenset(names)


class Redactor:
    """The structlog processor: ``Redactor(pii_fields=...)`` in the processor chain."""

    __slots__ = ("_pii",)

    def __init__(self, pii_fields: Iterable[str] = DEFAULT_PII_FIELDS) -> None:
        self._pii = frozenset(_normal_key(name) for name in pii_fields)

    def _masks_key(self, key: object) -> bool:
        normal = _normal_key(key)
        return normal in self._pii or any(part in normal for part in _SECRET_KEY_PARTS)

    def _clean(self, value: Any, depth: int) -> Any:
        if isinstance(value, SecretStr | SecretBytes):
            return REDACTED
        if isinstance(value, str):
            return redact_text(value)
        if isinstance(value, bytes | bytearray):
            text = bytes(value).decode("utf-8", "replace")
            cleaned = redact_text(text)
            return value if cleaned == text else cleaned
        if depth >= _MAX_DEPTH:
            return value
        if isinstance(value, Mapping):
            return {
                key: REDACTED if self._masks_key(key) else self._clean(item, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self._clean(item, depth + 1) for item in value)
        if isinstance(value, int) and not isinstance(value, bool) and value > 10**12:
            return REDACTED if contains_card_number(str(value)) else value
        return value

    def scrub(self, value: Any) -> Any:
        """``value`` with the same masking the processor applies (for records other than logs)."""
        return self._clean(value, 0)

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            value = event_dict[key]
            event_dict[key] = REDACTED if self._masks_key(key) else self._clean(value, 0)
        return event_dict
