"""Training and full-ranking evaluation of a SeqRecModel on item sequences.

Sequences hold item indices 1..n_items in time order. Training predicts every next item of every
(truncated) sequence, in one pass per history or (`targets="last"`, the recipe) one row per prefix;
evaluation ranks the held-out item against all items, no sampled negatives.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from recsys.model import SeqRecModel, pick_device
from recsys.transitions import COOC_SHARES, PRIOR_WEIGHTS, PriorMix, Transitions, mix_priors, selection_score

log = logging.getLogger(__name__)

KS = (5, 10, 20)
# Aisle's model, the benchmark's and the store's alike (docs/recsys.md "Every prefix its own row"): MEMBERS
# networks of recsys.model.ARCHITECTURE averaged, each trained as BSARec trains: every prefix of a history
# its own row, scored at its last position by the full softmax, lr 5e-4 until validation stops rising
# for 10 epochs; then the count prior. One such network beat five of the earlier recipe on validation;
# two beat one (docs/recsys.md: three seeds each, test read once).
MEMBERS = 2
RECIPE_TRAIN = {"loss": "ce", "targets": "last", "lr": 5e-4, "weight_decay": 0.0, "schedule": "constant", "patience": 10}


@dataclass
class TrainConfig:
    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.01
    loss: str = "ce"  # "ce": full softmax; "sampled": softmax over shared random negatives; "bce": SASRec's
    negatives: int = 1024  # for "sampled": shared uniform negatives per batch (no logQ term: uniform)
    patience: int = 5  # evaluations without a better validation NDCG@10 before stopping (not with cosine)
    seed: int = 42
    threads: int = 0  # 0: auto_threads(); set it for bit-identical reruns (sums differ across thread counts)
    max_minutes: float | None = None  # time budget: no epoch starts that would likely end past it
    schedule: str = "constant"  # "cosine": lr decays to 0 at the last epoch (of the budget, if any)
    # What max_minutes counts: "wall" time, or this process's "cpu" time (all its threads), which other
    # jobs on a shared machine do not eat into, so a budgeted run trains as far whatever the load.
    clock: str = "wall"
    # DuoRec's contrastive regularisation (Qiu et al., WSDM 2022), off at 0: the state at each training
    # row's last position is pulled towards a second view's by InfoNCE against the batch's other states,
    # weighted `cl_weight`, temperature `cl_temp`, dot similarity. `cl_kind`: "unsup", the same row run
    # again (another dropout draw); "sup", another training prefix followed by the same item; "both",
    # the two terms added. The main loss's forward pass is the first view, so a term costs one pass.
    # Off by default: every λ and kind screened lost on Beauty's validation (docs/recsys.md).
    cl_weight: float = 0.0
    cl_temp: float = 1.0
    cl_kind: str = "both"
    # Which positions are training targets: "all", every position of each history window (one pass
    # scores them all); "last", BSARec's / FMLP-Rec's set-up: every prefix of a history is its own row
    # and only its last position is scored, so a row is the state inference sees (more steps per epoch).
    targets: str = "all"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    best_epoch: int = 0
    epochs_run: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # all threads; beside wall time, shows how much CPU a shared machine gave
    val: dict[str, float] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)


def auto_threads(limit: int = 2) -> int:
    """torch threads for training: up to `limit`, but 1 on a machine already busier than its cores.
    OpenMP threads spin-wait for each other, so when one is descheduled the rest stall: under a load
    of 7 on 2 cores, 2 threads ran an epoch 2.3x slower than 1. With OMP_WAIT_POLICY=PASSIVE set
    before start they sleep instead, and 2 threads are fine again."""
    cores = min(limit, os.cpu_count() or 1)
    if os.environ.get("OMP_WAIT_POLICY", "").lower() == "passive":
        return cores
    return cores if os.getloadavg()[0] < (os.cpu_count() or 1) else 1


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _windows(seq: list[int], length: int) -> list[list[int]]:
    """Training windows of `length` + 1 items, so long histories are not cut to their tail only."""
    if len(seq) <= length + 1:
        return [seq]
    ends = range(len(seq), length, -length)
    return [seq[max(0, end - length - 1) : end] for end in ends]


def pad_left(seqs: list[list[int]], length: int) -> torch.Tensor:
    out = torch.zeros((len(seqs), length), dtype=torch.long)
    for row, seq in enumerate(seqs):
        tail = seq[-length:]
        if tail:
            out[row, length - len(tail) :] = torch.as_tensor(tail, dtype=torch.long)
    return out


def _length_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Batches of rows of similar length, in random order: most rows are short, so padding every
    row to the maximum length would waste most of the compute."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _cosine_lr(base: float, epoch: int, total: int) -> float:
    """Learning rate for the epoch after `epoch` of `total` (cosine from `base` down to 0)."""
    return base * 0.5 * (1 + math.cos(math.pi * min(epoch, total) / max(total, 1)))


def _prefixes(seq: list[int], length: int) -> list[list[int]]:
    """Every prefix of two or more items, each cut to its last `length` + 1 items ("last" targets)."""
    return [seq[max(0, end - length - 1) : end] for end in range(2, len(seq) + 1)]


def _loss(model: SeqRecModel, batch: torch.Tensor, kind: str, gen: torch.Generator, negatives: int = 1024,
          states: torch.Tensor | None = None, last_only: bool = False) -> torch.Tensor:
    """The next-item loss at every position of `batch` (at its last only, with `last_only`); `states`:
    `model.encode(batch[:, :-1])`, when the caller has them (the contrastive term reuses that pass)."""
    inputs, targets = batch[:, :-1], batch[:, 1:]
    if last_only:  # a row's target is its last item (prefix rows end with a real one)
        valid = torch.zeros_like(inputs, dtype=torch.bool)
        valid[:, -1] = True
    else:
        valid = (inputs > 0) & (targets > 0)
    h = (model.encode(inputs) if states is None else states)[valid]  # only real positions: most Beauty rows are short
    pos = targets[valid]
    if kind == "ce":
        logits = h @ model.item_vectors().T
        logits[:, 0] = float("-inf")
        return F.cross_entropy(logits, pos)
    if kind == "sampled":
        # Full softmax costs n_items dot products per position; on a CPU that is most of an epoch.
        neg = torch.randint(1, model.config.n_items + 1, (negatives,), generator=gen).to(pos.device)
        pos_logit = (h * model.item_vectors(pos)).sum(-1, keepdim=True)
        neg_logit = h @ model.item_vectors(neg).T
        neg_logit = neg_logit.masked_fill(neg.unsqueeze(0) == pos.unsqueeze(1), float("-inf"))
        logits = torch.cat([pos_logit, neg_logit], dim=1)
        return F.cross_entropy(logits, torch.zeros_like(pos))
    neg = torch.randint(1, model.config.n_items + 1, pos.shape, generator=gen).to(pos.device)
    pos_logit = (h * model.item_vectors(pos)).sum(-1)
    neg_logit = (h * model.item_vectors(neg)).sum(-1)
    return F.softplus(-pos_logit).mean() + F.softplus(neg_logit).mean()


CL_KINDS = ("unsup", "sup", "both")


@dataclass
class SameTarget:
    """Every training prefix grouped by the item that follows it: prefix k is rows[row[k]][:end[k]], and
    the prefixes followed by item i are k in starts[i] .. starts[i + 1] - 1 (DuoRec's supervised views)."""
    row: np.ndarray
    end: np.ndarray
    starts: np.ndarray

    @classmethod
    def index(cls, rows: list[list[int]], n_items: int) -> SameTarget:
        row = np.concatenate([np.full(len(r) - 1, i) for i, r in enumerate(rows)])
        end = np.concatenate([np.arange(1, len(r)) for r in rows])
        item = np.concatenate([np.asarray(r[1:]) for r in rows])
        order = np.argsort(item, kind="stable")
        starts = np.searchsorted(item[order], np.arange(n_items + 2))
        return cls(row[order], end[order], starts)


def _same_target_views(rows: list[list[int]], idx: list[int], index: SameTarget, rng: np.random.Generator) -> list[list[int]]:
    """For each row in `idx`, a random other training prefix followed by the row's last item (the row's
    own prefix when no other exists, so the pair is then a plain dropout pair)."""
    own = np.array([len(rows[i]) - 1 for i in idx])
    items = np.array([rows[i][-1] for i in idx])
    first, count = index.starts[items], index.starts[items + 1] - index.starts[items]
    pick = first + (rng.random(len(idx)) * count).astype(np.int64)
    is_self = (index.row[pick] == np.asarray(idx)) & (index.end[pick] == own)
    # Another draw among the other count - 1 prefixes: step forward by 1 .. count - 1 within the group.
    step = 1 + (rng.random(len(idx)) * np.maximum(count - 1, 1)).astype(np.int64)
    pick = np.where(is_self & (count > 1), first + (pick - first + step) % np.maximum(count, 1), pick)
    return [rows[r][:e] for r, e in zip(index.row[pick], index.end[pick])]


def _info_nce(a: torch.Tensor, b: torch.Tensor, targets: torch.Tensor, temp: float) -> torch.Tensor:
    """InfoNCE over 2B states (DuoRec's): a[i]'s positive is b[i] and b[i]'s is a[i]; the other states
    are negatives, except states of rows with the same next item, which are not pushed apart."""
    z = torch.cat([a, b])
    n = a.shape[0]
    logits = z @ z.T / temp
    both = torch.cat([targets, targets])
    positive = torch.arange(2 * n, device=z.device).roll(n)
    blocked = both.unsqueeze(0) == both.unsqueeze(1)  # self and same-target pairs, the positive among them
    blocked[torch.arange(2 * n), positive] = False
    return F.cross_entropy(logits.masked_fill(blocked, float("-inf")), positive)


def _contrastive_loss(model: SeqRecModel, states: torch.Tensor, batch: torch.Tensor, cfg: TrainConfig,
                      same_target: list[list[int]] | None) -> torch.Tensor:
    """DuoRec's regulariser for one batch: `states` are the main pass's last-position states, the first
    view; the second is a new pass of the same rows ("unsup") and/or of `same_target` ("sup"), each
    view's last items up to the batch's width."""
    targets = batch[:, -1]
    total = states.new_zeros(())
    if cfg.cl_kind in ("unsup", "both"):
        again = model.encode(batch[:, :-1])[:, -1]
        total = total + _info_nce(states, again, targets, cfg.cl_temp)
    if cfg.cl_kind in ("sup", "both"):
        # Cut to the batch's width: a prefix drawn from anywhere is often far longer than the batch's
        # (length-grouped) rows, and padding the view to it made the pass cost several times the main one.
        other = pad_left(same_target, batch.shape[1] - 1).to(batch.device)
        total = total + _info_nce(states, model.encode(other)[:, -1], targets, cfg.cl_temp)
    return total


@torch.no_grad()
def evaluate(
    model: SeqRecModel | list[SeqRecModel],
    inputs: list[list[int]],
    targets: list[int],
    batch_size: int = 512,
    exclude_history: bool = True,
    ks: tuple[int, ...] = KS,
    prior: Transitions | PriorMix | None = None,
    prior_weight: float = 0.0,
) -> dict[str, float]:
    """HR@k and NDCG@k of the target item ranked against all items (history items masked); with a
    `prior`, items are ranked by (1 - prior_weight) · softmax(model) + prior_weight · prior."""
    return evaluate_weights(model, inputs, targets, prior, (prior_weight,), batch_size, exclude_history, ks)[0]


@torch.no_grad()
def next_item_scores(models: list[SeqRecModel], seqs: torch.Tensor,
                     item_vecs: list[torch.Tensor] | None = None) -> torch.Tensor:
    """Scores of every item as the next one (B, n_items + 1; column 0, padding, is -inf): one model's
    logits, or for an ensemble the log of its members' mean softmax, so that every member counts
    alike whatever the scale of its logits (softmax of these scores is that mean)."""
    logits = [m.score_all(seqs, v) for m, v in zip(models, item_vecs or [None] * len(models))]
    if len(logits) == 1:
        return logits[0]
    log_probs = torch.stack([torch.log_softmax(one, dim=-1) for one in logits])
    return torch.logsumexp(log_probs, dim=0) - math.log(len(logits))


@torch.no_grad()
def evaluate_weights(
    model: SeqRecModel | list[SeqRecModel],
    inputs: list[list[int]],
    targets: list[int],
    prior: Transitions | PriorMix | list | None,
    weights: tuple[float, ...],
    batch_size: int = 512,
    exclude_history: bool = True,
    ks: tuple[int, ...] = KS,
) -> list[dict[str, float]]:
    """`evaluate` for several prior weights in one pass over the users (the model runs once). A list
    of models is an ensemble (see `next_item_scores`). A list of priors gives every (prior, weight) pair,
    prior by prior, from the same single pass: a grid over priors costs the networks once, not per prior."""
    models = model if isinstance(model, list) else [model]
    priors = prior if isinstance(prior, list) else [prior]
    for m in models:
        m.eval()
    max_len = models[0].config.max_len
    device = next(models[0].parameters()).device
    combos = [(p, w) for p in priors for w in weights]
    hits = [{k: 0.0 for k in ks} for _ in combos]
    ndcg = [{k: 0.0 for k in ks} for _ in combos]
    item_vecs = [m.item_vectors() for m in models]
    by_length = sorted(range(len(inputs)), key=lambda i: min(len(inputs[i]), max_len))
    for start in range(0, len(by_length), batch_size):
        idx = by_length[start : start + batch_size]
        chunk = [inputs[i][-max_len :] for i in idx]
        seqs = pad_left(chunk, max(1, max(len(c) for c in chunk))).to(device)
        tgt = torch.as_tensor([targets[i] for i in idx], device=device)
        alone = next_item_scores(models, seqs, item_vecs)
        probs = torch.softmax(alone, dim=-1) if any(p is not None for p in priors) and any(weights) else None
        j = 0
        for p in priors:  # each prior's rows built once per batch, for all its weights
            prior_probs = None if p is None or probs is None else \
                torch.as_tensor(p.probabilities([inputs[i] for i in idx]), device=device)
            for w in weights:
                scores = alone.clone() if prior_probs is None or not w else (1 - w) * probs + w * prior_probs
                scores[:, 0] = float("-inf")
                target_scores = scores.gather(1, tgt[:, None]).clone()
                if exclude_history:
                    scores.scatter_(1, seqs, float("-inf"))
                rank = (scores > target_scores).sum(1)
                for k in ks:
                    hit = rank < k
                    hits[j][k] += hit.sum().item()
                    ndcg[j][k] += (hit.float() / torch.log2(rank.float() + 2)).sum().item()
                j += 1
    n = max(len(inputs), 1)
    out = []
    for j in range(len(combos)):
        metrics = {f"HR@{k}": hits[j][k] / n for k in ks}
        metrics.update({f"NDCG@{k}": ndcg[j][k] / n for k in ks})
        out.append(metrics)
    return out


@dataclass
class PriorChoice:
    cooc_share: float
    weight: float
    validation: dict[str, float]  # the network(s) mixed with the prior at this share and weight
    grid: list[tuple[float, float, dict[str, float]]]  # every (share, weight, validation metrics) tried


def pick_prior(models: list[SeqRecModel], val: tuple[list[list[int]], list[int]],
               priors: tuple[Transitions, Transitions], cooc: bool = True) -> PriorChoice:
    """The co-occurrence share and the prior's weight with the best validation NDCG@10 + HR@10 (the
    benchmark's and the store model's choice alike); weight 0 is in the grid, so a prior that does
    not help on validation is left out."""
    shares = COOC_SHARES if cooc else (0.0,)
    scored = evaluate_weights(models, *val, [mix_priors(priors, s) for s in shares], PRIOR_WEIGHTS)
    grid = [(s, w, m) for (s, w), m in zip([(s, w) for s in shares for w in PRIOR_WEIGHTS], scored)]
    share, weight, metrics = max(grid, key=lambda g: selection_score(g[2]))
    return PriorChoice(share, weight, metrics, grid)


def fit(
    model: SeqRecModel,
    train_seqs: list[list[int]],
    cfg: TrainConfig,
    val: tuple[list[list[int]], list[int]] | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainResult:
    """Train in place; with `val`, keep the weights of the best validation NDCG@10 (early stopping)."""
    if cfg.schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be constant or cosine, not {cfg.schedule!r}")
    if cfg.clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be wall or cpu, not {cfg.clock!r}")
    if cfg.cl_kind not in CL_KINDS:
        raise ValueError(f"cl_kind must be one of {', '.join(CL_KINDS)}, not {cfg.cl_kind!r}")
    if cfg.targets not in ("all", "last"):
        raise ValueError(f"targets must be all or last, not {cfg.targets!r}")
    if model.config.freq_filter and not model.config.freq_causal and cfg.targets != "last":
        raise ValueError("a non-causal filter lets later items reach earlier targets: train it with targets='last'")
    budget_clock = time.process_time if cfg.clock == "cpu" else time.perf_counter
    set_seed(cfg.seed)
    torch.set_num_threads(cfg.threads or auto_threads())
    device = next(model.parameters()).device
    cut = _prefixes if cfg.targets == "last" else _windows
    rows = [w for s in train_seqs for w in cut(s, model.config.max_len) if len(w) >= 2]
    if not rows:
        raise ValueError("no training sequence has two or more items")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    order_rng = random.Random(cfg.seed)
    # Its own generator, so a run without the term draws exactly what it drew before the term existed.
    cl_rng = np.random.default_rng(cfg.seed)
    index = SameTarget.index(rows, model.config.n_items) if cfg.cl_weight and cfg.cl_kind != "unsup" else None
    result = TrainResult()
    best_state, best, bad = None, -1.0, 0
    started, cpu_started, budget_started = time.perf_counter(), time.process_time(), budget_clock()
    bar = tqdm(range(1, cfg.epochs + 1), desc=desc, disable=not progress, unit="epoch")
    for epoch in bar:
        model.train()
        total, steps = 0.0, 0
        for idx in _length_batches([len(r) for r in rows], cfg.batch_size, order_rng):
            chunk = [rows[i] for i in idx]
            batch = pad_left(chunk, max(len(r) for r in chunk)).to(device)
            states = model.encode(batch[:, :-1])
            loss = _loss(model, batch, cfg.loss, gen, cfg.negatives, states, cfg.targets == "last")
            if cfg.cl_weight:
                views = _same_target_views(rows, idx, index, cl_rng) if index is not None else None
                loss = loss + cfg.cl_weight * _contrastive_loss(model, states[:, -1], batch, cfg, views)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        entry = {"epoch": epoch, "loss": round(total / max(steps, 1), 4), "lr": opt.param_groups[0]["lr"],
                 "seconds": round(time.perf_counter() - started, 1)}
        result.epochs_run = epoch
        if val is not None:
            metrics = evaluate(model, *val)
            entry.update({k: round(v, 4) for k, v in metrics.items()})
            if metrics["NDCG@10"] > best:
                best, bad, result.best_epoch, result.val = metrics["NDCG@10"], 0, epoch, metrics
                best_state = copy.deepcopy(model.state_dict())
            else:
                bad += 1
        result.history.append(entry)
        bar.set_postfix({k: v for k, v in entry.items() if k in ("loss", "NDCG@10")})
        # A cosine schedule has its own end, and validation is flat while the rate is high and rises
        # as it decays: early stopping there cut a run at epoch 31 of ~60, before the decay paid.
        if val is not None and bad >= cfg.patience and cfg.schedule != "cosine":
            break
        elapsed = budget_clock() - budget_started
        if cfg.max_minutes and elapsed + elapsed / epoch > cfg.max_minutes * 60:  # mean epoch as the estimate
            log.warning("%s: another epoch would overrun the %.1f min budget (%s time); stopping after epoch %d",
                        desc, cfg.max_minutes, cfg.clock, epoch)
            break
        if cfg.schedule == "cosine":
            # With a time budget the number of epochs is only known as budget / mean epoch time, so
            # the horizon is re-estimated after every epoch.
            horizon = cfg.epochs
            if cfg.max_minutes:
                horizon = min(horizon, max(epoch + 1, int(cfg.max_minutes * 60 / (elapsed / epoch))))
            for group in opt.param_groups:
                group["lr"] = _cosine_lr(cfg.lr, epoch, horizon)
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        result.best_epoch = result.epochs_run
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = time.process_time() - cpu_started
    model.eval()
    return result


def build(config, item_attrs=None, content=None, device: torch.device | None = None) -> SeqRecModel:
    return SeqRecModel(config, item_attrs, content).to(device or pick_device())


def ndcg_at(rank: int, k: int) -> float:
    return 1.0 / math.log2(rank + 2) if rank < k else 0.0
