"""The whole bus under load: webhook -> canonical topic and webhook -> ERP document, p50/p99.

    .venv/bin/python benchmarks/e2e_load.py                          # a quick try: 200/s for 30 s
    .venv/bin/python benchmarks/e2e_load.py --rate 2000 --seconds 300 --senders 2   # the benchmark

Needs the stack (``KAFKA_BOOTSTRAP_SERVERS``, ``SCHEMA_REGISTRY_URL``, ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``JAEGER_QUERY_URL``; defaults are the test stack's ports). One run, on the same machine:

1. **baseline** (``--baseline-seconds 0`` skips it): a bare confluent-kafka producer paced at the
   same rate into a fresh 12-partition topic and a ``read_committed`` consumer on it; latency =
   receive time - send time of each record; then the burst rate of 100,000 unpaced 1 KiB records.
2. **the bus**: every available service (or ``--only`` some) as its own process (``esb bus``
   supervisor, fresh state folder, free ports, tracing on; ``ESB_*`` in this environment reach every
   service). Its consumer groups are the service names, shared with every earlier bus on the broker:
   the run first waits until the backlog those left is worked off (``--catch-up-seconds``).
3. **the load**: the demo generator's default mix signed and posted to the gateway by ``--senders``
   processes at ``--rate`` events/s in total for ``--seconds``, open loop (see esb.demo.runner).
4. after a drain (until no new canonical order or ERP document for 15 s), from each event's due
   time: webhook -> ``canonical.orders.v1`` (the record's broker timestamp) and webhook -> the
   recording target's receipt of the ERP document for the same order; and the CPU of each process
   (bus, senders, Kafka, registry, Jaeger): % during the load, ms per accepted webhook.

Goals (issue #11): p99 <= 250 ms to the canonical topic, <= 1 s to the ERP document.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec  # type: ignore[attr-defined]

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks.measure is shared by the benchmark scripts

from benchmarks.measure import cpu_seconds  # noqa: E402


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def _distribution(seconds: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"orders": len(seconds)}
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)):
        out[f"{name}_ms"] = _ms(percentile(seconds, q))
    return out


# The shared stack's processes, found by their command line (they are not children of this run).
_STACK = {"kafka": "kafka.Kafka", "registry": "quarkus-run.jar", "jaeger": "jaeger"}


def _stack_pids() -> dict[str, int]:
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        for name, marker in _STACK.items():
            if name not in found and marker in cmdline and "e2e_load" not in cmdline:
                found[name] = int(entry.name)
    return found


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, pid in pids.items():
        try:
            out[name] = cpu_seconds(pid)
        except (OSError, IndexError, ValueError):
            continue
    return out


def _bus_groups(admin: AdminClient, instance_id: str) -> tuple[list[str], dict[str, int]]:
    """The consumer groups this bus's processes joined, and per group the members of *other* buses.

    Group names are the services' names, the same for every bus on this broker: a new bus inherits
    the backlog earlier runs left, and shares partitions with any other bus running at the time.
    """
    names = [g.group_id for g in admin.list_consumer_groups().result(30).valid]
    described = admin.describe_consumer_groups(names) if names else {}
    ours: list[str] = []
    strangers: dict[str, int] = {}
    for name, future in described.items():
        members = future.result(30).members
        mine = [m for m in members if instance_id in (m.group_instance_id or "") + m.client_id]
        if mine and ".global." not in name:
            ours.append(name)
            if len(members) > len(mine):
                strangers[name] = len(members) - len(mine)
    return sorted(ours), strangers


def _backlog(admin: AdminClient, groups: list[str]) -> dict[str, int]:
    """Committed records not yet processed, per group (read_committed end offsets).

    One offset per partition is not counted: a transaction's commit marker sits after the last
    record, and the committed offset stops before it.
    """
    backlog: dict[str, int] = {}
    for group in groups:
        found = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(30)
        committed = {
            TopicPartition(tp.topic, tp.partition): tp.offset
            for tp in found.topic_partitions or []
            if tp.offset >= 0
        }
        if not committed:
            continue
        ends = admin.list_offsets(
            {tp: OffsetSpec.latest() for tp in committed},  # type: ignore[no-untyped-call]
            isolation_level=IsolationLevel.READ_COMMITTED,
        )
        backlog[group] = sum(
            max(0, ends[tp].result(30).offset - offset - 1) for tp, offset in committed.items()
        )
    return backlog


def _wait_caught_up(bootstrap: str, instance_id: str, timeout_s: float) -> dict[str, Any]:
    """Let the new bus work off what earlier runs left in its groups, so it is not timed here."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    started = time.monotonic()
    groups, strangers = _bus_groups(admin, instance_id)
    first = _backlog(admin, groups)
    left = first
    while sum(left.values()) > 0 and time.monotonic() - started < timeout_s:
        print(f"backlog from earlier runs: {sum(left.values())} records {left}")
        time.sleep(10)
        groups, strangers = _bus_groups(admin, instance_id)
        left = _backlog(admin, groups)
    return {
        "groups": groups,
        "records_at_start": sum(first.values()),
        "records_left": sum(left.values()),
        "waited_s": round(time.monotonic() - started, 1),
        "members_of_other_buses": strangers,
    }


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / tick, sum(fields) / tick


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
                key = message.key()
                if not message.error() and key is not None:
                    received[key] = time.time()
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


def _send(
    args: tuple[str, DemoSecrets, str, str, float, float, int],
) -> tuple[RunSummary, DemoRecord, float]:
    gateway_url, secrets, bootstrap, tag, rate, seconds, seed = args
    generator = Generator(secrets, seed=seed, tag=tag)
    started = time.time()
    events = [*generator.opening_stock()]
    events += [next(generator) for _ in range(int(rate * seconds) + 100)]
    cpu_before = time.process_time()
    summary = run_events(
        iter(events),
        gateway_url=gateway_url,
        secrets=secrets,
        kafka_config={"bootstrap.servers": bootstrap},
        rate=rate,
        duration_s=seconds,
        concurrency=256,
    )
    sender_cpu = time.process_time() - cpu_before
    return summary, DemoRecord.of(generator, summary, seed, started, time.time()), sender_cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="events/s in total")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--senders", type=int, default=1, help="sender processes (rate is split)")
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    parser.add_argument("--drain-seconds", type=float, default=180.0, help="at most, after the load")
    parser.add_argument(
        "--only", default=None, help="comma-separated services to run, e.g. 'gateway' for its own capacity"
    )
    parser.add_argument(
        "--catch-up-seconds",
        type=float,
        default=600.0,
        help="at most, before the load: work off the backlog earlier runs left in the groups",
    )
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
    if args.baseline_seconds > 0:
        results["baseline"] = baseline(args.bootstrap, args.rate, args.baseline_seconds)
        print(json.dumps(results["baseline"]))

    layout = BusLayout(Path(tempfile.mkdtemp(prefix="esb-e2e-load-")))
    apply_governance(endpoints, replication_factor=1)
    only = args.only.split(",") if args.only else None
    plan = plan_bus(
        endpoints, instance_id=f"bench-{uuid.uuid4().hex[:6]}", base_port=None, gateway_port=None, only=only
    )
    try:
        states = start_bus(layout, plan, ready_timeout_s=150)
        results["processes"] = {s.name: s.ready for s in states}
        results["missing"] = plan.missing
        print("bus:", results["processes"], "missing:", plan.missing)
        assert plan.gateway_url is not None, "no gateway"
        secrets = DemoSecrets.load(layout.secrets_file)
        if args.catch_up_seconds > 0:
            results["inherited_backlog"] = _wait_caught_up(
                args.bootstrap, plan.instance_id, args.catch_up_seconds
            )
            print("inherited backlog:", results["inherited_backlog"])
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
        pids = {s.name: s.pid for s in states if s.pid is not None} | _stack_pids()
        cpu_start, machine_start = _cpu(pids), _machine_busy()
        with multiprocessing.get_context("spawn").Pool(args.senders) as pool:
            outcomes = pool.map(_send, jobs)
        cpu_loaded, machine_loaded = _cpu(pids), _machine_busy()
        summaries = [s for s, _, _ in outcomes]
        orders: dict[str, dict[str, Any]] = {}
        for _, record, _ in outcomes:
            orders.update(record.orders)
        sent = sum(sum(s.by_status.values()) for s in summaries)
        elapsed = max(s.elapsed_s for s in summaries)
        http = [ms for s in summaries for ms in s.http_ms]
        results["sent"] = sent
        results["accepted"] = sum(s.accepted for s in summaries)
        results["achieved_rate"] = round(sent / elapsed, 1) if elapsed else 0
        lag = [ms for s in summaries for ms in s.lag_ms]
        results["offered"] = len(lag)
        results["sender_late_p99_ms"] = round(percentile(lag, 0.99) or 0, 1)  # due -> handed to the client
        results["http_p50_ms"] = round(percentile(http, 0.5) or 0, 1)
        results["http_p99_ms"] = round(percentile(http, 0.99) or 0, 1)
        results["refused"] = {
            k: v for s in summaries for k, v in s.by_status.items() if not k.startswith("2")
        }
        results["errors"] = {k: v for s in summaries for k, v in s.errors.items()}  # no answer at all
        results["commit_interval_ms"] = os.environ.get("ESB_COMMIT_INTERVAL_MS", "default (100)")
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
        cpu_drained = _cpu(pids)
        load_s = max(s.elapsed_s for s in summaries)
        accepted = max(results["accepted"], 1)
        # CPU%: bus processes idle while the senders generate their events, so the load phase's CPU
        # is divided by the sending time. ms per accepted event: load + drain (the whole backlog).
        results["cpu"] = {
            name: {
                "load_pct": round((cpu_loaded[name] - cpu_start[name]) / load_s * 100, 1),
                "ms_per_event": round((cpu_drained[name] - cpu_start[name]) / accepted * 1000, 3),
            }
            for name in cpu_start
            if name in cpu_loaded and name in cpu_drained
        }
        results["cpu"]["senders"] = {
            "load_pct": round(sum(c for _, _, c in outcomes) / load_s * 100, 1),
            "ms_per_event": round(sum(c for _, _, c in outcomes) / accepted * 1000, 3),
        }
        busy, total = machine_loaded[0] - machine_start[0], machine_loaded[1] - machine_start[1]
        results["machine_busy_pct"] = round(busy / total * 100, 1) if total else None
        results["loadavg"] = os.getloadavg()
        results["orders"] = len(orders)
        results["webhook_to_canonical"] = _distribution(to_canonical)
        results["webhook_to_erp_document"] = _distribution(to_document)
    finally:
        stop_bus(layout)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
