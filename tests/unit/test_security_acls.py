"""ACL derivation from the topic catalog, the plan's diff, and the audit record's shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from confluent_kafka.admin import AclOperation, ResourcePatternType, ResourceType

from esb.governance.catalog import Catalog, load_catalog
from esb.security.acls import AclConflictError, AclPlan, Grant, derive_grants, plan_acls
from esb.security.audit import AuditAction, AuditRecord, new_record

pytestmark = pytest.mark.unit


def _topic(name: str, owner: str, consumers: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": "d",
        "key": {"description": "k"},
        "value": {"format": "application/json"},
        "owner": owner,
        "consumers": consumers,
    }


CATALOG = Catalog.model_validate(
    {
        "topics": [
            _topic("ingress.shop.orders", "gateway", ["translator"]),
            _topic("canonical.orders.v1", "translator", ["router", "ledger"]),
            _topic("canonical.routed.v1", "router", []),
            _topic("router.by-sku.repartition", "router", ["router"]),
            _topic("dlq.router", "router", ["operators"]),
        ]
    }
)


def _of(grants: set[Grant], principal: str) -> set[tuple[str, str, str, str]]:
    return {
        (g.resource_type, g.pattern_type, g.resource_name, g.operation)
        for g in grants
        if g.principal == f"User:{principal}"
    }


def test_a_service_reads_its_inputs_and_writes_its_outputs_only() -> None:
    router = _of(derive_grants(CATALOG), "router")
    assert ("TOPIC", "LITERAL", "canonical.orders.v1", "READ") in router
    assert ("TOPIC", "LITERAL", "canonical.orders.v1", "DESCRIBE") in router
    assert ("TOPIC", "LITERAL", "canonical.orders.v1", "WRITE") not in router
    assert ("TOPIC", "LITERAL", "canonical.routed.v1", "WRITE") in router
    assert ("TOPIC", "LITERAL", "canonical.routed.v1", "READ") not in router
    assert not any(name == "ingress.shop.orders" for _, _, name, _ in router)


def test_a_service_owns_its_dlq_changelogs_group_and_transactional_ids() -> None:
    router = _of(derive_grants(CATALOG), "router")
    assert {op for t, p, n, op in router if (t, p, n) == ("TOPIC", "LITERAL", "dlq.router")} == {
        "CREATE",
        "WRITE",
        "DESCRIBE",
    }
    assert {op for t, p, n, op in router if (t, p, n) == ("TOPIC", "PREFIXED", "router.")} == {
        "CREATE",
        "READ",
        "WRITE",
        "DESCRIBE",
    }
    assert ("GROUP", "LITERAL", "router", "READ") in router
    assert ("TRANSACTIONAL_ID", "PREFIXED", "router-", "WRITE") in router
    # The repartition topic is under the service's prefix: no redundant literal grant.
    assert not any(name == "router.by-sku.repartition" for _, _, name, _ in router)


def test_no_one_may_delete_alter_or_act_on_the_cluster() -> None:
    grants = derive_grants(load_catalog())
    assert {g.operation for g in grants} <= {"READ", "WRITE", "CREATE", "DESCRIBE"}
    assert all(g.resource_type != "CLUSTER" and g.permission == "ALLOW" for g in grants)


def test_a_reader_gets_no_runtime_grants() -> None:
    operators = _of(derive_grants(CATALOG), "operators")
    assert operators == {
        ("TOPIC", "LITERAL", "dlq.router", "READ"),
        ("TOPIC", "LITERAL", "dlq.router", "DESCRIBE"),
        ("GROUP", "LITERAL", "operators", "READ"),
        ("GROUP", "PREFIXED", "esb-dlq-reader.", "READ"),
    }


def test_the_real_catalog_gives_the_audit_topic_one_writer() -> None:
    grants = derive_grants(load_catalog())
    writers = {g.principal for g in grants if g.resource_name == "audit.v1" and g.operation == "WRITE"}
    assert writers == {"User:esb-admin"}
    readers = {g.principal for g in grants if g.resource_name == "audit.v1" and g.operation == "READ"}
    assert readers == {"User:auditors"}


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        ([_topic("a", "shop", []), _topic("b", "shop-sync", [])], "transactional ids"),
        ([_topic("shop.internal", "other", []), _topic("a", "shop", [])], "falls under"),
    ],
)
def test_overlapping_prefixes_are_refused(topics: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(AclConflictError, match=message):
        derive_grants(Catalog.model_validate({"topics": topics}))


def test_grant_round_trips_through_a_confluent_binding() -> None:
    grant = Grant("User:router", "TRANSACTIONAL_ID", "PREFIXED", "router-", "WRITE")
    binding = grant.binding()
    assert binding.restype == ResourceType.TRANSACTIONAL_ID
    assert binding.resource_pattern_type == ResourcePatternType.PREFIXED
    assert binding.operation == AclOperation.WRITE
    assert Grant.from_binding(binding) == grant
    assert str(grant) == "ALLOW User:router WRITE TRANSACTIONAL_ID router- (prefixed)"


class _FakeFuture:
    def __init__(self, value: Any) -> None:
        self._value = value

    def result(self, timeout: float | None = None) -> Any:
        return self._value


class _FakeAdmin:
    def __init__(self, existing: list[Grant]) -> None:
        self._bindings = [g.binding() for g in existing]

    def describe_acls(self, _filter: Any, **_kwargs: Any) -> _FakeFuture:
        return _FakeFuture(self._bindings)


def test_plan_adds_missing_removes_stale_and_ignores_other_principals() -> None:
    desired = {
        Grant("User:router", "TOPIC", "LITERAL", "a", "READ"),
        Grant("User:router", "TOPIC", "LITERAL", "b", "WRITE"),
    }
    existing = [
        Grant("User:router", "TOPIC", "LITERAL", "a", "READ"),
        Grant("User:router", "TOPIC", "LITERAL", "old", "WRITE"),
        Grant("User:someone-else", "TOPIC", "LITERAL", "x", "READ"),
    ]
    plan = plan_acls(_FakeAdmin(existing), desired)  # type: ignore[arg-type]
    assert plan == AclPlan(
        to_create=(Grant("User:router", "TOPIC", "LITERAL", "b", "WRITE"),),
        to_delete=(Grant("User:router", "TOPIC", "LITERAL", "old", "WRITE"),),
        unchanged=1,
    )
    assert plan.lines() == ["+ ALLOW User:router WRITE TOPIC b", "- ALLOW User:router WRITE TOPIC old"]
    assert plan_acls(_FakeAdmin(sorted(desired)), desired).empty  # type: ignore[arg-type]


def test_audit_records_are_utc_and_scrubbed() -> None:
    record = new_record(
        AuditAction.DLQ_REPLAY,
        "dlq.translator",
        why="fixed the adapter",
        details={"count": 3, "sasl.password": "pw", "note": "card 4111111111111111"},
        who="alice",
        principal="esb-admin",
    )
    assert record.when.tzinfo == dt.UTC
    assert record.details["sasl.password"] == "[REDACTED]"
    assert "4111111111111111" not in record.details["note"]
    assert record.details["count"] == 3
    again = AuditRecord.model_validate_json(record.model_dump_json())
    assert again == record
    with pytest.raises(ValueError, match="why"):
        new_record(AuditAction.ACL_CHANGE, "acls", why="")
