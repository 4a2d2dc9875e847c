"""`aisle eval recsys` end to end on a tiny sequence file (the real datasets are too big for tests)."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from ui.cli import app


def _tiny(path):
    rng = np.random.default_rng(0)
    lines = []
    for u in range(150):
        start, length = int(rng.integers(1, 41)), int(rng.integers(5, 10))
        lines.append(f"u{u} " + " ".join(str((start + j - 1) % 40 + 1) for j in range(length)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_eval_recsys_on_a_tiny_file_prints_one_json_object(tmp_path):
    path = _tiny(tmp_path / "Tiny.txt")
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


def test_several_seeds_run_in_parallel_and_are_summarised_as_mean_and_spread(tmp_path):
    path = _tiny(tmp_path / "Tiny.txt")
    out = tmp_path / "runs"
    args = ["eval", "recsys", "--path", str(path), "--quick", "--no-baseline", "--members", "1", "--json"]
    result = CliRunner().invoke(app, [*args, "--seeds", "2", "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    summary = report["summary"]
    assert summary["seeds"] == [42, 52] and [r["seed"] for r in report["runs"]] == [42, 52]
    ndcg = summary["aisle"]["test"]["NDCG@10"]
    assert ndcg["values"] == [r["aisle"]["test"]["NDCG@10"] for r in report["runs"]]
    assert ndcg["min"] <= ndcg["mean"] <= ndcg["max"] and ndcg["std"] >= 0
    assert set(summary["aisle"]) == {"validation", "test"} and "sasrec_baseline" not in summary
    assert summary["runs_finished"] == 2 and set(summary["targets_on_the_mean"]) == {"NDCG@10>=0.0625", "HR@10>=0.105"}
    # Each seed's report was kept as it finished; a run cut short is summarised from what is there.
    assert sorted(f.name for f in out.iterdir()) == ["seed-42.json", "seed-52.json"]
    (out / "seed-52.json").unlink()
    partial = CliRunner().invoke(app, ["eval", "recsys", "--summarise", str(out)])
    assert partial.exit_code == 0, partial.output
    assert json.loads(partial.stdout)["seeds"] == [42]


def test_named_datasets_are_read_from_the_configured_folder(tmp_path, monkeypatch):
    from retrieval.config import get_settings

    folder = tmp_path / "seqrec"
    monkeypatch.setenv("AISLE_SEQREC_DIR", str(folder))
    get_settings.cache_clear()
    missing = CliRunner().invoke(app, ["eval", "recsys", "--dataset", "beauty", "--json"])
    assert missing.exit_code == 1
    assert "Beauty.txt not found" in missing.output and "AISLE_SEQREC_DIR" in missing.output and str(folder) in missing.output
    _tiny(folder / "Beauty.txt")
    found = CliRunner().invoke(app, ["eval", "recsys", "--dataset", "beauty", "--quick", "--no-baseline", "--members", "1",
                                     "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout.strip().splitlines()[-1])["dataset"] == "Beauty"
