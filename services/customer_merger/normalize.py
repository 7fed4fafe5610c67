"""Normalisation of personal data into comparable values: emails, E.164 phones, names, addresses.

Every function is total: junk in gives ``None`` (or an empty value) out, never an exception, so
one malformed field never dead-letters a whole customer record.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
import pycountry

from schemas.common.models import Address
from services.customer_merger.settings import EmailRules

__all__ = [
    "address_key",
    "fold",
    "normalize_address",
    "normalize_country",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "normalize_postal_code",
    "normalize_street",
]

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\s]")
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "þ": "th"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_HONORIFICS = frozenset(
    {
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "herr", "frau", "fr", "hr",
        "mme", "mlle", "sr", "sra", "srta", "sig", "sigra", "dott", "ing", "jr", "snr", "jnr", "ii",
        "iii", "phd", "md", "esq",
    }
)  # fmt: skip

_STREET_WORDS = {
    "street": "st", "str": "st", "strasse": "st", "straße": "st", "avenue": "ave", "av": "ave",
    "road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln", "court": "ct", "place": "pl",
    "square": "sq", "terrace": "ter", "highway": "hwy", "parkway": "pkwy", "apartment": "apt",
    "suite": "ste", "floor": "fl", "north": "n", "south": "s", "east": "e", "west": "w",
    "route": "rte", "weg": "wg", "platz": "pl", "allee": "al", "rue": "r", "chemin": "ch",
}  # fmt: skip

_COUNTRY_ALIASES = {
    "usa": "US", "u s a": "US", "united states of america": "US", "america": "US", "uk": "GB",
    "u k": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB",
    "deutschland": "DE", "holland": "NL", "the netherlands": "NL", "espana": "ES", "italia": "IT",
    "schweiz": "CH", "suisse": "CH", "osterreich": "AT", "russia": "RU", "south korea": "KR",
}  # fmt: skip


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form for comparisons: NFKD, combining marks dropped, casefolded,
    punctuation to spaces, whitespace collapsed. ``"  José-Luis  "`` -> ``"jose luis"``."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.translate(_LETTERS)
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", stripped)).strip()


def normalize_email(raw: str | None, rules: EmailRules) -> str | None:
    """Lower-cased, trimmed; provider rules drop ``+tags`` and dots; ``None`` when not an address."""
    if not raw:
        return None
    email = unicodedata.normalize("NFKC", raw).strip().lower().removeprefix("mailto:").strip("<> ")
    if not _EMAIL.match(email):
        return None
    local, _, domain = email.rpartition("@")
    domain = rules.domain_aliases.get(domain, domain)
    if domain in rules.plus_tag_domains and "+" in local:
        local = local.split("+", 1)[0]
    if domain in rules.dotless_domains:
        local = local.replace(".", "")
    if not local:
        return None
    return f"{local}@{domain}"


@lru_cache(maxsize=65_536)
def normalize_phone(raw: str | None, region: str) -> str | None:
    """E.164 (``+4930123456``) when ``phonenumbers`` finds a possible number, else ``None``.

    ``region`` (the shop's country) is used only for numbers written without a country code.
    """
    if not raw or not any(ch.isdigit() for ch in raw):
        return None
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_name(raw: str | None) -> tuple[str | None, str]:
    """(display, key): display is NFC, whitespace-collapsed, honorifics removed, title-cased when the
    source shouted or whispered; key is its :func:`fold`. ``"  DR. josé  "`` -> ``("José", "jose")``."""
    if not raw:
        return None, ""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip()
    words = text.split(" ")
    kept = [word for word in words if fold(word) not in _HONORIFICS] or words
    display = " ".join(kept).strip(" ,.")
    if not display:
        return None, ""
    if display.isupper() or display.islower():
        display = display.title()
    return display, fold(display)


@lru_cache(maxsize=4096)
def normalize_country(raw: str | None) -> str | None:
    """ISO 3166-1 alpha-2 from an alpha-2, alpha-3 or (English) country name; ``None`` if unknown."""
    if not raw:
        return None
    text = raw.strip()
    key = fold(text)
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        return "GB" if code == "UK" else code if pycountry.countries.get(alpha_2=code) else None
    if len(text) == 3 and text.isalpha():
        found = pycountry.countries.get(alpha_3=text.upper())
        return str(found.alpha_2) if found else None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def normalize_postal_code(raw: str | None, country: str | None) -> str | None:
    """Upper case, canonical spacing per country: US 5 digits, GB/CA ``AA9 9AA``, NL ``1234 AB``..."""
    if not raw:
        return None
    compact = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    if not compact:
        return None
    if country == "US" and compact.isdigit() and len(compact) in (5, 9):
        return compact[:5]
    if country in ("GB", "CA") and len(compact) >= 5:
        return f"{compact[:-3]} {compact[-3:]}"
    if country == "NL" and len(compact) == 6:
        return f"{compact[:4]} {compact[4:]}"
    if country in ("PL",) and compact.isdigit() and len(compact) == 5:
        return f"{compact[:2]}-{compact[2:]}"
    if country in ("DE", "FR", "IT", "ES", "AT", "CH", "BE", "DK") and not compact.isdigit():
        digits = re.sub(r"\D", "", compact)
        return digits or None
    return compact


def normalize_street(lines: list[str]) -> tuple[str, str]:
    """(street key, house number): folded, abbreviations unified, house number pulled out.

    ``["12 Main Street", "Apt. 4"]`` -> ``("main st apt 4", "12")``; ``["Hauptstraße 5"]`` ->
    ``("haupt st", "5")`` (compound German street names are split at the suffix).
    """
    text = fold(" ".join(lines))
    text = re.sub(r"(\w{3,})(strasse|str)\b", r"\1 \2", text)
    words = [_STREET_WORDS.get(word, word) for word in text.split(" ") if word]
    number = ""
    for index, word in enumerate(words):
        if word[:1].isdigit():
            number = word
            del words[index]
            break
    return " ".join(words), number


def normalize_address(address: Address) -> Address:
    """The same address with an ISO country code, a canonical postal code and trimmed parts."""
    country = normalize_country(address.country_code)
    lines = [_SPACES.sub(" ", line).strip() for line in address.street_lines if line and line.strip()]
    return address.model_copy(
        update={
            "country_code": country,
            "postal_code": normalize_postal_code(address.postal_code, country),
            "street_lines": lines,
            "city": _SPACES.sub(" ", address.city).strip() or None if address.city else None,
        }
    )


def address_key(address: Address) -> dict[str, str]:
    """The comparable parts of a normalised address (all folded strings, possibly empty)."""
    street, number = normalize_street(list(address.street_lines))
    postal = (address.postal_code or "").replace(" ", "").replace("-", "")
    return {
        "street": street,
        "number": number,
        "postal": postal,
        "city": fold(address.city),
        "country": address.country_code or "",
    }
