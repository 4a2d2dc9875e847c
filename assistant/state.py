"""What a conversation remembers between turns, and what a turn emits. Plain pydantic: it is
stored as JSON (sessions live in the database, not in process memory)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.tools import PendingAction
from assistant.understand.commands import Action, Condition, Topic


class SearchMemory(BaseModel):
    """The last search as typed fields, so a follow-up ("cheaper", "in blue", "bigger", "another
    brand") changes its constraints instead of being searched as a bare word."""

    query: str = Field(default="", description="The words searched for besides the constraints (the need).")
    product_type: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    options: dict[str, str] = Field(default_factory=dict)
    brand: str | None = None
    exclude: list[str] = Field(default_factory=list)
    in_stock: bool | None = None
    exclude_item_ids: list[str] = Field(default_factory=list, description="Items ruled out by 'another brand'.")
    cheapest: float | None = Field(default=None, description="Lowest price shown for this search.")
    dearest: float | None = Field(default=None, description="Highest price shown for this search.")
    brands: list[str] = Field(default_factory=list, description="Brands shown for this search.")
    product_ids: list[str] = Field(default_factory=list, description="Products shown for this search.")
    turn: int = Field(default=0, description="The turn whose reply showed it: the next one may change it without a filter word.")


class TaskFrame(BaseModel):
    """An order task being filled in over several turns."""

    route: str
    flow: str = Field(default="", description="The declared flow being filled (assistant/flows), once known.")
    text: str = Field(default="", description="What the shopper said for this task so far.")
    order_id: str | None = None
    item_ids: list[str] = Field(default_factory=list)
    new_item_ids: list[str] = Field(default_factory=list)
    payment_method_id: str | None = None
    reason: str | None = None
    address: dict | None = None
    action: Action | None = Field(default=None, description="Which change the task's words ask for, read once per message.")
    condition: Condition | None = Field(default=None, description="What to do instead if the first choice is refused, read when said.")
    closest_offered: list[str] = Field(
        default_factory=list, description="Items whose new option exists only with other changes too, already offered "
        "as choices: asked again with nothing new, the closest is proposed (an id with rules.LISTED after it: the other "
        "values the shopper asked of it were listed, and the pick is among those).",
    )  # fmt: skip
    topic: Topic | None = Field(default=None, description="Items chosen by what they are about ('everything related to <hobby>').")
    asks: dict[str, list[int]] = Field(
        default_factory=dict, description="The turns each question was asked in (which order, which items of an order, an "
        "item's new option): asked three times and still not settled, the item is left as it is and the task goes on, "
        "or the task is left (no question asked forever).",
    )  # fmt: skip
    amends: list[str] = Field(
        default_factory=list, description="Changes said to this task while it waited in the queue ('only the <item>', "
        "another payment method): applied to the items once they are read from its first words.",
    )  # fmt: skip


class Choice(BaseModel):
    """One option the shopper is asked to pick from, shown as a button; typing still works. Picking it
    sends its label, which the next turn reads back as `id` (an order, item or payment method id)."""

    id: str
    label: str
    kind: Literal["order", "item", "option", "payment", "reason", "confirm"]


def readable(text: str) -> str:
    """The shopper's message as valid text: a lone surrogate ("\\ud800" in JSON) is not, and tokenizers
    and the model raise on it."""
    if not isinstance(text, str):
        return text  # the turn answers what is not text with a clear error
    return text.encode("utf-8", "replace").decode("utf-8")


class ProductCard(BaseModel):
    """A product as the UI shows it; every field comes from the store or a tool result."""

    item_id: str
    product_id: str
    name: str
    options: dict[str, str] = Field(default_factory=dict)
    price: float
    available: bool
    rating: float | None = None
    brand: str | None = None
    reason: str = ""
    source: str = Field(default="", description="What picked it: the ranking model's name, popularity, explore.")


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class DialogueState(BaseModel):
    session_id: str
    user_id: str | None = Field(default=None, description="Set only by a successful identification.")
    lang: Literal["en", "zh"] = "en"
    history: list[Message] = Field(default_factory=list)
    last_items: list[str] = Field(default_factory=list, description="Item ids last shown, in order.")
    excluded_items: list[str] = Field(default_factory=list, description="Disliked in this session: never shown again.")
    search: SearchMemory | None = None
    frame: TaskFrame | None = None
    pending: PendingAction | None = None
    aside: list[str] = Field(default_factory=list, description="Messages about the shopper's own orders said before a task started.")
    queue: list[TaskFrame] = Field(default_factory=list, description="Order tasks asked for in the same message, done one after another.")
    settled: list[str] = Field(
        default_factory=list,
        description="'route|order_id' of actions proposed and then done or declined: a restated request moves on to the next.",
    )
    refused: TaskFrame | None = Field(default=None, description="The task just refused: a condition said next ('if not, …') applies to it.")
    done: list[str] = Field(
        default_factory=list,
        description="'route|order_id' of actions done in this conversation (a subset of `settled`): asked again, they are "
        "answered as done, not proposed again.",
    )
    payment: list[str] = Field(
        default_factory=list,
        description="The payment methods the shopper named, as their real ids, latest first ('original' = each order's "
        "own): a later task that needs a method takes the first one its policy allows instead of asking again.",
    )
    earlier_addresses: dict[str, dict] = Field(
        default_factory=dict,
        description="What an address was before this conversation first changed it ('default' = the account's, or an "
        "order id): 'change it back to the original' is that address.",
    )
    handed_off: bool = False
    choices: list[Choice] = Field(default_factory=list, description="Offered in the last reply: a picked label reads as its id.")
    cards: list[ProductCard] = Field(
        default_factory=list, description="Shown with the last reply (kept by the chat service): a reloaded page shows them again.",
    )  # fmt: skip
    agent_thread: str | None = Field(default=None, description="tools agent: the LangGraph checkpoint thread of this conversation.")
    agent_thread_user: str | None = Field(default=None, description="tools agent: the customer that thread belongs to.")
    turns: int = 0

    def remember(self, role: str, content: str, keep: int = 12) -> None:
        self.history.append(Message(role=role, content=content))
        del self.history[:-keep]


class AssistantEvent(BaseModel):
    """One piece of a streamed turn: text to append, cards to show, choices to offer, or a tool that ran."""

    kind: Literal["text", "cards", "tool", "pending", "handoff", "choices"]
    text: str = ""
    cards: list[ProductCard] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list)
    tool: str | None = None
    ok: bool | None = None
    arguments: dict | None = None
