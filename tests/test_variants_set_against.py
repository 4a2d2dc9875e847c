"""A question setting two variants of one catalog product against each other by their values ("is the 500-piece one
easier than the 1000-piece one?", "which is lighter, the 1 L or the 1.5 L kettle?"): answered from the catalog's
options of the variants with those values, side by side, whether or not they were on the list just shown; never
"which products should I compare?". Expected figures come from the store, not written in."""

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


@pytest.mark.parametrize("question", [
    "Is the 500-piece art puzzle easier than the 1000-piece one?",
    "which would be harder, the 1000 piece art puzzle or the 500 piece one?",
    "500片的艺术拼图比1000片的更容易吗？",
])  # fmt: skip
def test_two_puzzles_set_against_after_a_search_are_listed_by_their_options(assistant, products, question):
    state = DialogueState(session_id="p")
    assistant.reply_text(state, "show me jigsaw puzzles")
    reply = assistant.reply_text(state, question)
    assert "compare" not in reply.lower() or "|" in reply, reply
    art = [v for v in products["Jigsaw Puzzle"].variants if v.options["theme"] == "art" and v.options["pieces"] in ("500", "1000")]
    assert f"{len(art)} " in reply and "difficulty level" in reply, reply
    listed = _lines(reply)
    assert listed and all(("500" in x) != ("1000" in x) for x in listed), listed
    assert any("500" in x for x in listed) and any("1000" in x for x in listed)


@pytest.mark.parametrize("question", [
    "Which is lighter, the 1 L or the 1.5 L kettle?",
    "1升和1.5升的电热水壶哪个更轻？",
])  # fmt: skip
def test_two_capacities_set_against_with_nothing_shown_are_the_catalogs_kettles(assistant, question):
    reply = assistant.reply_text(DialogueState(session_id="k"), question)
    assert "Electric Kettle" in reply and "Looking for" not in reply and "Search first" not in reply, reply
    listed = _lines(reply)
    assert listed and not any("2L" in x or "2 liters" in x for x in listed), listed
    assert any("1.5L" in x for x in listed) and any("1L" in x for x in listed)


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
    ("I'd take the red rather than the blue", False),
    ("anything other than the blue one", False),
    ("no more than $50", False),
])  # fmt: skip
def test_words_setting_choices_against_each_other(text, against):
    assert rules.sets_against(text) is against
