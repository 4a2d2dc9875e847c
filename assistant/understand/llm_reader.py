"""The model as a reader: it picks among the options under a JSON schema whose enum is their ids.

The schema becomes a grammar (llama.cpp) or a `response_format` json_schema (OpenAI-compatible
servers), so the answer can only be one of the ids or "none"; the reply is still checked here, for
backends that can only be told the schema. The prompt's fixed part (`prompts/reader.md`) comes first
and is warmed once, so on llama.cpp each pick reads only the options and the message.

A pick has a time budget (`AISLE_READER_BUDGET_S`): reading a prompt cannot be interrupted once
started, so the reader keeps a running estimate of the model's seconds per prompt character (from
the warm-up and from every answer) and asks the shopper instead where the estimate exceeds it.
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from pathlib import Path

from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable
from assistant.understand import Option

log = logging.getLogger(__name__)
PROMPT = Path(__file__).resolve().parents[1] / "prompts" / "reader.md"
NONE = "none"


@lru_cache(maxsize=1)
def system_prompt() -> str:
    return PROMPT.read_text(encoding="utf-8").strip()


def schema(options: list[Option], many: bool) -> dict:
    ids = list(dict.fromkeys(o.id for o in options))
    if many:
        return {
            "type": "object",
            "properties": {"ids": {"type": "array", "items": {"type": "string", "enum": [*ids, NONE]},
                                   "minItems": 1, "maxItems": len(ids)}},  # fmt: skip
            "required": ["ids"],
        }
    return {"type": "object", "properties": {"id": {"type": "string", "enum": [*ids, NONE]}}, "required": ["id"]}


def user_prompt(question: str, message: str, options: list[Option], many: bool) -> str:
    listed = "\n".join(f"- {o.id}: {o.label}" for o in options)
    how = "one or several ids" if many else "one id"
    return f"QUESTION: {question} (answer with {how}, or none)\nOPTIONS:\n{listed}\nMESSAGE: {message}"


def parse(text: str, options: list[Option], many: bool) -> list[str] | None:
    """The ids the reply names, all among `options`; None for "none", garbage or an unknown id."""
    ids = {o.id for o in options}
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    picked = data.get("ids") if many else [data.get("id")]
    if many and picked is None and "id" in data:  # a backend that only heard the schema may answer the one-id shape
        picked = [data["id"]]
    if not isinstance(picked, list) or not picked or NONE in picked:
        return None
    if not all(isinstance(p, str) and p in ids for p in picked):
        return None
    picked = list(dict.fromkeys(picked))
    return picked if many or len(picked) == 1 else None


class LLMReader:
    """Asks the model which option(s) the message means; any failure is None (the flow asks the shopper)."""

    name = "llm"

    def __init__(self, llm, max_tokens: int = 64, timeout_s: float | None = None):
        self.llm = llm
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s  # None: no budget (the evaluation measures accuracy, not time)
        self._warmed = False
        self.last_ms: float | None = None
        self.s_per_char: float | None = None  # the model's prompt-reading speed, as last measured
        self.skipped = 0  # picks left to the shopper because the estimate was over budget
        self.wish_tokens = 160  # a new option's answer: one word or value per option, and the price
        self._wish_warmed = False
        self._last_wish: tuple | None = None  # (product id, item id, message, Wish)

    def warm(self) -> None:
        """Read the fixed prompt once (llama.cpp keeps its state); later picks read only their own part."""
        if not self._warmed:
            self._warmed = True
            start = time.perf_counter()
            try:
                self.llm.warm(system_prompt())
            except LLMUnavailable as exc:
                log.warning("reader: the model could not be warmed: %s", exc)
                return
            self._learn(time.perf_counter() - start, len(system_prompt()))

    def _learn(self, seconds: float, chars: int) -> None:
        # A moving average: the machine's load changes, so recent answers count most.
        if chars <= 0:
            return
        rate = seconds / chars
        self.s_per_char = rate if self.s_per_char is None else 0.5 * self.s_per_char + 0.5 * rate

    def over_budget(self, prompt: str) -> bool:
        """Whether reading `prompt` is expected to take longer than the budget."""
        return self.timeout_s is not None and self.s_per_char is not None and self.s_per_char * len(prompt) > self.timeout_s

    def _over(self, prompt: str) -> bool:
        """Over the budget: the shopper is asked. The estimate is only re-measured by asking the model, so it
        falls a little with each question left to the shopper (a burst of load does not switch the reader off)."""
        if not self.over_budget(prompt):
            return False
        self.s_per_char *= 0.8
        self.skipped += 1
        log.info("reader: ~%.1f s to read %d characters is over the %.1f s budget; asking the shopper",
                 self.s_per_char * len(prompt), len(prompt), self.timeout_s)
        return True

    def _answer(self, system: str, prompt: str, json_schema: dict, max_tokens: int) -> str | None:
        """The model's answer under `json_schema`, or None (unavailable, cannot answer, slower than the budget)."""
        messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=prompt)]
        config = GenerationConfig(max_tokens=max_tokens, temperature=0.0, json_schema=json_schema)
        start, first = time.perf_counter(), None
        pieces = []
        try:
            stream = self.llm.stream(messages, config)
            try:
                for piece in stream:
                    first = first or time.perf_counter()
                    pieces.append(piece)
                    # A slow model is as good as none: the shopper is asked instead (the prompt's own
                    # reading cannot be interrupted, so the bound is checked as the answer comes).
                    if self.timeout_s is not None and time.perf_counter() - start > self.timeout_s:
                        log.warning("reader: the model took over %.1f s; asking the shopper", self.timeout_s)
                        return None
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()
        except LLMUnavailable as exc:
            log.warning("reader: the model is unavailable: %s", exc)
            return None
        except ValueError as exc:  # a prompt too long for the context, a schema the backend cannot express
            log.warning("reader: the model cannot answer this: %s", exc)
            return None
        finally:
            self.last_ms = (time.perf_counter() - start) * 1000
            # This call's own time to the first piece (its lock wait included: that is what the shopper waits).
            if first is not None:
                self._learn(first - start, len(prompt))
        return "".join(pieces)

    def pick(self, question: str, message: str, options: list[Option], many: bool = False) -> list[str] | None:
        if not options:
            return None
        if len(options) == 1:
            return [options[0].id]
        self.warm()
        prompt = user_prompt(question, message, options, many)
        if self._over(prompt):
            return None
        text = self._answer(system_prompt(), prompt, schema(options, many), self.max_tokens)
        return None if text is None else parse(text, options, many)

    def read_wish(self, product, item: dict, message: str):
        """The model's `Wish` for the item's new option under the product's schema (llm_wish); None: failed, or
        over the time budget. The flow asks twice for one message (exactly, then at all): read once."""
        from assistant.understand import llm_wish

        key = (product.product_id, item["item_id"], message)
        if self._last_wish is not None and self._last_wish[:3] == key:
            return self._last_wish[3]
        self.warm()  # the budget's estimate of the model's speed
        if not self._wish_warmed:  # its fixed prompt read once, kept as a prefix of its own
            self._wish_warmed = True
            try:
                self.llm.warm(llm_wish.system_prompt())
            except LLMUnavailable as exc:
                log.warning("reader: the model could not be warmed: %s", exc)
        prompt = llm_wish.user_prompt(product, item, message)
        if self._over(prompt):
            return None
        text = self._answer(llm_wish.system_prompt(), prompt, llm_wish.schema(product, item), self.wish_tokens)
        wish = None if text is None else llm_wish.parse(text, item)
        self._last_wish = (*key, wish)
        return wish

    def variant(self, product, item: dict, message: str, exact: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
        """The new option the model's `Wish` asks for, decided by `wish.choose`; nothing read, the shopper chooses."""
        from assistant.understand.wish import Wish, choose

        return choose(product, item, self.read_wish(product, item, message) or Wish(), exact)
