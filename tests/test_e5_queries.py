"""multilingual-e5 query vectors in a batch (the intent classifier's Chinese training sentences) equal one at a time."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # loads the packaged e5 model


def test_batched_query_vectors_are_the_single_ones():
    from retrieval import e5

    texts = ["我的订单到哪了", "帮我取消订单", "wireless earbuds under 50", "能不能换个蓝色的"]
    batch = e5.embed_queries(texts, batch_size=3)  # two batches
    assert batch.shape == (4, e5.DIM) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-4)
    for text, vector in zip(texts, batch):
        assert float(vector @ e5.embed_query(text)) > 0.999
    assert e5.embed_queries([]).shape == (0, e5.DIM)
