"""Answers about the shop's policy: retrieval over the policy's sections and the shop FAQ, with citations.

Passages come from the shop policy (retrieval/store/data/policy.md, split at its headings) and
assistant/data/faq.md (questions shoppers ask, answered from that policy; it adds nothing the
policy does not say). English ranking fuses BM25 and MiniLM cosine by reciprocal rank. Chinese
questions are answered from assistant/data/faq_zh.md (the same answers in Chinese), ranked by BM25
over character pairs (the packaged MiniLM reads English only, and Chinese has no spaces) fused with
the multilingual e5 cosine the product search uses for Chinese (retrieval/e5.py). The answer quotes
passages and names their section, so every claim can be traced to the policy. Text under a
document's title (the policy's instructions to agents) is not a passage.

Only passages that match are quoted: a ranking always has a first passage, so a passage must also be
close to the question by cosine (MiniLM for English, e5 for Chinese: at least the language's floor,
and near the best passage). None left: the caller says the policy does not cover it. The floors were
chosen on made-up questions (tests/fixtures/faq_questions.json).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
from pydantic import BaseModel

from retrieval.embedder import embed, embed_query
from retrieval.store.seed import DEMO_DATA_DIR

FAQ_FILE = Path(__file__).parent / "data" / "faq.md"
FAQ_ZH_FILE = Path(__file__).parent / "data" / "faq_zh.md"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Cosine floors and margins, per language: (floor, margin). On the made-up questions, MiniLM gave the policy's
# answers 0.44 and up and questions it does not answer ("do you ship internationally?") 0.32 at most; e5 (whose
# cosines crowd near 1) 0.885 and up against 0.879 at most. The margin keeps a second passage only when it is
# about as close as the best ("how long does a refund take?" is one section, not the return sections too).
CUT_OFF = {"en": (0.38, 0.1), "zh": (0.88, 0.02)}


class Passage(BaseModel):
    source: str  # file name (for tracing; replies show the section, not the file)
    section: str  # heading path, e.g. "Cancel pending order"
    text: str
    lang: str = "en"


class FaqAnswer(BaseModel):
    question: str
    passages: list[Passage]
    scores: list[float]
    topics: list[str] = []  # no passage matched: what the policy does answer, in the question's language


def split_markdown(text: str, source: str, lang: str = "en") -> list[Passage]:
    passages, heading, lines, title = [], "", [], True

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body and not title:
            passages.append(Passage(source=source, section=heading or source, text=body, lang=lang))

    for line in text.splitlines():
        match = re.match(r"^(#{1,4})\s+(.*)", line)
        if match:
            flush()
            heading, lines, title = match.group(2).strip(), [], len(match.group(1)) == 1
        else:
            lines.append(line)
    flush()
    return passages


@dataclass
class PolicyFaq:
    passages: list[Passage]
    # The section titles a shopper is told the policy covers, per language: the FAQ's questions (the policy's own
    # titles, "Generic action rules", are written for agents); by default every section of that language.
    topics: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for lang in ("en", "zh"):
            self.topics.setdefault(lang, _titles(p for p in self.passages if p.lang == lang))
        self._en = [p for p in self.passages if p.lang == "en"]
        self._zh = [p for p in self.passages if p.lang == "zh"]
        texts = [f"{p.section}. {p.text}" for p in self._en]
        self._bm25 = bm25s.BM25()
        self._bm25.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        self._vectors = embed(texts)
        self._vectors_zh: np.ndarray | None = None  # e5 vectors, made at the first Chinese question (e5 loads slowly)
        if self._zh:
            # The section (the question) counts twice: it says what the passage answers.
            self._bm25_zh = bm25s.BM25()
            self._bm25_zh.index([_pairs(f"{p.section} {p.section} {p.text}") for p in self._zh], show_progress=False)

    @classmethod
    def default(cls, policy: Path = DEMO_DATA_DIR / "policy.md", faq: Path = FAQ_FILE, faq_zh: Path = FAQ_ZH_FILE) -> PolicyFaq:
        passages, topics = split_markdown(policy.read_text(encoding="utf-8"), policy.name), {}
        if faq.exists():
            passages += (asked := split_markdown(faq.read_text(encoding="utf-8"), faq.name))
            topics["en"] = _titles(asked)
        if faq_zh.exists():
            passages += (asked := split_markdown(faq_zh.read_text(encoding="utf-8"), faq_zh.name, lang="zh"))
            topics["zh"] = _titles(asked)
        return cls(passages, topics)

    def ask(self, question: str, k: int = 2) -> FaqAnswer:
        question = question.strip()[:2000]
        if not question:
            return FaqAnswer(question=question, passages=[], scores=[])
        if self._zh and CJK.search(question):
            return self._ask_zh(question, k)
        dense = self._vectors @ embed_query(question)
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False)
        docs = self._bm25.retrieve(tokens, k=len(self._en), show_progress=False)[0][0] if tokens.vocab else []
        return self._with_topics(_answer(question, self._en, dense, docs, k, *CUT_OFF["en"]), "en")

    def _with_topics(self, answer: FaqAnswer, lang: str) -> FaqAnswer:
        """No passage matched: the answer lists what the policy answers instead (read from the files, never stale)."""
        if not answer.passages:
            answer.topics = self.topics.get(lang, [])
        return answer

    def _ask_zh(self, question: str, k: int) -> FaqAnswer:
        from retrieval import e5

        if self._vectors_zh is None:
            self._vectors_zh = e5.embed_passages([f"{p.section} {p.text}" for p in self._zh])
        dense = self._vectors_zh @ e5.embed_query(question)
        tokens = _pairs(question)
        docs = self._bm25_zh.retrieve([tokens], k=len(self._zh), show_progress=False)[0][0] if tokens else []
        return self._with_topics(_answer(question, self._zh, dense, docs, k, *CUT_OFF["zh"]), "zh")


def _titles(passages) -> list[str]:
    """The passages' section titles, each once, in order."""
    return list(dict.fromkeys(p.section for p in passages))


def _answer(question: str, passages: list[Passage], dense: np.ndarray, keyword_ranked, k: int,
            floor: float, margin: float) -> FaqAnswer:
    """The passages ranked by the reciprocal ranks of their cosine and their keyword rank, those that match
    (cosine at least `floor`, and within `margin` of the best) at most `k`, with their cosines as scores."""
    fused = np.zeros(len(passages))
    for ranked in (np.argsort(-dense), keyword_ranked):
        for rank, idx in enumerate(ranked):
            fused[idx] += 1.0 / (60 + rank)
    cut = max(floor, float(dense.max()) - margin)
    best = [int(i) for i in np.argsort(-fused) if dense[i] >= cut][:k]
    return FaqAnswer(question=question, passages=[passages[i] for i in best], scores=[round(float(dense[i]), 4) for i in best])


def _pairs(text: str) -> list[str]:
    """Chinese text as overlapping character pairs (and any Latin words), for BM25."""
    tokens = []
    for run in re.findall(r"[\u4e00-\u9fff]+|[a-z0-9]+", text.lower()):
        if CJK.match(run):
            tokens += [run[i:i + 2] for i in range(len(run) - 1)] or [run]
        else:
            tokens.append(run)
    return tokens
