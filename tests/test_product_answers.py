"""Answers about one product decided in code (assistant/product_answers.py): price superlatives, values said in
other units or as a letter size, on the demo catalog."""

from __future__ import annotations

import pytest

from assistant import product_answers
from assistant.catalog_turn import _replies


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
