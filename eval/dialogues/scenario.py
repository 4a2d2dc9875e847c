"""The scenario format: one conversation to play against the assistant and what must hold afterwards.

This schema is stable and documented in docs/scenario-format.md; scenarios are JSON or YAML files
(one scenario, a list of them, or `{"scenarios": [...]}`). Extra keys are refused so typos surface.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

WRITE_TOOLS = frozenset({
    "cancel_pending_order", "modify_pending_order_address", "modify_pending_order_payment",
    "modify_pending_order_items", "return_delivered_order_items", "exchange_delivered_order_items",
    "update_default_address",
})  # fmt: skip
# Kinds of action a shopper can ask for without knowing how the shop names its tools: a goal may
# name a kind instead of a tool ("change-items" is an exchange or a modification, by the order's status).
GOAL_KINDS = {
    "cancel": {"cancel_pending_order"},
    "return": {"return_delivered_order_items"},
    "refund": {"cancel_pending_order", "return_delivered_order_items"},
    "change-items": {"exchange_delivered_order_items", "modify_pending_order_items"},
    "address": {"modify_pending_order_address", "update_default_address"},
    "payment": {"modify_pending_order_payment"},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Facts(_Model):
    """What a simulated shopper knows and gives when asked. Text fields are said verbatim."""

    email: str | None = None
    other_emails: list[str] = Field(default_factory=list, description="Tried in turn when the email is not found.")
    first_name: str | None = None
    last_name: str | None = None
    zip: str | None = None
    order_ids: list[str] = Field(default_factory=list)
    items: str | None = Field(default=None, description="Which items, in the shopper's words.")
    options: str | None = Field(default=None, description="What the items should become.")
    payment: str | None = Field(default=None, description="Which payment method, in the shopper's words.")
    reason: str | None = Field(default=None, description="Why (e.g. a cancellation reason).")
    address: str | None = Field(default=None, description="A new address, written out.")


class IfAsked(_Model):
    """Said once, the first time every one of `words` appears in an assistant reply (before any
    other rule, and instead of yes to a proposal the shopper accepts)."""

    words: list[str] = Field(min_length=1, description="Lower-case word beginnings, e.g. ['confirm'] or ['which', 'vacuum'].")
    say: str = Field(min_length=1)


class GoalAction(_Model):
    """An action the shopper wants; a proposed action is accepted only if it fits one of these."""

    tool: str = Field(description="A tool name, or a kind of action: " + ", ".join(GOAL_KINDS) + ".")
    order_id: str | None = None
    say: str | None = Field(default=None, description="How the shopper brings it up when it is still to do.")
    fallback: bool = Field(default=False, description="Accepted if proposed (\"if that is not possible, cancel\"), "
                           "never brought up; once one is done, the request is settled.")

    def fits(self, tool: str | None, order_id: str | None = None) -> bool:
        """Whether a call of `tool` on `order_id` (None: any order) is this action."""
        if tool not in GOAL_KINDS.get(self.tool, {self.tool}):
            return False
        return order_id is None or self.order_id is None or _order_key(self.order_id) == _order_key(order_id)


def _order_key(order_id: str | None) -> str:
    return (order_id or "").strip().upper().lstrip("#")


class ScriptedUser(_Model):
    kind: Literal["scripted"] = "scripted"
    turns: list[str] = Field(min_length=1)


class RuleUser(_Model):
    """Opens with `opening`, answers the assistant's questions from `facts`, confirms by rule."""

    kind: Literal["rule"] = "rule"
    opening: str = Field(min_length=1)
    facts: Facts = Field(default_factory=Facts)
    goal: list[GoalAction] = Field(
        default_factory=list,
        description="What the shopper wants. For τ tasks read from the instruction text alone (tau.goals_from_text), "
        "never from the ground-truth actions.",
    )
    rephrase: list[str] = Field(
        default_factory=list, description="Said in turn when the assistant does not understand; default: the opening once."
    )
    requests: list[str] = Field(
        default_factory=list, description="Its other requests, in order: said one at a time when the assistant has done "
        "one, asks what else, or refuses one; it does not end the conversation while one is unsaid.",
    )  # fmt: skip
    fallbacks: list[str] = Field(
        default_factory=list, description="What it asks for instead if a request is not possible (\"if X is not "
        "possible, Y\"): said once each, after the assistant refuses something.",
    )  # fmt: skip
    confirm: Literal["goal", "always", "never"] = Field(
        default="goal", description="goal: yes only to a proposal matching a goal action."
    )
    if_asked: list[IfAsked] = Field(default_factory=list, description="Conditional answers, e.g. a change of mind at confirmation.")
    instructions: str | None = Field(
        default=None, description="The shopper's own instructions: a proposal naming items, an order, a payment "
        "method or an address they do not mention is declined, saying what is wrong.",
    )  # fmt: skip


class LLMUser(_Model):
    """A shopper played by the configured LLM backend, from instructions in the second person."""

    kind: Literal["llm"] = "llm"
    opening: str = Field(min_length=1)
    instructions: str = Field(min_length=1)
    facts: Facts = Field(default_factory=Facts)


UserSpec = Annotated[ScriptedUser | RuleUser | LLMUser, Field(discriminator="kind")]


class Action(_Model):
    """A state-changing call with Aisle's tool name and arguments, made as `user_id`."""

    name: str
    arguments: dict = Field(default_factory=dict)
    user_id: str | None = Field(default=None, description="Needed for write actions replayed on the store.")


class ToolCall(_Model):
    """An expected tool call: `arguments` must be contained in the actual call's arguments."""

    name: str
    arguments: dict = Field(default_factory=dict)


class Expectations(_Model):
    actions: list[Action] | None = Field(
        default=None,
        description="Ground-truth write actions. Replayed on a fresh store they give the expected final state; "
        "[] means the store must not change; null means the state is not checked.",
    )
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_calls_required: bool = Field(default=True, description="Fail the run when an expected call is missing.")
    forbidden_tools: list[str] = Field(default_factory=list)
    must_include: list[str] = Field(default_factory=list, description="Each must appear in some reply (case-insensitive).")
    must_include_any: list[str] = Field(default_factory=list, description="At least one must appear in some reply.")
    must_not_include: list[str] = Field(default_factory=list, description="None may appear in any reply.")
    handoff: bool | None = Field(default=None, description="true: must hand off; false: must not; null: either.")
    max_turns: int = Field(default=12, ge=1, le=60, description="Shopper messages allowed.")


class Scenario(_Model):
    id: str = Field(min_length=1)
    title: str = ""
    category: str = "other"
    lang: Literal["en", "zh"] = "en"
    store: Literal["demo"] = Field(default="demo", description="The starting store; only the demo store for now.")
    user: UserSpec
    expect: Expectations = Field(default_factory=Expectations)
    source: str = Field(default="aisle", description="Where the scenario came from, e.g. 'tau2:train:12'.")


class ScenarioError(ValueError):
    """A scenario file that cannot be read or does not follow the format."""


def load_scenarios(path: Path) -> list[Scenario]:
    """Scenarios from a JSON/YAML file or from every such file under a folder (sorted by path)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".yaml", ".yml"))
        if not files:
            raise ScenarioError(f"{path}: no .json/.yaml scenario files")
    elif path.is_file():
        files = [path]
    else:
        raise ScenarioError(f"{path}: no such file or folder")
    scenarios: list[Scenario] = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if f.suffix == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ScenarioError(f"{f}: not valid {f.suffix[1:].upper()}: {exc}") from exc
        items = data.get("scenarios", [data]) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ScenarioError(f"{f}: expected a scenario, a list of scenarios or {{'scenarios': [...]}}")
        for n, item in enumerate(items):
            try:
                scenarios.append(Scenario.model_validate(item))
            except ValidationError as exc:
                raise ScenarioError(f"{f}: scenario #{n + 1}: {exc}") from exc
    ids = [s.id for s in scenarios]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ScenarioError(f"{path}: duplicate scenario ids: {', '.join(dupes)}")
    return scenarios
