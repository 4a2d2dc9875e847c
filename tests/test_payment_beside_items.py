"""A new payment method for a pending order asked together with an item change of the same order (the order described
by its items, no id): both are done, the payment first (so the item change's difference goes the new way), each
confirmed on its own; a method said only to pay an item change's difference is no payment change."""

from __future__ import annotations

import pytest

from assistant.understand import rules
from tests.agent_fixtures import assistant, state, store  # noqa: F401  (fixtures)

KETTLE_ORDER = "#W8328493"  # pending, paid by gift card: a kettle (1.5L, plastic, black), a helmet, a puzzle
CARD = "credit_card_6945568"
PET_BED_ORDER = "#W6760641"  # pending, paid by gift card: a pet bed (large, memory foam, beige), a bookshelf, …
PAYPAL = "paypal_6651356"


def _both_done(assistant, state, order_id, method, item_ids, new_item_ids, yes="yes"):
    first = state.pending
    assert first is not None and first.tool == "modify_pending_order_payment", first
    assert first.arguments == {"order_id": order_id, "payment_method_id": method}
    assistant.reply_text(state, yes)
    second = state.pending
    assert second is not None and second.tool == "modify_pending_order_items", second
    assert second.arguments == {"order_id": order_id, "item_ids": item_ids, "new_item_ids": new_item_ids, "payment_method_id": method}
    assert "Done" in assistant.reply_text(state, "yes") or state.pending is None
    assert state.pending is None and not state.queue


def test_payment_said_before_sign_in_then_the_item_change_of_that_order(assistant, state):
    assistant.reply_text(state, "My pending order (a kettle, a helmet and a puzzle) went on my gift card, which I meant to keep "
                                "for later; I want that order charged to my credit card instead. Also the kettle in it should "
                                "have a white body instead of black, same capacity and material.")  # fmt: skip
    reply = assistant.reply_text(state, "chen.wilson5208@example.com")
    assert "Please confirm" in reply, reply
    _both_done(assistant, state, KETTLE_ORDER, CARD, ["5428723833"], ["2698416822"])


def test_payment_asked_as_a_question_beside_an_item_wish(assistant, state):
    assistant.reply_text(state, "sophia.smith9861@example.com")
    reply = assistant.reply_text(state, "Could my order with the pet bed and the bookshelf be billed to PayPal rather than "
                                        "the gift card? And I'd like the pet bed in it in grey instead of beige.")  # fmt: skip
    assert "Your payment methods" not in reply, reply
    _both_done(assistant, state, PET_BED_ORDER, PAYPAL, ["6942241102"], ["2751999929"])


def test_payment_and_item_change_in_chinese(assistant, state):
    assistant.reply_text(state, "chen.wilson5208@example.com")
    assistant.reply_text(state, "我还没发货的订单（水壶、头盔和拼图）是用礼品卡付的，我想改用信用卡支付。另外水壶要换成白色的，容量和材质不变。")
    _both_done(assistant, state, KETTLE_ORDER, CARD, ["5428723833"], ["2698416822"], yes="是的")


def test_the_payment_sentence_alone_after_an_item_change_is_a_payment_change_not_a_list(assistant, state):
    assistant.reply_text(state, "chen.wilson5208@example.com")
    reply = assistant.reply_text(state, "My order that hasn't shipped (the kettle, the helmet and the puzzle) was charged to "
                                        "my gift card; I want that order paid with my credit card instead.")  # fmt: skip
    assert "Your payment methods" not in reply, reply
    assert state.pending is not None and state.pending.tool == "modify_pending_order_payment"
    assert state.pending.arguments == {"order_id": KETTLE_ORDER, "payment_method_id": CARD}


@pytest.mark.parametrize("email, text, item_ids, method", [
    ("sophia.smith9861@example.com", "Modify the pet bed in my pending order to the grey one, paid with PayPal instead.",
     ["6942241102"], PAYPAL),
    ("chen.wilson5208@example.com", "Change the kettle in my pending order to white and put any difference on my credit "
                                    "card instead of the gift card.", ["5428723833"], CARD),
])  # fmt: skip
def test_a_method_paying_the_item_change_is_no_payment_change(assistant, state, email, text, item_ids, method):
    assistant.reply_text(state, email)
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    assert state.pending.arguments["item_ids"] == item_ids and state.pending.arguments["payment_method_id"] == method
    assert not any(t.route == "payment" for t in state.queue)


@pytest.mark.parametrize("text, switch", [
    ("I want that order paid with PayPal instead.", True),
    ("Please switch the payment method of my pending order to my Visa.", True),
    ("Could my order with the kettle be billed to PayPal rather than the gift card?", True),
    ("我想把这个订单改用PayPal支付。", True),
    ("Modify the desk lamp in my order to the black one, paid with PayPal instead.", False),
    ("Change the lamp in my order to white, and put any difference on PayPal instead of the card.", False),
    ("Which card did I pay for that order with?", False),
    ("My order was charged to my gift card.", False),
])  # fmt: skip
def test_a_sentence_asking_the_order_paid_another_way(text, switch):
    assert bool(rules.payment_switch_sentences(text)) is switch


def test_the_item_wish_said_with_should_have_is_an_item_change_and_paid_with_is_not():
    assert rules.asks_change_without_verb("the watch in it should have a green dial instead of the black one")
    assert not rules.asks_change_without_verb("I want that order paid with PayPal instead.")
    assert not rules.asks_change_without_verb("it should have been charged to my card instead")
    assert rules.asks_order_payment_change("My order was charged to my gift card; I want that order paid with PayPal instead.",
                                           [type("M", (), {"payment_method_id": "paypal_1", "source": "paypal", "brand": None,
                                                           "last_four": None})()], names_order=False)  # fmt: skip


@pytest.mark.parametrize("text", [
    "change the t-shirt in #W6247578 to size XL. And I'd like to switch that order's payment to my gift card",
    "I want the t-shirt in #W6247578 in size XL. Please also change that order to be paid with my PayPal instead",
    "把订单#W6247578里的T恤换成XL码。我想把这个订单改用礼品卡支付",
])
def test_a_method_the_customer_does_not_have_is_said_and_the_item_change_goes_on(assistant, state, text):
    # the demo customer pays by card only: no switch can be proposed, so the item change is not held back by it
    assistant.reply_text(state, "yusuf.rossi7301@example.com")
    reply = assistant.reply_text(state, text)
    assert "You can choose: ." not in reply and "可选：。" not in reply, reply
    assert "Mastercard" in reply, reply  # what they have is listed
    pending = state.pending
    assert pending is not None and pending.tool == "modify_pending_order_items", reply
    assert pending.arguments["order_id"] == "#W6247578"

