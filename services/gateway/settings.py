"""Gateway configuration: one frozen object per process, read from the environment in ``main()``.

Secret maps are JSON in the environment, keyed by the account the provider identifies, e.g.
``GATEWAY_SHOPIFY_SECRETS='{"acme.myshopify.com": "..."}'``. An empty map disables that provider.
"""

from __future__ import annotations

import binascii
import re

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GatewaySettings"]

_TOPIC_PREFIX = re.compile(r"^[A-Za-z0-9._-]*$")


class GatewaySettings(BaseSettings):
    """HTTP listener, limits, dedupe cache and per-provider / per-account webhook secrets."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8080
    topic_prefix: str = Field(default="", description="prepended to every topic name, e.g. 'staging.'")
    max_body_bytes: int = Field(default=1_048_576, gt=0, description="larger bodies are answered 413")
    # Shopify gives up after 5 s; answering 503 a little earlier lets it retry cleanly.
    delivery_timeout_ms: int = Field(default=4_000, gt=0, description="librdkafka message.timeout.ms")
    signature_tolerance_s: int = Field(default=300, gt=0, description="Stripe / generic timestamp skew")
    dedupe_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    dedupe_max_entries: int = Field(default=100_000, gt=0)

    shopify_secrets: dict[str, SecretStr] = Field(default_factory=dict, description="shop domain -> secret")
    woocommerce_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description="account (URL path) or X-WC-Webhook-Source -> secret"
    )
    stripe_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description="account (URL path, 'default' without one) -> whsec_ secret"
    )
    adyen_hmac_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="account (URL path, 'default' without one) -> hex HMAC key"
    )
    generic_secrets: dict[str, SecretStr] = Field(default_factory=dict, description="system -> secret")

    @field_validator("topic_prefix")
    @classmethod
    def _prefix_is_topic_safe(cls, value: str) -> str:
        if not _TOPIC_PREFIX.match(value):
            raise ValueError("topic_prefix may only contain letters, digits, '.', '_' and '-'")
        return value

    @field_validator("adyen_hmac_keys")
    @classmethod
    def _adyen_keys_are_hex(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        # Fail at start-up, not on the first notification; the message never echoes the key.
        for account, key in value.items():
            try:
                binascii.unhexlify(key.get_secret_value())
            except (binascii.Error, ValueError):
                raise ValueError(f"adyen_hmac_keys[{account!r}] is not a hex string") from None
        return value
