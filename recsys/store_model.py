"""The store's ranking model: trained on orders and events by the benchmark's recipe (`aisle train`),
kept current at set-up (`--if-stale`), retrained on a schedule (`--every`), and loaded.

The recipe is the benchmark's (`aisle eval recsys`): several networks averaged, mixed with a count
prior (item transitions + co-occurrence), the prior's share and weight picked on validation. Only
the sizes differ: the demo store is tiny (1,000 orders over 785 variants), so each network trains
with the full softmax and stops early on validation, in seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from recsys.catalog import Catalog, data_mark
from recsys.model import ARCHITECTURE, ModelConfig
from recsys.ranker import MODEL_FILE, Ranker
from recsys.train import MEMBERS, RECIPE_TRAIN, TrainConfig, build, evaluate, fit, pick_prior, set_seed
from recsys.transitions import fit_priors, mix_priors
from retrieval.config import get_settings
from retrieval.store import Store

log = logging.getLogger(__name__)

# Bumped whenever what `train_store_model` builds changes: a model file of another recipe is stale,
# and set-up (`aisle train --if-stale`, first `aisle serve`) trains a new one.
RECIPE = 5  # 5: two BSARec-style networks trained on every prefix (4: one; 3: five of the earlier kind; 2: three)


def model_path() -> Path:
    return get_settings().models_dir / "recsys" / MODEL_FILE


def store_model_config(catalog: Catalog) -> ModelConfig:
    # The demo store is tiny (1,000 orders): content features carry most of the signal.
    return ModelConfig(
        n_items=catalog.n_items, n_attrs=len(catalog.attr_vocab), content_dim=catalog.content.shape[1],
        dropout=0.3, attn_dropout=0.2, **ARCHITECTURE,
    )


def catalog_digest(catalog: Catalog) -> str:
    return hashlib.sha256("\n".join(it.item_id for it in catalog.items).encode()).hexdigest()[:16]


def _split(seqs: list[list[int]]) -> tuple[list[list[int]], tuple, tuple]:
    """Leave-one-out as in the benchmark: each history's last item is a test target and the one
    before a validation target (histories of 3 and more items); training keeps the rest."""
    train, val_in, val_t, test_in, test_t = [], [], [], [], []
    for s in seqs:
        if len(s) >= 3:
            test_in.append(s[:-1])
            test_t.append(s[-1])
            if len(s) >= 4:
                val_in.append(s[:-2])
                val_t.append(s[-2])
                train.append(s[:-2])
            else:
                train.append(s[:-1])
        else:
            train.append(s)
    return train, (val_in, val_t), (test_in, test_t)


def train_store_model(
    store: Store,
    epochs: int = 40,
    seed: int = 42,
    members: int = MEMBERS,
    progress: bool = True,
    catalog: Catalog | None = None,
) -> tuple[Ranker, dict]:
    """Members and the prior chosen on a validation split, measured on a test split; then every
    member is refitted on all the data for the epochs it needed, and the prior counted on all of it."""
    started = time.perf_counter()
    catalog = catalog or Catalog.from_store(store, get_settings().models_dir / "recsys")
    mark = data_mark(store)
    seqs = [s for s in catalog.sequences(store).values() if s]
    if not seqs:
        raise ValueError("the store has no orders or events to learn from")
    train_part, val, test = _split(seqs)
    cfg = TrainConfig(epochs=epochs, batch_size=128, seed=seed, **RECIPE_TRAIN)
    mcfg = store_model_config(catalog)

    probes, best_epochs, report_val = [], [], {}
    for i in range(members):
        set_seed(seed + i)
        probe = build(mcfg, catalog.item_attrs, catalog.content)
        picked = fit(probe, train_part, replace(cfg, seed=seed + i), val=val if val[0] else None,
                     progress=progress, desc=f"select {i + 1}/{members}")
        probes.append(probe)
        best_epochs.append(max(picked.best_epoch, 1))
    priors = fit_priors(train_part, catalog.n_items)
    validation: dict = {}
    if val[0]:
        choice = pick_prior(probes, val, priors)
        share, weight = choice.cooc_share, choice.weight
        validation = {"one_network": evaluate(probes[0], *val), "members": evaluate(probes, *val),
                      "members_with_prior": choice.validation}
    else:  # too little data to choose: the benchmark's choice on Beauty
        share, weight = 1.0, 0.2
    measured = {}
    if test[0]:
        test_prior = mix_priors(fit_priors([s[:-1] for s in seqs], catalog.n_items), share)
        measured = {"one_network": evaluate(probes[0], *test), "members": evaluate(probes, *test),
                    "members_with_prior": evaluate(probes, *test, prior=test_prior, prior_weight=weight),
                    "popularity": _popularity_test(catalog, [s[:-1] for s in seqs], test)}

    final = []
    for i, n in enumerate(best_epochs):
        set_seed(seed + i)
        model = build(mcfg, catalog.item_attrs, catalog.content)
        fit(model, seqs, replace(cfg, seed=seed + i, epochs=n), progress=progress, desc=f"train {i + 1}/{members}")
        final.append(model)
    prior = mix_priors(fit_priors(seqs, catalog.n_items), share) if weight > 0 else None
    report = {
        "users": len(seqs), "interactions": sum(map(len, seqs)), "items": catalog.n_items,
        "members": members, "best_epochs": best_epochs, "prior": {"cooc_share": share, "weight": weight},
        "validation": validation, "test": measured,
        "seconds": round(time.perf_counter() - started, 1),
    }
    meta = {"trained_on": "store", "recipe": RECIPE, "catalog": catalog_digest(catalog), "data": mark,
            "trained_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            **{k: report[k] for k in ("users", "interactions", "members", "best_epochs", "prior", "seconds")}}
    return Ranker(final, [it.item_id for it in catalog.items], meta=meta, prior=prior, prior_weight=weight), report


def _popularity_test(catalog: Catalog, inputs_for_counts, test) -> dict:
    """HR@10 of the most popular items (counted before each test item), history items masked."""
    import numpy as np

    pop = catalog.popularity({str(i): s for i, s in enumerate(inputs_for_counts)})
    order = [int(i) for i in np.argsort(-pop[1:], kind="stable") + 1]
    hits = 0
    for history, target in zip(*test):
        seen = set(history)
        top = [i for i in order if i not in seen or i == target][:10]
        hits += target in top
    return {"HR@10": hits / max(len(test[1]), 1)}


def load_ranker(path: Path | None = None) -> Ranker | None:
    path = path or model_path()
    if not path.is_file():
        return None
    try:
        return Ranker.load(path)
    except Exception as exc:  # noqa: BLE001 (a stale or broken file must not stop the shop)
        log.warning("could not load the ranking model %s (%s); run `aisle train`", path, exc)
        return None


def is_current(ranker: Ranker | None, catalog: Catalog) -> bool:
    """Trained by this recipe on this catalog (new orders and events alone do not make it stale:
    they are what a scheduled retrain picks up)."""
    return (ranker is not None and ranker.meta.get("recipe") == RECIPE
            and ranker.item_ids == [it.item_id for it in catalog.items])


def ensure_store_model(store: Store | None = None, progress: bool = True, **train_options) -> tuple[Ranker, bool]:
    """The current store model, trained now when there is none (or it is stale): the shop's set-up
    step (`aisle train --if-stale`, `make run`, the first `aisle serve`). True when it trained."""
    store = store or Store.from_settings()
    store.init()
    catalog = Catalog.from_store(store, get_settings().models_dir / "recsys")
    ranker = load_ranker()
    if is_current(ranker, catalog):
        return ranker, False
    log.warning("no current ranking model at %s: training one on the store's orders and events", model_path())
    ranker, _ = train_store_model(store, progress=progress, catalog=catalog, **train_options)
    ranker.save(model_path())
    return ranker, True


def load_or_fallback_ranker() -> Ranker:
    """The trained store model, or one trained now when there is none yet."""
    return ensure_store_model()[0]


def needs_retraining(store: Store, ranker: Ranker | None) -> bool:
    """What `aisle train --every` asks each round: orders or events stored (or removed) since the
    model was trained, or a model of another recipe, or none."""
    return ranker is None or ranker.meta.get("recipe") != RECIPE or ranker.meta.get("data") != data_mark(store)


def main(
    epochs: Annotated[int, typer.Option(help="Most epochs per network (early stopping on held-out items).")] = 40,
    members: Annotated[int, typer.Option(min=1, help=f"Networks averaged (the benchmark's recipe: {MEMBERS}).")] = MEMBERS,
    seed: Annotated[int, typer.Option(help="Random seed (results are reproducible).")] = 42,
    if_stale: Annotated[bool, typer.Option("--if-stale", help="Set-up: train only when there is no model of this "
                                                              "recipe for this catalog.")] = False,
    every: Annotated[float | None, typer.Option(min=0.1, help="Keep running: every N minutes, retrain when new "
                                                              "orders or events arrived (a running shop swaps "
                                                              "the new model in).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
) -> None:
    """Train the store's ranking model on its order history and events."""
    store = Store.from_settings()
    store.init()
    if if_stale:
        ranker, trained = ensure_store_model(store, progress=not as_json, epochs=epochs, seed=seed, members=members)
        verdict = "trained" if trained else "current"
        if as_json:
            typer.echo(json.dumps({"status": verdict, "model": ranker.name, "path": str(model_path())}))
        else:
            typer.echo(f"ranking model {verdict}: {ranker.name} ({model_path()})")
        return
    while True:
        if every is None or needs_retraining(store, load_ranker()):
            _train_and_report(store, epochs, members, seed, as_json)
        elif not as_json:
            typer.echo(f"{datetime.now(UTC):%H:%M} no new orders or events since the model was trained")
        if every is None:
            return
        time.sleep(every * 60)


def _train_and_report(store: Store, epochs: int, members: int, seed: int, as_json: bool) -> None:
    ranker, report = train_store_model(store, epochs=epochs, seed=seed, members=members, progress=not as_json)
    path = ranker.save(model_path())
    report["path"], report["model"] = str(path), ranker.name
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(f"trained {ranker.name} on {report['users']} users, {report['interactions']} interactions in "
               f"{report['seconds']} s (best epochs {report['best_epochs']}); saved {path}")
    for split in ("validation", "test"):
        for name, m in report[split].items():
            typer.echo(f"  {split} {name}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(m.items())))


__all__ = ["ensure_store_model", "evaluate", "is_current", "load_ranker", "main", "model_path", "needs_retraining",
           "train_store_model"]
