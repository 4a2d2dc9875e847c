"""Answers to questions about one product, decided in code from the catalog's structured data.

"Is the bluetooth speaker waterproof?" is answered by reading the product's variants: which of them
have the option ("water resistance": "yes"), at what price, in stock or not. Only when no option,
price, stock figure or text field (description, reviews, warranty, shipping, return policy) speaks
to the question is the answer "I don't know", and that is known at once, without a model call.
"What's the difference between them?" is answered with the options the variants differ in, and each one's
values of them and price. Every answer names the field it came from. The language model may only re-word the headline
(assistant/agent.py checks it kept the facts); the variant lines and the source are code's.

Attribute words shoppers use that the catalog names differently ("waterproof" for "water
resistance", 续航 for "battery life") are data: assistant/data/attributes.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.understand.narrow import alternation, lexicon
from assistant.understand.rules import (COMPARATIVES, ORDINAL_WORDS, letter_sizes, measured, only_asks_for, price_superlative, sets_against,
                                        without_choices)
from retrieval.store import ProductRecord

TEXT_FIELDS = ("description", "warranty", "shipping", "return_policy")
YES_NO = {"yes", "no"}
STOPWORDS = set(
    "a an the is it its it's this that these those are was be does do did can could will would should has have had "
    "of to in on for with and or but if at by from as about any some my me i you your we our they them there what "
    "which who how when where why much many more most than then so very too also just only please tell know want "
    "need like one ones get got come comes came say says said made make item product thing things still ok okay "
    "what's it's that's there's isn't doesn't "
    "吗 呢 的 了 是 有 吧 么 什么 这个 那个 它".split()
)
NEGATION = re.compile(r"\b(?:not|no|non|without|isn'?t|aren'?t|doesn'?t)\b|不|没有|非")
MAX_LINES = 6


@dataclass
class Grounded:
    """An answer from the data: a headline, lines (one per variant or value), and its source."""

    known: bool
    headline: str
    lines: list[str] = field(default_factory=list)
    source: str = ""
    facts: list[str] = field(default_factory=list)  # what the headline may state: numbers and values
    item_ids: list[str] = field(default_factory=list)  # the variants listed, in order


@lru_cache(maxsize=1)
def _groups() -> list[list[str]]:
    data = json.loads((Path(__file__).parent / "data" / "attributes.json").read_text(encoding="utf-8"))
    return [[w.lower() for w in group] for group in data["groups"]]


def _has_word(phrase: str, text: str) -> bool:
    if re.search(r"[\u4e00-\u9fff]", phrase):
        return phrase in text
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text) is not None


def _named_keys(text: str, keys: list[str]) -> list[str]:
    """Option keys (or field names) the text asks about: the key itself, a word of it at least five
    letters long written as part of a word ("waterproof" names "water resistance"), or a word of
    its synonym group."""
    named = []
    for key in keys:
        k = key.lower()
        words = [w for w in re.findall(r"[a-z]+", k) if len(w) >= 5]
        group = next((g for g in _groups() if k in g), [])
        if _has_word(k, text) or any(w[:5] in text for w in words) or any(_has_word(w, text) for w in group):
            named.append(key)
    return named


def _value_named(value: str, text: str, key: str = "") -> bool:
    """The value said as it is, or as a quantity in other units or spelling ("2 liter" for 2L, with its option `key`)."""
    value = value.lower()
    if not value.strip():
        return False
    if len(value) == 1:  # a letter size only as one ("size M", "the M one"): a lone "m" is also "I'm"
        return re.search(rf"\b(?:size {re.escape(value)}|(?:the|an?|in) {re.escape(value)} (?:one|size|version)s?)\b", text) is not None
    return value not in YES_NO and (_has_word(value, text) or bool(key and measured(key, value, text)))


def content_words(text: str) -> list[str]:
    words = re.findall(r"[a-z][a-z'-]{2,}|[\u4e00-\u9fff]{2,}", text)
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS))


def _price_range(prices: list[float]) -> str:
    low, high = min(prices), max(prices)
    return f"${low:.2f}" if low == high else f"${low:.2f}–${high:.2f}"


def _values_said(variants: list, keys: list[str], text: str) -> tuple[dict[str, tuple[str, ...]], str]:
    """Each option's values (in the variants' order), and the text with letter sizes said as words read as
    the product's own ("the medium one" of a product sized S/M/L)."""
    values = {k: tuple(dict.fromkeys(str(v.options.get(k, "")) for v in variants)) for k in keys}
    return values, letter_sizes(text, values)


def _lacking(keys: list[str], values: dict[str, tuple[str, ...]], catalog: dict[str, set[str]], text: str) -> list[tuple[str, str]]:
    """(option, value) pairs the text names of values of the shop's other products the product does not come in
    ("is there a green one?"), the longest first."""
    return [(key, val) for key in keys for val in sorted(catalog.get(key, ()), key=len, reverse=True)
            if val not in values[key] and re.fullmatch(r"[a-z][a-z -]{2,}", val.lower()) and val.lower() not in ("none", *YES_NO)
            and _has_word(val.lower(), text)]


def asks_about(product: ProductRecord, question: str, fields: tuple[str, ...] = TEXT_FIELDS, superlative: bool = False) -> bool:
    """Whether the question names one of the product's options or values, its price or stock, or one of
    `fields` (its text fields unless told). "The cheapest" counts only when the caller knows the product
    is the subject (`superlative`: its options were just offered); after a list of products it is about the list."""
    text = _without_name(product, question.lower())
    keys = list(dict.fromkeys(k for v in product.variants for k in v.options))
    values, sized = _values_said(product.variants, keys, text)
    return bool(_named_keys(text, [*keys, *fields, "price", "stock"]) or (superlative and price_superlative(text) is not None)
                or any(_value_named(val, sized, k) for k in keys for val in values[k]))


def names_choice(product: ProductRecord, question: str, catalog: dict[str, set[str]] | None = None,
                 current: dict[str, str] | None = None) -> bool:
    """Whether a yes/no question (in English words: Chinese put into English by the caller) asks for one of the
    product's choices in stock itself: one value of an option ("is XL ok?", "do you have it in blue?"), or one of
    each of several ("is the purple XL ok?"), together in a variant in stock, with no word but those asking whether
    it is there or acceptable (`rules.only_asks_for`): "does the red one fade?", "is the white one refundable?",
    "is the red one cheaper?" ask about a choice, not for it. No value of the shop's the product lacks ("is there a
    green one?"). Such a question to "what should it become?" is the pick, unless it names only the `current`
    item's own values ("is cotton ok?" of a cotton one changes nothing)."""
    text = _without_name(product, question.lower())
    keys, values, sized, named = _named_values(product, text)
    if not named or any(len(vals) > 1 for vals in named.values()) \
            or all((current or {}).get(k) in vals for k, vals in named.items()):
        return False
    if not only_asks_for(_without_said(sized, named)) or _lacking(keys, values, catalog or {}, text):
        return False
    return any(v.available and all(v.options.get(k) in vals for k, vals in named.items()) for v in product.variants)


def _without_said(text: str, named: dict[str, set[str]], names: bool = True) -> str:
    """The text without the values named, their options' names ("size XL", "the colour white"; not when `names` is
    false) and the quantities said in other units ("the 2 liter one")."""
    words = sorted({w.lower() for key, vals in named.items() for w in (*vals, *(_key_words(key) if names else ()))},
                   key=len, reverse=True)
    if not names:  # an option's word said with a number is the value's ("the 500-piece one"), not asked about
        said = alternation({w.rstrip("s") for key in named for w in _key_words(key) if w.isascii()})
        text = re.sub(rf"(\d+(?:\.\d+)?)\s*-?\s*(?:{said})s?(?![a-z])", r"\1", text)
    for word in words:
        text = re.sub(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])" if word.isascii() else re.escape(word), " ", text)
    return re.sub(r"\d+(?:\.\d+)?\s*-?\s*[a-z]*", " ", text)


def _key_words(key: str) -> list[str]:
    """An option's name and the words of its synonym group (attributes.json)."""
    return [key.lower(), *next((g for g in _groups() if key.lower() in g), [])]


def asks_difference(question: str) -> bool:
    """Whether the question asks how the choices differ ("what's the difference between them?", "它们有什么区别？")."""
    return bool(_named_keys(question.lower(), ["difference"]))


def _compares_choices(text: str, named_values: list[tuple[int, str, str]]) -> bool:
    """Whether a difference question names nothing but the choices (`rules.without_choices`), their values and
    stopwords: "what's the difference between them?", "between the black ones"; not "the difference in sound
    quality" or "do I pay the difference?"."""
    words = [*(w for g in _groups() if "difference" in g for w in g), *(val.lower() for *_, val in named_values)]
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])" if word.isascii() else re.escape(word), " ", text)
    text = re.sub(r"[a-z][a-z'-]*", lambda m: " " if m.group(0) in STOPWORDS else m.group(0), without_choices(text))
    for word in sorted((w for w in STOPWORDS if not w.isascii()), key=len, reverse=True):  # 什么, 的, 吗 within Chinese
        text = text.replace(word, " ")
    return not re.search(r"[a-z0-9\u4e00-\u9fff]", text)


def asks_about_policy(question: str) -> bool:
    """Whether the question names one of the shop's own policies (shipping, returns) that a product's text
    fields may also hold; a warranty is the product's own (its field, or "I don't know")."""
    return bool(_named_keys(question.lower(), ["shipping", "return_policy"]))


def _without_name(product: ProductRecord, text: str) -> str:
    for word in re.findall(r"[a-z0-9]+", product.name.lower()):  # "bluetooth" in "Bluetooth Speaker" is not a question
        text = re.sub(rf"(?<![a-z0-9]){re.escape(word)}s?(?![a-z0-9])", " ", text)
    return text


def answer(product: ProductRecord, question: str, replies: dict, catalog: dict[str, set[str]] | None = None,
           english: str | None = None) -> Grounded:
    """The answer to `question` (in English words: Chinese put into English by the caller, the raw
    text kept in it too) about `product`, worded with the templates in `replies` (one language).
    `catalog`: option name → the values the shop's products come in, so that a value of one of its
    options the product lacks ("is there a green one?") is answered no, with the values it has.
    `english`: the question in English words alone (the question itself when not given), read for what it asks
    besides a value it names ("is the white one heavy?" asks about the white ones, not for white)."""
    shown: list[str] = []
    grounded = _answer(product, question, replies, shown, catalog or {}, (english or question).lower())
    grounded.item_ids = list(shown)
    return grounded


def _differences(product: ProductRecord, compared: list, keys: list[str], replies: dict, listed) -> Grounded:
    """The options in which the compared variants differ, each one's values of them and price."""
    differing = [k for k in keys if len({v.options.get(k) for v in compared}) > 1]
    headline = replies["pa_diff"].format(name=product.name, count=len(compared), keys=", ".join(differing)) if differing else \
        replies["pa_diff_price"].format(name=product.name, count=len(compared))
    return Grounded(True, headline, listed(compared, only=differing), replies["pa_source_variants"].format(name=product.name))


def _side_by_side(product: ProductRecord, compared: list, keys: list[str], said: dict[str, set[str]], english: str,
                  replies: dict, listed) -> Grounded:
    """Variants set against each other by values of one option, each side by what the question compares them on: their
    prices ("which is cheaper, …?"), or their values of an option it names (by name or a word of its group, "easier"
    for a difficulty level; or a comparing word of option_words.json, "bigger" for a capacity). When the catalog holds
    nothing on it ("boils faster", "lighter", "more fun"), that is said plainly, with what does tell the sides apart
    (the options they differ in, each side's count and prices), not a list of every variant. Asking nothing besides
    the values ("the red one versus the blue one"): how they differ, side by side."""
    name = product.name
    against = next(k for k, vals in said.items() if len(vals) > 1)
    order = english.lower()

    def at(val: str) -> int:  # where the value is said ("red or blue": red first), unsaid ones ("1 L" for 1L) last
        m = re.search(rf"(?<![a-z0-9]){re.escape(val.lower())}(?![a-z0-9])", order)
        return m.start() if m else len(order)

    values = sorted(said[against], key=lambda val: (at(val), val))
    sides = [(val, [v for v in compared if v.options.get(against) == val]) for val in values]
    _, sized = _values_said(product.variants, keys, _without_name(product, order))
    rest = _without_said(sized, said, names=False)  # "which has more pieces, the 500 or the 1000?" still names pieces
    if not content_words(without_choices(rest)):
        return _differences(product, compared, keys, replies, listed)
    prices = _named_keys(rest, ["price"]) or re.search(rf"\b(?:{alternation([*lexicon()['cheaper'], *lexicon()['dearer']])})\b", rest)
    # the option set against is what is asked only by an amount of it ("more pieces", "holds more", "bigger"): "which
    # colour is better?" asks nothing the colours themselves say
    amount = re.search(r"\b(?:more|less|fewer)\b", rest) or any(re.search(pattern, rest) for pattern, _, _ in COMPARATIVES)
    on = [*(k for k in _named_keys(rest, keys) if k != against or amount),
          *(k for pattern, _, ks in COMPARATIVES if re.search(pattern, rest) for k in ks if k in keys)]

    def count(chosen: list) -> str:
        return replies["pa_against_count"].format(count=len(chosen), in_stock=sum(v.available for v in chosen),
                                                  prices=_price_range([v.price for v in chosen]))

    if prices or on:
        key = on[0] if on and not prices else None

        def said_of(chosen: list) -> str:  # its values, in their rank where they have one ("beginner" before "expert")
            found = dict.fromkeys(str(v.options.get(key, "–")) for v in chosen)
            return ", ".join(sorted(found, key=lambda x: ORDINAL_WORDS.get(x.lower(), 0)))

        parts = [replies["pa_against_part"].format(value=val, values=said_of(chosen) if key else count(chosen)) for val, chosen in sides]
        label = key or replies["pa_fields"]["price"]
        source = replies["pa_source_option"].format(key=key, name=name) if key else \
            replies["pa_source_field"].format(field=label, name=name)
        return Grounded(True, replies["pa_against"].format(name=name, key=label, parts="; ".join(parts)), [], source)
    differing = [k for k in keys if len({v.options.get(k) for v in compared}) > 1]
    parts = [replies["pa_against_part"].format(value=val, values=count(chosen)) for val, chosen in sides]
    return Grounded(False, replies["pa_against_unknown"].format(name=name, topic=" ".join(content_words(rest)[:4]),
                                                                keys=", ".join(differing), parts="; ".join(parts)),
                    [], replies["pa_source_variants"].format(name=name))  # fmt: skip


def set_against(product: ProductRecord, question: str) -> bool:
    """Whether a question (in English words) sets variants of this product against each other: a word of comparing
    (`rules.sets_against`) and two values or more of one of its options named, each in some variant."""
    if not sets_against(question):
        return False
    return any(len(vals) > 1 for vals in _named_values(product, _without_name(product, question.lower()))[3].values())


def _named_values(product: ProductRecord, text: str):
    """The product's option keys, the values said in the text (`_values_said`) and, per option, the values it names
    — the longest first, so "Wi-Fi + Cellular" is not also "Wi-Fi", "1.5L" not also "5L"."""
    keys = list(dict.fromkeys(k for v in product.variants for k in v.options))
    values, sized = _values_said(product.variants, keys, text)
    named: dict[str, set[str]] = {}
    for key in keys:
        for val in sorted(values[key], key=len, reverse=True):
            if _value_named(val, sized, key) and not any(val.lower() in v.lower() for v in named.get(key, ())):
                named.setdefault(key, set()).add(val)
    return keys, values, sized, named


def _question_part(english: str, said: dict[str, set[str]]) -> str:
    """The sentence (a question one first) naming a value said, and of a supposition ("if it comes in black, …") its
    if-clause only: "I'd buy two", "forget the blue ones" beside the question are remarks, not what it asks."""
    named = [x for x in re.split(r"(?<=[.!?;])\s+", english) if any(v.lower() in x.lower() for vals in said.values() for v in vals)]
    part = next((x for x in named if x.rstrip().endswith("?")), named[0] if named else english)
    if re.match(r"\s*(?:if|whether|in case)\b", part, re.IGNORECASE):
        part = part.split(",")[0]
    return part


def _asked_of_value(product: ProductRecord, english: str, keys: list[str], said: dict[str, set[str]]) -> str:
    """What a question naming values asks besides whether they are there or acceptable (`only_asks_for`), in English
    words: "heavy" of "is the white one heavy?", "what sizes come in" of "what sizes does the black one come in?";
    "" for "is white ok?", "有白色的吗？"."""
    _, sized = _values_said(product.variants, keys, _without_name(product, _question_part(english, said)))
    rest = _without_said(sized, said)
    return "" if only_asks_for(rest) or not content_words(rest) else rest


def _answer(product: ProductRecord, question: str, replies: dict, shown: list[str], catalog: dict[str, set[str]],
            english: str) -> Grounded:
    text = _without_name(product, question.lower())
    name = product.name
    variants = product.variants
    keys = list(dict.fromkeys(k for v in variants for k in v.options))

    def line(v, skip: str | None = None, only: list[str] | None = None) -> str:
        options = ", ".join(val for k, val in v.options.items() if k != skip and (only is None or k in only)) or name
        stock = replies["in_stock"] if v.available else replies["out_of_stock"]
        return replies["pa_line"].format(options=options, price=v.price, availability=stock)

    def listed(chosen: list, skip: str | None = None, only: list[str] | None = None) -> list[str]:
        ordered = sorted(chosen, key=lambda v: (not v.available, v.price))
        shown[:] = [v.item_id for v in ordered[:MAX_LINES]]
        lines = [line(v, skip, only) for v in ordered[:MAX_LINES]]
        if len(ordered) > MAX_LINES:
            lines.append(replies["pa_more"].format(n=len(ordered) - MAX_LINES))
        return lines

    # 1. An option value named: "does it come in red?", "is there a 20 hours one?" (the longest value
    # named wins: "Wi-Fi + Cellular", not "Wi-Fi")
    values, sized = _values_said(variants, keys, text)
    named_values = sorted(((len(val), key, val) for key in keys for val in values[key] if _value_named(val, sized, key)), reverse=True)
    said: dict[str, set[str]] = {}
    for _, key, val in named_values:
        said.setdefault(key, set()).add(val)
    # the variants compared: those with a value named of each option named ("the black ones", "the red and the purple one")
    compared = [v for v in variants if all(v.options.get(k) in vals for k, vals in said.items())]
    if asks_difference(text) and _compares_choices(sized, named_values) and len(compared) > 1:
        # 0. "what's the difference between them?", "the black and the white one, how do they differ?": the options
        # in which those variants differ, each one's values of them and price
        return _differences(product, compared, keys, replies, listed)
    if sets_against(question) and any(len(vals) > 1 for vals in said.values()) and len(compared) > 1:
        # 0b. "is the 500-piece one easier than the 1000-piece one?", "which is lighter, the 1 L or the 1.5 L?": the
        # variants with the values set against each other, by what the question compares them on
        return _side_by_side(product, compared, keys, said, english, replies, listed)
    if (way := price_superlative(text)) is not None:
        # 0. "which is the cheapest?", "the most expensive blue one?": among those with the value named, in stock first
        pool = [v for v in variants if not named_values or v.options.get(named_values[0][1]) == named_values[0][2]] or variants
        ordered = sorted(pool, key=lambda v: (not v.available, -way * v.price))
        top = ordered[0]
        shown[:] = [v.item_id for v in ordered[:MAX_LINES]]
        return Grounded(True, replies["pa_cheapest" if way < 0 else "pa_priciest"].format(
            name=name, options=", ".join(top.options.values()), price=top.price,
            availability=replies["in_stock"] if top.available else replies["out_of_stock"]),
            [line(v) for v in ordered[:MAX_LINES]], replies["pa_source_field"].format(field=replies["pa_fields"]["price"], name=name),
            [f"{top.price:.2f}"])  # fmt: skip
    if named_values:
        _, key, value = named_values[0]
        chosen = [v for v in variants if v.options.get(key) == value]
        in_stock = sum(v.available for v in chosen)
        prices = _price_range([v.price for v in chosen])
        if asked := _asked_of_value(product, english, keys, said):
            # 1a. "is the white one heavy?", "does the red one fade?": a question about the variants with the value, not
            # whether it is there (a "yes: comes in white" would answer what was not asked). Answered from their data,
            # or "I don't know" with what the catalog does hold on them.
            about = product.model_copy(update={"variants": compared or chosen})
            sub = _answer(about, asked, replies, shown, catalog, asked)
            if sub.known:
                return Grounded(True, replies["pa_of_value"].format(key=key, value=value, answer=sub.headline), sub.lines,
                                sub.source, [value, *sub.facts])  # fmt: skip
            topic = " ".join(content_words(asked)[:4])
            return Grounded(False, replies["pa_value_unknown"].format(name=name, topic=topic, key=key, value=value, count=len(chosen),
                                                                       in_stock=in_stock, prices=prices),
                            listed(chosen, skip=key), replies["pa_source_option"].format(key=key, name=name))  # fmt: skip
        return Grounded(True, replies["pa_value_yes"].format(name=name, key=key, value=value, count=len(chosen),
                                                              in_stock=in_stock, prices=_price_range([v.price for v in chosen])),
                        listed(chosen, skip=key), replies["pa_source_option"].format(key=key, name=name),
                        [value, str(len(chosen)), str(in_stock)])  # fmt: skip
    # 1b. A value of one of its options that it does not come in ("is the green one in stock?"): no, and what it has
    if lacking := _lacking(keys, values, catalog, text):
        key, value = lacking[0]
        return Grounded(True, replies["pa_value_none"].format(name=name, key=key, value=value, values=", ".join(values[key])),
                        [], replies["pa_source_option"].format(key=key, name=name), [value])  # fmt: skip
    # 2. An option named: "is it waterproof?" (a yes/no option), "what battery life does it have?"
    named = _named_keys(text, keys)
    if named:
        key = named[0]
        values = list(dict.fromkeys(v.options.get(key, "") for v in variants))
        if set(map(str.lower, values)) <= YES_NO:
            wanted = "no" if NEGATION.search(text) else "yes"
            chosen = [v for v in variants if v.options.get(key, "").lower() == wanted]
            source = replies["pa_source_option"].format(key=key, name=name)
            if not chosen:
                return Grounded(True, replies["pa_flag_none"].format(name=name, key=key, value=wanted, total=len(variants)),
                                [], source, [wanted, str(len(variants))])  # fmt: skip
            in_stock = sum(v.available for v in chosen)
            return Grounded(True, replies["pa_flag_yes"].format(name=name, key=key, value=wanted, count=len(chosen),
                                                                 value_word=replies["pa_yes" if len(chosen) == len(variants) else "pa_some"],
                                                                 total=len(variants), in_stock=in_stock,
                                                                 prices=_price_range([v.price for v in chosen])),
                            listed(chosen, skip=key), source, [wanted, str(len(chosen)), str(len(variants)), str(in_stock)])  # fmt: skip
        parts = []
        for value in values:
            chosen = [v for v in variants if v.options.get(key) == value]
            parts.append(replies["pa_value_part"].format(value=value, prices=_price_range([v.price for v in chosen]),
                                                         in_stock=sum(v.available for v in chosen)))  # fmt: skip
        return Grounded(True, replies["pa_values"].format(name=name, key=key, values="; ".join(parts)), [],
                        replies["pa_source_option"].format(key=key, name=name), values)  # fmt: skip
    # 3. A text field named (warranty, shipping, returns) or price / stock / reviews.
    asked_fields = _named_keys(text, [*TEXT_FIELDS, "price", "stock", "reviews"])
    for name_ in asked_fields:
        if name_ in TEXT_FIELDS and getattr(product, name_):
            quote = getattr(product, name_).strip()
            return Grounded(True, replies["pa_quote"].format(name=name, field=replies["pa_fields"][name_], quote=quote),
                            [], replies["pa_source_field"].format(field=replies["pa_fields"][name_], name=name))  # fmt: skip
        if name_ == "price":
            prices = [v.price for v in variants]
            available = [v.price for v in variants if v.available]
            return Grounded(True, replies["pa_price"].format(name=name, prices=_price_range(prices), count=len(variants),
                                                              in_stock=len(available),
                                                              cheapest=_price_range([min(available)]) if available else "–"),
                            [], replies["pa_source_field"].format(field=replies["pa_fields"]["price"], name=name))  # fmt: skip
        if name_ == "stock":
            available = [v for v in variants if v.available]
            return Grounded(True, replies["pa_stock"].format(name=name, in_stock=len(available), count=len(variants)),
                            listed(available), replies["pa_source_field"].format(field=replies["pa_fields"]["stock"], name=name))  # fmt: skip
        if name_ == "reviews" and (product.reviews or product.rating):
            lines = [replies["pa_review"].format(rating=r.rating, comment=r.comment) for r in product.reviews[:3]]
            return Grounded(True, replies["pa_rating"].format(name=name, rating=product.rating or 0, count=len(product.reviews)),
                            lines, replies["pa_source_field"].format(field=replies["pa_fields"]["reviews"], name=name))  # fmt: skip
    # 4. The question's own words in the description or a review: quote the sentence.
    words = content_words(text)
    for field_name in ("description", "reviews"):
        texts = [product.description] if field_name == "description" else [r.comment for r in product.reviews]
        for body in texts:
            for sentence in re.split(r"(?<=[.!?])\s+", body or ""):
                low = sentence.lower()
                hits = [w for w in words if len(w) >= 4 and w[:5] in low]
                if hits and len(hits) * 2 >= len([w for w in words if len(w) >= 4]):
                    return Grounded(True, replies["pa_quote"].format(name=name, field=replies["pa_fields"][field_name],
                                                                      quote=sentence.strip()),
                                    [], replies["pa_source_field"].format(field=replies["pa_fields"][field_name], name=name),
                                    )  # fmt: skip
    if not words:  # "tell me about it": an overview
        prices = [v.price for v in variants]
        options = "; ".join(f"{k}: {', '.join(dict.fromkeys(v.options[k] for v in variants if k in v.options))}" for k in keys)
        return Grounded(True, replies["pa_overview"].format(name=name, prices=_price_range(prices), count=len(variants),
                                                             options=options or "–", description=(product.description or "")[:300]),
                        [], replies["pa_source_field"].format(field=replies["pa_fields"]["description"], name=name))  # fmt: skip
    topic = " ".join(words[:4])
    known = ", ".join(keys) or "–"
    return Grounded(False, replies["pa_unknown"].format(name=name, topic=topic, keys=known))
