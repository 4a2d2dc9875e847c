"""What tools run against: the store, the services, and the conversation's own identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from assistant.orders import OrderService
from retrieval.store import Store


@dataclass
class ToolContext:
    store: Store
    session_id: str
    user_id: str | None = None  # set only by a successful find_user; never by the model
    handoff_summary: str | None = None
    identify_in_chat: bool = True  # find_user may run (the demo store); off, the shop's sign-in token is the only way
    transcript: list[dict] = field(default_factory=list)  # the conversation's last messages, for a hand-off
    services: dict = field(default_factory=dict)  # injected search/recommender/faq (tests, shared instances)

    @cached_property
    def orders(self) -> OrderService:
        return OrderService(self.store)

    @property
    def search(self):
        if "search" not in self.services:
            from retrieval.search import Search

            self.services["search"] = Search.from_settings()
        return self.services["search"]

    @property
    def recommender(self):
        if "recommender" not in self.services:
            from recsys import Recommender

            self.services["recommender"] = Recommender.from_settings()
        return self.services["recommender"]

    @property
    def faq(self):
        if "faq" not in self.services:
            from assistant.faq import PolicyFaq

            self.services["faq"] = PolicyFaq.default()
        return self.services["faq"]

    def session_values(self) -> dict:
        return {"user_id": self.user_id, "session_id": self.session_id}
