"""Training examples from phrasing templates and the demo catalog: train split only, honest splits, a
small classifier trained on them reads shop phrasing in English and Chinese (fast: no embedding)."""

from __future__ import annotations

import random
import re

import pytest

from assistant.intents.data import DATA_DIR, DEV_ONLY, TEST_ONLY, load_examples, load_routes, normalise, read_file
from assistant.intents.model import IntentClassifier
from assistant.intents.templates import TEMPLATE_FILES, fill, generate, load_fillers, read_templates


@pytest.fixture(scope="module")
def examples():
    return load_examples()


def test_every_template_names_a_routed_intent_and_known_slots():
    routes = load_routes()
    fillers = load_fillers()
    rng = random.Random(0)
    for lang, name in TEMPLATE_FILES.items():
        templates = read_templates(DATA_DIR / name)
        assert templates, name
        for intent, kinds in templates.items():
            assert intent in routes, (name, intent)
            for kind, texts in kinds.items():
                assert kind in {"colloquial", "polite", "terse", "typo", "mixed"}, (name, intent, kind)
                for template in texts:
                    filled = fill(template, lang, fillers, rng)  # raises on an unknown slot
                    assert "{" not in filled and filled.strip(), template


def test_slots_are_filled_from_the_catalog_and_the_store():
    fillers = load_fillers()
    names = {p["name"] for p in fillers.products}
    assert "T-Shirt" in names and len(names) > 100
    assert "台灯" in fillers.zh_products and "蓝色" in fillers.zh_options  # through the search lexicon
    assert all(re.fullmatch(r"#W\d{7}", o) for o in fillers.order_ids[:20])
    out = [fill("return the {product} from order {order}", "en", fillers, random.Random(i)) for i in range(20)]
    assert any(any(n.lower() in t.lower() for n in names) for t in out)
    assert all(re.search(r"W\d{7}", t, re.IGNORECASE) for t in out)


def test_generation_is_deterministic_and_train_only(examples):
    first, second = list(generate(DATA_DIR)), list(generate(DATA_DIR))
    assert first == second and len(first) > 500
    generated = [e for e in examples if e.source.startswith("template_")]
    assert generated and {e.split for e in generated} == {"train"}
    assert {e.lang for e in generated} == {"en", "zh"}


def test_no_generated_sentence_is_a_held_out_one(examples):
    held_out = {normalise(e.text) for e in examples if e.split != "train"}
    generated = {normalise(t) for t, *_ in generate(DATA_DIR)}
    kept = {normalise(e.text) for e in examples if e.source.startswith("template_")}
    assert not kept & held_out
    # Templates are not test sentences in disguise: almost nothing they make equals a held-out one.
    assert len(generated & held_out) <= 3


@pytest.mark.parametrize(("names", "split"), [(TEST_ONLY, "test"), (DEV_ONLY, "dev")])
def test_typed_sentences_stay_in_their_split(examples, names, split):
    for name in names:
        rows = read_file(DATA_DIR / name)
        assert len(rows) >= 100, name
        keys = {normalise(r.text) for r in rows}
        kept = [e for e in examples if normalise(e.text) in keys]
        assert kept and all(e.split == split for e in kept), name


def test_a_small_classifier_trained_on_own_and_generated_examples_reads_shop_phrasing(examples):
    """Own hand-written + generated examples only (no Bitext, CLINC or embedding): trains in about a second."""
    small = [e for e in examples if e.source in ("aisle_en", "aisle_zh", "template_en", "template_zh")]
    clf = IntentClassifier.train(small, embedding=False)
    cases = {
        "pls cancel order #W7654321, bought it by accident": "cancel_order",
        "where is my order #W1234567": "track_order",
        "i want to return the yoga mat from #W2222222": "return_item",
        "can i swap the blue t-shirt for a red one": "exchange_item",
        "do you have a mechanical keyboard under $120": "search_products",
        "订单#W7654321帮我取消": "cancel_order",
        "我买的行李箱到哪了": "track_order",
        "台灯坏了，我要退货": "return_item",
        "蓝色的T恤能换成黑色的吗": "exchange_item",
        "有没有200块以内的蓝牙音箱": "search_products",
    }
    got = {text: clf.predict(text).intent for text in cases}
    assert got == cases


def test_chinese_amounts_read_as_shoppers_say_them():
    from assistant.intents.templates import _zh_number

    assert [_zh_number(n) for n in (15, 200, 250, 1500)] == ["十五", "两百", "两百五十", "一千五百"]
