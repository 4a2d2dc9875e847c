"""`aisle eval intents --path`: evaluating a labelled CSV in Bitext's label set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.cli import eval_app

TINY = Path(__file__).parent / "fixtures" / "intents_tiny.csv"


@pytest.fixture
def shared_model_dir(tmp_path_factory, monkeypatch):
    """Reuse the model the classifier tests trained (same data dir), instead of training again."""
    from retrieval.config import get_settings

    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path_factory.getbasetemp() / "intents-data"))
    get_settings.cache_clear()


def test_eval_path_on_a_tiny_csv(shared_model_dir):
    result = CliRunner().invoke(eval_app, ["intents", "--path", str(TINY), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n"] == 6
    assert out["accuracy"] >= 0.8  # plain phrasings of six Bitext intents: at most one miss
    assert 0.0 <= out["macro_f1"] <= 1.0
    assert out["unknown_intents"] == []
    assert set(out["confusion"]) <= {"track_order", "cancel_order", "recover_password", "check_payment_methods",
                                     "contact_human_agent", "get_refund"}


def test_eval_path_errors_are_clear(tmp_path, shared_model_dir):
    missing = CliRunner().invoke(eval_app, ["intents", "--path", str(tmp_path / "nope.csv"), "--json"])
    assert missing.exit_code != 0 and "no such file" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("question,label\nwhere is my order,track_order\n", encoding="utf-8")
    wrong = CliRunner().invoke(eval_app, ["intents", "--path", str(bad), "--json"])
    assert wrong.exit_code != 0 and "instruction" in wrong.output
