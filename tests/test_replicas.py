"""Two `aisle serve` processes behind one PostgreSQL database, one Chroma server (`chroma run`)
and one Redis, all real and on loopback (eval/stack.py, conftest's fixtures). One conversation
goes to the two replicas in turn: nothing is lost or duplicated (history, feedback events, the
order's refunds), both see the same session, and a rate limit holds for the pair, not per process.

The 50 × 20 load test against such a pair is `aisle eval reliability --stack postgres --only load`
(docs/deploy.md has its figures); it is too long for the suite."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from eval.reliability.client import chat, client as balanced_client
from eval.reliability.replicas import Replicas
from retrieval.store import Store
from retrieval.store import tables as t

PER_SESSION = 20  # per minute, for the pair


@pytest.fixture(scope="module")
def pair(postgres, pg_demo, chroma_server_url, redis_server, tmp_path_factory, request):
    data = tmp_path_factory.mktemp("replicas")
    for i in range(2):  # the trained intent classifier is cached across runs (it trains in seconds)
        (data / f"replica{i}" / "models").mkdir(parents=True)
        (data / f"replica{i}" / "models" / "intents").symlink_to(request.config.cache.mkdir("aisle-intents"),
                                                                 target_is_directory=True)  # fmt: skip
    env = {"AISLE_DATABASE_URL": postgres.database(template=pg_demo), "AISLE_CHROMA_URL": chroma_server_url,
           "AISLE_RATE_LIMIT_STORAGE": redis_server.url, "AISLE_RATE_PER_SESSION": f"{PER_SESSION}/minute"}  # fmt: skip
    replicas = Replicas(2, "fake", data / "serve.log", env, data_dir=data)
    try:
        replicas.wait_ready(900)
        yield replicas
    finally:
        replicas.stop()


def _pending_order(store: Store) -> tuple[str, str]:
    with store.session() as s:
        order = s.scalars(select(t.Order).where(t.Order.status == "pending").order_by(t.Order.order_id.desc())).first()
        return order.user_id, order.order_id


def test_one_conversation_across_two_replicas_loses_and_repeats_nothing(pair):
    store = Store(pair.db_url)
    user_id, order_id = _pending_order(store)
    a, b = (httpx.Client(base_url=u, timeout=120) for u in pair.urls)
    sid = a.post("/api/sessions", json={"sign_in": {"user_id": user_id}}).json()["session_id"]
    turns = [
        (b, "running shoes under $150", "Running Shoes"),
        (a, f"where is my order {order_id}?", order_id),
        (b, f"I want to cancel order {order_id} because I ordered it by mistake", "confirm"),
        (a, "yes", "cancelled"),
        (b, "thank you!", None),
    ]
    for client, message, expected in turns:
        turn = chat(client, sid, message)
        assert turn.ok, (message, turn)
        assert expected is None or expected in turn.text, (message, turn.text[:300])
    items = [v.item_id for v in store.products()[0].variants[:2]]
    for client, kind, item in ((a, "like", items[0]), (b, "dislike", items[1])):
        r = client.post("/api/feedback", json={"session_id": sid, "kind": kind, "item_id": item})
        assert r.status_code == 200 and r.json()["recorded"], r.text

    seen = [c.get(f"/api/sessions/{sid}").json() for c in (a, b)]
    assert seen[0] == seen[1]  # both replicas read the same session
    history = seen[0]["history"]
    assert [m["content"] for m in history if m["role"] == "user"] == [m for _, m, _ in turns]
    assert [m["role"] for m in history] == ["user", "assistant"] * len(turns)
    events = [(e.kind, e.item_id) for e in store.events(session_id=sid) if e.kind in ("like", "dislike")]
    assert events == [("like", items[0]), ("dislike", items[1])]
    order = store.order(order_id)
    kinds = [p.transaction_type for p in order.payment_history]
    assert order.status == "cancelled" and kinds.count("refund") == kinds.count("payment") >= 1
    with store.session() as s:
        # every turn and every feedback saved the session once, none twice
        assert s.get(t.ChatSessionRow, sid).version == len(turns) + 2
    store.engine.dispose()


def test_the_rate_limit_holds_for_the_pair(pair):
    with balanced_client(pair, timeout=30) as client:  # each request to the other replica
        sid = client.post("/api/sessions").json()["session_id"]
        codes = [client.get(f"/api/sessions/{sid}").status_code for _ in range(PER_SESSION + 2)]
    # POST /api/sessions names no session yet, so PER_SESSION reads pass, then both replicas refuse.
    assert codes == [200] * PER_SESSION + [429, 429], codes


def test_the_replicas_share_one_chroma_index(pair, chroma_server_url):
    import chromadb

    url = httpx.URL(chroma_server_url)
    collections = chromadb.HttpClient(host=url.host, port=url.port).list_collections()
    # one index, built once: each embedding model's collection (MiniLM, and e5 for Chinese) holds every variant once
    variants = Store(pair.db_url).info()["variants"]
    assert collections and all(c.count() == variants for c in collections), [(c.name, c.count()) for c in collections]
    for u in pair.urls:
        hits = httpx.post(f"{u}/api/products/search", json={"query": "blue cotton t-shirt size M", "k": 3}).json()["hits"]
        assert hits and hits[0]["item_id"] == "9612497925"
