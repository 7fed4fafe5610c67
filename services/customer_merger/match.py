"""Pairwise comparison with an explanation: deterministic rules, then a Fellegi-Sunter weight.

Each field comparison falls into a level; each level carries a weight, the log2 likelihood ratio
``log2(m / u)`` (m: how often true matches show that level, u: how often non-matches do). The sum
of the weights is the match weight. Weights are priors tuned on the labelled benchmark
(``benchmarks/customer_matching.py``), not fitted per deployment.

Deterministic rules decide first: the same normalised email, or the same E.164 phone with no name
conflict, is a match whatever the other fields say. Names that conflict (different first names at
one email: a family mailbox; at one phone: a household) fall through to the weights, which usually
send them to review.

Every :class:`Comparison` carries the levels and weights that produced it. Explanations hold
level names and numbers only, never the compared values: they are logged and published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import token_set_ratio

from services.customer_merger.names import relation
from services.customer_merger.records import SourceRecord
from services.customer_merger.settings import MatchSettings

__all__ = ["Comparison", "Decision", "compare", "score_of"]

# Level weights (log2 likelihood ratios).
_EMAIL = {"exact": 14.0, "same_local_part": 6.0, "different": -1.5}
_PHONE = {"exact": 12.0, "different": -2.0}
_FIRST = {
    "exact": 5.0,
    "nickname": 4.0,  # a known nickname or spelling variant (names.py): usually the same person
    "typo": 3.5,  # one keystroke from a known given name that the other is not (names.py)
    "fuzzy": 2.5,
    "initial": 1.0,
    "weak": 0.0,
    "different": -6.0,
}
_LAST = {"exact": 5.0, "fuzzy": 3.5, "weak": 2.0, "different": -5.0}
_ADDRESS = {"same_building": 7.0, "same_street": 4.0, "same_postal": 1.5, "same_city": 0.0, "different": -2.0}
_SWAP_PENALTY = 1.0
_PRIOR = -10.0  # log2 prior odds of a match among blocked candidates: maps a weight to a score


class Decision(StrEnum):
    MATCH = "match"
    POSSIBLE = "possible"
    NO_MATCH = "no_match"


@dataclass(frozen=True, slots=True)
class Comparison:
    weight: float
    decision: Decision
    rules: tuple[str, ...]
    deterministic: bool = False
    levels: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    similarities: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> int:
        return 100 if self.deterministic else score_of(self.weight)

    @property
    def rule(self) -> str:
        """The rule that decided: a deterministic key, or the probabilistic comparison."""
        if self.deterministic:
            return "exact_email" if "exact_email" in self.rules else "phone_e164"
        return "fuzzy_name_address"

    def explain(self) -> str:
        parts = []
        for name in ("email", "phone", "first_name", "last_name", "address"):
            level = self.levels.get(name, "missing")
            text = f"{name}={level}"
            if name in self.similarities:
                text += f"~{self.similarities[name]:.2f}"
            text += f"({self.weights.get(name, 0.0):+.1f})"
            parts.append(text)
        if self.levels.get("names") == "swapped":
            parts.append(f"names=swapped({-_SWAP_PENALTY:+.1f})")
        parts.append(f"weight={self.weight:.1f}")
        return " ".join(parts)


def score_of(weight: float) -> int:
    """Posterior match probability in percent, with a prior of 2**-10 among blocked candidates."""
    exponent = weight + _PRIOR
    if exponent > 30:
        return 100
    if exponent < -30:
        return 0
    odds: float = 2.0**exponent
    return round(100 * odds / (1 + odds))


def _name_level(a: str, b: str, table: dict[str, float], initials: bool) -> tuple[str, float] | None:
    if not a or not b:
        return None
    if a == b:
        return "exact", 1.0
    a_tokens, b_tokens = a.split(" "), b.split(" ")
    if initials and (len(a_tokens[0]) == 1 or len(b_tokens[0]) == 1) and a[0] == b[0]:
        return "initial", 0.0
    if set(a_tokens) & set(b_tokens):
        return "fuzzy", 0.95  # "maria jose" vs "maria"; double-barrelled names
    if initials:  # first names: a known nickname or a typo of a known name is not another name
        named = relation(a_tokens[0], b_tokens[0]) if len(a_tokens) == len(b_tokens) == 1 else None
        if named is not None:
            return named, JaroWinkler.normalized_similarity(a, b)
    similarity = JaroWinkler.normalized_similarity(a, b)
    if similarity >= 0.92:
        return "fuzzy", similarity
    if similarity >= 0.82:
        return "weak", similarity
    return "different", similarity


def _names(a: SourceRecord, b: SourceRecord) -> tuple[dict[str, tuple[str, float]], bool]:
    straight = {
        "first_name": _name_level(a.first_key, b.first_key, _FIRST, True),
        "last_name": _name_level(a.last_key, b.last_key, _LAST, False),
    }
    swapped = {
        "first_name": _name_level(a.first_key, b.last_key, _FIRST, True),
        "last_name": _name_level(a.last_key, b.first_key, _LAST, False),
    }

    def total(levels: dict[str, tuple[str, float] | None]) -> float:
        return sum(
            (_FIRST if name == "first_name" else _LAST)[level[0]]
            for name, level in levels.items()
            if level is not None
        )

    use_swapped = (
        swapped["first_name"] is not None
        and swapped["last_name"] is not None
        and total(swapped) - _SWAP_PENALTY > total(straight)
    )
    chosen = swapped if use_swapped else straight
    return {name: level for name, level in chosen.items() if level is not None}, use_swapped


def _address(a: SourceRecord, b: SourceRecord) -> tuple[str, float] | None:
    best: tuple[str, float] | None = None
    order = list(_ADDRESS)
    for x in a.address_keys:
        for y in b.address_keys:
            if not (x.get("postal") or x.get("city")) or not (y.get("postal") or y.get("city")):
                continue
            street = token_set_ratio(x.get("street", ""), y.get("street", "")) / 100
            same_postal = bool(x.get("postal")) and x.get("postal") == y.get("postal")
            same_city = bool(x.get("city")) and x.get("city") == y.get("city")
            same_number = bool(x.get("number")) and x.get("number") == y.get("number")
            # Two different house numbers are two addresses (neighbours), not one street.
            other_number = bool(x.get("number")) and bool(y.get("number")) and not same_number
            if (same_postal or same_city) and same_number and street >= 0.85:
                level = "same_building"
            elif (same_postal or same_city) and street >= 0.85 and not other_number:
                level = "same_street"
            elif same_postal:
                level = "same_postal"
            elif same_city:
                level = "same_city"
            else:
                level = "different"
            if best is None or order.index(level) < order.index(best[0]):
                best = (level, street)
    return best


def compare(a: SourceRecord, b: SourceRecord, settings: MatchSettings) -> Comparison:
    """Symmetric: ``compare(a, b)`` and ``compare(b, a)`` decide the same, so the golden records
    do not depend on which of two records arrived first."""
    if a.customer_id > b.customer_id:
        a, b = b, a
    levels: dict[str, str] = {}
    weights: dict[str, float] = {}
    similarities: dict[str, float] = {}
    rules: list[str] = []

    if a.email and b.email and (a.email == b.email or not (a.email_relay or b.email_relay)):
        # A marketplace relay address says nothing when it differs from another address.
        if a.email == b.email:
            level = "exact"
        elif a.email.rpartition("@")[0] == b.email.rpartition("@")[0]:
            level = "same_local_part"
        else:
            level = "different"  # near-identical addresses are usually different people (jsmith1/jsmith2)
        levels["email"], weights["email"] = level, _EMAIL[level]
    if a.phone and b.phone:
        level = "exact" if a.phone == b.phone else "different"
        levels["phone"], weights["phone"] = level, _PHONE[level]

    names, swapped = _names(a, b)
    for name, (level, similarity) in names.items():
        table = _FIRST if name == "first_name" else _LAST
        levels[name], weights[name] = level, table[level]
        if level in ("nickname", "typo", "fuzzy", "weak", "different"):
            similarities[name] = similarity
    if swapped:
        levels["names"] = "swapped"
    address = _address(a, b)
    if address is not None:
        levels["address"], weights["address"] = address[0], _ADDRESS[address[0]]
        similarities["address"] = address[1]

    weight = sum(weights.values()) - (_SWAP_PENALTY if swapped else 0.0)
    names_conflict = levels.get("first_name") == "different" or levels.get("last_name") == "different"
    if levels.get("email") == "exact":
        rules.append("exact_email")
    if levels.get("phone") == "exact":
        rules.append("phone_e164")
    rules.extend(
        f"{name}_{levels[name]}" for name in ("first_name", "last_name", "address") if name in levels
    )
    if swapped:
        rules.append("names_swapped")

    # Different first names at one address/phone are a household, not a typo: never a match. A first
    # name that differs only slightly (Joe/Jose, Jason/Mason) or is a nickname of the other
    # (Elizabeth and her daughter Lisa) needs a personal identifier (the email), not household
    # ones (address, landline, last name). A typo of a known given name (names.py) does not.
    first = levels.get("first_name")
    if swapped and first == "exact" and levels.get("last_name") != "exact":
        first = levels.get("last_name")  # which record is swapped is unknown: judge by the weaker name
        if first in ("fuzzy", "weak"):  # compared as last names; a typo'd given name is still one
            first = relation(a.last_key, b.first_key) or first
    household_only = (
        first in ("nickname", "fuzzy", "weak") and "exact_email" not in rules and settings.household_guard
    )
    deterministic = not names_conflict and (
        "exact_email" in rules or ("phone_e164" in rules and first in (None, "exact", "initial"))
    )
    if deterministic or (weight >= settings.match_weight and first != "different" and not household_only):
        decision = Decision.MATCH
    elif weight >= settings.review_weight:
        decision = Decision.POSSIBLE
    else:
        decision = Decision.NO_MATCH
    return Comparison(round(weight, 2), decision, tuple(rules), deterministic, levels, weights, similarities)
