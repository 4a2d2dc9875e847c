"""Where the server-based categories run their app: one `aisle serve` on its own SQLite file and
embedded Chroma (`--stack local`, the default), or the scaled-out shape (`--stack postgres`):
REPLICAS `aisle serve` processes sharing one PostgreSQL database, one Chroma server and one Redis
for rate limits, which the run starts on loopback (eval/stack.py) and stops at the end.

`start_app` returns either shape with one interface: `url` (the first replica), `urls` (all of
them; eval/reliability/client.py's clients send each request to the next), `db_url`,
`wait_ready`, `kill` (SIGKILL, all), `start` (after a kill), `stop`, `logs`.
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from eval.api_bench import Server

STACKS = ("local", "postgres")
REPLICAS = 2
_stack = None


class Stack:
    """The shared servers of `--stack postgres`, with the demo store seeded once as a template
    database; every app gets a fresh copy of it."""

    TEMPLATE = "aisle_demo"

    def __init__(self) -> None:
        from eval.stack import ChromaServer, LocalPostgres, RedisServer
        from retrieval.store import Store

        self.servers = []
        try:
            self.postgres = self._keep(LocalPostgres())
            self.chroma = self._keep(ChromaServer())
            self.redis = self._keep(RedisServer())
            store = Store(self.postgres.database(self.TEMPLATE))
            store.init()
            store.engine.dispose()  # a template database must have no connections
        except BaseException:
            self.stop()
            raise

    def _keep(self, server):
        self.servers.append(server)
        return server

    def env(self) -> dict[str, str]:
        return {"AISLE_DATABASE_URL": self.postgres.database(template=self.TEMPLATE),
                "AISLE_CHROMA_URL": self.chroma.url, "AISLE_RATE_LIMIT_STORAGE": self.redis.url}  # fmt: skip

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.servers = []


def stack() -> Stack:
    """The run's stack, started on first use and stopped when the process exits."""
    global _stack
    if _stack is None:
        _stack = Stack()
        atexit.register(stop_stack)
    return _stack


def stop_stack() -> None:
    global _stack
    if _stack is not None:
        _stack.stop()
        _stack = None


class Replicas:
    """N `aisle serve` processes on one shared environment (database, Chroma, rate-limit storage).
    The first one starts alone and builds the search index; the others start once it is ready."""

    def __init__(self, n: int, backend: str | None, log_path: Path, env: dict[str, str],
                 data_dir: Path | None = None, log_level: str = "warning") -> None:  # fmt: skip
        self.n, self.backend, self.env, self.log_level = n, backend, env, log_level
        self._own_dir = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="aisle-replicas-"))
        self.log_path = log_path
        self.servers = [self._server(0)]

    def _server(self, i: int) -> Server:
        log = self.log_path if i == 0 else self.log_path.with_name(f"{self.log_path.stem}.replica{i}{self.log_path.suffix}")
        return Server(self.backend, log, env=self.env, data_dir=self.data_dir / f"replica{i}", log_level=self.log_level)

    @property
    def url(self) -> str:
        return self.servers[0].url

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]

    @property
    def db_url(self) -> str:
        return self.servers[0].db_url

    @property
    def tmp(self) -> Path:
        return self.servers[0].tmp

    @property
    def logs(self) -> list[Path]:
        return [Path(s.log.name) for s in self.servers]

    def wait_ready(self, timeout: float) -> float:
        took = self.servers[0].wait_ready(timeout)
        while len(self.servers) < self.n:
            self.servers.append(self._server(len(self.servers)))
        return max([took] + [s.wait_ready(timeout) for s in self.servers[1:]])

    def kill(self) -> None:
        for s in self.servers:
            s.kill()

    def start(self) -> None:
        for s in self.servers:
            s.start()

    def stop(self) -> None:
        for s in self.servers:
            s.stop()
        if self._own_dir:
            import shutil

            shutil.rmtree(self.data_dir, ignore_errors=True)


def start_app(stack_name: str, backend: str | None, log_path: Path, env: dict[str, str] | None = None,
              data_dir: Path | None = None, log_level: str = "warning") -> Server | Replicas:  # fmt: skip
    """`aisle serve` for a category: one process (local) or REPLICAS on the shared stack (postgres).
    `env` (the category's own settings) wins over the stack's."""
    if stack_name == "local":
        return Server(backend, log_path, env=env, data_dir=data_dir, log_level=log_level)
    if stack_name != "postgres":
        raise ValueError(f"unknown stack {stack_name!r}; choose from {STACKS}")
    return Replicas(REPLICAS, backend, log_path, {**stack().env(), **(env or {})}, data_dir=data_dir, log_level=log_level)
