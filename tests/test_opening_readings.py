"""A message about the shopper's own order that lists or names its products (to say which order) is an order task,
not a product search or comparison, whatever the classifier says: "from my delivered order (a <item>, a <item> and
a <item>): the <item> should be …", "the package that went to <city> (…)", "two changes to my pending order: …".
One that browses ("find me a case for the <item> in my order"), only asks ("is the <item> in my order waterproof?")
or wants another one stays what it was. Wording here differs from the situation tasks'."""

from __future__ import annotations

import re

import pytest

from assistant.agent import Assistant
from assistant.llm.fake import FakeLLM
from assistant.state import DialogueState
from assistant.understand import rules
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)
from tests.fakes import Prediction

SWAPS = {"exchange", "modify_order"}


class Says:
    """A classifier that reads every message about an order as `route` (a long list of product nouns looks like a
    search or a comparison to the real one), everything else as small talk."""

    def __init__(self, route: str) -> None:
        self.route = route

    def predict(self, text):
        if re.search(r"order|package|parcel|deliver|订单|包裹", text.lower()):
            return Prediction(intent=self.route, route=self.route, confidence=0.9)
        return Prediction(intent="chit_chat", route="chit_chat", confidence=0.3)


def _signed_in(store, route):  # noqa: F811
    from retrieval.search import Search

    assistant = Assistant(store, llm=FakeLLM(lambda m: "Happy to help!"), classifier=Says(route),
                          services={"search": Search(None, products=store.products())})
    state = DialogueState(session_id="test")
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    return assistant, state


@pytest.mark.parametrize("text", [
    "my delivered order (a keyboard and a watch)",
    "the package that went to Philadelphia",
    "two changes to our pending order",
    "the parcel I received on Monday",
    "my most recent delivery",
    "寄到费城的那个包裹",
    "我的订单里有一个手表",
])
def test_an_order_of_the_shoppers_own_is_read_as_theirs(text):
    assert rules.about_own_order(text), text


@pytest.mark.parametrize("text", ["can I order it in blue?", "before I place an order, what is the return window?",
                                  "an order of six candles", "my son needs hiking boots", "下单前我想问一下"])
def test_an_order_in_general_is_not_the_shoppers_own(text):
    assert not rules.about_own_order(text), text


@pytest.mark.parametrize("route", ["search", "compare", "product_question", "out_of_scope"])
@pytest.mark.parametrize("text, order_id", [
    ("From my delivered order (headphones, a vacuum cleaner, a keyboard, a thermostat and a watch): the gold smart watch "
     "should be a silver one, everything else the same.", "#W2378156"),
    ("The package that went to Philadelphia with the headphones, the robot vacuum and the smart watch: I would like "
     "the headphones in black, still over-ear and wireless.", "#W2378156"),
    ("Our delivered parcel (a mechanical keyboard, a smart thermostat, a smart watch and more) - the keyboard is too "
     "loud for the office, I'd prefer one with tactile switches.", "#W2378156"),
    ("About my pending order with the espresso machine and a t-shirt: the t-shirt should be a medium, same colour.",
     "#W4776164"),
    ("My pending package (an espresso machine and a blue t-shirt): I'd like the t-shirt in a medium, and the credit "
     "card can take any difference.", "#W4776164"),  # the payment words say how the change is paid
    ("我的订单（耳机、扫地机器人、机械键盘、智能手表）里，金色的智能手表我想要银色的，其他不变。", "#W2378156"),
    ("From my delivered order (headphones, a keyboard and a watch): the headphones are too heavy for my ears, I would "
     "like on-ear ones, still wireless.", "#W2378156"),  # "for my ears" is no one else it is for
])
def test_an_order_described_by_its_products_is_an_order_task_whatever_the_classifier_says(store, route, text, order_id):  # noqa: F811
    assistant, state = _signed_in(store, route)
    reply = assistant.reply_text(state, text)
    assert "Looking for" not in reply and "Side by side" not in reply, reply
    assert state.frame is not None and state.frame.route in SWAPS, reply
    assert (state.pending.arguments["order_id"] if state.pending else state.frame.order_id) == order_id, reply


def test_things_not_needed_of_an_order_it_lists_are_asked_not_all_of_them(store):  # noqa: F811
    """The list in brackets says which order; "some things" are not all it holds: which, asked."""
    assistant, state = _signed_in(store, "search")
    reply = assistant.reply_text(state, "My order that went to Philadelphia (headphones, a vacuum cleaner, a keyboard, "
                                        "a thermostat and a smart watch) has a few items in it that I want to send back.")
    assert state.pending is None and state.frame is not None and state.frame.route == "return", reply
    assert "Which items of order #W2378156" in reply, reply
    reply = assistant.reply_text(state, "the keyboard and the thermostat")
    assert state.pending is not None and sorted(state.pending.arguments["item_ids"]) == ["1151293680", "4983901480"], reply


@pytest.mark.parametrize("text", [
    "find me a case for the smart watch in my delivered order",  # a browse
    "show me headphones like the ones in my order, but on-ear",
    "is the smart watch in my order waterproof?",  # only asks
    "I'd like another smart watch like the one in my delivered order, as a present",  # another one
])
def test_a_browse_a_question_or_another_one_about_an_order_stays_no_order_task(store, text):  # noqa: F811
    assistant, state = _signed_in(store, "search")
    reply = assistant.reply_text(state, text)
    assert state.frame is None and state.pending is None, reply


@pytest.mark.parametrize("text", ["my delivered order with the smart watch came on time, thanks!",
                                  "Our package with the headphones and the keyboard arrived safely, great service."])
def test_a_remark_about_an_order_it_lists_starts_no_task(store, text):  # noqa: F811
    assistant, state = _signed_in(store, "out_of_scope")
    reply = assistant.reply_text(state, text)
    assert state.frame is None and state.pending is None, reply


def test_a_status_question_about_a_listed_order_stays_a_status_question(store):  # noqa: F811
    assistant, state = _signed_in(store, "order_status")
    reply = assistant.reply_text(state, "Has my package with the headphones and the smart watch been delivered?")
    assert state.pending is None and (state.frame is None or state.frame.route == "order_status"), reply


ORDER = {"order_id": "#W1", "items": [
    {"item_id": "g", "name": "Grill", "options": {"type": "charcoal"}},
    {"item_id": "y", "name": "Yoga Mat", "options": {"color": "blue"}},
    {"item_id": "l", "name": "Laptop", "options": {"color": "space grey"}},
]}


@pytest.mark.parametrize("text, items", [
    ("The parcel that went to Boise (a grill, a yoga mat and a laptop) has some things in it I don't need.", []),
    ("My order (a grill, a yoga mat and a laptop): a few items of it should go back.", []),
    ("我的订单（烤架、瑜伽垫和笔记本电脑）里有些东西我不需要了。", []),
    ("My order (a grill, a yoga mat and a laptop): the yoga mat should go back.", ["y"]),
    ("Please send back my order with the grill and the laptop.", ["g", "l"]),  # the list is what goes back: nothing else is said
])
def test_an_unnamed_part_of_an_order_its_list_describes_is_asked(text, items):
    from assistant.slots import read_slots

    assert sorted(rules.match_items(ORDER, text, read_slots(text))) == items


@pytest.mark.parametrize("text, items", [
    ("My order has a grill, a yoga mat and a laptop. I'd like the yoga mat in green.", ["y"]),
    ("The package contains a grill, a yoga mat and a laptop; the grill should be the gas one instead.", ["g"]),
    ("My order has a grill and a laptop, please send them back.", ["g", "l"]),  # nothing else named: those meant
])
def test_an_order_that_has_a_list_of_things_says_which_order(text, items):
    from assistant.slots import read_slots

    assert sorted(rules.match_items(ORDER, text, read_slots(text))) == items


OMAR_EMAIL = "omar.silva6106@example.com"  # a pending order of shoes, a keyboard and a kettle; only a $17 gift card
CHANGES = ("Please modify my pending order: the running shoes should be the red leather ones in size 8, the keyboard "
           "should have clicky switches in full size with no backlight, and the kettle should be the 1.5L black plastic "
           "one. Pay with my gift card.")


@pytest.mark.parametrize("text", [
    "If the keyboard is what pushes it over, leave the keyboard as it is.",
    "ok, leave the keyboard out then",
    "then skip the keyboard and do the other two",
    "Fine. Don't touch the keyboard; just the shoes and the kettle.",
    "那键盘就不要动了，只改鞋和水壶。",
])
def test_an_item_left_out_of_a_change_its_payment_could_not_cover_proposes_the_rest(assistant, state, text):  # noqa: F811
    assistant.reply_text(state, f"my email is {OMAR_EMAIL}")
    reply = assistant.reply_text(state, CHANGES)
    assert state.pending is None and "does not cover" in reply, reply
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.tool == "modify_pending_order_items", reply
    assert state.pending.arguments["item_ids"] == ["4107812777", "9132333852"], reply  # the shoes and the kettle


@pytest.mark.parametrize("text", ["leave all of it as it is then", "never mind, leave the order alone",
                                  "leave the keyboard as it is and cancel the whole order instead"])
def test_leaving_every_item_of_a_refused_change_proposes_nothing(assistant, state, text):  # noqa: F811
    assistant.reply_text(state, f"my email is {OMAR_EMAIL}")
    assistant.reply_text(state, CHANGES)
    reply = assistant.reply_text(state, text)
    assert state.pending is None, reply
