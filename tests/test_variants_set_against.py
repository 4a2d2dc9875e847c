"""A question setting two variants of one catalog product against each other by their values ("is the 500-piece one
easier than the 1000-piece one?", "which is lighter, the 1 L or the 1.5 L kettle?"): answered from the catalog by what
it compares them on (each side's prices, or its values of the option asked), whether or not they were on the list just
shown; what the catalog does not hold ("lighter", "boils faster") is said so, with what tells the sides apart, never a
list of every variant, nor "which products should I compare?". Expected figures come from the store, not written in."""

from __future__ import annotations

import pytest

from assistant.state import DialogueState
from assistant.understand import rules
from tests.ui_helpers import make_service


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, seeded_store):
    return make_service(tmp_path_factory.mktemp("set-against"), seeded_store).assistant


@pytest.fixture(scope="module")
def products(seeded_store):
    return {p.name: p for p in seeded_store.products()}


def _lines(reply: str) -> list[str]:
    return [x for x in reply.splitlines() if x.startswith("- ")]


def _range(variants) -> str:
    low, high = min(v.price for v in variants), max(v.price for v in variants)
    return f"${low:.2f}" if low == high else f"${low:.2f}–${high:.2f}"


def _levels(variants) -> list[str]:
    return sorted({v.options["difficulty level"] for v in variants})


@pytest.mark.parametrize("question", [
    "Is the 500-piece art puzzle easier than the 1000-piece one?",
    "which would be harder, the 1000 piece art puzzle or the 500 piece one?",
    "500片的艺术拼图比1000片的更容易吗？",
])  # fmt: skip
def test_two_puzzles_set_against_by_difficulty_are_each_sides_difficulty_levels(assistant, products, question):
    """"Easier" is what the catalog's difficulty level says: each side's levels, not a list of every variant."""
    state = DialogueState(session_id="p")
    assistant.reply_text(state, "show me jigsaw puzzles")
    reply = assistant.reply_text(state, question)
    assert "difficulty level" in reply and not _lines(reply), reply
    art = [v for v in products["Jigsaw Puzzle"].variants if v.options["theme"] == "art"]
    for pieces in ("500", "1000"):
        side = reply.split(f"“{pieces}”")[1].split(";")[0]
        assert all(level in side for level in _levels([v for v in art if v.options["pieces"] == pieces])), (pieces, reply)


@pytest.mark.parametrize("question", [
    "Which is lighter, the 1 L or the 1.5 L kettle?",
    "which electric kettle boils water faster, the 1L or the 1.5L?",
    "is the 1.5L electric kettle quieter than the 1L one?",
    "1升和1.5升的电热水壶哪个更轻？",
    "1升的电热水壶比1.5升的烧水更快吗？",
])  # fmt: skip
def test_a_comparison_the_catalog_cannot_answer_is_said_so_with_what_it_has(assistant, products, question):
    """Nothing in the catalog says which kettle is lighter or boils faster: said plainly, with the options the two
    sides differ in and each side's count and prices; no list of every variant, no search."""
    reply = assistant.reply_text(DialogueState(session_id="k"), question)
    assert ("does not say" in reply or "没有" in reply) and "Electric Kettle" in reply, reply
    assert not _lines(reply) and "Looking for" not in reply and "您要找" not in reply, reply
    kettles = products["Electric Kettle"].variants
    for capacity in ("1L", "1.5L"):
        assert f"“{capacity}”" in reply and _range([v for v in kettles if v.options["capacity"] == capacity]) in reply, reply
    assert "2L" not in reply and "capacity" in reply, reply


@pytest.mark.parametrize("question", [
    "which bluetooth speaker sounds better, the red one or the blue one?",
    "is the 20 hours bluetooth speaker better than the 10 hours one?",
    "is the 1000 piece jigsaw puzzle more fun than the 500 piece one?",
])  # fmt: skip
def test_a_matter_of_taste_between_values_is_not_in_the_catalog(assistant, question):
    reply = assistant.reply_text(DialogueState(session_id="t"), question)
    assert "does not say" in reply and not _lines(reply) and "Looking for" not in reply, reply


@pytest.mark.parametrize("question", [
    "which is cheaper, the 1L or the 1.5L electric kettle?",
    "is the 1.5L electric kettle more expensive than the 1L one?",
    "1升和1.5升的电热水壶哪个更便宜？",
])  # fmt: skip
def test_a_price_comparison_is_each_sides_prices(assistant, products, question):
    reply = assistant.reply_text(DialogueState(session_id="c"), question)
    kettles = products["Electric Kettle"].variants
    assert "does not say" not in reply and "没有" not in reply and not _lines(reply), reply
    for capacity in ("1L", "1.5L"):
        assert _range([v for v in kettles if v.options["capacity"] == capacity]) in reply, reply


@pytest.mark.parametrize("question, key, values", [
    ("which electric kettle holds more, the 1L or the 2L?", "capacity", ("1L", "2L")),
    ("which is bigger, the 1L or the 2L electric kettle?", "capacity", ("1L", "2L")),
    ("which jigsaw puzzle has more pieces, the 500 or the 1000?", "pieces", ("500", "1000")),
    ("which bluetooth speaker lasts longer, the 10 hours or the 20 hours one?", "battery life", ("10 hours", "20 hours")),
])  # fmt: skip
def test_a_comparison_of_the_option_set_against_is_answered_by_its_values(assistant, question, key, values):
    reply = assistant.reply_text(DialogueState(session_id="o"), question)
    assert f"catalog's {key}:" in reply and all(f"“{v}” ones: {v}" in reply for v in values), reply


def test_asking_nothing_besides_the_values_is_how_they_differ(assistant):
    reply = assistant.reply_text(DialogueState(session_id="v"), "the 1L electric kettle versus the 1.5L one")
    assert "options differ in" in reply and _lines(reply), reply


def test_the_first_two_of_the_list_are_still_a_table(assistant):
    state = DialogueState(session_id="t")
    assistant.reply_text(state, "show me jigsaw puzzles")
    reply = assistant.reply_text(state, "compare the first two")
    assert "| price |" in reply, reply


@pytest.mark.parametrize("question", [
    "Does the electric kettle come in 1L or 1.5L?",  # which values exist, not how two differ
    "I want a kettle bigger than 1L",  # one value: a search
])  # fmt: skip
def test_one_value_or_no_comparing_word_is_no_side_by_side(assistant, question):
    reply = assistant.reply_text(DialogueState(session_id="n"), question)
    assert "options differ in" not in reply, reply


@pytest.mark.parametrize("text, against", [
    ("is the 500-piece one easier than the 1000-piece one?", True),
    ("which is lighter, the 1 L or the 1.5 L?", True),
    ("the red one versus the blue one", True),
    ("1升的比1.5升的更轻吗？", True),
    ("which electric kettle boils water faster, the 1L or the 1.5L?", True),
    ("哪款电热水壶烧水更快？", True),
    ("which of my orders has the watch in it?", False),
    ("which colours does it come in?", False),
    ("I'd take the red rather than the blue", False),
    ("anything other than the blue one", False),
    ("no more than $50", False),
])  # fmt: skip
def test_words_setting_choices_against_each_other(text, against):
    assert rules.sets_against(text) is against
