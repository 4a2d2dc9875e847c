"""Wishes said with what the shop may not have, and requests said without their verb. "…, and the <item> one size up,
still black, if that is available": where no such variant is on offer, that item stays as it is and the order's other
items go on. "I also want the <item> in another colour" is a change of the shopper's own item, not a search. "Was paid
with my card; I would like it paid with my gift card instead" is a payment change whatever the classifier leans to. The
simulated shopper reads "want the <item> to be the <value> one" and "one size smaller" as item changes. Wording here is
our own."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.agent import Assistant
from assistant.llm.fake import FakeLLM
from assistant.understand import rules
from tests.fakes import KeywordClassifier, Prediction
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)

ORDER = "#W2378156"  # Yusuf's delivered order: headphones, vacuum cleaner, keyboard, thermostat (HomeKit, black), watch
AMELIA_EMAIL = "amelia.rossi1299@example.com"  # pending #W8255453, paid with a gift card


@pytest.mark.parametrize("wish, conditional", [
    ("the watch with a metal band, still gold, if that is available", True),
    ("one size up if available", True),
    ("the black one, if it exists", True),
    ("should such a lamp exist, the blue one", True),
    ("如果有货，换成黑色的", True),
    ("the watch with a metal band, still gold", False),
    ("is the black one available?", False),
])
def test_a_wish_said_only_if_the_shop_has_it(wish, conditional):
    assert rules.if_available(wish) is conditional


@pytest.mark.parametrize("text, change", [
    ("I also want the pet bed in another colour.", True),
    ("I'd like my lamp in a different size", True),
    ("I want a pet bed in another colour", False),  # any pet bed: a search, not theirs
    ("I want the order paid with another card", False),
])
def test_their_item_in_another_value_is_a_change(text, change):
    assert rules.asks_change_without_verb(text) is change


def test_an_item_wished_only_if_available_stays_when_it_is_not_and_the_rest_goes_on(assistant, state, store):
    assistant.reply_text(state, YUSUF_EMAIL)
    text = assistant.reply_text(state, f"From order {ORDER} I want the thermostat exchanged for the stainless steel one, still "
                                       "Apple HomeKit, and the watch with a metal band, still gold and LCD, if that is available.")
    items = {i.name: i.item_id for i in store.order(ORDER).items}
    assert "stays as it is" in text, text  # no gold metal LCD watch on offer: said, not offered instead
    assert state.pending is not None and state.pending.tool == "exchange_delivered_order_items", text
    assert state.pending.arguments["item_ids"] == [items["Smart Thermostat"]], text
    assert state.pending.arguments["new_item_ids"] == ["9480266227"], text  # HomeKit, stainless steel


def test_their_item_wanted_in_another_colour_is_not_a_search(assistant, state):
    assistant.reply_text(state, YUSUF_EMAIL)
    text = assistant.reply_text(state, "I also want the headphones in another colour.")
    assert "Looking for" not in text, text
    assert state.frame is not None and state.frame.route == "exchange", text


@dataclass
class _Leaning(Prediction):
    top: list = field(default_factory=list)


class _LeansToRefund(KeywordClassifier):
    """A classifier that reads money words as a refund, a payment question close behind (as a trained one may)."""

    routes = {"get_refund": "return", "check_payment_methods": "payment"}

    def predict(self, text: str) -> Prediction:
        return _Leaning(intent="get_refund", route="return", confidence=0.25,
                        top=[("get_refund", 0.25), ("check_payment_methods", 0.22)])


def test_a_payment_said_as_what_it_was_and_what_it_should_be_is_a_payment_change(store, state):
    assert rules.read_action("My order was paid with my Mastercard; I would like it paid with my gift card instead.").flows == ["modify_payment"]
    assistant = Assistant(store, llm=FakeLLM(lambda m: "Happy to help!"), classifier=_LeansToRefund())
    assistant.reply_text(state, AMELIA_EMAIL)
    text = assistant.reply_text(state, "My order that has not shipped was paid with my gift card; I would like it paid with PayPal instead.")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_payment", text


def test_the_shopper_reads_changes_said_as_what_an_item_should_be():
    from eval.dialogues.tau import wanted_kinds

    assert wanted_kinds("You also want the blue speaker with the 10-hour battery to be the 20-hour one, still blue.") == ["change-items"]
    assert wanted_kinds("The large black helmet should be one size smaller: medium, still black.") == ["change-items"]
    assert wanted_kinds("You want the refund to be sent to your gift card.") != ["change-items"]
    assert wanted_kinds("You also want the pet bed in another colour.") == ["change-items"]
    assert wanted_kinds("The white 4-cup French-press coffee maker should be a 4-cup drip one.") == ["change-items"]
    assert wanted_kinds("You want the order paid with your Visa instead of PayPal, the T-shirt in a bigger size, "
                        "and the pet bed in grey, still large.") == ["payment", "change-items"]
    assert wanted_kinds("It should be the one you ordered.") != ["change-items"]
    assert wanted_kinds("You want the refund in cash, still.") != ["change-items"]


def test_their_item_wanted_in_a_value_with_what_stays_is_a_change():
    assert rules.asks_change_without_verb("I also want the pet bed in memory foam, still medium and beige.")
    assert not rules.asks_change_without_verb("I want a pet bed in memory foam.")


def test_what_except_leaves_out_ends_at_a_colon_that_says_what_is_taken():
    order = {"order_id": "#W1", "status": "delivered", "items": [
        {"item_id": "1", "name": "Makeup Kit", "product_id": "p1", "options": {}},
        {"item_id": "2", "name": "LED Light Bulb", "product_id": "p2", "options": {}},
        {"item_id": "3", "name": "Smart Watch", "product_id": "p3", "options": {}},
        {"item_id": "4", "name": "Skateboard", "product_id": "p4", "options": {}}]}
    text = "I want to return everything except the smart watch and the skateboard: the makeup kit and the bulb."
    assert sorted(rules.match_items(order, text, rules.read_slots(text), fallback=False)) == ["1", "2"]


def test_a_payment_switch_said_in_one_sentence_with_item_changes_goes_first_and_the_changes_follow():
    text = ("In my order (a red t-shirt, a pet bed and a watch) I want the order paid with my Visa instead of PayPal, "
            "the t-shirt in a bigger size, still red, and the pet bed in grey, still large.")
    switch = rules.payment_switch_sentences(text)
    assert switch and "Visa instead of PayPal" in switch[0] and "t-shirt in a bigger size" not in switch[0]
    rest = rules.without_payment_talk(text)
    assert "Visa" not in rest and "the t-shirt in a bigger size" in rest and "the pet bed in grey" in rest, rest


def test_the_shopper_does_not_say_in_which_order_it_says_things():
    from eval.dialogues.tau import main_request

    text = ("Your order should go to 12 Pine Street, Atlanta, GA 30301. You also want the lamp in black, still small. "
            "Ask for the address change first, then ask about the lamp.")
    opening, rest = main_request(text)
    assert not any("first, then" in s for s in [opening, *rest]), (opening, rest)


def test_the_shopper_adds_a_change_of_another_thing_its_text_lists_in_the_same_order():
    from assistant.state import AssistantEvent
    from tests.test_dialogues_requests import _sim

    sim = _sim("You are Lena Okafor, zip 30301. From your delivered order with a desk lamp, a coffee maker and a rug, the "
               "black desk lamp should be the white one. The 4-cup French-press coffee maker should be a 4-cup drip one.")
    proposal = ("Please confirm: in order #W1000001: Desk Lamp (black, LED) → Desk Lamp (white, LED, $50.00); you pay $1.00 "
                "via Visa. This can be done only once for this order, so make sure every item you want changed is listed. "
                "Shall I go ahead? (yes/no)")
    pending = [AssistantEvent(kind="pending", tool="exchange_delivered_order_items",
                              arguments={"order_id": "#W1000001", "item_ids": ["1"], "new_item_ids": ["2"]})]
    assert "coffee maker" in sim.reply(proposal, pending)  # listed with the lamp: the same order, added before yes


def test_an_option_question_is_not_asked_forever_the_item_stays_and_the_rest_goes_on(assistant, state, store):
    # no gold metal LCD watch is on offer and the shopper never names another: asked three times, then left as it is
    assistant.reply_text(state, YUSUF_EMAIL)
    first = assistant.reply_text(state, f"From order {ORDER} I want the thermostat exchanged for the stainless steel one, "
                                        "still Apple HomeKit, and the watch with a metal band, still gold and LCD.")
    assert "no available" in first and state.pending is None, first
    for answer in ("Hmm, I'm not sure.", "Still not sure."):
        again = assistant.reply_text(state, answer)
        assert "no available" in again and state.pending is None, again  # they may still name one
    third = assistant.reply_text(state, "No idea, sorry.")
    items = {i.name: i.item_id for i in store.order(ORDER).items}
    assert "leave it as it is" in third, third
    assert state.pending is not None and state.pending.tool == "exchange_delivered_order_items", third
    assert state.pending.arguments["item_ids"] == [items["Smart Thermostat"]], third
    assert state.pending.arguments["new_item_ids"] == ["9480266227"], third


def test_which_order_is_not_asked_forever_the_request_is_left(assistant, state):
    assistant.reply_text(state, YUSUF_EMAIL)
    first = assistant.reply_text(state, "I want to return something.")
    assert "Which order" in first, first
    for answer in ("Hmm, I'm not sure.", "I don't remember."):  # asked three times in all
        again = assistant.reply_text(state, answer)
        assert "Which order" in again and state.frame is not None, again
    last = assistant.reply_text(state, "Sorry, I really don't know.")
    assert "still can't tell which order" in last and state.frame is None and state.pending is None, last
