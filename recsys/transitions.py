"""Item-to-next-items transition probabilities, a Markov prior blended with the network's softmax.

Why: on sparse data much of the next-item signal is "people who bought X bought Y soon after", which
a count table learns exactly from a single pass while the network needs many epochs to learn it.
Mixing the two distributions, (1 - w) · p_model + w · p_transitions with w tuned on validation,
is an ensemble of probabilities: it never needs the two scores to share a scale.

`symmetric=True` counts pairs in both directions (item-to-item co-occurrence within a window, as in
item-kNN): broader than "what came next", it finds plausible items the strict order misses.
`PriorMix` mixes several priors into one distribution.
"""

from __future__ import annotations

import numpy as np


class Transitions:
    """p(next | history) from counts of item j following item i within `window` steps."""

    def __init__(self, n_items: int, indptr: np.ndarray, indices: np.ndarray, probs: np.ndarray, decay: float,
                 last: int = 2) -> None:
        self.n_items, self.decay, self.last = n_items, decay, last
        self.indptr, self.indices, self.probs = indptr, indices, probs  # CSR rows, each summing to 1

    @classmethod
    def fit(cls, sequences: list[list[int]], n_items: int, window: int = 1, decay: float = 0.3,
            symmetric: bool = False, last: int = 2) -> Transitions:
        """Count pairs (s[i], s[i + gap]) for gaps 1..window, weighted decay**(gap - 1); `symmetric`
        also counts (s[i + gap], s[i]). `last` is how many recent items `probabilities` reads."""
        if window < 1 or not 0 < decay <= 1 or last < 1:
            raise ValueError("window and last must be ≥ 1 and decay in (0, 1]")
        src, dst, weight = [], [], []
        for seq in sequences:
            arr = np.asarray(seq, dtype=np.int64)
            for gap in range(1, min(window, len(arr) - 1) + 1):
                pairs = [(arr[:-gap], arr[gap:])] + ([(arr[gap:], arr[:-gap])] if symmetric else [])
                for a, b in pairs:
                    src.append(a)
                    dst.append(b)
                    weight.append(np.full(len(arr) - gap, decay ** (gap - 1)))
        size = n_items + 1
        if src:
            keys = np.concatenate(src) * size + np.concatenate(dst)
            weights = np.concatenate(weight)
            pairs = keys != (keys // size) * (size + 1)  # drop self-transitions (repeat purchases)
            keys, inverse = np.unique(keys[pairs], return_inverse=True)
            counts = np.bincount(inverse, weights=weights[pairs])
        else:
            keys, counts = np.zeros(0, np.int64), np.zeros(0)
        rows = keys // size
        indptr = np.zeros(size + 1, dtype=np.int64)
        np.add.at(indptr, rows + 1, 1)
        indptr = np.cumsum(indptr)
        totals = np.bincount(rows, weights=counts, minlength=size)
        probs = (counts / np.maximum(totals[rows], 1e-12)).astype(np.float32)
        return cls(n_items, indptr, (keys % size).astype(np.int64), probs, decay, last)

    def probabilities(self, histories: list[list[int]], last: int | None = None) -> np.ndarray:
        """(B, n_items + 1) next-item distributions from each history's last `last` items (default:
        the fitted `last`), weighted decay**age; rows whose recent items were never followed by
        anything are all zeros."""
        last = last or self.last
        out = np.zeros((len(histories), self.n_items + 1), dtype=np.float32)
        for row, history in enumerate(histories):
            total = 0.0
            for age, item in enumerate(reversed(history[-last:])):
                start, end = self.indptr[item], self.indptr[item + 1]
                if start == end:
                    continue
                w = self.decay**age
                out[row, self.indices[start:end]] += w * self.probs[start:end]
                total += w
            if total:
                out[row] /= total
        return out

    def to_dict(self) -> dict:
        """Arrays as tensors, so a model file holding a prior loads with torch's `weights_only`."""
        import torch

        return {"n_items": self.n_items, "decay": self.decay, "last": self.last,
                "indptr": torch.from_numpy(self.indptr), "indices": torch.from_numpy(self.indices),
                "probs": torch.from_numpy(self.probs)}

    @classmethod
    def from_dict(cls, d: dict) -> Transitions:
        return cls(int(d["n_items"]), d["indptr"].numpy(), d["indices"].numpy(), d["probs"].numpy(),
                   float(d["decay"]), int(d["last"]))


class PriorMix:
    """Σ weight · prior: a mixture of priors (weights summing to 1) is again a distribution."""

    def __init__(self, parts: list[tuple[Transitions, float]]) -> None:
        if not parts or any(w < 0 for _, w in parts) or not np.isclose(sum(w for _, w in parts), 1.0):
            raise ValueError("PriorMix needs priors with non-negative weights summing to 1")
        self.parts = [(p, w) for p, w in parts if w > 0]

    def probabilities(self, histories: list[list[int]]) -> np.ndarray:
        return sum(w * p.probabilities(histories) for p, w in self.parts)

    def to_dict(self) -> dict:
        return {"parts": [{"prior": p.to_dict(), "weight": w} for p, w in self.parts]}

    @classmethod
    def from_dict(cls, d: dict) -> PriorMix:
        return cls([(Transitions.from_dict(part["prior"]), float(part["weight"])) for part in d["parts"]])


# The benchmark's prior and its selection grid, shared with the store model (serve what is measured).
PRIOR_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
COOC_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)  # share of the co-occurrence prior inside the prior mix


def fit_priors(sequences: list[list[int]], n_items: int) -> tuple[Transitions, Transitions]:
    """Transitions (what came next, last 2 items) and symmetric co-occurrence within 5 steps read from
    the last 5 items (item-kNN style: broader, finds what order misses)."""
    return (Transitions.fit(sequences, n_items),
            Transitions.fit(sequences, n_items, window=5, decay=0.8, symmetric=True, last=5))


def mix_priors(priors: tuple[Transitions, Transitions], cooc_share: float) -> PriorMix:
    trans, cooc = priors
    return PriorMix([(trans, 1 - cooc_share), (cooc, cooc_share)])


def selection_score(metrics: dict[str, float]) -> float:
    # NDCG@10 alone picked weights that trade hit rate for early precision; the target has both.
    return metrics["NDCG@10"] + metrics["HR@10"]
