"""What the egress service writes: a target's native document plus how to deliver it.

The record on ``egress.<system>.<entity>``:

* key: the canonical entity id (one entity's documents stay in order on one partition);
* value: the native document bytes exactly as the target accepts them (JSON, IDoc XML, X12);
* headers (:data:`HEADERS`): the idempotency key, the external id, the target account, the HTTP
  method and path relative to the account's base URL, the document type and the content type, and
  for POST-only targets a ``probe`` path that finds an already created record.

The delivery connectors read the same header names (they declare them independently: no service
imports another; a contract test checks both sides agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["HEADERS", "EgressDocument", "Method"]

HEADERS = {
    "idempotency_key": "esb.egress.idempotency-key",
    "external_id": "esb.egress.external-id",
    "account": "esb.egress.account",
    "method": "esb.egress.method",
    "path": "esb.egress.path",
    "document_type": "esb.egress.document-type",
    "content_type": "content-type",
    "probe": "esb.egress.probe",
}


class Method(StrEnum):
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"  # Business Central order cancellation (resolved by the connector)


@dataclass(frozen=True, slots=True)
class EgressDocument:
    """One native document for one target account."""

    system: str  # netsuite, business-central, sap, wms, shopify
    entity: str  # topic suffix: sales-orders, customers, journal-entries...
    document_type: str  # netsuite.salesOrder, sap.ORDERS05, x12.940...
    key: str  # Kafka key: the canonical entity id
    idempotency_key: str
    external_id: str
    account: str
    method: Method
    path: str
    content_type: str
    body: bytes
    probe: str | None = None

    @property
    def topic(self) -> str:
        return f"egress.{self.system}.{self.entity}"

    def headers(self) -> Mapping[str, bytes]:
        values = {
            "idempotency_key": self.idempotency_key,
            "external_id": self.external_id,
            "account": self.account,
            "method": self.method.value,
            "path": self.path,
            "document_type": self.document_type,
            "content_type": self.content_type,
        }
        if self.probe is not None:
            values["probe"] = self.probe
        return {HEADERS[name]: value.encode() for name, value in values.items()}
