"""Webhook secrets of one local bus run: generated at `esb bus up`, shared with the gateway and the demo.

They live in the bus's state folder (mode 0600), never in the repository, and are never logged.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["GENERIC_SYSTEMS", "DemoSecrets"]

# Sources without a provider scheme of their own post through the gateway's generic route.
GENERIC_SYSTEMS = ("amazon", "magento")


@dataclass(frozen=True, slots=True)
class DemoSecrets:
    shopify_shop: str
    shopify_secret: str
    woocommerce_account: str
    woocommerce_secret: str
    stripe_secret: str
    adyen_merchant: str
    adyen_hmac_key: str
    generic_secret: str
    amazon_seller: str

    def __repr__(self) -> str:  # never print the values
        return f"DemoSecrets(shop={self.shopify_shop!r}, ...)"

    @classmethod
    def generate(cls) -> DemoSecrets:
        return cls(
            shopify_shop="demo-shop.myshopify.com",
            shopify_secret=secrets.token_urlsafe(32),
            woocommerce_account="demo-woo",
            woocommerce_secret=secrets.token_urlsafe(32),
            stripe_secret="whsec_" + secrets.token_urlsafe(24),
            adyen_merchant="DemoMerchantECOM",
            adyen_hmac_key=secrets.token_hex(32).upper(),
            generic_secret=secrets.token_urlsafe(32),
            amazon_seller="A1DEMOSELLER",
        )

    def gateway_env(self) -> dict[str, str]:
        """The gateway's secret maps (``GATEWAY_*_SECRETS``), keyed as the gateway looks them up."""
        return {
            "GATEWAY_SHOPIFY_SECRETS": json.dumps({self.shopify_shop: self.shopify_secret}),
            "GATEWAY_WOOCOMMERCE_SECRETS": json.dumps({self.woocommerce_account: self.woocommerce_secret}),
            "GATEWAY_STRIPE_SECRETS": json.dumps({"default": self.stripe_secret}),
            "GATEWAY_ADYEN_HMAC_KEYS": json.dumps({"default": self.adyen_hmac_key}),
            "GATEWAY_GENERIC_SECRETS": json.dumps(
                {system: self.generic_secret for system in GENERIC_SYSTEMS}
            ),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(self), handle)

    @classmethod
    def load(cls, path: Path) -> DemoSecrets:
        return cls(**json.loads(path.read_text()))
