"""Answers about the shop's policy: retrieval over the policy's sections and the shop FAQ, with citations.

Passages come from the shop policy (retrieval/store/data/policy.md, split at its headings) and
assistant/data/faq.md (questions shoppers ask, answered from that policy). Ranking fuses BM25 and
MiniLM cosine by reciprocal rank; the answer quotes passages and names their section, so every
claim can be traced to the policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
from pydantic import BaseModel

from retrieval.embedder import embed, embed_query
from retrieval.store.seed import DEMO_DATA_DIR

FAQ_FILE = Path(__file__).parent / "data" / "faq.md"


class Passage(BaseModel):
    source: str  # file name
    section: str  # heading path, e.g. "Cancel pending order"
    text: str


class FaqAnswer(BaseModel):
    question: str
    passages: list[Passage]
    scores: list[float]


def split_markdown(text: str, source: str) -> list[Passage]:
    passages, heading, lines = [], "", []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            passages.append(Passage(source=source, section=heading or source, text=body))

    for line in text.splitlines():
        match = re.match(r"^#{1,4}\s+(.*)", line)
        if match:
            flush()
            heading, lines = match.group(1).strip(), []
        else:
            lines.append(line)
    flush()
    return passages


@dataclass
class PolicyFaq:
    passages: list[Passage]

    def __post_init__(self) -> None:
        texts = [f"{p.section}. {p.text}" for p in self.passages]
        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        self._vectors = embed(texts)

    @classmethod
    def default(cls, policy: Path = DEMO_DATA_DIR / "policy.md", faq: Path = FAQ_FILE) -> PolicyFaq:
        passages = split_markdown(policy.read_text(encoding="utf-8"), policy.name)
        if faq.exists():
            passages += split_markdown(faq.read_text(encoding="utf-8"), faq.name)
        return cls(passages)

    def ask(self, question: str, k: int = 2) -> FaqAnswer:
        question = question.strip()[:2000]
        if not question:
            return FaqAnswer(question=question, passages=[], scores=[])
        n = len(self.passages)
        dense = self._vectors @ embed_query(question)
        dense_rank = np.argsort(-dense)
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False)
        fused = np.zeros(n)
        for rank, idx in enumerate(dense_rank):
            fused[idx] += 1.0 / (60 + rank)
        if tokens.vocab:
            docs, _ = self._bm25.retrieve(tokens, k=n, show_progress=False)
            for rank, idx in enumerate(docs[0]):
                fused[idx] += 1.0 / (60 + rank)
        best = np.argsort(-fused)[:k]
        return FaqAnswer(
            question=question,
            passages=[self.passages[i] for i in best],
            scores=[round(float(fused[i]), 4) for i in best],
        )
