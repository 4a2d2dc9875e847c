"""A Chinese request picks the shopper's order as its English twin does: the order reader scores the orders by the
words of the message, and a Chinese message is read in the orders' own (English) words too, its option values
(黑色 → black) and product words (咖啡机 → the catalog's names it may mean). The demo customer has two pending orders
each holding a T-Shirt: #W6247578 (black, XXL) and #W4776164 (blue, S, with an Espresso Machine)."""

from __future__ import annotations

import pytest

from assistant.state import DialogueState
from assistant.understand import rules
from tests.agent_fixtures import YUSUF_EMAIL, assistant, store  # noqa: F401  (fixtures)

BLACK, WITH_MACHINE = "#W6247578", "#W4776164"


def _order_meant(assistant, text: str) -> tuple[str | None, str]:
    """(the order the request is taken up for, the reply), signed in as the demo customer."""
    state = DialogueState(session_id=text)
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, text)
    return (state.frame.order_id if state.frame is not None else None), reply


@pytest.mark.parametrize("zh, en, order_id", [
    ("我的T恤是黑色的，还有哪些颜色？", "my t-shirt is black, which other colours does it come in?", BLACK),
    ("我想把黑色的那件T恤换成红色的", "I want to change the black t-shirt to a red one", BLACK),
    ("黑色T恤能换成L号吗", "can the black t-shirt be changed to size L", BLACK),
    ("我那个还没发货、有咖啡机和T恤的订单，我想把T恤换成M号",
     "my pending order with the espresso machine and the t-shirt, I want to change the t-shirt to size M", WITH_MACHINE),
    ("我的待处理订单里有一件T恤和一台咖啡机，我想把T恤换成M号",
     "my pending order has a t-shirt and an espresso machine, I want the t-shirt in size M", WITH_MACHINE),
    ("和咖啡机一起买的T恤我想换成M号", "the t-shirt I bought with the espresso machine, I'd like it in M", WITH_MACHINE),
])
def test_a_chinese_request_picks_the_order_its_english_twin_picks(assistant, zh, en, order_id):
    assert _order_meant(assistant, en)[0] == order_id
    picked, reply = _order_meant(assistant, zh)
    assert picked == order_id and "哪个订单" not in reply, reply


@pytest.mark.parametrize("zh, en", [
    ("我想把T恤换成M号", "I want to change the t-shirt to size M"),  # neither T-Shirt is told apart
    ("我想把我的T恤换成红色的", "I'd like my t-shirt in red instead"),  # a value neither has: the new one, not which
])
def test_a_request_either_order_fits_still_asks_which_in_both_languages(assistant, zh, en):
    picked, reply = _order_meant(assistant, en)
    assert picked is None and "Which order" in reply, reply
    picked, reply = _order_meant(assistant, zh)
    assert picked is None and "哪个订单" in reply, reply


def test_a_chinese_message_is_read_in_the_catalogs_words_too():
    read = rules.read_in_english("我那件黑色的T恤和咖啡机")
    assert "black" in read and "espresso machine" in read and "t-shirt" in read
    assert rules.read_in_english("the black t-shirt") == "the black t-shirt"


@pytest.mark.parametrize("answer_zh, answer_en", [("黑色的那件", "the black one"), ("是黑色XXL的那件", "it's the black XXL one")])
def test_an_answer_to_which_order_in_chinese_picks_as_its_english_twin(assistant, answer_zh, answer_en):
    for request, answer in (("I want to change the t-shirt to size M", answer_en), ("我想把T恤换成M号", answer_zh)):
        state = DialogueState(session_id=answer)
        assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
        assistant.reply_text(state, request)
        assert state.frame is not None and state.frame.order_id is None  # which order: asked
        reply = assistant.reply_text(state, answer)
        assert state.frame is not None and state.frame.order_id == BLACK, reply
