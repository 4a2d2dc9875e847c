"""The model as a wish reader: it fills the same typed `Wish` the rules read, under a JSON schema whose
enums are the product's own option values, so it cannot name a value the product does not have.

Per option the answer is one of: "not said", "keep" (said to stay), "any" (left to the shop), one of
the product's values of it, "more" / "less" (than now), "most" / "least" (the highest / lowest there is);
and for the price "any", "cheapest" or "most expensive". `to_wish` maps that onto `Wish`, and
`wish.choose` decides as it does for the rules' reading. The fixed prompt (`prompts/wish.md`) comes
first, so llama.cpp keeps its state and each reading reads only the item and the message.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable
from assistant.understand.wish import Wish

log = logging.getLogger(__name__)
PROMPT = Path(__file__).resolve().parents[1] / "prompts" / "wish.md"
WORDS = ("not said", "keep", "any", "more", "less", "most", "least")
PRICES = ("any", "cheapest", "most expensive")


@lru_cache(maxsize=1)
def system_prompt() -> str:
    return PROMPT.read_text(encoding="utf-8").strip()


def _values(product, key: str) -> list[str]:
    return sorted({str(v.options[key]).lower() for v in product.variants if key in v.options})


def schema(product, item: dict) -> dict:
    """One property per option of the item (its words, then its values), and the price."""
    props = {k: {"type": "string", "enum": [*WORDS, *(v for v in _values(product, k) if v not in WORDS)]} for k in item["options"]}
    props["price"] = {"type": "string", "enum": list(PRICES)}
    return {"type": "object", "properties": props, "required": list(props)}


def user_prompt(product, item: dict, message: str) -> str:
    now = ", ".join(f"{k} {v}" for k, v in item["options"].items())
    listed = "\n".join(f"- {k}: {', '.join(_values(product, k))}" for k in item["options"])
    return f"ITEM: {product.name}, now: {now}\nOPTIONS:\n{listed}\nMESSAGE: {message}"


def to_wish(answer: dict, item: dict) -> Wish | None:
    """The `Wish` an answer states; None for an answer outside the schema (a backend that only heard it)."""
    current = {k: str(v).lower() for k, v in item["options"].items()}
    wish = Wish()
    for key, now in current.items():
        said = answer.get(key)
        if not isinstance(said, str):
            return None
        said = said.lower()
        if said == now:  # the value it has: no change asked, as "not said" (a hard keep only when said so)
            continue
        if said == "keep":
            wish.kept.add(key)
        elif said in ("any", "more", "less", "most", "least"):
            wish.asked.add(key)
            if said in ("more", "less"):
                wish.comparatives.append((1 if said == "more" else -1, (key,)))
            elif said in ("most", "least"):
                wish.extremes.append((key, 1 if said == "most" else -1))
        elif said != "not said":
            wish.asked.add(key)
            wish.wanted[key] = {said}
            wish.named[key] = {said}
    price = answer.get("price", "any")
    wish.price = {"cheapest": -1, "most expensive": 1}.get(price) if isinstance(price, str) else None
    return wish


class LLMWishReader:
    """Asks the model what the message wants of the item; any failure is None (the flow asks the shopper)."""

    def __init__(self, llm, max_tokens: int = 160):
        self.llm = llm
        self.max_tokens = max_tokens
        self._warmed = False
        self.last_ms: float | None = None

    def warm(self) -> None:
        if not self._warmed:
            self._warmed = True
            try:
                self.llm.warm(system_prompt())
            except LLMUnavailable as exc:
                log.warning("wish reader: the model could not be warmed: %s", exc)

    def read(self, product, item: dict, message: str) -> Wish | None:
        import time

        self.warm()
        messages = [ChatMessage(role="system", content=system_prompt()),
                    ChatMessage(role="user", content=user_prompt(product, item, message))]
        config = GenerationConfig(max_tokens=self.max_tokens, temperature=0.0, json_schema=schema(product, item))
        start = time.perf_counter()
        try:
            text = self.llm.complete(messages, config)
        except LLMUnavailable as exc:
            log.warning("wish reader: the model is unavailable: %s", exc)
            return None
        except ValueError as exc:  # a prompt too long for the context, a schema the backend cannot express
            log.warning("wish reader: the model cannot answer this: %s", exc)
            return None
        finally:
            self.last_ms = (time.perf_counter() - start) * 1000
        try:
            answer = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            return None
        return to_wish(answer, item) if isinstance(answer, dict) else None
