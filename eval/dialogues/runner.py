"""Plays scenarios against the assistant: a fresh copy of the store per run, K runs, timing per turn.

For each run: copy the base store to a temp SQLite file, build an Assistant on it, let the
simulated user talk until it stops or the turn limit, then judge the run (state, tool calls,
content, hand-off) and find the first point where it went wrong.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import tempfile
import time
import traceback
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import make_url
from tqdm import tqdm

from assistant.state import AssistantEvent, DialogueState
from retrieval.store import Store

from eval.dialogues.scenario import WRITE_TOOLS, Scenario, ToolCall
from eval.dialogues.simulated_user import make_user
from eval.dialogues.state_diff import FieldDiff, ReplayError, diff, replay, snapshot

log = logging.getLogger(__name__)
MAX_DIFFS = 20


class CallRecord(BaseModel):
    name: str
    arguments: dict = Field(default_factory=dict)
    ok: bool | None = None


class TurnRecord(BaseModel):
    user: str
    reply: str
    calls: list[CallRecord] = Field(default_factory=list)
    proposed: CallRecord | None = None
    handoff: bool = False
    seconds: float


class RunResult(BaseModel):
    scenario_id: str
    category: str
    lang: str
    run: int
    passed: bool
    failures: list[str] = Field(default_factory=list)
    divergence: str | None = None
    turns: list[TurnRecord] = Field(default_factory=list)
    state_checked: bool = False
    state_match: bool | None = None
    state_diffs: list[FieldDiff] = Field(default_factory=list)
    tool_precision: float | None = None
    tool_recall: float | None = None
    error: str | None = None
    seconds: float = 0.0
    mode: str | None = Field(default=None, description="A failed run's kind of failure, from expected and made "
                             "calls only (FAILURE_MODES): countable on held-out sets without reading them.")


# A failed run's kind, checked in this order; each names what happened to the actions, never the task's content.
FAILURE_MODES = {
    "crashed": "the assistant raised an error",
    "no replay": "the ground truth does not replay on the demo store",
    "nothing proposed": "an action was expected; none was proposed or made",
    "proposed, not done": "the expected kind of action was proposed but never carried out",
    "other action": "actions were made, none of the kind expected (e.g. a cancel for an item change)",
    "action not expected": "the store had to stay unchanged; an action was made",
    "wrong arguments": "the expected kinds of action were made, with other orders, items or options",
    "partly done": "some expected actions were made, others not",
    "extra action": "every expected action was made, and another besides",
    "hand-off": "handed off when it should not, or not when it should",
    "reply": "the actions were right; a reply missed what it had to say",
    "turn limit": "the shopper was still talking at the turn limit",
    "other": "none of the above",
}


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower().lstrip("#")
    if isinstance(value, list):
        return sorted((_norm(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 2)
    return value


def call_matches(expected: ToolCall, actual: CallRecord) -> bool:
    """Same tool, and every expected argument equal (strings case-folded, '#' ignored, lists as sets)."""
    if expected.name != actual.name or actual.ok is False:
        return False
    return all(k in actual.arguments and _norm(actual.arguments[k]) == _norm(v) for k, v in expected.arguments.items())


def score_calls(expected: list[ToolCall], actual: list[CallRecord]) -> tuple[float | None, float | None, list[ToolCall]]:
    """Precision over the consequential calls (writes, hand-offs, and tools the scenario names), recall
    over the expected ones; also the expected calls that never happened."""
    scored_names = {e.name for e in expected} | WRITE_TOOLS | {"transfer_to_human"}
    scored = [a for a in actual if a.name in scored_names and a.ok is not False]
    used: set[int] = set()
    missing = []
    for e in expected:
        hit = next((i for i, a in enumerate(scored) if i not in used and call_matches(e, a)), None)
        if hit is None:
            missing.append(e)
        else:
            used.add(hit)
    # No consequential call at all: precision is undefined, unless calls were expected (then 0).
    precision = len(used) / len(scored) if scored else (0.0 if expected else None)
    recall = len(used) / len(expected) if expected else None
    return precision, recall, missing


class DialogueRunner:
    """Runs scenarios on fresh copies of `base`; expected states are computed once per scenario."""

    def __init__(self, base: Store, work_dir: Path | None = None, llm=None, classifier=None,
                 services: dict | None = None, user_llm=None, agent: str = "code") -> None:  # fmt: skip
        self.base = base
        self._tmp = None if work_dir else tempfile.TemporaryDirectory(prefix="aisle-dialogues-")
        self.work_dir = Path(work_dir or self._tmp.name)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.llm = llm
        self.classifier = classifier
        self.services = services if services is not None else {}
        self.user_llm = user_llm
        self.agent = agent  # code | tools (assistant/tool_agent/)
        self._start: dict | None = None
        self._expected: dict[str, dict | ReplayError | None] = {}

    def fresh_store(self) -> Store:
        """An independent copy of the base store in the work dir (the caller drops it)."""
        target = self.work_dir / f"{uuid.uuid4().hex}.db"
        source = make_url(self.base.url)
        if source.get_backend_name() == "sqlite" and source.database not in (None, "", ":memory:"):
            # SQLite's online backup copies the file page by page: ~10× faster than Store.copy_to's row copy.
            with closing(sqlite3.connect(source.database)) as src, closing(sqlite3.connect(target)) as dst:
                src.backup(dst)
            return Store(f"sqlite:///{target}", self.base.data_dir)
        return self.base.copy_to(f"sqlite:///{target}")

    def start_state(self) -> dict:
        if self._start is None:
            self._start = snapshot(self.base)
        return self._start

    def expected_state(self, scenario: Scenario) -> dict | ReplayError | None:
        """The state a correct conversation leaves: start + replayed ground-truth actions (None: unchecked)."""
        actions = scenario.expect.actions
        if actions is None:
            return None
        if not any(a.name in WRITE_TOOLS for a in actions):
            return self.start_state()
        key = json.dumps([a.model_dump() for a in actions], sort_keys=True)
        if key not in self._expected:
            store = self.fresh_store()
            try:
                replay(store, actions)
                self._expected[key] = snapshot(store)
            except ReplayError as exc:
                self._expected[key] = exc
            finally:
                store.drop()
        return self._expected[key]

    def run(self, scenario: Scenario, run: int = 0) -> RunResult:
        expected = self.expected_state(scenario)
        result = RunResult(scenario_id=scenario.id, category=scenario.category, lang=scenario.lang, run=run, passed=False)
        replay_error = None
        if isinstance(expected, ReplayError):  # a failed run, still played so that its transcript shows
            replay_error, expected = f"ground truth does not replay: {expected}", None
        started = time.perf_counter()
        store = self.fresh_store()
        try:
            self._converse(scenario, store, result)
            if expected is not None:
                result.state_checked = True
                diffs = diff(expected, snapshot(store))
                result.state_match = not diffs
                result.state_diffs = diffs[:MAX_DIFFS]
        except Exception as exc:  # a crash in the agent is a failed run, with its traceback
            result.error = "".join(traceback.format_exception_only(exc)).strip()
            log.debug("run crashed", exc_info=True)
            result.failures.append(f"error: {result.error}")
            result.divergence = f"turn {len(result.turns) + 1}: the assistant raised {result.error}"
        finally:
            store.drop()
        result.seconds = round(time.perf_counter() - started, 3)
        if replay_error is not None and result.error is None:
            result.error = replay_error
            result.failures.append(replay_error)
        if result.error is None:
            judge(scenario, result)
        else:
            result.mode = "no replay" if replay_error is not None and result.error == replay_error else "crashed"
        return result

    def _converse(self, scenario: Scenario, store: Store, result: RunResult) -> None:
        from assistant.tool_agent import make_assistant

        assistant = make_assistant(self.agent, store, llm=self.llm, classifier=self.classifier, services=self.services)
        state = DialogueState(session_id=f"eval-{scenario.id}-{result.run}-{uuid.uuid4().hex[:6]}")
        user = make_user(scenario.user, scenario.lang, self.user_llm)
        message: str | None = user.opening()
        while message is not None:
            if len(result.turns) >= scenario.expect.max_turns:
                result.failures.append(f"hit the turn limit ({scenario.expect.max_turns}) with the shopper still talking")
                break
            t0 = time.perf_counter()
            events: list[AssistantEvent] = list(assistant.respond(state, message))
            seconds = time.perf_counter() - t0
            reply = "".join(e.text for e in events if e.kind in ("text", "handoff")).strip()
            proposed = next((e for e in events if e.kind == "pending"), None)
            result.turns.append(TurnRecord(
                user=message, reply=reply, seconds=round(seconds, 4),
                calls=[CallRecord(name=e.tool, arguments=e.arguments or {}, ok=e.ok) for e in events if e.kind == "tool"],
                proposed=CallRecord(name=proposed.tool, arguments=proposed.arguments or {}) if proposed else None,
                handoff=any(e.kind == "handoff" for e in events),
            ))  # fmt: skip
            message = user.reply(reply, events)

    def run_all(self, scenarios: list[Scenario], runs: int = 1, progress: bool = True) -> list[RunResult]:
        results = []
        jobs = [(s, k) for k in range(runs) for s in scenarios]
        for scenario, k in tqdm(jobs, desc="dialogues", unit="run", disable=not progress):
            results.append(self.run(scenario, k))
        return results


def judge(scenario: Scenario, result: RunResult) -> None:
    """Sets passed, failures, tool precision/recall and the first point of divergence."""
    exp = scenario.expect
    calls = [c for t in result.turns for c in t.calls]
    result.tool_precision, result.tool_recall, missing = score_calls(exp.tool_calls, calls)
    points: list[tuple[int, str]] = []  # (turn number, what went wrong there)
    last = len(result.turns)
    if result.state_checked and not result.state_match:
        first = result.state_diffs[0]
        writes = [n for n, t in enumerate(result.turns, 1) if any(c.name in WRITE_TOOLS and c.ok for c in t.calls)]
        turn = writes[0] if writes else last
        result.failures.append(f"final state differs in {len(result.state_diffs)}{'+' if len(result.state_diffs) >= MAX_DIFFS else ''} field(s)")
        points.append((turn, f"state: {first.path} expected {first.expected!r}, got {first.actual!r}"))
    if missing and exp.tool_calls_required:
        result.failures.append("missing tool call(s): " + ", ".join(m.name for m in missing))
        for m in missing[:1]:
            wrong = next(((n, c) for n, t in enumerate(result.turns, 1) for c in t.calls if c.name == m.name), None)
            proposed = next((n for n, t in enumerate(result.turns, 1) if t.proposed and t.proposed.name == m.name), None)
            if wrong:
                points.append((wrong[0], f"{m.name} called with {wrong[1].arguments}, expected {m.arguments}"))
            elif proposed:
                points.append((proposed, f"{m.name} proposed but never carried out"))
            else:
                points.append((last, f"{m.name} {m.arguments or ''} never called"))
    for n, t in enumerate(result.turns, 1):
        for c in t.calls:
            if c.name in exp.forbidden_tools and c.ok is not False:
                result.failures.append(f"forbidden tool {c.name} called")
                points.append((n, f"forbidden tool {c.name} called with {c.arguments}"))
    replies = [t.reply.lower() for t in result.turns]
    for needle in exp.must_include:
        if not any(needle.lower() in r for r in replies):
            result.failures.append(f"no reply contains {needle!r}")
            points.append((last, f"never said {needle!r}"))
    if exp.must_include_any and not any(n.lower() in r for n in exp.must_include_any for r in replies):
        result.failures.append(f"no reply contains any of {exp.must_include_any}")
        points.append((last, f"never said any of {exp.must_include_any}"))
    for needle in exp.must_not_include:
        hit = next((n for n, r in enumerate(replies, 1) if needle.lower() in r), None)
        if hit:
            result.failures.append(f"a reply contains forbidden {needle!r}")
            points.append((hit, f"said forbidden {needle!r}"))
    handed = next((n for n, t in enumerate(result.turns, 1) if t.handoff), None)
    if exp.handoff is True and handed is None:
        result.failures.append("no hand-off to a human")
        points.append((last, "never handed off"))
    if exp.handoff is False and handed is not None:
        result.failures.append("handed off to a human")
        points.append((handed, "handed off"))
    if any(f.startswith("hit the turn limit") for f in result.failures):
        points.append((last, "turn limit reached"))
    result.passed = not result.failures
    result.mode = None if result.passed else failure_mode(scenario, result, missing)
    if points:
        turn, what = min(points, key=lambda p: p[0])
        result.divergence = f"turn {turn}: {what}"


def failure_mode(scenario: Scenario, result: RunResult, missing: list[ToolCall]) -> str:
    """One of FAILURE_MODES for a failed run, from the expected actions and the calls made."""
    expected = [a.name for a in scenario.expect.actions or [] if a.name in WRITE_TOOLS]
    made = [c for t in result.turns for c in t.calls if c.name in WRITE_TOOLS and c.ok]
    proposed = {t.proposed.name for t in result.turns if t.proposed}
    if scenario.expect.actions is not None and result.state_checked and not result.state_match:
        if expected and not made:
            return "proposed, not done" if proposed & set(expected) else "nothing proposed"
        if not expected:
            return "action not expected"
        if not {c.name for c in made} & set(expected):
            return "other action"
        exp_calls = [ToolCall(name=a.name, arguments=a.arguments) for a in scenario.expect.actions if a.name in WRITE_TOOLS]
        _, _, left = score_calls(exp_calls, made)
        if len(left) == len(exp_calls):
            return "wrong arguments"
        if left:
            return "partly done"
        return "extra action" if len(made) > len(exp_calls) else "other"
    if missing and scenario.expect.tool_calls_required:
        return "proposed, not done" if proposed & {m.name for m in missing} else "nothing proposed"
    if any(f.startswith(("handed off", "no hand-off")) for f in result.failures):
        return "hand-off"
    if any(f.startswith(("no reply contains", "a reply contains")) for f in result.failures):
        return "reply"
    if any(f.startswith("hit the turn limit") for f in result.failures):
        return "turn limit"
    return "other"
