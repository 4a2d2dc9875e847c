"""An optional learned re-ranker over the fused candidates: a linear model on per-variant features.

Trained pairwise (logistic regression on feature differences of a better and a worse item of
the same query) by `aisle eval search-rerank` on the dev judgement sets; the model is a JSON
file of feature means, scales and weights. `Search` uses it only when given one: the shipped
pipeline keeps it out unless it beat plain fusion (docs/search.md has the figures).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from retrieval.search.models import ParsedQuery

# What the model sees of a candidate; `score_parts` of the hit plus price fit.
FEATURES = [
    "fusion",  # the hand-tuned fusion score (so the model learns corrections to it)
    "fused",  # reciprocal-rank fusion of the item itself
    "product",  # ... of its product's best variant
    "bm25",  # BM25 score / the query's best BM25 score among the candidates
    "dense",  # cosine similarity
    "attributes",  # share of asked-for options / brand / category the variant has
    "quality",  # rating and availability
    "price_fit",  # price / max price asked (0 without a maximum): cheaper within the limit or not
]


class RerankModel(BaseModel):
    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    trained_on: str = ""

    @classmethod
    def load(cls, path: Path) -> RerankModel:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.model_dump(), indent=1) + "\n", encoding="utf-8")

    def scores(self, x: np.ndarray) -> np.ndarray:
        return ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights)


def feature_matrix(parts: list[dict[str, float]], prices: list[float], parsed: ParsedQuery) -> np.ndarray:
    """One row of FEATURES per candidate (the candidates of one query, as scored by fusion)."""
    best_bm25 = max((p.get("bm25", 0.0) for p in parts), default=0.0) or 1.0
    rows = []
    for p, price in zip(parts, prices):
        rows.append([
            p.get("score", 0.0), p.get("fused", 0.0), p.get("product", 0.0), p.get("bm25", 0.0) / best_bm25,
            p.get("dense", 0.0), p.get("attributes", 0.0), p.get("quality", 0.0),
            price / parsed.max_price if parsed.max_price else 0.0,
        ])
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))
