"""A correction of one part of a proposed address, said instead of yes ("it's Apt 3B, not Apt 3", "the zip is …",
"门牌号错了…"), proposes the same task again with that part changed and the rest as proposed; a new address said
whole ("no, send it to <address> instead") replaces it on the same order; a hesitation or a question keeps the
proposal as it was."""

from __future__ import annotations

import pytest

from assistant.understand import rules
from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)

NEW = "12 Oak Lane, Apt 3, Denver, CO 80203"
PROPOSED = {"address1": "12 Oak Lane", "address2": "Apt 3", "city": "Denver", "state": "CO", "country": "USA", "zip": "80203"}


def _proposed(assistant, state, default: bool = False):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    asked = f"please update my account address to {NEW}" if default else f"Please ship order #W4776164 to {NEW}."
    assistant.reply_text(state, asked)
    assert state.pending is not None and state.pending.arguments["address1"] == "12 Oak Lane"
    return state.pending


@pytest.mark.parametrize(("text", "changed"), [
    ("almost, it's Apt 3B, not Apt 3", {"address2": "Apt 3B"}),
    ("sorry, the unit is wrong: apt 5", {"address2": "Apt 5"}),
    ("no, not Apt 3, it's 3C", {"address2": "Apt 3C"}),
    ("make it Suite 400 instead", {"address2": "Suite 400"}),
    ("the zip should be 80205", {"zip": "80205"}),
    ("oh never mind, the zip is 80206", {"zip": "80206"}),
    ("typo, the street is 21 Oak Lane", {"address1": "21 Oak Lane"}),
    ("it's 21, not 12", {"address1": "21 Oak Lane"}),
    ("Aurora, not Denver", {"city": "Aurora"}),
    ("门牌号不对，是Apt 8", {"address2": "Apt 8"}),
    ("街道没错，邮编是80210", {"zip": "80210"}),
])
def test_a_part_corrected_is_proposed_again_with_it(assistant, state, store, text, changed):
    pending = _proposed(assistant, state)
    before = store.order("#W4776164").address
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.tool == pending.tool, reply
    assert state.pending.arguments == {**pending.arguments, **changed}, reply
    assert store.order("#W4776164").address == before  # nothing done before the yes
    assistant.reply_text(state, "yes")
    address = store.order("#W4776164").address
    for field, value in changed.items():
        assert getattr(address, field) == value


def test_the_accounts_address_is_corrected_the_same_way(assistant, state, store):
    _proposed(assistant, state, default=True)
    reply = assistant.reply_text(state, "oh wait, the zip is 80209")
    assert state.pending is not None and state.pending.tool == "update_default_address", reply
    assert state.pending.arguments["zip"] == "80209" and state.pending.arguments["address2"] == "Apt 3"


def test_a_whole_new_address_at_the_proposal_stays_on_the_same_order(assistant, state, store):
    _proposed(assistant, state)
    reply = assistant.reply_text(state, "no, send it to 9 Elm Street, Boulder, CO 80302 instead")
    assert state.pending is not None and state.pending.arguments["order_id"] == "#W4776164", reply
    assert state.pending.arguments["city"] == "Boulder"


@pytest.mark.parametrize("text", [
    "hang on, let me check the apartment number with my landlord",
    "wait, will this delay the delivery?",
    "等一下，我确认一下门牌号",
])
def test_a_hesitation_about_the_address_keeps_it_as_proposed(assistant, state, store, text):
    pending = _proposed(assistant, state)
    reply = assistant.reply_text(state, text)
    assert state.pending is not None and state.pending.arguments == pending.arguments, reply


@pytest.mark.parametrize("text", [
    "yes", "no, thanks", "it's $12, not $10", "I'd rather it went to my office", "apartment number? I don't know it",
])
def test_reading_names_no_part(text):
    assert rules.address_correction(text, PROPOSED) is None


def test_the_same_street_written_short_is_no_change():
    assert rules.address_correction("it's 12 Oak Ln, Apt 3", PROPOSED) is None
