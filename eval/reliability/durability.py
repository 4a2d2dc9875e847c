"""Durability: every write the server acknowledged survives a SIGKILL, whole.

`aisle serve` (subprocess, temp data dir, fake LLM) gets a burst of state-changing requests at
once: confirmed order cancellations through the chat (proposed first, then all the "yes" turns
together), feedback events (POST /api/feedback) and new signed-in sessions (POST /api/sessions).
When half of them have been acknowledged the server is killed with SIGKILL, then restarted on the
same data dir. Checked:

- every acknowledged write is there: the session exists (and is signed in as its customer), the
  feedback event is stored, the cancelled order is `cancelled`;
- every order touched, acknowledged or cut off mid-flight, is all or nothing: `cancelled` with a
  refund for each payment, or still `pending` with no refund;
- every foreign key holds, and on SQLite `PRAGMA integrity_check` is ok.

The same checks run on any store database: the server's own SQLite file by default, or the
PostgreSQL database it was given (AISLE_DATABASE_URL; `--stack postgres`, tests/test_postgres.py).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from eval.reliability.base import CategoryResult, Options
from eval.reliability.client import async_client, chat, chat_async
from eval.reliability.client import client as client_of


@dataclass
class Acks:
    cancelled: list[str] = field(default_factory=list)  # order ids
    feedback: list[tuple[str, str]] = field(default_factory=list)  # (session id, item id)
    sessions: list[tuple[str, str]] = field(default_factory=list)  # (session id, user id)
    touched: list[str] = field(default_factory=list)  # orders whose "yes" was sent
    sent: int = 0

    @property
    def count(self) -> int:
        return len(self.cancelled) + len(self.feedback) + len(self.sessions)


def run(options: Options) -> CategoryResult:
    from eval.reliability.replicas import start_app

    cancellations, feedback, sessions = (6, 20, 20) if options.quick else (20, 100, 100)
    result = CategoryResult(category="durability", tried=0, failures=0)
    data_dir = Path(tempfile.mkdtemp(prefix="aisle-reliability-durability-"))
    log_path = Path(tempfile.gettempdir()) / "aisle-reliability-durability.log"
    server = start_app(options.stack, "fake", log_path, data_dir=data_dir)
    try:
        server.wait_ready(900)
        acks = crash_during_burst(server, cancellations, feedback, sessions, result)
        server.start()
        server.wait_ready(900)
        verify(server.url, server.db_url, acks, result)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    result.notes.append(f"{cancellations} cancellations, {feedback} feedback events, {sessions} sessions sent at once; "
                        f"SIGKILL of every app process after half were acknowledged; stack {options.stack}; server log: {log_path}")  # fmt: skip
    return result


def _engine(db_url: str):
    from retrieval.store.db import make_engine

    return make_engine(db_url)


def pending_orders(db_url: str, n: int) -> list[tuple[str, str]]:
    """(user id, order id) of pending orders, one per customer."""
    engine = _engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT user_id, order_id FROM orders WHERE status = 'pending' ORDER BY order_id")).all()
    engine.dispose()
    seen, out = set(), []
    for user_id, order_id in rows:
        if user_id not in seen:
            seen.add(user_id)
            out.append((user_id, order_id))
    return out[:n]


def crash_during_burst(server, cancellations: int, feedback: int, sessions: int, result: CategoryResult) -> Acks:
    """Prepare the cancellations, send every write at once, SIGKILL the server half way."""
    import httpx

    targets = pending_orders(server.db_url, cancellations)
    engine = _engine(server.db_url)
    with engine.connect() as conn:
        users = list(conn.scalars(text("SELECT user_id FROM users ORDER BY user_id LIMIT :n"), {"n": sessions}))
        items = list(conn.scalars(text("SELECT item_id FROM variants ORDER BY item_id LIMIT :n"), {"n": feedback}))
    engine.dispose()
    proposals = []
    with client_of(server, timeout=120) as client:
        for user_id, order_id in targets:
            sid = client.post("/api/sessions", json={"sign_in": {"user_id": user_id}}).json()["session_id"]
            turn = chat(client, sid, f"I want to cancel order {order_id} because I ordered it by mistake")
            result.tried += 1
            if not turn.ok or "confirm" not in turn.text.lower():
                result.fail(f"no cancellation proposal for {order_id}: {turn.text[:120]!r}")
                continue
            proposals.append((sid, order_id))
        feedback_session = client.post("/api/sessions").json()["session_id"]
    acks = Acks()
    total = len(proposals) + len(items) + len(users)
    asyncio.run(_burst(server, proposals, feedback_session, items, users, acks, total))
    result.figures.update({"writes_sent": acks.sent, "acknowledged_before_kill": acks.count, "writes_planned": total})
    return acks


async def _burst(server, proposals, feedback_session, items, users, acks: Acks, total: int) -> None:
    import httpx

    killed = asyncio.Event()

    async def cancel(client, sid: str, order_id: str) -> None:
        acks.touched.append(order_id)
        acks.sent += 1
        turn = await chat_async(client, sid, "yes")
        if turn.ok and "cancelled" in turn.text and not killed.is_set():
            acks.cancelled.append(order_id)

    async def like(client, item_id: str) -> None:
        acks.sent += 1
        try:
            r = await client.post("/api/feedback", json={"session_id": feedback_session, "kind": "like", "item_id": item_id})
        except httpx.HTTPError:
            return
        if r.status_code == 200 and r.json().get("recorded") and not killed.is_set():
            acks.feedback.append((feedback_session, item_id))

    async def new_session(client, user_id: str) -> None:
        acks.sent += 1
        try:
            r = await client.post("/api/sessions", json={"sign_in": {"user_id": user_id}})
        except httpx.HTTPError:
            return
        if r.status_code == 201 and not killed.is_set():
            acks.sessions.append((r.json()["session_id"], user_id))

    planned = [(kind, n) for kind, n in (("cancelled", len(proposals)), ("feedback", len(items)), ("sessions", len(users))) if n]

    async def killer() -> None:
        # Half of all writes acknowledged, at least one of each kind (so each kind's check has work).
        while acks.count < total // 2 or not all(getattr(acks, kind) for kind, _ in planned):
            if acks.sent >= total and acks.count >= total:
                break
            await asyncio.sleep(0.005)
        killed.set()  # acknowledgements arriving from now on are not counted: the kill races them
        server.kill()

    limits = httpx.Limits(max_connections=64)
    async with async_client(server, timeout=60, limits=limits) as client:
        jobs = [cancel(client, sid, oid) for sid, oid in proposals]
        jobs += [like(client, i) for i in items] + [new_session(client, u) for u in users]
        # Interleave the kinds so the kill lands among all of them.
        order = [j for trio in zip(jobs[: len(proposals)], jobs[len(proposals) : len(proposals) + len(items)],
                                   jobs[len(proposals) + len(items) :]) for j in trio]  # fmt: skip
        rest = [j for j in jobs if j not in order]
        watcher = asyncio.create_task(killer())
        await asyncio.gather(*order, *rest, return_exceptions=True)
        if not killed.is_set():  # everything was acknowledged before half? (cannot happen) kill anyway
            watcher.cancel()
            killed.set()
            server.kill()


def verify(url: str, db_url: str, acks: Acks, result: CategoryResult) -> None:
    """After the restart: every acknowledged write present, touched orders whole, database sound."""
    import httpx

    with httpx.Client(base_url=url, timeout=60) as client:
        for sid, user_id in acks.sessions:
            result.tried += 1
            r = client.get(f"/api/sessions/{sid}")
            if r.status_code != 200 or (r.json().get("user") or {}).get("user_id") != user_id:
                result.fail(f"acknowledged session {sid} of {user_id} lost: HTTP {r.status_code}")
    engine = _engine(db_url)
    with engine.connect() as conn:
        events = {tuple(r) for r in conn.execute(text("SELECT session_id, item_id FROM events WHERE kind = 'like'"))}
        for sid, item_id in acks.feedback:
            result.tried += 1
            if (sid, item_id) not in events:
                result.fail(f"acknowledged feedback on {item_id} lost")
        for order_id in acks.touched:
            result.tried += 1
            status = conn.scalar(text("SELECT status FROM orders WHERE order_id = :o"), {"o": order_id})
            kinds = list(conn.scalars(text("SELECT transaction_type FROM payments WHERE order_id = :o"), {"o": order_id}))
            payments, refunds = kinds.count("payment"), kinds.count("refund")
            if order_id in acks.cancelled and status != "cancelled":
                result.fail(f"acknowledged cancellation of {order_id} lost: status {status}")
            elif status == "cancelled" and refunds != payments:
                result.fail(f"{order_id} cancelled with {refunds} refunds for {payments} payments (half a write)")
            elif status == "pending" and refunds:
                result.fail(f"{order_id} still pending but has {refunds} refunds (half a write)")
        result.tried += 1
        integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar() if conn.dialect.name == "sqlite" else "ok"
        broken_keys = broken_foreign_keys(conn)
        if integrity != "ok" or broken_keys:
            result.fail(f"database damaged: integrity_check {integrity!r}, broken foreign keys: {broken_keys[:5]}")
    engine.dispose()
    result.figures["acknowledged_checked"] = acks.count
    result.figures["in_flight_orders"] = len(set(acks.touched) - set(acks.cancelled))


def broken_foreign_keys(conn) -> list[str]:
    """Rows whose foreign key names no row, on any database (SQLite's foreign_key_check, in SQL)."""
    from sqlalchemy import and_, func, select

    from retrieval.store import tables as t

    broken = []
    for table in t.Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            child, parent = fk.parent, fk.column
            orphans = conn.scalar(select(func.count()).select_from(table.outerjoin(parent.table, child == parent))
                                  .where(and_(child.is_not(None), parent.is_(None))))  # fmt: skip
            if orphans:
                broken.append(f"{table.name}.{child.name}: {orphans}")
    return broken
