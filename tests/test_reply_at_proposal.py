"""The reply at a proposal: an explicit yes said with more is a yes, and a reply that is neither yes nor no (a
question about the proposal, a hesitation) keeps the proposal waiting for its yes."""

from __future__ import annotations

import pytest

from assistant.understand import rules
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)

_CANCEL = "cancel order #W6247578, I no longer need it"  # a pending order of the demo customer's


def _proposed(assistant, state):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, _CANCEL)
    assert state.pending is not None and state.pending.tool == "cancel_pending_order"
    return state.pending


@pytest.mark.parametrize(("text", "answered"), [
    ("yes, cancel it", None),
    ("ok go ahead and cancel the whole order", None),
    ("yesss do it", None),
    ("sure, do it. how long does the refund take?", "5 to 7 business days"),
    ("yes — and will I be charged a fee?", "From the shop policy"),
    ("好的，取消吧", None),
    ("确定取消", None),
    ("可以，办吧。退款多久到账？", "根据商店政策"),
])
def test_an_explicit_yes_said_with_more_runs_the_action(assistant, state, store, text, answered):
    """A yes that opens the reply, followed by the action's own verb or object, or by a question: the action runs,
    and the question is answered after it, not dropped."""
    _proposed(assistant, state)
    reply = assistant.reply_text(state, text)
    assert store.order("#W6247578").status == "cancelled", reply
    assert "not changed anything" not in reply and "没有做任何更改" not in reply, reply
    if answered:
        assert answered in reply, reply


@pytest.mark.parametrize("text", [
    "yes, but wait, will I be charged a fee?",
    "yes? what does that mean",
    "ok… let me think",
    "嗯……",
    "yes if it's free",
    "Yes? cancel what exactly?",
    "好的，但是先别取消",
])
def test_a_yes_taken_back_or_hedged_runs_nothing(assistant, state, store, text):
    """The yes must stay explicit: a yes followed by a hedge, asked back, or trailing off runs nothing."""
    _proposed(assistant, state)
    reply = assistant.reply_text(state, text)
    assert store.order("#W6247578").status == "pending", reply


@pytest.mark.parametrize("text", [
    "hmm, let me check with my partner first",
    "hold on, I need to think about it",
    "does cancelling affect my other orders?",
    "yes, but wait, will I be charged a fee?",
    "ok… let me think",
    "等一下，我问问家人",
    "嗯……让我想想",
    "取消以后还能恢复吗？",
])
def test_a_question_or_hesitation_keeps_the_proposal_waiting(assistant, state, store, text):
    """Neither yes nor no: the proposal is not dropped; it is asked for again, and a later yes runs it."""
    proposed = _proposed(assistant, state)
    reply = assistant.reply_text(state, text)
    assert state.pending == proposed, reply
    assert ("Shall I go ahead?" in reply or "是否继续" in reply) and "not changed anything" not in reply, reply
    assert store.order("#W6247578").status == "pending"
    done = assistant.reply_text(state, "yes" if text.isascii() else "好的")
    assert store.order("#W6247578").status == "cancelled", done


@pytest.mark.parametrize("text", ["no thanks, let me think about it", "never mind, how long would a return take?", "不取消了，谢谢。顺便问一下退款多久到账？",
                                  "where is my order #W2378156?"])
def test_a_no_or_a_request_about_something_else_still_ends_the_proposal(assistant, state, store, text):
    """A clear no (whatever follows), or a question about another order, ends the proposal as before."""
    _proposed(assistant, state)
    reply = assistant.reply_text(state, text)
    assert state.pending is None or state.pending.tool != "cancel_pending_order", reply
    assistant.reply_text(state, "ok thanks, that's all")
    assert store.order("#W6247578").status == "pending"


@pytest.mark.parametrize(("text", "runs"), [
    ("yes, refund it to the Mastercard", True),
    ("ok, return them. refund to my credit card please", True),
    ("好的，退到信用卡吧", True),
    ("yes, refund it to my Visa", False),
    ("yes, put the refund on a gift card", False),
    ("好的，退到礼品卡吧", False),
])
def test_a_yes_naming_a_payment_method_runs_only_with_the_proposals_own(assistant, state, store, text, runs):
    """A payment method said after the yes is the action's own object only when it is the one proposed (here the
    card the order was paid with): another method is no plain yes, and nothing runs on it."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to return something")
    assistant.reply_text(state, "order #W2378156")
    assistant.reply_text(state, "the headphones")
    assert state.pending is not None and state.pending.arguments["payment_method_id"] == "credit_card_9513926"
    reply = assistant.reply_text(state, text)
    assert (store.order("#W2378156").status == "return requested") == runs, reply


@pytest.mark.parametrize("text", ["退款多久能到账？", "嗯……让我想想"])
def test_a_proposal_said_again_follows_the_shoppers_change_of_language(assistant, state, store, text):
    """Proposed in English, then a question or a hesitation in Chinese: the proposal is said again in Chinese, not in
    the English it was first described in."""
    _proposed(assistant, state)
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and "取消订单 #W6247578" in reply and "Please confirm" not in reply, reply
    assert "cancel order" not in reply, reply


@pytest.mark.parametrize(("text", "next_tool"), [
    ("yes, and also cancel order #W4776164 because I ordered it by mistake", "cancel_pending_order"),
    ("yes, I also want to return the headphones from my delivered order", "return_delivered_order_items"),
    ("好的，另外把订单#W4776164也取消，我下错单了", "cancel_pending_order"),
])
def test_a_yes_followed_by_another_request_runs_then_takes_the_request(assistant, state, store, text, next_tool):
    """"Yes, and also <another action>": the yes runs the action proposed, then the other request is taken up (its own
    proposal, waiting for its own yes); an action's verb after a yes without "also" stays no yes (tested above)."""
    _proposed(assistant, state)
    reply = assistant.reply_text(state, text)
    assert store.order("#W6247578").status == "cancelled", reply
    assert state.pending is not None and state.pending.tool == next_tool, reply
    assert state.pending.arguments.get("order_id") != "#W6247578"


@pytest.mark.parametrize("text", ["yes, and return the vacuum cleaner too", "ok, also send back the vacuum cleaner", "好的，Vacuum Cleaner也退了吧"])
def test_a_yes_followed_by_more_of_the_same_action_amends_the_proposal(assistant, state, store, text):
    """"Yes, and return the <item> too" to a return: the same action on the same order, done once an order, so the
    proposal takes the item and waits for its yes; running the first part would make the rest impossible."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to return the headphones from order #W2378156")
    reply = assistant.reply_text(state, text)
    assert store.order("#W2378156").status == "delivered", reply
    assert state.pending is not None and len(state.pending.arguments["item_ids"]) == 2, reply


@pytest.mark.parametrize(("text", "answered"), [
    ("I changed my mind, I'll keep everything as is.", None),
    ("actually forget it, I'll give them to my brother", None),
    ("You know what, I'll just keep the original items. Never mind.", None),
    ("Actually I'll keep the headphones, sorry for the trouble. Can you tell me when my order #W4776164 ships?", "#W4776164 is pending"),
    ("算了，都留着吧", None),
])
def test_a_reply_dropping_the_proposal_is_a_decline(assistant, state, store, text, answered):
    """Words that drop the proposal without a plain no ("I changed my mind, I'll keep everything", "I'll keep the
    <item>" when it is all that was proposed) decline it: nothing runs, it is not proposed again, and a question said
    with them is answered."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to return the headphones from order #W2378156")
    reply = assistant.reply_text(state, text)
    assert store.order("#W2378156").status == "delivered" and state.pending is None, reply
    assert "Please confirm" not in reply and "请确认" not in reply, reply
    if answered:
        assert answered in reply, reply


@pytest.mark.parametrize("text", ["actually keep the headphones", "no, I'll keep the headphones after all"])
def test_keeping_one_of_two_proposed_items_takes_it_out(assistant, state, store, text):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to return the headphones and the vacuum cleaner from order #W2378156")
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["item_ids"] == ["4602305039"], reply


@pytest.mark.parametrize("text", ["never mind, use PayPal instead", "forget it, just return the jacket",
                                  "keep the size as it is, make it blue", "wait, never mind?"])
def test_a_reply_asking_something_else_in_place_of_the_proposal_does_not_drop_it(text):
    """Drop words with another action, a payment method or option values are a correction, not a decline."""
    assert not rules.drops_proposal(text)


@pytest.mark.parametrize("text", ["wrong one: it's the vacuum cleaner I want to return, not the headphones",
                                  "sorry, it's the vacuum cleaner I'm returning, not the headphones"])
def test_another_item_in_place_of_the_only_one_proposed_is_a_correction(assistant, state, store, text):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to return the headphones from order #W2378156")
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["item_ids"] == ["4602305039"], reply


def test_a_yes_with_a_request_about_an_order_not_theirs_runs_nothing(assistant, state, store):
    """"Yes, and also cancel #<another customer's order>": the reply mixes the yes with an order the account does not
    hold (a typo or an attack), so it is no plain yes: neither order changes."""
    _proposed(assistant, state)
    reply = assistant.reply_text(state, "yes, and also cancel #W1046662")
    assert store.order("#W6247578").status == "pending", reply
    assert store.order("#W1046662").status == "pending", reply
