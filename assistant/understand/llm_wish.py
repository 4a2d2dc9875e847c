"""The model as a wish reader: it fills the same typed `Wish` the rules read, under a JSON schema whose
enums are the product's own option values, so it cannot name a value the product does not have.

Per option the answer is one of: "not said", "keep" (said to stay), "any" (left to the shop), one of
the product's values of it, "more" / "less" (than now), "most" / "least" (the highest / lowest there is);
and for the price "any", "cheapest" or "most expensive". `to_wish` maps that onto `Wish`, and
`wish.choose` decides as it does for the rules' reading. `LLMReader.read_wish` asks (with the reader's
time budget); the fixed prompt (`prompts/wish.md`) comes first, so llama.cpp keeps its state and each
reading reads only the item and the message.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from assistant.understand.wish import Wish

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


def parse(text: str, item: dict) -> Wish | None:
    """The `Wish` the model's reply states; None for garbage or an answer outside the schema."""
    try:
        answer = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
    return to_wish(answer, item) if isinstance(answer, dict) else None
