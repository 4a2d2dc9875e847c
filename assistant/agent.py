"""The dialogue agent: one shopper message in, a stream of events (text, product cards, tool runs) out.

Path of a message: `Assistant.respond` → pending confirmation? → identifiers read in code
(slots.py) → intent route (intents/) → a handler that calls tools through the `ToolRunner` gate
→ reply text built from tool results (prompts/replies.yaml), with the LLM only where words must be
composed (product questions, small talk, messages no route fits). Routine turns (search, order
status, FAQ) never wait on the model; what comes from tool results is streamed first.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.exc import OperationalError

from assistant.flows import FLOWS, flow_for_tool, routes_for
from assistant.flows.form import FormLoop
from assistant.slots import Slots, read_slots
from assistant.understand import rules
from assistant.understand.commands import Correct, Decline
from assistant.state import AssistantEvent, Choice, DialogueState, ProductCard, SearchMemory, TaskFrame
from assistant.tools import StoreUnavailable, ToolContext, ToolResult, ToolRunner, is_affirmative
from retrieval.store import Store

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).parent / "prompts"
MAX_MESSAGE = 4000
ORDER_ROUTES = {"order_status", "cancel_order", "modify_order", "return", "exchange", "update_address", "payment"}
WRITE_ROUTES = {"cancel_order", "modify_order", "return", "exchange", "update_address"}
QUESTION_ROUTES = {"product_question", "compare"}
_OWN = re.compile(r"\bmy\b|\bi (?:bought|ordered|received|purchased)\b|我的|我买的")  # the shopper's own things  # answered in the middle of a flow, which then resumes
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


class Assistant:
    """Holds the shared, slow-to-build parts; per-conversation state lives in DialogueState."""

    def __init__(self, store: Store, llm=None, classifier=None, services: dict | None = None,
                 demo_sign_in: bool = True, reader=None) -> None:  # fmt: skip
        """`demo_sign_in`: a shopper may identify in chat by email or name + zip (the demo store and
        the τ-style evaluation). `aisle serve` passes AISLE_DEMO_SIGN_IN; off, only the shop's
        sign-in token (ui/signin.py) gives a conversation its customer."""
        self.store = store
        self.demo_sign_in = demo_sign_in
        self._llm = llm
        self._classifier = classifier
        self.services = services if services is not None else {}
        self._reader = reader

    @property
    def reader(self):
        """Picks among candidates the rules left (which order, items, option): AISLE_READER."""
        if self._reader is None:
            from assistant.understand import make_reader

            self._reader = make_reader(llm=self._llm)
        return self._reader

    @classmethod
    def from_settings(cls, demo_sign_in: bool = True) -> Assistant:
        """The terminal chat and the benchmarks run on the shop's own machine (they may read the
        database anyway) and keep in-chat identification; `aisle serve` passes its setting."""
        store = Store.from_settings()
        store.init()
        return cls(store, demo_sign_in=demo_sign_in)

    def feedback(self, state: DialogueState, kind: str, item_id: str | None = None,
                 brand: str | None = None, category: str | None = None) -> None:
        """A 👍/👎/"not this brand" on a shown item: recorded at once, and the next answer reflects it."""
        from recsys import FeedbackEvent

        if kind in ("dislike", "not_interested") and item_id and item_id not in state.excluded_items:
            state.excluded_items.append(item_id)
        recommender = self.services.get("recommender")
        if recommender is None:
            from recsys import Recommender

            recommender = self.services["recommender"] = Recommender.from_settings()
        recommender.feedback(FeedbackEvent(user_id=state.user_id, session_id=state.session_id,
                                           kind="dislike" if kind == "not_interested" else kind,
                                           item_id=item_id, brand=brand, category=category))  # fmt: skip

    @property
    def llm(self):
        if self._llm is None:
            from assistant.llm import get_llm

            self._llm = get_llm()
        return self._llm

    @property
    def classifier(self):
        if self._classifier is None:
            from assistant.intents import IntentClassifier

            self._classifier = IntentClassifier.load()
        return self._classifier

    # -- the turn ---------------------------------------------------------------------------

    def respond(self, state: DialogueState, message: str) -> Iterator[AssistantEvent]:
        turn = _Turn(self, state, message)
        yield from turn.run()

    def reply_text(self, state: DialogueState, message: str) -> str:
        """The whole reply as one string (for tests, evaluation and the terminal)."""
        return "".join(e.text for e in self.respond(state, message) if e.kind in ("text", "handoff"))


class _Turn:
    """One turn's work. Separate from Assistant so the handlers share the turn's context."""

    def __init__(self, assistant: Assistant, state: DialogueState, message: str) -> None:
        self.a = assistant
        self.state = state
        self.raw = message if isinstance(message, str) else ""
        self.ctx = ToolContext(
            store=assistant.store, session_id=state.session_id, user_id=state.user_id, services=assistant.services,
            identify_in_chat=assistant.demo_sign_in,
        )
        self.runner = ToolRunner(self.ctx)
        self._form: FormLoop | None = None
        self._orders_read: list[dict] | None = None

    # -- output helpers ---------------------------------------------------------------------

    def say(self, key: str, **values: Any) -> AssistantEvent:
        template = _replies()[self.state.lang][key]
        return AssistantEvent(kind="text", text=template.format(**values) + "\n")

    def text(self, text: str) -> AssistantEvent:
        return AssistantEvent(kind="text", text=text)

    def r(self, key: str):
        """A reply template (or a table of them) in the conversation's language."""
        return _replies()[self.state.lang][key]

    def offer(self, kind: str, options: list[tuple[str, str]]) -> Iterator[AssistantEvent]:
        """The options of the question just asked, as data the UI shows as buttons (id, label)."""
        choices = [Choice(id=i, label=label, kind=kind) for i, label in dict(options).items()]
        if choices:
            self.state.choices = choices
            yield AssistantEvent(kind="choices", choices=choices)

    def tool(self, name: str, arguments: dict) -> tuple[ToolResult, AssistantEvent]:
        result = self.runner.run(name, arguments)
        return result, AssistantEvent(kind="tool", tool=name, ok=result.ok, arguments=arguments)

    # -- main -------------------------------------------------------------------------------

    def run(self) -> Iterator[AssistantEvent]:
        state = self.state
        message = self.raw.replace("\x00", "").strip()
        if not message:
            yield self.say("empty")
            return
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE]
            yield self.say("too_long", limit=MAX_MESSAGE)
        self.message = message
        state.turns += 1
        state.lang = "zh" if re.search(r"[\u4e00-\u9fff]", message) else "en"
        state.remember("user", message)
        out: list[str] = []
        try:
            for event in self._dispatch(message):
                if event.kind in ("text", "handoff"):
                    out.append(event.text)
                yield event
        except (StoreUnavailable, OperationalError):  # locked or down: nothing changed, the task stays open
            log.warning("store unavailable during a turn in session %s", state.session_id)
            event = self.say("store_unavailable")
            out.append(event.text)
            yield event
        state.user_id = self.ctx.user_id
        state.remember("assistant", "".join(out).strip())

    def _dispatch(self, message: str) -> Iterator[AssistantEvent]:
        state = self.state
        offered, state.choices = state.choices, []
        picked = next((c for c in offered if message.strip().lower() in (c.label.lower(), c.id.lower())), None)
        if picked is not None:  # a button (or its label typed): the id it stands for
            message = f"item {picked.id}" if picked.kind == "option" else picked.id
        slots = read_slots(message)
        if state.pending is not None:
            pending, state.pending = state.pending, None
            frame = state.frame
            correctable = frame is not None and bool(frame.item_ids) and frame.order_id == pending.arguments.get("order_id")
            command = rules.reply_to_proposal(message, correctable)
            try:
                result = self.runner.confirm(pending, message)
            except StoreUnavailable:
                state.pending = pending  # a "yes" once the store is back still runs it
                raise
            flow = flow_for_tool(pending.tool)
            state.settled.append(_settled_key(flow.route if flow else pending.tool, pending.arguments.get("order_id")))
            if state.frame is not None and not state.queue:  # other actions the same request asked for come next
                state.queue = [TaskFrame(route=r, text=text) for r, text in rules.other_actions(state.frame.text, state.frame.route)
                               if not any(k.startswith(f"{r}|") for k in state.settled)]
            if result is not None:
                yield AssistantEvent(kind="tool", tool=pending.tool, ok=result.ok, arguments=pending.arguments)
                state.frame = None
                yield from self._after_write(result)
                yield from self._next_task()
                return
            yield self.say("not_confirmed")
            state.frame = None  # declined: the next request is a new task
            if isinstance(command, Decline):
                yield from self._next_task()
                return
            if isinstance(command, Correct):  # a change said instead of yes: "only <item>", "use <method> instead"
                state.frame = frame
                yield from self.form.amend(frame, message, slots)
                return
        elif state.frame is None and is_affirmative(message):
            yield self.say("nothing_to_confirm")  # a bare "yes" is not a product search for "yes"
            return
        yield from self._identify(slots)
        route = self._route(message, slots)
        if route in WRITE_ROUTES and slots.order_ids and self.ctx.user_id:
            route, slots = self._target(route, message, slots)
            state.queue = self._queued(message, slots) or state.queue
        if route in ORDER_ROUTES:
            # The task's details may come before identification, or across turns: keep all of it.
            frame = self._frame(route)
            for task in [frame, *state.queue]:  # an answer ("the original payment method") holds for the queued tasks too
                task.text = f"{task.text}\n{message}".strip()[-MAX_MESSAGE:]
            if not frame.order_id and slots.order_ids:
                frame.order_id = slots.order_ids[0]
        handler = getattr(self, f"_on_{route}", None) or self._on_fallback
        if route not in ORDER_ROUTES and state.frame is None and _OWN.search(message.lower()) and rules.names_action(message):
            state.aside = [*state.aside, message][-2:]  # "I ordered <item> by mistake …" read as a search: kept for the task
        interrupted = state.frame if route in QUESTION_ROUTES and state.pending is None else None
        yield from handler(message, slots)
        if interrupted is not None and state.frame is interrupted and interrupted.flow:
            yield from self.form.resume()  # a question in the middle of a flow: answered, then the flow goes on

    # -- several requests in one message: a queue of tasks ------------------------------------

    def _queued(self, message: str, slots: Slots) -> list[TaskFrame]:
        """The other orders a message asks something of, each in sentences of its own where it is
        the first order named ("For #A, change the address …. Finally, cancel #B …"): tasks done
        one after another, without the shopper asking again."""
        sentences = [x for x in re.split(r"(?<=[.!?;])\s+", message) if x.strip()]
        queue = []
        for order_id in slots.order_ids[1:]:
            key = order_id.lstrip("#").lower()
            own = [n for n, x in enumerate(sentences) if (ids := read_slots(x).order_ids) and ids[0].lstrip("#").lower() == key]
            result = self.runner.run("get_order_details", {"order_id": order_id})
            if not own or len(sentences) < 2 or not result.ok:
                continue
            text = " ".join(dict.fromkeys(x for n in own for x in sentences[n:n + 2]))
            asked = [r for n in own for r in (["update_address"] if re.search(r"\baddress\b|地址", sentences[n].lower())
                                              else rules.actions_named(sentences[n].lower(), result.data["status"]))]
            open_ = [r for r in asked if r in routes_for(result.data["status"]) and not self._settled(r, order_id)]
            if open_:
                queue.append(TaskFrame(route=open_[0], order_id=order_id, text=text))
        return queue

    def _next_task(self) -> Iterator[AssistantEvent]:
        """The next queued task, if any: started at once."""
        state = self.state
        while state.queue:
            frame = state.queue.pop(0)
            if self._settled(frame.route, frame.order_id):
                continue
            state.frame = frame
            yield self.say("next_task")
            slots = read_slots(frame.text).model_copy(update={"order_ids": [frame.order_id] if frame.order_id else []})
            yield from getattr(self, f"_on_{frame.route}")(frame.text, slots)
            return

    # -- identity ---------------------------------------------------------------------------

    def _identify(self, slots: Slots) -> Iterator[AssistantEvent]:
        ident = slots.identity
        if not (ident.email or (ident.first_name and ident.last_name and ident.zip)):
            return
        if not self.a.demo_sign_in and self.ctx.user_id is not None:
            return  # signed in by the shop's token: an email in the message is just text
        args = {"email": ident.email} if ident.email else ident.model_dump(exclude={"email"})
        result, event = self.tool("find_user", args)
        yield event
        if not self.a.demo_sign_in:  # the tool's gate refused it: say how to sign in instead
            yield self.say("sign_in_on_site")
        elif result.ok:
            if self.state.user_id != self.ctx.user_id:
                user = self.ctx.orders.user(self.ctx.user_id)
                yield self.say("identified", first_name=user.first_name)
        else:
            yield self.say("identify_failed", message=result.message)

    # -- routing ----------------------------------------------------------------------------

    def _route(self, message: str, slots: Slots) -> str:
        state = self.state
        if state.search and state.frame is None and state.pending is None and self._follows_up(message):
            return "search"
        if (state.frame is None and _need(message) and not (slots.references or slots.order_ids or slots.item_ids)
                and not _POINTS_AT_ITEM.search(message.lower()) and not any(p.search(message.lower()) for p, _ in _cues())):
            return "search"  # "which one is best for trail running": a search for that need, not a recommendation
        if re.search(r"surprise me|给我惊喜|随便推荐", message, re.IGNORECASE):
            return "recommend"
        if state.frame is not None and state.pending is None and not state.frame.order_id and slots.order_ids \
                and state.frame.route in ORDER_ROUTES:
            return state.frame.route  # "#W…, the one with the <item>": the answer to "which order is it?"
        for pattern, direct in _cues("direct"):
            if pattern.search(message.lower()) and (state.frame is None or direct == "human"):
                return direct
        prediction = self.a.classifier.predict(message)
        route = prediction.route
        if route in ("out_of_scope", "chit_chat") and rules.parse_address(message):
            return "update_address"  # "I moved: 123 Main St, Springfield, IL 62704"
        if route in ("out_of_scope", "chit_chat") or (route in ("search", "product_question", "compare") and slots.order_ids):
            route = self._shop_cue(message, slots) or route
        if route in ("search", "product_question", "recommend") and state.frame is None and _OWN.search(message.lower()) \
                and (cue := self._shop_cue(message, slots)) in WRITE_ROUTES:
            return cue  # "modify all my pending <product>s to …": the shopper's own order, not a search
        if route == "cancel_order" and rules.only_negated(message.lower(), "cancel"):
            return state.frame.route if state.frame is not None else "chit_chat"  # "I never want to cancel my order"
        if route in ORDER_ROUTES and self._product_wish(message, slots):
            return "search"  # "sneakers but not red" names a product, no order and no order action
        frame = state.frame
        if (frame is not None and state.pending is None and frame.flow and not (slots.order_ids or slots.item_ids)
                and self._asks_about_product(message, frame)):
            return "product_question"  # "is the <product> waterproof?" in the middle of an exchange: answered, then resumed
        if (frame is not None and frame.route != "return" and frame.item_ids and len(frame.new_item_ids) < len(frame.item_ids) and not slots.order_ids
                and route in ("search", "product_question", "compare", "recommend")):
            return frame.route  # "size 9, leather, waterproof": the answer to "what should it become?"
        # An order task in progress keeps the turn for answers to its questions (an order id, a payment
        # method, items, a yes-less clarification); only a clear request for something else ends it.
        if state.frame is not None and self._answers_frame(message, slots):
            switch = route in WRITE_ROUTES | {"search", "recommend", "human", "compare"} and route != state.frame.route
            if not (switch and prediction.confidence >= 0.8 and len(message.split()) > 4):
                return state.frame.route
        if state.frame is None and route in ("search", "product_question", "chit_chat", "out_of_scope", "recommend") and \
                ATTRIBUTE_QUESTION.search(message.lower()) and not SHOP_QUESTION.search(message.lower()) and \
                (_named_products(self.a.store, _in_english(message.lower())) or self._about_shown(message)):
            return "product_question"  # "is the bluetooth speaker waterproof?", "what's the warranty?" after a list
        if route in ("product_question", "compare") and not slots.references and not slots.item_ids and not state.last_items:
            if route == "product_question" and _named_products(self.a.store, _in_english(message.lower())):
                return route  # a question about a product it names: answered from that product's data
            return "search"
        if route == "chit_chat" and slots.references and state.last_items:
            return "product_question"
        return route

    def _asks_about_product(self, message: str, frame: TaskFrame) -> bool:
        """A question about a catalog product it names ("is the bluetooth speaker waterproof?"), other
        than the products of the task's own items (a question about those may be the answer it waits for)."""
        lowered = message.lower()
        if not (("?" in message or "？" in message) and ATTRIBUTE_QUESTION.search(lowered) and not SHOP_QUESTION.search(lowered)):
            return False
        own = {c.product_id for c in self._cards_for(frame.item_ids)}
        return bool(set(_named_products(self.a.store, _in_english(lowered))) - own)

    def _shop_cue(self, message: str, slots: Slots) -> str | None:
        """The route a message's shop words point to (assistant/data/cues.json), when the classifier
        missed them: long, task-like messages ("I want to change the <item> in my order for a
        <other item>") read as out of scope to a model trained on short queries."""
        lowered = message.lower()
        product = bool(_product_words(self.a.store).search(_in_english(lowered)))
        if not (product or slots.order_ids or slots.item_ids or re.search(r"\border\b|订单", lowered)):
            return None
        found = [(m.start(), route) for pattern, route in _cues() if (m := pattern.search(lowered))]
        if found:  # the first action the message names, not a later word ("… refund to PayPal")
            return min(found)[1]
        return "search" if product else None

    def _product_wish(self, message: str, slots: Slots) -> bool:
        """A message naming a catalog product but no order, order action or possession ("my …"):
        a shopper describing what they want, whatever the classifier guessed."""
        lowered = message.lower()
        if self.state.frame is not None or slots.order_ids or slots.item_ids:
            return False
        if any(pattern.search(lowered) for pattern, _ in _cues()):
            return False
        if re.search(r"\b(?:order|orders|my|mine|purchased?|bought|delivered|package|refund)\b|订单|我的|买过|收到", lowered):
            return False
        return bool(_product_words(self.a.store).search(_in_english(lowered)))

    def _settled(self, route: str, order_id: str | None) -> bool:
        return _settled_key(route, order_id) in self.state.settled

    def _target(self, route: str, message: str, slots: Slots) -> tuple[str, Slots]:
        """The first order the message names with an action still to do: a restated request
        ("…order #A…, and #B…") moves on from what was already done or declined."""
        for order_id in slots.order_ids:
            order = self._order(order_id)
            fitted = self._fit_route(route, message, order_id, order)
            # "For order #A, change the address …. Finally, cancel order #B": the action of #A's own sentences
            own = [x.lower() for x in re.split(r"(?<=[.!?;])\s+", message) if order_id.lstrip("#").lower() in x.lower()]
            if own and own != [message.lower()] and order is not None:
                # a sentence about the address asks for an address change ("switch the shipping address")
                asked = [r for x in own for r in (["update_address"] if re.search(r"\baddress\b|地址", x) else rules.actions_named(x, order["status"]))]
                fits = routes_for(order["status"])
                open_ = [r for r in asked if r in fits and not self._settled(r, order_id)]
                if asked and not open_:
                    continue  # what this order's sentences ask for is done, declined or no longer possible
                fitted = open_[0] if open_ else fitted
            if not self._settled(fitted, order_id):
                rest = [o for o in slots.order_ids if o != order_id]
                return fitted, slots.model_copy(update={"order_ids": [order_id, *rest]})
        return self._fit_route(route, message, slots.order_ids[0]), slots

    def _fit_route(self, route: str, message: str, order_id: str, order: dict | None = None) -> str:
        """A message asking for several actions ("cancel my pending order and return the watch") that
        names an order gets the action that order's status allows, if the message asks for it."""
        order = order or self._order(order_id)
        fits = routes_for(order["status"]) if order else set()
        if not fits:
            return route
        asked = rules.actions_named(message.lower(), order["status"])
        if re.search(r"\baddress\b|地址", message.lower()):
            asked.append("update_address")
        if route in fits and not self._settled(route, order_id):
            return route
        open_ = [r for r in [route, *asked] if r in fits and not self._settled(r, order_id)]
        return next(iter(open_), route if route in fits else next((r for r in asked if r in fits), route))

    def _answers_frame(self, message: str, slots: Slots) -> bool:
        """Whether the message looks like an answer to the open task's question."""
        if slots.order_ids or slots.item_ids or slots.identity.email or slots.identity.zip:
            return True
        lowered = message.lower()
        if rules.payment_kinds(lowered) or rules.cancel_reason(lowered) or rules.parse_address(message):
            return True  # a long answer that still gives what a task asks for (a payment method, a reason, an address)
        return len(message.split()) <= 25 or bool(re.search(r"[\u4e00-\u9fff]", message))

    # -- catalog ----------------------------------------------------------------------------

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
        if REFINE_RE.match(message) and len(message.split()) <= 10:
            return True
        lowered = message.lower()
        if len(message.split()) > 8 or re.search(r"\border\b|订单", lowered) or any(p.search(lowered) for p, _ in _cues()):
            return False  # "exchange it for size 9" is an order action, not a narrower search
        if _refinements(message):
            return True
        if _POINTS_AT_ITEM.search(message.lower()):
            return False  # "is it waterproof?", "does this come in blue?": a question about a shown item
        said = self._understand(message)
        return said is not None and said.product_type is None and _constrains(said)

    def _constraint_words(self, parsed: dict, prices: bool = True) -> str:
        """What was understood, e.g. "t-shirt · blue · size M · under $60" (replies.yaml c_*)."""
        r = _replies()[self.state.lang]
        parts = []
        if parsed.get("product_type"):
            parts.append(r["c_type"].format(value=parsed["product_type"]))
        for key, value in (parsed.get("options") or {}).items():
            parts.append(r["c_size" if key.split()[0] == "size" else "c_option"].format(value=value))
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
            return r["c_size" if key.split()[0] == "size" else "c_option"].format(value=(parsed.get("options") or {}).get(key, key))
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
        ids = self._referenced(slots) or self.state.last_items[:2]
        if len(ids) < 2:
            yield self.say("compare_need")
            return
        result, event = self.tool("compare_products", {"ids": ids[:4]})
        yield event
        if not result.ok:
            yield self.say("failed", message=result.message)
            return
        yield self.text(self._compare_table(result.data["compared"]))

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
        lowered = _in_english(message.lower())
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

    def _on_product_question(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        from assistant import product_answers

        product_id = self._asked_product(message, slots)
        if product_id is None:
            yield from self._on_search(message, slots)
            return
        result, event = self.tool("get_product_details", {"product_id": product_id})
        yield event
        if not result.ok:
            yield self.say("failed", message=result.message)
            return
        product = self.a.store.product(result.data["product_id"])
        referenced = self._referenced(slots)
        one = [v for v in product.variants if v.item_id in referenced[:1]]
        if one:  # "is the second one wireless?": about that variant, not the whole product
            product = product.model_copy(update={"variants": one})
        replies = _replies()[self.state.lang]
        # The answer is decided in code from the catalog; "I don't know" comes at once, with no model call.
        grounded = product_answers.answer(product, f"{_in_english(message.lower())} {message.lower()}", replies)
        if grounded.known and grounded.facts:  # a headline of figures the model may re-word (quotes stay as they are)
            worded = self._worded(grounded.headline, grounded.facts, message)
            if worded is None:  # the model is down: the template's words, and the shopper is told why
                yield self.say("llm_down")
            yield self.text((worded or grounded.headline) + "\n")
        else:
            yield self.text(grounded.headline + "\n")
        for line in grounded.lines:
            yield self.text(line + "\n")
        if grounded.source:
            yield self.text(grounded.source + "\n")
        if grounded.item_ids and not one:  # the variants listed are what "the first two" mean next
            self.state.last_items = grounded.item_ids
        elif not self.state.last_items:  # nothing shown before: "it" is this product from now on
            self.state.last_items = [product.variants[0].item_id]

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

    # -- small talk, FAQ, hand-off, out of scope ---------------------------------------------

    def _on_chit_chat(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        if self.state.turns <= 1 or re.fullmatch(r"\W*(hi|hello|hey|你好|您好|嗨)\W*", message.lower()):
            yield self.say("greeting")
            return
        yield from self._llm_answer("chit_chat.md", None, message, _replies()[self.state.lang]["greeting"])

    def _on_out_of_scope(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        yield self.say("out_of_scope")

    def _on_account(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        yield self.say("account")

    def _on_faq(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        result, event = self.tool("answer_faq", {"question": message})
        yield event
        passages = result.data.get("passages", []) if result.ok else []
        if not passages:
            yield self.say("faq_none")
            return
        # Two passages: the policy often answers in one section and the FAQ restates it in another.
        # Quoted as the shopper reads them: the section's title, not the file it lives in.
        for passage in passages[:2]:
            yield self.say("faq_intro", section=passage["section"])
            yield self.text("\n".join(f"> {line}" for line in passage["text"].strip().splitlines() if line.strip()) + "\n")

    def _on_human(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        self.ctx.transcript = [m.model_dump() for m in self.state.history]
        result, event = self.tool("transfer_to_human", {"summary": self._summary()})
        yield event
        self.state.handed_off = True
        user = self.ctx.orders.user(self.ctx.user_id) if self.ctx.user_id else None
        contact = self.r("handoff_email").format(email=user.email) if user else self.r("handoff_no_email")
        key = "handoff" if result.ok else "handoff_failed"
        yield AssistantEvent(kind="handoff", text=self.r(key).format(ticket=(result.data or {}).get("handoff_id", ""), contact=contact) + "\n")

    def _summary(self) -> str:
        """For the shop's people: who, what task is open, what they asked (assistant/handoffs.py)."""
        # The user id only: the summary travels in the `tool` event too, and the shop looks the customer up by id.
        who = f"user {self.ctx.user_id}" if self.ctx.user_id else "a shopper not identified"
        parts = [f"Customer: {who}."]
        frame = self.state.frame
        if frame is not None:
            parts.append(f"Open task: {frame.route.replace('_', ' ')}" + (f" on order {frame.order_id}" if frame.order_id else "") + ".")
        if self.state.pending is not None:
            parts.append(f"Waiting for confirmation: {self.state.pending.tool}.")
        asks = [m.content for m in self.state.history if m.role == "user"][-4:]
        parts.append("Recent requests: " + " | ".join(a[:200] for a in asks))
        return " ".join(parts)[:4000]

    def _on_fallback(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        yield self.say("out_of_scope")

    # -- orders -----------------------------------------------------------------------------

    def _need_user(self) -> Iterator[AssistantEvent]:
        if self.ctx.user_id is None:
            yield self.say("ask_identity" if self.a.demo_sign_in else "sign_in_on_site")

    def _user_orders(self) -> list[dict]:
        result, _ = self.tool("get_user_details", {})
        if not result.ok:
            return []
        orders = []
        for order_id in result.data.get("orders", []):
            r, _ = self.tool("get_order_details", {"order_id": order_id})
            if r.ok:
                orders.append(r.data)
        return orders

    def _order_label(self, order: dict) -> str:
        """One line of an order list: id, status, items, tracking (the store keeps no order date)."""
        names = ", ".join(dict.fromkeys(i["name"] for i in order["items"]))
        tracking = [t for f in order.get("fulfillments", []) for t in f["tracking_ids"]]
        return self.r("order_line").format(
            order_id=order["order_id"], status=self.r("statuses").get(order["status"], order["status"]), items=names,
            tracking=self.r("order_tracking").format(ids=", ".join(tracking)) if tracking else "",
        )  # fmt: skip

    def _order_list(self, orders: list[dict]) -> str:
        return "\n".join(self._order_label(o) for o in orders)

    def _offer_orders(self, orders: list[dict]) -> Iterator[AssistantEvent]:
        yield from self.offer("order", [(o["order_id"], self._order_label(o).lstrip("- ")) for o in orders])

    def _frame(self, route: str) -> TaskFrame:
        old = self.state.frame
        if old is None or old.route != route:
            # A task renamed before anything was settled (return → exchange) keeps what was said.
            carry = old is not None and not old.item_ids and old.route in WRITE_ROUTES | {"order_status"}
            # What the shopper said of their own orders before the task could start (before they were
            # identified, or in a message read as something else) is part of it.
            said = "\n".join(self.state.aside) if old is None else ""
            self.state.aside = []
            self.state.frame = TaskFrame(route=route, text=old.text if carry else said,
                                         order_id=old.order_id if carry else None)  # fmt: skip
        return self.state.frame

    def _on_order_status(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        if self.ctx.user_id is None:
            self.state.frame = TaskFrame(route="order_status", order_id=(slots.order_ids or [None])[0])
            yield from self._need_user()
            return
        frame = self._frame("order_status")
        order_ids = slots.order_ids or ([frame.order_id] if frame.order_id else [])
        if not order_ids:
            orders = self._user_orders()
            if not orders:
                yield self.say("no_orders")
            else:
                yield self.say("orders_overview", lines=self._order_list(orders))
            self.state.frame = None
            return
        for order_id in order_ids:
            result, event = self.tool("get_order_details", {"order_id": order_id})
            yield event
            if not result.ok:
                yield self.say("failed", message=result.message)
                continue
            order = result.data
            tracking = [t for f in order.get("fulfillments", []) for t in f["tracking_ids"]]
            items = ", ".join(f"{i['name']} ({', '.join(i['options'].values())})" for i in order["items"])
            yield self.say(
                "order_status", order_id=order["order_id"], status=self.r("statuses").get(order["status"], order["status"]), items=items,
                tracking=_replies()[self.state.lang]["tracking"].format(ids=", ".join(tracking)) if tracking else "",
            )  # fmt: skip
        self.state.frame = None

    def _on_payment(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        frame = self.state.frame
        if frame is not None and frame.flow == "modify_payment":  # the answer to its question
            yield from self.form.run(FLOWS["modify_payment"], message, slots)
            return
        if self.ctx.user_id is None:
            yield from self._need_user()
            return
        result, event = self.tool("get_user_details", {})
        yield event
        yield self.say("payment_methods", methods=self._methods_text(result.data.get("payment_methods", [])))
        self.state.frame = None  # answered: the next message is a new request, not this task's slot

    def _method_label(self, m: dict) -> str:
        """A payment method as the shopper knows it: "Visa ending 1037", "gift card, balance $40.00"."""
        if m.get("source") == "gift_card" and m.get("balance") is not None:
            return self.r("pm_gift").format(balance=m["balance"])
        if m.get("last_four"):
            return self.r("pm_card").format(brand=str(m.get("brand") or self.r("pm_kinds")["credit_card"]).title(), last_four=m["last_four"])
        return self.r("pm_paypal") if m.get("source") == "paypal" else self.r("pm_kinds").get(m.get("source"), m["payment_method_id"])

    def _method_name(self, method_id: str | None) -> str:
        user = self.ctx.orders.user(self.ctx.user_id) if self.ctx.user_id else None
        method = next((m for m in (user.payment_methods if user else []) if m.payment_method_id == method_id), None)
        return self._method_label(method.model_dump()) if method else str(method_id)

    def _methods_text(self, methods: list[dict]) -> str:
        return "; ".join(self._method_label(m) for m in methods)

    def _ask_payment(self, key: str, methods: list[dict], **values) -> Iterator[AssistantEvent]:
        yield self.say(key, methods=self._methods_text(methods), **values)
        yield from self.offer("payment", [(m["payment_method_id"], self._method_label(m)) for m in methods])

    @property
    def form(self) -> FormLoop:
        """The form loop that drives the declared order flows (assistant/flows/form.py)."""
        if self._form is None:
            self._form = FormLoop(self)
        return self._form

    def _on_cancel_order(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        yield from self.form.run(FLOWS["cancel"], message, slots)

    def _on_return(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        yield from self.form.run(FLOWS["return"], message, slots)

    def _on_exchange(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        # Shoppers say "exchange" for pending orders too: the order's status picks exchange or item change.
        yield from self.form.run(FLOWS["exchange"], message, slots)

    def _on_modify_order(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """"Change my order": its address, its payment method or its items, by what the message names."""
        frame = self.state.frame
        if frame is not None and frame.flow in FLOWS and frame.route == "modify_order" and (frame.item_ids or frame.flow != "modify_items"):
            yield from self.form.run(FLOWS[frame.flow], message, slots)  # a change under way keeps its flow
            return
        lowered = message.lower()
        order_id = (slots.order_ids or [frame.order_id if frame else None])[0]
        if re.search(r"address|ship to|地址", lowered) and not self._settled("update_address", order_id):
            yield from self._on_update_address(message, slots, order_address=True)
            return
        if rules.asks_payment_change(lowered):
            yield from self.form.run(FLOWS["modify_payment"], message, slots)
            return
        yield from self.form.run(FLOWS["modify_items"], message, slots)

    def _on_update_address(self, message: str, slots: Slots, order_address: bool = False) -> Iterator[AssistantEvent]:
        """An order's address or the account's default one: which, is read here; the flow does the rest."""
        frame = self._frame("update_address")
        if self.ctx.user_id is None:
            yield from self._need_user()
            return
        if slots.order_ids:
            frame.order_id = slots.order_ids[0]
            order_address = True
        text = (frame.text or message).lower()
        if re.search(r"\border\b.{0,40}\bto\b|\border(?:'s)? address|订单.{0,6}地址", text):
            order_address = True  # "change my <item> order to my <city> address"
        if order_address and not slots.order_ids and re.search(r"\b(?:default|user|profile|account)\b.{0,12}\baddress|默认地址", text):
            # the orders' address and the default one asked together: once every order is done, the default
            if not self.form._open_orders():
                order_address, frame.order_id = False, None
        if frame.address is None and rules.parse_address(message) is None and rules.to_default_address(text):
            # "…to my default address": the account's address, for the order that went where the text says
            frame.address = self.ctx.orders.user(self.ctx.user_id).address.model_dump()
            if not frame.order_id:
                went = rules.where_it_went(text, self.form._orders())
                there = [o for o in self.form._open_orders() if o.get("address") == went]
                frame.order_id = there[0]["order_id"] if len(there) == 1 else None
            order_address = True
        if order_address and frame.flow != "default_address" and re.search(r"\b(?:default|user|profile|account)\b.{0,12}\baddress|默认地址", text) \
                and not any(t.route == "update_address" and t.order_id is None for t in self.state.queue):
            # the default address too, once the orders' addresses are done
            self.state.queue.append(TaskFrame(route="update_address", flow="default_address", text=frame.text or message))
        default = frame.flow == "default_address" and not slots.order_ids  # the queued default-address task
        flow = FLOWS["modify_address"] if (order_address or frame.order_id) and not default else FLOWS["default_address"]
        yield from self.form.run(flow, message, slots)

    def _names_product(self, text: str) -> bool:
        return bool(_product_words(self.a.store).search(text.lower()))

    def _item_label(self, item: dict) -> str:
        return f"{item['name']} ({', '.join(item['options'].values())})"

    def _order(self, order_id: str) -> dict | None:
        result = self.runner.run("get_order_details", {"order_id": order_id})
        if not result.ok:
            self.state.frame = None
        return result.data if result.ok else None

    def _money(self, diff: float) -> str:
        if diff > 0:
            return self.r("money_pay").format(amount=diff)
        return self.r("money_back").format(amount=-diff) if diff < 0 else self.r("money_none")

    def _payment_named(self, order: dict, message: str, route: str) -> str | None:
        return rules.pick_payment(self.ctx.orders.user(self.ctx.user_id).payment_methods, order, message, route)

    # -- proposing and finishing write actions ----------------------------------------------

    def _propose(self, tool: str, arguments: dict, description: str) -> Iterator[AssistantEvent]:
        try:
            pending = self.runner.propose(tool, arguments, description)
        except StoreUnavailable:
            raise
        except Exception as exc:  # ToolError or PolicyError: the action is impossible as asked
            self.state.frame = None
            yield self.say("failed", message=str(exc))
            return
        self.state.pending = pending
        yield AssistantEvent(kind="pending", tool=tool, arguments=pending.arguments, text="")
        yield self.say("confirm_prompt", description=description)
        yield from self.offer("confirm", list(self.r("confirm_choices").items()))

    def _after_write(self, result: ToolResult) -> Iterator[AssistantEvent]:
        if not result.ok:
            yield self.say("failed", message=result.message)
            return
        data = result.data or {}
        if "order_id" in data:
            status = data["status"]
            summary = self.r("done_order").format(order_id=data["order_id"], status=self.r("statuses").get(status, status))
            if status == "cancelled":
                refunds = [p for p in data.get("payment_history", []) if p["transaction_type"] == "refund"]
                if refunds:
                    summary += self.r("done_refund").format(amount=sum(p["amount"] for p in refunds),
                                                            method=self._method_name(refunds[-1]["payment_method_id"]))  # fmt: skip
            elif status == "return requested":
                price = {i["item_id"]: i["price"] for i in data["items"]}
                summary += self.r("done_return").format(amount=sum(price.get(i, 0) for i in data.get("return_items") or []),
                                                        method=self._method_name(data.get("return_payment_method_id")))  # fmt: skip
            elif status == "exchange requested":
                money = self._money(data.get("exchange_price_difference") or 0)
                summary += self.r("done_exchange").format(money=money[:1].upper() + money[1:])
        else:
            summary = self.r("done_address")
        yield self.say("done", summary=summary)

    # -- the model --------------------------------------------------------------------------

    def _llm_answer(self, prompt_file: str, facts: dict | None, question: str, fallback: str) -> Iterator[AssistantEvent]:
        from assistant.llm import ChatMessage, GenerationConfig, LLMUnavailable

        language = "Chinese" if self.state.lang == "zh" else "English"
        system = _prompt(prompt_file).format(language=language)
        user = question if facts is None else f"DATA: {json.dumps(facts, ensure_ascii=False)}\n\nQUESTION: {question}"
        messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        produced = False
        try:
            for piece in self.a.llm.stream(messages, GenerationConfig(max_tokens=160, temperature=0.0)):
                produced = produced or bool(piece.strip())
                yield self.text(piece)
        except LLMUnavailable as exc:
            log.warning("LLM unavailable: %s", exc)
            yield self.say("llm_down")
            yield self.text(fallback + "\n")
            return
        if not produced:
            yield self.text(fallback)
        yield self.text("\n")


# -- helpers over order data ----------------------------------------------------------------


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


def _money(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"

def _settled_key(route: str, order_id: str | None) -> str:
    return f"{route}|{order_id or ''}"
