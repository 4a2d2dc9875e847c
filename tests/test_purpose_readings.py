"""What a request is for, and which things only say which order. A return said for another version ("return the
kettle for the 2-litre one", "send the helmet back for a bigger one") is an exchange; an exchange said for the money
("exchange the dumbbells for my money back") is a return. Things listed to say which order ("in the one with <items>, the
<item> …", "my delivery to <city> held <items>", "my other order, with <items>, …") are not what the request acts on,
and "there are two things I do not need" in it names none (asked). "The second one and the fourth one" answers "which
items?" by their places in the list shown. Wording here is our own."""

from __future__ import annotations

import pytest

from assistant.understand import rules
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)

ORDER = "#W2378156"  # delivered: headphones, vacuum cleaner, keyboard, thermostat, watch


@pytest.mark.parametrize("text, said", [
    ("I'd like to return these boots for a smaller size.", "I'd like to exchange these boots for a smaller size."),
    ("Please send the lamp back for the brighter one.", "Please exchange the lamp back for the brighter one."),
    ("return the 1.5-litre kettle for the 2-litre one", "exchange the 1.5-litre kettle for the 2-litre one"),
    ("I want to 'swap' the rug for my money back", "I want to 'return' the rug for my money back"),
    ("can I exchange it for a full refund?", "can I return it for a full refund?"),
])
def test_the_verb_is_the_one_the_purpose_says(text, said):
    assert rules.verbs_by_purpose(text) == said


@pytest.mark.parametrize("text", [
    "Return the lamp for a refund.",
    "I want to return the kettle for my sister, she has one already.",
    "Please return the boots for the same price.",
    "Exchange the watch for the silver one.",
    "return the lamp. I'd like a refund for the blue one too",
    "return the mug for a refund and buy the red one",
])
def test_a_verb_its_purpose_agrees_with_or_does_not_say_stays(text):
    assert rules.verbs_by_purpose(text) == text


@pytest.mark.parametrize("text, left_out, kept", [
    ("In the one with the mug, the rug and the lamp, the lamp should be blue.", "the mug", "the lamp should be blue"),
    ("My parcel to Green Bay held a mug, a rug and a lamp. Return the rug.", "a mug", "Return the rug"),
    ("From my other order, with the mug and the rug, return the lamp.", "the mug", "return the lamp"),
    ("My order that has not shipped (a mug and a rug) is late.", "a mug", "not shipped"),
])
def test_things_that_only_say_which_order_are_left_out(text, left_out, kept):
    read = rules.without_order_described(text)
    assert left_out not in read and kept in read, read


def test_for_the_one_with_is_a_new_item_not_an_order():
    text = "Swap it for the one with a blue strap and a metal case."
    assert rules.without_order_described(text) == text


@pytest.mark.parametrize("message, places", [
    ("the second one and the fourth one", [1, 3]),
    ("2nd and 4th", [1, 3]),
    ("I'll take the first, the third and the last", [0, 2, -1]),
    ("第二个和第四个", [1, 3]),
    ("the second one", None),              # one place: list_position reads it
    ("the blue one and the red one", None),
])
def test_several_places_in_a_list(message, places):
    assert rules.list_positions(message) == places


def test_items_said_by_their_places_in_the_list_shown(assistant, state, store):
    assistant.reply_text(state, YUSUF_EMAIL)
    text = assistant.reply_text(state, f"there are two things in order {ORDER} I do not need and want to send back")
    assert state.pending is None, text  # which two: asked, with the order's items listed
    text = assistant.reply_text(state, "the second one and the fourth one")
    items = [i.item_id for i in store.order(ORDER).items]
    assert state.pending is not None and state.pending.tool == "return_delivered_order_items", text
    assert sorted(state.pending.arguments["item_ids"]) == sorted([items[1], items[3]]), text


def test_things_listed_to_say_the_order_are_not_returned(assistant, state, store):
    assistant.reply_text(state, YUSUF_EMAIL)
    text = assistant.reply_text(state, "From my delivered order, with the headphones and the vacuum cleaner, I want to return the keyboard.")
    keyboard = next(i.item_id for i in store.order(ORDER).items if "Keyboard" in i.name)
    assert state.pending is not None and state.pending.arguments["item_ids"] == [keyboard], text


def test_an_exchange_said_for_the_money_is_a_return(assistant, state, store):
    assistant.reply_text(state, YUSUF_EMAIL)
    text = assistant.reply_text(state, f"I want to exchange the headphones from {ORDER} for my money back")
    headphones = next(i.item_id for i in store.order(ORDER).items if i.name == "Headphones")
    assert state.pending is not None and state.pending.tool == "return_delivered_order_items", text
    assert state.pending.arguments["item_ids"] == [headphones], text


def test_a_return_said_for_another_version_is_an_exchange(assistant, state, store):
    assistant.reply_text(state, YUSUF_EMAIL)
    text = assistant.reply_text(state, f"I'd like to return the headphones from {ORDER} for a different colour")
    assert state.pending is None or state.pending.tool == "exchange_delivered_order_items", text
    assert state.frame is not None and state.frame.route == "exchange", text


# -- which order a payment switch, a cancellation or an address is about; a change said with "still" -------------------

def test_a_payment_switch_pointing_back_at_an_order_takes_the_sentence_that_says_which():
    text = ("I have two orders that have not shipped. The big one (a sofa and a rug) was paid with my gift card; I want it "
            "charged to my PayPal instead. In the other one, the lamp should be the blue one.")
    assert rules.payment_switch_sentences(text) == [
        "The big one (a sofa and a rug) was paid with my gift card; I want it charged to my PayPal instead."]


def test_no_order_said_no_payment_switch():
    assert rules.payment_switch_sentences("I want it charged to my PayPal instead.") == []


def test_a_cancellation_among_other_sentences_is_read_in_its_own():
    text = ("In the one with the mug and the rug, the mug is for my niece and a smaller one would suit her. "
            "The other order (a lamp and a kettle) I no longer need: cancel it.")
    assert rules.sentences_asking(text, "cancel_order") == "The other order (a lamp and a kettle) I no longer need: cancel it."
    assert rules.sentences_asking("Cancel the order with the lamp.", "cancel_order") == "Cancel the order with the lamp."


@pytest.mark.parametrize("text, search", [
    ("switch the filter to size large", True),
    ("remove the price filter", True),
    ("filter by brand please", True),
    ("把筛选条件换成大号", True),
    ("I want the purifier with a HEPA filter instead of the carbon one", False),  # a product's part
    ("does the water filter fit?", False),
])
def test_a_filter_is_a_searchs_only_when_said_as_one(text, search):
    assert rules.refines_search(text) is search


@pytest.mark.parametrize("text", [
    "the white bookshelf should be black, still wood and 5 ft tall",
    "the power bank should be the 5,000 mAh one, still USB-C and white",
])
def test_a_change_said_with_what_still_stays_is_a_change(text):
    assert rules.asks_change_without_verb(text)
    assert rules.other_actions(f"Pay order #W1000001 with PayPal instead. {text[0].upper()}{text[1:]}.", "payment") \
        and rules.other_actions(f"Pay order #W1000001 with PayPal instead. {text}.", "payment")[0][0] == "exchange"


def test_it_should_still_be_delivered_is_no_change():
    assert not rules.asks_change_without_verb("it should be delivered on friday, still")


AMELIA_ROSSI_EMAIL = "amelia.rossi1299@example.com"  # #W8255453 pending (laptop; t-shirt blue M crew neck), paid by gift card


def test_a_change_said_alone_with_what_stays_changes_their_item_not_a_search(assistant, state):
    assistant.reply_text(state, AMELIA_ROSSI_EMAIL)
    text = assistant.reply_text(state, "the t-shirt should be the v-neck one in size S, still blue")
    assert state.frame is not None or state.pending is not None, text
    assert "Looking for" not in text
    assert (state.pending.arguments if state.pending else {}).get("order_id", "#W8255453") == "#W8255453"


def test_after_an_order_is_paid_another_way_its_later_change_pays_that_way(assistant, state):
    assistant.reply_text(state, AMELIA_ROSSI_EMAIL)
    assistant.reply_text(state, "Order #W8255453 was charged to my gift card, which I was saving; I want that order paid with PayPal instead.")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_payment"
    assistant.reply_text(state, "yes")
    text = assistant.reply_text(state, "the t-shirt in it should be the v-neck one in size S, still blue")
    if state.pending is None:  # asked to pick the new item among choices: the one offered
        text = assistant.reply_text(state, "the first one")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", text
    assert state.pending.arguments["payment_method_id"] == "paypal_6844511", text
