"""The policy gates of the tools agent, as LangChain agent middleware around `ToolRunner`.

`HumanInTheLoopMiddleware` pauses the run at a write call; `AisleGate` adds what it does not do:
- rehearsal before asking: a write the policy forbids is refused at once, not proposed (`rehearse`,
  HITL's `when` predicate, runs `ToolRunner.propose`: the call in a rolled-back transaction);
- the approved write runs through `ToolRunner.confirm` with the shopper's own words, so nothing but an
  explicit yes typed by the shopper runs it (the model cannot approve: decisions come from the turn code);
- a per-turn step limit, loop detection (the same failing call twice ends the turn), a retry after a
  malformed call, and the end of the turn after a transfer to a human agent;
- counts for evaluation (valid and invalid calls, tokens, model time).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

from langchain.agents.middleware import AgentMiddleware, HumanInTheLoopMiddleware
from langchain.agents.middleware.types import hook_config
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from assistant.tools import TOOLS, ToolError, ToolRunner


@dataclass
class ToolAgentStats:
    """What the model did, summed over turns (for `aisle eval … --agent tools`)."""

    model_calls: int = 0
    model_seconds: float = 0.0
    output_tokens: int = 0
    prompt_tokens: int = 0
    tool_calls: int = 0
    invalid_calls: int = field(default=0, metadata={"doc": "malformed JSON, unknown tool or arguments that fail validation"})

    def as_dict(self) -> dict:
        return {**self.__dict__, "model_seconds": round(self.model_seconds, 2),
                "tokens_per_second": round(self.output_tokens / self.model_seconds, 2) if self.model_seconds else None,
                "tool_call_validity": round(1 - self.invalid_calls / self.tool_calls, 3) if self.tool_calls else None}  # fmt: skip


def signature(name: str, args) -> str:
    return f"{name} {json.dumps(args, sort_keys=True, ensure_ascii=False, default=str)}"


def this_turn(messages: list) -> list:
    """The messages since the shopper's last message."""
    for n in range(len(messages) - 1, -1, -1):
        if isinstance(messages[n], HumanMessage):
            return messages[n + 1 :]
    return list(messages)


def failed(message: ToolMessage) -> str | None:
    """The error of a tool result, or None when it succeeded."""
    if message.status == "error":
        return str(message.content)
    try:
        data = json.loads(message.content) if isinstance(message.content, str) else None
    except json.JSONDecodeError:
        return None
    return data["error"] if isinstance(data, dict) and isinstance(data.get("error"), str) else None


class AisleGate(AgentMiddleware):
    def __init__(self, runner: ToolRunner, approved: dict[str, tuple[str, str]], max_steps: int, say, stats: ToolAgentStats) -> None:
        super().__init__()
        self.runner = runner
        # tool call id → (signature of the call shown, the shopper's message that answered it); used once
        self.approved = approved
        self.max_steps = max_steps
        self.say = say  # (reply key, **values) -> text, from prompts/replies.yaml
        self.stats = stats
        self.steps = 0
        self._started = 0.0

    # -- HITL's `when`: rehearse a write before the shopper is asked ------------------------------

    def rehearse(self, request) -> bool:
        """True: the write passes the gates and the policy, ask the shopper. False: it is refused; the
        tool call then runs, is proposed again in `wrap_tool_call` and the model reads the refusal."""
        call = request.tool_call
        try:
            self.runner.propose(call["name"], call.get("args") or {}, describe(call["name"], call.get("args") or {}))
        except ToolError:
            return False
        return True

    # -- the turn's limits --------------------------------------------------------------------------

    @hook_config(can_jump_to=["end"])
    def before_model(self, state, runtime):
        turn = this_turn(state["messages"])
        calls = {c["id"]: c for m in turn if isinstance(m, AIMessage) for c in m.tool_calls}
        results = [m for m in turn if isinstance(m, ToolMessage)]
        if any(m.name == "transfer_to_human" and failed(m) is None for m in results):
            return {"jump_to": "end"}  # a human takes over: the model says nothing more
        failures = Counter()
        for m in results:
            error = failed(m)
            if error is not None and m.tool_call_id in calls:
                call = calls[m.tool_call_id]
                failures[signature(call["name"], call.get("args"))] += 1
                if failures[signature(call["name"], call.get("args"))] >= 2:
                    return {"jump_to": "end", "messages": [AIMessage(self.say("same_call_failed", tool=call["name"], message=error[:200]))]}
        self.steps += 1
        if self.steps > self.max_steps:
            return {"jump_to": "end", "messages": [AIMessage(self.say("steps_exhausted"))]}
        self._started = time.perf_counter()
        return None

    @hook_config(can_jump_to=["model"])
    def after_model(self, state, runtime):
        last = state["messages"][-1]
        if not isinstance(last, AIMessage):
            return None
        self.stats.model_calls += 1
        self.stats.model_seconds += time.perf_counter() - self._started
        usage = last.usage_metadata or {}
        self.stats.output_tokens += usage.get("output_tokens", 0)
        self.stats.prompt_tokens += usage.get("input_tokens", 0)
        self.stats.tool_calls += len(last.tool_calls) + len(last.invalid_tool_calls)
        self.stats.invalid_calls += len(last.invalid_tool_calls)
        for call in last.tool_calls:
            tool = TOOLS.get(call["name"])
            try:
                if tool is None:
                    raise ToolError("unknown tool")
                tool.validate(call.get("args") or {}, self.runner.ctx.session_values())
            except ToolError:
                self.stats.invalid_calls += 1
        if last.invalid_tool_calls and not last.tool_calls:
            # Only malformed calls: LangChain would end the turn on them; the model is asked again
            # and reads "arguments were malformed" for each (the step limit bounds the retries).
            return {"jump_to": "model"}
        return None

    # -- every tool call ----------------------------------------------------------------------------

    def wrap_tool_call(self, request, handler):
        call = request.tool_call
        tool = TOOLS.get(call["name"])
        args = call.get("args") or {}
        if tool is not None and tool.writes:
            # An approval covers the one call the shopper was shown, once: a later call under the same id
            # (a model or server replaying it with other arguments) is only proposed.
            shown, answer = self.approved.pop(call["id"], (None, None))
            answer = answer if shown == signature(call["name"], args) else None
            try:
                pending = self.runner.propose(call["name"], args, describe(call["name"], args))
                if answer is None:  # not approved by the shopper: it stays a proposal
                    return _message(call, {"needs_confirmation": pending.model_dump()}, ok=True)
                result = self.runner.confirm(pending, answer)  # runs only if `answer` is an explicit yes
            except ToolError as exc:
                return _message(call, {"error": str(exc)}, ok=False)
            if result is None:
                return _message(call, {"error": "The shopper did not confirm; nothing was changed."}, ok=False)
            return _message(call, result.data if result.ok else {"error": result.message}, ok=result.ok)
        message = handler(request)
        if isinstance(message, ToolMessage) and failed(message) is not None:
            message.status = "error"
        return message


def _message(call: dict, data, ok: bool) -> ToolMessage:
    return ToolMessage(content=json.dumps(data, ensure_ascii=False, default=str), name=call["name"],
                       tool_call_id=call["id"], status="success" if ok else "error")  # fmt: skip


def describe(name: str, args: dict) -> str:
    """What the shopper is asked to confirm: the action and its arguments, in plain words."""
    shown = "; ".join(f"{k.replace('_', ' ')}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in args.items())
    return f"{name.replace('_', ' ')} ({shown})" if shown else name.replace("_", " ")


def human_in_the_loop(gate: AisleGate) -> HumanInTheLoopMiddleware:
    """Write tools pause the run for the shopper's decision, after a successful rehearsal."""

    def description(tool_call, state, runtime) -> str:
        return describe(tool_call["name"], tool_call.get("args") or {})

    config = {"allowed_decisions": ["approve", "reject"], "when": gate.rehearse, "description": description}
    return HumanInTheLoopMiddleware(interrupt_on={t.name: dict(config) for t in TOOLS.values() if t.writes})
