"""PostgreSQL as the store, against a real server the test session starts on loopback
(eval/stack.py: Debian's postgresql, initdb in a temp dir). Seeding (conftest's `pg_demo`), the
same data as SQLite, replicas seeding at once, the order writes' isolation, the sessions'
optimistic locking, and the SIGKILL durability check. The order rules themselves run on both
engines in tests/test_assistant_orders.py."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from assistant.orders import OrderService, PolicyError
from assistant.sessions import SessionConflict, SessionStore
from retrieval.store import Store, is_store_busy, retry_when_busy
from retrieval.store import tables as t


@pytest.fixture
def pg_store(postgres, pg_demo):
    store = Store(postgres.database(template=pg_demo))
    yield store
    store.engine.dispose()


def _together(n: int, work) -> list:
    """Run `work(i)` on n threads released at once; each result or the exception it raised."""
    barrier, out = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = work(i)
        except Exception as exc:  # noqa: BLE001 — collected for the assertions
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    return out


def _plain(record) -> dict:
    """A record as JSON values, datetimes as UTC ISO strings (SQLite keeps them naive)."""
    import json

    return json.loads(record.model_dump_json().replace("+00:00", "").replace("Z\"", "\""))


def test_postgres_holds_the_same_shop_as_sqlite(pg_store, seeded_store):
    assert "psycopg" in pg_store.engine.dialect.driver
    assert pg_store.info() == seeded_store.info()
    assert [_plain(p) for p in pg_store.products()] == [_plain(p) for p in seeded_store.products()]
    for user in ("yusuf_rossi_9620", "mia_garcia_4516"):
        assert _plain(pg_store.user(user)) == _plain(seeded_store.user(user))
        assert [_plain(o) for o in pg_store.orders_of(user)] == [_plain(o) for o in seeded_store.orders_of(user)]
    assert pg_store.user_by_email("YUSUF.ROSSI7301@example.com").user_id == "yusuf_rossi_9620"


def test_replicas_starting_together_seed_once(postgres):
    url = postgres.database()
    stores = [Store(url) for _ in range(3)]
    seeded = _together(3, lambda i: stores[i].init())
    assert sorted(seeded, key=str) == [False, False, True], seeded
    assert stores[0].info()["orders"] == 1000
    for s in stores:
        s.engine.dispose()


def test_copy_to_postgres_continues_ids(pg_store, postgres):
    from retrieval.store import EventRecord

    copy = pg_store.copy_to(postgres.database())
    first = copy.add_event(EventRecord(kind="like", item_id="9612497925", session_id="s"))
    assert first.event_id >= 1 and copy.add_event(EventRecord(kind="like", item_id="9612497925")).event_id == first.event_id + 1
    copy.engine.dispose()


def _pending_order(store: Store) -> tuple[str, str, int]:
    with store.session() as s:
        order = s.scalars(select(t.Order).where(t.Order.status == "pending").order_by(t.Order.order_id)).first()
        return order.user_id, order.order_id, len(order.payments)


def test_a_write_over_a_changed_order_is_refused_as_transient(pg_store):
    user_id, order_id, _ = _pending_order(pg_store)
    with pytest.raises(OperationalError) as refused:
        with pg_store.session() as s:
            order = s.get(t.Order, order_id)  # this transaction's snapshot: pending
            assert order.status == "pending"
            OrderService(pg_store).cancel_pending_order(user_id, order_id, "ordered by mistake")  # another connection
            order.status = "pending (item modified)"
            s.flush()
    assert is_store_busy(refused.value)  # so retry_when_busy runs it again, on fresh data
    assert pg_store.order(order_id).status == "cancelled"


def test_racing_cancellations_of_one_order_refund_it_once(pg_store):
    user_id, order_id, payments = _pending_order(pg_store)
    cancel = retry_when_busy(OrderService(pg_store).cancel_pending_order)
    results = _together(6, lambda i: cancel(user_id, order_id, "no longer needed"))
    done = [r for r in results if not isinstance(r, Exception)]
    assert len(done) == 1, results
    assert all(isinstance(r, PolicyError) for r in results if r not in done), results
    order = pg_store.order(order_id)
    kinds = [p.transaction_type for p in order.payment_history]
    assert order.status == "cancelled" and kinds.count("refund") == kinds.count("payment") == payments


def test_dry_run_and_refused_actions_leave_postgres_unchanged(pg_store):
    user_id, order_id, _ = _pending_order(pg_store)
    before = pg_store.order(order_id)
    OrderService(pg_store, dry_run=True).cancel_pending_order(user_id, order_id, "ordered by mistake")
    with pytest.raises(PolicyError):
        OrderService(pg_store).cancel_pending_order(user_id, order_id, "too expensive")
    assert pg_store.order(order_id) == before


def test_sessions_optimistic_locking_on_postgres(pg_store):
    sessions = SessionStore(pg_store)
    state = sessions.create(user_id="yusuf_rossi_9620")
    loaded, version = sessions.load(state.session_id)
    loaded.remember("user", "hello")
    new_version = sessions.save(loaded, version)
    with pytest.raises(SessionConflict):
        sessions.save(loaded, version)  # a stale copy
    # Several processes saving the same version at once: exactly one wins, the rest are told.
    results = _together(5, lambda i: sessions.save(loaded, new_version))
    assert sum(r == new_version + 1 for r in results) == 1, results
    assert all(isinstance(r, SessionConflict) for r in results if r != new_version + 1), results
    assert sessions.load(state.session_id)[1] == new_version + 1


def test_acknowledged_writes_survive_sigkill_on_postgres(tmp_path, seeded_store, postgres, pg_demo, request):
    from tests.test_reliability_durability import check_durability, light_server

    server = light_server(tmp_path, seeded_store, request, db_url=postgres.database(template=pg_demo))
    try:
        check_durability(server)
    finally:
        server.kill()
