"""Diversity re-ranking (MMR) and beyond-accuracy measures of recommendation lists."""

from __future__ import annotations

import numpy as np


def mmr_pick(scores: np.ndarray, vecs: np.ndarray, chosen: list[int], lam: float, scale: float = 3.0) -> int | None:
    """Maximal marginal relevance: relevance minus similarity to what is already in the list.

    `scores` are z-normalised; `vecs` unit vectors; `scale` puts cosine on the z-score scale."""
    mask = np.ones(len(scores), dtype=bool)
    mask[chosen] = False
    if not mask.any():
        return None
    value = lam * scores
    if chosen:
        value = value - (1 - lam) * scale * (vecs @ vecs[chosen].T).max(1)
    value[~mask] = -np.inf
    return int(np.argmax(value))


def mmr(scores: np.ndarray, vecs: np.ndarray, k: int, lam: float) -> list[int]:
    chosen: list[int] = []
    for _ in range(min(k, len(scores))):
        j = mmr_pick(scores, vecs, chosen, lam)
        if j is None:
            break
        chosen.append(j)
    return chosen


def intra_list_diversity(lists: list[list[int]], vecs: np.ndarray) -> float:
    """Mean pairwise cosine distance within each list (vecs: unit vectors by item index)."""
    values = []
    for items in lists:
        if len(items) < 2:
            continue
        v = vecs[items]
        sim = v @ v.T
        n = len(items)
        values.append(1 - (sim.sum() - np.trace(sim)) / (n * (n - 1)))
    return float(np.mean(values)) if values else 0.0


def coverage(lists: list[list[int]], n_items: int) -> float:
    return len({i for items in lists for i in items}) / max(n_items, 1)


def popularity_bias(lists: list[list[int]], popularity: np.ndarray) -> float:
    """Mean popularity percentile (0-1) of recommended items: 1 means only best-sellers."""
    ranks = np.argsort(np.argsort(popularity[1:], kind="stable"), kind="stable") / max(len(popularity) - 2, 1)
    values = [ranks[i - 1] for items in lists for i in items]
    return float(np.mean(values)) if values else 0.0
