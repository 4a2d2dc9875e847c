"""Screen one change to Aisle's Beauty network on VALIDATION only (test is never computed).

One network of the benchmark's recipe before 2026-12-07 (sampled softmax over 2,048 shared negatives,
lr 2e-3 cosine, hidden 64, 2 blocks, 2 heads, dropout 0.5; the earlier screens' base) trained for a CPU-time
budget on one thread, then the count prior picked on validation (`recsys.train.pick_prior`). `key=value`
arguments override `TrainConfig` or `ModelConfig` fields, so screens of different changes run the same code
(today's recipe: `loss=ce targets=last lr=0.0005 weight_decay=0 schedule=constant patience=10 heads=1
freq_filter=3 freq_causal=0 epochs=200 max_minutes=150`):

    OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE nice -n 19 python -m eval.recsys_screen cl_weight=0.1 cl_kind=both

prints one JSON object (validation alone and with the prior, epochs run, best epoch, CPU time, history);
`members=N` trains N such networks (seeds 42, 43, …) and scores them averaged, alone and with the prior.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time

import torch

from eval.recsys_eval import dataset_path
from recsys.model import ModelConfig
from recsys.seqdata import load_dataset
from recsys.train import TrainConfig, build, evaluate, fit, pick_prior, set_seed
from recsys.transitions import fit_priors

# The budget of the earlier one-network screens (docs/recsys.md): the cosine runs over what 6 CPU-minutes buy.
BASE_TRAIN = dict(epochs=200, batch_size=256, lr=2e-3, loss="sampled", negatives=2048, seed=42, threads=1,
                  max_minutes=6.0, schedule="cosine", clock="cpu")


def _overrides(args: list[str]) -> tuple[dict, dict]:
    """`key=value` pairs split into TrainConfig and ModelConfig fields, each value cast to the field's type."""
    train_fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    model_fields = {f.name: f for f in dataclasses.fields(ModelConfig)}
    train, model = {}, {}
    for arg in args:
        key, _, value = arg.partition("=")
        field = train_fields.get(key) or model_fields.get(key)
        if field is None or not value:
            raise SystemExit(f"not a TrainConfig or ModelConfig field=value: {arg!r}")
        default = field.default
        cast = type(default) if default is not None and not isinstance(default, bool) else float
        parsed = value.lower() in ("1", "true", "yes") if isinstance(default, bool) else cast(value)
        (train if key in train_fields else model)[key] = parsed
    return train, model


def _model_config(ds, model_over: dict) -> ModelConfig:
    """The benchmark's network (hidden 64, 2 blocks, 2 heads, dropout 0.5) with the screen's overrides."""
    return ModelConfig(**(dict(n_items=ds.n_items, n_attrs=ds.n_attrs, hidden=64, layers=2, heads=2, max_len=50,
                               dropout=0.5) | model_over))


def screen(args: list[str], dataset: str = "beauty") -> dict:
    # members=N: N networks (seeds seed, seed + 1, …) averaged, as the benchmark's model is, then the prior picked for them
    members = int(next((a.partition("=")[2] for a in args if a.startswith("members=")), "1"))
    args = [a for a in args if not a.startswith("members=")]
    if members > 1:
        return _ensemble(args, members, dataset)
    train_over, model_over = _overrides(args)
    ds = load_dataset(dataset_path(dataset))
    mcfg = _model_config(ds, model_over)
    tcfg = TrainConfig(**(BASE_TRAIN | train_over))
    set_seed(tcfg.seed)
    model = build(mcfg, ds.item_attrs, device=torch.device("cpu"))
    started, load = time.perf_counter(), os.getloadavg()
    result = fit(model, ds.train_sequences(), tcfg, val=ds.validation(), progress=False, desc=" ".join(args) or "plain")
    choice = pick_prior([model], ds.validation(), fit_priors(ds.train_sequences(), ds.n_items))
    return {
        "overrides": args, "train": tcfg.to_dict(), "model": mcfg.to_dict(),
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
        "train_cpu_seconds": round(result.cpu_seconds, 1), "wall_seconds": round(time.perf_counter() - started, 1),
        "load_average_start_end": [round(load[0], 2), round(os.getloadavg()[0], 2)],
        "validation_alone": result.val,
        "validation_with_prior": choice.validation, "prior_share_weight": [choice.cooc_share, choice.weight],
        "history": result.history,
    }


def _ensemble(args: list[str], members: int, dataset: str) -> dict:
    """`members` networks of the same settings trained one after another (seeds seed …), averaged, the prior picked."""
    train_over, model_over = _overrides(args)
    ds = load_dataset(dataset_path(dataset))
    mcfg = _model_config(ds, model_over)
    started, load, models, each = time.perf_counter(), os.getloadavg(), [], []
    for k in range(members):
        tcfg = TrainConfig(**(BASE_TRAIN | train_over))
        tcfg.seed += k
        set_seed(tcfg.seed)
        model = build(mcfg, ds.item_attrs, device=torch.device("cpu"))
        result = fit(model, ds.train_sequences(), tcfg, val=ds.validation(), progress=False, desc=f"member {k}")
        models.append(model)
        each.append({"seed": tcfg.seed, "best_epoch": result.best_epoch, "cpu_seconds": round(result.cpu_seconds, 1),
                     "NDCG@10": round(result.val["NDCG@10"], 4), "HR@10": round(result.val["HR@10"], 4)})
    priors = fit_priors(ds.train_sequences(), ds.n_items)
    # the first k members for every k from 2: one run says whether the last members still add
    by_k = {}
    for k in range(2, members + 1):
        chosen = pick_prior(models[:k], ds.validation(), priors)
        by_k[k] = {"averaged": evaluate(models[:k], *ds.validation()), "with_prior": chosen.validation,
                   "prior_share_weight": [chosen.cooc_share, chosen.weight]}
    every = by_k[members]
    return {
        "overrides": args, "members": each, "train": (BASE_TRAIN | train_over), "model": mcfg.to_dict(),
        "train_cpu_seconds": round(sum(m["cpu_seconds"] for m in each), 1), "wall_seconds": round(time.perf_counter() - started, 1),
        "load_average_start_end": [round(load[0], 2), round(os.getloadavg()[0], 2)],
        "validation_averaged": every["averaged"],
        "validation_with_prior": every["with_prior"], "prior_share_weight": every["prior_share_weight"],
        "first_k_members": by_k,
    }


if __name__ == "__main__":
    print(json.dumps(screen(sys.argv[1:]), indent=1))
