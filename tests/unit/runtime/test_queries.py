"""Interactive queries: declared GET routes over the committed state of the owned partitions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

import bus.state.manager as manager_module
from bus.config import StateBackend
from bus.observability.health import Health, HealthServer
from bus.query import POSITIONS_HEADER, NotFoundError, Query, QueryRouter
from bus.serde import BytesCodec
from bus.service import Input, Service, StoreSpec
from bus.state import StateManager
from bus.testing import InMemoryBus
from services.examples.running_total.models import Amount
from services.examples.running_total.service import RunningTotalSettings, build_service

pytestmark = pytest.mark.unit

IN, OUT = "amounts", "totals"


def test_a_declared_query_answers_from_the_committed_store_and_404s_unknown_keys() -> None:
    bus = InMemoryBus()
    bus.deploy(build_service(RunningTotalSettings(service_name="rt", input_topic=IN, output_topic=OUT)))
    for i, value in enumerate([5, 7]):
        amount = Amount(event_id=f"e{i}", account="a/1", amount=value, occurred_at=datetime.now(UTC))
        bus.publish(IN, bus.encode(IN, amount), key=b"a/1")

    answer = bus.query("rt", "/totals/a%2F1")
    missing = bus.query("rt", "/totals/nobody")

    assert (answer.status, json.loads(answer.body)) == (200, {"account": "a/1", "total": 12, "count": 2})
    assert json.loads(answer.headers[POSITIONS_HEADER]) == {"totals": {"0": None}}
    assert missing.status == 404
    assert bus.query("rt", "/totals").status == 404  # no route


def _service(queries: Sequence[Query]) -> Service:
    return Service(
        name="q",
        inputs=[Input("in", BytesCodec())],
        outputs=[],
        handler=lambda event, ctx: [],
        stores=[StoreSpec("s")],
        queries=queries,
    )


def _lookup(params: Any, state: Any) -> Any:
    value = state.store("s").get(params["key"])
    if value is None:
        raise NotFoundError(f"no {params['key']}")
    return {"value": value, "partitions": list(state.store("s").partitions), "q": params.get("q")}


@pytest.fixture
def manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StateManager:
    monkeypatch.setattr(manager_module, "restore", lambda *args: 0)
    return StateManager(_service([]), tmp_path, StateBackend.SQLITE, {}, restore_timeout_s=1)


def test_queries_see_committed_writes_only_never_the_in_flight_overlay(manager: StateManager) -> None:
    router = QueryRouter([Query("/s/{key}", _lookup)], manager)
    manager.assign([0, 1])
    store = manager.get("s", 1)
    store.put("k", 1)

    before = router.answer("/s/k")
    store.commit_to_disk(store.pending_changes(), changelog_offset=41)
    store.put("k", 2)  # the next transaction's overlay
    after = router.answer("/s/k?q=x")

    assert before is not None
    assert after is not None
    assert before.status == 404
    assert json.loads(before.body)["reason"] == "no k"
    assert (after.status, json.loads(after.body)) == (200, {"value": 1, "partitions": [0, 1], "q": "x"})
    assert json.loads(after.headers[POSITIONS_HEADER]) == {"s": {"0": None, "1": 41}}


def test_queries_answer_503_before_assignment_and_while_restoring(
    manager: StateManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = QueryRouter([Query("/s/{key}", _lookup)], manager, lock_timeout_s=0)
    during: list[int] = []

    def restoring(*args: Any) -> int:
        answer = router.answer("/s/k")
        assert answer is not None
        during.append(answer.status)
        return 0

    before = router.answer("/s/k")
    monkeypatch.setattr(manager_module, "restore", restoring)
    manager.assign([0])

    assert before is not None
    assert before.status == 503
    assert during == [503]
    answer = router.answer("/s/k")
    assert answer is not None
    assert answer.status == 404


def test_the_ops_http_server_serves_declared_queries(manager: StateManager) -> None:
    manager.assign([0])
    store = manager.get("s", 0)
    store.put("k", {"n": 3})
    store.commit_to_disk(store.pending_changes(), changelog_offset=7)
    router = QueryRouter([Query("/s/{key}", _lookup)], manager)
    server = HealthServer("127.0.0.1", 0, Health(30), CollectorRegistry(), router)
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/s/k") as response:
            body, positions = json.load(response), response.headers[POSITIONS_HEADER]
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/s/other")
    finally:
        server.stop()
    assert body == {"value": {"n": 3}, "partitions": [0], "q": None}
    assert json.loads(positions) == {"s": {"0": 7}}
    assert missing.value.code == 404


def test_query_paths_must_be_unique_and_not_shadow_the_ops_routes() -> None:
    with pytest.raises(ValueError, match="unique"):
        _service([Query("/a/{x}", _lookup), Query("/a/{x}", _lookup)])
    with pytest.raises(ValueError, match="invalid query path"):
        Query("/metrics", _lookup)
