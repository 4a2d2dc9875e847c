"""Kinds of phrasing the hard shopper queries showed (keywords-only search over the demo catalog, no
model): options that choose the sense of a type word, a tool named by its verb, comparatives of
thickness, "non X" values, superlative ends of a range, and equivalent values that chain."""

from __future__ import annotations

import pytest

from retrieval.search.engine import Search
from retrieval.search.models import SearchRequest
from retrieval.search.query import Canon, default_lexicon
from retrieval.store.seed import load_store_data


@pytest.fixture(scope="module")
def search() -> Search:
    return Search(None, products=load_store_data().products)


@pytest.mark.parametrize(
    ("query", "wanted", "strict"),
    [("笔记本 i9 32G内存", "Laptop", False), ("notebook i7 16gb ram", "Laptop", False),
     ("耳机 IPX4 白色", "Wireless Earbuds", True)],  # strict: headphones with IPX4 would have to be relaxed
)
def test_options_no_item_of_the_type_has_choose_another_sense_of_its_word(search, query, wanted, strict):
    resp = search.search(SearchRequest(query=query, k=3, strict=strict))
    assert resp.parsed.product_type is None and not resp.relaxed
    assert not strict or {h.name for h in resp.hits} == {wanted}
    assert resp.hits and resp.hits[0].name == wanted and all(h.name == wanted for h in resp.hits if not strict)


@pytest.mark.parametrize(("query", "wanted"), [("笔记本 i7", "Laptop"), ("耳机 IPX7", "Wireless Earbuds")])
def test_a_word_with_two_senses_takes_the_one_with_the_value_in_strict_search(search, query, wanted):
    resp = search.search(SearchRequest(query=query, k=3, strict=True))
    assert resp.parsed.product_type is None and not resp.relaxed
    assert resp.hits and {h.name for h in resp.hits} == {wanted}


@pytest.mark.parametrize(
    ("query", "kind", "wanted", "relaxed"),
    [("bluetooth speaker IPX7", "bluetooth speaker", "Bluetooth Speaker", "option:water resistance"),
     ("4K running shoes", "running shoes", "Running Shoes", "option:resolution"),
     ("glass yoga mat", "yoga mat", "Yoga Mat", "option:material"),
     ("hiking boots made of mesh", "hiking boots", "Hiking Boots", "option:material"),
     ("防水音箱 IPX7", "speaker", "Bluetooth Speaker", "option:water resistance")],
)
def test_a_type_word_with_one_sense_keeps_its_type_and_the_option_is_relaxed(search, query, kind, wanted, relaxed):
    # No other type said with that word has the value: the shopper's type stays, the option gives way
    # (never earbuds for a speaker, an action camera for shoes, a strainer for boots).
    resp = search.search(SearchRequest(query=query, k=3, strict=True))
    assert resp.parsed.product_type == kind
    assert relaxed in resp.relaxed
    assert resp.hits and {h.name for h in resp.hits} == {wanted}


@pytest.mark.parametrize(
    ("query", "kind"),
    [("A5 notebook with a soft cover", "notebook"),  # the type has the option: kept
     ("红色耳机 头戴式", "headphones"),  # a colour never decides the sense
     ("exchange the mechanical keyboard for clicky switches and the thermostat for Apple HomeKit", "mechanical keyboard")],
)
def test_the_type_stays_when_any_option_said_is_its_own(search, query, kind):
    assert search.understand(query).product_type == kind


def test_a_tool_named_by_its_verb_is_the_product_not_what_it_acts_on(search):
    parsed = search.understand("something to whisk cream and eggs")
    assert parsed.product_type == "whisk"
    assert search.search(SearchRequest(query="I need something to whisk the eggs", k=3)).hits[0].name == "Black Whisk"
    assert search.understand("i would like to buy a yoga mat").product_type == "yoga mat"  # "buy" names no tool


@pytest.mark.parametrize(
    ("query", "low", "high"),
    [("mat thinner than 6mm", None, 6), ("yoga mat thicker than 4 mm", 4, None)],
)
def test_thickness_comparatives(search, query, low, high):
    bound = search.understand(query).bounds[0]
    assert (bound.low, bound.high, bound.strict) == (low, high, True)


def test_non_x_is_the_catalogs_non_x_value_not_a_negation(search):
    parsed = search.understand("sunglasses non polarized, metal frame")
    assert parsed.options.get("lens type") == "non-polarized" and parsed.exclude == []
    assert search.understand("sunglasses, not polarized").exclude == ["polarized"]


@pytest.mark.parametrize(
    ("query", "key"),
    [("earbuds with the longest battery", "battery life"), ("camera for the door with a wide angle", "field of view"),
     ("台灯 亮一些的", "brightness")],
)
def test_superlative_ends_of_a_range(search, query, key):
    assert search.understand(query).prefer.get(key) == "most"


def test_equivalent_values_that_share_a_value_are_one_class():
    canon = Canon(default_lexicon())
    assert canon.value("1L") == canon.value("1 liter") == canon.value("1000ml")
    assert canon.value("wireless") == canon.value("cordless")  # 无线吸尘器: the cordless vacuums
    assert canon.value("1.5L") == canon.value("1.5 liters") != canon.value("1L")


def test_a_litre_the_type_spells_otherwise_does_not_lose_the_type(search):
    parsed = search.understand("white electric kettle 1 litre")  # the kettles say "1L", the bottles "1000ml"
    assert parsed.product_type == "electric kettle" and parsed.options.get("capacity") == "1 liter"


def test_an_amount_spelled_otherwise_is_the_limit_of_the_option_named_beside_it(search):
    bound = search.understand("notebook computer, 32 gigs of ram").bounds[0]
    assert (bound.option, bound.low, bound.high) == ("ram", 32, 32)
    assert search.understand("laptop 16 gigs").bounds[0].option is None  # RAM or storage: not said


@pytest.mark.parametrize(
    ("query", "key", "value"),
    [("a portable bbq grill", "size", "portable"), ("便携式烧烤架 燃气的", "size", "portable"),
     ("set of adjustable dumbbells", "set type", "adjustable"), ("manual espresso machine", "type", "manual")],
)
def test_a_generic_value_is_read_when_the_type_read_has_it_under_one_option(search, query, key, value):
    assert search.understand(query).options.get(key) == value


def test_a_generic_value_the_type_does_not_have_stays_a_word(search):
    assert "size" not in search.understand("portable speaker").options  # the speakers have no such size
    assert search.understand("dumbbells, not adjustable").options.get("set type") != "adjustable"
