"""Keyword retrieval: BM25 (bm25s, Lucene variant) over the same item texts the dense index holds."""

from __future__ import annotations

import difflib
import re

import bm25s
import numpy as np
import Stemmer

_WORD = re.compile(r"[a-z]{4,}")


class KeywordIndex:
    def __init__(self, documents: list[str]) -> None:
        self.stemmer = Stemmer.Stemmer("english")  # "kettles" finds "kettle"
        self.size = len(documents)
        self.bm25 = bm25s.BM25()
        self.words: set[str] = set()
        for doc in documents:
            self.words.update(_WORD.findall(doc.lower()))
        self._known = sorted(self.words)
        if documents:
            corpus = bm25s.tokenize(documents, stemmer=self.stemmer, show_progress=False)
            self.bm25.index(corpus, show_progress=False)

    def tokens(self, text: str) -> list[str]:
        return bm25s.tokenize([text], stemmer=self.stemmer, return_ids=False, show_progress=False)[0]

    def correct(self, text: str) -> str:
        """Misspelt words put right by the catalog's own words ("lipstik" -> "lipstick", "lapotp" ->
        "laptop"): a word of 5+ letters the catalog lacks becomes its closest catalog word when very close
        (difflib ratio ≥ 0.84, same first letter; "something" stays, not "soothing")."""
        def fix(m: re.Match) -> str:
            word = m.group(0)
            low = word.lower()
            if len(low) < 5 or low in self.words or self.stemmer.stemWord(low) in self.words:
                return word
            close = difflib.get_close_matches(low, self._known, n=1, cutoff=0.84)
            return close[0] if close and close[0][0] == low[0] else word

        return re.sub(r"[A-Za-z]+", fix, text)

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every document (0 where no query term occurs)."""
        tokens = self.tokens(text)
        if not tokens or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)
