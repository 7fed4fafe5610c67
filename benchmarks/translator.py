"""Translator: Shopify order webhooks -> canonical Avro orders under exactly-once, vs a raw loop.

    .venv/bin/python benchmarks/translator.py --orders 30000

Needs KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL (defaults: the test stack's ports). One run:

1. ``--orders`` Shopify ``orders/create`` webhooks (the conformance order with varied ids and 1-12
   line items) are written to a fresh ``<prefix>ingress.shopify.orders`` topic with the headers
   the gateway writes (``services.gateway.headers.ingress_headers``, a W3C ``traceparent``
   included) and the gateway's key (``<shop>/<order id>``).
2. ``raw``: ``benchmarks/raw_loop.py`` (bare consume -> produce of the same bytes) over that input;
   ``translator``: ``python -m services.translator`` (the service's own ``build_service`` on
   ``bus.runtime``), ``ESB_GUARANTEE=exactly_once``, over the same input. Each as its own process.
3. Throughput: records/s and records per CPU-second (utime + stime of the process, librdkafka's
   threads included) between the first and the last sample of the group's committed offsets, so
   start-up is excluded. Latency, translator only, afterwards with the process caught up:
   ``--rate`` orders/s for ``--latency-seconds``; latency = a ``read_committed`` reader's receive
   time of the canonical order minus the send time of its webhook (matched by the provider event
   id), so it includes the wait for the transaction commit (<= ``--commit-interval-ms``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
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
sys.path.insert(0, str(ROOT))

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]  # noqa: E402
from confluent_kafka.schema_registry import SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

from benchmarks.measure import Result, committed, cpu_seconds  # noqa: E402
from benchmarks.shopify_orders import shopify_order_body  # noqa: E402
from bus.config import SchemaRegistrySettings  # noqa: E402
from services.gateway.headers import ingress_headers  # noqa: E402
from services.translator.routing import output_topics  # noqa: E402

CONFORMANCE = ROOT.parent / "shared" / "conformance" / "shopify" / "api_2024-04_order_get_full.json"
SHOP = "bench-shop.myshopify.com"
ORDERS_TOPIC = next(topic for _, topic in output_topics() if topic.startswith("canonical.orders"))


class Webhooks:
    """Shopify order webhooks as the gateway writes them to the ingress topic."""

    def __init__(self, bootstrap: str, topic: str, source: Path) -> None:
        self.topic = topic
        self._order = json.loads(source.read_bytes())["order"]
        self._producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
        self.sent_at: dict[str, float] = {}
        self.total = 0
        self._next_id = 5_000_000_000

    def send(self, n: int, record_time: bool = False) -> None:
        for _ in range(n):
            self._next_id += 1
            order_id = self._next_id
            event_id = uuid.uuid4().hex
            now = time.time()
            headers: list[tuple[str, str | bytes | None]] = [
                *ingress_headers(
                    system="shopify",
                    account=SHOP,
                    event_id=event_id,
                    event_topic="orders/create",
                    received_at=now,
                    content_type="application/json",
                    trace_context={"traceparent": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"},
                    redactions=0,
                )
            ]
            body = shopify_order_body(self._order, order_id, 1 + order_id % 12)
            while True:
                try:
                    self._producer.produce(
                        self.topic, body, key=f"{SHOP}/{order_id}".encode(), headers=headers
                    )
                    break
                except BufferError:
                    self._producer.poll(0.01)
            if record_time:
                self.sent_at[event_id] = now
                self._producer.poll(0)
        self._producer.flush(60)
        self.total += n


def _latency_reader(
    args: argparse.Namespace, topic: str, out: dict[str, float], stop: threading.Event
) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": uuid.uuid4().hex,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, p, -1) for p in range(args.partitions)])  # -1: the end
    decode = AvroDeserializer(
        SchemaRegistryClient(
            {
                "url": args.registry,
                "timeout": SchemaRegistrySettings.model_fields["request_timeout_s"].default,
            }
        )
    )
    context = SerializationContext(topic, MessageField.VALUE)
    while not stop.is_set():
        for message in consumer.consume(500, 0.1):
            if message.error() is None:
                now = time.time()
                value: Any = decode(message.value(), context)
                out.setdefault(value["metadata"]["provider_event_id"], now)
    consumer.close()


def run_mode(mode: str, args: argparse.Namespace, prefix: str, feed: Webhooks) -> Result:
    group = f"{prefix}{mode}"
    state_dir = Path(tempfile.mkdtemp(prefix="esb-bench-translator-"))
    raw_output = f"{prefix}raw-out"
    env = dict(os.environ)
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap,
            "SCHEMA_REGISTRY_URL": args.registry,
            "SCHEMA_REGISTRY_AUTO_REGISTER": "true",
            "ESB_LOG_LEVEL": "WARNING",
            "ESB_GUARANTEE": "exactly_once",
            "ESB_COMMIT_EVERY": str(args.commit_every),
            "ESB_COMMIT_INTERVAL_MS": str(args.commit_interval_ms),
            "ESB_STATE_DIR": str(state_dir),
            "TRANSLATOR_SERVICE_NAME": group,
            "TRANSLATOR_TOPIC_PREFIX": prefix,
            "TRANSLATOR_INPUT_TOPICS": json.dumps([feed.topic]),
            "RAW_GROUP": group,
            "RAW_INPUT_TOPIC": feed.topic,
            "RAW_OUTPUT_TOPIC": raw_output,
        }
    )
    if mode == "raw":
        command = [sys.executable, str(ROOT / "benchmarks" / "raw_loop.py")]
    else:
        command = [sys.executable, *args.python_args, "-m", "services.translator"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        samples: list[tuple[float, float, int]] = []
        while True:
            done = committed(args.bootstrap, group, feed.topic, args.partitions)
            samples.append((time.monotonic(), cpu_seconds(process.pid), done))
            if done >= args.orders:
                break
            if process.poll() is not None:
                raise RuntimeError(f"{mode} exited with {process.returncode}")
            time.sleep(0.25)
        first = next(s for s in samples if s[2] > 0)
        last = samples[-1]
        if last is first:
            raise RuntimeError(f"{mode} went through the input within one sample: use more --orders")
        result = Result(mode, last[2] - first[2], last[0] - first[0], last[1] - first[1])
        if mode == "translator" and args.latency_seconds > 0:
            result.p50_ms, result.p99_ms = _latency(args, prefix, group, feed)
        return result
    finally:
        process.terminate()
        process.wait(60)
        shutil.rmtree(state_dir, ignore_errors=True)


def _latency(args: argparse.Namespace, prefix: str, group: str, feed: Webhooks) -> tuple[float, float]:
    while committed(args.bootstrap, group, feed.topic, args.partitions) < feed.total:
        time.sleep(0.25)  # caught up before measuring
    received: dict[str, float] = {}
    stop = threading.Event()
    orders_topic = prefix + ORDERS_TOPIC
    reader = threading.Thread(target=_latency_reader, args=(args, orders_topic, received, stop))
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
        raise RuntimeError(f"only {len(latencies)}/{len(feed.sent_at)} latency samples arrived")
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=30_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--commit-every", type=int, default=5000)
    parser.add_argument("--commit-interval-ms", type=int, default=100)
    parser.add_argument("--rate", type=int, default=500, help="orders/s in the latency phase")
    parser.add_argument("--latency-seconds", type=int, default=5)
    parser.add_argument("--modes", default="raw,translator")
    parser.add_argument(
        "--python-args",
        type=lambda s: s.split(),
        default=[],
        help="extra interpreter arguments for the translator process (e.g. '-m cProfile -o out.prof')",
    )
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument(
        "--registry", default=os.environ.get("SCHEMA_REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7")
    )
    args = parser.parse_args()
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    topics = [f"{prefix}ingress.shopify.orders", f"{prefix}raw-out"]
    topics += [prefix + topic for _, topic in output_topics()]
    for future in admin.create_topics(
        [NewTopic(t, num_partitions=args.partitions, replication_factor=-1) for t in topics]
    ).values():
        future.result(30)
    try:
        feed = Webhooks(args.bootstrap, topics[0], CONFORMANCE)
        started = time.monotonic()
        feed.send(args.orders)
        print(f"filled {feed.topic} with {args.orders} order webhooks in {time.monotonic() - started:.1f}s")
        results = [run_mode(mode, args, prefix, feed) for mode in args.modes.split(",")]
    finally:
        topics += [f"dlq.{prefix}translator", f"{prefix}translator.seen-events.changelog"]
        for future in admin.delete_topics(topics).values():
            with contextlib.suppress(KafkaException):
                future.result(30)
    print(f"\nload average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    print(f"{'mode':<11}{'orders':>8}{'orders/s':>10}{'orders/CPU-s':>14}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        p50 = f"{r.p50_ms:>9.1f}" if r.p50_ms is not None else f"{'-':>9}"
        p99 = f"{r.p99_ms:>9.1f}" if r.p99_ms is not None else f"{'-':>9}"
        print(f"{r.mode:<11}{r.records:>8}{r.rate:>10.0f}{r.per_cpu:>14.0f}{p50}{p99}")
    by_mode = {r.mode: r for r in results}
    if {"translator", "raw"} <= set(by_mode):
        t, raw = by_mode["translator"], by_mode["raw"]
        ratio_rate, ratio_cpu = t.rate / raw.rate, t.per_cpu / raw.per_cpu
        print(f"\ntranslator / raw loop: orders/s {ratio_rate:.3f}, orders per CPU-s {ratio_cpu:.3f}")


if __name__ == "__main__":
    main()
