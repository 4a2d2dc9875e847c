"""What a shopper's message means for the order flows, as typed commands (Rasa's command idea).

A reader (the rule reader: `rules.read`) turns message + context into a list of these; the flows
(assistant/flows/) decide what happens next. Ids in commands are the customer's real ids: a reader
resolves "the order sent to Texas" or "everything except the pet bed" against their own data.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field


class StartTask(BaseModel):
    """Start an order action (a flow, by its route) on an order, when the message names one."""

    kind: Literal["start"] = "start"
    route: str
    order_id: str | None = None


class SetSlot(BaseModel):
    kind: Literal["set"] = "set"
    slot: Literal["order_id", "item_ids", "new_item_ids", "payment_method_id", "reason", "address"]
    value: Any


class Correct(BaseModel):
    """A change to the action just proposed, said instead of yes: the slots as they should now be."""

    kind: Literal["correct"] = "correct"
    item_ids: list[str] = Field(default_factory=list)
    new_item_ids: list[str] = Field(default_factory=list)
    payment_method_id: str | None = None


class Confirm(BaseModel):
    kind: Literal["confirm"] = "confirm"


class Decline(BaseModel):
    kind: Literal["decline"] = "decline"


class CancelTask(BaseModel):
    kind: Literal["cancel_task"] = "cancel_task"


class Condition(BaseModel):
    """"If X is not possible (or costs more than `price_below`), do `otherwise` instead"."""

    kind: Literal["condition"] = "condition"
    otherwise: str | None = Field(default=None, description="the route of the alternative action")
    price_below: float | None = None


class Question(BaseModel):
    """A question to answer without leaving the open task (a product question in the middle of an exchange)."""

    kind: Literal["question"] = "question"
    about: Literal["product", "policy", "order_status"] = "product"


Command = Annotated[Union[StartTask, SetSlot, Correct, Confirm, Decline, CancelTask, Condition, Question],
                    Field(discriminator="kind")]  # fmt: skip
