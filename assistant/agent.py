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
from typing import Any

from sqlalchemy.exc import OperationalError

from assistant.catalog_turn import (
    ARRIVED, ATTRIBUTE_QUESTION, HAD, PAID, PROMPTS, SHOP_QUESTION, CatalogTurn, _cues, _in_english, _named_products, _need,
    _POINTS_AT_ITEM, _option_values, _product_words, _prompt, _replies,
)  # fmt: skip
from assistant.flows import FLOWS, flow_for_tool, routes_for
from assistant.flows.form import FormLoop, address_text
from assistant import product_answers
from assistant.slots import ORDER_RE, Slots, read_slots
from assistant.understand import Option, rules
from assistant.understand.commands import Action, Confirm, Correct, Decline
from assistant.understand.topic import answers_topic
from assistant.state import AssistantEvent, Choice, DialogueState, TaskFrame, readable
from assistant.tools import PendingAction, StoreUnavailable, ToolContext, ToolResult, ToolRunner, is_affirmative
from retrieval.store import Store

log = logging.getLogger(__name__)

MAX_MESSAGE = 4000
ORDER_ROUTES = {"order_status", "cancel_order", "modify_order", "return", "exchange", "update_address", "payment"}
WRITE_ROUTES = {"cancel_order", "modify_order", "return", "exchange", "update_address"}
# Questions answered in the middle of a flow, after which the flow asks its open question again
QUESTION_ROUTES = {"product_question", "compare", "faq", "option_question", "option_opinion"}
# What a classifier may call a described item change said without a change verb ("my <item> is a small, I need a large")
_NOT_A_CHANGE = {"search", "product_question", "recommend", "compare", "chit_chat", "out_of_scope", "order_status", "faq"}
# What a classifier may call a message about the shopper's own order that lists its products (rules.about_own_order)
# Tasks of one order that wait while an address request for another order, said in the middle, goes first
_WAITS_FOR_ADDRESS_REQUEST = ("return", "exchange", "cancel_order")
_NOT_AN_ORDER = {"search", "compare", "product_question", "out_of_scope"}
SWAP_ROUTES = {"exchange", "modify_order"}  # one request family: the order's status decides which
_NAMED_ROUTES = {"return": "return", "cancel": "cancel_order"}  # an order action named (rules.read_action) as a route
NEAR_TIE = 0.1  # classifier probabilities this close are a tie the action's own words break
# The shopper's own orders ("my orders", "both orders", "I made three orders") as what a request or question is about;
# a remark that only mentions them ("thanks, both orders came") asks nothing.
_OWN_ORDERS = re.compile(r"\b(?:my|our|both|all|the|these|those|some|several|recent|\d+|one|two|three|four|five)\s+(?:\w+\s+)?orders?\b|\b(?:i|we)\s+(?:\w+\s+)?(?:placed|made|have|put in)\s+(?:\w+\s+){0,2}orders?\b|我的订单|我(?:下|有)了?.{0,3}订单")
_ASKS_ABOUT = re.compile(r"[?？]|\b(?:want|need|would like|'d like|wish|can|could|would|will|please|help|check|see|know|tell|find|show|where|when|what|which|how|status|track|look)\b"
                         r"|想|要|请|帮|查|看看|吗|呢|哪")
# "should be shipped to her place instead: <address>": where an order goes, said without the word address
_SENT_TO = re.compile(r"\b(?:ship(?:ped)?|sen[dt]|deliver(?:ed)?|redirect(?:ed)?|go|come)\s+(?:it |them )?(?:to|there)\b")
# "(all) the items" of a request, not the shop's ("the items in your store")
_THE_ITEMS = re.compile(r"\b(?:the|all) items\b(?!\s+(?:in|at|on|from|of) (?:your|the) (?:shop|store|catalog(?:ue)?|site|website)\b)")
_CJK = re.compile(r"[\u4e00-\u9fff]")  # a text in Chinese (the conversation's language follows the shopper's last message)
# The shopper's own things; "the pending <item>" too: only an ordered item has a status.
_OWN = re.compile(r"\bmy\b|\bi (?:bought|ordered|received|purchased)\b|\b(?:pending|delivered)\b|我的|我买的|" + ARRIVED.pattern)
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
        turn = _Turn(self, state, readable(message))
        yield from turn.run()

    def reply_text(self, state: DialogueState, message: str) -> str:
        """The whole reply as one string (for tests, evaluation and the terminal)."""
        return "".join(e.text for e in self.respond(state, message) if e.kind in ("text", "handoff"))


class _Turn(CatalogTurn):
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
        self.offered: list[Choice] = []  # the choices the last reply offered (read in this turn)
        self.interrupted: TaskFrame | None = None  # a task waiting while an address request said now goes first
        self.held: TaskFrame | None = None  # a task put back in the queue by this turn's request (its words are not that task's)

    # -- output helpers ---------------------------------------------------------------------

    def say(self, key: str, **values: Any) -> AssistantEvent:
        template = _replies()[self.state.lang][key]
        return AssistantEvent(kind="text", text=template.format(**values) + "\n")

    def text(self, text: str) -> AssistantEvent:
        return AssistantEvent(kind="text", text=text)

    def r(self, key: str):
        """A reply template (or a table of them) in the conversation's language."""
        return _replies()[self.state.lang][key]

    def join(self, names) -> str:
        """Names as a list in the conversation's language ("a, b" / "a、b")."""
        return self.r("list_sep").join(names)

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
        state.turns += 1
        state.lang = "zh" if _CJK.search(message) else "en"
        state.remember("user", message)
        # read with the verb its purpose says ("return it for the red one" is an exchange); remembered as said
        message = self.message = rules.verbs_by_purpose(message)
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
        self.offered = offered
        picked = next((c for c in offered if message.strip().lower() in (c.label.lower(), c.id.lower())), None)
        listed = [c for c in offered if c.kind != "confirm"]
        if picked is None and listed and (pos := rules.list_position(message)) is not None and -len(listed) <= pos < len(listed):
            picked = listed[pos]  # "the second one": that place in the list just shown
        if picked is None and listed and all(c.kind == "item" for c in listed) and (places := rules.list_positions(message)) \
                and all(-len(listed) <= p < len(listed) for p in places):
            message = " and ".join(listed[p].id for p in places)  # "the second and the fourth": those places in the list
        if picked is not None:  # a button (or its label typed): the id it stands for
            message = f"item {picked.id}" if picked.kind == "option" else picked.id
        slots = read_slots(message)
        if not slots.order_ids and slots.reference_order_ids and any(c.kind == "order" for c in offered):
            # "the same one as #W…" to "which order is it?": the order it points at is the answer
            slots = slots.model_copy(update={"order_ids": slots.reference_order_ids[:1]})
        if self.ctx.user_id:  # a button or an answer to "which method?" counts whole; other messages only as said to use
            self._note_payment(message, answer=any(c.kind == "payment" for c in offered))
        refused, state.refused = state.refused, None  # for this turn only, whatever the turn turns out to be
        if state.pending is not None:
            pending, state.pending = state.pending, None
            frame = state.frame
            correctable = frame is not None and bool(frame.item_ids) and frame.order_id == pending.arguments.get("order_id")
            command = rules.reply_to_proposal(message, correctable, reasoned="reason" in pending.arguments,
                                              order_ids=slots.order_ids if self.ctx.user_id else [],
                                              current=pending.arguments.get("order_id"), tool=pending.tool,
                                              proposed=pending.description)
            if isinstance(command, Confirm) and command.rest and self.ctx.user_id \
                    and set(slots.order_ids) - {o["order_id"] for o in self._user_orders()}:
                command = None  # "yes, and also cancel #<an order not theirs>": no plain yes; nothing runs on it
            said = command.said if isinstance(command, Confirm) and command.said else message  # the yes, without what follows it
            corrected = self.form.corrected_options(frame, message) if command is None and correctable and not rules.is_question(message) else None
            if corrected:
                command = Correct()  # "no wait, make it the large", "不对，要黑色的": another value of what is proposed
            elif corrected == []:  # "the size is fine, make it blue", and no such one: said, and the proposal stands
                state.frame = frame
                yield self.say("correction_unmet", name=self.form.unmet_correction)
                yield from self._propose(pending.tool, pending.arguments, self._description(pending, frame))
                return
            if frame is not None and frame.flow and frame.address and not isinstance(command, Confirm) \
                    and all(o == pending.arguments.get("order_id") for o in slots.order_ids) and not rules.asked_besides(message, frame.route) \
                    and set(rules.read_action(message).flows) <= {frame.flow} \
                    and (fixed := rules.parse_address(message) or rules.address_correction(message, frame.address)):
                # "it's Apt 7B, not Apt 7", "no, send it to <address> instead" (also after "never mind, …"): the same task
                # proposed again with it
                state.frame, frame.address = frame, fixed
                yield from self.form.run(FLOWS[frame.flow], "", Slots())
                return
            if not corrected and not isinstance(command, Confirm) and (rules.drops_proposal(message) or self._all_left_out(message, pending)):
                # "I changed my mind, I'll keep everything as is", "actually I'll keep the <item>" (all it proposed): a
                # decline; a question said with it is answered, then the next request (if queued) taken up
                yield self.say("not_confirmed")
                state.frame = None
                if asked := rules.asked_after_drop(message):
                    yield from self._dispatch(asked)
                if state.frame is None and state.pending is None:
                    yield from self._next_task()
                return
            if not corrected and (yield from self._items_said_at_proposal(message, pending, frame, command, slots)):
                return
            if command is None and corrected is None and "new_item_ids" in pending.arguments and rules.only_keeps_current(message):
                # "never mind, the <colour> one I've got is fine": a decline; its words are no request of their own
                yield from self._declined()
                return
            if command is None and rules.only_conditional(message) and not rules.action_verb_named(message):
                # "if it can only go back to the card, accept that": what they would do, not yes or no: asked again
                state.frame = frame
                yield from self._propose(pending.tool, pending.arguments, self._description(pending, frame))
                return
            if pending.tool == "cancel_pending_order" and not isinstance(command, Confirm) and rules.says_where_money_goes(message, refund_only=True) \
                    and not self._names_product(_in_english(message.lower())) and not rules.not_this_proposal(message) \
                    and all(o == pending.arguments.get("order_id") for o in slots.order_ids):
                # "I want that refund on PayPal" to a cancellation: the policy sends it back to what paid; proposed again
                order = self._order(pending.arguments["order_id"]) or {}
                paid = [p["payment_method_id"] for p in order.get("payment_history", []) if p.get("transaction_type") == "payment"]
                state.frame = frame
                yield self.say("cancel_refund_original", methods=self.join(self._method_name(m) for m in dict.fromkeys(paid)))
                yield from self._propose(pending.tool, pending.arguments, self._description(pending, frame))
                return
            try:  # reading the address before it changes reads the store too: inside, so an outage keeps the proposal
                before = self._address_before(pending) if is_affirmative(said, action=pending.tool) else None
                result = self.runner.confirm(pending, said)
            except StoreUnavailable:
                state.pending = pending  # a "yes" once the store is back still runs it
                raise
            if result is None and command is None and not rules.opens_with_refusal(message) \
                    and (asked := self._asked_at_proposal(message, slots)):
                # "how long does the refund take?" instead of yes or no: answered, and the proposal still waits for its yes
                # ("no thanks. how long …?" declines first: the question is then answered as a request of its own)
                yield from self._answer_at_proposal(asked, message, slots, pending)
                return
            if result is None and command is None and (hold := self._holds(message, slots, pending)) is not None:
                # neither yes nor no ("hmm, let me check first", "will this delay the delivery?"): the proposal waits
                if hold.question:
                    yield from self._answer_at_proposal("faq", message, slots, pending)
                else:
                    state.pending, state.frame = pending, frame
                    yield self.say("take_your_time")
                    yield self.say("confirm_again", description=self._description(pending, frame))
                    yield from self.offer("confirm", list(self.r("confirm_choices").items()))
                return
            flow = flow_for_tool(pending.tool)
            key = _settled_key(flow.route if flow else pending.tool, pending.arguments.get("order_id"))
            state.settled.append(key)
            if result is not None and result.ok:
                state.done.append(key)
                if before is not None:  # the first address it had in this conversation, for "change it back"
                    state.earlier_addresses.setdefault(*before)
                self._orders_read = None  # the orders changed: the next task reads their statuses again
            if state.frame is not None:  # other actions the same request asked for come next (after those already queued)
                self.queue_other_actions(state.frame, state.frame.order_id or pending.arguments.get("order_id"))
            if result is not None and result.ok and pending.tool == "modify_pending_order_payment":
                self._pays_queued(pending.arguments)
                # the way they now want to pay, first for what comes later ("…; also the <item> in it should be …")
                new = pending.arguments.get("payment_method_id")
                state.payment = [new, *(m for m in state.payment if m != new)]
            if result is not None:
                yield AssistantEvent(kind="tool", tool=pending.tool, ok=result.ok, arguments=pending.arguments)
                state.frame = None
                yield from self._after_write(result)
                if isinstance(command, Confirm) and command.rest:  # "ok do it. how long will it take?": asked after the yes
                    yield from self._after_yes(" ".join(command.rest), pending)
                if state.pending is None and state.frame is None:
                    yield from self._next_task()
                if result.ok and state.pending is None and state.frame is None:
                    yield self.say("anything_else")  # the last task done: the shopper may have more to ask
                return
            if command is None and frame is not None and frame.flow and self.ctx.user_id \
                    and (besides := rules.asked_besides(message, frame.route)):
                # another request said instead of yes ("…and also change the <item>"): this proposal stays open, the request waits
                held = next((o for o in self._user_orders() if o["order_id"] == pending.arguments.get("order_id")), {})
                for r, text in reversed(besides):
                    order_id = self._same_order(r, text, held)
                    # the same action, already asked for in the task's first words ("…the <item> to <options>"), on
                    # the same order (or words naming no product): it keeps them, this message amends it ("only the
                    # <item>", another payment method)
                    asked = next((q for q in state.queue if q.route == r and (
                        q.order_id in (None, order_id) or (order_id is None and not self._names_product(text)))), None)
                    if asked is not None:
                        asked.text, asked.amends = f"{asked.text}\n{text}", [*asked.amends, text]
                        asked.order_id = asked.order_id or order_id
                    else:
                        state.queue.insert(0, TaskFrame(route=r, text=text, order_id=order_id))
                state.frame = frame
                yield self.say("queued_next")
                yield from self.form.run(FLOWS[frame.flow], "", Slots())
                return
            yield self.say("not_confirmed")
            state.frame = None  # declined: the next request is a new task
            if isinstance(command, Decline):
                yield from self._next_task()
                return
            added = rules.order_added(message, slots.order_ids if self.ctx.user_id else [], pending.arguments.get("order_id"))
            if added and frame is not None and frame.flow:  # "and #B too" instead of yes: this one proposed again, #B after it
                state.frame = frame
                self.form.queue(frame, [added])
                yield from self.form.run(FLOWS[frame.flow], "", Slots())
                return
            if isinstance(command, Correct) and command.order_id and frame is not None and frame.flow:  # "wrong order, I meant #B"
                state.frame = frame
                frame.order_id, frame.reason, frame.item_ids, frame.new_item_ids = command.order_id, None, [], []
                yield from self.form.run(FLOWS[frame.flow], "", Slots())
                return
            if isinstance(command, Correct) and command.reason and frame is not None:  # "I ordered it by mistake" instead of yes
                state.frame, frame.reason = frame, command.reason
                yield from self.form.run(FLOWS[frame.flow or "cancel"], "", Slots())
                return
            if isinstance(command, Correct) and frame is not None:  # a change said instead of yes: "only <item>", "use <method> instead"
                state.frame = frame
                yield from self.form.amend(frame, message, slots)
                return
        elif state.frame is None and is_affirmative(message):
            yield self.say("nothing_to_confirm")  # a bare "yes" is not a product search for "yes"
            return
        part = self._order(refused.order_id) if refused is not None and refused.route == "cancel_order" and refused.order_id \
            and state.frame is None and self.ctx.user_id and not slots.order_ids else None
        if part is not None and "cancel_order" in routes_for(part["status"]):
            # after "only a whole order can be cancelled: all of it, or leave it?" (a pending order's part was refused):
            # the answer is about that order; anything else is a request of its own
            answer = rules.whole_cancel_answer(message)
            if answer == "nothing":
                rest = rules.after_decline(message)
                yield self.say("left_as_is" if rest or not state.queue else "left_as_is_more", order_id=part["order_id"])
                if rest:  # "no thanks, I'd like to return the <item> instead": that too
                    yield from self._dispatch(rest)
                else:  # the other requests of the message whose part was refused
                    yield from self._next_task()
                return
            if answer == "cancel" and not self._names_other_orders_item(message, part):
                state.frame = TaskFrame(route="cancel_order", flow="cancel", order_id=part["order_id"], text=message)
                yield from self._on_cancel_order(message, slots.model_copy(update={"order_ids": [part["order_id"]]}))
                return
        elif refused is not None and state.frame is None and self.ctx.user_id and not slots.order_ids:
            if (kept := self._left_out_of_refused(message, refused)):
                # "if the <item> would take it over, leave the <item> as it is" after a change refused as a whole (its
                # difference not covered): the other items' changes proposed again
                pairs = [(i, n) for i, n in zip(refused.item_ids, refused.new_item_ids) if i not in kept]
                refused.item_ids, refused.new_item_ids = [i for i, _ in pairs], [n for _, n in pairs]
                state.frame = refused
                yield from self.form.run(FLOWS[refused.flow], "", Slots())
                return
            # "if a return won't work, cancel it then" right after a refusal: that task's fallback
            condition = rules.read_condition(message)
            if condition is not None and condition.then == ["nothing"]:  # "if not, leave it": the task ends here
                yield self.say("left_as_is", order_id=refused.order_id or "")
                return
            if condition is not None and condition.then:
                taken = yield from self.form.fall_back(refused, condition, message)
                if taken:
                    return
                # its fallback impossible on that order too ("if not, change its address then"): said, and no other
                # order touched ("…, cancel the other items" is about other orders: routed as usual)
                order = self._order(refused.order_id) if refused.order_id and rules.only_conditional(message) \
                    and not rules.points_elsewhere(message) else None
                flow = next((f for a in condition.then for f in FLOWS.values()
                             if order and f.on_order and f.route == rules.action_route(a, order["status"])), None)
                if flow is not None:
                    statuses = self.r("statuses")
                    yield self.say("failed", message=self.r("wrong_status").format(
                        order_id=order["order_id"], status=statuses.get(order["status"], order["status"]), verb=self.r("verbs")[flow.name],
                        allowed=self.r("or").join(statuses.get(x, x) for x in sorted(flow.statuses))))  # fmt: skip
                    return
        if state.frame is None and state.pending is None and self.ctx.user_id and not slots.order_ids \
                and rules.says_where_money_goes(message) and not self._names_product(_in_english(message.lower())) and state.payment:
            # "any difference to PayPal" with no task open: kept (noted above) for the task that needs it, not a return;
            # said with something else ("everything I got was broken, refund me to …"), that request is handled too
            yield self.say("refund_noted", method=self._method_name(state.payment[0]))
            if not (rules.says_more_than_where_money_goes(message) and self._route(message, slots) in WRITE_ROUTES | {"faq", "order_status"}):
                yield from self._next_task()
                return
        if state.frame is None and not state.queue and rules.only_gives_up(message):
            # "if it is too late to cancel, I drop the subject" with nothing refused now: no action to start
            yield self.say("nothing_more")
            return
        identified = self.ctx.user_id is not None
        yield from self._identify(slots)
        if not identified and self.ctx.user_id:  # what the shopper said before being identified counts too
            for said in [m.content for m in state.history if m.role == "user"]:
                self._note_payment(said)
            if state.frame is None and not state.queue and state.pending is None and rules.only_identifies(message, slots.identity):
                yield self.say("ask_task")  # "I'm <name>, zip <zip>" and no request yet: asked for one, nothing guessed
                return
        route = self._route(message, slots)
        # a question or another request said while "are these about <topic>?" is open: that task waits
        waiting = state.frame if (state.frame is not None and state.pending is None and state.frame.topic is not None
                                  and state.frame.topic.asked and state.frame.topic.unsure and route != state.frame.route) else None
        if waiting is not None:
            state.frame, waiting.topic.asked = None, False  # asked again when it resumes
        if route in WRITE_ROUTES and slots.order_ids and self.ctx.user_id:
            route, slots = self._target(route, message, slots)
            state.queue = self._queued(message, slots) or state.queue
        if route in ORDER_ROUTES:
            # The task's details may come before identification, or across turns: keep all of it.
            frame = self._frame(route)
            change = rules.order_correction(message, slots.order_ids, frame.order_id) if self.ctx.user_id else None
            added = rules.order_added(message, slots.order_ids, frame.order_id) if self.ctx.user_id else None
            if isinstance(change, Correct):  # "wrong one, I meant #B": the slot changes; its words are not the task's details
                frame.order_id, frame.reason, frame.item_ids, frame.new_item_ids = change.order_id, None, [], []
            elif added:  # "and #B too": the same action on #B, after this one
                self.form.queue(frame, [added])
                slots = slots.model_copy(update={"order_ids": [frame.order_id]})
            else:
                for task in [frame, *(q for q in state.queue if q is not self.held)]:  # an answer ("the original payment method") holds for the queued tasks too
                    task.text = f"{task.text}\n{message}".strip()[-MAX_MESSAGE:]
                frame.condition = rules.read_condition(message) or frame.condition  # read once, when said
                frame.action = rules.read_action(message, self._names_product(message)).merged(frame.action)
            if not frame.order_id and slots.order_ids:
                frame.order_id = slots.order_ids[0]
            elif not frame.order_id and state.settled and self.ctx.user_id and (last := next(
                    (o for o in self._user_orders() if o["order_id"] == state.settled[-1].split("|", 1)[1]), None)) \
                    and rules.same_order(message, last):
                # "the <item> in the same order" after a task: that task's order (its status decides), not another holding one
                frame.order_id = last["order_id"]
            elif not frame.order_id and self.ctx.user_id and (asked := self._order_asked_about()):
                frame.order_id = asked  # "ok then cancel it" after "would I get all my money back if I cancel order #…?"
            elif not frame.order_id and state.settled and self.ctx.user_id and rules.refers_back(frame.text, self._user_orders()):
                # "cancel these two things" after a task: that task's order (its status decides), never another one
                frame.order_id = state.settled[-1].split("|", 1)[1] or None
        handler = getattr(self, f"_on_{route}", None) or self._on_fallback
        if route not in ORDER_ROUTES and state.frame is None and _OWN.search(message.lower()) and (
                rules.names_action(message) or (HAD.search(message.lower()) and self._names_product(message))):
            state.aside = [*state.aside, message][-2:]  # "I ordered <item> by mistake …" read as a search: kept for the task
        interrupted = state.frame if route in QUESTION_ROUTES and state.pending is None else None
        yield from handler(message, slots)
        if interrupted is not None and state.frame is interrupted and interrupted.flow:
            yield from self.form.resume()  # a question in the middle of a flow: answered, then the flow goes on
        if waiting is not None and state.frame is None and state.pending is None and not state.queue:
            state.frame = waiting  # the question answered: the topic's task goes on, its question asked again
            yield from self.form.resume()
        elif waiting is not None:
            state.queue.insert(0, waiting)  # another task began: the topic's task comes after it

    def _left_out_of_refused(self, message: str, refused: TaskFrame) -> list[str]:
        """The items of a refused change of several items (each with its new item chosen) that the message leaves out
        of it (`rules.left_out`: "leave the <item> as it is", "skip the <item>"), when some others remain."""
        if refused.flow not in ("exchange", "modify_items") or not refused.order_id or len(refused.item_ids) < 2 \
                or len(refused.new_item_ids) != len(refused.item_ids):
            return []
        order = self._order(refused.order_id) or {}
        if not order or set(rules.actions_named(message.lower(), order["status"])) - SWAP_ROUTES:
            return []  # "leave the <item> and return the <other> instead": another request
        out = rules.left_out(message, [i for i in order.get("items", []) if i["item_id"] in refused.item_ids])
        return out if out and set(out) < set(refused.item_ids) else []

    def _declined(self) -> Iterator[AssistantEvent]:
        """A proposal declined: said, the task ended, and the next request (if queued) taken up."""
        yield self.say("not_confirmed")
        self.state.frame = None
        yield from self._next_task()

    def _description(self, pending: PendingAction, frame: TaskFrame | None) -> str:
        """The proposal's text to say again: as proposed, or said anew once the shopper has changed language."""
        if frame is None or bool(_CJK.search(pending.description)) == (self.state.lang == "zh"):
            return pending.description
        return self.form.describe(frame) or pending.description

    def _all_left_out(self, message: str, pending: PendingAction) -> bool:
        """Whether a reply at an item action's proposal keeps every item it proposed ("actually I'll keep the <item>")."""
        proposed = pending.arguments.get("item_ids") or []
        order = self._order(pending.arguments["order_id"]) if proposed and pending.arguments.get("order_id") else None
        items = [i for i in (order or {}).get("items", []) if i["item_id"] in proposed]
        others = [i for i in (order or {}).get("items", []) if i["item_id"] not in proposed]
        # "not the <item>, the <other item>": another of the order's items in its place, a correction
        return bool(items) and set(rules.left_out(message, items)) >= set(proposed) \
            and not any(rules.names_item(i, message.lower()) for i in others)

    def _route_without_task(self, message: str, slots: Slots) -> str:
        """The message's route read as if no task were open (a question at a proposal is read on its own)."""
        frame, self.state.frame = self.state.frame, None
        try:
            return self._route(message, slots)
        finally:
            self.state.frame = frame

    def _asked_at_proposal(self, message: str, slots: Slots) -> str | None:
        """The route of a question asked at a proposal instead of yes or no, read as if no task were open: the shop's
        terms ("how long does the refund take?", "will I be charged a fee?", "需要多久？"), a product, something out of
        scope; None for anything else (a request said as a question, another order named, a search), which ends the
        proposal as before."""
        if slots.order_ids or slots.item_ids or not (rules.only_asks(message) or rules.questions_terms(message)):
            return None
        route = self._route_without_task(message, slots)
        if rules.names_terms(message) and (route in ORDER_ROUTES or route in ("chit_chat", "out_of_scope")):
            return "faq"  # a term of the action proposed ("a fee?", "how long?"): the shop's policy on it
        return route if route in ("faq", "product_question", "compare", "out_of_scope") else None

    def _holds(self, message: str, slots: Slots, pending: PendingAction):
        """A reply that holds the proposal (`rules.holds_proposal`): a hesitation, or a question about it; a question
        naming another order, asking for products named or for an order's status, is a request of its own (None)."""
        hold = rules.holds_proposal(message)
        if hold is None or not hold.question:
            return hold
        if any(o != pending.arguments.get("order_id") for o in slots.order_ids):
            return None
        route = self._route_without_task(message, slots)
        if route in ("order_status", "account", "human") or (route in ("search", "recommend") and self._names_product(message)):
            return None
        return hold

    def _after_yes(self, rest: str, done: PendingAction) -> Iterator[AssistantEvent]:
        """What followed the yes, once the action has run: a question about it answered as at the proposal
        (`_asked_at_proposal`), anything else handled as a request of its own."""
        slots = read_slots(rest)
        route = self._asked_at_proposal(rest, slots)
        if route is None and (hold := self._holds(rest, slots, done)) is not None and hold.question:
            route = "faq"  # a question about the action done ("when will I get the money back?"): the shop's policy on it
        if route is None:
            yield from self._dispatch(rest)
            return
        flow = flow_for_tool(done.tool)
        if route == "faq" and not rules.names_action(rest) and flow is not None:
            rest = f"{rest} ({self.r('flow_names').get(flow.name, flow.route)})"  # the policy looked up with the action's name
        yield from getattr(self, f"_on_{route}")(rest, slots)

    def _answer_at_proposal(self, route: str, message: str, slots: Slots, pending: PendingAction) -> Iterator[AssistantEvent]:
        """The question answered with no task open, then the proposal asked again; it stays pending, as does its task."""
        state = self.state
        frame, state.frame = state.frame, None
        try:
            if route == "faq" and not rules.names_action(message) and (flow := flow_for_tool(pending.tool)) is not None:
                # "how long does it take?" is about the action proposed: the policy is looked up with its name
                yield from self._on_faq(f"{message} ({self.r('flow_names').get(flow.name, flow.route)})", slots)
            else:
                yield from getattr(self, f"_on_{route}")(message, slots)
        finally:
            state.frame, state.pending = frame, pending
        yield self.say("confirm_again", description=self._description(pending, frame))
        yield from self.offer("confirm", list(self.r("confirm_choices").items()))

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
            if not own or len(sentences) < 2:
                continue
            result = self.runner.run("get_order_details", {"order_id": order_id})
            if not result.ok:
                continue
            text = " ".join(dict.fromkeys(x for n in own for x in sentences[n:n + 2]))
            asked = [r for n in own for r in (["update_address"] if re.search(r"\baddress\b|地址", sentences[n].lower())
                                              else rules.actions_named(sentences[n].lower(), result.data["status"]))]
            open_ = [r for r in asked if r in routes_for(result.data["status"]) and not self._settled(r, order_id)]
            if open_:
                queue.append(TaskFrame(route=open_[0], order_id=order_id, text=text))
        return queue

    def _same_order(self, route: str, text: str, order: dict) -> str | None:
        """The order of the task at hand for another request said with it, when that request is about it
        (an item it holds, "its item", "that order") and its status allows it; else None (read from its words)."""
        allowed = routes_for(order.get("status", ""))
        if "modify_order" in allowed:
            allowed = allowed | {"exchange"}  # the exchange family: a pending order's items are changed
        if route in allowed and rules.holds_or_points_back(text, order, self._user_orders()):
            return order["order_id"]
        return None

    def queue_other_actions(self, frame: TaskFrame, key: str | None) -> None:
        """The other actions the task's words ask for, queued after those already queued (once the task is done or refused)."""
        state = self.state
        queued = {t.route for t in state.queue} | {frame.route}
        same = next((o for o in self._user_orders() if o["order_id"] == key), {}) if key else {}
        # "…and switch its item to the blue one": a request pointing back at this task's order is about that order
        state.queue += [TaskFrame(route=r, text=text, order_id=self._same_order(r, text, same), topic=frame.topic)
                        for r, text in rules.other_actions(frame.text, frame.route)
                        if r not in queued and not any(k.startswith(f"{r}|") for k in state.settled)]

    def _items_said_at_proposal(self, message: str, pending: PendingAction, frame: TaskFrame | None, command, slots: Slots):
        """Items of the proposed order said instead of yes to an item action: a proposed one left out ("no, not the
        <item>: I keep it", "不要动<item>") is proposed again without it, a decline when it was the only one (or when the
        reply disowns the whole proposal: "I didn't ask to exchange that"); another item
        of the same order wished for the same action ("…the <item> too", "that order's <item> in <value>") joins it, as
        an exchange or return is once per order. Nothing runs. Returns whether the reply was read so."""
        proposed = pending.arguments.get("item_ids") or []
        order = self._order(pending.arguments["order_id"]) if pending.arguments.get("order_id") else None
        if command is None and rules.disowns_proposal(message) and not any(
                rules.names_item(i, message.lower()) for i in (order or {}).get("items", [])):
            # "I didn't ask to exchange that": the whole proposal disowned, a decline; its words are no request (an item
            # named is left out, or meant instead, below)
            yield from self._declined()
            return True
        if not proposed or order is None or rules.is_question(message) or (command is not None and not isinstance(command, Correct)) \
                or (isinstance(command, Correct) and (command.order_id or command.reason)) \
                or any(o != order["order_id"] for o in slots.order_ids):
            return False
        out = rules.left_out(message, [i for i in order["items"] if i["item_id"] in proposed])
        fits = frame is not None and bool(frame.flow) and frame.order_id == order["order_id"] and frame.item_ids == proposed
        meant = self._meant_instead(message, order, proposed, out, frame) if fits else []
        added = self._joins_proposal(message, order, proposed, frame) if fits and command is None and not meant else []
        # the item meant takes the place of those left out, or (none left out: "I meant the <item>") of all proposed
        kept = [i for i in proposed if i not in out] if out or not meant else []
        added += [i for i in meant if i not in kept]
        if not added and (not out or (kept and not fits)):
            return False
        if not kept and not added:
            yield from self._declined()
            return True
        yield self.say("not_confirmed")
        new = dict(zip(proposed, pending.arguments.get("new_item_ids") or []))
        frame.item_ids = kept + added
        frame.new_item_ids = [new[i] for i in kept if i in new]
        if added:  # the new item's wish is read from the task's words
            frame.text = f"{frame.text}\n{message}".strip()[-MAX_MESSAGE:]
        self.state.frame = frame
        yield from self.form.run(FLOWS[frame.flow], "", Slots())
        return True

    def _meant_instead(self, message: str, order: dict, proposed: list[str], out: list[str], frame: TaskFrame) -> list[str]:
        """Items of the proposal's order a reply names as the ones meant instead of those proposed ("no wait, not the
        <item>, I meant the <other>", "I was talking about the <other>", "不是<item>，是<other>"; "I meant the <item>" of
        one proposed: that one alone): said with a proposed one left out or words saying which was meant; not one added
        ("…the <other> too", `_joins_proposal`), nor one another action is asked for (a request of its own)."""
        lowered = message.lower()
        if rules.is_adding(lowered) or not (out or rules.means_other(message)):
            return []
        if any(r != frame.route for r in rules.actions_named(lowered, order["status"])):
            return []
        kept = set(rules.left_out(message, order["items"]))
        named = [i for i in rules.match_items(order, message, read_slots(message), fallback=False, everything=False)
                 if i != rules.AMBIGUOUS and i not in kept]
        # a proposed one named counts only with words saying it was the one meant ("not the <item>" names it too)
        return named if rules.means_other(message) or any(i not in proposed for i in named) else []

    def _joins_proposal(self, message: str, order: dict, proposed: list[str], frame: TaskFrame) -> list[str]:
        """Items of the proposal's order, not in it, that a reply asks the same action for: said as an addition
        ("too", "also", 也), with the action's own verb, or (to a swap) with another value of their options."""
        lowered = message.lower()
        if rules.opens_with_no(message):  # "no, I meant the <item>": instead, not besides
            return []
        if any(r != frame.route for r in rules.actions_named(lowered, order["status"])):
            return []  # another action on it: a request of its own
        kept = set(rules.left_out(message, order["items"]))
        named = [i for i in rules.match_items(order, message, read_slots(message), fallback=False, everything=False)
                 if i != rules.AMBIGUOUS and i not in proposed and i not in kept]
        adding = rules.is_adding(lowered) or bool(rules.actions_named(lowered, order["status"]))
        joined = []
        for item_id in named:
            item = next(i for i in order["items"] if i["item_id"] == item_id)
            product = self.a.store.product(item["product_id"]) if frame.new_item_ids else None
            if adding or (product is not None and self.form.other_value_named(product, item, rules.about_item(message, item, order))):
                joined.append(item_id)
        return joined

    def _next_task(self) -> Iterator[AssistantEvent]:
        """The next queued task, if any: started at once."""
        state = self.state
        while state.queue:
            frame = state.queue.pop(0)
            if self._settled(frame.route, frame.order_id):
                continue
            state.frame = frame
            frame.condition = frame.condition or rules.read_condition(frame.text)  # a queued task's own words
            frame.action = frame.action or rules.read_action(frame.text, self._names_product(frame.text))
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
        if state.frame is None and state.pending is None and self.ctx.user_id and rules.asks_change_without_verb(message) \
                and self._holds_named(message) and not (rules.parse_address(message) or rules.payment_switch_sentences(message)
                                                        or rules.names_action(message) or rules.no_longer_wanted(message)):
            return "exchange"  # "the <item> should be black, still wood" said alone: theirs changed (its status picks how), no search
        if state.frame is None and state.pending is None and not (slots.order_ids or slots.item_ids) and not _OWN.search(message.lower()) \
                and not rules.names_action(message) and self._set_against(message):
            return "compare"  # "is the 500-piece one easier than the 1000-piece one?": those variants side by side, whatever the list
        if (state.frame is None and _need(message) and not (slots.references or slots.order_ids or slots.item_ids)
                and not _POINTS_AT_ITEM.search(message.lower()) and not any(p.search(message.lower()) for p, _ in _cues())
                and not (PAID.search(message.lower()) and self._holds_named(message))  # "what did I pay for the <item>?": theirs
                and not rules.about_own_order(message)):  # "my pending order holds two things for my office: …": theirs
            return "search"  # "which one is best for trail running": a search for that need, not a recommendation
        if re.search(r"surprise me|给我惊喜|随便推荐", message, re.IGNORECASE):
            return "recommend"
        if state.frame is not None and self._gives_address_asked(message, state.frame):
            return state.frame.route  # the request said again, now with the address asked for (the rest is queued or done)
        if state.frame is not None and state.pending is None and not state.frame.order_id and slots.order_ids \
                and state.frame.route in ORDER_ROUTES:
            return state.frame.route  # "#W…, the one with the <item>": the answer to "which order is it?"
        topic_open = state.frame is not None and state.pending is None and state.frame.topic and state.frame.topic.asked \
            and state.frame.topic.unsure
        if topic_open and answers_topic(message, [{"item_id": x} for x in state.frame.topic.unsure], state.frame.route):
            return state.frame.route  # "yes, the <item> too": the answer to "are these about <topic> too?"
        for pattern, direct in _cues("direct"):
            if pattern.search(message.lower()) and (state.frame is None or direct == "human"):
                return direct
        if state.frame is None and rules.complains_with_refund_method(message):
            return "return"  # "收到的东西坏了，退款请退到我的 PayPal": a return, the method noted for it (whatever the classifier says)
        if state.frame is None and rules.complains_wanting_other(message) and self._holds_named(message):
            return "exchange"  # "the <item> is too loud, I want a different one": theirs changed (its status decides how), not a search
        if state.frame is None and ((_SENT_TO.search(message.lower()) and rules.parse_address(message))
                                    or rules.order_goes_to_address(message)  # "包裹要寄到<address>" too
                                    or (rules.parse_address(message) and "modify_address" in rules.read_action(message).flows
                                        and not rules.only_asks(message))):  # "ship order #… / the <item> package to <address>"
            return "update_address"
        if state.frame is None and rules.no_longer_wanted(message) and self._names_product(_in_english(message.lower())):
            return "cancel_order"  # "I no longer need the <item> and the <item>": undo the order (its status decides how)
        if state.frame is None and (taken := rules.removed_parts(message)) \
                and (slots.order_ids or rules.names_an_order(message) or any(self._holds_named(x) for x in taken)):
            # "drop only the <item> from my order", "one of them taken off" (of an order said): a part of it cancelled
            # (refused); not "the price filter removed", "my old address removed from my account"
            return "cancel_order"
        if state.frame is None and rules.wrongly_charged(message) and not rules.other_actions(message, "payment") \
                and rules.asks_order_payment_change(message, [], bool(slots.order_ids)):
            # "PayPal was billed for that order in error", no other action asked: its payment moved, not a cancellation
            return "payment"
        prediction = self.a.classifier.predict(message)
        route = prediction.route
        if prediction.near_route and (slots.order_ids or rules.names_action(message)):
            # Out of scope only by the classifier's margin, but it names an order or an order action
            # ("swap both of my things for newer ones"): what a shop handles, so its best intent stands.
            route = prediction.near_route
        if state.frame is None and (named := self._action_breaks_tie(message, prediction)):
            route = named  # "send it back for a refund" an exchange by a hair over a return: the words say which
        if state.frame is None and not slots.item_ids and route != "faq" and rules.asks_about_action(message):
            # "would I get all my money back if I cancel the whole order?", "can I still change the address on my
            # pending order?": a question about the action, answered from the policy; "ok then cancel it" starts it
            return "faq"
        if route in _NOT_A_CHANGE and state.frame is None and self._owned_item_change(message):
            return "exchange"  # "the <item> I received is a 9, I'd need a 10": a change of their own item (its order's status picks which)
        if route in _NOT_A_CHANGE and state.frame is None and not slots.order_ids and (rest := self._without_remarks(message)) != message \
                and rules.is_question(rest) and self._asks_of_named_product(rest):
            return "product_question"  # "my <item> is black, which colours do the <product>s come in?": that product, from the catalog
        if route == "order_status" and prediction.confidence < 0.9 and rules.asks_change_without_verb(message):
            route = "exchange"  # "it has not shipped yet, so the <item> should be the <value> one instead": a change (its status picks which)
        if route in ("out_of_scope", "chit_chat") and (rules.parse_address(message) or rules.asks_former_address(message)):
            return "update_address"  # "I moved: 123 Main St, Springfield, IL 62704"; "my profile address back to how it was"
        if route in ("out_of_scope", "chit_chat") or (route in ("search", "product_question", "compare") and slots.order_ids):
            route = self._shop_cue(message, slots) or route
        if route in ("out_of_scope", "chit_chat") and slots.order_ids:
            route = "order_status"  # a bare "#W…" is about that order, never out of scope
        if route == "order_status" and not rules.only_asks(message) and rules.read_action(message).to_default:
            route = "update_address"  # "ship order #… to my house": the account's address as where it goes, not its status
        if route in ("search", "product_question", "recommend") and state.frame is None \
                and (_OWN.search(message.lower()) or (self._holds_named(message) and not rules.browses(message))) \
                and (cue := self._shop_cue(message, slots)) in WRITE_ROUTES:
            # "modify all my pending <product>s to …", "I also want to modify the <item> to …" (an item of one of the
            # signed-in shopper's orders): the shopper's own order, not a search ("show me <product>s and switch the
            # filter to …" stays one)
            return cue
        if state.frame is None and route in WRITE_ROUTES | {"order_status", "faq", "chit_chat", "out_of_scope"} \
                and rules.asks_status_yes_no(message) and (slots.order_ids or rules.names_an_order(message) or self._holds_named(message)):
            return "order_status"  # "is my <item> order cancelled?": its status, answered; not a cancellation
        if state.frame is None and route not in ("human", "payment", "order_status") and rules.asks_own_address(message):
            return "own_address"  # "what's my default address?": the account's, answered
        if state.frame is None and (route in ("search", "recommend") or (route in ORDER_ROUTES and prediction.confidence < 0.9)) \
                and self._holds_named(message) and rules.only_asks(message) and PAID.search(message.lower()):
            return "product_question"  # "what did I pay for the <item>?": their own one, answered from their order
        if state.frame is None and route not in ("human", "payment") and (rules.asks_method_paid(message) or rules.asks_own_methods(message)):
            return "payment"  # "how did I pay for #W…?", "how much is left on my gift card?": the account's methods, answered
        if state.frame is None and route in ("update_address", "modify_order", "search", "faq", "out_of_scope", "chit_chat") \
                and rules.asks_where_order_goes(message) and (slots.order_ids or rules.names_an_order(message) or self._holds_named(message)):
            return "order_status"  # "which address is order #… going to?": where it goes, answered, nothing changed
        if route in ("search", "product_question", "recommend", "faq") and state.frame is None and self._holds_named(message) \
                and (rules.only_asks(message) or _CJK.search(message)) and not rules.browses(message) \
                and self._shop_cue(message, slots) == "order_status":
            return "order_status"  # "where are my <item>s?", "has my <item> shipped?": an item of their own orders, not a search
        if route in ("search", "product_question", "recommend", "chit_chat", "out_of_scope") and state.frame is None \
                and rules.payment_switch_sentences(message):
            return "payment"  # "…; I want that order paid with PayPal instead": the order's payment, not a search for PayPal
        if state.frame is None and prediction.route in _NOT_AN_ORDER | {"order_status"} and route in _NOT_AN_ORDER | {"order_status", "payment"} \
                and rules.about_own_order(message) \
                and not (rules.browses(message) or rules.only_asks(message) or rules.wants_another(message)) \
                and (own := self._own_order_route(message, prediction, described_only=prediction.route == "order_status")):
            # "from my delivered order (a <item>, a <item> and a <item>): the <item> should be …", "the delivery that went
            # to <city> (<items>) has things I do not need": the shopper's own order, the products only say which (a
            # status or payment word read as the route by the shop cues only describes the order or how a change is paid)
            return own
        if route == "cancel_order" and rules.only_describes_cancelled(message.lower()):
            route = "order_status"  # "the tracking number of my cancelled order": that order asked about, nothing to cancel
        if route == "cancel_order" and rules.only_negated(message.lower(), "cancel"):
            if state.frame is not None:
                return state.frame.route  # "I never want to cancel my order": the task in progress goes on
            rest = rules.without_refused(message, "cancel")  # "don't cancel it, I only want …": what they do want
            return self._route(rest, read_slots(rest)) if rest else "chit_chat"
        if route in WRITE_ROUTES and state.frame is None and (rules.refines_search(message) or (
                rules.browses(message) and not rules.names_an_order(message) and self._names_product(_in_english(message.lower())))) \
                and not (_OWN.search(message.lower()) or slots.order_ids or slots.item_ids):
            # "find me <product>s and change the size filter to medium", "search <product>s, then switch to size small":
            # a filter, or a change said with the search it changes, is a search's, not an order's
            return "search"
        if route in WRITE_ROUTES and state.frame is None and self._asks_terms(message, slots):
            return "faq"  # "what's your return window?", "can I cancel an order after it shipped?": the shop's terms
        if route in ORDER_ROUTES and prediction.confidence < 0.9 and self._product_wish(message, slots):
            return "search"  # "sneakers but not red" names a product, no order and no order action
        frame = state.frame
        if (frame is not None and state.pending is None and frame.flow and not (slots.order_ids or slots.item_ids)
                and self._asks_about_product(message, frame)):
            return "product_question"  # "is the <product> waterproof?" in the middle of an exchange: answered, then resumed
        if (frame is not None and state.pending is None and frame.flow and not (slots.order_ids or slots.item_ids)
                and rules.asks_opinion(message) and self._option_asked(frame) is not None):
            return "option_opinion"  # "would white suit me?" to "what should it become?": no pick; said so, then asked again
        if (frame is not None and state.pending is None and frame.flow and not (slots.order_ids or slots.item_ids)
                and rules.yes_no_question(message) and self._picked_by_asking(message, frame)):
            return frame.route  # "is XL ok?", "do you have it in blue?" to "what should it become?": the pick, confirmed next
        if (frame is not None and state.pending is None and frame.flow and not (slots.order_ids or slots.item_ids)
                and rules.only_asks(message) and (asked := self._asked_instead(message, frame, route))):
            return asked  # "which of those is cheapest?" to "what should it become?": answered, then asked again
        if (frame is not None and frame.route != "return" and frame.item_ids and len(frame.new_item_ids) < len(frame.item_ids) and not slots.order_ids
                and (route in ("search", "product_question", "compare", "recommend")
                     or ({route, frame.route} <= SWAP_ROUTES and not self._names_other_product(message, frame)))):
            # "size 9, leather, waterproof", "can I get the blue one instead?": the answer to "what should it become?"
            return frame.route
        if (frame is not None and state.pending is None and frame.route in _WAITS_FOR_ADDRESS_REQUEST and frame.order_id
                and rules.parse_address(message) and rules.order_goes_to_address(message)):
            self.interrupted = frame
            return "update_address"  # "my other order should go to <address>" while "which items?" is open: that now, this after
        # An order task in progress keeps the turn for answers to its questions (an order id, a payment
        # method, items, a yes-less clarification); only a clear request for something else ends it.
        if state.frame is not None and not topic_open and self._answers_frame(message, slots):
            switch = route in WRITE_ROUTES | {"search", "recommend", "human", "compare"} and route != state.frame.route
            # "let me pay what's left using my gift card" gives the task's payment method: no search for it
            # nor does "…, and only the <item> change" narrowing the items the task holds
            gives = route in ("search", "recommend", "compare") and (rules.pays_with(message) or self._gives_slot(message, payment=False)
                                                                     or self._narrows_items(message, state.frame))
            if not (switch and prediction.confidence >= 0.8 and len(message.split()) > 4 and not gives):
                return state.frame.route
        if state.frame is None and route in ("search", "product_question", "chit_chat", "out_of_scope", "recommend") and \
                ATTRIBUTE_QUESTION.search(message.lower()) and not SHOP_QUESTION.search(message.lower()) and \
                (_named_products(self.a.store, _in_english(message.lower())) or self._about_shown(message)):
            return "product_question"  # "is the bluetooth speaker waterproof?", "what's the warranty?" after a list
        if route in ("product_question", "compare") and not slots.references and not slots.item_ids and not state.last_items:
            if route == "product_question" and _named_products(self.a.store, _in_english(message.lower())):
                return route  # a question about a product it names: answered from that product's data
            if self._set_against(message):
                return route  # "which is lighter, the 1 L or the 1.5 L kettle?": those variants, from the catalog
            return "search"
        if route == "chit_chat" and slots.references and state.last_items:
            return "product_question"
        return route

    def _action_breaks_tie(self, message: str, prediction) -> str | None:
        """The one order action the words name, when the classifier's best order action beat it by less than
        `NEAR_TIE` ("… I want to send it back for a refund" read as an exchange just ahead of a return): its route.
        None when the words name several actions or none, or a return is said with an option value ("return them, I
        need the red ones"): maybe an exchange whatever the verb, the classifier's to tell."""
        read = rules.read_action(message)
        named = [a for a in read.named if a != "address"]
        routes = getattr(self.a.classifier, "routes", {})
        top = [(routes.get(intent), p) for intent, p in getattr(prediction, "top", None) or []]
        if not top or top[0][0] not in WRITE_ROUTES:
            return None
        if not named and len(read.flows) == 1 and not read.tied and read.flows[0] in FLOWS:
            # no verb, one action read all the same ("was paid with my card; I would like it paid with my gift card
            # instead"): that action's route, when the classifier has it close behind a refund or a cancellation
            route = FLOWS[read.flows[0]].route
            wanted = SWAP_ROUTES if route in SWAP_ROUTES else {route}
        elif len(named) == 1:
            wanted = SWAP_ROUTES if named[0] == "change" else {_NAMED_ROUTES[named[0]]}
            if named[0] == "return" and (rules.asks_change_without_verb(message) or self._names_option_value(message)):
                return None
        else:
            return None
        if top[0][0] in wanted:
            return None
        return next((r for r, p in top[1:] if r in wanted and top[0][1] - p < NEAR_TIE), None)

    def _narrows_items(self, message: str, frame: TaskFrame) -> bool:
        """Whether the message keeps only some of the items the task holds ("only the <item> change", "the <item> alone")."""
        if len(frame.item_ids) < 2 or not rules.takes_only(message) or self.ctx.user_id is None:
            return False
        held = [i for o in self._user_orders() if o["order_id"] == frame.order_id for i in o["items"] if i["item_id"] in frame.item_ids]
        return any(rules.names_item(i, message.lower()) for i in held)

    def _names_option_value(self, message: str) -> bool:
        """Whether the message says an option value of the catalog ("… the red ones", "a size 10"), the item's or a wished
        one; not a word of a product's name ("espresso" of an espresso machine)."""
        lowered = _product_words(self.a.store).sub(" ", _in_english(message.lower()))
        values = {str(v).lower() for vals in _option_values(self.a.store).values() for v in vals}
        return any(len(v) > 2 and rules.mentioned(v, lowered) for v in values)

    def _asks_terms(self, message: str, slots: Slots) -> bool:
        """Whether a message that names an order action asks about the shop's terms for it (`rules.asks_terms`) and
        names nothing of the shopper's own: no order, item or product, no "my …", no remark kept for a task, nothing
        pointing back at the last task ("can we cancel those too?"), no "the order" / "cancel it" once an order was
        talked about ("could I cancel the order?" after its status), unless it names a term ("how long do I have
        to return it?"). Naming one makes it a request about it, unless it asks about a status that order has not
        reached ("can I cancel order #W… after it shipped?" of a pending one): that asks about the terms. "My refund",
        "my gift card" name no order or item ("where does my refund go?")."""
        lowered = message.lower()
        if slots.item_ids or slots.references or self.state.aside or self.state.queue:
            return False
        if slots.order_ids:
            if not rules.asks_terms(message):
                return False
            orders = {o["order_id"]: o for o in self._user_orders()}
            return all(o in orders and rules.status_reached(message, orders[o]["status"]) is False for o in slots.order_ids)
        if _OWN.search(rules.without_own_money(lowered)) or self._names_product(_in_english(lowered)):
            return False
        if self.state.settled and rules.refers_back(message, self._user_orders()):
            return False
        if rules.points_at_order(message) and not rules.names_terms(message) and self._order_talked_about():
            return False
        return rules.asks_terms(message)

    def _order_asked_about(self) -> str | None:
        """The one order of the shopper's that their last message asked an action about (`rules.asks_about_action`,
        answered from the policy): what the action then asked for is done to."""
        said = [m.content for m in self.state.history[:-1] if m.role == "user"]
        if not said or not rules.asks_about_action(said[-1]):
            return None
        named = list(dict.fromkeys(read_slots(said[-1]).order_ids))
        return named[0] if len(named) == 1 and named[0] in {o["order_id"] for o in self._user_orders()} else None

    def _order_talked_about(self) -> bool:
        """Whether an order was shown or named earlier in this conversation (its id in a message before this one)."""
        return any(ORDER_RE.search(m.content) for m in self.state.history[:-1])

    def _asked_instead(self, message: str, frame: TaskFrame, route: str) -> str | None:
        """The route of a question asked instead of an answer to the flow's open question: "option_question"
        about the product whose new option is asked ("what colours does it come in?", "which is cheapest?",
        "is the blue one in stock?", "how much is the 2 liter one?"), "faq" for a question about the shop's
        policy ("what's your return window?"); None when it may be the answer (it gives what the flow asks)."""
        lowered = f"{_in_english(message.lower())} {message.lower()}"
        item = self._option_asked(frame)
        product = self.a.store.product(item["product_id"]) if item else None
        if product is not None and product_answers.asks_about_policy(lowered):
            return "faq"  # "is the red one refundable?", "a restocking fee for the white one?": the shop's terms, whichever the choice
        if product is not None and product_answers.asks_about(product, lowered, fields=(), superlative=True):
            return "option_question"
        if route == "faq" or any(p.search(lowered) for p, r in _cues("direct") if r == "faq"):
            return "faq"  # "what's the policy on refunds to gift cards?"
        if self._gives_slot(message):
            return None  # "can the refund go to my gift card?": the method asked for
        if any(p.search(lowered) for p, r in _cues() if r != "order_status") or product_answers.asks_about_policy(lowered):
            return "faq"  # "what's your return window?", "do you charge for exchanges?"
        return "option_question" if product is not None else None

    def _picked_by_asking(self, message: str, frame: TaskFrame) -> bool:
        """Whether a yes/no question names one of the new options in stock for the item whose option is asked
        ("is XL ok?", "is there an on-ear one?", "有白色的吗？"): the pick, which the proposal then confirms;
        one naming a choice out of stock or not made is answered instead."""
        item = self._option_asked(frame)
        product = self.a.store.product(item["product_id"]) if item else None
        if product is None:
            return False
        others = product.model_copy(update={"variants": [v for v in product.variants if v.item_id != item["item_id"]]})
        # in English words only: every word but the values must ask for them, and "白色" is "white" there
        return product_answers.names_choice(others, _in_english(message.lower()), _option_values(self.a.store), item.get("options"))

    def _option_asked(self, frame: TaskFrame) -> dict | None:
        """The order item whose new option the flow is asking for, if that is its open question."""
        if frame.flow not in ("exchange", "modify_items") or not frame.order_id or len(frame.new_item_ids) >= len(frame.item_ids):
            return None
        order = self._order(frame.order_id)
        item_id = frame.item_ids[len(frame.new_item_ids)]
        return next((i for i in (order or {}).get("items", []) if i["item_id"] == item_id), None)

    def _names_other_product(self, message: str, frame: TaskFrame) -> bool:
        """Whether the message names a catalog product other than that of the item whose new option is asked."""
        item = self._option_asked(frame)
        named = set(_named_products(self.a.store, _in_english(message.lower())))
        return bool(named - {item["product_id"] if item else None})

    def _on_option_question(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """A question about the new options on offer: answered from the catalog's variants of the item's product."""
        item = self._option_asked(self.state.frame) if self.state.frame else None
        if item is None:
            return
        # "which of those is cheapest?": among the options just offered; "what colours does it come in?": all of them
        # "what's the difference between them?": between those offered
        asks_list = rules.points_at_list(message) or product_answers.asks_difference(f"{_in_english(message.lower())} {message.lower()}")
        among = [c.id for c in self.offered if c.kind == "option"] if asks_list else []
        yield from self._on_product_question(message, slots, product_id=item["product_id"], without=item["item_id"], among=among)

    def _on_option_opinion(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """A question of taste about the new options ("would white suit me?"): not the assistant's to judge; the options'
        facts come with the question asked again."""
        yield self.say("option_opinion")

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
        # ... or one that goes on about something of theirs said before ("two <product>s came" → "send back the pricier");
        # "the items" only in the sentence of the action, and never the shop's ("all the items in your shop")
        if not (product or slots.order_ids or slots.item_ids or re.search(r"\borders?\b|\b(?:my|its) items\b|订单", lowered)
                or self.state.aside or any(_THE_ITEMS.search(x) and any(p.search(x) for p, _ in _cues())
                                           for x in re.split(r"(?<=[.!?;])\s+", lowered))):
            return None
        found = [(m.start(), route) for pattern, route in _cues() if (m := pattern.search(lowered))]
        if found:  # the first action the message names, not a later word ("… refund to PayPal")
            return min(found)[1]
        if not product and _OWN_ORDERS.search(lowered) and _ASKS_ABOUT.search(lowered):
            return "order_status"  # "we made a few orders, can you look at them?": their orders, never out of scope
        return "search" if product else None

    def _own_order_route(self, message: str, prediction, described_only: bool = False) -> str | None:
        """The order route of a message about an order of the shopper's own: the first order action its words name
        (cues.json; a status word there only describes the order, a payment word may only say how a change is paid:
        a payment switch is read before), or things no longer needed (undone: the order's
        status decides how); else, unless `described_only` (only an action said counts), the classifier's best order
        action, or an item change when it wishes for a product (the status picks exchange or item change); None for
        a remark ("all my orders came on time")."""
        lowered = message.lower()
        found = [(m.start(), r) for pattern, r in _cues() if r in WRITE_ROUTES and (m := pattern.search(lowered))]
        if found:
            return min(found)[1]
        if rules.no_longer_wanted(message):
            return "cancel_order"
        if described_only:
            return None
        routes = getattr(self.a.classifier, "routes", {})
        ranked = [routes.get(intent) for intent, _ in getattr(prediction, "top", None) or []]
        if best := next((r for r in ranked if r in WRITE_ROUTES), None):
            return best
        return "exchange" if rules.says_wish(message) and self._names_product(_in_english(lowered)) else None

    def _asks_of_named_product(self, message: str) -> bool:
        """Whether the message asks about an option, a value, the price or the stock of a product it names by its name."""
        from assistant import product_answers

        english = _in_english(message.lower())
        return any((product := self.a.store.product(p)) is not None
                   and product_answers.asks_about(product, f"{english} {message.lower()}", fields=())
                   for p in _named_products(self.a.store, english))

    def _owned_item_change(self, message: str) -> bool:
        """Whether the message describes an item of the shopper's own and another option wanted for it
        (`rules.owned_item_change`), not how it is paid or sent; once they are identified, only a product their orders hold."""
        lowered = _in_english(message.lower())
        paying = rules.pays_with(message) or any(re.search(p, lowered) for _, p in rules.PAYMENT_KINDS)
        if rules.parse_address(message) or (paying and not rules.keeps_options(lowered)):
            return False  # "charge that order to my card instead": its payment; "…same size, any difference to my card": a change
        values = {str(v).lower() for vals in _option_values(self.a.store).values() for v in vals}
        names = frozenset(w for name in _option_values(self.a.store) for w in str(name).lower().split())
        if not rules.owned_item_change(lowered, _product_words(self.a.store), values, names, tuple(_option_values(self.a.store))):
            return False
        return not self.ctx.user_id or any(rules.names_item(i, lowered) for o in self._user_orders() for i in o["items"])

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

    def _done(self, route: str, order_id: str | None) -> bool:
        """Whether this action on this order was done (not only declined) in this conversation."""
        return _settled_key(route, order_id) in self.state.done

    def _note_payment(self, message: str, answer: bool = False) -> None:
        """The payment methods a message wants used ("refund it to my gift card", or the answer to the
        method question), kept as the customer's real ids (latest first), so a later task that needs a
        method does not ask for it again; a method only mentioned or asked about is not kept."""
        methods = self.ctx.orders.user(self.ctx.user_id).payment_methods
        named = rules.payments_named(methods, message) if answer else rules.payments_meant(methods, message)
        if named:
            self.state.payment = list(dict.fromkeys([*named, *self.state.payment]))

    def _target(self, route: str, message: str, slots: Slots) -> tuple[str, Slots]:
        """The first order the message names with an action still to do: a restated request
        ("…order #A…, and #B…") moves on from what was already done or declined."""
        named = rules.read_action(message)
        for order_id in slots.order_ids:
            order = self._order(order_id)
            fitted = self._fit_route(route, named, order_id, order)
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
        return self._fit_route(route, named, slots.order_ids[0]), slots

    def _fit_route(self, route: str, action: Action, order_id: str, order: dict | None = None) -> str:
        """A request asking for several actions ("cancel my pending order and return the watch") that
        names an order gets the action that order's status allows, if the request asks for it (`action`:
        the actions its words name, read once)."""
        order = order or self._order(order_id)
        fits = routes_for(order["status"]) if order else set()
        if not fits:
            return route
        asked = rules.action_routes(action, order["status"])
        if route in fits and not self._settled(route, order_id):
            return route
        open_ = [r for r in [route, *asked] if r in fits and not self._settled(r, order_id)]
        return next(iter(open_), route if route in fits else next((r for r in asked if r in fits), route))

    @staticmethod
    def _gives_slot(message: str, payment: bool = True) -> bool:
        """Whether the message gives what an order task asks for: a payment method (unless `payment` is
        False), a reason, an address."""
        lowered = message.lower()
        return bool((payment and rules.payment_kinds(lowered)) or rules.cancel_reason(lowered) or rules.parse_address(message))

    def _gives_address_asked(self, message: str, frame: TaskFrame) -> bool:
        """Whether an address change still asking for its new address gets it in a clause asking for that change
        (of no other order): the answer, however much else the message says again."""
        if frame.route != "update_address" or frame.address is not None or self.state.pending is not None:
            return False
        asked = rules.address_clauses(message)
        return rules.parse_address(asked) is not None and read_slots(asked).order_ids in ([], [frame.order_id])

    def _answers_frame(self, message: str, slots: Slots) -> bool:
        """Whether the message looks like an answer to the open task's question."""
        if slots.order_ids or slots.item_ids or slots.identity.email or slots.identity.zip:
            return True
        if self._gives_slot(message):
            return True  # a long answer that still gives what a task asks for (a payment method, a reason, an address)
        return len(message.split()) <= 25 or bool(re.search(r"[\u4e00-\u9fff]", message))

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

    def _on_own_address(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """"What's my default address?": the account's, from its record (signed in first)."""
        if self.ctx.user_id is None:
            self.state.frame = TaskFrame(route="own_address", text=message)
            yield from self._need_user()
            return
        result, event = self.tool("get_user_details", {})
        yield event
        self.state.frame = None
        address = (result.data or {}).get("address") if result.ok else None
        if not address:
            yield self.say("failed", message=result.message)
            return
        yield self.say("own_address", address=address_text(address))

    def _on_faq(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        action = rules.amount_back_asked(message) if self.ctx.user_id is not None else None
        if action:
            yield from self._amount_back(action, message, slots)  # their figure first, the policy's words after
        result, event = self.tool("answer_faq", {"question": message})
        yield event
        passages = result.data.get("passages", []) if result.ok else []
        if action:  # a section about another action only ("money back after a cancellation" for a return) is no answer
            passages = [p for p in passages if action in rules.action_verbs(p["section"]) or not rules.action_verbs(p["section"])]
            if not passages:
                return
        if not passages:  # what the policy does answer, from its section titles (result.data["topics"])
            topics = result.data.get("topics", []) if result.ok else []
            yield self.say("faq_none", topics="".join(f"\n- {t}" for t in topics))
            return
        # Two passages: the policy often answers in one section and the FAQ restates it in another.
        # Quoted as the shopper reads them: the section's title, not the file it lives in.
        for passage in passages[:2]:
            yield self.say("faq_intro", section=passage["section"])
            yield self.text("\n".join(f"> {line}" for line in passage["text"].strip().splitlines() if line.strip()) + "\n")

    def _amount_back(self, action: str, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """"How much would I get back if I return the <item>?": the amount from the shopper's own order (the items named,
        or all of an order named by id) and where the policy sends it; only for an order whose status allows the action."""
        mine = {o["order_id"]: o for o in self._user_orders()}
        named = [i for i in dict.fromkeys(slots.order_ids) if i in mine]
        flow = FLOWS[action]
        gift_cards = {m.payment_method_id for m in self.ctx.orders.user(self.ctx.user_id).payment_methods if m.source == "gift_card"}
        for order_id in named or self._orders_asked_about(message):
            order = mine[order_id]
            if not flow.allows(order["status"]):
                continue
            ids = rules.match_items(order, message, read_slots(message), fallback=False) if action == "return" else []
            items = [i for i in order["items"] if i["item_id"] in ids] or (order["items"] if action == "cancel" or named else [])
            if not items:
                continue
            paid, _ = self._paid_with(order)
            # the policy: a return's money goes to the original method or a gift card they have; a cancellation's to the original
            key = f"amount_back_{action}" + ("_gift" if action == "return" and gift_cards - set(paid) else "")
            yield self.say(key, order_id=order_id, amount=sum(i["price"] for i in items), items=self.join(i["name"] for i in items),
                           method=self.join(self._method_name(m) for m in paid) or self.r("pm_none"))

    @staticmethod
    def _paid_with(order: dict) -> tuple[list[str], float]:
        """The methods that paid an order (each once, in order) and what they paid in all, from its payment history."""
        payments = [p for p in order.get("payment_history", []) if p.get("transaction_type") == "payment"]
        return list(dict.fromkeys(p["payment_method_id"] for p in payments)), sum(p["amount"] for p in payments)

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

    def _holds_named(self, message: str) -> bool:
        """Whether the signed-in shopper has an order holding an item the message names."""
        lowered = message.lower()
        return self.ctx.user_id is not None and any(rules.names_item(i, lowered) for o in self._user_orders() for i in o["items"])

    def _names_other_orders_item(self, message: str, order: dict) -> bool:
        """Whether the message names an item only the shopper's other orders hold ("cancel the <item> order then"
        after a part of this one was refused): it points at another order, not this one."""
        lowered, held = message.lower(), {i["name"].lower() for i in order["items"]}
        return any(rules.names_item(i, lowered) for o in self._user_orders() if o["order_id"] != order["order_id"]
                   for i in o["items"] if i["name"].lower() not in held)

    def _user_orders(self) -> list[dict]:
        """The shopper's orders, read at most once per turn."""
        if self._orders_read is None:
            result, _ = self.tool("get_user_details", {})
            orders = []
            for order_id in result.data.get("orders", []) if result.ok else []:
                r, _ = self.tool("get_order_details", {"order_id": order_id})
                if r.ok:
                    orders.append(r.data)
            self._orders_read = orders
        return self._orders_read

    def _order_label(self, order: dict) -> str:
        """One line of an order list: id, status, items, tracking (the store keeps no order date)."""
        names = self.join(dict.fromkeys(i["name"] for i in order["items"]))
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
            if carry and route == "update_address" and old is self.interrupted and old not in self.state.queue:
                # an address for another order said while this task waits for an answer: this one goes on after it
                carry = False
                self.state.queue.insert(0, old)
                self.held = old
            # What the shopper said of their own orders before the task could start (before they were
            # identified, or in a message read as something else) is part of it.
            said = "\n".join(self.state.aside) if old is None else ""
            self.state.aside = []
            if old is not None and not carry and any(x.endswith(rules.LISTED) for x in old.closest_offered) \
                    and len(old.new_item_ids) < len(old.item_ids):
                self.state.queue.insert(0, old)  # its choices were listed, none picked yet: it goes on after this task
                self.held = old
            self.state.frame = TaskFrame(route=route, text=old.text if carry else said,
                                         order_id=old.order_id if carry else None,
                                         condition=old.condition if carry else rules.read_condition(said),
                                         action=old.action if carry else rules.read_action(said, self._names_product(said)))  # fmt: skip
        return self.state.frame

    def _on_order_status(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        if self.ctx.user_id is None:
            self.state.frame = TaskFrame(route="order_status", order_id=(slots.order_ids or [None])[0], text=message)
            yield from self._need_user()
            return
        frame = self._frame("order_status")
        # every order the question named, also before the shopper was identified ("my two orders, #A and #B")
        order_ids = slots.order_ids or read_slots(frame.text).order_ids or ([frame.order_id] if frame.order_id else [])
        if not order_ids and frame.text:
            order_ids = self._orders_asked_about(frame.text)
        if not order_ids:
            orders = self._user_orders()
            if not orders:
                yield self.say("no_orders")
            else:
                yield self.say("orders_overview", lines=self._order_list(orders))
            self.state.frame = None
            return
        where = rules.asks_where_order_goes(frame.text or message)  # "which address is it going to?": where it ships, too
        for order_id in order_ids:
            result, event = self.tool("get_order_details", {"order_id": order_id})
            yield event
            if not result.ok:
                yield self.say("failed", message=result.message)
                continue
            order = result.data
            tracking = [t for f in order.get("fulfillments", []) for t in f["tracking_ids"]]
            items = self.join(self._item_label(i) for i in order["items"])
            ships_to = self.r("ships_to").format(address=address_text(order["address"])) if where and order.get("address") else ""
            yield self.say(
                "order_status", order_id=order["order_id"], status=self.r("statuses").get(order["status"], order["status"]), items=items,
                tracking=(_replies()[self.state.lang]["tracking"].format(ids=", ".join(tracking)) if tracking else "") + ships_to,
            )  # fmt: skip
        self.state.frame = None

    def _orders_asked_about(self, text: str) -> list[str]:
        """The orders a question names without ids: those holding the items it names ("where are my <item>s?"; "my black
        <item>": the one whose <item> is black), else the latest or first ("my most recent order", 我最早的订单, by
        position as the reader reads it); none when it says neither."""
        orders = self._user_orders()
        held = [o for o in orders if rules.match_items(o, text, read_slots(text), fallback=False, everything=False)]
        if held:
            return [o["order_id"] for o in rules.orders_meant(text, held, held)]
        lowered = text.lower()
        if orders and rules.says(lowered, "latest"):
            return [orders[-1]["order_id"]]
        return [orders[0]["order_id"]] if orders and rules.says(lowered, "earliest") else []

    def _on_payment(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        frame = self.state.frame
        if frame is not None and frame.flow == "modify_payment":  # the answer to its question
            yield from self.form.run(FLOWS["modify_payment"], message, slots)
            return
        if self.ctx.user_id is None:
            yield from self._need_user()
            return
        methods = self.ctx.orders.user(self.ctx.user_id).payment_methods
        said = frame.text if frame is not None and frame.route == "payment" and frame.text else message  # asked before sign-in
        order_ids = slots.order_ids or read_slots(said).order_ids
        if not order_ids and rules.asks_how_paid(said):  # "which card was the <item> order paid with?": that order
            order_ids = self._orders_asked_about(said)[:1]
        if rules.asks_order_payment_change(said, methods, bool(order_ids)) or rules.payment_switch_sentences(said):
            # "change the payment of #W… to <method>": a change of the order's method
            yield from self.form.run(FLOWS["modify_payment"], message, slots)
            return
        if order_ids and self.ctx.user_id:  # "which card paid for #W…?": answered from the order's payments
            result, event = self.tool("get_order_details", {"order_id": order_ids[0]})
            yield event
            self.state.frame = None
            if not result.ok:
                yield self.say("failed", message=result.message)
                return
            paid, total = self._paid_with(result.data)
            yield self.say("order_paid_with", order_id=result.data["order_id"], total=total,
                           methods=self.join(self._method_name(m) for m in paid) or self.r("pm_none"))
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
        if (yield from self._payment_first(message, slots)):
            return
        yield from self.form.run(FLOWS["exchange"], message, slots)

    def _pays_queued(self, arguments: dict) -> None:
        """After an order's payment moved to another method: the item changes queued for that order that name no
        method pay (or get back) their difference the new way, not by a method said of the order's old payment."""
        methods = self.ctx.orders.user(self.ctx.user_id).payment_methods
        for task in self.state.queue:
            if task.order_id == arguments.get("order_id") and task.route in SWAP_ROUTES and task.payment_method_id is None \
                    and not rules.payments_named(methods, task.text):
                task.payment_method_id = arguments.get("payment_method_id")

    def _payment_first(self, message: str, slots: Slots):
        """An item change asked together with a new payment method for the order, each in sentences of their own ("…it
        was charged to my gift card; I want that order paid with PayPal instead. Also the <item> in it should …"): the
        payment changes first (a difference the item change makes is then paid the new way), the item change is queued
        after it with the request's other words. Returns whether it started."""
        frame = self.state.frame
        if frame is None or self.ctx.user_id is None or frame.item_ids or frame.flow not in ("", "exchange", "modify_items"):
            return False
        text = frame.text or message
        said = rules.payment_switch_sentences(text)
        if not said or self._settled("payment", frame.order_id):
            return False
        methods = self.ctx.orders.user(self.ctx.user_id).payment_methods
        kinds = rules.payment_kinds(" ".join(said))
        if kinds and not any(m.source in kinds for m in methods):
            # a method they do not have: said so, with what they have, and the item change goes on alone
            order_id = frame.order_id or (slots.order_ids or [""])[0]
            yield self.say("payment_switch_not_yours", kind=self.r("pm_kinds")[sorted(kinds)[0]], order_id=order_id,
                           methods=self._methods_text([m.model_dump() for m in methods]) or "-")
            frame.text = rules.without_payment_talk(text) or text
            return False
        rest = TaskFrame(route="exchange", text=rules.without_payment_talk(text), order_id=frame.order_id)
        if rest.text:
            self.state.queue.insert(0, rest)
        yield from self.form.run(FLOWS["modify_payment"], message, slots)
        paid = self.state.pending.arguments.get("order_id") if self.state.pending is not None else None
        rest.order_id = rest.order_id or paid
        return True

    def _on_modify_order(self, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """"Change my order": its address, its payment method or its items, by what the message names."""
        frame = self.state.frame
        if frame is not None and frame.flow in FLOWS and frame.route == "modify_order" and (frame.item_ids or frame.flow != "modify_items"):
            yield from self.form.run(FLOWS[frame.flow], message, slots)  # a change under way keeps its flow
            return
        if (yield from self._payment_first(message, slots)):
            return
        order_id = (slots.order_ids or [frame.order_id if frame else None])[0]
        action = rules.read_action(message, self._names_product(message))  # this message's change: a change of the order
        again = rules.points_to_former_address(message)  # "change it back": a second change of a settled address
        if any(f.endswith("address") for f in action.flows + action.tied) and (again or not self._settled("update_address", order_id)):
            yield from self._on_update_address(message, slots, order_address=True)
            return
        if "modify_payment" in action.flows:
            yield from self.form.run(FLOWS["modify_payment"], message, slots)
            return
        yield from self.form.run(FLOWS["modify_items"], message, slots)

    def _on_update_address(self, message: str, slots: Slots, order_address: bool = False) -> Iterator[AssistantEvent]:
        """An order's address or the account's default one: which, is read here; the flow does the rest."""
        if self.state.frame is not None and self._gives_address_asked(message, self.state.frame):
            slots = read_slots(rules.address_clauses(message))  # orders the rest of a request said again names are not this task's
        frame = self._frame("update_address")
        if self.ctx.user_id is None:
            yield from self._need_user()
            return
        if slots.order_ids:
            frame.order_id = slots.order_ids[0]
            order_address = True
        text = (frame.text or message).lower()
        action = frame.action or rules.read_action(text)  # which address: read when said
        if "modify_address" in action.flows or frame.flow == "modify_address":
            order_address = True  # "change my <item> order to my <city> address"
        if order_address and not slots.order_ids and "default_address" in action.flows:
            # the orders' address and the default one asked together: once every order is done, the default
            if not self.form._open_orders():
                order_address, frame.order_id = False, None
        if frame.address is None and rules.parse_address(message) is None and action.to_default:
            # "…to my default address": the account's address, for the order that went where the text says
            frame.address = self.ctx.orders.user(self.ctx.user_id).address.model_dump()
            if not frame.order_id:
                went = rules.where_it_went(text, self.form._orders())
                there = [o for o in self.form._open_orders() if o.get("address") == went]
                frame.order_id = there[0]["order_id"] if len(there) == 1 else None
            order_address = True
        if order_address and frame.flow != "default_address" and "default_address" in action.flows \
                and not any(t.route == "update_address" and t.order_id is None for t in self.state.queue):
            # the default address too, once the orders' addresses are done
            self.state.queue.append(TaskFrame(route="update_address", flow="default_address", text=frame.text or message))
        default = frame.flow == "default_address" and not slots.order_ids  # the queued default-address task
        if not (order_address or frame.order_id or default or frame.flow) and action.tied \
                and (own := rules.without_other_actions(text, "update_address")) \
                and any(rules.names_item(i, own) for o in self.form._open_orders() for i in o["items"]):
            order_address = True  # "the one holding the <item> should go to …": an order that can still change, said by what it holds
        if not (order_address or frame.order_id or default or frame.flow) and action.tied:
            # "change my address": the order's or the default one, the words do not say; the reader may tell
            order_address = self._which_flow(action.tied, frame.text or message) == "modify_address"
        flow = FLOWS["modify_address"] if (order_address or frame.order_id) and not default else FLOWS["default_address"]
        yield from self.form.run(flow, message, slots)

    def _which_flow(self, tied: list[str], text: str) -> str:
        """Of flows the rules could not tell apart, the one the reader picks; else the first (the rules' prior)."""
        options = [Option(id=f, label=self.r("flow_names").get(f, f), kind="action") for f in tied]
        picked = self.a.reader.pick("which action", text, options)
        return picked[0] if picked else tied[0]

    def _names_product(self, text: str) -> bool:
        return bool(_product_words(self.a.store).search(text.lower()))

    def _item_label(self, item: dict) -> str:
        return f"{item['name']} ({', '.join(item['options'].values())})"

    def _address_before(self, pending: PendingAction) -> tuple[str, dict] | None:
        """The address an address change is about to replace: ('default' or the order id, the address)."""
        if pending.tool == "update_default_address":
            result = self.runner.run("get_user_details", {})
            key = "default"
        elif pending.tool == "modify_pending_order_address":
            key = pending.arguments.get("order_id")
            result = self.runner.run("get_order_details", {"order_id": key})
        else:
            return None
        address = (result.data or {}).get("address") if result.ok else None
        return (key, dict(address)) if address else None

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

    def _propose(self, tool: str, arguments: dict, description: str):
        """Proposes the action (the events), returning whether it was proposed or refused."""
        try:
            pending = self.runner.propose(tool, arguments, description)
        except StoreUnavailable:
            raise
        except Exception as exc:  # ToolError or PolicyError: the action is impossible as asked
            self.state.frame = None
            yield self.say("failed", message=str(exc))
            return False
        self.state.pending = pending
        yield AssistantEvent(kind="pending", tool=tool, arguments=pending.arguments, text="")
        yield self.say("confirm_prompt", description=description)
        yield from self.offer("confirm", list(self.r("confirm_choices").items()))
        return True

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


def _settled_key(route: str, order_id: str | None) -> str:
    return f"{route}|{order_id or ''}"
