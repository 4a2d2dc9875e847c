"""Shipped intent examples: de-duplication, the fixed split, licences, rebuild from sources, model cache."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest

from assistant.intents import IntentClassifier
from assistant.intents.data import DATA_DIR, SOURCES, data_hash, load_examples, normalise, split_of
from assistant.intents.model import model_path
from assistant.intents.templates import TEMPLATE_FILES

AISLE_INTENTS = {"search_products", "recommend", "product_question", "compare", "chit_chat", "return_item", "exchange_item"}


def test_no_held_out_sentence_is_in_training():
    examples = load_examples()
    keys = Counter(normalise(e.text) for e in examples)
    assert max(keys.values()) == 1  # de-duplicated
    train = {normalise(e.text) for e in examples if e.split == "train"}
    test = {normalise(e.text) for e in examples if e.split == "test"}
    assert train and test and not train & test
    # Order-number variants of one sentence share a split.
    assert split_of("cancel order 113542617735902") == split_of("Cancel order 00004587345!")


def test_split_is_about_70_10_20_and_covers_every_intent():
    examples = [e for e in load_examples() if e.source == "bitext"]
    share = Counter(e.split for e in examples)
    assert 0.65 < share["train"] / len(examples) < 0.75
    assert 0.15 < share["test"] / len(examples) < 0.25
    assert len({e.intent for e in examples}) == 27
    train_intents = {e.intent for e in load_examples() if e.split == "train"}
    assert AISLE_INTENTS | {"oos"} <= train_intents


def test_chinese_examples_cover_the_routing_intents():
    zh = Counter(e.intent for e in load_examples() if e.lang == "zh")
    for intent in AISLE_INTENTS | {"track_order", "cancel_order", "get_refund", "change_shipping_address",
                                   "check_payment_methods", "delivery_options", "contact_human_agent", "oos"}:
        assert zh[intent] >= 15, intent


def test_licences_ship_with_the_data():
    names = {p.name for p in (DATA_DIR / "LICENSES").iterdir()}
    assert {"bitext-CDLA-Sharing-1.0.txt", "clinc150-CC-BY-3.0.txt", "wands-MIT.txt", "webshop-MIT.md"} <= names
    assert (DATA_DIR / "README.md").is_file()


def test_shipped_files_are_what_convert_makes(shared_data):
    from assistant.intents.convert import build

    for name, text in build(shared_data).items():
        assert (DATA_DIR / name).read_text(encoding="utf-8") == text, name


def _tiny_data(folder: Path, extra: str = "") -> Path:
    """A copy of the data dir whose example files hold a handful of rows (trains in milliseconds)."""
    shutil.copytree(DATA_DIR, folder)
    rows = {
        "track_order": ["where is my order", "track my package", "has my order shipped", "order status"],
        "cancel_order": ["cancel my order", "I want to cancel the order", "stop my order", "cancel purchase"],
        "oos": ["what's the weather", "play music", "tell me a joke", "book a flight"],
    }
    for name in SOURCES:
        with (folder / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["text", "intent", "split"])
            for intent, texts in rows.items():
                w.writerows([t + " " + name, intent, "train"] for t in texts)
            if extra:
                w.writerow([extra, "oos", "train"])
    for name in TEMPLATE_FILES.values():  # a template or two, so the tiny model stays tiny
        (folder / name).write_text('cancel_order:\n  terse: ["cancel {order}", "cancel the {product}"]\n', encoding="utf-8")
    return folder


def test_model_is_cached_and_retrained_when_data_changes(tmp_path, monkeypatch):
    data = _tiny_data(tmp_path / "data")
    first = IntentClassifier.load(data_dir=data)
    path = model_path(first.key)
    assert path.is_file()
    assert first.predict("where is my order").intent == "track_order"

    # Same data: the cached model is used, no training.
    monkeypatch.setattr(IntentClassifier, "train", classmethod(lambda *a, **k: pytest.fail("retrained")))
    assert IntentClassifier.load(data_dir=data).key == first.key
    monkeypatch.undo()

    # Changed data: a new key, a new model, and the stale file is removed.
    with (data / "bitext.csv").open("a", encoding="utf-8") as f:
        f.write("how tall is mount everest,oos,train\n")
    second = IntentClassifier.load(data_dir=data)
    assert second.key != first.key
    assert model_path(second.key).is_file() and not path.exists()


def test_unreadable_cache_file_is_retrained(tmp_path):
    data = _tiny_data(tmp_path / "data")
    key = IntentClassifier.load(data_dir=data).key
    model_path(key).write_bytes(b"not a model")
    from assistant.intents import model as model_module

    model_module._loaded.clear()
    assert IntentClassifier.load(data_dir=data).predict("cancel my order").intent == "cancel_order"


def test_data_hash_reads_the_template_files_without_generating(tmp_path, monkeypatch):
    from assistant.intents import templates

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    monkeypatch.setattr(templates, "generate", lambda *a, **k: pytest.fail("generated the examples to hash them"))
    first = data_hash(data)
    assert data_hash(data) == first
    with (data / TEMPLATE_FILES["zh"]).open("a", encoding="utf-8") as f:
        f.write('\nchit_chat:\n  terse: ["嗨嗨嗨"]\n')
    assert data_hash(data) != first  # a changed template retrains the cached model


def test_each_language_gets_its_own_embedding_block(monkeypatch):
    """A message is embedded only by the model of its language; the other block is zero."""
    import numpy as np

    from assistant.intents.model import SentenceEmbedding

    seen: list[tuple[str, list[str]]] = []

    def fake(self, texts):
        seen.append((self.model, list(texts)))
        return np.ones((len(texts), 384), dtype=np.float32)

    monkeypatch.setattr(SentenceEmbedding, "_embed", fake)
    texts = ["where is my order", "我的订单到哪了", "cancel一下我的订单"]
    en = SentenceEmbedding(model="minilm", langs=("en",)).transform(texts).toarray()
    zh = SentenceEmbedding(model="e5", langs=("zh",)).transform(texts).toarray()
    assert en[0].all() and not en[1].any() and not en[2].any()
    assert zh[1].all() and zh[2].all() and not zh[0].any()
    assert seen == [("minilm", ["where is my order"]), ("e5", ["我的订单到哪了", "cancel一下我的订单"])]
