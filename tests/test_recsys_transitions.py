"""The item-transition prior and its blend with the network in evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recsys.model import ModelConfig
from recsys.train import build, evaluate, evaluate_weights, set_seed
from recsys.transitions import PriorMix, Transitions


def test_transition_probabilities_follow_the_counts():
    seqs = [[1, 2, 3], [1, 2], [1, 3], [4, 4, 4]]
    prior = Transitions.fit(seqs, n_items=5)
    p = prior.probabilities([[1], [2], [5], [], [4]], last=1)
    assert p.shape == (5, 6)
    np.testing.assert_allclose(p[0, [2, 3]], [2 / 3, 1 / 3], rtol=1e-6)  # 1→2 twice, 1→3 once
    np.testing.assert_allclose(p[1, 3], 1.0)
    assert not p[2].any() and not p[3].any()  # never followed by anything; empty history
    assert not p[4].any()  # repeats of the same item are not transitions
    # Two recent items, the older weighted by decay (0.3): 0.3 · p(·|1) + 1 · p(·|2), normalised.
    both = prior.probabilities([[1, 2]], last=2)[0]
    np.testing.assert_allclose(both[2], 0.3 * (2 / 3) / 1.3, rtol=1e-5)
    np.testing.assert_allclose(both.sum(), 1.0, rtol=1e-5)


def test_wider_windows_count_later_items_with_decay():
    prior = Transitions.fit([[1, 2, 3]], n_items=3, window=2, decay=0.5)
    np.testing.assert_allclose(prior.probabilities([[1]], last=1)[0, [2, 3]], [1 / 1.5, 0.5 / 1.5], rtol=1e-6)
    with pytest.raises(ValueError):
        Transitions.fit([[1, 2]], n_items=2, window=0)


def test_blending_an_exact_prior_fixes_an_untrained_network():
    # Each user walks 1→2→…→20→1: transitions predict the next item exactly, a random network does not.
    rng = np.random.default_rng(0)
    seqs = [[(int(s) + j) % 20 + 1 for j in range(6)] for s in rng.integers(0, 20, 60)]
    prior = Transitions.fit(seqs, n_items=20)
    set_seed(0)
    model = build(ModelConfig(n_items=20, hidden=16, heads=1, max_len=8), device=torch.device("cpu"))
    inputs, targets = [s[:-1] for s in seqs], [s[-1] for s in seqs]
    alone, blended = evaluate_weights(model, inputs, targets, prior, (0.0, 0.5))
    assert alone == evaluate(model, inputs, targets)
    assert blended["HR@5"] == 1.0 and blended["NDCG@5"] == pytest.approx(1.0)
    assert alone["NDCG@5"] < 0.6
    # A list of priors: every (prior, weight) pair from one pass, the same figures as one call per prior.
    useless = Transitions.fit([[1, 2]], n_items=20)
    grid = evaluate_weights(model, inputs, targets, [prior, useless], (0.0, 0.5))
    assert grid[:2] == [alone, blended]
    assert grid[2] == alone and grid[3] == evaluate_weights(model, inputs, targets, useless, (0.5,))[0]


def test_symmetric_counts_both_directions_and_mixes_sum_to_one():
    cooc = Transitions.fit([[1, 2, 3]], n_items=3, window=2, decay=0.5, symmetric=True, last=1)
    # Item 3 was preceded by 2 (gap 1) and 1 (gap 2): 1 and 0.5, normalised.
    np.testing.assert_allclose(cooc.probabilities([[3]])[0, [1, 2]], [0.5 / 1.5, 1 / 1.5], rtol=1e-6)
    trans = Transitions.fit([[1, 2, 3]], n_items=3)
    assert not trans.probabilities([[3]]).any()  # nothing ever came after 3
    mix = PriorMix([(trans, 0.5), (cooc, 0.5)])
    p = mix.probabilities([[2]])[0]
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[3], 0.5 * 1.0 + 0.5 * 0.5, rtol=1e-6)  # trans: 2→3; cooc: 1 and 3 alike
    with pytest.raises(ValueError):
        PriorMix([(trans, 0.7), (cooc, 0.7)])
