"""Connector configuration: one block per target account — base URL, credentials, limits.

Credentials are ``SecretStr`` without defaults, revealed only when a request is built; they never
appear in logs or reprs. Environment: ``CONNECTOR_ACCOUNTS`` as JSON keyed by the egress account.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AccountSettings", "AuthScheme", "ConnectorSettings"]


class AuthScheme(StrEnum):
    BEARER = "bearer"  # NetSuite OAuth 2.0, Business Central (Entra ID token)
    SHOPIFY = "shopify"  # X-Shopify-Access-Token
    BASIC = "basic"  # SAP ICF service user, 3PL HTTP endpoints
    NONE = "none"


class AccountSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(description="https://<account>.suitetalk.api.netsuite.com, https://<shop>...")
    auth: AuthScheme
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    max_concurrency: int = Field(default=4, ge=1, description="requests in flight for this account")
    rate_per_second: float = Field(default=5.0, gt=0, description="sustained request rate")
    burst: int = Field(default=5, ge=1, description="requests allowed back to back")
    timeout_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _credentials(self) -> AccountSettings:
        if self.auth in (AuthScheme.BEARER, AuthScheme.SHOPIFY) and self.token is None:
            raise ValueError(f"{self.auth} auth needs a token")
        if self.auth is AuthScheme.BASIC and (self.username is None or self.password is None):
            raise ValueError("basic auth needs username and password")
        return self


class ConnectorSettings(BaseSettings):
    """Environment: ``CONNECTOR_*``."""

    model_config = SettingsConfigDict(env_prefix="CONNECTOR_", frozen=True)

    service_name: str = "delivery"
    topics: list[str] = Field(description="egress topics to deliver")
    accounts: dict[str, AccountSettings] = Field(description="egress account -> how to reach it")
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)
    max_error_body_bytes: int = Field(default=4096, ge=256, description="target error body kept in the DLQ")
    max_in_flight_per_account: int = Field(default=4, ge=1, description="documents in flight per account")
    workers: int = Field(default=8, ge=1, description="delivery threads")
