"""Options said without their values (keywords-only search over the demo catalog, no model): a
yes/no option said by its name, and an end of an option's range asked for indirectly."""

from __future__ import annotations

import pytest

from retrieval.search.engine import Search
from retrieval.search.models import SearchRequest
from retrieval.search.query import measure
from retrieval.store.seed import load_store_data


@pytest.fixture(scope="module")
def search() -> Search:
    return Search(None, products=load_store_data().products)


@pytest.mark.parametrize(
    ("query", "key", "value"),
    [("waterproof hiking boots size 11", "waterproof", "yes"), ("hiking boots, not waterproof", "waterproof", "no"),
     ("防水登山靴", "waterproof", "yes"), ("water resistant bluetooth speaker", "water resistance", "yes")],
)
def test_yes_no_options_said_by_name(search, query, key, value):
    parsed = search.understand(query)
    assert parsed.options.get(key) == value


def test_bluetooth_in_the_type_name_is_not_the_bulbs_option(search):
    parsed = search.understand("蓝牙音箱")
    assert parsed.product_type == "bluetooth speaker" and not parsed.options


@pytest.mark.parametrize(
    ("query", "key", "end"),
    [("coffee maker for a big family", "capacity", "most"), ("咖啡机，一家人用的大容量", "capacity", "most"),
     ("coffee maker just for me", "capacity", "least"), ("smartphone with the biggest screen", "screen size", "most"),
     ("一顶红色头盔，透气好的", "ventilation", "most")],
)
def test_an_end_of_a_range_is_read_and_its_variant_comes_first(search, query, key, end):
    response = search.search(SearchRequest(query=query, k=10))
    assert response.parsed.prefer == {key: end}
    top = response.hits[0]
    siblings = [v for p in load_store_data().products if p.product_id == top.product_id for v in p.variants]

    def rank(options):
        value = options.get(key)
        m = measure(key, value) if value else None
        order = search.parser.lexicon.ordinal_values
        return m[0] if m else order.index(value.lower()) if value and value.lower() in order else None

    values = [r for v in siblings if (r := rank(v.options)) is not None]
    assert rank(top.options) == (max(values) if end == "most" else min(values))
    assert ("largest " if end == "most" else "smallest ") + key in response.understood


@pytest.mark.parametrize(
    ("query", "said", "never"),
    [("waterproof jacket", "not waterproof", "not yes"), ("hiking boots, not waterproof", "not waterproof", "has no"),
     ("防水登山靴", "waterproof", "has yes")],
)
def test_a_yes_no_option_is_given_by_its_name_in_why_a_hit_is_shown(search, query, said, never):
    hits = search.search(SearchRequest(query=query, k=3)).hits
    assert hits and all(said in h.why and never not in h.why and "has not" not in h.why for h in hits)


@pytest.mark.parametrize(
    ("lang", "value", "said"),
    [("en", "yes", "waterproof"), ("en", "no", "not waterproof"), ("zh", "yes", "waterproof"), ("zh", "no", "不要 waterproof")],
)
def test_the_assistant_names_a_yes_no_option_on_its_cards(lang, value, said):
    from assistant.catalog_turn import _option_words, _replies

    assert _option_words(_replies()[lang], "waterproof", value) == said
    assert _option_words(_replies()[lang], "color", "blue") == "blue"
