"""The whole bus under load: webhook -> canonical topic and webhook -> ERP document, p50/p99.

    .venv/bin/python benchmarks/e2e_load.py                          # a quick try: 200/s for 30 s
    .venv/bin/python benchmarks/e2e_load.py --rate 2000 --seconds 300 --senders 2   # the benchmark

Needs the stack (``KAFKA_BOOTSTRAP_SERVERS``, ``SCHEMA_REGISTRY_URL``, ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``JAEGER_QUERY_URL``; defaults are the test stack's ports). One run, on the same machine:

1. **baseline**: a bare confluent-kafka producer paced at the same rate for ``--baseline-seconds``
   into a fresh 12-partition topic and a ``read_committed`` consumer on it; latency = receive time -
   send time of each record; then the burst rate of 100,000 unpaced 1 KiB records.
2. **the bus**: every available service as its own process (``esb bus`` supervisor, fresh state
   folder, free ports, tracing on), the demo generator's default mix signed and posted to the
   gateway by ``--senders`` processes at ``--rate`` events/s in total for ``--seconds``.
3. after a drain (until no new canonical order or ERP document for 15 s), from the demo's own send
   times: webhook -> ``canonical.orders.v1`` (the record's broker timestamp) and webhook -> the
   recording target's receipt of the ERP document (sales order) for the same order.

Goals (issue #11): p99 <= 250 ms to the canonical topic, <= 1 s to the ERP document.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from esb.bus_supervisor.supervisor import (
    BusLayout,
    apply_governance,
    plan_bus,
    start_bus,
    stop_bus,
)
from esb.demo.fx import publish_rates
from esb.demo.generator import Generator
from esb.demo.record import DemoRecord
from esb.demo.runner import RunSummary, run_events
from esb.demo.secrets import DemoSecrets
from esb.devstack.stack import StackEndpoints
from esb.observe.kafka_view import KafkaView
from esb.observe.report import latencies, percentile, recorded_documents


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def baseline(bootstrap: str, rate: float, seconds: float) -> dict[str, Any]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = f"bench.e2e-baseline.{uuid.uuid4().hex[:6]}"
    admin.create_topics([NewTopic(topic, num_partitions=12, replication_factor=-1)])[topic].result(30)
    received: dict[bytes, float] = {}
    stop = threading.Event()

    def read() -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": uuid.uuid4().hex,
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
            }
        )
        consumer.assign([TopicPartition(topic, p, 0) for p in range(12)])
        while not stop.is_set():
            for message in consumer.consume(1000, timeout=0.1):
                if not message.error() and message.key() is not None:
                    received[message.key()] = time.time()
        consumer.close()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(2)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    sent: dict[bytes, float] = {}
    payload = b"x" * 1024
    start = time.monotonic()
    count = int(rate * seconds)
    for index in range(count):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        key = f"k{index}".encode()
        sent[key] = time.time()
        producer.produce(topic, payload, key=key)
        producer.poll(0)
    producer.flush(30)
    burst_start = time.monotonic()
    for index in range(100_000):
        while True:
            try:
                producer.produce(topic, payload, key=f"b{index}".encode())
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(60)
    burst_s = time.monotonic() - burst_start
    deadline = time.monotonic() + 30
    while len(received) < count + 100_000 and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    reader.join(10)
    admin.delete_topics([topic])
    latency = [received[k] - sent[k] for k in sent if k in received]
    return {
        "paced_rate": rate,
        "records": len(latency),
        "p50_ms": _ms(percentile(latency, 0.5)),
        "p99_ms": _ms(percentile(latency, 0.99)),
        "burst_produce_per_s": round(100_000 / burst_s),
    }


def _send(args: tuple[str, DemoSecrets, str, str, float, float, int]) -> tuple[RunSummary, DemoRecord]:
    gateway_url, secrets, bootstrap, tag, rate, seconds, seed = args
    generator = Generator(secrets, seed=seed, tag=tag)
    started = time.time()
    events = [*generator.opening_stock()]
    summary = run_events(
        iter(events + [next(generator) for _ in range(int(rate * seconds) + 100)]),
        gateway_url=gateway_url,
        secrets=secrets,
        kafka_config={"bootstrap.servers": bootstrap},
        rate=rate,
        duration_s=seconds,
        concurrency=64,
    )
    return summary, DemoRecord.of(generator, summary, seed, started, time.time())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="events/s in total")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--senders", type=int, default=1, help="sender processes (rate is split)")
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    parser.add_argument("--drain-seconds", type=float, default=180.0, help="at most, after the load")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument(
        "--registry", default=os.environ.get("SCHEMA_REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7")
    )
    parser.add_argument(
        "--otlp", default=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:14318")
    )
    parser.add_argument("--jaeger", default=os.environ.get("JAEGER_QUERY_URL", "http://127.0.0.1:26686"))
    args = parser.parse_args()
    endpoints = StackEndpoints(args.bootstrap, args.registry, args.otlp, args.jaeger)

    results: dict[str, Any] = {"rate": args.rate, "seconds": args.seconds, "senders": args.senders}
    print(f"baseline: produce -> read_committed consume, {args.rate:.0f}/s for {args.baseline_seconds:.0f} s")
    results["baseline"] = baseline(args.bootstrap, args.rate, args.baseline_seconds)
    print(json.dumps(results["baseline"]))

    layout = BusLayout(Path(tempfile.mkdtemp(prefix="esb-e2e-load-")))
    apply_governance(endpoints, replication_factor=1)
    plan = plan_bus(endpoints, instance_id=f"bench-{uuid.uuid4().hex[:6]}", base_port=None, gateway_port=None)
    try:
        states = start_bus(layout, plan, ready_timeout_s=150)
        results["processes"] = {s.name: s.ready for s in states}
        results["missing"] = plan.missing
        print("bus:", results["processes"], "missing:", plan.missing)
        assert plan.gateway_url is not None, "no gateway"
        secrets = DemoSecrets.load(layout.secrets_file)
        publish_rates(args.bootstrap, args.registry)
        since_ms = int(time.time() * 1000) - 1000
        base_tag = f"B{uuid.uuid4().hex[:4].upper()}"
        jobs = [
            (
                plan.gateway_url,
                secrets,
                args.bootstrap,
                f"{base_tag}{i}",
                args.rate / args.senders,
                args.seconds,
                i,
            )
            for i in range(args.senders)
        ]
        print(f"load: {args.rate:.0f} events/s for {args.seconds:.0f} s from {args.senders} sender(s)")
        with multiprocessing.get_context("spawn").Pool(args.senders) as pool:
            outcomes = pool.map(_send, jobs)
        summaries = [s for s, _ in outcomes]
        orders: dict[str, dict[str, Any]] = {}
        for _, record in outcomes:
            orders.update(record.orders)
        sent = sum(sum(s.by_status.values()) for s in summaries)
        elapsed = max(s.elapsed_s for s in summaries)
        http = [ms for s in summaries for ms in s.http_ms]
        results["sent"] = sent
        results["accepted"] = sum(s.accepted for s in summaries)
        results["achieved_rate"] = round(sent / elapsed, 1) if elapsed else 0
        results["http_p50_ms"] = round(percentile(http, 0.5) or 0, 1)
        results["http_p99_ms"] = round(percentile(http, 0.99) or 0, 1)
        results["refused"] = {
            k: v for s in summaries for k, v in s.by_status.items() if not k.startswith("2")
        }
        demo = DemoRecord("bench", 0, since_ms / 1000, time.time(), [], orders)
        view = KafkaView(args.bootstrap, args.registry)
        last = (-1, -1)
        quiet_since = time.monotonic()
        deadline = time.monotonic() + args.drain_seconds
        to_canonical: list[float] = []
        to_document: list[float] = []
        while time.monotonic() < deadline:
            time.sleep(5)
            documents = recorded_documents(plan.target_url)
            to_canonical, to_document = latencies(demo, view, documents, since_ms)
            now = (len(to_canonical), len(to_document))
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since > 15:
                break
        view.close()
        results["orders"] = len(orders)
        results["webhook_to_canonical"] = {
            "orders": len(to_canonical),
            "p50_ms": _ms(percentile(to_canonical, 0.5)),
            "p99_ms": _ms(percentile(to_canonical, 0.99)),
        }
        results["webhook_to_erp_document"] = {
            "orders": len(to_document),
            "p50_ms": _ms(percentile(to_document, 0.5)),
            "p99_ms": _ms(percentile(to_document, 0.99)),
        }
    finally:
        stop_bus(layout)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
