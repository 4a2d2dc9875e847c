"""The rule reader's reading of order requests: which of the customer's orders, items, variants,
payment methods and addresses a message names, and which actions and conditions it states.

Plain functions over the message and the customer's own data (orders as the order tools return
them, the catalog's products): no state, no replies. Lexicons come from the data files
(assistant/data/*.json) and the catalog, not from phrases of particular requests.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import usaddress

from assistant.flows import routes_for
from assistant.understand.commands import Action, Condition
from assistant.understand.narrow import (alternation, except_scope, except_words_read, lexicon, opens_with, said_ends, says,
                                          speaks_of_several, us_states)
from assistant.slots import Slots, read_slots

DATA = Path(__file__).resolve().parent.parent / "data"

PAYMENT_KINDS = (("gift_card", r"gift ?card|礼品卡|\bgc\b"), ("paypal", r"paypal"),
                 ("credit_card", r"credit ?card|visa|mastercard|信用卡"))  # fmt: skip

# _ACTION_VERBS group → route, for a pending (False) or delivered (True) order
ACTION_ROUTES = {False: {1: "return", 2: "modify_order", 3: "cancel_order"}, True: {1: "return", 2: "exchange", 3: "cancel_order"}}

SAME = "=="  # a picked "variant" meaning: the very same item, which the policy does not allow

KEEP = "="  # a picked "variant" meaning: leave this item as it is
UNMET = "!="  # a picked "variant" meaning: no available one has what the shopper keeps and asks (they are told, and choose)
LISTED = "#listed"  # after an item id in a frame's closest_offered: the other values asked of it were listed (rules.option_values_asked)

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

@lru_cache(maxsize=1)
def _names() -> dict:
    """assistant/data/aliases.json: other names of products ("aliases") and of cities ("places")."""
    return json.loads((DATA / "aliases.json").read_text(encoding="utf-8"))

def _aliases() -> dict[str, list[str]]:
    return {a: [t] if isinstance(t, str) else t for a, t in _names()["aliases"].items()}


@lru_cache(maxsize=1)
def _zh_names() -> tuple[re.Pattern, dict[str, list[str]]]:
    """aliases.json's Chinese words for the products → the product names (lower case) each may mean, and a
    pattern finding them longest first (无线耳机 before 耳机)."""
    means: dict[str, list[str]] = {}
    for name, words in _names()["zh_names"].items():
        for word in words:
            means.setdefault(word.lower(), []).append(name)
    return re.compile(alternation(means)), means


@lru_cache(maxsize=1024)
def _zh_named(lowered: str) -> tuple[tuple[int, str], ...]:
    """(where, product name) for each Chinese product word the text says: the items' names are English, and a
    Chinese word has no word boundary to find it by."""
    if not _CJK.search(lowered):
        return ()
    pattern, means = _zh_names()
    return tuple((m.start(), name) for m in pattern.finditer(lowered) for name in means[m.group(0)])


def items_text(order: dict) -> str:
    """The order's items by name and options (their ids travel in the `choices` event, not the text)."""
    return "; ".join(dict.fromkeys(f"{i['name']} ({', '.join(i['options'].values())})" for i in order["items"]))


def value_re(value: str, plural: bool = False) -> str:
    """A regex for an option value said as a whole word: not inside a longer word, nor a hyphenated
    compound of words ("black" is not said in "black-and-white" nor "white" in "off-white"); a number
    stays itself before a unit ("1000" in "1000-piece"); nor the tail of a contraction or possessive ("s" in
    "there's", "d" in "I'd")."""
    body = _plural_tolerant(value) if plural else re.escape(value)
    before = r"(?<![a-z0-9])" + (r"(?<![a-z]-)(?<![a-z]['’])" if re.match(r"[a-z]", value) else "")
    after = r"(?![a-z0-9])" + (r"(?!-[a-z])" if re.search(r"[a-z]$", value) else "")
    return before + body + after


def mentioned(value: str, lowered_message: str, siblings: tuple[str, ...] = ()) -> bool:
    """Whether the message names an option value: whole words, or for a multi-word value any of its
    distinctive words (a word only that value has among the option's values names it: with the other
    values of the option given as `siblings`, "liters" names none of "1 liter", "1.5 liters", "2 liters")."""
    value = value.lower()
    for longer in (x.lower() for x in siblings if len(x) > len(value) and value in x.lower()):
        lowered_message = lowered_message.replace(longer, " ")  # "wi-fi" said only inside "wi-fi + cellular" is not named
    if re.search(value_re(value, plural=True), lowered_message):
        return True
    if " " not in value and any(value.startswith(m.group(1)) for m in _QUALIFIED.finditer(lowered_message)):
        return True  # "soft material" names softshell
    shared = {w.rstrip("s") for other in siblings if other.lower() != value for w in re.findall(r"[a-z0-9]+", other.lower())}
    words = [w for w in re.findall(r"[a-z0-9]+", value) if len(w) >= 4 and w not in _GENERIC_WORDS and w.rstrip("s") not in shared]
    return len(words) < len(value.split()) + 1 and any(
        re.search(value_re(w), lowered_message) for w in words
    )


def _plural_tolerant(value: str) -> str:
    """A regex for an option value said in the singular or the plural ("animal" names "animals", "a
    cup" names "cups"); short values and numbers only as they are ("s", "8gb")."""
    pattern = re.escape(value)
    if re.search(r"\d\s*[a-z]{1,4}s$", value):  # a unit after a number: "55-75 lb" names "55-75 lbs"
        return pattern[:-1] + "s?"
    if not re.search(r"[a-z]{4}$", value):
        return pattern
    if value.endswith("s") and not value.endswith("ss"):
        return pattern[:-1] + "s?"
    return pattern + "(?:e?s)?"


def without_option_names(lowered: str, values: dict[str, tuple[str, ...]]) -> str:
    """The text with each option name that holds its own values taken out ("bagged/bagless" names
    the option, neither of its values): an option's name is no wish for a value. `values`: option
    name → its values among the product's variants."""
    for key in sorted(values, key=len, reverse=True):
        name = key.lower()
        if any(re.search(value_re(str(v).lower()), name) for v in values[key] if str(v).strip()):
            lowered = re.sub(value_re(name), " ", lowered)
    return lowered


_QUALIFIED = re.compile(r"(?<![a-z0-9])([a-z]{4,}) (?:material|shell|type|kind|style)\b")
_GENERIC_WORDS = {"size", "full", "standard", "with", "none", "type", "color", "colour", "inch", "hours", "brand", "card"}


_ID_PAIR = re.compile(r"(?<!\d)(\d{10})(?!\d)\s+(?:(?:(?:should|to|will|would|could|must)\s+)?(?:be\s+|get\s+|being\s+)?"
                      r"(?:changed|swapped|switched|exchanged|replaced|upgraded|turned|converted|modified)\s+)?"
                      r"(?:(?:to|for|with|into|by)\s+|(?:should\s+)?become?s?\s+|→\s*)(?:(?:an?|the)\s+)?(?:item\s+)?(?:id\s+|number\s+|#)?(\d{10})(?!\d)")


def id_pairs(lowered: str, order: dict) -> dict[str, str]:
    """'change item <id> to item <id>', '<id> swapped for <id>', '<id> should become <id>' → {the order's
    item: the new item}; the first id may also be the product id of one of the order's items (shoppers
    mix the two up)."""
    pairs = {}
    for m in _ID_PAIR.finditer(lowered):
        old = [i for i in order["items"] if m.group(1) in (i["item_id"], i.get("product_id"))]
        if len(old) == 1:
            pairs[old[0]["item_id"]] = m.group(2)
    return pairs


def price_limit(text: str) -> float | None:
    """The price a change is made on condition of: "if it is less than <n> bucks", "if it costs under $<n>"."""
    m = re.search(r"\bif (?:it|that|this|the \w+(?: \w+)?) (?:is|costs?) (?:less than|lower than|cheaper than|under|below) \$?(\d+(?:\.\d+)?)", text.lower())
    return float(m.group(1)) if m else None


_MORE_AT_MOST = re.compile(
    r"\b(?:at most|no more than|not more than|up to|under|less than|below|max(?:imum)?(?: of)?)\s+(?:an? )?(?:extra\s+)?\$\s?(\d+(?:\.\d+)?)"
    r"(?:\s*(?:dollars|bucks))?\s+(?:more|extra|on top|over what|in difference)\b"
    r"|\bdifference (?:is|of|comes to|stays?) (?:at most|no more than|not more than|up to|under|less than|below) \$\s?(\d+(?:\.\d+)?)"
    # "only if it costs no more than mine": nothing more than the item now
    r"|\b(?:costs?|is|are|priced)\s+(?P<same>no more than|not more than|at most|no more expensive than|not more expensive than|"
    r"less than|under|cheaper than|the same as or less than)\s+(?:mine|the one i have|what i paid|my current one|the old one|the one i got)\b")


def extra_limit(text: str) -> float | None:
    """The most a change may cost over the item now, as a condition of it ("only if that costs at most $10 more",
    "no more than $15 extra", "if the difference is under $20", "only if it costs no more than mine": 0)."""
    m = _MORE_AT_MOST.search(text.lower())
    if m is None:
        return None
    return 0.0 if m.group("same") else float(m.group(1) or m.group(2))


def yes_no(key: str, value: str, lowered: str) -> bool:
    """Whether a yes/no option ("water resistance": "no") is what the text says: "not resistant to
    water", "without water resistance", "no water resistance" for no; the option named plainly for yes."""
    if value.lower() not in ("yes", "no"):
        return False
    words = [w[:6] for w in key.lower().split() if len(w) > 3]
    near = [m for w in words for m in re.finditer(rf"\b{re.escape(w)}", lowered)]
    if not near:
        return False
    negated = any(re.search(r"\b(?:not|no|non|without|isn'?t)\b[\w -]{0,12}$", lowered[: m.start()]) for m in near)  # "non-waterproof"
    return negated == (value.lower() == "no")


def mentions_option(product, message: str, catalog: dict[str, set[str]] | None = None) -> bool:
    """Whether the message names an option value of the product; with `catalog` (option name → the
    values the shop's products have), also a value of one of its options it does not come in ("a green
    one" of a product sold in blue and red): a wish that cannot be met, not a question not answered."""
    lowered = option_text(message)
    if any(mentioned(val, lowered) for v in product.variants for val in v.options.values()):
        return True
    keys = {k for v in product.variants for k in v.options}
    return any(mentioned(val, lowered) for k in keys for val in (catalog or {}).get(k, ())
               if len(val) > 2 and val.lower() not in ("yes", "no", "none"))  # fmt: skip


def _name_pattern(item: dict) -> str:
    """A regex naming the item's product: its name, an alias (assistant/data/aliases.json), or the name's
    last word, singular or plural. A last word of two letters or fewer ("iPhone X") is left out: as an
    empty alternative it would match any text. Its edges are any character but a Latin letter or digit, not a
    word boundary: a name typed against Chinese ("退watch吧") is said too."""
    name = item["name"].lower()
    word = re.findall(r"[a-z]+", name)[-1] if re.search(r"[a-z]", name) else ""
    stems = "|".join(re.escape(w) for w in {word, word.removesuffix("s"), word.removesuffix("es")} if len(w) > 2)
    aliases = [re.escape(a) for a, targets in _aliases().items() if name in targets]
    words = re.findall(r"[a-z]+", name)
    if len(words) > 1 and words[-1] in _names()["collective"]:  # "the dumbbells" of a Dumbbell Set
        aliases.append(re.escape(words[-2]))
    parts = [re.escape(name), *(rf"{a}s?" for a in aliases), *([rf"(?:{stems})(?:e?s)?"] if stems else []), *_irregular_plurals(word)]
    return rf"(?<![a-z0-9_])(?:{'|'.join(parts)})(?![a-z0-9_])"


def _irregular_plurals(word: str) -> list[str]:
    """English plurals the "(e)s" ending misses: shelf → shelves, knife → knives, battery → batteries."""
    if len(word) < 4:
        return []
    if word.endswith("fe"):
        return [re.escape(word[:-2] + "ves")]
    if word.endswith("f"):
        return [re.escape(word[:-1] + "ves")]
    if word.endswith("y") and word[-2] not in "aeiou":
        return [re.escape(word[:-1] + "ies")]
    return []


def names_item(item: dict, lowered: str) -> bool:
    """Whether the text names the item's product (see `_name_pattern`), its name's spaces and hyphens
    optional ("book shelf", "tshirt"), or in Chinese (`_zh_named`)."""
    name = item["name"].lower()
    compact = re.sub(r"[\s-]", "", name)
    return (
        name in lowered
        or (len(compact) >= 6 and compact in re.sub(r"[\s-]", "", lowered))
        or bool(re.search(_name_pattern(item), lowered))
        or any(said == name for _, said in _zh_named(lowered))
    )


_CONTEXT = re.compile(r"\b(?:received|bought|ordered|purchased|came|arrived|got|shipped|delivered|sent) (?:together )?(?:with|along with|alongside|in the same (?:order|package|box|delivery|shipment) as) (?:the |my |a |an )?[a-z-]+(?: (?!and\b|or\b)[a-z-]+)?")
_EXCEPT = re.compile(rf"\b(?:{alternation(lexicon()['except_words'])})\b|除了")  # reader.json except_words
_ZH = {k: alternation(v) for k, v in lexicon()["except_zh"].items() if k != "_about"}
# after "除了<item>": the rest, all of it, under the action ("(以外)，其他都退", "以外全部退掉", "都换"); not "其他都很好"
_ZH_ALL_REST = re.compile(rf"\s*(?:{_ZH['closing']})?[\s，,]*(?:(?:{_ZH['rest']})的?(?:{_ZH['things']})?)?(?:{_ZH['all']})(?!不)[^，,。；;！？]{{0,6}}?(?:{_ZH['actions']})")
# "除了<item>，我还想退…", "除了<item>还要退…", "除了<item>，<item>也要退": besides the item, not except it (no rest nor all said first)
_ZH_BESIDES = re.compile(rf"除了(?:(?!{_ZH['rest']}|{_ZH['all']})[^，,。；;！？]){{0,30}}?(?:[，,](?:(?!{_ZH['rest']}|{_ZH['all']})[^，,。；;！？]){{0,30}}?)?(?:{_ZH['also']})")
# "<item>除外", "<item>不退，其他都退": the except word after what it leaves out (the clause up to it); "kept" only with the rest said next
_ZH_AFTER = re.compile(rf"([^，,。；;！？:：]{{1,30}}?)(?:(?:{_ZH['after']})|(?:{_ZH['kept']})(?=[\s，,]*(?:{_ZH['rest']}|{_ZH['all']})))")


def _zh_except_read(lowered: str, items: list[dict]) -> str:
    """The text with "<item>除外" and "<item>不退，其他都…" read as "除了<item>…", the way `_EXCEPT` finds an exception;
    only where what comes before names one of the items."""
    if not _CJK.search(lowered):
        return lowered
    return _ZH_AFTER.sub(lambda m: "除了" + m.group(1) if any(names_item(i, m.group(1)) for i in items) else m.group(0), lowered)


# "with everything else (about it) unchanged", "everything else the same": the item's other options, not all items
_ELSE_SAME = r"(?!\s+else\b(?:\s+(?:about|in|of|on) (?:it|them|that|this|the \w+))?,?\s+(?:is |stays? |should (?:stay|be|remain) |remains? |being |kept )?(?:the same|unchanged|identical|as (?:it is|before|is)))"
# "I am keeping the <item>", "I'll hold on to the <item>": an item the request leaves out
_KEPT_NAME = r"(?:the|my|both|that|this)\s+[a-z-]+(?:\s+(?!(?:but|and|so|while|though|then|instead|make|to)\b)[a-z-]+){0,3}"
_NOT_THIS_ITEM = re.compile(rf"(?:(?:^|[(,;]|\s[—–-]{{1,2}})\s*(?:{alternation(lexicon()['not_this_item']['after_break'])})"
                            rf"|\b(?:{alternation(lexicon()['not_this_item']['anywhere'])}))\s+({_KEPT_NAME})")
_KEEPING = re.compile(rf"\b(?:{alternation(lexicon()['item_stays']['before'])})\s+({_KEPT_NAME}(?:,?\s+and\s+{_KEPT_NAME})*)")
# ... nor "clashes with everything I own", "better than everything": not the order's items
# "everything", said in other words: "every single thing", "every item", "each and every thing"
_EVERY_THING = r"(?:\beverything\b|\bevery (?:single |last )?(?:thing|item|product)\b|\beach and every (?:thing|item|product)\b)"
_EVERYTHING_WORD = r"(?<!with )(?<!than )(?<!like )" + _EVERY_THING + _ELSE_SAME
# a clause ending in "… is fine", "… I keep", "…不用动": what it names stays ("the size is fine but I want the lamp in black"
# names the lamp in another clause); reader.json item_stays
_ITEM_STAYS = re.compile(rf"(?:(?<![a-z])(?:{'|'.join(lexicon()['item_stays']['after'])}))[\W_]*$")
# the clauses of a request, English and Chinese ("…; the <item> I keep", "…，相机不用动")
_CLAUSES = re.compile(r"[,;.!?()，；。！？（）、]|\b(?:but|and|while|though|so)\b|但是|但")
# words opening a correction or addition to what was just said ("the lamp. actually, everything", "the lamp, or rather …")
_CORRECTS = rf"(?:{alternation(lexicon()['corrections']['words'])})\b"
# the whole order said after naming part of it, ending its clause: a correction to all of it ("the lamp — everything",
# "the lamp… actually no, all of it", "the lamp, or rather all of them"); not "— everything else is fine"
_ALL_SAID = rf"(?:{alternation(lexicon()['all_said']['words'])})"
_ALL_ENDS = r"(?:\s+(?:in|from|of)\s+(?:the|that|this|my)\s+order)?(?=\s*(?:$|[.,;!?)]|(?:please|instead|then|now)\b))"
_TO_ALL = rf"(?:\b{_CORRECTS}|\s[—–-]{{1,2}}|\.{{3}}|…)[\s,:]*(?:no\b[\s,:]*)?{_ALL_SAID}{_ALL_ENDS}"
_ALL_ITEMS = re.compile(r"\ball (?:of )?(?:the |my )?(?:items|things)\b|\b(?:every|each) (?:single )?(?:item|thing|product)\b|" + _EVERYTHING_WORD
                        + r"|\bwhole order\b|全部商品|所有商品|" + _TO_ALL)
# "return all" alone is every item; "return all <things named>" is those things ("return all the bookshelves")
_EVERYTHING = re.compile(r"\b(?:return|send back|cancel|exchange|change|modify|upgrade|swap|switch) (?:all|everything)\b"
                         r"(?!\s+(?:the\s+|my\s+|of\s+(?:the\s+|my\s+)?)?(?!(?:items?|things?|products?|stuff|of|it|them|the|my|in|from|back|please|and|for|to|at|now)\b)[a-z])|" + _EVERYTHING_WORD +
                         r"|\ball (?:the |my )?(?:items|things|of (?:it|them))\b|whole order|全部|所有")  # fmt: skip


def _link(words: str, also: str) -> str:
    """A link of the order_described lexicon as a pattern, "also"/"too" allowed before its last word."""
    *lead, last = words.split()
    return r"\s+".join([*map(re.escape, lead), rf"(?:(?:{also})\s+)?{re.escape(last)}"])


@lru_cache(maxsize=1)
def _order_described() -> tuple[re.Pattern, re.Pattern]:
    """A clause saying which order by other things it holds: a head ("the order", "the one") and a link, then a
    list of things ("a <item>, the <item> and two <item>s") up to a word no item name has (`stops`), or that list in
    brackets after a head's clause ("my order to <city> (<items>)", the first pattern: read before the second takes
    that head); or the Chinese 有<items>的那个订单 / 和<items>一起买的 / 订单里有<items>，… / 订单（<items>）.
    Group "things" (or "paren", "zh…"): the things, to leave out."""
    lex = lexicon()["order_described"]
    also = alternation(lex["also"])
    links = "|".join(_link(w, also) for w in sorted(lex["links"], key=len, reverse=True))
    heads = alternation(lex["heads"])
    word = rf"(?!(?:{alternation(lex['stops'])})(?![\w'-]))[a-z0-9][a-z0-9'-]*"
    # "my delivery to San Francisco held …", "my other order, with …": where it went, or a comma, between head and link
    went = rf"(?:\s+(?:to|in|from)\s+{word}(?:\s+{word}){{0,2}}?)?,?"
    thing = rf"(?:(?:{alternation(lex['determiners'])}|\d+)\s+)?{word}(?:\s+{word}){{0,3}}"
    # a list closes with "and" ("a <item>, a <item> and a <item>"): "with the <item>, the <item> should be …" is a new clause
    listed = rf"{thing}(?:\s*,\s*{thing})*(?:\s*,?\s+(?:and|as\s+well\s+as|plus)\s+{thing})+"
    things = rf"{thing}(?:{listed[len(thing):]})?"
    english = (rf"\b(?:(?:{heads}|{alternation(lex['one_heads'])}){went}\s+(?:{links})(?:\s+(?:{also}))?|one\s+(?:{alternation(lex['one_links'])}))"
               rf"\s+(?P<things>{things})")
    zh = lex["zh"]
    inside = rf"(?:(?!{alternation(zh['not_inside'])})[^，,。；;！？\n])"
    zh_heads = alternation(zh["heads"])
    chinese = (rf"(?:{alternation(zh['links'])})(?P<zh>{inside}{{1,40}}?)的(?:那|这)?(?:一)?(?:个|笔)?(?:{zh_heads})"
               rf"|和(?P<zh2>{inside}{{1,40}}?)(?:{alternation(zh['together'])})"
               rf"|(?:{zh_heads})(?:{alternation(zh['held'])})(?P<zh3>(?:(?![（(）)]){inside}){{1,40}})(?=[，,。；;！？\n]|$)")
    bracketed = (rf"\b(?:{heads})\b[^.;:!?()\n]{{0,60}}?\(\s*(?P<paren>{listed})\s*\)"
                 rf"|(?:{zh_heads})[^，,。；;！？\n（(]{{0,20}}[（(](?P<zh4>[^）)]{{1,60}})[）)]")
    return re.compile(bracketed, re.IGNORECASE), re.compile(rf"{english}|{chinese}", re.IGNORECASE)


def says_unnamed_part(text: str) -> bool:
    """Whether the text says some of an order's things without naming them ("has some things in it I do not need",
    有些东西不需要; reader.json `order_described.unnamed_part`)."""
    words = lexicon()["order_described"]["unnamed_part"]
    return bool(re.search(rf"(?<![a-z0-9-])(?:{alternation(words)})(?![a-z0-9-])", text.lower()))


def without_order_described(text: str, items: list[dict] = (), part: bool = False) -> str:
    """The text without the things it names only to say which order is meant; the words around stay. A clause
    ("return the <item> from the order that also had a <item> and a <item>": the last two are no items to return),
    not what a link "i got …" takes after "in <a box>" ("in the other parcel I got a <item>": the thing received).
    With the order's `items`, also asides in brackets naming them ("the <item> (it came with a <item> and a <item>)",
    "in my order (<item>, <item>, <item>) the <item>"), not one asking an action or adding ("(and the <item> too)");
    and all of it only when what is left still names one of them, a comparison picks among them ("…(<items>).
    return the cheaper of the two"), or it (or `part`, said of the whole text) says some unnamed ("…(<items>) has
    some things I do not need": which, asked)."""
    lex = lexicon()["order_described"]
    received = re.compile(rf"\b(?:{alternation(lex['received_in'])})\s+(?:[a-z]+\s+){{0,2}}$", re.IGNORECASE)
    left = text
    for pattern in _order_described():
        out, at = [], 0
        for m in pattern.finditer(left):
            group = next(g for g in ("things", "paren", "zh", "zh2", "zh3", "zh4") if g in pattern.groupindex and m.group(g) is not None)
            if group == "things" and re.match(r"\S+\s+i\s", m.group(0), re.IGNORECASE) and received.search(left[:m.start()]):
                continue
            out += [left[at:m.start(group)], " "]
            at = m.end(group)
        left = "".join(out) + left[at:]
    if not items:
        return left
    adds = re.compile(rf"(?:{alternation(lex['adds'] + lex['also'])})\b")

    def aside(m: re.Match) -> bool:
        inside = m.group(0).strip(" ()").lower()
        return any(names_item(i, inside) for i in items) and not _ACTION_VERBS.search(inside) and not adds.match(inside)

    def says_which(rest: str) -> bool:  # "…(<items>) has some things I do not need" (`part`): a part unnamed, asked
        return any(names_item(i, _CONTEXT.sub(" ", rest.lower())) for i in items) or by_relative(rest, items) is not None \
            or part or says_unnamed_part(rest)
    left = left if says_which(left) else text
    rest = _ASIDE.sub(lambda m: " " if aside(m) else m.group(0), left)
    return rest if says_which(rest) else left


_ASIDE = re.compile(r"\s*\([^()]*\)")  # "(in a box with the <item> and the <item>)": which order it came in, said aside


def about_item(text: str, item: dict, order: dict) -> str:
    """The parts of a request about one item: each part naming it and those after it up to a part
    naming another of the order's items ("the <item> in <value>, and the <item> in <value>")."""
    # clauses: sentences (。； too), "…, and the <item> …", "…, the <other item> is fine"
    text = without_order_described(text, order["items"])  # "(it came with a <item> and a <item>)": which order, not about those
    parts = [p for p in re.split(r"(?<=[.!?;])\s+|(?<=[。！？；])|\n|,?\s+and (?=i |to |the |my |for )|,\s+(?=(?:the|my) )", text, flags=re.IGNORECASE) if p.strip()]
    others = [i for i in order["items"] if i["name"] != item["name"]]
    twins = [i for i in order["items"] if i["name"] == item["name"] and i.get("options") != item.get("options")]
    kept, on = [], False
    for part in parts:
        lowered = part.lower()
        # "Electric Kettle" said names the electric kettle, not the tea kettle whose last word it shares
        other_said = any(o["name"].lower() in lowered for o in others) and item["name"].lower() not in lowered
        if names_item(item, lowered) and not other_said:
            on = not twins or described_first(lowered, [item, *twins]) in (None, item["item_id"])
        elif other_said or any(names_item(o, lowered) for o in others):
            on = False
        if on:
            kept.append(part)
    return " ".join(kept) or text


def described_first(lowered: str, same: list[dict]) -> str | None:
    """Of items of one product (two speakers in one order), the one whose own option values the text
    names first ("the green speaker for a red one": green; what it is comes before what it should
    become); None when it names none of them."""
    shared = shared_values(same)
    at = {}
    for i in same:
        own = [str(v).lower() for v in (i.get("options") or {}).values() if str(v).lower() not in shared]
        hits = [m.start() for v in own for m in [re.search(value_re(v), lowered)] if m]
        if hits:
            at[i["item_id"]] = min(hits)
    return min(at, key=at.get) if at else None


def shared_values(same: list[dict]) -> set[str]:
    """The option values (lower-cased) every one of these items of one product has: they tell none apart."""
    return set.intersection(*({str(v).lower() for v in (i.get("options") or {}).values()} for i in same))


def about_order(lowered: str, order: dict) -> str:
    """The sentences naming one of the order's items, each with the sentence after it ("If that is
    not possible, cancel the order since I no longer need it")."""
    parts = re.split(r"(?<=[.!?;。！？])\s*", lowered)
    keep = [i for i, p in enumerate(parts) if any(names_item(item, p) for item in order["items"])]
    return " ".join(dict.fromkeys(p for i in keep for p in parts[i:i + 2]))


_THE_ITEM = re.compile(r"\b(?:its|the|that|this|my|(?:the |my |that |this )?order'?s?)\s+(?:only |one |single )?(?:item|product)\b(?!s)(?!\s*#?\d)|它的商品|订单(?:里|中)?的商品")


def says_the_item(text: str) -> bool:
    """Whether the text points at an order's item without naming it ("its item", "the order's item"): of an
    order with one item, that one (a word of another product's name, a colour say, does not name another)."""
    return bool(_THE_ITEM.search(text.lower()))


def without_fallbacks(text: str) -> str:
    """The text without what each sentence says to do if its wish cannot be met ("…; if it does not exist, leave the
    <item> as it is"): a fallback keeps nothing now."""
    return " ".join(x[: m.start()] if (m := CONDITION.search(x)) else x for x in _SENTENCE_END.split(text))


def match_items(order: dict, message: str, slots: Slots, fallback: bool = True, everything: bool = True,
                looks: bool = False) -> list[str]:
    """Which of the order's items the message names: by item id, by product name, all of them, or all
    but those after "except"; with `looks`, also by what they look like ("the black one": `by_value`), read only
    where the order is known and its items are chosen (elsewhere "the black one" may be the new option, or say
    which of several orders holding the product named)."""
    items = order["items"]
    by_id = [i for i in slots.item_ids if any(x["item_id"] == i for x in items)]
    if by_id:
        return by_id
    part = says_unnamed_part(message)  # "有些东西…": before an English reading leaves only the things named
    if _CJK.search(message) and not any(names_item(i, message.lower()) for i in items):
        message = option_text(message)  # 登山鞋 names Hiking Boots: its English reading too (when no name is said as written)
    lowered = message.lower()
    lowered = without_order_described(lowered, items, part)  # "my order with the <item> has two <others>": that item only says which order
    lowered = _CONTEXT.sub(" ", lowered)  # "the backpack I received with the vacuum cleaner": not the cleaner
    names = _names_of(items)
    remarked = except_words_read(lowered, names)  # all-but read everywhere, for the remarks' "everything but the <item> is fine"
    lowered = except_words_read(lowered, names, _taken_by_action)  # "…and nothing other than the <item>": that item, not all but it; "return all but the <item>": all except it
    lowered = _zh_except_read(lowered, items)
    cut = _except_cut(lowered)
    head, tail = except_scope(lowered, cut.start(), cut.end()) if cut else (lowered, "")
    # an item the action's own words name is no exception ("everything except the <item> works, so return the <item>"),
    # nor one named again after "除了<item>…" ("除了<item>都很好，退<item>吧")
    acted = " ".join(x[a:b] for x in _SENTENCE_END.split(head) for a, b in action_spans(x))
    if cut and cut.group(0) == "除了":
        acted += " " + head[cut.start():]
    excluded = {i["item_id"] for i in items if tail and names_item(i, tail) and not names_item(i, acted)}
    for kept in _KEEPING.finditer(without_fallbacks(head)):  # "just the lamp (I am keeping the sunglasses)": not the sunglasses
        excluded |= {i["item_id"] for i in items if names_item(i, kept.group(1))}
    for other in _NOT_THIS_ITEM.finditer(head):  # "the <item> (not the <other item>)": not that other one
        excluded |= {i["item_id"] for i in _most_specific([i for i in items if names_item(i, other.group(1))], other.group(1))}
    for clause in _CLAUSES.split(without_fallbacks(head if cut else remarked)):  # "…; the <item> is fine", "the <item> I keep": it stays
        # an action word before what says the item stays acts on it ("return the <item> that is fine"); "… doesn't need to change" does not
        if (fine_at := _ITEM_STAYS.search(clause)) and not _ACTION_VERBS.search(clause[:fine_at.start()]) and not _BE_INSTEAD.search(clause) \
                and not _EXCEPT.search(clause):
            fine = [i for i in items if names_item(i, clause) and not _names_option_of(i, clause)]
            excluded |= {i for i in disambiguate(fine, clause) if i != AMBIGUOUS}
    named = _most_specific([i for i in items if names_item(i, head) and i["item_id"] not in excluded], head)
    # "return the cheaper of the two", "the bigger one": the item a comparison picks among the order's items (among
    # those named, only when the action's own words compare: "return the lamp and the clock, the dearer one is broken")
    # ("I got a <item> and a <item> in it; return the cheaper of the two": among the two said, the list that named the order)
    listed = [i for i in items if names_item(i, message.lower()) and i["item_id"] not in excluded]
    among = named if len(named) > 1 else [] if named else [i for i in items if i["item_id"] not in excluded]
    if among and (picked := by_relative(acted if named else head, among, [] if named else listed)) is not None:
        return picked or ([AMBIGUOUS] if named else [])  # named ones no comparison tells apart: which, asked
    if everything and (_in_action(_ALL_ITEMS, head, [i for i in items if i["item_id"] not in excluded])  # "all my items", "everything": each item of the order
                       or (excluded and cut and cut.group(0) == "除了" and _ZH_ALL_REST.match(head, cut.start()))):
        return [i["item_id"] for i in items if i["item_id"] not in excluded]
    if named:
        return disambiguate(named, lowered)
    # "return the black one": by what it looks like (`looks`: where the order is known and its items are chosen)
    if looks and (pointed := by_value(head, [i for i in items if i["item_id"] not in excluded])) is not None:
        return pointed or [AMBIGUOUS]
    if everything and (_in_action(_EVERYTHING, head) or _ALL_ORDERS.search(head)):  # "return all my orders": each with all its items
        return [i["item_id"] for i in items if i["item_id"] not in excluded]
    return [items[0]["item_id"]] if len(items) == 1 and fallback and not excluded else []


def kept_items(items: list[dict], message: str) -> set[str]:
    """Items a reply says stay as they are ("no, not the <item>: I want to keep it", "leave the <item>", "the <item> is
    fine"), by the same words `match_items` sets items apart with; a clause naming one of the item's options or values
    keeps that option ("keep the <item>'s colour", "keep the <item> white"), not the item."""
    lowered = without_fallbacks(message.lower())
    said = [m.group(1) for pattern in (_KEEPING, _NOT_THIS_ITEM) for m in pattern.finditer(lowered)]
    said += [c for c in _CLAUSES.split(lowered) if (at := _ITEM_STAYS.search(c)) and not _ACTION_VERBS.search(c[:at.start()])
             and not _BE_INSTEAD.search(c) and not _EXCEPT.search(c)]
    return {i["item_id"] for clause in said for i in items if names_item(i, clause) and not _names_option_of(i, clause)
            and not any(mentioned(str(v).lower(), clause) for v in (i.get("options") or {}).values())}


def _in_action(pattern: re.Pattern, lowered: str, items: list[dict] = (), each: bool = False) -> bool:
    """Whether the text says the pattern ("all my items", "everything"); "every/each item" only in a sentence
    naming an order action, or in a text naming none ("every single one" answering "which items?"): "every
    item in that order came late" beside "return the <item>" is a remark, not what the action is about.
    When the action's own words name one of `items`, the pattern counts only inside those words: "each item
    came broken, so return the <item>" is a reason beside the action, not the items it takes; nor when one of
    `items` is named between a remark's pattern and the action ("everything arrived, but the <item> is broken, so
    return it": "it" is the item). `each`: "each/every" counts in any sentence too (of orders: "every order" is no
    remark about an order's items)."""
    sentences: list[str] = []
    for x in (x for x in _SENTENCE_END.split(lowered) if x.strip()):
        if sentences and _OPENS_CORRECTION.match(x):
            sentences[-1] += " " + x
        else:
            sentences.append(x)
    acting = [x for x in sentences if _ACTION_VERBS.search(x)] or sentences
    spans = [action_spans(x) for x in sentences]
    named = any(names_item(i, _ALONG.sub(" ", x[a:b])) for x, s in zip(sentences, spans) for a, b in s for i in items)

    def before_action(k: int, at: int) -> str:
        """What sentence k says from `at` up to the action after it, the next sentences' too when the action is
        in one of them ("everything but the <item> works. return it")."""
        if starts := [a for a, _ in spans[k] if a > at]:
            return sentences[k][at:max(starts)]
        later = next((j for j in range(k + 1, len(sentences)) if spans[j]), None)
        if later is None:
            return ""
        return " ".join([sentences[k][at:], *sentences[k + 1:later], sentences[later][:spans[later][0][0]]])

    def the_actions(k: int, m: re.Match) -> bool:
        if any(a <= m.start() < b for a, b in spans[k]):
            return True
        return not named and not any(names_item(i, before_action(k, m.end())) for i in items)

    return any((each or x in acting or not re.match(r"(?:every|each)\b", m.group(0))) and the_actions(k, m)
               for k, x in enumerate(sentences) for m in pattern.finditer(x))


def _names_option_of(item: dict, clause: str) -> bool:
    """Whether a clause names one of the item's options by its name ("the <item>'s size stays", "<item>的颜色不变"): an
    option kept, not the item. A word naming an option that is also the item's own value ("the fabric <item> is fine"
    of a fabric one) describes the item."""
    said = option_text(clause)
    own = {str(v).lower() for v in (item.get("options") or {}).values()}
    words = {w for key in item.get("options") or {} for w in [*key_words(key), *next((g for g in _attribute_groups() if key.lower() in g), [])]} - own
    return any(re.search(rf"(?<![a-z]){re.escape(w)}(?:e?s)?(?![a-z])", said) for w in words)


def _taken_by_action(text: str, at: int) -> bool:
    """Whether the words at `at` are what an action takes: inside its own words (`action_spans`), or right after
    them past a colon or dash ("return these: everything but the <item>"), or in a text naming no action
    ("everything but the <item>" answering "which items?"). "I liked everything but the <item>, so return it"
    and "everything but the <item> works. return it" say it in a remark beside the action."""
    ends = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
    spans = [(s + a, s + b) for s, e in zip(ends, ends[1:]) if e > s for a, b in action_spans(text[s:e])]
    return not spans or any(a <= at < b or (b <= at and re.fullmatch(r"[\s:—–-]*", text[b:at])) for a, b in spans)


def _except_cut(lowered: str) -> re.Match | None:
    """The text's except word; not "除了" saying besides ("除了<item>，我还想退<item>": the first is taken too)."""
    cut = _EXCEPT.search(lowered)
    return None if cut and _ZH_BESIDES.match(lowered, cut.start()) else cut


def _names_of(items) -> tuple[str, ...]:
    """The items' names, lower case: a bare "everything but <name>" leaves one out."""
    return tuple(sorted({i["name"].lower() for i in items}))


# where a reason or remark beside the action begins ("…, so", "because …", "since …", "as …", " — ", "… ", "but …")
# (a dash, ellipsis, colon or bracket opening a correction is none: "the lamp — actually, everything", "the lamp — everything")
_REMARK = re.compile(rf"(?:\s[—–-]{{1,2}}\s|\s*(?:\.{{3}}|…)\s*|[:(])(?!\s*(?:{_CORRECTS}|{_ALL_SAID}{_ALL_ENDS}))"
                     r"|\b(?:because|since|'?cause|though|although|but(?! also| too| as well)|while|given that|seeing that)\b"
                     r"|(?:^|,)\s*(?:so|as(?!\s+well\s+as))\b")
# a sentence that opens so corrects or extends the one before ("cancel the lamp. actually, everything.")
_OPENS_CORRECTION = re.compile(rf"\s*{_CORRECTS}")
# "…, including the <item>", "plus the <item>": an item added to the whole, not instead of it
_ALONG = re.compile(r"\b(?:including|incl\.?|plus|along with|together with|as well as)\b.*")


def action_spans(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of the words of each clause of the sentence from its verb of action on ("…, so I'd like to
    <return the lamp>"): what the action takes; a clause with no such verb is a remark."""
    cuts = [0, *(m.start() for m in _REMARK.finditer(sentence)), len(sentence)]
    return [(a + m.start(), b) for a, b in zip(cuts, cuts[1:]) if (m := _ACTION_VERBS.search(sentence[a:b]))]


def _most_specific(named: list[dict], lowered: str) -> list[dict]:
    """Items named only through a word another named item's full name holds ("camera" of "action
    camera" said, next to a digital camera) are not named: the full name said is the item meant."""
    full = [i["name"].lower() for i in named if i["name"].lower() in lowered]
    return [i for i in named if i["name"].lower() in lowered
            or not any(re.findall(r"[a-z]+", i["name"].lower())[-1:] == re.findall(r"[a-z]+", f)[-1:] for f in full)]


def shipped(name: str, lowered: str) -> bool:
    """Whether the text says where the item was sent ("a <item> sent to this new address"), not
    merely names it ("I also want to exchange my <item>")."""
    name = re.escape(name.lower())
    return bool(re.search(rf"{name}s?\s+(?:that\s+|which\s+)?(?:was\s+|were\s+|is\s+|got\s+)?(?:sent|shipped|delivered|going|went)\b"
                          rf"|\b(?:sent|shipped|delivered)\s+(?:the |my |a |an )?{name}", lowered))


def address_named(text: str, orders: list[dict]) -> dict | None:
    """The one address among the orders' that the text names best (at least two clues)."""
    for short, (city, state) in _names()["places"].items():
        if re.search(rf"\b{re.escape(short)}\b", text, re.IGNORECASE):
            text += f" {city} {state}"
    lowered = text.lower()
    scores: dict[tuple, int] = {}
    for order in orders:
        address = order.get("address") or {}
        if not address.get("address1"):
            continue
        street = re.sub(r"^\d+\s*", "", address["address1"]).lower()
        score = sum((
            bool(address.get("city")) and mentioned(address["city"], lowered),
            bool(address.get("state")) and bool(re.search(rf"\b{re.escape(address['state'])}\b", text)),  # case-sensitive: "IN", "OR"
            bool(street) and street in lowered,
            any(shipped(i["name"], lowered) for i in order["items"]),
        ))  # fmt: skip
        key = tuple(sorted(address.items()))
        scores[key] = max(scores.get(key, 0), score)
    best = max(scores.values(), default=0)
    winners = [k for k, v in scores.items() if v == best]
    if best == 1 and len(winners) == 1:  # one clue is enough if it is the city ("… lives in <city>")
        return dict(winners[0]) if mentioned(dict(winners[0]).get("city", ""), lowered) else None
    return dict(winners[0]) if best >= 2 and len(winners) == 1 else None


# A condition is a negated possibility or availability of the request ("if that is not possible", "if you
# can't", "if it is out of stock", "如果不行", "没货的话") or a fallback clause ("otherwise", "if not"); a
# polite opener with a "no" ("if there's no rush", "if there are no issues", "如果没有问题") is neither.
_ABLE = r"(?:possible|available|doable|allowed|an option|in stock|working|work|go through|be done)"
CONDITION = re.compile(r"\bif\b(?: (?!and\b|or\b|then\b)[\w'$-]+){0,10}? (?:"
                       rf"(?:not|isn'?t|aren'?t|wasn'?t|no longer)(?: \w+){{0,2}}? {_ABLE}\b"
                       r"|(?:cannot|can'?t|can not|couldn'?t|unable|unavailable|impossible|out of stock|sold out|missing)\b"
                       r"|(?:doesn'?t|does not|don'?t|do not|won'?t|will not) (?:\w+ )?(?:work|have|exist|go through)\b"
                       r"|(?:doesn'?t|does not|don'?t|do not|isn'?t|is not|aren'?t|are not)(?=\s*[,;:]|\s+then\b)"  # "if it does not, …"
                       r"|no (?!rush|hurry|issue|problem|trouble|objection|need|pressure|worries|difference)\w+)"  # "no such <item>"; not "no rush"
                       r"|\bif not\b|\botherwise\b|\bif there (?:is|are) any (?:issues?|problems?)|not possible"
                       # "if it is too late to cancel", "if it has already shipped": the refusal said in the shop's words
                       rf"|\bif\b(?: [\w'$-]+){{0,8}}? (?:{alternation(w for w in lexicon()['refused_words'] if w.isascii())})\b")


# Chinese: "如果…不行/没有…(就)…", "否则…", "不行的话…"; not "如果没有问题" (an opener, not a condition)
_CONDITION_ZH = re.compile(r"(?:如果|要是|假如)[^，,。；;！？]{0,30}?(?:不行|不了|不可以|不能|没货|没有(?!问题|什么问题|意见|异议|关系|急)|无法|不可能|做不到|不可用|缺货|"
                           + alternation(w for w in lexicon()["refused_words"] if not w.isascii()) + ")"
                           r"|否则|不然|不行的话|没货的话|没有的话")
_CLAUSE_END = re.compile(r"[,，]|\bthen\b|那就|就")
_SENTENCE_END = re.compile(r"(?<=[!?;。！？；])\s*|(?<!\.\.)(?<=\.)(?!\.)\s*|\n")  # an ellipsis is a pause in the sentence
# "send back", "send my current <item> back" (not money sent back: a refund); "trade in the <item> for …"
# the thing sent is an item or a pronoun for one, never a person ("send me an email when it's back in stock")
SEND_BACK = r"\bsend(?:ing)? (?:back\b|(?:it|them|the|my|your|our|this|that|these|those|both|all|everything|one)\b(?:(?!\b(?:me|us|when|once|if|money|refunds?|funds?|payments?|amount)\b)[^.,;?!]){0,30}?\bback\b)"
TRADE = r"\btrad(?:e|ing)[- ]in (?:the|my|your|our|it|them|this|that|these|those|both|all|one)\b"  # the verb, not "a trade-in program"
# "have the order sent to …" is an address; "have the refund sent to my card" is money, no address
_MONEY = r"(?:refunds?|money|payments?|funds?|amount|difference|balance|credit|cash)"
_FALLBACK_VERBS = (("address", rf"\baddress\b|地址|\b(?!{_MONEY}\b)\w+\s+(?:(?:be|get|being)\s+)?(?:sent|shipped|delivered|redirected|rerouted) (?:to|there)\b"), ("return", rf"\breturn|{SEND_BACK}|退货|退回|退掉"),
                   ("cancel", r"\bcancel|取消"), ("change", rf"\b(?:exchange|swap|modify|change|switch|upgrade)|{TRADE}|更换|换|修改|改成|改为"))  # fmt: skip
_NOTHING = re.compile(r"\b(?:do(?:n'?t| not) do anything|do nothing|nothing at all|keep (?:the|my) order(?! and)|leave it)\b"
                      r"|什么都不(?:做|要|用)|不用了|算了|保留订单")
_NEGATED = re.compile(r"\b(?:no|not|never|don'?t|do not|won'?t)\s+(?:\w+\s+){0,2}$|不要$|别$|不$")
_ONLY = re.compile(r"\bonly (?:exchange|change|modify|swap|return|cancel|do|want|keep) (?:the |my )?([^.,;]+)|只(?:换|退|取消|要)([^，,。；;]+)")


def read_condition(text: str) -> Condition | None:
    """The condition a request attaches to its task, read once when said: what to do instead if the first
    choice cannot be done ("if that colour is sold out, cancel everything", "if refund to <method> is not
    possible, return everything and refund to a gift card", "otherwise return it", "如果没有就退货"), and a
    price the first choice holds below ("if it is less than $<n>"). None when the text states neither."""
    lowered = text.lower()
    price, extra = price_limit(lowered), extra_limit(lowered)
    read: list[Condition] = []
    for m in [*CONDITION.finditer(lowered), *_CONDITION_ZH.finditer(lowered)]:
        # the clause of the condition ("if refund to <method> is not possible") ends at its comma or "then";
        # the fallback runs to the end of its sentence
        end = _CLAUSE_END.search(lowered, m.end())
        stop = _SENTENCE_END.search(lowered, m.end())
        clause_end = end.start() if end and (stop is None or end.start() <= stop.start()) else m.end()
        fallback = lowered[clause_end:stop.start() if stop and stop.start() > clause_end else len(lowered)]
        if not fallback.strip(" ,，"):  # "If not possible." then the fallback in the next sentence
            nxt = _SENTENCE_END.search(lowered, clause_end + 1)
            fallback = lowered[clause_end:nxt.start() if nxt and nxt.start() > clause_end else len(lowered)]
        found = []
        for action, pattern in _FALLBACK_VERBS:
            for v in re.finditer(pattern, fallback):
                if not _NEGATED.search(fallback[: v.start()]):
                    found.append((v.start(), action))
        then = list(dict.fromkeys(a for _, a in sorted(found)))
        if "address" in then:  # "change the address to …": the address change, not an item change
            then = [a for a in then if a != "change"]
        if _NOTHING.search(fallback) or (not then and says(fallback, "give_up_words")) or (not then and re.search(r"\b(?:no|not|never)\b.{0,20}\b(?:cancel|exchange|return|change)", fallback)):
            then = ["nothing"]
        only = _ONLY.search(fallback)
        kinds = [k for k, pattern in PAYMENT_KINDS if re.search(pattern, fallback)]
        if then or only or kinds:
            read.append(Condition(then=then, only=(only.group(1) or only.group(2)).strip() if only else None,
                             whole=bool(_WHOLE_ORDER.search(fallback) or _EVERYTHING.search(fallback)),
                             payment_kinds=kinds, price_below=price, extra_at_most=extra,
                             if_kinds=[k for k, pattern in PAYMENT_KINDS if re.search(pattern, lowered[_clause_start(lowered, m.start()):clause_end])]))  # fmt: skip
    if not read:
        return Condition(price_below=price, extra_at_most=extra) if price is not None or extra is not None else None
    # several conditions ("if that won't work, return it. Otherwise, cancel it"): one fallback after another
    first = read[0]
    return first.model_copy(update={
        "then": list(dict.fromkeys(a for c in read for a in c.then)),
        "only": next((c.only for c in read if c.only), None), "whole": any(c.whole for c in read),
        "payment_kinds": list(dict.fromkeys(k for c in read for k in c.payment_kinds)),
        "if_kinds": list(dict.fromkeys(k for c in read for k in c.if_kinds))})


_OPENS_IF = re.compile(r"(?:and |but |so |ok,? |okay,? )?(?:if|only if|in case)\b|如果|要是|假如")


def only_conditional(message: str) -> bool:
    """Whether every sentence of the message is a conditional ("if it can only go back to the card, accept that",
    "如果只能退回原卡就算了"): what the shopper would do, said to a proposal; no answer to it of its own."""
    sentences = _sentences_said(message)
    return bool(sentences) and all(_OPENS_IF.match(x) for x in sentences)


def action_verb_named(text: str) -> bool:
    """Whether the text names an order action's verb (return, exchange or change, cancel), in English or Chinese."""
    lowered = text.lower()
    return bool(_ACTION_VERBS.search(lowered) or _ZH_ACTION_VERBS.search(lowered))


def points_elsewhere(text: str) -> bool:
    """Whether the text points away from what was just talked about ("the other items", "the rest", "其他的")."""
    return says(text.lower(), "other_words")


def only_gives_up(message: str) -> bool:
    """Whether the message only says what the shopper does if refused, and that is nothing more ("if it is too
    late to cancel, I drop the subject", "如果来不及就算了"): no request of its own to start. "If you can still
    cancel it, do it; if not, forget it" asks for the cancellation first (`asks_if_possible`)."""
    condition = read_condition(message)
    return only_conditional(message) and condition is not None and condition.then == ["nothing"] and not asks_if_possible(message)


_IF_CLAUSE = re.compile(r"\b(?:if|in case)\b[^,，;；.。!！?？]*|(?:如果|要是|假如)[^,，;；.。!！?？]*")


def asks_if_possible(message: str) -> bool:
    """Whether a condition of the message names an order action as what may still be possible ("if you can still
    cancel it", "if it can still be returned", "如果还能取消"): the action is asked for, should it be possible; a
    condition of refusal ("if it is too late to cancel", "if it can't be cancelled") asks for nothing."""
    lowered = message.lower()
    return any(action_verb_named(m.group(0)) and not CONDITION.search(m.group(0)) and not _CONDITION_ZH.search(m.group(0))
               for m in _IF_CLAUSE.finditer(lowered))


def _clause_start(lowered: str, at: int) -> int:
    """Where the condition around `at` begins: its "if" in the same sentence ("if refund to <method> is not possible")."""
    begin = max((x.end() for x in _SENTENCE_END.finditer(lowered, 0, at)), default=0)
    ifs = [x.start() for x in re.finditer(r"\bif\b|如果|要是|假如", lowered[begin:at])]
    return begin + ifs[-1] if ifs else at


def fallback_route(condition: Condition | None, route: str, status: str) -> str | None:
    """The route of the condition's fallback for an order of this status: its first action, other than
    `route`, that the status allows (an item change is an exchange once delivered)."""
    if condition is None:
        return None
    allowed = routes_for(status)
    family = {"exchange", "modify_order"}
    return next((r for a in condition.then if (r := action_route(a, status)) in allowed
                 and r != route and not (r in family and route in family)), None)


def action_route(action: str, status: str) -> str | None:
    """The route of one named action for an order of this status (a change of a delivered order is an
    exchange, of a pending one an item change); None for one that is no order action ("nothing")."""
    return {"return": "return", "cancel": "cancel_order", "address": "update_address",
            "change": "exchange" if status == "delivered" else "modify_order"}.get(action)  # fmt: skip


def actions_named(lowered: str, status: str) -> list[str]:
    """The order actions a text names, in order, as routes for an order of this status."""
    routes = ACTION_ROUTES[status == "delivered"]
    return [routes[next(g for g in (1, 2, 3) if m.group(g))] for m in _ACTION_VERBS.finditer(lowered)]


AMEND = re.compile(r"\b(?:only|just|also|too|as well|add|instead|rather|change my mind|changed my mind|prefer|actually)\b"
                    r"|paypal|gift ?card|credit card|\bcard\b|\bgc\b"
                    r"|\brefund\w* (?:it |them |that |the money )?(?:to|on|into)\b|\bmoney back (?:to|on|into)\b"  # where a refund goes
                    r"|\b(?:to|on|into) (?:the |my )?(?:\w+ )?(?:\w+'s )?payment method\b")
AMBIGUOUS = "?"  # in a match: the message names a product the order holds several variants of


def disambiguate(named: list[dict], lowered: str) -> list[str]:
    """Of several items of the same product, those whose options the message names; all of them for
    "both"/"all"/a plural; else the match is ambiguous (the caller asks which)."""
    chosen: list[str] = []
    for value in {str(v).lower() for i in named for v in i["options"].values()}:
        if m := re.fullmatch(r"(\d+(?:\.\d+)?)-([a-z]+)", value):  # "17 inch", "17 inches" name the 17-inch one
            lowered = re.sub(rf"(?<![\d.]){re.escape(m.group(1))}\s+{m.group(2)}(?:e?s)?\b", value, lowered)
    for name in dict.fromkeys(i["name"] for i in named):
        same = [i for i in named if i["name"] == name]
        if len(same) > 1:
            shared = shared_values(same)
            described = [i for i in same if any(mentioned(str(v), lowered) for v in i["options"].values() if str(v).lower() not in shared)]
            word = re.escape(name.lower().split()[-1])
            # "<value> <product>", or one more of a list: "… and the <value> one"
            before = [i for i in same if any(re.search(rf"{value_re(str(v).lower())}\s+(?:[a-z-]+\s+)?{word}"
                                                       rf"|\band (?:also )?(?:the|my) {re.escape(str(v).lower())}\s+(?:one|{word})\b", lowered)
                                             for v in i["options"].values() if str(v).lower() not in shared)]  # fmt: skip
            described = before or described  # "<value> <product> to the <value> version": the one described before the name
            if len(described) > 1:  # "<product> (<its values>) to (<other's values>)": the other is only what it becomes
                described = [i for i in described if not _only_wished(i, [str(v) for v in i["options"].values() if str(v).lower() not in shared],
                                                                       lowered, name.lower())] or described  # fmt: skip
            if not described:  # a yes/no option said in words ("the one that is not <option>"), or "the pricier one"
                described = [i for i in same if any(yes_no(k, str(v), lowered) for k, v in i["options"].items() if str(v).lower() not in shared)]
            if not described and (m := re.search(r"more expensive|pricier|less expensive|cheaper", lowered)):
                pick = max if m.group(0) in ("more expensive", "pricier") else min
                described = [pick(same, key=lambda i: i.get("price", 0))]
            identical = len({tuple(sorted(map(str, i["options"].items()))) for i in same}) == 1
            # "two identical <item>s … swap just one of them": one of them, though the message also counts two
            plural = not (identical and says_one_of(lowered)) and (
                speaks_of_several(lowered) or re.search(rf"\banother\b|\bthe other one\b|{word}e?s\b", lowered))
            # identical items: "which one?" has no answer; one of them, or all for a plural
            same = described or (same if plural else same[:1] if identical else [])
            if not same:
                return [AMBIGUOUS]
        chosen += [i["item_id"] for i in same]
    return chosen


def says_one_of(lowered: str) -> bool:
    """Whether the text takes one of several things ("just one of them", "only one of the two", 其中一件), not each;
    not "just one thing: …" nor "one more question"."""
    words = lexicon()["one_of_identical"]
    return bool(re.search(rf"(?<![\w-])(?:{alternation(words['en'])})(?![\w-])(?!\s+(?:more|thing|things|question|request|issue|last)\b)"
                          rf"|{alternation(words['zh'])}", lowered))


_BECOMES = re.compile(r"\b(?:to|into|for|instead)\b|→")


def _only_wished(item: dict, own: list[str], lowered: str, name: str) -> bool:
    """Whether each mention of the item's own values comes after a word of change ("to", "for") since
    the product was last named, with no action verb after it: it is said as the new option, not as
    the item meant ("the coffee maker in steel to a black one": black is a wish, not the black maker)."""
    word = re.escape(name.split()[-1])
    spots = [m.start() for v in own for m in re.finditer(value_re(v.lower()), lowered)]
    if not spots:
        return False
    for at in spots:
        names = [m.end() for m in re.finditer(rf"\b{word}", lowered[:at])]
        if not names:
            return False
        segment = lowered[names[-1]:at]
        for key in item.get("options") or {}:  # an option's name ("switch type") is no verb
            segment = segment.replace(str(key).lower(), " ")
        change = list(_BECOMES.finditer(segment))
        if not change or _ACTION_VERBS.search(segment[change[-1].end():]):
            return False
    return True


# Verbs that name an order action ("refund method", "refund to <card>", "<card> for the payment or refund" are
# about the money, not a return); a message asking for two actions ("return the bottle and exchange
# the lamp") has each action's items in the clause its verb opens.
_ACTION_VERBS = re.compile(rf"(?:(\breturn|{SEND_BACK}|(?<!payment or )(?<!payment and )(?<!payment/)(?<!for the )(?<!for any )\brefund(?!\s+(?:method|to|via|on|into|payment|card|option|account)\b))|(\bexchange(?!\s+rates?\b)|\bswap|\bmodify|\badjust(?!abl)|\bchange(?!s\b)(?![a-z]* (?:my |your |our |his |her |of )?(?:mind|heart)\b)|\bswitch|\bupgrade|{TRADE})|(\bcancel))")
_ROUTE_GROUP = {"return": 1, "exchange": 2, "modify_order": 2, "cancel_order": 3}
_HEDGE = re.compile(r"\b(?:do not|don'?t) (?:process|do)\b|not sure yet|check (?:whether|if)|just (?:ask|check)")


def action_text(text: str, route: str) -> str:
    """The part of a message about one action (see _ACTION_VERBS); sentences that only ask whether
    something could be done ("check whether I can return…, don't process anything") are left out."""
    sentences = [x for x in re.split(r"(?<=[.!?])\s+|\n", text) if x.strip()]
    kept = " ".join(x for x in sentences if not _HEDGE.search(x.lower())) or text
    lowered = kept.lower()
    marks: list[tuple[int, int, set[int]]] = []
    for m in _ACTION_VERBS.finditer(lowered):
        group, end = next(g for g in (1, 2, 3) if m.group(g)), m.end() + len(re.match(r"\w*", lowered[m.end() :]).group(0))
        if marks and re.fullmatch(r"\s*(?:,|/|or|and|and/or)\s*", lowered[marks[-1][1] : m.start()]):
            # "cancel or return all my orders", "to get refunded or exchanged": verbs joined share their object
            marks[-1] = (marks[-1][0], end, marks[-1][2] | {group})
        else:
            marks.append((m.start(), end, {group}))
    if len({frozenset(g) for *_, g in marks}) < 2:
        return kept
    mine = _ROUTE_GROUP.get(route)
    # each action's words: from where they begin (its verb, or what a word after it points back at) to where the next begin
    starts = [_object_before(lowered, start, end, marks[n - 1][1] if n else 0) for n, (start, end, _) in enumerate(marks)]
    parts = [kept[starts[n]:(starts[n + 1] if n + 1 < len(marks) else len(kept))] for n, (*_, groups) in enumerate(marks) if mine in groups]
    return " ".join(parts) or kept


# A word pointing back at what was said before ("swap it", "return those as well"), not a determiner ("swap both the <item>s")
_POINTS_BACK = re.compile(r"\b(?:it|them)\b|\b(?:that|this|those|these|both|one|ones)\b(?=\s*(?:[,.;:!?)]|$|(?:for|to|back|too|also|as|"
                          r"in|into|with|instead|out|off|please|now|and|or|but|so|because|since|if|one|ones)\b))")


def _object_before(lowered: str, start: int, end: int, after: int) -> int:
    """Where an action's words begin: at its verb, or, when the verb takes a word pointing back ("…the <item> is too
    dim for the desk; swap it for …", "…they came scratched: return them"), at the start of its sentence or numbered part (of the
    sentence before when its own words before the verb name nothing: "The <item> is too big. Please swap it …"), not
    before `after` (the end of the verb before it): what that word points at is said there."""
    rest = lowered[end:]
    if not (_POINTS_BACK.search(lowered, start, end) or _POINTS_BACK.match(rest.lstrip())):
        return start
    opened = [0, *(m.end() for m in re.finditer(r"[.!?\n]|\(\d{1,2}\)", lowered[:start]))]
    if len(opened) > 1 and not re.search(r"\b(?:the|my|a|an|our|this|that|these|those|both)\s+\w", lowered[opened[-1]:start]):
        return max(opened[-2], after)
    return max(opened[-1], after)


# Option words from the data file (assistant/data/option_words.json), not from code.
OPTION_WORDS = json.loads((DATA / "option_words.json").read_text(encoding="utf-8"))
COMPARATIVES = [(c["pattern"], c["direction"], tuple(c["options"])) for c in OPTION_WORDS["comparatives"]]
_CHEAPEST = re.compile(r"cheapest|least expensive|lowest price|最便宜")
_PRICIEST = re.compile(r"most expensive|priciest|highest price|最贵")


def price_superlative(lowered: str) -> int | None:
    """-1 for "the cheapest" ("least expensive", "最便宜"), 1 for "the most expensive", else None."""
    return -1 if _CHEAPEST.search(lowered) else 1 if _PRICIEST.search(lowered) else None


def _words_pattern(words: list[str]) -> re.Pattern:
    """Regex alternatives, longest first ("in stock" before "in"); English ones as whole words, Chinese ones anywhere."""
    return re.compile("|".join(w if re.search(r"[\u4e00-\u9fff]", w) else rf"(?<![a-z0-9']){w}(?![a-z0-9'])"
                               for w in sorted(words, key=len, reverse=True)))


_ASKING_FOR = _words_pattern(OPTION_WORDS["asking_for"])
_CHOICES = _words_pattern(OPTION_WORDS["choices"])
_WORDED = re.compile(r"[a-z0-9\u4e00-\u9fff]")


def only_asks_for(rest: str) -> bool:
    """Whether what is left of a question once the values it names are taken out only asks whether they are there
    or acceptable ("is  ok?", "do you have it in  ?", "有  吗？"): then the question asks for the value itself;
    any other word ("does the  one fade?") asks about it."""
    return not _WORDED.search(_ASKING_FOR.sub(" ", rest))


_OPINION = _words_pattern(OPTION_WORDS["opinion"])
_OPINION_CHOICE = _words_pattern(OPTION_WORDS["opinion_choice"])
_CRITERIA = _words_pattern(OPTION_WORDS["criteria"])


_SET_AGAINST = _words_pattern(OPTION_WORDS["set_against"])


def sets_against(question: str) -> bool:
    """Whether a question sets choices against each other ("is the 500-piece one easier than the 1000-piece one?",
    "which is lighter, the 1 L or the 1.5 L?", "…比…更轻吗"): with the values it names, what is asked is how they differ."""
    return bool(_SET_AGAINST.search(question.lower()))


def asks_opinion(message: str) -> bool:
    """Whether a question asks the assistant's taste about a choice ("would white suit me?", "do you think the black
    one looks better?", "白色的适合我吗？"): a question (a question mark, or `only_asks`), with a word of taste; a
    statement of the shopper's own ("I think the white one looks better") is no question."""
    lowered = message.lower()
    # "which would you pick?" asks taste; "which would you pick, the cheapest?" gives a ground the catalog answers
    taste = _OPINION.search(lowered) or (_OPINION_CHOICE.search(lowered) and not _CRITERIA.search(lowered))
    return bool(taste) and (bool(re.search(r"[?？]|[吗呢]\W*$", lowered)) or only_asks(message))


def without_choices(text: str) -> str:
    """A difference question without its words naming the choices themselves ("between", "them", "options", 它们):
    what is left says whether it asks how the choices differ ("what's the difference between them?") or about
    something else ("the difference in sound quality", "do I pay the difference?")."""
    return _CHOICES.sub(" ", text)


SUPERLATIVE_WORDS = {w: (x["option"], x["direction"]) for w, x in OPTION_WORDS["superlatives"].items()}
ORDINAL_WORDS: dict[str, float] = OPTION_WORDS["ranks"]


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _zh_reading():
    """The search lexicon's Chinese → English terms and units (retrieval/search/data/lexicon.json)."""
    from retrieval.search.query import default_lexicon

    lex = default_lexicon()
    terms = re.compile("|".join(re.escape(k) for k in sorted(lex.zh_en, key=len, reverse=True)))
    units = re.compile(r"(\d+(?:\.\d+)?)\s*(" + "|".join(re.escape(u) for u in sorted(lex.zh_units, key=len, reverse=True)) + ")")
    return lex, terms, units


def option_text(message: str) -> str:
    """The message lower-cased, and for Chinese also put into the catalog's English words (红色 → red,
    8码 → 8 size, 不要 → not), after the Chinese as written (its own comparatives, 更大, stay readable).
    Remarks on how an item fits ("a bit large", "runs small", 偏大) are blanked: no option value is said by them."""
    from retrieval.search.query import without_fit_remarks

    message = without_fit_remarks(message)
    lowered = message.lower()
    if not _CJK.search(message):
        return lowered
    lex, terms, units = _zh_reading()
    message = message.replace("是不是", "是否")  # a question ("is there …?"), not 不是 ("not")
    english = units.sub(lambda m: f" {m.group(1)} {lex.zh_units[m.group(2)]} ", message)
    english = terms.sub(lambda m: f" {lex.zh_en[m.group(0)]} ", english)
    return f"{lowered}\n{_CJK.sub(' ', english).lower()}"


def read_in_english(message: str) -> str:
    """The message as the English readings take it: a Chinese one also in the catalog's words, its option values and
    units (`option_text`: 黑色 → black) and each product word as the catalog names it may mean (咖啡机 → coffee maker,
    espresso machine); an English one as it is."""
    if not _CJK.search(message):
        return message
    return f"{option_text(message)}\n{' '.join(name for _, name in _zh_named(message.lower()))}"


def says_fit(text: str) -> bool:
    """Whether the text remarks on how the item fits ("a bit large", "runs small"): which other size is
    the shopper's to choose, never the reader's guess."""
    from retrieval.search.query import fit_remarks

    return any(d for *_, d in fit_remarks(text))


def measured(key: str, value: str, lowered: str) -> bool:
    """Whether the text names the value as a quantity in other units or spelling ("13 inch" for
    13-inch, "1.5 liters" for 1.5L, "6 feet" for 6 ft, "1000 pieces" for pieces 1000); a count
    said as a change ("200 pieces more", "2 inches less") is not the value."""
    from retrieval.search.query import UNITS, measure

    target = measure(key, str(value))
    if target is None:
        return False
    units = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
    for m in re.finditer(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*-?\s*({units})(?![\w])", lowered):
        if re.match(r"\s+(?:more|less|fewer|extra)\b", lowered[m.end():]):
            continue
        unit, scale = UNITS[m.group(2).lower()]
        if unit == target[1] and abs(float(m.group(1)) * scale - target[0]) < 1e-6:
            return True
    return False


_LIKE_OWNED = re.compile("|".join(OPTION_WORDS["like_owned"]))


_IF_AVAILABLE = re.compile("|".join(OPTION_WORDS["if_available"]), re.IGNORECASE)


def if_available(wish: str) -> bool:
    """Whether a wish holds only if the shop has it ("…one size up, still black, if that is available", 如果有货):
    where it has none, the item stays as it is, nothing else is offered in its place."""
    return bool(_IF_AVAILABLE.search(wish))


def like_owned(text: str) -> re.Match | None:
    """Where the text asks for the option of another item of the same product the shopper already has
    ("make it match the one I already have"); the options are then that other item's, not the current one's."""
    return _LIKE_OWNED.search(text.lower())


def without_like_owned(text: str) -> str:
    """The text without its "the model from my other order" phrase: that phrase describes the new
    option, so it never says which order or item the request is about."""
    m = like_owned(text)
    return text if not m else f"{text[: m.start()]} {text[m.end():]}"


def wish_like(text: str, owned: dict[str, str]) -> str:
    """The text with its "same as the one I have" phrase replaced by that item's option values: all
    of them, or only the option it names ("the same size as the one I have, but in black": its size;
    "the same kind/type" is the whole item)."""
    m = like_owned(text)
    if not m:
        return text
    lowered = text.lower()
    named = re.match(r"(?:same|identical|matching)\s+([a-z]+)", m.group(0))
    # "the same kind/type/model as …" is the whole item in everyday words, even where "type" is an option's name
    word = named.group(1).rstrip("s") if named and named.group(1) not in ("one", "kind", "type", "sort", "model", "version") else None
    only = [v for k, v in owned.items() if word and word in str(k).lower().split()]
    return f"{lowered[: m.start()]} {', '.join(only or owned.values())} {lowered[m.end():]}"


def ordinal(value: str) -> float:
    """A comparable number for an option value: '1000ml' → 1000, 'XL' → 4, 'low' → 1."""
    value = str(value).lower().strip()
    if value in ORDINAL_WORDS:
        return ORDINAL_WORDS[value]
    number = re.search(r"\d+(?:\.\d+)?", value.replace(",", ""))
    if number:
        scale = 1000 if re.search(r"tb\b|(?<=\d)\s*l\b|liter", value) and "ml" not in value else 1
        return float(number.group(0)) * scale
    return 0.0


_ADDRESS_FIELD = re.compile(r"[\"']?\b(address1|address2|city|state|zip|country)\b[\"']?\s*[:=]\s*[\"']([^\"']*)[\"']")

# An address in free text ends at a zip (and maybe its country); it starts at a house number before it.
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b(?:,?\s*(U\.?S\.?A?\.?|United States(?: of America)?|America)\b)?")
_HOUSE_NUMBER = re.compile(r"(?<![\w#$.,/-])\d+[A-Za-z]?\s+(?:[A-Za-z]|\d+(?:st|nd|rd|th)\b)", re.IGNORECASE)

# usaddress's labels, by the field they go to (its labels: usaddress.readthedocs.io)
_STREET_LABELS = {"AddressNumberPrefix", "AddressNumber", "AddressNumberSuffix", "StreetNamePreModifier", "StreetNamePreDirectional",
                  "StreetNamePreType", "StreetName", "StreetNamePostType", "StreetNamePostDirectional", "StreetNamePostModifier",
                  "LandmarkName", "CornerOf", "IntersectionSeparator", "BuildingName", "USPSBoxType", "USPSBoxID"}  # fmt: skip
_UNIT_LABELS = {"OccupancyType", "OccupancyIdentifier", "SubaddressType", "SubaddressIdentifier"}


def _fields_of(window: str) -> dict | None:
    """One address span read by usaddress (a model trained on US addresses: any case, abbreviations, no commas
    needed between city, state and zip); None unless every word of it is part of an address."""
    parsed = usaddress.parse(window)
    # the model files a lead-in as street words ("2 weeks ago I moved to 9 Elm Row"): a second house number or a
    # clause's punctuation inside the street says the address starts later
    if any(re.fullmatch(r"\d+", t) or re.search(r"[;:!?]$", t) for t, label in parsed[1:] if label in _STREET_LABELS):
        return None
    tagged = [(t.strip(",;"), label) for t, label in parsed if t.strip(",;")]
    labels = [label for _, label in tagged]
    if not labels or labels[0] != "AddressNumber" or labels.count("AddressNumber") > 1 or labels[-1] not in ("ZipCode", "CountryName"):
        return None
    if any(label not in _STREET_LABELS | _UNIT_LABELS | {"PlaceName", "StateName", "ZipCode", "CountryName"} for label in labels):
        return None
    street = " ".join(t for t, label in tagged if label in _STREET_LABELS)
    unit = " ".join(t for t, label in tagged if label in _UNIT_LABELS)
    city = " ".join(t for t, label in tagged if label == "PlaceName")
    state = " ".join(t for t, label in tagged if label == "StateName").strip(".")
    zip_code = next(t for t, label in tagged if label == "ZipCode")[:5]
    if not state and city.lower() in us_states():  # "New York, 10001": the city names its state
        state = us_states()[city.lower()]
    state = us_states().get(state.lower(), state.upper())
    if " " not in street or not city or not re.fullmatch(r"[A-Z]{2}", state) or not re.fullmatch(r"\d{5}", zip_code):
        return None
    if window == window.lower():  # typed all in lower case: stored the way addresses are written ("4 N Elm St")
        street, unit, city = (" ".join(w.upper() if re.fullmatch(r"\d+[a-z]", w) else w.capitalize() for w in part.split())
                              for part in (street, unit, city))
    return {"address1": street, "address2": unit, "city": city, "state": state, "country": "USA", "zip": zip_code}


def parse_address(text: str) -> dict | None:
    """'123 Main St, Apt 4, Springfield, IL 62704, USA' or '4 n elm st apt 2 chicago il 60613' → address fields;
    None when the text holds none. Fields pasted as key/value pairs ("address1: '…', city: '…', …", as a form or
    JSON gives them) are read by their keys; free text by usaddress, over the span from a house number to a zip."""
    fields = dict(_ADDRESS_FIELD.findall(text))
    if {"address1", "city", "state", "zip"} <= fields.keys() and fields["address1"].strip():
        return {"address1": fields["address1"].strip(), "address2": fields.get("address2", "").strip(), "city": fields["city"].strip(),
                "state": fields["state"].strip(), "country": fields.get("country", "").strip() or "USA", "zip": fields["zip"].strip()}  # fmt: skip
    after_last = 0  # a second address starts after the first one's zip
    for zip_match in _ZIP.finditer(text):
        # the earliest house number that starts a clean address wins ("2 orders … to 9 Elm Row, …" starts at 9)
        for number in _HOUSE_NUMBER.finditer(text, max(after_last, zip_match.start() - 160), zip_match.start()):
            if found := _fields_of(text[number.start() : zip_match.end()]):
                return found
        after_last = zip_match.end()
    return None


_PARTS = lexicon()["address_parts"]
_UNIT_PART = re.compile(rf"(?<![A-Za-z])(?i:({alternation(_PARTS['unit_types'])}))\.?\s*#?\s*(\d+[A-Za-z]?|[A-Z]\d*)(?![A-Za-z0-9-])"
                        rf"|(?<![A-Za-z0-9#])#\s*(\d+[A-Za-z]?)(?![A-Za-z0-9-])")
_STREET_PART = re.compile(rf"(?<![A-Za-z0-9#$.,-])\d+[A-Za-z]?(?:\s+[A-Za-z][\w.'-]*){{0,3}}?\s+(?i:{alternation(_PARTS['street_types'])})\b\.?")
_ZIP_PART = re.compile(r"(?<![A-Za-z0-9#$.-])(\d{5})(?:-\d{4})?(?![A-Za-z0-9-]|\.\d)")
_NEGATED_PART = re.compile(rf"(?<![a-z])(?:{alternation(_PARTS['negated_en'])})\s+((?:(?!\bbut\b)[^,.;!?—–])+)|(?:{alternation(_PARTS['negated_zh'])})([^，。；！？,;!?]+)",
                           re.IGNORECASE)
_VALUE_PART = re.compile(r"\d+[A-Za-z]?\b|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")


def address_correction(message: str, proposed: dict) -> dict | None:
    """The proposed address with the parts a correction of it gives ("it's Apt 7B, not Apt 7", "the zip is
    <zip>", "it should be <number> <street>, not <number>", "<city>, not <city>", "门牌号错了，是Apt 9"): the parts
    stated outright (a unit after its type word, a street line ending in a street type, a five-digit zip), else a
    value put in the place of the one negated ("…, not <part of the proposal>"). None when it names no part, or
    none that differs; a whole address said again is `parse_address`'s."""
    negated = [(m.group(1) or m.group(2) or "").strip() for m in _NEGATED_PART.finditer(message)]
    said = _NEGATED_PART.sub(" ", message)  # what is asserted, without what is denied
    fixed: dict[str, str] = {}
    if street := _STREET_PART.search(said):
        if not _same_street(street.group(0), proposed.get("address1") or ""):  # "412 Cedar St" for "412 Cedar Street"
            fixed["address1"] = street.group(0).rstrip(".")
        said = said[: street.start()] + " " + said[street.end() :]
    if unit := _UNIT_PART.search(said):
        kind = (unit.group(1) or "").lower()
        earlier = (proposed.get("address2") or "").split()
        # written the way the proposal writes its unit ("Apt"), unless another kind of unit is named
        word = earlier[0] if earlier and (not kind or earlier[0].lower().rstrip(".") == kind) else (kind.capitalize() or "#")
        fixed["address2"] = f"{word} {(unit.group(2) or unit.group(3)).upper()}".replace("# ", "#")
        said = said[: unit.start()] + " " + said[unit.end() :]
    if zip_code := _ZIP_PART.search(said):
        fixed["zip"] = zip_code.group(1)
    if not fixed:  # "Round Rock, not Austin", "it's 7B, not 7": the asserted value in the negated one's place
        values = _VALUE_PART.findall(said)
        for denied in negated:
            field = next((k for k in ("address2", "address1", "city", "zip") if denied and denied in (proposed.get(k) or "")), None)
            if field is None or not values:
                continue
            value, number = values[0], re.search(r"\d+[A-Za-z]?", denied)
            if re.fullmatch(r"\d+[A-Za-z]?", value) and number:  # only the number said: the rest of the part kept
                fixed[field] = proposed[field].replace(denied, denied.replace(number.group(0), value, 1), 1)
            elif not re.fullmatch(r"\d+[A-Za-z]?", value) and not number:
                fixed[field] = proposed[field].replace(denied, value, 1)
    fixed = {k: v for k, v in fixed.items() if v != proposed.get(k)}
    return {**proposed, **fixed} if fixed else None


def _same_street(said: str, proposed: str) -> bool:
    """The same street line, its type written in full or short ("Cedar St" / "Cedar Street")."""
    types = set(_PARTS["street_types"])
    words = [[w for w in re.findall(r"[a-z0-9]+", x.lower()) if w not in types] for x in (said, proposed)]
    return words[0] == words[1]


SIZE_WORDS = {"extra small": "xs", "extra large": "xl", "small": "s", "medium": "m", "large": "l"}


def letter_sizes(lowered: str, values: dict[str, tuple[str, ...]]) -> str:
    """Size words as the letters a product's sizes are written in ("a large" → "l" when its sizes are S/M/L),
    unless another of its options has that word as a value ("medium" ventilation): then only "size medium"."""
    sizes = {str(v).lower() for v in values.get("size", ())}
    # "medium-sized" where the product's sizes are words: that word
    lowered = re.sub(r"\b(small|medium|large)[ -]sized?\b", lambda m: m.group(1) if m.group(1) in sizes else m.group(0), lowered)
    if not sizes & set(SIZE_WORDS.values()):
        return lowered
    others = {str(v).lower() for k, vals in values.items() if k != "size" for v in vals}
    for word, letter in SIZE_WORDS.items():
        if letter not in sizes:
            continue
        lowered = re.sub(rf"\bsize {word}\b|\b{word}[ -]sized?\b", f"size {letter}", lowered)  # also "medium sized"
        if word not in others:
            lowered = re.sub(rf"(?<![a-z-]){word}(?![a-z-])(?! (?:{'|'.join(map(re.escape, values))})\b)", letter, lowered)
    return lowered


_KEPT_ZH = sorted(OPTION_WORDS["kept_zh"].items(), key=lambda kv: -len(kv[0]))  # "其他不变" before "不变"
KEPT_BEFORE = re.compile(r"(?<![a-z])(?:" + "|".join(OPTION_WORDS["kept"]) + r")\s+([^.,;!?:\n]{1,60})")
KEPT_AFTER = re.compile(r"([^.,;!?:\n]{1,40}?)\s+(?:" + "|".join(OPTION_WORDS["kept_after"]) + r")(?![a-z])")
ALL_KEPT = re.compile(r"(?<![a-z])(?:" + "|".join(OPTION_WORDS["all_kept"]) + r")(?![a-z])")


def with_kept_words(message: str) -> str:
    """Chinese words for options kept ("还是", "其他不变") in the English the option reading knows."""
    if not _CJK.search(message):
        return message
    for zh, en in _KEPT_ZH:
        message = message.replace(zh, en)
    return message


def key_words(key: str) -> list[str]:
    """The words naming an option: its name, its own distinctive words, the search lexicon's words for it ("backlit")."""
    from retrieval.search.query import default_lexicon

    own = [w for w in key.lower().split() if len(w) >= 4 and w not in _GENERIC_WORDS]
    group = next((g for g in _attribute_groups() if key.lower() in g), [])  # "colour" for color
    return list(dict.fromkeys([key.lower(), *own, *(w.lower() for w in default_lexicon().key_words.get(key, [])),
                               *(w for w in group if not _CJK.search(w))]))


@lru_cache(maxsize=1)
def _attribute_groups() -> list[list[str]]:
    """The words shoppers use for each product attribute (assistant/data/attributes.json)."""
    return [[w.lower() for w in g] for g in json.loads((DATA / "attributes.json").read_text(encoding="utf-8"))["groups"]]


def option_values_asked(text: str, keys) -> list[str]:
    """The options of `keys` whose values a question asks to see before choosing ("which other colours does it come
    in?", "what sizes are there?", 还有哪些颜色; option_words.json "values_asked"), in the order of `keys`."""
    return _options_said_with(text.lower(), keys, "values_asked")


def _option_names(key: str) -> str:
    """A regex alternation of the words naming an option: its own (`key_words`) and its attribute group's, also
    for a name holding a group's word ("dial color" is named by "colour" and 颜色)."""
    groups = [g for g in _attribute_groups() if key.lower() in g or any(w in g for w in key.lower().split())]
    words = sorted({*key_words(key), *(w for g in groups for w in g)}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)


def _options_said_with(lowered: str, keys, kind: str) -> list[str]:
    """The options of `keys` named in one of option_words.json `kind`'s patterns, in the order of `keys`."""
    patterns = (*OPTION_WORDS[kind]["en"], *OPTION_WORDS[kind]["zh"])
    said = []
    for key in keys:
        names = _option_names(key)
        if any(re.search(p.replace("{option}", names), lowered) for p in patterns):
            said.append(key)
    return said


def variant_values(product, keys) -> dict[str, tuple[str, ...]]:
    """Each option of `keys` → the values the product's variants have of it."""
    return {k: tuple({str(v.options.get(k, "")) for v in product.variants}) for k in keys}


def options_to_differ(text: str, item: dict, product) -> list[str]:
    """The options of the item a change asks to be different without naming the value wanted ("a different colour",
    "another size", 换个颜色; option_words.json "different"): the flow lists the other values, the shopper chooses.
    An option whose other value is named too ("a different colour: white") is not one: that value is the wish."""
    asked = _options_said_with(without_fallbacks(text.lower()), list(item["options"]), "different")  # not "…, otherwise in another colour"
    if not asked:
        return []
    said, values = option_text(text), variant_values(product, asked)
    current = {k: str(v).lower() for k, v in item["options"].items()}
    return [key for key in asked
            if not any(mentioned(str(val).lower(), said, values.get(key, ())) for val in values.get(key, ())
                       if str(val).lower() != current[key])]


def option_word(key: str, chinese: bool = False) -> str:
    """An option's name to say in a reply: its Chinese word (attributes.json) in a Chinese conversation."""
    group = next((g for g in _attribute_groups() if key.lower() in g), [])
    return next((w for w in group if _CJK.search(w)), key) if chinese else key


def other_values_of(product, item: dict, keys: list[str]) -> list:
    """The available variants of the item's product that differ from it in one of `keys` and keep its other options;
    when none keeps them all, those differing in `keys` that keep the most (cheapest first within each)."""
    current = {k: str(v).lower() for k, v in item["options"].items()}
    differing = [v for v in product.variants if v.available and v.item_id != item["item_id"]
                 and any(str(v.options.get(k, "")).lower() != current.get(k) for k in keys)]

    def kept(v) -> int:
        return sum(1 for k, val in v.options.items() if k not in keys and str(val).lower() == current.get(k))

    best = max((kept(v) for v in differing), default=0)
    return sorted((v for v in differing if kept(v) == best), key=lambda v: v.price)




_FREE = re.compile(r"\b(?:any|whatever|whichever|no matter (?:the |what |which )?)\s*(?:other\s+)?({w})s?\b"
                   r"|\b({w})s?\s+(?:does ?n[o']t|doesn't|do ?n[o']t|don't) matter\b|\b(?:don'?t|do not) care about (?:the )?({w})")


def free_options(lowered: str, current: dict[str, str]) -> set[str]:
    """Options the text leaves to the shop ("still PVC (any colour)", "whatever size", "the colour doesn't matter")."""
    return {key for key in current for w in key_words(key)
            if re.search(_FREE.pattern.replace("{w}", re.escape(w)), lowered)}


def keeps_options(lowered: str) -> bool:
    """Whether the text says options are kept ("same colour", "still full size", "otherwise the same")."""
    return bool(KEPT_BEFORE.search(lowered) or KEPT_AFTER.search(lowered) or ALL_KEPT.search(lowered))


def named_values(lowered: str, values: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """Option values said with their option's name ("high ventilation", "size m", "color black"): option → values."""
    bound: dict[str, set[str]] = {}
    for key, vals in values.items():
        name = re.escape(key.lower())
        for val in (str(v).lower() for v in vals if str(v).strip()):
            value = re.escape(val)
            # not a difference ("500 pieces less")
            if re.search(rf"(?<![a-z0-9-]){value} {name}\b(?! (?:less|more|fewer|extra|lower|higher|smaller|bigger)\b)"
                         rf"|\b{name}(?: of| in| is)? {value}(?![a-z0-9-])", lowered):
                bound.setdefault(key, set()).add(val)
    return bound


ORIGINAL = "original"  # in a list of named methods: the method the order at hand was paid with


_BRAND = re.compile(r"\b(visa|master ?card|amex|american express|discover)\b")
_BRAND_NOT_WANTED = re.compile(r"(?:rather than|instead of|not|other than|but not|over)\s+(?:the |my |with |to |on )?$")


# A word of paying in a clause: what a method named there did or should do
_PAID_WORD = re.compile(r"\b(?:charg\w*|bill\w*|paid|pay|paying|used?|put on|went (?:on|to)|taken from|deducted)\b|付|扣|支付|用")


def wrongly_charged_cut(lowered: str) -> str:
    """The text with the clauses saying a method paid the order by mistake blanked ("PayPal was billed for it in
    error", "it shouldn't have been paid with the Visa", 误用礼品卡付款; words: reader.json wrongly_charged): that method is
    what the order has now, not one wanted. What follows "instead of"/"rather than" in the clause is kept (the wanted
    one). Same length as the text, so positions still hold."""
    out = lowered
    for m in re.finditer(r"[^,.;:!?，。；：！？\n]+", lowered):
        clause = m.group(0)
        if not (payment_kinds(clause) or _BRAND.search(clause)) or not _PAID_WORD.search(clause) or not says(clause, "wrongly_charged.words"):
            continue
        end = m.start() + (w.start() if (w := re.search(r"\b(?:instead of|rather than)\b|而不是", clause)) else len(clause))
        out = out[: m.start()] + " " * (end - m.start()) + out[end:]
    return out


def wrongly_charged(text: str) -> bool:
    """Whether the text says a method paid an order by mistake (`wrongly_charged_cut`): the order's payment is to be
    moved to another of the shopper's methods."""
    lowered = text.lower()
    return wrongly_charged_cut(lowered) != lowered


def payments_named(methods: list, message: str) -> list[str]:
    """The customer's payment methods a message names, as their ids in the order named: an id, a kind
    (with its last four digits if given), or ORIGINAL for "the original payment method". A method said to have
    paid by mistake (`wrongly_charged_cut`) is not named as one to use."""
    lowered = wrongly_charged_cut(message.lower())
    methods = {m.payment_method_id: m for m in methods}
    mentions: list[tuple[int, str]] = []
    for m in re.finditer(r"\b(?:credit_card|paypal|gift_card)_\d+\b", lowered):
        mentions.append((m.start(), m.group(0)))
    # "the original payment method", "refund to the original one"; not "features from the originals"
    if m := re.search(r"original (?:payment|method|card|form|one)|(?:to|via|on|with|back to) (?:the |my )?original\b(?!s)"
                      r"|same (?:payment|card|method)|原支付|原来的|原路"
                      # "the card I paid that order with", "the way I originally paid", "whatever I paid with"
                      r"|\b(?:card|method|account|way|one|whatever|how)\b (?:that )?i (?:originally |first )?(?:paid|used|bought)\b", lowered):
        mentions.append((m.start(), ORIGINAL))
    four = re.search(r"\b(\d{4})\b", lowered)
    # a card named by its brand ("my Mastercard rather than my Visa"): that card, not every card; a brand said as
    # the one not wanted names nothing
    brands = [(b.start(), b.group(1).replace(" ", "")) for b in _BRAND.finditer(lowered) if not _BRAND_NOT_WANTED.search(lowered[: b.start()])]
    for source, pattern in PAYMENT_KINDS:
        if m := re.search(pattern, lowered):
            matches = [i for i, pm in methods.items() if pm.source == source]
            if four:
                matches = [i for i in matches if methods[i].last_four == four.group(1)] or matches
            branded = [(at, i) for at, brand in brands for i in matches if (methods[i].brand or "").lower().replace(" ", "") == brand]
            if source == "credit_card" and branded and not four:
                mentions += branded
                continue
            mentions += [(m.start(), i) for i in matches]
    return list(dict.fromkeys(i for _, i in sorted(mentions, key=lambda x: x[0])))


# A method said with a verb of paying or refunding ("refund it to …", "pay with …", "put it on …",
# "退到…", "用…付"): the shopper wants it used, unlike a method only mentioned or asked about.
_PAYMENT_USE = re.compile(r"\b(?:refund\w*|pay|paid|paying|use|using|via|put (?:it|them|that|this|the \w+) on|charge\w*|credit\w*|bill\w*"
                          r"|cover(?:s|ed|ing)?|settle[sd]?|settling|deduct\w*|take (?:it |that |the \w+ )?(?:out of|from)"
                          r"|back to|instead|(?:difference|extra|rest|balance) (?:on|onto|to|from|with))\b|original|退到|退回|退款|原路|用.{0,12}(?:付|支付)|改用|换成")
# Asking rather than telling: "do you accept …?", "which card did I pay with?", "…吗"; a polite request
# ("could you refund it to …?") still tells.
_ASKS = re.compile(r"[?？]|吗|\b(?:do|does|did|is|are|was|were|which|what|how)\b.*\b(?:accept|take|allow|work)\b")
_REQUEST = re.compile(r"\b(?:can|could|would|will) you\b|\bplease\b|\bi(?:'d| would) like\b|请|麻烦|帮我")
# "which/what … did I pay with", "how was it paid", "用什么付的": the method used, asked about
_HOW_PAID = re.compile(r"(?<!,)(?<!, )\b(?:which|what|how)\b[^.!]*\b(?:did|was|were|have|has|had)\b[^.!]*\b(?:pay|paid|payment|method|card|charged|use|used)\b"
                       r"|\bwhat (?:i|we) paid (?:for|on)\b[^.!?]*\band how\b"
                       r"|(?:用|拿)(?:的)?(?:什么|哪).{0,8}(?:付|支付)|怎么付|哪(?:种|个|张).{0,10}(?:付|支付)")
_CHANGE_VERB = re.compile(r"\b(?:change|switch|update|instead|rather|prefer)\b|改用|换成|改成|更换")


def is_question(sentence: str) -> bool:
    """Whether a sentence asks rather than tells (a polite request tells)."""
    lowered = sentence.lower()
    return bool(_ASKS.search(lowered)) and not _REQUEST.search(lowered)


def payments_meant(methods: list, message: str) -> list[str]:
    """Like `payments_named`, but only the methods a sentence wants used: said with a verb of paying or
    refunding, and not asked about ("do you accept gift cards?" names a method but wants nothing)."""
    told = [x for x in _SENTENCE_END.split(message)
            if x.strip() and _PAYMENT_USE.search(x.lower()) and not is_question(x)]
    return payments_named(methods, " ".join(told)) if told else []


# "paid by the gift card if it covers the difference, otherwise by Visa": the method after the turn, should the gift
# card fall short
_UNLESS_SHORT = re.compile(r"\bif (?:it|that|the (?:gift )?card|the balance)\b[^.;!?]{0,40}?\b(?:covers?|is enough|enough|suffices?)\b[^.;!?]{0,30}?"
                           r"[,;]?\s*(?:otherwise|else|if not|or else|failing that)\b([^.;!?]*)|(?:如果|要是)[^，,。；;]{0,20}(?:够|足够)[^，,。；;]{0,10}[，,]?\s*(?:否则|不够的话|不然)([^。；;！？]*)")


def method_if_short(methods: list, text: str) -> str | None:
    """The method a shopper names for when the gift card does not cover the amount ("… if it covers the net difference,
    otherwise by Visa"), or None."""
    m = _UNLESS_SHORT.search(text.lower()) or _UNLESS_SHORT.search(text)
    if m is None:
        return None
    named = payments_named(methods, m.group(1) or m.group(2) or "")
    return named[0] if named else None


_MONEY_BACK = re.compile(r"\b(?:refunds?|refunded|money|funds?|difference|cash)\b|\bback\b|退款|差价|钱")


_MONEY_BACK_ZH = ("退款", "退回", "退还")  # 钱会退回来吗: the money back, a consequence, not the action
_MONEY_BEFORE_ZH = re.compile(r"(?:钱|款|差价)[^，,。；;！？]{0,3}$")  # "钱请退回…": the money goes back, nothing is sent back


def says_where_money_goes(message: str, refund_only: bool = False) -> bool:
    """"I want that refund on PayPal", "any difference to my Visa", "差价退到礼品卡": where money back should go,
    a choice for the task at hand, not a request of its own: a method named, no other action, not a question.
    `refund_only`: said to an action whose only money is a refund (a cancellation), where "use my PayPal" is that too."""
    lowered = message.lower()
    if not payment_kinds(lowered) or is_question(message) or "?" in message or "？" in message:
        return False
    # "refund" is the money itself here; returning, changing or cancelling something is another request
    if any(not m.group(0).startswith("refund") for m in _ACTION_VERBS.finditer(lowered)) or any(
            not (m.group(0) in _MONEY_BACK_ZH and _MONEY_BEFORE_ZH.search(lowered[:m.start()])) for m in _ZH_ROUTE_VERBS.finditer(lowered)):
        return False
    return refund_only or bool(_MONEY_BACK.search(lowered))


def says_more_than_where_money_goes(message: str) -> bool:
    """Whether a message saying where money back goes (`says_where_money_goes`) says something else too: a clause
    naming no payment method and no money back, with words beyond a yes, please or thanks (confirm.json) ("everything
    I got was broken, refund me to …", "收到的东西坏了，退款…"): a request or complaint to handle, not a bare choice."""
    from assistant.tools import confirm_words  # lazily, as is_affirmative below: the tools package is above the reader

    words = confirm_words()
    courtesy = set(words["en_yes"]) | set(words["en_filler"])
    zh_courtesy = sorted(words["zh_yes"] + words["zh_filler"], key=len, reverse=True)
    for clause in re.split(r"[,.;:!?，。；：！？\n]", message.lower()):
        if not clause.strip() or payment_kinds(clause) or _MONEY_BACK.search(clause):
            continue
        rest = clause
        for phrase in zh_courtesy:
            rest = rest.replace(phrase, " ")
        if any(t not in courtesy for t in re.findall(r"[a-z']+", rest)) or re.search(r"[\u4e00-\u9fff]", rest):
            return True
    return False


def complains_with_refund_method(message: str) -> bool:
    """Whether a message finds something received wrong and says where the money back goes ("it arrived broken,
    refund to my PayPal", "收到的东西坏了，退款请退到我的 PayPal"): a return asked for, the method kept for it, not a
    bare choice of method. The words: assistant/data/reader.json, complaints."""
    lowered = message.lower()
    # a replacement or another option wished ("I want it in black, any difference to my card") is an exchange
    return says_where_money_goes(message) and says(lowered, "complaints.words") and not says(lowered, "complaints.replacing")


def complains_wanting_other(message: str) -> bool:
    """Whether a message finds something wrong or not liked ("the <item> is too loud", "it's broken", 太吵) and wishes
    another one instead ("I want a different one", "can I get another one?", 换一个): an exchange of a thing the shopper
    holds (the order's status decides how), not a search. The words: reader.json, complaints."""
    lowered = message.lower()
    found = says(lowered, "complaints.words") or says(lowered, "complaints.disliked") or re.search(r"\btoo\s+[a-z]{3,}\b(?!\s*[.,;!?]*$)", lowered)
    return bool(found) and says(lowered, "complaints.other_one")


def pays_with(message: str) -> bool:
    """Whether a sentence wants a kind of payment method used: the kind said with a verb of paying other than
    the kind's own words ("cover the difference with my gift card"), and not asked about; "a wallet with
    credit card slots" names a kind but pays nothing."""
    for x in _SENTENCE_END.split(message.lower()):
        rest = x
        for _, pattern in PAYMENT_KINDS:
            rest = re.sub(pattern, " ", rest)
        if rest != x and _PAYMENT_USE.search(rest) and not is_question(x):
            return True
    return False


_OTHER_ORDER_METHOD = re.compile(r"\b(?:the )?(?:other|opposite) orders?(?:'s|’s|s')? (?:payment(?: method)?|card|method|account)\b"
                                 r"|\b(?:payment(?: method)?|card|method|account)(?: (?:that was |that i |i |we )?(?:used|paid|charged)(?: (?:for|with|on))?)?"
                                 r" (?:of|from|for|on|with|by) (?:my |the )?(?:other|opposite) orders?\b"
                                 r"|另一个订单的(?:支付方式|付款方式|卡)")


def other_orders_methods(message: str, order: dict, orders: list[dict]) -> list[str]:
    """"Put the refund on the card from my other order": the methods the customer's other orders were
    paid with (not this order's own), read from their payment history."""
    if not _OTHER_ORDER_METHOD.search(message.lower()):
        return []
    own = order["payment_history"][0]["payment_method_id"] if order["payment_history"] else None
    paid = [o["payment_history"][0]["payment_method_id"] for o in orders
            if o["order_id"] != order["order_id"] and o.get("payment_history")]  # fmt: skip
    return [m for m in dict.fromkeys(paid) if m != own]


def asks_how_paid(text: str) -> bool:
    """"Which payment method did I use for order #…?", "订单…是用什么付款的？": a question about how an
    order was paid, not a change of it (a change verb beside it asks for the change)."""
    lowered = text.lower()
    return bool(_HOW_PAID.search(lowered)) and not _CHANGE_VERB.search(lowered)


# "which address is it going to?", "where is my order being shipped?", 寄到哪个地址: where an order goes, asked
_WHERE_GOES = re.compile(r"\b(?:which|what|where)\b[^.!?]{0,40}\baddress\b|\bwhere\b[^.!?]{0,40}\b(?:going|being (?:shipped|sent|delivered)"
                         r"|ship(?:ping|s)? to|sent to|deliver(?:ed|ing)? to|headed)\b|(?:寄|送|发|运)(?:到|往)哪|哪个地址|什么地址|地址是(?:什么|哪)")


def _asked_not_changed(pattern: re.Pattern, text: str) -> bool:
    """The pattern's question said, with no change word and no new address beside it (those make it a change)."""
    lowered = text.lower()
    return bool(pattern.search(lowered)) and not _CHANGE_VERB.search(lowered) and parse_address(text) is None


def asks_where_order_goes(text: str) -> bool:
    """"Which address is order #… going to?", "where is my <item> order being shipped?", 订单寄到哪个地址: a question about
    an order's shipping address, answered with its status; not a change (a change word or a new address beside it)."""
    return _asked_not_changed(_WHERE_GOES, text)


# "what's my default address?", "which address do you have for me?", 我的默认地址是什么: the account's address, asked
_OWN_ADDRESS = re.compile(r"\b(?:what|which|where)(?:'s| is| are)?\b[^.!?]{0,20}\bmy (?:default |home |profile |saved |account |shipping )?address\b"
                          r"|\b(?:what|which) address (?:do you have|is (?:on|in) (?:my|the) (?:account|profile|file))\b"
                          r"|我的(?:默认|账户|账号)?地址是(?:什么|哪)|(?:查|看)一?下?我的(?:默认)?地址")


def asks_own_address(text: str) -> bool:
    """Whether the text asks what the account's default address is ("what's my default address?", 我的默认地址是什么),
    not a change of it (a change word or a new address beside it) nor where an order goes."""
    return _asked_not_changed(_OWN_ADDRESS, text) and not names_an_order(text)


# "is my <item> order cancelled?", "has it been delivered?", 取消了吗: a yes/no question about an order's status
_STATUS_ASKED = re.compile(r"^\W*(?:is|was|has|have|did)\b[^.!?]{0,60}?\b(?:cancell?ed|delivered|shipped|processed|pending|returned|exchanged"
                           r"|on (?:its|the) way|out for delivery|arrived|sent out)\b[^.!]*\?\s*$"
                           r"|(?:取消|送达|签收|发货|寄出|退货|换货)了(?:吗|没有?)\W*$")


def asks_status_yes_no(text: str) -> bool:
    """Whether the whole message asks yes or no about an order's status ("is my <item> order cancelled?", "has order
    #… shipped?", 订单取消了吗): answered with its status, nothing done."""
    return bool(_STATUS_ASKED.search(text.strip().lower()))


# "my gift card balance", "what payment methods do I have", 我的礼品卡: the shopper's own methods, asked about
_OWN_METHODS = re.compile(r"\bmy (?:gift ?cards?|(?:gift ?card |store |account )?balance|payment (?:methods?|options)|saved cards?|cards on file|store credit)\b"
                          r"|\bpayment methods? (?:do )?(?:i|we) have\b|我的(?:礼品卡|余额|支付方式|付款方式)|礼品卡(?:还有|余额)")


_ASKING = re.compile(r"\b(?:how much|what|which|tell me|show me|check|list)\b|多少|哪些|什么|查")


def asks_own_methods(text: str) -> bool:
    """Whether the text asks about the shopper's own payment methods or gift card balance ("how much is left on my gift
    card?", 我的礼品卡还有多少钱), not a change of an order's payment nor a question about the shop's gift cards."""
    lowered = text.lower()
    return bool(_OWN_METHODS.search(lowered)) and not _CHANGE_VERB.search(lowered) and (is_question(text) or _ASKING.search(lowered) is not None)


def asks_method_paid(text: str) -> bool:
    """`asks_how_paid` asking the method ("how did I pay for …", "which card …", 用什么付的), not only the amount ("what
    did I pay for the <item>?" is a question about that item, answered from the order)."""
    lowered = text.lower()
    return asks_how_paid(text) and bool(re.search(r"\b(?:how|method|methods|card|paypal|with what|using what)\b|用什么|拿什么|哪(?:种|个|张)|怎么付", lowered))


def asks_order_payment_change(text: str, methods: list, names_order: bool) -> bool:
    """Whether a message asks to change how an order is paid: an order named (by id, or as "order" with a
    change verb and a method: "use PayPal for my order") with a payment change read, and no question of
    how it was paid. An order id alone is not a change ("which card paid for #…?")."""
    lowered = text.lower()
    if asks_how_paid(lowered):
        return False
    if wrongly_charged(lowered) and re.search(r"\border\b|订单", lowered):
        return True  # "the Visa was wrongly billed for my order": moved to another method
    if names_order:  # routed to payment already: any word of paying reads as the change, even beside an item
        return asks_payment_change(lowered) or bool(re.search(r"\bpa(?:y|id)|\bmethod|\bcard\b|支付|付", lowered))
    if not asks_payment_change(lowered):
        return False
    # a method to use for an order, not "PayPal for any extra payment"
    return bool((re.search(r"\b(?:change|switch|update|use|pay)\b|改用|换成", lowered) or _CHARGED_TO.search(lowered)) and re.search(r"\border\b|订单", lowered)
                and payments_named(methods, text))


# Money a change makes, not the order's own payment: "any difference on PayPal", "差价用PayPal"
_CHANGE_MONEY = re.compile(r"\b(?:difference|extra|balance due|refunds?)\b|差价|退款")


def payment_switch_sentences(text: str) -> list[str]:
    """The sentences of a request asking, beside other requests, that an order be paid another way ("I want that
    order charged to PayPal instead", "我想把这个订单改用PayPal支付"): a method said with a word of change and the
    order, not a method paying for an item change ("…, any difference on the Visa") nor the item's options; or the
    order said to be paid with a method by mistake (`wrongly_charged`: another method is wanted)."""
    found, before, last = [], False, ""
    for sentence in _SENTENCE_END.split(text):
        lowered, prior, last = sentence.lower(), last, sentence.strip()
        # the order said in the sentence, or before it and pointed at ("I have two orders. The big one …; I want it
        # charged to …": said with the sentence before, which says which order)
        order = re.search(r"\border\b|订单", lowered)
        if not order and before and re.search(r"\b(?:it|that|this|one)\b|它|这个|那个", lowered):
            order, sentence = True, f"{prior} {sentence}"
        before = before or bool(re.search(r"\borders?\b|订单", lowered))
        if wrongly_charged(lowered) and order and not _item_change_said(lowered):
            found.append(sentence.strip())  # "that order went on PayPal in error": moved to another method
        elif order and _switches_payment(lowered) and not _item_change_said(lowered):
            found.append(sentence.strip())
        elif order and payment_kinds(lowered):  # "I want the order paid with <method> instead of <method>, the <item> in <value>, …"
            found += [c.strip() for c in _clauses(sentence) if re.search(r"\border\b|订单", c.lower())
                      and _switches_payment(c.lower()) and not _item_change_said(c.lower())]
    return found


def _switches_payment(lowered: str) -> bool:
    """A method (or "payment method") said with a word of change, asking that the order be paid another way: not
    money an item change costs or brings back, nor a question how it was paid."""
    return bool((payment_kinds(lowered) or re.search(r"\bpayment method\b|支付方式|付款方式", lowered)) and _CHANGE_VERB.search(lowered)
                and not _CHANGE_MONEY.search(lowered) and not asks_how_paid(lowered) and asks_payment_change(lowered))


def without_payment_talk(text: str) -> str:
    """A request without its sentences about how the order is or was paid (those naming a method or payment and no
    item change): what it asks of the order's items."""
    kept = []
    for x in _SENTENCE_END.split(text):
        if not x.strip():
            continue
        switch = [c for c in payment_switch_sentences(x) if c != x.strip()]
        if switch:  # "I want the order paid with <method> instead, the <item> in <value>, …": the rest of it
            rest = ""
            for c in _clauses(x):
                if c.strip() not in switch:
                    rest += (" " if rest.endswith(("want", "like", "need")) else ", " if rest else "") + c.strip()
                    continue
                # "…(<items>) I want the order paid with …": the bracket closed and the wish kept, the payment left out
                head = c[: c.rfind(")") + 1] if ")" in c else ""
                verb = re.search(r"\b(?:i|we)\s+(?:would like|'d like|want|need)\b", c, re.IGNORECASE)
                rest += (", " if rest and head else "") + " ".join(p for p in (head, verb.group(0) if verb else "") if p)
            kept.append(rest)
        elif _item_change_said(x.lower()) or not (payment_kinds(x) or re.search(r"\bpa(?:y|id|yment)\b|支付|付款", x.lower())):
            kept.append(x)
    return " ".join(x.strip() for x in kept)


def _item_change_said(lowered: str) -> bool:
    """Whether a sentence asks an item changed: a change verb not of the payment ("change the payment to …", "改用PayPal"),
    or "the <item> should be … instead"."""
    kinds = "|".join(p for _, p in PAYMENT_KINDS)
    return bool(_BE_INSTEAD.search(lowered)) or any(not _OF_PAYMENT.match(lowered, m.end()) for m in _ACTION_VERBS.finditer(lowered)) \
        or any(not re.match(rf"\s*(?:用|成)?\s*(?:{kinds}|支付|付款)", lowered[m.end():]) for m in _ZH_ROUTE_VERBS.finditer(lowered))


def payments_allowed(methods: list, order: dict, route: str) -> list[str]:
    """The customer's methods the policy allows for this action on this order: a refund goes to the
    original method or a gift card; a new method for the order is not the one it was paid with."""
    original = order["payment_history"][0]["payment_method_id"] if order["payment_history"] else None
    allowed = [m.payment_method_id for m in methods if route != "return" or m.payment_method_id == original or m.source == "gift_card"]
    return [i for i in allowed if not (route == "payment" and i == original)]


def payment_for(named: list[str], methods: list, order: dict, route: str) -> str | None:
    """The first of the named methods (ids or ORIGINAL) the policy allows for this action on this order."""
    original = order["payment_history"][0]["payment_method_id"] if order["payment_history"] else None
    allowed = set(payments_allowed(methods, order, route))
    for token in named:
        method_id = original if token == ORIGINAL else token
        if method_id in allowed:
            return method_id
    return None


def pick_payment(methods: list, order: dict, message: str, route: str) -> str | None:
    """The payment method the shopper names, in the order they name them, skipping any the policy
    does not allow here (a refund goes to the original method or a gift card)."""
    return payment_for(payments_named(methods, message), methods, order, route)


def order_part(text: str, order_id: str | None) -> str:
    """In a request naming several orders by id ("Return #A via <method>: <items>; for #B, change …"),
    the parts about one of them: from each mention of its id to the next other order's id, plus the
    messages (lines) that name no order at all (answers to the task's questions). Empty when the text
    names fewer than two orders or not this one (the whole text is about the task then)."""
    from assistant.slots import ORDER_RE

    if not order_id:
        return ""
    key = order_id.lstrip("#").upper()
    named = {m.group(1).upper() for m in ORDER_RE.finditer(text)}
    if len(named) < 2 or key not in named:
        return ""
    parts = []
    for line in text.split("\n"):
        marks = [(m.start(), m.group(1).upper()) for m in ORDER_RE.finditer(line)]
        if not marks:
            parts.append(line)
            continue
        on, start = False, 0
        for at, k in marks:
            if on and k != key:
                parts.append(line[start:at])
                on = False
            if not on and k == key:
                on, start = True, at
        if on:
            parts.append(line[start:])
    return "\n".join(p for p in parts if p.strip())


# -- references to the customer's own data ------------------------------------------------------


def orders_meant(text: str, orders: list[dict], candidates: list[dict]) -> list[dict]:
    """Narrow `candidates` (orders an action may touch) by what the text says of them: the one order
    holding the items it names (or, if none of the candidates does, the one order of any status
    that does: the flow then says what that order allows); items of several orders → the order of
    the item named first. Unchanged when the text names nothing that tells them apart."""
    said = read_slots(text)
    elsewhere = [o for o in orders if match_items(o, text, said, fallback=False)]
    allowed_ids = {o["order_id"] for o in candidates}
    named = [o for o in elsewhere if o["order_id"] in allowed_ids]
    if len(named) == 1 or (not named and len(elsewhere) == 1):
        return named or elsewhere
    if len(named) > 1 and (described := _described_in(text, named)):
        return described  # "swap the black <item>s for blue ones": the order whose <item> is black, not the one wished
    if len(named) > 1:
        for clause in re.split(r"[.,;!?\n]", text):
            first = [o for o in named if match_items(o, clause, read_slots(clause), fallback=False)]
            if len(first) == 1:
                return first
    return candidates


def _described_in(text: str, orders: list[dict]) -> list[dict]:
    """Of orders each holding an item of the one product the text names, the order whose item's own option values
    the text says first (`described_first`: what it is comes before what it should become); empty when that does not
    pick one."""
    lowered = text.lower()
    held = [(i, o) for o in orders for i in o["items"] if names_item(i, lowered)]
    if len({i["name"] for i, _ in held}) != 1 or (first := described_first(lowered, [i for i, _ in held])) is None:
        return []
    picked = list({o["order_id"]: o for i, o in held if i["item_id"] == first}.values())
    return picked if len(picked) == 1 else []


def address_pointed_to(message: str, orders: list[dict]) -> dict | None:
    """An address of one of the shopper's orders that the message points to instead of spelling
    it out ("the <city> address in one of my orders", "to my <city> address", "where the <item> was
    sent", "the same address as order <id>"): named by city, state code, street or an item shipped
    there, and only if exactly one address fits best. "…to my X address" phrases are read first."""
    if pointed := read_slots(message).reference_order_ids:  # the slots' one reading of "same address as (order) #W…"
        key = pointed[0].lstrip("#")
        other = next((o for o in orders if o["order_id"].lstrip("#") == key), None)
        if other is not None and other.get("address"):
            return dict(other["address"])
    targets = re.finditer(r"\bto (?:my |the |our )?((?:(?!\bto\b).){0,40}?)\baddress", message, re.IGNORECASE)
    for text in [t.group(1) for t in targets] + [message]:
        if found := address_named(text, orders):
            return found
    return None


_HOME = lexicon()["home_words"]
# The account's address as where something goes, in Chinese ("改成默认地址", "寄到我家"): read by both patterns below.
_TO_ACCOUNT_ZH = (r"(?:改|换|寄|送|发)(?:成|到|往|为|回)(?:我的)?(?:账户|个人资料)?(?:里|中)?的?默认地址"
                  rf"|(?:寄|送|发)(?:到|往|回)(?:我的?)?(?:{alternation(_HOME['zh'])}|(?:账户|个人资料)(?:上|里|中)的地址)")
_DEFAULT_ADDRESS = re.compile(r"\bto (?:my |the )?(?:default|profile|account)\b|\bback to (?:my |the )?default"
                              rf"|\bto (?:my|our) (?:{alternation(_HOME['en'])})\b"
                              r"|\bto (?:the |my )?(?:address|one) (?:on|in|from|of) (?:my |the )?(?:profile|account|file|record)\b"
                              r"|" + _TO_ACCOUNT_ZH)
# "don't ship it to my home": a refusing word before the address named, in its clause (no "but"/"instead" after it)
_REFUSING = re.compile("|".join(_HOME["refusing"]))


def _to_default(lowered: str) -> bool:
    """Whether the text names the account's own address as where an order goes, not refused in its clause."""
    for m in _DEFAULT_ADDRESS.finditer(lowered):
        clause = re.split(r"[.,;!?，。；！？]", lowered[: m.start()])[-1]
        refused = _REFUSING.search(clause)
        if not (refused and not re.search(r"\b(?:but|instead)\b|但|而是", clause[refused.end():])):
            return True
    return False
# "the address linked to my account", "the one on file": the account's own address described, not where an order goes
_ACCOUNTS_OWN = re.compile(r"(?<!\bto the )(?<!\bto my )(?<!\bto )\baddress(?:es)? (?:\w+ )?(?:linked|tied|attached|connected|associated|registered|saved|stored|kept|listed|on record)"
                           r" (?:to|with|on|in|under|for) (?:my |the |our )?(?:account|profile)\b|(?<!\bto the )(?<!\bto my )(?<!\bto )\baddress(?:es)? (?:i have |we have )?on (?:file|record)\b")


def where_it_went(text: str, orders: list[dict]) -> dict | None:
    """The address the text says an order went to, before it names the default address as the new one."""
    return address_named(re.sub(r"\bdefault address.*", "", text.lower()), orders)


def cancel_reason(text: str) -> str | None:
    """One of the policy's two cancellation reasons, if the text gives one."""
    lowered = text.lower()
    if re.search(r"mistake|by accident|accidentally|wrong|误|错", lowered):
        return "ordered by mistake"
    if re.search(r"no longer|don't need|do not need|not needed|不再需要|不需要|用不上", lowered):
        return "no longer needed"
    return None


def payment_kinds(message: str) -> set[str]:
    """Kinds of payment method the message names (gift card, PayPal, credit card)."""
    return {kind for kind, pattern in PAYMENT_KINDS if re.search(pattern, message.lower())}


def takes_only(text: str) -> bool:
    """Whether a change says it takes only the items it names ("only the <item>", "the <item> change alone", "只换<item>";
    reader.json only_one)."""
    return says(text.lower(), "only_one.words")


def read_correction(message: str, order: dict, frame, methods: list):
    """A change said instead of yes to a proposed item action: "only <item>", "also <item>", "also
    change item <id> to item <id>", "use the other card", "<method> instead". Returns the slots as
    they should now be (commands.Correct)."""
    from assistant.understand.commands import Correct

    item_ids, new_item_ids, method = list(frame.item_ids), list(frame.new_item_ids), frame.payment_method_id
    lowered = message.lower()
    proposed = {i["name"] for i in order["items"] if i["item_id"] in item_ids}
    if len(proposed) == 1:  # "the pricier one" means one of the proposed product
        lowered = re.sub(r"\bones?\b", next(iter(proposed)).lower(), lowered)
    named = [i for i in match_items(order, lowered, read_slots(lowered), fallback=False, everything=False) if i != AMBIGUOUS]
    if named:
        if takes_only(lowered):
            keep = [i for i in item_ids if i in named] or named
        elif re.search(r"\b(?:also|too|as well|add)\b", lowered):
            keep = item_ids + [i for i in named if i not in item_ids]
        else:  # "no, return the <item> in <value>"
            keep = named
        new = dict(zip(item_ids, new_item_ids))
        item_ids = [i for i in keep if i in new] + [i for i in keep if i not in new]
        new_item_ids = [new[i] for i in item_ids if i in new]
    pairs = id_pairs(lowered, order)
    if pairs and frame.route != "return":
        new = dict(zip(item_ids, new_item_ids)) | pairs
        item_ids = list(dict.fromkeys([*item_ids, *pairs]))
        new_item_ids = [new[i] for i in item_ids]
    if re.search(r"\b(?:other|another|different) (?:card|credit card|payment|method)", lowered):
        # "the other card": another method of the kind just proposed
        current = next((m for m in methods if m.payment_method_id == method), None)
        others = [m for m in methods if m is not current and (current is None or m.source == current.source)]
        method = others[0].payment_method_id if others else method
    elif payment_kinds(lowered) or re.search(r"_\d{5,}|original", lowered):
        method = pick_payment(methods, order, lowered, frame.route) or method
    return Correct(item_ids=item_ids, new_item_ids=new_item_ids, payment_method_id=method)


_OTHER_ONE = re.compile(r"\b(?:the )?other (?:one|unit)\b|\bthe (?:one|ones) (?:in|from) (?:the |my )?other order\b|另一个")


def item_elsewhere(message: str, order: dict, orders: list[dict], item_ids: list[str], allowed) -> tuple[str, list[str]] | None:
    """A correction at confirmation that means the same product in another order: "no, the more
    expensive one", "the cheaper one", "the other one" said of the one product just proposed, when
    several of the customer's orders (of a status the action `allowed`) hold it. Returns (that order's
    id, its item), or None when the words pick the item already proposed or tell nothing."""
    lowered = message.lower()
    proposed = {i["name"] for i in order["items"] if i["item_id"] in item_ids}
    if len(proposed) != 1:
        return None
    name = next(iter(proposed))
    held = [(i, o) for o in orders if allowed(o["status"]) for i in o["items"] if i["name"] == name]
    if len({o["order_id"] for _, o in held}) < 2:
        return None
    if says(lowered, "dearer"):
        item, other = max(held, key=lambda x: x[0]["price"])
    elif says(lowered, "cheaper"):
        item, other = min(held, key=lambda x: x[0]["price"])
    elif _OTHER_ONE.search(lowered):
        rest = [(i, o) for i, o in held if o["order_id"] != order["order_id"]]
        if len({i["item_id"] for i, _ in rest}) != 1:
            return None
        item, other = rest[0]
    else:
        return None
    if other["order_id"] == order["order_id"]:
        return None
    return other["order_id"], [item["item_id"]]


_BACK_REFERENCE = re.compile(
    r"\b(?:return|exchange|swap|change|modify|cancel|refund|send back)\w*\s+(?:(?:both|all) (?:of )?)?"
    r"(?:these|those|them|they|(?:the )?same (?:ones?|things?|items?))(?:\s+(?:two|three|four|both))?(?:\s+(?:things|items|ones|products))?\b"
    r"|把?(?:这|那)(?:两|几|些)(?:个|件|样)?(?:东西|商品)?(?:也)?(?:取消|退|换)"
    # "its colour", "swap the item for a bigger one": the order just dealt with; not "the item I got last month",
    # an item the words after it describe, nor "它的屏幕" (a part of a thing the message itself names)
    r"|\bits (?:only |one |single )?(?:items?|products?|colou?rs?|sizes?|options?)\b"
    r"|\b(?:return|exchange|swap|change|modify|switch|upgrade|cancel)\w*\s+(?:the|that|this) (?:order'?s )?(?:only |one |single )?item\b"
    r"(?!\s*#?\d)(?!\s+(?:i|we|you|that|which|who|from|in|of|on|with|bought|ordered|received|delivered|purchased|got)\b)"
    r"|它的(?:商品|东西|颜色|尺码|尺寸|款式|选项)|(?:这|那)个订单的?(?:商品|东西)")


_STATUS_WORD = r"(?:pending|delivered|processed|shipped|cancell?ed|canceled)"
# "my pending order", "the order which is pending", "my order which was delivered": an order described by its status
_BY_STATUS = re.compile(rf"\b{_STATUS_WORD}\s+orders?\b|\borders?(?:\s+of\s+(?:mine|ours))?,?\s+(?:(?:that|which)(?:'s|’s|\s+(?:is|are|was|were|has been|have been))?\s+)?"
                        rf"(?:still\s+|already\s+|now\s+)?{_STATUS_WORD}\b|(?:待处理|已送达|已发货|已取消)的?订单")


def refers_back(text: str, orders: list[dict]) -> bool:
    """Whether an order request points back at what was just dealt with ("cancel these two things",
    "return them as well", "把这两个取消") instead of naming an order or items: it names no item of the
    customer's orders and no order id. Such a request is about the last task's order, never another."""
    from assistant.slots import ORDER_RE

    lowered = text.lower()
    if not _BACK_REFERENCE.search(lowered) or ORDER_RE.search(text):
        return False
    if _BY_STATUS.search(lowered):
        return False  # "change my pending order's address and its item": the order it describes, not the last one
    return not any(names_item(i, lowered) for o in orders for i in o["items"])


_SAME_ORDER = re.compile(r"\b(?:in|from|of|on) (?:the|that|this) (?:very )?same order\b|\bsame order as (?:before|that one|the last one|earlier)\b|同一(?:个)?订单")


def same_order(text: str, order: dict) -> bool:
    """Whether a request points at the order just dealt with by saying so ("the <item> in the same order",
    "同一个订单里的…") and names an item that order holds: that order is meant, never another holding one too."""
    lowered = text.lower()
    return bool(_SAME_ORDER.search(lowered)) and any(names_item(i, lowered) for i in order["items"])


_NO_LONGER = re.compile(r"\bno longer (?:need|want|use)\b(?! to\b)(?![^.!?]*\?)"
                        # said of the thing: "the <item> is no longer needed", "the <items> aren't needed any more"
                        r"|\b(?:is|are) no longer (?:needed|wanted|required)\b(?![^.!?]*\?)"
                        r"|\b(?:isn'?t|aren'?t|is not|are not) (?:needed|wanted) (?:any ?more|after all)\b(?![^.!?]*\?)"
                        r"|\b(?:i|we) (?:don'?t|do not) (?:need|want|use) (?!to\b)(?:the |my |these |those )?[a-z0-9# ,-]{3,80}? (?:any ?more|after all)\b"
                        r"|不(?:再)?需要了|不想要了|用不(?:上|着)了"
                        # 我不想要那个<item>了, 不需要我买的<item>了: a thing of theirs pointed at, then 了
                        r"|不(?:再)?(?:需要|想要)(?:那个|这个|那些|这些|那件|这件|那台|这台|我的|我买的)[^，,。；;！？?？]{1,20}?了")


# where what a "no longer need" clause names ends: a sentence, or another clause about another item ("…, and the <item> should …")
_UNWANTED_CLAUSE = re.compile(r"[.;!?\n，。；！？]|,\s*(?:and|but)\s+(?=(?:the|my|its|their)\b)")


def no_longer_wanted(text: str) -> bool:
    """Whether the shopper says they no longer need things ("I no longer need the <item>, <item> and
    <item>", "I don't need the <item> anymore / after all", "我不需要了"): a request to undo an order of theirs (cancel,
    or return once delivered), not a search. A wish in a search ("I don't want leather") is not, nor a
    question ("I no longer need it, can you …?" is a request the rest of the message makes)."""
    return bool(_NO_LONGER.search(text.lower()))


_EARLIER_ADDRESS = re.compile(r"\b(?:the|my|our|this|that) new (?:home|house|place|address|apartment|flat)\b|\b(?:this|that|the same) address\b"
                              r"|\bthe address (?:i|we) (?:just )?(?:gave|said|mentioned|told you)\b|新地址|这个地址|那个地址")


def points_to_earlier_address(text: str) -> bool:
    """Whether a request names its new address only by pointing back at one said earlier in the
    conversation ("change it to the new home", "to that address", "改到新地址")."""
    return bool(_EARLIER_ADDRESS.search(text.lower()))


_FORMER_ADDRESS = re.compile(r"\b(?:the|my|our) (?:original|old|previous|former|earlier|first|prior) (?:one|address|home|place)\b"
                             r"|\b(?:change|put|set|switch|move|turn|revert|restore) (?:it|that|this|them|the \w+ address|my \w+ address)\s+back\b"
                             r"|\bback to (?:what|how|where) (?:it|that|this|they) (?:was|were|used to be)\b|\b(?:revert|undo) (?:the|that|this|my) (?:\w+ )?(?:address )?change\b"
                             r"|原来的地址|原地址|改回(?:去|来|原样)|地址.{0,6}改回|改回.{0,6}地址")  # not "把T恤改回M码": an option, not the address


def points_to_former_address(text: str) -> bool:
    """Whether an address change names its new address as the one it had before ("back to the original
    address", "put it back how it was", "改回原来的地址"): the address this conversation changed."""
    return bool(_FORMER_ADDRESS.search(text.lower()))


def asks_former_address(text: str) -> bool:
    """Whether the text asks for an address to be what it was before ("my profile address back to how it
    was, please"): an address request even where it names no verb of change."""
    return points_to_former_address(text) and bool(re.search(r"\baddress|地址", text.lower()))


_ORDER_ADDRESS = re.compile(r"\b(?:order|package|parcel|shipment)\b.{0,40}\bto\b|\b(?:send|ship|deliver|redirect|forward|mail)\w*\s+(?:it|them)\s+(?:to|there)\b|\border(?:s|'s|s')? address|address(?:es)? of (?:all |each of |both )?(?:my |the )?orders?\b|订单.{0,6}地址"
                            # "every order that has not shipped yet redirected to it", "the order with the <item> should go there"
                            r"|\borders?\b[^.;]{0,60}?\b(?:redirect\w*|re-?routed?|sent|shipped|delivered|go|come)\s+(?:to|there)\b"
                            # "use it for all my orders", "on each of the orders", "the orders as well"; orders still to come
                            # ("for all my future orders") are the account's default address
                            r"|\b(?:on|for|to)\s+(?:all|each|every|both)\s+(?:of\s+)?(?:my\s+|the\s+)?(?:(?!(?:future|next|upcoming|coming|later)\b)\w+\s+)?orders?\b|\bthe orders,? too\b|\borders as well\b")
_TO_DEFAULT_ADDRESS = re.compile(r"\b(?:back )?to (?:my |the )?(?:default|profile|account)\b(?: [\w']+){0,3}? address\b"
                                 # "to my home in <city>, the address on my account": the home, then what it is
                                 rf"|\bto (?:my|our) (?:{alternation(_HOME['en'])})\b(?: address)?(?: in [\w ]{1,30}?(?=[,.;!]|$))?(?:,? (?:the|my|which is the) (?:address|one) (?:on|in|of|from) (?:my |the )?(?:profile|account|file|record)\b)?"
                                 r"|\bto (?:my |the )?address (?:on|in|of|from) (?:my |the )?(?:profile|account|file)\b"
                                 r"|" + _TO_ACCOUNT_ZH)
# the account's address said to stay ("my account address stays as it is", "keep my default address", 默认地址不变)
_ACCOUNT_KEPT = re.compile(r"\b(?:(?:my|the) )?(?:default|user|profile|account|home) address\b[^.;,()]{0,12}?\b(?:stays?|should stay|"
                           r"can stay|remains?|is fine|as it is|unchanged|does ?n[o']t change|doesn't change|does not change|is the same)\b"
                           r"|\b(?:keep|leave)\b (?:my |the )?(?:default|user|profile|account|home) address\b|默认地址(?:不变|不用改|保持)")
_ACCOUNT_ADDRESS = re.compile(r"\b(?:default|user|profile|account)\b.{0,12}\baddress|默认地址"
                              r"|\baddress (?:on|of|in|for) (?:my |the )?(?:account|profile)\b|\b(?:profile|account)\b[^.;]{0,20}\buse (?:it|this|that)\b"
                              r"|\b(?:update|change|set) (?:my |the )?(?:account|profile)\b")


@lru_cache(maxsize=1)
def _goes_to() -> re.Pattern:
    """An order (or a word for it) then a word of where it is to go, as the end of the words before an address."""
    lex, heads = lexicon()["order_goes_to"], lexicon()["order_described"]["heads"]
    return re.compile(rf"\b(?:{alternation([*heads, *lex['subjects']])})\b.*?\b(?:{alternation(lex['en'])})\s+to\b.{{0,60}}$"
                      rf"|(?:{alternation(lex['zh_subjects'])}).*?(?:{alternation(lex['zh'])}).{{0,30}}$", re.S)


def order_goes_to_address(text: str) -> bool:
    """Whether the sentence giving an address says an order is to go there ("the order with the <item> needs to be
    delivered to <address>", "包裹要寄到<address>"): the order's shipping address, whatever else it says."""
    span = address_span(text)
    if span is None or says(text.lower(), "order_goes_to.account"):  # "my default address: from now on …": the account's
        return False
    before = re.split(r"(?<=[.!?;])\s+|[。！？；]", text[: span[0]].lower())[-1]
    return bool(_goes_to().search(before))


# What a return or an exchange is for says which one is meant, whatever verb is said: "return the kettle for the 2-litre
# one", "send the shoes back for a smaller size" is an exchange; "exchange the dumbbells for my money back" a return.
_FOR_MONEY = r"for\s+(?:my|a|the|full|a\s+full|your)?\s*(?:money\s+back|refund|cash|store\s+credit|credit)\b"
_FOR_ANOTHER = (r"for\s+(?:(?:the|a|an)\s+(?:(?!(?:refund|money|credit|cash|and|or|but)\b)[\w.'\"-]+\s+){0,4}?(?:one|ones|version|model|variant|pair|kind|type|size|colou?r)\b"
                r"|one\s+(?:in|with)\b|(?:a|the)\s+(?:smaller|bigger|larger|different|new)\b)")
_CLAUSE_ON = r"(?:[^.;!?]|\.(?=\S)){0,80}?"  # up to the sentence's end ("1.5-litre" is no end)
_RETURN_FOR = re.compile(rf"(?P<verb>\breturn(?:ing)?|\b(?:send|bring|take)(?:ing)?(?=(?:[^.;!?]|\.(?=\S)){{0,60}}\bback\b))"
                         rf"(?P<rest>['\"]?{_CLAUSE_ON}\b)(?={_FOR_ANOTHER})", re.IGNORECASE)
_EXCHANGE_FOR = re.compile(rf"(?P<verb>\bexchang(?:e|ing)|\bswap(?:ping)?|\btrad(?:e|ing))(?P<rest>['\"]?{_CLAUSE_ON}\b)(?={_FOR_MONEY})",
                           re.IGNORECASE)


def verbs_by_purpose(text: str) -> str:
    """The text with each return or exchange verb the one its purpose says (`_RETURN_FOR`, `_EXCHANGE_FOR`): people
    say "return it for the other colour" for a swap and "exchange it for my money back" for a refund."""
    if not re.search(r"\bfor\b", text, re.IGNORECASE):
        return text
    text = _EXCHANGE_FOR.sub(lambda m: "return" + m.group("rest"), text)
    return _RETURN_FOR.sub(lambda m: "exchange" + m.group("rest"), text)


def read_action(text: str, names_product: bool = False) -> Action:
    """Which change a request about an order or an address asks for: the order's address ("change my
    <item> order to my <city> address", "订单地址"), the account's default address ("my default
    address"), both, the payment method ("pay with <method> instead") or the items. An address named
    with neither cue is a tie the reader may break."""
    lowered = text.lower()
    groups = {1: "return", 2: "change", 3: "cancel"}
    named = list(dict.fromkeys(groups[next(g for g in (1, 2, 3) if m.group(g))] for m in _ACTION_VERBS.finditer(lowered)))
    if no_longer_wanted(text):  # "I no longer need the <item>": undone, by cancelling or, once delivered, returning
        named = list(dict.fromkeys([*named, "cancel", "return"]))
    if re.search(r"\baddress\b|地址", lowered):
        named.append("address")
    own = _ACCOUNTS_OWN.search(lowered)
    to_default = _to_default(_ACCOUNTS_OWN.sub(" ", lowered))  # "…to my default address": the account's own is the new one
    goes = order_goes_to_address(text)  # "the order … should go to <address>": that order's address
    if goes or re.search(r"address|ship to|地址|\b(?:shipped|sent|delivered|redirected) (?:to|there)\b|\b(?:send|ship|deliver|redirect|forward|mail)\w*\b[^.;!?]{0,40}?\bto\b", lowered) and (
            "address" in lowered or "地址" in lowered or "ship to" in lowered or to_default or parse_address(text)):
        # "…to my default address in <city>": the default address is where the order goes, not what changes
        account = _ACCOUNT_KEPT.sub(" ", _TO_DEFAULT_ADDRESS.sub(" ", lowered))  # "(my account address stays as it is)": not changed
        flows = [f for f, cue, words in (("modify_address", _ORDER_ADDRESS, lowered), ("default_address", _ACCOUNT_ADDRESS, account))
                 if cue.search(words) or (f == "modify_address" and goes) or (f == "default_address" and own and not to_default)]
        if to_default and not flows:  # the default address can only be where an order goes
            flows = ["modify_address"]
        return Action(flows=flows, tied=[] if flows else ["default_address", "modify_address"], named=named,  # the account's, unless told
                      to_default=to_default)
    if asks_payment_change(lowered, names_product):
        return Action(flows=["modify_payment"], named=named, to_default=to_default)
    return Action(flows=["modify_items"] if names_product or _ACTION_VERBS.search(lowered) else [], named=named, to_default=to_default)


def action_routes(action: Action, status: str) -> list[str]:
    """The routes an `Action`'s named actions are for an order of this status (`action_route`)."""
    return [r for a in action.named if (r := action_route(a, status))]


# "charged to my Mastercard", "paid with PayPal instead", "billed to the Visa": who pays, said of an order
_CHARGED_TO = re.compile(r"\b(?:charged?|billed?|paid)\s+(?:with|to|on|by|via|using|onto)\b(?!\s+(?:the\s+)?(?:difference|extra))")


def asks_payment_change(lowered: str, names_product: bool = False) -> bool:
    """"Pay with PayPal instead", "change the payment method": about paying, not about items' options.
    A method named beside a product ("modify the <product> to …, via PayPal") pays for an item change."""
    if re.search(r"size|colou?r|option|item|尺码|颜色", lowered):
        return False
    # "the <item> should be the glass one instead. Pay with PayPal", "modify the <item> …, pay with PayPal": it pays for the change
    if _BE_INSTEAD.search(lowered) or (names_product and any(
            m.group(2) and not _OF_PAYMENT.match(lowered, m.end()) for m in _ACTION_VERBS.finditer(lowered))):
        return False
    if re.search(r"payment|pay with|pay for|支付|付款", lowered):
        return True
    if _CHARGED_TO.search(lowered) and not (names_product and _ACTION_VERBS.search(lowered)):
        return True  # "the <item> order charged to my Mastercard instead"; not "modify the <item>, paid with PayPal"
    return bool(payment_kinds(lowered)) and not names_product


_ALL_ORDERS = re.compile(r"\b(?:all|both|each|every one) (?:of )?(?:my |the )?(?:(?P<status>pending|delivered|processed) |open |other |possible |eligible |remaining |current )?orders?\b"
                         r"|\bevery (?:(?P<status2>pending|delivered) )?order\b|\ball (?:of )?(?:my |the )?order(?:s'?)? address(?:es)?\b"
                         # "everything I ordered", "all the things I bought": every order, each with all its items
                         r"|(?:" + _EVERY_THING + r"|\ball (?:of )?(?:the )?(?:things|items|stuff|products)) (?:that )?(?:i(?:'ve|’ve)? )?(?:have |had )?(?:ever )?(?:ordered|bought|purchased|got(?:ten)?)\b"
                         # 所有(待处理的)订单, 两个订单, 待处理的订单都…: each order (of that status)
                         r"|(?:所有|全部|每个|两个|三个)的?(?:(?P<status_zh>待处理|已送达)的?)?(?:订单|单子)|(?:(?P<status_zh2>待处理|已送达)的)?(?:订单|单子)(?:全|都)")
_ZH_STATUS = {"待处理": "pending", "已送达": "delivered"}
_ONE_OF = re.compile(r"\bonly (?:[a-z']+ ){0,3}one\b|(?<!every )(?<!every single )\bone of (?:them|the|my)\b|\b(?:the )?(?:other|second) one\b")


def _mention(item: dict, lowered: str) -> int | None:
    """Where the text first names the item's product (see `_name_pattern`, `_zh_named`), or None."""
    m = re.search(_name_pattern(item), lowered)
    at = [m.start()] if m else []
    return min([*at, *(p for p, said in _zh_named(lowered) if said == item["name"].lower())], default=None)


_WHOLE_ORDER = re.compile(r"\b(?:whole|entire|full|complete) order\b|" + _EVERYTHING_WORD + r"|\ball (?:of )?(?:the |its |my )?items\b|整个订单|全部|" + _TO_ALL)


@lru_cache(maxsize=1)
def _cancel_spans() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """What a cancellation, or a removal from the order ("drop only the <item>", "take the <item> off"), acts on:
    the words after its verb; the same said in the passive ("I want the <item> in it cancelled", "one of them
    taken off", 把<item>去掉); and where a part kept begins ("… and keep the rest"). Words: `removing` in reader.json."""
    lex = lexicon()["removing"]
    split = rf"(?:{alternation(lex['split'])})(?=[^.;!?\n]{{0,60}}?\b(?:off|out)\b)"
    verbs = rf"\b(?:cancel(?:l?ing|l?ed|s)?|{alternation(lex['verbs'])}|{split})\b(?!\s+(?:{alternation(lex['not_after'])})\b)"
    acting = re.compile(rf"{verbs}([^.;!?\n]*)|(?:{alternation(lex['zh'])})([^，,。；;！？\n]*)")
    done = re.compile(rf"\b(?:want|like|need|get|have|be)\s+([^.;!?\n]*?)\s+(?:to be\s+)?(?:cancell?ed|{alternation(lex['done'])})\b"
                      rf"|把([^，,。；;！？\n]*?)(?:{alternation(lex['zh'])}|取消)")
    keeping = re.compile(rf"\b(?:(?:and|but|while)\s+)?(?:{alternation(lex['keeping'])})\b|保留|留着")
    return acting, done, keeping


def browses(text: str) -> bool:
    """"Show me <product>s", "switch the filter to size large", 给我看…: products asked to be shown or a search's filter
    changed (reader.json `browsing`), which an order's item is not."""
    lex = lexicon()["browsing"]
    return refines_search(text) or bool(re.search(rf"\b(?:{alternation(lex['en'])})\b|{alternation(lex['zh'])}", text.lower()))


# "the filter", "size filter", "filter by price": a search's; "a carbon filter", "the HEPA filter" name a product's part
_SEARCH_FILTER = re.compile(r"(?:\b(?:the|a|that|this|search|price|size|colou?r|brand|category|rating|stock)\s+|^)filters?\b"
                            r"|\bfilters?\s+(?:to|by|for|on|out|down|again)\b|\bfilter(?:ed|ing)\b")


def refines_search(text: str) -> bool:
    """"Change the size filter to medium", 把筛选条件换成大号: a search's filter, which no order has."""
    lowered = text.lower()
    return bool(_SEARCH_FILTER.search(lowered) or re.search(alternation(lexicon()["browsing"]["filter"]), lowered))


def removed_parts(text: str) -> list[str]:
    """What a removal from an order takes off ("drop only the <item> from my order" → "only the <item> from my order",
    "I want one of them taken off" → "one of them", 把<item>去掉 → "<item>"); none when it removes nothing so, or
    when it also asks a return or a change (then the removal is part of that request)."""
    lowered = text.lower()
    acting, done, _ = _cancel_spans()
    # a removal said of part of an order: in the passive, "only"/"just" or "one of" after the verb, or "from/off … order"
    # ("there was a price drop on the lamp" removes nothing)
    found = [m for m in done.finditer(lowered) if not re.search(r"cancel|取消", m.group(0))] + [
        m for m in acting.finditer(lowered) if not re.match(r"cancel|取消", m.group(0)) and (
            m.group(2) is not None or re.match(r"\s*(?:only|just)\b", m.group(1)) or says_one_of(m.group(1))
            or re.search(r"\b(?:from|off|out of)\s+(?:\w+\s+){0,3}?(?:orders?|purchases?)\b", m.group(1)))]
    if any(a != 3 for a in _action_groups(lowered)):
        return []
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in found]


def names_an_order(text: str) -> bool:
    """Whether the text speaks of an order ("my order", "#W…", 订单), not only of things."""
    return bool(re.search(r"\b(?:orders?|purchases?)\b|#w\d|订单", text.lower()))


@lru_cache(maxsize=1)
def _own_order() -> re.Pattern:
    """An order of the shopper's own as said (reader.json `own_order`): possessed, by its status, where it went, or
    as theirs got or placed."""
    lex = lexicon()["own_order"]
    heads = rf"(?:{alternation(lex['heads'])})\b"
    english = (rf"\b(?:{alternation(lex['possessive'])})\s+(?:[a-z0-9'-]+\s+){{0,2}}?{heads}"
               rf"|\b(?:{alternation(lex['statuses'])})\s+{heads}"
               rf"|\b{heads}\s+(?:(?:that|which)\s+)?(?:{alternation(lex['sent'])}|{alternation(lex['placed'])})\b")
    return re.compile(rf"{english}|{_BY_STATUS.pattern}|{'|'.join(lex['zh'])}")


def about_own_order(text: str) -> bool:
    """Whether the text speaks of an order of the shopper's own ("my delivered order (a <item>, a <item>)", "the
    delivery that went to <city>", "two changes to my pending order", 我的订单): what it lists then says which order,
    it is no product query; not "an order" in general ("can I order it?", "before I place an order")."""
    return bool(_own_order().search(text.lower()))


def _action_groups(lowered: str) -> list[int]:
    """The route groups (1 return, 2 change, 3 cancel) of the action verbs the text says."""
    return [next(g for g in (1, 2, 3) if m.group(g)) for m in _ACTION_VERBS.finditer(lowered)]


# the same in Chinese: what follows 取消 up to the sentence's end ("取消订单#W…里的<item>"); an item said just before
# 订单 identifies the order instead ("取消有<item>的订单", "取消<item>那个订单")
_ZH_CANCEL_SPAN = re.compile(r"取消([^。；！？\n]*)")
_ZH_ORDER_AFTER = re.compile(r"[^，,。；！？]{1,24}?订单")


_CANCEL_FROM = re.compile(r"\b(?:cancel|remove|take)\s+(?:it|that|this|them|those|these)\s+(?:out\s+)?(?:from|of|off)\s+(?:my|the|this|that)\s+order\b")


# "cancel a few of the things in it", "cancelling part of it", "cancel only this item": a part of the order, unnamed
_CANCEL_SOME = re.compile(r"\bcancel(?:l?ing|l?ed|s)?\s+(?:(?:only|just)\s+)?(?:(?:some|part|a few|certain|one|a couple)\s+(?:of\s+)?"
                          r"(?:(?:the|my|its|those|these)\s+)?(?:items?|things?|products?|it)\b|(?:partial|single|individual|separate)\s+(?:items?|products?|things?)\b"
                          r"|(?:only|just)\s+(?:that|this|one|a single|the one)\s+(?:item|product|thing)\b|(?:(?:only|just)\s+)?part of (?:my|the|this|that|it)\b(?:\s+order\b)?)")


def whole_cancel_answer(text: str) -> str | None:
    """The answer to "only a whole order can be cancelled: cancel all of it, or leave it as it is?": "nothing"
    (leave it), "cancel" (the whole order: "then cancel it", "cancel that whole order instead"), or None
    (something else; words: `whole_cancel_answer` in reader.json)."""
    lowered = text.lower()
    if says(lowered, "whole_cancel_answer.leave") or _NOTHING.search(lowered):
        return "nothing"
    # "cancel my other order then" points elsewhere; "what would cancelling everything cost?" asks: neither is the answer
    if says(lowered, "whole_cancel_answer.cancel") and not only_negated(lowered, "cancel") and not points_elsewhere(lowered) \
            and not any(_asks(x) or x.rstrip().endswith(("?", "？")) for x in _sentences_said(text)):
        return "cancel"
    return None


def after_decline(text: str) -> str:
    """What a message says after declining the whole-order question ("no thanks, I'd like to return the <item>
    instead", "leave it, but where is my order?", "算了，我想退货"): a request or question of its own, to be handled
    as a new message; "" when the decline is all it says ("no, leave it as it is then", "keep the order")."""
    lowered = text.lower()
    ends = [m.end() for m in _NOTHING.finditer(lowered)] + said_ends(lowered, "whole_cancel_answer.leave")
    rest = text[max(ends):].strip(" ,，.。;；:：!！-—") if ends else ""
    said = rest.lower()
    asks = "?" in rest or "？" in rest or any(_asks(x) for x in _sentences_said(rest))
    # an action asked for, not only "I don't want to cancel it"
    acts = action_verb_named(said) and not (only_negated(said, "cancel") and not action_verb_named(re.sub(r"cancel\w*|取消", " ", said)))
    return rest if rest and (asks or acts or read_slots(rest).order_ids) else ""

_REFUSED_BEFORE = re.compile(r"\b(?:never|not|don'?t|do not|won'?t)\b(?:\s+[\w'-]+){0,5}\s*$")


def _without_refused_whole(lowered: str) -> str:
    """The text without whole-order words its own clause refuses or only supposes ("please don't cancel the whole
    thing… I mean the whole order", "unless the full order has to go"): those say what the shopper does not ask for."""
    for m in reversed(list(_WHOLE_ORDER.finditer(lowered))):
        clause = re.split(r"[.,;!?]", lowered[: m.start()])[-1]
        if _REFUSED_BEFORE.search(clause) or _SUPPOSED_BEFORE.search(clause):
            lowered = lowered[: m.start()] + " " * (m.end() - m.start()) + lowered[m.end():]
    return lowered


def cancels_part(text: str, order: dict, referred: list[str] = (), elsewhere: list[dict] = ()) -> list[str]:
    """A cancellation naming some of an order's items as what to cancel ("cancel the <item> in it",
    "cancel only the <item>"), not the order they identify ("cancel the order with the <item>", "cancel
    my <item> order"): the names of the order's other items (a cancellation is of a whole order).
    "Cancel it from my order" is the item just talked about (`referred`, when the order holds it).
    Empty when the whole order is meant, or said to be acceptable ("…if not, cancel all of it"). Things said to be
    no longer needed are a part too, unless they include products only the customer's other orders hold (`elsewhere`,
    their items): a list of things across orders undoes each order holding them."""
    # "cancel the <item> from the order that also has a <item>": the latter only says which order
    lowered = except_words_read(_CONTEXT.sub(" ", without_order_described(text.lower())), _names_of(order["items"]), _taken_by_action)
    if cut := _except_cut(lowered):  # "cancel everything but the <item>": all of it save what is left out, a part
        head, tail = except_scope(lowered, cut.start(), cut.end())
        left = [i for i in order["items"] if names_item(i, tail)]
        if left and len(left) < len(order["items"]) and (_in_action(_WHOLE_ORDER, head, each=True) or _EVERYTHING.search(head)):
            return list(dict.fromkeys(i["name"] for i in left))
    if _in_action(_WHOLE_ORDER, _without_refused_whole(lowered), order["items"], each=True):  # not "the whole order is late, so cancel the <item>"
        return []
    if _CANCEL_SOME.search(lowered) and len(order["items"]) > 1:  # a part named by no item: all it holds is said
        return list(dict.fromkeys(i["name"] for i in order["items"]))
    named: set[str] = {i["item_id"] for i in order["items"] if i["item_id"] in referred} if _CANCEL_FROM.search(lowered) else set()
    acting, done, keeping = _cancel_spans()
    counts = Counter(i["item_id"] for i in order["items"])
    for m in [*acting.finditer(lowered), *done.finditer(lowered)]:
        group = next(g for g in range(1, 4) if m.group(g) is not None)
        span = keeping.split(m.group(group), 1)[0]  # "drop the <item> and keep the rest"
        verb = lowered[m.start():m.start(group)] if m.start(group) > m.start() else lowered[m.end(group):m.end()]
        if not re.search(r"cancel|取消", verb) and re.match(r"\s*(?:it|them|this|that|these|those)\b", span) \
                and not any(_mention(i, span) is not None for i in order["items"]):
            # "I ordered a <item> by mistake and want to remove it from my order": an item (an order is not removed
            # from an order), the one the sentence named before; one unnamed is a part too
            before = lowered[max((x.end() for x in _SENTENCE_END.finditer(lowered, 0, m.start())), default=0):m.start()]
            said = {i["item_id"] for i in order["items"] if _mention(i, before) is not None}
            off = re.match(r"\s*\w+\s+(?:out\s+)?(?:from|off|out of)\b", span)  # "remove it from …": "drop it" may be the order
            if (said or off) and said < {i["item_id"] for i in order["items"]}:
                return list(dict.fromkeys(i["name"] for i in order["items"] if i["item_id"] not in said))
        if says_one_of(span) and any(n > 1 for n in counts.values()):
            # "take one of the two <item>s off": one of identical items, the other stays
            twins = [i for i in order["items"] if counts[i["item_id"]] > 1
                     and (_mention(i, span) is not None or re.search(r"\b(?:them|those|these|ones)\b|其中", span))]
            if twins:
                return list(dict.fromkeys(i["name"] for i in order["items"]))
        order_word = re.search(r"\borders?\b", span)
        for item in order["items"]:
            at = _mention(item, span)
            if at is None or (order_word and order_word.start() < at):
                continue  # "cancel the order with the <item>"
            if re.match(r"[a-z0-9-]+(?: (?!(?:in|from|of|inside|on)\b)[a-z0-9-]+){0,2}? orders?\b", span[at:]):
                continue  # "cancel my <item> order"
            named.add(item["item_id"])
    for clause in _UNWANTED_CLAUSE.split(lowered):  # "I don't need the <item> after all", "<item>我不需要了": those undone
        if _NO_LONGER.search(clause) and not any(_mention(i, clause) is not None for i in elsewhere
                                                 if i["name"] not in {x["name"] for x in order["items"]}):
            named |= {i["item_id"] for i in order["items"] if _mention(i, clause) is not None}
    for m in _ZH_CANCEL_SPAN.finditer(lowered):
        span = m.group(1)
        for item in order["items"]:
            at = _mention(item, span)
            if at is not None and not _ZH_ORDER_AFTER.match(span, at):
                named.add(item["item_id"])
    if not named and _CANCEL_FROM.search(lowered) and len(order["items"]) > 1:
        # "take it off the order" before the item was talked about: an order is not removed from an order, so a part
        # is meant, unnamed; all the order holds is said (the whole order only if the shopper then asks for it)
        return list(dict.fromkeys(i["name"] for i in order["items"]))
    if not named or named >= {i["item_id"] for i in order["items"]}:
        return []
    return list(dict.fromkeys(i["name"] for i in order["items"] if i["item_id"] not in named))


def orders_in_turn(text: str, orders: list[dict], candidates: list[dict]) -> list[dict]:
    """Several of the customer's orders one request means, in the order named: "all my pending
    orders", "everything I ordered", "all my <item>s", "every <item>" or "two <item>s" held by several orders, or items
    held by different orders named one after another ("the <item>, the <item> and the <item>", "the
    <item> …, and the <item> (in another order) …"). Empty when the text means one order or cannot tell."""
    lowered = text.lower()
    if (m := _ALL_ORDERS.search(lowered)) and _in_action(_ALL_ORDERS, lowered, [i for o in candidates for i in o["items"]], each=True):
        status = m.group("status") or m.group("status2") or _ZH_STATUS.get(m.group("status_zh") or m.group("status_zh2") or "")
        picked = [o for o in candidates if not status or o["status"].startswith(status)]
        if len(picked) > 1:
            return picked
    head = except_words_read(_CONTEXT.sub(" ", lowered), _names_of([i for o in orders for i in o["items"]]), _taken_by_action)  # "the <item> I got with the <item>": not meant
    if cut := _except_cut(head):  # "…except the <item>": not meant either
        head = except_scope(head, cut.start(), cut.end())[0]
    if not _ONE_OF.search(head) and not says(head, "cheaper") and not says(head, "dearer"):
        # "all my <item>s", "both <item>s", "two <item>s", "every <item> in my orders": every candidate holding one
        # (of the kind described: "all my small <item>s" are those in size S)
        for m in re.finditer(r"\b(?:all (?:of )?(?:my |the )?|both (?:of )?(?:my |the )?|two |three |each (?:of (?:my |the ))?"
                             r"|every (?:single )?(?:one of (?:my |the ))?)((?:[a-z0-9-]+ ){0,3}[a-z0-9-]+)", head):
            words = m.group(1)
            siblings = [i for o in candidates for i in o["items"]]
            holding = [o for o in candidates if any(names_item(i, words) and _described(i, words, siblings) for i in o["items"])]
            if len(holding) > 1:
                return holding
    # Items whose product only one candidate holds, named in turn: each holder, in the order first named.
    holders: dict[str, list[dict]] = {}
    for o in candidates:
        for name in {i["name"] for i in o["items"]}:
            holders.setdefault(name, []).append(o)
    last_words: dict[str, set[str]] = {}  # "kettle" of two products ("tea kettle", "electric kettle") names neither alone
    for name in holders:
        last_words.setdefault(re.findall(r"[a-z]+", name.lower())[-1], set()).add(name)

    def named_at(item: dict) -> int | None:
        if len(last_words[re.findall(r"[a-z]+", item["name"].lower())[-1]]) > 1:
            m = re.search(rf"\b{re.escape(item['name'].lower())}", head)
            return m.start() if m else None
        return _mention(item, head)

    first: dict[str, int] = {}
    for o in candidates:
        at = [p for i in o["items"] if len(holders[i["name"]]) == 1 and (p := named_at(i)) is not None]
        if at:
            first[o["order_id"]] = min(at)
    if len(first) > 1:
        return sorted((o for o in candidates if o["order_id"] in first), key=lambda o: first[o["order_id"]])
    in_turn: list[dict] = []
    for clause in re.split(r"[.;!?\n]|,? and (?=i |to |the |my |also )", text, flags=re.IGNORECASE):
        hit = [o for o in candidates if match_items(o, clause, read_slots(clause), fallback=False, everything=False)]
        if len(hit) == 1 and hit[0] not in in_turn:
            in_turn.append(hit[0])
    return in_turn if len(in_turn) > 1 else []


def _described(item: dict, words: str, siblings: list[dict]) -> bool:
    """Whether the words before an item's name fit it ("all my small <item>s" are those in size S): no
    word is an option value that other items of its product have and it does not. Words naming no
    option value ("pending", "old") say nothing against it."""
    values = {str(v).lower() for v in item["options"].values()}
    others = {str(v).lower() for i in siblings if i["name"] == item["name"] for v in i["options"].values()} - values
    said = set(re.findall(r"[a-z0-9-]+", words))
    said |= {SIZE_WORDS[w] for w in said if w in SIZE_WORDS and values & {"s", "m", "l", "xs", "xl", "xxl"}}
    return not said & others


def by_item_price(text: str, candidates: list[dict]) -> list[dict]:
    """"The pricier one" / "the cheaper one" of a product several candidates hold ("I got two
    <item>s, return the cheaper one"): the order holding that item. Unchanged when the text says neither."""
    lowered = text.lower()
    way = max if says(lowered, "dearer") else min if says(lowered, "cheaper") else None
    if way is None:
        return candidates
    held = [(i, o) for o in candidates for i in o["items"] if names_item(i, lowered)]
    names = {i["name"] for i, _ in held}
    if len(names) != 1 or len({o["order_id"] for _, o in held}) < 2:
        return candidates
    item, order = way(held, key=lambda x: x[0]["price"])
    return [order]


@lru_cache(maxsize=1)
def _product_words() -> tuple[str, ...]:
    """The shop's product names and their other names (aliases.json), lower case."""
    return tuple({w.lower() for w in (*_names()["zh_names"], *_names()["aliases"]) if not w.startswith("_")})


@lru_cache(maxsize=1)
def _relative_item() -> re.Pattern:
    """"The cheaper of the two", "the two most expensive things", "the bigger one", 便宜的那个, 最贵的两件: group
    "word" the comparison (English or Chinese), "count" how many it picks when said."""
    lex, rel = lexicon(), lexicon()["relative_item"]
    sizes = "|".join(f"(?:{pattern})" for pattern, _, _ in COMPARATIVES)
    words = rf"{alternation([*lex['cheaper'], *lex['dearer']])}|{sizes}"
    english = (rf"(?<!\w)(?<!{')(?<!'.join(w + ' ' for w in rel['not_after'])})the\s+(?:(?P<count>{alternation(NUMBER_WORDS)}|\d)\s+)?"
               rf"(?P<word>{words})(?=\s+(?P<noun>{alternation(rel['nouns'])})\b|\s*(?:[.,;!?]|$))")
    zh_words = alternation([*rel["zh_cheaper"], *rel["zh_dearer"]])
    chinese = (rf"(?:{alternation(rel['zh_degrees'])})?(?P<zh>{zh_words}|{sizes})(?:{alternation(rel['zh_softeners'])})?的"
               rf"(?:那)?(?P<zh_count>{alternation(rel['zh_counts'])})?(?:{alternation(rel['zh_nouns'])})")
    return re.compile(rf"{english}|{chinese}")


def by_relative(text: str, items: list[dict], listed: list[dict] = ()) -> list[str] | None:
    """The item(s) of an order a comparison among them picks ("return the cheaper of the two", "the two most
    expensive things in it", "the bigger one", 便宜的那个): by price, or by the size-like option all of them have.
    `listed`: items the text named in passing ("I got a <item> and a <item> in it"), those "of the two" compares.
    None when the text makes no such comparison; empty when it does not pick (a tie, or items that have no size in
    common: the shopper is asked)."""
    lowered = text.lower()
    m = _relative_item().search(lowered)
    rel = lexicon()["relative_item"]
    if m is None or not items or re.search(rf"(?:{alternation(rel['zh_not_after'])})(?:{alternation(rel['zh_degrees'])})?$", lowered[:m.start()]):
        return None  # none, or 换成便宜的那个: the new item wished
    after = re.match(r"[^.,;!?，。；！？]*", lowered[m.end():]).group(0)
    if not any(names_item(i, after) for i in items) and any(re.search(rf"(?<![a-z]){re.escape(p)}", after) for p in _product_words()):
        return None  # "the cheaper of the two <product>s", a product this order does not hold: not this order's
    if len(listed) > 1 and (m.group("noun") or "").startswith("of "):
        items = list(listed)
    said = m.group("word") or m.group("zh")
    count = m.group("count") or m.group("zh_count")
    n = NUMBER_WORDS.get(count) or rel["zh_counts"].get(count) or int(count) if count else 1
    if says(said, "cheaper") or said in rel["zh_cheaper"]:
        key, way = (lambda i: i["price"]), -1
    elif says(said, "dearer") or said in rel["zh_dearer"]:
        key, way = (lambda i: i["price"]), 1
    else:  # bigger / smaller: the one option of those the comparative reads that every item has
        direction, keys = next((d, k) for pattern, d, k in COMPARATIVES if re.search(pattern, said))
        common = [k for k in keys if all(k in (i.get("options") or {}) for i in items)]
        if len(common) != 1:
            return []
        key, way = (lambda i: ordinal(i["options"][common[0]])), direction
    ranked = sorted(items, key=key, reverse=way > 0)
    if n >= len(ranked) or key(ranked[n - 1]) == key(ranked[n]):
        return []  # "the cheaper of the two" of one item, or two alike: no comparison picks one
    return [i["item_id"] for i in ranked[:n]]


@lru_cache(maxsize=1)
def _value_pointer() -> re.Pattern:
    """"The black one", "the blue items", 黑色的那个, 蓝色的那件: an item pointed at by what it looks like instead of its
    name. Group "words" (English) or "zh" (Chinese) holds what is said of it, "noun" tells one from several."""
    rel = lexicon()["relative_item"]
    nouns = [n for n in rel["nouns"] if " " not in n]  # "one", "items", …; "of the two" compares, it does not describe
    english = (rf"(?<!\w)(?<!{')(?<!'.join(w + ' ' for w in rel['not_after'])})the\s+(?P<words>[a-z0-9][a-z0-9.'-]*(?:\s+[a-z0-9][a-z0-9.'-]*){{0,2}}?)\s+"
               rf"(?P<noun>{alternation(nouns)})\b")
    chinese = rf"(?P<zh>[\u3400-\u9fff]{{1,6}}?)的(?P<zh_noun>{alternation(rel['zh_nouns'])})"
    return re.compile(rf"{english}|{chinese}")


def by_value(text: str, items: list[dict]) -> list[str] | None:
    """The item(s) of an order an option value points at where no name is said ("return the black one", "the blue
    items", 黑色的那个): those whose options hold every value said when some other item does not, for each such
    phrase. None when the text points at no item this way; empty when one item is meant and several fit (asked)."""
    rel, picked = lexicon()["relative_item"], None
    own = {i["item_id"]: {str(v).lower() for v in (i.get("options") or {}).values()} for i in items}
    values = {v for vals in own.values() for v in vals if len(v) > 1}
    for m in _value_pointer().finditer(text.lower()):
        if m.group("zh") is not None:
            if any(w in text.lower()[max(0, m.start() - 3):m.end()] for w in rel["zh_not_after"]):
                continue  # 换成黑色的那个: the new item wished
            words, several = option_text(m.group("zh")), False
        else:
            words, several = m.group("words"), m.group("noun").endswith("s")
        said = {v for v in values if re.search(value_re(v), words)}
        if not said:
            continue
        fit = [i for i, vals in own.items() if said <= vals]
        if not fit or len(fit) == len(items):
            continue  # a value every item has (or none) tells nothing
        if not several and len(fit) > 1:
            return []
        picked = [*(picked or []), *(i for i in fit if i not in (picked or []))]  # "the glass one and the blue one": both
    return picked


_OF_PAYMENT = re.compile(r"\s+(?:(?:the|my|its|their|this|that|your)\s+)?(?:order'?s?\s+)?(?:payment|pay\b|billing)")


_ADDRESS_WORD = re.compile(r"\baddress(?:es)?\b|地址")
# where a sentence asking two things of one order is cut: commas, semicolons, "and", "，", "并且"
_CLAUSE_CUT = re.compile(r"\s*[,;，；]\s*(?:and\s+|then\s+)?|\s+and\s+|并且|而且|还要")


def address_span(text: str) -> tuple[int, int] | None:
    """Where in the text the first address `parse_address` reads from free text stands (start, end); None if none."""
    after_last = 0
    for zip_match in _ZIP.finditer(text):
        for number in _HOUSE_NUMBER.finditer(text, max(after_last, zip_match.start() - 160), zip_match.start()):
            if _fields_of(text[number.start() : zip_match.end()]):
                return number.start(), zip_match.end()
        after_last = zip_match.end()
    return None


def _clauses(sentence: str) -> list[str]:
    """The sentence cut at `_CLAUSE_CUT`, never inside an address ("…to 12 Oak Lane, Apt 4, Denver, CO 80203"):
    a clause keeps the whole address it gives."""
    span = address_span(sentence)
    if span is None:
        return _CLAUSE_CUT.split(sentence)
    head, tail = _CLAUSE_CUT.split(sentence[: span[0]]), _CLAUSE_CUT.split(sentence[span[1] :])
    return [*head[:-1], head[-1] + sentence[span[0] : span[1]] + tail[0], *tail[1:]]


def without_address_clauses(sentence: str) -> str:
    """The sentence without its clauses about an address (that is the address change itself): "change
    the order's address to my default one, and switch its item to the blue one" → "switch its item to the blue one"."""
    if not _ADDRESS_WORD.search(sentence.lower()):
        return sentence
    return " and ".join(c for c in _clauses(sentence) if c.strip() and not _ADDRESS_WORD.search(c.lower()))


# A clause asking for an address change: a verb of changing or sending (not "it was sent to …", "it shipped to …"),
# or one wanted done ("have it shipped to …", "I need the order delivered to …"), and an address
_ASKS_ADDRESS = re.compile(r"\b(?:change|update|modify|switch|correct|fix|move|send|ship|deliver|redirect)\b(?![^,;.]*\b(?:was|were|got)\b)"
                           r"|\b(?:have|get|want|need|like|prefer)\s+(?:it|them|this|that|(?:the|my|this|that)\s+(?:\w+\s+)?\w+)\s+(?:shipped|delivered|sent|redirected|moved)\b"
                           r"|改|更新|修改|寄到|送到|发到|寄往")


def address_clauses(sentence: str) -> str:
    """The clauses of a sentence asking to change an address ("…, and ship that order to my default address")."""
    return " and ".join(c for c in _clauses(sentence)
                        if c.strip() and _ADDRESS_WORD.search(c.lower()) and _ASKS_ADDRESS.search(c.lower()))


# "the <item> should be the mesh version instead", "I'd like the <item> in black instead of white", "the <item> should
# be the large one, all else unchanged": an item change said without a change verb (not how it is paid, sent or refunded)
_BE_INSTEAD = re.compile(r"\b(?:should|could|would|to) be (?!(?:charged|paid|billed|sent|shipped|delivered|refunded|cancel\w*|returned)\b)"
                         r"[^.;!?]{0,40}(?:\binstead\b|,? (?:but )?(?:otherwise|everything else|all else|the rest) (?:the same|unchanged|as it is)\b"
                         # "the <item> should be the <value> version", "… should be <value>, same <value> and same <value>"
                         # "… should be black, still wood and 5 ft tall": the value wished, the rest kept
                         r"|\b(?:version|model|variant)\b|, (?:but )?(?:with |keeping )?(?:the )?same\b|, (?:but )?still\b)"
                         # "the <item> in it should have a <value> <option> instead of <value>"
                         r"|\b(?:should|could|would) have (?!(?:been|had|gone|charged|paid|billed|sent|shipped|delivered|refunded|cancel\w*|returned)\b)"
                         r"[^.;!?]{0,40}\binstead\b|\b(?:like|want|prefer|need) (?:the|my|that|this) [^.;!?]{1,40}"
                         # "I want that order paid with PayPal instead": who pays, not another option
                         r"(?<!\bpaid )(?<!\bcharged )(?<!\bbilled )\b(?:in|with) [^.;!?]{1,30}\binstead\b"
                         # "I also want the <item> in another colour": theirs, in another value of an option
                         r"|\b(?:like|want|prefer|need) (?:the|my|that|this|it|them)\b[^.;!?]{0,40}?\b(?:in|with) (?:an?other|a different)"
                         r" (?:colou?r|size|material|style|version|model|shade|finish|length|capacity)\b"
                         # "I also want the <item> in <value>, still <value> and <value>": the value wished, the rest kept
                         r"|\b(?:like|want|prefer|need) (?:the|my|that|this) [^.;!?]{1,40}?\b(?:in|with) [^.;!?]{1,30}(?:, |\s*\()(?:but )?still\b"
                         # "the 60% keyboard should become the 80% one": theirs, as another variant
                         r"|\b(?:should|could|would|must|to) become (?:the|a|an) [^.;!?]{1,40}?\b(?:one|version|model|variant)\b"
                         # "I also want the <item> as the <value> version (still …)": theirs, as another variant
                         r"|\b(?:like|want|prefer|need) (?:the|my|that|this) [^.;!?]{1,60}?\bas (?:the|a|an) [^.;!?]{1,40}?\b(?:version|model|variant)\b")
# "if the same <item> exists in <value>, I'd like that instead": the change wished for if the shop has it (the
# flow finds whether it does)
_IF_EXISTS_INSTEAD = re.compile(r"\bif\b[^.;!?]{0,100}?\b(?:exists?|available|in stock|comes? in|you have|you carry|you sell)\b"
                                r"[^.;!?]{0,100}?\b(?:like|want|prefer|take|have) (?:that|it|this|that one|this one|one|them|those) instead\b")


# An item of the shopper's own, by the words around its product's name: "my <item>", "the <item> I got",
# "the <item> in my order / in it", 我买的<item> (its 的 may be read away with the product's English name); not
# "my son needs <item>" (a verb between: no possession)
_OWNED_BEFORE = re.compile(r"(?:\bmy|\bour|我的?|我(?:买|收到|订|购买)的?|订单[里中]的?)\s*"
                           r"(?:(?!(?:needs?|wants?|would|is|are|was|has|have|and|or|for|likes?|loves?|asked)\b)[a-z'-]+\s+){0,3}$")
# "I have a black <item>", 我有一件<item>: one of theirs, said as a remark beside a question about another product
_HAVE_BEFORE = re.compile(r"(?:\b(?:i|we)\s+(?:already\s+)?(?:have|own)\s+(?:(?!(?:and|or|but)\b)[a-z0-9'-]+\s+){0,3}|我(?:已经)?有[^，,。；;！？?]{0,12})$")
_IN_MY_ORDER = re.compile(r"\bin (?:my|our) (?:[a-z-]+ ){0,3}orders?\b,?\s*(?:the\s+)?(?:[a-z-]+\s+){0,3}$")  # "in my open order, the <item>"
# "I got a <item>", "my son received the <item>", "we am buy a <item>" (broken verb forms too): one of theirs, by the verb
# of getting it before it; not "I want to buy a <item>", "can I buy a <item>" (no subject right before the verb)
_GOT_BEFORE = re.compile(r"(?:\b(?:i|we|he|she|they)|\b(?:my|our) [a-z'-]+)\s+(?:(?:just|recently|already|have|has|had|am|was|did)\s+){0,2}"
                         r"(?:got|received|bought|buy|ordered|purchased)\s+(?:(?!(?:and|or|for|but)\b)[a-z0-9'-]+\s+){0,3}$")
_OWNED_AFTER = re.compile(r"\s+(?:[a-z-]+\s+){0,2}?(?:(?:that|which)\s+)?(?:i|we)\s+(?:just\s+|recently\s+|already\s+)?(?:(?:am|was|did)\s+(?=buy\b))?"
                          r"(?:got|bought|buy|received|ordered|purchased|have|own)\b|\s+(?:in|from|on)\s+(?:my|the|this|that|it)\b")
# a wish for an option: "I'd need a 10", "he needs a large", "want the rgb-backlit one", "should be the <value> one",
# "he want red" (a bare value) (not "I want to know …", "I want a refund": the words after it name no option value)
_WANTS = re.compile(r"\b(?:needs?|wants?|would like|'d like|prefers?|should be)\s+(?:it\s+|them\s+|one\s+)?(?:a|an|the|in|size|one)\s+"
                    r"([^.;!?]{1,40})|\binstead\b|(?:想要|需要|想换成?|要换成?|换成?)([^，,。；;！？]{1,20})"
                    r"|\b(?:needs?|wants?|would like|'d like|prefers?)\s+(?!(?:to|it|them|a|an|the|in|one|some|any|my|your|his|her|this|that)\b)([^.;!?]{1,40})")
_NOT_AN_ITEM_CHANGE = re.compile(r"\breturn|\bcancel|\brefund(?!\s+(?:me\s+)?the\s+difference)|退款|退货|取消")


@lru_cache(maxsize=1)
def _another_wish() -> tuple[re.Pattern, re.Pattern, re.Pattern, set[str]]:
    """What makes a wish one for another of a thing (reader.json `wanting_another`): one more or a question of where
    to buy it; a person it is for; someone else as who wants it; and the words that may follow an option value."""
    lex = lexicon()["wanting_another"]
    marks = re.compile(rf"\b(?:{alternation(lex['adding'])})\b|\btoo\s*(?:[.,;!?]|$)|\b(?:{alternation(lex['buying'])})\b"
                       rf"|{'|'.join(lex['zh'])}")
    person = re.compile(rf"\bfor (?:him|her|them|(?:my|his|her|our|their) (?!(?:[a-z'-]+ ){{0,2}}(?:{alternation(lex['recipient_not'])})\b)[a-z'-]+)")
    # "my friend wants one …": a person of theirs wishes (not "I", "he", nor the item itself: "my <item> is a 9, I need …")
    someone = re.compile(r"\b(?:my|his|her|our|their)\s+((?:[a-z'-]+\s+){0,2}?[a-z'-]+)\s+$")
    return marks, person, someone, set(lex["followers"])


def says_wish(text: str) -> bool:
    """Whether the text wishes for something ("I'd like the <item> in black", "it should be a medium", "I'd prefer …",
    想要…; `_WANTS`): with an order of theirs and a product named, a change of it."""
    return bool(_WANTS.search(text.lower()))


# "my friend wants one", "her sister would like a pair": someone else's wish for one of a thing
_SOMEONE_WANTS = re.compile(r"\b(?:my|his|her|our|their)\s+(?:[a-z'-]+\s+){0,2}?(?:wants?|needs?|would like|'d like)\s+"
                            r"(?:one|a pair|another|some)\b")
_ONE_IN = re.compile(r"\b(?:one|a pair)\s+(?:in|with|of)\b")  # "one in silver", "a pair in black": another of it


def wants_another(text: str) -> bool:
    """Whether the text wishes for one more of a thing, for someone else, or asks where to buy one ("another <item>
    like the one in my order", "one in silver for my brother", "my friend wants one", "do you sell those?"): a
    purchase, not a change of the shopper's own (reader.json `wanting_another`); not "too thin for my knees"."""
    marks, person, _, _ = _another_wish()
    lowered = text.lower()
    return bool(marks.search(lowered) or (person.search(lowered) and _ONE_IN.search(lowered)) or _SOMEONE_WANTS.search(lowered))


def _stem(word: str) -> str:
    """A product word without its plural ending ("helmets" and "helmet" alike)."""
    return re.sub(r"(?:es|s)$", "", word)


def _said_as_owned(lowered: str, m: re.Match) -> bool:
    """Whether the product word matched at `m` is said as an item of the shopper's own, by the words around it."""
    before = lowered[max(0, m.start() - 60): m.start()]
    return bool(_OWNED_BEFORE.search(before) or _IN_MY_ORDER.search(before) or _GOT_BEFORE.search(before)
                or _OWNED_AFTER.match(lowered, m.end()))


def _same_product(word: str, other: str) -> bool:
    """Whether two product words name one product: "t-shirt" and "shirts", "headphones" and "headphone"."""
    a, b = _stem(word.split()[-1]), _stem(other.split()[-1])
    return a.endswith(b) or b.endswith(a)


# "which OTHER colours does it come in?", "还有哪些颜色？" (reader.json other_values): a choice among them
_OTHER_VALUES = re.compile(rf"(?<![a-z])(?:{alternation(lexicon()['other_values']['en'])})(?![a-z])|{alternation(lexicon()['other_values']['zh'])}")


def _values_asked_of(rest: str, keys: tuple[str, ...], products: re.Pattern, owned: str) -> bool:
    """Whether a clause of `rest` (what follows the owned item's name) asks which values of an option there are
    (`option_values_asked`) of that item: not one naming another product, whose question it is ("my <item> is black,
    which colours do the <other product>s come in?" asks of the catalog's other product, not of theirs)."""
    return any(option_values_asked(clause, keys) and all(_same_product(x.group(0), owned) for x in products.finditer(clause))
               for clause in re.split(r"[,.;!?，。；！？]", rest))


def without_owned_remarks(text: str, products: re.Pattern, keep: str = "", english=str.lower) -> str:
    """The text without its clauses that only remark on an item of the shopper's own beside a question about another
    product ("my <item> is black, which colours do the <other product>s come in?", "I have a black <item>; does the
    <other product> come in …"): the question's subject decides what is answered, not a value said of their item. Such
    a clause is not asked (no question mark), names a product as theirs and not `keep` (a product word: the product
    asked about); the rest must still name a product, else the remark is the subject ("my <item> is black, which
    colours does it come in?"). `english`: a clause put into English words, lower case (Chinese too)."""
    parts = [x for x in re.split(r"(?<=[,.;!?])\s+|(?<=[，。；！？])", text) if x.strip()]
    said = [english(x) for x in parts]

    def remark(clause: str) -> bool:
        if re.search(r"[?？]\s*$", clause):
            return False
        named = list(products.finditer(clause))
        return bool(named) and not any(keep and _same_product(x.group(0), keep) for x in named) \
            and any(_said_as_owned(clause, x) or _HAVE_BEFORE.search(clause[: x.start()]) for x in named)

    dropped = {n for n, clause in enumerate(said) if remark(clause)}
    asked = [m.group(0) for n, x in enumerate(said) if n not in dropped for m in products.finditer(x)]
    # a remark on the very product the rest asks about ("I got the <item> yesterday, is the <item> waterproof?") stays
    dropped = {n for n in dropped if not any(_same_product(m.group(0), w) for m in products.finditer(said[n]) for w in asked)}
    if not dropped or not asked:
        return text
    return " ".join(x for n, x in enumerate(parts) if n not in dropped)


def owned_item_change(lowered: str, products: re.Pattern, values: set[str], names: frozenset[str] = frozenset(),
                      keys: tuple[str, ...] = ()) -> bool:
    """"The <item> I received is a 9 and I'd need a 10", "my <item> is a large, I need a small", "…the <item> in it
    should be the <value> one, still <value>": an item of the shopper's own, then another option value wanted for it
    (or options kept), said without a change verb. `products`: the catalog's product words; `values`: its option
    values (lower case), `names` the words of its option names; `lowered` in English. A return, cancellation or refund is not this.
    A question which other values of an option (of `keys`, the catalog's option names) it comes in ("my <item> is
    <value>: which other colours does it come in?") is one too: the shopper chooses among them, the flow lists them."""
    marks, person, someone, followers = _another_wish()
    if _NOT_AN_ITEM_CHANGE.search(lowered) or marks.search(lowered):
        return False  # "… one in silver for my brother as well", "do you sell those?": another one bought, theirs unchanged
    values = values | set(SIZE_WORDS)
    lowered = _ASIDE.sub("", lowered)  # "in my order (<item>, <item>) the <item>": the aside only says which order
    for m in products.finditer(lowered):
        if not _said_as_owned(lowered, m):
            continue
        rest = lowered[m.end():]
        if keeps_options(rest) or (_values_asked_of(rest, keys, products, m.group(0)) and not person.search(lowered)
                                   and (_OTHER_VALUES.search(lowered) or any(re.search(value_re(v), lowered) for v in values))):
            return True  # "my <item> is black, which colours…", "which other colours…"; not "我的<item>有哪些颜色？" (a question)
        for wish in _WANTS.finditer(rest):
            who = someone.search(rest[:wish.start()])
            if re.search(r"\b(?:one|a pair)\s+(?:in|with|of)\b", wish.group(0)) \
                    and (person.search(lowered) or (who and not products.search(who.group(1)))):
                continue  # "my friend wants one in …", "a pair in black for my wife": another one, a new purchase
            if wish.group(3) and person.search(re.split(r"[.;!?]", rest[wish.start():])[0]):
                continue  # "I want black ones for my wife": for someone else, a new purchase
            said = wish.group(1) or wish.group(2) or wish.group(3) or rest[wish.end():][:40]
            for v in values - {"yes", "no", "none"}:
                if (at := re.search(value_re(v), said)) is None:
                    continue
                after = re.match(r"\s+([a-z'-]+)", said[at.end():])
                same = products.fullmatch(after.group(1)) and _stem(after.group(1)) == _stem(m.group(0).split()[-1]) if after else False
                if after is None or after.group(1) in followers | values | names or same:
                    # "… a 10", "a small one", "a red <item>" (its own product): its option; not "needs a black band",
                    # "wants red <other product>s" (another thing)
                    return True
    return False


def asks_change_without_verb(text: str) -> bool:
    """"The <item> should be the <value> one instead": an item change asked without a change verb."""
    return bool(_BE_INSTEAD.search(text.lower()) or _IF_EXISTS_INSTEAD.search(text.lower()))


def other_actions(text: str, route: str) -> list[tuple[str, str]]:
    """Order actions a request asks for besides `route`, in order, each with the sentences that ask
    for it ("cancel my pending orders and return the watch"); not those only asked about ("check
    whether I could …") or stated as the alternative if the first is impossible ("…if not, cancel
    it"). A clause asking an address change is one (`update_address`) unless that is `route` itself."""
    found: dict[str, list[str]] = {}
    said = request_sentences(text)
    if route != "update_address" and (where := [c for x in said if (c := address_clauses(x))]):
        found["update_address"] = where  # "change the <item> to red, and ship the order to my default address": that too
    sentences = [without_address_clauses(x) for x in said]
    kinds = [_kinds_asked(x) for x in sentences]
    for n, sentence in enumerate(sentences):
        for other in kinds[n]:
            if other != route and not (other == "exchange" and route == "modify_order"):
                # the next sentence goes with it ("If it does not, leave it as it is") unless it is a request of its own
                # ("The <item> is no longer needed."); a change said without its verb is its own clause, not the
                # sentence's other requests
                nxt = [x for x, k in zip(sentences[n + 1:n + 2], kinds[n + 1:n + 2]) if not (k or no_longer_wanted(x))]
                said_here = [sentence if _ACTION_VERBS.search(sentence.lower()) else _change_clause(sentence) or sentence, *nxt]
                found.setdefault(other, []).extend(x for x in said_here if x not in found.get(other, []))
    return [(r, " ".join(parts)) for r, parts in found.items()]


def sentences_asking(text: str, route: str) -> str:
    """The sentences of a request that ask for this action (by its verb, or things no longer needed for a
    cancellation), or the whole text when none or all do: the others are about other things."""
    said = request_sentences(text)
    asking = [x for x in said if route in _kinds_asked(x) or (route == "cancel_order" and no_longer_wanted(x))]
    return " ".join(asking) if asking else text


def _change_clause(sentence: str) -> str | None:
    """The clause of a sentence that asks an item change without a verb, from the clause break before it ("…: I do not
    need the <item> after all, and the <other item> should be the <value> version, same <value>" → "the <other item>
    should be …"): the request's own words, not the other things the sentence says."""
    m = _BE_INSTEAD.search(sentence.lower())
    if m is None:
        return None
    breaks = [b.end() for b in re.finditer(r"[:;,]\s*(?:and |but |also |plus )?|\s(?:and|but|also) ", sentence[: m.start()])]
    return sentence[max(breaks, default=0):].strip() or None


def _kinds_asked(sentence: str) -> list[str]:
    """The order actions one sentence asks for (return, exchange, cancel_order), in order: by their verbs, or an item
    change said without one; not one only checked on, refused ("…, not swap it", 不要取消), the payment's own change,
    nor the fallback of a condition ("…; if not, cancel it")."""
    lowered = sentence.lower()
    if not lowered or _HEDGE.search(lowered):
        return []
    condition = CONDITION.search(lowered)
    fallback = read_condition(lowered[condition.start():]) if condition else None
    if fallback is not None and (fallback.then or fallback.only):  # only a condition with a "then" part ends the request
        lowered = lowered[: condition.start()]
    kinds = []
    for m in [*_ACTION_VERBS.finditer(lowered), *_ZH_ROUTE_VERBS.finditer(lowered)]:
        if _OF_PAYMENT.match(lowered, m.end()) or (m.re is _ZH_ROUTE_VERBS and re.search(r"支付|付款", lowered)):
            continue  # "change the payment (method) to …": the payment change itself, not an item change
        if _refused_here(lowered[: m.start()]):
            continue  # "…, not swap it", "不要取消": what the shopper does not want
        kinds.append({1: "return", 2: "exchange", 3: "cancel_order"}[next(g for g in (1, 2, 3) if m.group(g))])
    if not kinds and asks_change_without_verb(lowered):  # "the <item> should be the <value> one instead": a change, said without its verb
        kinds.append("exchange")
    return kinds


# One request of several in a message: its sentence, or its numbered part ("(1) … (2) …", "（1）…（2）…")
_REQUEST_PARTS = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])|\n|\s+(?=\(\d{1,2}\)\s)|(?=（\d{1,2}）)")


def orders_by_part(text: str, route: str, orders: list[dict]) -> list[dict]:
    """The same action asked in several parts of one message ("(1) the <item> was a mistake, cancel it; (2) the order
    holding the <item> and the <item>: cancel it as well"), each part naming items that one order holds (whatever its
    status: the flow says what that order allows): those orders, in the order asked. Empty unless two parts name two
    different orders. An order is the one holding the items its part names, never another."""
    family = {"exchange", "modify_order"}
    found: list[dict] = []
    for part in (x for x in _REQUEST_PARTS.split(text) if x and x.strip()):
        kinds = _kinds_asked(without_address_clauses(part))
        if not any(k == route or {k, route} <= family for k in kinds):
            continue
        owner = orders_meant(part, orders, [])
        if len(owner) == 1 and owner[0] not in found:
            found.append(owner[0])
    return found if len(found) > 1 else []


def without_other_actions(text: str, route: str) -> str:
    """The text without the sentences asking for other actions (`other_actions`): what it says of this one's order
    ("send the <item> to …. Also cancel the <other item> order" → the first sentence, for the address change)."""
    parts = [part for _, part in other_actions(text, route)]
    said = request_sentences(text)
    own = " ".join(x for x in said if not any(x.strip() in part for part in parts))
    return own if own.strip(" .,;") else text


def _refused_here(before: str) -> bool:
    """Whether the words just before a verb refuse it ("not", "rather than", "不想") in the same clause:
    "not return it but exchange it" refuses only the return."""
    m = NEGATED_BEFORE.search(before) or re.search(r"\b(?:rather than|instead of)\s*$|而?不是\s*$", before)
    return bool(m) and not re.search(r"\b(?:but|and|then|instead|rather)\b(?!\s*(?:than|of)\s*$)|但|而是|就", before[m.start():])


_NOT_THIS = re.compile(r"\W*(?:no|nope|don'?t|do not|never ?mind|stop|wait)\b|.*\b(?:instead of (?:that|this|it)|rather than (?:that|this))\b")


def asked_besides(message: str, route: str) -> list[tuple[str, str]]:
    """Other order actions a message said instead of yes to a proposal for `route` asks for ("I'd also like
    to change the <item>"), each with its words (`other_actions`); none when the message turns the proposal
    down or replaces it ("no, …", "…instead of that"), nor one that does not say it adds ("also", "too", "as well")."""
    lowered = message.lower()
    if _NOT_THIS.match(lowered) or not _ADDING.search(lowered):
        return []
    asked = [x for x in request_sentences(message) if not only_asked(x)]
    return other_actions(" ".join(asked), route) if asked else []


# A question that asks for something done ("could you also …", "can I also return …", "能不能也帮我…"),
# not one asking how, why, when or whether ("will I also be able to …", "how long does a return take?")
_DO_QUESTION = re.compile(r"\b(?:can|could|would|will) (?:you|we|i)\b(?! (?:also |please |just |now |then )*be\b)|\b(?:is|would) it (?:be )?possible to\b|帮我|请|能不能|可不可以")
_WH_QUESTION = re.compile(r"^\W*(?:(?:and|also|ok|okay|but|so|then|oh)\b\W*)*(?:how|why|what|when|where|which|who|whose)\b|为什么|多久|多长时间|怎么|什么时候")


def request_sentences(text: str) -> list[str]:
    """A request's sentences (split after . ! ? ; and their CJK forms, and at line breaks), blank ones dropped."""
    return [x for x in re.split(r"(?<=[.!?;])\s+|(?<=[。！？；])|\n", text) if x.strip()]


def without_only_asked(text: str) -> str:
    """The text without its sentences that only ask about something ("…, exchange it. Also what is the status of my
    <item>?"): what it asks for; the whole text when every sentence only asks."""
    said = request_sentences(text)
    return " ".join(x for x in said if not only_asked(x)) or text


def only_asked(sentence: str) -> bool:
    """Whether a sentence is a question that asks about something rather than asks for it."""
    lowered = sentence.strip().lower()
    if not lowered.endswith(("?", "？", "吗", "呢")):
        return False
    return bool(_WH_QUESTION.search(lowered)) or not _DO_QUESTION.search(lowered)


# A word that makes a sentence a question ("what …", "is the <value> one …", "…多少钱"); "what about the <value> one?",
# "whichever is cheapest", "<value> instead?" and "rather …" choose, and a bare "<value>?" is a tentative answer.
_ASKING = re.compile(r"^\W*(?:(?:and|also|ok|okay|but|so|then|oh|hmm|wait|sorry|first|quick question)\b\W*)*"
                     r"(?:how|why|what|when|where|which|who|whose|is|are|does|do|did|was|were|has|have|should)\b(?!\s+about\b)"
                     r"|吗|呢|多少|什么|哪|有没有|是否|几|多久|多长时间")
# "换紫色XL的可以吗？", "要紫色XL的，行吗？": asking leave for a pick is the pick
_CHOOSING = re.compile(r"\b(?:instead|rather|whichever|whatever)\b|而不是|改成|换成|就要|我要|(?:可以|行|好)吗\W*$")
_ASKING_LEAD = re.compile(r"^\W*(?:(?:and|also|ok|okay|but|so|then|oh|hmm|wait|sorry|first|quick question)\b\W*)*")
_FILLER_WORDS = r"(?:ok|okay|hmm+|hm|thanks|thank you|great|sure|alright|all right|i see|got it|cool|nice|right|oh|sorry|好的|好|嗯|谢谢)"
_FILLER = re.compile(rf"\W*(?:{_FILLER_WORDS}\W*)+")
_LEAD_FILLER = re.compile(rf"^\W*(?:{_FILLER_WORDS}(?![a-z])\W*)+")
# Without its question mark, a question puts a verb before its subject: "what colours does it come in", "how much is
# the <value> one", "what's …"; "what I want is …" and "when everything's done, I …" tell.
_ASKED_PLAIN = re.compile(r"^(?:how|what|which|when|where|why|who)(?:['’]s\b|(?:\s+(?!(?:i|we|you|he|she|they|it|everything)\b)[\w-]+){0,2}"
                          r"\s+(?:is|are|was|were|do|does|did|can|could|would|will|should|has|have)\b)")
_TELL_ME = re.compile(r"^\W*(?:(?:can|could|would) you (?:please )?(?:tell me|let me know)|do you know|i (?:was )?wonder(?:ing|ed)?)\b|^请问")


_THE_LIST = re.compile(r"\b(?:those|these|them|th(?:e|ose|ese) (?:options|choices|ones)|(?:one|ones) (?:listed|above|shown)|the list)\b|这些|那些|这几")


def points_at_list(message: str) -> bool:
    """Whether a question is about the list just offered ("which of those is cheapest?", "are any of them in stock?")."""
    return bool(_THE_LIST.search(message.lower()))


def _sentences_said(message: str) -> list[str]:
    """The message's sentences in lower case, without fillers ("ok, thanks.") and the fillers they open with."""
    return [_LEAD_FILLER.sub("", x.strip().lower()) for x in _SENTENCE_END.split(message)
            if x.strip() and not _FILLER.fullmatch(x.strip().lower())]


def _asks(sentence: str) -> bool:
    """Whether a sentence (from `_sentences_said`) asks about something rather than for it."""
    if told := _TELL_ME.match(sentence):  # "can you tell me …", "do you know whether …": a question, whatever follows
        return bool(sentence[told.end():].strip(" ?？"))
    return bool(_ASKING.search(sentence) and (only_asked(sentence) or _ASKED_PLAIN.search(_ASKING_LEAD.sub("", sentence))))


def only_asks(message: str) -> bool:
    """Whether a message asks questions and nothing else: each sentence asks about something rather than
    for it (`only_asked`, also without its question mark when it opens with a question word), so it
    answers no open question ("which of those is cheapest?", "is the blue one in stock?"); a
    request said as a question ("can I get the blue one instead?") is an answer."""
    sentences = _sentences_said(message)
    if not sentences or _CHOOSING.search(message.lower()):
        return False
    return all(_asks(x) for x in sentences)


def names_terms(message: str) -> bool:
    """Whether a message names a term of the shop's ("how long", "fee", "window", "policy", "期限", "收费"):
    the words: assistant/data/reader.json, terms_questions.terms."""
    return says(message.lower(), "terms_questions.terms")


def questions_terms(message: str) -> bool:
    """Whether a message is a question naming a term of the shop's (`names_terms`): "will I be charged a fee?",
    "would I have to pay a restocking fee?", "要收费吗？". Said to a proposal, it asks about the action's terms, not
    for another action."""
    return names_terms(message) and message.strip().endswith(("?", "？", "吗", "呢"))


def asks_where_refund_goes(sentence: str) -> bool:
    """Whether a sentence asks where a refund goes or may go ("where does my refund go?", "can the refund go to my
    gift card instead?", "is it possible to be refunded to store credit?", "退款可以退到礼品卡吗？"): a question, not
    a request ("could you refund it to my gift card?"), naming a refund and where money goes. A term of the shop's
    when no task is open; in a return it is the refund method chosen (the caller's to tell)."""
    x = sentence.lower()
    return (bool(x.strip()) and (x.rstrip().endswith(("?", "？")) or _asks(x)) and not _REQUEST.search(x)
            and not says(x, "terms_questions.please")
            and says(x, "terms_questions.refunds") and says(x, "terms_questions.refund_to"))


def without_own_money(lowered: str) -> str:
    """The text without the "my" / "我的" of a refund or a payment method ("my refund", "my gift card"): the
    shopper's money, no order or item of theirs to act on."""
    words = (*lexicon()["terms_questions"]["refunds"], *lexicon()["terms_questions"]["refund_to"])
    english = alternation(w for w in words if not _CJK.search(w))
    chinese = alternation(w for w in words if _CJK.search(w))
    return re.sub(rf"\bmy\s+(?=(?:{english})(?![\w-]))|我的(?={chinese})", "", lowered)


def status_reached(message: str, status: str) -> bool | None:
    """Whether an order of this status has reached the status a question's circumstance names ("after it shipped":
    processed or later; "if it's already delivered", "签收后": delivered); None when it names none, or names one
    not reached ("if it hasn't shipped yet", "before it ships", "发货前"): nothing to tell from it."""
    lowered = message.lower()
    if says(lowered, "terms_questions.not_reached"):
        return None
    named = [r["statuses"] for k, r in lexicon()["terms_questions"]["reached"].items() if says(lowered, f"terms_questions.reached.{k}.words")]
    return all(status in statuses for statuses in named) if named else None


def asks_terms(message: str) -> bool:
    """Whether a message only asks about the terms of an action, not for the action: questions (`only_asks`:
    "what's your return window?", "do exchanges cost anything?", "退货要收费吗？"), or whether it may be done
    when a term or a circumstance qualifies it ("can I cancel an order after it shipped?", "can I return
    something without the receipt?", "发货后还能取消订单吗？"). Whether it may be done, plainly ("can I cancel
    an order?", "could I return the order?", "可以退货吗？"), or said with "please", is asked to get it done, as
    is how to do it ("how do I return an item?"). The words: assistant/data/reader.json, terms_questions.
    Whether it names the shopper's own order or item (then it is a request) is the caller's to check."""
    sentences = _sentences_said(message)

    def terms(x: str) -> bool:
        if asks_where_refund_goes(x):
            return True  # "could the refund go to my gift card instead?": where refunds go, not a pick
        bare = _ASKING_LEAD.sub("", x)
        if _CHOOSING.search(x) or opens_with(bare, "terms_questions.how_to"):
            return False
        if opens_with(bare, "terms_questions.may_i") or (_asks(x) and says(x, "terms_questions.may_i_zh")):
            return (x.endswith(("?", "？")) and not says(x, "terms_questions.please")
                    and (says(x, "terms_questions.terms") or says(x, "terms_questions.circumstances")))
        return _asks(x)

    return bool(sentences) and all(terms(x) for x in sentences)


# A word asking which, what or how much ("which is cheapest?", "有哪些颜色？"): an answer more than yes or no
_OPEN_QUESTION = re.compile(r"\b(?:how|why|what|when|where|which|who|whose)\b|什么|哪|多少|几|怎么|为什么|多久")


def yes_no_question(message: str) -> bool:
    """Whether a message only asks questions answered yes or no ("is XL ok?", "do you have it in blue?",
    "有白色的吗？"), none of them asking which, what or how ("what colours does it come in?")."""
    return only_asks(message) and not _OPEN_QUESTION.search(message.lower())


# "it"/"them" as what is acted on ("ship it to …", "change them to red", "have it delivered …"), "its …", "that order";
# not any "it" ("is it possible", "it broke")
_ACTED_ON = re.compile(r"\b(?:return|exchange|swap|change|modify|cancel|ship|send|deliver|move|update|switch|refund|upgrade|redirect|replace)\w*\s+(?:it|them)\b"
                       r"|\b(?:the|that|this|the same) order\b(?!s)|它|这个订单|那个订单|该订单")
_PRONOUN_ORDER = re.compile(_ACTED_ON.pattern + r"|\b(?:it|them)\s+(?:shipped|delivered|sent|changed|returned|exchanged|cancell?ed|swapped|moved|redirected|replaced)\b|\bits\b")


def points_at_order(text: str) -> bool:
    """Whether a message points at one order as what is acted on ("cancel it", "could I return the order?",
    "这个订单"), not at an order in general ("an order", "after it shipped")."""
    return bool(_ACTED_ON.search(text.lower()))


def holds_or_points_back(text: str, order: dict, orders: list[dict]) -> bool:
    """Whether a request said with a task on `order` (a clause of the same message, or said at its proposal)
    is about that order: it names no order of its own, but an item of it, or points at it ("its item",
    "ship that order to …")."""
    from assistant.slots import ORDER_RE

    if not order or ORDER_RE.search(text) or _BY_STATUS.search(text.lower()):
        return False
    lowered = text.lower()
    return (any(names_item(i, lowered) for i in order.get("items", [])) or refers_back(text, orders)
            or (bool(_PRONOUN_ORDER.search(lowered)) and not any(names_item(i, lowered) for o in orders for i in o["items"])))


# The Chinese of _ACTION_VERBS: verbs, not single characters (退 is also in 退休 "retire", 换 in 换汇 "currency exchange")
_ZH_ACTION_VERBS = re.compile(r"退货|退款|退掉|退回|退还|换货|换成|换掉|换一[个件双台款]|换个|更换|调换|取消|修改|改成|改地址|改一下|升级")


# The same by route (the groups of _ACTION_VERBS: return, change, cancel)
_ZH_ROUTE_VERBS = re.compile(r"(退货|退掉|退回|退还)|(换货|换成|换掉|换一[个件双台款]|换个|更换|调换|修改|改成|改为)|(取消)")


def names_action(text: str) -> bool:
    """Whether the text names an order action (return, exchange/change, cancel, modify) or an order."""
    lowered = text.lower()
    # an order or a refund of the shopper's own ("the items I ordered", "the refund on my card") is shop business
    return bool(_ACTION_VERBS.search(lowered) or _ZH_ACTION_VERBS.search(lowered)
                or re.search(r"\border(?:s|ed)?\b|\brefund|\bpurchas(?:e|es|ed)\b|订单|退款", lowered))


_SUPPOSING = lexicon()["supposing"]
# The shopper's own action as a condition, to the clause's end ("if I return the <item>", 如果我退掉<item>)
_IF_MINE = re.compile(rf"\b(?:{alternation(_SUPPOSING['if_en'])})\s+(?:{alternation(_SUPPOSING['subjects_en'])})\b[^,，;；?？]*"
                      rf"|(?:{alternation(_SUPPOSING['if_zh'])})(?:{alternation(_SUPPOSING['subjects_zh'])})?[^，,。；;！？?]*")


def _acts(text: str, money: bool = True) -> bool:
    """Whether the text names an order action; with money=False a refund, the money back, is none."""
    lowered = text.lower()
    return any(money or not m.group(0).startswith("refund") for m in _ACTION_VERBS.finditer(lowered)) \
        or any(money or m.group(0) not in _MONEY_BACK_ZH for m in _ZH_ACTION_VERBS.finditer(lowered))


def _asks_about_action(sentence: str) -> bool | None:
    """True when a sentence asks about an order action (`asks_about_action`), False when it asks for one or for
    something else, None when it names no action and asks for nothing (context: "my order hasn't shipped yet")."""
    x = sentence.strip()
    if _REQUEST.search(x) or says(x, "terms_questions.please"):
        return False
    if not x.rstrip(" .!").endswith(("?", "？", "吗", "呢")):
        return None if not _acts(x) else False
    if (supposed := _IF_MINE.search(x)) and _acts(supposed.group(0), money=False):
        if says(x, "supposing.difference") and _names_new_option(supposed.group(0)):
            return False  # "if I exchange the <item> for the black one, do I pay the difference?": its proposal says
        return not _acts(x[:supposed.start()] + " " + x[supposed.end():], money=False)
    # "can I still cancel?" asks for the action: its flow reads the order's status and says whether it can be done
    return False


def _names_new_option(condition: str) -> bool:
    """Whether a supposed change says what it changes to ("exchange the <item> for the black one", 换成黑色的)."""
    lowered = condition.lower()
    return says(lowered, "supposing.to_zh") or any(
        m.group(2) and says(lowered[m.end():], "supposing.to_en") for m in _ACTION_VERBS.finditer(lowered))


def _gives_reason(sentence: str) -> bool:
    """Whether a statement (from `_sentences_said`) says why the shopper wants an action: their own doing or need
    ("I ordered the wrong size", "I'm moving next week", 我买错了), something wrong ("it stopped working"), or no
    longer needed; not one announcing the question ("I have a question")."""
    x = sentence.strip()
    if x.rstrip(" .!。！").endswith(("?", "？", "吗", "呢")) or says(x, "supposing.not_reasons"):
        return False
    return opens_with(x, "supposing.reason_subjects") or says(x, "complaints.words") or no_longer_wanted(x)


def asks_about_action(message: str) -> bool:
    """Whether a message asks about an order action rather than for it: what it would bring, the action said in a
    condition of the shopper's own ("would I get all my money back if I cancel the whole order?", "if I return the
    <item>, do I pay shipping?", 如果我退掉<item>，要付运费吗？). Answered, not started ("can I still cancel?" is
    no such question: asking whether one may do an action starts it, its flow telling whether it can be done); "ok then cancel it" starts it. A
    request with a condition ("cancel it if you can", "if it's still pending, cancel it", 如果还没发货就帮我取消) is no
    question, or says please. The words: assistant/data/reader.json, supposing."""
    said = _sentences_said(message)
    read = [_asks_about_action(x) for x in said]
    # with the reason they want it ("could I still return it? it stopped working."): a request
    return any(read) and all(r is not False for r in read) and not any(r is None and _gives_reason(x) for r, x in zip(read, said))


_VERB_MENTION = {"cancel": r"\bcancel|取消", "return": r"\breturn|退货|退掉|退回", "exchange": r"\bexchange|换货|更换"}


def action_verbs(text: str) -> set[str]:
    """The order actions a text names ("cancel", "return", "exchange"), e.g. in a policy section's title."""
    return {verb for verb, pattern in _VERB_MENTION.items() if re.search(pattern, text.lower())}


# "how much", "what would my refund be", 退多少 (reader.json amount_back): the amount a question about an action asks
_AMOUNT_BACK = re.compile(rf"(?<![a-z])(?:{alternation(lexicon()['amount_back']['en'])})(?![a-z])|{alternation(lexicon()['amount_back']['zh'])}")


def amount_back_asked(message: str) -> str | None:
    """The action ("return" or "cancel") whose money back a question about it asks the amount of ("how much would I
    get back if I return the <item>?", 如果我取消这个订单能退多少钱？; reader.json amount_back); None for any other."""
    lowered = message.lower()
    if not _AMOUNT_BACK.search(lowered) or not asks_about_action(message):
        return None
    said = [verb for verb in ("return", "cancel") if re.search(_VERB_MENTION[verb], lowered)]
    return said[0] if len(said) == 1 else None


NEGATED_BEFORE = re.compile(r"\b(?:never|not|don'?t|do not|no need to|won'?t|doesn'?t|does not)\b(?:\s+\w+){0,3}\s*$"
                             r"|(?:不|别|不要|不想|不用|不需要|不打算|没必要)\s*$")
# "…if cancelling the whole order is the only way", "unless you can't …", "如果要取消": a supposition, not a request
_SUPPOSED_BEFORE = re.compile(r"\b(?:if|unless|in case|whether)\b[^.,;!?]{0,40}$|(?:如果|要是|假如)[^，,。；;！？]{0,15}$")


def only_negated(lowered: str, verb: str) -> bool:
    """Whether no mention of the verb asks for it: each is negated ("I never want to cancel my order",
    "我不想取消订单") or only supposed ("…and return it later if cancelling is the only way")."""
    mentions = list(re.finditer(_VERB_MENTION.get(verb, rf"\b{verb}"), lowered))
    asked = [m for m in mentions if not (NEGATED_BEFORE.search(lowered[: m.start()]) or _SUPPOSED_BEFORE.search(lowered[: m.start()]))]
    negated = any(NEGATED_BEFORE.search(lowered[: m.start()]) for m in mentions)
    return negated and not asked


# An order described by what was done to it, no request: "my cancelled order", "the order I cancelled", "the one that
# was cancelled" (an order the subject: "my trip got cancelled, so …" is a reason), "已取消的订单"
_DONE_TO_ORDER = re.compile(r"\bcancell?ed\s+(?:\w+\s+)?(?:orders?|ones?|purchases?)\b"
                            r"|\b(?:orders?|ones?|purchases?)\s+(?:(?:that|which)\s+)?(?:i|we)\s+(?:had\s+|have\s+|already\s+|just\s+)*cancell?ed\b"
                            r"|(?:\b(?:orders?|ones?|purchases?)|#w\d+)\s+(?:(?:that|which)\s+)?(?:(?:has|have|had)\s+)?(?:was|were|got|been|is|are)\s+(?:already\s+|just\s+)?cancell?ed\b|已(?:经)?取消的?订单")


def only_describes_cancelled(lowered: str) -> bool:
    """Whether each mention of cancelling only describes an order ("the tracking number of my cancelled
    order", "what was in the order I cancelled?"): a question about that order, not a cancellation."""
    return bool(_DONE_TO_ORDER.search(lowered)) and not re.search(r"\bcancel|取消", _DONE_TO_ORDER.sub(" ", lowered))


def without_refused(text: str, verb: str) -> str:
    """The text without its clauses that name the verb, for a text that only refuses or supposes it
    (`only_negated`): "I don't want to cancel anything, I just want to know where it is" → "I just want
    to know where it is", what the shopper does want."""
    clauses = re.split(r"(?<=[,;.!?，；。！？])\s*|\s+(?:but|and)\s+", text)
    return " ".join(c for c in clauses if not re.search(_VERB_MENTION.get(verb, rf"\b{verb}"), c.lower())).strip()


_CORRECTING = re.compile(r"\b(?:i meant|i mean|meant|wrong (?:one|order|number)|not (?:that|this) one|instead|actually|rather|typo)\b"
                         r"|不是这个|说错|应该是|搞错")


def order_correction(message: str, order_ids: list[str], current: str | None):
    """"Wrong one, I meant #B" while a task on order #A is open: `Correct(order_id=#B)`. A correction names
    exactly one other order and says it corrects, or asks for no action of its own, and adds nothing
    ("#B too" is another task: `order_added`); the rest of its words
    ("wrong" in "wrong one") are about the order id, not the task's details (not a cancellation reason)."""
    from assistant.understand.commands import Correct

    key = (current or "").lstrip("#").upper()
    others = list(dict.fromkeys(o for o in order_ids if o.lstrip("#").upper() != key))
    if not current or len(others) != 1:
        return None
    lowered = message.lower()
    if _ADDING.search(lowered):  # "and #B too": another task (`order_added`), not a correction
        return None
    if _CORRECTING.search(lowered) or not _ACTION_VERBS.search(lowered):
        return Correct(order_id=others[0])
    return None


_ADDING = re.compile(r"\b(?:too(?!\s+(?!please)[a-z])|also|as well|same (?:for|with|goes for|thing)|likewise)\b|也(?!许)|同样")  # not "too big"


def is_adding(lowered: str) -> bool:
    """Whether a text says it adds to what is already asked ("…too", "also …", "as well", "也")."""
    return bool(_ADDING.search(lowered))


def order_added(message: str, order_ids: list[str], current: str | None) -> str | None:
    """"And #B too", "do the same for #B" while a task on order #A is open: #B, to get the same action
    after #A. Only a message naming exactly one other order and no action of its own."""
    key = (current or "").lstrip("#").upper()
    others = list(dict.fromkeys(o for o in order_ids if o.lstrip("#").upper() != key))
    lowered = message.lower()
    if not current or len(others) != 1 or not _ADDING.search(lowered) or _ACTION_VERBS.search(lowered):
        return None
    return others[0]


# a message that is nothing but a no to the proposal ("no", "cancel that", "算了"): assistant/data/confirm.json
@lru_cache(maxsize=1)
def _plain_no() -> re.Pattern:
    from assistant.tools import confirm_words

    return re.compile(r"\W*(?:" + "|".join(re.escape(w) for w in sorted(confirm_words()["no"], key=len, reverse=True)) + r")\W*")


def keeps_current(message: str) -> bool:
    """Whether a message said to a proposed item change keeps what the shopper has ("the one I have now is fine",
    "on second thought …", "never mind, …", "算了，我现在的就行"; confirm.json "keeping_current", or a first clause
    that is a plain no)."""
    from assistant.tools import confirm_words

    lowered = message.lower()
    words = confirm_words().get("keeping_current", [])
    return opens_with_no(message) or any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", lowered) for w in words)


def says_keeping(message: str) -> bool:
    """Whether a message has words keeping the item the shopper has (confirm.json "keeping_current": "the one I have
    now", "on second thought", 我现在的), not only a no."""
    from assistant.tools import confirm_words

    lowered = message.lower()
    return any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", lowered) for w in confirm_words().get("keeping_current", []))


def drops_proposal(message: str) -> bool:
    """Whether a reply at a proposal drops it without a plain no ("I changed my mind, I'll keep everything as is. Btw
    …?", "actually forget it, I'll give them away", "算了，都留着"): words dropping it (reader.json dropping_proposal) in
    what it states, no order action asked in their place ("forget it, just return the <item>"), no payment method
    ("never mind, use PayPal"). Its questions are asked after (`asked_after_drop`)."""
    stated = " ".join(x for x in _sentences_said(message) if not only_asked(x) and not is_question(x)).lower()
    return says(stated, "dropping_proposal.words") and not action_verb_named(stated) and not payment_kinds(stated) \
        and not pays_with(stated)


def asked_after_drop(message: str) -> str:
    """The questions a reply dropping a proposal also asks ("…, I'll keep everything as is. Btw do you sell <product>s?"),
    to answer as a message of their own ("" when none)."""
    return " ".join(x for x in _sentences_said(message) if only_asked(x) or is_question(x) or _asks(x)).strip()


def only_keeps_current(message: str) -> bool:
    """Whether a reply to a proposed item change keeps what the shopper has and asks nothing else ("never mind, the
    <colour> one I've got is fine", "算了，我现在这件就挺好"): its keeping words (confirm.json "keeping_current"), no
    question, and no order action but a refused one ("…, don't exchange it"). A decline, whose words are no search."""
    lowered = message.lower()
    if not says_keeping(message):
        return False
    verbs = [*_ACTION_VERBS.finditer(lowered), *_ZH_ACTION_VERBS.finditer(lowered)]
    return not is_question(message) and all(NEGATED_BEFORE.search(lowered[: m.start()]) for m in verbs)


def left_out(message: str, items: list[dict]) -> list[str]:
    """The proposed `items` a reply at their proposal takes out of it ("no, not the <item>: I keep it", "I didn't
    ask about the <item>", "leave the <item> out", "不要动<item>", "不是<item>"): each named in a clause with words keeping an item
    out (reader.json "leaving_out"); not one that only keeps its options ("keep the <item>'s size")."""
    out: list[str] = []
    said = message.lower().replace("是不是", "是否")  # a question ("is it …"), not 不是 ("not the <item>")
    for clause in re.split(r"[,.;:!?，。；：！？\n]|\s(?:but|and)\s|但是|但", said):
        if says(clause, "leaving_out.words") or says(clause, "leaving_out.disowning"):
            # "keep the <item>'s size" keeps its options; "I'll keep the <item>" (its name, no option after) keeps it
            out += [i["item_id"] for i in items if names_item(i, clause) and i["item_id"] not in out
                    and (not keeps_options(clause) or _KEEPS_ITEM.search(clause.replace(i["name"].lower(), "<item>")))]
    return out


_KEEPS_ITEM = re.compile(r"\b(?:keep|keeping|hold on to)\s+(?:the |my |this |that |these |those )?<item>s?(?!'s|\s+(?:in|at|with|but)\b)(?:\s+(?:too|as well|after all|for (?:myself|me|now)))?\s*$")


def means_other(message: str) -> bool:
    """Whether a reply at a proposal says which item was meant instead ("no wait, I meant the <item>", "I was talking
    about the <item>", "我说的是<item>", "不是<item>，是<item>"; reader.json "leaving_out.meaning_other"), not asks."""
    return says(message.lower(), "leaving_out.meaning_other") and not is_question(message)


def disowns_proposal(message: str) -> bool:
    """Whether a reply to a proposal says the shopper never asked for it ("no, I didn't ask to exchange that",
    "我没让你换这个"; reader.json "leaving_out.disowning"): a decline, not a request to do what it names."""
    return says(message.lower(), "leaving_out.disowning") and not is_question(message)


def opens_with_no(message: str) -> bool:
    """Whether the message's first clause is a plain no ("No thanks. How long does …?", "no, keep it", "不用了，…"):
    whatever follows, the proposal it answers is declined first."""
    first = next((x for x in re.split(r"[,.;:!?，。；：！？、\n]", message) if x.strip()), "")
    return bool(_plain_no().fullmatch(first.strip().lower()))


# "use my PayPal for the other order": another order than the one proposed ("other_words" + order, reader.json)
_ANOTHER_ORDER = re.compile(rf"(?<![a-z])(?:{alternation(lexicon()['other_words'])})\s*(?:orders?\b|订单)")


def not_this_proposal(message: str) -> bool:
    """Whether a payment method said at a proposed cancellation is no refund method for it: the order kept ("no,
    keep the order, …", "I'd rather keep it", "算了，保留订单") or the method said for another order."""
    lowered = message.lower()
    return whole_cancel_answer(lowered) == "nothing" or bool(_ANOTHER_ORDER.search(lowered) and not _OTHER_ORDER_METHOD.search(lowered))


def reply_to_proposal(message: str, correctable: bool, reasoned: bool = False,
                      order_ids: list[str] | None = None, current: str | None = None, tool: str | None = None,
                      proposed: str = ""):
    """What a message says to the action just proposed (on order `current`; `order_ids` those the
    message names; `proposed`, its description): `Confirm` (an explicit yes, or one said with more:
    `yes_with_more`), `Decline` (a plain no), `Correct` (a change said
    instead of yes: another order meant (`order_correction`), read before a reason, as "wrong order"
    is not one; when the proposal can take one, its slots, read against the order by
    `read_correction`; for a proposal with a reason (`reasoned`), the reason said again or changed),
    or None: something else, a new request. The ToolRunner's gate checks the yes itself: a reader
    cannot run an action. `tool`: the action proposed, whose own verbs may stand beside the yes ("yes, return them")."""
    from assistant.tools import is_affirmative
    from assistant.understand.commands import Confirm, Correct, Decline

    if is_affirmative(message, action=tool):
        return Confirm()
    if _plain_no().fullmatch(message.lower()):
        return Decline()
    if said := yes_with_more(message, proposed, tool):
        return said
    if change := order_correction(message, order_ids or [], current):
        return change
    if reasoned and (reason := cancel_reason(message)) and not re.match(r"\W*(?:no|nope|don'?t|do not)\b", message.lower()):
        return Correct(reason=reason)  # the reason said (again) instead of yes: proposed again with it
    if correctable and (AMEND.search(message.lower()) or takes_only(message)):
        return Correct()
    return None


_YES_REST_SPLIT = re.compile(r"(?<=[!?;。！？；])\s*|(?<=\.)(?!\d)\s*|\s+[-—–]+\s+|[—–]+")


def _echoes(sentence: str, proposed: str, tool: str | None = None) -> bool:
    """Whether a sentence said after a yes only says the proposed action again: its own verb (confirm.json
    action_verbs of `tool`) or object ("swap it", "put it on the Visa", "换吧", "就用Visa吧"), a payment method named
    being the proposal's own (confirm.json echo_*)."""
    from assistant.tools import confirm_words

    words, lowered, described = confirm_words(), sentence.lower(), proposed.lower()
    verbs = words["action_verbs"].get(tool or "", {})
    if not payment_kinds(lowered) <= payment_kinds(described) or any(b.group(1) not in described for b in _BRAND.finditer(lowered)):
        return False
    # the proposal's own method, by the words that name it ("visa", "paypal", "gift card")
    named = {b.group(1) for b in _BRAND.finditer(described)} | ({"paypal"} if "paypal" in payment_kinds(described) else set()) \
        | ({"gift", "card"} if "gift_card" in payment_kinds(described) else set())
    if re.search(r"[\u4e00-\u9fff]", lowered):
        rest = re.sub(r"[a-z']+", lambda m: "" if m.group(0) in named else m.group(0), lowered)
        rest = re.sub(r"[\s\W_\d]+", "", rest)
        for phrase in sorted(words["zh_yes"] + words["zh_filler"] + words["echo_zh"] + verbs.get("zh", []), key=len, reverse=True):
            rest = rest.replace(phrase, "")
        return not rest
    allowed = set(words["en_yes"]) | set(words["en_filler"]) | set(words["echo_en"]) | set(verbs.get("en", ())) | named
    return all(t in allowed for t in re.findall(r"[a-z']+", lowered))


def _withdraws(sentence: str) -> bool:
    """Whether words after a yes take it back or hedge it ("but wait", "if …", "不过…先别"): confirm.json withdrawn_*."""
    from assistant.tools import confirm_words

    words, lowered = confirm_words(), sentence.lower()
    return bool(set(re.findall(r"[a-z']+", lowered)) & set(words["withdrawn_en"])) or any(w in lowered for w in words["withdrawn_zh"])


def yes_with_more(message: str, proposed: str = "", tool: str | None = None):
    """An explicit yes that opens the reply and is followed by more (`commands.Confirm` with `said`, the yes, and
    `rest`, the questions and requests to handle after the action), or None. What follows must be the action's own
    verb or object ("yes, swap it", "可以，办吧"), a question ("ok do it. how long will it take?") or a request
    ("yes, and can you also …"), with nothing that takes the yes back or hedges it ("yes, but wait …", "yes? what
    does that mean", "ok… let me think"): the yes is never inferred from a vague reply."""
    from assistant.tools import confirm_words, is_affirmative
    from assistant.understand.commands import Confirm

    lowered = message.strip().lower()
    if any(re.search(rf"\b{re.escape(c)}\b", lowered) for c in confirm_words()["closing"]):
        return None  # "ok thanks, that's all": a thanks and goodbye (see is_affirmative), not a yes with more
    if any(re.search(rf"\b{re.escape(n)}\b", lowered) for n in confirm_words()["no"] if " " in n):
        return None  # "ok, cancel that": a no phrase, whatever precedes it
    ends = [m.end() for m in re.finditer(r"[a-z']+|[\u4e00-\u9fff]", lowered)]
    cut = next((e for e in reversed(ends[:-1]) if is_affirmative(message.strip()[:e])), None)
    if cut is None:
        return None
    gap = re.match(r"[\s\W_]*", lowered[cut:]).group(0)
    if re.search(r"[?？]|…|\.\.", gap):
        return None  # "yes? what does that mean", "ok… let me think": asked back or trailing off, no yes
    rest = [x.strip() for x in _YES_REST_SPLIT.split(message.strip()[cut + len(gap):]) if x and x.strip(" ,，.。!！")]
    if not rest or any(_withdraws(x) for x in rest):
        return None
    more = []
    for n, x in enumerate(rest):
        if n == 0 and _echoes(x, proposed, tool):
            continue  # "yes, swap it": the action said again
        adding = is_adding(x.lower())  # "yes, and also cancel #…": the yes, then another request
        if adding and _TOOL_GROUP.get(tool or "") in _verb_groups(x) and not re.search(r"#w\d", x.lower()):
            return None  # "yes, and return the <item> too": more of the same action, which this proposal takes (once an order)
        if n == 0 and action_verb_named(x) and not is_question(x) and not adding:
            return None  # "yes, return it" to an exchange: another action said at once, not a yes to this one
        if not (is_question(x) or only_asks(x) or _REQUEST.search(x.lower()) or adding or x.rstrip().endswith(("?", "？", "吗", "呢"))):
            return None  # anything else after the yes ("yes I want the blue one"): not read as a yes
        more.append(x)
    return Confirm(said=message.strip()[:cut], rest=more)


# The item actions' route groups (`_ACTION_VERBS`): an order's return or item change is done once, so more of it said
# after a yes belongs in the same proposal
_TOOL_GROUP = {"return_delivered_order_items": 1, "exchange_delivered_order_items": 2, "modify_pending_order_items": 2}


def _verb_groups(sentence: str) -> set[int]:
    """The route groups (1 return, 2 change, 3 cancel) of the action verbs a sentence says, English or Chinese."""
    lowered = sentence.lower()
    zh = {next(g for g in (1, 2, 3) if m.group(g)) for m in _ZH_ROUTE_VERBS.finditer(lowered)}
    zh |= ({1} if re.search(r"退(?!款)", lowered) else set()) | ({2} if re.search(r"[换改]", lowered) else set())  # "也退了吧", "也换了"
    return set(_action_groups(lowered)) | zh


def opens_with_refusal(message: str) -> bool:
    """Whether the message's first clause refuses: a plain no (`opens_with_no`), or a clause opening with a no or a
    negation ("don't, …", "不改了，…", "先别取消"); "不确定" is a hesitation (confirm.json hesitation_zh), no refusal."""
    from assistant.tools import confirm_words

    first = next((x.strip() for x in re.split(r"[,.;:!?，。；：！？、\n]", message.lower()) if x.strip()), "")
    return opens_with_no(message) or (bool(re.match(r"(?:no|nope|nah|don'?t|do not)\b|先?[不别]", first))
                                      and not any(w in first for w in confirm_words()["hesitation_zh"]))


def holds_proposal(message: str):
    """Whether a reply to a proposal is neither yes nor no but holds it: a hesitation ("hmm, let me measure first",
    "等一下，我问问"; confirm.json hesitation_*) or a question ("will this delay the delivery?", "退款会退到哪里？").
    `commands.Hold`, or None. Whether the question is about the proposal is the caller's to tell."""
    from assistant.tools import confirm_words
    from assistant.understand.commands import Hold

    words, lowered = confirm_words(), message.strip().lower()
    if not lowered or keeps_current(message) or any(f" {w} " in f" {lowered} " for w in words["no"] if " " in w):
        return None  # "no thanks, …", "never mind, …", "I'll keep it as is": a no, whatever follows
    if opens_with_refusal(message):
        return None
    if is_question(lowered) or lowered.endswith(("?", "？", "吗", "呢")):
        return Hold(question=True)
    if hesitates(message):
        return Hold()
    return None


def hesitates(message: str) -> bool:
    """Whether the message hesitates ("hmm, let me check first", "I'm not sure", "我不确定"; confirm.json hesitation_*)
    and asks for no action ("hmm, cancel it anyway but …" does)."""
    from assistant.tools import confirm_words

    words, lowered = confirm_words(), message.strip().lower()
    said = any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", lowered) for w in words["hesitation_en"]) \
        or any(w in lowered for w in words["hesitation_zh"]) or re.fullmatch(r"[\w\s]{0,3}(?:…|\.\.\.+)\W*", lowered)
    return bool(said) and not action_verb_named(message)


_RECEIVED = re.compile(r"\b(?:received|arrived|delivered|got (?:it|them|the)|came)\b|收到")
_NOT_YET = re.compile(r"\b(?:just (?:placed|ordered|bought)|not (?:yet )?(?:arrived|shipped|received)|haven'?t (?:received|arrived)|pending)\b|还没")


def status_hint(text: str, candidates: list[dict]) -> list[dict]:
    """Candidates narrowed by what the text says of the order's state: "I received …" → delivered,
    "I just placed …", "it has not arrived" → pending; unchanged when that leaves none or says nothing."""
    lowered = text.lower()
    if _NOT_YET.search(lowered):
        narrowed = [o for o in candidates if o["status"].startswith("pending")]
    elif _RECEIVED.search(lowered):
        narrowed = [o for o in candidates if o["status"] == "delivered"]
    else:
        return candidates
    return narrowed or candidates


# The words around an identification ("hi, I'm <name>, zip code <zip>", "my email is …", "你好，我叫…，邮编…")
_IDENTITY_WORDS = re.compile(r"\b(?:hi|hello|hey|good (?:morning|afternoon|evening)|my|name|names|is|i'?m|i am|this is|it'?s|here|"
                             r"and|zip|zipcode|postal|postcode|code|email|e-mail|address|mail|first|last|thanks?|thank you|please|"
                             r"you|can|find|look|me|up|account|with|the|of|to|a)\b"
                             r"|你好|您好|我叫|我是|我的|的|名字|姓名|邮编|邮政编码|邮箱|电子邮件|地址|是|和|谢谢|请")


def only_identifies(message: str, identity) -> bool:
    """Whether the message only says who the shopper is ("I'm <first> <last>, zip <zip>", "my email is
    …", "我叫…，邮编…"): nothing is left once the identity and the words around it are taken out, so
    there is no request in it to act on."""
    rest = message.lower()
    for value in (identity.email, identity.first_name, identity.last_name, identity.zip):
        if value:
            rest = rest.replace(value.lower(), " ")
    rest = _IDENTITY_WORDS.sub(" ", rest)
    return not re.search(r"[a-z0-9]|[\u4e00-\u9fff]", rest)


_POSITION = re.compile(r"^\W*(?:我?(?:要|选|想要)?)?(?P<zh>第[一二三四五]|最后)(?:个|款|种|一个)?(?:吧|好了)?\W*$"
                       r"|^\W*(?:(?:ok|okay|yes|yeah|hmm|then|so)\W+)*(?:(?:i'?ll|i will|i'?d|i would|let'?s|we'?ll)\s+)?(?:(?:take|choose|pick|go with|like|want|prefer|get)\s+)?"
                       r"(?:the\s+)?(?P<pos>\w+)(?:\s+(?:one|option|choice|variant))?(?:,?\s*please)?\W*$")


_POSITIONS_LEAD = re.compile(r"^\W*(?:(?:ok|okay|yes|yeah|so|then|hmm)\W+)*(?:(?:i'?ll|i will|i'?d|i would|let'?s)\s+)?"
                             r"(?:(?:take|choose|pick|want|mean|return|send back|exchange|change|cancel)\s+)?")
_ONE_POSITION = re.compile(r"^\W*(?P<zh>第[一二三四五]|最后)(?:个|件|样)?\W*$|^\W*(?:the\s+)?(?P<pos>\w+)(?:\s+(?:one|ones|option|item|thing|choice))?\W*$")


def list_positions(message: str) -> list[int] | None:
    """Several places in the list just offered, said with nothing else ("the second one and the fourth one",
    "2nd and 5th", "第二个和第四个"): 0-based, -1 for the last; None unless every part is a place and there are two or more."""
    from assistant.slots import ORDINALS

    rest = _POSITIONS_LEAD.sub("", message.strip().lower(), count=1)
    parts = [p for p in re.split(r",|\band\b|&|\+|和|跟|与|、|以及", rest) if p.strip()]
    places = [ORDINALS.get(m.group("pos") or m.group("zh")) if (m := _ONE_POSITION.match(p)) else None for p in parts]
    return places if len(places) > 1 and None not in places else None


def list_position(message: str) -> int | None:
    """The place in the list just offered that a message consisting of nothing else names ("the second one",
    "I'll take the last option", "第二个"): 0-based, -1 for the last."""
    from assistant.slots import ORDINALS

    m = _POSITION.match(message.strip().lower())
    if m is None:
        return None
    return ORDINALS.get(m.group("pos") or m.group("zh"))
