"""Simulated shoppers: scripted turns, a rule-based user that answers from known facts, an LLM-played user.

Every user has `opening()` and `reply(text, events) -> str | None` (None ends the conversation).
"""

from __future__ import annotations

import json
import re
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from assistant.state import AssistantEvent

from eval.dialogues.scenario import GOAL_KINDS, WRITE_TOOLS, Facts, LLMUser, RuleUser, ScriptedUser, _order_key

DATA = Path(__file__).parent / "data"
STOP = "###STOP###"
# The actions whose proposal says where money is refunded.
REFUND_TOOLS = frozenset({"return_delivered_order_items", "cancel_pending_order"})


@lru_cache(maxsize=1)
def _rules() -> dict:
    return yaml.safe_load((DATA / "user_rules.yaml").read_text(encoding="utf-8"))


class SimulatedUser(Protocol):
    def opening(self) -> str: ...

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None: ...


class ScriptedSim:
    """Says its turns in order whatever the assistant answers; stops when they run out."""

    def __init__(self, spec: ScriptedUser) -> None:
        self.turns = list(spec.turns)
        self.n = 0

    def opening(self) -> str:
        self.n = 1
        return self.turns[0]

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None:
        if self.n >= len(self.turns):
            return None
        self.n += 1
        return self.turns[self.n - 1]


class RuleSim:
    """Answers the assistant's questions from its facts; yes/no to proposals by rule; stops when done.

    It says each of its `requests` in turn (when one is done, or asked what else) and, after a refusal,
    a stated fallback or its next request; it stops when its goal actions are all done and every request
    is said, when it is handed off, when refused with nothing left to ask, or
    when it cannot tell what the assistant wants and has run out of ways to rephrase its request
    (`rephrase`, by default the opening once). It knows an order id only when its facts or goal
    name one; otherwise it picks the order the assistant lists whose items its words name, or says
    it does not remember and describes the items. With `instructions`, a proposal naming items, an
    order, a payment method or an address those instructions do not is declined, saying what is wrong."""

    def __init__(self, spec: RuleUser, lang: str = "en") -> None:
        self.spec = spec
        self.facts: Facts = spec.facts
        self.say = _rules()["replies"][lang]
        self.goal = list(spec.goal)  # what it asked for, read from its own text (see RuleUser.goal), never the grader's
        self.given_orders: list[str] = []
        self.lost = 0
        self.asked: dict[str, int] = {}
        self.used: set[int] = set()  # if_asked answers already given
        self.restated: set[int] = set()  # goals brought up again after another was done (once each)
        self.said: set[str] = set()  # request sentences said as more detail
        self.sent: list[str] = [spec.opening]  # everything it has said, to tell which requests are still unsaid
        self.fell_back: set[str] = set()  # fallbacks said
        self.settled = False  # a fallback was done: what it came for is settled
        self.done_orders: set[str] = set()  # orders its done actions were on
        self.objected: dict[str, str] = {}  # proposal (tool and arguments) → what it objected
        self.proposal = ""  # the last proposal's text, to tell which request a done action was
        self.owed_fallback = False  # a refusal came with a question: its fallback is said after the answer
        self.added: set[int] = set()  # goals said when a proposal asked whether every item of its order is listed
        self.on_order: dict[str, set[int]] = {}  # order → goals a proposal on it held, to tell what "that order" has
        self.taken_methods: set[str] = set()  # kinds of method it took as the one offered, its own not being possible
        self.by_price: set[str] = set()  # questions among priced versions answered with its rule (once each)

    def opening(self) -> str:
        return self.spec.opening

    def _matches(self, key: str, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in _rules()[key])

    def _ask(self, text: str) -> str | None:
        for kind, patterns in _rules()["asks"].items():
            if any(re.search(p, text, re.IGNORECASE) for p in patterns):
                return kind
        return None

    def _objection(self, tool: str | None, arguments: dict, text: str) -> str | None:
        """Why the shopper declines this proposal (what it says), or None to accept it."""
        if self.spec.confirm != "goal":
            return None if self.spec.confirm == "always" else self.say["no"]
        order = arguments.get("order_id")
        if self.goal and not any(g.fits(tool, order) for g in self.goal) and not self._own_address(arguments):
            if not self.spec.instructions:
                return self.say["no"]
            if any(g.fits(tool) for g in self.goal):
                return self.say["no_order"].format(order_ids=", ".join(g.order_id for g in self.goal if g.order_id))
            return self.say["no_action"].format(action=self.say["actions"].get(tool, tool))
        if not self.spec.instructions:
            return None if self.goal else self.say["no"]
        return self._wrong_detail(tool, arguments, text)

    def _own_address(self, arguments: dict) -> bool:
        """A proposal to ship to (or save) the very address its instructions spell out, street and zip: a person
        recognises the address they gave even where reading its text found no address request ("you want that to
        be the address on your account"); whether it is the right action is the final state's to judge."""
        if any(g.tool in ("address", "modify_pending_order_address", "update_default_address") for g in self.spec.goal):
            return False  # its address requests were read: those judge (one done, or regretted, is not wanted again)
        ins, street, zip_code = self.spec.instructions or "", str(arguments.get("address1") or ""), str(arguments.get("zip") or "")
        return bool(street and zip_code) and street.lower() in ins.lower() and zip_code in ins

    def _wrong_detail(self, tool: str | None, arguments: dict, text: str) -> str | None:
        """Checks the proposal's order, items, payment method and address against the instructions."""
        ins = self.spec.instructions or ""
        cues = _rules()["instructions"]
        named = [o for o in self.facts.order_ids if o in ins]
        # the orders it knows by number, unless those are done and a request left names none ("my other order, the
        # one with the <item>": its number unknown, the agent's is taken)
        other = all(_order_key(o) in self.done_orders for o in named) and any(g.order_id is None and g.fits(tool) for g in self.goal)
        if named and arguments.get("order_id") and _order_key(arguments["order_id"]) not in map(_order_key, named) and not other:
            return self.say["no_order"].format(order_ids=", ".join(named))
        if kept := self._kept(tool, text):
            return self.say["not_items"].format(name=kept)
        # An item its text asks another kind of action for ("send back the speaker" proposed as an exchange); a
        # cancellation lists the whole order's items, and a method's details are no item. Its conditions may
        # ask this kind about an item they only point at ("if …, exchange it"), or name one they are about
        # without asking anything of it ("if the lamp is returned, …"): then it cannot tell, and does not object.
        conditional = any(g.fallback and g.fits(tool) for g in self.spec.goal)
        for name in _proposed_items(text) if tool != "cancel_pending_order" and not conditional else []:
            if any(re.search(p, name, re.IGNORECASE) for p in cues["methods"].values()):
                continue
            # (a refund is where money goes, no action on an item: "only if the new <item> is …; the refund goes to …")
            naming = [g for g in self.spec.goal if not g.fallback and g.tool != "refund" and g.say and _names(name, _words(g.say, short=True))]
            if naming and not any(g.fits(tool) for g in naming):
                return self.say["no_action"].format(action=self.say["actions"].get(tool, tool))
        # Items its text picks by how they compare ("the cheaper of the two") are the agent's to name: it cannot check names.
        by_comparison = bool(re.search(cues["relative_item"], ins))
        # "Keep everything else": an item of the proposal no request of its text names is one it keeps.
        if tool != "cancel_pending_order" and re.search(cues["keeps_rest"], ins) and not by_comparison:
            for name in _proposed_items(text):
                if not any(_names(name, self._request_words(g.say)) for g in self.spec.goal if g.say):
                    return self.say["not_items"].format(name=name)
        if tool in GOAL_KINDS["change-items"] and re.search(cues["pays_more"], text) and self._wants_cheaper():
            return self.say["not_cheaper"]
        proposed_ids = set(arguments.get("item_ids") or [])
        ins_ids = set(re.findall(r"\b\d{10}\b", ins))
        # A shopper who names items by id judges them by id: the names of the proposal tell it nothing.
        named_ids = bool(proposed_ids) and (proposed_ids <= ins_ids or bool(ins_ids & (proposed_ids | set(arguments.get("new_item_ids") or []))))
        if tool != "cancel_pending_order" and not named_ids and not re.search(cues["all_items"], ins, re.IGNORECASE) \
                and not re.search(cues["unnamed_item"], ins) and not by_comparison:
            words = _words(ins, short=True)
            for name in _proposed_items(text):
                if not _names(name, words):
                    return self.say["no_items"].format(name=name)
        # The method it asks for, not one a conditional sentence accepts instead ("if …, a gift card").
        # (of a sentence asking about methods and then choosing one, the one chosen)
        plain = " ".join(_chosen(x) for x in re.split(r"(?<=[.!?])\s+", ins) if not re.match(r"(?i)(?:but )?(?:if|unless|otherwise)\b", x))
        plain += " " + " ".join(f for f in self.spec.fallbacks if any(f in s for s in self.sent))  # fallbacks it has said
        # Several requests, each with its own method ("Return #W1 via paypal_…; cancel #W2"): the clauses naming this order.
        order_key = _order_key(arguments.get("order_id"))
        if len(set(re.findall(r"W\d{7}", ins))) > 1:
            # a clause naming no order continues the one before it ("For #W1, modify <item> …; <item> …; via <method>")
            # (a clause naming several orders is each one's)
            own, current = [], []
            for clause in re.split(r"(?<=[.!?;])\s+", plain):
                current = re.findall(r"W\d{7}", clause.upper()) or current
                if order_key and order_key in current:
                    own.append(clause)
            plain = " ".join(own) or plain
        wanted = {m for m, p in cues["methods"].items() if re.search(p, plain, re.IGNORECASE)}
        offered = _offered_methods(text)
        if offered and tool in REFUND_TOOLS:  # where its refund goes, said in words it cannot check against the proposal
            for request in self._unsaid():
                if re.search(cues["refund_to"], request) and not any(re.search(p, request, re.IGNORECASE) for p in cues["methods"].values()):
                    return request
        wanted |= self.taken_methods  # a method it took when told its own was not possible: no objection to it
        if wanted and offered and not offered & wanted:
            return self.say["no_payment"].format(method=self.say["methods"][sorted(wanted)[0]])
        street = re.search(STREET, ins, re.IGNORECASE)
        address1 = str(arguments.get("address1") or "").strip()
        if street and address1 and not re.match(rf"{street.group(1)}\b", address1):
            return self.say["no_address"].format(address=self.facts.address or street.group(0))
        return None

    def _request_words(self, said: str) -> set[str]:
        """The words a request names its items with: its own, and those of the sentence before it in its text when it
        opens with a pronoun ("… got a bike helmet from you. It is blue and he wants red": the helmet)."""
        words = _words(said, short=True)
        if re.match(r"(?i)\s*(?:it|they|this|that|these|those)\b", said):
            words |= _words(self._sentence_before(said) or "", short=True)
        return words

    def _sentence_before(self, said: str) -> str | None:
        """The sentence of its own text (in its own voice) before the one that says `said`, if any."""
        own = self._own_sentences
        return next((own[n - 1] for n, s in enumerate(own) if n and (s in said or said in s)), None)

    @cached_property
    def _own_sentences(self) -> list[str]:
        """Its text's sentences in its own voice, read once."""
        from eval.dialogues.tau import first_person, sentences

        return [first_person(s) for s in sentences(self.spec.instructions or "")]

    def _kept(self, tool: str | None, text: str) -> str | None:
        """An item the proposal includes that its instructions leave out ("all … except the boots"), unless
        the sentence saying so asks this kind of action for it in another clause ("…, but I'd exchange them")."""
        from eval.dialogues.tau import CLAUSE_RE, sentences, wanted_kinds  # the same reading of its own text

        for sentence in sentences(self.spec.instructions or ""):
            for m in re.finditer(_rules()["instructions"]["excepted"], sentence):
                others = [c for c in CLAUSE_RE.split(sentence) if m.group(0) not in c]
                if tool in {t for c in others for k in wanted_kinds(c) for t in GOAL_KINDS.get(k, {k})}:
                    continue
                kept = _words(m.group(1), short=True)
                if name := next((n for n in _proposed_items(text) if _names(n, kept)), None):
                    return name
        return None

    @cached_property
    def _asking_words(self) -> set[str]:
        """The words its text's requests (sentences an action kind is read in) name items with, read once."""
        from eval.dialogues.tau import sentences, wanted_kinds

        return {w for s in sentences(self.spec.instructions or "") if wanted_kinds(s) for w in self._request_words(s)}

    @cached_property
    def _sentence_words(self) -> list[set[str]]:
        """The words of each sentence of its text and opening, read once."""
        from eval.dialogues.tau import sentences

        return [_words(x, short=True) for x in sentences(" ".join(x for x in (self.spec.instructions, self.spec.opening) if x))]

    @cached_property
    def _has_cheapest_rule(self) -> bool:
        """Whether its instructions choose among versions by price ("if several fit, the cheapest"); "the cheapest of my
        items" picks an item, not a version, but "then I take the cheapest of those" chooses among the versions listed."""
        from eval.dialogues.tau import sentences

        rule, relative = _rules()["instructions"]["cheapest_version"], _rules()["instructions"]["relative_item"]
        return any(re.search(rule, s) and (not re.search(relative, s) or re.search(r"(?i)\b(?:take|pick|choose|go with)\b", s))
                   for s in sentences(self.spec.instructions or ""))

    def _only_listed(self, question: str) -> str | None:
        """The item a question asks the new option of, when its text names that item but no request of its text does
        ("my order holds a <item> and a <other>. I want the <item> in …": asked about the <other>, it keeps it)."""
        asked = self._asking_words
        # "What should <Item> (…) become?": the item's name without the question's own capitalised words
        names = [re.sub(r"^(?:what|which|how)\b.*?\b(?:should|would|shall|do|does|is|are)\s+", "", n, flags=re.IGNORECASE)
                 for n in _proposed_items(question)[:1]]
        # named in a sentence that also names what a request is about (the list of what the order holds), never in a request
        return next((n for n in names if not _names(n, asked)
                     and any(_names(n, w) and (w - _words(n, short=True)) & asked for w in self._sentence_words)), None)

    def _picks_cheapest(self, question: str) -> bool:
        """Whether its rule chooses among the versions offered by price, and the question is about an item a request of
        its text asks to change (not one it only lists as in the order)."""
        return self._has_cheapest_rule and any(_names(name, self._asking_words) for name in _proposed_items(question))

    def _wants_cheaper(self) -> bool:
        """Whether a sentence of its instructions asking an item change wants the new item cheaper."""
        from eval.dialogues.tau import sentences, wanted_kinds

        cheaper = _rules()["instructions"]["cheaper"]
        return any(re.search(cheaper, s) and "change-items" in wanted_kinds(s) for s in sentences(self.spec.instructions or ""))

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None:
        said = self._reply(text, events)
        if said is not None:
            self.sent.append(said)
        return said

    def _unsaid(self) -> list[str]:
        """Its requests not said yet, in order (a request counts as said once any of its turns held it)."""
        return [r for r in self.spec.requests if not any(r in s for s in self.sent)]

    def _next_request(self) -> str | None:
        if self.owed_fallback:
            self.owed_fallback = False
            if said := self._unsaid_fallback():
                return said
        unsaid = self._unsaid()
        if unsaid:
            self.said.add(unsaid[0])
            return unsaid[0]
        return None

    def _more_to_do(self) -> bool:
        """Whether it still wants something: a request unsaid, a goal not done, or "all"/"every" in its
        instructions (the same action on several orders) unless a fallback settled it."""
        if not self.spec.instructions or self.spec.confirm != "goal":
            return False
        every = re.search(_rules()["instructions"]["all_items"], self.spec.instructions, re.IGNORECASE)
        return bool(self._unsaid() or any(not g.fallback for g in self.goal) or (every and not self.settled))

    def _after_refusal(self, text: str) -> str | None:
        """A refusal: what its instructions say to do then ("if the agent doesn't allow it, …", "if that is
        not possible, …"), else its next request, else nothing (it ends)."""
        if said := self._if_asked(text):
            return said
        return self._unsaid_fallback() or self._next_request()

    def _unsaid_fallback(self) -> str | None:
        for fallback in self.spec.fallbacks:
            if fallback not in self.fell_back and not any(fallback in s for s in self.sent):
                self.fell_back.add(fallback)
                if self._gives_up(fallback):
                    continue  # nothing to ask instead: the request is dropped, and the next one said
                return fallback
        return None

    def _gives_up(self, fallback: str) -> bool:
        """A fallback that gives its request up ("if that cannot be done, forget it"): the request before it in
        its text is settled, never brought up again."""
        from eval.dialogues.tau import wanted_kinds

        if wanted_kinds(fallback) or not re.search(_rules()["instructions"]["gives_up"], fallback):
            return False
        if (before := self._sentence_before(fallback)) is not None:
            self.goal = [g for g in self.goal if not (g.say and (g.say in before or before in g.say))]
        return True

    def _before_yes(self, tool: str | None, arguments: dict, text: str) -> str | None:
        """What it says instead of yes to a proposal it accepts: a question its text asks "before confirming" (once),
        or, asked whether every item of that order is listed, another change its text asks for in the same order."""
        from eval.dialogues.tau import asked_question, first_person, sentences

        questions = {q[0] for s in sentences(self.spec.instructions or "")
                     if (q := asked_question(first_person(s))) and re.match(r"(?i)before\b", s.strip())}
        for request in self._unsaid():
            if request in questions and request not in self.said:
                self.said.add(request)
                return request
        if not self._matches("list_all", text):
            return None
        order, items = arguments.get("order_id"), _proposed_items(text)
        held = self.on_order.setdefault(_order_key(order), set())
        before = set(held)
        held |= {id(g) for g in self.goal if g.say and any(_names(n, _words(g.say, short=True)) for n in items)}
        for g in self.goal:
            if g.fallback or id(g) in self.added or not g.say or not g.fits(tool, order):
                continue
            if any(_names(n, _words(g.say, short=True)) for n in items):
                continue  # a request this proposal already holds
            # one its text places in that order, or one an earlier proposal on it held and this one leaves out
            if (order and g.order_id and _order_key(g.order_id) == _order_key(order)) or re.search(_rules()["same_order"], g.say) \
                    or id(g) in before or self._listed_with(items, g.say):
                self.added.add(id(g))
                return g.say
        return None

    def _listed_with(self, items: list[str], request: str) -> bool:
        """Whether its text lists, as what one order holds ("my delivered order with running shoes, an espresso machine
        and a coffee maker"), both an item of the proposal and a thing the request names: then that request is about
        the proposal's order too."""
        for listed in re.finditer(_rules()["instructions"]["order_list"], self.spec.instructions or ""):
            things = [re.sub(r"(?i)^(?:an?|the|two|three|four|some|my|your)\s+", "", t.strip()).lower()
                      for t in re.split(r"(?i),\s*(?:and\s+)?|\s+and\s+", listed.group("things")) if t.strip()]
            if any(_names(n, _words(t, short=True)) for n in items for t in things) and any(
                    t and re.search(rf"(?i)\b{re.escape(t)}", request) and not any(_names(n, _words(t, short=True)) for n in items)
                    for t in things):
                return True
        return False

    def _reply(self, text: str, events: list[AssistantEvent]) -> str | None:
        if any(e.kind == "handoff" for e in events):
            return None
        pending = next((e for e in events if e.kind == "pending"), None)
        if pending is not None:
            self.proposal = text
            if (objection := self._objection(pending.tool, pending.arguments or {}, text)) is not None:
                proposal = f"{pending.tool} {sorted((pending.arguments or {}).items())}"
                if self.objected.get(proposal) != objection:
                    self.objected[proposal] = objection
                    return objection
                # Proposed again unchanged: what it asked for is not possible. It takes the proposal if a
                # fallback it stated names what is offered, else says a fallback or its next request, else ends.
                cues = _rules()["instructions"]["methods"]
                offered = _offered_methods(text)
                stated = [f for f in self.spec.fallbacks if any(f in s for s in self.sent)]
                # A fallback only accepting what the agent can do ("if it must go back to the original method,
                # that is fine") names nothing to say first: taken at once.
                accepts = _rules()["instructions"]["accepts"]
                accepting = [f for f in self.spec.fallbacks
                             if re.search(accepts, f) and not any(re.search(p, f, re.IGNORECASE) for p in cues.values())]
                if any(re.search(cues[m], f, re.IGNORECASE) for f in stated for m in offered) or accepting:
                    return self._if_asked(text) or self.say["yes"]
                return self._after_refusal(text)
            return self._if_asked(text) or self._before_yes(pending.tool, pending.arguments or {}, text) or self.say["yes"]
        done = [e for e in events if e.kind == "tool" and e.ok and e.tool and self._is_goal_tool(e)]
        if done or self._matches("done", text):
            for e in done:
                self._finish(e)
                self.done_orders.add(_order_key((e.arguments or {}).get("order_id")))
            # A reply that goes on to ask something (a task it queued) is answered; otherwise the shopper
            # brings up its next request, what is still to do, or ends.
            if self._ask(text) is None or not self._more_to_do():
                if (nxt := self._next_request()) is not None:
                    return nxt
                if not any(not g.fallback for g in self.goal) or self.spec.confirm != "goal":
                    return None
                return self._restate(after_done=True)
        elif self._matches("anything_else", text) and not self._ask(text):
            return self._next_request()
        if self._matches("failed", text) or (self._ask(text) is None and self._matches("refused", text)):
            if self._ask(text) is None:
                return self._after_refusal(text)
            if said := self._if_asked(text):
                return said
            # One request refused and the reply goes on to the next ("I couldn't do that … Next: which …?"): the
            # question is answered; what its text says to do after the refusal is said once the next is done.
            self.owed_fallback = True
        if said := self._if_asked(text):
            return said
        if self._matches("unavailable", text) and (said := self._unsaid_fallback()):
            return said
        kind = self._ask(text)
        if kind is None:
            self.lost += 1
            if self.spec.instructions and self.spec.confirm == "goal" and self.goal != list(self.spec.goal) and not self._more_to_do():
                return None  # what it came for is done and every request said: nothing left to rephrase
            unsaid = [r for r in self.spec.rephrase if r not in self.said]
            if unsaid:  # the rest of its request, a sentence at a time
                self.said.add(unsaid[0])
                return unsaid[0]
            if (nxt := self._next_request()) is not None:  # it does not leave with a request unsaid
                return nxt
            return self._restate() if self.lost == 1 else None
        self.lost = 0
        self.asked[kind] = self.asked.get(kind, 0) + 1
        if self.asked[kind] > 3:  # the same question again and again: the conversation is stuck
            return None
        return self._answer(kind, reply=text, events=events)

    def _if_asked(self, text: str) -> str | None:
        lowered = text.lower()
        for n, rule in enumerate(self.spec.if_asked):
            if n not in self.used and all(re.search(r"\b" + re.escape(w.lower()), lowered) for w in rule.words):
                self.used.add(n)
                return rule.say
        return None

    def _is_goal_tool(self, e: AssistantEvent) -> bool:
        return any(g.fits(e.tool) for g in self.goal) or (not self.goal and e.tool in WRITE_TOOLS)

    def _finish(self, e: AssistantEvent) -> None:
        order = (e.arguments or {}).get("order_id")
        # The goal naming this order first, then one naming none; of those, one whose words name an item the
        # proposal named ("the boots …", "the lamp …": two item changes, each its own). One action changing
        # several items settles every request of its kind naming no order that names one of them.
        items = _proposed_items(self.proposal)

        def named(g) -> bool:
            return any(_names(n, _words(g.say or "", short=True)) for n in items)

        for g in sorted(self.goal, key=lambda g: (g.order_id is None, not named(g))):
            if g.fits(e.tool, order):
                also = [x for x in self.goal if x.order_id is None and not x.fallback and x.fits(e.tool, order) and named(x)] if named(g) else []
                self.goal = [] if g.fallback else [x for x in self.goal if x is not g and x not in also]  # a fallback settles it
                self.settled = self.settled or g.fallback
                return

    def _restate(self, after_done: bool = False) -> str | None:
        """Brings up what is still to do: the next goal's own words, or its order with the opening."""
        nxt = next((g for g in self.goal if not g.fallback), None)
        if after_done and nxt is not None:
            if id(nxt) in self.restated:  # brought up once already and still not done: stop asking
                return None
            self.restated.add(id(nxt))
        if nxt is not None and nxt.say:
            return nxt.say
        if nxt is not None and nxt.order_id and nxt.order_id not in self.spec.opening:
            return f"Also, for order {nxt.order_id}: {self.spec.opening}"
        return self.spec.opening

    def _more_detail(self, reply: str) -> str | None:
        """The first request sentence not said yet that names something the question names."""
        asked = _words(reply)
        for sentence in self.spec.rephrase:
            if sentence not in self.said and _words(sentence) & asked:
                self.said.add(sentence)
                return sentence
        return None

    def _pick_order(self, reply: str) -> str | None:
        """From the assistant's list of orders ("#W1 (delivered: Lamp, Bottle)"), the one whose items the
        shopper's own words name (preferring the status its goal needs): what a person reading it would say."""
        words = _words(" ".join(x for x in (self.spec.instructions, self.spec.opening, self.facts.items) if x), short=True)
        everything = bool(re.search(_rules()["instructions"]["all_items"], self.spec.instructions or "", re.IGNORECASE))
        statuses = {s for g in [g for g in self.goal if not g.fallback][:1] for t in GOAL_KINDS.get(g.tool, {g.tool}) for s in ("pending", "delivered") if s in t}
        # Either list shape the assistant may show: "#W1 (delivered: Lamp, Bottle)" or "#W1 · delivered · Lamp, Bottle · …".
        shapes = (r"(#?W?\d{5,})\s*\(([^:()]+):\s*([^()]*)\)", r"(#?W?\d{5,})\s*·\s*([^·\n]+?)\s*·\s*([^·\n]*)")
        listed = [(m.group(1), m.group(2).strip().lower(), [n.strip() for n in m.group(3).split(",")])
                  for shape in shapes for m in re.finditer(shape, reply)
                  if m.group(1) not in self.given_orders]  # fmt: skip
        candidates = [(o, st, [n for n in names if _names(n, words)]) for o, st, names in listed]
        if everything and not any(named for *_, named in candidates):  # "return all my orders": each in turn
            candidates = [(o, st, names[:1]) for o, st, names in listed]
        best, best_score = None, (0, 0)
        for order_id, status, names in candidates:
            score = (int(status in statuses), len(names))
            if names and score > best_score:
                best, best_score = (order_id, names[0]), score
        if best is None:
            return None
        self.given_orders.append(best[0])
        return self.say["order_picked"].format(order_id=best[0], name=best[1])

    def _answer(self, kind: str, reply: str = "", events: list[AssistantEvent] = ()) -> str:
        """What the shopper says to a question of this kind; `reply` is the assistant's question."""
        f = self.facts
        if kind == "identity":
            name_zip = f.first_name and f.last_name and f.zip
            # Emails first, in turn; asked again (e.g. no email was found), name and zip if known.
            emails = [f.email, *f.other_emails] if f.email else []
            if emails and (self.asked[kind] <= len(emails) or not name_zip):
                return self.say["email"].format(email=emails[min(self.asked[kind], len(emails)) - 1])
            if name_zip:
                return self.say["name_zip"].format(first_name=f.first_name, last_name=f.last_name, zip=f.zip)
            return self.say["unknown"]
        if kind == "order":
            wanted = list(dict.fromkeys([g.order_id for g in self.goal if g.order_id and not g.fallback] + f.order_ids))
            # An order already acted on is not the one the next task is about (unless it is the only one).
            wanted.sort(key=lambda o: _order_key(o) in self.done_orders)
            for order_id in wanted:
                if order_id not in self.given_orders:
                    self.given_orders.append(order_id)
                    return self.say["order"].format(order_id=order_id)
            if wanted:
                return self.say["order"].format(order_id=wanted[0])
            if picked := self._pick_order(reply):
                return picked
            # No order id known: it does not remember it, and describes what was in the order (once).
            if self.asked[kind] == 1 and f.items:
                return self.say["order_unknown"].format(description=f.items)
            return self.say["unknown"]
        if kind == "belongs":
            # "Are any of these about <topic> too?": the items offered (buttons) that its own text names —
            # it knows what it meant, even what it would not volunteer.
            words = _words(" ".join(x for x in (self.spec.instructions, self.spec.opening, f.items) if x), short=True)
            asked = [c.label for e in events for c in e.choices if c.kind == "item"]
            named = [label for label in asked if _names(re.sub(r"\s*\(.*", "", label), words)]
            return self.say["belongs_yes"].format(names=", ".join(named)) if named else self.say["belongs_no"]
        if kind == "options" and (kept := self._only_listed(reply)):
            return self.say["not_items"].format(name=kept)  # asked to change an item its text only lists as in the order
        if kind == "options" and len(re.findall(r"\$\d", reply)) > 1 and reply not in self.by_price and self._picks_cheapest(reply):
            self.by_price.add(reply)
            return self.say["cheapest_version"]  # versions offered with prices, and its rule picks by price: the agent's to apply
        if kind in ("items", "options") and self.asked[kind] > 1 and (more := self._more_detail(reply)):
            return more  # asked again (e.g. nothing matched): the next thing its instructions say about it
        if kind == "payment" and self.asked[kind] > 1:
            # The methods offered: the reply's `choices` event (labels name them, ids are in the event)
            buttons = {c.label for e in events for c in e.choices if c.kind == "payment"}
            if len(buttons) == 1:  # what it asked for is not possible: take the one method offered (its button)
                taken = buttons.pop()
                self.taken_methods |= _method_kinds(taken)
                return taken
            offered = set(re.findall(r"\b(?:credit_card|paypal|gift_card)_\d+", reply))
            if len(offered) == 1:
                taken = offered.pop()
                self.taken_methods |= _method_kinds(taken)
                return self.say["take_offered"].format(method=taken)
        text = {"cancel_reason": f.reason, "items": f.items, "options": f.options or f.items,
                "payment": f.payment, "address": f.address}[kind]  # fmt: skip
        return text or self.say["unknown"]


STREET = r"\b(\d+) [A-Z]?\w+ (?:st|street|ave|avenue|rd|road|dr|drive|ln|lane|blvd|boulevard)\b"
_STOP_WORDS = frozenset("with that this have from your their them they want would like also which what when where "
                        "item items order orders some into only same other than then just".split())
# Three-letter words that are no item's name; the rest count when names are compared ("Pet Bed", "Mug", "Hat").
_SHORT_STOP_WORDS = frozenset("the and for you all but not can one two any new buy get via our its own too use was are "
                              "has had did his her him she who why how may now off out per yes".split())


def _chosen(sentence: str) -> str:
    """A sentence asking something and then choosing ("ask which of X and Y is quicker, and then pick Y"): the
    choice; another sentence as it is."""
    from eval.dialogues.tau import asked_question, first_person, sentences

    found = [q for s in sentences(sentence) if (q := asked_question(first_person(s)))]
    return (found[0][1] or "") if found else sentence


def _method_kinds(label: str) -> set[str]:
    """The kinds of payment method a button label or id names ("gift card, balance $19.00", "paypal_123")."""
    return {k for k, p in _rules()["instructions"]["methods"].items() if re.search(p, label.replace("_", " "), re.IGNORECASE)}


def _offered_methods(text: str) -> set[str]:
    """The kinds of payment method a proposal uses: ids ("paypal_1") or the names it gives after
    "refunded to", "via" or "with" ("Mastercard ending 4127", "gift card, balance $59.00")."""
    offered = {m.group(1) for m in re.finditer(r"\b(credit_card|paypal|gift_card)_\w+", text)}
    for m in re.finditer(r"(?:refunded to|via|\bwith) ([^;.()]+?)(?: instead of|[;.(]|$)", text):
        offered |= _method_kinds(m.group(1))
    return offered


def _word_forms(w: str) -> set[str]:
    """A word and its singular forms: 'shelves' → shelf, 'batteries' → battery, 'boxes' → box, 'lamps' → lamp
    (a form that is not a word does no harm: it is only compared with others)."""
    if w.endswith("ss") or not w.endswith("s"):
        return {w}
    forms = {w[:-1]}
    if w.endswith("ies"):
        forms.add(w[:-3] + "y")
    elif w.endswith("ves"):
        forms.add(w[:-3] + "f")
    elif w.endswith("es"):
        forms.add(w[:-2])
    return forms


def _words(text: str, short: bool = False) -> set[str]:
    """Content words, lower-case, without hyphens and in their singular forms: 'T-Shirts' and 'tshirt' are
    one word. `short`: three-letter words count too (item names such as "Pet Bed" have no longer word)."""
    out = set()
    for w in re.findall(r"[a-z0-9][a-z0-9-]*", text.lower()):
        w = w.replace("-", "")
        if (len(w) >= 4 or (short and len(w) == 3 and w not in _SHORT_STOP_WORDS)) and w not in _STOP_WORDS:
            out |= _word_forms(w)
    return out


@lru_cache(maxsize=1)
def _other_names() -> dict[str, list[set[str]]]:
    """Each product name (lower case) with the words of the other names people call it by (the shop's aliases.json:
    "power bank" for a Portable Charger), as a person knows them."""
    data = json.loads((Path(__file__).resolve().parents[2] / "assistant" / "data" / "aliases.json").read_text(encoding="utf-8"))
    out: dict[str, list[set[str]]] = {}
    for alias, targets in data["aliases"].items():
        for target in [targets] if isinstance(targets, str) else targets:
            out.setdefault(target.lower(), []).append(_words(alias, short=True))
    return out


def _names(name: str, words: set[str]) -> bool:
    """Whether the shopper's `words` name the item `name`: a word in common, a word of four letters or more that a
    compound word of the name begins or ends with ("watch" → "Wristwatch", "shelf" → "Bookshelf"), or every word of
    another name it goes by ("power bank" → "Portable Charger")."""
    own = _words(name, short=True)
    return bool(own & words) or any(len(w) >= 4 and len(n) > len(w) and (n.startswith(w) or n.endswith(w))
                                    for n in own for w in words) \
        or any(alias and alias <= words for alias in _other_names().get(name.lower().strip(), []))  # fmt: skip


def _proposed_items(text: str) -> list[str]:
    """Item names a confirmation names as they are now ("Desk Lamp (black, LED)"), not what they would
    become (after '→'), and not the order itself."""
    names = []
    for m in re.finditer(r"([A-Z][\w'-]*(?: [\w'&-]+)*?) \(([^()]*)\)", text):
        if text[: m.start()].rstrip().endswith("→") or re.search(r"#?W\d{5,}\b", m.group(1)):
            continue
        names.append(m.group(1))
    return names


class LLMSim:
    """A shopper played by the LLM backend from its instructions; `###STOP###` ends the conversation."""

    def __init__(self, spec: LLMUser, llm, lang: str = "en") -> None:
        self.spec = spec
        self.llm = llm
        facts = {k: v for k, v in spec.facts.model_dump().items() if v}
        self.system = (DATA / "llm_user.md").read_text(encoding="utf-8").format(
            instructions=spec.instructions, facts=yaml.safe_dump(facts, allow_unicode=True) or "(none)",
            language="Chinese" if lang == "zh" else "English",
        )  # fmt: skip
        self.history: list[tuple[str, str]] = []

    def opening(self) -> str:
        self.history.append(("assistant", self.spec.opening))
        return self.spec.opening

    def reply(self, text: str, events: list[AssistantEvent]) -> str | None:
        from assistant.llm import ChatMessage, GenerationConfig

        if any(e.kind == "handoff" for e in events):
            return None
        # Roles are swapped: to the model playing the shopper, the assistant's replies are the user's turns.
        self.history.append(("user", text.strip() or "(no reply)"))
        messages = [ChatMessage(role="system", content=self.system)]
        messages += [ChatMessage(role=r, content=c) for r, c in self.history]
        out = "".join(self.llm.stream(messages, GenerationConfig(max_tokens=120, temperature=0.0))).strip()
        if not out or STOP in out:
            return None
        self.history.append(("assistant", out))
        return out


def make_user(spec, lang: str = "en", llm=None) -> SimulatedUser:
    if isinstance(spec, ScriptedUser):
        return ScriptedSim(spec)
    if isinstance(spec, RuleUser):
        return RuleSim(spec, lang)
    if isinstance(spec, LLMUser):
        if llm is None:
            from assistant.llm import get_llm

            llm = get_llm()
        return LLMSim(spec, llm, lang)
    raise TypeError(f"unknown user kind: {type(spec).__name__}")
