"""Bodies of the HTTP API that no tool already defines.

Where a tool has a model for the same thing the API reuses it (`SearchRequest`/`SearchResponse`
for product search, `AssistantEvent`/`ProductCard` for chat output, recsys's `UserProfile` and
`ProfilePatch` for the profile); these cover what only the web surfaces need: sessions, sign-in,
chat turns, feedback, readiness and the OpenAI-compatible endpoint.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.state import AssistantEvent, Choice, Message, ProductCard


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SignIn(_Body):
    """Sign a conversation in as a customer: with a token from the shop's site (production), or, on
    the demo store only (AISLE_DEMO_SIGN_IN), by email or user id."""

    token: str | None = Field(default=None, max_length=4096, description="A JWT (HS256, AISLE_SIGNIN_SECRET) whose `sub` is the user id.")
    email: str | None = Field(default=None, max_length=256, examples=["yusuf.rossi7301@example.com"], description="Demo store only.")
    user_id: str | None = Field(default=None, max_length=128, examples=["yusuf_rossi_9620"], description="Demo store only.")

    @model_validator(mode="after")
    def _one_of(self) -> SignIn:
        given = [name for name in ("token", "email", "user_id") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give one of: a token, an email or a user_id")
        return self


class SessionCreate(_Body):
    sign_in: SignIn | None = Field(default=None, description="Optionally sign in at once.")


class SessionResume(_Body):
    """What a page that shows a stored conversation again (a reload, the shop's next page) knows of who is here."""

    token: str | None = Field(default=None, max_length=4096,
                              description="The shop's sign-in token for its logged-in customer, if there is one.")  # fmt: skip


class UserSummary(BaseModel):
    user_id: str
    name: str
    email: str


class SessionInfo(BaseModel):
    session_id: str
    user: UserSummary | None = Field(default=None, description="The signed-in customer, if any.")
    turns: int = 0
    history: list[Message] = Field(default_factory=list, description="The last messages of the conversation.")
    cards: list[ProductCard] = Field(default_factory=list, description="The last reply's cards, less those disliked since: show them again.")
    choices: list[Choice] = Field(default_factory=list, description="The options the last reply asked to pick from, while that question is open.")


class ChatRequest(_Body):
    session_id: str = Field(min_length=1, max_length=64)
    message: str = Field(min_length=1, max_length=8000)
    stream: bool = Field(default=True, description="True: server-sent events, one per AssistantEvent; False: one JSON reply.")


class ChatResponse(BaseModel):
    session_id: str
    text: str
    cards: list[ProductCard] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list, description="Options the reply asks the shopper to pick from (show as buttons; send the label).")
    events: list[AssistantEvent] = Field(default_factory=list)


FeedbackKind = Literal["like", "dislike", "not_interested", "not_brand", "not_category"]


class FeedbackRequest(_Body):
    """A 👍 / 👎 / "not interested" on a shown item (or a whole brand or category)."""

    session_id: str = Field(min_length=1, max_length=64)
    kind: FeedbackKind
    item_id: str | None = Field(default=None, max_length=128)
    brand: str | None = Field(default=None, max_length=128)
    category: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _target(self) -> FeedbackRequest:
        if not (self.item_id or self.brand or self.category):
            raise ValueError("give the item_id, brand or category the feedback is about")
        return self


class FeedbackResult(BaseModel):
    recorded: bool = Field(description="Stored as a feedback event for the recommender.")
    excluded_items: list[str] = Field(description="Items this session will not show again.")


class Personalisation(_Body):
    personalised: bool = Field(description="False: suggestions ignore what Aisle learned about you.")


class Readiness(BaseModel):
    ready: bool
    store: bool
    search: bool
    llm: bool = Field(description="The language model is loaded (it is needed only for product questions and small talk).")
    llm_backend: str
    problems: list[str] = Field(default_factory=list)


class ErrorBody(BaseModel):
    detail: str


# -- OpenAI-compatible chat completions ------------------------------------------------------------


class ContentPart(BaseModel):
    """One part of a message's content; only text parts are read (a non-string text is a 422, not a 500)."""

    model_config = ConfigDict(extra="allow")  # image_url, …: ignored

    type: str
    text: str | None = None


class OpenAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # clients send name, tool_calls, …: ignored

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """The OpenAI request; only the last user message is new to Aisle (the session remembers the rest).

    The conversation is named by `user` or the `X-Aisle-Session` header (a name not in use starts a
    new anonymous session of that name); with neither, a new session is created and its id returned
    in the `X-Aisle-Session` response header.
    """

    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, …: Aisle decides these

    model: str = "aisle"
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False
    user: str | None = Field(default=None, max_length=64, description="The Aisle session: an existing id, or a new name to start one.")


class CompletionChoice(BaseModel):
    index: int = 0
    message: dict
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Tokens of the last user message (all Aisle reads) and of the reply, estimated without a tokenizer."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[CompletionChoice]
    usage: Usage
