"""Keyword retrieval: BM25 (bm25s, Lucene variant) over the same item texts the dense index holds."""

from __future__ import annotations

import bm25s
import numpy as np
import Stemmer


class KeywordIndex:
    def __init__(self, documents: list[str]) -> None:
        self.stemmer = Stemmer.Stemmer("english")  # "kettles" finds "kettle"
        self.size = len(documents)
        self.bm25 = bm25s.BM25()
        if documents:
            corpus = bm25s.tokenize(documents, stemmer=self.stemmer, show_progress=False)
            self.bm25.index(corpus, show_progress=False)

    def tokens(self, text: str) -> list[str]:
        return bm25s.tokenize([text], stemmer=self.stemmer, return_ids=False, show_progress=False)[0]

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every document (0 where no query term occurs)."""
        tokens = self.tokens(text)
        if not tokens or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)
