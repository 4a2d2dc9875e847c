"""The default local model for real: Qwen2.5-Coder-1.5B GGUF through llama-cpp-python (one load per session).

The model is assembled from its part packages once into pytest's cache folder and reused by
later runs (`make clean` removes it).
"""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (it is a project dependency)")

from assistant.llm import ChatMessage, GenerationConfig  # noqa: E402
from assistant.llm.llama_cpp_backend import LlamaCppLLM  # noqa: E402,F401

pytestmark = pytest.mark.slow

SYSTEM = (
    "You are the assistant of an online shop. Customers ask about products and orders. "
    "Order ids look like #W1234567. Answer briefly and never invent facts."
)
ROUTER = "Classify the customer's message into one intent: search, order_status, cancel, return or chit_chat."
INTENT_SCHEMA = {
    "type": "object",
    "properties": {
        "intent": {"enum": ["search", "order_status", "cancel", "return", "chit_chat"]},
        "order_id": {"type": ["string", "null"]},
    },
    "required": ["intent", "order_id"],
}


@pytest.fixture(scope="session")
def llm(local_llm):
    return local_llm


def _ask(text: str, system: str = SYSTEM) -> list[ChatMessage]:
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=text)]


def test_short_completion_streams(llm):
    pieces = list(llm.stream(_ask("Reply with exactly one word: hello"), GenerationConfig(max_tokens=8)))
    assert len(pieces) >= 1 and "hello" in "".join(pieces).lower()
    stats = llm.last_stats
    assert stats.prompt_tokens > 30 and 1 <= stats.completion_tokens <= 8 and stats.ttft_s <= stats.total_s


def test_json_schema_constrains_the_output(llm):
    config = GenerationConfig(max_tokens=32, json_schema=INTENT_SCHEMA)
    reply = json.loads(llm.complete(_ask("Where is my order #W2378156?", ROUTER), config))
    assert set(reply) == {"intent", "order_id"}
    assert reply["intent"] in INTENT_SCHEMA["properties"]["intent"]["enum"]


def _answers(text: str) -> bool:
    """A real answer: words, not an empty string or stray tokens."""
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 2


def test_kept_prefix_state_is_reused_and_gives_a_valid_answer(llm):
    # Not bit-identical text across paths: a restored state and a fresh prompt evaluation take different
    # floating-point paths (batch shapes, CPU kernels), so greedy decoding may pick other words on some CPUs.
    config = GenerationConfig(max_tokens=6)
    question = _ask("Do you sell hiking backpacks?")
    llm.forget()
    cold = llm.complete(question, config)
    assert llm.last_stats.cached_prompt_tokens == 0 and _answers(cold), cold

    llm.warm(SYSTEM)
    llm.warm(ROUTER)  # the context now holds the router's prefix, not the shop's
    prefix = len(llm.tokens([ChatMessage(role="system", content=SYSTEM)], generation_prompt=False))
    warm = llm.complete(question, config)
    assert llm.last_stats.cached_prompt_tokens >= prefix  # restored, not re-read
    assert _answers(warm), warm
    again = llm.complete(question, config)  # now from the live context: the whole prompt is reused
    assert llm.last_stats.cached_prompt_tokens >= prefix and _answers(again), again


def test_stop_strings_cut_the_reply(llm):
    text = llm.complete(_ask("Count from 1 to 9, separated by commas."), GenerationConfig(max_tokens=30, stop=["5"]))
    assert "5" not in text and "4" in text
