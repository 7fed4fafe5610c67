"""An egress record as a delivery request: the document bytes plus the headers the egress service set.

The header names are the egress contract (``services/egress/document.py`` writes them; a contract
test checks both sides agree — services never import each other).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["HEADERS", "DeliveryRequest", "MissingHeaderError"]

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


# A DELETE is only taken from documents the connector resolves against the target's current state.
_RESOLVED = frozenset({("DELETE", "business-central.salesOrderChange")})


class MissingHeaderError(ValueError):
    """An egress record without a required header cannot be delivered (it is dead-lettered)."""


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    idempotency_key: str
    external_id: str
    account: str
    method: str
    path: str
    document_type: str
    content_type: str
    body: bytes
    probe: str | None = None

    @property
    def system(self) -> str:
        return self.document_type.partition(".")[0]

    @classmethod
    def from_record(cls, value: bytes, headers: Mapping[str, bytes]) -> DeliveryRequest:
        def header(name: str) -> str:
            raw = headers.get(HEADERS[name])
            if raw is None:
                raise MissingHeaderError(f"egress record without header {HEADERS[name]}")
            return raw.decode()

        probe = headers.get(HEADERS["probe"])
        method = header("method")
        document_type = header("document_type")
        if method not in ("POST", "PUT", "PATCH") and (method, document_type) not in _RESOLVED:
            raise MissingHeaderError(f"unsupported method {method!r} for {document_type}")
        path = header("path")
        if not path.startswith("/") or "://" in path:
            raise MissingHeaderError(f"path must be relative to the account's base URL: {path!r}")
        return cls(
            idempotency_key=header("idempotency_key"),
            external_id=header("external_id"),
            account=header("account"),
            method=method,
            path=path,
            document_type=document_type,
            content_type=header("content_type"),
            body=value,
            probe=probe.decode() if probe is not None else None,
        )
