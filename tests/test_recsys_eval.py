"""`aisle eval recsys` end to end on a tiny sequence file (the real datasets are too big for tests)."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from ui.cli import app


def test_eval_recsys_on_a_tiny_file_prints_one_json_object(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for u in range(150):
        start, length = int(rng.integers(1, 41)), int(rng.integers(5, 10))
        lines.append(f"u{u} " + " ".join(str((start + j - 1) % 40 + 1) for j in range(length)))
    path = tmp_path / "Tiny.txt"
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["eval", "recsys", "--path", str(path), "--quick", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["dataset"] == "Tiny" and report["items"] == 40 and report["users"] == 150
    for model in ("aisle", "sasrec_baseline"):
        assert set(report[model]["test"]) == {f"{m}@{k}" for m in ("HR", "NDCG") for k in (5, 10, 20)}
    # The transition prior's weight is picked on validation; the network's own figures stay beside.
    assert report["aisle"]["prior"]["weight"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    assert report["aisle"]["prior"]["cooc_share"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert set(report["aisle"]["test_prior_refit"]) == set(report["aisle"]["test"])
    assert set(report["aisle"]["network_only"]["test"]) == set(report["aisle"]["test"])
    # Aisle's network is three members with their own seeds, each with a third of the time budget.
    assert [m["seed"] for m in report["aisle"]["members"]] == [42, 43, 44]
    assert report["aisle"]["train"]["members"] == 3
    assert set(report["beyond_accuracy_top10"]) >= {"plain", "mmr", "mmr+explore"}
    assert 0 < report["beyond_accuracy_top10"]["plain"]["coverage"] <= 1


def test_eval_recsys_rejects_an_unknown_dataset():
    result = CliRunner().invoke(app, ["eval", "recsys", "--dataset", "nope", "--json"])
    assert result.exit_code != 0
