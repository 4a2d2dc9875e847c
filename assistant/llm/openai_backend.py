"""Any OpenAI-compatible chat server (vLLM, llama.cpp's server, Ollama, …) by URL.

Plain httpx rather than the `openai` package: one endpoint and its server-sent events are all we
need, httpx is already a dependency, and the errors map directly onto `LLMUnavailable`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from assistant.llm.base import (
    LLM,
    ChatMessage,
    GenerationConfig,
    GenerationStats,
    LLMUnavailable,
    check_messages,
    with_json_instruction,
)


# A server restarting or briefly overloaded refuses connections or answers 502/503/504: try again
# a few times, quickly. A server that accepted the request but stalls is not retried: the read
# timeout (AISLE_LLM_TIMEOUT_S) already waited once, and the shopper gets the no-model reply.
RETRY_STATUS = (502, 503, 504)


class _Retryable(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


_retry_connect = retry(
    retry=retry_if_exception_type((httpx.ConnectError, httpx.ConnectTimeout, _Retryable)),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.2, max=2.0),
    reraise=True,
)


RESPONSE_FORMATS = ("json_schema", "json_object", "prompt")


class OpenAICompatibleLLM(LLM):
    """`base_url` is the API root, e.g. http://127.0.0.1:8000/v1 (the part before /chat/completions)."""

    name = "openai"

    def __init__(self, base_url: str, api_key: str | None = None, model: str | None = None, timeout_s: float = 60.0):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the LLM server URL must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # The read timeout bounds the wait for each next piece, so a long answer is fine but a stuck server is not.
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout_s))
        self._model = model
        self._model_lock = threading.Lock()
        # How a JSON schema is sent: OpenAI's / vLLM's `json_schema`, then llama.cpp's server's `json_object` +
        # `schema`, then as an instruction in the prompt; a server that rejects one shape gets the next.
        self._formats = list(RESPONSE_FORMATS)

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return _retry_connect(self._client.request)(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"LLM server {self.base_url} timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise LLMUnavailable(f"LLM server {self.base_url} is unreachable: {exc}") from exc

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.status_code >= 400:
            body = response.read().decode("utf-8", "replace")[:300]
            raise LLMUnavailable(f"LLM server answered HTTP {response.status_code}: {body}")

    @property
    def model(self) -> str:
        """The configured model name, or else the first one the server lists."""
        with self._model_lock:
            if self._model is None:
                response = self._call("GET", "/models")
                self._check(response)
                models = response.json().get("data") or []
                if not models:
                    raise LLMUnavailable(f"LLM server {self.base_url} lists no models; set AISLE_LLM_SERVER_MODEL")
                self._model = models[0]["id"]
            return self._model

    def _payload(self, messages: list[ChatMessage], config: GenerationConfig, shape: str) -> dict[str, Any]:
        schema = config.json_schema
        if schema is not None and shape == "prompt":
            messages = with_json_instruction(messages, schema)
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in messages],
            "max_tokens": config.max_tokens,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "seed": config.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if config.stop:
            payload["stop"] = config.stop
        if schema is not None and shape != "prompt":
            payload["response_format"] = (
                {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}
                if schema and shape == "json_schema"
                else {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
            )
        return payload

    def stream(self, messages: list[ChatMessage], config: GenerationConfig | None = None) -> Iterator[str]:
        messages, config = check_messages(messages), config or GenerationConfig()
        start = time.perf_counter()
        shape = self._formats[0]
        request = self._client.build_request(
            "POST", "/chat/completions", json=self._payload(messages, config, shape)
        )
        try:
            try:
                response = _retry_connect(self._send)(request)
            except _Retryable as exc:  # still 502/503/504 after the retries
                raise LLMUnavailable(f"LLM server {self.base_url} answered HTTP {exc.response.status_code}") from exc
            try:
                rejected = response.status_code in (400, 422) or (  # llama.cpp's server says 500 for a shape it lacks
                    response.status_code == 500 and "response_format" in response.read().decode("utf-8", "replace"))
                if rejected and shape != "prompt" and config.json_schema is not None:
                    # This server knows another `response_format` shape, or none: try the next one.
                    if self._formats[0] == shape:
                        self._formats.pop(0)
                    response.close()
                    yield from self.stream(messages, config)
                    return
                self._check(response)
                first, usage, pieces = None, None, 0
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    event = json.loads(data)
                    usage = event.get("usage") or usage
                    for choice in event.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            first = first or time.perf_counter()
                            pieces += 1
                            yield text
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"LLM server {self.base_url} timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise LLMUnavailable(f"LLM server {self.base_url} failed: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise LLMUnavailable(f"LLM server {self.base_url} sent a malformed event: {exc}") from exc
        end = time.perf_counter()
        usage = usage or {}
        details = usage.get("prompt_tokens_details") or {}
        self.last_stats = GenerationStats(
            prompt_tokens=usage.get("prompt_tokens"),
            cached_prompt_tokens=details.get("cached_tokens"),
            completion_tokens=usage.get("completion_tokens", pieces),
            ttft_s=(first or end) - start,
            total_s=end - start,
        )

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self._client.send(request, stream=True)
        if response.status_code in RETRY_STATUS:
            response.close()
            raise _Retryable(response)
        return response

    def close(self) -> None:
        self._client.close()
