"""Readers: the rule reader's narrowing on hand-written cases, the LLM reader with a scripted model, and
(slow) the packaged model, whose answer must always be among the options."""

from __future__ import annotations

import json

import pytest

from assistant.llm import LLMUnavailable
from assistant.llm.fake import FakeLLM
from assistant.understand import HybridReader, Option, RuleReader, make_reader
from assistant.understand.llm_reader import LLMReader, parse, schema


def order(id, status, city, state, *items, price=None, position=None):
    return Option(id=id, kind="order", label=f"{id} · {status} · {city}, {state} · {', '.join(n for n, _ in items)}",
                  facts={"name": "; ".join(n for n, _ in items), "options": "; ".join(o for _, o in items),
                         "status": status, "city": city, "state": state},
                  price=price, position=position)  # fmt: skip


def item(id, name, options, price=None):
    return Option(id=id, kind="item", label=f"{name} ({options})", facts={"name": name, "options": options}, price=price)


ORDERS = [
    order("#A1", "delivered", "Austin", "TX", ("Reading Lamp", "white, LED"), ("Dog Bed", "large, grey"), price=120.0, position=0),
    order("#B2", "pending", "Portland", "OR", ("Reading Lamp", "black, halogen"), ("Thermos", "1L, steel"), price=80.0, position=1),
    order("#C3", "delivered", "San Diego", "CA", ("Yoga Block", "cork"), ("Thermos", "500ml, steel"), price=35.5, position=2),
]
ITEMS = [item("i1", "Reading Lamp", "white, LED", 60.0), item("i2", "Dog Bed", "large, grey", 45.0),
         item("i3", "Thermos", "1L, steel", 15.0), item("i4", "Yoga Block", "cork", 12.0)]  # fmt: skip

rules = RuleReader()


@pytest.mark.parametrize(
    "message, expected",
    [
        ("I'd like to send back the dog bed", ["#A1"]),  # an item only one order holds
        ("the package that went to San Diego", ["#C3"]),  # a city of two words
        ("the one shipped to Oregon", ["#B2"]),  # a state by its name
        ("cancel the order with the lamp", ["#B2"]),  # the lamp is in two orders; only one can be cancelled
        ("the thermos from my most recent order", ["#C3"]),  # position
        ("the cheaper order with a thermos, please", ["#C3"]),  # price comparative among those named
        ("my order of $80", ["#B2"]),  # a price
        ("return the yoga block, and also the dog bed from my other order", ["#C3"]),  # several named: the first
    ],
)
def test_rules_pick_the_order_a_message_describes(message, expected):
    assert rules.pick("which order?", message, ORDERS) == expected


@pytest.mark.parametrize("message", ["the lamp", "the thermos", "hello, I need help with an order", ""])
def test_rules_do_not_guess_between_alike_options(message):
    assert rules.pick("which order?", message, ORDERS) is None


def test_rules_pick_one_of_one_and_nothing_of_nothing():
    assert rules.pick("which order?", "anything", ORDERS[:1]) == ["#A1"]
    assert rules.pick("which order?", "anything", []) is None


@pytest.mark.parametrize(
    "message, expected",
    [
        ("return the dog bed and the thermos", ["i2", "i3"]),
        ("I want to return everything except the yoga block", ["i1", "i2", "i3"]),
        ("aside from the yoga block, I'd send back everything", ["i1", "i2", "i3"]),
        ("I want to return nothing apart from the yoga block", ["i4"]),  # "nothing but …" is only that
        ("send all of it back", ["i1", "i2", "i3", "i4"]),
        ("only the lamp; make sure everything is handled at once", ["i1"]),  # "everything" of another clause
    ],
)
def test_rules_pick_items(message, expected):
    assert sorted(rules.pick("which items?", message, ITEMS, many=True)) == expected


def test_items_are_read_from_the_clause_of_the_action_asked_about():
    message = "I'd like to return the thermos and exchange the dog bed for a smaller one"
    assert rules.pick("Which items do you want to return?", message, ITEMS, many=True) == ["i3"]
    assert rules.pick("Which items do you want to exchange?", message, ITEMS, many=True) == ["i2"]
    assert sorted(rules.pick("Which items?", message, ITEMS, many=True)) == ["i2", "i3"]


def test_a_word_shared_with_a_better_named_item_does_not_select_it():
    items = [item("w", "Smart Watch", "gold"), item("t", "Smart Thermostat", "black"), item("c", "Vacuum Cleaner", "robotic")]
    assert sorted(rules.pick("which items?", "return the cleaner and the smart watch", items, many=True)) == ["c", "w"]


def test_two_alike_items_are_a_question_unless_the_message_says_both():
    items = [item("a", "Reading Lamp", "white"), item("b", "Reading Lamp", "black"), item("c", "Dog Bed", "large")]
    assert rules.pick("which items?", "return the lamp", items, many=True) is None
    assert rules.pick("which items?", "return the white lamp", items, many=True) == ["a"]
    assert sorted(rules.pick("which items?", "return both lamps", items, many=True)) == ["a", "b"]


def test_a_label_alone_is_read_too():
    options = [Option(id="x", label="Espresso Machine, 15 bar"), Option(id="y", label="Milk Frother, handheld")]
    assert rules.pick("which?", "the frother", options) == ["y"]
    assert rules.pick("which?", "something else", options) is None


def test_a_replacement_keeps_what_is_not_said():
    from retrieval.store.schema import VariantRecord

    from assistant.understand.options import variant_option

    current = {"switch": "linear", "backlight": "RGB", "size": "full size"}
    variants = [VariantRecord(item_id=i, product_id="p", options=o, price=100.0, available=True) for i, o in [
        ("v1", {"switch": "clicky", "backlight": "RGB", "size": "full size"}),
        ("v2", {"switch": "clicky", "backlight": "none", "size": "60%"}),
        ("v3", {"switch": "tactile", "backlight": "RGB", "size": "full size"}),
    ]]  # fmt: skip
    options = [variant_option("Keyboard", v, current) for v in variants]
    assert rules.pick("which new option?", "the same keyboard but with clicky switches", options) == ["v1"]


# -- the model as a reader (scripted) ------------------------------------------------------------------


def test_the_schema_allows_only_the_option_ids_and_none():
    one = schema(ORDERS, many=False)
    assert one["properties"]["id"]["enum"] == ["#A1", "#B2", "#C3", "none"]
    many = schema(ITEMS, many=True)
    assert many["properties"]["ids"]["items"]["enum"] == ["i1", "i2", "i3", "i4", "none"]


def test_llm_reader_returns_the_id_the_model_picks_and_sends_the_schema():
    fake = FakeLLM([json.dumps({"id": "#C3"})])
    reader = LLMReader(fake)
    assert reader.pick("Which order?", "the yoga one", ORDERS) == ["#C3"]
    messages, config = fake.calls[0]
    assert config.json_schema == schema(ORDERS, many=False)
    assert config.max_tokens <= 64
    assert "#B2" in messages[-1].content and "the yoga one" in messages[-1].content
    assert fake.warmed and fake.warmed[0] == messages[0].content  # the fixed prompt comes first and is warmed


@pytest.mark.parametrize(
    "reply",
    ['{"id": "#Z9"}', '{"id": "none"}', "not json at all", '{"ids": ["#A1"]}', "[]", '{"id": 3}', ""],
)
def test_llm_reader_never_answers_outside_the_options(reply):
    assert LLMReader(FakeLLM([reply])).pick("Which order?", "whatever", ORDERS) is None


def test_llm_reader_many():
    assert LLMReader(FakeLLM(['{"ids": ["i2", "i3", "i2"]}'])).pick("Which items?", "x", ITEMS, many=True) == ["i2", "i3"]
    assert LLMReader(FakeLLM(['{"ids": ["i2", "none"]}'])).pick("Which items?", "x", ITEMS, many=True) is None
    assert LLMReader(FakeLLM(['{"ids": ["i2", "i9"]}'])).pick("Which items?", "x", ITEMS, many=True) is None
    assert parse('{"ids": []}', ITEMS, many=True) is None


class Down(FakeLLM):
    def stream(self, messages, config=None):
        raise LLMUnavailable("server down")


def test_an_unavailable_model_means_ask_the_shopper():
    assert LLMReader(Down()).pick("Which order?", "the lamp", ORDERS) is None
    assert HybridReader(Down()).pick("Which order?", "the lamp", ORDERS) is None


def test_a_slow_model_means_ask_the_shopper():
    slow = FakeLLM(['{"id": "#A1"} and more words here'], delay_s=0.05)
    assert LLMReader(slow, timeout_s=0.01).pick("Which order?", "the lamp", ORDERS) is None


def test_hybrid_asks_the_model_only_among_the_tied_options():
    fake = FakeLLM([json.dumps({"id": "#B2"})])
    reader = HybridReader(fake)
    assert reader.pick("Which order?", "the dog bed", ORDERS) == ["#A1"]  # rules decide: no model call
    assert not fake.calls
    assert reader.pick("Which order?", "the lamp", ORDERS) == ["#B2"]  # a tie between #A1 and #B2
    assert "#C3" not in fake.calls[0][1].json_schema["properties"]["id"]["enum"]
    assert reader.pick("Which order?", "hello there", ORDERS) is None  # nothing said about any: ask, do not guess
    assert len(fake.calls) == 1


def test_make_reader_builds_each_kind():
    assert make_reader("rules").name == "rules"
    assert make_reader("llm", FakeLLM()).name == "llm"
    assert make_reader("hybrid", FakeLLM()).name == "hybrid"
    with pytest.raises(ValueError):
        make_reader("oracle")


@pytest.mark.slow
def test_the_packaged_model_answers_only_with_option_ids(local_llm):
    reader = LLMReader(local_llm)
    for message, options, many in [
        ("I'd like to return the dog bed I got", ORDERS, False),
        ("the one that went to California", ORDERS, False),
        ("what's the weather like?", ORDERS, False),
        ("return the thermos and the dog bed", ITEMS, True),
    ]:
        picked = reader.pick("Which of these does the customer mean?", message, options, many)
        assert picked is None or set(picked) <= {o.id for o in options}
        assert many or picked is None or len(picked) == 1


def test_a_pick_expected_over_budget_is_left_to_the_shopper_before_the_model_reads_it():
    slow = FakeLLM([json.dumps({"id": "#B2"})] * 40, delay_s=0.05)
    reader = LLMReader(slow, timeout_s=0.01)
    assert reader.pick("Which order?", "the lamp", ORDERS) is None  # nothing measured yet: asked, too slow
    calls = len(slow.calls)
    assert reader.pick("Which order?", "the lamp", ORDERS) is None  # now expected too slow: not asked at all
    assert len(slow.calls) == calls and reader.skipped == 1
    for _ in range(30):  # the estimate decays while nothing re-measures it: the model is tried again
        reader.pick("Which order?", "the lamp", ORDERS)
    assert len(slow.calls) > calls
    fast = FakeLLM([json.dumps({"id": "#B2"})] * 3)
    assert LLMReader(fast, timeout_s=1.0).pick("Which order?", "the lamp", ORDERS) == ["#B2"]
    assert LLMReader(slow, timeout_s=None).pick("Which order?", "the lamp", ORDERS) == ["#B2"]  # no budget
