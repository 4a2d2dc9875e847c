"""Item-to-next-items transition probabilities, a Markov prior blended with the network's softmax.

Why: on sparse data much of the next-item signal is "people who bought X bought Y soon after", which
a count table learns exactly from a single pass while the network needs many epochs to learn it.
Mixing the two distributions, (1 - w) · p_model + w · p_transitions with w tuned on validation,
is an ensemble of probabilities: it never needs the two scores to share a scale.
"""

from __future__ import annotations

import numpy as np


class Transitions:
    """p(next | history) from counts of item j following item i within `window` steps."""

    def __init__(self, n_items: int, indptr: np.ndarray, indices: np.ndarray, probs: np.ndarray, decay: float) -> None:
        self.n_items, self.decay = n_items, decay
        self.indptr, self.indices, self.probs = indptr, indices, probs  # CSR rows, each summing to 1

    @classmethod
    def fit(cls, sequences: list[list[int]], n_items: int, window: int = 1, decay: float = 0.3) -> Transitions:
        """Count pairs (s[i], s[i + gap]) for gaps 1..window, weighted decay**(gap - 1)."""
        if window < 1 or not 0 < decay <= 1:
            raise ValueError("window must be ≥ 1 and decay in (0, 1]")
        src, dst, weight = [], [], []
        for seq in sequences:
            arr = np.asarray(seq, dtype=np.int64)
            for gap in range(1, min(window, len(arr) - 1) + 1):
                src.append(arr[:-gap])
                dst.append(arr[gap:])
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
        return cls(n_items, indptr, (keys % size).astype(np.int64), probs, decay)

    def probabilities(self, histories: list[list[int]], last: int = 2) -> np.ndarray:
        """(B, n_items + 1) next-item distributions from each history's last `last` items, weighted
        decay**age; rows whose recent items were never followed by anything are all zeros."""
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
