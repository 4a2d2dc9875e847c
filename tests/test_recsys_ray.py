"""The ranker on Ray Serve (`aisle serve-ranker --engine ray`), on a local Ray instance the test
starts: `RemoteRanker` gets the in-process ranker's scores from it, Ray batches concurrent
requests, and a bad request is a 422 that does not fail the others in its batch."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from recsys import RemoteRanker, ScoreRequest

pytest.importorskip("ray.serve", reason="ray[serve] is not installed (it is a project dependency)")
pytestmark = pytest.mark.slow


def small_ranker():
    """A small model with fixed weights (picklable by reference: each replica builds its own)."""
    import numpy as np

    from recsys.model import ModelConfig, SeqRecModel
    from recsys.ranker import Ranker
    from recsys.train import set_seed

    set_seed(0)
    rng = np.random.default_rng(0)
    config = ModelConfig(n_items=200, n_attrs=20, content_dim=8, hidden=32, max_len=20)
    model = SeqRecModel(config, rng.integers(0, 21, (201, 3)), rng.standard_normal((201, 8)).astype(np.float32))
    return Ranker(model, [f"item-{i}" for i in range(1, 201)])


@pytest.fixture(scope="module")
def ray_url():
    import ray

    from eval.stack import free_port
    from recsys import ray_service

    port = free_port()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ray_service.run(small_ranker, "127.0.0.1", port, blocking=False, max_batch=16, max_wait_ms=50)
        yield f"http://127.0.0.1:{port}"
    finally:
        ray_service.shutdown()


def test_ray_serve_scores_like_the_in_process_ranker_and_batches(ray_url):
    ranker = small_ranker()
    remote = RemoteRanker(ray_url, timeout=30)
    requests = [ScoreRequest(history=[f"item-{i}", f"item-{i + 1}"], candidates=[f"item-{j}" for j in range(1, 60)])
                for i in range(1, 33)]  # fmt: skip
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(remote.score, requests))
    for request, answer in zip(requests, answers):
        assert answer.scores == pytest.approx(ranker.score(request).scores, abs=1e-4)
    health = httpx.get(f"{ray_url}/health", timeout=10).json()
    assert health["engine"] == "ray" and health["requests"] >= 32
    assert health["batches"] < health["requests"]  # Ray put concurrent requests in one batch


def test_a_bad_request_is_422_and_spares_its_batch(ray_url):
    good = ScoreRequest(history=["item-1"], candidates=["item-2", "item-3"]).model_dump()
    bad = {"history": ["item-1"], "candidates": ["no-such-item"]}
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda body: httpx.post(f"{ray_url}/score", json=body, timeout=30).status_code,
                              [good, bad] * 4))  # fmt: skip
    assert codes == [200, 422] * 4
