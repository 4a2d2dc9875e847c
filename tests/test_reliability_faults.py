"""Faults: a part down or slow gives an honest degraded answer and the service recovers by itself.
Real Chroma, real SQLite locks, real sockets (a dead port, a stalling or failing local server)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.exc import OperationalError

from tests.fakes import KeywordClassifier

YUSUF_EMAIL = "yusuf.rossi7301@example.com"


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Status503:
    """A local server that answers every request with 503 and counts them."""

    def __init__(self) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                outer.hits += 1
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(503)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- search without Chroma ------------------------------------------------------------------------


@pytest.fixture
def small_catalog(seeded_store):
    return [p for p in seeded_store.products() if p.source == "tau2"][:6]


def test_search_answers_by_keywords_when_chroma_is_unreachable(seeded_store, tmp_path):
    from retrieval.config import Settings
    from retrieval.search import Search, SearchRequest

    settings = Settings(data_dir=tmp_path, chroma_url=f"http://127.0.0.1:{_dead_port()}", chroma_retry_s=3600)
    seeded_store.copy_to(settings.db_url)
    search = Search.from_settings(settings, progress=False)
    response = search.search(SearchRequest(query="running shoes", k=3))
    assert response.hits and all(h.name == "Running Shoes" for h in response.hits)
    assert any("keywords only" in n for n in response.notes)
    assert all(h.score_parts["dense"] == 0 for h in response.hits)


def test_search_comes_back_to_the_index_when_it_answers_again(small_catalog, tmp_path):
    import chromadb

    from retrieval.search import Search, SearchRequest
    from retrieval.search.index import CatalogIndex

    search = Search(None, products=small_catalog, retry_s=0.01)
    before = search.search(SearchRequest(query=small_catalog[0].name, k=3))
    assert before.notes and before.hits
    index = CatalogIndex(chromadb.PersistentClient(path=str(tmp_path / "chroma")))
    index.sync(small_catalog, progress=False)
    attempts = iter([ConnectionError("still down"), index])

    def open_index():
        got = next(attempts)
        if isinstance(got, Exception):
            raise got
        return got

    search._reconnect(open_index)  # tries, fails once, tries again, swaps the index in
    after = search.search(SearchRequest(query=small_catalog[0].name, k=3))
    assert not after.notes and after.hits[0].score_parts["dense"] > 0


# -- the database locked --------------------------------------------------------------------------


@pytest.fixture
def locked_world(seeded_store, tmp_path, monkeypatch):
    from assistant.agent import Assistant
    from assistant.llm.fake import FakeLLM
    from retrieval.config import get_settings

    monkeypatch.setenv("AISLE_DB_BUSY_TIMEOUT_S", "0.2")
    get_settings.cache_clear()
    path = tmp_path / "aisle.db"
    store = seeded_store.copy_to(f"sqlite:///{path}")
    assistant = Assistant(store, llm=FakeLLM(lambda m: "ok"), classifier=KeywordClassifier())
    return assistant, store, path


class _WriteLock:
    """Another connection holding SQLite's write lock (readers go on in WAL mode)."""

    def __init__(self, path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_a_confirmed_write_under_a_lock_says_try_again_and_a_later_yes_runs_it(locked_world):
    from assistant.state import DialogueState

    assistant, store, path = locked_world
    state = DialogueState(session_id="locked")
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assert "Please confirm" in assistant.reply_text(state, "please cancel order #W6247578, I ordered it by mistake")
    with _WriteLock(path):
        started = time.perf_counter()
        reply = assistant.reply_text(state, "yes")
        assert "order service is unavailable" in reply and "Traceback" not in reply
        assert time.perf_counter() - started < 5  # three bounded attempts, not a hang
        assert state.pending is not None  # kept: the shopper can say yes again
        status = assistant.reply_text(DialogueState(session_id="reader", user_id=state.user_id), "where is order #W6247578?")
        assert "pending" in status  # reads go on under a writer's lock
    assert store.order("#W6247578").status == "pending"
    assert "cancelled" in assistant.reply_text(state, "yes")
    assert store.order("#W6247578").status == "cancelled"


def test_zh_reply_for_an_unavailable_store(locked_world):
    from assistant.state import DialogueState

    assistant, store, path = locked_world
    state = DialogueState(session_id="zh")
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "please cancel order #W6247578, I ordered it by mistake")
    with _WriteLock(path):
        assert "订单服务暂时不可用" in assistant.reply_text(state, "是的")


def test_the_api_answers_503_with_retry_after_when_a_write_cannot_get_the_lock(locked_world):
    from fastapi.testclient import TestClient

    from ui.app import create_app
    from ui.service import ChatService

    assistant, store, path = locked_world
    with TestClient(create_app(ChatService(assistant), gradio=False, warm=False)) as client:
        sid = client.post("/api/sessions").json()["session_id"]
        with _WriteLock(path):
            refused = client.post("/api/sessions")
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            assert "try again" in refused.json()["detail"] and "INSERT" not in refused.text
            turn = client.post("/api/chat", json={"session_id": sid, "message": "hi", "stream": False})
            assert turn.status_code == 200 and "not saved" in turn.json()["text"]
        assert client.post("/api/sessions").status_code == 201


def test_busy_transactions_are_retried_a_bounded_number_of_times():
    from retrieval.store import retry_when_busy

    calls = []

    @retry_when_busy
    def flaky():
        calls.append(1)
        if len(calls) < 2:
            raise OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
        return "done"

    assert flaky() == "done" and len(calls) == 2

    @retry_when_busy
    def broken():
        calls.append(1)
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))

    calls.clear()
    with pytest.raises(OperationalError):
        broken()
    assert len(calls) == 1  # not a lock: no retry


# -- LLM server and ranking service -----------------------------------------------------------------


def test_llm_server_down_slow_or_failing_becomes_llm_unavailable_quickly():
    from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable
    from assistant.llm.openai_backend import OpenAICompatibleLLM
    from eval.reliability.stubs import ANSWER, StubLLMServer

    messages = [ChatMessage(role="user", content="hi")]
    config = GenerationConfig(max_tokens=8)
    dead = OpenAICompatibleLLM(f"http://127.0.0.1:{_dead_port()}/v1", model="m", timeout_s=1)
    with pytest.raises(LLMUnavailable):
        dead.complete(messages, config)
    port = _dead_port()
    stub = StubLLMServer(port, mode="stall", stall_s=5)
    try:
        slow = OpenAICompatibleLLM(f"http://127.0.0.1:{port}/v1", model="m", timeout_s=0.5)
        started = time.perf_counter()
        with pytest.raises(LLMUnavailable, match="timed out"):
            slow.complete(messages, config)
        assert time.perf_counter() - started < 3 and stub.requests == 1  # a stall is not retried
        stub.mode = "ok"
        assert slow.complete(messages, config) == ANSWER  # and it recovers with no restart
    finally:
        stub.close()
    failing = _Status503()
    try:
        with pytest.raises(LLMUnavailable, match="503"):
            OpenAICompatibleLLM(failing.url + "/v1", model="m", timeout_s=1).complete(messages, config)
        assert failing.hits == 3  # retried, bounded
    finally:
        failing.close()


def test_remote_ranker_down_or_failing_is_retried_once_then_unavailable():
    from recsys.ranker import RankerUnavailable, RemoteRanker
    from recsys.schemas import ScoreRequest

    with pytest.raises(RankerUnavailable):
        RemoteRanker(f"http://127.0.0.1:{_dead_port()}").score(ScoreRequest(history=["1"]))
    failing = _Status503()
    try:
        with pytest.raises(RankerUnavailable):
            RemoteRanker(failing.url).score(ScoreRequest(history=["1"]))
        assert failing.hits == 2
    finally:
        failing.close()
