"""Argument models of Aisle's own tools (search and recommend reuse retrieval's and recsys's models).

Descriptions are short on purpose: they are what the model reads.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ORDER_ID = Field(description="Order id such as '#W2611340'.", min_length=2, max_length=32)
ITEM_IDS = Field(description="Item ids of the order's items, one per unit.", min_length=1, max_length=20)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProductDetailsArgs(_Args):
    product_id: str = Field(description="A product id, or an item id of one of its variants.", max_length=64)


class CompareArgs(_Args):
    ids: list[str] = Field(
        description="2 to 4 product or item ids to compare side by side.", min_length=2, max_length=4
    )


class FaqArgs(_Args):
    question: str = Field(description="The shopper's question about the shop's policy.", min_length=1, max_length=2000)


class FindUserArgs(_Args):
    email: str | None = Field(default=None, description="The shopper's email.", max_length=256)
    first_name: str | None = Field(default=None, max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    zip: str | None = Field(default=None, description="Zip code of the default address.", max_length=16)

    @model_validator(mode="after")
    def _email_or_name_zip(self) -> FindUserArgs:
        if not self.email and not (self.first_name and self.last_name and self.zip):
            raise ValueError("give an email, or first name, last name and zip code")
        return self


class NoArgs(_Args):
    pass


class OrderArgs(_Args):
    order_id: str = ORDER_ID


class CancelArgs(_Args):
    order_id: str = ORDER_ID
    reason: Literal["no longer needed", "ordered by mistake"]


class AddressArgs(_Args):
    address1: str = Field(min_length=1, max_length=200)
    address2: str = Field(default="", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=1, max_length=100)
    country: str = Field(default="USA", min_length=1, max_length=100)
    zip: str = Field(min_length=1, max_length=16)


class OrderAddressArgs(AddressArgs):
    order_id: str = ORDER_ID


class OrderPaymentArgs(_Args):
    order_id: str = ORDER_ID
    payment_method_id: str = Field(description="e.g. 'credit_card_7815826', 'paypal_5727330', 'gift_card_1725971'.")


class ReturnArgs(_Args):
    order_id: str = ORDER_ID
    item_ids: list[str] = ITEM_IDS
    payment_method_id: str = Field(description="The original payment method, or a gift card, for the refund.")


class SwapItemsArgs(_Args):
    order_id: str = ORDER_ID
    item_ids: list[str] = ITEM_IDS
    new_item_ids: list[str] = Field(description="Replacement item ids of the same products, in the same order.")
    payment_method_id: str = Field(description="Pays or receives the price difference.")

    @model_validator(mode="after")
    def _same_length(self) -> SwapItemsArgs:
        if len(self.item_ids) != len(self.new_item_ids):
            raise ValueError("item_ids and new_item_ids must have the same length")
        return self


class HandoffArgs(_Args):
    summary: str = Field(description="What the shopper needs, for the human agent.", min_length=1, max_length=4000)
