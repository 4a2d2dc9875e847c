"""The ranking network: a SASRec-family causal transformer over a user's item sequence.

Why this architecture: next-item recommendation from short sessions is what SASRec does well, and
trained with a full-softmax cross-entropy loss it beats the binary-loss original by a wide margin.
Each item's vector is the sum of an id embedding, a bag of attribute tokens (category, brand, price
band, options, …) and a projection of its text embedding; the output layer reuses the same item
vectors (tied), so an item that nobody has bought yet still gets a meaningful score from its content.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def pick_device() -> torch.device:
    """CUDA where present, otherwise CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# The network Aisle serves and benchmarks (the store's, `aisle eval recsys`'s and `aisle bench ranker`'s, so
# the latency measured is the served model's): BSARec's shape — one attention head beside a low-pass filter of
# the whole history (its 3 lowest frequencies), mixed 0.7 / 0.3 (docs/recsys.md "Every prefix its own row").
ARCHITECTURE = {"hidden": 64, "layers": 2, "heads": 1, "max_len": 50, "freq_filter": 3, "freq_alpha": 0.7, "freq_causal": False}


@dataclass
class ModelConfig:
    n_items: int  # item indices run 1..n_items; 0 is padding
    n_attrs: int = 0  # attribute tokens 1..n_attrs; 0 is padding
    content_dim: int = 0  # width of the per-item content vector (0: none)
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    max_len: int = 50
    dropout: float = 0.5  # on embeddings; strong regularisation suits sparse data such as Beauty
    attn_dropout: float = 0.2
    use_ids: bool = True  # False: a pure content model (every item is "cold")
    # Off by default (level on validation at equal compute, docs/recsys.md): BSARec's frequency filter
    # beside each attention sub-layer; keeps the `freq_filter` lowest frequencies of the history,
    # rescales the rest by a learned β², mixed with the attention output (weight `freq_alpha`).
    freq_filter: int = 0
    freq_alpha: float = 0.7
    # False: the filter sees the whole history at every position, as BSARec's does; a later item then
    # reaches earlier states, so it trains only with last-position targets (TrainConfig.targets="last").
    freq_causal: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


class SeqRecModel(nn.Module):
    """Scores every item (or a candidate subset) as the next item of each sequence."""

    def __init__(
        self,
        config: ModelConfig,
        item_attrs: np.ndarray | None = None,
        content: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        c = self.config = config
        d = c.hidden
        self.item_emb = nn.Embedding(c.n_items + 1, d, padding_idx=0)
        self.pos_emb = nn.Embedding(c.max_len, d)
        # Attribute tokens per item, padded with 0: shape (n_items + 1, max_attrs).
        attrs = item_attrs if item_attrs is not None else np.zeros((c.n_items + 1, 1), dtype=np.int64)
        self.register_buffer("item_attrs", torch.as_tensor(attrs, dtype=torch.long), persistent=True)
        self.attr_emb = nn.Embedding(max(c.n_attrs, 0) + 1, d, padding_idx=0) if c.n_attrs else None
        if c.content_dim:
            feats = content if content is not None else np.zeros((c.n_items + 1, c.content_dim), np.float32)
            self.register_buffer("content", torch.as_tensor(feats, dtype=torch.float32), persistent=True)
            self.content_proj = nn.Linear(c.content_dim, d, bias=False)
        else:
            self.content_proj = None
        layer = nn.TransformerEncoderLayer(
            d, c.heads, dim_feedforward=d * 4, dropout=c.attn_dropout, activation="gelu",
            batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.drop = nn.Dropout(c.dropout)
        self.filters = nn.ModuleList(FrequencyFilter(d, c.max_len, c.freq_filter, c.attn_dropout, c.freq_causal)
                                     for _ in range(c.layers)) if c.freq_filter else None
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """Vectors of the given item indices (default: all, row 0 = padding)."""
        if items is None:
            items = torch.arange(self.config.n_items + 1, device=self.item_emb.weight.device)
        vec = self.item_emb(items) if self.config.use_ids else torch.zeros(
            (*items.shape, self.config.hidden), device=items.device
        )
        if self.attr_emb is not None:
            # The mean of each item's attribute vectors (padding left out) as one bag per item: gathering the padded
            # (…, width, d) block first cost most of an epoch where an item has up to 37 attributes (Sports).
            tokens = self.item_attrs[items]
            bags = F.embedding_bag(tokens.reshape(-1, tokens.shape[-1]), self.attr_emb.weight, mode="mean", padding_idx=0)
            vec = vec + bags.reshape(*tokens.shape[:-1], -1)
        if self.content_proj is not None:
            vec = vec + self.content_proj(self.content[items])
        return vec

    def encode(self, seqs: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, L, d) for left-padded sequences (B, L) of item indices."""
        B, L = seqs.shape
        pad = seqs == 0
        x = self.item_vectors(seqs) * math.sqrt(self.config.hidden)
        x = x + self.pos_emb(torch.arange(L, device=seqs.device) + (self.config.max_len - L))
        x = self.drop(x) * (~pad).unsqueeze(-1)
        # Causal attention that also ignores padding; each position may always see itself, so a
        # fully padded row never turns into NaN.
        if not pad.any():  # one unpadded request (serving): the plain causal mask, a few ops fewer
            mask = torch.full((L, L), float("-inf"), device=seqs.device).triu(1)
        else:
            causal = torch.ones(L, L, dtype=torch.bool, device=seqs.device).triu(1)
            blocked = causal.unsqueeze(0) | pad.unsqueeze(1)
            blocked = blocked & ~torch.eye(L, dtype=torch.bool, device=seqs.device).unsqueeze(0)
            mask = torch.zeros(blocked.shape, device=seqs.device).masked_fill(blocked, float("-inf"))
            mask = mask.repeat_interleave(self.config.heads, dim=0)
        if self.filters is None:
            h = self.encoder(x, mask=mask)
        else:  # BSARec's block: the attention sub-layer's output mixed with a filtered copy of its
            # input, then the feed-forward sub-layer on the mix (pre-norm, as the plain blocks)
            h, a = x, self.config.freq_alpha
            for block, filt in zip(self.encoder.layers, self.filters):
                attended = h + block._sa_block(block.norm1(h), mask, None)
                h = a * filt(h, pad) + (1 - a) * attended
                h = h + block._ff_block(block.norm2(h))
        return self.norm(h)

    def user_vectors(self, seqs: torch.Tensor) -> torch.Tensor:
        """The state after the last position of each sequence: (B, d)."""
        return self.encode(seqs)[:, -1]

    def score_all(self, seqs: torch.Tensor, item_vecs: torch.Tensor | None = None) -> torch.Tensor:
        """Scores over all items (B, n_items + 1); column 0 (padding) is -inf. `item_vecs`: this
        model's `item_vectors()`, when the caller keeps them across batches."""
        scores = self.user_vectors(seqs) @ (self.item_vectors() if item_vecs is None else item_vecs).T
        scores[:, 0] = float("-inf")
        return scores

    def score_candidates(self, seqs: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """Scores of candidate items (B, C) for each sequence."""
        users = self.user_vectors(seqs)
        return torch.einsum("bd,bcd->bc", users, self.item_vectors(candidates))


class FrequencyFilter(nn.Module):
    """BSARec's filter (Shin et al., AAAI 2024): the `keep` lowest rfft frequencies (orthonormal) of a history.

    `causal=False` (the recipe, trained on last positions only): every position takes the low-pass of the
    row's whole history, as BSARec's does. `causal=True` (for training at every position, where a later
    item must not reach an earlier target): position t takes the value at t of the low-pass of the items
    up to t. Either operator is linear, a matrix per row taken from a table of per-length kernels; left
    padding is skipped, so a history scores the same padded or not.
    """

    def __init__(self, hidden: int, max_len: int, keep: int, dropout: float, causal: bool = True) -> None:
        super().__init__()
        # table[n, t, j]: weight of the j-th of n items in the low-pass at the t-th
        table = torch.zeros(max_len + 1, max_len, max_len)
        for n in range(1, max_len + 1):
            spectrum = torch.fft.rfft(torch.eye(n), dim=1, norm="ortho")
            spectrum[:, keep:] = 0
            table[n, :n, :n] = torch.fft.irfft(spectrum, n=n, dim=1, norm="ortho").T
        self.causal = causal
        self.register_buffer("table", table, persistent=False)
        self.sqrt_beta = nn.Parameter(torch.ones(1, 1, hidden))  # 1: no high-frequency rescaling at start
        self.drop = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        L = x.shape[1]
        offset = pad.sum(1, keepdim=True).unsqueeze(-1)  # (B, 1, 1): left padding of each row
        t = torch.arange(L, device=x.device).view(1, L, 1)
        s = torch.arange(L, device=x.device).view(1, 1, L)
        if self.causal:  # position t: the last of its own t - offset + 1 items
            length, i, j = (t - offset + 1).clamp(min=0), (t - offset).clamp(min=0), (s - offset).clamp(min=0)
            valid = (s >= offset) & (s <= t)
        else:  # position t: the (t - offset)-th of the row's L - offset items
            length, i, j = L - offset, (t - offset).clamp(min=0), (s - offset).clamp(min=0)
            valid = (s >= offset) & (t >= offset)
        op = self.table[length.expand(-1, L, L), i.expand(-1, L, L), j.expand(-1, L, L)] * valid  # (B, L, L)
        low = op @ x
        filtered = low + self.sqrt_beta**2 * (x - low)
        return self.norm(self.drop(filtered) + x)
