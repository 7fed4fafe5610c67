"""Golden-file comparison for egress documents (``ESB_UPDATE_GOLDEN=1`` rewrites them)."""

from __future__ import annotations

import os
from pathlib import Path

from services.egress import jsondoc
from services.egress.document import EgressDocument

__all__ = ["GOLDEN", "assert_golden", "conformance"]

GOLDEN = Path(__file__).parent / "golden" / "egress"
# The shared corpus is read in place (as the translator tests do): ../shared/conformance next to the repo.
CONFORMANCE = Path(
    os.environ.get("ESB_CONFORMANCE_DIR", Path(__file__).resolve().parents[3] / "shared" / "conformance")
)


def conformance(relative: str) -> Path:
    return CONFORMANCE / relative


def _rendered(doc: EgressDocument) -> bytes:
    """JSON documents are stored indented (numbers keep their exact text); XML/X12 as they are."""
    if doc.content_type == "application/json":
        return jsondoc.dumps(jsondoc.loads(doc.body), indent=2) + b"\n"
    return doc.body


def assert_golden(name: str, doc: EgressDocument) -> None:
    path = GOLDEN / name
    rendered = _rendered(doc)
    if os.environ.get("ESB_UPDATE_GOLDEN") == "1":
        path.write_bytes(rendered)
    assert path.exists(), f"no golden file {path}: run with ESB_UPDATE_GOLDEN=1 and review it"
    assert rendered == path.read_bytes(), f"{name} differs from its golden file"
    if doc.content_type == "application/json":
        # The compact wire form is the same document as the golden one, number for number.
        assert jsondoc.dumps(jsondoc.loads(path.read_bytes())) == doc.body
