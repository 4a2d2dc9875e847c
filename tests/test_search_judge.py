"""The shopper judgements: grades follow from the catalog's options and prices, and the shipped
splits are exactly what the judge writes from the query file."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from eval.search_judge import HARD_TEST_SHARE, SHOPPER_DIR, SpecError, build, judge, split_of
from retrieval.store.seed import load_store_data


@pytest.fixture(scope="module")
def products():
    return {p.product_id: p for p in load_store_data().products}


def test_grades_follow_the_conditions(products):
    grades = judge("9523456873 color=blue size=S material!=polyester", products)
    shirt = {v.item_id: v.options for v in products["9523456873"].variants}
    assert set(grades) == set(shirt)
    exact = [i for i, g in grades.items() if g == 2]
    assert exact and all(shirt[i]["color"] == "blue" and shirt[i]["size"] == "S" and shirt[i]["material"] != "polyester" for i in exact)
    two = judge("dj-154 ; dj-155", products)  # one clause per product, each single-variant product exact
    assert len(two) == 2 and set(two.values()) == {2}
    cheap = judge("9523456873 price<48", products)
    prices = {v.item_id: v.price for v in products["9523456873"].variants}
    assert all((g == 2) == (prices[i] <= 48) for i, g in cheap.items())
    heights = {v.item_id: v.options["height"] for v in products["8600330539"].variants}
    assert all((g == 2) == (heights[i] in ("3 ft", "4 ft")) for i, g in judge("8600330539 height=3_ft,4_ft", products).items())


@pytest.mark.parametrize("want", ["nope-1", "9523456873 colour=blue", "9523456873 color=teal", "9523456873 color"])
def test_conditions_the_catalog_cannot_meet_are_errors(products, want):
    with pytest.raises(SpecError):
        judge(want, products)


# Particles, measure words and asking words that change no query's meaning (想买一件 = 想买件);
# a negation (不) or comparative (比) stays.
_FILLER = set("的了吗呢吧啊呀么嘛哦一个件双台只把条副顶瓶盒袋套款种些想买要来给我找帮请") | {"a", "an", "the"}


def near_key(query: str) -> str:
    """A query without punctuation or filler, its English words and Chinese characters sorted."""
    tokens = re.findall(r"[\u3400-\u9fff]|[^\W\u3400-\u9fff]+", query.lower())
    return " ".join(sorted(t for t in tokens if t not in _FILLER))


def test_near_key_finds_reordered_and_repunctuated_queries():
    assert near_key("memory foam dog bed, large") == near_key("memory foam dog bed large")
    assert near_key("makeup kit for dark skin, professional") == near_key("professional makeup kit for dark skin")
    assert near_key("记忆棉狗窝 大号") == near_key("大号记忆棉狗窝")
    assert near_key("两万毫安的充电宝") == near_key("充电宝 两万毫安")
    assert near_key("想买件蓝色纯棉T恤，M码") == near_key("想买一件蓝色纯棉T恤，M码")
    assert near_key("大房间用的HEPA空气净化器") == near_key("大房间用的空气净化器 HEPA")
    assert near_key("双肩包 不要黑色") != near_key("双肩包 黑色")
    assert near_key("shoes under $50") != near_key("shoes over $50")


def test_shipped_splits_are_what_the_judge_writes(tmp_path):
    counts = build(out=tmp_path)
    for split in ("dev", "test"):
        assert (tmp_path / f"{split}.jsonl").read_text(encoding="utf-8") == (SHOPPER_DIR / f"{split}.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for split in ("dev", "test") for line in (tmp_path / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 200 and sum(r["lang"] == "zh" for r in rows) >= 60
    assert all(2 in r["relevant"].values() for r in rows)
    # about 60 / 40 within each language, before the dev-only queries and the hard batch
    spec = yaml.safe_load((SHOPPER_DIR / "queries.yaml").read_text(encoding="utf-8"))
    extra, hard = spec["dev_only"], spec["hard"]
    extra_zh = sum(bool(re.search(r"[\u3400-\u9fff]", q)) for q, _ in extra)
    hard_rows = {split: [r for r in map(json.loads, (tmp_path / f"{split}.jsonl").read_text(encoding="utf-8").splitlines())
                         if r.get("set") == "hard"] for split in ("dev", "test")}
    dev_zh = counts["dev"]["zh"] - extra_zh - sum(r["lang"] == "zh" for r in hard_rows["dev"])
    test_zh = counts["test"]["zh"] - sum(r["lang"] == "zh" for r in hard_rows["test"])
    assert 0.55 < dev_zh / (dev_zh + test_zh) < 0.65
    first = len(rows) - len(extra) - len(hard)
    assert 0.55 < (counts["dev"]["queries"] - len(extra) - len(hard_rows["dev"])) / first < 0.65
    # the hard batch: every query once, the test half chosen by the hash of its own text
    assert len(hard_rows["dev"]) + len(hard_rows["test"]) == len(hard) >= 120
    assert all(split_of(r["query"]) < HARD_TEST_SHARE for r in hard_rows["test"])
    assert all(split_of(r["query"]) >= HARD_TEST_SHARE for r in hard_rows["dev"])
    assert sum(r["lang"] == "zh" for r in hard_rows["dev"] + hard_rows["test"]) >= 50
    # no query written twice, in any batch, nor the same words reordered or punctuated otherwise
    # ("memory foam dog bed, large" / "memory foam dog bed large", 两万毫安的充电宝 / 充电宝 两万毫安)
    seen: dict[str, str] = {}
    for r in rows:
        key = r["lang"] + ":" + near_key(r["query"])
        assert key not in seen, f"{r['query']!r} repeats {seen[key]!r}"
        seen[key] = r["query"]
    # dev-only queries are in dev and never in test
    test_queries = {json.loads(line)["query"] for line in (tmp_path / "test.jsonl").read_text(encoding="utf-8").splitlines()}
    assert extra and not test_queries & {q for q, _ in extra}
