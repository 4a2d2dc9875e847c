"""Sequential-recommendation benchmark files (S3-Rec format) and the leave-one-out split.

Each line of a sequence file is `user item1 item2 …` in time order; item ids are integers ≥ 1.
An optional `<name>_item2attributes.json` beside it maps item id → attribute ids (brand, categories).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class SeqDataset:
    name: str
    sequences: list[list[int]]  # one per user, item ids 1..n_items
    n_items: int
    item_attrs: np.ndarray | None  # (n_items + 1, max_attrs), 0-padded
    n_attrs: int

    # Leave-one-out: the last item is the test target, the second-to-last the validation target.
    def train_sequences(self) -> list[list[int]]:
        return [s[:-2] for s in self.sequences if len(s) >= 4]

    def validation(self) -> tuple[list[list[int]], list[int]]:
        rows = [s for s in self.sequences if len(s) >= 3]
        return [s[:-2] for s in rows], [s[-2] for s in rows]

    def test(self) -> tuple[list[list[int]], list[int]]:
        rows = [s for s in self.sequences if len(s) >= 3]
        return [s[:-1] for s in rows], [s[-1] for s in rows]


def load_sequences(path: Path) -> list[list[int]]:
    sequences = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                items = [int(x) for x in parts[1:]]
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: item ids must be integers ({exc})") from None
            if any(i < 1 for i in items):
                raise ValueError(f"{path}:{number}: item ids must be ≥ 1")
            sequences.append(items)
    if not sequences:
        raise ValueError(f"{path}: no sequences")
    return sequences


def load_dataset(path: Path) -> SeqDataset:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sequence file not found: {path}")
    sequences = load_sequences(path)
    n_items = max(max(s) for s in sequences if s)
    attrs_path = path.with_name(f"{path.stem}_item2attributes.json")
    item_attrs, n_attrs = None, 0
    if attrs_path.is_file():
        mapping = {int(k): v for k, v in json.loads(attrs_path.read_text(encoding="utf-8")).items()}
        width = max((len(v) for v in mapping.values()), default=1)
        item_attrs = np.zeros((n_items + 1, width), dtype=np.int64)
        for item, attrs in mapping.items():
            if item <= n_items:
                item_attrs[item, : len(attrs)] = attrs
        n_attrs = int(item_attrs.max())
    return SeqDataset(path.stem, sequences, n_items, item_attrs, n_attrs)
