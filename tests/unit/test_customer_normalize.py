"""Normalisation of emails, phones, names and addresses for the customer merger."""

from __future__ import annotations

import pytest

from schemas.common.models import Address
from services.customer_merger.normalize import (
    address_key,
    fold,
    normalize_address,
    normalize_country,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_postal_code,
    normalize_street,
)
from services.customer_merger.settings import EmailRules

pytestmark = pytest.mark.unit

RULES = EmailRules()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("jane.doe+shop@gmail.com", "janedoe@gmail.com"),
        ("Jane.Doe@googlemail.com", "janedoe@gmail.com"),
        ("jane+news@outlook.com", "jane@outlook.com"),
        ("jane+news@example.com", "jane+news@example.com"),  # plus is part of the mailbox elsewhere
        ("mailto:<bob@example.org>", "bob@example.org"),
        ("not an email", None),
        ("", None),
        (None, None),
        ("+tag@gmail.com", None),
    ],
)
def test_email(raw: str | None, expected: str | None) -> None:
    assert normalize_email(raw, RULES) == expected


def test_email_rules_are_configurable() -> None:
    rules = EmailRules(plus_tag_domains=frozenset({"example.com"}), dotless_domains=frozenset())
    assert normalize_email("a.b+x@example.com", rules) == "a.b@example.com"
    assert normalize_email("a.b+x@gmail.com", rules) == "a.b+x@gmail.com"


def test_relay_addresses_are_recognised() -> None:
    assert RULES.is_relay("abc123@marketplace.amazon.com")
    assert not RULES.is_relay("abc123@gmail.com")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "DE", "+14155552671"),  # an explicit country code wins over the region
        ("030 1234567", "DE", "+49301234567"),
        ("07700 900123", "GB", "+447700900123"),
        ("12", "US", None),
        ("call me", "US", None),
        (None, "US", None),
    ],
)
def test_phone(raw: str | None, region: str, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Dr. josé  ", ("José", "jose")),
        ("MARY-ANN", ("Mary-Ann", "mary ann")),
        ("Mr Jürgen Müller", ("Jürgen Müller", "jurgen muller")),
        ("\uff2a\uff4f\uff48\uff4e", ("John", "john")),  # full-width letters (NFKC)
        ("Østergaard", ("Østergaard", "ostergaard")),
        ("", (None, "")),
        (None, (None, "")),
    ],
)
def test_name(raw: str | None, expected: tuple[str | None, str]) -> None:
    assert normalize_name(raw) == expected


def test_fold_drops_accents_and_punctuation() -> None:
    assert fold("  Zoë  O'Brien-Smith ") == "zoe o brien smith"
    assert fold("Straße") == "strasse"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("US", "US"),
        ("usa", "US"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("DEU", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("Atlantis", None),
        (None, None),
    ],
)
def test_country(raw: str | None, expected: str | None) -> None:
    assert normalize_country(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("94105-1234", "US", "94105"),
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("k1a0b1", "CA", "K1A 0B1"),
        ("1234ab", "NL", "1234 AB"),
        ("D-10115", "DE", "10115"),
        ("  ", "US", None),
    ],
)
def test_postal_code(raw: str, country: str, expected: str | None) -> None:
    assert normalize_postal_code(raw, country) == expected


def test_street_abbreviations_and_house_number() -> None:
    assert normalize_street(["12 Main Street", "Apt. 4"]) == ("main st apt 4", "12")
    assert normalize_street(["12 MAIN ST."]) == ("main st", "12")
    assert normalize_street(["Hauptstraße 5"]) == normalize_street(["Hauptstr. 5"])


def test_address_is_normalised_and_keyed() -> None:
    address = normalize_address(
        Address(
            street_lines=["  1 Infinite   Loop "],
            city=" Cupertino ",
            postal_code="95014-2083",
            country_code="USA",
        )
    )
    assert address.country_code == "US"
    assert address.postal_code == "95014"
    assert address.street_lines == ["1 Infinite Loop"]
    assert address_key(address) == {
        "street": "infinite loop",
        "number": "1",
        "postal": "95014",
        "city": "cupertino",
        "country": "US",
    }
