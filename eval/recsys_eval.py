"""`aisle eval recsys`: next-item recommendation on Amazon Beauty / Sports (S3-Rec split).

Leave-one-out: each user's last item is the test target, the second-to-last the validation target.
Every model is ranked against all items (no sampled negatives; items already in the user's input
sequence are masked, as in the S3-Rec and RecBole evaluation code). Model selection and early
stopping use validation only; test is computed once, with the selected weights.

Models, all trained in the same run:
- popularity: items by training-interaction count;
- sasrec-baseline: SASRec as in the paper (Kang & McAuley 2018): ids only, binary cross-entropy
  with one sampled negative per position, hidden 50, 2 blocks, 1 head, dropout 0.5, lr 1e-3,
  batch 128, max length 50 (RecBole is not used: it does not run with this torch and numpy);
- aisle: Aisle's model (recsys.model, recsys.train.RECIPE_TRAIN), one network (--members N averages N,
  seeds seed, seed + 1, …): ids + item attributes (tied input/output item vectors), BSARec's shape
  (hidden 64, 2 blocks, 1 head beside a low-pass filter of the whole history, dropout 0.5, max length
  50), trained as BSARec trains: every prefix of a history its own row, full-softmax cross-entropy at
  its last position, lr 5e-4, batch 256, until validation NDCG@10 has not risen for 10 epochs (the
  best epoch kept; --max-minutes only caps it); its softmax is then mixed with a count prior
  (recsys.transitions: item transitions and item co-occurrence), the mix and the weight picked on
  validation (--no-prior: off). The earlier recipe (five networks of 30 epochs, each position of a
  history a target in one pass, 2,048 sampled negatives, 2 heads, lr 2e-3 cosine) is
  `--targets all --loss sampled --heads 2 --freq-filter 0 --lr 2e-3 --weight-decay 0.01
  --schedule cosine --epochs 30 --patience 5 --members 5`.

Time budgets count the run's own CPU time by default (--clock), so a busy machine slows a run down
without training it less. --seeds N repeats the whole benchmark and reports mean ± spread.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer

from recsys.model import ARCHITECTURE, ModelConfig
from recsys.rerank import coverage, intra_list_diversity, mmr, popularity_bias
from recsys.seqdata import SeqDataset, load_dataset
from recsys.train import (
    KS,
    MEMBERS,
    RECIPE_TRAIN,
    TrainConfig,
    auto_threads,
    build,
    evaluate,
    fit,
    next_item_scores,
    pick_prior,
    pad_left,
    set_seed,
)
from recsys.transitions import fit_priors, mix_priors
from retrieval.config import get_settings

DATASETS = {"beauty": "Beauty.txt", "sports": "Sports_and_Outdoors.txt", "toys": "Toys_and_Games.txt"}
SEED_STEP = 10  # a multi-seed run's seeds: seed, seed + 10, …; the members of one run take seed, seed + 1, seed + 2
SUMMARY_KEYS = ("NDCG@10", "HR@10", "NDCG@20", "HR@20")


def seqrec_dirs() -> list[Path]:
    """Where `--dataset` looks for its file, in order: AISLE_SEQREC_DIR (alone, when set), then
    data_dir/amazon_seqrec, then shared/data/amazon_seqrec in the checkout and in each folder above it
    (a worktree may sit deeper than the main checkout, so no fixed number of levels up)."""
    settings = get_settings()
    if settings.seqrec_dir is not None:
        return [settings.seqrec_dir.expanduser()]
    checkout = Path(__file__).resolve().parents[1]
    return [settings.data_dir / "amazon_seqrec"] + [d / "shared" / "data" / "amazon_seqrec"
                                                     for d in (checkout, *checkout.parents)]


def dataset_path(dataset: str) -> Path:
    """The sequence file of a named dataset, or FileNotFoundError saying where it looked and what to set."""
    if dataset not in DATASETS:
        raise typer.BadParameter(f"--dataset must be one of {sorted(DATASETS)} (or give --path)")
    dirs = seqrec_dirs()
    for folder in dirs:
        if (folder / DATASETS[dataset]).is_file():
            return folder / DATASETS[dataset]
    raise FileNotFoundError(
        f"{DATASETS[dataset]} not found in {', '.join(str(d) for d in dirs[:3])}{' …' if len(dirs) > 3 else ''}; "
        "set AISLE_SEQREC_DIR to the folder holding the S3-Rec files, or give --path to a sequence file")


def _popularity(ds: SeqDataset) -> tuple[np.ndarray, dict[str, float]]:
    counts = np.zeros(ds.n_items + 1)
    for s in ds.train_sequences():
        np.add.at(counts, s, 1)
    inputs, targets = ds.test()
    order = np.argsort(-counts[1:], kind="stable") + 1
    hits = {k: 0.0 for k in KS}
    ndcg = {k: 0.0 for k in KS}
    position = np.empty(ds.n_items + 1, dtype=np.int64)
    position[order] = np.arange(len(order))
    position[0] = -1
    for seq, target in zip(inputs, targets):
        # Rank among unmasked items: items of the input sequence ranked above the target are skipped.
        seen = np.unique(np.asarray([i for i in seq if i != target], dtype=np.int64))
        rank = int(position[target] - (position[seen] < position[target]).sum())
        for k in KS:
            if rank < k:
                hits[k] += 1
                ndcg[k] += 1 / np.log2(rank + 2)
    n = len(targets)
    return counts, {**{f"HR@{k}": hits[k] / n for k in KS}, **{f"NDCG@{k}": ndcg[k] / n for k in KS}}


def _beyond_accuracy(models: list, ds: SeqDataset, counts: np.ndarray, users: int, seed: int) -> dict:
    """Coverage, intra-list diversity and popularity bias of top-10 lists on a user sample, plain and
    with MMR diversity + one exploration slot (the trade-off in HR/NDCG shown beside)."""
    inputs, targets = ds.test()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(inputs), size=min(users, len(inputs)), replace=False)
    with torch.no_grad():
        # MMR's similarities: the first member's item vectors (members are alike in what they place near).
        vecs = torch.nn.functional.normalize(models[0].item_vectors(), dim=-1).cpu().numpy()
        max_len = models[0].config.max_len
        seqs = pad_left([inputs[i][-max_len:] for i in pick], max_len)
        scores = torch.cat([next_item_scores(models, seqs[j : j + 512]) for j in range(0, len(pick), 512)]).cpu().numpy()
    for row, i in enumerate(pick):
        scores[row, inputs[i]] = -np.inf
    settings = {"plain": (1.0, 0), "mmr": (0.75, 0), "mmr+explore": (0.75, 1)}
    out = {}
    for name, (lam, explore) in settings.items():
        lists, hits, ndcg = [], 0, 0.0
        depth = min(100, ds.n_items - 1)
        for row, i in enumerate(pick):
            top = np.argpartition(-scores[row], depth)[:depth]
            top = top[np.argsort(-scores[row, top])]
            top = top[np.isfinite(scores[row, top])]  # masked items can reach the top on tiny catalogs
            rel = scores[row, top]
            rel = (rel - rel.mean()) / (rel.std() + 1e-9)
            chosen = [top[j] for j in mmr(rel, vecs[top], 10 - explore, lam)]
            if explore:
                # Thompson-style slot: a rarely bought item among the next 100, noise ∝ 1/√count.
                rest = [j for j in range(len(top)) if top[j] not in chosen]
                draw = rel[rest] + rng.standard_normal(len(rest)) / np.sqrt(counts[top[rest]] + 1)
                chosen.append(top[rest[int(np.argmax(draw))]])
            lists.append([int(c) for c in chosen])
            if targets[i] in chosen:
                r = chosen.index(targets[i])
                hits += 1
                ndcg += 1 / np.log2(r + 2)
        out[name] = {
            "HR@10": hits / len(pick), "NDCG@10": ndcg / len(pick),
            "coverage": coverage(lists, ds.n_items), "intra_list_diversity": intra_list_diversity(lists, vecs),
            "popularity_percentile": popularity_bias(lists, counts),
        }
    out["users"] = len(pick)
    return out


def _train(ds, mcfg: ModelConfig, tcfg: TrainConfig, attrs: bool, progress: bool, desc: str) -> tuple:
    set_seed(tcfg.seed)
    model = build(mcfg, ds.item_attrs if attrs else None, device=torch.device("cpu") if not torch.cuda.is_available() else None)
    result = fit(model, ds.train_sequences(), tcfg, val=ds.validation(), progress=progress, desc=desc)
    test = evaluate(model, *ds.test())
    return model, {
        "validation": result.val, "test": test, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1), "train_cpu_seconds": round(result.cpu_seconds, 1),
        "threads": torch.get_num_threads(), "history": result.history,
        "model": mcfg.to_dict(), "train": tcfg.to_dict(),
    }


def _train_members(ds, mcfg: ModelConfig, tcfg: TrainConfig, members: int, progress: bool) -> tuple[list, dict]:
    """Aisle's network: `members` copies trained with seeds seed, seed + 1, …, each until its early
    stopping (or for `tcfg.epochs` with the cosine schedule), capped by an equal share of the time budget;
    their softmaxes are averaged (`recsys.train.next_item_scores`). The length is set by validation or in
    epochs, not by time, because a CPU-time budget buys fewer epochs with two threads than one."""
    models, parts = [], []
    share = tcfg.max_minutes / members if tcfg.max_minutes else None
    for i in range(members):
        cfg = dataclasses.replace(tcfg, seed=tcfg.seed + i, max_minutes=share)
        model, part = _train(ds, mcfg, cfg, attrs=True, progress=progress, desc=f"aisle {i + 1}/{members}")
        models.append(model)
        parts.append(part)
    keep = ("validation", "test", "best_epoch", "epochs_run", "train_seconds", "train_cpu_seconds", "history")
    one = members == 1  # its figures are already the model's
    return models, {
        "validation": parts[0]["validation"] if one else evaluate(models, *ds.validation()),
        "test": parts[0]["test"] if one else evaluate(models, *ds.test()),
        "members": [{k: part[k] for k in keep} | {"seed": part["train"]["seed"]} for part in parts],
        "train_seconds": round(sum(p["train_seconds"] for p in parts), 1),
        "train_cpu_seconds": round(sum(p["train_cpu_seconds"] for p in parts), 1),
        "threads": parts[0]["threads"], "model": mcfg.to_dict(),
        "train": tcfg.to_dict() | {"members": members, "minutes_per_member": share},
    }


def _blend(models: list, ds: SeqDataset, report: dict, cooc: bool = True) -> None:
    """Mix the network's softmax with a count prior fitted on the training sequences; the co-occurrence
    share and the weight are picked on validation (NDCG@10 + HR@10), then test is computed once.
    Network-only figures stay beside, and so does test with the prior refitted on every interaction
    before the test items (train + validation items), as a live service's counts would be."""
    priors = fit_priors(ds.train_sequences(), ds.n_items)
    choice = pick_prior(models, ds.validation(), priors, cooc)
    share, weight, val, grid = choice.cooc_share, choice.weight, choice.validation, choice.grid
    report["network_only"] = {"validation": report["validation"], "test": report["test"]}
    report["prior"] = {
        "kind": f"{1 - share:g} × item transitions (last 2 items) + {share:g} × co-occurrence within 5 (last 5 items)",
        "cooc_share": share, "weight": weight, "selected_by": "validation NDCG@10 + HR@10",
        "validation_ndcg@10/hr@10": {f"{s}/{w}": [m["NDCG@10"], m["HR@10"]] for s, w, m in grid},
    }
    report["validation"] = val
    test_inputs, test_targets = ds.test()
    report["test"] = evaluate(models, test_inputs, test_targets, prior=mix_priors(priors, share), prior_weight=weight)
    refit = mix_priors(fit_priors([s[:-1] for s in ds.sequences if len(s) >= 3], ds.n_items), share)
    report["test_prior_refit"] = evaluate(models, test_inputs, test_targets, prior=refit, prior_weight=weight)


def _round(obj):
    if isinstance(obj, float):
        return round(obj, 5)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Everything one seed's run needs (picklable: parallel seeds run in their own processes)."""

    epochs: int = 200  # the most: patience ends the run (24–34 epochs a network on Beauty)
    baseline: bool = True
    baseline_epochs: int = 400
    max_minutes: float = 150.0  # a cap shared by the networks, not the recipe: 26–37 CPU-minutes a network on Beauty
    members: int = MEMBERS
    baseline_max_minutes: float = 30.0
    patience: int = RECIPE_TRAIN["patience"]
    baseline_patience: int = 20
    loss: str = RECIPE_TRAIN["loss"]
    negatives: int = 2048
    prior: bool = True
    cooc: bool = True
    schedule: str = RECIPE_TRAIN["schedule"]
    freq_filter: int = ARCHITECTURE["freq_filter"]
    freq_alpha: float = ARCHITECTURE["freq_alpha"]
    freq_causal: bool = ARCHITECTURE["freq_causal"]
    targets: str = RECIPE_TRAIN["targets"]
    lr: float = RECIPE_TRAIN["lr"]
    weight_decay: float = RECIPE_TRAIN["weight_decay"]
    heads: int = ARCHITECTURE["heads"]
    quick: bool = False
    threads: int = 0  # 0: auto_threads()
    clock: str = "cpu"  # what the time budgets count (recsys.train.TrainConfig.clock)


def run_one(path: Path, opts: RunOptions, seed: int) -> dict:
    """One seed of the benchmark: popularity, Aisle's model and the SASRec baseline on one split."""
    torch.set_num_threads(opts.threads or auto_threads())
    started, load_start = time.perf_counter(), os.getloadavg()
    ds = load_dataset(path)
    epochs, baseline_epochs = opts.epochs, opts.baseline_epochs
    if opts.quick:
        ds.sequences = ds.sequences[:2000]
        epochs, baseline_epochs = min(epochs, 2), min(baseline_epochs, 2)
    progress = True  # tqdm writes to stderr; stdout stays one JSON object
    counts, pop = _popularity(ds)
    width = 32 if opts.quick else 64
    aisle_models, aisle = _train_members(
        ds,
        ModelConfig(n_items=ds.n_items, n_attrs=ds.n_attrs, dropout=0.5,
                    **(ARCHITECTURE | {"hidden": width, "heads": opts.heads, "freq_filter": opts.freq_filter,
                                       "freq_alpha": opts.freq_alpha, "freq_causal": opts.freq_causal})),
        TrainConfig(epochs=epochs, batch_size=256, lr=opts.lr, weight_decay=opts.weight_decay, loss=opts.loss,
                    negatives=opts.negatives, patience=opts.patience, seed=seed, threads=opts.threads,
                    max_minutes=opts.max_minutes, schedule=opts.schedule, clock=opts.clock, targets=opts.targets),
        opts.members, progress,
    )
    if opts.prior:
        _blend(aisle_models, ds, aisle, opts.cooc)
    report = {
        "dataset": path.stem, "seed": seed, "users": len(ds.sequences), "items": ds.n_items,
        "interactions": sum(map(len, ds.sequences)),
        "protocol": "leave-one-out; full ranking over all items; input-sequence items masked; "
                    "model selection on validation (second-to-last item), figures on test (last item)",
        "machine": f"{os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}, "
                   f"cuda {torch.cuda.is_available()} (timings noisy on a shared machine)",
        "quick": opts.quick,
        "popularity": {"test": pop},
        "aisle": aisle,
    }
    if opts.baseline:
        _, base = _train(
            ds,
            ModelConfig(n_items=ds.n_items, hidden=50, layers=2, heads=1, max_len=50, dropout=0.5, attn_dropout=0.5),
            TrainConfig(epochs=baseline_epochs, batch_size=128, lr=1e-3, weight_decay=0.0, loss="bce",
                        patience=opts.baseline_patience, seed=seed, threads=opts.threads,
                        max_minutes=opts.baseline_max_minutes, clock=opts.clock),
            attrs=False, progress=progress, desc="sasrec",
        )
        base["name"] = "SASRec per the paper's defaults (own implementation, binary loss, 1 negative)"
        report["sasrec_baseline"] = base
        report["aisle_vs_sasrec_ndcg@10"] = aisle["test"]["NDCG@10"] / max(base["test"]["NDCG@10"], 1e-9) - 1
    report["beyond_accuracy_top10"] = _beyond_accuracy(aisle_models, ds, counts, 500 if opts.quick else 5000, seed)
    report["targets"] = _targets(aisle["test"])
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    report["load_average_1_5_15min"] = {"start": [round(x, 2) for x in load_start],
                                        "end": [round(x, 2) for x in os.getloadavg()]}
    return _round(report)


def _targets(test: dict) -> dict:
    # The published state of the art on this protocol (Beauty): WEARec 0.0614 / 0.1041, BSARec 0.0611 / 0.1008.
    return {"NDCG@10>=0.0625": test["NDCG@10"] >= 0.0625, "HR@10>=0.105": test["HR@10"] >= 0.105}


def _spread(values: list[float]) -> dict:
    arr = np.asarray(values, dtype=float)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
            "min": float(arr.min()), "max": float(arr.max()), "values": [float(v) for v in arr]}


def summarise(reports: list[dict]) -> dict:
    """Mean, sample standard deviation and range over seeds of each model's validation and test figures."""
    reports = sorted(reports, key=lambda r: r["seed"])
    where = {"aisle": ("aisle",), "aisle_network_only": ("aisle", "network_only"),
             "aisle_prior_refit": ("aisle",), "sasrec_baseline": ("sasrec_baseline",), "popularity": ("popularity",)}
    out: dict = {"seeds": [r["seed"] for r in reports], "runs_finished": len(reports)}
    for name, keys in where.items():
        parts = []
        for r in reports:
            node = r
            for k in keys:
                node = node.get(k, {}) if isinstance(node, dict) else {}
            parts.append(node)
        if not all(parts):
            continue
        splits = {"test": "test_prior_refit"} if name == "aisle_prior_refit" else {"validation": "validation", "test": "test"}
        out[name] = {split: {m: _spread([p[key][m] for p in parts]) for m in SUMMARY_KEYS}
                     for split, key in splits.items() if all(key in p for p in parts)}
    test_mean = {m: out["aisle"]["test"][m]["mean"] for m in SUMMARY_KEYS}
    out["targets_on_the_mean"] = _targets(test_mean)
    return _round(out)


def _keep(report: dict, out_dir: Path | None) -> dict:
    """Each seed's report lands as the run receives it (written by the parent, not the workers, so the files
    and the reports the run counts agree): a run cut short keeps what it did."""
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a run stopped mid-write leaves no half file for --summarise.
        tmp = out_dir / f".seed-{report['seed']}.json.tmp"
        tmp.write_text(json.dumps(report), encoding="utf-8")
        os.replace(tmp, out_dir / f"seed-{report['seed']}.json")
    return report


def _run_one_args(args: tuple) -> dict:
    return run_one(*args)


class Terminated(Exception):
    """The parent of a parallel run got SIGTERM (`kill PID`)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def _die_with_parent(parent: int) -> None:
    """Pool initializer: on Linux the kernel sends the worker SIGTERM when its parent dies, however it
    dies (even SIGKILL, where no handler of the parent runs); elsewhere the parent's handler is all."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent was already gone before that was set
        os._exit(1)


def _run_parallel(path: Path, opts: RunOptions, seeds: list[int], out_dir: Path | None, jobs: int,
                  reports: list[dict]) -> None:
    """Runs the seeds `jobs` at a time in spawned workers (a fresh interpreter each: torch and forked
    thread pools do not mix), appending each report to `reports` as it finishes. Stopping the parent
    (SIGTERM, Ctrl-C) stops the workers: left running, they would train unseen for an hour."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        pool = multiprocessing.get_context("spawn").Pool(min(jobs, len(seeds)), initializer=_die_with_parent,
                                                         initargs=(os.getpid(),))
        try:
            for report in pool.imap_unordered(_run_one_args, [(path, opts, s) for s in seeds]):
                reports.append(report)  # counted first: a file on disk is then always a report counted
                _keep(report, out_dir)
            pool.close()  # done: the workers exit by themselves
        except BaseException:
            pool.terminate()  # SIGTERM to every worker, then wait for them
            raise
        finally:
            pool.join()
    finally:
        signal.signal(signal.SIGTERM, previous)


_DEFAULTS = RunOptions()  # the recipe: the command's defaults are RunOptions'


def main(
    dataset: Annotated[str, typer.Option(help=f"One of {', '.join(DATASETS)}: its S3-Rec file from AISLE_SEQREC_DIR "
                                              "(see `seqrec_dirs`).")] = "beauty",
    path: Annotated[Path | None, typer.Option(help="Any sequence file `user item1 item2 …` instead.")] = None,
    epochs: Annotated[int, typer.Option(help="Most epochs per network of Aisle's model (with --schedule cosine: its length) "
                                             "(the best validation epoch is kept).")] = _DEFAULTS.epochs,
    baseline: Annotated[bool, typer.Option(help="Also train the SASRec baseline (slow).")] = True,
    baseline_epochs: Annotated[int, typer.Option(help="Most epochs for the SASRec baseline.")] = 400,
    max_minutes: Annotated[float, typer.Option(help="Cap on Aisle's training time (all members, an equal share "
                                                    "each): a member whose epochs take longer ends early. Far above the recipe's "
                                                    "need: a shared core's CPU time per epoch grows under load.")] = _DEFAULTS.max_minutes,
    clock: Annotated[str, typer.Option(help="What the budgets count: cpu (the run's own CPU time, all threads: "
                                            "far less load-dependent than wall time, not independent of it) or wall.")] = "cpu",
    members: Annotated[int, typer.Option(min=1, help="Networks averaged in Aisle's model (seeds seed, seed + 1, …).")] = _DEFAULTS.members,
    baseline_max_minutes: Annotated[float, typer.Option(help="Training-time budget of the baseline.")] = 30.0,
    patience: Annotated[int, typer.Option(help="Epochs without a better validation NDCG@10 before stopping "
                                               "(not with the cosine schedule, which ends with its budget).")] = _DEFAULTS.patience,
    baseline_patience: Annotated[int, typer.Option(help="The same for the baseline, whose validation rises slowly "
                                                        "and noisily (binary loss): 5 stopped it too early.")] = 20,
    loss: Annotated[str, typer.Option(help="Aisle's loss: sampled (softmax over shared negatives) or ce (full).")] = _DEFAULTS.loss,
    negatives: Annotated[int, typer.Option(help="Shared random negatives per batch for the sampled loss.")] = 2048,
    prior: Annotated[bool, typer.Option(help="Blend Aisle's model with item-transition probabilities.")] = True,
    cooc: Annotated[bool, typer.Option(help="Let validation also try mixing item co-occurrence into the prior.")] = True,
    schedule: Annotated[str, typer.Option(help="Aisle's learning rate: constant, or cosine decay to zero "
                                               "at the last epoch.")] = _DEFAULTS.schedule,
    freq_filter: Annotated[int, typer.Option(min=0, help="BSARec-style frequency filter in Aisle's networks, keeping "
                                                         "this many low frequencies of each history (0: off).")] = _DEFAULTS.freq_filter,
    freq_alpha: Annotated[float, typer.Option(min=0.0, max=1.0, help="The filter's share beside attention.")] = _DEFAULTS.freq_alpha,
    causal_filter: Annotated[bool, typer.Option(help="The filter sees each position's own history only; "
                                                     "--no-causal-filter: the whole history, as BSARec's (needs --targets last).")] = _DEFAULTS.freq_causal,
    targets: Annotated[str, typer.Option(help="Training targets: all (every position of a history, one pass) or last "
                                              "(every prefix its own row, its last position scored, as BSARec trains).")] = _DEFAULTS.targets,
    lr: Annotated[float, typer.Option(min=0.0, help="Aisle's learning rate (AdamW).")] = _DEFAULTS.lr,
    weight_decay: Annotated[float, typer.Option(min=0.0, help="Aisle's AdamW weight decay.")] = _DEFAULTS.weight_decay,
    heads: Annotated[int, typer.Option(min=1, help="Attention heads per block of Aisle's networks.")] = _DEFAULTS.heads,
    quick: Annotated[bool, typer.Option(help="Smoke run: 2,000 users, 2 epochs, small models.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed (the first, with --seeds).")] = 42,
    seeds: Annotated[int, typer.Option(min=1, help=f"Independent runs (seeds seed, seed + {SEED_STEP}, …), "
                                                   "reported as mean ± spread.")] = 1,
    jobs: Annotated[int, typer.Option(min=1, help="Seeds run at once, each in its own process.")] = 1,
    threads: Annotated[int, typer.Option(min=0, help="torch threads per run (0: 2, or 1 on a busy machine; "
                                                     "1 when --jobs > 1).")] = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for each seed's report (seed-N.json), written as "
                                                  "each seed finishes.")] = None,
    summarise_dir: Annotated[Path | None, typer.Option("--summarise", help="Only summarise the seed-N.json "
                                                       "reports already in this folder (a run cut short).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Full-ranking HR/NDCG@{5,10,20} of Aisle's model, popularity and SASRec on a leave-one-out split."""
    if summarise_dir is not None:
        found = sorted(summarise_dir.glob("seed-*.json"))
        if not found:
            typer.secho(f"error: no seed-N.json reports in {summarise_dir}", fg="red", err=True)
            raise typer.Exit(1)
        typer.echo(json.dumps(summarise([json.loads(f.read_text(encoding="utf-8")) for f in found])))
        return
    if path is None:
        try:
            path = dataset_path(dataset)
        except FileNotFoundError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(1) from None
    elif not path.is_file():
        typer.secho(f"error: {path} not found", fg="red", err=True)
        raise typer.Exit(1)
    if schedule not in ("constant", "cosine"):
        raise typer.BadParameter("--schedule must be constant or cosine")
    if clock not in ("cpu", "wall"):
        raise typer.BadParameter("--clock must be cpu or wall")
    if targets not in ("all", "last"):
        raise typer.BadParameter("--targets must be all or last")
    if freq_filter and not causal_filter and targets != "last":
        raise typer.BadParameter("--no-causal-filter lets later items reach earlier targets: use it with --targets last")
    opts = RunOptions(epochs=epochs, baseline=baseline, baseline_epochs=baseline_epochs, max_minutes=max_minutes,
                      members=members, baseline_max_minutes=baseline_max_minutes, patience=patience,
                      baseline_patience=baseline_patience, loss=loss, negatives=negatives, prior=prior, cooc=cooc,
                      schedule=schedule, clock=clock, freq_filter=freq_filter, freq_alpha=freq_alpha,
                      freq_causal=causal_filter, targets=targets, lr=lr, weight_decay=weight_decay, heads=heads, quick=quick,
                      threads=threads or (1 if jobs > 1 else 0))
    run_seeds = [seed + SEED_STEP * i for i in range(seeds)]
    if jobs == 1 or seeds == 1:
        reports = [_keep(run_one(path, opts, s), out) for s in run_seeds]
    else:
        reports = []
        try:
            _run_parallel(path, opts, run_seeds, out, jobs, reports)
        except (Terminated, KeyboardInterrupt) as exc:
            kept = f"; their reports are in {out} (`aisle eval recsys --summarise {out}`)" if out and reports else ""
            typer.secho(f"interrupted: workers stopped, {len(reports)} of {seeds} seeds finished{kept}",
                        fg="red", err=True)
            raise typer.Exit(128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)) from None
    report = reports[0] if seeds == 1 else {
        "dataset": reports[0]["dataset"], "users": reports[0]["users"], "items": reports[0]["items"],
        "protocol": reports[0]["protocol"], "summary": summarise(reports),
        "runs": sorted(reports, key=lambda r: r["seed"]),
    }
    if as_json:
        typer.echo(json.dumps(report))
        return
    if seeds > 1:
        typer.echo(json.dumps(report["summary"], indent=1))
        return
    aisle = report["aisle"]
    typer.echo(f"{report['dataset']}: {report['users']} users, {report['items']} items")
    rows = [("popularity", report["popularity"]["test"])] + [("aisle", aisle["test"])]
    if baseline:
        rows.append(("sasrec", report["sasrec_baseline"]["test"]))
    for name, m in rows:
        typer.echo(f"  {name:<11} " + "  ".join(f"{k} {m[k]:.4f}" for k in sorted(m)))
    best = [m["best_epoch"] for m in aisle["members"]]
    typer.echo(f"  aisle trained {aisle['train_seconds']} s, best epoch(s) {best}")
    typer.echo(json.dumps(report["beyond_accuracy_top10"], indent=1))
