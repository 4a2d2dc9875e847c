"""What a conversation remembers between turns, and what a turn emits. Plain pydantic: it is
stored as JSON (sessions live in the database, not in process memory)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.tools import PendingAction


class SearchMemory(BaseModel):
    """The last search, so 'cheaper' or 'in blue' refine it."""

    query: str = ""
    min_price: float | None = None
    max_price: float | None = None
    options: dict[str, str] = Field(default_factory=dict)


class TaskFrame(BaseModel):
    """An order task being filled in over several turns."""

    route: str
    text: str = Field(default="", description="What the shopper said for this task so far.")
    order_id: str | None = None
    item_ids: list[str] = Field(default_factory=list)
    new_item_ids: list[str] = Field(default_factory=list)
    payment_method_id: str | None = None
    reason: str | None = None
    address: dict | None = None


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
    settled: list[str] = Field(
        default_factory=list,
        description="'route|order_id' of actions proposed and then done or declined: a restated request moves on to the next.",
    )
    handed_off: bool = False
    agent_thread: str | None = Field(default=None, description="tools agent: the LangGraph checkpoint thread of this conversation.")
    agent_thread_user: str | None = Field(default=None, description="tools agent: the customer that thread belongs to.")
    turns: int = 0

    def remember(self, role: str, content: str, keep: int = 12) -> None:
        self.history.append(Message(role=role, content=content))
        del self.history[:-keep]


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


class AssistantEvent(BaseModel):
    """One piece of a streamed turn: text to append, cards to show, or a tool that ran."""

    kind: Literal["text", "cards", "tool", "pending", "handoff"]
    text: str = ""
    cards: list[ProductCard] = Field(default_factory=list)
    tool: str | None = None
    ok: bool | None = None
    arguments: dict | None = None
