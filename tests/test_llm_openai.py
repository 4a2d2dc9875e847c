"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 that speaks the protocol.

The server is a small FastAPI app over the fake model: it streams server-sent events the way
vLLM / llama.cpp's server do, reports usage, and can be told to be slow or to reject
`response_format`, as some servers do.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable, make_llm
from assistant.llm.fake import FakeLLM
from assistant.llm.openai_backend import OpenAICompatibleLLM
from eval.stack import free_port

MESSAGES = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="red shoes")]


def _protocol_app(state: dict) -> FastAPI:
    app = FastAPI()
    model = FakeLLM(lambda messages: f"Looking for {messages[-1].content} now.")

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        state["requests"].append(body)
        if state.get("reject_response_format") and "response_format" in body:
            return JSONResponse({"error": {"message": "response_format not supported"}}, status_code=400)
        messages = [ChatMessage(**m) for m in body["messages"]]
        config = GenerationConfig(max_tokens=body.get("max_tokens", 256), stop=body.get("stop") or [])
        pieces = list(model.stream(messages, config))
        usage = {"prompt_tokens": 7, "completion_tokens": len(pieces), "total_tokens": 7 + len(pieces)}

        def events():
            for piece in pieces:
                time.sleep(state.get("delay_s", 0.0))
                chunk = {"object": "chat.completion.chunk", "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            yield f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def server():
    state: dict = {"requests": []}
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(_protocol_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/v1", state
    srv.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _reset(server):
    _, state = server
    state.update(requests=[], delay_s=0.0, reject_response_format=False)


def test_streams_pieces_and_reports_usage(server):
    url, state = server
    llm = OpenAICompatibleLLM(url, api_key="secret")
    pieces = list(llm.stream(MESSAGES, GenerationConfig(max_tokens=50, stop=["now"])))
    assert pieces == ["Looking ", "for ", "red ", "shoes "]
    assert llm.model == "fake-model"  # asked the server, since none was configured
    sent = state["requests"][-1]
    assert sent["stream"] is True and sent["stop"] == ["now"] and sent["max_tokens"] == 50
    assert sent["messages"] == [m.model_dump() for m in MESSAGES]
    assert llm.last_stats.prompt_tokens == 7 and llm.last_stats.completion_tokens == 4
    assert llm.complete(MESSAGES) == "Looking for red shoes now."


def test_settings_build_the_backend(server, monkeypatch):
    from retrieval.config import get_settings

    url, state = server
    monkeypatch.setenv("AISLE_LLM_URL", url)
    monkeypatch.setenv("AISLE_LLM_SERVER_MODEL", "qwen-on-vllm")
    get_settings.cache_clear()
    llm = make_llm("openai")
    assert llm.complete(MESSAGES).startswith("Looking for")
    assert state["requests"][-1]["model"] == "qwen-on-vllm"


def test_json_schema_goes_as_response_format_or_else_as_instruction(server):
    url, state = server
    schema = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
    llm = OpenAICompatibleLLM(url, model="m")
    llm.complete(MESSAGES, GenerationConfig(json_schema=schema))
    assert state["requests"][-1]["response_format"]["json_schema"]["schema"] == schema
    llm.complete(MESSAGES, GenerationConfig(json_schema={}))
    assert state["requests"][-1]["response_format"] == {"type": "json_object"}

    state["reject_response_format"] = True
    assert llm.complete(MESSAGES, GenerationConfig(json_schema=schema)).startswith("Looking for")
    retry = state["requests"][-1]
    assert "response_format" not in retry and json.dumps(schema) in retry["messages"][0]["content"]


def test_server_down_raises_llm_unavailable():
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{free_port()}/v1", model="m", timeout_s=2)
    with pytest.raises(LLMUnavailable, match="unreachable|failed"):
        llm.complete(MESSAGES)
    unnamed = OpenAICompatibleLLM(f"http://127.0.0.1:{free_port()}/v1", timeout_s=2)
    with pytest.raises(LLMUnavailable, match="unreachable"):
        unnamed.complete(MESSAGES)


def test_slow_server_times_out(server):
    url, state = server
    state["delay_s"] = 1.0
    llm = OpenAICompatibleLLM(url, model="m", timeout_s=0.3)
    with pytest.raises(LLMUnavailable, match="timed out"):
        llm.complete(MESSAGES)


def test_url_without_scheme_is_refused():
    with pytest.raises(ValueError, match="http"):
        OpenAICompatibleLLM("localhost:8000")
