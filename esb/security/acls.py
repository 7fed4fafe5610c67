"""Least-privilege ACLs derived from the topic catalog, planned and applied through the Admin API.

Every name that owns or consumes a topic in the catalog is a principal ``User:<name>``. A principal
that owns at least one topic is a *service* (it runs on the bus runtime); one that only consumes
is a *reader* (operators, auditors, sinks without a DLQ).

Every principal gets:

- ``READ`` + ``DESCRIBE`` on each topic it consumes (literal);
- ``READ`` on its consumer group, named after it (literal; the runtime's ``group.id``);
- if it reads a ``dlq.*`` topic, ``READ`` on groups prefixed ``esb-dlq-reader.`` (``esb dlq``'s).

A service also gets:

- ``WRITE`` + ``DESCRIBE`` on each topic it owns (literal), which includes ``dlq.<service>``;
- ``CREATE`` + ``WRITE`` + ``DESCRIBE`` on ``dlq.<service>`` (literal): the runtime creates it;
- ``CREATE`` + ``READ`` + ``WRITE`` + ``DESCRIBE`` on topics prefixed ``<service>.``: the state
  stores' changelogs (``<service>.<store>.changelog``), created, written in the transaction and read
  back on restore, and the service's internal repartition topics;
- ``WRITE`` + ``DESCRIBE`` on transactional ids prefixed ``<service>-`` (the runtime uses
  ``<service>-<instance id>``).

No ``IDEMPOTENT_WRITE`` on the cluster: since Kafka 2.8 (KIP-679) ``WRITE`` on a topic is enough for
an idempotent producer. Nothing grants ``DELETE``, ``ALTER`` or ``ALTER_CONFIGS``: topics and ACLs
are changed by the admin principal only, which keeps ``audit.v1`` append-only.

``plan`` compares these grants with the cluster's ACLs *of the catalog's principals* (other
principals' ACLs are never touched); ``apply`` creates what is missing and deletes what the catalog
no longer grants, so running it twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from esb.governance.catalog import Catalog

__all__ = [
    "AclConflictError",
    "AclPlan",
    "Grant",
    "apply_plan",
    "catalog_principals",
    "current_grants",
    "derive_grants",
    "plan_acls",
    "service_principals",
]

ResourceKind = Literal["TOPIC", "GROUP", "TRANSACTIONAL_ID", "CLUSTER"]
PatternKind = Literal["LITERAL", "PREFIXED"]
Operation = Literal[
    "READ",
    "WRITE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "IDEMPOTENT_WRITE",
    "CLUSTER_ACTION",
    "ALL",
]

# confluent-kafka calls the CLUSTER resource type BROKER (both are code 4 in the protocol).
_RESOURCE_TYPES: Mapping[str, ResourceType] = {
    "TOPIC": ResourceType.TOPIC,
    "GROUP": ResourceType.GROUP,
    "TRANSACTIONAL_ID": ResourceType.TRANSACTIONAL_ID,
    "CLUSTER": ResourceType.BROKER,
}
_RESOURCE_NAMES = {value: key for key, value in _RESOURCE_TYPES.items()}
_OWN_PREFIX_OPERATIONS: tuple[Operation, ...] = ("CREATE", "READ", "WRITE", "DESCRIBE")
DLQ_READER_GROUP_PREFIX = "esb-dlq-reader."


class AclConflictError(ValueError):
    """Two principals' derived prefixes overlap; rename a service or a topic before applying."""


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One ALLOW ACL: principal may do operation on the resource pattern, from any host."""

    principal: str
    resource_type: ResourceKind
    pattern_type: PatternKind
    resource_name: str
    operation: Operation
    host: str = "*"
    permission: Literal["ALLOW", "DENY"] = "ALLOW"

    def binding(self) -> AclBinding:
        return AclBinding(
            _RESOURCE_TYPES[self.resource_type],
            self.resource_name,
            ResourcePatternType[self.pattern_type],
            self.principal,
            self.host,
            AclOperation[self.operation],
            AclPermissionType[self.permission],
        )

    def exact_filter(self) -> AclBindingFilter:
        """A filter that matches this ACL and nothing else (for deletion)."""
        return AclBindingFilter(
            _RESOURCE_TYPES[self.resource_type],
            self.resource_name,
            ResourcePatternType[self.pattern_type],
            self.principal,
            self.host,
            AclOperation[self.operation],
            AclPermissionType[self.permission],
        )

    @classmethod
    def from_binding(cls, binding: AclBinding) -> Grant:
        # The binding's fields are typed as enum-or-str-or-int; described ACLs always hold enums.
        return cls(
            principal=binding.principal,
            resource_type=cast(ResourceKind, _RESOURCE_NAMES[cast(ResourceType, binding.restype)]),
            pattern_type=cast(PatternKind, cast(ResourcePatternType, binding.resource_pattern_type).name),
            resource_name=binding.name,
            operation=cast(Operation, cast(AclOperation, binding.operation).name),
            host=binding.host,
            permission=cast(Literal["ALLOW", "DENY"], cast(AclPermissionType, binding.permission_type).name),
        )

    def __str__(self) -> str:
        pattern = "" if self.pattern_type == "LITERAL" else f" ({self.pattern_type.lower()})"
        host = "" if self.host == "*" else f" from {self.host}"
        return (
            f"{self.permission} {self.principal} {self.operation} "
            f"{self.resource_type} {self.resource_name}{pattern}{host}"
        )


def catalog_principals(catalog: Catalog) -> set[str]:
    """Every owner and consumer named in the catalog (without the ``User:`` prefix)."""
    names: set[str] = set()
    for topic in catalog.topics:
        names.add(topic.owner)
        names.update(topic.consumers)
    return names


def service_principals(catalog: Catalog) -> set[str]:
    """The principals that produce to at least one topic."""
    return {topic.owner for topic in catalog.topics}


def _check_conflicts(catalog: Catalog, services: set[str]) -> None:
    problems: list[str] = []
    for service in sorted(services):
        for other in sorted(services - {service}):
            if other.startswith(f"{service}-"):
                problems.append(f"transactional ids of {service!r} ({service}-*) also match {other!r}'s")
        for topic in catalog.topics:
            if topic.name.startswith(f"{service}.") and topic.owner != service:
                problems.append(f"{topic.name} (owned by {topic.owner}) falls under {service!r}'s prefix")
    if problems:
        raise AclConflictError("; ".join(problems))


@dataclass(frozen=True, slots=True)
class _Builder:
    grants: set[Grant] = field(default_factory=set)

    def add(
        self,
        principal: str,
        resource: ResourceKind,
        name: str,
        operations: Iterable[Operation],
        pattern: PatternKind = "LITERAL",
    ) -> None:
        for operation in operations:
            self.grants.add(Grant(f"User:{principal}", resource, pattern, name, operation))


def derive_grants(catalog: Catalog) -> set[Grant]:
    """The ACLs the catalog implies, by the rules in this module's docstring."""
    services = service_principals(catalog)
    _check_conflicts(catalog, services)
    build = _Builder()
    for principal in sorted(catalog_principals(catalog)):
        for topic in catalog.topics:
            if principal in topic.consumers:
                build.add(principal, "TOPIC", topic.name, ("READ", "DESCRIBE"))
            if topic.owner == principal:
                build.add(principal, "TOPIC", topic.name, ("WRITE", "DESCRIBE"))
        build.add(principal, "GROUP", principal, ("READ",))
        if any(principal in t.consumers and t.name.startswith("dlq.") for t in catalog.topics):
            # `esb dlq list|show|replay` reads with the group esb-dlq-reader.<service> (bus.dlq).
            build.add(principal, "GROUP", DLQ_READER_GROUP_PREFIX, ("READ",), "PREFIXED")
        if principal in services:
            build.add(principal, "TOPIC", f"dlq.{principal}", ("CREATE", "WRITE", "DESCRIBE"))
            build.add(principal, "TOPIC", f"{principal}.", _OWN_PREFIX_OPERATIONS, "PREFIXED")
            build.add(principal, "TRANSACTIONAL_ID", f"{principal}-", ("WRITE", "DESCRIBE"), "PREFIXED")
    return {grant for grant in build.grants if not _covered_by_own_prefix(grant, services)}


def _covered_by_own_prefix(grant: Grant, services: set[str]) -> bool:
    """A literal topic grant under the service's own ``<service>.`` prefix, which already allows it."""
    name = grant.principal.removeprefix("User:")
    return (
        name in services
        and grant.resource_type == "TOPIC"
        and grant.pattern_type == "LITERAL"
        and grant.resource_name.startswith(f"{name}.")
        and grant.operation in _OWN_PREFIX_OPERATIONS
    )


@dataclass(frozen=True, slots=True)
class AclPlan:
    """What ``apply_plan`` would change: sorted, so that the printed diff is stable."""

    to_create: tuple[Grant, ...]
    to_delete: tuple[Grant, ...]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not self.to_create and not self.to_delete

    def lines(self) -> list[str]:
        """The diff, one ACL per line: ``+`` to create, ``-`` to delete."""
        return [f"+ {grant}" for grant in self.to_create] + [f"- {grant}" for grant in self.to_delete]


def current_grants(admin: AdminClient, principals: Iterable[str], timeout_s: float = 30.0) -> set[Grant]:
    """The cluster's ACLs of ``principals`` (``User:<name>``)."""
    wanted = set(principals)
    anything: Any = None  # the filter's "match any" for name, principal and host
    everything = AclBindingFilter(
        ResourceType.ANY,
        anything,
        ResourcePatternType.ANY,
        anything,
        anything,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    bindings = admin.describe_acls(everything, request_timeout=timeout_s).result(timeout=timeout_s)
    return {
        Grant.from_binding(binding)
        for binding in bindings
        if binding.principal in wanted and binding.restype in _RESOURCE_NAMES
    }


def plan_acls(admin: AdminClient, desired: set[Grant], timeout_s: float = 30.0) -> AclPlan:
    """The diff between the catalog's grants and the cluster's ACLs of the same principals."""
    existing = current_grants(admin, {grant.principal for grant in desired}, timeout_s)
    return AclPlan(
        to_create=tuple(sorted(desired - existing)),
        to_delete=tuple(sorted(existing - desired)),
        unchanged=len(desired & existing),
    )


def apply_plan(admin: AdminClient, plan: AclPlan, prune: bool = True, timeout_s: float = 30.0) -> AclPlan:
    """Create the missing ACLs and (``prune``) delete the stale ones; returns what was done.

    Errors (e.g. the connecting principal may not alter ACLs) raise ``KafkaException`` from the
    broker's answer, after every request has been tried.
    """
    failures: list[BaseException] = []
    if plan.to_create:
        futures = admin.create_acls([grant.binding() for grant in plan.to_create], request_timeout=timeout_s)
        for future in futures.values():
            try:
                future.result(timeout=timeout_s)
            except Exception as exc:  # collected and re-raised below
                failures.append(exc)
    deleted: tuple[Grant, ...] = ()
    if prune and plan.to_delete:
        filters = [grant.exact_filter() for grant in plan.to_delete]
        for future in admin.delete_acls(filters, request_timeout=timeout_s).values():
            try:
                future.result(timeout=timeout_s)
            except Exception as exc:  # collected and re-raised below
                failures.append(exc)
        deleted = plan.to_delete
    if failures:
        raise failures[0]
    return AclPlan(to_create=plan.to_create, to_delete=deleted, unchanged=plan.unchanged)
