"""Query understanding without an LLM: price limits, options, brand, category, stock, Chinese.

The option, brand and category vocabularies come from the catalog itself (whatever the index
holds); the bilingual lexicon and synonyms live in `data/lexicon.json`. Chinese queries are put
into English term by term, so they search the English catalog with the same retrievers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import Stemmer

from retrieval.search.models import OptionBound, ParsedQuery

LEXICON_PATH = Path(__file__).parent / "data" / "lexicon.json"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SINGLE_SIZES = {"S": "S", "M": "M", "L": "L"}


_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_STEMMER = Stemmer.Stemmer("english")


def stems(text: str) -> tuple[str, ...]:
    """The words of a text by stem ("Shoes" and "shoe" alike): how product types are compared."""
    return tuple(_STEMMER.stemWords(_WORD.findall(text.lower())))


@dataclass(frozen=True)
class Lexicon:
    zh_en: dict[str, str]
    en_synonyms: dict[str, str]
    equivalent_values: list[list[str]]
    needs_key: frozenset[str]
    key_words: dict[str, list[str]]
    in_stock: dict[str, list[str]]
    category_synonyms: dict[str, str]
    not_product_types: list[str] = field(default_factory=list)
    zh_not_head: str = ""
    zh_units: dict[str, str] = field(default_factory=dict)
    zh_names: dict[str, list[str]] = field(default_factory=dict)
    imitation: dict[str, list[str]] = field(default_factory=dict)  # "words" that make "materials" another one
    extremes: dict[str, list[str]] = field(default_factory=dict)  # phrase -> [option, "most" | "least"]
    ordinal_values: list[str] = field(default_factory=list)  # option values in increasing order
    fit_remarks: dict = field(default_factory=dict)  # {"words": {word: direction}, "patterns": [… {word} …]}

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("_about", None)
        # The catalog's type and option names in Chinese and its brands are read like any term
        # (zh_en's own entries win where a name is in both).
        names = {zh: en for en, said in data.get("zh_names", {}).items() for zh in said}
        data["zh_en"] = {**names, **data.pop("zh_brands", {}), **data["zh_en"]}
        data["needs_key"] = frozenset(v.lower() for v in data["needs_key"])
        return cls(**data)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


@lru_cache(maxsize=1)
def _fit_pattern() -> tuple[re.Pattern, dict[str, int]]:
    spec = default_lexicon().fit_remarks
    words = spec.get("words", {})
    if not words or not spec.get("patterns"):
        return re.compile("(?!)"), words
    word = "(?P<word>" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + ")"
    patterns = [p.replace("{word}", word, 1).replace("(?P<word>", f"(?P<word{n}>", 1) for n, p in enumerate(spec["patterns"])]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE), words


def fit_remarks(text: str) -> list[tuple[int, int, int]]:
    """(start, end, direction) of each remark on how an item fits said with a size word ("a bit large", "runs
    small", "on the big side", 偏大): a remark, no size value asked for. The direction is the way another size
    would go (-1 smaller, 1 larger); 0 when negated ("not too big")."""
    pattern, words = _fit_pattern()
    found = []
    for m in pattern.finditer(text):
        if _fit_wish(text, m):
            continue
        said = next(w for k, w in m.groupdict().items() if w is not None)
        negated = re.search(r"\b(?:not|n't|never)\s+$", text[: m.start()].lower())
        found.append((m.start(), m.end(), 0 if negated else words.get(said.lower(), 0)))
    return found


# A fit phrase wished for is no remark: "I'd prefer it a bit loose", 我想换一件偏大一点的, "a t-shirt that fits
# large" ask for that fit. A wish word earlier in the same clause (no reason word between), or the phrase
# said of the item wanted (…的, "that …"); "too …" (太…) is never wished for.
_FIT_WISH = re.compile(r"(?:\b(?:want|wanted|prefer|would like|'d like|looking for|hoping for|wish)\b|想|要|希望)"
                       r"(?:(?!\b(?:because|since|as|'?cause|so|but|though|although)\b|因为|由于|但是|可是)[^,.;:!?，。；：！？])*$",
                       re.IGNORECASE)
_FIT_ATTRIBUTIVE_BEFORE = re.compile(r"\bthat\s+$", re.IGNORECASE)
_FIT_ATTRIBUTIVE_AFTER = re.compile(r"^\s*(?:一点|一些|点|些)?的")
_FIT_TOO = re.compile(r"^(?:(?:way|much|far)\s+)?too\b|^overly\b|^太|^过于", re.IGNORECASE)


def _fit_wish(text: str, m: re.Match) -> bool:
    if _FIT_TOO.search(m.group(0)):
        return False
    before, after = text[: m.start()], text[m.end():]
    return bool(_FIT_WISH.search(before) or _FIT_ATTRIBUTIVE_BEFORE.search(before) or _FIT_ATTRIBUTIVE_AFTER.search(after))


def without_fit_remarks(text: str) -> str:
    """The text with its fit remarks blanked (same length, so positions in it stay valid)."""
    for start, end, _ in fit_remarks(text):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _alternation(phrases, flags=re.IGNORECASE) -> re.Pattern | None:
    phrases = sorted({p for p in phrases if p}, key=len, reverse=True)  # longest match wins
    if not phrases:
        return None
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in phrases) + r")(?![\w-])", flags)


class Canon:
    """Lower-case text with the lexicon's English synonyms applied; used on both query and catalog."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._memo: dict[str, str] = {}
        self.synonyms = {k.lower(): v for k, v in lexicon.en_synonyms.items()}
        # The catalog's own word stays as it is: "vacuum cleaner" is not read as "vacuum" + "cleaner"
        # and put into "vacuum cleaner cleaner" (the longest match wins).
        for value in lexicon.en_synonyms.values():
            self.synonyms.setdefault(value.lower(), value)
        self.pattern = _alternation(self.synonyms)
        # "faux leather", "vegan leather": another material than leather, in the query and in the
        # catalog alike; joined into one word, so neither "leather" nor "not leather" reads it.
        words, materials = (lexicon.imitation.get(k) for k in ("words", "materials"))
        self.imitation = (re.compile(rf"\b({'|'.join(map(re.escape, words))})\s+(?=(?:{'|'.join(map(re.escape, materials))})\b)", re.I)
                          if words and materials else None)  # fmt: skip
        # Groups sharing a value are one class ("1L" = "1 liter" and "1000ml" = "1 liter"): merged,
        # so a later group does not take a value away from an earlier one.
        self.classes: dict[str, str] = {}
        for group in lexicon.equivalent_values:
            said = [self.text(v) for v in group]
            heads = {self.classes[v] for v in said if v in self.classes}
            head = min(heads) if heads else said[0]
            for value, old in list(self.classes.items()):
                if old in heads:
                    self.classes[value] = head
            for value in said:
                self.classes[value] = head

    def text(self, text: str) -> str:
        # Memoised: the scorer asks for the same few option values once per candidate variant.
        if (done := self._memo.get(text)) is not None:
            return done
        if len(self._memo) > 100_000:
            self._memo.clear()
        done = self._memo[text] = self._text(text)
        return done

    def _text(self, text: str) -> str:
        text = text.lower()
        if self.pattern:
            text = self.pattern.sub(lambda m: self.synonyms[m.group(1).lower()].lower(), text)
        if self.imitation:
            text = self.imitation.sub(r"\1-", text)
        return re.sub(r"\s+", " ", text).strip()

    def value(self, value: str) -> str:
        """The comparison key of an option value: synonyms and equivalent values folded."""
        canon = self.text(value)
        return self.classes.get(canon, canon)


# Units a number carries in a query or an option value: spelling -> (canonical unit, scale to it).
UNITS: dict[str, tuple[str, float]] = {
    **{u: ("gb", 1.0) for u in ("gb", "gig", "gigs", "g")}, "tb": ("gb", 1000.0),
    **{u: ("inch", 1.0) for u in ("inch", "inches", '"')},  # not "in": "2-in-1"
    **{u: ("ft", 1.0) for u in ("ft", "feet", "foot")},
    **{u: ("hour", 1.0) for u in ("hour", "hours", "hrs", "hr", "h")},
    "mah": ("mah", 1.0), "ml": ("ml", 1.0),
    **{u: ("ml", 1000.0) for u in ("l", "liter", "liters", "litre", "litres")},
    "mm": ("mm", 1.0), "cm": ("mm", 10.0), "bar": ("bar", 1.0),
    **{u: ("degree", 1.0) for u in ("degree", "degrees")},
    **{u: ("mp", 1.0) for u in ("mp", "megapixel", "megapixels")}, "x": ("x", 1.0),
    **{u: ("cup", 1.0) for u in ("cup", "cups")},
    **{u: ("lb", 1.0) for u in ("lb", "lbs", "pound", "pounds")},
    **{u: ("piece", 1.0) for u in ("piece", "pieces", "pcs")},
    **{u: ("w", 1.0) for u in ("w", "watt", "watts")},
}
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_VALUE_MEASURE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-?\s*(" + _UNIT_ALT + r")(?![a-z])", re.I)


def measure(key: str, value: str) -> tuple[float, str] | None:
    """An option value as (number, canonical unit): '16GB' -> (16, 'gb'), '1.5L' -> (1500, 'ml');
    a bare number takes its option's name as unit ('pieces': '1000' -> (1000, 'piece'))."""
    if m := _VALUE_MEASURE.match(value):
        unit, scale = UNITS[m.group(2).lower()]
        return float(m.group(1)) * scale, unit
    if re.fullmatch(r"\d+(?:\.\d+)?", value.strip()) and key.lower() in UNITS:
        return float(value), UNITS[key.lower()][0]
    return None


_STRICT_MORE = (r"more than|over|above|greater than|bigger than|larger than|longer than|higher than|heavier than|taller than"
                r"|thicker than|wider than")
_STRICT_LESS = (r"less than|under|below|fewer than|smaller than|shorter than|lighter than|lower than|thinner than"
                r"|narrower than|slimmer than")
_INCL_MORE = r"at least|no less than|not less than|min(?:imum)?(?: of)?"
_INCL_LESS = r"at most|up to|no more than|not more than|max(?:imum)?(?: of)?|within"
_NUM_UNIT = r"(\d+(?:\.\d+)?)\s*-?\s*(" + _UNIT_ALT + r")(?![\w])"
_BOUND_BEFORE = re.compile(
    rf"\b({_STRICT_MORE}|{_STRICT_LESS}|{_INCL_MORE}|{_INCL_LESS})\s+{_NUM_UNIT}", re.I)
_BOUND_AFTER = re.compile(rf"\b{_NUM_UNIT}\s+(or more|and up|and above|plus|or less|or fewer|and under|and below)\b", re.I)
# "not leather", "isn't plastic", "nothing glossy", "no Nike", "anything but sneakers" (Chinese 不要/不是/没有
# arrive here as "not"/"without" through the lexicon): the value, brand or type after the cue is not wanted.
_NEGATION = re.compile(
    r"\b(?:not|no|non|without|isn'?t|aren'?t|nothing|except|excluding|other than|anything but|avoid|never)\b[\s-]+"
    r"((?:(?:a|an|the|made of|made from|in|any|of)\s+)*)([\w%+.&'-]+(?:\s+[\w%+.&'-]+){0,2})", re.I)


@dataclass
class Vocabulary:
    """What the catalog can be asked for: option values (with the option names using them), brands, categories."""

    option_keys: dict[str, list[str]] = field(default_factory=dict)  # canon value -> keys, most used first
    option_display: dict[str, str] = field(default_factory=dict)  # canon value -> catalog spelling
    brands: dict[str, str] = field(default_factory=dict)  # canon brand -> catalog spelling
    categories: set[str] = field(default_factory=set)
    unit_keys: dict[str, set[str]] = field(default_factory=dict)  # canonical unit -> option names measured in it

    @classmethod
    def from_catalog(cls, options: list[dict[str, str]], brands: list[str], categories: list[str], canon: Canon) -> Vocabulary:
        counts: dict[str, Counter] = defaultdict(Counter)
        display: dict[str, Counter] = defaultdict(Counter)
        unit_keys: dict[str, set[str]] = defaultdict(set)
        for opts in options:
            for key, value in opts.items():
                c = canon.text(value)
                counts[c][key] += 1
                display[c][value] += 1
                if (m := measure(key, value)) is not None:
                    unit_keys[m[1]].add(key)
        return cls(
            unit_keys=dict(unit_keys),
            option_keys={v: [k for k, _ in c.most_common()] for v, c in counts.items()},
            option_display={v: c.most_common(1)[0][0] for v, c in display.items()},
            brands={canon.text(b): b for b in brands if b and len(b) >= 3},
            categories=set(categories),
        )


_NUM = r"\$?\s*(\d{1,7}(?:,\d{3})*(?:\.\d+)?)"
_CUR = r"\s*(?:usd|us\$|dollars?|bucks|\$)?"
# A number followed by a unit is a spec ("2 liters", "256GB"), never a price.
_NOT_UNIT = r"(?!\d|[.,]\d|\s*(?:gigs?|mah|megapixels?|pcs|ml|l|liters?|liter|gb|tb|mb|inch|inches|mah|ft|feet|w|watts?|mp|x|%|hours?|hrs?|bar|lbs?|kg|g|degrees|cups?|pieces?|-inch|k|p|cm|mm|oz)\b)"
_EN_PRICE = [
    ("range", re.compile(r"\b(?:between|from)\s+" + _NUM + _CUR + r"\s+(?:and|to|-)\s+" + _NUM + _CUR + _NOT_UNIT, re.I)),
    ("range", re.compile(r"\$\s*(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*\$?\s*(\d+(?:\.\d+)?)" + _CUR, re.I)),
    ("range", re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*(?:usd|dollars?|bucks)\b", re.I)),
    ("max", re.compile(r"(?:\b(?:under|below|less than|cheaper than|at most|up to|no more than|not more than|max(?:imum)?|within|budget(?: of| is)?)|<=?)\s*" + _NUM + _CUR + _NOT_UNIT, re.I)),
    ("max", re.compile(r"\$\s*(\d+(?:\.\d+)?)\s*(?:or less|or under|or below|max|and under|and below)\b", re.I)),
    ("max", re.compile(r"\b(\d+(?:\.\d+)?)" + _CUR + r"\s*(?:or less|or under|or below|and under|and below)\b", re.I)),
    ("min", re.compile(r"(?:\b(?:over|above|more than|at least|min(?:imum)?|starting at|from)|>=?)\s*" + _NUM + _CUR + _NOT_UNIT, re.I)),
    ("min", re.compile(r"\b(\d+(?:\.\d+)?)" + _CUR + r"\s*(?:or more|and up|and above|plus)\b", re.I)),
]
_ZH_CUR = r"\s*(?:元|块钱|块|美元|美金|刀)?"
# A number followed by a unit is a spec ("超过50英尺"), never a price.
_ZH_NOT_UNIT = r"(?!\d|\.\d|\s*(?:英尺|英寸|寸|毫安|毫升|升|码|片|小时|度|倍|万|[a-zA-Z]))"
# "比10000毫安大": "more than 10000 毫安" (the unit is put into English with the rest).
_ZH_COMPARE = re.compile(r"比\s*(\d+(?:\.\d+)?)\s*([^\d\s，,。]{0,3}?)\s*的?\s*(大|多|长|高|重|久|小|少|短|低|轻)")
_YUAN = re.compile(r"(?<!美)元|块")
_ZH_PRICE = [
    ("range", re.compile(r"(\d+(?:\.\d+)?)" + _ZH_CUR + r"\s*(?:到|至|-|~|～|—)\s*(\d+(?:\.\d+)?)\s*(?:元|块钱|块|美元|美金|刀|之间)")),
    ("max", re.compile(r"(?:低于|少于|不超过|不到|不高于|最多|便宜于)\s*(\d+(?:\.\d+)?)" + _ZH_NOT_UNIT + _ZH_CUR)),
    ("max", re.compile(r"(\d+(?:\.\d+)?)" + _ZH_CUR + r"\s*(?:以内|以下|之内|内)")),
    ("min", re.compile(r"(?:高于|超过|至少|不低于|多于)\s*(\d+(?:\.\d+)?)" + _ZH_NOT_UNIT + _ZH_CUR)),
    ("min", re.compile(r"(\d+(?:\.\d+)?)" + _ZH_CUR + r"\s*以上")),
]


def strip_modifiers(text: str, modifiers: list[str]) -> str:
    """The text without the words read as describing another word (篮球 in 篮球框, a hoop): they name
    no product type or category, nor make a product's name said."""
    for modifier in modifiers:
        text = re.sub(r"(?<![\w-])" + re.escape(modifier) + r"(?![\w-])", " ", text, count=1, flags=re.I)
    return text


def _number(text: str) -> float:
    return float(text.replace(",", ""))


class QueryParser:
    """Reads a query's constraints. `types` (stem phrase -> type, from `Constraints.types`) lets a
    negation name a product type ("anything but sneakers"); without it only values and brands."""

    def __init__(self, vocabulary: Vocabulary, lexicon: Lexicon | None = None, cny_per_usd: float | None = None,
                 types: dict[tuple[str, ...], str] | None = None) -> None:  # fmt: skip
        self.types = types or {}
        if cny_per_usd is None:
            from retrieval.config import get_settings

            cny_per_usd = get_settings().cny_per_usd
        self.cny_per_usd = cny_per_usd
        self.lexicon = lexicon or default_lexicon()
        self.canon = Canon(self.lexicon)
        self.vocab = vocabulary
        self.zh_pattern = re.compile("|".join(re.escape(k) for k in sorted(self.lexicon.zh_en, key=len, reverse=True)))
        units = sorted(self.lexicon.zh_units, key=len, reverse=True)
        self.zh_units = re.compile(r"(\d)\s*(" + "|".join(map(re.escape, units)) + ")") if units else None
        self.value_pattern = _alternation(v for v in vocabulary.option_keys if len(v) >= 2)
        self.brand_pattern = _alternation(vocabulary.brands)
        cats: dict[str, str] = {}
        for slug in vocabulary.categories:
            phrase = slug.replace("-", " ")
            cats[phrase] = slug
            if phrase.endswith("s") and " " not in phrase:
                cats[phrase[:-1]] = slug
        for word, slug in self.lexicon.category_synonyms.items():
            if slug in vocabulary.categories:
                cats.setdefault(word, slug)
        self.categories = cats
        self.category_pattern = _alternation(cats)
        stock = self.lexicon.in_stock
        self.stock_en = _alternation(stock.get("en", []))
        keys = {k for ks in vocabulary.option_keys.values() for k in ks}
        self.extremes = {p: (k, end) for p, (k, end) in self.lexicon.extremes.items() if k in keys}  # options it has
        self.extremes_zh = re.compile("|".join(map(re.escape, sorted((p for p in self.extremes if CJK.search(p)), key=len, reverse=True))) or "(?!)")
        self.extremes_en = _alternation(p for p in self.extremes if not CJK.search(p))
        self.stock_zh = re.compile("|".join(map(re.escape, stock.get("zh", [])))) if stock.get("zh") else None

    def parse(self, text: str) -> tuple[ParsedQuery, list[str]]:
        """Constraints in the text, and the text left to search with. Never raises on any string."""
        notes: list[str] = []
        text = unicodedata.normalize("NFKC", text or "")
        text = "".join(ch if ch.isprintable() else " " for ch in text)
        parsed = ParsedQuery(lang="zh" if CJK.search(text) else "en")
        if parsed.lang == "zh":
            text = self._price(text, _ZH_PRICE, parsed, notes)
            for m in self.extremes_zh.finditer(text):  # 一家人用的大容量: before the terms are put into English
                parsed.prefer.setdefault(*self.extremes[m.group(0)])
            text = self.extremes_zh.sub(" ", text)
            if self.stock_zh and self.stock_zh.search(text):
                parsed.in_stock = True
                text = self.stock_zh.sub(" ", text)
            text = re.sub(r"(\d+(?:\.\d+)?)\s*万像素", lambda m: f" {float(m.group(1)) / 100:g}MP ", text)  # 1200万像素: 12 MP
            if self.zh_units:  # after a number only: "8小时" is 8 hours, 杯 alone is a cup
                text = self.zh_units.sub(lambda m: f"{m.group(1)} {self.lexicon.zh_units[m.group(2)]} ", text)
            text = _ZH_COMPARE.sub(
                lambda m: f" {'more' if m.group(3) in '大多长高重久' else 'less'} than {m.group(1)} {m.group(2)} ", text)
            # Chinese separates phrases with a space or 、。;!? (after NFKC): a clause for the type reader.
            text = re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])|[、。;!?]", ",", text)
            text = self.zh_pattern.sub(lambda m: self._zh_term(m, parsed), text)
            text = re.sub(r"\b(not|without)[\s,]+", r"\1 ", text)  # "不要 红色": the cue reaches its word
            # Chinese the lexicon does not know cannot match the English catalog's words; it is kept
            # as `unread` (the multilingual dense retriever still reads the query as written).
            # (Particles and measure words alone, "个" in 想买个…, are not words left unread.)
            parsed.unread = [w for w in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]+", text)
                             if not set(w) <= set(self.lexicon.zh_not_head)]
            text = CJK.sub(" ", text)
        text = self._price(text, _EN_PRICE, parsed)
        if self.stock_en and self.stock_en.search(text):
            parsed.in_stock = True
            text = self.stock_en.sub(" ", text)
        text = self._bounds(text, parsed)
        text = self._negations(text, parsed)
        text = without_fit_remarks(text)  # "the last pair ran small": no size S asked for
        sizes = self._single_letter_sizes(text)
        canon = self.canon.text(text)
        if self.extremes_en:
            for m in self.extremes_en.finditer(canon):
                parsed.prefer.setdefault(*self.extremes[m.group(1).lower()])
        parsed.options = {**self._options(canon), **parsed.options}  # 'no backlight' (none) was read first
        for key, value in self._said_options(canon).items():
            parsed.options.setdefault(key, value)
        for size in sizes:
            parsed.options.setdefault("size", size)
        for m in re.finditer(r"\bsize\s*:?\s*(\d+(?:\.\d+)?)\b|\b(\d+(?:\.\d+)?)\s*size\b", text, re.I):
            value = m.group(1) or m.group(2)  # "size 9", "8码" ("8 size"): a numbered size the catalog has
            if "size" in self.vocab.option_keys.get(value, []):
                parsed.options.setdefault("size", value)
        if self.brand_pattern:  # not a word of an option value read ("Apple HomeKit" compatibility)
            values = [self.canon.text(v) for v in parsed.options.values()]
            for m in self.brand_pattern.finditer(canon):
                brand = m.group(1).lower()
                if not any(brand != v and re.search(r"(?<![\w-])" + re.escape(brand) + r"(?![\w-])", v) for v in values):
                    parsed.brand = self.vocab.brands[brand]
                    break
        if self.category_pattern and (m := self.category_pattern.search(self.canon.text(strip_modifiers(text, parsed.modifiers)))):
            parsed.category = self.categories[m.group(1).lower()]
        if parsed.min_price is not None and parsed.max_price is not None and parsed.min_price > parsed.max_price:
            parsed.min_price, parsed.max_price = parsed.max_price, parsed.min_price
            notes.append("the price range was given high to low; read it as low to high")
        if self.canon.pattern:  # the catalog's word for it ("powerbank" -> "portable charger"), case kept elsewhere
            text = self.canon.pattern.sub(lambda m: self.canon.synonyms[m.group(1).lower()], text)
        parsed.text = re.sub(r"\s+", " ", re.sub(r"[^\w$%.,'&+/-]+", " ", text)).strip(" .,-/&+'")
        return parsed, notes

    def _zh_term(self, m: re.Match, parsed: ParsedQuery) -> str:
        """A Chinese term in English. Chinese puts the head of a compound last: a term followed at
        once by a word the lexicon cannot read (篮球 in 篮球框, a basketball hoop) only describes that
        word, so it is kept in `parsed.modifiers` and names no product type."""
        english = self.lexicon.zh_en[m.group(0)]
        after = m.string[m.end() : m.end() + 1]
        if (english.strip() and CJK.match(after) and after not in self.lexicon.zh_not_head
                and not self.zh_pattern.match(m.string, m.end())):  # fmt: skip
            parsed.modifiers.append(english)
        return f" {english} "

    def _price(self, text: str, patterns, parsed: ParsedQuery, notes: list[str] | None = None) -> str:
        for kind, pattern in patterns:
            m = pattern.search(text)
            if not m:
                continue
            # Prices are in the shop's currency (USD). An amount in 元/块 (yuan) is converted at the
            # configured rate (AISLE_CNY_PER_USD) and the reply says so; 美元/刀 and bare numbers are dollars.
            rate = self.cny_per_usd if _YUAN.search(m.group(0)) else 1.0

            def amount(group: int) -> float:
                return round(_number(m.group(group)) / rate, 2)

            if kind == "range":
                low, high = sorted((amount(1), amount(2)))
                parsed.min_price, parsed.max_price = low, high
            elif kind == "max" and parsed.max_price is None:
                parsed.max_price = amount(1)
            elif kind == "min" and parsed.min_price is None:
                parsed.min_price = amount(1)
            else:
                continue
            if rate != 1.0 and notes is not None:
                shown = " – ".join(f"{_number(m.group(g)):g}元 ≈ ${amount(g):.2f}" for g in range(1, (m.lastindex or 1) + 1))
                notes.append(f"{shown} (1 USD = {rate:g} 元)")
            text = text[: m.start()] + " " + text[m.end() :]
        return text

    def _bounds(self, text: str, parsed: ParsedQuery) -> str:
        """'more than 8gb ram', '50 ft or more': numeric limits on options measured in that unit.
        Only units the catalog's options use; the words are taken out of the text searched."""
        found = []
        for m in _BOUND_BEFORE.finditer(text):
            cue, number, unit = m.group(1).lower(), float(m.group(2)), m.group(3).lower()
            more = re.fullmatch(f"{_STRICT_MORE}|{_INCL_MORE}", cue) is not None
            strict = re.fullmatch(f"{_STRICT_MORE}|{_STRICT_LESS}", cue) is not None
            found.append((m, number, unit, more, strict))
        for m in _BOUND_AFTER.finditer(text):
            number, unit, cue = float(m.group(1)), m.group(2).lower(), m.group(3).lower()
            found.append((m, number, unit, cue in ("or more", "and up", "and above", "plus"), False))
        cut = []
        for m, number, unit, more, strict in found:
            canon_unit, scale = UNITS[unit]
            keys = self.vocab.unit_keys.get(canon_unit)
            if not keys:
                continue
            canon = self.canon.text(text)
            named = sorted({k.lower() for k in keys if self._key_named(k, canon)})
            value = number * scale
            parsed.bounds.append(OptionBound(
                option=named[0] if len(named) == 1 else None, unit=canon_unit, strict=strict,
                low=value if more else None, high=None if more else value, said=m.group(0)))
            cut.append(m.span())
        for start, end in sorted(cut, reverse=True):
            text = text[:start] + " " + text[end:]
        # A measure said another way than the catalog spells it ("15 inch" for "15-inch", "19bar"):
        # an exact limit, so every spelling of that amount matches.
        for m in re.finditer(r"(?<![\w.])" + _NUM_UNIT, text, re.I):
            canon_unit, scale = UNITS[m.group(2).lower()]
            if canon_unit in self.vocab.unit_keys and self.canon.text(m.group(0)) not in self.vocab.option_keys:
                value = float(m.group(1)) * scale
                canon = self.canon.text(text)  # "16 gigs of ram": the RAM, not the storage
                named = sorted({k.lower() for k in self.vocab.unit_keys[canon_unit] if self._key_named(k, canon)})
                parsed.bounds.append(OptionBound(option=named[0] if len(named) == 1 else None, unit=canon_unit,
                                                 low=value, high=value, said=m.group(0)))
        return text

    def _negations(self, text: str, parsed: ParsedQuery) -> str:
        """The one reader of "not X": 'not leather', 'no PVC', 'nothing glossy', 'no Nike', 'anything
        but sneakers' put the longest option value, brand or product type the cue names into
        `parsed.exclude` (catalog spelling) and take a value's or brand's words out of the text
        searched, so they do not pull such items up; 'no backlight' asks for the option value 'none'."""
        def replace(m: re.Match) -> str:
            words = m.group(2).split()
            cue = m.group(0).split()[0].split("-")[0].lower()
            if cue in ("non", "no") and words and not m.group(1) and f"{cue}-{self.canon.text(words[0])}" in self.vocab.option_keys:
                return f" {cue}-{' '.join(words)} "  # "non polarized" is the catalog's value "non-polarized"
            for n in range(len(words), 0, -1):
                said = " ".join(words[:n])
                value = self.canon.text(said)
                found = None
                if value in self.vocab.option_keys and value not in ("none", "no", "yes"):
                    found = self.vocab.option_display.get(value, value)
                elif value in self.vocab.brands:
                    found = self.vocab.brands[value]
                elif stems(value) in self.types:  # kept in the text: "if there is no keyboard that…" is about keyboards
                    if value not in parsed.exclude:
                        parsed.exclude.append(value)
                    return m.group(0)
                if found is not None:
                    if found not in parsed.exclude:
                        parsed.exclude.append(found)
                    return " " + " ".join(words[n:]) + " "
            first = self.canon.text(words[0]) if words else ""
            if keys := [k for k in self.vocab.option_keys.get("none", []) if self._key_named(k, first)]:
                parsed.options.setdefault(keys[0], self.vocab.option_display.get("none", "none"))
                return " " + " ".join(words[1:]) + " "
            return m.group(0)

        return _NEGATION.sub(replace, text)

    def _single_letter_sizes(self, text: str) -> list[str]:
        # "M" alone is a size only in capitals or after "size"; a lower-case "m" is usually noise.
        found = re.findall(r"(?<![\w-])([SML])(?![\w-])", text)
        found += [s.upper() for s in re.findall(r"\bsize\s*:?\s*([sml])\b", text, re.I)]
        sizes = [_SINGLE_SIZES[s] for s in found]
        # "size 9": a number is a size only after the word and when the catalog has that size
        sizes += [n for n in re.findall(r"\bsize\s*:?\s*(\d{1,2}(?:\.5)?)\b", text, re.I) if n in self.vocab.option_keys]
        return list(dict.fromkeys(sizes))

    def _options(self, canon: str) -> dict[str, str]:
        options: dict[str, str] = {}
        if not self.value_pattern:
            return options
        for m in self.value_pattern.finditer(canon):
            value = m.group(1).lower()
            keys = self.vocab.option_keys.get(value, [])
            named = [k for k in keys if self._key_named(k, canon)]
            generic = value in self.lexicon.needs_key or re.fullmatch(r"[\d.]+", value) is not None
            if generic and not named:
                continue
            key = (named or keys)[0]
            shown = self.vocab.option_display.get(value, value)
            if key in options and options[key] != shown:
                n = 2
                while f"{key} {n}" in options:
                    n += 1
                key = f"{key} {n}"
            options.setdefault(key, shown)
        return options

    def _said_options(self, canon: str) -> dict[str, str]:
        """A yes/no option said by its name: "waterproof hiking boots" is waterproof = yes, "not
        water resistant" water resistance = no (the catalog's own spelling of yes and no)."""
        found: dict[str, str] = {}
        yes, no = (self.vocab.option_display.get(v) for v in ("yes", "no"))
        if not yes or not no:
            return found
        for key in set(self.vocab.option_keys.get("yes", [])) & set(self.vocab.option_keys.get("no", [])):
            for word in [*self.lexicon.key_words.get(key, []), key]:
                m = re.search(r"(?<![\w-])((?:not|no|non|without)[\s-]+)?" + re.escape(word.lower()) + r"(?![\w-])", canon)
                if m:
                    found[key] = no if m.group(1) else yes
                    break
        return found

    def _key_named(self, key: str, canon: str) -> bool:
        words = self.lexicon.key_words.get(key, []) + [key]
        return any(re.search(r"(?<![\w-])" + re.escape(w.lower()) + r"(?![\w-])", canon) for w in words)
