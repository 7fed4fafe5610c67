"""Per-target HTTP requests: URL from the account's base URL, auth headers, idempotency headers.

* every request carries ``Idempotency-Key`` (the document's key) and ``X-Request-ID``;
* NetSuite additionally gets ``X-NetSuite-Idempotency-Key`` (honoured for asynchronous requests)
  and strict property validation, so a misspelt field is an error, not silently dropped;
* documents of POST-only targets (Business Central) carry a probe: a GET with ``$filter`` on our
  deterministic reference that runs first and finds a record created by an earlier attempt;
* Business Central order changes are several calls (:func:`build_call`), each PATCH/DELETE with the
  entity's etag in ``If-Match``;
* Shopify authenticates with ``X-Shopify-Access-Token``.
"""

from __future__ import annotations

import httpx

from services.connectors.request import DeliveryRequest
from services.connectors.settings import AccountSettings, AuthScheme

__all__ = ["build_call", "build_probe", "build_request"]


def _auth_headers(account: AccountSettings) -> dict[str, str]:
    if account.auth is AuthScheme.BEARER:
        assert account.token is not None
        return {"Authorization": f"Bearer {account.token.get_secret_value()}"}
    if account.auth is AuthScheme.SHOPIFY:
        assert account.token is not None
        return {"X-Shopify-Access-Token": account.token.get_secret_value()}
    return {}


def _auth(account: AccountSettings) -> httpx.BasicAuth | None:
    if account.auth is AuthScheme.BASIC:
        assert account.username is not None
        assert account.password is not None
        return httpx.BasicAuth(account.username, account.password.get_secret_value())
    return None


def _url(account: AccountSettings, path: str) -> str:
    return account.base_url.rstrip("/") + path


def build_request(client: httpx.Client, request: DeliveryRequest, account: AccountSettings) -> httpx.Request:
    headers = {
        "Content-Type": request.content_type,
        "Accept": "application/json",
        "Idempotency-Key": request.idempotency_key,
        "X-Request-ID": request.idempotency_key,
        **_auth_headers(account),
    }
    if request.system == "netsuite":
        headers["X-NetSuite-Idempotency-Key"] = request.idempotency_key
        headers["X-NetSuite-PropertyNameValidation"] = "Error"
    built = client.build_request(
        request.method, _url(account, request.path), headers=headers, content=request.body
    )
    return _with_basic(built, account)


def build_call(
    client: httpx.Client,
    request: DeliveryRequest,
    account: AccountSettings,
    method: str,
    path: str,
    body: bytes | None,
    etag: str | None,
) -> httpx.Request:
    """One call of a document that takes several (Business Central order changes)."""
    headers = {
        "Accept": "application/json",
        "X-Request-ID": request.idempotency_key,
        **_auth_headers(account),
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
    if etag is not None:
        headers["If-Match"] = etag
    built = client.build_request(method, _url(account, path), headers=headers, content=body)
    return _with_basic(built, account)


def build_probe(
    client: httpx.Client, request: DeliveryRequest, account: AccountSettings
) -> httpx.Request | None:
    """The GET that finds an already created record, for targets without upsert (Business Central)."""
    if request.probe is None:
        return None
    headers = {
        "Accept": "application/json",
        "X-Request-ID": request.idempotency_key,
        **_auth_headers(account),
    }
    return _with_basic(
        client.build_request("GET", _url(account, request.probe), headers=headers, timeout=account.timeout_s),
        account,
    )


def _with_basic(built: httpx.Request, account: AccountSettings) -> httpx.Request:
    auth = _auth(account)
    if auth is None:
        return built
    flow = auth.auth_flow(built)
    return next(flow)
