"""A throwaway demo shop for reliability cases that try to break things: the shipped demo store
seeded into a temp dir (never the user's own store), its search index, and fresh copies of it.

Real parts throughout: the SQLite store, the Chroma + BM25 search, the recommender, the intent
classifier; only the LLM is chosen by the caller (the fake one, or the configured local model).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from contextlib import closing
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import make_url

from eval.api_bench import Server
from retrieval.config import Settings
from retrieval.store import Store


class Sandbox:
    def __init__(self, work_dir: Path | None = None, base: Store | None = None, llm=None, classifier=None,
                 search=None, agent: str = "code", chat_model=None) -> None:  # fmt: skip
        self._tmp = None if work_dir else tempfile.mkdtemp(prefix="aisle-reliability-")
        self.work_dir = Path(work_dir or self._tmp)
        self.settings = Settings(data_dir=self.work_dir)
        self.base = Store(self.settings.db_url)
        if base is not None:
            _copy_sqlite(base, self.work_dir / "aisle.db")
        self.base.init()  # seeds the shipped demo data unless copied from `base`
        self._llm = llm
        self._classifier = classifier
        self.agent = agent  # code | tools: the agent `assistant()` builds
        self.chat_model = chat_model  # tools agent: shared by every copy (None: from the settings)
        if search is not None:
            self.search = search  # e.g. keyword-only search in tests (no index to build)

    @cached_property
    def search(self):
        """The catalog index over the base store (built once, ~15 s; copies share it)."""
        from retrieval.search import Search

        return Search.from_settings(self.settings, progress=False)

    @cached_property
    def classifier(self):
        if self._classifier is None:
            from assistant.intents import IntentClassifier

            self._classifier = IntentClassifier.load()
        return self._classifier

    @cached_property
    def llm(self):
        if self._llm is None:
            from assistant.llm.fake import FakeLLM

            self._llm = FakeLLM()
        return self._llm

    def fresh_store(self) -> Store:
        """An independent copy of the base store (SQLite's online backup: fast)."""
        target = self.work_dir / "copies" / f"{uuid.uuid4().hex}.db"
        _copy_sqlite(self.base, target)
        return Store(f"sqlite:///{target}", self.base.data_dir)

    @cached_property
    def recommender(self):
        """The recommender over the base store (~1 s to build; copies share it: cases only read from it)."""
        from recsys import Recommender

        return Recommender(self.base)

    def assistant(self, store: Store):
        """An assistant over `store`, sharing the slow parts (index, recommender, classifier, model)."""
        from assistant.tool_agent import make_assistant

        services = {"search": self.search, "recommender": self.recommender}
        if self.agent == "tools":
            return make_assistant("tools", store, chat_model=self.chat_model, services=services)
        return make_assistant("code", store, llm=self.llm, classifier=self.classifier, services=services)

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _copy_sqlite(source: Store, target: Path) -> None:
    """Copy a store into a new SQLite file: the online backup for SQLite (fast), rows otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(source.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        with closing(sqlite3.connect(url.database)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    else:
        source.copy_to(f"sqlite:///{target}")


class LocalServer(Server):
    """`aisle serve` in a subprocess on 127.0.0.1 over its own copy of the sandbox's shop (fake LLM)."""

    def __init__(self, sandbox: Sandbox, allowed_origins: list[str] | None = None, llm_backend: str = "fake") -> None:
        data_dir = sandbox.work_dir / "server"
        data_dir.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(sandbox.base, data_dir / "aisle.db")
        super().__init__(llm_backend, sandbox.work_dir / "server.log", data_dir=data_dir,
                         env={"AISLE_ALLOWED_ORIGINS": ",".join(allowed_origins or [])})  # fmt: skip
        self.store = Store(f"sqlite:///{data_dir / 'aisle.db'}")


def app_server(sandbox: Sandbox, stack: str = "local", allowed_origins: list[str] | None = None):
    """The app the HTTP cases run against: `LocalServer` on the sandbox's shop (local), or
    replicas on the shared stack's own copy of the same demo shop (postgres); `.store` reads it."""
    if stack == "local":
        return LocalServer(sandbox, allowed_origins)
    from eval.reliability.replicas import start_app

    server = start_app(stack, "fake", sandbox.work_dir / "server.log", env={"AISLE_ALLOWED_ORIGINS": ",".join(allowed_origins or [])})
    server.store = Store(server.db_url)
    return server
