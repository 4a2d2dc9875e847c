"""The tools agent (AISLE_AGENT=tools): an LLM chooses the tools, behind the same gates as the
code-first agent. See agent.py; `make_assistant` picks the agent for every surface."""

from __future__ import annotations

AGENTS = ("code", "tools")


def make_assistant(agent: str | None, store, **kwargs):
    """The assistant over `store`: `code` (the default code-first agent) or `tools` (ToolAgent).
    kwargs: llm, classifier, services (both); chat_model, checkpointer (tools only)."""
    from retrieval.config import get_settings

    agent = agent or get_settings().agent
    if agent == "code":
        from assistant.agent import Assistant

        kwargs.pop("chat_model", None), kwargs.pop("checkpointer", None)
        return Assistant(store, **kwargs)
    if agent == "tools":
        from assistant.tool_agent.agent import ToolAgent

        kwargs.pop("llm", None)
        return ToolAgent(store, **kwargs)
    raise ValueError(f"unknown agent {agent!r}: choose one of {', '.join(AGENTS)}")
