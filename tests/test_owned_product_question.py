"""A question about a product the shopper has (review 2, item 8): about what the product comes in, it is
answered from the catalog's variants with theirs marked; only what they paid, or "my <product>'s …",
is answered about their own variant alone. Wording differs from the review's and τ² train 63's."""

from __future__ import annotations

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
