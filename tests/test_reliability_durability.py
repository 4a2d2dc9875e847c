"""Durability: acknowledged writes survive SIGKILL of a real server process, whole.

A real uvicorn process serves the app (no Gradio, nothing warmed: only what the writes need) on
a copy of the demo store; confirmed cancellations through the chat and new signed-in sessions go
at once, the process is SIGKILLed half way, restarted on the same files, and
eval/reliability/durability.py's checks run (acknowledged writes present, orders all or nothing,
foreign keys, `PRAGMA integrity_check`). tests/test_postgres.py runs the same on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from eval.reliability.base import CategoryResult
from eval.reliability.durability import crash_during_burst, verify

APP = ("import uvicorn; from ui.app import create_app; "
       "uvicorn.run(create_app(gradio=False, warm=False), host='127.0.0.1', port={port}, log_level='warning')")  # fmt: skip


class LightServer:
    def __init__(self, data_dir: Path, port: int, db_url: str | None = None) -> None:
        self.tmp, self.port, self.url = data_dir, port, f"http://127.0.0.1:{port}"
        # The demo store: the burst signs sessions in by user id (AISLE_DEMO_SIGN_IN).
        self.env = {**os.environ, "AISLE_DATA_DIR": str(data_dir), "AISLE_LLM_BACKEND": "fake", "AISLE_DEMO_SIGN_IN": "true"}
        self.env.pop("AISLE_DATABASE_URL", None)
        if db_url:
            self.env["AISLE_DATABASE_URL"] = db_url
        self.db_url = db_url or f"sqlite:///{data_dir / 'aisle.db'}"
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", APP.format(port=self.port)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the server exited"
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise TimeoutError("server not up")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


def light_server(tmp_path: Path, seeded_store, request, db_url: str | None = None) -> LightServer:
    """A server on a copy of the demo store in its own SQLite file, or on the (seeded) database at `db_url`."""
    from eval.stack import free_port

    if db_url is None:
        seeded_store.copy_to(f"sqlite:///{tmp_path / 'aisle.db'}").engine.dispose()
    # The trained intent classifier is cached across runs (it trains in seconds on first use).
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "intents").symlink_to(request.config.cache.mkdir("aisle-intents"), target_is_directory=True)
    return LightServer(tmp_path, free_port(), db_url)


@pytest.fixture
def server(tmp_path, seeded_store, request):
    s = light_server(tmp_path, seeded_store, request)
    yield s
    s.kill()


def check_durability(server: LightServer) -> None:
    result = CategoryResult(category="durability", tried=0, failures=0)
    acks = crash_during_burst(server, cancellations=4, feedback=8, sessions=16, result=result)
    assert acks.cancelled and acks.sessions and acks.feedback, "the kill came before every kind was acknowledged"
    server.start()
    verify(server.url, server.db_url, acks, result)
    assert result.failures == 0, result.examples
    assert result.tried >= len(acks.sessions) + len(acks.feedback) + len(acks.touched) + 1


def test_acknowledged_writes_survive_sigkill_whole(server):
    check_durability(server)
