"""Scoring candidates for a history: the in-process `Ranker` and the `RemoteRanker` HTTP client."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import httpx
import numpy as np
import torch
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_fixed

from recsys.model import ModelConfig, SeqRecModel, pick_device
from recsys.schemas import ScoreRequest, ScoreResponse
from recsys.transitions import PriorMix

log = logging.getLogger(__name__)

MODEL_FILE = "ranker.pt"


class RankerUnavailable(RuntimeError):
    """The ranking service did not answer in time or answered with an error."""


class Ranker:
    """A trained SeqRecModel, or an ensemble of them mixed with a count prior (the benchmark's recipe),
    plus the item ids of its indices; scores many requests in one pass.

    One network without a prior scores candidates by the dot product of user and item vectors.
    Otherwise a score is log((1 - w) · mean of the members' softmax + w · prior), as
    `recsys.train.evaluate` ranks in the benchmark: the softmax runs over all items, the candidates
    are then picked out of it.
    """

    def __init__(self, model: SeqRecModel | list[SeqRecModel], item_ids: list[str], meta: dict | None = None,
                 prior: PriorMix | None = None, prior_weight: float = 0.0) -> None:
        models = model if isinstance(model, list) else [model]
        if not models:
            raise ValueError("a ranker needs at least one network")
        for m in models:
            if len(item_ids) != m.config.n_items:
                raise ValueError(f"{len(item_ids)} item ids for a model of {m.config.n_items} items")
        if not 0 <= prior_weight < 1:
            raise ValueError("prior_weight must be in [0, 1)")
        self.models = [m.eval() for m in models]
        self.model = self.models[0]
        self.item_ids = item_ids
        self.index = {item_id: i for i, item_id in enumerate(item_ids, 1)}
        self.meta = meta or {}
        self.prior = prior if prior_weight > 0 else None
        self.prior_weight = prior_weight if prior is not None else 0.0
        self._lock = threading.Lock()
        with torch.no_grad():
            self._item_vecs = [m.item_vectors() for m in self.models]  # fixed at inference: computed once

    @property
    def name(self) -> str:
        """What produced the scores, for a shopper or an operator: recipe and training time."""
        recipe = f"{len(self.models)} network{'s' if len(self.models) > 1 else ''}"
        if self.prior is not None:
            recipe += " + co-purchase prior"
        trained = self.meta.get("trained_at")
        return f"Aisle's ranking model ({recipe}{', trained ' + trained if trained else ''})"

    # -- files -------------------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(
            {"config": self.model.config.to_dict(), "states": [m.state_dict() for m in self.models],
             "item_ids": self.item_ids, "meta": self.meta,
             "prior": self.prior.to_dict() if self.prior is not None else None, "prior_weight": self.prior_weight},
            tmp,
        )
        tmp.replace(path)  # readers never see a half-written model (and a running shop swaps it in whole)
        return path

    @classmethod
    def load(cls, path: Path, device: torch.device | None = None) -> Ranker:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        models = []
        for state in blob.get("states") or [blob["state"]]:  # "state": a file from before ensembles
            content = state["content"].numpy() if "content" in state else None
            model = SeqRecModel(ModelConfig(**blob["config"]), state["item_attrs"].numpy(), content)
            model.load_state_dict(state)
            models.append(model.to(device or pick_device()))
        prior = PriorMix.from_dict(blob["prior"]) if blob.get("prior") else None
        return cls(models, list(blob["item_ids"]), blob.get("meta"), prior, float(blob.get("prior_weight", 0.0)))

    # -- scoring -----------------------------------------------------------------------------

    def score(self, request: ScoreRequest) -> ScoreResponse:
        return self.score_batch([request])[0]

    @torch.inference_mode()  # lighter than no_grad: no autograd bookkeeping at all
    def score_batch(self, requests: list[ScoreRequest]) -> list[ScoreResponse]:
        """One forward pass per member for all requests (what the service's micro-batching feeds)."""
        if not requests:
            return []
        device = self._item_vecs[0].device
        max_len = self.model.config.max_len
        histories, unknown = [], []
        for r in requests:
            known = [self.index[i] for i in r.history if i in self.index]
            unknown.append([i for i in r.history if i not in self.index])
            histories.append(known[-max_len:])
        width = max(1, max(len(h) for h in histories))
        seqs = torch.zeros((len(requests), width), dtype=torch.long)
        for row, h in enumerate(histories):
            if h:
                seqs[row, width - len(h) :] = torch.as_tensor(h)
        seqs = seqs.to(device)
        plain = len(self.models) == 1 and self.prior is None
        with self._lock:  # torch modules are not re-entrant across threads for one model
            if plain:
                users = self.model.user_vectors(seqs)
            else:
                full = self._full_scores(seqs, histories)
        out = []
        for row, r in enumerate(requests):
            if r.candidates is None:
                ids, idx = self.item_ids, torch.arange(1, len(self.item_ids) + 1, device=device)
            else:
                missing = [c for c in r.candidates if c not in self.index]
                if missing:
                    raise ValueError(f"unknown candidate item ids: {missing[:5]}")
                ids = list(r.candidates)
                idx = torch.as_tensor([self.index[c] for c in ids], dtype=torch.long, device=device)
            scores = self._item_vecs[0][idx] @ users[row] if plain else full[row, idx]
            # model_construct: the fields are built right here, so pydantic's per-element validation
            # of ~1,000 ids and scores per request would be pure overhead.
            out.append(ScoreResponse.model_construct(
                item_ids=ids, scores=scores.cpu().numpy().astype(np.float64).tolist(), unknown_history=unknown[row],
                model=self.name))
        return out

    def _full_scores(self, seqs: torch.Tensor, histories: list[list[int]]) -> torch.Tensor:
        """(B, n_items + 1) log of (1 - w) · the members' mean softmax + w · prior: what
        `recsys.train.evaluate` ranks by in the benchmark (`next_item_scores` mixed with the prior),
        computed in probability space at once (fewer small ops per request)."""
        probs = None
        for model, vecs in zip(self.models, self._item_vecs):
            logits = model.user_vectors(seqs) @ vecs.T
            logits[:, 0] = float("-inf")
            p = torch.softmax(logits, dim=-1)
            probs = p if probs is None else probs.add_(p)
        probs.div_(len(self.models))
        if self.prior is not None:
            prior = torch.as_tensor(self.prior.probabilities(histories), device=probs.device)
            probs = probs.mul_(1 - self.prior_weight).add_(prior, alpha=self.prior_weight)
        # The log keeps the scores' spread readable (the recommender z-normalises them); the floor
        # keeps an underflowed probability finite (JSON has no -inf).
        return torch.log(probs.clamp_min_(torch.finfo(probs.dtype).tiny))


class RemoteRanker:
    """Client of `aisle serve-ranker`; raises RankerUnavailable when it is down, slow or failing."""

    def __init__(self, url: str, timeout: float = 0.5) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout)

    def score(self, request: ScoreRequest) -> ScoreResponse:
        try:
            return self._score(request)
        except (httpx.HTTPError, ValueError) as exc:
            raise RankerUnavailable(f"ranking service at {self.url}: {exc}") from exc

    # A restarting service refuses connections for a moment: one quick retry, then the caller
    # falls back (in-process model or popularity). A timeout is not retried: it already waited.
    @retry(retry=retry_if_exception(lambda e: isinstance(e, httpx.ConnectError) or _is_unavailable(e)),
           stop=stop_after_attempt(2), wait=wait_fixed(0.05), reraise=True)  # fmt: skip
    def _score(self, request: ScoreRequest) -> ScoreResponse:
        response = self._client.post("/score", json=request.model_dump())
        response.raise_for_status()
        return ScoreResponse.model_validate(response.json())

    def close(self) -> None:
        self._client.close()


def _is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in (502, 503, 504)
