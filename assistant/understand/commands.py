"""What a shopper's reply to a proposed order action means, as typed commands (Rasa's command idea).

`rules.reply_to_proposal` reads the reply into one of these and the agent acts on the type, not on the
words: yes, no, or a correction that re-proposes (other items, method or reason; or, while a task is open,
another of the customer's orders: `rules.order_correction`). Ids in a correction are the customer's real ids.
Which change an order request asks for (the order's address or the default one, payment or items) is an
`Action`, also read once per message and kept on the task (`TaskFrame.action`, `rules.read_action`); where
the words tie, the reader (`AISLE_READER`) may choose. A task's condition ("if that is not possible, cancel it", "如果没有就退货") is read once, when said, into a
`Condition` kept on the task (`TaskFrame.condition`, `rules.read_condition`); the flow takes it when the first
choice is refused (the order's status, no such variant, the policy, a payment method that cannot be used).
The rest of a turn is still read by `rules` functions (docs/flows.md, "not done yet").
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


class Condition(BaseModel):
    """What to do instead if the first choice cannot be done ("…if not, cancel everything"), or on
    a price condition ("…if it costs less than $200; if not, return it")."""

    kind: Literal["condition"] = "condition"
    then: list[Literal["return", "change", "cancel", "address", "nothing"]] = Field(
        default_factory=list, description="the fallback's actions, in the order said ('nothing': do nothing then)")
    only: str | None = Field(None, description="the words naming the only items to act on then ('only swap the <item>')")
    whole: bool = Field(False, description="the fallback means every item, or the whole order")
    payment_kinds: list[str] = Field(default_factory=list, description="payment kinds the fallback names (gift_card, paypal, credit_card)")
    price_below: float | None = Field(None, description="the first choice holds only below this price")
    extra_at_most: float | None = Field(None, description="the first choice holds only if it costs at most this much more than the item now")
    if_kinds: list[str] = Field(default_factory=list, description="payment kinds the condition is about ('if refund to <method> is not possible')")


class Action(BaseModel):
    """Which change a request about an order asks for, where the words could mean several: the order's
    address or the account's default address, the order's payment method or its items."""

    kind: Literal["action"] = "action"
    flows: list[str] = Field(default_factory=list, description="the flows the words ask for, in the order to do them")
    tied: list[str] = Field(default_factory=list, description="flows the words could not tell apart: the reader may choose")
    named: list[Literal["return", "change", "cancel", "address"]] = Field(
        default_factory=list, description="the order actions the words name, in order (the order's status makes them routes)")
    to_default: bool = Field(False, description="the new address is the account's default one ('send it to my default address')")

    def merged(self, earlier: Action | None) -> Action:
        """What the task's messages ask for together (an earlier message's reading, then this one's)."""
        if earlier is None:
            return self
        flows = list(dict.fromkeys([*earlier.flows, *self.flows]))
        return Action(flows=flows, tied=[] if flows else list(dict.fromkeys([*earlier.tied, *self.tied])),
                      named=list(dict.fromkeys([*earlier.named, *self.named])), to_default=earlier.to_default or self.to_default)


class Topic(BaseModel):
    """Items chosen by what they are about ("everything associated with <hobby>", "all the things not
    related to it"), read once, when said (`understand/topic.py`); which items are about it is the
    shop's data's answer (`sure`), and the shopper's for those it can only guess (`unsure`, asked)."""

    kind: Literal["topic"] = "topic"
    words: str = Field(description="what the items are about, in the catalog's language ('gaming')")
    said: str | None = Field(None, description="the topic as the shopper said it, when not `words` ('游戏'): what replies name")
    negated: bool = Field(False, description="the items NOT about it are meant")
    sure: list[str] = Field(default_factory=list, description="the customer's item ids the shop's data ties to it")
    unsure: list[str] = Field(default_factory=list, description="item ids it may be about: the shopper is asked")
    asked: bool = Field(False, description="the shopper was asked about `unsure`; the next message answers")
    read: bool = Field(False, description="`sure` and `unsure` were read from the customer's items")


class Confirm(BaseModel):
    """An explicit yes. Said with more ("yes, swap it. how long will it take?"): `said`, the yes alone, which the
    ToolRunner's gate checks; `rest`, the questions or requests after it, handled once the action has run."""

    kind: Literal["confirm"] = "confirm"
    said: str | None = None
    rest: list[str] = Field(default_factory=list)


class Hold(BaseModel):
    """Neither yes nor no: a question about the proposal or a hesitation ("hmm, let me check first"). The
    proposal stays pending: the question answered, the yes asked for again."""

    kind: Literal["hold"] = "hold"
    question: bool = False


class Decline(BaseModel):
    kind: Literal["decline"] = "decline"
