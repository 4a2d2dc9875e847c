"""`aisle eval search-rerank`: train the search re-ranker on the dev sets and compare it with fusion.

The model (`retrieval/search/rerank.py`) is a pairwise logistic regression, RankNet-style with a
linear scorer: for each dev query, every (better, worse) pair of its fused top-100 candidates
gives the feature difference as a positive example and its negation as a negative one. Whether
it is worth keeping is decided by 5-fold cross-validation over dev queries (grouped by query),
never by the test split; the test split is only scored, fusion and re-ranker in the same run.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from tqdm import tqdm

from eval.search_eval import K, Judged, default_sets, ndcg
from retrieval.config import get_settings
from retrieval.search import Search, SearchRequest
from retrieval.search.rerank import FEATURES, RerankModel, feature_matrix

FOLDS = 5


def candidates(search: Search, queries: list[Judged], progress: bool) -> list[tuple[list[str], np.ndarray, np.ndarray]]:
    """Per query: the fused top-100 item ids (fusion order), their features and grades."""
    saved, search.reranker = search.reranker, None
    try:
        out = []
        for q in tqdm(queries, desc="scoring candidates", unit="query", disable=not progress):
            resp = search.search(SearchRequest(query=q.query, k=100))
            parts = [{**h.score_parts, "score": h.score} for h in resp.hits]
            x = feature_matrix(parts, [h.price for h in resp.hits], resp.parsed)
            ids = [h.item_id for h in resp.hits]
            out.append((ids, x, np.array([q.relevant.get(i, 0) for i in ids], dtype=float)))
        return out
    finally:
        search.reranker = saved


def train(data: list[tuple[list[str], np.ndarray, np.ndarray]], c: float = 1.0, label: str = "") -> RerankModel:
    from sklearn.linear_model import LogisticRegression

    xs = np.concatenate([x for _, x, _ in data if len(x)])
    mean, scale = xs.mean(0), xs.std(0)
    scale[scale == 0] = 1.0
    diffs = []
    for _, x, y in data:
        z = (x - mean) / scale
        better, worse = np.nonzero(y[:, None] > y[None, :])
        diffs.append(z[better] - z[worse])
    d = np.concatenate(diffs)
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=1000)
    model.fit(np.concatenate([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    return RerankModel(features=FEATURES, mean=mean.tolist(), scale=scale.tolist(),
                       weights=model.coef_[0].tolist(), trained_on=label)  # fmt: skip


def score(data, queries: list[Judged], model: RerankModel | None) -> float:
    values = []
    for (ids, x, _), q in zip(data, queries):
        order = np.argsort(-model.scores(x), kind="stable") if model is not None and len(x) else range(len(ids))
        values.append(ndcg([ids[i] for i in order][:K], q.relevant))
    return round(float(np.mean(values)), 4) if values else 0.0


def main(
    out: Annotated[Path | None, typer.Option(help="Where to write the model; default <models dir>/search-reranker.json.")] = None,
    c: Annotated[float, typer.Option(help="Inverse regularisation strength of the logistic regression.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train the re-ranker on the dev sets; dev cross-validation and test scores against fusion."""
    progress = not as_json
    search = Search.from_settings(progress=progress)
    dev, test = default_sets("dev"), default_sets("test")
    dev_data, test_data = candidates(search, dev, progress), candidates(search, test, progress)
    folds = list(range(len(dev)))
    random.Random(0).shuffle(folds)
    fold_of = {q: i % FOLDS for i, q in enumerate(folds)}
    cv_fusion, cv_rerank = [], []
    for f in range(FOLDS):
        held = [i for i in range(len(dev)) if fold_of[i] == f]
        model = train([dev_data[i] for i in range(len(dev)) if fold_of[i] != f], c)
        cv_fusion.append(score([dev_data[i] for i in held], [dev[i] for i in held], None) * len(held))
        cv_rerank.append(score([dev_data[i] for i in held], [dev[i] for i in held], model) * len(held))
    model = train(dev_data, c, label="eval/data/search/*_dev.jsonl")
    path = out or get_settings().models_dir / "search-reranker.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    result = {
        "model": str(path), "features": FEATURES, "weights": [round(w, 4) for w in model.weights], "c": c,
        "dev_cv_ndcg@10": {"fusion": round(sum(cv_fusion) / len(dev), 4), "rerank": round(sum(cv_rerank) / len(dev), 4),
                           "folds": FOLDS, "queries": len(dev)},
        "test_ndcg@10": {"fusion": score(test_data, test, None), "rerank": score(test_data, test, model),
                         "queries": len(test)},
    }
    result["keep"] = result["dev_cv_ndcg@10"]["rerank"] > result["dev_cv_ndcg@10"]["fusion"]
    typer.echo(json.dumps(result) if as_json else json.dumps(result, indent=2))
