"""The store's ranking model: training it on orders and events (`aisle train`) and loading it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from recsys.catalog import Catalog
from recsys.model import ModelConfig
from recsys.ranker import MODEL_FILE, Ranker
from recsys.train import TrainConfig, build, evaluate, fit, set_seed
from retrieval.config import get_settings
from retrieval.store import Store

log = logging.getLogger(__name__)


def model_path() -> Path:
    return get_settings().models_dir / "recsys" / MODEL_FILE


def store_model_config(catalog: Catalog) -> ModelConfig:
    # The demo store is tiny (1,000 orders): content features carry most of the signal.
    return ModelConfig(
        n_items=catalog.n_items, n_attrs=len(catalog.attr_vocab), content_dim=catalog.content.shape[1],
        hidden=64, layers=2, heads=2, max_len=50, dropout=0.3, attn_dropout=0.2,
    )


def train_store_model(
    store: Store,
    epochs: int = 40,
    seed: int = 42,
    progress: bool = True,
    catalog: Catalog | None = None,
) -> tuple[Ranker, dict]:
    """Pick the epoch count on each user's held-out last item, then refit on everything."""
    catalog = catalog or Catalog.from_store(store, get_settings().models_dir / "recsys")
    sequences = catalog.sequences(store)
    seqs = [s for s in sequences.values() if s]
    if not seqs:
        raise ValueError("the store has no orders or events to learn from")
    holdout = [s for s in seqs if len(s) >= 3]
    train_part = [s[:-1] if len(s) >= 3 else s for s in seqs]
    val = ([s[:-1] for s in holdout], [s[-1] for s in holdout])
    cfg = TrainConfig(epochs=epochs, batch_size=128, lr=2e-3, patience=5, seed=seed)
    set_seed(seed)
    probe = build(store_model_config(catalog), catalog.item_attrs, catalog.content)
    picked = fit(probe, train_part, cfg, val=val if holdout else None, progress=progress, desc="select")
    set_seed(seed)
    model = build(store_model_config(catalog), catalog.item_attrs, catalog.content)
    final_cfg = TrainConfig(**{**cfg.to_dict(), "epochs": max(picked.best_epoch, 1)})
    final = fit(model, seqs, final_cfg, progress=progress, desc="train")
    report = {
        "users": len(seqs), "interactions": sum(map(len, seqs)), "items": catalog.n_items,
        "best_epoch": picked.best_epoch, "validation": picked.val,
        "validation_popularity": _popularity_val(catalog, train_part, val) if holdout else {},
        "seconds": round(picked.seconds + final.seconds, 1),
    }
    ranker = Ranker(model, [it.item_id for it in catalog.items], meta={"trained_on": "store", **report})
    return ranker, report


def _popularity_val(catalog: Catalog, train_part, val) -> dict:
    import numpy as np

    pop = catalog.popularity({str(i): s for i, s in enumerate(train_part)})
    order = np.argsort(-pop[1:], kind="stable") + 1
    rank_of = {int(i): r for r, i in enumerate(order)}
    hits = sum(rank_of[t] < 10 for t in val[1])
    return {"HR@10": hits / max(len(val[1]), 1)}


def load_ranker(path: Path | None = None) -> Ranker | None:
    path = path or model_path()
    if not path.is_file():
        return None
    try:
        return Ranker.load(path)
    except Exception as exc:  # noqa: BLE001 (a stale or broken file must not stop the shop)
        log.warning("could not load the ranking model %s (%s); run `aisle train`", path, exc)
        return None


def load_or_fallback_ranker() -> Ranker:
    """The trained store model, or one trained now when there is none yet."""
    ranker = load_ranker()
    if ranker is None:
        log.warning("no trained ranking model at %s: training one now", model_path())
        store = Store.from_settings()
        store.init()
        ranker, _ = train_store_model(store)
        ranker.save(model_path())
    return ranker


def main(
    epochs: Annotated[int, typer.Option(help="Most epochs (early stopping on held-out items).")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed (results are reproducible).")] = 42,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
) -> None:
    """Train the store's ranking model on its order history and events."""
    store = Store.from_settings()
    store.init()
    ranker, report = train_store_model(store, epochs=epochs, seed=seed, progress=not as_json)
    path = ranker.save(model_path())
    report["path"] = str(path)
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(f"trained on {report['users']} users, {report['interactions']} interactions in "
                   f"{report['seconds']} s (best epoch {report['best_epoch']}); saved {path}")
        typer.echo(f"held-out last item: {json.dumps(report['validation'])}, popularity {report['validation_popularity']}")


__all__ = ["evaluate", "load_ranker", "main", "model_path", "train_store_model"]
