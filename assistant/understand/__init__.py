"""Understanding a shopper's message: the message plus the signed-in customer's own data → what it means.

Three readers answer the same narrow questions ("which of these orders?", "which of these items?",
"which of these options?", "which action?") over options that are the customer's real ids:

- rules (`RuleReader`): scores each option by what the message says about it (its items' names,
  option values, city / state, status, price, position; `narrow.py`); a unique clear winner is the
  answer, a tie is None and the flow asks the shopper with choices. It never guesses.
- llm (`LLMReader`, `llm_reader.py`): the language model picks among the options under a JSON schema
  whose enum is the option ids plus "none", so it cannot name an id that does not exist.
- hybrid (`HybridReader`): rules narrow the options; the model breaks a tie only among what the
  rules left; a model that fails or is slow means None (ask the shopper).

`AISLE_READER` (rules | llm | hybrid) chooses; `make_reader` builds it. Measured by `aisle eval reader`.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field


class Option(BaseModel):
    """One thing the shopper may mean, named by its real id; `label` is what a person (or the model) reads.

    The optional facts are what the rule reader scores (`options.py` builds them from store records);
    an option with only a label is scored by the label's words."""

    id: str
    label: str = Field(description="the order id, status, city and state, item names and options, as one line")
    kind: str = Field("", description="order | item | option | payment | action | … (for the UI's buttons)")
    facts: dict[str, str] = Field(
        default_factory=dict,
        description="what the option is, by kind of fact: name (item names, '; '-separated), options "
        "(option values), status, city, state; any other key counts as plain words",
    )
    price: float | None = Field(None, description="its price or total, for '$49.99' and 'the cheaper one'")
    position: int | None = Field(None, description="order of placing, larger = later, for 'my last order'")


class Reader(Protocol):
    name: str

    def pick(self, question: str, message: str, options: list[Option], many: bool = False) -> list[str] | None:
        """The ids of `options` the message means (one, or several when `many`); None = cannot tell,
        ask the shopper. Never returns an id that is not among `options`."""
        ...

    def variant(self, product, item: dict, message: str, exact: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
        """The variant of `product` the message asks `item` to become (`wish.choose`'s answer: an item id, None with
        the choices for the shopper, or a verdict: rules.KEEP / SAME / UNMET) and the choices."""
        ...


class RuleReader:
    """Scores the options by what the message says about them; a tie is None (the flow asks the shopper)."""

    name = "rules"

    def __init__(self, margin: float = 0.25):
        self.margin = margin

    def narrow(self, message: str, options: list[Option], many: bool = False, question: str = ""):
        from assistant.understand.narrow import narrow

        return narrow(message, options, many=many, margin=self.margin, question=question)

    def pick(self, question: str, message: str, options: list[Option], many: bool = False) -> list[str] | None:
        return self.narrow(message, options, many, question).answer

    def variant(self, product, item: dict, message: str, exact: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
        """The new option for `item` the message asks for: the rules' `Wish`, then `wish.choose`."""
        from assistant.understand.wish import pick_variant

        return pick_variant(product, item, message, exact)


class HybridReader:
    """Rules first; the model only chooses among the options the rules left tied (and had evidence for)."""

    name = "hybrid"

    def __init__(self, llm, rules: RuleReader | None = None, timeout_s: float | None = None):
        from assistant.understand.llm_reader import LLMReader

        self.rules = rules or RuleReader()
        self.model = LLMReader(llm, timeout_s=timeout_s)

    def pick(self, question: str, message: str, options: list[Option], many: bool = False) -> list[str] | None:
        reading = self.rules.narrow(message, options, many, question)
        if not reading.tied:
            return reading.sure or None
        # No word of the message fits any option: the model would guess among all; ask the shopper instead.
        if len(reading.tied) == len(options) and not any(reading.scores.get(o.id, 0) > 0 for o in options):
            return None
        picked = self.model.pick(question, message, reading.tied, many)
        if picked is None:
            return None
        return list(dict.fromkeys([*reading.sure, *picked]))

    def variant(self, product, item: dict, message: str, exact: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
        """The rules' choice; where their reading chooses nothing at all, the model's reading of the same `Wish`
        under the product's schema, decided by the same `choose` (a verdict of the model's is not taken)."""
        from assistant.understand.wish import KEEP, SAME, UNMET, choose, read_wish

        rules_wish = read_wish(product, item, message)  # read once, chosen exactly and at all
        chosen, choices = choose(product, item, rules_wish, exact)
        if chosen is None and (not exact or choose(product, item, rules_wish)[0] is None):
            wish = self.model.read_wish(product, item, message)
            if wish is not None and (mine := choose(product, item, wish, exact)[0]) not in (None, KEEP, SAME, UNMET):
                return mine, choices
        return chosen, choices


def make_reader(mode: str | None = None, llm=None) -> Reader:
    """The reader AISLE_READER names (default rules); llm and hybrid need a model (`llm`, or the process's)."""
    from retrieval.config import get_settings

    settings = get_settings()
    mode = mode or settings.reader
    if mode == "rules":
        return RuleReader()
    if mode in ("llm", "hybrid"):
        if llm is None:
            from assistant.llm import get_llm

            llm = get_llm()
        if mode == "llm":
            from assistant.understand.llm_reader import LLMReader

            return LLMReader(llm, timeout_s=settings.reader_budget_s or None)
        return HybridReader(llm, timeout_s=settings.reader_budget_s or None)
    raise ValueError(f"unknown reader {mode!r}: rules | llm | hybrid")
