"""Candidate generation, so ranking scales past a few thousand items.

Small catalogs are ranked in full. Larger ones are narrowed to the union of: items co-bought with
the history, content nearest neighbours of the history, and the most popular items (so cold users
and new items still get candidates).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from recsys.catalog import Catalog


class CandidateGenerator:
    def __init__(
        self,
        catalog: Catalog,
        co: dict[int, Counter],
        popularity: np.ndarray,
        full_rank_limit: int = 2000,
        per_source: int = 300,
    ) -> None:
        self.catalog = catalog
        self.co = co
        self.full_rank_limit = full_rank_limit
        self.per_source = per_source
        self.update_popularity(popularity)

    def update_popularity(self, popularity: np.ndarray) -> None:
        self._popular = [int(i) for i in np.argsort(-popularity[1:], kind="stable")[: self.per_source] + 1]

    def generate(self, history: list[int]) -> list[int]:
        n = self.catalog.n_items
        if n <= self.full_rank_limit:
            return list(range(1, n + 1))
        found: dict[int, None] = {}
        co = Counter()
        for i in history[-20:]:
            co.update(self.co.get(i, {}))
        found.update(dict.fromkeys(i for i, _ in co.most_common(self.per_source)))
        if history:
            taste = self.catalog.content[history[-20:]].mean(0)
            sims = self.catalog.content[1:] @ taste
            top = np.argpartition(-sims, self.per_source)[: self.per_source] + 1
            found.update(dict.fromkeys(int(i) for i in top))
        found.update(dict.fromkeys(self._popular))
        return sorted(found)
