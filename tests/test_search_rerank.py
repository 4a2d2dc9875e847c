"""The search re-ranker: features, pairwise training, the saved model; the eval's plain fusion row."""

from __future__ import annotations

import numpy as np

from eval.search_eval import Judged, fusion_ranking
from eval.search_rerank import score, train
from retrieval.search.models import ParsedQuery
from retrieval.search.rerank import FEATURES, RerankModel, feature_matrix


def test_feature_matrix_normalises_per_query():
    parts = [{"score": 1.2, "fused": 0.03, "product": 0.03, "bm25": 8.0, "dense": 0.7, "attributes": 1.0, "quality": 0.9},
             {"score": 0.4, "bm25": 2.0, "dense": 0.5}]  # fmt: skip
    x = feature_matrix(parts, [30.0, 60.0], ParsedQuery(max_price=60))
    assert x.shape == (2, len(FEATURES))
    col = dict(zip(FEATURES, x.T))
    assert col["bm25"].tolist() == [1.0, 0.25] and col["price_fit"].tolist() == [0.5, 1.0]
    assert col["fused"].tolist() == [0.03, 0.0]  # a part the candidate lacks is 0
    assert feature_matrix([], [], ParsedQuery()).shape == (0, len(FEATURES))
    assert feature_matrix(parts, [30.0, 60.0], ParsedQuery())[:, FEATURES.index("price_fit")].tolist() == [0.0, 0.0]


def _query(rng, relevant_dense: bool):
    # 30 candidates; the relevant one has the highest dense similarity but a middling fusion score.
    x = rng.normal(size=(30, len(FEATURES)))
    y = np.zeros(30)
    best = int(np.argmax(x[:, FEATURES.index("dense")])) if relevant_dense else 0
    y[best] = 2
    return [f"i{j}" for j in range(30)], x, y


def test_pairwise_training_learns_the_signal_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    data = [_query(rng, True) for _ in range(40)]
    model = train(data, label="synthetic")
    weights = dict(zip(model.features, model.weights))
    assert max(weights, key=lambda f: abs(weights[f])) == "dense" and weights["dense"] > 0
    queries = [Judged(query="q", relevant={ids[int(np.argmax(y))]: 2}) for ids, _, y in data]
    assert score(data, queries, model) > 0.95
    assert score(data, queries, None) < 0.5
    path = tmp_path / "reranker.json"
    model.save(path)
    again = RerankModel.load(path)
    assert np.allclose(again.scores(data[0][1]), model.scores(data[0][1]))


def test_plain_fusion_of_two_rankings():
    assert fusion_ranking([(1, 9.0), (2, 5.0)], [(2, 0.9), (3, 0.8)]) == [2, 1, 3]
    assert fusion_ranking([], []) == []
