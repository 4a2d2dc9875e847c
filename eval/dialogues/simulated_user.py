"""Simulated shoppers: scripted turns, a rule-based user that answers from known facts, an LLM-played user.

Every user has `opening()` and `reply(text, events) -> str | None` (None ends the conversation).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from assistant.state import AssistantEvent

from eval.dialogues.scenario import WRITE_TOOLS, Facts, LLMUser, RuleUser, ScriptedUser

DATA = Path(__file__).parent / "data"
STOP = "###STOP###"


@lru_cache(maxsize=1)
def _rules() -> dict:
    return yaml.safe_load((DATA / "user_rules.yaml").read_text(encoding="utf-8"))


def _order_key(order_id: str | None) -> str:
    return (order_id or "").strip().upper().lstrip("#")


class SimulatedUser(Protocol):
    def opening(self) -> str: ...

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None: ...


class ScriptedSim:
    """Says its turns in order whatever the assistant answers; stops when they run out."""

    def __init__(self, spec: ScriptedUser) -> None:
        self.turns = list(spec.turns)
        self.n = 0

    def opening(self) -> str:
        self.n = 1
        return self.turns[0]

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None:
        if self.n >= len(self.turns):
            return None
        self.n += 1
        return self.turns[self.n - 1]


class RuleSim:
    """Answers the assistant's questions from its facts; yes/no to proposals by rule; stops when done.

    It stops when its goal actions are all done, when it is handed off, when an action fails, or
    when it cannot tell what the assistant wants and has run out of ways to rephrase its request
    (`rephrase`, by default the opening once)."""

    def __init__(self, spec: RuleUser, lang: str = "en") -> None:
        self.spec = spec
        self.facts: Facts = spec.facts
        self.say = _rules()["replies"][lang]
        self.goal = list(spec.goal)
        self.given_orders: list[str] = []
        self.lost = 0
        self.asked: dict[str, int] = {}
        self.used: set[int] = set()  # if_asked answers already given

    def opening(self) -> str:
        return self.spec.opening

    def _matches(self, key: str, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in _rules()[key])

    def _ask(self, text: str) -> str | None:
        for kind, patterns in _rules()["asks"].items():
            if any(re.search(p, text, re.IGNORECASE) for p in patterns):
                return kind
        return None

    def _accepts(self, tool: str | None, arguments: dict) -> bool:
        if self.spec.confirm != "goal":
            return self.spec.confirm == "always"
        order = _order_key(arguments.get("order_id"))
        return any(g.tool == tool and (g.order_id is None or _order_key(g.order_id) == order) for g in self.goal)

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None:
        if any(e.kind == "handoff" for e in events):
            return None
        pending = next((e for e in events if e.kind == "pending"), None)
        if pending is not None:
            if not self._accepts(pending.tool, pending.arguments or {}):
                return self.say["no"]
            return self._if_asked(text) or self.say["yes"]
        done = [e for e in events if e.kind == "tool" and e.ok and e.tool and self._is_goal_tool(e)]
        if done or self._matches("done", text):
            for e in done:
                self._finish(e)
            if not self.goal or self.spec.confirm != "goal":
                return None
            return self._restate()
        if self._matches("failed", text):
            return None
        if said := self._if_asked(text):
            return said
        kind = self._ask(text)
        if kind is None:
            self.lost += 1
            alternatives = self.spec.rephrase or [self._restate()]
            return alternatives[self.lost - 1] if self.lost <= len(alternatives) else None
        self.lost = 0
        self.asked[kind] = self.asked.get(kind, 0) + 1
        if self.asked[kind] > 3:  # the same question again and again: the conversation is stuck
            return None
        return self._answer(kind, reply=text, events=events)

    def _if_asked(self, text: str) -> str | None:
        lowered = text.lower()
        for n, rule in enumerate(self.spec.if_asked):
            if n not in self.used and all(re.search(r"\b" + re.escape(w.lower()), lowered) for w in rule.words):
                self.used.add(n)
                return rule.say
        return None

    def _is_goal_tool(self, e: AssistantEvent) -> bool:
        return any(g.tool == e.tool for g in self.goal) or (not self.goal and e.tool in WRITE_TOOLS)

    def _finish(self, e: AssistantEvent) -> None:
        order = _order_key((e.arguments or {}).get("order_id"))
        for g in self.goal:
            if g.tool == e.tool and (g.order_id is None or _order_key(g.order_id) == order):
                self.goal.remove(g)
                return

    def _restate(self) -> str:
        # With several goal actions, name the next order so the assistant picks it up.
        nxt = next((g.order_id for g in self.goal if g.order_id), None)
        if nxt and nxt not in self.spec.opening:
            return f"Also, for order {nxt}: {self.spec.opening}"
        return self.spec.opening

    def _answer(self, kind: str, reply: str = "", events: list[AssistantEvent] = ()) -> str:
        """What the shopper says to a question of this kind; `reply` is the assistant's question."""
        f = self.facts
        if kind == "identity":
            name_zip = f.first_name and f.last_name and f.zip
            # Emails first, in turn; asked again (e.g. no email was found), name and zip if known.
            emails = [f.email, *f.other_emails] if f.email else []
            if emails and (self.asked[kind] <= len(emails) or not name_zip):
                return self.say["email"].format(email=emails[min(self.asked[kind], len(emails)) - 1])
            if name_zip:
                return self.say["name_zip"].format(first_name=f.first_name, last_name=f.last_name, zip=f.zip)
            return self.say["unknown"]
        if kind == "order":
            wanted = [g.order_id for g in self.goal if g.order_id] + f.order_ids
            for order_id in wanted:
                if order_id not in self.given_orders:
                    self.given_orders.append(order_id)
                    return self.say["order"].format(order_id=order_id)
            if wanted:
                return self.say["order"].format(order_id=wanted[0])
            return f.items or self.say["unknown"]  # no order id known: describe the items instead
        if kind == "payment" and self.asked[kind] > 1:
            # The methods offered: the reply's `choices` event (labels name them, ids are in the event)
            buttons = {c.label for e in events for c in e.choices if c.kind == "payment"}
            if len(buttons) == 1:  # what it asked for is not possible: take the one method offered (its button)
                return buttons.pop()
            offered = set(re.findall(r"\b(?:credit_card|paypal|gift_card)_\d+", reply))
            if len(offered) == 1:
                return self.say["take_offered"].format(method=offered.pop())
        text = {"cancel_reason": f.reason, "items": f.items, "options": f.options or f.items,
                "payment": f.payment, "address": f.address}[kind]  # fmt: skip
        return text or self.say["unknown"]


class LLMSim:
    """A shopper played by the LLM backend from its instructions; `###STOP###` ends the conversation."""

    def __init__(self, spec: LLMUser, llm, lang: str = "en") -> None:
        self.spec = spec
        self.llm = llm
        facts = {k: v for k, v in spec.facts.model_dump().items() if v}
        self.system = (DATA / "llm_user.md").read_text(encoding="utf-8").format(
            instructions=spec.instructions, facts=yaml.safe_dump(facts, allow_unicode=True) or "(none)",
            language="Chinese" if lang == "zh" else "English",
        )  # fmt: skip
        self.history: list[tuple[str, str]] = []

    def opening(self) -> str:
        self.history.append(("assistant", self.spec.opening))
        return self.spec.opening

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None:
        from assistant.llm import ChatMessage, GenerationConfig

        if any(e.kind == "handoff" for e in events):
            return None
        # Roles are swapped: to the model playing the shopper, the assistant's replies are the user's turns.
        self.history.append(("user", text.strip() or "(no reply)"))
        messages = [ChatMessage(role="system", content=self.system)]
        messages += [ChatMessage(role=r, content=c) for r, c in self.history]
        out = "".join(self.llm.stream(messages, GenerationConfig(max_tokens=120, temperature=0.0))).strip()
        if not out or STOP in out:
            return None
        self.history.append(("assistant", out))
        return out


def make_user(spec, lang: str = "en", llm=None) -> SimulatedUser:
    if isinstance(spec, ScriptedUser):
        return ScriptedSim(spec)
    if isinstance(spec, RuleUser):
        return RuleSim(spec, lang)
    if isinstance(spec, LLMUser):
        if llm is None:
            from assistant.llm import get_llm

            llm = get_llm()
        return LLMSim(spec, llm, lang)
    raise TypeError(f"unknown user kind: {type(spec).__name__}")
