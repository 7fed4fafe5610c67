"""EOS vs at-least-once vs a raw consume->produce loop, same broker, same run.

    .venv/bin/python benchmarks/bench_runtime.py --records 200000

Needs KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL (defaults: the test stack's ports). For
each mode the service runs as its own process over the same pre-filled Avro input topic:

- throughput: records/s and records per CPU-second of the service process, measured between the
  first and the last sample of the group's committed offsets (startup excluded);
- latency: afterwards, a paced feed (``--rate`` records/s for ``--latency-seconds``) while the
  process is caught up; latency = a read_committed reader's receive time minus the send time of
  the same event id (so under EOS it includes waiting for the transaction commit).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks.measure is shared by the benchmark scripts

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

from benchmarks.measure import Result, committed, cpu_seconds  # noqa: E402
from bus.config import SchemaRegistrySettings  # noqa: E402
from services.examples.avro_map.service import AMOUNT_SCHEMA, Amount  # noqa: E402


class Feed:
    def __init__(self, bootstrap: str, registry_url: str, topic: str) -> None:
        registry = SchemaRegistryClient(SchemaRegistrySettings(url=registry_url).client_config())
        self.topic = topic
        self.serialize = AvroSerializer(registry, AMOUNT_SCHEMA, lambda v, _c: v.model_dump())
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
        self.sent_at: dict[str, float] = {}
        self.total = 0

    def send(self, n: int, record_time: bool = False) -> None:
        ctx = SerializationContext(self.topic, MessageField.VALUE)
        for i in range(n):
            amount = Amount(
                event_id=uuid.uuid4().hex,
                account=f"a{i % 1000}",
                amount=i % 97,
                occurred_at=datetime.now(UTC),
            )
            value = self.serialize(amount, ctx)
            while True:
                try:
                    self.producer.produce(self.topic, value, key=amount.account.encode())
                    break
                except BufferError:
                    self.producer.poll(0.01)
            if record_time:
                self.sent_at[amount.event_id] = time.time()
                self.producer.poll(0)
        self.producer.flush(60)
        self.total += n


def _latency_reader(
    bootstrap: str,
    registry_url: str,
    topic: str,
    partitions: int,
    out: dict[str, float],
    stop: threading.Event,
) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": uuid.uuid4().hex,
            "isolation.level": "read_committed",
            "auto.offset.reset": "latest",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, -1) for p in range(partitions)])  # -1: the end
    decode = AvroDeserializer(SchemaRegistryClient(SchemaRegistrySettings(url=registry_url).client_config()))
    while not stop.is_set():
        message = consumer.poll(0.1)
        if message is None or message.error():
            continue
        now = time.time()
        value: Any = decode(message.value(), SerializationContext(topic, MessageField.VALUE))
        out[value["event_id"]] = now
    consumer.close()


def run_mode(
    mode: str, args: argparse.Namespace, source: str, partitions: int, admin: AdminClient, feed: Feed
) -> Result:
    output = f"bench.{mode}.{uuid.uuid4().hex[:6]}"
    admin.create_topics([NewTopic(output, num_partitions=partitions, replication_factor=-1)])[output].result(
        30
    )
    group = f"bench-{mode}-{uuid.uuid4().hex[:6]}"
    state_dir = Path(tempfile.mkdtemp(prefix="esb-bench-"))
    env = dict(os.environ)
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap,
            "SCHEMA_REGISTRY_URL": args.registry,
            "SCHEMA_REGISTRY_AUTO_REGISTER": "true",
            "ESB_LOG_LEVEL": "WARNING",
            "ESB_COMMIT_EVERY": str(args.commit_every),
            "ESB_COMMIT_INTERVAL_MS": str(args.commit_interval_ms),
            "ESB_STATE_DIR": str(state_dir),
            "AVRO_MAP_SERVICE_NAME": group,
            "AVRO_MAP_INPUT_TOPIC": source,
            "AVRO_MAP_OUTPUT_TOPIC": output,
            "RAW_GROUP": group,
            "RAW_INPUT_TOPIC": source,
            "RAW_OUTPUT_TOPIC": output,
        }
    )
    if mode == "raw":
        command = [sys.executable, str(ROOT / "benchmarks" / "raw_loop.py")]
    else:
        env["ESB_GUARANTEE"] = "exactly_once" if mode == "eos" else "at_least_once"
        command = [sys.executable, "-m", "services.examples.avro_map"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        samples: list[tuple[float, float, int]] = []
        while True:
            done = committed(args.bootstrap, group, source, partitions)
            samples.append((time.monotonic(), cpu_seconds(process.pid), done))
            if done >= args.records:
                break
            if process.poll() is not None:
                raise RuntimeError(f"{mode} exited with {process.returncode}")
            time.sleep(0.25)
        first = next(s for s in samples if s[2] > 0)
        last = samples[-1]
        while committed(args.bootstrap, group, source, partitions) < feed.total:
            time.sleep(0.25)  # earlier modes' latency records: catch up before measuring latency
        # Latency phase: paced records while the process is caught up.
        received: dict[str, float] = {}
        stop = threading.Event()
        reader = threading.Thread(
            target=_latency_reader, args=(args.bootstrap, args.registry, output, partitions, received, stop)
        )
        reader.start()
        time.sleep(2)
        feed.sent_at.clear()
        per_tick = max(args.rate // 20, 1)
        for _ in range(args.latency_seconds * 20):
            feed.send(per_tick, record_time=True)
            time.sleep(0.05)
        time.sleep(3)
        stop.set()
        reader.join()
        latencies = sorted((received[e] - t) * 1000 for e, t in feed.sent_at.items() if e in received)
        if len(latencies) < len(feed.sent_at) * 0.99:
            raise RuntimeError(f"{mode}: only {len(latencies)}/{len(feed.sent_at)} latency samples arrived")
        return Result(
            mode=mode,
            records=last[2] - first[2],
            seconds=last[0] - first[0],
            cpu_seconds=last[1] - first[1],
            p50_ms=statistics.median(latencies),
            p99_ms=latencies[int(len(latencies) * 0.99) - 1],
        )
    finally:
        process.terminate()
        process.wait(60)
        admin.delete_topics([output])
        shutil.rmtree(state_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--commit-every", type=int, default=5000)
    parser.add_argument("--commit-interval-ms", type=int, default=100)
    parser.add_argument("--rate", type=int, default=2000, help="records/s in the latency phase")
    parser.add_argument("--latency-seconds", type=int, default=5)
    parser.add_argument("--modes", default="raw,eos,alo")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument(
        "--registry", default=os.environ.get("SCHEMA_REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7")
    )
    args = parser.parse_args()
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    source = f"bench.amounts.{uuid.uuid4().hex[:6]}"
    admin.create_topics([NewTopic(source, num_partitions=args.partitions, replication_factor=-1)])[
        source
    ].result(30)
    try:
        feed = Feed(args.bootstrap, args.registry, source)
        started = time.monotonic()
        feed.send(args.records)
        print(f"filled {source} with {args.records} Avro records in {time.monotonic() - started:.1f}s")
        results = [
            run_mode(mode, args, source, args.partitions, admin, feed) for mode in args.modes.split(",")
        ]
    finally:
        admin.delete_topics([source])
    print(f"\n{'mode':<6}{'records':>9}{'rec/s':>10}{'rec/CPU-s':>11}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r.mode:<6}{r.records:>9}{r.rate:>10.0f}{r.per_cpu:>11.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}")
    by_mode = {r.mode: r for r in results}
    if {"eos", "alo"} <= set(by_mode):
        eos, alo = by_mode["eos"], by_mode["alo"]
        print(f"\nEOS / ALO:      rec/s {eos.rate / alo.rate:.2f}, rec/CPU-s {eos.per_cpu / alo.per_cpu:.2f}")
    if {"eos", "raw"} <= set(by_mode):
        eos, raw = by_mode["eos"], by_mode["raw"]
        print(
            f"EOS / raw loop:      rec/s {eos.rate / raw.rate:.2f}, rec/CPU-s {eos.per_cpu / raw.per_cpu:.2f}"
        )


if __name__ == "__main__":
    main()
