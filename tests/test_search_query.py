"""Query understanding (no model, no index): prices, options, brands, categories, stock, Chinese."""

from __future__ import annotations

import pytest

from retrieval.search.query import Canon, QueryParser, Vocabulary, default_lexicon
from retrieval.store.seed import load_store_data


@pytest.fixture(scope="module")
def parser() -> QueryParser:
    products = load_store_data().products
    canon = Canon(default_lexicon())
    vocab = Vocabulary.from_catalog(
        [v.options for p in products for v in p.variants],
        [p.brand for p in products if p.brand],
        [p.category for p in products],
        canon,
    )
    return QueryParser(vocab)


@pytest.mark.parametrize(
    ("query", "low", "high"),
    [
        ("blue cotton t-shirt size M under 60", None, 60),
        ("headphones under $199.99", None, 199.99),
        ("laptop between 500 and 1000 dollars", 500, 1000),
        ("kettle $20-$40", 20, 40),
        ("watch over 100 dollars", 100, None),
        ("shoes 50 dollars or less", None, 50),
        ("蓝色T恤 100美元以内", None, 100),
        ("耳机 200到300美元", 200, 300),
        ("手表 500刀以上", 500, None),
        ("不超过80的水杯", None, 80),
        # 元/块 are yuan: converted at AISLE_CNY_PER_USD (default 7.1)
        ("蓝色T恤 100元以内", None, 14.08),
        ("耳机 710到1420元", 100, 200),
        ("手表 500元以上", 70.42, None),
        ("不超过80块的水杯", None, 11.27),
    ],
)
def test_price_limits(parser, query, low, high):
    parsed, _ = parser.parse(query)
    assert (parsed.min_price, parsed.max_price) == (low, high)


@pytest.mark.parametrize("query", ["water bottle 500ml", "tea kettle 2 liters", "tablet with 128GB", "under 2 liters kettle"])
def test_spec_numbers_are_not_prices(parser, query):
    parsed, _ = parser.parse(query)
    assert parsed.min_price is None and parsed.max_price is None


def test_yuan_are_converted_at_the_configured_rate_and_said(parser, monkeypatch):
    from retrieval.config import get_settings

    monkeypatch.setenv("AISLE_CNY_PER_USD", "5")
    get_settings.cache_clear()
    parsed, notes = QueryParser(parser.vocab).parse("手表 500元以下")
    assert parsed.max_price == 100
    assert any("500元 ≈ $100.00" in n and "1 USD = 5 元" in n for n in notes)
    assert QueryParser(parser.vocab, cny_per_usd=10).parse("手表 300块以上")[0].min_price == 30
    assert QueryParser(parser.vocab, cny_per_usd=10).parse("手表 300美元以上")[0].min_price == 300


def test_reversed_range_is_read_low_to_high(parser):
    assert parser.parse("bag between 80 and 20 dollars")[0].max_price == 80
    parsed, notes = parser.parse("bag over 80 and under 20")
    assert (parsed.min_price, parsed.max_price) == (20, 80)
    assert any("low to high" in n for n in notes)


def test_variant_options_from_text(parser):
    parsed, _ = parser.parse("blue cotton t-shirt size M under 60")
    assert parsed.options == {"color": "blue", "material": "cotton", "size": "M"}
    assert parsed.text == "blue cotton t-shirt size M"


def test_generic_values_need_their_option_name(parser):
    assert "ventilation" in parser.parse("red cycling helmet, high ventilation")[0].options
    assert parser.parse("a high quality helmet")[0].options == {}  # "high" alone says nothing
    assert parser.parse("a medium-sized black t-shirt")[0].options.get("size") == "medium"
    assert "size" not in parser.parse("m")[0].options  # a lower-case letter is not a size


def test_a_fit_remark_is_no_size_asked_for(parser):
    """"the last one ran small" says how a size fitted, not that size S is wanted; a size said as a wish still is."""
    assert "size" not in parser.parse("a grey t-shirt please, the last one I had ran small")[0].options
    assert "size" not in parser.parse("running shoes, my old pair was a bit on the large side")[0].options
    assert parser.parse("a grey t-shirt in L")[0].options.get("size") == "L"
    assert parser.parse("a large grey t-shirt")[0].options.get("size") == "large"
    # a fit wished for is a size asked for
    assert parser.parse("a t-shirt that fits large")[0].options.get("size") == "large"
    assert parser.parse("I want a t-shirt on the large side")[0].options.get("size") == "large"


def test_brand_category_and_stock(parser):
    parsed, _ = parser.parse("Apple phone in stock")
    assert parsed.brand == "Apple" and parsed.category == "smartphones" and parsed.in_stock is True
    assert "stock" not in parsed.text


def test_chinese_is_put_into_english(parser):
    parsed, _ = parser.parse("一件蓝色纯棉T恤，中号，有货")
    assert parsed.lang == "zh" and parsed.in_stock is True
    assert {"color": "blue", "material": "cotton", "size": "medium"}.items() <= parsed.options.items()
    assert "t-shirt" in parsed.text and not any("\u4e00" <= ch <= "\u9fff" for ch in parsed.text)


@pytest.mark.parametrize("query", ["", "   ", "?!...", "😀🎉", "\x00\x07", "a" * 10_000, "价格" * 3000])
def test_any_string_parses(parser, query):
    parsed, _ = parser.parse(query)
    assert isinstance(parsed.text, str)


def test_negations_exclude_option_values(parser):
    parsed, _ = parser.parse("running shoes not leather, size 9")
    assert parsed.exclude == ["leather"] and "leather" not in parsed.text and "material" not in parsed.options
    assert parsed.options.get("size") == "9"  # a numbered size after "size"
    assert parser.parse("mechanical keyboard, nothing clicky")[0].exclude == ["clicky"]
    assert parser.parse("full size keyboard no backlight")[0].options.get("backlight") == "none"
    assert parser.parse("粉色瑜伽垫，不要PVC的")[0].exclude == ["PVC"]
    assert parser.parse("not too expensive kettle")[0].exclude == []  # names nothing the catalog has: left alone


@pytest.mark.parametrize(
    ("query", "unit", "low", "high", "strict"),
    [
        ("laptop with more than 8gb ram", "gb", 8, None, True),
        ("phone with at least 256gb storage", "gb", 256, None, False),
        ("hose longer than 50 feet", "ft", 50, None, True),
        ("puzzle with fewer than 1000 pieces", "piece", None, 1000, True),
        ("kettle 1.5 litres or more", "ml", 1500, None, False),
        ("比10000毫安大的充电宝", "mah", 10000, None, True),
        ("超过50英尺的水管", "ft", 50, None, True),
        ("15 inch laptop", "inch", 15, 15, False),  # said another way than '15-inch': an exact limit
    ],
)
def test_numeric_option_limits(parser, query, unit, low, high, strict):
    parsed, _ = parser.parse(query)
    assert parsed.min_price is None and parsed.max_price is None
    bound = parsed.bounds[0]
    assert (bound.unit, bound.low, bound.high, bound.strict) == (unit, low, high, strict)


def test_limits_only_in_units_the_catalog_uses(parser):
    assert parser.parse("backpack lighter than 2 kg")[0].bounds == []
    assert parser.parse("2-in-1 convertible laptop")[0].bounds == []


def test_chinese_modifiers_units_and_brands(parser):
    # a term followed at once by a word the lexicon cannot read describes it (the head comes last)
    parsed, _ = parser.parse("篮球袜")  # basketball socks: no such type in the lexicon
    assert parsed.modifiers == ["basketball"] and parsed.unread == ["袜"]
    assert parser.parse("跑鞋推荐")[0].modifiers == []  # 推荐 (recommend) is no noun
    assert parser.parse("手机壳")[0].category is None  # a phone case, not the smartphones category
    # units after a number; brands by their Chinese names
    assert "8 hours" in parser.parse("无线耳机 续航8小时")[0].options.values()
    assert [b.said for b in parser.parse("数码相机 3倍变焦")[0].bounds] == ["3 x"]
    assert parser.parse("三星平板")[0].brand == "Samsung"
    # clauses: a space between Chinese words, or 、。 separates them like a comma
    assert parser.parse("硅胶表带手表 蓝色表盘")[0].text.startswith("silicone strap watch ,")
    assert parser.parse("跑鞋 不要 红色")[0].exclude == ["red"]  # but a negation still reaches its word
