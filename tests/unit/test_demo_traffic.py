"""The demo's traffic: deterministic, signed as the gateway verifies, translatable by the adapters."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from bus.observability.metrics import Metrics
from esb.demo.generator import DEFAULT_MIX, Generator, parse_mix
from esb.demo.pacing import Schedule, parse_rate
from esb.demo.secrets import DemoSecrets
from esb.demo.signing import sign
from esb.observe.metrics import ServiceKpis, histogram_quantile, kpis_from_text
from esb.observe.view import ServiceRow, throughput
from services.gateway import signatures
from services.gateway.redaction import redact
from services.translator.ingress import IngressRecord
from services.translator.registry import all_routes

pytestmark = pytest.mark.unit

NOW = 1_790_000_000


@pytest.fixture(scope="module")
def secrets() -> DemoSecrets:
    return DemoSecrets.generate()


def _sample(secrets: DemoSecrets, count: int = 400, tag: str = "U1") -> list:  # type: ignore[type-arg]
    generator = Generator(secrets, seed=5, tag=tag, clock=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    return generator.fixed_set() + [next(generator) for _ in range(count)]


def test_same_seed_and_tag_give_the_same_events(secrets: DemoSecrets) -> None:
    first = [(e.kind, e.event_id, e.body) for e in _sample(secrets, 100)]
    second = [(e.kind, e.event_id, e.body) for e in _sample(secrets, 100)]
    assert first == second
    other = [(e.kind, e.event_id, e.body) for e in _sample(secrets, 100, tag="U2")]
    assert first != other


def test_every_flow_of_the_default_mix_appears(secrets: DemoSecrets) -> None:
    kinds = Counter(e.kind for e in _sample(secrets))
    for kind in (
        "shopify_order",
        "woocommerce_order",
        "amazon_order",
        "stripe_charge",
        "adyen_authorisation",
    ):
        assert kinds[kind] > 0, kind
    assert kinds["shopify_customer"] + kinds["woocommerce_customer"] > 0
    assert kinds["wms_stock"] > 0


def test_the_fixed_set_has_cross_channel_duplicates(secrets: DemoSecrets) -> None:
    generator = Generator(secrets, seed=5, tag="DUP")
    generator.fixed_set(duplicated_people=3)
    records = generator.ledger.customer_records
    assert len(records) == 3
    assert all({system for system, _ in ids} == {"shopify", "woocommerce"} for ids in records.values())


@pytest.mark.parametrize("flow", sorted(DEFAULT_MIX))
def test_each_flow_can_be_weighted_alone(secrets: DemoSecrets, flow: str) -> None:
    mix = {name: 0 for name in DEFAULT_MIX} | {flow: 1}
    events = [next(Generator(secrets, seed=1, tag="MIX", mix=mix)) for _ in range(3)]
    assert events


def test_parse_mix_rejects_unknown_flows_and_all_zero() -> None:
    assert parse_mix("stock=3")["stock"] == 3
    with pytest.raises(ValueError, match="unknown flow"):
        parse_mix("bogus=1")
    with pytest.raises(ValueError, match="zero"):
        parse_mix(",".join(f"{name}=0" for name in DEFAULT_MIX))


def test_every_payload_translates_with_its_adapter(secrets: DemoSecrets) -> None:
    routes = all_routes()
    failures = {}
    for event in _sample(secrets):
        _, system, entity = event.ingress_topic.split(".")
        raw = sign(event, secrets, NOW).body
        record = IngressRecord(
            raw=raw,
            system=system,
            entity=entity,
            account="demo",
            received_at=datetime.now(UTC),
            provider_event_id=event.event_id,
            provider_topic=event.provider_topic,
        )
        try:
            assert routes[(system, entity)](record), event.kind
        except Exception as error:  # collected and reported below
            failures.setdefault(event.kind, repr(error)[:300])
    assert failures == {}


def test_signatures_verify_with_the_gateways_own_verifiers(secrets: DemoSecrets) -> None:
    seen = set()
    for event in _sample(secrets, 200):
        request = sign(event, secrets, NOW)
        headers = request.headers
        if event.provider == "shopify":
            signatures.verify_base64_hmac(
                request.body, headers["X-Shopify-Hmac-Sha256"], secrets.shopify_secret
            )
        elif event.provider == "woocommerce":
            signatures.verify_base64_hmac(
                request.body, headers["X-WC-Webhook-Signature"], secrets.woocommerce_secret
            )
        elif event.provider == "stripe":
            signatures.verify_timestamped(
                request.body, headers["Stripe-Signature"], secrets.stripe_secret, now=NOW, tolerance_s=300
            )
        elif event.provider == "adyen":
            items = [w["NotificationRequestItem"] for w in json.loads(request.body)["notificationItems"]]
            signatures.verify_adyen_items(items, secrets.adyen_hmac_key)
        else:
            signed = f"t={headers['X-ESB-Timestamp']},{headers['X-ESB-Signature']}"
            signatures.verify_timestamped(
                request.body, signed, secrets.generic_secret, now=NOW, tolerance_s=300
            )
        seen.add(event.provider)
    assert seen == {"shopify", "woocommerce", "stripe", "adyen", "generic"}


def test_a_wrong_secret_does_not_verify(secrets: DemoSecrets) -> None:
    event = next(e for e in _sample(secrets, 10) if e.provider == "shopify")
    request = sign(event, secrets, NOW)
    with pytest.raises(signatures.InvalidSignatureError):
        signatures.verify_base64_hmac(
            request.body, request.headers["X-Shopify-Hmac-Sha256"], "not-the-secret"
        )


def test_secrets_stay_out_of_reprs_and_files_are_private(secrets: DemoSecrets, tmp_path: Path) -> None:
    assert secrets.shopify_secret not in repr(secrets)
    path = tmp_path / "secrets.json"
    secrets.save(path)
    assert path.stat().st_mode & 0o077 == 0
    assert DemoSecrets.load(path) == secrets
    assert json.loads(secrets.gateway_env()["GATEWAY_SHOPIFY_SECRETS"]) == {
        secrets.shopify_shop: secrets.shopify_secret
    }


def test_rates_parse() -> None:
    assert parse_rate("200/s") == 200
    assert parse_rate("600/m") == 10
    assert parse_rate("15") == 15
    for bad in ("0/s", "fast", "-3"):
        with pytest.raises(ValueError, match="expected e"):
            parse_rate(bad)


def test_the_schedule_spaces_events_by_the_rate() -> None:
    schedule = Schedule(rate=100.0)
    schedule.begin()
    assert schedule.due(100) - schedule.due(0) == pytest.approx(1.0)
    assert schedule.delay(0) == 0.0
    assert schedule.delay(10_000) > 50  # far in the future: the sender must wait
    schedule.start = time.monotonic() - 10
    assert schedule.delay(5) == 0.0  # behind schedule: send at once, no sleep


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    buckets = {0.1: 50.0, 0.2: 100.0, float("inf"): 100.0}
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.75, buckets) == pytest.approx(0.15)
    assert histogram_quantile(0.5, {float("inf"): 0.0}) is None


def test_kpis_from_a_runtime_metrics_page() -> None:
    metrics = Metrics("s")
    metrics.records_in.labels("s", "a").inc(10)
    metrics.records_in.labels("s", "b").inc(5)
    metrics.records_out.labels("s", "canonical.journal-entries.v1").inc(7)
    metrics.dead_letters.labels("s", "a", "handle").inc(2)
    for _ in range(4):
        metrics.handler_seconds.labels("s", "a").observe(0.003)
    metrics.consumer_lag.labels("s", "a", "0").set(3)
    kpis = kpis_from_text(generate_latest(metrics.registry).decode())
    assert (kpis.records_in, kpis.records_out, kpis.dead_letters, kpis.errors, kpis.lag) == (15, 7, 2, 2, 3)
    assert kpis.out_by_topic == {"canonical.journal-entries.v1": 7}
    assert kpis.dlq_by_stage == {"handle": 2}
    assert 0.0025 <= (kpis.handler.quantile(0.5) or 0) <= 0.005


def test_kpis_from_the_gateways_metrics_page() -> None:
    page = "\n".join(
        [
            "# TYPE esb_gateway_webhooks_total counter",
            'esb_gateway_webhooks_total{provider="shopify",outcome="written"} 8',
            'esb_gateway_webhooks_total{provider="shopify",outcome="duplicate"} 1',
            'esb_gateway_webhooks_total{provider="stripe",outcome="unauthorized"} 3',
        ]
    )
    kpis = kpis_from_text(page + "\n")
    assert (kpis.records_in, kpis.records_out, kpis.errors) == (12, 9, 3)


def test_throughput_is_the_difference_between_two_snapshots() -> None:
    before = [ServiceRow("s", 1, ServiceKpis(records_in=10, errors=1), None, 5.0, None)]
    after = [ServiceRow("s", 1, ServiceKpis(records_in=30, errors=2), None, 7.0, None)]
    assert throughput(before, after, 2.0) == {"s": (10.0, 0.5)}
    assert throughput(before, [ServiceRow("s", None, None, None, None, None)], 2.0) == {}


@pytest.mark.parametrize("tag", ["B3F40", "E2E4A5C6", "U1"])
def test_demo_traffic_carries_nothing_the_gateway_would_mask_as_card_data(
    secrets: DemoSecrets, tag: str
) -> None:
    # A masked id (e.g. a charge id whose digits pass as a PAN) would no longer join its order.
    for event in _sample(secrets, 300, tag=tag):
        assert redact(sign(event, secrets, NOW).body, "application/json").count == 0, event.kind
