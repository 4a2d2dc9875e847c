"""`aisle eval reader`: questions built from τ tasks, graded against their ground truth; a clean skip without the data."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from eval.cli import eval_app


def test_eval_reader_rules_and_a_fake_model(shared_data):
    result = CliRunner().invoke(eval_app, ["reader", "--reader", "all", "--llm", "fake", "--data", str(shared_data),
                                           "--v1-sample", "20", "--per-kind", "5", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(out["readers"]) == {"rules", "llm", "hybrid"}
    for name, by_split in out["readers"].items():
        for split in ("dev", "validation"):
            s = by_split[split]["all"]
            assert s["n"] > 0
            assert abs(s["accuracy"] + s["abstain"] + s["wrong"] - 1) < 0.01
    # The fake model answers with no JSON: the llm reader abstains on everything, never guesses.
    assert out["readers"]["llm"]["dev"]["all"]["wrong"] == 0.0
    assert out["readers"]["rules"]["dev"]["all"]["accuracy"] > 0.3


def test_eval_reader_skips_cleanly_without_the_data(tmp_path):
    result = CliRunner().invoke(eval_app, ["reader", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0
    assert "skipped" in result.output and str(tmp_path) in result.output
