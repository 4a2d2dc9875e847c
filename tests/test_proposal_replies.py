"""Replies to a proposed order action that are neither a plain yes nor a plain no: a proposed item left out, a yes said
with the action's own verb, a correction keeping one option, keeping what the shopper has, another item of the same
order for the same action. Nothing runs without an explicit yes."""

from __future__ import annotations

import pytest

from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401

MEI = "My name is Mei Kovacs and my zip code is 28236."
RETURN_TWO = "I want to return the water bottle and the desk lamp in order #W6390527, refund to paypal"
LAMP, BOTTLE = "8384507844", "8538875209"
HEADPHONES_BLACK = "I want to exchange the headphones in #W2378156 for black ones"  # blue over-ear → black
HEADPHONES, WATCH = "4202497723", "9408160950"
TSHIRT_L = "change the t-shirt in #W6247578 to size L"  # black XXL cotton crew neck → red L v-neck proposed


def _proposed(assistant, state, who: str, opening: str):
    assistant.reply_text(state, who)
    assistant.reply_text(state, opening)
    assert state.pending is not None
    return state.pending


@pytest.mark.parametrize("text", [
    "No, not the desk lamp: I want to keep it.",
    "I didn't ask about the desk lamp",
    "leave the desk lamp out",
    "please don't return the desk lamp, I'm keeping it",
    "不要动台灯",
    "台灯不退了，我留着",
])
def test_a_proposed_item_left_out_is_proposed_again_without_it(assistant, state, store, text):
    _proposed(assistant, state, MEI, RETURN_TWO)
    assert sorted(state.pending.arguments["item_ids"]) == sorted([LAMP, BOTTLE])
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["item_ids"] == [BOTTLE], reply
    assert store.order("#W6390527").status == "delivered"
    assert "Looking for" not in reply and "您要找" not in reply, reply
    assistant.reply_text(state, "yes" if text.isascii() else "是的")
    assert store.order("#W6390527").return_items == [BOTTLE]


@pytest.mark.parametrize("text", [
    "I didn't ask about the headphones",
    "no, not the headphones, I'm keeping them",
    "leave the headphones as they are",
    "耳机不换了",
    "No, I didn't ask to exchange that.",  # the whole proposal disowned, no item named
    "我没让你换这个",
])
def test_the_only_proposed_item_left_out_declines(assistant, state, store, text):
    _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", HEADPHONES_BLACK)
    reply = assistant.reply_text(state, text)
    assert state.pending is None, reply
    assert "not changed anything" in reply or "没有做任何更改" in reply, reply
    assert "Looking for" not in reply and "您要找" not in reply and "catalog has nothing" not in reply, reply
    assert assistant.reply_text(state, "yes").startswith("There is nothing waiting")
    assert store.order("#W2378156").status == "delivered"


@pytest.mark.parametrize("text", ["is the desk lamp included?", "台灯也包括在内吗？"])
def test_naming_a_proposed_item_without_leaving_it_out_keeps_the_proposal_whole(assistant, state, store, text):
    _proposed(assistant, state, MEI, RETURN_TWO)
    assistant.reply_text(state, text)
    assert state.pending is None or sorted(state.pending.arguments["item_ids"]) == sorted([LAMP, BOTTLE])
    assert store.order("#W6390527").status == "delivered"


def test_a_plain_yes_to_several_items_takes_them_all(assistant, state, store):
    _proposed(assistant, state, MEI, RETURN_TWO)
    assistant.reply_text(state, "yes")
    assert sorted(store.order("#W6390527").return_items) == sorted([LAMP, BOTTLE])


@pytest.mark.parametrize("opening, text, status", [
    (HEADPHONES_BLACK, "ok, go ahead and swap it", "exchange requested"),
    (HEADPHONES_BLACK, "yes, exchange it please", "exchange requested"),
    (HEADPHONES_BLACK, "好的，换吧", "exchange requested"),
    (HEADPHONES_BLACK, "可以，帮我换", "exchange requested"),
    ("I want to return the headphones in #W2378156", "yes, return them", "return requested"),
    ("I want to return the headphones in #W2378156", "好的，退吧", "return requested"),
    ("cancel order #W6247578, I no longer need it", "yes, cancel it", "cancelled"),
])
def test_a_yes_with_the_actions_own_verb_confirms(assistant, state, store, opening, text, status):
    pending = _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", opening)
    reply = assistant.reply_text(state, text)
    assert store.order(pending.arguments["order_id"]).status == status, reply


@pytest.mark.parametrize("opening, text", [
    (HEADPHONES_BLACK, "swap it"),  # no yes word: no explicit yes
    (HEADPHONES_BLACK, "ok, swap it for the white one"),  # a correction
    (HEADPHONES_BLACK, "yes, return it"),  # another action's verb
    (HEADPHONES_BLACK, "好的，别换"),
    (HEADPHONES_BLACK, "换吧"),
    ("cancel order #W6247578, I no longer need it", "ok, cancel that"),
])
def test_a_verb_without_a_yes_or_of_another_action_confirms_nothing(assistant, state, store, opening, text):
    pending = _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", opening)
    before = store.order(pending.arguments["order_id"]).status
    reply = assistant.reply_text(state, text)
    assert store.order(pending.arguments["order_id"]).status == before, reply


@pytest.mark.parametrize("text", [
    "no, I want to keep size XXL, just a different color",
    "no, keep the XXL size, just another colour",
])
def test_a_no_that_keeps_an_option_changes_only_the_others(assistant, state, store, text):
    _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", TSHIRT_L)
    reply = assistant.reply_text(state, text)
    assert state.pending is not None, reply
    assert state.pending.arguments["new_item_ids"] == ["9354168549"], reply  # red XXL cotton crew neck: the size kept
    assert store.order("#W6247578").status == "pending"


@pytest.mark.parametrize("text", [
    "never mind, the black one I've got is fine",
    "nevermind, the black one I have is fine",
    "算了，我现在这件黑色的就挺好",
])
def test_keeping_the_current_colour_declines_and_searches_nothing(assistant, state, store, text):
    _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", TSHIRT_L)
    reply = assistant.reply_text(state, text)
    assert state.pending is None, reply
    assert "not changed anything" in reply or "没有做任何更改" in reply, reply
    assert "Looking for" not in reply and "您要找" not in reply, reply
    assert store.order("#W6247578").status == "pending"


@pytest.mark.parametrize("opening, text", [
    (HEADPHONES_BLACK, "In that same order the smart watch strap is the wrong color, I want it in black"),
    (HEADPHONES_BLACK, "the smart watch too, in black"),
    ("I want to return the headphones in #W2378156", "同一个订单里的智能手表也要退"),
    ("I want to return the headphones in #W2378156", "and the smart watch as well"),
])
def test_another_item_of_the_same_order_joins_the_proposal(assistant, state, store, opening, text):
    """An exchange or a return is once per order: a second item said at the proposal joins it, never replaces it."""
    _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", opening)
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments["item_ids"] == [HEADPHONES, WATCH], reply
    assert store.order("#W2378156").status == "delivered"


@pytest.mark.parametrize("text", ["the smart watch in that order is fine", "does the smart watch come in black?"])
def test_another_item_named_without_a_wish_does_not_join(assistant, state, store, text):
    _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", HEADPHONES_BLACK)
    assistant.reply_text(state, text)
    assert state.pending is None or WATCH not in state.pending.arguments["item_ids"]
    assert store.order("#W2378156").status == "delivered"


@pytest.mark.parametrize("text", ["I never asked to cancel it", "我没说要取消"])
def test_a_disowned_cancellation_is_declined_not_started_again(assistant, state, store, text):
    _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", "cancel order #W6247578, I no longer need it")
    reply = assistant.reply_text(state, text)
    assert state.pending is None, reply
    assert "not changed anything" in reply or "没有做任何更改" in reply, reply
    assert store.order("#W6247578").status == "pending"


@pytest.mark.parametrize("opening, text, expected", [
    (TSHIRT_L, "尺码没问题，换成紫色的", None),  # no purple XXL: said, the proposal stands, the size not changed unasked
    ("change the t-shirt in #W6247578 to size XL", "尺码没问题，但我想要紫色的", "8124970213"),  # purple XL cotton crew neck
])
def test_a_chinese_correction_keeps_the_size_it_says_is_fine(assistant, state, store, opening, text, expected):
    proposed = _proposed(assistant, state, f"my email is {YUSUF_EMAIL}", opening).arguments["new_item_ids"]
    reply = assistant.reply_text(state, text)
    assert state.pending is not None, reply
    assert state.pending.arguments["new_item_ids"] == ([expected] if expected else proposed), reply
    if expected is None:
        assert "没有符合" in reply, reply
    assert store.order("#W6247578").status == "pending"
