"""The one form loop that drives every declared flow (assistant/flows/__init__.py).

For a flow, in its declared slot order: keep what the frame already holds, read the next slot from
what the shopper said (assistant/understand/rules.py), ask for it with a `choices` event when it
cannot be read (after the reader, `Assistant.reader`, had its say among several candidates), and
once every slot is filled propose the flow's tool through `ToolRunner` (rehearsed, run only after an
explicit yes). A slot that shows the action is impossible as asked (status, variant, price, payment
method, the policy at proposal) hands over to the alternative the shopper stated ("…if not, cancel it"),
kept typed on the task (`TaskFrame.condition`, read when said), or says why not.

The loop talks through its host, the turn (`say`, `offer`, `tool`, `_propose`, …): it decides what is
asked and proposed; the turn owns the conversation's state and the reply templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from assistant.catalog_turn import _option_values
from assistant.flows import FLOWS, Flow
from assistant.slots import Slots, read_slots
from assistant.state import AssistantEvent, TaskFrame
from assistant.understand import Option
from assistant.understand import rules
from assistant.understand.options import order_items, order_option, variant_option
from assistant.understand.topic import about, read_topic, topic_answer
from assistant.understand.wish import pick_variant
from retrieval.store.schema import OrderRecord

if TYPE_CHECKING:  # the host is agent._Turn
    from assistant.agent import _Turn

STOP = object()  # a filler asked, refused or handed over: this turn's part of the flow is over
SWAPS = ("exchange", "modify_items")  # one request family: the order's status decides which
UNDOS = ("cancel", "return")  # undoing a purchase: a cancel before delivery, a return after


def flow_of(frame: TaskFrame) -> Flow:
    """The flow a frame is filling (its name is kept; older frames only have their route)."""
    if frame.flow in FLOWS:
        return FLOWS[frame.flow]
    return next(f for f in FLOWS.values() if f.route == frame.route and f.on_order)


class FormLoop:
    def __init__(self, turn: _Turn) -> None:
        self.t = turn
        self.unmet_correction: str | None = None  # the item a correction named no available variant of

    # -- the loop ---------------------------------------------------------------------------

    def run(self, flow: Flow, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        t = self.t
        frame = t._frame(flow.route)
        frame.flow = flow.name
        if t.ctx.user_id is None:
            if flow.on_order:
                frame.order_id = frame.order_id or (slots.order_ids or [None])[0]
            yield from t._need_user()
            return
        self.order: dict | None = None
        slots_in_turn = flow.slots
        if flow.on_order and frame.order_id and flow.slots[0] != "order_id":
            # The order is known already: its current status is checked before anything else is asked
            # (an address asked for an order that can no longer change is a wasted question).
            slots_in_turn = ("order_id", *(s for s in flow.slots if s != "order_id"))
        for slot in slots_in_turn:
            outcome = yield from getattr(self, f"_fill_{slot}")(flow, frame, message, slots)
            if outcome is STOP:
                return
            if isinstance(outcome, Flow):  # the order's status picked a sibling flow (exchange ↔ modify items)
                flow = outcome
                frame.flow, frame.route = flow.name, flow.route
        yield from self._propose(flow, frame)

    def resume(self) -> Iterator[AssistantEvent]:
        """After a question answered in the middle of a flow: the flow's next question again."""
        frame = self.t.state.frame
        if frame is None or self.t.state.pending is not None or not frame.flow:
            return
        yield self.t.say("resume", task=self.t.r("flow_names").get(frame.flow, frame.flow))
        # asked again as it was: the closest options offered for the item still open are offered again, not taken as chosen
        frame.closest_offered = [i for i in frame.closest_offered if i in frame.item_ids[: len(frame.new_item_ids)]]
        yield from self.run(flow_of(frame), "", Slots())

    # -- slot fillers: each yields its question (if any) and returns STOP, a flow, or None ---

    def _fill_order_id(self, flow: Flow, frame: TaskFrame, message: str, slots: Slots):
        t = self.t
        family = [FLOWS[n] for n in SWAPS] if flow.name in SWAPS else [flow]
        allowed = {s for f in family for s in f.statuses}
        if flow.name == "modify_address" and not frame.order_id and frame.address:
            # the one pending order not already going to the new address, unless the request names the items of
            # another order going elsewhere (one that cannot change any more: said so, not another order changed)
            elsewhere = [o for o in self._open_orders() if o.get("address") != frame.address]
            said = rules.without_other_actions(frame.text or message, frame.route)
            named = rules.orders_meant(said, self._orders(), [])
            changeable = [o for o in self._orders() if flow.allows(o["status"])]
            described = rules.orders_meant(said, self._orders(), changeable)
            again = [o for o in described if len(described) < len(changeable) and t._done(frame.route, o["order_id"])]
            if again:  # the order it names was moved there earlier in this conversation: a repeat (said so), not another order
                frame.order_id = again[0]["order_id"]
            elif len(elsewhere) == 1 and all(o["order_id"] == elsewhere[0]["order_id"] or o.get("address") == frame.address for o in named):
                frame.order_id = elsewhere[0]["order_id"]
        asked = list(self.resolve_order(frame, slots, allowed))
        if asked:
            yield from asked
            return STOP
        if frame.order_id is None:  # no orders at all: said so
            return STOP
        order = t._order(frame.order_id)
        if order is None:  # not on this account: say so (an empty reply left the shopper guessing)
            yield t.say("failed", message=t.r("not_on_account").format(order_id=frame.order_id))
            t.state.frame = None
            return STOP
        self.order = order
        chosen = next((f for f in family if f.allows(order["status"])), None)
        # Undoing a purchase is one wish: "cancel these things" of items this conversation just returned is that return.
        done = next((f for f in [*family, *(FLOWS[n] for n in UNDOS if flow.name in UNDOS)] if t._done(f.route, order["order_id"])), None)
        if chosen is None and done is not None:
            # Done earlier in this conversation (the status says so now): said, not proposed or refused again.
            yield from self.refuse(t.r("already_done").format(
                order_id=order["order_id"], verb=t.r("verbs")[done.name],
                status=t.r("statuses").get(order["status"], order["status"])), failed=False)  # fmt: skip
            return STOP
        # "…if that is not possible, cancel the whole order": the whole order is what the shopper stated instead
        whole_then = frame.condition is not None and "cancel" in frame.condition.then and frame.condition.whole
        if chosen is not None and flow.name == "cancel" and not whole_then \
                and (others := rules.cancels_part(frame.text or message, order, t.state.last_items, [
                    i for o in self._orders() if o["order_id"] != order["order_id"] for i in o["items"]])):
            # single items cannot be cancelled: say so (and what else the order holds) and ask whether to cancel all
            # of it, rather than cancel it all; an alternative the shopper stated ("if that's impossible, ship it to
            # …") is taken instead
            if other := rules.fallback_route(frame.condition, flow.route, order["status"]):
                yield from self.switch(other, order["order_id"], message, slots)
                return STOP
            frame.order_id = order["order_id"]
            t.state.frame, t.state.refused = None, frame  # the answer ("then cancel it", "leave it") is about this order
            t.queue_other_actions(frame, order["order_id"])  # "…, and the <item> should be <value>": that comes after the answer
            yield t.say("failed", message=t.r("cancel_part").format(order_id=order["order_id"], others=t.join(others)))
            return STOP
        if chosen is not None:
            return chosen if chosen is not flow else None
        # The table refuses this action for this status: the alternative the shopper stated, or why not.
        other = rules.fallback_route(frame.condition, flow.route, order["status"]) or t._fit_route(
            flow.route, frame.action or rules.read_action(frame.text or message), order["order_id"])
        if other != flow.route and other in {f.route for f in FLOWS.values()}:
            yield from self.switch(other, order["order_id"], message, slots)
            return STOP
        t.state.refused = frame  # a condition said next ('if not, …') applies to it
        t.queue_other_actions(frame, order["order_id"])  # "…; if not, skip it. Also cancel the <item> order": that comes next
        statuses = t.r("statuses")
        yield from self.refuse(t.r("wrong_status").format(
            order_id=order["order_id"], status=statuses.get(order["status"], order["status"]), verb=t.r("verbs")[flow.name],
            allowed=t.r("or").join(statuses.get(x, x) for x in sorted(allowed))))  # fmt: skip
        return STOP

    def refuse(self, why: str, failed: bool = True) -> Iterator[AssistantEvent]:
        """The task cannot be done as asked (the order's status says why): said, the task dropped, and
        the next queued task started, so the shopper is not left to ask for it again."""
        t = self.t
        t.state.frame = None
        yield t.say("failed", message=why) if failed else t.text(why[:1].upper() + why[1:] + "\n")
        yield from t._next_task()

    def _fill_reason(self, flow: Flow, frame: TaskFrame, message: str, slots: Slots):
        t = self.t
        lowered = frame.text.lower() or message.lower()
        # The reason said in the sentences about this order's items first, then anywhere in the message.
        for text in (rules.about_order(lowered, self.order) if self.order else "", lowered):
            frame.reason = frame.reason or rules.cancel_reason(text)
        if frame.reason is None:
            yield t.say("ask_cancel_reason", order_id=frame.order_id)
            yield from t.offer("reason", list(t.r("reasons").items()))
            return STOP
        return None

    def _fill_item_ids(self, flow: Flow, frame: TaskFrame, message: str, slots: Slots):
        t, order = self.t, self.order
        held = {i["item_id"] for i in order["items"]}
        if any(i not in held for i in frame.item_ids):  # items read for another order (the task moved): read again
            frame.item_ids, frame.new_item_ids = [], []
        elif frame.item_ids and message and self._items_amended(order, frame, message):
            frame.amends.append(message)  # "…, and only the <item> change", "I meant the <item>, not the <other>": read again
        text = frame.text or message
        own_part = rules.order_part(text, order["order_id"])
        if own_part and rules.match_items(order, own_part, read_slots(own_part), fallback=False):
            text = own_part  # "Return #A: <items>; return #B: <items>": #A's items are those said after #A
        if not frame.item_ids:
            own = rules.action_text(text, flow.route)
            # "return my current one": the clause names no item, the rest of the message does
            # …and an order's only item is meant only if the shopper names no product at all
            alone = not t._names_product(text) or rules.says_the_item(text)  # "swap its item for a blue one": the one it has
            frame.item_ids = rules.match_items(order, own, read_slots(own), fallback=False, looks=True) or rules.match_items(
                order, text, read_slots(text), fallback=alone, everything=own == text, looks=True  # "cancel the whole order" is not this action's
            )
        if not frame.item_ids and flow.name in SWAPS and len(order["items"]) > 1 and rules.says_the_item(text):
            # "change the item to blue" where only one of the order's items has a colour at all: that one; when
            # several have the kind of option asked, the shopper says which (one coming in the value is no answer)
            lowered = text.lower()
            keys = {k for k, values in _option_values(t.a.store).items()
                    if any(re.search(rf"(?<!\w){re.escape(v.lower())}(?!\w)", lowered) for v in values)}
            takers = [i for i in order["items"] if keys & set(i["options"])]
            if len(takers) == 1 and pick_variant(t.a.store.product(takers[0]["product_id"]), takers[0], text)[0] \
                    not in (None, rules.KEEP, rules.SAME, rules.UNMET):
                frame.item_ids = [takers[0]["item_id"]]
        if rules.AMBIGUOUS in frame.item_ids:  # "the vacuum cleaner" and the order has two: the reader, then the shopper
            frame.item_ids = []
            options = order_items(OrderRecord.model_validate(order))  # facts (name, option values) the reader scores
            picked = t.a.reader.pick(f"which items to {flow.route.replace('_', ' ')}", text, options, many=True)
            if picked:
                frame.item_ids = picked
                self._apply_amends(frame, order)
                return None
            yield t.say("ask_which_item", order_id=order["order_id"], items=rules.items_text(order))
            yield from self.offer_items(order)
            return STOP
        if not frame.item_ids:
            if self._asked_too_often(frame, f"items {order['order_id']}", message):
                yield from self._give_up(t.r("unclear_items").format(order_id=order["order_id"]))
                return STOP
            yield t.say("ask_items", order_id=order["order_id"], items=rules.items_text(order))
            yield from self.offer_items(order)
            return STOP
        self._apply_amends(frame, order)
        return None

    @staticmethod
    def _items_amended(order: dict, frame: TaskFrame, message: str) -> bool:
        """Whether a later message changes which items the task takes, read earlier: it keeps only some of several
        ("only the <item> change", "the <item> alone"), or names another item and leaves out one taken ("I meant the
        <item>, not the <other>"). A message naming none of the order's items, or only those taken, changes nothing."""
        named = [i for i in rules.match_items(order, message, read_slots(message), fallback=False, everything=False) if i != rules.AMBIGUOUS]
        if not named or set(named) == set(frame.item_ids):
            return False
        if rules.takes_only(message):
            return len(frame.item_ids) > 1 and any(i in frame.item_ids for i in named)
        taken = [i for i in order["items"] if i["item_id"] in frame.item_ids]
        return bool(rules.left_out(message, taken)) and any(i not in frame.item_ids for i in named)

    def _apply_amends(self, frame: TaskFrame, order: dict) -> None:
        """Changes said while the task waited ("only the <item>", "<method> instead"), applied to the items
        its first words asked for, as a correction at its confirmation would be."""
        methods = self.t.ctx.orders.user(self.t.ctx.user_id).payment_methods
        for said in frame.amends:
            correction = rules.read_correction(said, order, frame, methods)
            frame.item_ids, frame.new_item_ids = correction.item_ids, correction.new_item_ids
            frame.payment_method_id = correction.payment_method_id
        frame.amends = []

    def _fill_new_item_ids(self, flow: Flow, frame: TaskFrame, message: str, slots: Slots):
        t, order = self.t, self.order
        text = frame.text or message
        open_items = frame.item_ids[len(frame.new_item_ids):]
        if message != text and (kept := rules.kept_items([i for i in order["items"] if i["item_id"] in open_items], message)):
            # asked what an item should become, the shopper says it stays ("no, not the <item>: I keep it"): it is left out
            frame.item_ids = [i for i in frame.item_ids if i not in kept]
            if not frame.item_ids:
                t.state.frame = None
                yield t.say("not_confirmed")
                yield from t._next_task()
                return STOP
        if own_part := rules.order_part(text, order["order_id"]):
            text = own_part  # the new options said for this order's items, not another order's
        for item_id in frame.item_ids[len(frame.new_item_ids):]:
            item = next(i for i in order["items"] if i["item_id"] == item_id)
            product = t.a.store.product(item["product_id"])
            wish = rules.about_item(text, item, order)
            if rules.like_owned(wish) and (owned := self._owned_alike(item)) is not None:
                wish = rules.wish_like(wish, owned)  # "make it match the one I already have": that item's options
            # "which other colours does it come in?" or "a different colour": the other values listed, theirs to pick
            if asked := rules.option_values_asked(wish, list(item["options"])) or rules.options_to_differ(wish, item, product):
                # "which other colours does it come in, and what does each cost?": those choices shown first, the
                # shopper picks among them ("the cheapest of those", "the black one") next; nothing chosen for them
                if listed := rules.other_values_of(product, item, asked):
                    labels = [(v.item_id, f"{', '.join(v.options.values())} ${v.price:.2f}") for v in listed[:8]]
                    if f"{item_id}{rules.LISTED}" not in frame.closest_offered:  # listed once; chosen among next
                        frame.closest_offered += [item_id, f"{item_id}{rules.LISTED}"]
                        yield t.say("option_values", name=item["name"], current=", ".join(item["options"].values()),
                                    options=t.join(rules.option_word(k, t.state.lang == "zh") for k in asked), choices="; ".join(c for _, c in labels))  # fmt: skip
                        yield from t.offer("option", labels)
                        return STOP
                    shown = {i for i, _ in labels}  # the pick is among those listed, and only those
                    product = product.model_copy(update={"variants": [v for v in product.variants if v.item_id in shown]})
            exact = item_id not in frame.closest_offered
            chosen, choices = t.a.reader.variant(product, item, wish, exact=exact)  # AISLE_READER: whose reading
            if chosen == rules.KEEP and asked and listed:  # "the cheapest of those": of the choices listed, even if theirs costs less
                chosen = min((v for v in product.variants if v.available), key=lambda v: v.price).item_id
            if exact and chosen is None and t.a.reader.variant(product, item, wish)[0] not in (None, rules.KEEP, rules.SAME):
                # what was asked exists only with other changes too: the shopper chooses them (once), not the rules
                frame.closest_offered.append(item_id)
                yield t.say("no_exact_option", name=item["name"], current=", ".join(item["options"].values()),
                            choices="; ".join(c for _, c in choices[:8]))  # fmt: skip
                yield from t.offer("option", choices[:8])
                return STOP
            condition = frame.condition
            if chosen is None and len(frame.item_ids) > 1 and condition and condition.only:
                # "should no such <item> exist, only swap the <other item>": this item is dropped
                rest = rules.match_items(order, condition.only, read_slots(condition.only), fallback=False)
                if rest and item_id not in rest:
                    frame.item_ids = [i for i in frame.item_ids if i != item_id]
                    frame.new_item_ids = frame.new_item_ids[: len(frame.item_ids)]
                    return (yield from self._fill_new_item_ids(flow, frame, message, slots))
            if chosen == rules.UNMET:  # nothing available keeps what they keep: said, the options listed (no guess)
                if other := rules.fallback_route(condition, flow.route, order["status"]):
                    yield from self.switch(other, order["order_id"], message, slots)
                    return STOP
                if (condition is not None and condition.then == ["nothing"]) or rules.if_available(wish):
                    # "…if it does not exist, leave the <item> as it is", "…one size up, if that is available": said
                    # so; the order's other items go on, or with none left the next task starts
                    yield t.say("no_option_kept", name=item["name"], current=", ".join(item["options"].values()))
                    return (yield from self._leave_out(flow, frame, item_id, message, slots))
                if self._asked_too_often(frame, item_id, message):
                    return (yield from self._leave_unanswered(flow, frame, item, message, slots))
                yield t.say("no_new_option", name=item["name"], current=", ".join(item["options"].values()),
                            choices="; ".join(c for _, c in choices[:8]) or t.r("no_options"))  # fmt: skip
                yield from t.offer("option", choices[:8])
                return STOP
            if chosen == rules.SAME and (other := rules.fallback_route(condition, flow.route, order["status"])):
                # "an identical one, or else a refund": the policy refuses an identical replacement, so the
                # alternative the shopper stated is taken
                yield from self.switch(other, order["order_id"], message, slots)
                return STOP
            if chosen == rules.SAME:
                yield t.say("same_item_not_allowed", name=item["name"], choices="; ".join(c for _, c in choices[:8]) or t.r("no_options"))
                yield from t.offer("option", choices[:8])
                return STOP
            if chosen not in (None, rules.KEEP, rules.SAME) and condition:
                price = next(v.price for v in product.variants if v.item_id == chosen)
                other = rules.fallback_route(condition, flow.route, order["status"])
                if condition.price_below is not None and price >= condition.price_below and other:
                    # a change made on a price condition; above it, the other action the shopper stated
                    yield from self.switch(other, order["order_id"], message, slots)
                    return STOP
                extra = price - item["price"]
                if condition.extra_at_most is not None and extra > condition.extra_at_most + 0.005:
                    # "only if it costs at most $<n> more": above it, not made; its fallback, or the item stays
                    if other:
                        yield from self.switch(other, order["order_id"], message, slots)
                        return STOP
                    yield t.say("over_extra_limit", name=item["name"], extra=f"{extra:.2f}", limit=f"{condition.extra_at_most:.2f}")
                    return (yield from self._leave_out(flow, frame, item_id, message, slots))
            if chosen is None and len(choices) > 1 and not rules.says_fit(wish):  # several fit: the reader may tell them apart
                variants = {v.item_id: v for v in product.variants}
                options = [variant_option(product.name, variants[i], current=item["options"]) if i in variants
                           else Option(id=i, label=label) for i, label in choices[:8]]
                picked = t.a.reader.pick(f"new option for {item['name']}", rules.about_item(text, item, order), options)
                chosen = picked[0] if picked else None
            if chosen is None:
                other = rules.fallback_route(condition, flow.route, order["status"])
                if other:  # "…should it be sold out, cancel everything"
                    yield from self.switch(other, order["order_id"], message, slots)
                    return STOP
                # "I love the cotton" when every option offered is cotton: a wish they all meet, no unmet one
                offered = [v for v in product.variants if v.item_id in {i for i, _ in choices[:8]}]
                met = any(rules.mentioned(str(val).lower(), rules.option_text(message)) for v in offered for val in v.options.values())
                unmet = choices and not met and rules.mentions_option(product, message, _option_values(t.a.store))
                key = "no_new_option" if unmet else "ask_new_option"
                others = [i["name"] for i in order["items"] if i["item_id"] not in frame.item_ids]
                if self._asked_too_often(frame, item_id, message):
                    return (yield from self._leave_unanswered(flow, frame, item, message, slots))
                if not unmet and others and message and rules.hesitates(message) \
                        and not any(rules.names_item(i, message.lower()) for i in order["items"]):
                    key = "ask_new_option_unsure"  # "I'm not sure" to the question: what was understood, and how to say another item
                yield t.say(key, name=item["name"], current=", ".join(item["options"].values()), order_id=order["order_id"],
                            choices="; ".join(c for _, c in choices[:8]) or t.r("no_options"), others=t.join(dict.fromkeys(others)))  # fmt: skip
                yield from t.offer("option", choices[:8])
                return STOP
            frame.new_item_ids.append(chosen)
        if rules.KEEP in frame.new_item_ids:
            pairs = [(o, n) for o, n in zip(frame.item_ids, frame.new_item_ids) if n != rules.KEEP]
            frame.item_ids, frame.new_item_ids = [o for o, _ in pairs], [n for _, n in pairs]
            if not pairs:
                t.state.frame = None
                yield t.say("failed", message=t.r("nothing_to_change"))
                return STOP
        return None

    def _asked_too_often(self, frame: TaskFrame, question: str, message: str) -> bool:
        """A question (which order, which items, an item's new option) is about to be asked in this turn; asked in three
        turns already, the shopper cannot or will not answer it, so a fourth would only repeat it (a flow never loops)."""
        if not message:  # asked again after an aside (`resume`): the same question, not another answer
            return False
        turns = frame.asks.setdefault(question, [])
        if self.t.state.turns not in turns:  # a turn may pass the same question twice (a task re-read): counted once
            turns.append(self.t.state.turns)
        return len(turns) > 3

    def _leave_unanswered(self, flow: Flow, frame: TaskFrame, item: dict, message: str, slots: Slots):
        """Its new option asked too often: the item stays as it is, said so, and the order's other items go on."""
        yield self.t.say("option_left", name=item["name"], current=", ".join(item["options"].values()))
        return (yield from self._leave_out(flow, frame, item["item_id"], message, slots))

    def _give_up(self, why: str) -> Iterator[AssistantEvent]:
        """The task is left undone, said with why; the next one asked for starts."""
        self.t.state.frame = None
        yield self.t.say("task_left", why=why)
        yield from self.t._next_task()

    def _owned_alike(self, item: dict) -> dict[str, str] | None:
        """The options of the one other kind of this product the customer has in their orders (another
        item id of the same product); None when they have none or several."""
        kinds = {i["item_id"]: i["options"] for o in self._orders() for i in o["items"]
                 if i["product_id"] == item["product_id"] and i["item_id"] != item["item_id"]}  # fmt: skip
        return next(iter(kinds.values())) if len(kinds) == 1 else None

    def _leave_out(self, flow: Flow, frame: TaskFrame, item_id: str, message: str, slots: Slots):
        """The item stays as it is: the order's other items go on, or with none left the next task starts."""
        at = frame.item_ids.index(item_id)
        frame.item_ids = [i for i in frame.item_ids if i != item_id]
        frame.new_item_ids = frame.new_item_ids[:at]
        if frame.item_ids:
            return (yield from self._fill_new_item_ids(flow, frame, message, slots))
        self.t.state.frame = None
        yield from self.t._next_task()
        return STOP

    def _unless_gift_card_short(self, frame: TaskFrame, order: dict, methods: list) -> None:
        """"Paid by the gift card if it covers the difference, otherwise by <method>": the gift card chosen falls short of
        what the new items cost more, so the method said for that case pays (the policy checks it as any other)."""
        card = next((m for m in methods if m.payment_method_id == frame.payment_method_id and m.source == "gift_card"), None)
        if card is None or not frame.new_item_ids or (other := rules.method_if_short(methods, frame.text)) is None:
            return
        if _owed(frame, order, self.t._cards_for(frame.new_item_ids)) > (card.balance or 0.0) + 0.005:
            frame.payment_method_id = other

    def _fill_payment_method_id(self, flow: Flow, frame: TaskFrame, message: str, slots: Slots):
        t, order = self.t, self.order
        condition = frame.condition
        if frame.payment_method_id is None and condition and condition.if_kinds and condition.payment_kinds:
            # "if refund to <method> is not possible, … refund to <other>": the fallback, when no method of
            # the first kind may be used here (with every item, if it says so)
            usable = self._usable_methods(flow, order)
            if not any(m["source"] in condition.if_kinds for m in usable):
                frame.payment_method_id = next((m["payment_method_id"] for kind in condition.payment_kinds
                                                for m in usable if m["source"] == kind), None)  # fmt: skip
                if frame.payment_method_id and condition.whole and "item_ids" in flow.slots and "new_item_ids" not in flow.slots:
                    frame.item_ids = [i["item_id"] for i in order["items"]]  # a return of every item; an exchange keeps its pairs
        methods_on_file = t.ctx.orders.user(t.ctx.user_id).payment_methods
        if flow.name != "modify_payment":
            said = rules.order_part(message, order["order_id"]) or message
            meant = rules.payments_meant(methods_on_file, said) + rules.other_orders_methods(said, order, self._orders())
            if meant and rules.payment_for(meant, methods_on_file, order, flow.route) is None:
                # a method asked for now that the policy does not allow here: said, never swapped for another silently
                frame.payment_method_id, t.state.refused = None, frame
                usable = self._usable_methods(flow, order)
                original = order["payment_history"][0]["payment_method_id"] if order["payment_history"] else None
                missing = sorted(rules.payment_kinds(said) - {m["source"] for m in usable})
                if missing or original is None:  # a kind of method none of theirs here is: which ones can be used
                    kind = missing[0] if missing else next((m.source for m in methods_on_file if m.payment_method_id in meant), None)
                    purpose = t.r("purposes")[flow.name]
                    if kind is None:  # "the original one", and the order has no payment on record: which one, then
                        yield from t._ask_payment("ask_payment", usable, purpose=purpose)
                    else:
                        yield from t._ask_payment("payment_not_possible", usable, kind=t.r("pm_kinds")[kind], purpose=purpose)
                    return STOP
                names = t.join([t._method_name(m) for m in dict.fromkeys(meant) if m != rules.ORIGINAL])
                yield t.say("failed", message=t.r("payment_not_allowed").format(
                    method=names, order_id=order["order_id"], original=t._method_name(original)))  # fmt: skip
                yield from t.offer("payment", [(m["payment_method_id"], t._method_label(m)) for m in usable])
                return STOP
        if frame.payment_method_id is None:
            own_part = rules.order_part(frame.text or message, order["order_id"])
            # "Return #A via <method>; return #B via <other method>": this order's own method first;
            # and the latest message first (a task carried over from a payment change names that method earlier)
            for text in (own_part, frame.text or message):
                lines = [x for x in text.split("\n") if x.strip()]
                frame.payment_method_id = frame.payment_method_id or next(
                    (m for x in reversed(lines) if (m := t._payment_named(order, x, flow.route))), None)
        if frame.payment_method_id is None and flow.name != "modify_payment":
            # named earlier in the conversation, for another task ("refund to the original method" holds for each)
            frame.payment_method_id = rules.payment_for(t.state.payment, methods_on_file, order, flow.route)
        if frame.payment_method_id is None and not rules.payments_named(methods_on_file, frame.text or message):
            allowed = rules.payments_allowed(methods_on_file, order, flow.route)
            if len(allowed) == 1:  # the only method the policy allows here: nothing to choose (the confirmation names it)
                frame.payment_method_id = allowed[0]
        if frame.payment_method_id is not None:
            self._unless_gift_card_short(frame, order, methods_on_file)
            return None
        original = order["payment_history"][0]["payment_method_id"] if order["payment_history"] else None
        if flow.name == "modify_payment" and rules.pick_payment(t.ctx.orders.user(t.ctx.user_id).payment_methods, order,
                                                               frame.text or message, "return") == original:
            t.state.frame = None  # the method named is the one the order was paid with: nothing to change
            yield t.say("failed", message=t.r("same_payment").format(method=t._method_name(original)))
            return STOP
        methods = self._usable_methods(flow, order)
        purpose = t.r("purposes")[flow.name]
        # a kind said as the one that paid by mistake is not asked for
        missing = sorted(rules.payment_kinds(rules.wrongly_charged_cut(message.lower())) - {m["source"] for m in methods})
        if missing:  # they asked for a kind of method that cannot be used here: say so, not just ask again
            yield from t._ask_payment("payment_not_possible", methods, kind=t.r("pm_kinds")[missing[0]], purpose=purpose)
            return STOP
        yield from t._ask_payment("ask_payment", methods, purpose=purpose)
        return STOP

    def _usable_methods(self, flow: Flow, order: dict) -> list[dict]:
        """The customer's methods this action on this order may use, by the one policy (`rules.payments_allowed`)."""
        methods = self.t.ctx.orders.user(self.t.ctx.user_id).payment_methods
        allowed = set(rules.payments_allowed(methods, order, flow.route))
        return [m.model_dump() for m in methods if m.payment_method_id in allowed]

    def _fill_address(self, flow: Flow, frame: TaskFrame, message: str, slots: Slots):
        if frame.address is None:
            # an address spelled out, in this message or in the request said before it (before sign-in), beats
            # one pointed to ("moving from <city>" names where it is now, not where it goes)
            frame.address = rules.parse_address(message) or rules.parse_address(frame.text or "") or self.address_pointed_to(frame.text or message)
        if frame.address is None and rules.points_to_earlier_address(frame.text or message):
            # "to the new home": the address an earlier message gave or pointed to, the latest first
            for said in reversed([m.content for m in self.t.state.history if m.role == "user"]):
                if found := rules.parse_address(said) or self.address_pointed_to(said):
                    frame.address = found
                    break
        if frame.address is None and rules.points_to_former_address(frame.text or message):
            # "change it back to the original": the address it had before this conversation changed it
            former = self.t.state.earlier_addresses.get("default" if flow.name == "default_address" else frame.order_id or "")
            frame.address = dict(former) if former else None
        if frame.address is None:
            yield self.t.say("ask_address")
            return STOP
        for task in self.t.state.queue:  # "all my orders and my default address": one new address for each of them
            if task.route == flow.route and task.address is None and not rules.parse_address(task.text or ""):
                task.address = dict(frame.address)  # not to a task whose own words give its address
        return None

    # -- proposing ---------------------------------------------------------------------------

    def _propose(self, flow: Flow, frame: TaskFrame) -> Iterator[AssistantEvent]:
        t, order = self.t, self.order
        if flow.name == "modify_address" and order and _same_address(order.get("address"), frame.address):
            # asked again after it was done (or never needed): nothing would change
            yield from self.refuse(t.r("same_address").format(order_id=order["order_id"], address=address_text(frame.address)))
            return
        args: dict[str, Any] = {"order_id": frame.order_id} if flow.on_order else {}
        for slot in flow.slots:
            if slot == "address":
                args.update(frame.address)
            elif slot != "order_id":
                args[slot] = getattr(frame, slot)
        proposed = yield from t._propose(flow.tool, args, t.r(flow.confirm).format(**self._described(flow, frame, order)))
        if not proposed and order is not None:  # the policy refused it: the alternative the shopper stated
            other = rules.fallback_route(frame.condition, flow.route, order["status"])
            if other:
                t.state.frame, t.state.refused = frame, None
                yield from self.switch(other, order["order_id"], "", Slots())
            else:
                t.state.refused = frame

    def describe(self, frame: TaskFrame) -> str | None:
        """The confirmation text of the frame's action, in the conversation's language now (None without a flow)."""
        if not frame.flow:
            return None
        flow = FLOWS[frame.flow]
        return self.t.r(flow.confirm).format(**self._described(flow, frame, self.t._order(frame.order_id) if frame.order_id else None))

    def _described(self, flow: Flow, frame: TaskFrame, order: dict | None) -> dict[str, Any]:
        """What the confirmation text of any flow may name, from the frame and the order."""
        t = self.t
        values: dict[str, Any] = {"order_id": frame.order_id, "reason": frame.reason,
                                  "address": address_text(frame.address)}  # fmt: skip
        if frame.payment_method_id:
            values["method"] = t._method_name(frame.payment_method_id)
        if order is None:
            return values
        history = order["payment_history"]
        values["items"] = t.join(i["name"] for i in order["items"])
        values["total"] = t._paid_with(order)[1]
        values["old"] = t._method_name(history[0]["payment_method_id"]) if history else ""
        values.setdefault("method", values["old"])
        names = {i["item_id"]: t._item_label(i) for i in order["items"]}
        price = {i["item_id"]: i["price"] for i in order["items"]}
        if frame.item_ids:
            values["items"] = t.join(names[i] for i in frame.item_ids)
            values["amount"] = sum(price[i] for i in frame.item_ids)
        if frame.new_item_ids:
            cards = t._cards_for(frame.new_item_ids)
            new = {c.item_id: c for c in cards}
            values["money"] = t._money(_owed(frame, order, cards))
            values["swaps"] = "; ".join(
                t.r("swap_line").format(old=names[o], name=new[n].name, options=", ".join(new[n].options.values()), price=new[n].price)
                for o, n in zip(frame.item_ids, frame.new_item_ids)
            )
        return values

    # -- corrections and hand-overs ------------------------------------------------------------

    def amend(self, frame: TaskFrame, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """A change to the action just proposed, said instead of yes: fewer, more or other items of the
        same order, or another payment method. The amended action is proposed again."""
        t = self.t
        order = t._order(frame.order_id)
        if order is None:
            return
        flow = flow_of(frame)
        moved = rules.item_elsewhere(message, order, self._orders(), frame.item_ids, flow.allows)
        if moved:
            # "no, the more expensive one": the same product in another order; the task moves there, and
            # neither order waits in the queue for the same action any more (one was meant instead of the other)
            t.state.queue = [q for q in t.state.queue if not (q.route == frame.route and q.order_id in (frame.order_id, moved[0]))]
            frame.order_id, frame.item_ids, frame.new_item_ids = moved[0], moved[1], []
            order = t._order(frame.order_id)
            if order is None:
                return
        # "actually the black one": the values read against the items as proposed, the rest of the correction as before
        corrected = self.corrected_options(frame, message) or frame.new_item_ids
        fixed = {i: c for i, c, was in zip(frame.item_ids, corrected, frame.new_item_ids) if c != was}
        correction = rules.read_correction(message, order, frame, t.ctx.orders.user(t.ctx.user_id).payment_methods)
        frame.item_ids = correction.item_ids
        frame.new_item_ids = [fixed.get(i, n) for i, n in zip(correction.item_ids, correction.new_item_ids)]
        frame.payment_method_id = correction.payment_method_id
        frame.text = f"{frame.text}\n{message}".strip()[-4000:]
        frame.condition = rules.read_condition(message) or frame.condition
        frame.action = rules.read_action(message).merged(frame.action)
        flow = flow_of(frame)
        if not moved:
            self._queue_elsewhere(frame, flow, order, message)
        if "item_ids" not in flow.slots:
            return
        yield from self.run(flow, message, slots)

    def corrected_options(self, frame: TaskFrame, message: str) -> list[str] | None:
        """The new items of a proposed change as a correction said instead of yes has them ("actually the black
        one", "no wait, make it the large", "不对，要黑色的"): each proposed variant with the values the message
        names, its other options as proposed. None when the message names no other value of a proposed one."""
        order = self.t._order(frame.order_id) if frame.order_id else None
        if order is None or not frame.new_item_ids or len(frame.new_item_ids) != len(frame.item_ids):
            return None
        # "no, keep size <value>, just …" keeps an option, not the item: a no that says which options stay is a correction
        keeping = rules.says_keeping(message) or (rules.opens_with_no(message) and not rules.keeps_options(message.lower()))
        new_ids, changed, unmet = list(frame.new_item_ids), False, None
        named = [i for i in rules.match_items(order, message, read_slots(message), fallback=False, everything=False) if i != rules.AMBIGUOUS]
        for n, (item_id, new_id) in enumerate(zip(frame.item_ids, frame.new_item_ids)):
            if named and item_id not in named:  # "also the <other item> in black": no value for this one
                continue
            item = next((i for i in order["items"] if i["item_id"] == item_id), None)
            product = self.t.a.store.product(item["product_id"]) if item else None
            proposed = next((v for v in product.variants if v.item_id == new_id), None) if product else None
            if proposed is None:
                continue
            as_proposed = {"item_id": new_id, "product_id": item["product_id"], "name": item["name"],
                           "price": proposed.price, "options": dict(proposed.options)}
            wish = rules.about_item(message, item, order)
            if keeping and not self.other_value_named(product, item, wish):
                continue  # "the XXL I have now is fine": the item kept, a decline, not another value of the proposed
            chosen, _ = pick_variant(product, as_proposed, wish)
            if chosen == rules.UNMET and rules.keeps_options(rules.option_text(rules.with_kept_words(wish))):  # 尺码没问题 too
                unmet = item["name"]  # "the size is fine, make it blue": no such one; no other option changed unasked
                continue
            if chosen is None:  # no single one close to the proposed (it differs from the item in more than was asked): the item's
                chosen, _ = pick_variant(product, item, wish)
            if chosen not in (None, rules.KEEP, rules.SAME, rules.UNMET, item_id, new_id):
                new_ids[n], changed = chosen, True
        if changed:
            return new_ids
        self.unmet_correction = unmet
        return [] if unmet else None

    @staticmethod
    def other_value_named(product, item: dict, wish: str) -> bool:
        """Whether a wish names an option value the item does not have now ("make it blue"), not only its own ("the XXL I have")."""
        lowered = rules.option_text(wish).lower()
        current = {k: str(v).lower() for k, v in (item.get("options") or {}).items()}
        values = {k: tuple({str(v.options.get(k, "")) for v in product.variants}) for k in current}
        return any(str(val).lower() != now and rules.mentioned(str(val).lower(), lowered, values[k])
                   for k, now in current.items() for val in values[k] if val)

    def _queue_elsewhere(self, frame: TaskFrame, flow: Flow, order: dict, message: str) -> None:
        """"Also return the <item>" said at confirmation, of an item only another order holds: the same
        action on that order, queued after this one."""
        here = {i["name"] for i in order["items"]}
        said = read_slots(message)
        for other in self._orders():
            if other["order_id"] == order["order_id"] or not flow.allows(other["status"]):
                continue
            named = [i for i in other["items"] if i["item_id"] in rules.match_items(other, message, said, fallback=False, everything=False)]
            if any(i["name"] not in here for i in named):
                self.queue(frame, [other["order_id"]])

    def fall_back(self, frame: TaskFrame, condition, message: str):
        """A condition said after its task was refused ("if it cannot be returned, cancel it"): the task is
        taken up again with that condition's fallback. Returns whether there was one to take."""
        if not frame.order_id:  # refused for every order ("none can be returned"): the one order the fallback can act on
            able = [o for o in self._orders() if rules.fallback_route(condition, frame.route, o["status"])]
            frame.order_id = able[0]["order_id"] if len(able) == 1 else None
        order = self.t._order(frame.order_id) if frame.order_id else None
        other = rules.fallback_route(condition, frame.route, order["status"]) if order else None
        if other is None:
            return False
        frame.condition = condition
        frame.text = f"{frame.text}\n{message}".strip()[-4000:]
        frame.action = rules.read_action(message).merged(frame.action)
        self.t.state.frame = frame
        yield from self.switch(other, order["order_id"], message, Slots())
        return True

    def switch(self, route: str, order_id: str, message: str, slots: Slots) -> Iterator[AssistantEvent]:
        """Carry the open task over to another action on the same order (its text stays)."""
        frame = self.t.state.frame
        frame.route, frame.flow, frame.item_ids, frame.new_item_ids = route, "", [], []
        if frame.condition is not None:  # its fallback is taken: not again (no loop between two refused actions)
            frame.condition = frame.condition.model_copy(update={"then": []})
        yield from getattr(self.t, f"_on_{route}")(message, slots.model_copy(update={"order_ids": [order_id]}))

    # -- which order, which address ----------------------------------------------------------

    def resolve_order(self, frame: TaskFrame, slots: Slots, allowed: set[str] | None) -> Iterator[AssistantEvent]:
        """Fill frame.order_id from the customer's own orders; the reader may pick among several
        candidates; else the shopper is asked with the candidates as choices."""
        t = self.t
        if slots.order_ids:
            frame.order_id = slots.order_ids[0]
        if frame.order_id:
            return
        orders = self._orders()
        candidates = [o for o in orders if allowed is None or o["status"] in allowed]
        # Orders whose action was already done or declined in this conversation come last.
        candidates = [o for o in candidates if not t._settled(frame.route, o["order_id"])] or candidates
        if frame.text and frame.topic is None:
            frame.topic = read_topic(frame.text, lambda: [p.name for p in t.a.store.products()])
        if frame.topic is not None:
            asked = list(self._by_topic(frame, candidates))
            if asked or frame.order_id:
                yield from asked
                return
        if frame.text:
            text = rules.without_like_owned(frame.text)  # "…for the model from my other order": not the order meant
            if frame.route == "update_address":  # an address change has no items: the ones its own sentences name say the order
                text = rules.without_other_actions(text, frame.route)  # "… . Also cancel the <item> order": not this one's order
            elif frame.route == "cancel_order" and (asking := rules.sentences_asking(text, "cancel_order")) != text \
                    and any(rules.names_item(i, asking.lower()) for o in orders for i in o["items"]):
                text = asking  # "In the one with <items>, the <item> … . The other order (<items>) I no longer need: cancel it": that one
            elif frame.route == "payment" and (switch := rules.payment_switch_sentences(text)):
                text = " ".join(switch)  # "…; I want it charged to PayPal. In the other one, the <item> should be …": not that one's
            # items of several orders named one after another are one request each, but not those a question only asks about
            several = rules.orders_in_turn(rules.without_only_asked(text), orders, candidates)
            if len(several) > 1:  # "all my pending orders", items of several orders: one after another
                frame.order_id = several[0]["order_id"]
                self.queue(frame, [o["order_id"] for o in several[1:]])
                return
            if parts := rules.orders_by_part(text, frame.route, orders):
                # "(1) the <item>: cancel it (2) the order holding the <item> and the <item>: cancel it as well": each part's order in
                # turn, whatever its status (the flow says what it allows), never an order no part names; those done or
                # declined already are not taken up again
                fresh = [o for o in parts if not t._settled(frame.route, o["order_id"])] or parts[:1]
                frame.order_id = fresh[0]["order_id"]
                self.queue(frame, [o["order_id"] for o in fresh[1:]])
                return
            candidates = rules.by_item_price(text, rules.orders_meant(text, orders, candidates))
            if len(candidates) > 1:
                candidates = rules.status_hint(text, candidates)
        if len(candidates) > 1:
            position = {o["order_id"]: n for n, o in enumerate(orders)}
            options = [order_option(OrderRecord.model_validate(o), position.get(o["order_id"])) for o in candidates]
            picked = t.a.reader.pick("which order", frame.text or t.message, options)
            candidates = [o for o in candidates if picked and o["order_id"] == picked[0]] or candidates
        if len(candidates) == 1:
            frame.order_id = candidates[0]["order_id"]
            return
        if not orders:
            yield t.say("no_orders")
            t.state.frame = None
            return
        if not candidates and allowed:
            # None of the customer's orders is in a status this action allows (read now, after what this
            # conversation already did): said with why, rather than asking which of them.
            flow = flow_of(frame)
            other = next((r for a in (frame.action.named if frame.action else []) for o in orders
                          if (r := rules.action_route(a, o["status"])) and r != flow.route and r in rules.routes_for(o["status"])), None)
            if other is not None and other in {f.route for f in FLOWS.values()}:
                # "I no longer need it" (cancel or return) with no pending order: the other action the words allow
                frame.route, frame.flow, frame.item_ids, frame.new_item_ids = other, "", [], []
                yield from getattr(t, f"_on_{other}")(t.message, Slots())
                return
            statuses = t.r("statuses")
            t.state.refused = frame  # a condition said next ("if not, change the address") applies to it
            yield from self.refuse(t.r("none_allowed").format(
                verb=t.r("verbs")[flow.name], allowed=t.r("or").join(statuses.get(x, x) for x in sorted(allowed)),
                statuses=t.join(f"{o['order_id']} {statuses.get(o['status'], o['status'])}" for o in orders)))  # fmt: skip
            return
        if self._asked_too_often(frame, "order", t.message):
            yield from self._give_up(t.r("unclear_order"))
            return
        yield t.say("ask_order", orders=t._order_list(candidates or orders))
        yield from t._offer_orders(candidates or orders)

    def _by_topic(self, frame: TaskFrame, candidates: list[dict]) -> Iterator[AssistantEvent]:
        """Items chosen by what they are about ("everything related to <hobby>", or not related): the
        items the shop's data ties to the topic, and those it can only guess asked about once, with
        their buttons; then the first order holding items meant now, the others queued, each with
        its items. Leaves frame.order_id unset when no item is meant (the usual questions follow)."""
        t, tp = self.t, frame.topic
        # read once over every order an action can still change (a later task of the request keeps the answer)
        items = [i for o in self._orders() if rules.routes_for(o["status"]) for i in o["items"]]
        if not tp.read:
            tp.sure, tp.unsure = about(tp, items, t.a.store.products())
            tp.read = True
            if not tp.sure and not tp.unsure:  # the words tie to nothing the customer has ("everything for a refund"): no topic
                frame.topic = None
                return
        if tp.asked and tp.unsure:  # the answer to the question below
            tp.sure += topic_answer(t.message, [i for i in items if i["item_id"] in tp.unsure])
            tp.unsure = []
        elif tp.unsure:
            tp.asked = True
            unsure = [i for i in items if i["item_id"] in tp.unsure]
            names = t.join(dict.fromkeys(t._item_label(i) for i in unsure))
            if tp.sure:
                sure = t.join(dict.fromkeys(i["name"] for i in items if i["item_id"] in tp.sure))
                yield t.say("ask_topic", topic=tp.said or tp.words, sure=sure, unsure=names)
            else:
                yield t.say("ask_topic_none", topic=tp.said or tp.words, unsure=names)
            yield from t.offer("item", [(i["item_id"], t._item_label(i)) for i in unsure])
            return
        meant = {o["order_id"]: [i["item_id"] for i in o["items"] if (i["item_id"] in tp.sure) != tp.negated] for o in candidates}
        holding = [o for o in candidates if meant[o["order_id"]]]
        if not holding:
            if candidates:  # said, rather than read as "everything" (a topic's items were chosen, and none is left here)
                yield from self.refuse(t.r("topic_nothing_other" if tp.negated else "topic_nothing").format(
                    verb=t.r("verbs")[flow_of(frame).name], topic=tp.said or tp.words), failed=False)  # fmt: skip
            return
        first = holding[0]
        others = [i["name"] for i in first["items"] if i["item_id"] not in meant[first["order_id"]]]
        if flow_of(frame).name == "cancel" and others:  # a cancellation is of a whole order: said, not done to all of it
            t.state.frame = None
            yield t.say("failed", message=t.r("cancel_part").format(order_id=first["order_id"], others=t.join(others)))
            return
        frame.order_id, frame.item_ids = first["order_id"], meant[first["order_id"]]
        self.queue(frame, [o["order_id"] for o in holding[1:]])
        for task in self.t.state.queue:  # each queued order with its own items
            if task.route == frame.route and task.order_id in meant and not task.item_ids:
                task.item_ids = meant[task.order_id]

    def queue(self, frame: TaskFrame, order_ids: list[str]) -> None:
        """The same action on the other orders the request meant, done after this one (a new address
        reaches them in `_fill_address`)."""
        queued = {(f.route, f.order_id) for f in self.t.state.queue}
        for order_id in order_ids:
            if (frame.route, order_id) not in queued and not self.t._settled(frame.route, order_id):
                self.t.state.queue.append(TaskFrame(route=frame.route, flow=frame.flow, order_id=order_id, text=frame.text,
                                                    topic=frame.topic))  # fmt: skip

    def address_pointed_to(self, message: str) -> dict | None:
        return rules.address_pointed_to(message, self._orders())

    def _orders(self) -> list[dict]:
        return self.t._user_orders()

    def _open_orders(self) -> list[dict]:
        """Orders whose address may still change and is not settled yet."""
        flow = FLOWS["modify_address"]
        return [o for o in self._orders() if flow.allows(o["status"]) and not self.t._settled(flow.route, o["order_id"])]

    def offer_items(self, order: dict) -> Iterator[AssistantEvent]:
        yield from self.t.offer("item", [(i["item_id"], self.t._item_label(i)) for i in order["items"]])


def address_text(address: dict | None) -> str:
    """An address as a reply says it: its filled fields, comma-separated."""
    return ", ".join(str(v) for v in (address or {}).values() if v)


def _same_address(a: dict | None, b: dict | None) -> bool:
    keys = ("address1", "address2", "city", "state", "zip")
    return bool(a and b) and all(str(a.get(k) or "").strip().lower() == str(b.get(k) or "").strip().lower() for k in keys)


def _owed(frame: TaskFrame, order: dict, cards) -> float:
    """What the new items (`cards`, the catalog's) cost more than the ones they replace; below zero, money back."""
    price = {i["item_id"]: i["price"] for i in order["items"]}
    new = {c.item_id: c.price for c in cards}
    return round(sum(new[n] - price[o] for o, n in zip(frame.item_ids, frame.new_item_ids)), 2)
