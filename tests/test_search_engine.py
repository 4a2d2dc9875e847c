"""Product search end to end: real Chroma, real BM25, the packaged MiniLM, the demo store."""

from __future__ import annotations

import chromadb
import pytest

from retrieval.search import CatalogIndex, Search, SearchRequest, SearchResponse
from retrieval.embedder import embed_query
from retrieval.embedder import embed

BLUE_COTTON_M_TSHIRT = "9612497925"  # τ T-Shirt: blue, M, cotton, crew neck, $50.88


@pytest.fixture(scope="module")
def search(seeded_store, tmp_path_factory) -> Search:
    client = chromadb.PersistentClient(path=str(tmp_path_factory.mktemp("chroma")))
    index = CatalogIndex(client)
    report = index.sync(seeded_store.products(), progress=False)
    assert report.added == 785 and index.count() == 785
    return Search(index)


def test_returns_the_matching_variant(search):
    resp = search.search(SearchRequest(query="blue cotton t-shirt size M under 60, not v-neck", k=5))
    assert resp.understood == "t-shirt · blue · cotton · size M · ≤ $60 · not v-neck"
    top = resp.hits[0]
    assert top.item_id == BLUE_COTTON_M_TSHIRT
    assert top.options["color"] == "blue" and top.options["size"] == "M" and top.price <= 60
    assert all(h.price <= 60 for h in resp.hits)
    assert {"bm25", "dense", "fused", "attributes"} <= top.score_parts.keys() and top.score_parts["attributes"] == 1
    assert "blue" in top.why and resp.parsed.max_price == 60


def test_chinese_query_finds_english_catalog(search):
    resp = search.search(SearchRequest(query="蓝色纯棉T恤 M码 100美元以内", k=3))
    assert resp.parsed.lang == "zh" and resp.hits[0].item_id == BLUE_COTTON_M_TSHIRT


def test_chinese_the_lexicon_cannot_read_is_searched_by_meaning(search):
    # "越野" is in no lexicon: kept as unread, the multilingual-e5 list reads the query as written
    resp = search.search(SearchRequest(query="越野摩托车", k=5))
    assert resp.parsed.unread == ["越野"] and resp.parsed.product_type == "motorcycle"
    assert resp.hits and all(h.score_parts["dense"] > 0 for h in resp.hits[:3])
    # nothing the lexicon knows: searched by meaning alone, and the notes say so
    unknown = search.search(SearchRequest(query="我要一个做饭用的工具", k=5))
    assert unknown.parsed.text == "" and unknown.hits and all(h.score_parts["dense"] > 0 for h in unknown.hits)
    assert any("closest in meaning" in n for n in unknown.notes)


def test_chinese_compounds_and_brands_choose_the_sense(search):
    # the head of a Chinese compound is its last word: in 篮球袜 (socks, a word no lexicon has) 篮球
    # only describes it; 篮球框 is the catalog's hoop by its Chinese name
    socks = search.understand("篮球袜")
    assert socks.modifiers == ["basketball"] and socks.product_type is None
    hoop = search.search(SearchRequest(query="篮球框", k=3))
    assert hoop.parsed.product_type == "basketball rim" and hoop.hits[0].name == "Basketball Rim"
    assert search.understand("篮球鞋").product_type == "shoes"  # 鞋 is read: no modifier
    # a brand said in Chinese; one that makes no paper notebooks means the laptop
    laptop = search.search(SearchRequest(query="华为笔记本", k=3))
    assert laptop.parsed.brand == "Huawei" and laptop.parsed.product_type is None
    assert laptop.hits[0].name.startswith("Huawei")
    assert search.understand("华为的笔记本电脑").product_type == "laptop"
    assert search.understand("笔记本 A5").product_type == "notebook"  # no brand: the first sense


def test_product_type_clauses_and_option_values(search):
    # the first clause naming a type; a type word inside an option value is that option
    assert search.understand("black, polyester backpack, size large, laptop compartment").product_type == "backpack"
    assert search.understand("stainless steel water bottle").product_type == "water bottle"
    assert search.understand("硅胶表带手表 蓝色表盘").product_type == "watch"  # 手表: any watch
    # "Apple HomeKit" is a compatibility, not the brand Apple
    parsed = search.understand("兼容苹果HomeKit的温控器")
    assert parsed.brand is None and parsed.product_type == "thermostat"


def test_the_product_type_counts_as_an_attribute(search):
    # Apple's wireless charger (matched by "wireless charging") does not outrank the power bank named
    resp = search.search(SearchRequest(query="powerbank with wireless charging", k=3))
    assert resp.parsed.product_type == "portable charger" and resp.hits[0].name == "Portable Charger"


def test_multilingual_vectors_are_the_items_e5_vectors(search):
    from retrieval import e5
    assert search.multilingual
    contents = search.index.contents()
    for row in (0, len(contents.ids) // 2, len(contents.ids) - 1):
        expected = e5.embed_passages([contents.documents[row]])[0]
        assert float(search._dense_e5.vectors[row] @ expected) > 0.999


def test_explicit_fields_override_the_text(search):
    resp = search.search(SearchRequest(query="t-shirt under 60", max_price=48, options={"color": "red"}, in_stock=True))
    assert resp.parsed.max_price == 48
    assert resp.hits and all(h.price <= 48 and h.available for h in resp.hits)
    assert resp.hits[0].options.get("color") == "red"


def test_category_and_brand_filters_and_exclusions(search):
    phones = search.search(SearchRequest(query="phone", category="smartphones", brand="Apple", k=20))
    assert phones.hits and all(h.category == "smartphones" and h.brand == "Apple" for h in phones.hits)
    first = phones.hits[0].item_id
    again = search.search(SearchRequest(query="phone", category="smartphones", brand="Apple", exclude_item_ids=[first]))
    assert first not in {h.item_id for h in again.hits}


def test_dense_vectors_match_the_shared_embedder():
    text = "wireless earbuds with long battery life"
    assert float(embed([text])[0] @ embed_query(text)) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        (SearchRequest(query=""), "no words"),
        (SearchRequest(query="   \t\n "), "no words"),
        (SearchRequest(query="?!?! ... ;;"), "no words"),
        (SearchRequest(query="😀🎉🔥"), "no words"),
        (SearchRequest(query="🔥" * 10_000), "no words"),  # cut to 500 characters first, then nothing left
        (SearchRequest(query="kettle", min_price=100, max_price=10), "above max_price"),
        (SearchRequest(query="kettle", max_price=0.01), "no item passes the filters"),
    ],
)
def test_bad_input_gives_an_empty_result_with_a_reason(search, request_, says):
    resp = search.search(request_)
    assert isinstance(resp, SearchResponse) and resp.hits == []
    assert any(says in note for note in resp.notes), resp.notes


def test_long_query_and_unknown_category_are_best_effort(search):
    long = search.search(SearchRequest(query="red backpack " * 1000))
    assert long.hits and any("cut" in n for n in long.notes)
    unknown = search.search(SearchRequest(query="backpack", category="spaceships"))
    assert unknown.hits and any("unknown category 'spaceships'" in n for n in unknown.notes)
    assert unknown.hits[0].name == "Backpack"


def test_unknown_brand_is_best_effort(search):
    resp = search.search(SearchRequest(query="backpack", brand="Nonexistent Brand Co"))
    assert resp.hits and any("unknown brand" in n for n in resp.notes)


def test_a_reranker_reorders_the_fused_candidates(search):
    from retrieval.search.rerank import FEATURES, RerankModel

    cheapest_first = RerankModel(features=FEATURES, mean=[0.0] * len(FEATURES), scale=[1.0] * len(FEATURES),
                                 weights=[-1.0 if f == "price_fit" else 0.0 for f in FEATURES])  # fmt: skip
    plain = search.search(SearchRequest(query="kettle under 200", k=10))
    search.reranker = cheapest_first
    try:
        reranked = search.search(SearchRequest(query="kettle under 200", k=10))
    finally:
        search.reranker = None
    prices = [h.price for h in reranked.hits]
    assert prices == sorted(prices) and prices != [h.price for h in plain.hits]
    assert all("fusion" in h.score_parts for h in reranked.hits)


def test_filters_alone_rank_by_quality(search):
    resp = search.search(SearchRequest(query="under $10"))
    assert resp.hits and all(h.price <= 10 for h in resp.hits)


def test_sync_upserts_only_what_changed(seeded_store, tmp_path):
    index = CatalogIndex(chromadb.PersistentClient(path=str(tmp_path)))
    products = seeded_store.products()[:12]
    assert index.sync(products, progress=False).added == sum(len(p.variants) for p in products)
    products[0].variants[0].price += 1.0  # a price change
    products[1].description += " Now in a new box."  # a text change: all its variants
    dropped = products.pop()
    report = index.sync(products, progress=False)
    assert report.updated == 1 + len(products[1].variants)
    assert report.deleted == len(dropped.variants) and report.added == 0
    assert report.unchanged == sum(len(p.variants) for p in products) - report.updated
    search = Search(index)
    assert search.table.prices[search.table.row[products[0].variants[0].item_id]] == products[0].variants[0].price
    assert index.multilingual.count() == index.count() and search.multilingual  # the e5 collection follows
    english = CatalogIndex(chromadb.PersistentClient(path=str(tmp_path / "en")), multilingual=False)
    english.sync(products, progress=False)
    english_only = Search(english)
    assert english.multilingual is None and not english_only.multilingual
    resp = english_only.search(SearchRequest(query="蓝色T恤"))  # Chinese read through the lexicon alone
    assert resp.hits and "dense" in resp.hits[0].score_parts


def test_from_settings_builds_a_missing_index(monkeypatch, tmp_path):
    from retrieval.config import get_settings
    from retrieval.search import SearchUnavailable
    from retrieval.store import Store

    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    with pytest.raises(SearchUnavailable, match="aisle store init"):
        Search.from_settings(progress=False)
    Store.from_settings().init()
    search = Search.from_settings(progress=False)
    assert len(search.table) == 785
    assert (tmp_path / "chroma").is_dir()
    # An e5 pass cut short (or an index from before the e5 collection): opening the search fills it in.
    index = search.index
    index.multilingual.delete(ids=index.multilingual.get(limit=100)["ids"])
    assert index.multilingual.count() == 685
    assert not index.multilingual_current()
    assert Search.from_settings(progress=False).multilingual
    assert index.multilingual.count() == 785 and index.multilingual_current()
    # Another e5 engine's vectors (their hashes name the engine) are not current either.
    ids = index.multilingual.get()["ids"]
    index.multilingual.update(ids=ids, metadatas=[{"content_hash": "another engine"}] * len(ids))
    assert not index.multilingual_current()


# -- hard constraints: strict search, relaxation, per-hit report --------------------------------


def test_product_type_and_negations_are_read_from_the_catalogs_own_words(search):
    parsed = search.understand("waterproof hiking boots for winter, not leather")
    assert parsed.product_type == "hiking boots" and parsed.exclude == ["leather"]
    assert search.understand("a pair of shoes for trail running").product_type == "shoes"
    assert search.understand("不要红色的背包").exclude == ["red"]
    assert search.understand("something nice").product_type is None


def test_strict_hits_satisfy_every_constraint(search):
    resp = search.search(SearchRequest(query="hiking boots size 9 not leather under 260", k=20, strict=True))
    assert resp.hits and not resp.relaxed
    for hit in resp.hits:
        assert hit.unmet == [] and "hiking boots" in hit.name.lower()
        assert hit.options.get("size") == "9" and hit.options.get("material") != "leather" and hit.price <= 260


def test_strict_relaxes_the_price_first_and_says_so(search):
    resp = search.search(SearchRequest(query="hiking boots under 50", k=5, strict=True))
    assert resp.relaxed == ["max_price"] and resp.hits
    prices = [h.price for h in resp.hits]
    assert prices == sorted(prices) and all("hiking boots" in h.name.lower() for h in resp.hits)
    assert all(h.unmet == ["max_price"] and "nearest" in h.why and "matches by" not in h.why for h in resp.hits)


def test_strict_relaxes_an_option_no_item_of_the_type_has(search):
    resp = search.search(SearchRequest(query="purple backpack", k=5, strict=True))
    assert resp.relaxed == ["option:color"] and resp.hits
    assert all("backpack" in h.name.lower() and h.unmet == ["option:color"] for h in resp.hits)


def test_default_search_reports_unmet_constraints_without_filtering(search):
    resp = search.search(SearchRequest(query="running shoes under 100", k=10))
    assert resp.parsed.product_type == "running shoes" and not resp.relaxed
    for hit in resp.hits:
        assert hit.price <= 100  # price stays a filter
        assert ("product_type" in hit.unmet) == ("running shoes" not in hit.name.lower())
        assert not (hit.unmet and "matches by" in hit.why)  # never both a miss and a match


def test_one_reader_of_negations_for_values_brands_and_types(search):
    # read once, into parsed.exclude, and a hard filter of the default search too
    for query, excluded, strict in [("gray sneakers, no leather", "leather", False), ("smartphone, not apple", "Apple", False),
                                    ("不要红色的背包", "red", False),
                                    ("something for my feet, anything but sneakers", "sneakers", True)]:  # fmt: skip
        # (a type is filtered by strict search only: "if there is no keyboard that is clicky" avoids none)
        resp = search.search(SearchRequest(query=query, k=20, strict=strict))
        assert resp.parsed.exclude == [excluded] and resp.hits, query
        assert all(f"exclude:{excluded}" not in h.unmet for h in resp.hits), query
        if not strict:  # a value or brand is not searched for either
            assert excluded.lower() not in resp.parsed.text.lower().split(), query
    assert search.understand("not apple").exclude == ["Apple"]
    # an exclusion the request gives joins the same field and filter
    resp = search.search(SearchRequest(query="t-shirt", exclude=["red"], k=30))
    assert resp.parsed.exclude == ["red"] and all(h.options.get("color") != "red" for h in resp.hits)


def test_negation_excludes_and_limits_pick_the_variant(search):
    resp = search.search(SearchRequest(query="t-shirt not polyester", k=20))
    assert resp.hits and all(h.options.get("material") != "polyester" for h in resp.hits)
    assert resp.parsed.exclude == ["polyester"]
    top = search.search(SearchRequest(query="bookshelf shorter than 5 ft", k=3)).hits[0]
    assert top.name == "Bookshelf" and top.options["height"] in ("3 ft", "4 ft") and "shorter than 5 ft" in top.why
    top = search.search(SearchRequest(query="power bank bigger than 10000mah", k=3)).hits[0]
    assert top.options["capacity"] == "20000mAh"


def test_misspelt_words_are_corrected_by_the_catalog(search):
    resp = search.search(SearchRequest(query="red lipstik", k=3))
    assert resp.hits[0].name == "Red Lipstick" and any("lipstick" in n for n in resp.notes)
