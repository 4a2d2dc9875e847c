"""`aisle bench api`: throughput and latency of `/api/chat` over real HTTP, N concurrent shoppers.

For each backend asked for, it starts `aisle serve` as a subprocess on 127.0.0.1 (a free port, a
temp data dir, AISLE_LLM_BACKEND set), waits for /readyz, signs N sessions in as demo customers,
warms up (one untimed pass of the turns: model loading is reported apart), then every session
says the turns of eval/data/api_bench/turns.json in order, all sessions at once. A request's
latency runs from sending it to the last server-sent event; time to first text is reported too.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from eval.stats import percentile
from eval.stack import free_port

TURNS_FILE = Path(__file__).parent / "data" / "api_bench" / "turns.json"
BACKENDS = {"fake": "fake", "default": None}  # None: the configured default (llama_cpp, qwen1.5b)


class Server:
    """`aisle serve` in a subprocess, with its own data dir (models shared with the user's, read-only use).

    `env` adds settings (e.g. AISLE_CHROMA_URL); `data_dir` keeps the data in a given folder
    (kept after stop, and reused by `start()` after `kill()`, as a restart after a crash)."""

    def __init__(self, backend: str | None, log_path: Path, env: dict[str, str] | None = None,
                 data_dir: Path | None = None, log_level: str = "warning") -> None:  # fmt: skip
        from retrieval.config import get_settings

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._own_dir = data_dir is None
        self.tmp = data_dir or Path(tempfile.mkdtemp(prefix="aisle-bench-api-"))
        self.tmp.mkdir(parents=True, exist_ok=True)
        models = get_settings().models_dir
        if models.is_dir() and not (self.tmp / "models").exists():  # reuse assembled/trained models instead of rebuilding them per run
            (self.tmp / "models").symlink_to(models, target_is_directory=True)
        # The demo shop: shoppers sign in as demo customers by user id (AISLE_DEMO_SIGN_IN; `env` may switch it off).
        self.env = {**os.environ, "AISLE_DATA_DIR": str(self.tmp), "AISLE_PORT": str(self.port), "AISLE_HOST": "127.0.0.1",
                    "AISLE_DEMO_SIGN_IN": "true"}  # fmt: skip
        for name in ("AISLE_DATABASE_URL", "AISLE_CHROMA_URL", "AISLE_RANKER_URL"):  # its own store and index
            self.env.pop(name, None)
        if backend:
            self.env["AISLE_LLM_BACKEND"] = backend
        else:
            self.env.pop("AISLE_LLM_BACKEND", None)
        self.env.update(env or {})
        self.log_level = log_level
        self.log = open(log_path, "wb")
        self.start()

    def start(self) -> None:
        cmd = [sys.executable, "-m", "ui.cli", "serve", "--log-level", self.log_level]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what a power cut or the OOM killer does."""
        self.proc.kill()
        self.proc.wait(30)

    def wait_ready(self, timeout: float) -> float:
        import httpx

        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"aisle serve exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"aisle serve not ready after {timeout:.0f} s; see {self.log.name}")

    @property
    def logs(self) -> list[Path]:
        return [Path(self.log.name)]

    @property
    def db_url(self) -> str:
        """The server's store database: the one it was given, or its own SQLite file."""
        return self.env.get("AISLE_DATABASE_URL") or f"sqlite:///{self.tmp / 'aisle.db'}"

    def an_order_of(self, user_ids: list[str]) -> list[str]:
        """One order id per shopper, read from the server's database."""
        from retrieval.store import Store

        store = Store(self.db_url)
        return [next((o.order_id for o in store.orders_of(u)), "#W0000000") for u in user_ids]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)
        self.log.close()
        if self._own_dir:
            shutil.rmtree(self.tmp, ignore_errors=True)


async def _turn(client, session_id: str, message: str) -> dict:
    start = time.perf_counter()
    first_text = None
    event = None
    ok = False
    async with client.stream("POST", "/api/chat", json={"session_id": session_id, "message": message}) as response:
        if response.status_code != 200:
            await response.aread()
            return {"ok": False, "latency": time.perf_counter() - start, "first_text": None}
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
                if event == "text" and first_text is None:
                    first_text = time.perf_counter() - start
                ok = ok or event == "done"
    return {"ok": ok, "latency": time.perf_counter() - start, "first_text": first_text}


async def _shopper(client, session_id: str, turns: list[str], results: list[dict]) -> None:
    for message in turns:
        try:
            results.append(await _turn(client, session_id, message))
        except Exception as exc:  # a refused or broken request counts as an error, the run goes on
            results.append({"ok": False, "latency": float("nan"), "first_text": None, "error": repr(exc)})


async def _run(server: Server, sessions: int, turns: list[str], timeout: float) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=sessions + 2)
    async with httpx.AsyncClient(base_url=server.url, timeout=timeout, limits=limits) as client:
        users = (await client.get("/api/users/demo", params={"n": sessions})).json()
        ids = []
        for user in users:
            created = await client.post("/api/sessions", json={"sign_in": {"user_id": user["user_id"]}})
            ids.append(created.json()["session_id"])
        orders = server.an_order_of([u["user_id"] for u in users])
        scripts = [[t.replace("{order_id}", order) for t in turns] for order in orders]
        start = time.perf_counter()
        await _shopper(client, ids[0], scripts[0], [])  # warm-up, untimed: loads what each kind of turn needs
        warmup = time.perf_counter() - start
        results: list[dict] = []
        start = time.perf_counter()
        await asyncio.gather(*(_shopper(client, sid, script, results) for sid, script in zip(ids, scripts)))
        wall = time.perf_counter() - start
    done = [r for r in results if r["ok"]]
    latencies = [r["latency"] for r in done]
    firsts = [r["first_text"] for r in done if r["first_text"] is not None]
    return {
        "requests": len(results),
        "errors": len(results) - len(done),
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(done) / wall, 2) if wall else None,
        "latency_p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "latency_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "first_text_p95_ms": round(1000 * percentile(firsts, 0.95), 1),
        "warmup_s": round(warmup, 2),
    }


def main(
    backends: Annotated[str, typer.Option(help="Comma-separated: fake (AISLE_LLM_BACKEND=fake) and/or default.")] = "fake,default",
    sessions: Annotated[int, typer.Option(min=1, help="Concurrent sessions.")] = 10,
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for the server to be ready.")] = 600.0,
    request_timeout: Annotated[float, typer.Option(help="Seconds one request may take.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Requests per second and p95 latency of /api/chat with N concurrent sessions, per LLM backend."""
    import httpx

    turns = json.loads(TURNS_FILE.read_text(encoding="utf-8"))["turns"]
    names = [b.strip() for b in backends.split(",") if b.strip()]
    unknown = [b for b in names if b not in BACKENDS]
    if unknown or not names:
        raise typer.BadParameter(f"unknown backend(s) {unknown}; use {', '.join(BACKENDS)}", param_hint="--backends")
    runs = {}
    for name in names:
        log_path = Path(tempfile.gettempdir()) / f"aisle-bench-api-{name}.log"
        server = Server(BACKENDS[name], log_path)
        try:
            typer.echo(f"[{name}] starting aisle serve on {server.url} (log: {log_path})", err=True)
            ready = server.wait_ready(ready_timeout)
            typer.echo(f"[{name}] ready after {ready:.1f} s; {sessions} sessions × {len(turns)} turns", err=True)
            readiness = httpx.get(server.url + "/readyz", timeout=10).json()
            if not readiness.get("llm"):
                typer.echo(f"[{name}] warning: the LLM is not loaded ({readiness.get('problems')}); "
                           "its turns get the fallback reply", err=True)  # fmt: skip
            result = asyncio.run(_run(server, sessions, turns, request_timeout))
            runs[name] = {"ready_s": round(ready, 1), "llm_backend": readiness.get("llm_backend"),
                          "llm_loaded": bool(readiness.get("llm")), **result}  # fmt: skip
        finally:
            server.stop()
    report = {"endpoint": "/api/chat", "sessions": sessions, "turns_per_session": len(turns), "turns": turns,
              "cpus": os.cpu_count(), "runs": runs}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report))
        return
    for name, r in runs.items():
        typer.echo(f"{name:8s} {r['requests_per_s']:6.2f} req/s  p50 {r['latency_p50_ms']:8.1f} ms  "
                   f"p95 {r['latency_p95_ms']:8.1f} ms  first text p95 {r['first_text_p95_ms']:8.1f} ms  "
                   f"errors {r['errors']}/{r['requests']}")  # fmt: skip
