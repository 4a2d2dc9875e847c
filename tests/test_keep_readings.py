"""Requests that name the item to act on and also an item of the same order that stays as it is ("the <item> I keep",
"<item>不用动"), or one named only to say which order; a change narrowed to one item ("the <item> change alone") while
its task waits or at its proposal; and an order action named in words breaking the classifier's near tie between two
actions. Wording here is our own (sit-102, sit-103 and sit-104 are the situations of this kind)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from assistant.agent import Assistant
from assistant.llm.fake import FakeLLM
from assistant.slots import read_slots
from assistant.understand import rules
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)

ORDER = {"order_id": "#W1", "items": [
    {"item_id": "t", "name": "T-Shirt", "options": {"color": "blue", "size": "S", "material": "cotton", "style": "v-neck"}},
    {"item_id": "e", "name": "Espresso Machine", "options": {"pressure": "9 bar", "capacity": "1L", "type": "automatic"}},
    {"item_id": "h", "name": "Headphones", "options": {"type": "over-ear", "connectivity": "wireless", "color": "blue"}},
    {"item_id": "c", "name": "Office Chair", "options": {"material": "fabric", "color": "blue", "backrest height": "standard"}},
]}


@pytest.mark.parametrize("text, items", [
    ("The headphones that came with my espresso machine hurt my ears. I'd like to send them back; the espresso machine I keep.", ["h"]),
    ("Return the headphones. The espresso machine is staying.", ["h"]),
    ("Return the headphones, the espresso machine can stay where it is.", ["h"]),
    ("I want to return the headphones and leave the espresso machine alone.", ["h"]),
    ("Send the headphones back; the espresso machine I'm holding on to.", ["h"]),
    ("The t-shirt should be black instead, the espresso machine doesn't need to change.", ["t"]),
    ("T恤换成黑色的，其他不变；咖啡机不用动。", ["t"]),
    ("咖啡机保留，T恤换成黑色", ["t"]),
    ("把T恤换成黑色的，咖啡机照旧", ["t"]),
    ("退掉耳机，咖啡机我留着", ["h"]),
])
def test_an_item_said_to_stay_is_not_acted_on(text, items):
    assert sorted(rules.match_items(ORDER, text, read_slots(text), fallback=False)) == items


@pytest.mark.parametrize("text, items", [
    ("Return the headphones and the espresso machine, I keep the receipts.", ["e", "h"]),  # a thing kept that is no item
    ("Make the t-shirt black; the t-shirt's size stays the same.", ["t"]),  # an option kept, not the item
    ("T恤的颜色不变，换成L码", ["t"]),
    ("Return the headphones and the espresso machine; the t-shirt is fine.", ["e", "h"]),
])
def test_an_option_or_another_thing_kept_leaves_the_items_asked(text, items):
    assert sorted(rules.match_items(ORDER, text, read_slots(text), fallback=False)) == items


@pytest.mark.parametrize("text, items", [
    ("Return the headphones; the blue fabric office chair is fine.", ["h"]),  # "fabric" names the material, here the chair's own
    ("The office chair's backrest height stays as it is, but make the chair red.", ["c"]),  # an option kept
])
def test_an_option_word_that_is_the_items_own_value_describes_it(text, items):
    assert sorted(rules.match_items(ORDER, text, read_slots(text), fallback=False)) == items


def _signed_in(assistant, state, first: str) -> str:
    assistant.reply_text(state, first)
    return assistant.reply_text(state, YUSUF_EMAIL)


@pytest.mark.parametrize("first", [
    "I want to return the headphones that came in the same box as my vacuum cleaner; the vacuum cleaner I keep.",
    "Please return my headphones. The vacuum cleaner from that delivery stays.",
    "I'd like to return the headphones and leave the vacuum cleaner as it is.",
])
def test_a_return_takes_the_item_named_not_the_one_kept(assistant, state, first):
    reply = _signed_in(assistant, state, first)
    assert state.pending is not None and state.pending.tool == "return_delivered_order_items", reply
    assert state.pending.arguments["item_ids"] == ["4202497723"]  # the headphones, not the vacuum cleaner


def test_a_chinese_change_leaves_the_item_said_not_to_move(assistant, state):
    reply = _signed_in(assistant, state, "我的订单 #W4776164 里面有一件T恤和一台咖啡机。T恤想换成黑色的，其他都不变；咖啡机不用动。")
    assert "Espresso Machine" not in reply.split("?")[0]
    frame = state.frame
    assert frame is not None and frame.item_ids == ["8349118980"], reply  # the T-shirt only


TWO_CHANGES = "For order #W2378156 I want to exchange the keyboard for the tactile one with white backlight and the thermostat for a white one."


@pytest.mark.parametrize("answer", [
    "My card is fine. And only the keyboard change please.",
    "Use my card; confirm the keyboard change alone.",
    "Put it on my card, just the keyboard change.",
])
def test_a_change_narrowed_at_its_proposal_of_one_method_keeps_only_that_item(assistant, state, answer):
    _signed_in(assistant, state, TWO_CHANGES)  # one payment method: proposed straight away
    reply = assistant.reply_text(state, answer)
    assert state.pending is not None, reply
    assert state.pending.arguments["item_ids"] == ["1151293680"], reply  # the keyboard only


TWO_CHANGES_TWO_METHODS = "I want to change my pending order: the kettle to white glass and the helmet to red with medium ventilation."


@pytest.mark.parametrize("answer", [
    "The gift card, and only the kettle change please.",
    "Mastercard. Confirm the kettle change alone.",
    "Gift card; just the kettle one on its own.",
    "用礼品卡，只换水壶。",
])
def test_a_change_narrowed_while_its_task_asks_the_method_keeps_only_that_item(assistant, state, answer):
    assistant.reply_text(state, TWO_CHANGES_TWO_METHODS)
    asked = assistant.reply_text(state, "chen.wilson5208@example.com")
    assert state.pending is None and "payment method" in asked  # two methods: which one is asked first
    reply = assistant.reply_text(state, answer)
    assert state.pending is not None, reply
    assert state.pending.arguments["item_ids"] == ["5428723833"], reply  # the kettle only


def test_a_method_alone_while_its_task_asks_it_keeps_every_item(assistant, state):
    assistant.reply_text(state, TWO_CHANGES_TWO_METHODS)
    assistant.reply_text(state, "chen.wilson5208@example.com")
    reply = assistant.reply_text(state, "The gift card, please.")
    assert state.pending is not None and len(state.pending.arguments["item_ids"]) == 2, reply


@pytest.mark.parametrize("answer", ["confirm the keyboard change alone", "only the keyboard, please", "just the keyboard one on its own"])
def test_a_change_narrowed_at_its_proposal_is_proposed_again_with_that_item(assistant, state, answer):
    _signed_in(assistant, state, TWO_CHANGES)
    if state.pending is None:
        assistant.reply_text(state, "my credit card")
    assert state.pending is not None and len(state.pending.arguments["item_ids"]) == 2
    reply = assistant.reply_text(state, answer)
    assert state.pending is not None, reply
    assert state.pending.arguments["item_ids"] == ["1151293680"], reply


@dataclass
class _Prediction:
    intent: str
    route: str
    confidence: float
    top: list = field(default_factory=list)
    in_scope: bool = True
    lang: str = "en"
    near_route: str | None = None


class _TieClassifier:
    """A classifier reading every message as an exchange just ahead of a return (or by `gap`): what the words name decides."""

    routes = {"exchange_item": "exchange", "return_item": "return", "search_products": "search"}

    def __init__(self, gap: float = 0.01) -> None:
        self.gap = gap

    def predict(self, text: str) -> _Prediction:
        best = 0.45
        return _Prediction("exchange_item", "exchange", best, [("exchange_item", best), ("return_item", best - self.gap), ("search_products", 0.1)])


def _with(store, classifier) -> Assistant:
    return Assistant(store, llm=FakeLLM(lambda m: "Happy to help!"), classifier=classifier)


@pytest.mark.parametrize("first", [
    "The headphones from my last delivery are too tight. I want to send them back for a refund.",
    "I'd like my money back for the headphones, they are too tight, so I'm sending them back.",
    "Please refund the headphones, I will send them back.",
    "The digital camera I got is too heavy for me. I want to send it back for a refund.",  # "digital": a name, no value wished
])
def test_a_return_named_breaks_a_near_tie_with_an_exchange(store, state, first):
    assistant = _with(store, _TieClassifier())
    reply = _signed_in(assistant, state, first)
    assert state.pending is not None and state.pending.tool == "return_delivered_order_items", reply


@pytest.mark.parametrize("gap, first", [
    (0.01, "I want to exchange the headphones for red ones, or else return them."),  # both actions named: the classifier's
    (0.01, "The headphones are too tight, I'd return them and need the red ones instead."),  # another value wished
    (0.3, "The headphones from my last delivery are too tight. I want to send them back for a refund."),  # no tie
])
def test_no_near_tie_or_words_naming_more_keep_the_classifier_route(store, state, gap, first):
    assistant = _with(store, _TieClassifier(gap))
    reply = _signed_in(assistant, state, first)
    assert state.frame is not None and state.frame.route == "exchange", reply


ONE_ITEM_UNSAID = "I want to change the kettle in my pending order."


@pytest.mark.parametrize("first, unsure, said", [
    (ONE_ITEM_UNSAID, "I'm not sure, sorry.", "Cycling Helmet"),
    (ONE_ITEM_UNSAID, "hmm, not sure", "Jigsaw Puzzle"),
    ("我想换货：还没发货的订单里的水壶。", "我不确定。", "Cycling Helmet"),
])
def test_not_sure_what_an_item_should_become_says_what_was_understood_and_the_other_items(assistant, state, first, unsure, said):
    assistant.reply_text(state, first)
    asked = assistant.reply_text(state, "chen.wilson5208@example.com")
    again = assistant.reply_text(state, unsure)
    assert again != asked and "#W8328493" in again and said in again  # not the identical question: the order and its other items


def test_an_answer_giving_a_value_is_no_hesitation(assistant, state):
    assistant.reply_text(state, ONE_ITEM_UNSAID)
    assistant.reply_text(state, "chen.wilson5208@example.com")
    reply = assistant.reply_text(state, "the white glass one, same size")
    assert "Cycling Helmet" not in reply and state.frame.new_item_ids == ["9472539378"], reply


@pytest.mark.parametrize("meant", [
    "Sorry, I meant the helmet, not the kettle.",
    "Oh wait, not the kettle: the helmet.",
    "不好意思，我说的是头盔，水壶不用换。",
])
def test_another_item_meant_while_asked_what_one_should_become_is_read_again(assistant, state, meant):
    assistant.reply_text(state, ONE_ITEM_UNSAID)
    assistant.reply_text(state, "chen.wilson5208@example.com")
    reply = assistant.reply_text(state, meant)
    assert state.frame is not None and state.frame.item_ids == ["8591113813"], reply  # the helmet
    assert "Cycling Helmet" in reply and "Electric Kettle" not in reply


def test_an_item_named_as_a_like_while_asked_keeps_the_item_asked(assistant, state):
    assistant.reply_text(state, ONE_ITEM_UNSAID)
    assistant.reply_text(state, "chen.wilson5208@example.com")
    assistant.reply_text(state, "white, like my helmet")
    assert state.frame is None or state.frame.item_ids[:1] == ["5428723833"]  # still the kettle
