"""The HTTP ranking service, started for real, and the store model's training and loading."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
import uvicorn

from recsys import RecommendRequest, Recommender, RemoteRanker, ScoreRequest
from recsys.model import ModelConfig, SeqRecModel
from recsys.ranker import Ranker
from recsys.service import create_app
from recsys.train import set_seed
from eval.stack import free_port


@pytest.fixture(scope="module")
def ranker():
    set_seed(0)
    rng = np.random.default_rng(0)
    config = ModelConfig(n_items=200, n_attrs=20, content_dim=8, hidden=32, max_len=20)
    model = SeqRecModel(config, rng.integers(0, 21, (201, 3)), rng.standard_normal((201, 8)).astype(np.float32))
    return Ranker(model, [f"item-{i}" for i in range(1, 201)])


@pytest.fixture(scope="module")
def service_url(ranker):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ranker, max_batch=16, max_wait_ms=50), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline, "service did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_service_scores_like_the_in_process_ranker_and_batches(ranker, service_url):
    remote = RemoteRanker(service_url, timeout=10)
    requests = [ScoreRequest(history=[f"item-{i}", f"item-{i + 1}"], candidates=[f"item-{j}" for j in range(1, 60)])
                for i in range(1, 33)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(remote.score, requests))
    for request, answer in zip(requests, answers):
        assert answer.scores == pytest.approx(ranker.score(request).scores, abs=1e-4)
    health = httpx.get(f"{service_url}/health").json()
    assert health["requests"] >= 32 and health["batches"] < health["requests"]  # requests were coalesced


def test_service_rejects_bad_input_clearly(service_url):
    r = httpx.post(f"{service_url}/score", json={"history": [], "candidates": ["nope"]})
    assert r.status_code == 422 and "unknown candidate" in r.text
    r = httpx.post(f"{service_url}/score", json={"history": "not a list"})
    assert r.status_code == 422


def test_recommender_uses_the_service_when_configured(monkeypatch):
    from recsys.store_model import model_path, train_store_model
    from retrieval.config import get_settings
    from retrieval.store import Store

    store = Store(get_settings().db_url)
    store.init()
    trained, report = train_store_model(store, epochs=1, members=2, progress=False)
    assert report["best_epochs"] == [1, 1] and report["users"] > 400 and len(trained.models) == 2
    trained.save(model_path())

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Ranker.load(model_path())), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        monkeypatch.setenv("AISLE_RANKER_URL", f"http://127.0.0.1:{port}")
        get_settings.cache_clear()
        rec = Recommender.from_settings()
        assert rec.remote is not None and rec.ranker is not None
        req = RecommendRequest(user_id="noah_brown_6181", session_id="s", k=5)
        via_http = rec.recommend(req)
        rec.remote = None
        in_process = rec.recommend(req)
        assert [r.item_id for r in via_http] == [r.item_id for r in in_process]
        assert {r.source for r in via_http} <= {"model", "explore"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
