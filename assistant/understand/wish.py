"""What a message asks an item to become, read once into a typed `Wish`; `choose` then picks among the
product's variants by it.

Reading (words → `Wish`) and choosing (`Wish` + variants → one variant, a choice for the shopper, or a
verdict) are apart, so that the reading can be shown, tested and compared on its own, and any reader
(these rules, or a model filling the same fields under a schema) is decided by one solver.

    wish = read_wish(product, item, "a size smaller in the same colour, the cheapest")
    chosen, choices = choose(product, item, wish, exact=True)
    # chosen: a variant's item id, None (the shopper picks among `choices`), or rules.KEEP / SAME / UNMET
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.slots import read_slots
from assistant.understand import rules
from assistant.understand.rules import (KEEP, SAME, UNMET, ALL_KEPT, KEPT_AFTER, KEPT_BEFORE, NEGATED_BEFORE,
                                        OPTION_WORDS, SIZE_WORDS, key_words, named_values, value_re, free_options, measured,
                                        mentioned, ordinal)

_CLAUSE_TURN = re.compile(r"\b(?:but|instead|except|only|rather|though|although|while|whereas|and i|i need|i want)\b")
# what follows "for a" / "to the" / "into an": the new item's words ("exchange the <item> for a size m with medium
# ventilation"); its noun phrase ends at a clause's turn ("for the brightest daylight bulb, only if …": "brightest daylight bulb")
_NEW_PART = re.compile(r"\b(?:for|to|into)\s+(?:a|an|the|another)\s+(?!(?:refund|gift|credit|card|paypal|same)\b)")
_EXTREME = r"maximum|max|highest|largest|biggest|greatest|longest|most|minimum|min|lowest|smallest|shortest|least|fewest"
_LOW_EXTREMES = ("minimum", "min", "lowest", "smallest", "shortest", "least", "fewest")
_STEPS = r"\b\d+\s+(?:(?:more|less|fewer|extra)\s+([a-z]+)|([a-z]+)\s+(?:more|less|fewer))\b"  # "500 pieces less": a step, no value


@dataclass
class Wish:
    """What the shopper asked of one item's replacement. Options are the item's option keys; values are
    lower-cased option values. Hard parts filter the variants (in the order of the fields); soft parts rank."""

    item_ids: list[str] = field(default_factory=list)  # item ids said outright ("item ID 4107812777")
    # hard
    bound: dict[str, str] = field(default_factory=dict)  # a value said with its option's name ("size m", "low ventilation")
    limits: dict[str, tuple[int, float]] = field(default_factory=dict)  # "at least 5x zoom": (+1 at least / -1 at most, bound)
    avoided: dict[str, set[str]] = field(default_factory=dict)  # "anything but black"
    steps: list[tuple[str, float]] = field(default_factory=list)  # "500 pieces less": (option, the ordinal wanted)
    same: list[str] = field(default_factory=list)  # "the same difficulty"
    kept: set[str] = field(default_factory=set)  # options that stay as they are ("same colour", "otherwise the same")
    wanted: dict[str, set[str]] = field(default_factory=dict)  # option → the other values of it the message names
    asked: set[str] = field(default_factory=set)  # options the message asks to change (in any of the ways here)
    # soft
    named: dict[str, set[str]] = field(default_factory=dict)  # option → values named as the new item's (ranks variants)
    preferred: dict[str, str] = field(default_factory=dict)  # "if both exist, I'd take <a>"
    said_at: dict[str, int] = field(default_factory=dict)  # value → where first said (earlier = preferred)
    comparatives: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # "brighter": (+1 / -1, options)
    price: int | None = None  # -1 "the cheapest", +1 "the most expensive"
    extremes: list[tuple[str, int]] = field(default_factory=list)  # "the maximum zoom", "the brightest": (option, ±1)
    fits: set[int] = field(default_factory=set)  # "it runs small" (+1: a bigger size), "a bit large" (-1)
    sizes_named: bool = False  # a size value is named (then a fit remark does not choose the size)
    identical: bool = False  # "the same item", "a replacement": a fresh identical one


def read_wish(product, item: dict, message: str) -> Wish:
    """The `Wish` the message states for `item` (an order item: item_id, options), with the product's own
    option values as the lexicon."""
    from retrieval.search.query import fit_remarks

    wish = Wish(item_ids=list(read_slots(message).item_ids))
    wish.fits = {d for *_, d in fit_remarks(message) if d}  # "a bit large", "runs small": the way another size should go
    lowered = re.sub(r"\b(one|two|three|four|five|six)\b", lambda m: str(rules.NUMBER_WORDS[m.group(1)]),
                     rules.option_text(rules.with_kept_words(message)))
    current = {k: str(v).lower() for k, v in item["options"].items()}
    values = rules.variant_values(product, current)
    lowered = said_with_option(rules.letter_sizes(lowered, values), values)  # "rgb-backlit": a value of that option
    kept = kept_options(lowered, values, current)  # "same blue colour", "still full size": read before what it is now is left out
    kept |= new_part_keeps(lowered, values, current)  # "for a size m with medium ventilation": the ventilation it has stays
    lowered = without_current(lowered, values, current)  # "it is a medium": the item now, no wish
    wish.avoided, wishes = avoided_values(rules.without_option_names(lowered, values), values)
    wish.bound = option_bound(wishes, values, current)
    wish.limits = option_limits(wishes, values)
    for m in re.finditer(r"\b(\d+)\s+(?:(more|less|fewer|extra)\s+([a-z]+)|([a-z]+)\s+(more|less|fewer))\b", lowered):
        n, way, word = m.group(1), m.group(2) or m.group(5), m.group(3) or m.group(4)
        for key in (k for k in current if word in k.split() or word.rstrip("s") in k.split()):
            wish.steps.append((key, ordinal(current[key]) + (int(n) if way in ("more", "extra") else -int(n))))
    wish.same = [k for m in re.finditer(r"\bsame ([a-z]+)", lowered) for k in current if m.group(1) in k.split()]

    valued = re.sub(_STEPS, " ", wishes)
    # a yes/no option named plainly ("waterproof") is a wish among the new item's words only ("for the waterproof
    # version"), not where the item now is described ("the boots {'waterproof': 'no'}", "my waterproof boots")
    for_new = " ".join(rules.without_fallbacks(valued[m.end():]) for m in _NEW_PART.finditer(valued))
    for k in current:
        of_k = for_option(valued, k, values)  # "brown lenses" names no frame colour
        for val in (str(x).lower() for x in values[k]):
            if val != current[k] and (mentioned(val, of_k, values[k]) or measured(k, val, of_k) or rules.yes_no(k, val, for_new)):
                wish.wanted.setdefault(k, set()).add(val)  # yes_no: "for the waterproof version" of a waterproof "no" one
    # "a medium in the same ventilation": a value word another option shares (medium ventilation, size M) is not the
    # option said kept
    for k in set(wish.wanted) & kept:
        if all(any(val == str(x).lower() or rules.SIZE_WORDS.get(val) == str(x).lower() for o in values if o != k for x in values[o])
               for val in wish.wanted[k]):
            del wish.wanted[k]
    asked = set(wish.wanted) | set(wish.avoided) | set(wish.limits) | set(wish.bound)
    asked |= {k for m in re.finditer(_STEPS, wishes) for k in current
              if (m.group(1) or m.group(2)).rstrip("s") in k.split() or (m.group(1) or m.group(2)) in k.split()}
    asked |= {k for pattern, _, keys in rules.COMPARATIVES if re.search(pattern, lowered) for k in keys if k in current}
    asked |= {k for k in current if "size" in k.split()} if wish.fits else set()
    asked |= {k for m in re.finditer(rf"\b(?:{_EXTREME}|lower|higher|less|more|fewer)\s+([a-z]+)", lowered)
              for k in _keys_named(m.group(1), current, values)}
    asked |= {key for word, (key, _) in rules.SUPERLATIVE_WORDS.items() if key in current and re.search(rf"\b{word}\b", lowered)}
    if asked and keeps_the_rest(lowered):
        kept |= set(current) - asked
    wish.kept, wish.asked = kept, asked
    wish.preferred = preferred_values(wishes, values)

    # The values each variant could be ranked by: named for the new item, and where each is first said.
    said_of = {k: for_option(wishes, k, values) for k in current}
    for v in product.variants:
        for k, val in v.options.items():
            low = str(val).lower()
            if low != current.get(k) and (
                    mentioned(val, said_of.get(k, wishes), values.get(k, ())) or measured(k, val, wishes)
                    or (low in ("none", "no") and says_without(k, wishes)) or rules.yes_no(k, val, for_new)):
                wish.named.setdefault(k, set()).add(low)
            if low not in wish.said_at and (m := re.search(rf"\b{re.escape(low)}\b", lowered)):
                wish.said_at[low] = m.start()

    comparatives = list(rules.COMPARATIVES)
    for m in re.finditer(r"\b(lower|higher|less|more|fewer)\s+([a-z]+)", lowered):  # "a slightly lower resolution", "more cups"
        keys = _keys_named(m.group(2), current, values)
        if keys:
            comparatives.insert(0, (re.escape(m.group(0)), 1 if m.group(1) in ("higher", "more") else -1, keys))
    wish.comparatives = [(d, keys) for pattern, d, keys in comparatives if re.search(pattern, lowered)]
    wish.price = rules.price_superlative(lowered)

    sizes = tuple(k for k in current if "size" in k.split())
    wish.sizes_named = any(mentioned(val, wishes, values[k]) or measured(k, val, wishes)
                           for k in sizes for val in values[k] if val.lower() != current[k])
    for m in re.finditer(rf"\b({_EXTREME})\s+([a-z]+)", lowered):
        if key := next((k for k in current if m.group(2) in k.split()), None):
            wish.extremes.append((key, -1 if m.group(1) in _LOW_EXTREMES else 1))
    # "<option> … as large as it can get / as low as possible": that option, the last one named before it in its sentence
    for m in re.finditer(r"\bas (high|large|big|long|much|far|low|small|short|little) as (?:it|they) (?:goes|go|gets|get|can (?:go|get|be))\b"
                         r"|\bas (high|large|big|long|much|far|low|small|short|little) as (?:possible|available|you have)\b", lowered):
        before = re.split(r"[.!?;]", lowered[: m.start()])[-1]
        said = [(at.start(), k) for k in current for w in k.split() if len(w) > 2 for at in re.finditer(rf"\b{re.escape(w)}\b", before)]
        if said:
            wish.extremes.append((max(said)[1], -1 if (m.group(1) or m.group(2)) in ("low", "small", "short", "little") else 1))
    for word, (key, sign) in rules.SUPERLATIVE_WORDS.items():
        if re.search(rf"\b{word}\b", lowered) and key in current:
            wish.extremes.append((key, sign))
    wish.identical = bool(re.search(r"same (?:specs|specifications|options|item|model)|identical|new pair|replacement", lowered))
    return wish


def _label(v) -> str:
    return f"{', '.join(v.options.values())} ${v.price:.2f}"


def choose(product, item: dict, wish: Wish, exact: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
    """The available variant of the item's product that `wish` asks for, decided in code.

    Candidates are narrowed by the hard parts (a bound or limit, values avoided, steps, options kept and
    values wanted: none left of what is kept → UNMET); then to those naming the most wanted values; then
    'cheapest' / 'most expensive', a fit remark, a comparative ('brighter'), an extreme ('the maximum zoom')
    pick among them; otherwise the one that keeps most other options. With `exact`, that last one only if it
    changes nothing the wish did not ask for: else None, and the candidates that have what was asked, closest
    first (the shopper chooses what else changes), when there are several."""
    current = {k: str(v).lower() for k, v in item["options"].items()}
    candidates = [v for v in product.variants if v.available and v.item_id != item["item_id"]]
    choices = [(v.item_id, _label(v)) for v in candidates]
    if named_ids := [v.item_id for v in candidates if v.item_id in wish.item_ids]:
        return named_ids[0], choices
    before = len(candidates)
    for key, val in wish.bound.items():
        candidates = [v for v in candidates if str(v.options.get(key, "")).lower() == val] or candidates
    for key, (way, bound) in wish.limits.items():  # a bound is hard: none within it, nothing fits
        candidates = [v for v in candidates if way * (ordinal(v.options.get(key, "")) - bound) >= 0]
        if not candidates:
            return UNMET, choices
    if wish.avoided:  # not those values (unless every candidate has one)
        candidates = [v for v in candidates if not any(str(val).lower() in wish.avoided.get(k, ()) for k, val in v.options.items())] or candidates
    for key, target in wish.steps:
        candidates = [v for v in candidates if ordinal(v.options.get(key, "")) == target] or candidates
    for key in wish.same:
        candidates = [v for v in candidates if str(v.options.get(key, "")).lower() == current[key]] or candidates
    # Options kept are hard: no available variant keeping them is said, not traded for another change.
    if kept := wish.kept - wish.asked:
        keeping = [v for v in candidates if all(str(v.options.get(k, "")).lower() == current[k] for k in kept)
                   and all(str(v.options.get(k, "")).lower() in vals for k, vals in wish.wanted.items())]
        if not keeping:
            return UNMET, choices
        candidates = keeping
    narrowed = len(candidates) < before
    # a value preferred among those named, when one is on offer
    prefers = {k: val for k, val in wish.preferred.items() if any(str(v.options.get(k, "")).lower() == val for v in candidates)}

    def named(v) -> int:
        return sum(1 for k, val in v.options.items()
                   if val.lower() in wish.named.get(k, ()) and prefers.get(k, val.lower()) == val.lower())

    def kept_count(v) -> int:
        return sum(1 for k, val in v.options.items() if current.get(k) == val.lower())

    def step(v, direction: int, keys: tuple) -> float | None:  # how far v goes the asked way, None if not
        steps = [(ordinal(v.options[k]) - ordinal(current[k])) * direction for k in keys if k in v.options and k in current]
        return next((x for x in steps if x > 0), None)

    def preferred(v) -> int:  # a stated order of preference ("prefer <a> > <b>"): the earlier a value is named, the better
        if any(str(v.options.get(k, "")).lower() == val for k, val in prefers.items()):
            return -1
        return min((wish.said_at[x] for val in v.options.values() if (x := str(val).lower()) in wish.said_at), default=1 << 30)

    most = max((named(v) for v in candidates), default=0)
    pool = [v for v in candidates if named(v) == most]
    if wish.price is not None and wish.comparatives:  # a comparative and a price superlative together: the comparative filters first
        going = [v for v in candidates if all(step(v, d, k) is not None for d, k in wish.comparatives)]
        top = max((named(v) for v in going), default=0)
        pool = [v for v in going if named(v) == top] or pool
    if wish.price == -1:
        if pool and most == 0 and item["price"] <= min(v.price for v in pool):
            return KEEP, choices  # it already is the cheapest: nothing to change
        return min(pool, key=lambda v: (v.price, -kept_count(v))).item_id if pool else None, choices
    if wish.price == 1:
        return max(pool, key=lambda v: (v.price, kept_count(v))).item_id if pool else None, choices

    sizes = tuple(k for k in current if "size" in k.split())
    if len(wish.fits) == 1 and sizes and not any(set(k) & set(sizes) for _, k in wish.comparatives) and not wish.sizes_named:
        # A fit remark and no size named: the sizes that way are the shopper's choice (how much smaller is
        # theirs to say), each with the most of what else was asked and kept; one such size is the answer.
        direction = next(iter(wish.fits))
        going = [v for v in candidates if step(v, direction, sizes) is not None]
        top = max((named(v) for v in going), default=0)
        per_size: dict[tuple, object] = {}
        for v in sorted((v for v in going if named(v) == top), key=lambda v: (-kept_count(v), v.price)):
            per_size.setdefault(tuple(v.options.get(k) for k in sizes), v)
        offer = sorted(per_size.values(), key=lambda v: step(v, direction, sizes))
        if len(offer) == 1:
            return offer[0].item_id, choices
        if offer:
            return None, [(v.item_id, _label(v)) for v in offer]
    for direction, keys in wish.comparatives:
        # The comparative is the hard wish ("brighter"); named values and stated preferences rank.
        ranked = sorted((-named(v), x, preferred(v), -kept_count(v), v.price, v.item_id) for v in candidates if (x := step(v, direction, keys)))
        tied = [r for r in ranked if r[:4] == ranked[0][:4]] if ranked else []
        if len(tied) > 1:  # "a size down", and two colours of it fit alike: a choice for the shopper, not the price
            return None, [(r[-1], next(c for i, c in choices if i == r[-1])) for r in tied]
        if ranked:
            return ranked[0][-1], choices
    if wish.extremes and pool:  # the extreme values of those options, other options kept
        return max(pool, key=lambda v: (*(s * ordinal(v.options.get(k, 0)) for k, s in wish.extremes), kept_count(v), -v.price)).item_id, choices
    if most == 0 and not narrowed:
        # a fresh identical one (it arrived worn): the policy allows only another option
        return (SAME if wish.identical else None), choices
    best = max(kept_count(v) for v in pool)
    top = [v for v in pool if kept_count(v) == best]
    if len(top) > 1:  # a real choice between different options: ask rather than guess
        return None, [(v.item_id, _label(v)) for v in top]
    if exact and most and not narrowed and best + most < len(current) and len(pool) > 1:
        # "the 13-inch version", and no 13-inch keeps the rest: what else changes is the shopper's choice
        # (with one candidate there is no choice: its confirmation shows what else changes)
        return None, [(v.item_id, _label(v)) for v in sorted(pool, key=lambda v: (-kept_count(v), v.price))]
    return top[0].item_id, choices


def pick_variant(product, item: dict, message: str, exact: bool = False) -> tuple[str | None, list[tuple[str, str]]]:
    """The variant the message asks `item` to become: `choose(read_wish(...))`."""
    return choose(product, item, read_wish(product, item, message), exact)


# The readings `read_wish` is made of; their words are in rules.py's lexicon (option_words.json).


def says_without(key: str, lowered_message: str) -> bool:
    """'no backlight', 'without a zipper', '不要背光' style wishes for an option set to none."""
    word = key.split()[-1]
    return re.search(rf"\b(?:no|without(?: an?)?)\s+{re.escape(word)}", lowered_message) is not None


# "<avoided word> (the|a|…)* <what follows>": what follows starts with a value the shopper does not want
_AVOIDED = re.compile(r"(?<![a-z0-9])(?:" + "|".join(OPTION_WORDS["avoided"]) + r")\s*((?:(?:the|a|an|my|one|in|with|any)\s+)*)([^,.;!?，。；！？]{1,60})")


# a value the shopper picks when several would do ("I'd prefer <a>", "rather have <b>"), after a few filler words
_PREFERRING = re.compile(r"(?<![a-z])(?:" + "|".join(OPTION_WORDS["preferring"]) + r")\s*(?:(?:the|a|an|one|one with|in|with|it|them|to have|having)\s+)*")


def _value_at(text: str, at: int, values: dict[str, tuple[str, ...]]) -> tuple[str, str, int] | None:
    """(option, value, end) of the option value said at `at` in the text, if one is."""
    for key, vals in values.items():
        for val in sorted((str(v).lower() for v in vals if str(v).strip()), key=len, reverse=True):
            if m := re.compile(value_re(val, plural=True)).match(text, at):
                return key, val, m.end()
    return None


def preferred_values(lowered: str, values: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """The option values the text says it prefers ("if both <a> and <b> are available, I'd prefer <a>", "I'd
    rather have <b>"): option → value. The option's other values it names are alternatives, no wish."""
    chosen: dict[str, str] = {}
    for m in _PREFERRING.finditer(lowered):
        if NEGATED_BEFORE.search(lowered[: m.start()]):  # "i'd never favour <a>": no preference for it
            continue
        if (hit := _value_at(lowered, m.end(), values)) is not None:
            chosen.setdefault(hit[0], hit[1])
    return chosen


def avoided_values(lowered: str, values: dict[str, tuple[str, ...]]) -> tuple[dict[str, set[str]], str]:
    """The option values the text says it does not want ("rather than the striped pattern", "anything but
    black", "not in red"): option → values; and the text without those phrases (what it does want)."""
    avoided: dict[str, set[str]] = {}
    spans = []

    for m in _AVOIDED.finditer(lowered):
        at, end = m.start(2), None
        while (hit := _value_at(lowered, at, values)) is not None:  # "anything but <a> or <b>": each of the list
            key, val, end = hit
            avoided.setdefault(key, set()).add(val)
            # not a bare comma ("not <a>, <b> please"), nor ", and" (a clause of its own: "<a> over <b>, and <c> over …")
            nxt = re.compile(r"(?:,?\s*(?:or|nor|/|或者?|和)|\s+and)\s*(?:the\s+|a\s+)?").match(lowered, end)
            at = nxt.end() if nxt else len(lowered)
        if end is not None:
            spans.append((m.start(), end))
    wanted = lowered
    for start, end in sorted(spans, reverse=True):
        wanted = wanted[:start] + " " + wanted[end:]
    return avoided, wanted


def said_with_option(lowered: str, values: dict[str, tuple[str, ...]]) -> str:
    """A value joined to its option's word ("rgb-backlit", "blue-coloured") as the value and the option's name."""
    for key, vals in values.items():
        words = "|".join(map(re.escape, key_words(key)))
        for val in (str(v).lower() for v in vals if str(v).strip()):
            lowered = re.sub(rf"(?<![a-z0-9-]){re.escape(val)}-(?:{words})(?:e?s|ed)?(?![a-z])", f"{val} {key.lower()}", lowered)
    return lowered


def for_option(lowered: str, key: str, values: dict[str, tuple[str, ...]]) -> str:
    """The text as it speaks of one option: a value this option shares with another, said with that other
    option's own word ("brown lenses", "the frame in black", "镜框是黑色" read as "frame black"), is the other
    option's, so it is blanked here."""
    own = set(key_words(key))
    mine = {str(v).lower() for v in values.get(key, ()) if str(v).strip()}
    for other, vals in values.items():
        words = [w for w in key_words(other) if w not in own]
        shared = mine & {str(v).lower() for v in vals}
        if other == key or not words or not shared:
            continue
        names = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
        for val in shared:
            said = value_re(val)
            lowered = re.sub(rf"{said}\s+(?:{names})(?:e?s)?(?![a-z])|(?<![a-z])(?:{names})(?:e?s)?\s+(?:(?:is|are|in|of)\s+)?{said}",
                             " ", lowered)
    return lowered


_NEW_PHRASE_END = re.compile(r"[,:;()!?]|\.(?!\d)|\s(?:with|if|or|and|but|only|unless|in case|instead|please)\b")


def kept_options(lowered: str, values: dict[str, tuple[str, ...]], current: dict[str, str]) -> set[str]:
    """The options a change keeps as the item has them ("same blue colour and high ventilation", "still linear
    and full size", "the size unchanged"): each option named in a kept phrase by its name or its current value, unless
    the phrase also names another of its values ("the same one with <another value of that option>" changes that option)."""
    spans, at = [], 0
    while m := KEPT_BEFORE.search(lowered, at):
        # the span ends at a turn of the clause; a kept word after it ("the same <item> in <value> while still
        # <value>") starts a span of its own, not swallowed by the first one's
        spans.append(_CLAUSE_TURN.split(m.group(1))[0])
        at = m.start(1) + max(len(spans[-1]), 1)
    spans += [_CLAUSE_TURN.split(m.group(1))[-1] for m in KEPT_AFTER.finditer(lowered)]
    kept = set()
    for m in _NEW_PART.finditer(lowered):  # "for a 7-inch one with more storage": the value it has now, said there, stays
        phrase = _NEW_PHRASE_END.split(lowered[m.end():], 1)[0]
        kept |= {key for key, now in current.items() if mentioned(now, phrase, values.get(key, ()))
                 and not any(mentioned(str(v).lower(), phrase, values[key]) for v in values.get(key, ()) if str(v).lower() != now)}
    for span in spans:
        for key, now in current.items():
            others = [str(v).lower() for v in values.get(key, ()) if str(v).lower() != now]
            if any(mentioned(v, span, values[key]) or measured(key, v, span) for v in others):
                continue
            if mentioned(now, span, values.get(key, ())) or measured(key, now, span) or any(
                    re.search(rf"(?<![a-z]){re.escape(w)}(?:e?s)?(?![a-z])", span) for w in key_words(key)):
                kept.add(key)
    return kept - free_options(lowered, current)


def keeps_the_rest(lowered: str) -> bool:
    """Whether every option the message does not ask to change stays ("otherwise the same", "same <item> otherwise")."""
    return bool(ALL_KEPT.search(lowered))


def without_current(lowered: str, values: dict[str, tuple[str, ...]], current: dict[str, str]) -> str:
    """The text without what it says the item is now ("it is a medium", "the shoes I received are a 9"): that
    describes the current item, so a word another option shares ("medium" ventilation) is no wish for it."""
    for key, now in current.items():
        forms = {now} | ({w for w, letter in SIZE_WORDS.items() if letter == now} if "size" in key.lower().split() else set())
        said = "|".join(value_re(f) for f in sorted(forms, key=len, reverse=True))
        names = "|".join(map(re.escape, key_words(key)))
        lowered = re.sub(rf"\b(?:is|are|was|were|it[’']s|they[’']re|i (?:got|have|bought|ordered|received))\s+"
                         rf"(?:(?:currently|now|actually|just|only)\s+)?(?:(?:a|an|the|in|size|sized|pair of)\s+){{0,3}}"
                         rf"(?:{said})(?:\s+(?:{names}|one|ones|pair))?(?![a-z0-9/])", " ", lowered)  # not "its <value>/<value> option"
    return lowered


def option_bound(lowered: str, values: dict[str, tuple[str, ...]], current: dict[str, str]) -> dict[str, str]:
    """Option values said with their option's name ("high ventilation", "size m", "color black"): option →
    value, where the text binds one value besides the current one to it."""
    # what it asks for, not what it would take if that is impossible ("if there is none with <value> <option>, …")
    lowered = " ".join(x for x in re.split(r"(?<=[.!?;])\s+", lowered) if not re.match(r"(?:but |and )?(?:if|unless|in case|otherwise)\b", x))
    bound = named_values(lowered, values)
    # a change only: the current value said with its option ("still with low ventilation") constrains nothing
    return {key: next(iter(vals - {current.get(key)})) for key, vals in bound.items() if len(vals - {current.get(key)}) == 1}


_ONLY_IF_POSSIBLE = re.compile(r"[^,:;.!?]*\bif (?:possible|available|in stock|(?:it|that|one|so) (?:is|'s|exists) ?(?:available|possible|in stock)?)\b")


def new_part_keeps(lowered: str, values: dict[str, tuple[str, ...]], current: dict[str, str]) -> set[str]:
    """Options whose value the item has now is said with the option's name among the new item's words, a wish held only
    if possible left out ("for a size m: black with medium ventilation if possible, otherwise the cheapest size-m one with
    medium ventilation": the medium ventilation stays)."""
    kept: set[str] = set()
    for m in _NEW_PART.finditer(lowered):
        # a wish held only if possible is no keep ("…: with white backlight if available, otherwise without"); what its
        # fallback says too is ("black with medium ventilation if possible, otherwise … with medium ventilation …")
        said = named_values(_ONLY_IF_POSSIBLE.sub(" ", lowered[m.end():]), values)
        kept |= {key for key, vals in said.items() if vals == {current.get(key)}}
    return kept


_LIMITS = {k: "|".join(v) for k, v in OPTION_WORDS["limits"].items()}


_LIMIT_BEFORE = re.compile(rf"(?<![a-z])(?:(?P<least>{_LIMITS['at_least_before']})|(?P<most>{_LIMITS['at_most_before']}))\s*"
                           r"(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<unit>[a-z\"'’]*)(?:\s+(?P<word>[a-z]+))?")


_LIMIT_AFTER = re.compile(r"(?<![\d.$])(?P<n>\d+(?:\.\d+)?)\s*-?\s*(?P<unit>[a-z\"'’]*)(?:\s+(?P<word>[a-z]+))??\s*"
                          rf"(?:(?P<least>{_LIMITS['at_least_after']})|(?P<most>{_LIMITS['at_most_after']}))(?![a-z])")


def option_limits(lowered: str, values: dict[str, tuple[str, ...]]) -> dict[str, tuple[int, float]]:
    """Bounds said on a numeric option ("at least 5x zoom", "64GB or more", "no more than 2 kg"): option → (+1 for
    at least, -1 for at most; the number). The option is the one whose values carry the unit said, or the one the
    word after the number names; a number with neither (a price, a count of items) bounds nothing."""
    bounds: dict[str, tuple[int, float]] = {}
    for m in [*_LIMIT_BEFORE.finditer(lowered), *_LIMIT_AFTER.finditer(lowered)]:
        way, number, word = (1 if m.group("least") else -1), m.group("n"), m.group("word")
        unit = m.group("unit").strip("\"'’")
        for key, vals in values.items():
            units = {re.sub(r"[\d.,\s-]+", "", str(v).lower(), count=1) for v in vals}
            if not vals or not all(re.match(r"\d", str(v)) for v in vals):
                continue  # not a numeric option
            if (unit and unit in units) or (word and word.rstrip("s") in key.split()) or (unit and unit.rstrip("s") in key.split()):
                bounds[key] = (way, ordinal(f"{number}{unit}"))  # in the values' own scale ("1.5l" → 1500, as "1.5L")
    return bounds


def _keys_named(word: str, current: dict[str, str], values: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The options a word names: by the option's name ("resolution") or the unit its values carry ("cups" of "4 cups")."""
    unit = word.rstrip("s")
    return tuple(k for k in current if word in k.split() or (len(unit) > 2 and any(
        re.sub(r"^[\d.,\s-]+", "", str(v).lower()).rstrip("s") == unit for v in values.get(k, ()) if re.match(r"\d", str(v)))))
