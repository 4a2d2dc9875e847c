from __future__ import annotations

import os
from pathlib import Path

import pytest

import retrieval.config  # noqa: F401  (offline environment for every test)

# Next to the checkout by default; AISLE_SHARED_DATA points elsewhere (e.g. from a git worktree).
SHARED_DATA = Path(os.environ.get("AISLE_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """Every test gets its own data dir unless it sets one; settings are re-read per test."""
    from retrieval.config import get_settings

    if "AISLE_DATA_DIR" not in os.environ:
        monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path_factory.mktemp("aisle-data")))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared development data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory):
    """One demo store for read-only tests (seeding takes ~1.5 s)."""
    from retrieval.store import Store

    path = tmp_path_factory.mktemp("store") / "aisle.db"
    store = Store(f"sqlite:///{path}")
    store.init()
    return store


@pytest.fixture(scope="session")
def packaged_gguf(request) -> Path:
    """The default local model's GGUF file, assembled once into pytest's cache; skips if its packages are missing."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (it is a project dependency)")
    from assistant.llm.assemble import ModelAssemblyError, ensure_model

    try:
        return ensure_model("qwen1.5b", request.config.cache.mkdir("aisle-llm-models"), progress=False)
    except ModelAssemblyError as exc:
        pytest.skip(f"the packaged model is not installed: {exc}")


@pytest.fixture(scope="session")
def local_llm(packaged_gguf):
    """The default local model, loaded once per test session."""
    from assistant.llm.llama_cpp_backend import LlamaCppLLM

    model = LlamaCppLLM(packaged_gguf, n_ctx=2048, n_batch=256)
    yield model
    model.close()


def _server_or_skip(make):
    from eval.stack import StackUnavailable

    try:
        return make()
    except StackUnavailable as exc:  # `make test` installs them; only a machine without them skips
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres():
    """One throwaway PostgreSQL cluster for the whole run (tests make their own databases in it)."""
    from eval.stack import LocalPostgres

    server = _server_or_skip(LocalPostgres)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_demo(postgres) -> str:
    """The name of a PostgreSQL database seeded with the demo store by `Store.init` (seeding on
    PostgreSQL is tested by this); use it as a template: `postgres.database(template=pg_demo)`."""
    from retrieval.store import Store

    name = "aisle_demo"
    store = Store(postgres.database(name))
    assert store.init() is True and store.init() is False
    store.engine.dispose()  # a template must have no connections
    return name


@pytest.fixture(scope="session")
def redis_server():
    from eval.stack import RedisServer

    server = _server_or_skip(RedisServer)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chroma_server_url():
    from eval.stack import ChromaServer

    server = _server_or_skip(ChromaServer)
    yield server.url
    server.stop()
