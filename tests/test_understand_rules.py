"""The rule reader's reading of order requests (assistant/understand/rules.py), function by function."""

from __future__ import annotations

import pytest

from assistant.understand.rules import parse_address, pick_variant


@pytest.fixture
def store(seeded_store):
    return seeded_store


def test_parse_address():
    assert parse_address("445 Maple Drive, Suite 394, Fort Worth, TX 76165") == {
        "address1": "445 Maple Drive", "address2": "Suite 394", "city": "Fort Worth", "state": "TX",
        "country": "USA", "zip": "76165",
    }  # fmt: skip
    assert parse_address("I want to change my address") is None


def test_each_action_takes_the_items_of_its_own_clause():
    from assistant.understand.rules import action_text

    text = "I want to return the water bottle, and exchange the pet bed and office chair to the cheapest version."
    assert "water bottle" in action_text(text, "return") and "pet bed" not in action_text(text, "return")
    assert "pet bed" in action_text(text, "exchange") and "water bottle" not in action_text(text, "exchange")
    hedged = ("I want to return an air purifier. Also, check at the end whether I am able to return the vacuum "
              "cleaner, but I am not sure yet so don't process anything.")  # fmt: skip
    assert "vacuum" not in action_text(hedged, "return") and "air purifier" in action_text(hedged, "return")
    assert action_text("return the lamp", "return") == "return the lamp"


def test_number_words_and_qualified_materials_name_options():
    from assistant.understand.rules import mentioned

    assert mentioned("softshell", "a black one with soft material")
    assert not mentioned("softshell", "a black one with hard material")
    assert not mentioned("waterproof", "the water bottle")


def test_match_items_reads_aliases_spacing_and_except():
    from assistant.understand.rules import match_items
    from assistant.slots import read_slots

    order = {"items": [{"item_id": "1", "name": "Espresso Machine", "options": {}}, {"item_id": "2", "name": "Bookshelf", "options": {}},
                       {"item_id": "3", "name": "Jigsaw Puzzle", "options": {}}]}  # fmt: skip

    def match(text):
        return match_items(order, text, read_slots(text))

    assert match("return everything except the coffee machine") == ["2", "3"]
    assert match("change the book shelf") == ["2"] and match("my jigsaw") == ["3"]
    assert match("the coffee machine") == ["1"]
    assert match("return the jigsaw I received with the bookshelf") == ["3"]


def test_a_cancellation_reason_is_read_from_the_orders_own_sentences():
    from assistant.understand.rules import about_order
    from assistant.slots import read_slots

    text = ("i ordered a fleece jacket by mistake and want to remove it. i also want to modify the skateboard to maple. "
            "if that is not possible, cancel the order since i no longer need this one. finally, the grills?")  # fmt: skip
    order = {"items": [{"item_id": "1", "name": "Skateboard", "options": {}}]}
    assert about_order(text, order) == ("i also want to modify the skateboard to maple. "
                                         "if that is not possible, cancel the order since i no longer need this one.")  # fmt: skip
    # "I am considering cancelling" is not a name (with the zip of an address it would be an identity)
    slots = read_slots("I am considering cancelling the older order. My new address is 1234 Elm St, Springfield, IL, 62701.")
    assert slots.identity.first_name is None
    assert read_slots("my name is yusuf rossi, zip 19122").identity.first_name == "Yusuf"


def test_relative_and_kept_options_and_a_comparative_before_the_price(store):
    jigsaw = {"item_id": "6245746168", "product_id": "1808611083", "price": 46.0,
              "options": {"pieces": "1500", "theme": "animals", "difficulty level": "intermediate"}}  # fmt: skip
    options = {v.item_id: v.options for v in store.product("1808611083").variants}
    chosen, _ = pick_variant(store.product("1808611083"), jigsaw, "a more fancy theme, with 500 pieces less, and the same difficulty level")
    assert chosen == "3112842858"  # 1000, fantasy, intermediate
    chosen, _ = pick_variant(store.product("1808611083"), jigsaw, "the easiest one with fewest pieces")
    assert options[chosen]["pieces"] == "500" and options[chosen]["difficulty level"] == "beginner"


def test_each_item_is_changed_by_its_own_clause():
    """'the helmet … red …, and the luggage set … black': red is the helmet's wish, not the luggage's."""
    from assistant.understand.rules import about_item

    order = {"items": [{"item_id": "1", "name": "Luggage Set"}, {"item_id": "2", "name": "Grill"}]}
    text = ("I want to exchange the helmet for a medium sized, red one, and I want to exchange the luggage set to a "
            "two-piece black one. Lastly, I want to modify the grill.")  # fmt: skip
    assert about_item(text, order["items"][0], order) == "I want to exchange the luggage set to a two-piece black one."


def test_price_conditions_and_id_pairs():
    from assistant.understand.rules import id_pairs, price_limit

    assert price_limit("If it is less than 200 bucks I want to exchange my current one to it. If not, return it.") == 200
    assert price_limit("I want the cheapest one") is None
    order = {"items": [{"item_id": "1340995114", "product_id": "1656367028", "name": "Mechanical Keyboard"}]}
    # a product id where the item id belongs: the order's one item of that product
    assert id_pairs("also change item id 1656367028 to item id 1421289881.", order) == {"1340995114": "1421289881"}
