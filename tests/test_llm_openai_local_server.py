"""Aisle's OpenAI-compatible backend (how vLLM, llama.cpp's server or Ollama are used) against a real
server: llama-cpp-python's OpenAI-compatible server with the packaged GGUF on loopback (its `chatml`
format, which applies `response_format` as a grammar).

tests/test_llm_openai.py checks the protocol against a scripted server; this checks the wiring end to end.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

SCHEMA = {
    "type": "object",
    "properties": {"intent": {"enum": ["search", "order_status", "cancel"]}},
    "required": ["intent"],
}


@pytest.fixture(scope="module")
def backend(packaged_gguf, tmp_path_factory):
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed (a project dependency)")
    from assistant.llm.openai_backend import OpenAICompatibleLLM
    from assistant.tool_agent.local_server import LocalToolServer

    log = tmp_path_factory.mktemp("llm") / "server.log"
    with LocalToolServer(model=packaged_gguf, n_ctx=2048, n_threads=2, log_file=log, chat_format="chatml") as server:
        llm = OpenAICompatibleLLM(server.url, api_key="unused", model="local", timeout_s=120)
        yield llm
        llm.close()


def _ask(text: str, system: str = "You are a shop's assistant. Answer briefly."):
    from assistant.llm import ChatMessage

    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=text)]


def test_the_backend_streams_a_reply_and_counts_tokens(backend):
    from assistant.llm import GenerationConfig

    pieces = list(backend.stream(_ask("Reply with one word: hello"), GenerationConfig(max_tokens=8)))
    assert pieces and "".join(pieces).strip()
    stats = backend.last_stats
    assert stats.completion_tokens is None or 1 <= stats.completion_tokens <= 8


def test_a_json_schema_reaches_the_server_as_a_constraint(backend):
    from assistant.llm import GenerationConfig

    reply = backend.complete(_ask("Where is my order #W2378156?", "Classify the message's intent."),
                             GenerationConfig(max_tokens=24, json_schema=SCHEMA))  # fmt: skip
    assert json.loads(reply)["intent"] in SCHEMA["properties"]["intent"]["enum"]
