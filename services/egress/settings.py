"""Egress configuration: which targets receive what, and each target account's reference data.

One frozen object built in ``main()``. Maps (SKU -> item, chart-of-accounts code -> account, location
code -> warehouse...) are the ERP master-data crosswalk; they arrive as JSON in the environment
(``EGRESS_NETSUITE='{"account": "1234567", ...}'``) or from a mounted file via the orchestrator.
Nothing here is secret: credentials belong to the delivery connectors.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BusinessCentralTarget",
    "EgressSettings",
    "ErpEntity",
    "NetSuiteTarget",
    "SapTarget",
    "ShopifyTarget",
    "WmsTarget",
]


class _Target(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str = Field(description="the target account the documents are for (routing + credentials)")
    timezone: str = Field(default="UTC", description="the target's business time zone for dates")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class NetSuiteTarget(_Target):
    """NetSuite REST record v1. Internal ids come from the account's master data."""

    subsidiary_id: str
    customer_ids: dict[str, str] = Field(
        default_factory=dict, description="sales channel -> customer internal id orders post against"
    )
    currency_ids: dict[str, str] = Field(default_factory=dict, description="ISO 4217 -> currency internal id")
    item_ids: dict[str, str] = Field(
        default_factory=dict,
        description="SKU -> item internal id; unmapped SKUs are referenced by externalId",
    )
    location_ids: dict[str, str] = Field(default_factory=dict, description="location code -> location id")
    account_ids: dict[str, str] = Field(
        default_factory=dict, description="chart-of-accounts code -> account id"
    )
    period_ids: dict[str, str] = Field(
        default_factory=dict, description="YYYY-MM -> accounting period id; unmapped: NetSuite derives it"
    )
    department_ids: dict[str, str] = Field(default_factory=dict, description="dimension 'department' values")
    class_ids: dict[str, str] = Field(default_factory=dict, description="dimension 'channel' values -> class")
    discount_item_id: str | None = Field(default=None, description="discount item carrying order discounts")
    adjustment_account_id: str | None = Field(default=None, description="inventory adjustment account")


class BusinessCentralTarget(_Target):
    """Business Central API v2.0 for one company (``account`` = tenant/environment label)."""

    company_id: str
    journal_id: str | None = Field(default=None, description="general journal batch the lines go to")
    customer_numbers: dict[str, str] = Field(
        default_factory=dict, description="sales channel -> customer no."
    )
    item_numbers: dict[str, str] = Field(
        default_factory=dict, description="SKU -> item no. (default: the SKU)"
    )
    account_numbers: dict[str, str] = Field(
        default_factory=dict, description="chart-of-accounts code -> G/L account no. (default: the code)"
    )
    local_currency: str = Field(default="USD", description="LCY: sent as an empty currencyCode")


class SapTarget(_Target):
    """SAP ECC/S4 ALE inbound: ORDERS05 IDocs through the IDoc XML HTTP adapter."""

    client: str = Field(default="100", description="MANDT")
    sender_port: str = "ESB"
    sender_partner: str = Field(default="ESBCLNT", description="SNDPRN: our logical system")
    receiver_port: str = Field(default="SAPS4", description="RCVPOR")
    receiver_partner: str = Field(description="RCVPRN: SAP's logical system")
    sales_org: str
    distribution_channel: str
    division: str
    order_type: str = "TA"
    sold_to: dict[str, str] = Field(description="sales channel -> sold-to customer number (AG)")
    material_numbers: dict[str, str] = Field(
        default_factory=dict, description="SKU -> material (default SKU)"
    )


class WmsTarget(_Target):
    """A 3PL receiving X12 940 warehouse shipping orders."""

    sender_qualifier: str = "ZZ"
    sender_id: str
    receiver_qualifier: str = "ZZ"
    receiver_id: str
    gs_sender: str
    gs_receiver: str
    depositor: str = Field(description="our depositor name at the warehouse (N1*DE)")
    warehouses: dict[str, str] = Field(description="location code -> the 3PL's warehouse code (N1*WH)")
    usage: str = Field(default="P", pattern="^[PT]$", description="ISA15: P production, T test")
    inbound_system: str = Field(
        default="edi", description="the translator's system for this 3PL's 856/945 (its canonical ids)"
    )
    inbound_account: str | None = Field(
        default=None, description="the translator's account for this 3PL's 856/945; default: account"
    )


class ShopifyTarget(_Target):
    """A Shopify shop's Admin REST API (``account`` = the shop's myshopify domain)."""

    api_version: str = "2024-04"
    location_ids: dict[str, str] = Field(description="location code -> Shopify location id")
    inventory_item_ids: dict[str, str] = Field(
        default_factory=dict, description="SKU -> inventory_item_id (not the variant id)"
    )
    notify_customer: bool = True


class ErpEntity(BaseModel):
    """What a router ``erp_entity`` means: the ERP it lives in and its key there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str = Field(pattern="^(netsuite|business-central|sap)$")
    netsuite_subsidiary_id: str | None = None
    business_central_company_id: str | None = None
    sap_sales_org: str | None = None


class EgressSettings(BaseSettings):
    """Environment: ``EGRESS_*``; target blocks as JSON (``EGRESS_NETSUITE``...)."""

    model_config = SettingsConfigDict(env_prefix="EGRESS_", frozen=True)

    service_name: str = "egress-translator"
    orders_topic: str = "canonical.orders.v1"
    routed_orders_topic: str = Field(
        default="canonical.routed-orders.v1",
        description="the router's decisions; empty: orders go to order_targets without routing",
    )
    erp_entities: dict[str, ErpEntity] = Field(
        default_factory=dict, description="router erp_entity -> ERP and its subsidiary/company/sales org"
    )
    fulfillment_orders_topic: str = "canonical.fulfillment-orders.v1"
    shipments_topic: str = Field(
        default="canonical.shipments.v1",
        description="shipments for Shopify fulfillments (needs `shopify`); empty: off",
    )
    shipment_join_topic: str = Field(
        default="egress-translator.by-order.repartition",
        description="internal: Shopify order links and shipments re-keyed by the shipment's order id",
    )
    shipment_wait: timedelta = Field(
        default=timedelta(days=14),
        description="how long a shipment waits for its Shopify order link (then it is not for Shopify)",
    )
    inventory_levels_topic: str = "canonical.inventory-levels.v1"
    stock_movements_topic: str = "canonical.stock-movements.v1"
    journal_entries_topic: str = "canonical.journal-entries.v1"
    golden_customers_topic: str = "canonical.golden-customers.v1"
    topic_prefix: str = Field(default="", description="prepended to egress topics (tests, environments)")
    order_targets: list[str] = Field(
        default_factory=lambda: ["netsuite"],
        description="ERPs sales orders go to: netsuite, business-central, sap",
    )
    journal_targets: list[str] = Field(default_factory=lambda: ["netsuite"])
    customer_targets: list[str] = Field(default_factory=lambda: ["netsuite"])
    netsuite: NetSuiteTarget | None = None
    business_central: BusinessCentralTarget | None = None
    sap: SapTarget | None = None
    wms: WmsTarget | None = None
    shopify: ShopifyTarget | None = None
