"""Hard constraints of a query, checked per item: product type, price, stock, options, brand, "not X".

The product types come from the catalog itself: the head nouns of product names ("Running Shoes"
→ "running shoes", "shoes"), and the category names and their lexicon synonyms. A query names a
type when one of those phrases occurs in it (words compared by stem, so "shoe" finds "Shoes").
Negations ("not white", "no Nike", "without leather", "不要黑色"), read by `QueryParser` into
`parsed.exclude`, name a value, brand or type the results must not have. Strict search (`SearchRequest.strict`) keeps only the items that satisfy
every constraint and, when none does, relaxes the one the shopper is likeliest to give up
(price first, the product type last; a negation never) and says which it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from retrieval.search.models import ParsedQuery
from retrieval.search.query import _WORD, CJK, Canon, Lexicon, Vocabulary, stems, strip_modifiers
# Words that end a product's noun phrase: the type is named before them ("shoes for trail running").
_CLAUSE_END = {"for", "with", "under", "below", "in", "that", "which", "to", "without", "not", "no", "but",
               "except", "over", "above", "between", "from", "like", "than", "and", "or"}  # fmt: skip
# Relaxation order: what a shopper gives up first. Negations are never relaxed.
RELAX_ORDER = ("max_price", "min_price", "in_stock", "option", "color", "brand", "product_type")


class Check(NamedTuple):
    label: str  # 'product_type', 'min_price', 'max_price', 'in_stock', 'brand', 'option:<key>', 'exclude:<value>'
    key: str  # label and value: names the mask in the cache
    ok: Callable[[int], bool]  # row -> satisfied


def _key(words: tuple[str, ...]) -> str:
    return " " + " ".join(words) + " "


class Constraints:
    """The catalog's product types and the per-item checks of a parsed query's hard constraints."""

    def __init__(self, names: list[str], categories: list[str], brands: list[str | None],
                 options: list[dict[str, str]], option_classes: list[set[str]], prices: np.ndarray,
                 available: np.ndarray, vocab: Vocabulary, lexicon: Lexicon, canon: Canon) -> None:  # fmt: skip
        self.canon, self.lexicon, self.vocab = canon, lexicon, vocab
        self.prices, self.available = prices, available
        self.categories = categories
        self.brands = [(b or "").lower() for b in brands]
        self.brand_array = np.array(self.brands, dtype=object)
        self.option_classes = option_classes
        self.options = options
        self.name_keys = [_key(stems(canon.text(n))) for n in names]
        self.name_key_array = np.array(self.name_keys, dtype=str)
        self.category_array = np.array(categories, dtype=object)
        self._made: dict[tuple[str, str], bool] = {}
        self.category_keys = {c: _key(stems(c.replace("-", " "))) for c in set(categories)}
        # Colours, brands and model words end names without saying what the product is.
        colours = {v for v, keys in vocab.option_keys.items() if any("colo" in k for k in keys)}
        not_heads = colours | set(vocab.brands) | {w.lower() for w in lexicon.not_product_types} | _CLAUSE_END
        self.types: dict[tuple[str, ...], str] = {}  # stem phrase -> how it is said
        for name in set(names):
            words = _WORD.findall(canon.text(name))
            while words:  # "Nike Air Jordan 1 Red And Black" is a kind of "jordan", not of "black"
                if " ".join(words[-2:]) in not_heads and len(words) > 2:
                    del words[-2:]  # "Space Gray"
                elif words[-1] in not_heads or len(words[-1]) < 3 or any(ch.isdigit() for ch in words[-1]):
                    words.pop()
                else:
                    break
            for n in range(1, min(3, len(words)) + 1):
                phrase = words[-n:]
                if phrase[0] in _CLAUSE_END or phrase[0] in not_heads and n > 1:
                    break
                self.types.setdefault(stems(" ".join(phrase)), " ".join(phrase))
        self.category_words: dict[tuple[str, ...], str] = {}  # stem phrase -> category slug it names
        for slug in set(categories):
            words = slug.replace("-", " ").split()
            self.types.setdefault(stems(words[-1]), words[-1])  # "mens-shoes" sells "shoes"
            self.category_words.setdefault(stems(" ".join(words)), slug)
            self.types.setdefault(stems(" ".join(words)), " ".join(words))
        for word, slug in lexicon.category_synonyms.items():
            if slug in self.category_keys:
                self.category_words.setdefault(stems(canon.text(word)), slug)
                self.types.setdefault(stems(canon.text(word)), canon.text(word))
        # Every way a type is said (its phrase, the lexicon's English synonyms and Chinese names of
        # it): a type whose name holds another type's name is another sense of that word (笔记本电脑
        # and 笔记本, 入耳式耳机 and 耳机, "notebook computer" and "notebook").
        self.type_names: dict[tuple[str, ...], set[str]] = {k: {" " + v + " "} for k, v in self.types.items()}
        said_as = [*lexicon.en_synonyms.items(), *((w, canon.text(w)) for w in lexicon.category_synonyms),
                   *lexicon.zh_en.items()]  # fmt: skip
        for word, english in said_as:
            key = stems(canon.text(english))
            if key in self.type_names and word.strip():
                self.type_names[key].add(word if CJK.search(word) else " " + word.lower() + " ")
        self._senses: dict[tuple[str, ...], list[str]] = {}
        self._masks: dict[str, np.ndarray] = {}
        self._generic = {canon.text(v) for v in lexicon.needs_key}

    # -- reading the query ----------------------------------------------------------------------

    def read(self, parsed: ParsedQuery, strict: bool = False) -> None:
        """Set `parsed.product_type`; what `parsed.exclude` names (read by `QueryParser`, or given by
        the request) is not also wanted. An option value that is part of the type's name is the
        type, not a further constraint, when no item of the type has it as an option ("fleece" in
        "fleece jacket" is the pet beds' material; "Bluetooth" in "bluetooth speaker" the bulbs'
        connectivity) and always in strict search ("wireless" in "wireless earbuds")."""
        if parsed.product_type is None:
            parsed.product_type = self.product_type(strip_modifiers(parsed.text, parsed.modifiers), parsed.options)
            # A brand that makes nothing of that type means another sense of the word ("华为笔记本" is
            # Huawei's laptop, not a paper notebook): the type is not read, nor its words as a name.
            if parsed.product_type and parsed.brand and not self._made_by(parsed.product_type, parsed.brand):
                parsed.modifiers.append(parsed.product_type)
                parsed.product_type = None
        negated = {self.canon.value(v) for v in parsed.exclude}
        parsed.options = {k: v for k, v in parsed.options.items() if self.canon.value(v) not in negated}
        if parsed.brand and parsed.brand.lower() in negated:
            parsed.brand = None
        if parsed.product_type and self.canon.value(parsed.product_type) in negated:
            parsed.product_type = None
        if parsed.product_type:
            named = set(_WORD.findall(self.canon.text(parsed.product_type)))
            parsed.options = {k: v for k, v in parsed.options.items()
                              if not (set(_WORD.findall(self.canon.text(v))) <= named
                                      and (strict or not self._option_of(parsed.product_type, v)))}  # fmt: skip
        # Distinctive option values (no colour, nor one as generic as "high") of which no item of the
        # type has any, but items of another type said with the same word have, mean that other
        # sense of the word, as a brand does above: 笔记本 with "i7" is a laptop, not a paper
        # notebook; 耳机 with "IPX7" earbuds. A word with one sense keeps its type, and strict search
        # relaxes the option ("bluetooth speaker IPX7" is a speaker, never earbuds).
        said = [v for v in parsed.options.values() if self._distinctive(v)]
        if (parsed.product_type and said and not any(self._option_of(parsed.product_type, v) for v in said)
                and any(self._option_of(other, v) for other in self.senses(parsed.product_type) for v in said)):  # fmt: skip
            parsed.modifiers.append(parsed.product_type)
            parsed.product_type = None
        # A value too generic to read alone ("portable", "manual", "adjustable") is the type's own
        # option when the items of the type read have it under one option: "portable charcoal grill"
        # is the grills' size, 便携的烧烤炉 too, "adjustable dumbbells" the set type.
        if parsed.product_type:
            canon = self.canon.text(parsed.text)
            negated = {self.canon.value(v) for v in parsed.exclude}
            for value in self._generic - {"yes", "no", "none"}:
                if self.canon.value(value) in negated or not re.search(r"(?<![\w-])" + re.escape(value) + r"(?![\w-])", canon):
                    continue
                keys = self._keys_of(parsed.product_type, value)
                if len(keys) == 1 and keys[0] not in parsed.options:
                    parsed.options[keys[0]] = self.vocab.option_display.get(value, value)

    def senses(self, phrase: str) -> list[str]:
        """The other product types said with the type's word: those with a name that holds one of
        its names (Chinese by characters, English by whole words)."""
        key = stems(self.canon.text(phrase))
        found = self._senses.get(key)
        if found is None:
            names = self.type_names.get(key, {" " + self.canon.text(phrase) + " "})
            found = self._senses[key] = [self.types[k] for k, theirs in self.type_names.items() if k != key
                                         and any(n in t and n != t for n in names for t in theirs)]  # fmt: skip
        return found

    def _keys_of(self, phrase: str, value: str) -> list[str]:
        """The options under which items of the type have the value (cached like `_option_of`)."""
        key = (f"type={phrase}", f"keys={value}")
        found = self._made.get(key)
        if found is None:
            if len(self._made) > 4096:
                self._made.clear()
            cls = self.canon.value(value)
            found = self._made[key] = sorted({k for r in np.flatnonzero(self.type_mask(phrase))
                                              for k, v in self.options[r].items() if self.canon.value(v) == cls})
        return found

    def _distinctive(self, value: str) -> bool:
        said = self.canon.text(value)
        keys = self.vocab.option_keys.get(said, [])
        return bool(keys) and not any("colo" in k for k in keys) and said not in self._generic

    def _option_of(self, phrase: str, value: str) -> bool:
        """Whether an item of the type has the value as an option, not merely in its name (cached:
        a type of a large catalog has thousands of items)."""
        key = (f"type={phrase}", f"option={self.canon.value(value)}")
        found = self._made.get(key)
        if found is None:
            if len(self._made) > 4096:
                self._made.clear()
            cls = key[1][len("option="):]
            found = self._made[key] = any(cls in self.option_classes[r] for r in np.flatnonzero(self.type_mask(phrase)))
        return found

    def product_type(self, text: str, options: dict[str, str] | None = None) -> str | None:
        """The catalog product type a query names: the longest phrase, the last one, of the first
        clause naming one (clauses end at a comma or a word such as "for": "black, polyester
        backpack, laptop compartment" is a backpack). A phrase that is part of an option value read
        from the query ("steel" in "stainless steel"), or is a value said with its option's name
        ("laptop compartment"), is that option, not the type."""
        words = re.findall(_WORD.pattern + "|,", self.canon.text(text))
        inside = self._option_words(words, options or {})
        found: list[tuple[int, int, int, str]] = []  # (clause, length, end, phrase)
        clause, opened = 0, -1
        for i, word in enumerate(words):
            if word in _CLAUSE_END or word == ",":
                # "to" + a verb the catalog sells a tool by ("something to whisk eggs"): that tool is
                # the product, not what it acts on ("to buy a laptop" is still a laptop)
                verb = words[i + 1] if i + 1 < len(words) else ""
                clause, opened = clause + 1, i if word == "to" and stems(verb) in self.types else -1
            for n in (3, 2, 1):
                if i - n + 1 < 0 or "," in words[i - n + 1 : i + 1] or all(inside[i - n + 1 : i + 1]):
                    continue
                if opened >= 0 and i - n + 1 > opened + 1:
                    continue
                phrase = self.types.get(stems(" ".join(words[i - n + 1 : i + 1])))
                if phrase:
                    found.append((clause, n, i + 1, " ".join(words[i - n + 1 : i + 1])))
        if not found:
            return None
        first = min(f[0] for f in found)
        return max((f for f in found if f[0] == first), key=lambda f: (f[1], f[2]))[3]

    def _option_words(self, words: list[str], options: dict[str, str]) -> list[bool]:
        """Which words belong to an option value read from the query: one longer than a word
        ("stainless steel"), or said with its option's name ("laptop compartment")."""
        inside = [False] * len(words)
        for key, value in options.items():
            said = _WORD.findall(self.canon.text(value))
            names = [w.lower() for w in [key.split()[0], *self.lexicon.key_words.get(key.split()[0], [])]]
            named = any(re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", " ".join(words)) for n in names)
            if not said or (len(said) == 1 and not named):
                continue
            for i in range(len(words) - len(said) + 1):
                if words[i : i + len(said)] == said:
                    inside[i : i + len(said)] = [True] * len(said)
        return inside

    # -- checking items --------------------------------------------------------------------------

    def checks(self, parsed: ParsedQuery) -> list[Check]:
        """One check per hard constraint of the query."""
        out: list[Check] = []
        if parsed.product_type:
            out.append(Check("product_type", f"type={parsed.product_type}", self._type_check(parsed.product_type)))
        if parsed.min_price is not None:
            out.append(Check("min_price", "", lambda r, p=parsed.min_price: bool(self.prices[r] >= p)))
        if parsed.max_price is not None:
            out.append(Check("max_price", "", lambda r, p=parsed.max_price: bool(self.prices[r] <= p)))
        if parsed.in_stock:
            out.append(Check("in_stock", "", lambda r: bool(self.available[r])))
        if parsed.brand:
            out.append(Check("brand", f"brand={parsed.brand.lower()}", lambda r, b=parsed.brand.lower(): self.brands[r] == b))
        for key, value in parsed.options.items():
            out.append(Check(f"option:{key}", f"value={self.canon.value(value)}", self._value_check(value)))
        return out + self.exclusions(parsed)

    def exclusions(self, parsed: ParsedQuery, types: bool = True) -> list[Check]:
        """One check per "not X": the item has no such option value, is not of that brand (nor, with
        `types`, of that type), and its name does not say it. Never relaxed. The default search
        filters without types: "if there is no lamp that is white" names no lamp to avoid."""
        out = []
        for value in parsed.exclude:
            said = self.canon.text(value)
            if not types and said not in self.vocab.option_keys and said not in self.vocab.brands:
                continue  # a product type
            has_value, is_type, brand = self._value_check(value), self._type_check(value), value.lower()
            out.append(Check(f"exclude:{value}", f"not={self.canon.value(value)}",
                             lambda r, h=has_value, t=is_type, b=brand: not (h(r) or t(r) or self.brands[r] == b)))  # fmt: skip
        return out

    def mask(self, check: Check, parsed: ParsedQuery) -> np.ndarray:
        """The rows satisfying one check; masks of words are cached (the catalog does not change under a Search)."""
        if check.label == "min_price":
            return self.prices >= parsed.min_price
        if check.label == "max_price":
            return self.prices <= parsed.max_price
        if check.label == "in_stock":
            return self.available.copy()
        # Each cache returns its local value: another search thread may clear the dict in between.
        mask = self._masks.get(check.key)
        if mask is None:
            if len(self._masks) > 4096:  # bounded: queries name a few thousand things at most
                self._masks.clear()
            mask = self._masks[check.key] = np.fromiter((check.ok(r) for r in range(len(self.prices))), bool, len(self.prices))
        return mask

    def _made_by(self, phrase: str, brand: str) -> bool:
        key = (phrase, brand.lower())
        made = self._made.get(key)
        if made is None:
            if len(self._made) > 4096:
                self._made.clear()
            made = self._made[key] = bool((self.type_mask(phrase) & (self.brand_array == key[1])).any())
        return made

    def type_mask(self, phrase: str) -> np.ndarray:
        """The rows of that product type (cached; computed over arrays: every search that reads a
        type asks for it, and a catalog may have 100k items)."""
        key = f"type={phrase}"
        mask = self._masks.get(key)
        if mask is None:
            if len(self._masks) > 4096:
                self._masks.clear()
            words = stems(self.canon.text(phrase))
            said = _key(words)
            slugs = {self.category_words[words]} if words in self.category_words else set()
            by_category = [c for c, k in self.category_keys.items() if k.endswith(said)] + list(slugs)
            names = np.char.find(self.name_key_array, said) >= 0
            mask = self._masks[key] = names | np.isin(self.category_array, by_category)
        return mask

    def _type_check(self, phrase: str) -> Callable[[int], bool]:
        words = stems(self.canon.text(phrase))
        key = _key(words)
        slugs = {self.category_words[words]} if words in self.category_words else set()
        by_category = {c for c, k in self.category_keys.items() if k.endswith(key)} | slugs
        return lambda r: key in self.name_keys[r] or self.categories[r] in by_category

    def _value_check(self, value: str) -> Callable[[int], bool]:
        cls = self.canon.value(value)
        key = _key(stems(self.canon.text(value)))
        return lambda r: cls in self.option_classes[r] or key in self.name_keys[r]  # "Blue Frock" is blue


def relax_group(label: str) -> str:
    """Which step of RELAX_ORDER a check label belongs to."""
    if label == "option:color" or label.startswith("option:color "):
        return "color"
    if label.startswith("option:"):
        return "option"
    return label
