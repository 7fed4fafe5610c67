"""Which processes make up the bus, and how each one is run locally.

The list of services is the Helm chart's ``services`` map (``helm/esb/values.yaml``), the one list the
compose file and the chart tests also follow; a service runs when its package has a ``__main__``, with
the chart's commit interval. What only a local run needs (the gateway's own port and health path,
query ports, the connectors' target) is the small table below, keyed by the chart's names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import yaml

from esb.demo.catalog import LOCATIONS
from esb.deploy.chart import REPO_ROOT, chart_service_setting, chart_services

__all__ = ["RECORDING_TARGET", "LocalRun", "ServiceSpec", "bus_services", "local_runs"]

RECORDING_TARGET = "recording-target"


@dataclass(frozen=True, slots=True)
class LocalRun:
    """How the supervisor runs one service on this machine."""

    ops_port_env: str = "ESB_HTTP_PORT"  # the env var that sets its ops (health/metrics) port
    ready_path: str = "/readyz"
    metrics_path: str = "/metrics"
    env: Mapping[str, str] = field(default_factory=dict)  # "$TARGET_URL" = the recording target's URL
    tuning: Mapping[str, str] = field(default_factory=dict)  # like env, but an exported variable wins


# The demo's ERP: one NetSuite account whose API is the recording target ($TARGET_URL).
_DEMO_NETSUITE: dict[str, object] = {
    "account": "demo-netsuite",
    "subsidiary_id": "1",
    "customer_ids": {"shopify": "101", "woocommerce": "102", "amazon": "103"},
    "currency_ids": {"USD": "1", "EUR": "2"},
}
_DEMO_NETSUITE_CONCURRENCY = 16
_DEMO_CONNECTOR_ACCOUNTS: dict[str, object] = {
    "demo-netsuite": {
        "base_url": "$TARGET_URL/netsuite",
        "auth": "none",
        "max_concurrency": _DEMO_NETSUITE_CONCURRENCY,
        "rate_per_second": 1000,
        "burst": 200,
        "timeout_s": 10,
    }
}


def _netsuite_target() -> dict[str, object]:
    """The demo NetSuite account, with an account id for every code of the ledger's chart."""
    chart = REPO_ROOT / "services" / "ledger_poster" / "chart_of_accounts.yaml"
    codes = (yaml.safe_load(chart.read_text()) or {}).get("accounts", {}) if chart.is_file() else {}
    return _DEMO_NETSUITE | {"account_ids": {str(code): f"ns-{code}" for code in codes}}


def local_runs() -> dict[str, LocalRun]:
    """The local-run settings by chart service name (read when a bus is planned, never at import)."""
    return {
        # The gateway serves webhooks, health and metrics on one port.
        "gateway": LocalRun(
            ops_port_env="GATEWAY_PORT", ready_path="/health/ready", env={"GATEWAY_HOST": "127.0.0.1"}
        ),
        # The demo's warehouses report stock as Magento MSI sources of the same codes.
        "translator": LocalRun(
            env={"TRANSLATOR_LOCATIONS": json.dumps({f"magento:{code}": code for code in LOCATIONS})},
        ),
        # customer-merger: both roles in one process, GET /customers/... on its ops port (ESB_HTTP_PORT).
        "egress": LocalRun(
            env={
                "EGRESS_NETSUITE": json.dumps(_netsuite_target()),
                "EGRESS_ORDER_TARGETS": '["netsuite"]',
                "EGRESS_JOURNAL_TARGETS": '["netsuite"]',
                "EGRESS_CUSTOMER_TARGETS": '["netsuite"]',
            },
        ),
        "connectors": LocalRun(
            env={
                # HTTP calls are outside any Kafka transaction (see services/connectors/__main__.py).
                "ESB_GUARANTEE": "at_least_once",
                "CONNECTOR_TOPICS": '["egress.netsuite.sales-orders", "egress.netsuite.journal-entries"]',
                "CONNECTOR_ACCOUNTS": json.dumps(_DEMO_CONNECTOR_ACCOUNTS),
                # Every demo document goes to the one NetSuite account, i.e. one sink lane: the lane
                # limit (default 4) capped delivery at ~75 documents/s here and queued ERP documents
                # for seconds; let the account's own max_concurrency (16) be the bound.
                "CONNECTOR_MAX_IN_FLIGHT_PER_ACCOUNT": str(_DEMO_NETSUITE_CONCURRENCY),
                "CONNECTOR_WORKERS": str(_DEMO_NETSUITE_CONCURRENCY),
            }
        ),
    }


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str  # the chart's name, e.g. order-router
    package: str  # services/<package>, e.g. order_router
    local: LocalRun

    @property
    def available(self) -> bool:
        return (REPO_ROOT / "services" / self.package / "__main__.py").is_file()


def bus_services() -> list[ServiceSpec]:
    """Every service of the chart, in pipeline order (gateway first, connectors last)."""
    order = [
        "gateway",
        "translator",
        "order-router",
        "inventory-projector",
        "ledger-poster",
        "customer-merger",
        "egress",
        "connectors",
    ]
    names = chart_services()
    runs = local_runs()
    ranked = sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))
    return [
        ServiceSpec(n, n.replace("-", "_"), _with_chart_tuning(n, runs.get(n, LocalRun()))) for n in ranked
    ]


def _with_chart_tuning(name: str, local: LocalRun) -> LocalRun:
    """The chart's per-service commit interval (see ``commitIntervalMs`` in values.yaml) as tuning."""
    interval = chart_service_setting(name, "commitIntervalMs")
    if interval is None:
        return local
    return replace(local, tuning={"ESB_COMMIT_INTERVAL_MS": str(interval)} | dict(local.tuning))
