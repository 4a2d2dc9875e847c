"""Items chosen by what they are about ("everything associated with <hobby>", "all the things not
related to it"): which of the customer's own items the shop's data ties to the topic.

The topic's words are compared with the catalog's product names (a product whose name holds the
word) and, through the sentence embedder search already uses, with every product name of the catalog:
a product far above the catalog's mean similarity is about the topic, one somewhat above it, or of the
same catalog category as a product that is, may be — the shopper is asked about those, never guessed.
Measured on the demo catalog (thresholds and figures in assistant/data/topics.json): the embedder is
reliable only far above the mean (the product a hobby is about: "cycling" → Bicycle 5.9), not for
companions (a hobby's accessories can rank below products of a neighbouring use, and an unrelated ball
game reach 3.1), hence the question. What follows "for" / "related to" is a topic only when it can be a
hobby or use (not a person, occasion, time, size or the order: `not_topics`); Chinese phrasings
("跟…有关的", "和…相关的", "我为…买的") name a hobby through the lexicon's `zh_topics`, and replies name it
as said.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from assistant.understand.commands import Topic

DATA = Path(__file__).resolve().parent.parent / "data"


@lru_cache(maxsize=1)
def _lexicon() -> dict:
    data = json.loads((DATA / "topics.json").read_text(encoding="utf-8"))
    data["compiled"] = [re.compile(p) for p in data["phrases"]]
    return data


def read_topic(text: str, catalog_names: Callable[[], list[str]]) -> Topic | None:
    """The topic a request picks items by, or None. A pronoun ("…everything not associated with it")
    is the word said before it in the sentence that best names one of the catalog's products."""
    lowered = text.lower()
    lexicon = _lexicon()
    for pattern in lexicon["compiled"]:
        for m in pattern.finditer(lowered):
            raw = m.group("topic").strip()
            negated = bool(m.groupdict().get("neg"))
            if re.search(r"[\u4e00-\u9fff]", raw):  # a Chinese phrasing: only a hobby or use the lexicon knows
                said = re.sub(r"^(?:我的|我们的|我|这次|那次)", "", raw)
                where = text[: m.start()] if said in ("它", "它们", "这", "这个", "那个", "这些", "那些") else said  # "…跟它有关的": said before
                known = next((k for k in sorted(lexicon["zh_topics"], key=len, reverse=True) if k in where), None)
                if known:
                    return Topic(words=lexicon["zh_topics"][known], said=known, negated=negated)
                continue
            words = re.sub(r"^(?:my|the|your|our|his|her|their)\s+", "", raw)
            if not _a_hobby(raw, words):
                continue
            if words in lexicon["pronouns"]:
                start = max(lowered.rfind(x, 0, m.start()) for x in ".!?\n")
                words = _named_before(lowered[start + 1 : m.start()], catalog_names())
            if words:
                return Topic(words=words, negated=negated)
    return None


def _a_hobby(raw: str, words: str) -> bool:
    """Whether the words after "for" / "related to" can be a hobby or use rather than a person, an
    occasion, a time or the order itself ("…for my son", "…for a larger size", "…related to my last
    order", "…for next month's trip"): one thing ("a …"), a possessive, a number or a `not_topics` word is not."""
    if re.match(r"(?:a|an|one|some|this|that)\s", raw) or re.search(r"['’]s\b|\d|\$", raw):
        return False
    return not any(w in _lexicon()["not_topics"] for w in re.findall(r"[a-z][a-z-]*", words))


def _named_before(before: str, catalog_names: list[str]) -> str | None:
    """Of the words before a pronoun, the one the catalog's product names tie to most (a name holding
    it, else the embedder's standing), if any ties to one surely."""
    candidates = list(dict.fromkeys(w for w in re.findall(r"[a-z][a-z-]{3,}", before)))
    named = [w for w in candidates if any(_word_in_name(w, n) for n in catalog_names)]
    if named:
        return named[-1]
    best, best_z = None, _lexicon()["sure_z"]
    for w in candidates:
        z = float(_standing(w, tuple(catalog_names)).max())
        if z >= best_z:
            best, best_z = w, z
    return best


def _word_in_name(word: str, name: str) -> bool:
    """A word of the product's name is the word, or shares its first five letters ("hiking" in "Hiking Boots")."""
    return any(w == word or (len(w) >= 5 and len(word) >= 5 and w[:5] == word[:5]) for w in re.findall(r"[a-z]+", name.lower()))


@lru_cache(maxsize=4)
def _name_vectors(names: tuple[str, ...]) -> np.ndarray:
    from retrieval.embedder import embed

    return embed(list(names))


@lru_cache(maxsize=64)
def _standing(words: str, names: tuple[str, ...]) -> np.ndarray:
    """Each catalog name's similarity to the words, in standard deviations above the catalog's mean."""
    from retrieval.embedder import embed_query

    sims = _name_vectors(names) @ embed_query(words)
    return (sims - sims.mean()) / (sims.std() or 1.0)


def about(topic: Topic, items: list[dict], catalog: list) -> tuple[list[str], list[str]]:
    """The customer's items (`items`: order items with name, product_id) that are about the topic
    surely, and those that may be (to ask about). `catalog`: the store's products (name, category)."""
    names = tuple(dict.fromkeys(p.name for p in catalog))
    category = {p.product_id: p.category for p in catalog}
    z = dict(zip(names, _standing(topic.words, names)))
    words = [w for w in re.findall(r"[a-z][a-z-]{3,}", topic.words)]
    lexicon = _lexicon()
    sure = [i for i in items if any(_word_in_name(w, i["name"]) for w in words) or z.get(i["name"], 0.0) >= lexicon["sure_z"]]
    kinds = {category.get(i["product_id"]) for i in sure}
    unsure = [i for i in items if i not in sure
              and (z.get(i["name"], 0.0) >= lexicon["ask_z"] or category.get(i["product_id"]) in kinds)]  # fmt: skip
    return list(dict.fromkeys(i["item_id"] for i in sure)), list(dict.fromkeys(i["item_id"] for i in unsure))


_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|correct|right|both|all of them|all|they are|they do|it is|it does|是|对|都是)\b|^\W*(?:是|对|都是)")
_NO = re.compile(r"^\W*(?:no|nope|none|neither|not really|nothing else|否|不是|都不是)\b|^\W*(?:否|不是|都不是)")


# A question of the shopper's own ("where is …?", "can I …?", "…吗？"), not an answer to ours
_QUESTION = re.compile(r"(?:^|[.,:;!?]\s*)(?:(?:wait|hold on|first|actually|also|and|but|ok(?:ay)?|sorry|hmm+)\W+)*"
                       r"(?:what|where|when|why|how|which|who|whose|can|could|is|are|was|were|does|do|did|will|would|should|may|has|have)\b"
                       r"|^(?:\S+\s+){3,}\S*[?？]\s*$|[吗呢么]\s*[?？]?\s*$|什么|哪|怎么|多少|为什么|能不能|可不可以|是不是")


def answers_topic(message: str, asked: list[dict], route: str) -> bool:
    """Whether a message said while "are these about <topic> too?" is open answers it: a yes or no, an
    asked item (by id, a button, or by name) outside a question, or anything else that is neither a
    question of the shopper's own nor a request for another order action ("where is my other order?",
    "also cancel my pending order" are routed as such; the question is asked again when the task resumes)."""
    from assistant.slots import read_slots
    from assistant.understand.rules import other_actions

    lowered = message.lower()
    if any(i["item_id"] in read_slots(message).item_ids for i in asked) or _YES.search(lowered) or _NO.search(lowered):
        return True
    return not _QUESTION.search(lowered) and not other_actions(message, route)


def topic_answer(message: str, asked: list[dict]) -> list[str]:
    """The answer to "are these about <topic> too?": the asked items it names (by id, a button, or by
    name, not after "not"/"except", nor merely inside a question of the shopper's own), all of them
    for a yes, none for a no or anything else."""
    from assistant.slots import read_slots
    from assistant.understand.rules import names_item

    ids = [i["item_id"] for i in asked if i["item_id"] in read_slots(message).item_ids]
    if ids:
        return ids
    lowered = message.lower()
    if _QUESTION.search(lowered) and not (_YES.search(lowered) or _NO.search(lowered)):
        return []  # "where is my order with the <item>?": the item is only named
    kept = re.split(r"\b(?:not|except|but not|apart from|other than)\b|不是|除了", lowered)[0]
    named = [i["item_id"] for i in asked if names_item(i, kept)]
    if named:
        return named
    if _YES.search(lowered) and not _NO.search(lowered):
        return [i["item_id"] for i in asked]
    return []
