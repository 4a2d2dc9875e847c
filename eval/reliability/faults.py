"""Faults: parts of the system fail while `aisle serve` runs; every reply stays honest and the
service recovers by itself when the part comes back.

One `aisle serve` (subprocess, temp data dir) is started with its LLM server, ranking service and
Chroma server all pointing at ports where nothing listens, and a short SQLite busy timeout:

- LLM down (connection refused), then slow (a stub server that stalls past AISLE_LLM_TIMEOUT_S),
  then back: product questions get the "model unavailable" note with the answer from the shop's
  data, then the model is asked again;
- ranking service down: recommendations still come (in-process model or popularity);
- Chroma down at start: search answers by keywords with a note; a real `chroma run` is started on
  the port and meaning-based search comes back on its own (AISLE_CHROMA_RETRY_S);
- database locked by another connection past the busy timeout (SQLite's write lock; on
  PostgreSQL every table locked against writes, waited for up to lock_timeout): the "yes" to a proposed
  cancellation gets "the order service is unavailable"; order status still reads; after the lock
  goes, "yes" again cancels the order.

Every turn must answer 200 with a full event stream, no crash apology; the server log must hold
no traceback.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from eval.reliability.base import CategoryResult, Options
from eval.reliability.client import Turn, chat

LLM_TIMEOUT_S = 2.0
CHROMA_RETRY_S = 3.0
LLM_DOWN = "language model is unavailable"  # replies.yaml llm_down (en)
STORE_DOWN = "order service is unavailable"  # replies.yaml store_unavailable (en)


def run(options: Options) -> CategoryResult:
    import httpx

    from eval.stack import free_port
    from eval.reliability.client import client as client_of
    from eval.reliability.replicas import start_app

    result = CategoryResult(category="faults", tried=0, failures=0)
    ports = {name: free_port() for name in ("llm", "ranker", "chroma")}
    env = {
        "AISLE_LLM_BACKEND": "openai", "AISLE_LLM_URL": f"http://127.0.0.1:{ports['llm']}/v1",
        "AISLE_LLM_SERVER_MODEL": "stub", "AISLE_LLM_TIMEOUT_S": str(LLM_TIMEOUT_S),
        "AISLE_RANKER_URL": f"http://127.0.0.1:{ports['ranker']}",
        "AISLE_CHROMA_URL": f"http://127.0.0.1:{ports['chroma']}", "AISLE_CHROMA_RETRY_S": str(CHROMA_RETRY_S),
        "AISLE_DB_BUSY_TIMEOUT_S": "0.5",
    }  # fmt: skip
    log_path = Path(tempfile.gettempdir()) / "aisle-reliability-faults.log"
    server = start_app(options.stack, None, log_path, env=env, log_level="info")
    try:
        server.wait_ready(900)
        with client_of(server, timeout=120) as client:
            _llm_faults(client, ports["llm"], result)
            _ranker_down(client, result)
            _chroma_down(client, ports["chroma"], result)
            _db_locked(client, server, result)
    finally:
        server.stop()
    for log in server.logs:
        result.tried += 1
        if "Traceback" in log.read_text(encoding="utf-8", errors="replace"):
            result.fail(f"the server log holds a traceback (see {log})")
    result.notes.append(f"server log: {log_path}; stack {options.stack}")
    return result


def _session(client, user_id: str | None = None) -> str:
    body = {"sign_in": {"user_id": user_id}} if user_id else None
    return client.post("/api/sessions", json=body).json()["session_id"]


def _check(result: CategoryResult, case: str, turn: Turn, must: str | None = None, must_not: str | None = None) -> bool:
    result.tried += 1
    problem = None
    if not turn.ok:
        problem = f"HTTP {turn.status}, done={turn.done}: {(turn.error or turn.text)[:150]!r}"
    elif must and must.lower() not in turn.text.lower():
        problem = f"reply lacks {must!r}: {turn.text[:150]!r}"
    elif must_not and must_not.lower() in turn.text.lower():
        problem = f"reply still says {must_not!r}: {turn.text[:150]!r}"
    if problem:
        result.fail(f"{case}: {problem}")
    return problem is None


def _llm_faults(client, port: int, result: CategoryResult) -> None:
    from eval.reliability.stubs import StubLLMServer

    sid = _session(client)
    chat(client, sid, "running shoes under $150")
    question = "does the first one come in other colours?"
    _check(result, "LLM down", chat(client, sid, question), must=LLM_DOWN)
    stub = StubLLMServer(port, mode="stall", stall_s=LLM_TIMEOUT_S * 5)
    try:
        turn = chat(client, sid, question)
        if _check(result, "LLM slow", turn, must=LLM_DOWN):
            result.figures["llm_slow_reply_s"] = round(turn.latency, 2)
            result.tried += 1
            if turn.latency > LLM_TIMEOUT_S * 4:  # one read timeout, not many
                result.fail(f"LLM slow: the reply took {turn.latency:.1f} s with a {LLM_TIMEOUT_S} s timeout")
        stub.mode = "ok"
        # Back: the model is asked again and the note is gone. Its words are shown only if they keep the
        # catalog's facts (assistant/product_answers.py), so the stub's canned answer need not appear.
        asked = stub.requests
        if _check(result, "LLM back", chat(client, sid, question), must_not=LLM_DOWN):
            result.tried += 1
            if stub.requests <= asked:
                result.fail("LLM back: the model was not asked again")
    finally:
        stub.close()


def _ranker_down(client, result: CategoryResult) -> None:
    sid = _session(client, _a_customer(client))
    _check(result, "ranking service down", chat(client, sid, "recommend me something"), must="suggestions")
    result.notes.append("ranking service: only the outage is checked (each request tries the service again, "
                        "so recovery needs no state; a trained model to serve is not part of the demo data dir)")  # fmt: skip


def _chroma_down(client, port: int, result: CategoryResult) -> None:
    sid = _session(client)
    _check(result, "Chroma down: chat search", chat(client, sid, "running shoes under $150"), must="Running Shoes")
    result.tried += 1
    got = client.post("/api/products/search", json={"query": "running shoes", "k": 3}).json()
    if not got.get("hits") or not any("keywords only" in n for n in got.get("notes", [])):
        result.fail(f"Chroma down: search should answer by keywords with a note, got {got.get('notes')} / {len(got.get('hits', []))} hits")
    chroma_dir = Path(tempfile.mkdtemp(prefix="aisle-faults-chroma-"))
    chroma = _start_chroma(port, chroma_dir)
    try:
        result.tried += 1
        start, back = time.monotonic(), False
        while time.monotonic() - start < 240:  # the server notices within CHROMA_RETRY_S, then fills the empty index
            got = client.post("/api/products/search", json={"query": "running shoes", "k": 3}).json()
            if got.get("hits") and not got.get("notes") and any(h["score_parts"].get("dense", 0) > 0 for h in got["hits"]):
                back = True
                break
            time.sleep(1)
        result.figures["chroma_recovery_s"] = round(time.monotonic() - start, 1)
        if not back:
            result.fail(f"Chroma back: search did not use the index again within 240 s: {got.get('notes')}")
        _check(result, "Chroma back: chat search", chat(client, sid, "running shoes under $150"), must="Running Shoes")
    finally:
        chroma.terminate()
        chroma.wait(15)
        shutil.rmtree(chroma_dir, ignore_errors=True)


def _start_chroma(port: int, path: Path) -> subprocess.Popen:
    import httpx

    exe = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(60):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("chroma run did not start")


def _a_customer(client) -> str:
    return client.get("/api/users/demo", params={"n": 1}).json()[0]["user_id"]


@contextmanager
def _write_lock(store) -> Iterator[None]:
    """Hold the database's write lock as a long writer would: readers go on, writers wait past
    their timeout (AISLE_DB_BUSY_TIMEOUT_S) and give up."""
    if store.engine.dialect.name == "sqlite":
        lock = sqlite3.connect(make_url(store.url).database, isolation_level=None, timeout=10)
        lock.execute("BEGIN IMMEDIATE")  # the write lock (WAL: readers go on, writers wait, then give up)
        try:
            yield
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        return
    from retrieval.store import tables as t

    with store.engine.connect() as conn, conn.begin() as tx:
        # PostgreSQL's EXCLUSIVE mode blocks every write to a table and no read: SQLite's lock, table by table.
        conn.execute(text(f"LOCK TABLE {', '.join(tb.name for tb in t.Base.metadata.sorted_tables)} IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            tx.rollback()


def _db_locked(client, server, result: CategoryResult) -> None:
    from sqlalchemy import select

    from retrieval.store import Store
    from retrieval.store import tables as t

    store = Store(server.db_url)
    with store.session() as s:
        order = s.scalars(select(t.Order).where(t.Order.status == "pending").order_by(t.Order.order_id)).first()
        user_id, order_id = order.user_id, order.order_id
    sid = _session(client, user_id)
    proposal = chat(client, sid, f"I want to cancel order {order_id} because I ordered it by mistake")
    _check(result, "DB locked: proposal before the lock", proposal, must="confirm")
    reader = _session(client, user_id)  # a second conversation, for a read while the first one's task is open
    with _write_lock(store):
        _check(result, "DB locked: confirmed cancellation", chat(client, sid, "yes"), must=STORE_DOWN)
        _check(result, "DB locked: order status still reads", chat(client, reader, f"where is my order {order_id}?"), must=order_id)
        result.tried += 1
        refused = client.post("/api/sessions")  # a write outside the chat: 503 with Retry-After, no traceback
        if refused.status_code != 503 or "retry-after" not in refused.headers:
            result.fail(f"DB locked: POST /api/sessions gave {refused.status_code} {refused.text[:100]!r}, not 503 with Retry-After")
    # Nothing was saved under the lock, so the proposal still waits for its yes.
    _check(result, "DB back: confirmed cancellation", chat(client, sid, "yes"), must="cancelled")
    result.tried += 1
    if (o := store.order(order_id)) is None or o.status != "cancelled":
        result.fail(f"DB back: order {order_id} is {o.status if o else 'missing'} after the confirmed cancellation")
