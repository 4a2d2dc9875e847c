"""Understanding a shopper's message: the message plus the signed-in customer's own data → what it means.

Two kinds of reader answer the same narrow questions ("which of these orders?", "which of these
items?", "which of these options?", "which action?") over options that are the customer's real ids:

- rules (`RuleReader`): code that reads ids, names, places, statuses and option words; it never
  guesses, so when several options fit it answers None and the flow asks the shopper with choices.
- llm: the language model picks among the options under a JSON schema whose enum is the option ids,
  so it cannot name an id that does not exist.
- hybrid: rules narrow the options; the model breaks a tie only among what the rules left.

`AISLE_READER` (rules | llm | hybrid) chooses; `make_reader` builds it.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field


class Option(BaseModel):
    """One thing the shopper may mean, named by its real id; `label` is what a person (or the model) reads."""

    id: str
    label: str = Field(description="e.g. '#W1234567 · delivered · Austin, TX · lamp, pet bed'")


class Reader(Protocol):
    name: str

    def pick(self, question: str, message: str, options: list[Option], many: bool = False) -> list[str] | None:
        """The ids of `options` the message means (one, or several when `many`); None = cannot tell,
        ask the shopper. Never returns an id that is not among `options`."""
        ...


class RuleReader:
    """Rules decide before a reader is asked; asked, they do not guess (the flow asks the shopper)."""

    name = "rules"

    def pick(self, question: str, message: str, options: list[Option], many: bool = False) -> list[str] | None:
        return [options[0].id] if len(options) == 1 else None


def make_reader(mode: str | None = None, llm=None) -> Reader:
    """The reader AISLE_READER names (default rules)."""
    from retrieval.config import get_settings

    mode = mode or get_settings().reader
    if mode == "rules":
        return RuleReader()
    raise ValueError(f"unknown reader {mode!r}: rules | llm | hybrid")
