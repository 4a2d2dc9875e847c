"""Answers about one product decided in code (assistant/product_answers.py): price superlatives, values said in
other units or as a letter size, how the choices differ, on the demo catalog."""

from __future__ import annotations

import pytest

from assistant import product_answers
from assistant.catalog_turn import _replies
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)


@pytest.fixture
def products(seeded_store):
    return {p.name: p for p in seeded_store.products()}


def test_the_cheapest_and_the_dearest_are_read_in_stock_first(products):
    shirt = products["T-Shirt"]
    replies = _replies()["en"]
    low = product_answers.answer(shirt, "which variant is the least expensive?", replies)
    assert low.known and "$46.66" in low.headline and low.item_ids[0] == "3234800602"
    high = product_answers.answer(shirt, "what is the most expensive blue one?", replies)
    # among the blue ones, and the one in stock before the dearer one that is sold out
    assert "$53.43" in high.headline and "in stock" in high.headline, high.headline
    assert len(high.lines) == 3 and "$54.84" in high.lines[-1]  # the three blue ones; the sold-out one last


def test_a_value_said_in_other_units_or_as_a_letter_size_is_named(products):
    replies = _replies()["en"]
    kettle = next(p for name, p in products.items() if name == "Tea Kettle")
    two = product_answers.answer(kettle, "is the 2 litre one in stock?", replies)
    assert "2 liters" in two.headline, two.headline
    shirt = products["T-Shirt"]
    medium = product_answers.answer(shirt, "how much is the medium one?", replies)
    assert "“M”" in medium.headline and "$50.88" in medium.headline, medium.headline
    assert product_answers.answer(shirt, "is the size M one in stock?", replies).headline.count("“M”") == 1
    assert not product_answers.asks_about(shirt, "i'm not sure yet", fields=())


def test_a_value_the_product_does_not_come_in_is_answered_no_with_what_it_has(products, seeded_store):
    from assistant.catalog_turn import _option_values

    shirt = products["T-Shirt"]
    catalog = _option_values(seeded_store)
    assert "green" in {v.lower() for v in catalog["color"]}  # another product of the shop comes in green
    grounded = product_answers.answer(shirt, "is the green one in stock?", _replies()["en"], catalog)
    assert grounded.headline.startswith("No") and "green" in grounded.headline, grounded.headline
    assert all(c in grounded.headline for c in ("blue", "purple", "red", "black"))


@pytest.mark.parametrize("question", [
    "what's the difference between them?", "how do they differ?", "what are the differences between these options?",
    "ok, how do those compare?", "它们有什么区别？", "这几款有什么不同？",
])
def test_how_the_options_on_offer_differ_is_answered_from_the_catalog(assistant, state, question):
    """At "what should it become?", a question about how the choices differ gets the options they differ in and each
    choice's values and price (not "I don't know"), then the option question again."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to exchange the headphones in order #W2378156")
    reply = assistant.reply_text(state, question)
    answer, _, again = reply.partition("Back to the exchange" if question.isascii() else "我们继续")
    assert "don't know" not in answer and "不知道" not in answer, reply
    assert "type, connectivity, color" in answer and ("become" in again or "换成" in again), reply
    # the five choices in stock on offer, each with its price; none of those out of stock
    assert all(p in answer for p in ("$344.55", "$346.97", "$368.87", "$370.53", "$377.97")), reply
    assert "$330.08" not in answer and "out of stock" not in answer
    assert state.pending is None and state.frame is not None and state.frame.new_item_ids == []


def test_the_difference_between_two_values_named_is_between_their_variants(products):
    shirt = products["T-Shirt"]
    grounded = product_answers.answer(shirt, "what's the difference between the red and the purple one?", _replies()["en"])
    assert grounded.known and "color" in grounded.headline, grounded.headline
    assert len(grounded.lines) == 5 and all("red" in x or "purple" in x for x in grounded.lines), grounded.lines  # 3 red, 2 purple


@pytest.mark.parametrize("question", [
    "what's the difference in sound quality?", "is there any difference in battery life?", "do I pay the difference?",
    "音质有什么区别？",
])
def test_a_difference_in_something_other_than_the_choices_is_no_comparison_of_them(assistant, state, question):
    """"The difference in <what the catalog lacks>" and "do I pay the difference?" are not how the choices differ:
    no table of them, and the option asked again."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to exchange the headphones in order #W2378156")
    reply = assistant.reply_text(state, question)
    assert "options differ" not in reply and "区别在于" not in reply and "$377.97, in stock" not in reply, reply
    assert ("become" in reply or "换成" in reply) and state.pending is None, reply


@pytest.mark.parametrize("question, count, kept", [
    ("what's the difference between the black ones?", 3, "type, connectivity"),
    ("what's the difference between the over-ear black ones?", 2, "connectivity"),
    ("how do the red one and the white one differ?", 2, "color"),
])
def test_the_difference_between_the_choices_with_a_value_named_is_between_those(assistant, state, question, count, kept):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    assistant.reply_text(state, "I want to exchange the headphones in order #W2378156")
    reply = assistant.reply_text(state, question)
    answer, _, again = reply.partition("Back to the exchange")
    assert f"The {count} Headphones options differ in {kept}:" in answer and "become" in again, reply
    assert answer.count(", in stock") == count, reply
