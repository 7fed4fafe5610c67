"""RocksDB (rocksdict) vs SQLite as the on-disk store: the runtime's access pattern.

    .venv/bin/python benchmarks/state_backends.py

Per checkpoint the runtime writes one atomic batch (puts + the changelog offset) per store
partition and, per record, reads a key. This measures batches of 1,000 puts over 10,000 keys and
random point reads.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from bus.config import StateBackend
from bus.state.backends import open_backend
from bus.state.store import encode_value

BATCHES, BATCH, KEYS, READS = 200, 1000, 10_000, 200_000


def main() -> None:
    rng = random.Random(1)
    print(f"{'backend':<9}{'puts/s':>12}{'reads/s':>12}")
    for kind in StateBackend:
        with tempfile.TemporaryDirectory() as tmp:
            backend = open_backend(kind, Path(tmp))
            started = time.perf_counter()
            for batch in range(BATCHES):
                changes = {
                    f"acct-{rng.randrange(KEYS)}".encode(): encode_value({"total": batch, "count": 1}, None)
                    for _ in range(BATCH)
                }
                backend.write(changes, batch)
            puts = BATCHES * BATCH / (time.perf_counter() - started)
            keys = [f"acct-{rng.randrange(KEYS)}".encode() for _ in range(READS)]
            started = time.perf_counter()
            for key in keys:
                backend.get(key)
            reads = READS / (time.perf_counter() - started)
            backend.close()
        print(f"{kind.value:<9}{puts:>12,.0f}{reads:>12,.0f}")


if __name__ == "__main__":
    main()
