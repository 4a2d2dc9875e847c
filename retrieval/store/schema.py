"""Aisle's store schema as pydantic models.

These are the one definition of a product, user, order and event: the shipped data files are
validated against them, the database rows are read back into them, and tools and the HTTP API
return them. See docs/store-schema.md for the field-by-field description.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Review(_Record):
    rating: int = Field(ge=1, le=5)
    comment: str
    date: datetime | None = None
    reviewer_name: str | None = None


class VariantRecord(_Record):
    """One sellable item: a product in one combination of options (colour, size, ...)."""

    item_id: str = Field(description="Stable id; τ-bench item ids are kept as they are.")
    product_id: str
    options: dict[str, str] = Field(default_factory=dict)
    price: NonNegativeFloat = Field(description="Unit price in USD.")
    available: bool
    stock: int | None = Field(default=None, ge=0, description="Units in stock, when known.")


class ProductRecord(_Record):
    product_id: str
    source: Literal["tau2", "dummyjson", "generated", "custom"]
    name: str
    description: str = ""
    category: str
    brand: str | None = None
    tags: list[str] = Field(default_factory=list)
    rating: float | None = Field(default=None, ge=0, le=5)
    warranty: str | None = None
    shipping: str | None = None
    return_policy: str | None = None
    reviews: list[Review] = Field(default_factory=list)
    variants: list[VariantRecord] = Field(min_length=1)


class Address(_Record):
    address1: str
    address2: str = ""
    city: str
    state: str
    country: str
    zip: str


class PaymentMethod(_Record):
    payment_method_id: str
    source: Literal["credit_card", "paypal", "gift_card"]
    brand: str | None = None
    last_four: str | None = None
    balance: float | None = Field(default=None, description="Gift card balance in USD.")


class UserRecord(_Record):
    user_id: str
    first_name: str
    last_name: str
    email: str
    address: Address
    payment_methods: list[PaymentMethod] = Field(default_factory=list)


class OrderItem(_Record):
    item_id: str
    product_id: str
    name: str
    price: NonNegativeFloat
    options: dict[str, str] = Field(default_factory=dict)


class Fulfillment(_Record):
    tracking_ids: list[str]
    item_ids: list[str]


class PaymentTransaction(_Record):
    transaction_type: Literal["payment", "refund"]
    amount: float
    payment_method_id: str


OrderStatus = Literal[
    "pending",
    "pending (item modified)",
    "processed",
    "delivered",
    "cancelled",
    "return requested",
    "exchange requested",
]


class OrderRecord(_Record):
    order_id: str
    user_id: str
    status: OrderStatus
    address: Address
    items: list[OrderItem] = Field(min_length=1)
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    payment_history: list[PaymentTransaction] = Field(default_factory=list)
    # Set by order actions (as τ-bench records them), absent until then.
    cancel_reason: str | None = None
    return_items: list[str] | None = None
    return_payment_method_id: str | None = None
    exchange_items: list[str] | None = None
    exchange_new_items: list[str] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: float | None = None


class EventKind(StrEnum):
    """What a shopper did; recommendations and profiles read these."""

    view = "view"
    click = "click"
    like = "like"
    dislike = "dislike"
    not_brand = "not_brand"
    not_category = "not_category"
    add_to_cart = "add_to_cart"
    purchase = "purchase"


class EventRecord(_Record):
    event_id: int | None = None
    user_id: str | None = Field(default=None, description="None for a shopper not signed in.")
    session_id: str | None = None
    kind: EventKind
    item_id: str | None = None
    product_id: str | None = None
    ts: datetime | None = None
    context: dict = Field(default_factory=dict, description="E.g. the query, brand or category.")
