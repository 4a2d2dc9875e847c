"""A new option read once into a typed `Wish`, and chosen from it (assistant/understand/wish.py); the model's
reading fills the same `Wish` under a schema of the product's own values (assistant/understand/llm_wish.py).
Wording here is our own."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from assistant.llm.fake import FakeLLM
from assistant.understand import rules
from assistant.understand.llm_reader import LLMReader
from assistant.understand.llm_wish import schema, to_wish, user_prompt
from assistant.understand.wish import Wish, choose, pick_variant, read_wish


def _variant(item_id, price, available=True, **options):
    return SimpleNamespace(item_id=item_id, price=price, available=available, options=options)


JACKET = SimpleNamespace(name="Rain Jacket", product_id="p1", variants=[
    _variant("1", 80.0, size="M", color="blue"),  # the shopper's
    _variant("2", 82.0, size="L", color="blue"),
    _variant("3", 85.0, size="L", color="red"),
    _variant("4", 79.0, size="S", color="blue"),
    _variant("5", 90.0, size="XL", color="red"),
    _variant("6", 88.0, False, size="XL", color="blue"),
])
ITEM = {"item_id": "1", "name": "Rain Jacket", "product_id": "p1", "price": 80.0, "options": {"size": "M", "color": "blue"}}


@pytest.mark.parametrize("text, check", [
    ("a size larger in the same colour", lambda w: any(d == 1 and "size" in keys for d, keys in w.comparatives) and "color" in w.kept),
    ("the red one please", lambda w: w.wanted == {"color": {"red"}} and w.named["color"] == {"red"}),
    ("anything but red", lambda w: w.avoided == {"color": {"red"}}),
    ("the cheapest in size l", lambda w: w.price == -1 and w.bound == {"size": "l"}),
    ("the biggest size", lambda w: ("size", 1) in w.extremes),
    ("item 5", lambda w: True),
])
def test_the_reading_is_typed_data(text, check):
    wish = read_wish(JACKET, ITEM, text)
    assert isinstance(wish, Wish) and check(wish)


@pytest.mark.parametrize("text, chosen", [
    ("a size larger in the same colour", "2"),
    ("the red one, size L", "3"),
    ("the biggest size", "5"),  # the XL in blue is not available
    ("one size smaller", "4"),
    ("the cheapest", "4"),
    ("the cheapest red one", "3"),
])
def test_choose_decides_from_the_reading(text, chosen):
    assert pick_variant(JACKET, ITEM, text) == choose(JACKET, ITEM, read_wish(JACKET, ITEM, text))
    assert pick_variant(JACKET, ITEM, text)[0] == chosen


def test_a_kept_option_no_variant_keeps_is_unmet():
    wish = Wish(kept={"color"}, wanted={"size": {"xl"}}, asked={"size"}, named={"size": {"xl"}})
    assert choose(JACKET, ITEM, wish)[0] == rules.UNMET  # the blue XL is sold out


def test_the_models_schema_lists_only_the_products_values():
    props = schema(JACKET, ITEM)["properties"]
    assert set(props) == {"size", "color", "price"}
    assert {"m", "l", "s", "xl", "keep", "not said", "more", "most"} <= set(props["size"]["enum"])
    assert "green" not in props["color"]["enum"]
    assert "Rain Jacket, now: size M, color blue" in user_prompt(JACKET, ITEM, "a larger one")


@pytest.mark.parametrize("answer, chosen", [
    ({"size": "l", "color": "red", "price": "any"}, "3"),
    ({"size": "more", "color": "keep", "price": "any"}, "2"),
    ({"size": "most", "color": "not said", "price": "any"}, "5"),
    ({"size": "any", "color": "red", "price": "cheapest"}, "3"),
    ({"size": "xl", "color": "keep", "price": "any"}, rules.UNMET),
])
def test_the_models_answer_becomes_a_wish_choose_decides(answer, chosen):
    assert choose(JACKET, ITEM, to_wish(answer, ITEM))[0] == chosen


def test_the_model_reader_reads_under_the_schema_and_refuses_what_is_outside_it():
    llm = FakeLLM([json.dumps({"size": "l", "color": "red", "price": "any"}), "not json", json.dumps({"size": 3})])
    reader = LLMReader(llm)
    wish = reader.read_wish(JACKET, ITEM, "the red one a size up")
    assert wish is not None and wish.wanted == {"size": {"l"}, "color": {"red"}}
    assert llm.calls[0][1].json_schema == schema(JACKET, ITEM)  # the grammar the backend enforces
    assert reader.read_wish(JACKET, ITEM, "?") is None
    assert reader.read_wish(JACKET, ITEM, "??") is None


def test_hybrid_asks_the_model_only_where_the_rules_reading_chooses_nothing():
    from assistant.understand import HybridReader

    llm = FakeLLM(lambda messages: json.dumps({"size": "l", "color": "red", "price": "any"}))
    reader = HybridReader(llm)
    assert reader.variant(JACKET, ITEM, "the red one, size L")[0] == "3"
    assert not llm.calls  # the rules chose
    assert reader.variant(JACKET, ITEM, "something that suits a rainy autumn", exact=True)[0] == "3"
    assert len(llm.calls) == 1  # the rules read nothing that chooses: the model's Wish, chosen by the same solver


def test_the_model_reader_reads_a_message_once_for_the_flows_two_questions():
    llm = FakeLLM(lambda messages: json.dumps({"size": "xl", "color": "keep", "price": "any"}))
    reader = LLMReader(llm)
    assert reader.variant(JACKET, ITEM, "an XL, same colour", exact=True)[0] == rules.UNMET  # the blue XL is sold out
    assert reader.variant(JACKET, ITEM, "an XL, same colour")[0] == rules.UNMET
    assert len(llm.calls) == 1
