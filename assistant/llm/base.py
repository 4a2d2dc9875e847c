"""The one interface every language-model backend implements, and the records it speaks in."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LLMUnavailable(RuntimeError):
    """The model cannot answer: server down, timeout, model file missing or broken."""


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant", "tool"]
    content: str


class GenerationConfig(BaseModel):
    max_tokens: int = Field(256, ge=1, description="Upper bound on generated tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 = greedy, deterministic.")
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list, description="Stop before any of these strings.")
    json_schema: dict[str, Any] | None = Field(
        None,
        description="Constrain the output to JSON matching this schema where the backend can "
        "({} = any JSON object); otherwise it is given to the model as an instruction.",
    )
    seed: int = Field(0, description="Sampling seed, for reproducible runs with temperature > 0.")


class GenerationStats(BaseModel):
    """What the last call cost; token counts are None where a backend cannot tell."""

    prompt_tokens: int | None = None
    cached_prompt_tokens: int | None = Field(None, description="Prompt tokens not re-read (prefix cache).")
    completion_tokens: int | None = None
    ttft_s: float | None = Field(None, description="Seconds from the call to the first text piece.")
    total_s: float | None = None


class LLM(ABC):
    """A chat model. Implementations must be safe to call from several threads."""

    name: str = "llm"
    #: Filled in after each call (when its stream is exhausted).
    last_stats: GenerationStats | None = None

    @abstractmethod
    def stream(self, messages: list[ChatMessage], config: GenerationConfig | None = None) -> Iterator[str]:
        """Yield the reply's text in pieces as they are generated."""

    def complete(self, messages: list[ChatMessage], config: GenerationConfig | None = None) -> str:
        return "".join(self.stream(messages, config))

    def warm(self, system_prompt: str | list[ChatMessage]) -> None:  # noqa: B027 (optional hook)
        """Precompute and keep the model state for a fixed prompt prefix; a no-op where not possible."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Free the model or connection."""


def check_messages(messages: list[ChatMessage]) -> list[ChatMessage]:
    if not messages:
        raise ValueError("messages must not be empty")
    return [m if isinstance(m, ChatMessage) else ChatMessage.model_validate(m) for m in messages]


@lru_cache(maxsize=1)
def _json_instruction_template() -> str:
    return resources.files("assistant.llm").joinpath("data/json_instruction.txt").read_text(encoding="utf-8")


def with_json_instruction(messages: list[ChatMessage], schema: dict[str, Any]) -> list[ChatMessage]:
    """For backends that cannot constrain decoding: state the schema in the system message."""
    note = _json_instruction_template().format(schema=json.dumps(schema, ensure_ascii=False)).strip()
    if messages[0].role == "system":
        return [ChatMessage(role="system", content=f"{messages[0].content}\n\n{note}"), *messages[1:]]
    return [ChatMessage(role="system", content=note), *messages]


def cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Text before the earliest stop string, and whether one was found."""
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class StopFilter:
    """Streams pieces while holding back any tail that could be the start of a stop string."""

    def __init__(self, stop: list[str]):
        self.stop = [s for s in stop if s]
        self.buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.buffer += piece
        text, self.stopped = cut_at_stop(self.buffer, self.stop)
        if self.stopped:
            self.buffer = ""
            return text
        hold = max((k for s in self.stop for k in range(1, len(s)) if text.endswith(s[:k])), default=0)
        out, self.buffer = text[: len(text) - hold], text[len(text) - hold :]
        return out

    def flush(self) -> str:
        out, self.buffer = ("" if self.stopped else self.buffer), ""
        return out

    def filter(self, pieces: Iterable[str]) -> Iterator[str]:
        """The non-empty text of `pieces` up to the first stop string (stops reading there)."""
        for piece in pieces:
            if text := self.feed(piece):
                yield text
            if self.stopped:
                break
        if tail := self.flush():
            yield tail
