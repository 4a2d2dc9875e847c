"""Shared setup of the ui tests: a real store and search index in a temp dir, the fake LLM, and the
keyword classifier (tests/fakes.py) so answers do not hang on a statistical model's choices."""

from __future__ import annotations

import json
from pathlib import Path

from retrieval.store import Store

from tests.fakes import KeywordClassifier


def make_service(data_dir: Path, seeded: Store, signin_secret: str | None = None, llm=None):
    """A ChatService on a copy of the seeded demo store (conftest's `seeded_store`) in `data_dir`;
    `signin_secret` checks the shop's sign-in tokens (none: token sign-in is off); `llm`: the fake LLM
    unless given (e.g. one that streams slowly)."""
    from assistant.agent import Assistant
    from assistant.llm.fake import FakeLLM
    from recsys import Recommender
    from retrieval.config import Settings
    from retrieval.search import Search
    from ui.service import ChatService

    settings = Settings(data_dir=data_dir)
    store = seeded.copy_to(settings.db_url)
    services = {"search": Search.from_settings(settings, progress=False), "recommender": Recommender(store)}
    return ChatService(Assistant(store, llm=llm or FakeLLM(), classifier=KeywordClassifier(), services=services), signin_secret=signin_secret)


def sse(text: str) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a server-sent-events body."""
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
