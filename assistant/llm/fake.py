"""A deterministic stand-in model for testing the parts that call a model (never used to answer shoppers)."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator

from assistant.llm.base import LLM, ChatMessage, GenerationConfig, GenerationStats, StopFilter, check_messages

Script = list[str] | Callable[[list[ChatMessage]], str]


class FakeLLM(LLM):
    """Replies from a script: canned outputs in turn, or a function of the messages.

    Streams word by word (one piece per word with its trailing space, counted as one token), honours
    `max_tokens` and `stop`, and records every call in `calls` as (messages, config).
    """

    name = "fake"

    def __init__(self, script: Script | None = None, delay_s: float = 0.0):
        self.script: Script = script if script is not None else (lambda messages: f"echo: {messages[-1].content}")
        self.delay_s = delay_s
        self.calls: list[tuple[list[ChatMessage], GenerationConfig]] = []
        self.warmed: list[str | list[ChatMessage]] = []
        self._turn = 0
        self._lock = threading.Lock()

    def _reply(self, messages: list[ChatMessage]) -> str:
        if callable(self.script):
            return self.script(messages)
        if self._turn >= len(self.script):
            raise IndexError(f"FakeLLM script has {len(self.script)} replies; call {self._turn + 1} asked for another")
        reply = self.script[self._turn]
        self._turn += 1
        return reply

    def stream(self, messages: list[ChatMessage], config: GenerationConfig | None = None) -> Iterator[str]:
        messages, config = check_messages(messages), config or GenerationConfig()
        start = time.perf_counter()
        with self._lock:
            self.calls.append((messages, config))
            reply = self._reply(messages)
        words = re.findall(r"\S+\s*|\s+", reply)[: config.max_tokens]
        first, consumed = None, itertools.count()

        def paced() -> Iterator[str]:
            for word in words:
                if self.delay_s:
                    time.sleep(self.delay_s)
                next(consumed)
                yield word

        for piece in StopFilter(config.stop).filter(paced()):
            first = first or time.perf_counter()
            yield piece
        n = next(consumed)  # words read, one token each
        end = time.perf_counter()
        self.last_stats = GenerationStats(
            prompt_tokens=sum(len(m.content.split()) for m in messages),
            cached_prompt_tokens=0,
            completion_tokens=n,
            ttft_s=(first or end) - start,
            total_s=end - start,
        )

    def warm(self, system_prompt: str | list[ChatMessage]) -> None:
        self.warmed.append(system_prompt)
