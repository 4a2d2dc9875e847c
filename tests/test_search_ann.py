"""The in-memory dense index: exact below EXACT_MAX, k-means cells above, any filter mask."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.search import ann
from retrieval.search.ann import DenseIndex


def _clustered(n: int, dim: int = 64, topics: int = 50, seed: int = 3) -> np.ndarray:
    # Catalog vectors cluster by topic (all the kettles together); uniform noise would not.
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, dim))
    x = centres[rng.integers(0, topics, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _exact(vectors, query, n, mask):
    sims = np.where(mask, vectors @ query, -np.inf)
    best = np.argsort(-sims, kind="stable")[:n]
    return {int(i) for i in best if mask[i]}


@pytest.fixture(scope="module")
def ivf():
    vectors = _clustered(12_000)
    saved = ann.EXACT_MAX
    ann.EXACT_MAX = 5_000  # keep the test small: 12k items get cells
    try:
        index = DenseIndex(vectors)
    finally:
        ann.EXACT_MAX = saved
    assert index.cells == int(2 * np.sqrt(12_000))
    return vectors, index


@pytest.mark.parametrize("share", [1.0, 0.6, 0.3, 0.1])
def test_ivf_finds_nearly_all_exact_neighbours_under_a_filter(ivf, share):
    vectors, index = ivf
    rng = np.random.default_rng(int(share * 100))
    recalls = []
    for q in rng.choice(len(vectors), 20, replace=False):
        query = vectors[q]
        mask = rng.random(len(vectors)) < share
        got = index.top(query, 100, mask)
        assert all(mask[r] for r, _ in got) and len(got) == 100
        sims = [s for _, s in got]
        assert sims == sorted(sims, reverse=True)
        recalls.append(len({r for r, _ in got} & _exact(vectors, query, 100, mask)) / 100)
    assert np.mean(recalls) >= 0.95, recalls


def test_narrow_filter_is_scored_exactly(ivf):
    vectors, index = ivf
    mask = np.zeros(len(vectors), dtype=bool)
    mask[::40] = True  # 300 items pass: below EXACT_ALLOWED
    got = index.top(vectors[7], 50, mask)
    assert {r for r, _ in got} == _exact(vectors, vectors[7], 50, mask)
    wide = np.arange(len(vectors)) % 5 < 2  # 4,800 pass: still exact, as one product over all rows
    assert {r for r, _ in index.top(vectors[7], 50, wide)} == _exact(vectors, vectors[7], 50, wide)
    assert np.array_equal(index.vectors, vectors)  # row order, though stored by cell


def test_small_catalog_is_exact_and_edge_cases_are_empty():
    vectors = _clustered(500)
    index = DenseIndex(vectors)
    assert index.cells == 0
    mask = np.arange(500) % 2 == 0
    assert {r for r, _ in index.top(vectors[0], 10, mask)} == _exact(vectors, vectors[0], 10, mask)
    assert index.top(vectors[0], 10, np.zeros(500, dtype=bool)) == []
    assert index.top(vectors[0], 0) == []
    assert DenseIndex(np.zeros((0, 64), np.float32)).top(vectors[0], 5) == []
    few = np.zeros(500, dtype=bool)
    few[[3, 9]] = True
    assert {r for r, _ in index.top(vectors[0], 10, few)} == {3, 9}
