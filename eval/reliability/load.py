"""Load: many concurrent signed-in shoppers over real HTTP, no errors, no cross-session leakage.

`aisle serve` runs in a subprocess (temp data dir, the asked LLM backend); N sessions, each
signed in as a different demo customer, say the turns of eval/data/reliability/load_turns.json
at once (search, recommendations, FAQ, their own order status, one product question that needs
the model). Full: 50 sessions × 20 turns; quick: 10 × 5. Checked:

- every turn answers 200 with a complete event stream and no crash apology (an error otherwise);
- no reply in session i names another session's customer (email, full name) or their orders;
- each session's stored history (GET /api/sessions/{id}) holds only its own messages, and its
  signed-in user is still its own customer.

Figures: turn latency p50/p95/p99 (request to last event), first text p95, requests per second.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from eval.reliability.base import CategoryResult, Options
from eval.reliability.client import async_client, chat_async
from eval.stats import percentile

USES_LLM = True
TURNS_FILE = Path(__file__).resolve().parents[1] / "data" / "reliability" / "load_turns.json"
FULL, QUICK = 50, 10  # sessions


def run(options: Options) -> CategoryResult:
    from eval.api_bench import BACKENDS
    from eval.reliability.replicas import start_app

    script = json.loads(TURNS_FILE.read_text(encoding="utf-8"))
    turns = script["turns"][: script["quick"]] if options.quick else script["turns"]
    sessions = QUICK if options.quick else FULL
    result = CategoryResult(category="load", tried=0, failures=0)
    log_path = Path(tempfile.gettempdir()) / f"aisle-reliability-load-{options.llm}.log"
    server = start_app(options.stack, BACKENDS.get(options.llm, options.llm), log_path)
    try:
        server.wait_ready(900)
        asyncio.run(_run(server, sessions, turns, result))
    finally:
        server.stop()
    result.notes.append(f"{sessions} sessions × {len(turns)} turns at once, LLM backend {options.llm} "
                        f"({sum(1 for i in script['llm_turns'] if i < len(turns))} turn(s) per session need the model), "
                        f"{len(server.logs)} app process(es), stack {options.stack}; "
                        f"server log: {log_path}")  # fmt: skip
    return result


class Shopper:
    def __init__(self, user: dict, orders: list[str]) -> None:
        self.user = user
        self.orders = orders
        self.session_id = ""
        self.sent: list[str] = []
        self.replies: list[str] = []

    def script(self, turns: list[str]) -> list[str]:
        first, second = self.orders[0], self.orders[-1]
        return [t.replace("{order_id2}", second).replace("{order_id}", first) for t in turns]

    def secrets(self) -> list[str]:
        """What another session must never see of this customer."""
        return [self.user["email"], self.user["name"], *self.orders]


async def _run(server, sessions: int, turns: list[str], result: CategoryResult) -> None:
    import httpx

    from retrieval.store import Store

    store = Store(server.db_url)
    limits = httpx.Limits(max_connections=sessions + 4)
    async with async_client(server, timeout=1800, limits=limits) as client:
        users = _customers(store, sessions + 1)
        shoppers = [Shopper(u, [o.order_id for o in store.orders_of(u["user_id"])] or ["#W0000000"]) for u in users]
        for shopper in shoppers:
            created = await client.post("/api/sessions", json={"sign_in": {"user_id": shopper.user["user_id"]}})
            shopper.session_id = created.json()["session_id"]
        latencies, firsts = [], []

        async def converse(shopper: Shopper) -> None:
            for message in shopper.script(turns):
                turn = await chat_async(client, shopper.session_id, message)
                result.tried += 1
                shopper.sent.append(message)
                shopper.replies.append(turn.text)
                if not turn.ok:
                    result.fail(f"{shopper.user['user_id']}: {message!r} → HTTP {turn.status}, done={turn.done}, "
                                f"{turn.error or turn.text[:120]!r}")  # fmt: skip
                    continue
                latencies.append(turn.latency)
                if turn.first_text is not None:
                    firsts.append(turn.first_text)

        # One shopper first, untimed (its turns are still checked): loads what each kind of turn
        # needs (recommender, FAQ index, model), as `aisle bench api` does.
        loop = asyncio.get_running_loop()
        start = loop.time()
        await converse(shoppers[-1])
        warmup = loop.time() - start
        latencies.clear(), firsts.clear()
        start = loop.time()
        await asyncio.gather(*(converse(s) for s in shoppers[:-1]))
        wall = loop.time() - start
        for shopper in shoppers:
            await _check_isolation(client, shopper, shoppers, result)
    result.figures.update({
        "sessions": sessions, "turns_per_session": len(turns), "wall_s": round(wall, 1),
        "requests_per_s": round(len(latencies) / wall, 2) if wall else 0.0,
        "latency_p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "latency_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "latency_p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "first_text_p95_ms": round(1000 * percentile(firsts, 0.95), 1), "warmup_s": round(warmup, 1),
    })  # fmt: skip


def _customers(store, n: int) -> list[dict]:
    from sqlalchemy import select

    from retrieval.store import tables as t

    with store.session() as s:
        rows = s.scalars(select(t.User).order_by(t.User.user_id).limit(n)).all()
        return [{"user_id": u.user_id, "name": f"{u.first_name} {u.last_name}", "email": u.email} for u in rows]


async def _check_isolation(client, shopper: Shopper, everyone: list[Shopper], result: CategoryResult) -> None:
    result.tried += 1
    for other in everyone:
        if other is shopper:
            continue
        for secret in other.secrets():
            for reply in shopper.replies:
                if secret and secret in reply and secret not in shopper.secrets():
                    result.fail(f"session of {shopper.user['user_id']} was shown {secret!r} of {other.user['user_id']}")
                    return
    info = (await client.get(f"/api/sessions/{shopper.session_id}")).json()
    if (info.get("user") or {}).get("user_id") != shopper.user["user_id"]:
        result.fail(f"session of {shopper.user['user_id']} is now signed in as {info.get('user')}")
        return
    history = info.get("history", [])
    foreign = [m["content"] for m in history if m.get("role") == "user" and m["content"] not in shopper.sent]
    if foreign:
        result.fail(f"history of {shopper.user['user_id']}'s session holds messages it never sent: {foreign[:2]}")
        return
    others = {s for o in everyone if o is not shopper for s in o.secrets()} - set(shopper.secrets())
    leaked = [s for m in history for s in others if s in m["content"]]
    if leaked:
        result.fail(f"history of {shopper.user['user_id']}'s session names other customers: {leaked[:3]}")
