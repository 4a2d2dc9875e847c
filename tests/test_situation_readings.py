"""Readings of requests written as a person's situation (issue 15's situation tasks): changes said without a
change verb, payment said as who is charged, cards by brand, items kept or only describing the order, letter
sizes and values said with their option, addresses said before sign-in. Wording here differs from the tasks'."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.slots import read_slots
from assistant.understand import rules
from assistant.understand.wish import pick_variant
from tests.agent_fixtures import assistant, state, store  # noqa: F401  (fixtures)


def _methods(*rows):
    return [SimpleNamespace(payment_method_id=i, source=s, brand=b, last_four=f) for i, s, b, f in rows]


CARDS = _methods(("credit_card_1", "credit_card", "visa", "1111"), ("credit_card_2", "credit_card", "mastercard", "2222"),
                 ("paypal_3", "paypal", None, None))  # fmt: skip


@pytest.mark.parametrize("text", [
    "Could the order with the lamp be billed to my PayPal account?",
    "I'd rather my pending order got charged on the credit card instead.",
    "Please have that order paid by PayPal, not the card.",
])
def test_an_order_charged_or_billed_to_a_method_is_a_payment_change(text):
    assert rules.asks_order_payment_change(text, CARDS, names_order=False)


def test_a_method_paying_an_item_change_is_not_a_payment_change():
    text = "modify the desk lamp to the black one, paid with paypal"
    assert not rules.asks_payment_change(text.lower(), names_product=True)


def test_a_card_named_by_brand_is_that_card_and_one_not_wanted_names_nothing():
    assert rules.payments_named(CARDS, "put the difference on the Visa, not the Mastercard") == ["credit_card_1"]
    assert rules.payments_named(CARDS, "use the mastercard rather than the visa") == ["credit_card_2"]
    assert rules.payments_named(CARDS, "refund it to whatever I paid with") == [rules.ORIGINAL]


ORDER = {"order_id": "#W1", "items": [
    {"item_id": "g", "name": "Grill", "options": {"type": "charcoal"}},
    {"item_id": "y", "name": "Yoga Mat", "options": {"color": "blue"}},
    {"item_id": "l", "name": "Laptop", "options": {"color": "space grey"}},
]}


@pytest.mark.parametrize("text, items", [
    ("Please send back the grill; I'm keeping the laptop that came in the same box.", ["g"]),
    ("Return the grill and the yoga mat. The laptop is fine.", ["g", "y"]),
    ("The yoga mat clashes with everything in my flat, so I want to return it.", ["y"]),
    ("Make the yoga mat a green one, everything else about it stays the same.", ["y"]),
    ("In the package with the grill and the laptop, the yoga mat should be green instead.", ["y"]),
])
def test_items_kept_fine_or_only_describing_the_order_are_not_the_items_meant(text, items):
    assert sorted(rules.match_items(ORDER, text, read_slots(text))) == sorted(items)


def test_a_change_said_without_its_verb_is_queued_as_an_item_change():
    text = "Please cancel my other order. Oh, and the yoga mat should be the green version instead."
    assert [r for r, _ in rules.other_actions(text, "cancel_order")] == ["exchange"]
    assert rules.asks_change_without_verb("I'd like the lamp in black instead, please")
    assert not rules.asks_change_without_verb("It should be shipped to my office instead")


def test_order_and_account_addresses_said_without_the_usual_words():
    both = rules.read_action("New place is 9 Birch Court, Boise, ID 83702: please make my profile use it, "
                             "and have every order that hasn't gone out yet redirected to it.")  # fmt: skip
    assert set(both.flows) == {"modify_address", "default_address"}
    sent = rules.read_action("the order with the grill should be sent to my office instead: 4 Elm Rd, Boise, ID 83702")
    assert sent.flows == ["modify_address"]
    assert rules.parse_address("It goes to 4 Elm Rd, Boise, ID 83702. Then please update my account too.")["country"] == "USA"


def _product(*variants):
    return SimpleNamespace(variants=[SimpleNamespace(item_id=i, options=o, price=p, available=True) for i, o, p in variants])


HELMET = _product(("s-low", {"size": "S", "ventilation": "low"}, 180), ("m-low", {"size": "M", "ventilation": "low"}, 190),
                  ("s-med", {"size": "S", "ventilation": "medium"}, 200), ("l-med", {"size": "L", "ventilation": "medium"}, 210),
                  ("l-high", {"size": "L", "ventilation": "high"}, 215))  # fmt: skip


@pytest.mark.parametrize("current, text, chosen", [
    ("s-low", "keep the low airflow one but in size medium please", "m-low"),
    ("s-med", "I need it a large rather than a small, still medium ventilation", "l-med"),
    ("s-med", "I want the large with high ventilation", "l-high"),
])
def test_size_words_and_values_said_with_their_option_pick_the_variant(current, text, chosen):
    item = next({"item_id": v.item_id, "options": v.options, "price": v.price} for v in HELMET.variants if v.item_id == current)
    assert pick_variant(HELMET, item, text)[0] == chosen


def test_an_address_said_before_sign_in_reaches_the_order_and_the_profile(assistant, state, store):
    """Said in one message before the shopper is identified: the pending order is sent there, then the profile."""
    assistant.reply_text(state, "We're relocating. New place: 9 Birch Court, Unit 2, Boise, ID 83702. My profile "
                                "should use it, and the order that hasn't shipped should be sent there too.")  # fmt: skip
    assistant.reply_text(state, "Harper Moore, 85025")
    assert state.user_id == "harper_moore_3210"
    first = state.pending
    assert first is not None and first.tool == "modify_pending_order_address", first
    assert first.arguments["order_id"] == "#W3942868" and first.arguments["city"] == "Boise"
    assistant.reply_text(state, "yes")
    second = state.pending
    assert second is not None and second.tool == "update_default_address" and second.arguments["zip"] == "83702"


def test_an_order_billed_to_another_method_is_proposed_as_a_payment_change(assistant, state):
    assistant.reply_text(state, "chen.wilson5208@example.com")
    reply = assistant.reply_text(state, "Please have the order with the kettle billed to my credit card from now on.")
    assert state.pending is not None, reply
    assert state.pending.tool == "modify_pending_order_payment"
    assert state.pending.arguments == {"order_id": "#W8328493", "payment_method_id": "credit_card_6945568"}


@pytest.mark.parametrize("text, items", [
    ("The color is fine but I want the yoga mat thicker.", ["y"]),
    ("Keep the same color but make the yoga mat thicker.", ["y"]),
    ("I'll hold on to the laptop and return the grill.", ["g"]),
])
def test_a_clause_keeping_an_option_or_another_item_leaves_the_item_meant(text, items):
    assert sorted(rules.match_items(ORDER, text, read_slots(text))) == sorted(items)


def test_a_list_of_kept_items_and_a_method_paying_a_change_said_without_a_verb():
    text = "I want to send back the grill but keep the yoga mat and the laptop."
    assert rules.match_items(ORDER, text, read_slots(text)) == ["g"]
    assert not rules.asks_payment_change("the white kettle should be glass instead. pay with paypal.")
    assert "default_address" in rules.read_action("My new address is 77 Lake St, Mesa, AZ 85201. Please update my account.").flows


def test_the_new_option_of_one_of_two_alike_items_ignores_the_other_said_to_be_fine(assistant, state):
    assistant.reply_text(state, "sophia.smith9861@example.com")
    reply = assistant.reply_text(state, "For my pending order: modify the white kettle so it is glass, the black kettle is fine. "
                                        "Pay with PayPal.")  # fmt: skip
    assert state.pending is not None, reply
    assert state.pending.arguments["item_ids"] == ["4458619711"] and state.pending.arguments["new_item_ids"] == ["4064702754"]
