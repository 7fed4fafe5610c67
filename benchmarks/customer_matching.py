"""Customer matching: quality on a labelled population, and throughput with 1,000,000 golden records.

    .venv/bin/python -m benchmarks.customer_matching quality --persons 20000
    .venv/bin/python -m benchmarks.customer_matching throughput --golden 1000000 --probes 20000
    .venv/bin/python -m benchmarks.customer_matching similarity

``quality``: a labelled population (``tests/customer_data.py``: typos, swapped names, formatting,
missing fields, shared household addresses and landlines, other emails with the same phone, relay
emails) goes through the forwarder's normalisation and the matcher; pairwise precision, recall
and F1 of the resulting golden records against the truth, with the household guard on and off.

``throughput``: the matcher's store (RocksDB, the runtime's default backend, through the
runtime's own ``StorePartition``) is preloaded with N golden records, then a mix of corrupted
duplicates of stored people and new people is matched; committed every 1,000 records as the
runtime does. Reports source records per second on one core (the matcher is single-threaded).

``similarity``: Jaro-Winkler from rapidfuzz and from jellyfish on the same name pairs (the choice).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bus.state.backends import RocksBackend
from bus.state.store import StorePartition, encode_value
from schemas.customers import CustomerEvent
from services.customer_merger.blocking import OVERFLOW, blocking_keys
from services.customer_merger.books import Books, MemoryStore
from services.customer_merger.engine import MatchEngine
from services.customer_merger.forward import from_customer, from_order
from services.customer_merger.merge import new_golden_id
from services.customer_merger.records import InputKind, MatchInput, SourceRecord
from services.customer_merger.settings import CustomerMergerSettings, MatchSettings
from tests.customer_data import Population, _make_person, _records, generate, pair_metrics


def _item(event: Any, settings: CustomerMergerSettings) -> MatchInput | None:
    return from_customer(event, settings) if isinstance(event, CustomerEvent) else from_order(event, settings)


def _identifiers(record: SourceRecord) -> set[str]:
    found = {f"e:{record.email}"} if record.email and not record.email_relay else set()
    found |= {f"p:{record.phone}"} if record.phone else set()
    return found | {
        f"a:{a['postal']}:{a['number']}" for a in record.address_keys if a.get("postal") and a.get("number")
    }


def identifier_ceiling(population: Population, settings: CustomerMergerSettings) -> dict[str, float]:
    """The truth's clusters cut where no identifier links them: every true pair sharing an email (not a
    relay), a phone or postcode + house number, closed transitively. What merging on evidence allows."""
    items = (_item(event, settings) for event in population.events)
    records = {i.record.customer_id: i.record for i in items if i is not None and i.record is not None}
    parent = {cid: cid for cid in records}

    def root(cid: str) -> str:
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    by_person: dict[int, list[str]] = {}
    for cid in records:
        by_person.setdefault(population.person_of[cid], []).append(cid)
    for members in by_person.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if _identifiers(records[a]) & _identifiers(records[b]):
                    parent[root(a)] = root(b)
    clusters: dict[str, list[str]] = {}
    for cid in records:
        clusters.setdefault(root(cid), []).append(cid)
    return pair_metrics(list(clusters.values()), population.person_of)


def quality(persons: int, seed: int) -> None:
    population = generate(persons, seed=seed)
    print(f"population: {persons} people, {len(population.events)} source records (seed {seed})")
    ceiling = identifier_ceiling(population, CustomerMergerSettings())
    print(f"ceiling (true pairs linked by a shared identifier, transitively): recall={ceiling['recall']:.4f}")
    for guard in (True, False):
        settings = CustomerMergerSettings(match=MatchSettings(household_guard=guard))
        engine, store = MatchEngine(settings), MemoryStore()
        reviews = 0
        started = time.process_time()
        for event in population.events:
            item = _item(event, settings)
            if item is None:
                continue
            books = Books(store, "merger")
            reviews += len(engine.apply(item, books).reviews)
            store.apply(books.changes())
        elapsed = time.process_time() - started
        clusters = [value["m"] for key, value in store.data.items() if key.startswith("g:")]
        m = pair_metrics(clusters, population.person_of)
        print(
            f"household_guard={guard!s:5}  precision={m['precision']:.4f}  recall={m['recall']:.4f}  "
            f"f1={m['f1']:.4f}  golden={len(clusters)} (true {len(set(population.person_of.values()))})  "
            f"reviews={reviews}  ({len(population.events) / elapsed:,.0f} records/s in memory)"
        )


def _preload(
    store: StorePartition, golden: int, settings: CustomerMergerSettings, rng: random.Random
) -> list[Any]:
    """N people, one clean source record each, written straight into the store as the matcher would."""
    people: list[Any] = []
    postings: dict[str, list[str]] = {}
    batch: dict[bytes, bytes | None] = {}
    limit = settings.match.max_block_size
    started = time.perf_counter()
    for pid in range(golden):
        person = _make_person(rng, pid, None, None)
        people.append(person)
        event = next(e for e in _records(rng, person) if isinstance(e, CustomerEvent) or True)
        item = _item(event, settings)
        if item is None or item.record is None:
            continue
        record = item.record
        cid = record.customer_id
        gid = new_golden_id(cid)
        batch[f"s:{cid}".encode()] = encode_value({"r": record.to_state(), "g": gid, "ev": []}, None)
        batch[f"g:{gid}".encode()] = encode_value({"m": [cid], "rev": 1, "h": ""}, None)
        for key in blocking_keys(record):
            members = postings.setdefault(key, [])
            if members[:1] != [OVERFLOW]:
                members.append(cid)
                if len(members) > limit:
                    postings[key] = [OVERFLOW]
        if len(batch) >= 50_000:
            store.backend.write(batch, None)
            batch.clear()
        if pid and pid % 100_000 == 0:
            print(f"  preloaded {pid:,} ({time.perf_counter() - started:.0f}s)", flush=True)
    for key, members in postings.items():
        batch[f"b:{key}".encode()] = encode_value(sorted(members), None)
        if len(batch) >= 50_000:
            store.backend.write(batch, None)
            batch.clear()
    store.backend.write(batch, None)
    elapsed = time.perf_counter() - started
    print(f"preloaded {golden:,} golden records, {len(postings):,} blocking keys in {elapsed:.0f}s")
    return people


def throughput(golden: int, probes: int, seed: int, state_dir: Path | None) -> None:
    settings = CustomerMergerSettings()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(dir=state_dir) as tmp:
        store = StorePartition("merger", 0, RocksBackend(Path(tmp) / "merger"))
        people = _preload(store, golden, settings, rng)
        items: list[MatchInput] = []
        while len(items) < probes:
            person = rng.choice(people) if rng.random() < 0.6 else _make_person(rng, len(people), None, None)
            items.extend(i for i in (_item(e, settings) for e in _records(rng, person)) if i is not None)
        items = items[:probes]
        engine = MatchEngine(settings)
        merged = created = 0
        started, cpu = time.perf_counter(), time.process_time()
        for n, item in enumerate(items, 1):
            books = Books(store, "merger")
            effects = engine.apply(item, books)
            created += item.kind is InputKind.CUSTOMER and bool(effects.goldens) and not effects.merges
            merged += len(effects.merges)
            for change in books.changes():
                if hasattr(change, "value"):
                    store.put(change.key, change.value)
                else:
                    store.delete(change.key)
            if n % 1000 == 0:  # the runtime's checkpoint: overlay -> disk
                store.commit_to_disk(store.pending_changes(), None)
        store.commit_to_disk(store.pending_changes(), None)
        wall, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        store.close()
    print(
        f"{probes:,} source records against {golden:,} golden records: {probes / wall:,.0f} records/s wall, "
        f"{probes / cpu_s:,.0f} records/s per core (CPU time); merges={merged}"
    )


def similarity() -> None:
    import jellyfish
    from rapidfuzz.distance import JaroWinkler

    rng = random.Random(3)
    from tests.customer_data import FIRST, LAST

    pairs = [(rng.choice(FIRST + LAST).lower(), rng.choice(FIRST + LAST).lower()) for _ in range(200_000)]
    for name, fn in (
        ("rapidfuzz JaroWinkler.normalized_similarity", JaroWinkler.normalized_similarity),
        ("jellyfish.jaro_winkler_similarity", jellyfish.jaro_winkler_similarity),
    ):
        started = time.perf_counter()
        for a, b in pairs:
            fn(a, b)
        print(f"{name}: {len(pairs) / (time.perf_counter() - started):,.0f} comparisons/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--persons", type=int, default=20_000)
    q.add_argument("--seed", type=int, default=11)
    t = sub.add_parser("throughput")
    t.add_argument("--golden", type=int, default=1_000_000)
    t.add_argument("--probes", type=int, default=20_000)
    t.add_argument("--seed", type=int, default=5)
    t.add_argument("--state-dir", type=Path, default=None)
    sub.add_parser("similarity")
    args = parser.parse_args()
    if args.what == "quality":
        quality(args.persons, args.seed)
    elif args.what == "throughput":
        throughput(args.golden, args.probes, args.seed, args.state_dir)
    else:
        similarity()


if __name__ == "__main__":
    main()
