"""The deliverer against a local recording server: requests, auth, idempotency, probe, outcomes."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from bus.processor import Record
from bus.sink import Done, Reject, RetryAt
from services.connectors.backoff import BackoffPolicy, PartitionBackoff
from services.connectors.classify import Delivered, Rejected, Retry
from services.connectors.deliver import Deliverer
from services.connectors.handler import DeliverySink
from services.connectors.request import DeliveryRequest
from services.connectors.settings import AccountSettings, AuthScheme
from services.connectors.targets import build_request
from services.egress import business_central, netsuite, sap_idoc
from services.egress.document import EgressDocument
from tests import egress_support as samples
from tests.recording_server import Answer, RecordingServer, netsuite_error

pytestmark = pytest.mark.unit

TOKEN = "ns-oauth2-token-not-for-logs"


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


def _accounts(url: str, **limits: object) -> dict[str, AccountSettings]:
    return {
        "1234567": AccountSettings(base_url=url, auth=AuthScheme.BEARER, token=SecretStr(TOKEN), **limits),  # type: ignore[arg-type]
        "contoso-production": AccountSettings(base_url=url, auth=AuthScheme.BEARER, token=SecretStr("bc")),
        "S4HCLNT400": AccountSettings(
            base_url=url, auth=AuthScheme.BASIC, username="ESB_RFC", password=SecretStr("sap-secret")
        ),
    }


def _request(doc: EgressDocument) -> DeliveryRequest:
    return DeliveryRequest.from_record(doc.body, doc.headers())


def _sales_order() -> DeliveryRequest:
    return _request(netsuite.sales_order(samples.order_event(), samples.NETSUITE))


def test_netsuite_upsert_carries_idempotency_and_auth(server: RecordingServer) -> None:
    deliverer = Deliverer(_accounts(server.url))
    request = _sales_order()
    assert deliverer.deliver(request) == Delivered(201)
    [sent] = server.requests
    assert sent.method == "PUT"
    assert sent.path == request.path
    assert sent.headers["Idempotency-Key"] == request.idempotency_key
    assert sent.headers["X-NetSuite-Idempotency-Key"] == request.idempotency_key
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.body == request.body


def test_sap_idoc_uses_basic_auth(server: RecordingServer) -> None:
    deliverer = Deliverer(_accounts(server.url))
    request = _request(sap_idoc.orders05(samples.order_event(), samples.SAP))
    assert isinstance(deliverer.deliver(request), Delivered)
    assert server.requests[0].headers["Authorization"].startswith("Basic ")
    assert server.requests[0].headers["Content-Type"] == "application/xml"


def test_business_central_probe_finds_an_earlier_create(server: RecordingServer) -> None:
    doc = business_central.sales_order(samples.order_event(), samples.BUSINESS_CENTRAL)
    assert doc is not None
    request = _request(doc)
    deliverer = Deliverer(_accounts(server.url))
    server.script.extend([Answer(200, b'{"value": []}'), Answer(201)])
    assert deliverer.deliver(request) == Delivered(201)
    server.script.append(Answer(200, b'{"value": [{"id": "b6f4017a-b749-ee11-ad0b-a1422c0f7f1f"}]}'))
    assert deliverer.deliver(request) == Delivered(200, already=True)
    assert [r.method for r in server.requests] == ["GET", "POST", "GET"]
    assert "$filter=externalDocumentNumber%20eq%20" in server.requests[0].path


def test_429_5xx_and_400_outcomes(server: RecordingServer) -> None:
    deliverer = Deliverer(_accounts(server.url))
    request = _sales_order()
    server.script.extend(
        [
            Answer(429, b"{}", {"Retry-After": "3"}),
            Answer(500, b"{}"),
            Answer(400, netsuite_error("INVALID_KEY_OR_REF", "Invalid item reference key 57.")),
        ]
    )
    assert deliverer.deliver(request) == Retry("HTTP 429", 3.0)
    assert isinstance(deliverer.deliver(request), Retry)
    rejected = deliverer.deliver(request)
    assert isinstance(rejected, Rejected)
    assert "Invalid item reference key 57." in rejected.body


def test_transport_failure_is_retryable() -> None:
    deliverer = Deliverer(_accounts("http://127.0.0.1:9"))  # discard port: connection refused
    assert isinstance(deliverer.deliver(_sales_order()), Retry)


def test_unknown_account_is_rejected() -> None:
    deliverer = Deliverer({})
    outcome = deliverer.deliver(_sales_order())
    assert isinstance(outcome, Rejected)
    assert "1234567" in outcome.body


def test_concurrency_per_account_is_bounded(server: RecordingServer) -> None:
    gate = threading.Event()
    inside = threading.Semaphore(0)

    def hold(_recorded: object) -> Answer:
        inside.release()
        gate.wait(10)
        return Answer(201)

    server.rule = hold
    deliverer = Deliverer(_accounts(server.url, max_concurrency=2, rate_per_second=1000.0, burst=100))
    request = _sales_order()
    threads = [threading.Thread(target=deliverer.deliver, args=(request,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    assert inside.acquire(timeout=10)
    assert inside.acquire(timeout=10)
    assert deliverer.limiters["1234567"].in_flight == 2  # the other three wait for a slot
    gate.set()
    for thread in threads:
        thread.join(10)
    assert deliverer.limiters["1234567"].peak == 2
    assert len(server.requests) == 5


def test_secrets_stay_out_of_reprs_and_logs(
    server: RecordingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = _accounts(server.url)
    assert TOKEN not in repr(accounts)
    Deliverer(accounts).deliver(_sales_order())
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err


def test_sink_maps_outcomes_to_done_retry_at_and_reject(server: RecordingServer) -> None:
    doc = netsuite.sales_order(samples.order_event(), samples.NETSUITE)
    sink = DeliverySink(
        Deliverer(_accounts(server.url)), PartitionBackoff(BackoffPolicy(0.5, 60)), clock=lambda: 100.0
    )
    record = Record("egress.netsuite.sales-orders", 0, 0, b"k", doc.body, list(doc.headers().items()))
    assert sink.key(record) == "1234567"
    assert sink.deliver(record) == Done()
    server.script.append(Answer(429, b"{}", {"Retry-After": "7"}))
    assert sink.deliver(record) == RetryAt(107.0, account_wide=False)  # Retry-After is the floor
    server.script.append(Answer(401, b"{}"))
    retry = sink.deliver(record)
    assert isinstance(retry, RetryAt)
    assert retry.account_wide is True
    server.script.append(Answer(400, netsuite_error("USER_ERROR", "Please enter a value for amount.")))
    rejected = sink.deliver(record)
    assert isinstance(rejected, Reject)
    assert "Please enter a value for amount" in rejected.reason
    assert isinstance(sink.deliver(Record("t", 0, 1, b"k", b"{}", [])), Reject)  # no egress headers


def test_basic_auth_header_is_rfc7617() -> None:
    request = _request(sap_idoc.orders05(samples.order_event(), samples.SAP))
    built = build_request(httpx.Client(), request, _accounts("http://127.0.0.1:1")["S4HCLNT400"])
    assert built.headers["Authorization"] == "Basic " + base64.b64encode(b"ESB_RFC:sap-secret").decode()
