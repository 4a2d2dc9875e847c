"""Addresses said inside several requests, end to end on a real store: an address said of an order ("…should go
to <address>") is that order's shipping address, the account's only when the words say so; a queued request keeps
the address its own words gave; a conditional item wish ("if the same <item> exists in <value>, I'd like that
instead; if not, leave it") is done, or said impossible and left, as the shopper asked."""

from __future__ import annotations

import pytest

from assistant.understand import rules, wish
from assistant.agent import Assistant
from assistant.llm.fake import FakeLLM
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)
from tests.test_intents_classifier import clf  # noqa: F401  (the real classifier, trained once)

NEW = "12 Oak Lane, Apt 3, Denver, CO 80203"


def _signed_in(assistant, state):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    return state


@pytest.mark.parametrize("message", [
    f"The order I placed with the espresso machine and a t-shirt is for my brother's birthday, it needs to go to Denver: {NEW}.",
    f"The espresso machine order is a gift, so I need it to go to my mom: {NEW}",
    f"The package with the espresso machine should be delivered to my office instead, {NEW}.",
    f"The espresso machine I ordered is for my sister, so it has to be sent to her place at {NEW}.",
    f"我那个还没发货、有咖啡机的订单是送人的礼物，要寄到我哥哥那里：{NEW}。",
])
def test_an_address_said_of_an_order_is_that_orders_address(assistant, state, store, message):
    _signed_in(assistant, state)
    reply = assistant.reply_text(state, message)
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address", reply
    assert state.pending.arguments["order_id"] == "#W4776164"
    assert state.pending.arguments["address1"] == "12 Oak Lane" and state.pending.arguments["zip"] == "80203"
    assistant.reply_text(state, "yes")
    assert store.order("#W4776164").address.city == "Denver"
    assert store.user("yusuf_rossi_9620").address.city == "Philadelphia"  # the account's address stays


@pytest.mark.parametrize("message", [
    f"please update my account address to {NEW}",
    f"My profile address should be {NEW} from now on.",
    f"把我账户的默认地址改成 {NEW}",
])
def test_an_address_said_of_the_account_stays_the_accounts(assistant, state, message):
    _signed_in(assistant, state)
    reply = assistant.reply_text(state, message)
    assert state.pending is not None and state.pending.tool == "update_default_address", reply
    assert state.pending.arguments["address1"] == "12 Oak Lane"


def test_shipping_to_the_account_address_still_uses_it(assistant, state, store):
    _signed_in(assistant, state)
    assistant.reply_text(state, f"Please ship order #W4776164 to {NEW}.")
    assistant.reply_text(state, "yes")
    assert store.order("#W4776164").address.city == "Denver"
    reply = assistant.reply_text(state, "Please ship order #W4776164 to the address on my account.")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address", reply
    assert state.pending.arguments["address1"] == "763 Broadway"


@pytest.mark.parametrize("message", [
    f"Two things: please cancel order #W6247578 because I no longer need it, and change the address on my account to {NEW}.",
    f"Cancel order #W6247578, I no longer need it; also update my profile address to {NEW}, I'm moving.",
    f"请取消订单 #W6247578，我不需要了；另外把我账户的默认地址改成 {NEW}。",
])
def test_a_queued_address_change_keeps_the_address_it_was_given(assistant, state, store, message):
    _signed_in(assistant, state)
    reply = assistant.reply_text(state, message)
    assert state.pending is not None and state.pending.tool == "cancel_pending_order", reply
    reply = assistant.reply_text(state, "yes")
    assert state.pending is not None and state.pending.tool == "update_default_address", reply  # not asked again
    assert state.pending.arguments["address1"] == "12 Oak Lane" and state.pending.arguments["address2"] == "Apt 3"
    assert state.pending.arguments["city"] == "Denver" and state.pending.arguments["zip"] == "80203"


def test_the_request_said_again_answers_the_address_asked_and_redoes_nothing(assistant, state, store):
    _signed_in(assistant, state)
    assistant.reply_text(state, "Cancel order #W6247578 because I no longer need it, and change the address on my account as I am moving.")
    reply = assistant.reply_text(state, "yes")
    assert store.order("#W6247578").status == "cancelled" and state.pending is None and "new address" in reply
    again = f"Cancel order #W6247578 because I no longer need it, and change the address on my account to {NEW}."
    reply = assistant.reply_text(state, again)
    assert state.pending is not None and state.pending.tool == "update_default_address", reply
    assert state.pending.arguments["address1"] == "12 Oak Lane" and "cancel" not in reply.lower()


@pytest.mark.parametrize("wish, new_item", [
    ("if the same t-shirt exists in size XL while still black cotton crew neck, I'd like that instead", "2060066974"),
    ("Also, if the t-shirt comes in XL, still black and cotton with a crew neck, I would take that instead", "2060066974"),
])
def test_a_wish_for_an_item_if_it_exists_is_proposed_when_it_does(assistant, state, wish, new_item):
    _signed_in(assistant, state)
    reply = assistant.reply_text(state, f"Order #W6247578 should go to my brother: {NEW}. {wish}.")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address", reply
    reply = assistant.reply_text(state, "yes")
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    assert state.pending.arguments["new_item_ids"] == [new_item]


@pytest.mark.parametrize("wish", [
    "Also, if the same t-shirt exists in size M while still black cotton crew neck, I'd like that instead. If it does not, leave the t-shirt as it is.",
    "If the t-shirt comes in M, still black cotton with a crew neck, I'd take that instead; if not, leave it.",
])
def test_a_wish_for_an_item_that_does_not_exist_leaves_it_as_asked(assistant, state, store, wish):
    _signed_in(assistant, state)
    assistant.reply_text(state, f"Order #W6247578 should go to my brother: {NEW}. {wish}")
    reply = assistant.reply_text(state, "yes")
    assert state.pending is None and "stays as it is" in reply, reply
    assert store.order("#W6247578").items[0].item_id == "3799046073"


def test_options_kept_after_a_turn_of_the_clause_are_read():
    """A kept word after another clause's turn ("the same <item> in <value> while still <values>") keeps those."""
    current = {"color": "black", "size": "xxl", "material": "cotton", "style": "crew neck"}
    values = {"color": ("black", "red"), "size": ("xxl", "xl", "m"), "material": ("cotton", "polyester"), "style": ("crew neck", "v-neck")}
    said = "the same t-shirt in size m while still black cotton crew neck"
    assert wish.kept_options(said, values, current) == {"color", "material", "style"}


# An explicit account word (account, profile, default, on file, from now on, in future; 账户, 默认, 以后) beside
# "…should go to <address>" names the account's default address, not a pending order's.
@pytest.mark.parametrize("message", [
    f"Please update my default address: from now on everything I ordered should go to {NEW}",
    f"I moved. Update my profile so it should go to {NEW} in future",
    f"Update my address on file; things I ordered should be delivered to {NEW}",
    f"Going forward everything I buy should be shipped to {NEW}, please change my account.",
    f"我搬家了，以后我买的东西都寄到 {NEW}，请更新账户默认地址",
    f"以后我订的东西都寄到 {NEW}，帮我改一下账户地址",
])
def test_an_account_word_beside_goes_to_keeps_the_accounts_address(assistant, state, message):
    _signed_in(assistant, state)
    reply = assistant.reply_text(state, message)
    assert state.pending is not None and state.pending.tool == "update_default_address", reply
    assert state.pending.arguments["address1"] == "12 Oak Lane"


@pytest.mark.parametrize("message", [
    f"Please ship order #W4776164 to {NEW}.",
    f"Please send my order #W4776164 to {NEW}.",
    f"can you ship the espresso machine package to {NEW}",
    f"deliver the parcel with the espresso machine to {NEW} please",
])
@pytest.mark.slow
def test_an_order_or_package_sent_to_an_address_is_that_orders_address(store, state, clf, message):
    """"Ship order #… to <address>", "the <item> package to <address>": the order's shipping address (a package is
    always an order's), never the account's nor a status question (the real classifier reads the first two as
    "track my order")."""
    assistant = Assistant(store, llm=FakeLLM(lambda m: "Happy to help!"), classifier=clf)
    _signed_in(assistant, state)
    reply = assistant.reply_text(state, message)
    assert state.pending is not None and state.pending.tool == "modify_pending_order_address", reply
    assert state.pending.arguments["order_id"] == "#W4776164" and state.pending.arguments["city"] == "Denver"


def test_where_an_order_goes_asked_beside_a_move_is_not_a_change(assistant, state):
    _signed_in(assistant, state)
    reply = assistant.reply_text(state, "where is my order #W4776164 going to?")
    assert state.pending is None, reply
