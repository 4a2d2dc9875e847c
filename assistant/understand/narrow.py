"""The rule reader's narrowing: which of the options does the message describe, read from the options' own facts.

Each option is scored by the words the message shares with what the option *is* (its items' names,
their option values, where it was sent, its status, its price, its position), each word weighted by
how well it tells the options apart (a word every option has counts the same for all). Shop words
that imply a status, "all items", "except", "cheaper", "latest" come from `assistant/data/reader.json`.
A unique clear winner is an answer; a tie is not: the tied options are handed on (to the model, in the
hybrid reader, or to the shopper as choices).

A small scorer of its own rather than BM25: with three to ten short "documents" BM25's length
normalisation and saturation only add noise, and the facts need field weights (an item's name says
more than a colour that several orders share) and phrase matches (a city of two words).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

DATA = Path(__file__).resolve().parents[1] / "data"
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_STEMMER = Stemmer.Stemmer("english")
_MONEY = re.compile(r"\$\s*(\d+(?:,\d{3})*(?:\.\d{1,2})?)|(\d+(?:,\d{3})*\.\d{2})\b|(\d+(?:\.\d+)?)\s*(?:dollars|bucks|usd)\b")
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"order", "orders", "item", "items", "want", "wish", "like", "need", "ve", "ll"}

#: How much a word tells, by the kind of fact it comes from (an option's facts are keyed by kind).
FIELD_WEIGHTS = {"name": 3.0, "city": 2.5, "state": 2.5, "place": 2.5, "status": 1.0, "options": 0.6, "label": 1.0}
PRICE_WEIGHT = 3.0  # a price named, or "the cheaper one": as telling as a name
POSITION_WEIGHT = 3.0


def stems(text: str) -> list[str]:
    """Stems of the content words; a hyphenated word also as its parts and written together (t-shirt, tshirt)."""
    words = []
    for w in _WORD.findall(text.lower()):
        if "-" in w:
            words += [w.replace("-", ""), *w.split("-")]
        else:
            words.append(w)
    return _STEMMER.stemWords([w for w in words if w not in _STOP])


@lru_cache(maxsize=1)
def lexicon() -> dict:
    data = json.loads((DATA / "reader.json").read_text(encoding="utf-8"))
    data.pop("_about", None)
    return data


@lru_cache(maxsize=1)
def us_states() -> dict[str, str]:
    return json.loads((DATA / "us_states.json").read_text(encoding="utf-8"))


_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=64)
def _phrases(words: tuple[str, ...], opening: bool = False) -> re.Pattern:
    """The words as one pattern: whole words, a Chinese one anywhere (Chinese has no spaces); `opening`: only
    at the start of the text."""
    english = alternation(w for w in words if not _CJK.search(w))
    chinese = alternation(w for w in words if _CJK.search(w))
    pattern = rf"(?<![\w-])(?:{english})(?![\w-])" if english else ""
    if chinese:
        pattern = f"{pattern}|{chinese}" if pattern else chinese
    return re.compile(rf"^(?:{pattern})" if opening else pattern, re.IGNORECASE)


def _words(key: str) -> tuple[str, ...]:
    """The lexicon's phrases under `key`; "a.b" is `b` within `a`."""
    words = lexicon()
    for part in key.split("."):
        words = words[part]
    return tuple(words)


def says(text: str, key: str) -> bool:
    """Whether `text` uses one of the lexicon's phrases under `key`."""
    return bool(_phrases(_words(key)).search(text))


def said_ends(text: str, key: str) -> list[int]:
    """Where each use of the lexicon's phrases under `key` ends in `text` (what is said after them is another matter)."""
    return [m.end() for m in _phrases(_words(key)).finditer(text)]


def opens_with(text: str, key: str) -> bool:
    """Whether `text` starts with one of the lexicon's phrases under `key`."""
    return bool(_phrases(_words(key), opening=True).match(text))


def speaks_of_several(text: str) -> bool:
    """Whether the text speaks of several of something ("both", "all", "two"), not counting a number that
    counts the list it names ("two things: a <product> and a <product>"); "both items" stays plural."""
    counts = rf"(?<![\w-])(?:{'|'.join(map(re.escape, lexicon()['list_counts']))})\s+(?:of\s+)?(?:the\s+|my\s+)?" \
             rf"(?:{'|'.join(map(re.escape, lexicon()['counted_things']))})(?![\w-])"
    return says(re.sub(counts, " ", text, flags=re.IGNORECASE), "plural_words")


def _contains(seq: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(seq[i : i + n] == phrase for i in range(len(seq) - n + 1))


def _message_states(text: str) -> set[str]:
    """US states the message names, as codes ("Texas" → tx; an upper-case "TX" too, but not IN / OR / ME …)."""
    found = {code.lower() for name, code in us_states().items() if re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE)}
    codes = {c for c in us_states().values()}
    found |= {m.lower() for m in re.findall(r"\b([A-Z]{2})\b", text) if m in codes and m not in {"IN", "OR", "ME", "OK", "HI", "OH"}}
    return found


def _message_prices(text: str) -> list[float]:
    out = []
    for m in _MONEY.finditer(text):
        raw = next(g for g in m.groups() if g)
        out.append(float(raw.replace(",", "")))
    return out


@dataclass
class Narrowing:
    """What the rules make of a message: the ids they are sure of, and the options still tied."""

    sure: list[str] = field(default_factory=list)
    tied: list = field(default_factory=list)  # Option
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def answer(self) -> list[str] | None:
        return None if self.tied or not self.sure else self.sure


def _features(option) -> dict[str, float]:
    """Stem → weight for what the option is; city words count only when the whole city is named (checked later)."""
    facts = option.facts or {"label": option.label}
    feats: dict[str, float] = {}
    # A value the replaced item already has names the old item, not the new one ("instead of the white one");
    # what a replacement keeps breaks ties instead (`_keeping_most`).
    kept = set(stems(facts.get("kept", "")))
    for kind, value in facts.items():
        if kind in ("city", "state", "kept"):
            continue
        weight = FIELD_WEIGHTS.get(kind, 1.0)
        for s in stems(value):
            if (not s.isdigit() or kind == "options") and s not in kept:  # numbers only as option values ("size 9")
                feats[s] = max(feats.get(s, 0.0), weight)
    if status := facts.get("status"):
        feats["status=" + status.split(" (")[0]] = FIELD_WEIGHTS["status"]  # "pending (item modified)" is pending
    return feats


def _places(option) -> list[tuple[list[str], str]]:
    """(city stems, state code) of each place the option names in its facts ("; "-separated cities)."""
    facts = option.facts or {}
    state = (facts.get("state") or "").strip().lower()
    return [(stems(c), state) for c in (facts.get("city") or "").split(";") if c.strip()] or ([([], state)] if state else [])


def score(message: str, options: list) -> dict[str, float]:
    """Each option's score: the weighted words of the message its facts share, rarer among the options = more."""
    from assistant.understand.rules import read_in_english
    from retrieval.search.query import without_fit_remarks

    # "it runs a bit large": no option's value "large"; a Chinese message in the options' own (English) words
    text = without_fit_remarks(read_in_english(message))
    words = stems(text)
    seq = set(words)
    lowered = text.lower()
    implied = {"status=" + status for status, ws in lexicon()["status_words"].items() if _phrases(tuple(ws)).search(lowered)}
    states = _message_states(text)
    feats = [_features(o) for o in options]
    for o, f in zip(options, feats):
        for city, state in _places(o):
            if city and _contains(words, city):
                for s in city:
                    f["city=" + s] = FIELD_WEIGHTS["city"]
            if state and state in states:
                f["state=" + state] = FIELD_WEIGHTS["state"]
    present = seq | implied | {k for f in feats for k in f if k.startswith(("city=", "state="))}
    df = Counter(k for f in feats for k in f if k in present)
    n = len(options)
    scores = {}
    for o, f in zip(options, feats):
        total = 0.0
        for key, weight in f.items():
            if key in present:
                total += weight * math.log(1 + (n - df[key] + 0.5) / (df[key] + 0.5))
        scores[o.id] = total
    _price_evidence(lowered, options, scores)
    _position_evidence(lowered, options, scores)
    return scores


def _price_evidence(text: str, options: list, scores: dict[str, float]) -> None:
    priced = [o for o in options if o.price is not None]
    if len(priced) < 2:
        return
    for amount in _message_prices(text):
        for o in priced:
            if abs(o.price - amount) <= max(0.5, 0.01 * amount):
                scores[o.id] += PRICE_WEIGHT
    low, high = min(o.price for o in priced), max(o.price for o in priced)
    if low == high:
        return
    if says(text, "cheaper"):
        for o in priced:
            scores[o.id] += PRICE_WEIGHT * (o.price == low)
    if says(text, "dearer"):
        for o in priced:
            scores[o.id] += PRICE_WEIGHT * (o.price == high)


def _position_evidence(text: str, options: list, scores: dict[str, float]) -> None:
    placed = [o for o in options if o.position is not None]
    if len(placed) < 2:
        return
    first, last = min(o.position for o in placed), max(o.position for o in placed)
    for key, pos in (("latest", last), ("earliest", first)):
        if says(text, key):
            for o in placed:
                scores[o.id] += POSITION_WEIGHT * (o.position == pos)


def narrow(message: str, options: list, many: bool = False, margin: float = 0.25, question: str = "") -> Narrowing:
    """The rules' reading. One option: it. Several named by their own items: the first named. Otherwise
    the top scorer if it leads the next by `margin` (a quarter of a telling word: on dev a larger margin
    abstains more without fewer wrong answers). `many`: every option named, or all ("everything except …")."""
    if not options:
        return Narrowing()
    if len(options) == 1:
        return Narrowing(sure=[options[0].id], scores={options[0].id: 0.0})
    if many:
        return _narrow_many(_clauses_of(question, message, options), options, margin)
    scores = score(message, options)
    if (first := _first_named(message, options)) is not None:
        return Narrowing(sure=[first], scores=scores)
    ranked = sorted(options, key=lambda o: -scores[o.id])
    top = scores[ranked[0].id]
    if top <= 0:
        return Narrowing(tied=list(options), scores=scores)
    tied = [o for o in ranked if scores[o.id] > 0 and top - scores[o.id] < margin]  # no evidence never ties
    if len(tied) > 1:
        tied = _keeping_most(tied)
    if len(tied) == 1:
        return Narrowing(sure=[tied[0].id], scores=scores)
    return Narrowing(tied=tied, scores=scores)


def _first_named(message: str, options: list) -> str | None:
    """A message naming items of several options (one order's lamp, another's kettle) is about each in
    turn: the one it names first. None unless at least two options are named by words only they have."""
    from assistant.understand.rules import read_in_english

    words = stems(read_in_english(message))
    names = {o.id: set(stems(_name_of(o))) for o in options if (o.facts or {}).get("name")}
    if len(names) < 2:
        return None
    df = Counter(s for n in names.values() for s in n)
    first = {}
    for oid, name in names.items():
        own = {s for s in name if df[s] == 1}
        at = [i for i, w in enumerate(words) if w in own]
        if at:
            first[oid] = min(at)
    if len(first) < 2:
        return None
    return min(first, key=first.get)


def _keeping_most(tied: list) -> list:
    """Among replacements the message fits alike, the ones that keep most of the replaced item's values
    ("the same one but in black": change only what is said)."""
    kept = {o.id: len([v for v in (o.facts or {}).get("kept", "").split(", ") if v]) for o in tied}
    if not any("kept" in (o.facts or {}) for o in tied):
        return tied
    most = max(kept.values())
    return [o for o in tied if kept[o.id] == most]


def alternation(words) -> str:
    """A regex alternation of the words, longest first (so "all of it" wins over "all")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _except_end() -> re.Pattern:
    """Where what "except …" leaves out ends: the sentence's end or a colon, or a comma before a new clause ("apart from the
    lamp, I want to send back everything": the request after the comma is not excepted), or a "so", "because" or
    "since" opening a reason or its consequence ("everything except the <item> works, so return it"); in Chinese a
    comma or the words closing "除了…" or saying the rest ("以外", "其他", "都": except_zh in reader.json)."""
    zh = lexicon()["except_zh"]
    return re.compile(r"[.;:!?。；：！？，]|,\s*(?=(?:and |so |then |but )?(?:i|i'd|i'm|i'll|we|please|can|could|would|you|just|all|everything)\b)"
                      r"|[,\s]\s*(?=(?:so|because|since)\b)"
                      rf"|{alternation([*zh['closing'], *zh['rest'], *zh['all']])}", re.IGNORECASE)


def except_scope(text: str, start: int, end: int) -> tuple[str, str]:
    """For an except word at text[start:end]: (the rest of the text, what the word leaves out)."""
    # a colon after what is left out says what is taken ("everything except the <item>: the <item> and the <item>");
    # one right after the word opens what is left out ("everything except: …")
    stop = _except_end().search(text, re.compile(r"[\s:：]*").match(text, end).end())
    until = stop.start() if stop else len(text)
    return text[:start] + " " + text[until:], text[end:until]


def only_for_except(text: str) -> str:
    """"nothing else but the <item>", "nothing but …" say only that item, not all but it: read as "only"."""
    return _phrases(tuple(lexicon()["only_words"])).sub(" only ", text)


@lru_cache(maxsize=1)
def _all_word() -> str:
    """An all-word ("everything", "all of it", a bare "all"), maybe with "else" or the order it is of, and maybe what
    an action takes in the passive ("everything returned", "all of it to be sent back for me": a participle of
    `done`, group "done"), up to the word after it."""
    lex = lexicon()["all_but"]
    alls = alternation([*lexicon()["all_words"], *lex["all"]])
    of_order = r"(?:\s+(?:in|from|of)\s+(?:(?:the|my|this|that)\s+)?(?:order\b\s*)?(?:#\s*\w+)?)?"
    done = (rf"(?:\s+(?:{alternation(lex['done_after'])}))?\s+(?P<done>{alternation(lex['done'])})(?![\w-])"
            rf"(?:\s+(?:{alternation(lex['done_then'])})(?![\w-]))?{of_order}")
    return rf"(?<![\w-])(?:{alls})(?:\s+else)?{of_order}(?:{done})?\s+"


@lru_cache(maxsize=64)
def all_but(names: tuple[str, ...] = ()) -> re.Pattern:
    """An all-word (`_all_word`: "everything", "all of it", "everything returned"), then "but" and an item: what
    follows is left out. The item opens with a determiner ("the", "my": item_openers) or is one of `names` (lower
    case). Not a "but" opening a clause ("everything but it still …", "all, but not today", "everything but send
    the refund …", "all but this is …"). Group 1: the all-word and what follows it up to the "but"."""
    lex = lexicon()["all_but"]
    # "the <item> leaked", "the <item> cable was damaged" (any length of name): a clause about the item, no exception
    clause = rf"(?:(?!(?:{alternation(lex['clause_not'])})\b)[\w-]+\s+){{1,4}}(?:{'|'.join(lex['clause_verbs'])})\b"
    item = rf"(?:{alternation(lex['item_openers'])})\s+(?!(?:is|are|was|were|has|have|had|will|would|can|could)\b)(?!{clause})\w"
    if names:
        item += rf"|(?:{alternation(names)})(?![\w-])"
    return re.compile(rf"({_all_word()})(?:{alternation(lex['but'])})(?![\w-])(?=\s+(?:{item}))", re.IGNORECASE)


@lru_cache(maxsize=1)
def _all_except() -> re.Pattern:
    """An all-word then an except word ("everything except the <item>", "all of it other than …"; not "but not",
    which is no "but" without its "not"). Group 1: up to the except word."""
    words = [w for w in lexicon()["except_words"] if not w.startswith("but ")]
    return re.compile(rf"({_all_word()})(?:{alternation(words)})(?![\w-])", re.IGNORECASE)


def except_words_read(text: str, names: tuple[str, ...] = (), where=None) -> str:
    """The text with its except words as the reader takes them: "nothing but the <item>" is only it
    (`only_for_except`); "everything but the <item>", "cancel all but the <item>" leave it out ("except").
    `names`: item names a bare "but <name>" may take; `where(text, at)`: whether the all-word at `at` (of the text
    given it) counts (only those the action takes, say); None: every one. One that does not count is a remark's,
    "but" and "except" alike: "I liked everything except the <item>, so return it" reads as "… everything but the
    <item>, so return it" (the item is the one meant). A passive all-word ("everything returned but …") is asked
    about at its participle: the action's own word, after what it takes."""
    said = only_for_except(text)

    def counts(m: re.Match, within: str) -> bool:
        return where is None or where(within, m.start("done") if m.group("done") else m.start())

    read = all_but(tuple(names)).sub(lambda m: m.group(1) + "except" if counts(m, said) else m.group(0), said)
    if where is None:
        return read
    return _all_except().sub(lambda m: m.group(0) if counts(m, read) else m.group(1) + "but", read)


def _split_except(text: str) -> tuple[str, str]:
    """(the text without "except …", what it leaves out); no except word → (text, "")."""
    text = except_words_read(text)
    m = _phrases(tuple(lexicon()["except_words"])).search(text)
    return except_scope(text, m.start(), m.end()) if m else (text, "")


def _clauses_of(question: str, message: str, options: list) -> str:
    """The part of the message under the action the question asks about ("return the bottle and exchange
    the lamp": for "which items to return?", "return the bottle"), when that part names items and another
    action's part names others; otherwise the whole message."""
    actions = lexicon()["action_words"]
    asked = next((a for a, ws in actions.items() if _phrases(tuple(ws)).search(question)), None)
    if asked is None:
        return message
    marks = sorted((m.start(), a) for a, ws in actions.items() for m in _phrases(tuple(ws)).finditer(message))
    if len({a for _, a in marks}) < 2:
        return message
    spans = [(start, marks[i + 1][0] if i + 1 < len(marks) else len(message), a) for i, (start, a) in enumerate(marks)]
    mine = " ".join(message[s:e] for s, e, a in spans if a == asked)
    other = " ".join(message[s:e] for s, e, a in spans if a != asked)
    return mine if _named(mine, options) and _named(other, options) else message


def _narrow_many(message: str, options: list, margin: float) -> Narrowing:
    kept, excepted = _split_except(message)
    named = _named(kept, options)
    # "everything (except …)" decides only when the rest names no item: "make sure everything is done" does not.
    if says(kept, "all_words") and not named:
        if not excepted:
            return Narrowing(sure=[o.id for o in options])
        dropped = _named(excepted, options)
        if not dropped:
            return Narrowing(tied=list(options))
        return Narrowing(sure=[o.id for o in options if o.id not in dropped])
    scores = score(kept, options)
    if not named:
        top = max(scores.values())
        if top <= 0:
            return Narrowing(tied=list(options), scores=scores)
        named = {o.id: set() for o in options if scores[o.id] > 0 and top - scores[o.id] < margin}
    chosen = [o for o in options if o.id in named]
    # Options of one name (two lamps): the ones the rest of the message fits best; if several fit alike
    # and the message does not speak of several ("both"), that is a question.
    groups: dict[str, list] = {}
    for o in chosen:
        groups.setdefault(_name_of(o), []).append(o)
    plural = speaks_of_several(kept)
    sure, tied = [], []
    for group in groups.values():
        best = max(scores[o.id] for o in group)
        fit = [o for o in group if best - scores[o.id] < margin] if len(group) > 1 else group
        if len(fit) > 1 and not plural:
            tied += fit
        else:
            sure += [o.id for o in fit]
    return Narrowing(sure=sure, tied=tied, scores=scores)


def _named(text: str, options: list) -> dict[str, set[str]]:
    """The options whose name the text says, with the name words it says. An option named only by
    words that name another option better ("smart" of "smart watch" next to a smart thermostat) is not."""
    said = set(stems(text))
    hits = {o.id: said & set(stems(_name_of(o))) for o in options}
    hits = {k: v for k, v in hits.items() if v}
    return {k: v for k, v in hits.items() if not any(v < w for j, w in hits.items() if j != k)}


def _name_of(option) -> str:
    return (option.facts or {}).get("name") or option.label


