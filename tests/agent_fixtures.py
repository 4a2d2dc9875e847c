"""The code-first agent on a copy of the seeded store, with a keyword classifier and the fake LLM standing
in for the statistical parts (shared by the agent and flow tests: import the fixtures by name)."""

from __future__ import annotations

import pytest

from assistant.agent import Assistant
from assistant.llm.fake import FakeLLM
from assistant.state import DialogueState
from tests.fakes import KeywordClassifier

YUSUF_EMAIL = "yusuf.rossi7301@example.com"


@pytest.fixture
def store(seeded_store, tmp_path):
    return seeded_store.copy_to(f"sqlite:///{tmp_path / 'agent.db'}")


@pytest.fixture
def assistant(store):
    return Assistant(store, llm=FakeLLM(lambda m: "Happy to help!"), classifier=KeywordClassifier())


@pytest.fixture
def state():
    return DialogueState(session_id="test")
