"""The store's items as the ranking model sees them: indices, attribute tokens, text vectors,
interaction sequences, popularity and co-purchase counts."""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.store import Store

# Events that say the shopper wanted the item; they extend the interaction sequence.
POSITIVE_KINDS = ("view", "click", "like", "add_to_cart", "purchase")
# How much each positive signal counts in profiles and popularity.
KIND_WEIGHT = {"view": 0.2, "click": 0.4, "like": 1.0, "add_to_cart": 0.7, "purchase": 1.0}


@dataclass
class Item:
    index: int  # 1..n; 0 is padding in the model
    item_id: str
    product_id: str
    name: str
    brand: str | None
    category: str
    price: float
    available: bool
    options: dict[str, str]
    text: str


def _price_band(price: float) -> str:
    return f"price:{int(math.log2(max(price, 1.0)))}"  # log-scale buckets: 1-2, 2-4, …


@dataclass
class Catalog:
    items: list[Item]  # items[i].index == i + 1
    attr_vocab: dict[str, int]
    item_attrs: np.ndarray  # (n + 1, width) attribute token ids, 0-padded
    content: np.ndarray  # (n + 1, 384) unit text vectors; row 0 zero
    by_id: dict[str, Item] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {it.item_id: it for it in self.items}

    @property
    def n_items(self) -> int:
        return len(self.items)

    def item(self, index: int) -> Item:
        return self.items[index - 1]

    @classmethod
    def from_store(cls, store: Store, cache_dir: Path | None = None) -> Catalog:
        items: list[Item] = []
        for p in store.products():
            text = ". ".join(x for x in (p.name, p.category.replace("-", " "), p.brand or "", p.description[:300]) if x)
            for v in p.variants:
                items.append(
                    Item(len(items) + 1, v.item_id, p.product_id, p.name, p.brand, p.category, v.price,
                         v.available, dict(v.options), text)
                )
        vocab: dict[str, int] = {}
        rows = []
        for it in items:
            tokens = [f"cat:{it.category}", f"prod:{it.product_id}", _price_band(it.price)]
            if it.brand:
                tokens.append(f"brand:{it.brand.lower()}")
            tokens += [f"opt:{k}={str(v).lower()}" for k, v in sorted(it.options.items())]
            rows.append([vocab.setdefault(t, len(vocab) + 1) for t in tokens])
        width = max((len(r) for r in rows), default=1)
        attrs = np.zeros((len(items) + 1, width), dtype=np.int64)
        for it, r in zip(items, rows):
            attrs[it.index, : len(r)] = r
        return cls(items, vocab, attrs, _content_vectors([it.text for it in items], cache_dir))

    # -- interactions ------------------------------------------------------------------------

    def sequences(self, store: Store) -> dict[str, list[int]]:
        """Each user's item indices in time order: order items first (orders have no dates), then
        positive events."""
        seqs: dict[str, list[int]] = defaultdict(list)
        from sqlalchemy import select

        from retrieval.store import tables as t

        with store.session() as s:
            rows = s.execute(
                select(t.Order.user_id, t.OrderItemRow.item_id)
                .join(t.OrderItemRow, t.OrderItemRow.order_id == t.Order.order_id)
                .order_by(t.Order.user_id, t.Order.position, t.OrderItemRow.position)
            ).all()
        for user, item_id in rows:
            if item_id in self.by_id:
                seqs[user].append(self.by_id[item_id].index)
        for e in store.events():
            if e.user_id and e.kind in POSITIVE_KINDS and e.item_id in self.by_id:
                seqs[e.user_id].append(self.by_id[e.item_id].index)
        return dict(seqs)

    def interactions_since(self, store: Store, old: dict[str, int],
                           new: dict[str, int]) -> tuple[list[tuple[str, int]], dict[str, int]]:
        """(user, item index) of the order lines and positive events stored after `old["last_…"]` up
        to `new["last_…"]` (see `data_mark`), in the order they were stored; and how many rows of
        each table that range held (every kind of event)."""
        from sqlalchemy import select

        from retrieval.store import tables as t

        with store.session() as s:
            lines = s.execute(
                select(t.Order.user_id, t.OrderItemRow.item_id)
                .join(t.OrderItemRow, t.OrderItemRow.order_id == t.Order.order_id)
                .where(t.OrderItemRow.id > old["last_order_item"], t.OrderItemRow.id <= new["last_order_item"])
                .order_by(t.OrderItemRow.id)
            ).all()
            events = s.execute(
                select(t.Event.user_id, t.Event.item_id, t.Event.kind)
                .where(t.Event.event_id > old["last_event"], t.Event.event_id <= new["last_event"])
                .order_by(t.Event.event_id)
            ).all()
        positive = [(u, i) for u, i, kind in events if u and kind in POSITIVE_KINDS]
        found = [(u, self.by_id[i].index) for u, i in [*lines, *positive] if i in self.by_id]
        return found, {"events": len(events), "order_items": len(lines)}

    def popularity(self, sequences: dict[str, list[int]]) -> np.ndarray:
        """Smoothed interaction counts per item index (row 0 unused)."""
        counts = np.ones(self.n_items + 1, dtype=np.float64)
        counts[0] = 0
        for seq in sequences.values():
            for i in seq:
                counts[i] += 1
        return counts

    def co_counts(self, sequences: dict[str, list[int]]) -> dict[int, Counter]:
        """How many shoppers interacted with both items, at product level spread to variants' items."""
        co: dict[int, Counter] = defaultdict(Counter)
        for seq in sequences.values():
            uniq = sorted(set(seq))
            for a in uniq:
                for b in uniq:
                    if a != b and self.item(a).product_id != self.item(b).product_id:
                        co[a][b] += 1
        return co


def last_ids(store: Store) -> dict[str, int]:
    """The last event and order-line ids (primary-key look-ups: cheap enough for every request)."""
    from sqlalchemy import func, select

    from retrieval.store import tables as t

    with store.session() as s:
        row = s.execute(select(select(func.coalesce(func.max(t.Event.event_id), 0)).scalar_subquery(),
                               select(func.coalesce(func.max(t.OrderItemRow.id), 0)).scalar_subquery())).one()
    return {"last_event": int(row[0]), "last_order_item": int(row[1])}


def row_counts(store: Store) -> dict[str, int]:
    """Rows of events and order lines (a scan: checked now and then, to notice deletions)."""
    from sqlalchemy import func, select

    from retrieval.store import tables as t

    with store.session() as s:
        row = s.execute(select(select(func.count()).select_from(t.Event).scalar_subquery(),
                               select(func.count()).select_from(t.OrderItemRow).scalar_subquery())).one()
    return {"events": int(row[0]), "order_items": int(row[1])}


def data_mark(store: Store) -> dict[str, int]:
    """How far the store's interaction data reaches: last ids and row counts of events and order
    lines. A model trained at one mark has seen everything up to it."""
    return {**row_counts(store), **last_ids(store)}


def _content_vectors(texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """MiniLM vectors of item texts, cached by content hash (embedding takes seconds on CPU)."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = cache_dir / f"content-{digest}.npy" if cache_dir else None
    if path is not None and path.is_file():
        return np.load(path)
    from retrieval.embedder import embed

    unique = sorted(set(texts))
    vec = dict(zip(unique, embed(unique)))
    content = np.zeros((len(texts) + 1, 384), dtype=np.float32)
    for i, text in enumerate(texts, 1):
        content[i] = vec[text]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, content)
    return content
