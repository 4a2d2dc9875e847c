"""What a shopper's reply to a proposed order action means, as typed commands (Rasa's command idea).

`rules.reply_to_proposal` reads the reply into one of these and the agent acts on the type, not on the
words: yes, no, or a correction that re-proposes (other items, method or reason; or, while a task is open,
another of the customer's orders: `rules.order_correction`). Ids in a correction are the customer's real ids.
Only these three are read as commands so far; the rest of a turn is still read by `rules` functions
(docs/flows.md, "not done yet").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Correct(BaseModel):
    """A change to the action just proposed, said instead of yes: the slots as they should now be."""

    kind: Literal["correct"] = "correct"
    item_ids: list[str] = Field(default_factory=list)
    new_item_ids: list[str] = Field(default_factory=list)
    payment_method_id: str | None = None
    order_id: str | None = Field(None, description="another of the customer's orders meant instead of the task's")
    reason: str | None = Field(None, description="a cancellation reason stated again or changed at confirmation")


class Confirm(BaseModel):
    kind: Literal["confirm"] = "confirm"


class Decline(BaseModel):
    kind: Literal["decline"] = "decline"
