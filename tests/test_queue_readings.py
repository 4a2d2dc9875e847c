"""Several requests in one message, each kept and bound to its own order (issue 15's situation tasks sit-110, sit-116,
sit-117): the same action asked in parts of its own for orders named by the items they hold; an item pointed back at
("…, so swap it for …") kept in an exchange of two items; an order said to be charged to a method by mistake moved
away from that method. Wording here differs from the tasks'."""

from __future__ import annotations

import pytest

from assistant.understand import rules
from tests.agent_fixtures import assistant, state, store  # noqa: F401  (fixtures)

MASON = "Mason Lopez, zip 10257"  # pending #W3130816 (bookshelf) and #W9222585; processed #W9939424 (boots, speaker)
HARPER = "Harper Moore, 75212"  # delivered #W5703958 (puzzle, tablet, kettle, coffee maker, water bottle)
DAIKI = "daiki.moore1031@example.com"  # pending #W4843514 paid by gift card; a Visa, a Mastercard and PayPal on file


def _status(store, order_id: str) -> str:
    return store.order(order_id).status


# -- the same action in parts of its own, each part's order named by its items ----------------------------------------

@pytest.mark.parametrize("text", [
    "Two things please: (1) cancel the order with the white bookshelf, I ordered it by mistake (2) also cancel the "
    "order with the hiking boots and the bluetooth speaker, I no longer need it.",
    "Please cancel my bookshelf order, it was a mistake. I also want to cancel the order that has the speaker and the "
    "hiking boots; no longer needed.",
    "The bookshelf was ordered by mistake, cancel it; and the order holding the boots and the speaker, cancel that as well.",
    "Cancel the bookshelf order (a mistake). Then the speaker and hiking boots order: cancel it too, I no longer need it.",
    "（1）书架那个订单是误下的，请取消；（2）登山鞋和蓝牙音箱那个订单我也不需要了，也取消。",
])
def test_a_second_cancellation_in_a_part_of_its_own_is_its_items_order_never_another(assistant, state, store, text):
    assistant.reply_text(state, MASON)
    assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["order_id"] == "#W3130816"
    reply = assistant.reply_text(state, "yes" if "书架" not in text else "是")
    assert "#W9939424" in reply  # said: that order is processed, it cannot be cancelled
    assert state.pending is None or state.pending.arguments.get("order_id") != "#W9222585"
    assert _status(store, "#W3130816") == "cancelled" and _status(store, "#W9222585") == "pending"


def test_the_request_said_again_cancels_no_order_its_parts_do_not_name(assistant, state, store):
    text = ("Two things: (1) the bookshelf was a mistake, cancel it; (2) the order with the hiking boots and the speaker, "
            "cancel that one too.")
    assistant.reply_text(state, MASON)
    assistant.reply_text(state, text)
    assistant.reply_text(state, "yes")
    reply = assistant.reply_text(state, text)  # the shopper asks again: the one done is not redone, nor another picked
    assert "#W9939424" in reply and "#W9222585" not in reply
    assert state.pending is None
    assert _status(store, "#W9222585") == "pending"


def test_one_cancellation_of_an_order_that_can_no_longer_be_cancelled_picks_no_other(assistant, state):
    assistant.reply_text(state, MASON)
    reply = assistant.reply_text(state, "Cancel the order with the hiking boots and the speaker, I no longer need it.")
    assert "#W9939424" in reply and state.pending is None


def test_two_pending_orders_named_by_their_items_are_both_still_queued(assistant, state):
    assistant.reply_text(state, MASON)
    assistant.reply_text(state, "Cancel the order with the bookshelf; and cancel the order with the smart watch too, "
                                "both by mistake.")  # fmt: skip
    assert state.pending is not None and state.pending.arguments["order_id"] == "#W3130816"
    assert [(q.route, q.order_id) for q in state.queue] == [("cancel_order", "#W9222585")]


def test_orders_by_part_reads_each_parts_own_order():
    bookshelf = {"order_id": "#A", "status": "pending", "items": [{"item_id": "1", "name": "Bookshelf", "options": {"color": "white"}}]}
    boots = {"order_id": "#B", "status": "processed", "items": [{"item_id": "2", "name": "Hiking Boots", "options": {"size": "9"}},
                                                                {"item_id": "3", "name": "Bluetooth Speaker", "options": {"color": "blue"}}]}
    orders = [bookshelf, boots]
    text = "(1) the bookshelf was a mistake, cancel it (2) the order with the boots and the speaker: cancel it as well"
    assert [o["order_id"] for o in rules.orders_by_part(text, "cancel_order", orders)] == ["#A", "#B"]
    # one part only, or parts asking another action: nothing read here
    assert rules.orders_by_part("cancel the bookshelf and the boots", "cancel_order", orders) == []
    assert rules.orders_by_part("Cancel the bookshelf. Return the boots.", "cancel_order", orders) == []


# -- an item pointed back at by the verb of a multi-item exchange ------------------------------------------------------

@pytest.mark.parametrize("text, items", [
    ("In my delivered order, the red water bottle is too big for my bag, so exchange it for the 750ml one, same steel "
     "and red; and the silver kettle should be black instead. Please also cancel my order with the laptop and the cameras.",
     {"2439754078": "6777246137", "8142779083": "7602931732"}),
    ("The silver kettle from my delivered order clashes with my kitchen, swap it for a black one, otherwise the same; "
     "and the red water bottle should be the 750ml one instead, otherwise the same. And cancel the order with the robot vacuum.",
     {"8142779083": "7602931732", "2439754078": "6777246137"}),
    ("Cancel the order with the laptop if you can. My delivered order: the 2000-piece fantasy puzzle is too hard for the "
     "kids, so I'd like to exchange it for the 1000-piece fantasy one, no matter which difficulty it comes in; the silver kettle "
     "should be black, otherwise the same.", {"7127170374": "3112842858", "8142779083": "7602931732"}),
    ("The red water bottle of my delivered order is too large. Please exchange it for the 750ml stainless steel red one, "
     "and the silver kettle should be black, everything else the same. I'd also like to cancel my order with the cameras.",
     {"2439754078": "6777246137", "8142779083": "7602931732"}),
    ("我已送达的订单里，2000片的奇幻拼图太难了，把它换成1000片的奇幻拼图，难度无所谓；银色电热水壶换成黑色的，其他不变。",
     {"7127170374": "3112842858", "8142779083": "7602931732"}),
    ("我已送达的订单：红色水杯太大了，把它换成750ml的，其他不变；还有银色电热水壶换成黑色的。",
     {"2439754078": "6777246137", "8142779083": "7602931732"}),
])
def test_an_item_pointed_back_at_by_the_exchange_verb_stays_in_the_exchange(assistant, state, text, items):
    assistant.reply_text(state, HARPER)
    assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.tool == "exchange_delivered_order_items"
    args = state.pending.arguments
    assert args["order_id"] == "#W5703958"
    assert dict(zip(args["item_ids"], args["new_item_ids"])) == items


def test_an_exchange_of_one_item_named_after_its_verb_takes_only_that_item(assistant, state):
    assistant.reply_text(state, HARPER)
    assistant.reply_text(state, "Exchange the silver kettle in my delivered order for a black one, otherwise the same. "
                                "Also cancel the order with the laptop.")  # fmt: skip
    assert state.pending is not None and state.pending.arguments["item_ids"] == ["8142779083"]


def test_action_text_begins_where_the_item_pointed_back_at_is_said():
    text = "The lamp flickers, so send it back. The kettle is great, but the blue bottle leaks: exchange it for a red one."
    assert rules.action_text(text, "return") == "The lamp flickers, so send it back."
    assert rules.action_text(text, "exchange") == " The kettle is great, but the blue bottle leaks: exchange it for a red one."
    # said in the sentence before, when the verb's own sentence names nothing before it
    assert rules.action_text("Cancel my other order. The lamp is too dim. Please swap it.", "exchange") == " The lamp is too dim. Please swap it."
    # a determiner is no word pointing back: "swap both the <item>s" begins at its verb
    assert rules.action_text("Please send back the lamp, and swap both the kettle and the mug for black ones.", "return") \
        == "send back the lamp, and "
    # a verb naming its item itself begins its own words
    assert rules.action_text("Cancel the order with the lamp, and return the kettle.", "return") == "return the kettle."
    assert rules.asks_change_without_verb("and the silver kettle should be black, everything else unchanged")
    assert not rules.asks_change_without_verb("it should be shipped to my office, otherwise the same")


# -- an order charged to a method by mistake: moved away from that method ----------------------------------------------

@pytest.mark.parametrize("text", [
    "My pending order got billed to the gift card by mistake.",
    "The order with the office chair should not have been paid with the gift card.",
    "By mistake my gift card was billed for my pending order, please fix that.",
    "Oops, the espresso machine order went on my gift card by accident; I want it on a card.",
    "我的待处理订单误用了礼品卡付款。",
    "办公椅那个订单不应该用礼品卡支付。",
])
def test_an_order_charged_to_a_method_by_mistake_asks_which_other_method(assistant, state, text):
    assistant.reply_text(state, DAIKI)
    reply = assistant.reply_text(state, text)
    assert state.pending is None and state.frame is not None and state.frame.flow == "modify_payment"
    assert "Mastercard" in reply and "Visa" in reply and "$77.00" not in reply  # the other methods, not the gift card
    assistant.reply_text(state, "The Mastercard, not the Visa." if "礼品卡" not in text else "用 Mastercard，不要 Visa")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_payment"
    assert state.pending.arguments == {"order_id": "#W4843514", "payment_method_id": "credit_card_7591273"}


def test_the_method_wanted_said_with_the_one_charged_by_mistake_is_proposed(assistant, state):
    assistant.reply_text(state, DAIKI)
    assistant.reply_text(state, "The gift card was charged by mistake for my pending order instead of PayPal.")
    assert state.pending is not None and state.pending.arguments["payment_method_id"].startswith("paypal_")


def test_a_method_named_to_pay_is_still_that_method(assistant, state):
    assistant.reply_text(state, DAIKI)
    reply = assistant.reply_text(state, "Please pay my pending order with my gift card.")
    assert state.pending is None and "gift card" in reply  # already paid with it: nothing to change
    assistant.reply_text(state, "Charge my pending order to PayPal instead.")
    assert state.pending is not None and state.pending.arguments["payment_method_id"].startswith("paypal_")


def test_a_method_charged_by_mistake_is_not_one_named_to_use():
    assert rules.wrongly_charged("that order went on the gift card in error")
    assert rules.wrongly_charged("这个订单误用了礼品卡付款")
    assert not rules.wrongly_charged("I ordered the wrong chair by mistake, pay the difference with my gift card")
    assert not rules.wrongly_charged("I bought it by mistake; refund it to my gift card")
    assert not rules.wrongly_charged("please pay it with my gift card")


# -- a part of a pending order refused, and another request said with it ------------------------------------------------

JAMES = "james.johnson7869@example.com"  # pending #W1006327: action camera (1080p, waterproof, black), wristwatch, jigsaw puzzle


@pytest.mark.parametrize("text", [
    "I don't want the jigsaw puzzle anymore, and the action camera ought to be the 4K model, still waterproof and black.",
    "Please cancel the jigsaw puzzle from my pending order. Also the action camera should be the 4K version, same colour.",
])
def test_a_change_said_with_a_refused_part_cancellation_comes_after_the_answer(assistant, state, store, text):
    assistant.reply_text(state, JAMES)
    reply = assistant.reply_text(state, text)
    assert state.pending is None and "whole order" in reply, reply
    reply = assistant.reply_text(state, "leave the order as it is then")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    camera = next(i.item_id for i in store.order("#W1006327").items if i.name == "Action Camera")
    assert state.pending.arguments["item_ids"] == [camera], reply
    assert "anything else" not in reply.lower(), reply  # the next request follows; nothing asked in between


@pytest.mark.parametrize("text, clause", [
    ("two changes: i do not need the lamp after all, and the speaker should be the water-resistant version, same blue.",
     "the speaker should be the water-resistant version, same blue."),
    ("the kettle is fine; the speaker should be red instead.", "the speaker should be red instead."),
])
def test_a_change_without_a_verb_is_queued_with_its_own_clause(text, clause):
    assert rules.other_actions(text, "cancel_order") == [("exchange", clause)]


@pytest.mark.parametrize("text", [
    "Two things about my pending order: the puzzle is no longer needed, and the action camera should be 4K, same colour.",
    "Please change the action camera to the 4K one, same colour. The puzzle is no longer needed.",
])
def test_an_item_said_unneeded_beside_a_change_is_no_item_of_the_change(assistant, state, store, text):
    """"The <item> is no longer needed" said of the thing: a part cancellation (refused, asked about), and the change
    said with it takes only its own item, after the answer."""
    assistant.reply_text(state, JAMES)
    reply = assistant.reply_text(state, text)
    assert state.pending is None and "whole order" in reply, reply
    reply = assistant.reply_text(state, "leave it as it is")
    camera = next(i.item_id for i in store.order("#W1006327").items if i.name == "Action Camera")
    assert state.pending is not None and state.pending.arguments["item_ids"] == [camera], reply


@pytest.mark.parametrize("text, unneeded", [
    ("the puzzle is no longer needed", True),
    ("the lamps aren't needed any more", True),
    ("is the puzzle no longer needed?", False),  # a question
    ("the puzzle is needed by Friday", False),
])
def test_no_longer_wanted_said_of_the_thing(text, unneeded):
    assert rules.no_longer_wanted(text) is unneeded
