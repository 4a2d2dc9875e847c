"""`aisle eval recsys` end to end on a tiny sequence file (the real datasets are too big for tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recsys.train import MEMBERS
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
    # Aisle's network is MEMBERS networks with their own seeds, each with its share of the time cap.
    assert [m["seed"] for m in report["aisle"]["members"]] == [42 + i for i in range(MEMBERS)]
    assert report["aisle"]["train"]["members"] == MEMBERS
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


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state, ppid, …, start time at 19), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> dict[int, str]:
    """pid → start time of the live processes whose parent is `pid` (the start time tells a reused pid)."""
    found = {}
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields and int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = fields[19]
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _survivors(procs: dict[int, str]) -> list[int]:
    return [pid for pid, start in procs.items() if (f := _stat(pid)) and f[19] == start and f[0] != "Z"]


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_sigterm_to_a_parallel_run_stops_its_workers_and_keeps_finished_reports(tmp_path):
    path = _tiny(tmp_path / "Tiny.txt")
    out = tmp_path / "runs"
    # Three seeds, two at a time, each with 2 CPU-seconds of training: the first report lands while a
    # worker is still training; then the parent gets `kill PID`.
    args = ["eval", "recsys", "--path", str(path), "--members", "1", "--no-baseline", "--no-prior", "--epochs",
            "100000", "--patience", "100000", "--max-minutes", "0.03", "--seeds", "3", "--jobs", "2", "--out", str(out), "--json"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen([sys.executable, "-c", "from ui.cli import app; app()", *args], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: list(out.glob("seed-*.json")), 240, "the first seed's report")
        children = _children(parent.pid)
        workers = [pid for pid in children if b"spawn_main" in _cmdline(pid)]
        assert parent.poll() is None, "the run ended before it could be stopped"
        os.kill(parent.pid, signal.SIGTERM)
        _, stderr = parent.communicate(timeout=120)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert parent.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted: workers stopped" in stderr and "--summarise" in stderr
    assert workers, children
    # Nothing the run started outlives it: its workers, and the helper process multiprocessing starts.
    _wait(lambda: not _survivors(children), 30, f"the run's processes {children} to end")
    # The reports written before the kill are whole; a run cut short is summarised from them.
    kept = sorted(out.glob("seed-*.json"))
    assert kept and all(json.loads(f.read_text())["seed"] == int(f.stem[5:]) for f in kept)
    partial = CliRunner().invoke(app, ["eval", "recsys", "--summarise", str(out)])
    assert partial.exit_code == 0 and json.loads(partial.stdout)["runs_finished"] == len(kept) < 3


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
