"""`ToolAgent`: an LLM drives the conversation with native function calling (AISLE_AGENT=tools).

Built on LangChain's agent (`create_agent`): an OpenAI-compatible chat model (`ChatOpenAI` with a
base URL: vLLM, llama.cpp's server, Ollama, a hosted API; by default the packaged GGUF behind a local
llama-cpp-python server), the tools from `as_langchain_tools` (every call through `ToolRunner`),
`HumanInTheLoopMiddleware` for the write tools plus `AisleGate` (gate.py), and a LangGraph
checkpointer in the store database keyed by the Aisle session (checkpoint.py), so a conversation,
a proposal waiting for its yes included, survives restarts and moves between replicas.

A turn: a proposal waiting → the shopper's message is the decision (approve only for an explicit
yes, else reject with their words) → the run resumes; otherwise the message starts a run. Text,
tool runs, product cards, proposals and hand-offs stream out as `AssistantEvent`s, as from the
code-first agent, so every surface works unchanged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy.exc import OperationalError

from assistant.agent import MAX_MESSAGE, PROMPTS, Assistant, _replies
from assistant.state import AssistantEvent, DialogueState, ProductCard, readable
from assistant.tool_agent.gate import AisleGate, ToolAgentStats, human_in_the_loop, signature
from assistant.tools import TOOLS, StoreUnavailable, ToolContext, ToolRunner, as_langchain_tools, is_affirmative

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _policy() -> str:
    from retrieval.store.seed import DEMO_DATA_DIR

    return (DEMO_DATA_DIR / "policy.md").read_text(encoding="utf-8").strip()


def system_prompt(store, user_id: str | None) -> str:
    """prompts/tool_agent.md with the shop policy and who the shopper is (from the session, never the model)."""
    if user_id is None:
        customer = "The shopper is not identified yet."
    else:
        user = store.user(user_id)
        customer = (f"The shopper is identified (signed in): {user.first_name} {user.last_name}, user id {user_id}. "
                    "Do not ask them to identify again.")  # fmt: skip
    template = (PROMPTS / "tool_agent.md").read_text(encoding="utf-8")
    return template.format(customer=customer, policy=_policy())


class ToolAgent(Assistant):
    """Same interface as the code-first `Assistant` (respond, reply_text, feedback, store, services)."""

    def __init__(self, store, chat_model=None, services: dict | None = None, checkpointer=None,
                 max_steps: int | None = None, **kwargs) -> None:  # fmt: skip
        super().__init__(store, services=services, **kwargs)
        from retrieval.config import get_settings

        self._chat_model = chat_model
        self._checkpointer = checkpointer
        self.max_steps = max_steps or get_settings().agent_max_steps
        self.stats: ToolAgentStats = self.services.setdefault("tool_agent_stats", ToolAgentStats())

    @classmethod
    def from_settings(cls) -> ToolAgent:
        from retrieval.store import Store

        store = Store.from_settings()
        store.init()
        return cls(store)

    @property
    def chat_model(self):
        if self._chat_model is None:
            from assistant.tool_agent.model import chat_model_from_settings

            self._chat_model = chat_model_from_settings()
        return self._chat_model

    @property
    def llm(self):  # what `aisle serve` warms up: the tool-calling model
        return self.chat_model

    @property
    def checkpointer(self):
        if self._checkpointer is None:
            from assistant.tool_agent.checkpoint import checkpointer_for

            self._checkpointer = checkpointer_for(self.store)
        return self._checkpointer

    def build(self, runner: ToolRunner, user_id: str | None, approved: dict[str, tuple[str, str]], lang: str):
        """The LangChain agent for one turn (its gates hold the turn's runner; the graph is cheap to build)."""
        from langchain.agents import create_agent

        def say(key: str, **values) -> str:
            return _replies()[lang][key].format(**values)

        gate = AisleGate(runner, approved, self.max_steps, say, self.stats)
        return create_agent(self.chat_model, tools=as_langchain_tools(runner), system_prompt=system_prompt(self.store, user_id),
                            middleware=[human_in_the_loop(gate), gate], checkpointer=self.checkpointer)  # fmt: skip

    def respond(self, state: DialogueState, message: str) -> Iterator[AssistantEvent]:
        yield from _ToolTurn(self, state, readable(message)).run()


class _ToolTurn:
    def __init__(self, agent: ToolAgent, state: DialogueState, message: str) -> None:
        self.a = agent
        self.state = state
        self.raw = message if isinstance(message, str) else ""
        self.ctx = ToolContext(store=agent.store, session_id=state.session_id, user_id=state.user_id, services=agent.services,
                               identify_in_chat=agent.demo_sign_in)  # fmt: skip
        self.runner = ToolRunner(self.ctx)
        self.args: dict[str, tuple[str, dict]] = {}  # tool call id → (name, arguments)
        self.streamed: set[str] = set()  # ids of model answers whose text was streamed in pieces
        self.handoff_id = ""

    def say(self, key: str, **values) -> AssistantEvent:
        return AssistantEvent(kind="text", text=_replies()[self.state.lang][key].format(**values) + "\n")

    def run(self) -> Iterator[AssistantEvent]:
        state = self.state
        message = self.raw.replace("\x00", "").strip()
        if not message:
            yield self.say("empty")
            return
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE]
            yield self.say("too_long", limit=MAX_MESSAGE)
        state.turns += 1
        state.lang = "zh" if re.search(r"[\u4e00-\u9fff]", message) else "en"
        state.remember("user", message)
        self.ctx.transcript = [m.model_dump() for m in state.history]  # what a hand-off passes on to a person
        out: list[str] = []
        try:
            for event in self._run(message):
                if event.kind in ("text", "handoff"):
                    out.append(event.text)
                yield event
        except (StoreUnavailable, OperationalError):
            log.warning("store unavailable during a turn in session %s", state.session_id)
            event = self.say("store_unavailable")
            out.append(event.text)
            yield event
        except Exception as exc:  # the model server is down or answered nonsense: the shopper gets a message
            if not _is_model_error(exc):
                raise
            log.warning("tool-calling model unavailable: %s", exc)
            event = self.say("model_unavailable", problem=type(exc).__name__)
            out.append(event.text)
            yield event
        if not "".join(out).strip() and self.state.pending is None:  # the model ended the turn without a word
            event = self.say("no_answer")
            out.append(event.text)
            yield event
        state.user_id = self.ctx.user_id
        state.agent_thread_user = state.agent_thread_user or state.user_id
        state.remember("assistant", "".join(out).strip())

    def _thread(self) -> str:
        """The checkpoint thread: the session's, and a new one when another customer takes the session
        over (a sign-out or a sign-in as someone else), so no earlier customer's messages reach the model."""
        state = self.state
        if state.agent_thread is None or (state.agent_thread_user is not None and state.agent_thread_user != state.user_id):
            n = int(state.agent_thread.rsplit(":", 1)[1]) + 1 if state.agent_thread else 0
            state.agent_thread, state.agent_thread_user = f"{state.session_id}:{n}", None
        return state.agent_thread

    def _run(self, message: str) -> Iterator[AssistantEvent]:
        from langchain_core.messages import AIMessageChunk, HumanMessage
        from langgraph.types import Command

        config = {"configurable": {"thread_id": self._thread()}, "recursion_limit": 6 * self.a.max_steps + 10}
        approved: dict[str, tuple[str, str]] = {}  # call id → (the call's signature, the shopper's yes)
        probe = self.a.build(self.runner, self.ctx.user_id, approved, self.state.lang)
        snapshot = probe.get_state(config)
        waiting = [i for i in snapshot.interrupts if isinstance(i.value, dict) and "action_requests" in i.value]
        if waiting:
            requests = waiting[0].value["action_requests"]
            last = snapshot.values["messages"][-1]
            for call in getattr(last, "tool_calls", []):
                self.args[call["id"]] = (call["name"], call.get("args") or {})
            if is_affirmative(message):
                shown = [(r["name"], r["args"]) for r in requests]
                approved.update({c["id"]: (signature(c["name"], c.get("args") or {}), message)
                                 for c in last.tool_calls if (c["name"], c.get("args") or {}) in shown})  # fmt: skip
                decisions = [{"type": "approve"} for _ in requests]
            else:
                yield self.say("not_confirmed")
                decisions = [{"type": "reject", "message": f"The shopper did not confirm and said: {message}"} for _ in requests]
            payload = Command(resume={"decisions": decisions})
        else:
            payload = {"messages": [HumanMessage(message)]}
        agent = self.a.build(self.runner, self.ctx.user_id, approved, self.state.lang)
        self.state.pending = None
        # "messages": the model's text piece by piece as the server streams it; "updates": each step
        # (a whole model answer, each tool run, an interrupt), in order.
        for mode, chunk in agent.stream(payload, config, stream_mode=["messages", "updates"]):
            if mode == "messages":
                piece, meta = chunk
                text = _text(piece.content) if isinstance(piece, AIMessageChunk) and meta.get("langgraph_node") == "model" else ""
                if piece.id not in self.streamed:
                    text = text.lstrip()
                if text:
                    self.streamed.add(piece.id)
                    yield AssistantEvent(kind="text", text=text)
                continue
            for node, data in chunk.items():
                if node == "__interrupt__":
                    yield from self._proposals(data)
                    continue
                for m in (data or {}).get("messages", []) if isinstance(data, dict) else []:
                    yield from self._events(m)
        if self.ctx.handoff_summary is not None:
            self.state.handed_off = True
            replies = _replies()[self.state.lang]
            user = self.a.store.user(self.ctx.user_id) if self.ctx.user_id else None
            contact = replies["handoff_email"].format(email=user.email) if user else replies["handoff_no_email"]
            yield AssistantEvent(kind="handoff", text=replies["handoff"].format(ticket=self.handoff_id, contact=contact) + "\n")

    def _events(self, m) -> Iterator[AssistantEvent]:
        from langchain_core.messages import AIMessage, ToolMessage

        from assistant.tool_agent.gate import failed

        if isinstance(m, AIMessage):
            for call in m.tool_calls:
                self.args[call["id"]] = (call["name"], call.get("args") or {})
            text = _text(m.content)
            if m.id in self.streamed:  # its text went out piece by piece: end the paragraph
                yield AssistantEvent(kind="text", text="\n")
            elif text.strip():
                yield AssistantEvent(kind="text", text=text.strip() + "\n")
        elif isinstance(m, ToolMessage):
            name, args = self.args.get(m.tool_call_id, (m.name, {}))
            error = failed(m)
            data = m.artifact if m.artifact is not None else _json(m.content)  # the whole result (the model read a compact one)
            if isinstance(data, dict) and "needs_confirmation" in data:
                return  # a proposal, not a run
            if error is None and name == "transfer_to_human" and isinstance(data, dict):
                self.handoff_id = str(data.get("handoff_id", ""))
            shown = {k: v for k, v in args.items() if k not in getattr(TOOLS.get(name), "session_fields", ())}
            yield AssistantEvent(kind="tool", tool=name, ok=error is None, arguments=shown)
            if error is None and name == "search_products" and isinstance(data, dict):
                cards = [ProductCard(item_id=h["item_id"], product_id=h["product_id"], name=h["name"],
                                     options=h.get("options") or {}, price=h["price"], available=h["available"],
                                     rating=h.get("rating"), brand=h.get("brand"), reason=h.get("why", ""))
                         for h in data.get("hits", [])]  # fmt: skip
                if cards:
                    self.state.last_items = [c.item_id for c in cards]
                    yield AssistantEvent(kind="cards", cards=cards)

    def _proposals(self, interrupts) -> Iterator[AssistantEvent]:
        from assistant.tools import PendingAction

        for item in interrupts:
            value = getattr(item, "value", None)
            if not isinstance(value, dict):
                continue
            requests = value.get("action_requests", [])
            for r in requests:
                yield AssistantEvent(kind="pending", tool=r["name"], arguments=r["args"], text="")
            if requests:
                first = requests[0]
                # Kept for surfaces that show what waits for a yes; the run itself waits in the checkpoint.
                self.state.pending = PendingAction(tool=first["name"], arguments=first["args"], description=first.get("description", ""))
                description = "; ".join(r.get("description", r["name"]) for r in requests)
                yield self.say("confirm_prompt", description=description)


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict)) if isinstance(content, list) else ""


def _json(content):
    try:
        return json.loads(content) if isinstance(content, str) else content
    except json.JSONDecodeError:
        return None


def _is_model_error(exc: Exception) -> bool:
    import httpx
    import openai

    from assistant.tool_agent.local_server import ModelServerError

    return isinstance(exc, (openai.APIError, httpx.HTTPError, ModelServerError))
