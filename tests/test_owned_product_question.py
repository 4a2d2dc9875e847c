"""A question about a product the shopper has (review 2, item 8): about what the product comes in, it is
answered from the catalog's variants with theirs marked; only what they paid, or "my <product>'s …",
is answered about their own variant alone. Wording differs from the review's and τ² train 63's."""

from __future__ import annotations

import pytest

from tests.agent_fixtures import YUSUF_EMAIL, assistant, state, store  # noqa: F401  (fixtures)


def test_what_the_product_comes_in_lists_the_catalogs_variants_with_theirs_marked(assistant, state):
    assistant.reply_text(state, "I am Chen Johnson, zip 77004")
    reply = assistant.reply_text(state, "is the bluetooth speaker I ordered available in other colours as well?")
    assert "#W5061109" in reply  # their own one is said …
    assert "green" in reply and "red" in reply, reply  # … and what the catalog has besides it
    marked = assistant.reply_text(state, "does the bluetooth speaker I ordered also come in blue?")
    lines = [x for x in marked.splitlines() if x.startswith("- ")]
    assert len(lines) > 1 and sum(x.endswith("← yours") for x in lines) == 1, marked  # their variant among them, marked


def test_what_they_paid_stays_about_their_own_variant(assistant, state):
    assistant.reply_text(state, "I am Chen Johnson, zip 77004")
    reply = assistant.reply_text(state, "how much did I spend on the bluetooth speaker I bought?")
    assert "$302.67" in reply and not [x for x in reply.splitlines() if x.startswith("- ")], reply


def test_what_arrived_in_the_shop_is_the_catalogs_not_theirs(assistant, state):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, "What does the smart watch that just arrived in your store cost?")
    assert "#W" not in reply and "you paid" not in reply.lower(), reply  # the catalog's price, no order of theirs
    from assistant.catalog_turn import ARRIVED

    assert not ARRIVED.search("have the new wireless earbuds arrived in stock yet?")  # the shop's stock, not theirs
    assert ARRIVED.search("the kettle that arrived yesterday is dented")  # delivered to them: theirs


def test_the_cheapest_after_a_list_of_products_is_not_about_the_first_ones_variants(assistant, state, store):
    """After a list of different products, "what's the cheapest one?" is about the list, not the first product's
    own variants (review of the merged round: only the option question counts "the cheapest" as about its product)."""
    items = store.order("#W2378156").items  # Headphones, Vacuum Cleaner, Mechanical Keyboard, …
    state.last_items = [items[0].item_id, items[2].item_id, "9612497925"]  # headphones, keyboard, a T-shirt
    reply = assistant.reply_text(state, "what's the cheapest one?")
    assert "The cheapest Headphones" not in reply, reply


@pytest.mark.parametrize("question, name", [
    ("my t-shirt is black, which colours do the headphones come in?", "Headphones"),
    ("my t-shirt is black. what colors does the backpack come in?", "Backpack"),
    ("I have a black t-shirt, in which colours are the sneakers available?", "Sneakers"),
    ("the t-shirt I ordered is black; which colours does the bluetooth speaker come in?", "Bluetooth Speaker"),
    ("my headphones are blue; which colours does the yoga mat come in?", "Yoga Mat"),  # owned, and one not owned: the asked one
    ("我的T恤是黑色的，蓝牙音箱有哪些颜色？", "Bluetooth Speaker"),
    ("我有一件黑色的T恤，背包有哪些颜色？", "Backpack"),
])  # fmt: skip
def test_a_remark_on_an_owned_item_beside_a_question_about_another_product(assistant, state, question, name):
    """"My <item> is black, which colours do the <product>s come in?": the question's subject is answered from the
    catalog (each colour it comes in), not their own item, and no change of it is started."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, question)
    assert reply.startswith(f"{name}, color:") or reply.startswith(f"{name} 的 color"), reply
    assert "T-Shirt" not in reply and "#W" not in reply and "black ones" not in reply, reply
    assert state.frame is None and state.pending is None


def test_the_subject_owned_too_is_answered_with_theirs_marked(assistant, state):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, "my t-shirt is black, which colours do the headphones I bought come in?")
    assert "Your Headphones (over-ear, wireless, blue) in order #W2378156" in reply and "Headphones, color:" in reply, reply
    assert "T-Shirt" not in reply and state.frame is None


@pytest.mark.parametrize("question", [
    "which colours does my t-shirt come in?",  # their own product asked: the catalog's colours with theirs said
    "which colours does the t-shirt I ordered come in?",
])
def test_a_question_about_the_owned_product_itself_stays_about_it(assistant, state, question):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, question)
    assert "T-Shirt, color:" in reply and "#W6247578" in reply, reply


@pytest.mark.parametrize("question", [
    "my t-shirt is black, which other colours does it come in?",
    "my t-shirt is black, which colours does the t-shirt come in?",
    "the t-shirt I got is black, what other colours does it come in?",
])
def test_which_other_values_of_the_owned_item_still_lists_its_choices(assistant, state, question):
    """The owned item's own choices asked ("…which other colours does it come in?"): its change, the choices listed."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, question)
    assert "Other choices of color for T-Shirt" in reply, reply


@pytest.mark.parametrize("question", ["我的T恤有哪些颜色？", "我的T恤有什么颜色", "what colours does my t-shirt come in?"])
def test_which_values_of_the_owned_product_without_other_is_a_question(assistant, state, question):
    """"我的<item>有哪些颜色？" asks what the product comes in, as in English: answered from the catalog, no change started
    (only "which OTHER colours" or a value of theirs said beside the question asks to choose among them)."""
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, question)
    assert "T-Shirt" in reply and "purple" in reply, reply
    assert state.frame is None and state.pending is None, reply


@pytest.mark.parametrize("question", ["我的T恤还有其他颜色吗？", "我的T恤还有哪些别的颜色？"])
def test_other_values_of_the_owned_item_asked_in_chinese_start_its_change(assistant, state, question):
    assistant.reply_text(state, f"my email is {YUSUF_EMAIL}")
    reply = assistant.reply_text(state, question)
    assert state.frame is not None and state.frame.route in ("exchange", "modify_order"), reply
