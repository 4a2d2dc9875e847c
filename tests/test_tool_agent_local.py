"""The tools agent with a real model: the packaged GGUF behind llama-cpp-python's OpenAI-compatible
server on loopback (Aisle's `hermes-tools` chat format), driven through LangChain's agent.

One short conversation: the model searches the catalog; then an order flow whose cancellation
stops at the proposal until the shopper says "yes". Skipped only when the model package is missing.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

OWN_PENDING = "#W6247578"  # yusuf_rossi_9620's


@pytest.fixture(scope="module")
def server(packaged_gguf, tmp_path_factory):
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed (a project dependency)")
    from assistant.tool_agent.local_server import LocalToolServer

    log = tmp_path_factory.mktemp("llm") / "server.log"
    with LocalToolServer(model=packaged_gguf, n_ctx=12288, n_threads=2, log_file=log) as running:
        yield running


@pytest.fixture
def agent(server, seeded_store, tmp_path):
    from langchain_openai import ChatOpenAI

    from assistant.tool_agent import make_assistant
    from retrieval.search import Search  # by keywords only: no embedding model to load here

    store = seeded_store.copy_to(f"sqlite:///{tmp_path / 'agent.db'}")
    model = ChatOpenAI(base_url=server.url, api_key="unused", model="local", temperature=0, max_tokens=160, timeout=300)
    return make_assistant("tools", store, chat_model=model, services={"search": Search(None, products=store.products())}, max_steps=4)


def _turn(agent, state, message):
    events = list(agent.respond(state, message))
    return "".join(e.text for e in events if e.kind == "text"), events


def test_the_model_searches_then_a_cancellation_waits_for_yes(agent):
    from assistant.state import DialogueState

    state = DialogueState(session_id="local-model", user_id="yusuf_rossi_9620")
    _, events = _turn(agent, state, "Search the catalog for a water bottle, please.")
    assert ("search_products", True) in [(e.tool, e.ok) for e in events if e.kind == "tool"], events

    reply, events = _turn(agent, state, f"Cancel my order {OWN_PENDING} now (call cancel_pending_order); reason: no longer needed.")
    assert agent.store.order(OWN_PENDING).status == "pending"  # whatever the model did: at most a proposal
    proposed = [e for e in events if e.kind == "pending"]
    if not proposed:
        # The packaged 1.5B often describes the call instead of making it (measured): what is checked then
        # is what the gate promises, that nothing was written; a proposal is followed to its yes below.
        assert not [e for e in events if e.kind == "tool" and e.tool == "cancel_pending_order" and e.ok], events
        return
    assert [e.tool for e in proposed] == ["cancel_pending_order"], events
    assert proposed[0].arguments["order_id"] == OWN_PENDING
    assert "yes/no" in reply

    reply, events = _turn(agent, state, "yes")
    assert ("cancel_pending_order", True) in [(e.tool, e.ok) for e in events if e.kind == "tool"], events
    assert agent.store.order(OWN_PENDING).status == "cancelled"
