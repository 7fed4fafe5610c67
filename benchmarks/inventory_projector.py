"""Inventory projector under exactly-once: movements/s per core, and movement -> published level p99.

    .venv/bin/python benchmarks/inventory_projector.py --movements 100000
    .venv/bin/python benchmarks/inventory_projector.py --soak --movements 100000 --kills 5
    .venv/bin/python benchmarks/inventory_projector.py --in-process --movements 30000 [--profile]

Needs KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL (defaults: the test stack's ports).

- throughput: the input topic is pre-filled with the integration tests' messy feed (late and
  out-of-order timestamps, 5 % absolute counts, 5 % re-deliveries, 200 SKUs x 5 locations), keyed
  by SKU (``canonical.stock-movements.v2``) with the runtime's partitioner (``murmur2_random``);
  the projector runs as its own process; movements/s and movements per CPU-second of that process
  are measured between the first and the last sample of the group's committed offsets (the
  channel values are computed in the same handler call: nothing is left to process after).
- baseline: first, in the same run, the bare consume -> produce loop (``benchmarks/raw_loop.py``)
  over the same movements, measured the same way; the projector's CPU figure is also printed as a
  ratio of it (``--no-baseline`` skips it).
- latency: afterwards, a paced feed (``--rate`` movements/s for ``--latency-seconds``) while the
  projector is caught up; latency = a read_committed reader's receive time of the level minus the
  send time of the movement that caused it (``causation_id``), so it includes the EOS commit wait.
- ``--soak``: instead, kill -9 the projector ``--kills`` times while it works through the feed and
  check the published levels against a from-scratch recomputation (the integration test's check,
  at full size).
- ``--in-process``: no broker for the projector: the same feed through the runtime's
  ``RecordProcessor`` (Avro on a ``mock://`` registry, RocksDB stores, overlays written to disk
  every ``--commit-every`` records, no changelog); CPU per movement, ``--profile`` adds the cProfile
  top functions. The figure to compare changes of the handler with, without the broker's noise.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the feed and the checks are shared with tests/integration

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]  # noqa: E402

from benchmarks.measure import committed, cpu_seconds  # noqa: E402
from schemas.inventory.models import InventoryLevel  # noqa: E402
from tests.integration.inventory_feed import MovementFeed, decoder  # noqa: E402


def _reader(args: argparse.Namespace, topic: str, out: dict[str, float], stop: threading.Event) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": uuid.uuid4().hex,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, -1) for p in range(args.partitions)])
    decode = decoder(args.registry, InventoryLevel)
    while not stop.is_set():
        for message in consumer.consume(1000, 0.1):
            if message.error() is None:
                now = time.time()
                level = decode(message.value(), topic)
                out.setdefault(str(level.metadata.causation_id), now)
    consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--movements", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--commit-every", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=1000, help="movements/s in the latency phase")
    parser.add_argument("--latency-seconds", type=int, default=10)
    parser.add_argument("--soak", action="store_true", help="kill -9 during the run and verify instead")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw consume -> produce loop")
    parser.add_argument("--in-process", action="store_true", help="no broker: the record path only")
    parser.add_argument("--profile", action="store_true", help="with --in-process: cProfile top functions")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument(
        "--registry", default=os.environ.get("SCHEMA_REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7")
    )
    args = parser.parse_args()
    if args.in_process:
        _in_process(args)
        return
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    run = uuid.uuid4().hex[:6]
    names = ["movements", "reservations", "levels", "channels", "alerts", "raw"]
    topics = {name: f"bench.ip.{name}.{run}" for name in names}
    for future in admin.create_topics(
        [NewTopic(t, num_partitions=args.partitions, replication_factor=-1) for t in topics.values()]
    ).values():
        future.result(30)
    service = f"bench-ip-{run}"
    env = dict(os.environ)
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap,
            "SCHEMA_REGISTRY_URL": args.registry,
            "SCHEMA_REGISTRY_AUTO_REGISTER": "true",
            "ESB_LOG_LEVEL": "WARNING",
            "ESB_GUARANTEE": "exactly_once",
            "ESB_COMMIT_EVERY": str(args.commit_every),
            "ESB_STATE_DIR": str(Path(tempfile.gettempdir()) / f"esb-bench-{service}"),
            "INVENTORY_PROJECTOR_SERVICE_NAME": service,
            "INVENTORY_PROJECTOR_MOVEMENTS_TOPIC": topics["movements"],
            "INVENTORY_PROJECTOR_RESERVATIONS_TOPIC": topics["reservations"],
            "INVENTORY_PROJECTOR_LEVELS_TOPIC": topics["levels"],
            "INVENTORY_PROJECTOR_CHANNEL_TOPIC": topics["channels"],
            "INVENTORY_PROJECTOR_ALERTS_TOPIC": topics["alerts"],
            "INVENTORY_PROJECTOR_CHANNELS": '{"web": {"locations": ["L00", "L01", "L02"], "buffer": 2}}',
        }
    )
    feed = MovementFeed(args.bootstrap, args.registry, topics["movements"])
    started = time.monotonic()
    feed.send(args.movements)
    print(
        f"filled {topics['movements']} with {args.movements} movements in {time.monotonic() - started:.1f}s"
    )
    raw = None if args.soak or args.no_baseline else _raw_baseline(args, topics)
    command = [sys.executable, "-m", "services.inventory_projector"]
    processes = [subprocess.Popen(command, env=env, cwd=ROOT)]
    try:
        if args.soak:
            _soak(args, processes, command, env, service, topics)
        else:
            _measure(args, processes[0], service, topics, feed, raw)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(60)
        admin.delete_topics(
            list(topics.values()) + [f"dlq.{service}"] + [f"{service}.{s}.changelog" for s in _stores()]
        )


def _stores() -> list[str]:
    return ["positions", "movement-ids", "reservations", "skus"]


def _window(
    args: argparse.Namespace, process: Any, group: str, topic: str, interval: float = 0.25
) -> tuple[int, float, float]:
    """(records, wall seconds, CPU seconds of ``process``) between the first and the last sample of
    ``group``'s committed offsets on ``topic``, sampled until it has committed every movement."""
    samples: list[tuple[float, float, int]] = []
    while True:
        done = committed(args.bootstrap, group, topic, args.partitions)
        samples.append((time.monotonic(), cpu_seconds(process.pid), done))
        if done >= args.movements:
            break
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        time.sleep(interval)
    first = next(s for s in samples if s[2] > 0)
    last = samples[-1]
    return last[2] - first[2], last[0] - first[0], last[1] - first[1]


def _raw_baseline(args: argparse.Namespace, topics: dict[str, str]) -> tuple[float, float]:
    """The machine's bare consume -> produce loop (``benchmarks/raw_loop.py``: no decoding, no state,
    no transactions) over the same movements: (records/s, records per CPU-second)."""
    group = f"bench-raw-{uuid.uuid4().hex[:6]}"
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=args.bootstrap,
        RAW_INPUT_TOPIC=topics["movements"],
        RAW_OUTPUT_TOPIC=topics["raw"],
        RAW_GROUP=group,
    )
    process = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "raw_loop.py")], env=env, cwd=ROOT)
    try:
        # The loop is fast (a fraction of a second for the feed): sampled more often.
        records, seconds, cpu = _window(args, process, group, topics["movements"], interval=0.02)
    finally:
        process.terminate()
        process.wait(60)
    print(
        f"raw loop: {records} records in {seconds:.2f}s wall, {cpu:.2f}s CPU: "
        f"{records / seconds:.0f} records/s, {records / cpu:.0f} records per CPU-second"
    )
    return records / seconds, records / cpu


def _measure(
    args: argparse.Namespace,
    process: Any,
    service: str,
    topics: dict[str, str],
    feed: MovementFeed,
    raw: tuple[float, float] | None,
) -> None:
    records, seconds, cpu = _window(args, process, service, topics["movements"])
    received: dict[str, float] = {}
    stop = threading.Event()
    reader = threading.Thread(target=_reader, args=(args, topics["levels"], received, stop))
    reader.start()
    time.sleep(3)
    per_tick = max(args.rate // 20, 1)
    for _ in range(args.latency_seconds * 20):
        feed.send(per_tick, record_time=True)
        time.sleep(0.05)
    time.sleep(5)
    stop.set()
    reader.join()
    latencies = sorted((received[e] - t) * 1000 for e, t in feed.sent_at.items() if e in received)
    # Counts absorbed by a newer count and no-op deltas change no level: those send no sample.
    print(f"\nmovements {records} in {seconds:.1f}s wall, {cpu:.1f}s CPU of the projector process")
    print(f"throughput: {records / seconds:.0f} movements/s, {records / cpu:.0f} movements per CPU-second")
    if raw is not None:
        # Per CPU-second only: the loop's wall rate is paced by its commits (every 10,000 records or
        # second), which the committed-offset samples see in steps.
        print(f"against the raw loop: {records / cpu / raw[1]:.3f} of its records per CPU-second")
    print(
        f"latency movement -> committed level ({len(latencies)} samples at {args.rate}/s): "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms"
    )


def _in_process(args: argparse.Namespace) -> None:
    import cProfile
    import pstats
    import shutil
    import zlib

    from bus.config import SchemaRegistrySettings, StateBackend
    from bus.observability.metrics import Metrics
    from bus.observability.tracing import Tracing
    from bus.processor import Record, RecordProcessor
    from bus.retry import RetryPolicy
    from bus.serde import registry_client
    from bus.service import StatePut
    from bus.state.backends import open_backend
    from bus.state.store import StorePartition
    from services.inventory_projector.handler import build_service
    from services.inventory_projector.settings import ChannelConfig, ProjectorSettings

    settings = ProjectorSettings(
        service_name="bench-ip",
        movements_topic="mv",
        reservations_topic="rs",
        levels_topic="levels",
        channel_topic="channels",
        alerts_topic="alerts",
        channels={"web": ChannelConfig(locations=("L00", "L01", "L02"), buffer=2)},
    )
    service = build_service(settings)
    registry = registry_client(SchemaRegistrySettings(url=f"mock://{uuid.uuid4().hex}"))
    decoders = {spec.topic: spec.codec.bind(registry, auto_register=True) for spec in service.inputs}
    encoders = {spec.topic: spec.codec.bind(registry, auto_register=True) for spec in service.outputs}
    root = Path(tempfile.mkdtemp(prefix="esb-bench-ip-"))
    stores = {
        (spec.name, p): StorePartition(
            spec.name, p, open_backend(StateBackend.ROCKSDB, root / spec.name / str(p)), spec.ttl
        )
        for spec in service.stores
        for p in range(args.partitions)
    }
    processor = RecordProcessor(
        service,
        decoders,
        encoders,
        lambda store, partition: stores[(store, partition)],
        RetryPolicy(1, 0, 0),
        Tracing(None, group=service.name),
        Metrics(service.name),
    )
    feed = MovementFeed(args.bootstrap, args.registry, settings.movements_topic)
    inputs = list(feed.records(args.movements, lambda m: decoders["mv"].encode(m, "mv")))
    offsets: dict[tuple[str, int], int] = {}

    def record(topic: str, key: bytes, value: bytes) -> Record:
        partition = zlib.crc32(key) % args.partitions  # any stable hash: only locality matters here
        offset = offsets.get((topic, partition), 0)
        offsets[(topic, partition)] = offset + 1
        return Record(topic, partition, offset, key, value, [], 1_767_225_600_000 + offset)

    def run() -> None:
        pending = 0
        for key, value in inputs:
            item = record("mv", key, value)
            processed = processor.process(item)
            for change in processed.state:
                store = stores[(change.store, item.partition)]
                if isinstance(change, StatePut):
                    store.put(change.key, change.value)
                else:
                    store.delete(change.key)
            pending += 1
            if pending >= args.commit_every:
                pending = 0
                for store in stores.values():
                    if store.dirty:
                        store.commit_to_disk(store.pending_changes(), None)

    profile = cProfile.Profile() if args.profile else None
    cpu = time.process_time()
    if profile is not None:
        profile.runcall(run)
    else:
        run()
    cpu = time.process_time() - cpu
    shutil.rmtree(root, ignore_errors=True)
    n = args.movements
    print(f"in-process: {n} movements, {cpu:.2f}s CPU, {n / cpu:.0f} movements per CPU-second")
    print(f"per movement: {cpu / n * 1e6:.1f} µs CPU")
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


def _soak(
    args: argparse.Namespace,
    processes: list[Any],
    command: list[str],
    env: dict[str, str],
    service: str,
    topics: dict[str, str],
) -> None:
    rng = random.Random(3)
    started = time.monotonic()
    for _ in range(args.kills):
        time.sleep(rng.uniform(2.0, 6.0))
        processes[-1].kill()
        processes[-1].wait(10)
        processes.append(subprocess.Popen(command, env=env, cwd=ROOT))
    while committed(args.bootstrap, service, topics["movements"], args.partitions) < args.movements:
        if processes[-1].poll() is not None:
            raise RuntimeError(f"the projector exited with {processes[-1].returncode}")
        time.sleep(1)
    elapsed = time.monotonic() - started
    processes[-1].terminate()
    processes[-1].wait(60)
    from tests.integration.inventory_check import compare

    mismatches = compare(args.bootstrap, args.registry, topics, service, args.partitions)
    print(
        f"soak: {args.movements} movements in {elapsed:.0f}s with {args.kills} kill -9; "
        f"{mismatches} positions whose published levels differ from the recomputation"
    )
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
