"""Nearest neighbours among the catalog's vectors in memory, under any filter mask.

Small catalogs are scored exactly (one matrix-vector product). Large ones are cut into k-means
cells (an inverted-file index, IVF): the vectors are stored cell by cell, so a query scores the
cells nearest to it as contiguous slices, and a filter is applied to those slices only. Probing
continues until enough *allowed* items were scored, so a narrow filter ("under $20") probes more
cells instead of returning too few. A filter so narrow that few items pass is scored exactly
over just those items.

Why not Chroma's HNSW at query time: a `where` filter cost ~10x an unfiltered query, and an
unfiltered query must over-fetch by 1 / (share of items passing), which at 20k items and the
bench's price filters cost about 3x the CPU of scoring the probed cells here (docs/search.md).
"""

from __future__ import annotations

import math

import numpy as np

EXACT_MAX = 10_000  # up to this many items a full product is about as cheap as probing cells
EXACT_ALLOWED = 5_000  # a filter letting at most this many items through: score exactly those
PROBE_FACTOR = 30  # score at least PROBE_FACTOR * n allowed items (measured recall@100 ≥ 0.95)
MIN_CELLS = 8  # ... and at least this many cells


class DenseIndex:
    """Exact or IVF top-n by inner product (cosine for the unit vectors Aisle stores)."""

    def __init__(self, vectors: np.ndarray, seed: int = 0) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.size = len(vectors)
        self.cells = 0
        self.order = self.position = np.arange(self.size)  # position in storage order <-> row
        if self.size > EXACT_MAX:
            self._build(vectors, seed)
        self.sorted = vectors[self.order] if self.cells else vectors  # one copy, in cell order

    @property
    def vectors(self) -> np.ndarray:
        """The vectors in row order (a copy when stored by cell)."""
        return self.sorted[self.position] if self.cells else self.sorted

    def _build(self, vectors: np.ndarray, seed: int) -> None:
        self.cells = int(2 * math.sqrt(self.size))
        centroids = _spherical_kmeans(vectors, self.cells, seed)
        assign = np.concatenate([(vectors[i : i + 8192] @ centroids.T).argmax(1) for i in range(0, self.size, 8192)])
        self.order = np.argsort(assign, kind="stable")  # position -> row
        self.position = np.argsort(self.order)  # row -> position
        self.cell_of = assign[self.order]  # cell of each position
        self.starts = np.searchsorted(self.cell_of, np.arange(self.cells + 1))
        self.centroids = centroids

    def top(self, query: np.ndarray, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The n best rows (row, similarity), best first, only among `mask` when given."""
        if n <= 0 or not self.size:
            return []
        allowed = int(mask.sum()) if mask is not None else self.size
        if not allowed:
            return []
        if not self.cells or allowed <= EXACT_ALLOWED:
            if mask is None or allowed > self.size // 3:  # a full product beats copying many rows out
                sims = self.sorted @ query
                if mask is not None:
                    sims = np.where(mask[self.order], sims, -np.inf)
                return _top(sims, self.order, min(n, allowed))
            rows = np.flatnonzero(mask)
            return _top(self.sorted[self.position[rows]] @ query, rows, n)
        return self._probe(query, n, mask, allowed)

    def _probe(self, query, n, mask, allowed) -> list[tuple[int, float]]:
        cell_order = np.argsort(-(self.centroids @ query))
        sorted_mask = mask[self.order] if mask is not None else None
        if sorted_mask is not None:
            counts = np.bincount(self.cell_of[sorted_mask], minlength=self.cells)
        else:
            counts = np.diff(self.starts)
        reached = np.cumsum(counts[cell_order])
        want = min(allowed, PROBE_FACTOR * n)
        probes = max(MIN_CELLS, int(np.searchsorted(reached, want)) + 1)
        cells = cell_order[:probes]
        starts, ends = self.starts[cells], self.starts[cells + 1]
        blocks = [self.sorted[a:b] @ query for a, b in zip(starts.tolist(), ends.tolist()) if b > a]
        sims = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
        lengths = ends - starts  # positions of every probed item, cell after cell
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        if sorted_mask is not None:
            keep = sorted_mask[positions]
            sims, positions = sims[keep], positions[keep]
        return _top(sims, self.order[positions], n)


def _top(scores: np.ndarray, rows: np.ndarray, n: int) -> list[tuple[int, float]]:
    n = min(n, len(scores))
    if n <= 0:
        return []
    idx = np.sort(np.argpartition(-scores, n - 1)[:n])  # sorted: equal scores keep row order
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(rows[i]), float(scores[i])) for i in idx]


def _spherical_kmeans(vectors: np.ndarray, k: int, seed: int, iterations: int = 8, sample: int = 40) -> np.ndarray:
    """k unit centroids, trained on a sample of about `sample` points per cell (enough for IVF)."""
    rng = np.random.default_rng(seed)
    data = vectors[rng.choice(len(vectors), size=min(len(vectors), sample * k), replace=False)]
    centroids = data[rng.choice(len(data), size=k, replace=False)].copy()
    for _ in range(iterations):
        assign = (data @ centroids.T).argmax(1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, data)
        empty = np.bincount(assign, minlength=k) == 0
        sums[empty] = data[rng.choice(len(data), size=int(empty.sum()), replace=False)]  # restart empty cells
        centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return centroids.astype(np.float32)
