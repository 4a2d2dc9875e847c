"""The intent classifier on the shipped data: routing of typical English and Chinese messages, OOS, odd input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.intents import IntentClassifier, IntentPrediction, detect_lang
from assistant.intents.data import load_routes

ROUTES = {
    "search", "recommend", "product_question", "compare", "chit_chat", "order_status", "cancel_order",
    "modify_order", "return", "exchange", "update_address", "payment", "faq", "account", "human", "out_of_scope",
}


pytestmark = pytest.mark.slow  # the real classifier: training embeds ~13k sentences (cached across runs)


@pytest.fixture(scope="module")
def clf(tmp_path_factory, request) -> IntentClassifier:
    """The real classifier, trained once into a data dir shared with the eval tests.

    Its models folder is pytest's cache folder that the server tests share, so a run with unchanged
    data does not train again.
    """
    from retrieval.config import get_settings

    data = tmp_path_factory.getbasetemp() / "intents-data"
    (data / "models").mkdir(parents=True, exist_ok=True)
    if not (data / "models" / "intents").exists():
        (data / "models" / "intents").symlink_to(request.config.cache.mkdir("aisle-intents"), target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AISLE_DATA_DIR", str(data))
        get_settings.cache_clear()
        model = IntentClassifier.load()
    get_settings.cache_clear()
    return model


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("where is my order #W2611340?", "order_status"),
        ("has my package shipped yet", "order_status"),
        ("I want to cancel my order", "cancel_order"),
        ("I'd like to return the shoes I bought, they don't fit", "return"),
        ("I want my money back", "return"),
        ("can I exchange this t-shirt for a size L", "exchange"),
        ("show me wireless headphones under $100", "search"),
        ("i need a waterproof hiking backpack", "search"),
        ("what would you recommend as a gift for my dad", "recommend"),
        ("is this jacket waterproof?", "product_question"),
        ("what's the difference between these two laptops", "compare"),
        ("I need to change my shipping address", "update_address"),
        ("how do I reset my password", "account"),
        ("let me talk to a human", "human"),
        ("hello there", "chit_chat"),
        ("what's the weather tomorrow", "out_of_scope"),
        ("play some jazz music", "out_of_scope"),
        ("我的订单到哪了", "order_status"),
        ("帮我取消订单", "cancel_order"),
        ("我想退货", "return"),
        ("这件衣服能换个尺码吗", "exchange"),
        ("我想买一双跑步鞋", "search"),
        ("送爸爸什么礼物好", "recommend"),
        ("转人工", "human"),
        ("你好", "chit_chat"),
        ("明天天气怎么样", "out_of_scope"),
    ],
)
def test_typical_messages_are_routed(clf, text, route):
    p = clf.predict(text)
    assert p.route == route, (text, p.intent, p.top)
    assert p.in_scope == (route != "out_of_scope")


def test_prediction_fields(clf):
    p = clf.predict("订单#W2611340里的耳机我要退货")
    assert isinstance(p, IntentPrediction)
    assert p.lang == "zh" and p.intent == "return_item"
    assert len(p.top) == 3 and [s for _, s in p.top] == sorted((s for _, s in p.top), reverse=True)
    assert p.confidence == pytest.approx(p.top[0][1], abs=1e-3)
    json.loads(p.model_dump_json())  # serialisable for the HTTP API


def test_predict_many_matches_predict(clf):
    texts = ["cancel my order", "你好", "", "show me sofas"]
    assert [p.intent for p in clf.predict_many(texts)] == [clf.predict(t).intent for t in texts]
    with pytest.raises(TypeError):
        clf.predict_many("cancel my order")


@pytest.mark.parametrize("text", ["", "   \n\t", "a" * 10_000, "退货" * 5_000, "😀🛒🎁", "\x00\x01", "#W2611340", "?!"])
def test_odd_input_never_raises(clf, text):
    p = clf.predict(text)
    assert p.route in ROUTES and 0.0 <= p.confidence <= 1.0
    if not text.strip():
        assert not p.in_scope


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_gets_a_valid_prediction(clf, text):
    p = clf.predict(text)
    assert p.route in ROUTES and p.intent in set(clf.labels) | {"oos"}


def test_every_intent_has_a_known_route(clf):
    routes = load_routes()
    assert set(clf.labels) <= set(routes)
    assert set(routes.values()) <= ROUTES


@pytest.mark.parametrize(
    ("text", "lang"),
    [("where is my order", "en"), ("我的订单到哪了", "zh"), ("我想买 iPhone 15", "zh"), ("iPhone 15 Pro Max 有货吗", "zh"),
     ("I love 北京 and shopping online today", "en"), ("", "en"), ("😀", "en")],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang
