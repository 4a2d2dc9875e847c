"""The catalog side of a turn: search (strict, with follow-ups kept as typed fields), recommendations,
comparisons and product questions answered from the catalog; and the lexicons the agent's routing
shares with it (shop cues, product names from the catalog, Chinese words through the search
lexicon, the reply templates).

`CatalogTurn` is mixed into the agent's turn (assistant/agent.py): its handlers use the turn's
`say`, `tool`, `state` and `ctx`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import yaml

from assistant.slots import Slots
from assistant.state import AssistantEvent, ProductCard, SearchMemory
# an order spoken of: what follows is about it, not the last search; a remark on another item of theirs is not asked
from assistant.understand.rules import names_an_order, without_owned_remarks
from retrieval.store import Store

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).parent / "prompts"

REFINE_RE = re.compile(
    r"^(cheaper|less expensive|in |under |below |less than |only |what about|how about|any |with |without |"
    r"size |colou?r |show me (?:some|more|other)|something |more |便宜|有没有|要|换成|颜色|尺码|\d+元)",
    re.IGNORECASE,
)
# A question about a product's attributes ("is the … waterproof?", "how long does its battery last?",
# "蓝牙音箱防水吗？"), as opposed to one asking the shop for products ("do you have …", "有没有…").
ATTRIBUTE_QUESTION = re.compile(r"^(?:is|are|does|can|will|has|how (?:long|much|heavy|big|many)|what(?:'s| is| are) (?:the|its))\b"
                                r"|吗[？?]?$|是否|多少钱|怎么样")
SHOP_QUESTION = re.compile(r"\b(?:do|does) (?:you|the shop|the store) (?:have|sell|carry)\b|^(?:is|are) there\b|有没有|有卖")
STATUS_WORDS = {"pending", "processed", "delivered", "cancelled"}


@lru_cache(maxsize=4)
def _cues(kind: str = "cues") -> list[tuple[re.Pattern, str]]:
    data = json.loads((Path(__file__).parent / "data" / "cues.json").read_text(encoding="utf-8"))
    return [(re.compile(pattern, re.IGNORECASE), route) for pattern, route in data[kind]]


def _in_english(text: str) -> str:
    """Chinese product and attribute words put into English with the search lexicon ("无线耳机" → "wireless earbuds")."""
    if not re.search(r"[\u4e00-\u9fff]", text):
        return text
    pattern, zh_en = _zh_lexicon()
    return pattern.sub(lambda m: f" {zh_en[m.group(0)].lower()} ", text)


@lru_cache(maxsize=1)
def _zh_lexicon() -> tuple[re.Pattern, dict[str, str]]:
    from retrieval.search.query import default_lexicon

    zh_en = default_lexicon().zh_en
    return re.compile("|".join(re.escape(k) for k in sorted(zh_en, key=len, reverse=True))), zh_en


@lru_cache(maxsize=8)
def _product_words(store: Store) -> re.Pattern:
    """Names the catalog's products go by: full names and their head nouns ("boots" for Hiking
    Boots), singular or plural, with or without hyphens."""
    from sqlalchemy import select

    from retrieval.store import tables as t

    with store.session() as s:
        names = {n.lower() for n in s.scalars(select(t.Product.name)).all() if n}
    words = set()
    for name in names:
        words |= {name, name.replace("-", "")}
        head = name.split()[-1]
        if len(name.split()) > 1 and len(head) >= 4:
            words.add(head)
    words = sorted((w for w in words if len(w) >= 3), key=len, reverse=True)
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(map(re.escape, words))})(?:e?s)?(?![a-z0-9])")


@lru_cache(maxsize=8)
def _option_values(store: Store) -> dict[str, set[str]]:
    """Option name → the values the shop's products come in (read once per store, when a wish first
    fits no variant: ~0.1 s; like the product words, a new value shows after a restart)."""
    values: dict[str, set[str]] = {}
    for product in store.products():
        for variant in product.variants:
            for key, value in variant.options.items():
                values.setdefault(key, set()).add(str(value))
    return values


@lru_cache(maxsize=8)
def _product_names(store: Store) -> list[tuple[re.Pattern, str]]:
    """Each product's name as a pattern (singular or plural, hyphen optional), longest first."""
    from sqlalchemy import select

    from retrieval.store import tables as t

    with store.session() as s:
        rows = s.execute(select(t.Product.name, t.Product.product_id)).all()
    patterns = []
    for name, product_id in sorted(rows, key=lambda r: -len(r[0] or "")):
        if name and len(name) >= 3:
            body = re.escape(name.lower()).replace(r"\-", "[- ]?").replace(r"\ ", "[- ]?")
            patterns.append((re.compile(rf"(?<![a-z0-9]){body}(?:e?s)?(?![a-z0-9])"), product_id))
    return patterns


def _multiword(store: Store, product_id: str) -> bool:
    product = store.product(product_id)
    return product is not None and len(re.findall(r"[a-z0-9]+", product.name.lower())) > 1


def _named_products(store: Store, lowered: str) -> list[str]:
    """Products the text names by their full name, longest name first."""
    return [product_id for pattern, product_id in _product_names(store) if pattern.search(lowered)]


@lru_cache(maxsize=1)
def _replies() -> dict:
    return yaml.safe_load((PROMPTS / "replies.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def _prompt(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _refine_cues() -> list[tuple[re.Pattern, str]]:
    return _cues("refine")


@lru_cache(maxsize=1)
def _suitability() -> list[re.Pattern]:
    data = json.loads((Path(__file__).parent / "data" / "cues.json").read_text(encoding="utf-8"))
    return [re.compile(p, re.IGNORECASE) for p in data["suitability"]]


def _refinements(message: str) -> set[str]:
    """The changes a follow-up asks of the last search (assistant/data/cues.json "refine")."""
    return {kind for pattern, kind in _refine_cues() if pattern.search(message)}


def _need(message: str) -> str | None:
    """The need of a suitability question ("best for trail running" → "trail running")."""
    for pattern in _suitability():
        if (m := pattern.search(message)) and m.group("need").strip(" ?？"):
            return m.group("need").strip(" ?？")
    return None


_POINTS_AT_ITEM = re.compile(r"\b(?:it|this|that|these|those)\b|它|这个|这款|那个")
# Words of a need that say nothing about the product ("for my trail runs" → "trail", "run").
_NEED_STOP = {"my", "me", "the", "a", "an", "for", "and", "of", "to", "on", "in", "with", "use", "i", "we", "some", "who", "that"}


def _constrains(parsed) -> bool:
    return bool(parsed.options or parsed.brand or parsed.exclude or parsed.in_stock
                or parsed.min_price is not None or parsed.max_price is not None)  # fmt: skip


def _strip_values(text: str, parsed) -> str:
    """The searched words without the constraint values (those are kept as typed fields)."""
    get = parsed.get if isinstance(parsed, dict) else lambda k: getattr(parsed, k)
    values = [*(get("options") or {}).values(), *(get("exclude") or []), get("brand") or ""]
    for value in sorted(filter(None, values), key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<![\w-])(?:not|no|without)(?:\s+(?:not|no|without))*\s*$", " ", text.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip()


_SIZE_WORDS = {"xxs": 0, "xs": 1, "s": 2, "small": 2, "m": 3, "medium": 3, "l": 4, "large": 4, "xl": 5, "xxl": 6, "xxxl": 7}
_UNITS = {"tb": 1000.0, "gb": 1.0, "mb": 0.001, "l": 1000.0, "liter": 1000.0, "liters": 1000.0, "ml": 1.0}


def _size_rank(value: str) -> float | None:
    """An order for size-like option values: S < M < L, 8 < 10, 512GB < 1TB, 1L < 1.5 liters."""
    v = value.strip().lower()
    if v in _SIZE_WORDS:
        return float(_SIZE_WORDS[v])
    m = re.match(r"(\d+(?:\.\d+)?)\s*-?\s*([a-z]*)", v)
    if not m:
        return None
    return float(m.group(1)) * _UNITS.get(m.group(2), 1.0)


def _option_words(r: dict, key: str, value: str) -> str:
    """An option as the shopper would say it: a yes/no option by its name ("waterproof", "not waterproof")."""
    if key.split()[:1] == ["size"]:
        return r["c_size"].format(value=value)
    if value.lower() in ("yes", "no"):
        return r["c_option" if value.lower() == "yes" else "c_not"].format(value=key)
    return r["c_option"].format(value=value)


def _money(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


# Something the shopper has ("I received two <item>s", "the speaker I bought"): about their own order.
# "the <product> that arrived", "two <product>s showed up": delivered to them, so theirs; what arrived in the
# shop or in stock is the catalog's
ARRIVED = re.compile(r"\b(?:arrived|showed up|turned up|(?:was|were|got|been) delivered)\b"
                     r"(?!\s+(?:back\s+)?(?:in|at|into|to)\s+(?:your\s+|the\s+|our\s+)?(?:shop|store|stock|catalog(?:ue)?|warehouse|website|site)\b)"
                     r"|到货了|送到了")
HAD = re.compile(r"\bi (?:just |recently )?(?:bought|ordered|received|purchased|got)\b|我买的|我收到|" + ARRIVED.pattern)
# What only their own item answers: what they paid ("did I pay", "我花了多少")
PAID = re.compile(r"\b(?:did|do) i (?:pay|spend)\b|\bi paid\b|\bhow much was mine\b|我(?:付|花|支付)了")
# A question about something the shopper has or paid for, not the catalog's offer.
OWNED = re.compile(f"{HAD.pattern}|{PAID.pattern}")
# A question about what the product comes in beyond theirs ("does it also come with …", "other colours")
OFFER = re.compile(r"\b(?:also|other|another|different|else)\b|\bcomes? (?:in|with)\b|\bavailable\b|\boffer(?:ed|s)?\b|还有|其他|别的|也有")


class CatalogTurn:
    """Search, recommendation, comparison and product-question handlers of a turn."""


    def _on_search(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """A search; or a follow-up that changes the last one ("cheaper", "in blue", "bigger", "another
        brand"), kept as typed fields in `state.search`; or a question of suitability ("which one is
        best for trail running"), answered from attributes and reviews. The search is strict: every
        card satisfies the stated constraints, and when none can, the reply says so and labels the
        nearest items it shows instead."""
        from retrieval.search import SearchRequest

        said = self._understand(message)
        memory = self.state.search
        need = _need(message)
        changes = _refinements(message)
        follow = memory is not None and said is not None and said.product_type is None and (
            bool(changes or need or REFINE_RE.match(message)) or (_constrains(said) and len(message.split()) <= 8))
        request = SearchRequest(query=message, k=5, strict=True, exclude_item_ids=list(self.state.excluded_items))
        limit_from: tuple[str, float] | None = None  # ("cheaper", $) when the limit is "below what was shown"
        if follow:
            extra = need or _strip_values(said.text, said) if said is not None else ""
            for pattern, _ in _refine_cues():
                extra = pattern.sub(" ", extra)
            request.query = re.sub(r"\s+", " ", f"{memory.query} {extra}").strip() or memory.product_type or message
            request.product_type = memory.product_type
            unwanted = {x.lower() for x in said.exclude}  # "not red" after "red ones" replaces the wish
            request.options = {k: v for k, v in {**memory.options, **said.options}.items() if v.lower() not in unwanted}
            request.min_price = said.min_price if said.min_price is not None else memory.min_price
            request.max_price = said.max_price if said.max_price is not None else memory.max_price
            request.brand = said.brand or memory.brand
            request.in_stock = said.in_stock or memory.in_stock
            request.exclude = list(dict.fromkeys([*memory.exclude, *said.exclude]))
            request.exclude_item_ids = list(dict.fromkeys([*request.exclude_item_ids, *memory.exclude_item_ids]))
            if "cheaper" in changes and memory.cheapest is not None:
                limit = round(memory.cheapest - 0.01, 2)
                request.max_price = min(limit, request.max_price) if request.max_price is not None else limit
                limit_from = ("cheaper", memory.cheapest)
            if "pricier" in changes and memory.dearest is not None:
                limit = round(memory.dearest + 0.01, 2)
                request.min_price = max(limit, request.min_price) if request.min_price is not None else limit
                limit_from = ("pricier", memory.dearest)
            if "other_brand" in changes:
                if memory.brands:
                    request.exclude = list(dict.fromkeys([*request.exclude, *memory.brands]))
                else:  # products without a brand: another product of the same kind
                    request.exclude_item_ids += self._variants_of(memory.product_ids)
            for direction in ("bigger", "smaller"):
                if direction in changes:
                    step = self._step(memory, direction)
                    if isinstance(step, dict):
                        yield self.say("search_step_none", direction=_replies()[self.state.lang][direction], **step)
                        return
                    if step is not None:
                        request.options = {**request.options, step[0]: step[1]}
        result, event = self.tool("search_products", request.model_dump())
        yield event
        if not result.ok:
            yield self.say("failed", message=result.message)
            return
        data = result.data
        hits, parsed, relaxed = data.get("hits", []), data.get("parsed", {}), data.get("relaxed", [])
        fits = [h for h in hits if not h.get("unmet")] or hits
        r = _replies()[self.state.lang]
        self._limits = {}  # how the price limits read: "under $100", or "cheaper than $147.05" for "cheaper"
        if limit_from:
            label = "max_price" if limit_from[0] == "cheaper" else "min_price"
            self._limits[label] = r[f"c_{limit_from[0]}"].format(value=_money(limit_from[1]))
            if label in relaxed:  # nothing cheaper: the next follow-up starts from the limits stated before
                parsed = {**parsed, label: getattr(memory, label)}
        self.state.search = SearchMemory(
            query=_strip_values(parsed.get("text", ""), parsed), product_type=parsed.get("product_type"),
            min_price=parsed.get("min_price"), max_price=parsed.get("max_price"), options=parsed.get("options") or {},
            brand=parsed.get("brand"), exclude=parsed.get("exclude") or [], in_stock=parsed.get("in_stock"),
            exclude_item_ids=[i for i in request.exclude_item_ids if i not in self.state.excluded_items],
            cheapest=min((h["price"] for h in fits), default=None), dearest=max((h["price"] for h in fits), default=None),
            brands=list(dict.fromkeys(h["brand"] for h in fits if h.get("brand"))),
            product_ids=list(dict.fromkeys(h["product_id"] for h in fits)),
            turn=self.state.turns,
        )  # fmt: skip
        if limit_from and (label := "max_price" if limit_from[0] == "cheaper" else "min_price") in relaxed:
            parsed = {**parsed, label: data["parsed"].get(label)}  # this reply still says what was asked
        what = self._constraint_words(parsed)
        if what:
            yield self.say("search_understood", what=what)
        if not hits:
            notes = "; ".join(data.get("notes", []))
            yield self.say("search_none", reason=f" ({notes})" if notes else "")
            return
        evidence = {h["item_id"]: self._evidence(h, need) for h in hits} if need else {}
        if relaxed:
            yield self._relaxed(relaxed, parsed, hits, limit_from)
        elif need:
            found = any(evidence.values())
            subject = self._constraint_words(parsed, prices=False)
            yield (self.say("search_need", need=need) if found else self.say(
                "search_need_none", need=need, what=_replies()[self.state.lang]["search_need_what"].format(what=subject) if subject else ""))
        else:
            yield self.say("search_intro", for_query="")
        cards = [
            ProductCard(
                item_id=h["item_id"], product_id=h["product_id"], name=h["name"], options=h.get("options") or {},
                price=h["price"], available=h["available"], rating=h.get("rating"), brand=h.get("brand"),
                reason=self._reason(h, parsed, need, evidence.get(h["item_id"])),
            )
            for h in hits
        ]  # fmt: skip
        self.state.last_items = [c.item_id for c in cards]
        for n, card in enumerate(cards, 1):
            yield self.text(self._card_line(n, card))
        yield AssistantEvent(kind="cards", cards=cards)

    def _understand(self, message: str):
        """The constraints the message states (the search engine's reading), or None without an engine."""
        try:
            return self.ctx.search.understand(message)
        except Exception as exc:  # no index yet: the search tool reports it properly
            log.info("cannot read search constraints: %s", type(exc).__name__)
            return None

    def _follows_up(self, message: str) -> bool:
        """Whether a message changes the last search ("cheaper", "in blue", "size M", "不要黑色的")."""
        lowered = message.lower()
        if REFINE_RE.match(message) and len(message.split()) <= 10 and not names_an_order(lowered):
            return True  # "in blue", not "in order #… change the <item> to …"
        if self._changes_shown_search(message):
            return True
        if len(message.split()) > 8 or names_an_order(lowered) or any(p.search(lowered) for p, _ in _cues()):
            return False  # "exchange it for size 9" is an order action, not a narrower search
        if _refinements(message):
            return True
        if _POINTS_AT_ITEM.search(message.lower()):
            return False  # "is it waterproof?", "does this come in blue?": a question about a shown item
        said = self._understand(message)
        return said is not None and said.product_type is None and _constrains(said)

    def _changes_shown_search(self, message: str) -> bool:
        """Whether a message said right after a search's results changes an option of it ("make that size M",
        "switch to size small", "改成小号的"): the results just shown are what "that" and a bare change are about,
        unless it speaks of an order or of something the shopper has, names another order action, or asks."""
        memory, lowered = self.state.search, message.lower()
        if memory is None or memory.turn != self.state.turns - 1 or len(message.split()) > 8 or "?" in message or "？" in message:
            return False
        if names_an_order(lowered) or re.search(r"\bmy\b|\bmine\b|我的", lowered) or OWNED.search(lowered):
            return False
        if any(p.search(lowered) for p, route in _cues() if route != "modify_order"):
            return False  # "exchange it for size 9", "return that one": an order action, not a narrower search
        said = self._understand(message)
        return said is not None and said.product_type is None and bool(said.options)

    def _constraint_words(self, parsed: dict, prices: bool = True) -> str:
        """What was understood, e.g. "t-shirt · blue · size M · under $60" (replies.yaml c_*)."""
        r = _replies()[self.state.lang]
        parts = []
        if parsed.get("product_type"):
            parts.append(r["c_type"].format(value=parsed["product_type"]))
        parts += [_option_words(r, key, value) for key, value in (parsed.get("options") or {}).items()]
        if parsed.get("brand"):
            parts.append(r["c_brand"].format(value=parsed["brand"]))
        parts += [r["c_not"].format(value=v) for v in parsed.get("exclude") or []]
        low, high = parsed.get("min_price"), parsed.get("max_price")
        limits = getattr(self, "_limits", {})
        if prices and (limits.get("max_price") or limits.get("min_price")):
            parts += [limits[k] if k in limits else self._label_words(k, parsed)
                      for k in ("min_price", "max_price") if parsed.get(k) is not None]  # fmt: skip
        elif prices and low is not None and high is not None:
            parts.append(r["c_between"].format(low=_money(low), high=_money(high)))
        elif prices and high is not None:
            parts.append(r["c_under"].format(value=_money(high)))
        elif prices and low is not None:
            parts.append(r["c_over"].format(value=_money(low)))
        if prices and parsed.get("in_stock"):
            parts.append(r["c_in_stock"])
        return r["c_join"].join(parts)

    def _relaxed(self, relaxed: list[str], parsed: dict, hits: list[dict], limit_from) -> AssistantEvent:
        """Says which stated constraint no product meets, and what the nearest items are."""
        r = _replies()[self.state.lang]
        subject = self._constraint_words(parsed, prices=False) or r["type_label"]
        if relaxed == ["max_price"]:
            if limit_from and limit_from[0] == "cheaper":
                return self.say("search_no_cheaper", what=subject, limit=_money(limit_from[1]))
            return self.say("search_relaxed_max", what=subject, limit=_money(parsed["max_price"]), price=hits[0]["price"])
        if relaxed == ["min_price"]:
            if limit_from and limit_from[0] == "pricier":
                return self.say("search_no_pricier", what=subject, limit=_money(limit_from[1]))
            return self.say("search_relaxed_min", what=subject, limit=_money(parsed["min_price"]), price=hits[0]["price"])
        if "product_type" in relaxed:
            return self.say("search_no_type", what=subject)
        return self.say("search_relaxed", dropped=r["c_join"].join(self._label_words(label, parsed) for label in relaxed))

    def _label_words(self, label: str, parsed: dict) -> str:
        r = _replies()[self.state.lang]
        limits = getattr(self, "_limits", {})
        if label in limits:
            return limits[label]
        if label == "max_price":
            return r["c_under"].format(value=_money(parsed["max_price"]))
        if label == "min_price":
            return r["c_over"].format(value=_money(parsed["min_price"]))
        if label == "in_stock":
            return r["c_in_stock"]
        if label == "brand":
            return r["c_brand"].format(value=parsed.get("brand"))
        if label == "product_type":
            return r["c_type"].format(value=parsed.get("product_type"))
        if label.startswith("option:"):
            key = label[7:]
            return _option_words(r, key, (parsed.get("options") or {}).get(key, key))
        return r["c_not"].format(value=label.split(":", 1)[-1])

    def _reason(self, hit: dict, parsed: dict, need: str | None, evidence: tuple[str, str] | None) -> str:
        """Why a card is shown, from its own data: what it meets of the request, or — for a nearest
        item — only what it misses (a card is never called a match and a miss at once)."""
        r = _replies()[self.state.lang]
        if hit.get("unmet"):
            missed = []
            for label in hit["unmet"]:
                if label in ("max_price", "min_price"):
                    missed.append(r["r_price"].format(price=hit["price"], limit=self._label_words(label, parsed)))
                elif label == "in_stock":
                    missed.append(r["out_of_stock"])
                elif label.startswith("exclude:"):
                    missed.append(r["r_is"].format(value=label.split(":", 1)[1]))
                elif label.startswith("option:") and str((parsed.get("options") or {}).get(label[7:])).lower() == "no":
                    missed.append(r["r_is"].format(value=label[7:]))  # asked "not waterproof": it is waterproof
                else:
                    missed.append(r["r_missing"].format(value=self._label_words(label, parsed)))
            return r["r_nearest"].format(items="; ".join(missed))
        parts = [self._constraint_words(parsed)] if self._constraint_words(parsed) else []
        if need:
            parts.append(r["r_evidence"].format(field=r[f"f_{evidence[0]}"], text=evidence[1]) if evidence
                         else r["r_no_evidence"].format(need=need))  # fmt: skip
        return r["c_join"].join(parts) if parts else r["r_words"]

    def _evidence(self, hit: dict, need: str) -> tuple[str, str] | None:
        """Where the product's own data speaks to the need: an option, its tags, description or a review."""
        from retrieval.search.constraints import stems

        wanted = set(stems(_in_english(need))) - _NEED_STOP
        product = self.a.store.product(hit["product_id"]) if wanted else None
        if product is None:
            return None
        variant = next((v for v in product.variants if v.item_id == hit["item_id"]), None)
        sources = [("option", f"{k}: {v}") for k, v in (variant.options if variant else {}).items()]
        sources += [("tags", t) for t in product.tags]
        sources += [("description", x) for x in re.split(r"(?<=[.!?])\s+", product.description or "")]
        sources += [("review", rv.comment) for rv in product.reviews if rv.comment]
        for field_name, text in sources:  # all of the need's words: "Running Shoes." says nothing of trails
            if wanted <= set(stems(text)):
                return field_name, text if len(text) <= 120 else text[:117] + "…"
        return None

    def _variants_of(self, product_ids: list[str]) -> list[str]:
        ids = []
        for pid in product_ids:
            product = self.a.store.product(pid)
            ids += [v.item_id for v in product.variants] if product else []
        return ids

    def _step(self, memory: SearchMemory, direction: str):
        """The next size-like option value up or down from what was shown ("bigger" after size M is L):
        (key, value); a dict for the reply when there is none; None when the items have no such option."""
        shown = [c for c in self._cards_for(self.state.last_items) if c.product_id in memory.product_ids]
        if not shown:
            return None
        product = self.a.store.product(shown[0].product_id)
        keys = sorted(shown[0].options, key=lambda k: ("size" not in k.lower(), k))
        for key in keys:
            kept = {k: v.lower() for k, v in memory.options.items() if k != key}  # "bigger" in blue stays blue
            variants = [v for v in product.variants if key in v.options
                        and all(x in {o.lower() for o in v.options.values()} for x in kept.values())]  # fmt: skip
            ranks = {v.options[key]: _size_rank(v.options[key]) for v in variants}
            if len(ranks) < 2 or None in ranks.values():
                continue
            current = [ranks[c.options[key]] for c in shown if c.options.get(key) in ranks]
            if not current:
                continue
            up = direction == "bigger"
            here = max(current) if up else min(current)
            further = sorted((rank, value) for value, rank in ranks.items() if (rank > here if up else rank < here))
            if not further:
                value = next(v for v, rank in ranks.items() if rank == here)
                among = _replies()[self.state.lang]["step_among"].format(values=", ".join(kept.values())) if kept else ""
                return {"option": key, "value": value, "name": product.name, "among": among}
            return key, (further[0] if up else further[-1])[1]
        return None

    def _card_line(self, n: int, card: ProductCard) -> str:
        replies = _replies()[self.state.lang]
        options = f" ({', '.join(card.options.values())})" if card.options else ""
        rating = f", ★{card.rating:.1f}" if card.rating else ""
        availability = replies["in_stock"] if card.available else replies["out_of_stock"]
        return replies["search_line"].format(
            n=n, name=card.name, options=options, price=card.price, availability=availability, rating=rating
        ) + "\n"

    def _cards_for(self, item_ids: list[str]) -> list[ProductCard]:
        from retrieval.store import tables as t

        cards = []
        with self.a.store.session() as s:
            for item_id in item_ids:
                v = s.get(t.Variant, item_id)
                if v is not None:
                    p = v.product
                    cards.append(ProductCard(item_id=v.item_id, product_id=p.product_id, name=p.name, options=v.options,
                                             price=v.price, available=v.available, rating=p.rating, brand=p.brand))  # fmt: skip
        return cards

    def _on_recommend(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        surprise = bool(re.search(r"surprise|惊喜|随便", message, re.IGNORECASE))
        result, event = self.tool(
            "recommend", {"k": 5, "surprise": surprise, "exclude_item_ids": list(self.state.excluded_items)}
        )
        yield event
        recs = result.data.get("recommendations", []) if result.ok else []
        if not recs:
            yield self.say("recommend_none")
            return
        cards = [
            ProductCard(item_id=r["item_id"], product_id=r["product_id"], name=r["name"], price=r["price"],
                        available=r.get("available", True), brand=r.get("brand"), reason=r.get("reason", ""),
                        options=r.get("options") or {}, source=r.get("model") or r.get("source") or "")
            for r in recs
        ]  # fmt: skip
        self.state.last_items = [c.item_id for c in cards]
        model = next((r["model"] for r in recs if r.get("model")), None)  # the shopper is told what ranked them
        yield self.say("recommend_intro_model", model=model) if model else self.say("recommend_intro")
        for n, c in enumerate(cards, 1):
            yield self.say("recommend_line", n=n, name=c.name, price=c.price, reason=c.reason)
        yield AssistantEvent(kind="cards", cards=cards)

    def _referenced(self, slots: Slots) -> list[str]:
        ids = [i for i in slots.item_ids]
        for pos in slots.references:
            if self.state.last_items and -len(self.state.last_items) <= pos < len(self.state.last_items):
                ids.append(self.state.last_items[pos])
        return list(dict.fromkeys(ids))

    def _on_compare(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        ids = self._referenced(slots)
        if len(ids) < 2 and (products := self._set_against(message)):
            # "is the 500-piece one easier than the 1000-piece one?": those variants of the product, from its options
            # (the variants the values name, not one a stray "first" points at); of each product the words fit
            for product_id in products:
                yield from self._on_product_question(message, slots.model_copy(update={"references": [], "item_ids": []}),
                                                     product_id=product_id)  # fmt: skip
            return
        ids = ids or self.state.last_items[:2]
        if len(ids) < 2:
            yield self.say("compare_need")
            return
        result, event = self.tool("compare_products", {"ids": ids[:4]})
        yield event
        if not result.ok:
            yield self.say("failed", message=result.message)
            return
        yield self.text(self._compare_table(result.data["compared"]))

    def _set_against(self, message: str) -> list[str]:
        """The products whose variants a question sets against each other by their values ("which is lighter, the 1 L
        or the 1.5 L kettle?", `product_answers.set_against`): those it names by their full name, else those shown (if
        the question names none or their kind), else each named by the last word of its name; [] if none is."""
        from assistant import product_answers
        from assistant.understand import rules

        english = _in_english(message.lower())
        question = f"{english} {message.lower()}"
        if not rules.sets_against(question):
            return []
        named = _named_products(self.a.store, english)
        heads = [p.product_id for p in self.a.store.products()
                 if re.search(rf"(?<![a-z0-9]){re.escape(p.name.lower().split()[-1])}(?:e?s)?(?![a-z0-9])", english)]
        shown = [c.product_id for c in self._cards_for(self.state.last_items) if c.product_id in heads or not (named or heads)]
        for tier in (named, shown, heads):
            fits = [p for p in dict.fromkeys(tier) if (product := self.a.store.product(p)) is not None
                    and product_answers.set_against(product, question)]
            if fits:
                return fits
        return []

    def _compare_table(self, rows: list[dict]) -> str:
        """A table of what differs between the compared options (price always), then what they share."""
        replies = _replies()[self.state.lang]
        labels = replies["compare_rows"]

        def shown(value) -> str:
            if isinstance(value, list):
                return ", ".join(map(str, value)) or "–"
            return "–" if value in (None, "") else str(value)

        table = {labels["price"]: [f"${r['price_range'][0]:.2f}" + (f"–${r['price_range'][1]:.2f}" if r["price_range"][1] != r["price_range"][0] else "") for r in rows]}
        keys = list(dict.fromkeys(k for r in rows for k in r["options"]))
        for key in keys:
            table[key] = [shown(r["options"].get(key)) for r in rows]
        table[labels["brand"]] = [shown(r["brand"]) for r in rows]
        table[labels["rating"]] = [f"{r['rating']:.1f}" if r["rating"] else "–" for r in rows]
        if all(isinstance(v, str) for r in rows for v in r["options"].values()):  # variants: in stock or not
            table[labels["stock"]] = [replies["in_stock"] if r["available_variants"] else replies["out_of_stock"] for r in rows]
        else:
            table[labels["available"]] = [str(r["available_variants"]) for r in rows]
        table[labels["warranty"]] = [shown(r.get("warranty")) for r in rows]
        price = labels["price"]
        differ = {k: v for k, v in table.items() if k == price or len(set(v)) > 1}
        same = [f"{k} {v[0]}" for k, v in table.items() if k not in differ and v[0] != "–"]
        names = [r["name"] for r in rows]
        if len(set(names)) < len(names):  # two options of one product: tell them apart by number
            names = [f"{n}. {name}" for n, name in enumerate(names, 1)]
        lines = [replies["compare_intro"], "", "| | " + " | ".join(names) + " |", "|---" * (len(rows) + 1) + "|"]
        lines += [f"| {k} | " + " | ".join(v) + " |" for k, v in differ.items()]
        if same:
            lines += ["", replies["compare_same"].format(same="; ".join(same))]
        return "\n".join(lines) + "\n"

    def _about_shown(self, message: str) -> bool:
        """Whether the message names an option or a field of the product shown first."""
        from assistant import product_answers

        cards = self._cards_for(self.state.last_items[:1])
        product = self.a.store.product(cards[0].product_id) if cards else None
        return product is not None and product_answers.asks_about(product, f"{_in_english(message.lower())} {message.lower()}")

    def _asked_product(self, message: str, slots: Slots) -> str | None:
        """The product a question is about: a referenced item ("the second one"), a product the
        message names (a shown one first), else the first item shown."""
        referenced = self._referenced(slots)
        if referenced:
            cards = self._cards_for(referenced[:1])
            return cards[0].product_id if cards else referenced[0]
        # "my <item> is black, which colours do the <product>s come in?": the product asked about, not the one remarked on
        lowered = _in_english(self._without_remarks(message).lower())
        if self.state.last_items and re.search(r"\b(?:it|its|this|that|these|those|them|they)\b|它|这个|这款|那个", lowered):
            # "is it water resistant?": the product just shown, even if a word of the question names another ("Water")
            cards = self._cards_for(self.state.last_items[:1])
            # …unless it names another product by a name of two words or more ("is it like the bluetooth speaker?")
            if cards and not [p for p in _named_products(self.a.store, lowered) if p != cards[0].product_id and _multiword(self.a.store, p)]:
                return cards[0].product_id
        named = _named_products(self.a.store, lowered)
        if named:
            shown = {c.product_id for c in self._cards_for(self.state.last_items)}
            return next((p for p in named if p in shown), named[0])
        cards = self._cards_for(self.state.last_items[:1])
        return cards[0].product_id if cards else None

    def _on_product_question(self, message: str, slots: Slots, product_id: str | None = None,
                             without: str | None = None, among: list[str] | None = None) -> Iterator[AssistantEvent]:
        """`product_id`: the product the question is about when the conversation says it (the item being exchanged),
        `without`: a variant left out (that item itself, which is no new option), `among`: the variants asked about
        (those just offered), when given."""
        from assistant import product_answers

        product_id = product_id or next(iter([] if self._referenced(slots) else self._set_against(message)), None) \
            or self._asked_product(message, slots)
        if product_id is None:
            yield from self._on_search(message, slots)
            return
        result, event = self.tool("get_product_details", {"product_id": product_id})
        yield event
        if not result.ok:
            yield self.say("failed", message=result.message)
            return
        product = self.a.store.product(result.data["product_id"])
        message = self._without_remarks(message, keep=product.name)  # a value said of their other item is not asked of this one
        kept = [v for v in product.variants if v.item_id != without and (not among or v.item_id in among)]
        if kept and len(kept) < len(product.variants):
            product = product.model_copy(update={"variants": kept})
        referenced = self._referenced(slots)
        one = [v for v in product.variants if v.item_id in referenced[:1]]
        owned = self._owned_items(product, message)
        yours = None  # their own variant, marked among the catalog's when the question is about the product
        if owned and not one:  # "the <product> I bought", "what did I pay for my <product>": the one in their order
            lowered = message.lower()
            own_only = PAID.search(lowered) or (self._mine(product, lowered) and not OFFER.search(lowered))
            if own_only:  # what they paid, "my <product>'s battery": their variant only
                one = [v for v in product.variants if v.item_id == owned[0][1]["item_id"]]
            else:  # "does the <product> I bought also come with …": the catalog's variants, theirs marked
                yours = owned[0][1]["item_id"]
            for order, item in owned:
                yield self.text(self.r("owned_item").format(
                    name=item["name"], options=", ".join(map(str, item["options"].values())), order_id=order["order_id"],
                    status=self.r("statuses").get(order["status"], order["status"]), price=item["price"]) + "\n")  # fmt: skip
        if one:  # "is the second one wireless?": about that variant, not the whole product
            product = product.model_copy(update={"variants": one})
        replies = _replies()[self.state.lang]
        # The answer is decided in code from the catalog; "I don't know" comes at once, with no model call.
        grounded = product_answers.answer(product, f"{_in_english(message.lower())} {message.lower()}", replies, _option_values(self.a.store),
                                          english=_in_english(message.lower()))
        if owned and PAID.search(message.lower()) and not grounded.known:  # "what did I pay for the <item>?": said above
            self.state.last_items = [owned[0][1]["item_id"]]
            return
        if grounded.known and grounded.facts:  # a headline of figures the model may re-word (quotes stay as they are)
            worded = self._worded(grounded.headline, grounded.facts, message)
            if worded is None:  # the model is down: the template's words, and the shopper is told why
                yield self.say("llm_down")
            yield self.text((worded or grounded.headline) + "\n")
        else:
            yield self.text(grounded.headline + "\n")
        for n, line in enumerate(grounded.lines):
            mark = self.r("pa_yours") if yours and n < len(grounded.item_ids) and grounded.item_ids[n] == yours else ""
            yield self.text(line + mark + "\n")
        if grounded.source:
            yield self.text(grounded.source + "\n")
        if yours:  # their own item: "it" is that one from now on
            self.state.last_items = [yours]
        elif grounded.item_ids and not one:  # the variants listed are what "the first two" mean next
            self.state.last_items = grounded.item_ids
        elif not self.state.last_items or owned:  # nothing shown before, or their own item: "it" is this one from now on
            self.state.last_items = [product.variants[0].item_id]

    def _without_remarks(self, message: str, keep: str = "") -> str:
        """The message without its remarks on another item of the shopper's own (`rules.without_owned_remarks`)."""
        return without_owned_remarks(message, _product_words(self.a.store), keep.lower(), lambda x: _in_english(x.lower()))

    def _owned_items(self, product, message: str) -> list[tuple[dict, dict]]:
        """The signed-in customer's own items of this product, with their orders, when the question is about
        one they have ("the <product> I bought", "my <product>", "what did I pay for …"); else []."""
        lowered = message.lower()
        if self.ctx.user_id is None or not (OWNED.search(lowered) or self._mine(product, lowered)):
            return []
        return [(o, i) for o in self._user_orders() for i in o["items"] if i["product_id"] == product.product_id]

    @staticmethod
    def _mine(product, lowered: str) -> bool:
        """"my <product>": the shopper's own one."""
        return bool(re.search(rf"\bmy (?:[\w-]+ ){{0,2}}{re.escape(product.name.lower().split()[-1])}", lowered))

    def _worded(self, headline: str, facts: list[str], question: str) -> str | None:
        """The headline in the model's words, if the model kept every fact, invented no number and kept
        the yes/no; otherwise the template's words; None when the model is unavailable."""
        from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable

        language = "Chinese" if self.state.lang == "zh" else "English"
        messages = [ChatMessage(role="system", content=_prompt("product_answer.md").format(language=language)),
                    ChatMessage(role="user", content=f"QUESTION: {question}\nANSWER: {headline}")]  # fmt: skip
        try:
            worded = "".join(self.a.llm.stream(messages, GenerationConfig(max_tokens=80, temperature=0.0))).strip()
        except LLMUnavailable as exc:
            log.warning("LLM unavailable: %s", exc)
            return None
        lowered = worded.lower()
        numbers = set(re.findall(r"\d+(?:\.\d+)?", headline))
        kept = all(f.lower() in lowered for f in facts) and set(re.findall(r"\d+(?:\.\d+)?", worded)) <= numbers
        lead = re.split(r"[:：]", headline, maxsplit=1)[0].lower()  # "Yes", "Some do", "No", "部分是"
        polarity = len(lead) > 12 or lead.split()[0] in lowered[: len(lead) + 8]
        plain = "\n" not in worded and "answer:" not in lowered and len(worded) <= 1.3 * len(headline) + 20
        return worded if worded and kept and polarity and plain else headline
