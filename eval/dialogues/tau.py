"""Converters from τ²-bench and τ-bench (v1) retail task files to Aisle scenarios.

The simulated shopper knows only the task's instruction text, as in τ-bench: it opens with its
main request in the first person, knows the facts stated in the text (email, name and zip, order
ids if given; the item, option and payment wording), wants the kinds of action the text asks for,
and judges a proposal against the text (`shopper`, which is never given the actions). The
ground-truth actions are used for grading only: the expected final state (replayed on a fresh
store), tool-call precision/recall and the report's category label.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

import yaml

from retrieval.store import Store

from eval.dialogues.scenario import (
    WRITE_TOOLS, Action, Expectations, Facts, GoalAction, IfAsked, LLMUser, RuleUser, Scenario, ScenarioError, ToolCall,
)  # fmt: skip

DATA = Path(__file__).parent / "data"
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
ORDER_RE = re.compile(r"#W\d{7}")
USER_ID_RE = re.compile(r"\b([a-z]+)_([a-z]+)_\d{4}\b")
NAME_RES = [re.compile(r"\b(?:Your name is|You name is|You are|You're|You’re|My name is|I am|called|named)\s+([A-Z][a-z'-]+)\s+([A-Z][a-z'-]+)")]
ZIP_RE = re.compile(r"(?<![\d#W])(\d{5})(?!\d)")
PAYMENT_RE = re.compile(r"gift card|paypal|credit card|payment|refund|pay\b|visa|mastercard", re.IGNORECASE)
METHOD_RE = re.compile(r"gift card|paypal|credit card|visa|mastercard", re.IGNORECASE)
ADDRESS_RE = re.compile(r"\baddress\b", re.IGNORECASE)
STREET_RE = re.compile(r"\d+ \w+ (st|street|ave|avenue|rd|road|dr|drive|ln|lane|blvd)\b", re.IGNORECASE)
IF_ASKED_RE = re.compile(
    r"^(?:but )?(?:if|when|once|should) (?:the agent|they|it) asks? (?:you )?(?:for |to |about |whether |if )?(?P<cond>[^,]+), (?P<act>.+)$"
    r"|^(?:but )?(?:if|when|once) (?:(?:you|I)(?:'re| are| am| get| were)? )?asked (?:for |about |whether |if |to )?(?P<cond2>[^,]+), (?P<act2>.+)$"
    r"|^(?:but )?if (?:the agent|it|they) (?:does not|doesn't|do not|don't|won't|will not) (?P<refused>allow) [^,]+, (?P<act3>.+)$",
    re.IGNORECASE,
)
ITEM_WORDS = re.compile(r"exchange|return|modify|change|switch|replace|cancel|want|wish|prefer|instead", re.IGNORECASE)


@lru_cache(maxsize=1)
def _tool_map() -> dict[str, str | None]:
    return {k: v for k, v in json.loads((DATA / "tau_tools.json").read_text(encoding="utf-8")).items() if k != "_comment"}


@lru_cache(maxsize=1)
def _person_rules() -> dict:
    return yaml.safe_load((DATA / "first_person.yaml").read_text(encoding="utf-8"))


def first_person(text: str) -> str:
    """'You received your order' → 'I received my order', by the rules in data/first_person.yaml. A sentence
    already in the shopper's own voice ("the lamp i ordered …, can you send it …") is left as it is: its
    "you" is the agent."""
    rules = _person_rules()
    out = []
    for piece in re.split(r"((?<=[.!?])\s+)", text):
        if not (re.search(rules["own_voice"], piece) and not re.search(rules["second_person"], piece)):
            for pattern, repl in rules["rules"]:
                piece = re.sub(pattern, repl, piece)
        out.append(piece)
    return "".join(out)


def sentences(text: str) -> list[str]:
    """The text's sentences; a condition after a semicolon ("pay with X; if that won't work, Y") is one of its
    own, as if written after a full stop (a request and its fallback)."""
    for pattern, repl in _person_rules()["agent_does"]:  # a request said through the agent is the shopper's own
        text = re.sub(pattern, repl, text)
    # A sentence may begin in lower case (a text written without capitals), but not after an abbreviation ("st. louis").
    pieces: list[str] = []
    for piece in re.split(r"(?<=[.!?])\s+(?=[A-Za-z(])|(?<=[。！？])\s*(?=\S)", text.strip()):  # 。！？ end Chinese ones
        # nor inside a quotation ("… is only: 'hi. need help'")
        unclosed = pieces and len(re.findall(r"(?<!\w)['‘\"“](?=\w)", pieces[-1])) > len(re.findall(r"(?<=[\w.!?,)])['’\"”](?!\w)", pieces[-1]))
        if pieces and (unclosed or (piece[:1].islower() and re.search(_person_rules()["no_sentence_end"], pieces[-1]))):
            pieces[-1] += " " + piece
        else:
            pieces.append(piece)
    out = []
    for sentence in pieces:
        parts = re.split(r";\s*(?=(?:but |and )?(?:if|in case|unless|otherwise|should)\b)", sentence)
        out += [p.strip() + "." for p in parts[:-1]] + [parts[-1][:1].upper() + parts[-1][1:] if len(parts) > 1 else parts[-1]]
    return [s.strip() for s in out if s.strip()]


def opening_text(text: str) -> str:
    """The request without identity, persona and agent-directed sentences, in the first person."""
    skip = _person_rules()["skip_in_opening"]
    text = re.sub(r"\s*\([^()]*\bagent\b[^()]*\)", "", text)  # an aside to the shopper about the agent, not the request
    kept = [s for s in sentences(text) if not any(re.search(p, s) for p in skip)]
    return first_person(" ".join(kept)).strip()


def _request_sentences(text: str) -> list[str]:
    """The sentences of a request, minus identity, persona, agent-directed and conditional ones."""
    skip = _person_rules()["skip_in_opening"]
    text = re.sub(r"\s*\([^()]*\bagent\b[^()]*\)", "", text)
    return [s for s in sentences(text) if not any(re.search(p, s) for p in skip) and not IF_ASKED_RE.match(s)]


def main_request(text: str) -> tuple[str, list[str]]:
    """What a person opens with (the request up to its first sentence asking for something) and the
    rest of the request, in the first person, said later when the assistant does not follow."""
    parts = _request_sentences(text)
    rules = _person_rules()
    asking = next((n for n, s in enumerate(parts) if re.search(rules["wants"], s) or wanted_kinds(s)), 0)
    # "Make sure you mention these at the same time": the requests before that sentence are said in the
    # opening, together (not its conditions: they wait for a refusal); the sentence itself is never said.
    together = next((n for n, s in enumerate(parts) if n > asking and re.search(rules["together"], s)), None)
    joined = [] if together is None else [s for s in parts[asking + 1 : together] if not CONDITION_RE.match(s)]
    # What the new item must keep or which options it would rather have ("…, but the new <item> has to stay the same
    # size", "for the <option>, X is my first choice, else Y"), said after the request and asking nothing itself
    # (no request of its own: "…so the <item> should be a large instead" is one, said in its turn): said with it.
    joined += [s for n, s in enumerate(parts) if n > asking and s not in joined and n != together and not CONDITION_RE.match(s)
               and not re.search(rules["together"], s) and not wanted_kinds(s) and not re.search(rules["wants"], s)
               and (re.search(rules["keeps"], s) or (re.search(rules["prefers"], s) and not PAYMENT_RE.search(s)))]
    # Numbered requests ("One: …", "Two: …" / "First, …", "Second, …"): said together, as numbered.
    if re.match(rules["numbered_first"], parts[asking] if parts else ""):
        for n in range(asking + 1, len(parts)):
            if not re.match(rules["numbered_next"], parts[n]):
                break
            if parts[n] not in joined:
                joined.append(parts[n])
    opening = first_person(" ".join(parts[: asking + 1] + joined)).strip()
    return opening, [first_person(s) for n, s in enumerate(parts[asking + 1 :], asking + 1) if s not in joined and n != together]


# "After the agent <does one thing>, you <want another>": the second, a request of its own, said after the ones before it
# (a change of mind once the rest is done); the sentence itself speaks of the agent and is not said.
AFTERWARDS_RE = re.compile(r"(?i)^(?:once|after)\s+the agent\s+(?:has|had|is|was|confirms|completes|finishes)\b[^.!?]*?,\s*(?:then\s+)?(?P<rest>you\b.+)$")


def afterwards_requests(text: str) -> list[str]:
    """The requests a task asks for only once the agent has done the others, in the first person."""
    found = [first_person(m.group("rest")) for s in sentences(text) if (m := AFTERWARDS_RE.match(s))]
    return [r[:1].upper() + r[1:] for r in found]


CONDITION_RE = re.compile(r"(?i)^(?:but |and )?(?:if|in case|unless|otherwise|should)\b")

# "(First / Before confirming,) I would like to know whether X is Y(, and then choose Z)": what is asked is a
# question said in the shopper's voice ("Is X Y?"); the choice after it is its answer once the agent asks.
ASKED_RE = re.compile(
    r"(?i)^(?:(?:first|then|next|also|before [\w ]+?|after [\w ]+?),?\s+)?(?:(?:I|you)\s+)?(?:then\s+)?"
    r"(?:would like to know|'d like to know|want to know|wonder|ask|asks)\s+(?:the agent\s+|them\s+|it\s+)?"
    r"(?P<wh>whether|if|how|what|which|when|why|where|who)\b\s*(?P<rest>.+?)"
    r"(?:,?\s+and\s+(?:then\s+)?(?:(?:I|you)\s+)?(?:will\s+)?(?P<choice>(?:choose|pick|take|go with|select|opt for)\b.+?))?[.?!]?$"
)
AUX_RE = re.compile(r"(?i)\b(is|are|was|were|can|could|will|would|does|do|did|has|have|should)\b")


def asked_question(sentence: str) -> tuple[str, str | None] | None:
    """A sentence asking the agent something, as the question the shopper says ("Is the X lighter than the Y?",
    "Can you tell me how long …?"), and the choice it says it then makes (or None); None if it asks nothing."""
    m = ASKED_RE.match(sentence.strip())
    if not m:
        return None
    wh, rest = m.group("wh").lower(), m.group("rest").strip().rstrip(",")
    aux = AUX_RE.search(rest) if wh in ("whether", "if") else None
    if aux and aux.start() > 0:
        question = f"{aux.group(1).capitalize()} {rest[: aux.start()].strip()} {rest[aux.end():].strip()}".strip() + "?"
    else:
        question = f"Can you tell me {wh} {rest}?"
    choice = m.group("choice")
    return question, (re.sub(r"(?i)^(?:choose|pick|take|go with|select|opt for)\s+", "", choice).strip() if choice else None)


def _said_as_question(sentence: str) -> str:
    asked = asked_question(sentence)
    return asked[0] if asked else sentence


def requests_and_fallbacks(rest: list[str]) -> tuple[list[str], list[str]]:
    """Of the request sentences after the opening: those asking for something (said in turn, every one)
    and those saying what to ask for instead when something is not possible ("if X is not possible, Y")."""
    rules = _person_rules()
    requests: list[str] = []
    fallbacks: list[str] = []
    for s in rest:
        if CONDITION_RE.match(s):
            # "If the same item is available, I'd take it": a wish about the request before it, said with it;
            # "if that is not possible, …": what to ask for instead, said after a refusal.
            condition = re.split(r",\s*(?!\d)", s)[0]  # "if 7, 8, 9 are not possible, …": up to the clause after it
            if requests and requests[-1] in rest and re.search(rules["available_condition"], condition) \
                    and not re.search(rules["negative_condition"], condition):
                requests[-1] = f"{requests[-1]} {s}"
            else:
                fallbacks.append(s)
        elif wanted_kinds(s) or re.search(rules["wants"], s):
            requests.append(s)
    return requests, fallbacks


# Where one request of a sentence ends and the next begins ("…; second, …", "…, and change …").
CLAUSE_RE = re.compile(r"\s*[;:]\s*|,\s*(?=(?:and|but|then)\b)|\s+(?=and also\b)", re.IGNORECASE)
# An address and the words before it, to tell whose address it is ("order address", "user default address",
# "the address of the order"); one after "to"/"from" is where something goes, not what changes.
ADDRESS_OF_RE = re.compile(r"((?:[\w'-]+\s+){0,3})address(?:es)?\b(\s+(?:of|for|on)\s+(?:\w+\s+){0,2}orders?\b)?", re.IGNORECASE)


def wanted_kinds(sentence: str) -> list[str]:
    """The kinds of action one sentence asks for (see GOAL_KINDS), without negated ones, read clause by
    clause so that an address change does not hide an item change asked in another clause."""
    rules = _person_rules()
    found: list[str] = []
    for pattern, repl in rules["purpose"]:  # "return it for the red one" is a swap, "exchange it for my money back" a refund
        sentence = re.sub(pattern, repl, sentence)
    for clause in CLAUSE_RE.split(sentence):
        here: list[str] = []
        for kind, pattern in rules["kinds"].items():
            # not negated, nor the subject of a condition ("if canceling the order is the only option, …")
            # (a negation before a modal is another verb's: "the lamp that has not shipped should be …" asks it)
            asked = [m for m in re.finditer(pattern, clause)
                     if not (re.search(rules["negation"], clause[: m.start()]) and not re.match(r"(?i)(?:should|would|could|must)\b", m.group(0)))
                     and not re.search(r"(?i)\b(?:if|unless|whether)\s+$", clause[: m.start()])]  # fmt: skip
            if not asked:
                continue
            if kind == "change-items" and {"address", "payment"} & set(here):  # "change my address" is not an item change
                continue
            here.append(kind)
        found += [k for k in here if k not in found]
    # an item described as it is, with the option wanted instead, on a sentence asking nothing else: its change
    if not found and re.search(rules["owned_other"], sentence):
        found.append("change-items")
    # a refund is how the money of a cancellation, a return or an item change's difference comes back, not a
    # request of its own
    return [k for k in found if not (k == "refund" and {"cancel", "return", "change-items"} & set(found))]


def address_targets(sentence: str) -> list[str]:
    """Whose addresses a sentence asks to change, one tool per request, when it names both an order's and
    the user's / default one ("all order addresses and my user address": orders twice, several), else []
    (an address, whichever)."""
    targets = []
    for m in ADDRESS_OF_RE.finditer(sentence):
        before = set(m.group(1).lower().split())
        if {"to", "from", "into", "as"} & before:
            continue
        if m.group(2) or {"order", "orders"} & before:
            several = m.group(0).lower().rstrip().endswith("es") or {"all", "every", "each"} & before
            targets += ["modify_pending_order_address"] * (2 if several else 1)
        if {"default", "user", "profile", "account"} & before:
            targets.append("update_default_address")
    return targets if len(set(targets)) > 1 else []


# "… in different orders", "all my orders": one request for each of (at least) two orders.
SEVERAL_ORDERS_RE = re.compile(r"(?i)\b(?:(?:different|separate|two|both) |all (?:\w+ )?)orders\b|\b(?:every|each) (?:\w+ )?order\b")
EARLIER_RE = re.compile(r"(?i)\b(?:these|those|both)\s+(?:(?:two|three|four|\d+)\s+)?(?:things|items|ones)\b")


def _about_several(sentence: str, kind: str) -> bool:
    """Whether this kind's request is about several orders: "all orders" / "different orders" after it, with no
    other request between them but one joined by "or"/"and" ("cancel or return all possible orders")."""
    kinds = _person_rules()["kinds"]
    m = re.search(kinds[kind], sentence)
    several = SEVERAL_ORDERS_RE.search(sentence, m.end()) if m else None
    if several is None:  # said before it, no verb's object: "every order that can be cancelled …"
        several = next(iter(reversed(list(SEVERAL_ORDERS_RE.finditer(sentence, 0, m.start())))), None) if m else None
        if several is None:
            return False
        return not any(re.search(p, sentence[: several.start()]) or (k != kind and re.search(p, sentence[several.end() : m.start()]))
                       for k, p in kinds.items())
    between = sentence[m.end() : several.start()]
    other = any(re.search(p, between) for k, p in kinds.items() if k != kind)
    return not other or bool(re.fullmatch(r"(?i)\s*(?:or|and)\s+\w+\s+", between))


def goals_from_text(text: str) -> list[GoalAction]:
    """What the shopper asks for, read from its instructions alone: each request with the order its
    sentence names (if any), and that sentence to bring it up again. Requests naming no order are one
    per sentence (two sentences each asking a return are two returns), and a sentence asking to change
    both an order's address and the default one asks two things, as does one about "different orders"."""
    goals: dict[tuple, GoalAction] = {}
    for n, sentence in enumerate(_request_sentences(text)):
        fallback = bool(re.match(r"(?i)(?:but )?(?:if|in case|unless|otherwise)\b", sentence))  # "if not possible, cancel"
        orders = ORDER_RE.findall(sentence) or [None]
        say = first_person(sentence)
        if goals and EARLIER_RE.search(sentence) and orders == [None]:
            continue
        for kind in wanted_kinds(sentence):
            tools = (address_targets(sentence) if kind == "address" else []) or [kind]
            several = 2 if kind != "address" and _about_several(sentence, kind) else 1
            for copy, tool in enumerate(tools * several):
                for order in orders:
                    if tool == "update_default_address":  # the shopper's own address belongs to no order
                        order = None
                    key = (kind, order, (n, copy) if order is None else None, tool)
                    goals.setdefault(key, GoalAction(tool=tool, order_id=order, say=say, fallback=fallback))
    # A kind asked for about no order in particular is covered by the same kind for a named order; an
    # address about no one in particular by one whose owner is said; and a refund by a cancellation or
    # a return (it is how the money comes back).
    named = {k for k, o, _, _ in goals if o}
    kinds = {k for k, *_ in goals}
    whose = any(t != "address" for k, _, _, t in goals if k == "address")
    wanted = [g for (k, o, _, t), g in goals.items()
              if (o or k not in named or t == "update_default_address")
              and not (k == "address" and t == "address" and whose)
              and not (k == "refund" and kinds & {"cancel", "return"})]  # fmt: skip
    return [g for g in wanted if not g.fallback] + [g for g in wanted if g.fallback]


def extract_facts(text: str) -> Facts:
    """Email, name and zip, order ids, and the wording about items, payment and reasons, from task text."""
    facts = Facts()
    emails = list(dict.fromkeys(e.rstrip(".") for e in EMAIL_RE.findall(text)))
    if emails:
        facts.email, facts.other_emails = emails[0], emails[1:]
    for name_re in NAME_RES:
        if m := name_re.search(text):
            facts.first_name, facts.last_name = m.group(1), m.group(2)
            break
    if facts.first_name is None and (m := USER_ID_RE.search(text)):
        facts.first_name, facts.last_name = m.group(1).capitalize(), m.group(2).capitalize()
    zips = ZIP_RE.findall(ORDER_RE.sub(" ", EMAIL_RE.sub(" ", text)))
    if zips:
        facts.zip = zips[0]
    facts.order_ids = list(dict.fromkeys(ORDER_RE.findall(text)))
    parts = sentences(opening_text(text))
    items = [s for s in parts if ITEM_WORDS.search(s) and not PAYMENT_RE.search(s)]
    facts.items = " ".join(items) or None
    facts.options = facts.items
    payment = [s for s in parts if METHOD_RE.search(s)]
    facts.payment = " ".join(payment) if payment else "The original payment method, please."
    # a method it says it will choose after asking about them: that choice is its answer
    chosen = [c for s in parts if (q := asked_question(s)) and (c := q[1]) and METHOD_RE.search(c)]
    if chosen:
        facts.payment = chosen[0][:1].upper() + chosen[0][1:] + ", please."
    lowered = text.lower()
    facts.reason = "ordered by mistake" if re.search(r"mistake|accident", lowered) else "no longer needed"
    # A street written out (in the request, else where the shopper lives) beats a sentence about addresses.
    streets = [s for s in parts if STREET_RE.search(s)] or [first_person(s) for s in sentences(text) if STREET_RE.search(s)]
    # "…and your daughter lives in Chicago": where someone else lives points to one of the orders' addresses
    elsewhere = [f"{first_person(m.group(1)).capitalize()} lives in {m.group(2)}." for m in re.finditer(r"\b(your \w+) lives in ([^,.;]+)", text)]
    address = streets or elsewhere or [s for s in parts if ADDRESS_RE.search(s)]
    facts.address = " ".join(address) or None
    return facts


def if_asked(text: str) -> list[IfAsked]:
    """"If the agent asks for confirmation, only exchange the desk lamp" → words ['confirm'], say 'Only exchange the desk lamp.'"""
    rules = _person_rules()["if_asked"]
    out = []
    for sentence in sentences(text):
        for part in re.split(r",? but (?=(?:if|when) )", sentence):
            m = IF_ASKED_RE.match(part.strip())
            if not m:
                continue
            cond, act = m.group("cond") or m.group("cond2") or "", m.group("act") or m.group("act2") or m.group("act3")
            words = [w[:7] for w in re.findall(r"[a-z]+", cond.lower()) if w not in rules["ignore_words"]]
            if m.group("refused"):  # "if the agent doesn't allow the exchange": a reply saying it is not allowed
                words = ["not", "allow"]
            if any(w.startswith("confirm") for w in words):
                words = ["confirm"]
            for pattern in rules["strip"]:
                act = re.sub(pattern, "", act.strip(), flags=re.IGNORECASE)
            say = first_person(act).strip().rstrip(". ")
            if words and say:
                out.append(IfAsked(words=words, say=say[0].upper() + say[1:] + "."))
    return out


def _user_id_for(store: Store, actions: list[dict]) -> str | None:
    """The task's shopper: from its identification action, a user-scoped action, or an order's owner."""
    from assistant.orders import OrderService, PolicyError

    service = OrderService(store)
    for a in actions:
        args = a["arguments"]
        try:
            if a["name"] == "find_user_id_by_email":
                return service.find_user_by_email(args["email"])
            if a["name"] == "find_user_id_by_name_zip":
                return service.find_user_by_name_zip(args["first_name"], args["last_name"], args["zip"])
        except PolicyError:
            continue
        if "user_id" in args:
            return args["user_id"]
    for a in actions:
        if "order_id" in a["arguments"] and (order := store.order(a["arguments"]["order_id"])) is not None:
            return order.user_id
    return None


def _category(writes: list[Action], handoff: bool) -> str:
    names = sorted({a.name for a in writes})
    if handoff and not names:
        return "handoff"
    if not names:
        return "refusal"
    short = {"cancel_pending_order": "cancel", "modify_pending_order_address": "order-address",
             "modify_pending_order_payment": "order-payment", "modify_pending_order_items": "modify-items",
             "return_delivered_order_items": "return", "exchange_delivered_order_items": "exchange",
             "update_default_address": "user-address"}  # fmt: skip
    return "+".join(short[n] for n in names)


def shopper(text: str, request: str, user: str = "rule") -> RuleUser | LLMUser:
    """The simulated shopper of a task, built from its instruction text alone: this function is never given
    the task's actions, so nothing it knows can come from the answers it is graded against."""
    facts = extract_facts(text)
    conditional = if_asked(text)
    # What it would add when asked to confirm ("I also want to return the smart watch and e-reader") is
    # also what it wants when asked which items.
    more = [r.say for r in conditional if ITEM_WORDS.search(r.say) and not PAYMENT_RE.search(r.say) and r.words == ["confirm"]]
    if more:
        facts.items = " ".join([facts.items or "", *more]).strip()
    opening, rest = main_request(request)
    if not opening:  # the request is all persona or identity: say the whole text
        opening, rest = first_person(text), []
    if user == "llm":
        return LLMUser(opening=opening, facts=facts, instructions=text)
    if user != "rule":
        raise ScenarioError(f"unknown shopper {user!r}: rule | llm")
    requests, fallbacks = requests_and_fallbacks(rest)
    # a question it is told to ask is said as that question (asking no action, it is a request of its own)
    requests = [_said_as_question(r) for r in requests]
    rest = [_said_as_question(s) for s in rest]
    later = afterwards_requests(request)
    if request != text:  # a fallback stated outside the request ("if you cannot cancel one item, you are okay with …")
        said = {s.rstrip(" .") for s in _request_sentences(request)}
        fallbacks += [first_person(s) for s in _request_sentences(text)
                      if CONDITION_RE.match(s) and (wanted_kinds(s) or re.search(_person_rules()["keeps_as_is"], s))
                      and s.rstrip(" .") not in said]  # fmt: skip
    goal = goals_from_text(text) + [g for r in later for g in goals_from_text(r)]
    return RuleUser(opening=opening, facts=facts, goal=goal, rephrase=rest[:4],
                    if_asked=conditional, instructions=text, requests=requests + later, fallbacks=fallbacks)  # fmt: skip


def _scenario(task_id: str, source: str, text: str, request: str, raw_actions: list[dict], user_id: str | None,
              user: str, max_turns: int) -> Scenario:  # fmt: skip
    mapping = _tool_map()
    actions, calls = [], []
    for a in raw_actions:
        if a["name"] not in mapping:
            raise ScenarioError(f"{source}: unknown τ tool {a['name']!r}")
        name = mapping[a["name"]]
        if name is None:
            continue
        args = {k: v for k, v in a["arguments"].items() if k != "user_id"}
        if name == "find_user":
            calls.append(ToolCall(name="find_user"))
        elif name in WRITE_TOOLS or name == "transfer_to_human":
            actions.append(Action(name=name, arguments=args, user_id=user_id))
            calls.append(ToolCall(name=name, arguments={} if name == "transfer_to_human" else args))
    writes = [a for a in actions if a.name in WRITE_TOOLS]
    spec = shopper(text, request, user)
    return Scenario(
        id=task_id, title=spec.opening[:80], category=_category(writes, any(a.name == "transfer_to_human" for a in actions)),
        user=spec, source=source,
        expect=Expectations(actions=actions, tool_calls=calls, tool_calls_required=False, max_turns=max_turns),
    )  # fmt: skip


def _read(path: Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such task file")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ScenarioError(f"{path}: expected a JSON list of tasks")
    return data


SPLITS = ("dev", "heldout")


def task_split(task_id: str) -> str:
    """'dev' or 'heldout' (two in five), from a hash of the task id alone: fixed before any run, so which
    tasks are held out never depends on how the agent does on them."""
    return "heldout" if int(hashlib.sha256(str(task_id).encode()).hexdigest(), 16) % 5 < 2 else "dev"


def _in_split(task_id: str, split: str | None) -> bool:
    if split is not None and split not in SPLITS:
        raise ScenarioError(f"unknown split {split!r}: {' | '.join(SPLITS)}")
    return split is None or task_split(task_id) == split


def tau2_scenarios(path: Path, store: Store, user: str = "rule", max_turns: int = 16, split: str | None = None) -> list[Scenario]:
    """τ²-bench retail tasks (`user_scenario.instructions`, `evaluation_criteria.actions`) → scenarios;
    `split`: only the tasks of that part of the file (`task_split`)."""
    out = []
    for task in _read(path):
        if not _in_split(task["id"], split):
            continue
        ins = task["user_scenario"]["instructions"]
        actions = [{"name": a["name"], "arguments": a.get("arguments") or {}}
                   for a in (task.get("evaluation_criteria") or {}).get("actions") or []]  # fmt: skip
        # each part a sentence of its own, even one written without a full stop
        text = " ".join(re.sub(r"(?<=[\w)\]'\"’])$", ".", x.strip()) for x in (ins.get("known_info"), ins.get("reason_for_call"), ins.get("task_instructions")) if x)
        request = ins.get("reason_for_call") if opening_text(ins.get("reason_for_call") or "") else text
        out.append(_scenario(f"tau2-{Path(path).stem}-{task['id']}", f"tau2:{Path(path).name}:{task['id']}", text,
                             request, actions, _user_id_for(store, actions), user, max_turns))  # fmt: skip
    return out


def tau_scenarios(path: Path, store: Store, user: str = "rule", max_turns: int = 16, split: str | None = None) -> list[Scenario]:
    """τ-bench v1 retail tasks (`instruction`, `actions` with `kwargs`, `user_id`) → scenarios (`split`: by the
    task's position, as its id)."""
    out = []
    for n, task in enumerate(_read(path)):
        if not _in_split(str(n), split):
            continue
        actions = [{"name": a["name"], "arguments": a.get("kwargs") or {}} for a in task.get("actions") or []]
        text = task["instruction"]
        user_id = task.get("user_id") or _user_id_for(store, actions)
        out.append(_scenario(f"tau-{Path(path).stem}-{n}", f"tau:{Path(path).name}:{n}", text, text,
                             actions, user_id, user, max_turns))  # fmt: skip
    return out
