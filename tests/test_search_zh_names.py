"""The lexicon's Chinese names of the catalog (no model, no index): every product of the demo
catalog can be asked for in Chinese, every name says a word the catalog uses, and an imitation
material ("faux leather", 人造革) is not the material."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.search.engine import Search
from retrieval.search.query import _WORD, stems
from retrieval.store.seed import load_store_data


@pytest.fixture(scope="module")
def search() -> Search:
    return Search(None, products=load_store_data().products)  # keywords only: the parser and the checks


def _name_has(search: Search, row: int, words: list[str]) -> bool:
    key = search.constraints.name_keys[row]
    return bool(words) and all(f" {w} " in key for w in stems(" ".join(words)))


def test_every_product_can_be_asked_for_in_chinese(search):
    """A Chinese name reads as a product type whose items include the product, or as words
    (a brand, a name) its name says: "苹果" is Apple's, 床头柜 the bedside table."""
    table, constraints = search.table, search.constraints
    reached: set[str] = set()
    for chinese in search.parser.lexicon.zh_en:
        parsed, _ = search.parser.parse(chinese)
        constraints.read(parsed)
        if parsed.product_type:
            reached |= {table.product_ids[i] for i in np.flatnonzero(constraints.type_mask(parsed.product_type))}
        words = _WORD.findall(search.canon.text(" ".join(filter(None, [parsed.text, parsed.brand or ""]))))
        reached |= {table.product_ids[r] for r in range(len(table)) if _name_has(search, r, words)}
    missing = sorted({table.names[r] for r in range(len(table)) if table.product_ids[r] not in reached})
    assert not missing, f"no Chinese name reaches: {missing}"


def test_every_chinese_name_says_words_of_the_catalog(search):
    """zh_names' English is how the catalog says it: words of its product names and option values."""
    known = {w for key in search.constraints.name_keys for w in key.split()}
    known |= {w for value in search.parser.vocab.option_keys for w in stems(value)}
    unknown = [en for en in search.parser.lexicon.zh_names if not set(stems(search.canon.text(en))) <= known]
    assert not unknown


@pytest.mark.parametrize(
    ("query", "product_type"),
    [("法压壶", None), ("板球头盔", "cricket helmet"), ("一个不锈钢保温杯", "water bottle"), ("手机壳", None),
     ("擀面杖", "rolling pin"), ("棒球手套", "baseball glove"), ("篮筐", "basketball rim"), ("想买个无线充电器", "wireless charger")],
)
def test_chinese_type_and_value_names_are_read(search, query, product_type):
    parsed, _ = search.parser.parse(query)
    search.constraints.read(parsed)
    assert parsed.product_type == product_type
    assert not parsed.unread


def test_french_press_is_the_coffee_makers_type_option(search):
    parsed, _ = search.parser.parse("想要一个法压壶")
    assert parsed.options.get("type") == "french press"


@pytest.mark.parametrize("query", ["leather backpack", "真皮双肩包"])
def test_faux_leather_is_not_leather(search, query):
    parsed, _ = search.parser.parse(query)
    search.constraints.read(parsed)
    check = next(c for c in search.constraints.checks(parsed) if c.label == "option:material")
    faux = [r for r, n in enumerate(search.table.names) if "Faux Leather" in n]
    real = [r for r, opts in enumerate(search.table.options) if opts.get("material") == "leather"]
    assert faux and real
    assert not any(check.ok(r) for r in faux) and all(check.ok(r) for r in real)


@pytest.mark.parametrize("query", ["backpack not leather", "不要真皮的双肩包"])
def test_not_leather_keeps_faux_leather(search, query):
    parsed, _ = search.parser.parse(query)
    search.constraints.read(parsed)
    assert parsed.exclude == ["leather"]
    exclusion = next(c for c in search.constraints.checks(parsed) if c.label.startswith("exclude:"))
    faux = [r for r, n in enumerate(search.table.names) if "Faux Leather" in n]
    assert all(exclusion.ok(r) for r in faux)


@pytest.mark.parametrize("query", ["faux leather backpack", "人造革双肩包", "vegan leather bag"])
def test_faux_leather_asked_for_is_not_leather(search, query):
    parsed, _ = search.parser.parse(query)
    assert "leather" not in [v.lower() for v in parsed.options.values()]
