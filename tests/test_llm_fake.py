"""The interface's records and helpers, the fake backend, and backend selection from settings."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable, get_llm, make_llm, set_llm
from assistant.llm.base import StopFilter, cut_at_stop, with_json_instruction
from assistant.llm.fake import FakeLLM

USER = [ChatMessage(role="system", content="You are a shop assistant."), ChatMessage(role="user", content="hi there")]


def test_fake_streams_word_by_word_and_records_prompts():
    llm = FakeLLM(["Hello, how can I help?", "Second reply"])
    pieces = list(llm.stream(USER))
    assert pieces == ["Hello, ", "how ", "can ", "I ", "help?"]
    assert llm.complete(USER, GenerationConfig(max_tokens=1)) == "Second "
    assert [c[0] for c in llm.calls] == [USER, USER]
    assert llm.calls[1][1].max_tokens == 1
    assert llm.last_stats.completion_tokens == 1
    with pytest.raises(IndexError, match="script has 2 replies"):
        llm.complete(USER)


def test_fake_reply_as_function_and_stop_strings():
    llm = FakeLLM(lambda messages: f"you said {messages[-1].content} END and more")
    assert llm.complete(USER) == "you said hi there END and more"
    assert llm.complete(USER, GenerationConfig(stop=["END"])) == "you said hi there "
    llm.warm("fixed prompt")
    assert llm.warmed == ["fixed prompt"]


@pytest.mark.parametrize(
    ("pieces", "stop", "expected"),
    [
        (["ab", "c<", "/s", ">tail"], ["</s>"], "abc"),
        (["a<", "b"], ["</s>"], "a<b"),  # a held-back partial match that does not complete is released
        (["x", "y"], [], "xy"),
        (["one ST", "OP two"], ["STOP", "ONE"], "one "),
    ],
)
def test_stop_filter_never_leaks_a_stop_string(pieces, stop, expected):
    f = StopFilter(stop)
    out = "".join(f.feed(p) for p in pieces) + f.flush()
    assert out == expected
    assert out == cut_at_stop("".join(pieces), stop)[0]


def test_records_validate_input():
    with pytest.raises(ValidationError):
        ChatMessage(role="wizard", content="x")
    with pytest.raises(ValidationError):
        GenerationConfig(max_tokens=0)
    with pytest.raises(ValueError, match="must not be empty"):
        FakeLLM().complete([])


def test_json_instruction_goes_into_the_system_message():
    schema = {"type": "object", "properties": {"intent": {"type": "string"}}}
    out = with_json_instruction(USER, schema)
    assert out[0].role == "system" and out[0].content.startswith("You are a shop assistant.")
    assert json.dumps(schema) in out[0].content and out[1:] == USER[1:]
    assert with_json_instruction(USER[1:], schema)[0].role == "system"


def test_backend_selection_from_settings(monkeypatch):
    from retrieval.config import get_settings

    monkeypatch.setenv("AISLE_LLM_BACKEND", "fake")
    get_settings.cache_clear()
    set_llm(None)
    try:
        llm = get_llm()
        assert llm.name == "fake" and get_llm() is llm  # one instance per process
    finally:
        set_llm(None)
    with pytest.raises(ValueError, match="unknown LLM backend"):
        make_llm("nonsense")
    with pytest.raises(LLMUnavailable, match="AISLE_LLM_URL"):
        make_llm("openai")
    with pytest.raises(LLMUnavailable, match="AISLE_LLM_MODEL_DIR"):
        make_llm("transformers")
    with pytest.raises(LLMUnavailable, match="neither a known model"):
        make_llm("llama_cpp", model="/nonexistent/model.gguf")
